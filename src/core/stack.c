/*
 * stack.c: coroutine stacks: arenas, guards, the pool, the overflow handler.
 *
 * Layout. An arena is one anonymous mapping (MAP_NORESERVE: only touched
 * pages become resident) holding equal slots of one size class, then a
 * guard, then a header with the arena's bookkeeping and one descriptor per
 * slot, so a stack costs no malloc:
 *
 *   low                                                               high
 *   | guard | stack 0 | guard | stack 1 | ... | stack n-1 | guard | header |
 *
 * Each stack grows down towards its own guard. Slots are carved lazily, in
 * address order, and the guard below a slot is set up when it is carved
 * (one madvise or mprotect per new stack, never per reuse). Arenas of a
 * class start at 4 MiB and double up to 1 GiB, halving again if the kernel
 * refuses (RLIMIT_AS); they are never unmapped.
 *
 * Guards. PTE guards (MADV_GUARD_INSTALL) add no VMA, so 1,000,000 stacks of
 * 64 KiB take about 80 arenas. Without them, mprotect guards cost 2 VMAs per
 * stack and are rationed by a budget: by default corio may create VMAs up
 * to half of the headroom (vm.max_map_count minus the lines in
 * /proc/self/maps) measured when the first mprotect guard is needed, which
 * leaves the application the other half. Past the budget, or when the
 * kernel refuses mprotect, stacks get a canary instead.
 *
 * Pool. Each thread keeps free stacks per class in an intrusive list (no
 * syscall, no lock, no allocation on get/put). A thread cache holds up to
 * 2 GiB of stacks per class (32,768 of 64 KiB); beyond that the coldest half
 * goes to the process-wide pool (a mutex). The pool keeps up to 256 MiB per
 * class (4,096 of 64 KiB) as they are; stacks beyond that high-water mark
 * are trimmed (MADV_DONTNEED of the body: resident memory goes back to the
 * kernel, guards and canaries stay) before they join the pool's cold list.
 * Thread exit returns the thread's cache to the pool (pthread key
 * destructor).
 *
 * Overflow. A SIGSEGV/SIGBUS handler, installed once, runs on a per-thread
 * alternate signal stack, finds the arena and slot whose guard holds
 * si_addr (a walk of the arena list: no cost per switch), and reports by
 * name. Anything else is passed to the previous handler.
 *
 * Tools. Valgrind: every stack is registered (VALGRIND_STACK_REGISTER) when
 * carved and stays registered for the life of the process, since it is
 * never unmapped. Memcheck is told that guards and uncarved slots are
 * NOACCESS, so its leak checker skips them (probing guard pages made it
 * take minutes). Under Valgrind guards are 64 KiB and arenas 64 KiB
 * aligned so these marks swap memcheck's shadow maps whole. Free stacks
 * are not repainted at put (each repaint costs ~20 us, and freeing
 * shadow maps over and over exhausts Valgrind's segment table): the leak
 * checker scans them (~0.15 s per 1,000 stacks of 64 KiB at exit) and
 * their stale words count as roots.
 * ASan: a put unpoisons the stack, which may hold stale redzones of a
 * coroutine that never returned.
 *
 * Limits: 1 GiB per stack; arenas and their descriptors are never freed;
 * after fork, the caches of the parent's other threads stay stranded.
 */
#include "stack.h"

#include "corio/coro.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef CORIO_HAVE_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
/* Only under Valgrind: each request costs microseconds there. */
#define VG_MARK(how, p, n)                                                 \
    do {                                                                   \
        if (pool.valgrind)                                                 \
            (void)VALGRIND_MAKE_MEM_##how((p), (n));                       \
    } while (0)
#else
#define VG_MARK(how, p, n) ((void)0)
#endif

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define STACK_ASAN 1
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#else
#define STACK_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define STACK_TSAN 1
#else
#define STACK_TSAN 0
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; EINVAL on older kernels */
#endif

/* Sanitizer frames are larger (redzones, no inlining). */
#if STACK_ASAN || STACK_TSAN
#define DEFAULT_SIZE ((size_t)256 * 1024)
#else
#define DEFAULT_SIZE CORIO_STACK_DEFAULT
#endif

