/*
 * test_heap.c: the timer heap (src/heap.c) against a plain reference.
 *
 * The heap's promises: order by key, FIFO among equal keys, removal of any
 * node by its recorded index, nothing wraps at the ends of int64_t, a push
 * that cannot grow the array leaves everything as it was. Each case checks
 * the array's bookkeeping (every queued node's index names its slot) as
 * well as what comes out.
 */
#include "loop/heap.h"
#include "test.h"

#include <errno.h>
#include <time.h>

/* A heap node inside an owner, as the loop will have it. `stamp` is the
 * test's own push counter, so FIFO is checked without trusting node->seq. */
struct owner {
    corio__heap_node node;
    uint64_t stamp;
    int queued; /* the reference's view */
};

#define OWNER(n) ((struct owner *)((char *)(n) - offsetof(struct owner, node)))

/* Slots and nodes agree: a[i].node->index == i, and the copies of key and
 * seq in the slot match the node. */
static void check_slots(const corio__heap *h)
{
    size_t i;
    CHECK(h->n <= h->cap);
    for (i = 0; i < h->n; i++) {
        CHECK_EQ(h->a[i].node->index, i);
        CHECK_EQ(h->a[i].key, h->a[i].node->key);
        CHECK(h->a[i].seq == h->a[i].node->seq);
    }
}

/* Nodes the reference says are out of the heap have no index, and the
 * queued ones are exactly the heap's. */
static void check_owners(const corio__heap *h, struct owner *o, size_t m)
{
    size_t i, queued = 0;
    for (i = 0; i < m; i++) {
        CHECK_EQ(corio__heap_node_queued(&o[i].node), o[i].queued);
        if (o[i].queued) {
            CHECK(o[i].node.index < h->n);
            CHECK_PTR(h->a[o[i].node.index].node, &o[i].node);
            queued++;
        }
    }
    CHECK_EQ(queued, h->n);
}

