/*
 * ref_switch_aarch64_aapcs.S: the benchmarks' reference context switch for
 * AArch64 AAPCS64, and raw FPSR access (see refctx.h).
 *
 * The switch stores what AAPCS64 makes callee-saved, x19-x30 and d8-d15,
 * swaps stack pointers and loads the other side's. Nothing else: no FPCR,
 * no pointer authentication or sanitizer bookkeeping.
 *
 * It leaves with `br x30` rather than `ret`: a ret is predicted from the
 * return stack, which holds this side's caller, not the other side's, and
 * would mispredict at every switch. An indirect branch is predicted from
 * branch history, which learns the ping-pong. (The object has no BTI
 * property note, so the linked program does not enforce BTI landing pads,
 * which the return addresses it branches to do not have.) A suspended context's
 * stack, from its saved stack pointer up (160 bytes, keeping sp 16-byte
 * aligned):
 *
 *      sp+144  d14 d15
 *      sp+128  d12 d13
 *      sp+112  d10 d11
 *      sp+96   d8  d9
 *      sp+80   x29 x30   (fresh context: 0, ref_trampoline)
 *      sp+64   x27 x28
 *      sp+48   x25 x26
 *      sp+32   x23 x24
 *      sp+16   x21 x22
 *      sp+0    x19 x20   (fresh context: x19 = entry)  <- saved sp
 */
    .text

/* void *bench_ref_switch(void **save_sp, void *to_sp, void *arg) */
    .globl bench_ref_switch
    .type bench_ref_switch, %function
    .p2align 4
bench_ref_switch:
    sub sp, sp, #160
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    mov x0, x2
    br x30
    .size bench_ref_switch, . - bench_ref_switch

/* void *bench_ref_make(void *stack_end, void (*entry)(void *)) */
    .globl bench_ref_make
    .type bench_ref_make, %function
    .p2align 4
bench_ref_make:
    sub x0, x0, #160
    mov x9, #0
1:  str xzr, [x0, x9]
    add x9, x9, #8
    cmp x9, #160
    b.ne 1b
    str x1, [x0, #0]
    adr x9, ref_trampoline
    str x9, [x0, #88]
    ret
    .size bench_ref_make, . - bench_ref_make

/* First code of a fresh context: entry(arg of the first switch), already
 * in x0. */
    .type ref_trampoline, %function
    .p2align 4
ref_trampoline:
    blr x19
    brk #0
    .size ref_trampoline, . - ref_trampoline

/* unsigned bench_fp_get(void): FPSR. */
    .globl bench_fp_get
    .type bench_fp_get, %function
    .p2align 4
bench_fp_get:
    mrs x0, fpsr
    ret
    .size bench_fp_get, . - bench_fp_get

/* void bench_fp_set(unsigned value): FPSR = value. */
    .globl bench_fp_set
    .type bench_fp_set, %function
    .p2align 4
bench_fp_set:
    mov w0, w0
    msr fpsr, x0
    ret
    .size bench_fp_set, . - bench_fp_set

/* unsigned bench_fp_status_bits(void): FPSR's cumulative exception flags
 * (IOC DZC OFC UFC IXC IDC). */
    .globl bench_fp_status_bits
    .type bench_fp_status_bits, %function
    .p2align 4
bench_fp_status_bits:
    mov w0, #0x9f
    ret
    .size bench_fp_status_bits, . - bench_fp_status_bits

    .section .note.GNU-stack, "", %progbits