#define NCLASS_MAX 24                        /* covers 4 KiB pages .. 1 GiB */
#define GUARD_MIN ((size_t)16 * 1024)        /* guard region, at least */
#define ARENA_FIRST ((size_t)4 << 20)        /* first arena of a class */
#define ARENA_MAX ((size_t)1 << 30)          /* arenas grow up to this */
#define TCACHE_BYTES ((size_t)2 << 30)       /* per thread and class */
#define WARM_BYTES ((size_t)256 << 20)       /* untrimmed, per class */
#define REFILL 32                            /* stacks moved per refill */
#define CANARY_WORDS 4                       /* just below lo */
#define CANARY_SEED ((uintptr_t)0x7e3cb1a9c0de5a17ull)
#define VG_GRANULE ((size_t)64 * 1024)       /* memcheck's secondary map */
/* Memcheck repaints a range inside one granule byte by byte (~20 us and a
 * shadow map for 64 KiB) but swaps whole granules when the range runs past
 * one; so a carved stack is marked with one word of the next guard. */
#define VG_PAD sizeof(void *)

enum { ST_FREE = 0, ST_USED = 1 };

struct corio__arena {
    char *base;                 /* the first slot (its guard) */
    size_t slot;                /* guard + stack bytes */
    size_t nslots;
    atomic_size_t ncarved;      /* slots in use; published for the handler */
    corio__stack *descs;        /* nslots descriptors, in the header */
    struct corio__arena *next;  /* older arena; fixed once published */
    unsigned cls;
};

/* A thread's cache. Only the owner touches the lists; other threads read
 * the counters (stats), hence the relaxed atomics. */
struct tcache {
    struct {
        corio__stack *head;
        atomic_size_t n;
    } cls[NCLASS_MAX];
    atomic_size_t gets, puts;
    struct tcache *prev, *next; /* in pool.live, under pool.mu */
    corio__stack *altstack;     /* the signal stack corio installed */
    int registered;             /* linked and has the key destructor */
    int ready;                  /* corio__stack_thread_init done */
};

static struct {
    pthread_mutex_t mu;
    int init_err;               /* global init failed: every get fails */
    size_t page, guard, align; /* align: of arena bases */
    unsigned page_shift, nclasses;
    struct {
        corio__stack *warm, *cold; /* free, untrimmed / trimmed */
        size_t nwarm, ncold;
        size_t tcache_cap, warm_cap;
        struct corio__arena *cur;  /* being carved */
        size_t next_arena;         /* bytes for this class's next arena */
    } cls[NCLASS_MAX];
    struct tcache *live;
    size_t retired_gets, retired_puts; /* from exited threads */
    size_t arenas, vmas, budget, by_guard[4];
    int budget_set, pte_dead, pte_checked, mprotect_dead;
    int valgrind;               /* running under Valgrind */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic(struct corio__arena *) arena_list; /* newest first */
static atomic_int force_guard;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_key_t tcache_key;
static _Thread_local struct tcache tc;

static inline void bump(atomic_size_t *c, size_t d)
{
    /* Only the owner writes: a plain add, atomic only so stats may read. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

static inline void drop(atomic_size_t *c, size_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - d,
                          memory_order_relaxed);
}

/* ---- set-up ------------------------------------------------------------- */

static void tcache_dtor(void *arg)
{
    (void)arg;
    corio__stack_thread_fini();
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&pool.mu);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&pool.mu);
}

static void atfork_child(void)
{
    pthread_mutex_unlock(&pool.mu);
}

