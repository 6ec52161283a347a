/*
 * test_ctx.c: tests of the machine context switch (src/core/ctx/).
 *
 * These drive corio__ctx_make/corio__ctx_switch (and corio__ctx_handoff,
 * mixed with it in the register test) by hand on raw mmap'd
 * stacks, with no coroutine layer above. They check the ABI contract
 * (callee-saved registers and floating-point control state survive,
 * status flags need not, the stack is aligned at entry), the arg hand-over,
 * the trap when an entry returns, clean unwinding at the trampoline, and
 * that the object never claims shadow-stack support (x86 SHSTK, AArch64
 * GCS). Every case exists on every build, so CTest finds each TEST line;
 * a case that does not apply to a build passes at once.
 *
 * Raw stacks are invisible to the sanitizers, so every switch here goes
 * through fiber_leave/fiber_arrive, which tell ASan and TSan about it, and
 * every stack is registered with Valgrind. The register test needs the
 * registers loaded right up to the switch, so it switches through a small
 * assembly helper per architecture. Under Valgrind, which emulates only
 * the rounding fields of the FP control state, only those are checked.
 *
 * CORIO_TEST_CTX_SWITCHES sets the register test's switch count (default
 * 1,000,000; lower it for slow emulators).
 */
#include "test.h"

#include "core/ctx/ctx.h"

#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "test_ctx.c knows x86-64 and AArch64 only"
#endif

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define CTX_TEST_ASAN 1
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                     const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_STACK_REGISTER
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif
#ifndef VALGRIND_MAKE_MEM_UNDEFINED
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define CTX_TEST_TSAN 1
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/* ---- stacks and sanitizer-aware switching -------------------------------- */

/* A stack [lo, lo + size) in a mapping of its own with a guard page below;
 * lo sits lo_offset bytes above the guard so tests can vary alignment. */
struct test_stack {
    void *map;
    size_t map_size;
    void *lo;
    size_t size;
    unsigned valgrind_id; /* so Valgrind knows a switch to it */
};

static void stack_alloc(struct test_stack *s, size_t size, size_t lo_offset)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (lo_offset + size + page - 1) / page * page;
    char *map;

    CHECK((size & 15) == 0 && (lo_offset & 15) == 0);
    map = mmap(NULL, page + body, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    CHECK_EQ(mprotect(map, page, PROT_NONE), 0);
    s->map = map;
    s->map_size = page + body;
    s->lo = map + page + lo_offset;
    s->size = size;
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + size);
}

/* Forget what earlier frames left on the stack (ASan's redzones of frames
 * that never returned) and fill it with junk, so a context made on it can
 * rely on nothing but corio__ctx_make. */
static void stack_reset(struct test_stack *s)
{
#ifdef CTX_TEST_ASAN
    __asan_unpoison_memory_region(s->lo, s->size);
#endif
    memset(s->lo, 0xa5, s->size);
}

static void stack_free(struct test_stack *s)
{
    VALGRIND_STACK_DEREGISTER(s->valgrind_id);
#ifdef CTX_TEST_ASAN
    __asan_unpoison_memory_region(s->lo, s->size);
#endif
    CHECK_EQ(munmap(s->map, s->map_size), 0);
    s->map = NULL;
}

/* A context plus what the sanitizers need to know about it. */
struct fiber {
    corio__ctx ctx;
    const void *lo;   /* its stack; learned from ASan for the thread's own */
    size_t size;
    void *fake_stack; /* ASan's fake stack while it is suspended */
    void *tsan;       /* TSan's fiber */
};

static struct fiber *fiber_current; /* the running fiber */
static struct fiber *fiber_prev;    /* the one that switched to it */

static void fiber_init_thread(struct fiber *f)
{
    memset(f, 0, sizeof *f);
#ifdef CTX_TEST_TSAN
    f->tsan = __tsan_get_current_fiber();
#endif
    fiber_current = f;
}

static void fiber_make(struct fiber *f, struct test_stack *s,
                       void (*entry)(void *))
{
    memset(f, 0, sizeof *f);
    f->lo = s->lo;
    f->size = s->size;
#ifdef CTX_TEST_TSAN
    f->tsan = __tsan_create_fiber(0);
#endif
    corio__ctx_make(&f->ctx, s->lo, s->size, entry);
}

/* Called once `f` has finished for good (it made its final switch). */
static void fiber_fini(struct fiber *f)
{
#ifdef CTX_TEST_TSAN
    __tsan_destroy_fiber(f->tsan);
#endif
    f->tsan = NULL;
}

/* Right before a switch from `from` to `to`; `dying`: from never resumes.
 * Always inlined: TSan's shadow call stack changes at the switch call, so a
 * function entered before it and left after it would unbalance both
 * fibers' shadow stacks. */
__attribute__((always_inline)) static inline void
fiber_leave(struct fiber *from, struct fiber *to, int dying)
{
    CHECK(fiber_current == from);
    fiber_prev = from;
    fiber_current = to;
#ifdef CTX_TEST_ASAN
    __sanitizer_start_switch_fiber(dying ? NULL : &from->fake_stack, to->lo,
                                   to->size);
#else
    (void)dying;
#endif
#ifdef CTX_TEST_TSAN
    __tsan_switch_to_fiber(to->tsan, 0);
#endif
}

