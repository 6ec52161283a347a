/*
 * arena.c: where stacks come from: arenas, the guard below each stack,
 * canaries, the VMA budget, and finding which stack a guard belongs to.
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
 * address order, and the guard below a slot is set up when it is carved,
 * never per reuse: PTE guards are installed GUARD_BATCH slots ahead with
 * one process_madvise (about 1% of the system calls of a madvise per
 * stack; 1,000,000 stacks take ~8,000 calls), other modes cost one
 * madvise or mprotect per new stack. The top page of fresh slots is
 * faulted in ahead the same way (populate_batch), up to GUARD_BATCH slots
 * and never more than the class has carved so far. Arenas of a
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
 * Valgrind: every stack is registered (VALGRIND_STACK_REGISTER) when
 * carved and stays registered for the life of the process, since it is
 * never unmapped. Memcheck is told that guards and uncarved slots are
 * NOACCESS, so its leak checker skips them (probing guard pages made it
 * take minutes). Under Valgrind guards are 64 KiB and arenas 64 KiB
 * aligned so these marks swap memcheck's shadow maps whole.
 *
 * Invariants: all state here changes under corio__stack_lock. A slot's
 * descriptor is complete before the arena's ncarved counts it (release
 * store), and an arena is complete before it joins arena_list, so the
 * fault handler, which takes no lock, reads only finished descriptors.
 *
 * Limits: arenas and their descriptors are never freed.
 */
#include "stack_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef CORIO_HAVE_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
/* Only under Valgrind: each request costs microseconds there. */
#define VG_MARK(how, p, n)                                                 \
    do {                                                                   \
        if (corio__stack_geom.valgrind)                                    \
            (void)VALGRIND_MAKE_MEM_##how((p), (n));                       \
    } while (0)
#else
#define VG_MARK(how, p, n) ((void)0)
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; EINVAL on older kernels */
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define PIDFD_SELF_PROCESS (-10000) /* Linux 6.15: "this process" */
#define GUARD_BATCH 128 /* guards installed ahead per process_madvise */

#define GUARD_MIN ((size_t)16 * 1024)        /* guard region, at least */
#define ARENA_FIRST ((size_t)4 << 20)        /* first arena of a class */
#define ARENA_MAX ((size_t)1 << 30)          /* arenas grow up to this */
#define CANARY_WORDS 4                       /* just below lo */
#define CANARY_SEED ((uintptr_t)0x7e3cb1a9c0de5a17ull)
#define VG_GRANULE ((size_t)64 * 1024)       /* memcheck's secondary map */
/* Memcheck repaints a range inside one granule byte by byte (~20 us and a
 * shadow map for 64 KiB) but swaps whole granules when the range runs past
 * one; so a carved stack is marked with one word of the next guard. */
#define VG_PAD sizeof(void *)

struct corio__arena {
    char *base;                 /* the first slot (its guard) */
    size_t slot;                /* guard + stack bytes */
    size_t nslots;
    atomic_size_t ncarved;      /* slots in use; published for the handler */
    size_t guarded;             /* slots below this have a PTE guard
                                 * installed ahead (guard_batch) */
    size_t populated;           /* slots below this had their top page
                                 * faulted in ahead (populate_batch) */
    corio__stack *descs;        /* nslots descriptors, in the header */
    struct corio__arena *next;  /* older arena; fixed once published */
    unsigned cls;
};

corio__stack_geometry corio__stack_geom;

/* Carving state, under corio__stack_lock. */
static struct {
    struct {
        struct corio__arena *cur;  /* being carved */
        size_t next_arena;         /* bytes for this class's next arena */
        size_t carved;             /* stacks carved in this class */
    } cls[CORIO__STACK_NCLASS_MAX];
    size_t arenas, vmas, budget, by_guard[4];
    int budget_set, pte_dead, pte_checked, mprotect_dead, batch_dead;
    int populate_dead;
} carver;

static _Atomic(struct corio__arena *) arena_list; /* newest first */
static atomic_int force_guard;

