/*
 * switch.h: what the files of the context-switch suite share
 * (bench_switch.c and the Boost.Context rows, bench_fcontext*.c).
 */
#ifndef CORIO_BENCH_SWITCH_H
#define CORIO_BENCH_SWITCH_H

#include <stdint.h>

/* Stack size for the contexts the suite makes by hand. */
#define SWITCH_STACK_SIZE ((size_t)64 * 1024)

/* Raise the inexact flag with a real division (1/3). */
void bench_fp_dirty(void);

/*
 * bench_fp_prepare: get ready for an "FP status differs" row. Returns 0 with
 * *clean set to the current FP status/control register with its sticky
 * flags cleared (what the driver writes before each resume), or BENCH_NA
 * with *why set when this architecture has no such flags here. Also checks
 * that bench_fp_dirty really raises a flag (-EIO if not).
 */
int bench_fp_prepare(unsigned *clean, const char **why);

/* Boost.Context fcontext rows: bench_fcontext.c when the library was found
 * at configure time, bench_fcontext_none.c (always n/a) otherwise. The _fp
 * variants run the "FP status differs" loop. */
int bench_fctx_setup(void **state, const char **why);
int bench_fctx_setup_fp(void **state, const char **why);
int bench_fctx_run(void *state, uint64_t n);
int bench_fctx_run_fp(void *state, uint64_t n);
void bench_fctx_teardown(void *state);

#endif /* CORIO_BENCH_SWITCH_H */