/* First thing on arrival in `self`, both after a switch returns and at the
 * start of an entry function. */
__attribute__((always_inline)) static inline void
fiber_arrive(struct fiber *self)
{
    CHECK(fiber_current == self);
#ifdef CTX_TEST_ASAN
    {
        const void *lo;
        size_t size;
        __sanitizer_finish_switch_fiber(self->fake_stack, &lo, &size);
        if (fiber_prev && !fiber_prev->lo) {
            fiber_prev->lo = lo;
            fiber_prev->size = size;
        }
    }
#endif
}

static void *go(struct fiber *from, struct fiber *to, void *arg)
{
    void *r;
    fiber_leave(from, to, 0);
    r = corio__ctx_switch(&from->ctx, &to->ctx, arg);
    fiber_arrive(from);
    return r;
}

/* The last switch out of a context: it must never be resumed. */
static _Noreturn void go_final(struct fiber *from, struct fiber *to, void *arg)
{
    fiber_leave(from, to, 1);
    corio__ctx_switch(&from->ctx, &to->ctx, arg);
    corio_test_fail(__FILE__, __LINE__, "a finished context was resumed");
}

/* ---- per-architecture helpers -------------------------------------------- */

/*
 * ctx_test_regs_switch(from, to, arg, in, out): load the callee-saved
 * registers from in[], call corio__ctx_switch(from, to, arg), store the
 * same registers to out[] once it returns, and return its result. The C
 * caller's own callee-saved registers are kept aside meanwhile.
 *
 * ctx_test_probe_entry(arg): an entry function that tail-calls
 * ctx_test_probe_body(arg, sp, fp) with the stack pointer and frame pointer
 * it was entered with.
 */
void *ctx_test_regs_switch(corio__ctx *from, corio__ctx *to, void *arg,
                           const uint64_t *in, uint64_t *out);
/* The same through corio__ctx_handoff, where the backend has its own. */
#ifdef CORIO__CTX_HAVE_HANDOFF
void *ctx_test_regs_handoff(corio__ctx *from, corio__ctx *to, void *arg,
                            const uint64_t *in, uint64_t *out);
#else
#define ctx_test_regs_handoff ctx_test_regs_switch
#endif
void ctx_test_probe_entry(void *arg);
__attribute__((visibility("hidden"))) void
ctx_test_probe_body(void *arg, uintptr_t entry_sp, uintptr_t entry_fp);

#if defined(__x86_64__)

#define REG_COUNT 6
static const char *const reg_names[REG_COUNT] = {"rbx", "rbp", "r12",
                                                 "r13", "r14", "r15"};
/* At entry, after the call that pushed the return address. */
#define ENTRY_SP_MOD16 8

/* NAME(from, to, arg, in, out): load the callee-saved
 * registers from in[], make the switch through TARGET, and store what
 * they hold when it returns into out[] (the registers themselves are
 * restored before returning). */
#define REGS_THUNK(NAME, TARGET)                                            \
    ".text\n"                                                               \
    ".globl " NAME "\n"                                                     \
    ".hidden " NAME "\n"                                                    \
    ".type " NAME ", @function\n"                                           \
    ".p2align 4\n" NAME ":\n"                                               \
    "    endbr64\n"                                                         \
    "    pushq %rbp; pushq %rbx; pushq %r12\n"                              \
    "    pushq %r13; pushq %r14; pushq %r15\n"                              \
    "    pushq %r8\n" /* out; 7 pushes leave rsp 16-byte aligned */         \
    "    movq 0(%rcx), %rbx; movq 8(%rcx), %rbp; movq 16(%rcx), %r12\n"     \
    "    movq 24(%rcx), %r13; movq 32(%rcx), %r14; movq 40(%rcx), %r15\n"   \
    "    call " TARGET "\n"                                                 \
    "    popq %r8\n"                                                        \
    "    movq %rbx, 0(%r8); movq %rbp, 8(%r8); movq %r12, 16(%r8)\n"        \
    "    movq %r13, 24(%r8); movq %r14, 32(%r8); movq %r15, 40(%r8)\n"      \
    "    popq %r15; popq %r14; popq %r13\n"                                 \
    "    popq %r12; popq %rbx; popq %rbp\n"                                 \
    "    ret\n"                                                             \
    ".size " NAME ", .-" NAME "\n"

__asm__(REGS_THUNK("ctx_test_regs_switch", "corio__ctx_switch")
        "\n"
        ".globl ctx_test_probe_entry\n"
        ".hidden ctx_test_probe_entry\n"
        ".type ctx_test_probe_entry, @function\n"
        ".p2align 4\n"
        "ctx_test_probe_entry:\n"
        "    endbr64\n"
        "    movq %rsp, %rsi\n"
        "    movq %rbp, %rdx\n"
        "    jmp ctx_test_probe_body\n"
        ".size ctx_test_probe_entry, .-ctx_test_probe_entry\n");
