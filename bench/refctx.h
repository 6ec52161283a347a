/*
 * refctx.h: the architecture layer of the benchmarks: a minimal hand-written
 * context switch (the physical reference every switch row is compared
 * with) and raw access to the floating-point status register.
 *
 * One assembly file per architecture and ABI implements it, picked by
 * bench/CMakeLists.txt:
 *   ref_switch_x86_64_sysv.S    x86-64 System V
 *   ref_switch_aarch64_aapcs.S  AArch64 AAPCS64
 *   ref_switch_generic.c        anything else: nothing available (n/a)
 *
 * The reference switch saves exactly the callee-saved general registers
 * (plus d8-d15 on AArch64, which AAPCS64 makes callee-saved) and the stack
 * pointer, and hands one pointer across. It does not touch MXCSR, the x87
 * control word or FPCR: it is the floor a real library can approach, not a
 * complete implementation.
 */
#ifndef CORIO_BENCH_REFCTX_H
#define CORIO_BENCH_REFCTX_H

/*
 * bench_ref_make: lay out a fresh context at the top of a stack whose end
 * (one past its highest byte, 16-byte aligned) is stack_end, so that the
 * first bench_ref_switch to it calls entry(arg) with arg the value of that
 * switch. entry must never return (the process traps if it does). Returns
 * the context's stack pointer, or NULL where there is no reference switch.
 */
void *bench_ref_make(void *stack_end, void (*entry)(void *arg));

/*
 * bench_ref_switch: save the running context, storing its stack pointer in
 * *save_sp, and resume the context whose stack pointer is to_sp, handing it
 * arg. Returns, when something switches back, the arg of that switch.
 */
void *bench_ref_switch(void **save_sp, void *to_sp, void *arg);

/* The whole FP status/control register: MXCSR on x86-64, FPSR on AArch64. */
unsigned bench_fp_get(void);
void bench_fp_set(unsigned value);

/* The sticky exception-status bits of that register (0 where the
 * architecture has no support here). */
unsigned bench_fp_status_bits(void);

#endif /* CORIO_BENCH_REFCTX_H */
