/*
 * heap.c: the loop's timer heap (interface and contract in heap.h).
 *
 * Shape. An implicit 4-ary min-heap: the children of slot i are slots
 * 4i+1 .. 4i+4. Each slot holds a node's key and seq, copied at push, and
 * the node pointer.
 *
 * Invariants, true between calls:
 *   - for 0 <= i < n: a[i].node->index == i, a[i].key == a[i].node->key,
 *     a[i].seq == a[i].node->seq, and no slot comes before its parent
 *     (order: key, then seq, so equal keys leave FIFO);
 *   - a node that is not in the heap has index CORIO__HEAP_NONE;
 *   - n <= cap; a is NULL when cap is 0; seq is larger than every queued
 *     node's seq (64 bits: it does not wrap in practice).
 *
 * Speed. With a million timers neither the array nor the nodes fit in
 * cache, so what costs is dependent cache misses. Measured on the project
 * machine (1,000,000 random deadlines, nodes scattered in memory, push all
 * then pop all): a binary heap of node pointers took ~2,000 ns per timer;
 * 4-ary, ~1,400 (half the levels, and the four children of a slot are
 * loaded in parallel); with keys in the array instead of behind the
 * pointers, ~500; with the grandchildren prefetched while the children
 * are compared, ~300. seq is copied too (24-byte slots, not 16): equal
 * deadlines are common (tasks that sleep alike in one loop iteration), and
 * with all keys equal that halves the cost. Sifts move a hole (one store
 * per level, not a swap).
 * The cost left is mostly the node->index store at each level, which
 * remove() needs.
 *
 * Limits: the array never shrinks until fini; about SIZE_MAX / 48 nodes at
 * most. Not thread-safe.
 */
#include "alloc.h"
#include "heap.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#define D 4           /* children per slot */
#define MIN_CAP 64    /* slots in the first array */

_Thread_local unsigned corio__heap_fail_grow;

/* 1 when slot a must leave before slot b: smaller key, or same key and
 * pushed earlier. Keys are full int64_t: INT64_MIN and INT64_MAX compare
 * as they are, no subtraction, so nothing wraps. */
static inline int before(const corio__heap_slot *a, const corio__heap_slot *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    return a->seq < b->seq;
}

/* Put x in slot i (the hole) and record where its node now is. */
static inline void place(corio__heap_slot *a, size_t i,
                         const corio__heap_slot *x)
{
    a[i] = *x;
    a[i].node->index = i;
}

/* Move the hole at slot i up while x must leave before the hole's parent,
 * then fill it with x. */
static void sift_up(corio__heap *h, size_t i, corio__heap_slot x)
{
    corio__heap_slot *a = h->a;
    while (i > 0) {
        size_t up = (i - 1) / D;
        if (!before(&x, &a[up]))
            break;
        place(a, i, &a[up]);
        i = up;
    }
    place(a, i, &x);
}

/* Move the hole at slot i down, lifting the first-due child into it, while
 * that child must leave before x; then fill it with x. */
static void sift_down(corio__heap *h, size_t i, corio__heap_slot x)
{
    corio__heap_slot *a = h->a;
    size_t n = h->n;
    for (;;) {
        size_t c = i * D + 1, g = c * D + 1, end, j, best;
        if (c >= n)
            break;
        /* The next level's candidates are the children of these children:
         * 16 slots in a row. Start loading them now. */
        if (g < n) {
            const char *p = (const char *)&a[g];
            size_t k, bytes = (n - g < D * D ? n - g : D * D) * sizeof(*a);
            for (k = 0; k < bytes; k += 64)
                __builtin_prefetch(p + k);
        }
        end = n - c > D ? c + D : n;
        best = c;
        for (j = c + 1; j < end; j++)
            if (before(&a[j], &a[best]))
                best = j;
        if (!before(&a[best], &x))
            break;
        place(a, i, &a[best]);
        i = best;
    }
    place(a, i, &x);
}

/* Grow the array to hold at least `want` slots, doubling. 0 or -ENOMEM;
 * on failure the heap is as it was. */
static int grow(corio__heap *h, size_t want)
{
    size_t cap = h->cap ? h->cap : MIN_CAP;
    corio__heap_slot *a;
    while (cap < want) {
        if (cap > SIZE_MAX / sizeof(*a) / 2)
            return -ENOMEM;
        cap *= 2;
    }
    if (cap > SIZE_MAX / sizeof(*a))
        return -ENOMEM;
    if (corio__heap_fail_grow) {
        corio__heap_fail_grow--;
        return -ENOMEM;
    }
    a = corio__realloc(h->a, cap * sizeof(*a));
    if (!a)
        return -ENOMEM;
    h->a = a;
    h->cap = cap;
    return 0;
}

void corio__heap_init(corio__heap *h)
{
    h->a = NULL;
    h->n = h->cap = 0;
    h->seq = 0;
}

void corio__heap_fini(corio__heap *h)
{
    corio__free(h->a);
    corio__heap_init(h);
}

int corio__heap_reserve(corio__heap *h, size_t n)
{
    return n <= h->cap ? 0 : grow(h, n);
}

int corio__heap_push(corio__heap *h, corio__heap_node *node)
{
    corio__heap_slot x;
    assert(node->index == CORIO__HEAP_NONE);
    if (h->n == h->cap) {
        int err = grow(h, h->n + 1);
        if (err)
            return err;
    }
    node->seq = h->seq++;
    x.key = node->key;
    x.seq = node->seq;
    x.node = node;
    sift_up(h, h->n++, x);
    return 0;
}

void corio__heap_remove(corio__heap *h, corio__heap_node *node)
{
    size_t i = node->index;
    corio__heap_slot last;
    if (i == CORIO__HEAP_NONE)
        return;
    assert(i < h->n && h->a[i].node == node);
    node->index = CORIO__HEAP_NONE;
    last = h->a[--h->n];
    if (i == h->n)
        return; /* it was the last slot: nothing to fill */
    /* The last slot fills the hole; it may belong above or below it. */
    if (i > 0 && before(&last, &h->a[(i - 1) / D]))
        sift_up(h, i, last);
    else
        sift_down(h, i, last);
}

corio__heap_node *corio__heap_pop(corio__heap *h)
{
    corio__heap_node *top;
    if (h->n == 0)
        return NULL;
    top = h->a[0].node;
    top->index = CORIO__HEAP_NONE;
    if (--h->n > 0)
        sift_down(h, 0, h->a[h->n]);
    return top;
}