#ifdef CORIO__CTX_HAVE_HANDOFF /* the same, through corio__ctx_handoff */
__asm__(REGS_THUNK("ctx_test_regs_handoff", "corio__ctx_handoff"));
#endif

/* MXCSR control variants: exception masks kept set, rounding, FZ and DAZ
 * varied. x87 variants: precision control and rounding varied. */
static const unsigned mxcsr_variants[4] = {0x1f80, 0x3f80 | 0x8000,
                                           0x5f80 | 0x0040, 0xff80 | 0x0040};
static const unsigned short x87_variants[3] = {0x037f, 0x067f, 0x0c7f};
#define FP_VARIANTS 12
/* The MXCSR and x87 rounding fields in fp_control_now()'s packing: all
 * that Valgrind emulates (not x87 precision, FZ, DAZ or status flags). */
#define FP_ROUNDING_BITS (0x6000u | 0x0c00ull << 16)

static unsigned mxcsr_get(void)
{
    unsigned v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

static void mxcsr_set(unsigned v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static unsigned x87_cw_get(void)
{
    unsigned short v;
    __asm__ volatile("fnstcw %0" : "=m"(v));
    return v;
}

static void x87_cw_set(unsigned short v)
{
    __asm__ volatile("fldcw %0" : : "m"(v));
}

/* All floating-point control state that must survive, packed. */
static uint64_t fp_control_now(void)
{
    return (mxcsr_get() & 0xffc0) | ((uint64_t)x87_cw_get() << 16);
}

static uint64_t fp_control_of(unsigned v)
{
    return mxcsr_variants[v % 4] | ((uint64_t)x87_variants[v / 4 % 3] << 16);
}

static void fp_control_set(unsigned v)
{
    mxcsr_set(mxcsr_variants[v % 4] | (mxcsr_get() & 0x3f));
    x87_cw_set(x87_variants[v / 4 % 3]);
}

/* Sticky exception flags, which need not survive a switch. */
static void fp_status_set(unsigned flags)
{
    mxcsr_set((mxcsr_get() & ~0x3fu) | (flags & 0x3f));
}

__attribute__((unused)) static unsigned fp_status_get(void)
{
    return mxcsr_get() & 0x3f;
}

/* The whole FP environment the tests change, to put back afterwards. */
static uint64_t fp_save(void)
{
    return mxcsr_get() | (uint64_t)x87_cw_get() << 32;
}

static void fp_restore(uint64_t saved)
{
    mxcsr_set((unsigned)saved);
    x87_cw_set((unsigned short)(saved >> 32));
}

#elif defined(__aarch64__)

#define REG_COUNT 19
static const char *const reg_names[REG_COUNT] = {
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
    "x29", "d8",  "d9",  "d10", "d11", "d12", "d13", "d14", "d15"};
/* sp is 16-byte aligned at all times. */
#define ENTRY_SP_MOD16 0

/* Moves x19-x29 and d8-d15 between the registers and 19 slots at base
 * (the order of in[] and out[]). */
#define A64_MOVE_REGS(pair, one, base)                                      \
    "    " pair " x19, x20, [" base ", #0]\n"                                \
    "    " pair " x21, x22, [" base ", #16]\n"                               \
    "    " pair " x23, x24, [" base ", #32]\n"                               \
    "    " pair " x25, x26, [" base ", #48]\n"                               \
    "    " pair " x27, x28, [" base ", #64]\n"                               \
    "    " one " x29, [" base ", #80]\n"                                     \
    "    " pair " d8, d9, [" base ", #88]\n"                                 \
    "    " pair " d10, d11, [" base ", #104]\n"                              \
    "    " pair " d12, d13, [" base ", #120]\n"                              \
    "    " pair " d14, d15, [" base ", #136]\n"

/* "hint #34" is bti c: a landing pad where BTI is on, a NOP elsewhere.
 * Frame: the caller's registers in 19 slots, then x30 and out. */
__asm__(".text\n"
        ".globl ctx_test_regs_switch\n"
        ".hidden ctx_test_regs_switch\n"
        ".type ctx_test_regs_switch, %function\n"
        ".p2align 4\n"
        "ctx_test_regs_switch:\n"
        "    hint #34\n"
        "    sub sp, sp, #176\n"
        A64_MOVE_REGS("stp", "str", "sp")
        "    stp x30, x4, [sp, #152]\n"
        A64_MOVE_REGS("ldp", "ldr", "x3")
        "    bl corio__ctx_switch\n"
        "    ldr x4, [sp, #160]\n"
        A64_MOVE_REGS("stp", "str", "x4")
        A64_MOVE_REGS("ldp", "ldr", "sp")
        "    ldr x30, [sp, #152]\n"
        "    add sp, sp, #176\n"
        "    ret\n"
        ".size ctx_test_regs_switch, .-ctx_test_regs_switch\n"
        "\n"
        ".globl ctx_test_probe_entry\n"
        ".hidden ctx_test_probe_entry\n"
        ".type ctx_test_probe_entry, %function\n"
        ".p2align 4\n"
        "ctx_test_probe_entry:\n"
        "    hint #34\n"
        "    mov x1, sp\n"
        "    mov x2, x29\n"
        "    b ctx_test_probe_body\n"
        ".size ctx_test_probe_entry, .-ctx_test_probe_entry\n");

#define FP_VARIANTS 12
/* FPCR.RMode: all that Valgrind emulates (not FZ or DN). */
#define FP_ROUNDING_BITS (3ull << 22)

static uint64_t fpcr_get(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpcr" : "=r"(v));
    return v;
}

static void fpcr_set(uint64_t v)
{
    __asm__ volatile("msr fpcr, %0" : : "r"(v));
}

static uint64_t fpsr_get(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpsr" : "=r"(v));
    return v;
}

static void fpsr_set(uint64_t v)
{
    __asm__ volatile("msr fpsr, %0" : : "r"(v));
}

static uint64_t fp_control_now(void)
{
    return fpcr_get();
}

/* Rounding mode (bits 22-23), flush-to-zero (24), default NaN (25). */
static uint64_t fp_control_of(unsigned v)
{
    return (uint64_t)(v % 4) << 22 | (uint64_t)(v / 4 % 2) << 24 |
           (uint64_t)(v / 8 % 2) << 25;
}

static void fp_control_set(unsigned v)
{
    fpcr_set(fp_control_of(v));
}

/* Cumulative exception flags (IOC..IXC, IDC, QC) need not survive. */
#define FPSR_FLAGS (0x9fu | 1u << 27)

static void fp_status_set(unsigned flags)
{
    fpsr_set((fpsr_get() & ~(uint64_t)FPSR_FLAGS) | (flags & FPSR_FLAGS));
}

__attribute__((unused)) static unsigned fp_status_get(void)
{
    return (unsigned)(fpsr_get() & FPSR_FLAGS);
}

static uint64_t fp_save(void)
{
    return fpcr_get();
}

static void fp_restore(uint64_t saved)
{
    fpcr_set(saved);
}

#endif

/* ---- registers and FP control survive random switching ------------------- */

/*
 * REGS_PARTS participants (the test's own thread and the rest on made
 * contexts) switch to one another in random order. Before each switch the
 * leaving side loads random values into every callee-saved register and
 * random FP status flags; after it, it checks the registers and its own FP
 * control variant (participants p and p + FP_VARIANTS share one, so some
 * switches take the no-reload path). Each switch hands over a random arg
 * that the arriving side checks.
 */
#define REGS_PARTS 14

struct regs_part {
    struct fiber f;
    struct test_stack stack;
    unsigned index;
    long arrivals;
    int finished;
};

static struct regs_part regs_parts[REGS_PARTS];
static long regs_left;
static void *regs_arg;

/* The running participant (its fiber is its first member). */
static struct regs_part *regs_self(void)
{
    return (struct regs_part *)(void *)fiber_current;
}

static void regs_check_fp(const struct regs_part *self)
{
    uint64_t mask = corio_test_under_valgrind() ? FP_ROUNDING_BITS : ~0ull;
    uint64_t now = fp_control_now() & mask;
    uint64_t want = fp_control_of(self->index % FP_VARIANTS) & mask;
    if (now != want)
        corio_test_fail(__FILE__, __LINE__,
                        "participant %u: FP control 0x%llx, want 0x%llx",
                        self->index, (unsigned long long)now,
                        (unsigned long long)want);
}

static void regs_switch_random(struct regs_part *self)
{
    uint64_t in[REG_COUNT], out[REG_COUNT];
    unsigned to, i;
    void *got;

    do
        to = (unsigned)(corio_test_rand() % REGS_PARTS);
    while (to == self->index);
    for (i = 0; i < REG_COUNT; i++)
        in[i] = corio_test_rand();
    regs_arg = (void *)(uintptr_t)corio_test_rand();
    fp_status_set((unsigned)corio_test_rand());

    fiber_leave(&self->f, &regs_parts[to].f, 0);
    /* Half the switches through corio__ctx_handoff: the two resume each
     * other's contexts, and it leaves by ret when both sides use the same
     * helper, by its jump otherwise. */
    if (corio_test_rand() & 1)
        got = ctx_test_regs_handoff(&self->f.ctx, &regs_parts[to].f.ctx,
                                    regs_arg, in, out);
    else
        got = ctx_test_regs_switch(&self->f.ctx, &regs_parts[to].f.ctx,
                                   regs_arg, in, out);
    fiber_arrive(&self->f);

    self->arrivals++;
    CHECK_PTR(got, regs_arg);
    for (i = 0; i < REG_COUNT; i++)
        if (out[i] != in[i])
            corio_test_fail(__FILE__, __LINE__,
                            "participant %u: %s was 0x%llx, now 0x%llx",
                            self->index, reg_names[i],
                            (unsigned long long)in[i],
                            (unsigned long long)out[i]);
    regs_check_fp(self);
}

static void regs_entry(void *arg)
{
    struct regs_part *self = regs_self();

    fiber_arrive(&self->f);
    self->arrivals++;
    CHECK_PTR(arg, regs_arg);
    fp_control_set(self->index % FP_VARIANTS);
    while (regs_left > 0) {
        regs_left--;
        regs_switch_random(self);
    }
    self->finished = 1;
    regs_arg = NULL;
    go_final(&self->f, &regs_parts[0].f, NULL);
}

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : dflt;
}

TEST(ctx_registers_survive_random_switches)
{
    struct regs_part *main_part = &regs_parts[0];
    uint64_t saved = fp_save();
    long total = env_long("CORIO_TEST_CTX_SWITCHES", 1000000);
    unsigned i;

    fiber_init_thread(&main_part->f);
    for (i = 1; i < REGS_PARTS; i++) {
        stack_alloc(&regs_parts[i].stack, 64 * 1024, 0);
        fiber_make(&regs_parts[i].f, &regs_parts[i].stack, regs_entry);
    }
    for (i = 0; i < REGS_PARTS; i++)
        regs_parts[i].index = i;
    fp_control_set(0);

    regs_left = total;
    while (regs_left > 0) {
        regs_left--;
        regs_switch_random(main_part);
    }
    /* Let every context run to its end, so the sanitizers see each exit:
     * resumed, it passes its checks, sees no switches left and finishes. */
    for (i = 1; i < REGS_PARTS; i++) {
        if (regs_parts[i].finished)
            continue;
        regs_arg = (void *)(uintptr_t)i;
        CHECK_PTR(go(&main_part->f, &regs_parts[i].f, regs_arg), NULL);
        CHECK(regs_parts[i].finished);
    }
    for (i = 1; i < REGS_PARTS; i++) {
        CHECK_INT(regs_parts[i].arrivals, >, 1);
        fiber_fini(&regs_parts[i].f);
        stack_free(&regs_parts[i].stack);
    }
    fp_restore(saved);
}

/* ---- the stack is aligned at entry --------------------------------------- */

typedef double vec2d __attribute__((vector_size(16)));

/* A volatile vector local makes the compiler use aligned vector loads and
 * stores on the stack (movapd on x86-64), which fault if the frame is not
 * 16-byte aligned. */
__attribute__((noinline)) static double vector_work(double x)
{
    volatile vec2d v = {x, x + 1};
    vec2d w = v;
    w = w * w;
    v = w;
    return v[0] + v[1];
}

static struct fiber probe_main, probe_fiber;
static uintptr_t probe_sp, probe_fp, probe_local;
static double probe_result;

void ctx_test_probe_body(void *arg, uintptr_t entry_sp, uintptr_t entry_fp)
{
    _Alignas(16) volatile char local[16];

    fiber_arrive(&probe_fiber);
    probe_sp = entry_sp;
    probe_fp = entry_fp;
    local[0] = 1;
    probe_local = (uintptr_t)local;
    probe_result = vector_work((double)(uintptr_t)arg);
    go_final(&probe_fiber, &probe_main, NULL);
}

TEST(ctx_stack_aligned_at_entry)
{
    static const size_t sizes[] = {16384, 16400, 16416, 16432, 20480,
                                   65536 - 16};
    size_t off, k;

    fiber_init_thread(&probe_main);
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (off = 0; off < 128; off += 16) {
            struct test_stack s;
            uintptr_t lo, top;

            stack_alloc(&s, sizes[k], off);
            stack_reset(&s);
            lo = (uintptr_t)s.lo;
            top = lo + s.size;
            probe_sp = 0;
            fiber_make(&probe_fiber, &s, ctx_test_probe_entry);
            go(&probe_main, &probe_fiber, (void *)(uintptr_t)3);
            fiber_fini(&probe_fiber);

            CHECK_EQ(probe_sp % 16, ENTRY_SP_MOD16);
            CHECK(probe_sp > lo && probe_sp <= top);
            CHECK_INT(top - probe_sp, <=, 256);
            CHECK_EQ(probe_local % 16, 0);
            /* The frame-pointer chain ends at the entry function. */
            if (CORIO__CTX_ENTRY_FP_ZERO)
                CHECK_EQ(probe_fp, 0);
            CHECK(probe_result == 9.0 + 16.0);
            stack_free(&s);
        }
    }
}

