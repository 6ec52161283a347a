/*
 * test_stack.c: the stack layer: sizes and alignment, the pool and its
 * caches, thread exit, guard modes and the overflow report, chaining of
 * unrelated faults, the VMA budget, a million stacks at once, and -ENOMEM.
 *
 * Death tests run in a forked child (corio_test_fork). What each build
 * gives on a guard fault: corio's report and SIGABRT natively, under
 * Valgrind, and under ASan and TSan too, since corio's handler replaces
 * theirs (both runtimes let a program install its own SIGSEGV handler);
 * the checks still accept ASan's own report in case a build sets
 * allow_user_segv_handler=0. An unrelated fault dies of SIGSEGV natively;
 * under ASan and TSan the runtime's handler, which corio chains to, prints
 * its SEGV report and exits non-zero instead.
 */
#include "test.h"
#include "helpers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "corio/coro.h"
#include "core/stack/stack.h"

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static int sanitized(void)
{
    return corio_test_under_asan() || corio_test_under_tsan();
}

static corio__stack_stats stats(void)
{
    corio__stack_stats s;
    corio__stack_stats_get(&s);
    return s;
}

/* Stacks carved so far, in any mode. */
static size_t carved(const corio__stack_stats *s)
{
    return s->by_guard[1] + s->by_guard[2] + s->by_guard[3];
}

static corio__stack *get(size_t size)
{
    corio__stack *st = NULL;
    CHECK_EQ(corio__stack_get(size, &st), 0);
    CHECK(st != NULL);
    return st;
}

/* ---- sizes and the pool ------------------------------------------------- */

TEST(stack_get_put_round_trip)
{
    corio__stack_stats s0 = stats(), s1;
    size_t want = sanitized() ? (size_t)256 * 1024 : CORIO_STACK_DEFAULT;
    corio__stack *st = get(0), *again;
    CHECK_EQ(st->size, want);
    CHECK_EQ((uintptr_t)st->lo % 16, 0);
    CHECK_EQ((uintptr_t)st->lo % page(), 0);
    CHECK_EQ(st->size % page(), 0);
    CHECK(st->name == NULL);
    CHECK(st->guard >= CORIO__GUARD_PTE && st->guard <= CORIO__GUARD_CANARY);
    CHECK_EQ(corio__stack_check(st), 0);
    memset(st->lo, 0xab, st->size); /* every usable byte is writable */
    CHECK_EQ(corio__stack_check(st), 0);
    st->name = "round-trip";
    s1 = stats();
    CHECK_EQ(s1.in_use, s0.in_use + 1);
    corio__stack_put(st);
    s1 = stats();
    CHECK_EQ(s1.in_use, s0.in_use);
    CHECK_EQ(s1.cached, s0.cached + 1);
    again = get(0); /* the thread cache is LIFO */
    CHECK_PTR(again, st);
    CHECK(again->name == NULL);
    corio__stack_put(again);
    corio__stack_put(NULL); /* ignored */
    CHECK_EQ(stats().in_use, s0.in_use);
}

TEST(stack_sizes_rounded)
{
    size_t p = page();
    size_t sizes[] = {1, p - 1, p, p + 1, 16 * 1024, 64 * 1024 - 1,
                      64 * 1024 + 1, 100000, 1 << 20, 3 << 20,
                      CORIO__STACK_MAX};
    static corio__stack sentinel;
    corio__stack *st, *keep = &sentinel;
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t req = sizes[i], at_least = req < p ? p : req;
        st = get(req);
        CHECK_INT(st->size, >=, req);
        CHECK_EQ(st->size % p, 0);
        CHECK_INT(st->size, <, 2 * at_least); /* a power-of-two class */
        CHECK_EQ(st->size, corio__stack_size_for(req));
        CHECK_EQ((uintptr_t)st->lo % p, 0);
        ((volatile char *)st->lo)[0] = 1;
        ((volatile char *)st->lo)[st->size - 1] = 1;
        corio__stack_put(st);
    }
    /* Same class, same stack. */
    st = get(p + 1);
    corio__stack_put(st);
    CHECK_PTR(get(2 * p), st);
    corio__stack_put(st);
    st = keep;
    CHECK_EQ(corio__stack_get(CORIO__STACK_MAX + 1, &st), -EINVAL);
    CHECK_EQ(corio__stack_get(SIZE_MAX, &st), -EINVAL);
    CHECK_PTR(st, keep); /* untouched on error */
    CHECK_EQ(corio__stack_size_for(SIZE_MAX), 0);
    CHECK_EQ(corio__stack_size_for(0), sanitized() ? (size_t)256 * 1024
                                                   : CORIO_STACK_DEFAULT);
    CHECK_INT(corio__stack_guard_size(), >=, p);
    CHECK_INT(corio__stack_guard_size(), >=, 16 * 1024);
}

