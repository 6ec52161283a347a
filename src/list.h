/*
 * list.h: corio's one intrusive doubly linked list (Linux's list.h habit).
 *
 * A corio__node lives inside its owner (a wait record, a task, a group's
 * child); a corio__list is a first/last pair. Linking and unlinking are
 * O(1) and allocate nothing; CORIO__CONTAINER gets the owner back.
 *
 * The list is NULL-terminated, not circular with a sentinel, for one
 * reason: a zeroed corio__list is a valid empty list, so the many objects
 * corio makes with calloc (locks, queues, topics, groups) need no init
 * call, and objects copied or moved while empty stay valid.
 *
 * Invariants:
 *   - first == NULL  <=>  last == NULL  <=>  the list is empty;
 *   - a node is in at most one list; an unlinked node has next == prev ==
 *     NULL (remove clears them), which CORIO__LIST checks make use of.
 * Limits: no count (owners that need one keep it); no locking.
 *
 * Singly linked lists stay hand-written where they are simpler and
 * faster: the ready FIFO (loop_impl.h), and the free lists of recycled
 * objects.
 */
#ifndef CORIO_LIST_H
#define CORIO_LIST_H

#include <stddef.h>

#include "check.h"

typedef struct corio__node corio__node;
struct corio__node {
    corio__node *next, *prev;
};

typedef struct corio__list {
    corio__node *first, *last;
} corio__list;

/* The object of type `type` whose member `member` is at ptr. */
#define CORIO__CONTAINER(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void corio__list_init(corio__list *l)
{
    l->first = l->last = NULL;
}

static inline int corio__list_empty(const corio__list *l)
{
    return l->first == NULL;
}

static inline corio__node *corio__list_first(const corio__list *l)
{
    return l->first;
}

static inline void corio__list_push_back(corio__list *l, corio__node *n)
{
    n->next = NULL;
    n->prev = l->last;
    if (l->last)
        l->last->next = n;
    else
        l->first = n;
    l->last = n;
}

static inline void corio__list_push_front(corio__list *l, corio__node *n)
{
    n->prev = NULL;
    n->next = l->first;
    if (l->first)
        l->first->prev = n;
    else
        l->last = n;
    l->first = n;
}

/* Unlink n, which must be in l. */
static inline void corio__list_remove(corio__list *l, corio__node *n)
{
    CORIO_ASSERT(n->prev ? n->prev->next == n : l->first == n);
    CORIO_ASSERT(n->next ? n->next->prev == n : l->last == n);
    if (n->prev)
        n->prev->next = n->next;
    else
        l->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->last = n->prev;
    n->next = n->prev = NULL;
}

/* Unlink and return the first node, or NULL. */
static inline corio__node *corio__list_pop(corio__list *l)
{
    corio__node *n = l->first;
    if (n)
        corio__list_remove(l, n);
    return n;
}

/* for each node n of l, in order; the body may remove n (and only n). */
#define CORIO__LIST_EACH(n, nx, l) \
    for ((n) = (l)->first; (n) && ((nx) = (n)->next, 1); (n) = (nx))

#endif /* CORIO_LIST_H */
