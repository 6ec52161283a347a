/*
 * group.c: task groups (asyncio.TaskGroup, Trio's nursery).
 *
 * The group opens a scope of its own in the parent task, so that "cancel
 * the parent's code inside the group" is just cancelling that scope: its
 * suspensions fail, while code outside the group (after the wait) is not
 * touched. Children are tracked through a record each, linked while the
 * child lives; the record is the argument of a done callback on the
 * child's future, which runs through the ready queue as asyncio's
 * _on_task_done does, so event orders match Python's.
 *
 * The rules follow Python 3.11's TaskGroup: a child's failure aborts the
 * group (cancels every child) and cancels the parent once (counted);
 * the wait withdraws that request, keeps waiting through cancellation
 * (aborting the children if a cancel from outside arrives), and decides
 * the outcome: the children's errors first, the parent's own error
 * appended after them, -ECANCELED only if the parent was cancelled from
 * outside and nothing failed.
 *
 * Invariant: g->nlive counts children whose done callback has not run;
 * the wait returns only when it is 0.
 */
#include "alloc.h"
#include "task/task_impl.h"

#include <corio/group.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct child {
    corio__node node;           /* in g->live */
    corio_group *g;
    corio_task *t;
} child;

struct corio_group {
    corio_loop *loop;
    corio_task *parent;
    struct corio_scope *scope;  /* the group's scope in the parent */
    corio__list live;           /* children (child.node) */
    size_t nlive;
    /* Failures kept: the first in place, so that one never needs memory
     * (a failure must never turn into success), the rest in `more`. */
    corio_group_error_info first;
    corio_group_error_info *more; /* failures 2.. (errcap of them) */
    size_t nerr, errcap;
    corio_task *waiter;         /* the parent, parked in the wait (its
                                   record's obj is the group) */
    corio__timer stop_timer;    /* corio_group_stop's grace period */
    unsigned char aborting;     /* children are being cancelled */
    unsigned char exiting;      /* corio_group_wait has begun */
    unsigned char finished;     /* corio_group_wait has returned */
    unsigned char parent_cancel_requested;
    unsigned char stopping;     /* corio_group_stop was called */
};

static corio_group *group_of_timer(corio__timer *tm)
{
    return (corio_group *)((char *)tm - offsetof(corio_group, stop_timer));
}

static char *dup_or_null(const char *s)
{
    return s ? corio__strdup(s) : NULL;
}

/* The i-th failure kept (i < g->nerr). */
static corio_group_error_info *err_at(const corio_group *g, size_t i)
{
    return i == 0 ? (corio_group_error_info *)&g->first : &g->more[i - 1];
}

/* Keep a failure. The first one needs no memory, so it is always kept;
 * out of memory, its strings are NULL. A later one that finds no memory
 * is dropped (reported on stderr): the wait's answer comes from the
 * first. */
static void record_error(corio_group *g, int code, const char *msg,
                         const char *cancel_msg, const char *name,
                         const char *file, int line)
{
    corio_group_error_info *e;
    if (g->nerr > 0 && g->nerr - 1 == g->errcap) {
        size_t cap = g->errcap ? g->errcap * 2 : 4;
        void *p = corio__realloc(g->more, cap * sizeof *g->more);
        if (!p) {
            corio__warn("group %p: no memory to keep error %s of task '%s'",
                        (void *)g, corio_errname(code), name ? name : "?");
            return;
        }
        g->more = p;
        g->errcap = cap;
    }
    e = err_at(g, g->nerr++);
    e->code = code;
    e->message = dup_or_null(msg);
    e->cancel_message = dup_or_null(cancel_msg);
    e->task_name = dup_or_null(name);
    e->file = file; /* spawn sites are string literals (__FILE__) */
    e->line = line;
}

static void abort_children(corio_group *g)
{
    corio__node *nd, *nx;
    g->aborting = 1;
    CORIO__LIST_EACH(nd, nx, &g->live) {
        child *c = CORIO__CONTAINER(nd, child, node);
        if (!corio_task_done(c->t))
            corio_task_cancel(c->t);
    }
}

