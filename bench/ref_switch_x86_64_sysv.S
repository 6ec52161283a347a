/*
 * ref_switch_x86_64_sysv.S: the benchmarks' reference context switch for
 * x86-64 System V, and raw MXCSR access (see refctx.h).
 *
 * The switch pushes the six callee-saved general registers, swaps stack
 * pointers and pops the other side's six. Nothing else: no MXCSR, no x87
 * control word, no shadow-stack or sanitizer bookkeeping. A suspended
 * context's stack, from its saved stack pointer up:
 *
 *      sp+48  return address   (ref_trampoline for a fresh context)
 *      sp+40  rbp              (0 for a fresh context: ends backtraces)
 *      sp+32  rbx
 *      sp+24  r12              (entry, for a fresh context)
 *      sp+16  r13
 *      sp+8   r14
 *      sp+0   r15  <- saved sp
 *
 * It leaves with an indirect jump rather than `ret`: a ret would be
 * predicted from the return stack, which holds this side's caller, not the
 * other side's, and so mispredict at every switch (about half the cost of
 * the switch on the machines tried). The indirect jump is predicted from
 * the branch target history, which learns the ping-pong.
 *
 * A fresh context's sp is stack_end - 72, so that after the 7 pops (56
 * bytes) the trampoline runs with rsp 16-byte aligned, and its call gives
 * entry the rsp = 8 (mod 16) the ABI promises at a function's first
 * instruction.
 */
    .text

/* void *bench_ref_switch(void **save_sp, void *to_sp, void *arg) */
    .globl bench_ref_switch
    .type bench_ref_switch, @function
    .p2align 4
bench_ref_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    movq %rdx, %rax
    jmpq *%rcx
    .size bench_ref_switch, . - bench_ref_switch

/* void *bench_ref_make(void *stack_end, void (*entry)(void *)) */
    .globl bench_ref_make
    .type bench_ref_make, @function
    .p2align 4
bench_ref_make:
    leaq -72(%rdi), %rax
    xorl %edx, %edx
    movq %rdx, 0(%rax)
    movq %rdx, 8(%rax)
    movq %rdx, 16(%rax)
    movq %rsi, 24(%rax)
    movq %rdx, 32(%rax)
    movq %rdx, 40(%rax)
    leaq ref_trampoline(%rip), %rdx
    movq %rdx, 48(%rax)
    ret
    .size bench_ref_make, . - bench_ref_make

/* First code of a fresh context: entry(arg of the first switch). */
    .type ref_trampoline, @function
    .p2align 4
ref_trampoline:
    movq %rax, %rdi
    callq *%r12
    ud2
    .size ref_trampoline, . - ref_trampoline

/* unsigned bench_fp_get(void): MXCSR. */
    .globl bench_fp_get
    .type bench_fp_get, @function
    .p2align 4
bench_fp_get:
    stmxcsr -4(%rsp)
    movl -4(%rsp), %eax
    ret
    .size bench_fp_get, . - bench_fp_get

/* void bench_fp_set(unsigned value): MXCSR = value. */
    .globl bench_fp_set
    .type bench_fp_set, @function
    .p2align 4
bench_fp_set:
    movl %edi, -4(%rsp)
    ldmxcsr -4(%rsp)
    ret
    .size bench_fp_set, . - bench_fp_set

/* unsigned bench_fp_status_bits(void): MXCSR's six sticky flags (IE DE ZE
 * OE UE PE). */
    .globl bench_fp_status_bits
    .type bench_fp_status_bits, @function
    .p2align 4
bench_fp_status_bits:
    movl $0x3f, %eax
    ret
    .size bench_fp_status_bits, . - bench_fp_status_bits

    .section .note.GNU-stack, "", @progbits