/* ---- the arg semantics of make and switch -------------------------------- */

static struct fiber args_main, args_a, args_b;
static void *args_log[16];
static int args_n;

static void args_record(void *v)
{
    CHECK(args_n < (int)(sizeof args_log / sizeof args_log[0]));
    args_log[args_n++] = v;
}

static void args_entry_b(void *arg)
{
    fiber_arrive(&args_b);
    args_record(arg);                                /* 3: 0xb0, from a */
    args_record(go(&args_b, &args_a, (void *)0xb1)); /* 6: 0xc0, main */
    go_final(&args_b, &args_main, (void *)UINTPTR_MAX);
}

static void args_entry_a(void *arg)
{
    fiber_arrive(&args_a);
    args_record(arg);                                /* 0: 0xa0 */
    args_record(go(&args_a, &args_main, (void *)0xa1)); /* 2: 0xa2 */
    args_record(go(&args_a, &args_b, (void *)0xb0)); /* 4: 0xb1, from b */
    go_final(&args_a, &args_main, NULL);
}

TEST(ctx_switch_passes_args)
{
    static void *const want[] = {(void *)0xa0, (void *)0xa1, (void *)0xa2,
                                 (void *)0xb0, (void *)0xb1, NULL,
                                 (void *)0xc0, (void *)UINTPTR_MAX};
    struct test_stack sa, sb;
    int i;

    fiber_init_thread(&args_main);
    stack_alloc(&sa, 32768, 0);
    stack_alloc(&sb, 32768, 0);
    stack_reset(&sa);
    stack_reset(&sb);
    fiber_make(&args_a, &sa, args_entry_a);
    fiber_make(&args_b, &sb, args_entry_b);
    CHECK_EQ(args_n, 0); /* making runs nothing */

    args_record(go(&args_main, &args_a, (void *)0xa0)); /* 1: 0xa1 */
    args_record(go(&args_main, &args_a, (void *)0xa2)); /* 5: NULL, from a */
    args_record(go(&args_main, &args_b, (void *)0xc0)); /* 7: max, from b */

    CHECK_EQ(args_n, (int)(sizeof want / sizeof want[0]));
    for (i = 0; i < args_n; i++)
        if (args_log[i] != want[i])
            corio_test_fail(__FILE__, __LINE__, "step %d: got %p, want %p",
                            i, args_log[i], want[i]);
    fiber_fini(&args_a);
    fiber_fini(&args_b);
    stack_free(&sa);
    stack_free(&sb);
}

