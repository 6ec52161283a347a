/*
 * ctx_aarch64_aapcs.S: corio's context switch for AArch64, AAPCS64 (Linux).
 *
 * A suspended context is its stack pointer: corio__ctx_switch stores the
 * callee-saved state in a frame on the running stack, stores sp in
 * from->sp, loads to->sp and reloads the other side's state from its frame.
 * A made context is a stack holding a frame laid out as a switch would have
 * left it, whose saved x30 is the entry trampoline.
 *
 * Saved frame, at ctx->sp (addresses grow upwards; 176 bytes):
 *
 *          +---------------------+---------------------+
 *   sp+160 | FPCR                | (padding)           |
 *   sp+144 | d14                 | d15                 |
 *   sp+128 | d12                 | d13                 |
 *   sp+112 | d10                 | d11                 |
 *   sp+96  | d8                  | d9                  |
 *   sp+80  | x29 (0 if made)     | x30 (trampoline)    |
 *   sp+64  | x27                 | x28                 |
 *   sp+48  | x25                 | x26                 |
 *   sp+32  | x23                 | x24                 |
 *   sp+16  | x21                 | x22                 |
 *   sp+0   | x19 (entry if made) | x20                 |
 *          +---------------------+---------------------+
 *
 * A made context's frame sits at top - 176, where top = lo + size is
 * 16-byte aligned, so the trampoline and the entry function start with
 * sp == top, 16-byte aligned as AAPCS64 requires at all times.
 *
 * Invariants:
 * - Exactly the ABI's callee-saved state survives a switch: x19-x29, the
 *   return address x30, sp, the low halves of v8-v15 (d8-d15) and FPCR.
 *   FPSR (the cumulative exception flags) is caller-saved: not carried over.
 * - FPCR is written only when the incoming value differs from the live one:
 *   msr fpcr can stall the pipeline, and most switches are between sides
 *   with the same FPCR.
 * - The switch leaves with `br x30`, not `ret`: ret is predicted from the
 *   return stack, which holds this side's caller, so it would mispredict on
 *   every switch; br is predicted from branch history, which learns the
 *   ping-pong (measured on x86-64, where the same choice saves 60%; not yet
 *   on AArch64 hardware). With BTI it must be `ret` (not checked by BTI),
 *   since the other side's return site is no landing pad.
 * - A made context inherits the FPCR that was live in corio__ctx_make, as a
 *   new thread inherits its creator's.
 * - Branch protection, when the compiler enables it: with BTI every entry
 *   is a landing pad; with PAC the saved x30 is signed against the sp of
 *   its own side (a made context's against its top), so a forged return
 *   address in a suspended frame fails authentication. The GNU property
 *   note says what this object implements, as a compiled C file's would.
 * - The trampoline's CFI marks x30 undefined and runs entry with x29 == 0,
 *   so unwinders and frame-record walkers stop there.
 *
 * Limits: no Guarded Control Stack support (and no GCS property), for the
 * same reason x86-64 has no shadow stack support. SVE state above the low
 * 64 bits of v8-v15 is caller-saved by the ABI and not kept. x18 (the
 * platform register) is left alone. Signals are neither masked nor saved.
 */

#if !defined(__aarch64__) || defined(__ILP32__)
#error "ctx_aarch64_aapcs.S is for AArch64 LP64 only"
#endif

/* Branch protection. Hint-space encodings assemble everywhere and are
 * NOPs on cores without the feature. */
#if defined(__ARM_FEATURE_PAC_DEFAULT) && (__ARM_FEATURE_PAC_DEFAULT & 2)
#define SIGN_LR hint #27            /* pacibsp */
#define AUTH_LR hint #31            /* autibsp */
#define SIGN_X17_WITH_X16 hint #10  /* pacib1716 */
#define PAC_ENABLED 1
#elif defined(__ARM_FEATURE_PAC_DEFAULT) && (__ARM_FEATURE_PAC_DEFAULT & 1)
#define SIGN_LR hint #25            /* paciasp */
#define AUTH_LR hint #29            /* autiasp */
#define SIGN_X17_WITH_X16 hint #8   /* pacia1716 */
#define PAC_ENABLED 1
#else
#define PAC_ENABLED 0
#endif

/* Leaving the switch: see "br x30" in the file comment. */
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
#define BTI_C hint #34              /* bti c */
#define BTI_ENABLED 1
#define BRANCH_TO_LR ret
#else
#define BTI_C
#define BTI_ENABLED 0
#define BRANCH_TO_LR br x30
#endif

#define FRAME_SIZE 176
#define FPCR_SLOT 160

    .text

/*
 * void corio__ctx_make(corio__ctx *c, void *lo, size_t size,
 *                      void (*entry)(void *));
 *                      x0: c, x1: lo, x2: size, x3: entry
 */
    .globl corio__ctx_make
    .hidden corio__ctx_make
    .type corio__ctx_make, %function
    .p2align 4
