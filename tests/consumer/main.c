/*
 * A program that uses an installed corio the way any project would: one
 * header, one library. tests/consumer/check.sh builds it three ways
 * (pkg-config, find_package, add_subdirectory) and runs each build.
 * It prints the library's version and exits 0 when a task ran through
 * corio_run and the headers match the library.
 */
#include <corio.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int answer(void *arg, void **result)
{
    int rc = corio_sleep(0); /* one trip through the loop */
    if (rc)
        return rc;
    *result = (void *)((intptr_t)arg + 1);
    return 0;
}

int main(void)
{
    void *r = NULL;
    int rc = corio_run(answer, (void *)41, &r);
    printf("corio %s (headers %s): corio_run -> %s, result %ld\n",
           corio_version(), CORIO_VERSION_STRING, corio_errname(rc),
           (long)(intptr_t)r);
    if (strcmp(corio_version(), CORIO_VERSION_STRING) != 0)
        return 1;
    return rc == 0 && (intptr_t)r == 42 ? 0 : 1;
}