void corio__stack_geom_init(void)
{
    corio__stack_geometry *g = &corio__stack_geom;
    long p = sysconf(_SC_PAGESIZE);
    unsigned c;
    if (p <= 0)
        p = 4096;
    g->page = (size_t)p;
    while (((size_t)1 << g->page_shift) < g->page)
        g->page_shift++;
#ifdef CORIO_HAVE_VALGRIND
    g->valgrind = RUNNING_ON_VALGRIND != 0;
#endif
    /* Under Valgrind, stacks of 64 KiB and up start and end on memcheck's
     * 64 KiB shadow granule, so marking them swaps whole shadow maps
     * (see VG_PAD). */
    g->align = g->valgrind && g->page < VG_GRANULE ? VG_GRANULE : g->page;
    g->guard = GUARD_MIN < g->align ? g->align : GUARD_MIN;
    g->guard = (g->guard + g->page - 1) & ~(g->page - 1);
    for (c = 0; c < CORIO__STACK_NCLASS_MAX; c++)
        carver.cls[c].next_arena = ARENA_FIRST;
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

/* May corio create `more` VMAs? Called under corio__stack_lock. */
static int budget_allows(size_t more)
{
    if (!carver.budget_set) {
        size_t max = read_max_map_count(), used = count_vmas();
        carver.budget = carver.vmas + (max > used ? (max - used) / 2 : 0);
        carver.budget_set = 1;
    }
    return carver.vmas + more <= carver.budget;
}

/* Does the guard page at g really refuse access? Checked once: emulators
 * such as qemu-user accept MADV_GUARD_INSTALL and do nothing. The kernel
 * reading a path from a guard page fails with EFAULT. (Valgrind passes the
 * advice to the kernel, and would flag the probe as a bad read.) */
static int pte_guard_works(const char *g)
{
    int saved = errno, ok;
    if (corio__stack_geom.valgrind)
        return 1;
    ok = access(g, F_OK) != 0 && errno == EFAULT;
    errno = saved;
    return ok;
}

/* Protect the guard below a fresh slot; returns the mode it got. Never
 * fails: the weakest mode needs no system call. Called under
 * corio__stack_lock. */
static int guard_setup(corio__stack *st, int preguarded)
{
    int want = atomic_load_explicit(&force_guard, memory_order_relaxed);
    size_t guard = corio__stack_geom.guard;
    char *g = (char *)st->lo - guard;
    if (preguarded) {
        if (want <= CORIO__GUARD_PTE)
            return CORIO__GUARD_PTE; /* installed by guard_batch */
        /* A weaker mode was forced since: the canary must be writable. */
        if (madvise(g, guard, MADV_GUARD_REMOVE) != 0) {
            /* Keep the guard we have; it is stronger than asked. */
            return CORIO__GUARD_PTE;
        }
    }
    if (want <= CORIO__GUARD_PTE && !carver.pte_dead) {
        if (madvise(g, guard, MADV_GUARD_INSTALL) == 0) {
            if (carver.pte_checked || pte_guard_works(g)) {
                carver.pte_checked = 1;
                return CORIO__GUARD_PTE;
            }
            carver.pte_dead = 1; /* the advice was accepted and ignored */
        } else if (errno == EINVAL) {
            carver.pte_dead = 1; /* kernel without guard pages */
        }
    }
    if (want <= CORIO__GUARD_MPROTECT && !carver.mprotect_dead &&
        budget_allows(2)) {
        if (mprotect(g, guard, PROT_NONE) == 0) {
            carver.vmas += 2;
            return CORIO__GUARD_MPROTECT;
        }
        if (errno == ENOMEM)
            carver.mprotect_dead = 1; /* at vm.max_map_count */
    }
    canary_write(st);
    return CORIO__GUARD_CANARY;
}

/* Install the PTE guards of up to GUARD_BATCH slots from slot `from` of
 * arena a with one process_madvise, so carving them makes no system call.
 * Only once PTE guards are known to work (the first stack is set up alone,
 * with the probe), and never under Valgrind, which does not know the call.
 * A kernel without process_madvise on itself (before 6.15), or a partial
 * answer, turns batching off for good; the slots then get their guards one
 * by one (installing a guard twice is harmless). Called under
 * corio__stack_lock. */
static void guard_batch(struct corio__arena *a, size_t from)
{
#ifdef SYS_process_madvise
    struct iovec iov[GUARD_BATCH];
    size_t n = a->nslots - from, guard = corio__stack_geom.guard, k;
    long r;
    if (carver.batch_dead || carver.pte_dead || !carver.pte_checked ||
        corio__stack_geom.valgrind ||
        atomic_load_explicit(&force_guard, memory_order_relaxed) >
            CORIO__GUARD_PTE)
        return;
    if (n > GUARD_BATCH)
        n = GUARD_BATCH;
    if (n < 2)
        return;
    for (k = 0; k < n; k++) {
        iov[k].iov_base = a->base + (from + k) * a->slot;
        iov[k].iov_len = guard;
    }
    /* Six long arguments, as a syscall(2) wrapper may read them all. */
    r = syscall(SYS_process_madvise, (long)PIDFD_SELF_PROCESS, (long)iov,
                (long)n, (long)MADV_GUARD_INSTALL, 0L, 0L);
    if (r == (long)(n * guard))
        a->guarded = from + n;
    else
        carver.batch_dead = 1;
#else
    (void)a;
    (void)from;
#endif
}

/* Fault in the top page of the next slots of arena a from slot `from`
 * (the page corio__ctx_make writes first) with one process_madvise
 * (MADV_POPULATE_WRITE), so the first switch into each of those stacks
 * takes no page fault: one system call for many pages instead of one
 * fault each, about a quarter of a fault's CPU saved per page here (1.6
 * us a fault, 1.2 us a populated page, on this virtual machine). How many
 * slots: as many as the class has carved so far, at most GUARD_BATCH,
 * so a program with few tasks makes resident at most as many pages as
 * it already uses. Same conditions as guard_batch (process_madvise on
 * this process, not under Valgrind); a refusal turns it off for good,
 * and the pages then fault one by one as before. Called under
 * corio__stack_lock. */
static void populate_batch(struct corio__arena *a, size_t from)
{
#ifdef SYS_process_madvise
    struct iovec iov[GUARD_BATCH];
    const corio__stack_geometry *g = &corio__stack_geom;
    size_t n = a->nslots - from, want = carver.cls[a->cls].carved, k;
    long r;
    if (carver.populate_dead || carver.batch_dead || g->valgrind)
        return;
    if (want > GUARD_BATCH)
        want = GUARD_BATCH;
    if (n > want)
        n = want;
    if (n < 2)
        return;
    for (k = 0; k < n; k++) {
        /* The top page: the slot ends at the next slot's guard. */
        iov[k].iov_base = a->base + (from + k + 1) * a->slot - g->page;
        iov[k].iov_len = g->page;
    }
    r = syscall(SYS_process_madvise, (long)PIDFD_SELF_PROCESS, (long)iov,
                (long)n, (long)MADV_POPULATE_WRITE, 0L, 0L);
    if (r == (long)(n * g->page))
        a->populated = from + n;
    else
        carver.populate_dead = 1;
#else
    (void)a;
    (void)from;
#endif
}

/* ---- arenas ------------------------------------------------------------- */

static size_t round_page(size_t n)
{
    size_t page = corio__stack_geom.page;
    return (n + page - 1) & ~(page - 1);
}

/* Map a new arena for class c; NULL when the kernel refuses even one slot.
 * Called under corio__stack_lock. */
static struct corio__arena *arena_new(unsigned c)
{
    const corio__stack_geometry *g = &corio__stack_geom;
    size_t slot = g->guard + (g->page << c);
    size_t want = carver.cls[c].next_arena;
    size_t n = want / slot ? want / slot : 1;
    struct corio__arena *a;
    for (;;) {
        size_t body = n * slot + g->guard;
        size_t head = round_page(sizeof *a + n * sizeof(corio__stack));
        size_t slack = g->align - g->page; /* to align the base */
        char *m = mmap(NULL, slack + body + head, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                       -1, 0);
        if (m != MAP_FAILED) {
            size_t shift = (g->align - (uintptr_t)m % g->align) % g->align;
            VG_MARK(NOACCESS, m, shift + body); /* until carved */
            m += shift;
#ifdef MADV_NOHUGEPAGE
            /* A touched byte must cost a page, not 2 MiB. */
            (void)madvise(m, body + head, MADV_NOHUGEPAGE);
#endif
            /* The guard above the last stack protects the header. Only
             * when free of VMAs; a failure just leaves it open. */
            if (!carver.pte_dead && madvise(m + body - g->guard, g->guard,
                                            MADV_GUARD_INSTALL) != 0 &&
                errno == EINVAL)
                carver.pte_dead = 1;
            a = (struct corio__arena *)(m + body);
            a->base = m;
            a->slot = slot;
            a->nslots = n;
            atomic_init(&a->ncarved, 0);
            a->guarded = 0;
            a->populated = 0;
            a->descs = (corio__stack *)(a + 1);
            a->cls = c;
            a->next = atomic_load_explicit(&arena_list, memory_order_relaxed);
            atomic_store_explicit(&arena_list, a, memory_order_release);
            carver.arenas++;
            carver.vmas++;
            carver.cls[c].next_arena =
                n * slot < ARENA_MAX / 2 ? n * slot * 2 : ARENA_MAX;
            return a;
        }
        if (n == 1)
            return NULL;
        n /= 2; /* RLIMIT_AS or a fragmented address space */
    }
}

int corio__stack_carve(unsigned c, corio__stack **out)
{
    struct corio__arena *a = carver.cls[c].cur;
    corio__stack *st;
    size_t i;
    if (!a || atomic_load_explicit(&a->ncarved, memory_order_relaxed) ==
                  a->nslots) {
        a = arena_new(c);
        if (!a)
            return -ENOMEM;
        carver.cls[c].cur = a;
    }
    i = atomic_load_explicit(&a->ncarved, memory_order_relaxed);
    st = &a->descs[i];
    st->lo = a->base + i * a->slot + corio__stack_geom.guard;
    st->size = corio__stack_geom.page << c;
    st->arena = a;
    st->cls = (unsigned char)c;
    VG_MARK(DEFINED, st->lo, st->size + VG_PAD); /* as mmap left it */
    if (i >= a->guarded)
        guard_batch(a, i);
    if (i >= a->populated)
        populate_batch(a, i);
    st->guard = (unsigned char)guard_setup(st, i < a->guarded);
#ifdef CORIO_HAVE_VALGRIND
    st->valgrind_id = VALGRIND_STACK_REGISTER(st->lo, (char *)st->lo +
                                                          st->size);
#endif
    carver.by_guard[st->guard]++;
    carver.cls[c].carved++;
    /* The handler may now look at this slot. */
    atomic_store_explicit(&a->ncarved, i + 1, memory_order_release);
    *out = st;
    return 0;
}

/* ---- lookups, stats and test hooks -------------------------------------- */

const corio__stack *corio__stack_guard_owner(const void *addr)
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
        if (off - i * a->slot >= corio__stack_geom.guard)
            return NULL; /* in the stack itself: not an overflow */
        st = &a->descs[i];
        if (st->guard == CORIO__GUARD_PTE ||
            st->guard == CORIO__GUARD_MPROTECT)
            return st;
        return NULL;
    }
    return NULL;
}

void corio__stack_arena_stats(corio__stack_stats *out)
{
    out->arenas = carver.arenas;
    out->vmas = carver.vmas;
    out->vma_budget = carver.budget_set ? carver.budget : 0;
    memcpy(out->by_guard, carver.by_guard, sizeof out->by_guard);
}

void corio__stack_debug_force_guard(int mode)
{
    atomic_store(&force_guard, mode);
}

void corio__stack_debug_vma_budget(size_t vmas)
{
    pthread_mutex_lock(&corio__stack_lock);
    carver.budget = vmas;
    carver.budget_set = vmas != 0;
    pthread_mutex_unlock(&corio__stack_lock);
}
