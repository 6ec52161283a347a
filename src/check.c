/*
 * check.c: the failure path of check.h's invariant checks. Present in every
 * build (release builds simply never call it).
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

void corio__check_failed(const char *expr, const char *file, int line)
{
    fprintf(stderr, "corio: internal check failed: %s at %s:%d\n", expr, file,
            line);
    fflush(stderr);
    abort();
}
