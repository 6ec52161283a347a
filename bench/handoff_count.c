/*
 * handoff_count.c: two tasks handing off N times through futures, events
 * or queues, for counting instructions per hand-off under callgrind, which
 * the machine's load does not move (corio_bench's pingpong suite times the
 * same hand-offs):
 *
 *   valgrind --tool=callgrind corio_handoff_count future 20000
 *   valgrind --tool=callgrind corio_handoff_count future 40000
 *
 * (total of the second run - total of the first) / 20000 is one hand-off,
 * start-up and teardown cancelled out. Kinds: future (a new future per
 * hand-off, as bench_pingpong.c), event (wait, clear, set the other's),
 * queue (get, put to the other's waiting get). A third argument `run`
 * drives the tasks with corio_run (its stop and SIGINT checks) instead of
 * corio_loop_run. Two more kinds give the references the hand-offs are
 * held against, counted the same way: switch (N resume + yield round
 * trips of a bare coroutine, no loop, as `--suite switch`) and spawn (N
 * spawns of a trivial task, each joined, as `--suite spawn`).
 */
#include <corio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GO ((void *)1)
#define STOP ((void *)2)

static long n_handoffs, count;
static int under_run; /* corio_run drives the loop: it stops by itself */
static corio_future *slot[2];
static corio_event *ev[2];
static corio_queue *qu[2];

static int future_side(void *arg, void **result)
{
    int i = (int)(long)arg, rc;
    void *v;
    *result = NULL;
    for (;;) {
        rc = corio_future_await(slot[i], &v);
        corio_future_release(slot[i]);
        slot[i] = NULL;
        if (rc || v == STOP)
            return rc;
        if (count >= n_handoffs)
            return corio_future_set_result(slot[1 - i], STOP);
        if ((rc = corio_future_new(NULL, &slot[i])) != 0)
            return rc;
        count++;
        if ((rc = corio_future_set_result(slot[1 - i], GO)) != 0)
            return rc;
    }
}

static int event_side(void *arg, void **result)
{
    int i = (int)(long)arg, rc;
    *result = NULL;
    for (;;) {
        if ((rc = corio_event_wait(ev[i])) != 0)
            return rc;
        corio_event_clear(ev[i]);
        if (count >= n_handoffs)
            return corio_event_set(ev[1 - i]);
        count++;
        if ((rc = corio_event_set(ev[1 - i])) != 0)
            return rc;
    }
}

static int queue_side(void *arg, void **result)
{
    int i = (int)(long)arg, rc;
    void *v;
    *result = NULL;
    for (;;) {
        if ((rc = corio_queue_get(qu[i], &v)) != 0 || v == STOP)
            return rc;
        if (count >= n_handoffs)
            return corio_queue_put(qu[1 - i], STOP);
        count++;
        if ((rc = corio_queue_put(qu[1 - i], GO)) != 0)
            return rc;
    }
}

static int driver(void *arg, void **result)
{
    corio_coro_fn side = (corio_coro_fn)arg;
    corio_task *t[2] = {NULL, NULL};
    int rc = 0;
    *result = NULL;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = corio_spawn(side, (void *)(long)i, NULL, &t[i]);
    if (rc == 0 && side == future_side)
        rc = corio_future_set_result(slot[0], GO);
    else if (rc == 0 && side == event_side)
        rc = corio_event_set(ev[0]);
    else if (rc == 0)
        rc = corio_queue_put(qu[0], GO);
    for (int i = 0; i < 2; i++) {
        if (t[i] && corio_task_join(t[i], NULL) != 0 && rc == 0)
            rc = -EPROTO;
        corio_task_release(t[i]);
    }
    if (!under_run)
        corio_loop_stop(corio_loop_current());
    return rc;
}

/* spawn: N trivial tasks, each spawned and joined in turn. */
static int trivial(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    return 0;
}

static int spawn_side(void *arg, void **result)
{
    int rc = 0;
    (void)arg;
    *result = NULL;
    for (; count < n_handoffs && rc == 0; count++) {
        corio_task *t;
        if ((rc = corio_spawn(trivial, NULL, NULL, &t)) != 0)
            break;
        rc = corio_task_join(t, NULL);
        corio_task_release(t);
    }
    return rc;
}