static void pool_init(void)
{
    long p = sysconf(_SC_PAGESIZE);
    unsigned c;
    if (p <= 0)
        p = 4096;
    pool.page = (size_t)p;
    while (((size_t)1 << pool.page_shift) < pool.page)
        pool.page_shift++;
#ifdef CORIO_HAVE_VALGRIND
    pool.valgrind = RUNNING_ON_VALGRIND != 0;
#endif
    /* Under Valgrind, stacks of 64 KiB and up start and end on memcheck's
     * 64 KiB shadow granule, so marking them swaps whole shadow maps
     * (see VG_PAD). */
    pool.align = pool.valgrind && pool.page < VG_GRANULE ? VG_GRANULE
                                                          : pool.page;
    pool.guard = GUARD_MIN < pool.align ? pool.align : GUARD_MIN;
    pool.guard = (pool.guard + pool.page - 1) & ~(pool.page - 1);
    for (c = 0; c < NCLASS_MAX && (pool.page << c) <= CORIO__STACK_MAX; c++) {
        size_t bytes = pool.page << c, n;
        n = TCACHE_BYTES / bytes;
        pool.cls[c].tcache_cap = n < 2 ? 2 : n > 65536 ? 65536 : n;
        n = WARM_BYTES / bytes;
        pool.cls[c].warm_cap = n < 1 ? 1 : n > 4096 ? 4096 : n;
        pool.cls[c].next_arena = ARENA_FIRST;
    }
    pool.nclasses = c;
    if (pthread_key_create(&tcache_key, tcache_dtor) != 0)
        pool.init_err = 1;
    else if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child))
        pool.init_err = 1;
}

/* Link this thread's cache into the pool; 0 or -ENOMEM. */
static int tcache_register(struct tcache *t)
{
    if (pthread_once(&pool_once, pool_init) != 0 || pool.init_err)
        return -ENOMEM;
    if (pthread_setspecific(tcache_key, t) != 0)
        return -ENOMEM;
    pthread_mutex_lock(&pool.mu);
    t->prev = NULL;
    t->next = pool.live;
    if (pool.live)
        pool.live->prev = t;
    pool.live = t;
    pthread_mutex_unlock(&pool.mu);
    t->registered = 1;
    return 0;
}

/* Size class of a request, or -1 when it is too large. */
static int class_of(size_t size)
{
    size_t pages;
    if (size == 0)
        size = DEFAULT_SIZE;
    if (size > CORIO__STACK_MAX)
        return -1;
    pages = (size + pool.page - 1) >> pool.page_shift;
    if (pages <= 1)
        return 0;
    return (int)(sizeof(unsigned long long) * 8) -
           __builtin_clzll((unsigned long long)(pages - 1));
}

size_t corio__stack_size_for(size_t size)
{
    int c;
    if (pthread_once(&pool_once, pool_init) != 0)
        return 0;
    c = class_of(size);
    return c < 0 ? 0 : pool.page << c;
}

size_t corio__stack_guard_size(void)
{
    if (pthread_once(&pool_once, pool_init) != 0)
        return 0;
    return pool.guard;
}

/* ---- guards ------------------------------------------------------------- */

static uintptr_t *canary_words(const corio__stack *st)
{
    return (uintptr_t *)st->lo - CANARY_WORDS;
}

static void canary_write(corio__stack *st)
{
    uintptr_t *w = canary_words(st);
    int i;
    VG_MARK(UNDEFINED, w, CANARY_WORDS * sizeof *w);
    for (i = 0; i < CANARY_WORDS; i++)
        w[i] = CANARY_SEED ^ (uintptr_t)&w[i];
}

int corio__stack_check(const corio__stack *st)
{
    const uintptr_t *w;
    uintptr_t bad = 0;
    int i;
    if (st->guard != CORIO__GUARD_CANARY)
        return 0;
    w = canary_words(st);
    for (i = 0; i < CANARY_WORDS; i++)
        bad |= w[i] ^ (CANARY_SEED ^ (uintptr_t)&w[i]);
    return bad ? -EFAULT : 0;
}

/* Count the process's VMAs without malloc: lines of /proc/self/maps. */
static size_t count_vmas(void)
{
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
        for (ssize_t i = 0; i < r; i++)
            n += buf[i] == '\n';
    close(fd);
    return n;
}

