/*
 * bench_echo_uv_none.c: the echo suite's libuv row when libuv was not
 * found at configure time: n/a.
 */
#include "bench_echo.h"

#include <stddef.h>

const int bench_echo_have_uv = 0;

void *bench_echo_uv_server(void *arg)
{
    echo_fail(arg);
    return NULL;
}
