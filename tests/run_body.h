/*
 * run_body.h: for loop tests whose whole body is one function: run(fn)
 * runs int fn(void) as the main task of corio_run and returns its outcome;
 * it brings helpers.h (now_s, settle) along.
 */
#ifndef CORIO_TEST_RUN_BODY_H
#define CORIO_TEST_RUN_BODY_H

#include <corio.h>

#include "helpers.h"
#include <stdint.h>
#include <time.h>

typedef int (*body_fn)(void);

static inline int run_body_(void *arg, void **result)
{
    body_fn fn = (body_fn)(uintptr_t)arg;
    (void)result;
    return fn();
}

static inline int run(body_fn fn)
{
    return corio_run(run_body_, (void *)(uintptr_t)fn, NULL);
}

#endif /* CORIO_TEST_RUN_BODY_H */
