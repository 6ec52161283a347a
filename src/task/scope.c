/*
 * scope.c: cancel scopes: deadlines, cancellation of a region of a task's
 * code, shields.
 *
 * Each task keeps a chain of its open scopes, innermost first (t->scope,
 * then ->parent). A park by the task is cancelled when walking that chain
 * outwards finds a cancelled scope before any shield; if the walk passes
 * every scope without meeting a shield, the task's own cancel requests
 * (corio_task_cancel) decide. That one rule gives Trio's semantics: a
 * cancelled scope cancels only what is inside it, and a shield keeps out
 * what comes from outside it.
 *
 * asyncio's counters: when a scope cancels itself (deadline or by hand)
 * it also adds a cancel request to its task, as asyncio.timeout calls
 * task.cancel(), and withdraws it when it closes; closing converts the
 * body's -ECANCELED only if no request from elsewhere remains beyond those
 * that stood when the scope opened (Python 3.12's rule, which 3.11 applies
 * as "remaining == 0").
 *
 * Invariant: a scope is on exactly one task's chain from open to close,
 * and only the running task opens or closes scopes on its own chain.
 */
#include "alloc.h"
#include "task/task_impl.h"

#include <corio/scope.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

struct corio_scope {
    corio__timer timer;      /* first: the deadline timer */
    corio_scope *parent;     /* enclosing scope of the same task */
    corio_task *task;
    int64_t deadline;        /* loop ns; INT64_MAX: none */
    int entry_cancelling;    /* t->cancel_requests when opened */
    unsigned char kind;      /* enum corio_scope_kind */
    unsigned char cancelled; /* cancelled itself (deadline or by hand) */
};

int corio__task_cancel_pending(const corio_task *t)
{
    const corio_scope *s;
    for (s = t->scope; s; s = s->parent) {
        if (s->cancelled)
            return 1;
        if (s->kind == CORIO_SCOPE_SHIELD)
            return 0;
    }
    return t->cancel_requests > 0;
}

int corio__task_cancel_report(corio_task *t)
{
    if (!corio__task_cancel_pending(t))
        return 0;
    t->cancel_seen = 1;
    return 1;
}

static void scope_cancel(corio_scope *s)
{
    if (s->cancelled)
        return;
    s->cancelled = 1;
    corio__timer_stop(s->task->loop, &s->timer);
    /* asyncio.timeout's task.cancel(); reaching the task is decided by
     * the chain walk in deliver_cancel, not by the counter. */
    s->task->cancel_requests++;
    corio__task_deliver_cancel(s->task);
}

static void scope_fire(corio__timer *tm)
{
    scope_cancel((corio_scope *)tm); /* the timer is the first member */
}

static int arm(corio_scope *s)
{
    if (s->deadline == INT64_MAX)
        return 0;
    if (s->deadline <= corio__loop_now_ns()) {
        scope_cancel(s);
        return 0;
    }
    return corio__timer_start(s->task->loop, &s->timer, s->deadline);
}