static int by_lo(const void *a, const void *b)
{
    const corio__stack *x = *(corio__stack *const *)a;
    const corio__stack *y = *(corio__stack *const *)b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

TEST(stack_distinct_and_disjoint)
{
    enum { N = 3000 };
    static corio__stack *sts[N];
    size_t sizes[] = {4096, 16 * 1024, 64 * 1024, 0, 200 * 1024};
    size_t guard = corio__stack_guard_size(), i;
    size_t base = stats().in_use;
    for (i = 0; i < N; i++) {
        sts[i] = get(sizes[corio_test_rand() % 5]);
        /* Tag both ends with the index. */
        memcpy(sts[i]->lo, &i, sizeof i);
        memcpy((char *)sts[i]->lo + sts[i]->size - sizeof i, &i, sizeof i);
    }
    for (i = 0; i < N; i++) {
        size_t a, b;
        memcpy(&a, sts[i]->lo, sizeof a);
        memcpy(&b, (char *)sts[i]->lo + sts[i]->size - sizeof b, sizeof b);
        CHECK_EQ(a, i);
        CHECK_EQ(b, i);
    }
    qsort(sts, N, sizeof sts[0], by_lo);
    for (i = 1; i < N; i++) /* guard + stack regions never overlap */
        CHECK((char *)sts[i - 1]->lo + sts[i - 1]->size <=
              (char *)sts[i]->lo - guard);
    CHECK_EQ(stats().in_use, base + N);
    for (i = 0; i < N; i++)
        corio__stack_put(sts[i]);
    CHECK_EQ(stats().in_use, base);
}

TEST(stack_cache_reuse_makes_nothing_new)
{
    /* 64 KiB: 32,768 fit in a thread's cache (the default size in
     * sanitizer builds, 256 KiB, gets 8,192). */
    enum { N = 10000, ROUNDS = 10, SZ = 64 * 1024 };
    static corio__stack *sts[N];
    corio__stack_stats s0, s1;
    size_t i, r, pairs = sanitized() || corio_test_under_valgrind() ? 100000
                                                                     : 2000000;
    double t0;
    for (i = 0; i < N; i++) /* warm-up */
        sts[i] = get(SZ);
    for (i = 0; i < N; i++)
        corio__stack_put(sts[i]);
    s0 = stats();
    for (r = 0; r < ROUNDS; r++) {
        for (i = 0; i < N; i++)
            sts[i] = get(SZ);
        for (i = 0; i < N; i++)
            corio__stack_put(sts[i]);
    }
    s1 = stats();
    CHECK_EQ(s1.arenas, s0.arenas);
    CHECK_EQ(carved(&s1), carved(&s0));
    CHECK_EQ(s1.in_use, s0.in_use);
    CHECK_EQ(s1.cached, s0.cached);
    CHECK_EQ(s1.trimmed, 0); /* 10,000 fit in the thread cache */
    t0 = now_s();
    for (i = 0; i < pairs; i++) {
        corio__stack *st = get(SZ);
        corio__stack_put(st);
    }
    printf("      get+put from the cache: %.1f ns\n",
           (now_s() - t0) * 1e9 / (double)pairs);
}

struct churn {
    size_t n, leak;
    size_t altstack_size;
    corio__stack *leaked[8];
};

static void *churn_thread(void *arg)
{
    struct churn *c = arg;
    corio__stack **sts = malloc(c->n * sizeof *sts);
    stack_t ss;
    size_t i;
    CHECK(sts != NULL);
    CHECK_EQ(corio__stack_thread_init(), 0);
    CHECK_EQ(corio__stack_thread_init(), 0); /* idempotent */
    CHECK_EQ(sigaltstack(NULL, &ss), 0);
    CHECK(!(ss.ss_flags & SS_DISABLE));
    c->altstack_size = ss.ss_size;
    for (i = 0; i < c->n; i++)
        sts[i] = get(64 * 1024);
    for (i = 0; i < c->n; i++)
        corio__stack_put(sts[i]);
    for (i = 0; i < c->leak; i++)
        c->leaked[i] = get(64 * 1024);
    free(sts);
    return NULL;
}

TEST(stack_last_put_is_next_get)
{
    /* A put is filed lazily (a few at a time, so the descriptor's cache
     * miss overlaps others): the counts must still be exact at once, and
     * the next get of the class must still be the stack put last (its
     * top page is the hottest), whatever the other classes did between. */
    corio__stack_stats s0 = stats(), s1;
    corio__stack *a = get(64 * 1024), *b = get(64 * 1024),
                 *x = get(16 * 1024), *got;
    s1 = stats();
    CHECK_EQ(s1.in_use, s0.in_use + 3);
    corio__stack_put(a);
    corio__stack_put(b);
    corio__stack_put(x);
    s1 = stats();
    CHECK_EQ(s1.in_use, s0.in_use);
    CHECK_EQ(s1.cached, s0.cached + 3);
    got = get(64 * 1024);
    CHECK(got == b);
    CHECK(get(64 * 1024) == a);
    CHECK(get(16 * 1024) == x);
    s1 = stats();
    CHECK_EQ(s1.in_use, s0.in_use + 3);
    CHECK_EQ(s1.cached, s0.cached);
    corio__stack_put(a);
    corio__stack_put(got);
    corio__stack_put(x);
    CHECK_EQ(stats().in_use, s0.in_use);
}

TEST(stack_thread_exit_returns_cache)
{
    corio__stack_stats s0 = stats(), s1;
    struct churn c = {.n = 500, .leak = 3};
    pthread_t th;
    size_t i;
    CHECK_EQ(pthread_create(&th, NULL, churn_thread, &c), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_INT(c.altstack_size, >=, 16 * 1024);
    s1 = stats();
    /* The thread's cache (and the signal stack corio gave it) came back;
     * the three it never put back show as in use. */
    CHECK_EQ(s1.in_use, s0.in_use + 3);
    CHECK_INT(s1.cached, >=, s0.cached + 500 - 3);
    /* The 497 it put back are reused: this thread makes none. */
    {
        corio__stack *sts[497];
        size_t made = carved(&s1);
        for (i = 0; i < 497; i++)
            sts[i] = get(64 * 1024);
        s1 = stats();
        CHECK_EQ(carved(&s1), made);
        for (i = 0; i < 497; i++)
            corio__stack_put(sts[i]);
    }
    for (i = 0; i < c.leak; i++) /* put back by another thread */
        corio__stack_put(c.leaked[i]);
    CHECK_EQ(stats().in_use, s0.in_use);
}

/* Threads swap stacks through a shared slot array, so most stacks are put
 * by a thread other than the one that got them. */
enum { XS_SLOTS = 64, XS_THREADS = 4 };
static corio__stack *xs_slot[XS_SLOTS];
static pthread_mutex_t xs_mu = PTHREAD_MUTEX_INITIALIZER;

static void *swap_thread(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    int i, ops = corio_test_under_valgrind() ? 2000 : 50000;
    CHECK_EQ(corio__stack_thread_init(), 0);
    for (i = 0; i < ops; i++) {
        corio__stack *mine, *old;
        size_t k;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        k = seed % XS_SLOTS;
        mine = get(seed & 1 ? 0 : 16 * 1024);
        ((volatile char *)mine->lo)[mine->size - 1] = (char)i;
        pthread_mutex_lock(&xs_mu);
        old = xs_slot[k];
        xs_slot[k] = mine;
        pthread_mutex_unlock(&xs_mu);
        corio__stack_put(old);
    }
    return NULL;
}

TEST(stack_threads_swap_stacks)
{
    pthread_t th[XS_THREADS];
    size_t base = stats().in_use;
    intptr_t i;
    for (i = 0; i < XS_THREADS; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, swap_thread, (void *)i), 0);
    for (i = 0; i < XS_THREADS; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    for (i = 0; i < XS_SLOTS; i++)
        CHECK(xs_slot[i] != NULL);
    CHECK_EQ(stats().in_use, base + XS_SLOTS);
    for (i = 0; i < XS_SLOTS; i++) {
        corio__stack_put(xs_slot[i]);
        xs_slot[i] = NULL;
    }
    CHECK_EQ(stats().in_use, base);
}

static void *altstack_thread(void *arg)
{
    static char buf[256 * 1024];
    void *own = buf;
    stack_t ss, cur;
    (void)arg;
    CHECK_EQ(sigaltstack(NULL, &cur), 0);
    if (cur.ss_flags & SS_DISABLE) {
        memset(&ss, 0, sizeof ss);
        ss.ss_sp = buf;
        ss.ss_size = sizeof buf;
        CHECK_EQ(sigaltstack(&ss, NULL), 0);
    } else {
        own = cur.ss_sp; /* ASan gives every thread one */
    }
    CHECK_EQ(corio__stack_thread_init(), 0);
    CHECK_EQ(sigaltstack(NULL, &cur), 0);
    CHECK_PTR(cur.ss_sp, own); /* corio keeps the thread's own */
    corio__stack_thread_fini();
    CHECK_EQ(sigaltstack(NULL, &cur), 0);
    CHECK_PTR(cur.ss_sp, own); /* and does not remove it */
    return NULL;
}

TEST(stack_thread_keeps_own_altstack)
{
    pthread_t th;
    size_t base = stats().in_use;
    CHECK_EQ(pthread_create(&th, NULL, altstack_thread, NULL), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(stats().in_use, base);
}

/* ---- overflow detection ------------------------------------------------- */

/* The report names the stack and the fault; ASan, if it kept SIGSEGV for
 * itself, prints its own. Returns 1 if corio's report was seen. */
static int check_overflow_death(int status, const char *err,
                                const char *name)
{
    char want[128];
    const char *line = strstr(err, "corio: ");
    if (!line)
        line = strstr(err, "ERROR: ");
    if (line) /* the log shows what this build reports */
        printf("      child: %.*s\n", (int)strcspn(line, "\n"), line);
    if (corio_test_under_asan() && strstr(err, "AddressSanitizer")) {
        CHECK(WIFSIGNALED(status) || WIFEXITED(status));
        CHECK(!WIFEXITED(status) || WEXITSTATUS(status) != 0);
        return 0;
    }
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        corio_test_fail(__FILE__, __LINE__, "status %#x, stderr:\n%s",
                        status, err);
    snprintf(want, sizeof want, "corio: stack overflow in coroutine '%s'",
             name);
    CHECK_STR_HAS(err, want);
    return 1;
}

/* The child prints "lo=%p" before faulting; the report's fault address must
 * lie in the guard below that lo. */
static void check_fault_in_guard(const char *err)
{
    const char *l = strstr(err, "lo="), *f = strstr(err, "fault at ");
    void *lo = NULL, *at = NULL;
    CHECK(l && f);
    CHECK_EQ(sscanf(l + 3, "%p", &lo), 1);
    CHECK_EQ(sscanf(f + 9, "%p", &at), 1);
    CHECK((char *)at < (char *)lo);
    CHECK((char *)at >= (char *)lo - corio__stack_guard_size());
}

struct poke {
    int mode;       /* guard mode to force */
    long offset;    /* written at lo + offset */
    const char *name;
};

#define SKIP_EXIT 77 /* the child could not get the mode it wanted */

static void poke_child(void *arg)
{
    struct poke *p = arg;
    corio__stack *st;
    corio__stack_debug_force_guard(p->mode);
    CHECK_EQ(corio__stack_thread_init(), 0);
    st = get(0);
    if (st->guard != p->mode)
        _exit(SKIP_EXIT);
    st->name = p->name;
    fprintf(stderr, "lo=%p hi=%p\n", st->lo, (char *)st->lo + st->size);
    fflush(stderr);
    ((volatile char *)st->lo)[p->offset] = 1;
    fprintf(stderr, "no fault\n");
}

static void poke_guard(int mode, const char *name)
{
    long offsets[2];
    int i;
    offsets[0] = -1;                                /* just below lo */
    offsets[1] = -(long)corio__stack_guard_size(); /* bottom of the guard */
    for (i = 0; i < 2; i++) {
        struct poke p = {mode, offsets[i], name};
        char *err = NULL, expect[128];
        int status = corio_test_fork(poke_child, &p, &err);
        if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT) {
            free(err);
            corio_test_skip("this guard mode is unavailable here");
        }
        if (check_overflow_death(status, err, name)) {
            const char *l = strstr(err, "lo=");
            void *lo = NULL, *hi = NULL;
            check_fault_in_guard(err);
            CHECK(l && sscanf(l, "lo=%p hi=%p", &lo, &hi) == 2);
            snprintf(expect, sizeof expect, "(stack %p-%p, fault at %p)\n",
                     lo, hi, (void *)((char *)lo + offsets[i]));
            CHECK_STR_HAS(err, expect);
        }
        free(err);
    }
}

TEST(stack_guard_pte_faults)
{
    poke_guard(CORIO__GUARD_PTE, "overflow-pte");
}

TEST(stack_guard_mprotect_faults)
{
    poke_guard(CORIO__GUARD_MPROTECT, "overflow-mprotect");
}

static void canary_report_child(void *arg)
{
    corio__stack *st;
    (void)arg;
    corio__stack_debug_force_guard(CORIO__GUARD_CANARY);
    st = get(0);
    ((volatile char *)st->lo)[-1] ^= 0x55;
    if (corio__stack_check(st) != 0)
        corio__stack_overflow_report(st, NULL); /* as coro.c does */
}

TEST(stack_guard_canary)
{
    corio__stack *st, *pte;
    char *err = NULL;
    int status;
    volatile char *below;
    corio__stack_debug_force_guard(CORIO__GUARD_CANARY);
    st = get(0);
    CHECK_EQ(st->guard, CORIO__GUARD_CANARY);
    CHECK_EQ(corio__stack_check(st), 0);
    memset(st->lo, 0x77, st->size); /* using all of the stack is fine */
    CHECK_EQ(corio__stack_check(st), 0);
    below = (volatile char *)st->lo - 1;
    *below ^= 1; /* a one-byte overflow */
    CHECK_EQ(corio__stack_check(st), -EFAULT);
    *below ^= 1;
    CHECK_EQ(corio__stack_check(st), 0);
    ((volatile char *)st->lo)[-(long)(4 * sizeof(void *))] ^= 1;
    CHECK_EQ(corio__stack_check(st), -EFAULT); /* lowest canary word */
    ((volatile char *)st->lo)[-(long)(4 * sizeof(void *))] ^= 1;
    corio__stack_put(st);
    CHECK_EQ(corio__stack_check(get(0)), 0); /* survives recycling */

    /* Guarded stacks always pass the check. */
    corio__stack_debug_force_guard(0);
    pte = get(4096);
    if (pte->guard != CORIO__GUARD_CANARY)
        CHECK_EQ(corio__stack_check(pte), 0);

    /* The report for a canary found broken: default name, no address. */
    status = corio_test_fork(canary_report_child, NULL, &err);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGABRT);
    CHECK_STR_HAS(err, "corio: stack overflow in coroutine 'coro' (stack 0x");
    CHECK_STR_HAS(err, "canary overwritten)");
    free(err);
}

/* ---- real recursion on a corio stack (ucontext drives it) --------------- */

static volatile int sink;
static ucontext_t rec_main, rec_co;

static int recurse(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    sink += pad[0];
    return n ? recurse(n - 1) + pad[0] : 0;
}

static void recurse_entry(void)
{
    sink = recurse(1 << 30);
}

static void *recursion_thread(void *arg)
{
    int mode = *(int *)arg;
    corio__stack *st;
    corio__stack_debug_force_guard(mode);
    CHECK_EQ(corio__stack_thread_init(), 0);
    st = get(64 * 1024);
    if (st->guard != mode)
        _exit(SKIP_EXIT);
    st->name = "deep-recursion";
    fprintf(stderr, "lo=%p\n", st->lo);
    fflush(stderr);
    CHECK_EQ(getcontext(&rec_co), 0);
    rec_co.uc_stack.ss_sp = st->lo;
    rec_co.uc_stack.ss_size = st->size;
    rec_co.uc_link = &rec_main;
    makecontext(&rec_co, recurse_entry, 0);
    swapcontext(&rec_main, &rec_co);
    fprintf(stderr, "returned\n");
    return NULL;
}

/* In a thread of its own, so the handler runs on the signal stack corio
 * gave that thread. */
static void recursion_child(void *arg)
{
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, recursion_thread, arg), 0);
    pthread_join(th, NULL);
}

