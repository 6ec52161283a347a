/*
 * ctx_x86_64_sysv.S: corio's context switch for x86-64, System V ABI (Linux).
 *
 * A suspended context is its stack pointer: corio__ctx_switch pushes the
 * callee-saved state onto the running stack, stores rsp in from->sp, loads
 * to->sp and pops the other side's state. A made context is a stack with a
 * frame laid out exactly as a switch would have left it, whose resume
 * address is the entry trampoline.
 *
 * Saved frame, at ctx->sp (addresses grow upwards; 64 bytes):
 *
 *          +------------------------------+
 *   sp+56  | resume address               |  trampoline, for a made context
 *   sp+48  | rbp                          |  0 for a made context
 *   sp+40  | rbx                          |
 *   sp+32  | r12                          |  entry function, for a made one
 *   sp+24  | r13                          |
 *   sp+16  | r14                          |
 *   sp+8   | r15                          |
 *   sp+4   | x87 control word (2 bytes)   |  2 bytes of padding above it
 *   sp+0   | MXCSR (4 bytes)              |
 *          +------------------------------+
 *
 * A made context's frame sits at top - 64, where top = lo + size is 16-byte
 * aligned: the trampoline starts with rsp == top, and its call leaves
 * rsp % 16 == 8 at the entry function, as after any call.
 *
 * Invariants:
 * - Exactly the ABI's callee-saved state survives a switch: rbx, rbp,
 *   r12-r15, rsp, the MXCSR control bits (6-15) and the x87 control word.
 *   MXCSR status bits (0-5) and the x87 status word are caller-saved and
 *   are not carried over.
 * - ldmxcsr/fldcw run only when the incoming control state differs from the
 *   live one (MXCSR compared under mask 0xffc0). ldmxcsr is slow on Intel
 *   cores when status flags change, and most switches are between sides
 *   with the same control state. The price is reading back what stmxcsr
 *   stored, which AMD Zen 4 does not forward from the store: about 2.5 ns
 *   there, where an unconditional ldmxcsr would cost about 1 ns.
 * - The switch leaves by popping the return address and jumping to it, not
 *   by `ret`: ret is predicted from the return stack, which holds this
 *   side's caller, so it would mispredict on every switch (measured on
 *   Zen 4: 18 ns a switch instead of 7); the indirect jump is predicted
 *   from branch history, which learns the ping-pong. With IBT the jump is
 *   `notrack`, since the other side's return site has no endbr64.
 * - A made context inherits the MXCSR and x87 control word that were live
 *   in corio__ctx_make, as a new thread inherits its creator's.
 * - CET: endbr64 at every entry point when IBT is on (__CET__ & 1), and
 *   the object's GNU property says IBT only. Never SHSTK: the switch moves
 *   to another stack without moving the shadow stack, which shadow-stack
 *   hardware would fault on; leaving SHSTK out of this object makes the
 *   linker leave it out of the whole program.
 * - The trampoline's CFI marks the return address undefined, so debuggers
 *   and unwinders (gdb, backtrace(), _Unwind_Backtrace) stop there, and it
 *   runs entry with rbp == 0 for frame-pointer walkers.
 *
 * Limits: LP64 only (not x32). No shadow-stack support. Signals are not
 * masked or saved: the signal mask belongs to the thread, not the context.
 */

#if !defined(__x86_64__) || defined(__ILP32__)
#error "ctx_x86_64_sysv.S is for x86-64 LP64 only"
#endif

#if defined(__CET__) && (__CET__ & 1)
#define ENDBR endbr64
#define JMP_RETURN notrack jmp      /* return sites carry no endbr64 */
#else
#define ENDBR
#define JMP_RETURN jmp
#endif

#define FRAME_SIZE 64
#define MXCSR_CONTROL_MASK 0xffc0

    .text

/* The frame both switch functions build and take down (FRAME_SIZE bytes
 * with the return address): the callee-saved registers, then MXCSR at 0
 * and the x87 control word at 4, each push described for unwinders. */
.macro SAVE_FRAME
    pushq %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbp, 0
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbx, 0
    pushq %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r12, 0
    pushq %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r13, 0
    pushq %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r14, 0
    pushq %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r15, 0
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
.endm

/* Pops what SAVE_FRAME pushed, after its 8-byte FP control slot has been
 * dropped; the return address is left on top. */
.macro POP_CALLEE_SAVED
    popq %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r15
    popq %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r14
    popq %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r13
    popq %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r12
    popq %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbx
    popq %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbp
.endm

/* Jumps to \slow when the incoming frame's (rsp) MXCSR control bits or
 * x87 control word differ from the outgoing frame's (rcx). Each load
 * matches the width of the store that wrote it, so store forwarding
 * works. Clobbers eax. */
.macro FP_CONTROL_DIFFERS slow
    movl (%rsp), %eax
    xorl (%rcx), %eax
    testl $MXCSR_CONTROL_MASK, %eax
    jnz \slow
    movzwl 4(%rsp), %eax
    cmpw 4(%rcx), %ax
    jne \slow
.endm

/*
 * void corio__ctx_make(corio__ctx *c, void *lo, size_t size,
 *                      void (*entry)(void *));
 *                      rdi: c, rsi: lo, rdx: size, rcx: entry
 */
    .globl corio__ctx_make
    .hidden corio__ctx_make
    .type corio__ctx_make, @function
    .p2align 4
