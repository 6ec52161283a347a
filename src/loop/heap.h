/*
 * heap.h: an intrusive min-heap, for the loop's timers.
 *
 * Nodes live inside their owners (a task's sleep timer, a callback handle);
 * each node remembers its position, so removing any node is O(log n).
 * Equal keys come out in insertion order (a sequence number breaks ties),
 * so timers with the same deadline fire FIFO. The array grows by doubling
 * and never shrinks below what it reached, so after warm-up (or after
 * corio__heap_reserve) a push allocates nothing.
 *
 * The array holds a copy of each node's key and sequence number beside the
 * pointer to the node, so sifting compares without touching the nodes
 * (with a million timers that is what makes it fast; see heap.c). So the
 * key is read once, at push: to move a queued deadline, remove the node,
 * change its key, and push it again.
 *
 * Not thread-safe: one heap belongs to one loop.
 */
#ifndef CORIO_HEAP_H
#define CORIO_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define CORIO__HEAP_NONE ((size_t)-1) /* index of a node not in a heap */

typedef struct corio__heap_node {
    int64_t key;  /* deadline, in the loop clock's nanoseconds */
    uint64_t seq; /* insertion order, for FIFO ties: set by push */
    size_t index; /* position in the heap, or CORIO__HEAP_NONE */
} corio__heap_node;

/* One array entry: the node's key and seq, copied at push, and the node. */
typedef struct corio__heap_slot {
    int64_t key;
    uint64_t seq;
    corio__heap_node *node;
} corio__heap_slot;

typedef struct corio__heap {
    corio__heap_slot *a; /* a[0 .. n-1] in heap order; cap allocated */
    size_t n, cap;
    uint64_t seq;        /* the next push's sequence number */
} corio__heap;

/* An empty heap; allocates nothing. */
void corio__heap_init(corio__heap *h);
/* Free the array, not the nodes (those still queued keep a stale index:
 * re-init them before reuse). The heap is then empty and usable again. */
void corio__heap_fini(corio__heap *h);

/* Make node's index CORIO__HEAP_NONE: call once when the owner is made. */
static inline void corio__heap_node_init(corio__heap_node *node)
{
    node->index = CORIO__HEAP_NONE;
}

static inline int corio__heap_node_queued(const corio__heap_node *node)
{
    return node->index != CORIO__HEAP_NONE;
}

/* Insert node (not queued) with its key already set; sets node->seq. 0,
 * or -ENOMEM when the array had to grow and could not (node is then not
 * queued and the heap is unchanged). */
int corio__heap_push(corio__heap *h, corio__heap_node *node);
/* Make room for n nodes in all, so that pushes up to n cannot fail. 0, or
 * -ENOMEM with the heap unchanged. */
int corio__heap_reserve(corio__heap *h, size_t n);
/* Remove a queued node (O(log n)); a node that is not queued is left
 * alone. */
void corio__heap_remove(corio__heap *h, corio__heap_node *node);
/* The node with the smallest key (FIFO among equals), or NULL. */
static inline corio__heap_node *corio__heap_top(const corio__heap *h)
{
    return h->n ? h->a[0].node : NULL;
}
/* Remove and return the top, or NULL when empty. */
corio__heap_node *corio__heap_pop(corio__heap *h);

/* Test hook: while nonzero, each growth of an array fails as realloc would
 * (-ENOMEM, heap unchanged) and counts it down by one. Tests set it to
 * reach the out-of-memory path; it is read only when an array must grow,
 * so it costs nothing on the hot path. Per thread, so tests of one thread
 * never disturb loops of another. */
extern _Thread_local unsigned corio__heap_fail_grow;

#endif /* CORIO_HEAP_H */
