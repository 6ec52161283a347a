/*
 * wait.h: the wait record, the one way anything in corio waits.
 *
 * A record (corio__wait) says who waits (a task, or nobody for an internal
 * watcher such as a future's done callback), on what (ops: the kind, with
 * its name for reports; obj: the object), and how it ended (state, value,
 * payload). Its node links it into the list of what it waits on (a
 * future's waiters, a lock's queue, a queue's getters...). Every task
 * embeds exactly one record (t->wait): a task waits on one thing at a
 * time, its whole waiting state is that record, and since the record is
 * in the task object (heap), a waker may write into it while the task is
 * suspended, lean or not (nothing about a wait is on a coroutine stack).
 *
 * States:
 *   IDLE       never used;
 *   PENDING    waiting: linked into what it waits on (or, for a few kinds
 *              with no list, known to it: an fd slot, a timer);
 *   GRANTED    woken by what it waited on, with value and payload; the
 *              waker unlinked it first;
 *   CANCELLED  ended by a cancel of its task, or by the loop's teardown:
 *              unlinked by ops->detach; value is -ECANCELED.
 * A record leaves PENDING exactly once, by corio__wait_wake (the waker) or
 * by a cancel; the task is made runnable in that same step and in no
 * other way, so a task never resumes with its record PENDING (a stray
 * wakeup), and waking a record that is not PENDING is a bug: both are
 * NEVER() checks. (A wait granted in advance, corio__wait_grant_now: a
 * sleep(0), a raw await of a done future, queues its task itself before
 * parking; nothing else may then wake it.) GRANTED and CANCELLED stay
 * readable after the park returns, until the task's next wait.
 *
 * Size: 56 bytes on LP64 (node 16, task, ops, obj, payload, value,
 * state, flags); the wake path is a state check, three stores and a
 * ready-queue push, all inline (task_impl.h).
 *
 * Writing a new kind of wait:
 *   static const corio__wait_ops my_ops = {"my thing", my_detach, 0, 0,
 *                                          my_describe};
 *   corio__wait *w = corio__wait_begin(t, &my_ops, obj, 0);
 *   corio__list_push_back(&obj->waiters, &w->node);   (or any bookkeeping)
 *   rc = corio__wait_park(w);                         (suspends)
 * and on the waking side: pop the record, corio__wait_wake(w, value, p).
 * my_detach(w) undoes the bookkeeping when a cancel ends the wait first.
 * my_describe(w, d) says what w waits on in words a person reads, and
 * which tasks it waits for (reports, corio_loop_dump, the cycle check).
 * Callers check corio__task_cancel_report first (cancellation is
 * level-triggered, task_impl.h).
 */
#ifndef CORIO_WAIT_H
#define CORIO_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "list.h"

struct corio_task;
typedef struct corio__wait corio__wait;

enum {
    CORIO__WAIT_IDLE,
    CORIO__WAIT_PENDING,
    CORIO__WAIT_GRANTED,
    CORIO__WAIT_CANCELLED
};

/* Flags for corio__wait_begin. */
#define CORIO__WAIT_UNCANCELLABLE 1u /* a cancel of the task leaves it
                                        waiting (condition re-acquire);
                                        only teardown ends it */

/* What a wait's describe op fills (wait.c has the helpers): words for a
 * person, and the tasks the wait waits for (the edges of the wait-for
 * graph: a joined task, a lock's holder, a future's completer, a group's
 * children). Reports and dumps (task.c, src/diag/) read it; nothing on a
 * switch or wake path ever does. */
#define CORIO__WAIT_DESC_TEXT 192
#define CORIO__WAIT_DESC_EDGES 8
typedef struct corio__wait_desc {
    char text[CORIO__WAIT_DESC_TEXT]; /* "lock 0x... held by task 'a'" */
    size_t len;
    struct corio_task *edge[CORIO__WAIT_DESC_EDGES]; /* waits for these */
    const char *edge_how[CORIO__WAIT_DESC_EDGES];    /* "joins", "holder" */
    size_t nedges;      /* may exceed the array: the rest are counted */
    int64_t deadline;   /* loop ns when the wait ends by itself, or -1 */
} corio__wait_desc;

