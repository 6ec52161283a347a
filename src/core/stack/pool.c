/*
 * pool.c: getting and putting stacks: size classes, the per-thread caches,
 * the process-wide pool, trimming, thread set-up and exit, and the stats.
 *
 * Pool. Each thread keeps free stacks per class in an array of pointers,
 * mapped when the thread first uses the pool (no syscall, no lock, no
 * allocation on get/put after that). A thread cache holds up to 2 GiB of stacks per
 * class (32,768 of 64 KiB); beyond that the coldest half goes to the
 * process-wide pool (a mutex), read in array order with prefetches (a list
 * walk over a million cold descriptors cost 7% of the random-sleeps
 * benchmark, one cache miss after another). A put does not even read the
 * stack's descriptor (cold when its task slept long): it is staged, and
 * STAGE staged puts are filed by class together, their descriptors
 * prefetched; a get takes the stack put last straight from the stage when
 * it is of the class asked (the common put-then-spawn case), else files
 * the staged ones first, so it always returns the stack put last. The pool keeps up to 256 MiB per
 * class (4,096 of 64 KiB) as they are; stacks beyond that high-water mark
 * are trimmed (MADV_DONTNEED of the body: resident memory goes back to the
 * kernel, guards and canaries stay) before they join the pool's cold list;
 * the ranges go to the kernel TRIM_BATCH at a time with process_madvise
 * where the kernel allows it on this process (Linux 6.15+), which spares a
 * system call and a TLB flush per stack when stacks come back in no
 * particular order (tasks ending at random times).
 * Thread exit returns the thread's cache to the pool (pthread key
 * destructor). When the pool is empty, arena.c carves a new stack.
 *
 * Invariants: a stack is in at most one place (a thread cache's array, the
 * pool's warm list or its cold list) and only while its state is FREE;
 * only the owning thread touches its cache; the pool's lists and counters
 * change under corio__stack_lock. The set-up (pool_init, which also fixes
 * the geometry) runs once, before any stack is carved.
 *
 * Tools. Valgrind: free stacks are not repainted at put (each repaint
 * costs ~20 us, and freeing shadow maps over and over exhausts Valgrind's
 * segment table): the leak checker scans them (~0.15 s per 1,000 stacks
 * of 64 KiB at exit) and their stale words count as roots.
 * ASan: a put unpoisons the stack, which may hold stale redzones of a
 * coroutine that never returned.
 *
 * Limits: 1 GiB per stack; after fork, the caches of the parent's other
 * threads stay stranded.
 */
#include "stack_impl.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

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

/* Sanitizer frames are larger (redzones, no inlining). */
#if STACK_ASAN || STACK_TSAN
#define DEFAULT_SIZE ((size_t)256 * 1024)
#else
#define DEFAULT_SIZE CORIO__STACK_DEFAULT
#endif

#define NCLASS_MAX CORIO__STACK_NCLASS_MAX
#define TCACHE_BYTES ((size_t)2 << 30)       /* per thread and class */
#define WARM_BYTES ((size_t)256 << 20)       /* untrimmed, per class */
#define REFILL 32                            /* stacks moved per refill */
#define PREFETCH_AHEAD 8                     /* descriptors, in pool_take */
#define STAGE 16                             /* puts filed together */
#define TRIM_BATCH 64                        /* ranges per process_madvise */
#define PIDFD_SELF_PROCESS (-10000)          /* Linux 6.15: this process */

/* A thread's cache: per class, an array of free stacks, oldest first (the
 * last is the hottest), all in one mapping made at registration. An array rather
 * than a list through the descriptors: handing the oldest half to the pool
 * reads their descriptors in parallel (prefetched), where a list made
 * every step wait on the previous descriptor's cache miss. Only the owner
 * touches the arrays; other threads read the counters (stats), hence the
 * relaxed atomics. */
struct tcache {
    struct {
        corio__stack **v;   /* tcache_cap entries (tcache_map), or NULL */
        atomic_size_t n;
    } cls[NCLASS_MAX];
    /* Stacks put and not yet filed by class: put does not read the
     * descriptor (a cache miss when the stack's task slept long), and
     * stage_flush files STAGE of them with their misses overlapped. */
    corio__stack *stage[STAGE];
    atomic_size_t nstage;
    atomic_size_t gets, puts;
    struct tcache *prev, *next; /* in pool.live, under corio__stack_lock */
    corio__stack *altstack;     /* the signal stack corio installed */
    int registered;             /* linked and has the key destructor */
    int ready;                  /* corio__stack_thread_init done */
};