/* A context made again on a stack full of junk from its last run starts
 * afresh: corio__ctx_make relies on nothing left in the stack. */
static struct fiber again_main, again_fiber;
static uintptr_t again_seen;

static void again_entry(void *arg)
{
    fiber_arrive(&again_fiber);
    again_seen = (uintptr_t)arg;
    go_final(&again_fiber, &again_main, (void *)((uintptr_t)arg * 3));
}

TEST(ctx_make_again_on_used_stack)
{
    struct test_stack s;
    uintptr_t i;

    fiber_init_thread(&again_main);
    stack_alloc(&s, 16384, 0);
    for (i = 1; i <= 1000; i++) {
        stack_reset(&s);
        fiber_make(&again_fiber, &s, again_entry);
        CHECK_EQ((uintptr_t)go(&again_main, &again_fiber, (void *)i), i * 3);
        CHECK_EQ(again_seen, i);
        fiber_fini(&again_fiber);
    }
    stack_free(&s);
}

/* ---- ctx.sp marks the lowest live byte ---------------------------------- */

/*
 * The contract lean coroutines rely on: while a context is made or
 * suspended, nothing it needs lies below ctx.sp (exact for the assembly
 * switches, a low mark for ucontext). The context suspends a few frames
 * deep; then everything of its stack below the mark (clamped to the
 * stack) is overwritten, and it must still finish with its frames intact.
 */