/* Cancel the parent's code inside the group, once (asyncio's
 * _parent_task.cancel() with _parent_cancel_requested). */
static void cancel_parent_body(corio_group *g)
{
    if (g->parent_cancel_requested || !g->scope)
        return;
    g->parent_cancel_requested = 1;
    corio__scope_cancel(g->scope);
}

static void wake_waiter(corio_group *g)
{
    if (g->waiter && g->nlive == 0) {
        corio_task *t = g->waiter;
        g->waiter = NULL;
        corio__wait_wake(&t->wait, 0, NULL);
    }
}

static void on_child_done(corio_future *f, void *arg)
{
    child *c = arg;
    corio_group *g = c->g;
    corio_task *t = c->t;
    int rc;

    corio__list_remove(&g->live, &c->node);
    g->nlive--;
    corio__free(c);
    wake_waiter(g);
    (void)f;
    if (!corio_task_cancelled(t) && (rc = corio_task_result(t, NULL)) != 0) {
        record_error(g, rc, corio_task_message(t),
                     corio_task_cancel_message(t), corio_task_name(t),
                     t->file, t->line);
        if (!g->aborting && !g->parent_cancel_requested) {
            abort_children(g);
            cancel_parent_body(g);
        }
    }
    t->group = NULL;
    corio_task_release(t); /* the group's reference */
}

int corio_group_open(corio_group **out)
{
    corio_task *t = corio__task_running();
    corio_group *g;
    int rc;
    if (!out)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    g = corio__calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    if ((rc = corio__scope_push(t, CORIO__SCOPE_GROUP, &g->scope)) != 0) {
        corio__free(g);
        return rc;
    }
    g->loop = t->loop;
    g->parent = t;
    corio__heap_node_init(&g->stop_timer.node);
    *out = g;
    return 0;
}

int corio_group_spawn_at(corio_group *g, corio_coro_fn fn, void *arg,
                         const corio_task_opts *opts, corio_task **out,
                         const char *file, int line)
{
    corio_task *t;
    child *c;
    int rc;

    if (!g || !fn)
        return -EINVAL;
    if (g->finished || (g->exiting && g->nlive == 0) || g->aborting)
        return -ESHUTDOWN;
    c = corio__malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    rc = corio_task_spawn_at(g->loop, fn, arg, opts, &t, file, line);
    if (rc) {
        corio__free(c);
        return rc;
    }
    rc = corio_future_add_done_callback(corio_task_future(t), on_child_done,
                                        c);
    if (rc) {
        /* Cannot watch it: take it back before it ever runs. */
        corio_task_cancel(t);
        corio_task_release(t);
        corio__free(c);
        return rc;
    }
    c->g = g;
    c->t = t;
    corio__list_push_front(&g->live, &c->node);
    g->nlive++;
    t->group = g;
    if (out) {
        corio_task_retain(t);
        *out = t;
    }
    return 0;
}

static void detach_wait(corio__wait *w)
{
    ((corio_group *)w->obj)->waiter = NULL;
}

static void describe_wait(const corio__wait *w, corio__wait_desc *d)
{
    const corio_group *g = (const corio_group *)w->obj;
    corio__node *nd, *nx;
    corio__wait_descf(d, "task group %p: %zu child(ren) to finish%s",
                      (const void *)g, g->nlive,
                      g->aborting ? " (cancelling them)" : "");
    CORIO__LIST_EACH(nd, nx, &g->live) {
        child *c = CORIO__CONTAINER(nd, child, node);
        if (!corio_task_done(c->t))
            corio__wait_edge(d, c->t, "child");
    }
}

static const corio__wait_ops group_wait_ops = {"group wait", detach_wait, 0,
                                              0, describe_wait};

corio_task *corio__group_parent(const corio_group *g)
{
    return g->parent;
}