static size_t read_max_map_count(void)
{
    char buf[32];
    ssize_t r;
    size_t v = 0;
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 65530; /* the kernel's default */
    r = read(fd, buf, sizeof buf - 1);
    close(fd);
    for (ssize_t i = 0; i < r && buf[i] >= '0' && buf[i] <= '9'; i++)
        v = v * 10 + (size_t)(buf[i] - '0');
    return v ? v : 65530;
}

/* May corio create `more` VMAs? Called under pool.mu. */
static int budget_allows(size_t more)
{
    if (!pool.budget_set) {
        size_t max = read_max_map_count(), used = count_vmas();
        pool.budget = pool.vmas + (max > used ? (max - used) / 2 : 0);
        pool.budget_set = 1;
    }
    return pool.vmas + more <= pool.budget;
}

/* Does the guard page at g really refuse access? Checked once: emulators
 * such as qemu-user accept MADV_GUARD_INSTALL and do nothing. The kernel
 * reading a path from a guard page fails with EFAULT. (Valgrind passes the
 * advice to the kernel, and would flag the probe as a bad read.) */
static int pte_guard_works(const char *g)
{
    int saved = errno, ok;
    if (pool.valgrind)
        return 1;
    ok = access(g, F_OK) != 0 && errno == EFAULT;
    errno = saved;
    return ok;
}

/* Protect the guard below a fresh slot; returns the mode it got. Never
 * fails: the weakest mode needs no system call. Called under pool.mu. */
static int guard_setup(corio__stack *st)
{
    int want = atomic_load_explicit(&force_guard, memory_order_relaxed);
    char *g = (char *)st->lo - pool.guard;
    if (want <= CORIO__GUARD_PTE && !pool.pte_dead) {
        if (madvise(g, pool.guard, MADV_GUARD_INSTALL) == 0) {
            if (pool.pte_checked || pte_guard_works(g)) {
                pool.pte_checked = 1;
                return CORIO__GUARD_PTE;
            }
            pool.pte_dead = 1; /* the advice was accepted and ignored */
        } else if (errno == EINVAL) {
            pool.pte_dead = 1; /* kernel without guard pages */
        }
    }
    if (want <= CORIO__GUARD_MPROTECT && !pool.mprotect_dead &&
        budget_allows(2)) {
        if (mprotect(g, pool.guard, PROT_NONE) == 0) {
            pool.vmas += 2;
            return CORIO__GUARD_MPROTECT;
        }
        if (errno == ENOMEM)
            pool.mprotect_dead = 1; /* at vm.max_map_count */
    }
    canary_write(st);
    return CORIO__GUARD_CANARY;
}

/* ---- arenas ------------------------------------------------------------- */

static size_t round_page(size_t n)
{
    return (n + pool.page - 1) & ~(pool.page - 1);
}

/* Map a new arena for class c; NULL when the kernel refuses even one slot.
 * Called under pool.mu. */
static struct corio__arena *arena_new(unsigned c)
{
    size_t slot = pool.guard + (pool.page << c);
    size_t want = pool.cls[c].next_arena;
    size_t n = want / slot ? want / slot : 1;
    struct corio__arena *a;
    for (;;) {
        size_t body = n * slot + pool.guard;
        size_t head = round_page(sizeof *a + n * sizeof(corio__stack));
        size_t slack = pool.align - pool.page; /* to align the base */
        char *m = mmap(NULL, slack + body + head, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                       -1, 0);
        if (m != MAP_FAILED) {
            size_t shift = (pool.align - (uintptr_t)m % pool.align) %
                           pool.align;
            VG_MARK(NOACCESS, m, shift + body); /* until carved */
            m += shift;
#ifdef MADV_NOHUGEPAGE
            /* A touched byte must cost a page, not 2 MiB. */
            (void)madvise(m, body + head, MADV_NOHUGEPAGE);
#endif
            /* The guard above the last stack protects the header. Only
             * when free of VMAs; a failure just leaves it open. */
            if (!pool.pte_dead && madvise(m + body - pool.guard, pool.guard,
                                          MADV_GUARD_INSTALL) != 0 &&
                errno == EINVAL)
                pool.pte_dead = 1;
            a = (struct corio__arena *)(m + body);
            a->base = m;
            a->slot = slot;
            a->nslots = n;
            atomic_init(&a->ncarved, 0);
            a->descs = (corio__stack *)(a + 1);
            a->cls = c;
            a->next = atomic_load_explicit(&arena_list, memory_order_relaxed);
            atomic_store_explicit(&arena_list, a, memory_order_release);
            pool.arenas++;
            pool.vmas++;
            pool.cls[c].next_arena =
                n * slot < ARENA_MAX / 2 ? n * slot * 2 : ARENA_MAX;
            return a;
        }
        if (n == 1)
            return NULL;
        n /= 2; /* RLIMIT_AS or a fragmented address space */
    }
}