#define LOW_DEPTH 8

static struct fiber low_main, low_fiber;
static uintptr_t low_deepest_frame;
static int low_damaged;

__attribute__((noinline)) static unsigned low_descend(unsigned n)
{
    volatile unsigned words[16];
    unsigned i, sum = 0;

    for (i = 0; i < 16; i++)
        words[i] = n * 131u + i;
    if (n == 0) {
        low_deepest_frame = (uintptr_t)__builtin_frame_address(0);
        go(&low_fiber, &low_main, NULL);
    } else {
        sum = low_descend(n - 1);
    }
    for (i = 0; i < 16; i++) {
        if (words[i] != n * 131u + i)
            low_damaged = 1;
        sum += words[i];
    }
    return sum;
}

static void low_entry(void *arg)
{
    uintptr_t sum;

    fiber_arrive(&low_fiber);
    (void)arg;
    sum = low_descend(LOW_DEPTH);
    go_final(&low_fiber, &low_main, (void *)sum);
}

TEST(ctx_sp_marks_lowest_live_byte)
{
    struct test_stack s;
    uintptr_t lo, top, sp, want = 0, n, i;

    fiber_init_thread(&low_main);
    stack_alloc(&s, 65536, 0);
    stack_reset(&s);
    lo = (uintptr_t)s.lo;
    top = lo + s.size;
    fiber_make(&low_fiber, &s, low_entry);
    sp = (uintptr_t)low_fiber.ctx.sp; /* made: within the stack */
    CHECK(sp >= lo && sp < top);

    CHECK(go(&low_main, &low_fiber, NULL) == NULL); /* suspended, deep */
    sp = (uintptr_t)low_fiber.ctx.sp;
    CHECK(sp < low_deepest_frame);
    if (sp < lo)
        sp = lo; /* a low mark may reach below the stack: clamp */
    CHECK(sp < top);
#ifdef CTX_TEST_ASAN
    __asan_unpoison_memory_region(s.lo, sp - lo);
#endif
    VALGRIND_MAKE_MEM_UNDEFINED(s.lo, sp - lo);
    memset(s.lo, 0x5a, sp - lo);

    for (n = 0; n <= LOW_DEPTH; n++)
        for (i = 0; i < 16; i++)
            want += n * 131u + i;
    CHECK_EQ((uintptr_t)go(&low_main, &low_fiber, NULL), want);
    CHECK_EQ(low_damaged, 0);
    fiber_fini(&low_fiber);
    stack_free(&s);
}

