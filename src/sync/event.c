/*
 * event.c: asyncio.Event (corio/sync.h).
 *
 * set wakes every waiter, marking each granted, so a waiter returns 0
 * even if the event is cleared again before it runs (asyncio's waiter
 * futures behave the same). A granted waiter cancelled before it runs
 * returns -ECANCELED: nothing is taken from the event, so nothing is
 * passed on.
 */
#include "alloc.h"
#include "sync/sync_impl.h"

#include <errno.h>
#include <stdlib.h>

struct corio_event {
    corio__waitq q; /* empty while set */
    int set;
};

static void describe_event(const corio__wait *w, corio__wait_desc *d)
{
    const corio_event *ev = (const corio_event *)w->obj;
    corio__wait_descf(d, "event %p (not set; %zu waiting)", (const void *)ev,
                      ev->q.n);
}

const corio__wait_ops corio__waitq_event = {"event", corio__waitq_detach, 0, 0,
                                            describe_event};

int corio_event_new(corio_event **out)
{
    corio_event *ev;
    if (!out)
        return -EINVAL;
    ev = corio__calloc(1, sizeof *ev);
    if (!ev)
        return -ENOMEM;
    *out = ev;
    return 0;
}

int corio_event_free(corio_event *ev)
{
    if (!ev)
        return 0;
    if (ev->q.n)
        return -EBUSY;
    corio__free(ev);
    return 0;
}

int corio_event_set(corio_event *ev)
{
    corio__wait *w;
    if (!ev)
        return -EINVAL;
    if (ev->q.n && !corio__waitq_loop_ok(&ev->q, NULL))
        return CORIO_EWRONGTHREAD;
    ev->set = 1;
    /* corio__waitq_wake_first, inline: a set is a hand-off's wake. */
    while ((w = corio__wait_pop(&ev->q.l)) != NULL) {
        ev->q.n--;
        corio__wait_wake(w, 0, NULL);
    }
    return 0;
}

void corio_event_clear(corio_event *ev)
{
    if (ev)
        ev->set = 0;
}

int corio_event_is_set(const corio_event *ev)
{
    return ev && ev->set;
}

int corio_event_wait(corio_event *ev)
{
    corio_task *t = corio__task_running();
    corio__wait *w;
    int rc, granted;

    if (!ev)
        return -EINVAL;
    if (ev->set)
        return 0;
    if (!t)
        return CORIO_ENOTASK;
    if (ev->q.n && !corio__waitq_loop_ok(&ev->q, t))
        return CORIO_EWRONGTHREAD;
    if (corio__task_cancel_now(t))
        return -ECANCELED;
    /* corio__waitq_park, with the park inline (the hand-off's hot path):
     * at the tail of the queue, detached by corio__waitq_detach. */
    w = corio__wait_begin(t, &corio__waitq_event, &ev->q, 0);
    corio__list_push_back(&ev->q.l, &w->node);
    ev->q.n++;
    rc = CORIO__WAIT_SWITCH(w);
    rc = CORIO__WAIT_PARKED(w, rc);
    granted = w->state == CORIO__WAIT_GRANTED;
    if (granted && rc == 0 && corio__task_cancel_now(t))
        rc = -ECANCELED;
    return rc;
}