/* Carve a new stack of class c. Called under pool.mu. */
static int carve(unsigned c, corio__stack **out)
{
    struct corio__arena *a = pool.cls[c].cur;
    corio__stack *st;
    size_t i;
    if (!a || atomic_load_explicit(&a->ncarved, memory_order_relaxed) ==
                  a->nslots) {
        a = arena_new(c);
        if (!a)
            return -ENOMEM;
        pool.cls[c].cur = a;
    }
    i = atomic_load_explicit(&a->ncarved, memory_order_relaxed);
    st = &a->descs[i];
    st->lo = a->base + i * a->slot + pool.guard;
    st->size = pool.page << c;
    st->arena = a;
    st->cls = (unsigned char)c;
    VG_MARK(DEFINED, st->lo, st->size + VG_PAD); /* as mmap left it */
    st->guard = (unsigned char)guard_setup(st);
#ifdef CORIO_HAVE_VALGRIND
    st->valgrind_id = VALGRIND_STACK_REGISTER(st->lo, (char *)st->lo +
                                                          st->size);
#endif
    pool.by_guard[st->guard]++;
    /* The handler may now look at this slot. */
    atomic_store_explicit(&a->ncarved, i + 1, memory_order_release);
    *out = st;
    return 0;
}

/* ---- the pool ----------------------------------------------------------- */

/* Give a trimmed-memory range back; failures are harmless (the memory just
 * stays resident). */
static void trim_range(char *lo, char *hi)
{
    if (hi > lo)
        (void)madvise(lo, (size_t)(hi - lo), MADV_DONTNEED);
}

/* Take `n` stacks of class c, linked from `chain`, into the process pool:
 * the first into the warm list while it has room, the rest trimmed into
 * the cold list. Adjacent PTE-guarded stacks are trimmed with one madvise
 * (PTE guards survive MADV_DONTNEED; canaries and mprotect guards are
 * never inside the range). */
static void pool_take(unsigned c, corio__stack *chain, size_t n)
{
    corio__stack *tail, *st;
    size_t room, k;
    char *rlo = NULL, *rhi = NULL;
    struct corio__arena *rarena = NULL;

    pthread_mutex_lock(&pool.mu);
    room = pool.cls[c].nwarm < pool.cls[c].warm_cap
               ? pool.cls[c].warm_cap - pool.cls[c].nwarm
               : 0;
    k = room < n ? room : n;
    if (k) {
        corio__stack *rest;
        tail = chain;
        for (size_t i = 1; i < k; i++)
            tail = tail->next;
        rest = tail->next;
        tail->next = pool.cls[c].warm;
        pool.cls[c].warm = chain;
        pool.cls[c].nwarm += k;
        chain = rest;
        n -= k;
    }
    pthread_mutex_unlock(&pool.mu);
    if (!n)
        return;

    /* Trim outside the lock. */
    tail = NULL;
    for (st = chain; st; st = st->next) {
        char *lo = st->lo, *hi = lo + st->size;
        tail = st;
        if (st->trimmed)
            continue;
        st->trimmed = 1;
        if (st->guard != CORIO__GUARD_PTE) {
            trim_range(lo, hi);
            continue;
        }
        if (st->arena == rarena && hi + pool.guard == rlo) {
            rlo = lo; /* the slot just below the range */
            continue;
        }
        if (st->arena == rarena && lo - pool.guard == rhi) {
            rhi = hi; /* the slot just above the range */
            continue;
        }
        trim_range(rlo, rhi);
        rarena = st->arena;
        rlo = lo;
        rhi = hi;
    }
    trim_range(rlo, rhi);

    pthread_mutex_lock(&pool.mu);
    tail->next = pool.cls[c].cold;
    pool.cls[c].cold = chain;
    pool.cls[c].ncold += n;
    pthread_mutex_unlock(&pool.mu);
}