/* ---- an entry that returns kills the process ----------------------------- */

static struct fiber trap_main, trap_fiber;

static void trap_entry(void *arg)
{
    fiber_arrive(&trap_fiber);
    (void)arg; /* and return, which the trampoline must not survive */
}

static void trap_child(void *unused)
{
    struct rlimit no_core = {0, 0};
    struct test_stack s;

    (void)unused;
    setrlimit(RLIMIT_CORE, &no_core);
    fiber_init_thread(&trap_main);
    stack_alloc(&s, 32768, 0);
    fiber_make(&trap_fiber, &s, trap_entry);
    go(&trap_main, &trap_fiber, NULL);
    fprintf(stderr, "the switch into a returning entry came back\n");
    _exit(3);
}

TEST(ctx_entry_return_traps)
{
    char *err = NULL;
    int status = corio_test_fork(trap_child, NULL, &err), sig;

    if (!WIFSIGNALED(status))
        corio_test_fail(__FILE__, __LINE__, "child exited %d: %s",
                        WEXITSTATUS(status), err);
    sig = WTERMSIG(status);
    /* ud2 / udf (or brk for ucontext on AArch64), nothing else */
    CHECK(sig == SIGILL || sig == SIGTRAP);
    free(err);
}

/* ---- unwinders stop at the trampoline ------------------------------------ */

static struct fiber bt_main, bt_fiber;
static int bt_depth;

__attribute__((noinline)) static void bt_entry(void *arg)
{
    void *frames[64];

    fiber_arrive(&bt_fiber);
    (void)arg;
    bt_depth = backtrace(frames, 64);
    go_final(&bt_fiber, &bt_main, NULL);
}

/* backtrace() unwinds by CFI: from a fresh context it must see this entry
 * and the trampoline (plus, for ucontext, libc's start frame) and stop,
 * not wander into the junk above the top of the stack. */
TEST(ctx_backtrace_stops_at_trampoline)
{
    struct test_stack s;
    void *frames[64];

    CHECK_INT(backtrace(frames, 64), >=, 4); /* the thread's own: deep */
    fiber_init_thread(&bt_main);
    stack_alloc(&s, 65536, 0);
    stack_reset(&s);
    fiber_make(&bt_fiber, &s, bt_entry);
    go(&bt_main, &bt_fiber, NULL);
    fiber_fini(&bt_fiber);
    CHECK_INT(bt_depth, >=, 2);
    CHECK_INT(bt_depth, <=, 5);
    stack_free(&s);
}

/* ---- FP status flags do not force a reload (where a switch keeps them) --- */

static struct fiber fps_main, fps_fiber;
static unsigned fps_seen_on_entry;

static void fps_entry(void *arg)
{
    fiber_arrive(&fps_fiber);
    (void)arg;
    fps_seen_on_entry = fp_status_get();
    fp_status_set(1); /* invalid-operation flag */
    go_final(&fps_fiber, &fps_main, NULL);
}

/*
 * Both sides have the same control state, so the switch must leave the
 * status flags as they are: the context sees the flag its creator raised
 * just before the switch, and the creator sees the one the context raised
 * (a reload would bring back each side's own saved flags). On AArch64 the
 * flags live in FPSR, which the switch never touches.
 */
static void fps_check(void)
{
    uint64_t saved = fp_save();
    struct test_stack s;

    if (corio_test_under_valgrind())
        return; /* Valgrind does not emulate the status flags */

    fiber_init_thread(&fps_main);
    fp_control_set(5);
    stack_alloc(&s, 32768, 0);
    fiber_make(&fps_fiber, &s, fps_entry);
    fp_status_set(2);
    go(&fps_main, &fps_fiber, NULL);
    CHECK(fps_seen_on_entry & 2);
    CHECK(fp_status_get() & 1);
    CHECK_EQ(fp_control_now(), fp_control_of(5));
    fiber_fini(&fps_fiber);
    stack_free(&s);
    fp_restore(saved);
}

/* swapcontext reloads the whole FP environment (CORIO__CTX_KEEPS_FP_STATUS
 * 0): nothing to check there, and the case says so (SKIPPED, not passed). */
TEST(ctx_fp_status_flags_not_reloaded)
{
    if (!CORIO__CTX_KEEPS_FP_STATUS)
        corio_test_skip("this context switch reloads the FP environment");
    fps_check();
}

/* ---- no shadow-stack property -------------------------------------------- */

