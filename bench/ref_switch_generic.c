/*
 * ref_switch_generic.c: the architecture layer of refctx.h for machines
 * with no hand-written switch here. Nothing is available: bench_ref_make
 * returns NULL and the rows that need it print "n/a".
 */
#include "refctx.h"

#include <stddef.h>

void *bench_ref_make(void *stack_end, void (*entry)(void *arg))
{
    (void)stack_end;
    (void)entry;
    return NULL;
}

void *bench_ref_switch(void **save_sp, void *to_sp, void *arg)
{
    (void)save_sp;
    (void)to_sp;
    return arg; /* never called: bench_ref_make made no context */
}

unsigned bench_fp_get(void)
{
    return 0;
}

void bench_fp_set(unsigned value)
{
    (void)value;
}

unsigned bench_fp_status_bits(void)
{
    return 0;
}
