/*
 * metrics.c: corio_loop_metrics (corio/diag.h). What is countable at no
 * cost is counted when asked (the ready queue, the live tasks and what
 * each waits on); what needs a clock or a counter per iteration comes
 * from debug mode's run hook (slow.c) and is 0 without it.
 */
#include "diag/diag_impl.h"

#include <errno.h>
#include <string.h>

static int kind_of(const corio__wait *w)
{
    const char *k = w->ops ? w->ops->what : "";
    if (!strcmp(k, "future") || !strcmp(k, "future (raw await)"))
        return ((const corio_future *)w->obj)->is_task ? CORIO_WAIT_JOIN
                                                       : CORIO_WAIT_FUTURE;
    if (!strncmp(k, "wait_for", 8))
        return CORIO_WAIT_FUTURE;
    if (!strncmp(k, "lock", 4) || !strcmp(k, "condition") ||
        !strcmp(k, "event") || !strcmp(k, "semaphore") ||
        !strcmp(k, "barrier"))
        return CORIO_WAIT_SYNC;
    if (!strncmp(k, "queue", 5) || !strncmp(k, "topic", 5))
        return CORIO_WAIT_CHAN;
    if (!strncmp(k, "fd", 2))
        return CORIO_WAIT_FD;
    if (!strncmp(k, "sleep", 5))
        return CORIO_WAIT_SLEEP;
    if (!strcmp(k, "signal"))
        return CORIO_WAIT_SIGNAL;
    if (!strcmp(k, "group wait") || !strncmp(k, "gather", 6) ||
        !strcmp(k, "wait") || !strcmp(k, "as_completed"))
        return CORIO_WAIT_GROUP;
    return CORIO_WAIT_OTHER;
}

int corio_loop_metrics(corio_loop *loop, corio_metrics *out)
{
    corio__diag_state *ds;
    corio__node *nd, *nx;
    if (!loop || !out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    ds = loop->run_hook ? corio__diag_state_of(loop) : loop->diag;
    if (ds) {
        int64_t all = corio__clock_ns() - ds->since;
        out->iterations = ds->iterations;
        out->steps = ds->steps;
        out->busy = (double)ds->busy_ns / 1e9;
        out->idle = (double)(all > ds->busy_ns ? all - ds->busy_ns : 0) / 1e9;
    }
    out->ready = loop->ready.n;
    out->slow_steps = corio__diag_slow_count(loop);
    if (!loop->tasks)
        return 0;
    out->tasks = loop->tasks->ntasks;
    CORIO__LIST_EACH(nd, nx, &loop->tasks->all) {
        corio_task *t = CORIO__CONTAINER(nd, corio_task, all_node);
        if (corio__task_parked(t))
            out->waiting[kind_of(&t->wait)]++;
    }
    return 0;
}