#ifndef PT_GNU_PROPERTY
#define PT_GNU_PROPERTY 0x6474e553
#endif
#ifndef NT_GNU_PROPERTY_TYPE_0
#define NT_GNU_PROPERTY_TYPE_0 5
#endif
#if defined(__x86_64__)
#define FEATURE_1_AND 0xc0000002u /* GNU_PROPERTY_X86_FEATURE_1_AND */
#define FEATURE_SHADOW 2u         /* ..._SHSTK */
#define FEATURE_SHADOW_NAME "SHSTK"
#define READELF_FEATURES "x86 feature"
#else
#define FEATURE_1_AND 0xc0000000u /* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
#define FEATURE_SHADOW 4u         /* ..._GCS (Guarded Control Stack) */
#define FEATURE_SHADOW_NAME "GCS"
#define READELF_FEATURES "AArch64 feature"
#endif

struct note_scan {
    int found;         /* a FEATURE_1_AND property was seen */
    unsigned features; /* its value */
};

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

/* Scan the notes in [p, p + len) (entries aligned to `align`) for the
 * architecture's FEATURE_1_AND property. */
static void scan_notes(const unsigned char *p, size_t len, size_t align,
                       struct note_scan *out)
{
    if (align < 4)
        align = 4;
    while (len >= 12) {
        uint32_t namesz, descsz, type;
        size_t name_at = 12, desc_at, next;
        memcpy(&namesz, p, 4);
        memcpy(&descsz, p + 4, 4);
        memcpy(&type, p + 8, 4);
        desc_at = align_up(name_at + namesz, align);
        next = align_up(desc_at + descsz, align);
        if (next > len)
            return;
        if (type == NT_GNU_PROPERTY_TYPE_0 && namesz == 4 &&
            memcmp(p + name_at, "GNU", 4) == 0) {
            const unsigned char *d = p + desc_at;
            size_t left = descsz;
            while (left >= 8) {
                uint32_t pr_type, pr_size;
                memcpy(&pr_type, d, 4);
                memcpy(&pr_size, d + 4, 4);
                if (align_up(8 + (size_t)pr_size, 8) > left)
                    break;
                if (pr_type == FEATURE_1_AND && pr_size >= 4) {
                    out->found = 1;
                    memcpy(&out->features, d + 8, 4);
                }
                d += align_up(8 + (size_t)pr_size, 8);
                left -= align_up(8 + (size_t)pr_size, 8);
            }
        }
        p += next;
        len -= next;
    }
}

static int scan_main_program(struct dl_phdr_info *info, size_t size,
                             void *data)
{
    struct note_scan *scan = data;
    int i;

    (void)size;
    /* PT_GNU_PROPERTY, where the linker made one, repeats a PT_NOTE. */
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_PROPERTY || ph->p_type == PT_NOTE)
            scan_notes((const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
                       ph->p_memsz, ph->p_align, scan);
    }
    return 1; /* the first object is the program itself: stop */
}

/*
 * The program's merged properties: a switch that moves between stacks
 * without moving the shadow stack (x86 SHSTK, AArch64 GCS) must keep that
 * feature off the whole program. (Where the C runtime's start files carry
 * no such notes, as on Debian, the linker drops the property altogether
 * and this passes trivially; the archive check looks at the object.)
 */
static void check_program_has_no_shadow_stack(void)
{
    struct note_scan scan = {0, 0};
    dl_iterate_phdr(scan_main_program, &scan);
    if (scan.found && (scan.features & FEATURE_SHADOW))
        corio_test_fail(__FILE__, __LINE__, "the program claims %s",
                        FEATURE_SHADOW_NAME);
}

/* If libcorio.a sits next to this program (the CMake build) or is named by
 * CORIO_TEST_LIBCORIO, check with readelf that no ctx_* member claims a
 * shadow stack. Skipped when either is missing. */
static void check_archive_has_no_shadow_stack(void)
{
    char exe[4096], cmd[8300], line[1024], member[1024] = "";
    const char *lib = getenv("CORIO_TEST_LIBCORIO");
    ssize_t n;
    FILE *p;

    if (!lib) {
        char *slash;
        n = readlink("/proc/self/exe", exe, sizeof exe - 16);
        if (n <= 0)
            return;
        exe[n] = 0;
        slash = strrchr(exe, '/');
        if (!slash)
            return;
        strcpy(slash + 1, "libcorio.a");
        lib = exe;
    }
    if (access(lib, R_OK) != 0 || strchr(lib, '\''))
        return;
    snprintf(cmd, sizeof cmd, "readelf -nW '%s' 2>/dev/null", lib);
    p = popen(cmd, "r");
    if (!p)
        return;
    while (fgets(line, sizeof line, p)) {
        if (strncmp(line, "File: ", 6) == 0)
            snprintf(member, sizeof member, "%.*s",
                     (int)strcspn(line + 6, "\n"), line + 6);
        else if (strstr(member, "ctx_") && strstr(line, READELF_FEATURES) &&
                 strstr(line, FEATURE_SHADOW_NAME))
            corio_test_fail(__FILE__, __LINE__, "%s claims %s: %s", member,
                            FEATURE_SHADOW_NAME, line);
    }
    pclose(p);
}

TEST(ctx_no_shadow_stack_property)
{
    check_program_has_no_shadow_stack();
    check_archive_has_no_shadow_stack();
}