pthread_mutex_t corio__stack_lock = PTHREAD_MUTEX_INITIALIZER;

/* The process-wide pool, under corio__stack_lock (caps and nclasses are
 * fixed by pool_init). */
static struct {
    int init_err;               /* global init failed: every get fails */
    unsigned nclasses;
    struct {
        corio__stack *warm, *cold; /* free, untrimmed / trimmed */
        size_t nwarm, ncold;
        size_t tcache_cap, warm_cap;
        size_t tcache_off;      /* of its array in a thread's mapping */
    } cls[NCLASS_MAX];
    struct tcache *live;
    size_t tcache_bytes;        /* a thread cache's mapping (all classes) */
    size_t retired_gets, retired_puts; /* from exited threads */
} pool;

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_key_t tcache_key;
static _Thread_local struct tcache tc;

static inline void bump(atomic_size_t *c, size_t d)
{
    /* Only the owner writes: a plain add, atomic only so stats may read. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
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
    pthread_mutex_lock(&corio__stack_lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&corio__stack_lock);
}

static void atfork_child(void)
{
    pthread_mutex_unlock(&corio__stack_lock);
}

static void pool_init(void)
{
    size_t page;
    unsigned c;
    corio__stack_geom_init();
    page = corio__stack_geom.page;
    for (c = 0; c < NCLASS_MAX && (page << c) <= CORIO__STACK_MAX; c++) {
        size_t bytes = page << c, n;
        n = TCACHE_BYTES / bytes;
        pool.cls[c].tcache_cap = n < 2 ? 2 : n > 65536 ? 65536 : n;
        n = WARM_BYTES / bytes;
        pool.cls[c].warm_cap = n < 1 ? 1 : n > 4096 ? 4096 : n;
        pool.cls[c].tcache_off = pool.tcache_bytes / sizeof(corio__stack *);
        pool.tcache_bytes += pool.cls[c].tcache_cap * sizeof(corio__stack *);
    }
    pool.nclasses = c;
    if (pthread_key_create(&tcache_key, tcache_dtor) != 0)
        pool.init_err = 1;
    else if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child))
        pool.init_err = 1;
}

/* Map the arrays of a thread's cache, all classes in one mapping (~2.6
 * MB of address space with 4 KiB pages; only touched pages become
 * resident), made when the thread registers so that later gets and puts
 * never add a mapping. When the kernel refuses, the arrays stay NULL and
 * the thread's puts go to the pool directly. */
static void tcache_map(struct tcache *t)
{
    char *m = mmap(NULL, pool.tcache_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    unsigned c;
    if (m == MAP_FAILED)
        return;
    for (c = 0; c < pool.nclasses; c++)
        t->cls[c].v = (corio__stack **)m + pool.cls[c].tcache_off;
}

/* Link this thread's cache into the pool; 0 or -ENOMEM. */
static int tcache_register(struct tcache *t)
{
    if (pthread_once(&pool_once, pool_init) != 0 || pool.init_err)
        return -ENOMEM;
    if (pthread_setspecific(tcache_key, t) != 0)
        return -ENOMEM;
    tcache_map(t);
    pthread_mutex_lock(&corio__stack_lock);
    t->prev = NULL;
    t->next = pool.live;
    if (pool.live)
        pool.live->prev = t;
    pool.live = t;
    pthread_mutex_unlock(&corio__stack_lock);
    t->registered = 1;
    return 0;
}

/* Size class of a request, or -1 when it is too large. */
static int class_of(size_t size)
{
    const corio__stack_geometry *g = &corio__stack_geom;
    size_t pages;
    if (size == 0)
        size = DEFAULT_SIZE;
    if (size > CORIO__STACK_MAX)
        return -1;
    pages = (size + g->page - 1) >> g->page_shift;
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
    return c < 0 ? 0 : corio__stack_geom.page << c;
}

size_t corio__stack_guard_size(void)
{
    if (pthread_once(&pool_once, pool_init) != 0)
        return 0;
    return corio__stack_geom.guard;
}

/* ---- the pool ----------------------------------------------------------- */

/* Ranges to give back, handed to the kernel TRIM_BATCH at a time. */
struct trim {
    struct iovec iov[TRIM_BATCH];
    size_t n;
};

/* process_madvise on this process works (Linux 6.15+); cleared for good at
 * the first refusal. Relaxed: a stale 1 only costs one refused call. */
static atomic_int trim_batch_ok = 1;

/* Give the collected ranges back: one process_madvise for all of them
 * (one system call and one TLB flush instead of one each), else one
 * madvise per range (Valgrind, older kernels). Failures are harmless: the
 * memory just stays resident. */
static void trim_flush(struct trim *b)
{
    size_t i = 0;
    if (!b->n)
        return;
#ifdef SYS_process_madvise
    if (b->n > 1 && !corio__stack_geom.valgrind &&
        atomic_load_explicit(&trim_batch_ok, memory_order_relaxed)) {
        int saved = errno;
        /* Six long arguments: a syscall(2) wrapper may read them all. */
        long r = syscall(SYS_process_madvise, (long)PIDFD_SELF_PROCESS,
                         (long)b->iov, (long)b->n, (long)MADV_DONTNEED, 0L,
                         0L);
        size_t want = 0;
        for (size_t k = 0; k < b->n; k++)
            want += b->iov[k].iov_len;
        if (r == (long)want) {
            b->n = 0;
            return;
        }
        if (r < 0 && (errno == EINVAL || errno == ENOSYS || errno == EBADF ||
                      errno == EPERM || errno == ESRCH))
            atomic_store_explicit(&trim_batch_ok, 0, memory_order_relaxed);
        errno = saved;
        /* Partial or refused: the rest one by one (advising a range
         * twice is harmless). */
        for (size_t got = r > 0 ? (size_t)r : 0;
             i < b->n && got >= b->iov[i].iov_len; i++)
            got -= b->iov[i].iov_len;
    }
#endif
    for (; i < b->n; i++)
        (void)madvise(b->iov[i].iov_base, b->iov[i].iov_len, MADV_DONTNEED);
    b->n = 0;
}

/* Queue [lo, hi) to be given back. */
static void trim_range(struct trim *b, char *lo, char *hi)
{
    if (hi <= lo)
        return;
    if (b->n == TRIM_BATCH)
        trim_flush(b);
    b->iov[b->n].iov_base = lo;
    b->iov[b->n].iov_len = (size_t)(hi - lo);
    b->n++;
}

/* Take the `n` stacks v[0..n) of class c into the process pool: the first
 * into the warm list while it has room, the rest trimmed into the cold
 * list. Adjacent PTE-guarded stacks are trimmed with one madvise (PTE
 * guards survive MADV_DONTNEED; canaries and mprotect guards are never
 * inside the range). The descriptors are read in array order with a
 * prefetch a few ahead, so their cache misses overlap. */
static void pool_take(unsigned c, corio__stack *const *v, size_t n)
{
    corio__stack *warm = NULL, *wtail = NULL, *cold = NULL, *ctail = NULL;
    size_t room, k, i;
    char *rlo = NULL, *rhi = NULL;
    struct corio__arena *rarena = NULL;
    struct trim batch;

    if (!n)
        return;
    pthread_mutex_lock(&corio__stack_lock);
    room = pool.cls[c].nwarm < pool.cls[c].warm_cap
               ? pool.cls[c].warm_cap - pool.cls[c].nwarm
               : 0;
    k = room < n ? room : n;
    pool.cls[c].nwarm += k; /* reserved: linked below */
    pthread_mutex_unlock(&corio__stack_lock);

    /* The newest (hottest) go to the warm list. */
    for (i = n; i-- > n - k;) {
        corio__stack *st = v[i];
        if (i >= PREFETCH_AHEAD)
            __builtin_prefetch(v[i - PREFETCH_AHEAD], 1);
        st->next = warm;
        warm = st;
        if (!wtail)
            wtail = st;
    }

    /* Trim the others outside the lock. */
    batch.n = 0;
    for (i = 0; i < n - k; i++) {
        corio__stack *st = v[i];
        char *lo, *hi;
        if (i + PREFETCH_AHEAD < n - k)
            __builtin_prefetch(v[i + PREFETCH_AHEAD], 1);
        st->next = cold;
        cold = st;
        if (!ctail)
            ctail = st;
        if (st->trimmed)
            continue;
        st->trimmed = 1;
        lo = st->lo;
        hi = lo + st->size;
        if (st->guard != CORIO__GUARD_PTE) {
            trim_range(&batch, lo, hi);
            continue;
        }
        if (st->arena == rarena && hi + corio__stack_geom.guard == rlo) {
            rlo = lo; /* the slot just below the range */
            continue;
        }
        if (st->arena == rarena && lo - corio__stack_geom.guard == rhi) {
            rhi = hi; /* the slot just above the range */
            continue;
        }
        trim_range(&batch, rlo, rhi);
        rarena = st->arena;
        rlo = lo;
        rhi = hi;
    }
    trim_range(&batch, rlo, rhi);
    trim_flush(&batch);

    pthread_mutex_lock(&corio__stack_lock);
    if (warm) {
        wtail->next = pool.cls[c].warm;
        pool.cls[c].warm = warm;
    }
    if (cold) {
        ctail->next = pool.cls[c].cold;
        pool.cls[c].cold = cold;
        pool.cls[c].ncold += n - k;
    }
    pthread_mutex_unlock(&corio__stack_lock);
}

/* This thread's array for class c, or NULL (see tcache_map). */
static inline corio__stack **tcache_array(struct tcache *t, unsigned c)
{
    return t->cls[c].v;
}

/* Get a stack of class c when the thread cache has none: a batch from the
 * pool (the rest go to the cache, the hottest last), or a new one.
 * Carving makes its system calls under the lock; only growth pays for
 * that. */
static int get_slow(struct tcache *t, unsigned c, corio__stack **out)
{
    corio__stack *got[REFILL], **v = tcache_array(t, c);
    size_t moved = 0, want = v ? REFILL : 1;
    int rc = 0;
    pthread_mutex_lock(&corio__stack_lock);
    while (moved < want && (pool.cls[c].warm || pool.cls[c].cold)) {
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
        got[moved++] = st;
    }
    if (!moved && (rc = corio__stack_carve(c, &got[0])) == 0)
        moved = 1;
    pthread_mutex_unlock(&corio__stack_lock);
    if (rc)
        return rc;
    /* The cache is empty here: got[1] (the hottest of the rest) last. */
    for (size_t i = 1; i < moved; i++)
        v[moved - 1 - i] = got[i];
    atomic_store_explicit(&t->cls[c].n, moved - 1, memory_order_relaxed);
    *out = got[0];
    return 0;
}

/* File one put stack into this thread's cache (or the pool when the
 * cache cannot be mapped). */
static void tcache_file(struct tcache *t, corio__stack *st)
{
    unsigned c = st->cls;
    corio__stack **v = tcache_array(t, c);
    size_t n, cap;
    st->state = CORIO__STACK_FREE;
    st->name = NULL;
#if STACK_ASAN
    __asan_unpoison_memory_region(st->lo, st->size);
#endif
    if (!v) {
        pool_take(c, &st, 1);
        return;
    }
    n = atomic_load_explicit(&t->cls[c].n, memory_order_relaxed);
    cap = pool.cls[c].tcache_cap;
    if (n == cap) {
        /* Full: the oldest half goes to the pool, the hottest stay. */
        size_t out = n - cap / 2;
        pool_take(c, v, out);
        memmove(v, v + out, (n - out) * sizeof *v);
        n -= out;
    }
    v[n] = st;
    atomic_store_explicit(&t->cls[c].n, n + 1, memory_order_relaxed);
}

/* File the staged puts, oldest first, their descriptors prefetched. */
static void stage_flush(struct tcache *t)
{
    size_t n = atomic_load_explicit(&t->nstage, memory_order_relaxed), i;
    for (i = 0; i < n; i++)
        __builtin_prefetch(t->stage[i], 1);
    for (i = 0; i < n; i++)
        tcache_file(t, t->stage[i]);
    atomic_store_explicit(&t->nstage, 0, memory_order_relaxed);
}

int corio__stack_get(size_t size, corio__stack **out)
{
    struct tcache *t = &tc;
    corio__stack *st;
    size_t n;
    int c, rc;
    if (!t->registered && (rc = tcache_register(t)) != 0)
        return rc;
    c = class_of(size);
    if (c < 0)
        return -EINVAL;
    n = atomic_load_explicit(&t->nstage, memory_order_relaxed);
    if (n) {
        /* The stack put last is the hottest of all: if it is of this
         * class, it is the answer, and nothing needs filing. */
        st = t->stage[n - 1];
        if (st->cls == c) {
            atomic_store_explicit(&t->nstage, n - 1, memory_order_relaxed);
#if STACK_ASAN
            __asan_unpoison_memory_region(st->lo, st->size);
#endif
            goto got;
        }
        stage_flush(t);
    }
    n = atomic_load_explicit(&t->cls[c].n, memory_order_relaxed);
    if (n) {
        st = t->cls[c].v[n - 1];
        atomic_store_explicit(&t->cls[c].n, n - 1, memory_order_relaxed);
    } else if ((rc = get_slow(t, (unsigned)c, &st)) != 0) {
        return rc;
    }
got:
    assert(st->state == CORIO__STACK_FREE && st->cls == c);
    st->state = CORIO__STACK_USED;
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
    size_t n;
    if (!st)
        return;
#ifndef NDEBUG
    /* A debug build catches a double put here; a release build does not
     * touch the descriptor until stage_flush. */
    assert(st->state == CORIO__STACK_USED);
    st->state = CORIO__STACK_FREE;
#endif
    if (!t->registered && tcache_register(t) != 0) {
        /* No cache for this thread: straight to the pool. */
#if STACK_ASAN
        __asan_unpoison_memory_region(st->lo, st->size);
#endif
        st->state = CORIO__STACK_FREE;
        st->name = NULL;
        pool_take(st->cls, &st, 1);
        pthread_mutex_lock(&corio__stack_lock);
        pool.retired_puts++;
        pthread_mutex_unlock(&corio__stack_lock);
        return;
    }
    bump(&t->puts, 1);
    n = atomic_load_explicit(&t->nstage, memory_order_relaxed);
    t->stage[n] = st;
    atomic_store_explicit(&t->nstage, n + 1, memory_order_relaxed);
    if (n + 1 == STAGE)
        stage_flush(t);
}

/* ---- threads ------------------------------------------------------------ */

int corio__stack_thread_init(void)
{
    struct tcache *t = &tc;
    stack_t cur;
    int rc;
    if (t->ready)
        return 0;
    if (!t->registered && (rc = tcache_register(t)) != 0)
        return rc;
    corio__stack_handler_install();
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
    stage_flush(t);
    for (c = 0; c < pool.nclasses; c++) {
        size_t n = atomic_load_explicit(&t->cls[c].n, memory_order_relaxed);
        if (n)
            pool_take(c, t->cls[c].v, n);
        atomic_store_explicit(&t->cls[c].n, 0, memory_order_relaxed);
    }
    if (t->cls[0].v)
        (void)munmap(t->cls[0].v, pool.tcache_bytes);
    for (c = 0; c < pool.nclasses; c++)
        t->cls[c].v = NULL;
    pthread_mutex_lock(&corio__stack_lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        pool.live = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pool.retired_gets += atomic_load_explicit(&t->gets, memory_order_relaxed);
    pool.retired_puts += atomic_load_explicit(&t->puts, memory_order_relaxed);
    pthread_mutex_unlock(&corio__stack_lock);
    atomic_store_explicit(&t->gets, 0, memory_order_relaxed);
    atomic_store_explicit(&t->puts, 0, memory_order_relaxed);
    t->registered = 0;
    pthread_setspecific(tcache_key, NULL);
}

/* ---- stats -------------------------------------------------------------- */

void corio__stack_stats_get(corio__stack_stats *out)
{
    size_t gets, puts;
    struct tcache *t;
    unsigned c;
    memset(out, 0, sizeof *out);
    if (pthread_once(&pool_once, pool_init) != 0)
        return;
    pthread_mutex_lock(&corio__stack_lock);
    gets = pool.retired_gets;
    puts = pool.retired_puts;
    for (t = pool.live; t; t = t->next) {
        gets += atomic_load_explicit(&t->gets, memory_order_relaxed);
        puts += atomic_load_explicit(&t->puts, memory_order_relaxed);
        out->cached += atomic_load_explicit(&t->nstage, memory_order_relaxed);
        for (c = 0; c < pool.nclasses; c++)
            out->cached +=
                atomic_load_explicit(&t->cls[c].n, memory_order_relaxed);
    }
    for (c = 0; c < pool.nclasses; c++) {
        out->cached += pool.cls[c].nwarm + pool.cls[c].ncold;
        out->trimmed += pool.cls[c].ncold;
    }
    out->in_use = gets - puts;
    corio__stack_arena_stats(out);
    pthread_mutex_unlock(&corio__stack_lock);
}
