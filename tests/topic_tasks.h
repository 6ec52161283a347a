/*
 * topic_tasks.h: what the topic tests (test_topic*.c) share: settle (from
 * helpers.h), spawn and join, and struct one with one_pub, a
 * task that publishes one item and records the outcome.
 */
#ifndef CORIO_TEST_TOPIC_TASKS_H
#define CORIO_TEST_TOPIC_TASKS_H

#include "test.h"
#include "helpers.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

static inline corio_task *spawn(corio_coro_fn fn, void *arg, unsigned flags)
{
    corio_task_opts opts = {0};
    corio_task *t = NULL;
    opts.flags = flags;
    CHECK_EQ(corio_spawn(fn, arg, &opts, &t), 0);
    return t;
}

static inline void join(corio_task *t)
{
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
}

/* A task cancelled after its last suspension ends cancelled. */
static inline void join_maybe_cancelled(corio_task *t)
{
    int rc = corio_task_join(t, NULL);
    CHECK(rc == 0 || rc == -ECANCELED);
    corio_task_release(t);
}

struct one {
    corio_topic *t;
    corio_topic_sub *s;
    void *item;
    size_t n;          /* missed, or delivered */
    int rc, done;
};

static inline int one_pub(void *arg, void **result)
{
    struct one *o = arg;
    (void)result;
    o->rc = corio_topic_publish(o->t, o->item, &o->n);
    o->done = 1;
    return 0;
}

#endif /* CORIO_TEST_TOPIC_TASKS_H */