corio__ctx_make:
    .cfi_startproc
    BTI_C
    add x9, x1, x2                  /* top of the stack */
    and x9, x9, #~15                /* already aligned by contract; be sure */
    sub x10, x9, #FRAME_SIZE
    stp x3, xzr, [x10, #0]          /* x19: the entry function */
    stp xzr, xzr, [x10, #16]
    stp xzr, xzr, [x10, #32]
    stp xzr, xzr, [x10, #48]
    stp xzr, xzr, [x10, #64]
    stp xzr, xzr, [x10, #96]
    stp xzr, xzr, [x10, #112]
    stp xzr, xzr, [x10, #128]
    stp xzr, xzr, [x10, #144]
    adr x17, ctx_trampoline
#if PAC_ENABLED
    mov x16, x9                     /* the sp the switch authenticates at */
    SIGN_X17_WITH_X16
#endif
    stp xzr, x17, [x10, #80]        /* x29 = 0 ends frame-record chains */
    mrs x11, fpcr
    stp x11, xzr, [x10, #FPCR_SLOT]
    str x10, [x0]
    ret
    .cfi_endproc
    .size corio__ctx_make, .-corio__ctx_make

/*
 * void *corio__ctx_switch(corio__ctx *from, corio__ctx *to, void *arg);
 *                         x0: from, x1: to, x2: arg; returns in x0
 *
 * The frame has the same layout on both sides, so the CFI written for the
 * stores describes the incoming side's frame after the stack swap as well.
 */
    .globl corio__ctx_switch
    .hidden corio__ctx_switch
    .type corio__ctx_switch, %function
    .p2align 4
corio__ctx_switch:
    .cfi_startproc
#if PAC_ENABLED
    SIGN_LR                         /* also a BTI landing pad for calls */
    .cfi_window_save
#else
    BTI_C
#endif
    sub sp, sp, #FRAME_SIZE
    .cfi_def_cfa_offset FRAME_SIZE
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    .cfi_offset x19, -176
    .cfi_offset x20, -168
    .cfi_offset x21, -160
    .cfi_offset x22, -152
    .cfi_offset x23, -144
    .cfi_offset x24, -136
    .cfi_offset x25, -128
    .cfi_offset x26, -120
    .cfi_offset x27, -112
    .cfi_offset x28, -104
    .cfi_offset x29, -96
    .cfi_offset x30, -88
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    .cfi_offset 72, -80             /* d8-d15 are DWARF registers 72-79 */
    .cfi_offset 73, -72
    .cfi_offset 74, -64
    .cfi_offset 75, -56
    .cfi_offset 76, -48
    .cfi_offset 77, -40
    .cfi_offset 78, -32
    .cfi_offset 79, -24
    mrs x9, fpcr
    str x9, [sp, #FPCR_SLOT]

    mov x10, sp
    str x10, [x0]
    ldr x10, [x1]
    mov sp, x10

    ldr x10, [sp, #FPCR_SLOT]
    cmp x9, x10
    b.ne .Lload_fpcr
.Lfpcr_done:
    .cfi_remember_state
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
    add sp, sp, #FRAME_SIZE
    .cfi_def_cfa_offset 0
    .cfi_restore x19
    .cfi_restore x20
    .cfi_restore x21
    .cfi_restore x22
    .cfi_restore x23
    .cfi_restore x24
    .cfi_restore x25
    .cfi_restore x26
    .cfi_restore x27
    .cfi_restore x28
    .cfi_restore x29
    .cfi_restore x30
    .cfi_restore 72
    .cfi_restore 73
    .cfi_restore 74
    .cfi_restore 75
    .cfi_restore 76
    .cfi_restore 77
    .cfi_restore 78
    .cfi_restore 79
    mov x0, x2                      /* the switch's result, and, for a made
                                       context, the entry's argument */
#if PAC_ENABLED
    AUTH_LR
    .cfi_window_save
#endif
    BRANCH_TO_LR

    /* Out of line: taken only when the two sides' FPCR differ. */
.Lload_fpcr:
    .cfi_restore_state
    msr fpcr, x10
    b .Lfpcr_done
    .cfi_endproc
    .size corio__ctx_switch, .-corio__ctx_switch

/*
 * First switch into a made context arrives here with sp == top,
 * x19 == entry, x0 == the switch's arg, x29 == 0. Reached by br x30, or by
 * ret when BTI is on, so it needs no landing pad. Calls entry(arg); entry
 * must not return, and if it does the process dies of SIGILL here.
 */
    .type ctx_trampoline, %function
    .p2align 4
ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30              /* outermost frame for unwinders */
    blr x19
    udf #0
    .cfi_endproc
    .size ctx_trampoline, .-ctx_trampoline

/* The stack need not be executable. */
    .section .note.GNU-stack, "", %progbits

#if BTI_ENABLED || PAC_ENABLED
/* NT_GNU_PROPERTY_TYPE_0 note: GNU_PROPERTY_AARCH64_FEATURE_1_AND with
 * BTI (bit 0) and PAC (bit 1) as enabled; never GCS (bit 2). */
    .section .note.gnu.property, "a"
    .p2align 3
    .long 4                         /* name size: "GNU\0" */
    .long 16                        /* descriptor size */
    .long 5                         /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz "GNU"
    .long 0xc0000000                /* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
    .long 4                         /* property data size */
    .long (BTI_ENABLED | (PAC_ENABLED << 1))
    .p2align 3
#endif