/* Get a stack of class c when the thread cache has none: a batch from the
 * pool (the rest go to the cache), or a new one. Carving makes its system
 * calls under the lock; only growth pays for that. */
static int get_slow(struct tcache *t, unsigned c, corio__stack **out)
{
    corio__stack *got = NULL;
    size_t moved = 0;
    int rc = 0;
    pthread_mutex_lock(&pool.mu);
    while (moved < REFILL && (pool.cls[c].warm || pool.cls[c].cold)) {
        corio__stack *st;
        if (pool.cls[c].warm) {
            st = pool.cls[c].warm;
            pool.cls[c].warm = st->next;
            pool.cls[c].nwarm--;
        } else {
            st = pool.cls[c].cold;
            pool.cls[c].cold = st->next;
            pool.cls[c].ncold--;
        }
        if (!got) {
            got = st;
        } else {
            st->next = t->cls[c].head;
            t->cls[c].head = st;
            bump(&t->cls[c].n, 1);
        }
        moved++;
    }
    if (!got)
        rc = carve(c, &got);
    pthread_mutex_unlock(&pool.mu);
    *out = got;
    return rc;
}

int corio__stack_get(size_t size, corio__stack **out)
{
    struct tcache *t = &tc;
    corio__stack *st;
    int c, rc;
    if (!t->registered && (rc = tcache_register(t)) != 0)
        return rc;
    c = class_of(size);
    if (c < 0)
        return -EINVAL;
    st = t->cls[c].head;
    if (st) {
        t->cls[c].head = st->next;
        drop(&t->cls[c].n, 1);
    } else if ((rc = get_slow(t, (unsigned)c, &st)) != 0) {
        return rc;
    }
    assert(st->state == ST_FREE && st->cls == c);
    st->state = ST_USED;
    st->next = NULL;
    st->trimmed = 0;
    st->name = NULL;
    bump(&t->gets, 1);
    *out = st;
    return 0;
}

void corio__stack_put(corio__stack *st)
{
    struct tcache *t = &tc;
    unsigned c;
    if (!st)
        return;
    assert(st->state == ST_USED);
    c = st->cls;
#if STACK_ASAN
    __asan_unpoison_memory_region(st->lo, st->size);
#endif
    st->state = ST_FREE;
    st->name = NULL;
    if (!t->registered && tcache_register(t) != 0) {
        /* No cache for this thread: straight to the pool. */
        st->next = NULL;
        pool_take(c, st, 1);
        pthread_mutex_lock(&pool.mu);
        pool.retired_puts++;
        pthread_mutex_unlock(&pool.mu);
        return;
    }
    st->next = t->cls[c].head;
    t->cls[c].head = st;
    bump(&t->cls[c].n, 1);
    bump(&t->puts, 1);
    if (atomic_load_explicit(&t->cls[c].n, memory_order_relaxed) >
        pool.cls[c].tcache_cap) {
        /* Keep the hottest half; the coldest go to the pool. */
        size_t keep = pool.cls[c].tcache_cap / 2, n;
        corio__stack *split = t->cls[c].head, *rest;
        for (size_t i = 1; i < keep; i++)
            split = split->next;
        rest = split->next;
        split->next = NULL;
        n = atomic_load_explicit(&t->cls[c].n, memory_order_relaxed) - keep;
        atomic_store_explicit(&t->cls[c].n, keep, memory_order_relaxed);
        pool_take(c, rest, n);
    }
}

/* ---- threads ------------------------------------------------------------ */