/* switch: a bare coroutine yielding back what each resume sends. */
static int echo_body(void *arg, void **result)
{
    void *v = arg;
    int rc;
    *result = NULL;
    while ((rc = corio_yield(v, &v)) == 0)
        ;
    return rc == CORIO_EEXIT ? 0 : rc;
}

static int switch_count(void)
{
    corio_coro *co;
    void *v = NULL;
    int rc = corio_coro_new(echo_body, &count, NULL, &co);
    if (rc == 0 && (rc = corio_coro_resume(co, NULL, &v)) == CORIO_YIELDED)
        rc = 0;
    for (; rc == 0 && count < n_handoffs; count++)
        if ((rc = corio_coro_resume(co, v, &v)) == CORIO_YIELDED)
            rc = v == &count ? 0 : -EPROTO;
    corio_coro_free(co);
    return rc;
}

/* Only a marker for main: the switch kind runs with no loop. */
static int switch_side_(void *arg, void **result)
{
    (void)arg;
    *result = NULL;
    return -EINVAL;
}

/* The driver with the futures made on its loop (and released after,
 * whichever kind ran). */
static int run_main(void *arg, void **result)
{
    int rc = corio_future_new(NULL, &slot[0]);
    if (rc == 0)
        rc = corio_future_new(NULL, &slot[1]);
    if (rc == 0 && arg == (void *)spawn_side) {
        rc = spawn_side(NULL, result);
        if (!under_run)
            corio_loop_stop(corio_loop_current());
    } else if (rc == 0) {
        rc = driver(arg, result);
    }
    for (int i = 0; i < 2; i++) { /* what the kind did not use */
        corio_future_release(slot[i]);
        slot[i] = NULL;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "future";
    corio_coro_fn side = !strcmp(kind, "future")  ? future_side
                         : !strcmp(kind, "event") ? event_side
                         : !strcmp(kind, "queue") ? queue_side
                         : !strcmp(kind, "spawn") ? spawn_side
                         : !strcmp(kind, "switch") ? switch_side_
                                                   : NULL;
    corio_loop *loop = NULL;
    corio_task *d = NULL;
    int rc;

    n_handoffs = argc > 2 ? atol(argv[2]) : 100000;
    if (!side || n_handoffs <= 0) {
        fprintf(stderr,
                "usage: %s future|event|queue|spawn|switch [N [run]]\n",
                argv[0]);
        return 2;
    }
    under_run = argc > 3 && !strcmp(argv[3], "run");
    if (side == switch_side_) {
        rc = switch_count();
        if (rc || count != n_handoffs) {
            fprintf(stderr, "switch: failed: %s\n", corio_strerror(rc));
            return 1;
        }
        printf("switch: %ld round trips\n", count);
        return 0;
    }
    rc = under_run ? 0 : corio_loop_new(NULL, &loop);
    for (int i = 0; i < 2 && rc == 0; i++) {
        if ((rc = corio_event_new(&ev[i])) == 0)
            rc = corio_queue_new(CORIO_QUEUE_FIFO, 0, &qu[i]);
    }
    if (rc == 0 && under_run) {
        rc = corio_run(run_main, (void *)side, NULL);
    } else if (rc == 0) {
        rc = corio_loop_spawn(loop, run_main, (void *)side, NULL, &d);
        if (rc == 0)
            rc = corio_loop_run(loop);
        if (rc == 0)
            rc = corio_task_result(d, NULL);
        corio_task_release(d);
    }
    for (int i = 0; i < 2; i++) {
        corio_event_free(ev[i]);
        corio_queue_free(qu[i]);
    }
    corio_loop_free(loop);
    if (rc || count != n_handoffs) {
        fprintf(stderr, "%s: failed: %s (%ld of %ld hand-offs)\n", kind,
                corio_strerror(rc), count, n_handoffs);
        return 1;
    }
    printf("%s: %ld hand-offs\n", kind, count);
    return 0;
}