typedef struct corio__wait_ops {
    const char *what; /* for reports: "lock", "queue get", ... */
    /* Undo what linked w (unlink it, drop counts) when a cancel or the
     * loop's teardown ends the wait before a waker did; it may set
     * w->payload for the waiter to read. Never NULL for records of
     * tasks. */
    void (*detach)(corio__wait *w);
    /* Optional: pass a cancel of the waiting task on to what it waits
     * for (asyncio's Task.cancel cancelling its _fut_waiter); 1 if it
     * took: the record stays PENDING until that thing wakes it. */
    int (*forward)(corio__wait *w);
    /* Records without a task only (done callbacks, watchers): what a wake
     * does, called after the record became GRANTED. */
    void (*notify)(corio__wait *w);
    /* Optional: describe the PENDING record w for reports and dumps
     * (corio__wait_describe falls back to what and obj): words through
     * corio__wait_descf, the tasks it waits for through
     * corio__wait_edge. Reads only; never called on a hot path. */
    void (*describe)(const corio__wait *w, corio__wait_desc *d);
} corio__wait_ops;

struct corio__wait {
    corio__node node;            /* in what it waits on, while PENDING */
    struct corio_task *task;     /* the waiting task, or NULL */
    const corio__wait_ops *ops;
    const void *obj;             /* what it waits on, for reports */
    void *payload;               /* handed over: an item, a putter's item */
    int value;                   /* what the park returns */
    unsigned char state;         /* CORIO__WAIT_* */
    unsigned char flags;         /* CORIO__WAIT_UNCANCELLABLE */
};

/* Set up a record with no task (a watcher) as PENDING. */
static inline void corio__wait_watch(corio__wait *w,
                                     const corio__wait_ops *ops,
                                     const void *obj)
{
    w->task = NULL;
    w->ops = ops;
    w->obj = obj;
    w->payload = NULL;
    w->value = 0;
    w->state = CORIO__WAIT_PENDING;
    w->flags = 0;
}

/* corio__wait_begin(t, ops, obj, flags): start a wait of the running task
 * t: its record, PENDING, payload NULL; the caller links it and calls
 * corio__wait_park. (Inline, in task_impl.h, which knows the task.) */
/* Suspend until w leaves PENDING; returns its value (GRANTED: what the
 * waker passed; CANCELLED: -ECANCELED). If the task is closed or thrown
 * into while parked (its loop is being freed), returns that error
 * (-ECANCELED for a close) and w is no longer PENDING either way: read
 * w->state to know whether the wait was granted first. Suspends. */
int corio__wait_park(corio__wait *w);
/* corio__wait_wake(w, value, payload): the waker's side: w (PENDING,
 * already unlinked) becomes GRANTED with value and payload, and its task
 * is made runnable (or its notify runs). Never suspends. (Inline, in
 * task_impl.h: it is the hot path of every hand-off.) */
/* End the PENDING record w of a task without its waker, and without
 * queueing the task: its kind's detach, then CANCELLED (the loop's
 * teardown; corio__task_deliver_cancel for a cancel). */
void corio__wait_abort(corio__wait *w);
/* Grant w in advance, before its park (a sleep(0), an await of a done
 * future): the task must already be queued or about to be by the
 * caller. */
static inline void corio__wait_grant_now(corio__wait *w, int value)
{
    CORIO_ASSERT(w->state == CORIO__WAIT_PENDING);
    w->state = CORIO__WAIT_GRANTED;
    w->value = value;
}

/* Describing (wait.c). describe fills d for the PENDING record w of a
 * task: its kind's describe op, or "<what> <obj>". descf appends words;
 * edge adds a task w waits for (how: "joins", "held by", ...); task_ref
 * appends "task 'name' (#id)". */
void corio__wait_describe(const corio__wait *w, corio__wait_desc *d);
void corio__wait_descf(corio__wait_desc *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void corio__wait_edge(corio__wait_desc *d, struct corio_task *t,
                      const char *how);
void corio__wait_desc_task(corio__wait_desc *d, const struct corio_task *t);

/* The record as the first of a list, or NULL. */
static inline corio__wait *corio__wait_first(const corio__list *l)
{
    return l->first ? CORIO__CONTAINER(l->first, corio__wait, node) : NULL;
}

/* Unlink and return the first record of l, or NULL. */
static inline corio__wait *corio__wait_pop(corio__list *l)
{
    corio__node *n = corio__list_pop(l);
    return n ? CORIO__CONTAINER(n, corio__wait, node) : NULL;
}

#endif /* CORIO_WAIT_H */