static void fault_handler(int sig, siginfo_t *si, void *uc);
static struct sigaction prev_segv, prev_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void handler_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
    sigaction(SIGBUS, &sa, &prev_bus);
}

int corio__stack_thread_init(void)
{
    struct tcache *t = &tc;
    stack_t cur;
    int rc;
    if (t->ready)
        return 0;
    if (!t->registered && (rc = tcache_register(t)) != 0)
        return rc;
    pthread_once(&handler_once, handler_install);
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        corio__stack *as;
        stack_t ss;
        if ((rc = corio__stack_get(0, &as)) != 0)
            return rc;
        as->name = "signal stack";
        memset(&ss, 0, sizeof ss);
        ss.ss_sp = as->lo;
        ss.ss_size = as->size;
        if (sigaltstack(&ss, NULL) != 0) {
            corio__stack_put(as);
            return -ENOMEM;
        }
        t->altstack = as;
    }
    t->ready = 1;
    return 0;
}

void corio__stack_thread_fini(void)
{
    struct tcache *t = &tc;
    unsigned c;
    if (t->altstack) {
        stack_t cur;
        int keep = 0; /* still live and we may be on it: cannot give back */
        if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == t->altstack->lo &&
            !(cur.ss_flags & SS_DISABLE)) {
            stack_t off;
            memset(&off, 0, sizeof off);
            off.ss_flags = SS_DISABLE;
            keep = (cur.ss_flags & SS_ONSTACK) || sigaltstack(&off, NULL);
        }
        if (!keep)
            corio__stack_put(t->altstack);
        t->altstack = NULL;
    }
    t->ready = 0;
    if (!t->registered)
        return;
    for (c = 0; c < pool.nclasses; c++) {
        size_t n = atomic_load_explicit(&t->cls[c].n, memory_order_relaxed);
        if (!n)
            continue;
        pool_take(c, t->cls[c].head, n);
        t->cls[c].head = NULL;
        atomic_store_explicit(&t->cls[c].n, 0, memory_order_relaxed);
    }
    pthread_mutex_lock(&pool.mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        pool.live = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pool.retired_gets += atomic_load_explicit(&t->gets, memory_order_relaxed);
    pool.retired_puts += atomic_load_explicit(&t->puts, memory_order_relaxed);
    pthread_mutex_unlock(&pool.mu);
    atomic_store_explicit(&t->gets, 0, memory_order_relaxed);
    atomic_store_explicit(&t->puts, 0, memory_order_relaxed);
    t->registered = 0;
    pthread_setspecific(tcache_key, NULL);
}

/* ---- faults ------------------------------------------------------------- */

/* The stack whose guard holds addr, or NULL. Async-signal-safe: reads only
 * what carve() published. */