corio__ctx_make:
    .cfi_startproc
    ENDBR
    leaq (%rsi,%rdx), %rax          /* top of the stack */
    andq $-16, %rax                 /* already aligned by contract; be sure */
    subq $FRAME_SIZE, %rax
    stmxcsr (%rax)
    fnstcw 4(%rax)
    andl $~0x3f, (%rax)             /* status flags: start clean */
    movw $0, 6(%rax)
    movq $0, 8(%rax)                /* r15 */
    movq $0, 16(%rax)               /* r14 */
    movq $0, 24(%rax)               /* r13 */
    movq %rcx, 32(%rax)             /* r12: the entry function */
    movq $0, 40(%rax)               /* rbx */
    movq $0, 48(%rax)               /* rbp: ends frame-pointer chains */
    leaq ctx_trampoline(%rip), %rdx
    movq %rdx, 56(%rax)
    movq %rax, (%rdi)
    ret
    .cfi_endproc
    .size corio__ctx_make, .-corio__ctx_make

/*
 * void *corio__ctx_switch(corio__ctx *from, corio__ctx *to, void *arg);
 *                         rdi: from, rsi: to, rdx: arg; returns in rax
 *
 * The frame has the same layout on both sides, so the CFI written for the
 * pushes describes the incoming side's frame after the stack swap as well.
 */
    .globl corio__ctx_switch
    .hidden corio__ctx_switch
    .type corio__ctx_switch, @function
    .p2align 4
corio__ctx_switch:
    .cfi_startproc
    ENDBR
    SAVE_FRAME

    movq %rsp, %rcx                 /* outgoing frame: its MXCSR/CW are live */
    movq %rsp, (%rdi)
    movq (%rsi), %rsp

    /* Reload FP control state only if it differs. */
    FP_CONTROL_DIFFERS .Lload_fp_control
.Lfp_control_done:
    .cfi_remember_state
    addq $8, %rsp
    .cfi_adjust_cfa_offset -8
    POP_CALLEE_SAVED
    popq %rcx                       /* the other side's return address */
    .cfi_adjust_cfa_offset -8
    .cfi_register %rip, %rcx
    movq %rdx, %rax                 /* the switch's result, and, for a made
                                       context, the entry's argument */
    JMP_RETURN *%rcx

    /* Out of line: taken only when the two sides' control state differs. */
.Lload_fp_control:
    .cfi_restore_state
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    jmp .Lfp_control_done
    .cfi_endproc
    .size corio__ctx_switch, .-corio__ctx_switch

/*
 * void *corio__ctx_handoff(corio__ctx *from, corio__ctx *to, void *arg);
 *
 * corio__ctx_switch, for the direct hand-off between two tasks (coro.h's
 * corio__coro_transfer), leaving by `ret` when the other side resumes at
 * the very address this side's caller will come back to. Why: the
 * processor predicts a `ret` from its return stack, pushed by calls and
 * popped by rets. A switch leaves that stack one entry deep (the call of
 * this function, never returned from on this side), so the first ret the
 * other side makes (its wait function returning) pops this side's entry
 * and mispredicts: about 6 ns a hand-off on this project's Xeon, a fifth
 * of a future ping-pong. When both sides wait at the same call site (two
 * tasks in the same wait, the common hand-off) the entry on top is the
 * right target for the other side, so a `ret` here takes it and leaves
 * the stack in step with both sides. Otherwise it leaves by the jump, as
 * corio__ctx_switch does (the same cost as that one's, plus a compare).
 * The frame and everything a switch keeps are corio__ctx_switch's, so the
 * two resume each other's contexts.
 */
    .globl corio__ctx_handoff
    .hidden corio__ctx_handoff
    .type corio__ctx_handoff, @function
    .p2align 4
corio__ctx_handoff:
    .cfi_startproc
    ENDBR
    SAVE_FRAME

    movq %rsp, %rcx
    movq %rsp, (%rdi)
    movq (%rsi), %rsp

    FP_CONTROL_DIFFERS .Lh_load_fp_control
.Lh_fp_control_done:
    .cfi_remember_state
    /* The same resume address on both sides? The flags carry the answer
     * past the restores (lea, pop and mov leave them alone). */
    movq 56(%rsp), %rax
    cmpq 56(%rcx), %rax
    leaq 8(%rsp), %rsp
    .cfi_adjust_cfa_offset -8
    POP_CALLEE_SAVED
    movq %rdx, %rax
    jne .Lh_jump
    ret                             /* predicted: the same address */
.Lh_jump:
    popq %rcx
    .cfi_adjust_cfa_offset -8
    .cfi_register %rip, %rcx
    JMP_RETURN *%rcx

.Lh_load_fp_control:
    .cfi_restore_state
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    jmp .Lh_fp_control_done
    .cfi_endproc
    .size corio__ctx_handoff, .-corio__ctx_handoff

/*
 * First switch into a made context jumps here with rsp == top,
 * r12 == entry, rax == the switch's arg. Calls entry(arg); entry must not
 * return, and if it does the process dies of SIGILL here.
 */
    .type ctx_trampoline, @function
    .p2align 4
ctx_trampoline:
    .cfi_startproc
    .cfi_undefined %rip             /* outermost frame for unwinders */
    ENDBR
    movq %rax, %rdi
    call *%r12
    ud2
    .cfi_endproc
    .size ctx_trampoline, .-ctx_trampoline

/* The stack need not be executable. */
    .section .note.GNU-stack, "", @progbits

#if defined(__CET__) && (__CET__ & 1)
/* NT_GNU_PROPERTY_TYPE_0 note: GNU_PROPERTY_X86_FEATURE_1_AND = IBT.
 * Deliberately no SHSTK bit (see the file comment). */
    .section .note.gnu.property, "a", @note
    .p2align 3
    .long 4                         /* name size: "GNU\0" */
    .long 16                        /* descriptor size */
    .long 5                         /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz "GNU"
    .long 0xc0000002                /* GNU_PROPERTY_X86_FEATURE_1_AND */
    .long 4                         /* property data size */
    .long 1                         /* GNU_PROPERTY_X86_FEATURE_1_IBT */
    .p2align 3
#endif
