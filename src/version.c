/*
 * version.c: the library's own version, as compiled into it (the headers a
 * program includes may be of another release; see corio/version.h).
 */
#include <corio/version.h>

const char *corio_version(void)
{
    return CORIO_VERSION_STRING;
}

int corio_version_number(void)
{
    return CORIO_VERSION_NUMBER;
}