static const corio__stack *guard_owner(const void *addr)
{
    uintptr_t p = (uintptr_t)addr;
    struct corio__arena *a =
        atomic_load_explicit(&arena_list, memory_order_acquire);
    for (; a; a = a->next) {
        uintptr_t base = (uintptr_t)a->base, off, i;
        const corio__stack *st;
        if (p < base || p - base >= a->nslots * a->slot)
            continue;
        off = p - base;
        i = off / a->slot;
        if (i >= atomic_load_explicit(&a->ncarved, memory_order_acquire))
            return NULL;
        if (off - i * a->slot >= pool.guard)
            return NULL; /* in the stack itself: not an overflow */
        st = &a->descs[i];
        if (st->guard == CORIO__GUARD_PTE ||
            st->guard == CORIO__GUARD_MPROTECT)
            return st;
        return NULL;
    }
    return NULL;
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
    const struct sigaction *prev = sig == SIGBUS ? &prev_bus : &prev_segv;
    void (*h)(int) = prev->sa_handler; /* shares storage with sa_sigaction */
    int saved_errno = errno;
    if (si && si->si_code > 0) { /* raised by a fault, not by kill() */
        const corio__stack *st = guard_owner(si->si_addr);
        if (st)
            corio__stack_overflow_report(st, si->si_addr);
    }
    /* Not ours: whoever was there before. Their sa_mask and flags are not
     * replayed; the handler just runs. */
    if (h != SIG_DFL && h != SIG_IGN) {
        if (prev->sa_flags & SA_SIGINFO)
            prev->sa_sigaction(sig, si, uc);
        else
            h(sig);
    } else {
        /* Default action (a fault cannot be ignored): the faulting
         * instruction runs again and kills the process; a signal sent by
         * kill() is raised again and delivered once we return. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        if (!si || si->si_code <= 0)
            raise(sig);
    }
    errno = saved_errno;
}

/* Append s, or the hex of v, to buf for the report. */
static size_t put_str(char *buf, size_t n, size_t cap, const char *s,
                      size_t max)
{
    for (size_t i = 0; s[i] && i < max && n < cap; i++)
        buf[n++] = s[i];
    return n;
}

static size_t put_hex(char *buf, size_t n, size_t cap, uintptr_t v)
{
    char tmp[2 + 2 * sizeof v];
    int k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    n = put_str(buf, n, cap, "0x", 2);
    while (k && n < cap)
        buf[n++] = tmp[--k];
    return n;
}

_Noreturn void corio__stack_overflow_report(const corio__stack *st,
                                            const void *addr)
{
    char buf[512];
    size_t n = 0, cap = sizeof buf - 1; /* room for the newline */
    struct sigaction dfl;
    sigset_t set;
    const char *name = st && st->name ? st->name : "coro";
    n = put_str(buf, n, cap, "corio: stack overflow in coroutine '", 64);
    n = put_str(buf, n, cap, name, 256);
    n = put_str(buf, n, cap, "' (stack ", 16);
    n = put_hex(buf, n, cap, st ? (uintptr_t)st->lo : 0);
    n = put_str(buf, n, cap, "-", 1);
    n = put_hex(buf, n, cap, st ? (uintptr_t)st->lo + st->size : 0);
    if (addr) {
        n = put_str(buf, n, cap, ", fault at ", 16);
        n = put_hex(buf, n, cap, (uintptr_t)addr);
    } else {
        n = put_str(buf, n, cap, ", canary overwritten", 32);
    }
    n = put_str(buf, n, cap, ")", 1);
    buf[n++] = '\n';
    for (size_t done = 0; done < n;) {
        ssize_t w = write(2, buf + done, n - done);
        if (w > 0)
            done += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGABRT, &dfl, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    abort();
}

/* ---- stats and test hooks ----------------------------------------------- */

void corio__stack_stats_get(corio__stack_stats *out)
{
    size_t gets, puts;
    struct tcache *t;
    unsigned c;
    memset(out, 0, sizeof *out);
    if (pthread_once(&pool_once, pool_init) != 0)
        return;
    pthread_mutex_lock(&pool.mu);
    gets = pool.retired_gets;
    puts = pool.retired_puts;
    for (t = pool.live; t; t = t->next) {
        gets += atomic_load_explicit(&t->gets, memory_order_relaxed);
        puts += atomic_load_explicit(&t->puts, memory_order_relaxed);
        for (c = 0; c < pool.nclasses; c++)
            out->cached +=
                atomic_load_explicit(&t->cls[c].n, memory_order_relaxed);
    }
    for (c = 0; c < pool.nclasses; c++) {
        out->cached += pool.cls[c].nwarm + pool.cls[c].ncold;
        out->trimmed += pool.cls[c].ncold;
    }
    out->in_use = gets - puts;
    out->arenas = pool.arenas;
    out->vmas = pool.vmas;
    out->vma_budget = pool.budget_set ? pool.budget : 0;
    memcpy(out->by_guard, pool.by_guard, sizeof out->by_guard);
    pthread_mutex_unlock(&pool.mu);
}

void corio__stack_debug_force_guard(int mode)
{
    atomic_store(&force_guard, mode);
}

void corio__stack_debug_vma_budget(size_t vmas)
{
    pthread_mutex_lock(&pool.mu);
    pool.budget = vmas;
    pool.budget_set = vmas != 0;
    pthread_mutex_unlock(&pool.mu);
}