TEST(stack_overflow_by_recursion_is_reported)
{
    int modes[2] = {CORIO__GUARD_PTE, CORIO__GUARD_MPROTECT}, i;
    if (corio_test_under_tsan()) {
        /* swapcontext without TSan's fiber calls corrupts its shadow
         * stack; coro.c's tests cover overflow with the annotations. */
        corio_test_skip("TSan");
    }
    for (i = 0; i < 2; i++) {
        char *err = NULL;
        int status = corio_test_fork(recursion_child, &modes[i], &err);
        if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT) {
            free(err);
            continue;
        }
        if (check_overflow_death(status, err, "deep-recursion"))
            check_fault_in_guard(err);
        free(err);
    }
}

/* ---- faults that are not ours ------------------------------------------- */

static void wild_child(void *arg)
{
    volatile char *p;
    (void)arg;
    CHECK_EQ(corio__stack_thread_init(), 0);
    corio__stack_put(get(0)); /* an arena exists */
    p = mmap(NULL, page(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    *p = 1;
    fprintf(stderr, "no fault\n");
}

TEST(stack_unrelated_fault_kills_with_sigsegv)
{
    char *err = NULL;
    int status = corio_test_fork(wild_child, NULL, &err);
    const char *line = strstr(err, "ERROR: ");
    if (line)
        printf("      child: %.*s\n", (int)strcspn(line, "\n"), line);
    else if (WIFSIGNALED(status))
        printf("      child: killed by signal %d\n", WTERMSIG(status));
    CHECK(!strstr(err, "stack overflow"));
    CHECK(!strstr(err, "no fault"));
    if (sanitized() && strstr(err, "Sanitizer")) {
        /* The runtime's handler (chained to) reports the SEGV itself. */
        CHECK_STR_HAS(err, "SEGV");
        CHECK(!WIFEXITED(status) || WEXITSTATUS(status) != 0);
    } else {
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
            corio_test_fail(__FILE__, __LINE__, "status %#x, stderr:\n%s",
                            status, err);
    }
    free(err);
}

static void prev_handler(int sig, siginfo_t *si, void *uc)
{
    static const char msg[] = "previous handler ran\n";
    (void)sig;
    (void)si;
    (void)uc;
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(41);
    _exit(42);
}

static void chain_child(void *arg)
{
    struct sigaction sa;
    volatile char *p;
    int overflow = *(int *)arg;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prev_handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK_EQ(sigaction(SIGSEGV, &sa, NULL), 0);
    CHECK_EQ(corio__stack_thread_init(), 0); /* corio's goes on top */
    if (overflow) {
        corio__stack *st = get(0);
        if (st->guard == CORIO__GUARD_CANARY)
            _exit(SKIP_EXIT);
        st->name = "chained";
        ((volatile char *)st->lo)[-64] = 1;
    }
    p = mmap(NULL, page(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    *p = 1;
    fprintf(stderr, "no fault\n");
}

TEST(stack_fault_chains_to_previous_handler)
{
    char *err = NULL;
    int overflow = 0;
    int status = corio_test_fork(chain_child, &overflow, &err);
    if (corio_test_under_asan() && strstr(err, "AddressSanitizer: SEGV")) {
        /* ASAN_OPTIONS=allow_user_segv_handler=0: nobody else's handler
         * is installed, ASan reports every fault. */
        free(err);
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
        corio_test_fail(__FILE__, __LINE__, "status %#x, stderr:\n%s", status,
                        err);
    CHECK_STR_HAS(err, "previous handler ran");
    CHECK(!strstr(err, "stack overflow"));
    free(err);
    /* A guard fault is still corio's, with that handler underneath. */
    overflow = 1;
    status = corio_test_fork(chain_child, &overflow, &err);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT))
        check_overflow_death(status, err, "chained");
    free(err);
}

/* ---- mapping budget ----------------------------------------------------- */

TEST(stack_vma_budget_falls_back_to_canary)
{
    enum { N = 200 };
    static corio__stack *sts[N];
    corio__stack_stats s0, s1;
    int v0, v1, i;
    size_t mp, can;
    corio__stack_thread_init();
    s0 = stats();
    v0 = corio_test_count_vmas();
    corio__stack_debug_vma_budget(s0.vmas + 20);
    corio__stack_debug_force_guard(CORIO__GUARD_MPROTECT);
    for (i = 0; i < N; i++) {
        sts[i] = get(8 * 1024); /* a class nobody used yet */
        ((volatile char *)sts[i]->lo)[sts[i]->size - 1] = 1;
        CHECK_EQ(corio__stack_check(sts[i]), 0);
    }
    s1 = stats();
    mp = s1.by_guard[CORIO__GUARD_MPROTECT] -
         s0.by_guard[CORIO__GUARD_MPROTECT];
    can = s1.by_guard[CORIO__GUARD_CANARY] - s0.by_guard[CORIO__GUARD_CANARY];
    CHECK_INT(mp, >=, 1);
    CHECK_INT(mp, <=, 10); /* 20 VMAs: an arena and 2 per guard */
    CHECK_EQ(mp + can, N);
    /* Arenas are not rationed (each is one VMA, and few). */
    CHECK_INT(s1.vmas, <=, s0.vmas + 20 + (s1.arenas - s0.arenas));
    CHECK_EQ(sts[0]->guard, CORIO__GUARD_MPROTECT);
    CHECK_EQ(sts[N - 1]->guard, CORIO__GUARD_CANARY);
    v1 = corio_test_count_vmas();
    /* Slack: stdio's buffers; the sanitizers map shadow as memory is
     * touched. */
    CHECK_INT(v1, <=, v0 + 20 + (int)(s1.arenas - s0.arenas) +
                          (sanitized() ? 64 : 4));
    for (i = 0; i < N; i++)
        corio__stack_put(sts[i]);
    /* Puts add no mapping of corio's (a thread's cache arrays are mapped
     * when it registers); TSan's runtime may map for itself meanwhile. */
    CHECK_INT(corio_test_count_vmas(), <=, v1 + (sanitized() ? 4 : 0));
}

static size_t max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    size_t v = 65530;
    if (f) {
        if (fscanf(f, "%zu", &v) != 1)
            v = 65530;
        fclose(f);
    }
    return v;
}

TEST(stack_mprotect_budget_leaves_room)
{
    /* As on a kernel without PTE guards: mprotect guards until corio's
     * default share (half the free mappings) is used, then canaries. */
    enum { N = 40000 };
    corio__stack **sts;
    corio__stack_stats s;
    size_t i, max = max_map_count();
    int v0, v1;
    if (corio_test_under_valgrind()) {
        corio_test_skip("Valgrind cannot track 32,000 segments");
    }
    sts = malloc(N * sizeof *sts);
    CHECK(sts != NULL);
    v0 = corio_test_count_vmas();
    corio__stack_debug_force_guard(CORIO__GUARD_MPROTECT);
    for (i = 0; i < N; i++)
        sts[i] = get(4096);
    v1 = corio_test_count_vmas();
    corio__stack_stats_get(&s);
    printf("      %zu mprotect, %zu canary; %d -> %d of %zu VMAs\n",
           s.by_guard[CORIO__GUARD_MPROTECT], s.by_guard[CORIO__GUARD_CANARY],
           v0, v1, max);
    CHECK_INT(s.vma_budget, <=, (max - (size_t)v0) / 2 + s.arenas);
    CHECK_INT(2 * s.by_guard[CORIO__GUARD_MPROTECT], <=, s.vma_budget);
    CHECK_INT(2 * s.by_guard[CORIO__GUARD_MPROTECT] + 2 * s.arenas + 8, >=,
              s.vma_budget);
    CHECK_EQ(s.by_guard[CORIO__GUARD_MPROTECT] +
                 s.by_guard[CORIO__GUARD_CANARY], N);
    CHECK_INT((size_t)v1, <=, (size_t)v0 + s.vma_budget + 16);
    CHECK_INT(max - (size_t)v1, >=, (max - (size_t)v0) / 2 - 16);
    for (i = 0; i < N; i++)
        corio__stack_put(sts[i]);
    free(sts);
}

TEST(stack_kernel_map_limit_is_survived)
{
    enum { N = 40000 };
    corio__stack **sts;
    corio__stack_stats s;
    size_t i, n = 0;
    int rc = 0;
    if (corio_test_under_valgrind() || sanitized()) {
        /* Valgrind cannot track 65,000 segments, and the sanitizers'
         * runtimes abort when their own mmap fails at the limit. */
        corio_test_skip("Valgrind and the sanitizers");
    }
    sts = malloc(N * sizeof *sts);
    CHECK(sts != NULL);
    /* No budget: mprotect guards until the kernel refuses, then canaries
     * (or -ENOMEM once a new arena cannot be mapped); never an abort. */
    corio__stack_debug_vma_budget(SIZE_MAX / 2);
    corio__stack_debug_force_guard(CORIO__GUARD_MPROTECT);
    for (i = 0; i < N; i++) {
        rc = corio__stack_get(4096, &sts[i]);
        if (rc)
            break;
        ((volatile char *)sts[i]->lo)[0] = 1;
        n++;
    }
    CHECK(rc == 0 || rc == -ENOMEM);
    corio__stack_stats_get(&s);
    CHECK_INT(s.by_guard[CORIO__GUARD_MPROTECT], >=, 30000);
    CHECK_INT(s.by_guard[CORIO__GUARD_MPROTECT], <=, 33000);
    CHECK_INT(s.by_guard[CORIO__GUARD_CANARY], >=, 1);
    printf("      %zu stacks: %zu mprotect, %zu canary, last rc %d\n", n,
           s.by_guard[CORIO__GUARD_MPROTECT], s.by_guard[CORIO__GUARD_CANARY],
           rc);
    for (i = 0; i < n; i++)
        CHECK_EQ(corio__stack_check(sts[i]), 0);
    for (i = 0; i < n; i++) /* puts make no mappings: they cannot fail */
        corio__stack_put(sts[i]);
    for (i = 0; i < n; i++)
        CHECK_EQ(corio__stack_get(4096, &sts[i]), 0); /* recycled */
    for (i = 0; i < n; i++)
        corio__stack_put(sts[i]);
    corio__stack_stats_get(&s);
    CHECK_EQ(s.in_use, 0);
    free(sts);
}

/* ---- scale -------------------------------------------------------------- */

TEST(stack_one_million_at_once)
{
    /* ASan, TSan and Valgrind shadow every touched page and run far
     * slower: they hold 100,000. */
    size_t n = sanitized() || corio_test_under_valgrind() ? 100000 : 1000000;
    corio__stack **sts = malloc(n * sizeof *sts);
    corio__stack_stats s0, s1;
    int v0, v1;
    size_t i, pte = 0;
    double t0 = now_s(), t1, t2;
    CHECK(sts != NULL);
    CHECK_EQ(corio__stack_thread_init(), 0);
    s0 = stats();
    v0 = corio_test_count_vmas();
    for (i = 0; i < n; i++) {
        sts[i] = get(0);
        if (i % 16 == 0) /* some resident: 256 MiB, not 4 GiB */
            ((volatile char *)sts[i]->lo)[sts[i]->size - 1] = 1;
        pte += sts[i]->guard == CORIO__GUARD_PTE;
    }
    t1 = now_s();
    v1 = corio_test_count_vmas();
    s1 = stats();
    CHECK_EQ(s1.in_use, s0.in_use + n);
    printf("      %zu stacks in %.2fs: %zu PTE-guarded, %zu arenas, "
           "%d -> %d VMAs\n",
           n, t1 - t0, pte, s1.arenas, v0, v1);
    if (sts[0]->guard == CORIO__GUARD_PTE) {
        CHECK_EQ(pte, n);            /* every one of them guarded, */
        CHECK_INT(v1 - v0, <, 2000); /* vm.max_map_count is 65,530 */
    } else {
        /* No PTE guards (old kernel, qemu-user): mprotect guards within
         * the budget, half the headroom, then canaries. */
        printf("      no PTE guards: %zu mprotect, %zu canary\n",
               s1.by_guard[CORIO__GUARD_MPROTECT],
               s1.by_guard[CORIO__GUARD_CANARY]);
        CHECK_INT(s1.vma_budget, >, 0);
        CHECK_INT(s1.vmas, <=, s1.vma_budget + s1.arenas);
        CHECK_INT(v1 - v0, <=, (int)(s1.vma_budget + s1.arenas) + 16);
    }
    for (i = 0; i < n; i++)
        corio__stack_put(sts[i]);
    t2 = now_s();
    s1 = stats();
    printf("      put back in %.2fs; %zu trimmed\n", t2 - t1, s1.trimmed);
    CHECK_EQ(s1.in_use, s0.in_use);
    CHECK_INT(s1.trimmed, >, 0); /* beyond the high-water mark */
    free(sts);
}

/* Trimmed stacks give their memory back and keep their guards. */
static void poke_trimmed_child(void *arg)
{
    corio__stack *st = arg;
    CHECK_EQ(corio__stack_thread_init(), 0);
    fprintf(stderr, "lo=%p\n", st->lo);
    fflush(stderr);
    ((volatile char *)st->lo)[-1] = 1;
}

TEST(stack_trim_beyond_high_water)
{
    /* 1 MiB stacks: a thread keeps 2,048, the pool 256 untrimmed. */
    enum { N = 3000, SZ = 1 << 20 };
    static corio__stack *sts[N];
    static unsigned char vec[SZ / 4096 + 1];
    corio__stack_stats s;
    size_t i, zeroed = 0, trimmed_pte = N;
    corio__stack_thread_init();
    for (i = 0; i < N; i++) {
        sts[i] = get(SZ);
        ((volatile char *)sts[i]->lo)[0] = 0x5a;
        ((volatile char *)sts[i]->lo)[SZ - 1] = 0x5a;
    }
    for (i = 0; i < N; i++)
        corio__stack_put(sts[i]);
    s = stats();
    CHECK_INT(s.trimmed, >, 0);
    /* White box: look into free stacks. */
    for (i = 0; i < N; i++) {
        volatile char *lo = sts[i]->lo;
        int resident = 0;
        size_t k;
        CHECK_EQ(mincore(sts[i]->lo, SZ, vec), 0);
        for (k = 0; k < SZ / page(); k++)
            resident |= vec[k] & 1;
        if (lo[0] == 0 && lo[SZ - 1] == 0) {
            CHECK(!resident);
            zeroed++;
            if (sts[i]->guard == CORIO__GUARD_PTE)
                trimmed_pte = i;
        } else {
            CHECK(lo[0] == 0x5a && lo[SZ - 1] == 0x5a);
        }
    }
    CHECK_EQ(zeroed, s.trimmed);
    if (trimmed_pte < N) {
        char *err = NULL;
        int status = corio_test_fork(poke_trimmed_child, sts[trimmed_pte],
                                     &err);
        if (check_overflow_death(status, err, "coro"))
            check_fault_in_guard(err);
        free(err);
    }
}

TEST(stack_trim_keeps_canaries)
{
    /* 512 KiB: a thread keeps 4,096, the pool 512 untrimmed. */
    enum { N = 5000, SZ = 512 * 1024 };
    static corio__stack *sts[N];
    size_t i;
    corio__stack_debug_force_guard(CORIO__GUARD_CANARY);
    for (i = 0; i < N; i++) {
        sts[i] = get(SZ);
        ((volatile char *)sts[i]->lo)[SZ - 1] = 1;
    }
    for (i = 0; i < N; i++)
        corio__stack_put(sts[i]);
    CHECK_INT(stats().trimmed, >, 0);
    for (i = 0; i < N; i++)
        sts[i] = get(SZ);
    for (i = 0; i < N; i++) {
        CHECK_EQ(sts[i]->guard, CORIO__GUARD_CANARY);
        CHECK_EQ(corio__stack_check(sts[i]), 0);
        corio__stack_put(sts[i]);
    }
}

/* ---- guards installed ahead, trims in batches -------------------------- */

/* Stacks carved after the first of an arena get their PTE guard from a
 * batch installed ahead (arena.c); each must still refuse access and
 * report an overflow. */
#define AHEAD_N 150

struct ahead {
    size_t index; /* which of AHEAD_N fresh stacks to poke */
};

static void ahead_child(void *arg)
{
    struct ahead *a = arg;
    static corio__stack *sts[AHEAD_N];
    size_t i;
    CHECK_EQ(corio__stack_thread_init(), 0);
    for (i = 0; i < AHEAD_N; i++) {
        sts[i] = get(48 * 1024); /* a class nothing else here uses */
        if (sts[i]->guard != CORIO__GUARD_PTE)
            _exit(SKIP_EXIT);
    }
    sts[a->index]->name = "ahead";
    fprintf(stderr, "lo=%p hi=%p\n", sts[a->index]->lo,
            (char *)sts[a->index]->lo + sts[a->index]->size);
    fflush(stderr);
    ((volatile char *)sts[a->index]->lo)[-1] = 1;
    fprintf(stderr, "no fault\n");
}

TEST(stack_guards_installed_ahead_fault)
{
    size_t idx[3] = {1, 77, AHEAD_N - 1};
    for (int k = 0; k < 3; k++) {
        struct ahead a = {idx[k]};
        char *err = NULL;
        int status = corio_test_fork(ahead_child, &a, &err);
        if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT) {
            free(err);
            corio_test_skip("PTE guards are unavailable here");
        }
        if (check_overflow_death(status, err, "ahead"))
            check_fault_in_guard(err);
        free(err);
    }
}

/* A weaker mode forced after guards were installed ahead: the slot's
 * guard is taken off again, so its canary can be written. */
TEST(stack_forced_mode_after_guards_ahead)
{
    corio__stack *a, *b, *c;
    corio__stack_debug_force_guard(0);
    a = get(24 * 1024); /* the probe, alone */
    b = get(24 * 1024); /* installs guards ahead, if it can */
    if (a->guard != CORIO__GUARD_PTE || b->guard != CORIO__GUARD_PTE) {
        corio__stack_put(a);
        corio__stack_put(b);
        corio_test_skip("PTE guards are unavailable here");
    }
    corio__stack_debug_force_guard(CORIO__GUARD_CANARY);
    c = get(24 * 1024); /* a slot whose guard may have been installed */
    corio__stack_debug_force_guard(0);
    CHECK_EQ(c->guard, CORIO__GUARD_CANARY);
    CHECK_EQ(corio__stack_check(c), 0);
    ((volatile char *)c->lo)[-1] ^= 0x55; /* writable: no fault */
    CHECK_EQ(corio__stack_check(c), -EFAULT);
    ((volatile char *)c->lo)[-1] ^= 0x55;
    CHECK_EQ(corio__stack_check(c), 0);
    corio__stack_put(c);
    corio__stack_put(b);
    corio__stack_put(a);
}

/* Stacks coming back in scattered order (tasks ending at random times)
 * are trimmed in batches of ranges that do not touch: every trimmed one
 * must be given back, and keep its guard. */
TEST(stack_trim_scattered_in_batches)
{
    /* 1 MiB stacks: a thread keeps 2,048, the pool 256 untrimmed. */
    enum { N = 3001, SZ = 1 << 20, STRIDE = 7 };
    static corio__stack *sts[N];
    static unsigned char vec[SZ / 4096 + 1];
    corio__stack_stats s;
    size_t i, zeroed = 0, trimmed_pte = N;
    corio__stack_thread_init();
    for (i = 0; i < N; i++) {
        sts[i] = get(SZ);
        ((volatile char *)sts[i]->lo)[0] = 0x5a;
        ((volatile char *)sts[i]->lo)[SZ - 1] = 0x5a;
    }
    for (i = 0; i < N; i++) /* N and STRIDE coprime: each once */
        corio__stack_put(sts[(i * STRIDE) % N]);
    s = stats();
    CHECK_INT(s.trimmed, >, 64);
    for (i = 0; i < N; i++) {
        volatile char *lo = sts[i]->lo;
        int resident = 0;
        size_t k;
        CHECK_EQ(mincore(sts[i]->lo, SZ, vec), 0);
        for (k = 0; k < SZ / page(); k++)
            resident |= vec[k] & 1;
        if (lo[0] == 0 && lo[SZ - 1] == 0) {
            CHECK(!resident);
            zeroed++;
            if (sts[i]->guard == CORIO__GUARD_PTE)
                trimmed_pte = i;
        } else {
            CHECK(lo[0] == 0x5a && lo[SZ - 1] == 0x5a);
        }
    }
    CHECK_EQ(zeroed, s.trimmed);
    if (trimmed_pte < N) {
        char *err = NULL;
        int status = corio_test_fork(poke_trimmed_child, sts[trimmed_pte],
                                     &err);
        if (check_overflow_death(status, err, "coro"))
            check_fault_in_guard(err);
        free(err);
    }
}

/* ---- out of memory ------------------------------------------------------ */

static void enomem_child(void *arg)
{
    struct rlimit old, lim;
    size_t vm_pages = 0, n = 0;
    corio__stack *sts[4096];
    FILE *f = fopen("/proc/self/statm", "r");
    int rc = 0;
    (void)arg;
    CHECK(f && fscanf(f, "%zu", &vm_pages) == 1);
    fclose(f);
    CHECK_EQ(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = vm_pages * page() + ((rlim_t)64 << 20);
    CHECK_EQ(setrlimit(RLIMIT_AS, &lim), 0);
    while (n < 4096 && (rc = corio__stack_get(1 << 20, &sts[n])) == 0)
        n++;
    if (rc == 0)
        _exit(SKIP_EXIT); /* RLIMIT_AS not enforced (Valgrind) */
    CHECK_EQ(rc, -ENOMEM);
    CHECK_INT(n, >=, 1);
    CHECK_INT(n, <, 64);
    CHECK_EQ(corio__stack_get(1 << 20, &sts[n]), -ENOMEM); /* again */
    CHECK_EQ(setrlimit(RLIMIT_AS, &old), 0);
    CHECK_EQ(corio__stack_get(1 << 20, &sts[n]), 0); /* recovers */
    n++;
    while (n)
        corio__stack_put(sts[--n]);
    {
        corio__stack_stats s;
        corio__stack_stats_get(&s);
        CHECK_EQ(s.in_use, 0);
    }
}

TEST(stack_enomem_is_returned)
{
    char *err = NULL;
    int status = corio_test_fork(enomem_child, NULL, &err);
    if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT) {
        free(err);
        corio_test_skip("RLIMIT_AS not enforced here");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        corio_test_fail(__FILE__, __LINE__, "status %#x, stderr:\n%s", status,
                        err);
    }
    free(err);
}