int corio_group_wait(corio_group *g, int rc)
{
    corio_task *t = corio__task_running();
    int propagate_cancel, woke;

    if (!g)
        return -EINVAL;
    if (!t || t != g->parent || g->exiting ||
        corio__scope_pop(t, g->scope) != 0)
        return CORIO_ESCOPE;
    g->scope = NULL;
    g->exiting = 1;
    propagate_cancel = rc == -ECANCELED;
    if (g->parent_cancel_requested && corio_task_uncancel(t) == 0)
        propagate_cancel = 0;
    if (rc != 0 && !g->aborting)
        abort_children(g);
    while (g->nlive > 0) {
        /* A cancel that stood before the wait never reaches the park
         * (cancels are delivered when made): take it here, as one that
         * comes while parked. */
        if (!g->aborting && corio__task_cancel_report(t)) {
            propagate_cancel = 1;
            abort_children(g);
        }
        g->waiter = t;
        woke = corio__wait_park(corio__wait_begin(t, &group_wait_ops, g, 0));
        if (woke == -ECANCELED && !g->aborting) {
            propagate_cancel = 1;
            abort_children(g);
        }
    }
    g->waiter = NULL;
    corio__timer_stop(g->loop, &g->stop_timer);
    if (g->stopping)
        t->stopping_groups--;
    g->finished = 1;
    if (propagate_cancel && g->nerr == 0)
        return -ECANCELED;
    if (rc != 0 && rc != -ECANCELED)
        record_error(g, rc, t->message, t->cancel_msg, "(body)", t->file,
                     t->line);
    if (g->nerr > 0)
        return g->first.code;
    return rc == -ECANCELED ? 0 : rc;
}

void corio_group_cancel(corio_group *g)
{
    if (!g || g->finished)
        return;
    if (!g->aborting)
        abort_children(g);
    cancel_parent_body(g);
}

static void stop_timer_fire(corio__timer *tm)
{
    corio_group_cancel(group_of_timer(tm));
}

int corio_group_stop(corio_group *g, double grace)
{
    int64_t at;
    if (!g || isnan(grace))
        return -EINVAL;
    if (g->finished || g->stopping)
        return 0;
    if (!(grace > 0)) {
        corio_group_cancel(g);
        return 0;
    }
    corio__deadline_in(grace, &at);
    g->stop_timer.fire = stop_timer_fire;
    /* No deadline: the children are asked to stop, never cancelled. */
    if (at != CORIO__NO_DEADLINE &&
        corio__timer_start(g->loop, &g->stop_timer, at) != 0)
        return -ENOMEM;
    g->stopping = 1;
    g->parent->stopping_groups++;
    return 0;
}

int corio_stop_requested(void)
{
    corio_task *t = corio__task_running();
    if (!t)
        return 0;
    return (t->group && t->group->stopping) || t->stopping_groups > 0;
}

size_t corio_group_error_count(const corio_group *g)
{
    return g ? g->nerr : 0;
}

const corio_group_error_info *corio_group_error(const corio_group *g,
                                                size_t i)
{
    return g && i < g->nerr ? err_at(g, i) : NULL;
}

void corio_group_free(corio_group *g)
{
    size_t i;
    if (!g)
        return;
    if (!g->finished) {
        corio__node *nd, *nx;
        corio__warn("task group %p freed before its wait; its %zu "
                    "children are cancelled and left to the loop",
                    (void *)g, g->nlive);
        CORIO__LIST_EACH(nd, nx, &g->live) {
            child *c = CORIO__CONTAINER(nd, child, node);
            corio_future_remove_done_callback(corio_task_future(c->t),
                                              on_child_done, c);
            corio_task_cancel(c->t);
            c->t->group = NULL;
            corio_task_release(c->t);
        }
        while ((nd = corio__list_pop(&g->live)) != NULL)
            corio__free(CORIO__CONTAINER(nd, child, node));
        if (g->scope && g->parent->scope == g->scope)
            corio__scope_pop(g->parent, g->scope);
        corio__timer_stop(g->loop, &g->stop_timer);
        if (g->stopping)
            g->parent->stopping_groups--;
    }
    for (i = 0; i < g->nerr; i++) {
        corio_group_error_info *e = err_at(g, i);
        corio__free((void *)e->message);
        corio__free((void *)e->cancel_message);
        corio__free((void *)e->task_name);
    }
    corio__free(g->more);
    corio__free(g);
}