static int scope_push(corio_task *t, int kind, int64_t deadline,
                      corio_scope **out)
{
    corio_scope *s = corio__malloc(sizeof *s);
    int rc;
    if (!s)
        return -ENOMEM;
    s->timer.fire = scope_fire;
    corio__heap_node_init(&s->timer.node);
    s->task = t;
    s->kind = (unsigned char)kind;
    s->cancelled = 0;
    s->deadline = deadline;
    s->entry_cancelling = t->cancel_requests;
    s->parent = t->scope;
    t->scope = s;
    if ((rc = arm(s)) != 0) {
        t->scope = s->parent;
        corio__free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Open a scope of `kind` on the running task, due at `at` (loop ns). */
static int scope_open_ns(int kind, int64_t at, corio_scope **out)
{
    corio_task *t = corio__task_running();
    if (!t)
        return CORIO_ENOTASK;
    return scope_push(t, kind, at, out);
}

int corio_scope_open(int kind, double deadline, corio_scope **out)
{
    int64_t at;
    if (!out || kind < CORIO_SCOPE_FAIL || kind > CORIO_SCOPE_SHIELD ||
        corio__deadline_at(deadline, &at) != 0)
        return -EINVAL;
    return scope_open_ns(kind, at, out);
}

int corio__scope_push(corio_task *t, int kind, corio_scope **out)
{
    return scope_push(t, kind, CORIO__NO_DEADLINE, out);
}

int corio__scope_pop(corio_task *t, corio_scope *s)
{
    if (!s || t->scope != s)
        return CORIO_ESCOPE;
    t->scope = s->parent;
    corio__timer_stop(t->loop, &s->timer);
    corio__free(s);
    return 0;
}

void corio__scope_cancel(corio_scope *s)
{
    scope_cancel(s);
}

/* A scope of `kind` due `seconds` from now. */
static int scope_open_in(int kind, double seconds, corio_scope **out)
{
    int64_t at;
    if (!out || corio__deadline_in(seconds, &at) != 0)
        return -EINVAL;
    return scope_open_ns(kind, at, out);
}

int corio_scope_timeout(double seconds, corio_scope **out)
{
    return scope_open_in(CORIO_SCOPE_FAIL, seconds, out);
}

int corio_scope_timeout_at(double deadline, corio_scope **out)
{
    return corio_scope_open(CORIO_SCOPE_FAIL, deadline, out);
}

int corio_scope_move_on_after(double seconds, corio_scope **out)
{
    return scope_open_in(CORIO_SCOPE_MOVE_ON, seconds, out);
}

int corio_scope_shield(corio_scope **out)
{
    return corio_scope_open(CORIO_SCOPE_SHIELD, INFINITY, out);
}

int corio_scope_close(corio_scope *s, int rc)
{
    corio_task *t = corio__task_running();
    int cancelled, kind, entry;

    if (!s)
        return -EINVAL;
    if (!t || t->scope != s)
        return CORIO_ESCOPE;
    cancelled = s->cancelled;
    kind = s->kind;
    entry = s->entry_cancelling;
    corio__scope_pop(t, s);
    /* Convert only our own cancellation, and only if nothing from outside
     * still stands; a cancel a shield kept out reaches the next
     * suspension. */
    if (cancelled && corio_task_uncancel(t) <= entry && rc == -ECANCELED)
        rc = kind == CORIO_SCOPE_FAIL ? -ETIMEDOUT : 0;
    return rc;
}

void corio_scope_cancel(corio_scope *s)
{
    if (s)
        scope_cancel(s);
}

int corio_scope_reschedule(corio_scope *s, double deadline)
{
    int64_t at;
    if (!s || corio__deadline_at(deadline, &at) != 0)
        return -EINVAL;
    if (s->cancelled)
        return -EALREADY; /* asyncio's RuntimeError for an expiring Timeout */
    corio__timer_stop(s->task->loop, &s->timer);
    s->deadline = at;
    return arm(s);
}

double corio_scope_deadline(const corio_scope *s)
{
    if (!s || s->deadline == CORIO__NO_DEADLINE)
        return INFINITY;
    return (double)s->deadline / 1e9;
}

int corio_scope_cancelled(const corio_scope *s)
{
    return s && s->cancelled;
}

double corio_current_deadline(void)
{
    corio_task *t = corio__task_running();
    const corio_scope *s;
    int64_t best = INT64_MAX;
    if (!t)
        return INFINITY;
    for (s = t->scope; s; s = s->parent) {
        if (s->cancelled)
            return -INFINITY; /* already due */
        if (s->deadline < best)
            best = s->deadline;
        if (s->kind == CORIO_SCOPE_SHIELD)
            break;
    }
    return best == INT64_MAX ? INFINITY : (double)best / 1e9;
}

void corio__scopes_abandon(corio_task *t)
{
    corio_scope *s;
    while ((s = t->scope) != NULL) {
        corio__warn("task '%s' ended with a cancel scope still open",
                    t->name);
        t->scope = s->parent;
        corio__timer_stop(t->loop, &s->timer);
        corio__free(s);
    }
}