/* The reference's next node: smallest key, then smallest stamp. */
static struct owner *ref_min(struct owner *o, size_t m)
{
    struct owner *best = NULL;
    size_t i;
    for (i = 0; i < m; i++)
        if (o[i].queued &&
            (!best || o[i].node.key < best->node.key ||
             (o[i].node.key == best->node.key && o[i].stamp < best->stamp)))
            best = &o[i];
    return best;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* An empty heap: nothing on top, pop gives NULL, removing a node that was
 * never queued changes nothing, and fini works with no array. */
TEST(heap_empty)
{
    corio__heap h;
    corio__heap_node x;
    corio__heap_init(&h);
    corio__heap_node_init(&x);
    CHECK(!corio__heap_node_queued(&x));
    CHECK_PTR(corio__heap_top(&h), NULL);
    CHECK_PTR(corio__heap_pop(&h), NULL);
    corio__heap_remove(&h, &x);
    CHECK_EQ(h.n, 0);
    CHECK_PTR(h.a, NULL);
    CHECK_EQ(corio__heap_reserve(&h, 0), 0);
    CHECK_PTR(h.a, NULL);
    corio__heap_fini(&h);
    corio__heap_fini(&h); /* fini leaves a usable empty heap */
    x.key = 5;
    CHECK_EQ(corio__heap_push(&h, &x), 0);
    CHECK_PTR(corio__heap_top(&h), &x);
    CHECK_PTR(corio__heap_pop(&h), &x);
    CHECK(!corio__heap_node_queued(&x));
    corio__heap_fini(&h);
}

/* Random pushes, pops and removals of arbitrary nodes (queued or not),
 * with keys from a small range so ties are common, against a reference
 * that scans for the minimum. Bookkeeping is checked after every step. */
TEST(heap_random_vs_reference)
{
    enum { M = 300 };
    static struct owner o[M];
    corio__heap h;
    uint64_t stamp = 0;
    long step, steps = corio_test_under_valgrind() ? 20000 : 200000;
    size_t i;
    corio__heap_init(&h);
    for (i = 0; i < M; i++) {
        corio__heap_node_init(&o[i].node);
        o[i].queued = 0;
    }
    for (step = 0; step < steps; step++) {
        uint64_t r = corio_test_rand();
        struct owner *w = &o[(r >> 8) % M];
        switch (r % 8) {
        case 0:
        case 1:
        case 2: /* push, if not queued */
            if (w->queued)
                break;
            w->node.key = (int64_t)((r >> 32) % 40) - 20;
            w->stamp = stamp++;
            CHECK_EQ(corio__heap_push(&h, &w->node), 0);
            w->queued = 1;
            break;
        case 3:
        case 4: { /* pop: must be the reference's minimum */
            struct owner *want = ref_min(o, M);
            corio__heap_node *got = corio__heap_pop(&h);
            if (!want) {
                CHECK_PTR(got, NULL);
                break;
            }
            CHECK_PTR(got, &want->node);
            want->queued = 0;
            break;
        }
        case 5:
        case 6: /* remove any node; a no-op for one not queued */
            corio__heap_remove(&h, &w->node);
            w->queued = 0;
            break;
        case 7: { /* top agrees with the reference and changes nothing */
            struct owner *want = ref_min(o, M);
            CHECK_PTR(corio__heap_top(&h), want ? &want->node : NULL);
            break;
        }
        }
        check_slots(&h);
        check_owners(&h, o, M);
    }
    /* Drain: everything left comes out in reference order. */
    for (;;) {
        struct owner *want = ref_min(o, M);
        corio__heap_node *got = corio__heap_pop(&h);
        CHECK_PTR(got, want ? &want->node : NULL);
        if (!want)
            break;
        want->queued = 0;
    }
    check_owners(&h, o, M);
    corio__heap_fini(&h);
}

/* A million nodes with random keys (about one tie per key) pushed, then
 * popped in key order, FIFO among equal keys. The time per timer is
 * printed, not checked: speed is make bench's (bench_timers.c), and a
 * loaded machine makes any bound here a coin toss. */
TEST(heap_million_in_order)
{
    enum { N = 1000000 };
    struct owner *o = malloc(N * sizeof(*o));
    uint32_t *order = malloc(N * sizeof(*order));
    corio__heap h;
    corio__heap_node *got;
    int64_t last_key = INT64_MIN;
    uint64_t last_stamp = 0;
    size_t i, popped = 0;
    double t0, t1;
    CHECK(o && order);
    /* Push in a random order of memory, as timers of scattered tasks. */
    for (i = 0; i < N; i++)
        order[i] = (uint32_t)i;
    for (i = N - 1; i > 0; i--) {
        size_t j = corio_test_rand() % (i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (i = 0; i < N; i++) {
        corio__heap_node_init(&o[i].node);
        o[i].node.key = (int64_t)(corio_test_rand() % N);
    }
    corio__heap_init(&h);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        struct owner *w = &o[order[i]];
        w->stamp = i;
        if (corio__heap_push(&h, &w->node) != 0)
            CHECK(!"push failed");
    }
    while ((got = corio__heap_pop(&h)) != NULL) {
        struct owner *w = OWNER(got);
        if (got->key < last_key ||
            (got->key == last_key && w->stamp < last_stamp))
            CHECK(!"out of order");
        last_key = got->key;
        last_stamp = w->stamp;
        popped++;
    }
    t1 = now_ns();
    CHECK_EQ(popped, N);
    for (i = 0; i < N; i++)
        CHECK(!corio__heap_node_queued(&o[i].node));
    printf("heap: %.0f ns per timer (push + pop, %d timers)\n",
           (t1 - t0) / N, (int)N);
    corio__heap_fini(&h);
    free(o);
    free(order);
}

/* The ends of int64_t order correctly (no subtraction that could wrap),
 * and equal extreme keys stay FIFO. */
TEST(heap_extreme_keys)
{
    static const int64_t keys[] = {INT64_MAX, 0,          INT64_MIN,
                                   -1,        INT64_MAX,  1,
                                   INT64_MIN, INT64_MAX - 1,
                                   INT64_MIN + 1};
    enum { K = sizeof(keys) / sizeof(keys[0]) };
    struct owner o[K];
    corio__heap h;
    size_t i, k;
    int round;
    for (round = 0; round < 50; round++) {
        /* Push in a random order; stamps record that order. */
        int used[K] = {0};
        corio__heap_init(&h);
        for (i = 0; i < K; i++) {
            do
                k = corio_test_rand() % K;
            while (used[k]);
            used[k] = 1;
            corio__heap_node_init(&o[k].node);
            o[k].node.key = keys[k];
            o[k].stamp = i;
            CHECK_EQ(corio__heap_push(&h, &o[k].node), 0);
        }
        check_slots(&h);
        {
            corio__heap_node *prev = corio__heap_pop(&h), *got;
            CHECK_EQ(prev->key, INT64_MIN);
            while ((got = corio__heap_pop(&h)) != NULL) {
                CHECK(prev->key <= got->key);
                if (prev->key == got->key)
                    CHECK(OWNER(prev)->stamp < OWNER(got)->stamp);
                prev = got;
            }
            CHECK_EQ(prev->key, INT64_MAX);
        }
        corio__heap_fini(&h);
    }
}

/* All keys equal: pop order is push order, also with removals mixed in
 * and with later pushes landing behind the earlier ones. */
TEST(heap_fifo_ties)
{
    enum { N = 10000 };
    static struct owner o[N];
    corio__heap h;
    corio__heap_node *got;
    size_t i;
    uint64_t last = 0;
    int first = 1;
    corio__heap_init(&h);
    for (i = 0; i < N / 2; i++) {
        corio__heap_node_init(&o[i].node);
        o[i].node.key = 42;
        o[i].stamp = i;
        CHECK_EQ(corio__heap_push(&h, &o[i].node), 0);
    }
    for (i = 0; i < N / 2; i += 3)
        corio__heap_remove(&h, &o[i].node);
    for (i = 0; i < 100; i++) /* pop some, then push more */
        CHECK(corio__heap_pop(&h) != NULL);
    for (i = N / 2; i < N; i++) {
        corio__heap_node_init(&o[i].node);
        o[i].node.key = 42;
        o[i].stamp = i;
        CHECK_EQ(corio__heap_push(&h, &o[i].node), 0);
    }
    check_slots(&h);
    while ((got = corio__heap_pop(&h)) != NULL) {
        CHECK(first || OWNER(got)->stamp > last);
        CHECK(OWNER(got)->stamp % 3 != 0 || OWNER(got)->stamp >= N / 2);
        last = OWNER(got)->stamp;
        first = 0;
    }
    CHECK_EQ(last, N - 1);
    corio__heap_fini(&h);
}

/* Removing the top, the last slot, and nodes in between keeps the order;
 * a removed node can be pushed again and goes behind its equals. */
TEST(heap_remove_positions)
{
    enum { N = 64 };
    struct owner o[N];
    corio__heap h;
    corio__heap_node *got;
    size_t i;
    corio__heap_init(&h);
    for (i = 0; i < N; i++) {
        corio__heap_node_init(&o[i].node);
        o[i].node.key = (int64_t)(i / 2); /* pairs of equal keys */
        CHECK_EQ(corio__heap_push(&h, &o[i].node), 0);
    }
    {
        corio__heap_node *last = h.a[h.n - 1].node; /* the last slot */
        CHECK(last != &o[0].node && last != &o[1].node);
        corio__heap_remove(&h, last);
        CHECK(!corio__heap_node_queued(last));
    }
    check_slots(&h);
    corio__heap_remove(&h, corio__heap_top(&h)); /* o[0] */
    CHECK(!corio__heap_node_queued(&o[0].node));
    corio__heap_remove(&h, &o[31].node);
    corio__heap_remove(&h, &o[31].node); /* again: a no-op */
    check_slots(&h);
    /* o[0] again, key 0: its twin o[1] was pushed first, so it leads. */
    CHECK_EQ(corio__heap_push(&h, &o[0].node), 0);
    CHECK_PTR(corio__heap_pop(&h), &o[1].node);
    CHECK_PTR(corio__heap_pop(&h), &o[0].node);
    {
        int64_t prev = INT64_MIN;
        while ((got = corio__heap_pop(&h)) != NULL) {
            CHECK(got != &o[31].node);
            CHECK(got->key >= prev);
            prev = got->key;
        }
    }
    corio__heap_fini(&h);
}

/* A push that needs to grow the array and cannot returns -ENOMEM and
 * leaves the heap exactly as it was (same array, same slots, the node not
 * queued); reserve fails the same way; after reserve(n), pushes up to n
 * succeed even while every growth would fail. */
TEST(heap_push_enomem)
{
    enum { N = 1000 };
    static struct owner o[N + 1];
    corio__heap h;
    corio__heap_slot *snap;
    size_t i, n;
    corio__heap_init(&h);
    for (i = 0; i <= N; i++) {
        corio__heap_node_init(&o[i].node);
        o[i].node.key = (int64_t)(corio_test_rand() % 100);
    }

    /* The very first push allocates. */
    corio__heap_fail_grow = 1;
    CHECK_EQ(corio__heap_push(&h, &o[0].node), -ENOMEM);
    CHECK_EQ(corio__heap_fail_grow, 0);
    CHECK(!corio__heap_node_queued(&o[0].node));
    CHECK_EQ(h.n, 0);
    CHECK_PTR(h.a, NULL);

    /* Fill to capacity, then fail the growing push. */
    i = 0;
    do
        CHECK_EQ(corio__heap_push(&h, &o[i++].node), 0);
    while (h.n < h.cap);
    n = h.n;
    snap = malloc(n * sizeof(*snap));
    CHECK(snap);
    memcpy(snap, h.a, n * sizeof(*snap));
    {
        corio__heap_slot *a = h.a;
        size_t cap = h.cap;
        uint64_t seq = h.seq;
        corio__heap_fail_grow = 1;
        CHECK_EQ(corio__heap_push(&h, &o[n].node), -ENOMEM);
        CHECK(!corio__heap_node_queued(&o[n].node));
        CHECK_PTR(h.a, a);
        CHECK_EQ(h.n, n);
        CHECK_EQ(h.cap, cap);
        CHECK(h.seq == seq);
        CHECK(memcmp(snap, h.a, n * sizeof(*snap)) == 0);
        check_slots(&h);

        corio__heap_fail_grow = 1;
        CHECK_EQ(corio__heap_reserve(&h, cap + 1), -ENOMEM);
        CHECK_PTR(h.a, a);
        CHECK_EQ(h.cap, cap);
        /* Too large to ever allocate: refused before asking realloc. */
        CHECK_EQ(corio__heap_reserve(&h, SIZE_MAX), -ENOMEM);
        CHECK_EQ(corio__heap_reserve(&h, SIZE_MAX / 2), -ENOMEM);
        CHECK_PTR(h.a, a);
        CHECK(memcmp(snap, h.a, n * sizeof(*snap)) == 0);
    }
    free(snap);

    /* Once the hook is spent, the same push works. */
    CHECK_EQ(corio__heap_push(&h, &o[n].node), 0);

    /* reserve(N + 1) then fail every growth: the rest still fit. */
    CHECK_EQ(corio__heap_reserve(&h, N + 1), 0);
    CHECK(h.cap >= N + 1);
    corio__heap_fail_grow = 1000000;
    for (i = n + 1; i <= N; i++)
        CHECK_EQ(corio__heap_push(&h, &o[i].node), 0);
    CHECK_EQ(corio__heap_fail_grow, 1000000);
    corio__heap_fail_grow = 0;
    check_slots(&h);
    {
        int64_t prev = INT64_MIN;
        corio__heap_node *got;
        size_t count = 0;
        while ((got = corio__heap_pop(&h)) != NULL) {
            CHECK(got->key >= prev);
            prev = got->key;
            count++;
        }
        CHECK_EQ(count, N + 1);
    }
    corio__heap_fini(&h);
}
