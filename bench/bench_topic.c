/*
 * bench_topic.c: the pub/sub topic suite: what it costs to fan items out
 * from one publisher task to subscriber tasks through a corio_topic.
 *
 * Workload: one publisher task publishes N items (the pointers 1..N) to a
 * topic, then closes it; each subscriber is a task of its own looping on
 * corio_topic_next until CORIO_END. Every subscriber has a buffer of
 * CAPACITY (64) items. N is 10,000,000 with 1 subscriber and 200,000
 * with 100 (20,000,000 deliveries). The figure is wall time per published
 * item, from spawning the tasks to the last subscriber done; subscribing
 * and unsubscribing are inside it (a few hundred calls, lost in the noise).
 *
 * Rows:
 *   BLOCK, 1 and 100 subscribers: every item reaches every subscriber; the
 *   publisher parks whenever a buffer is full, so the tasks take turns in
 *   rounds of ~CAPACITY items. Checked: each subscriber got 1..N in order,
 *   and publish reported N x subscribers deliveries in all.
 *   DROP_OLDEST, 100 subscribers: the publisher never waits for room; it
 *   yields (corio_sleep(0)) after every DROP_BURST (128) items, so each
 *   subscriber takes the last 64 of every burst and drops the rest.
 *   Checked: items in increasing order, the last one N, and received +
 *   corio_topic_sub_dropped == N for each.
 *   asyncio, 1 and 100 subscribers: the hand-made pub/sub of asyncio code,
 *   one asyncio.Queue(maxsize=64) per subscriber and `await q.put(item)`
 *   for each in turn (BLOCK semantics), fewer items (bench/py/loop_bench.py
 *   "topic"; it checks its counts too).
 *
 * Below the table: items published and deliveries (items received, summed
 * over subscribers) per second, from the medians, with corio's ratio to
 * the asyncio row with as many subscribers.
 */
#include "loopbench.h"
#include "suites.h"

#include <corio/task.h>
#include <corio/topic.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CAPACITY 64
#define DROP_BURST 128
#define ITEMS(quick, nsubs) \
    ((nsubs) == 1 ? ((quick) ? 5000 : 10000000) : ((quick) ? 500 : 200000))
/* asyncio is 50-100x slower: its rows run fewer items, once. */
#define PY_ITEMS(quick, nsubs) \
    ((nsubs) == 1 ? ((quick) ? 500 : 200000) : ((quick) ? 50 : 20000))

/* A row: its shape, and what its last sample delivered per item (for the
 * throughput lines under the table). */
struct tp_cfg {
    const char *label;
    int nsubs;
    int policy; /* -1: the asyncio row */
    double deliveries_per_item;
};

struct tp_sub {
    struct tp_state *s;
    corio_topic_sub *sub;
    uint64_t received, last;
    int rc;
};

struct tp_state {
    struct tp_cfg *cfg;
    const bench_opts *opts;
    corio_loop *loop;
    corio_topic *topic;
    struct tp_sub *subs;
    uint64_t n, delivered;
    int rc;
};

static int tp_subscriber(void *arg, void **result)
{
    struct tp_sub *me = arg;
    void *item;
    size_t missed;
    int rc;

    *result = NULL;
    while ((rc = corio_topic_next(me->sub, &item, &missed)) == 0) {
        uint64_t v = (uint64_t)(uintptr_t)item;
        if (missed != 0 || v <= me->last ||
            (me->s->cfg->policy == CORIO_TOPIC_BLOCK && v != me->last + 1)) {
            rc = -EPROTO;
            break;
        }
        me->last = v;
        me->received++;
    }
    me->rc = rc == CORIO_END ? 0 : rc;
    if (me->rc) { /* leave, or a BLOCK publisher would wait for us forever */
        corio_topic_unsubscribe(me->sub);
        me->sub = NULL;
    }
    return me->rc;
}

/* Publishes 1..n, then closes the topic. */
static int tp_publish(struct tp_state *s)
{
    int rc = 0;
    for (uint64_t i = 1; i <= s->n && rc == 0; i++) {
        size_t d;
        rc = corio_topic_publish(s->topic, (void *)(uintptr_t)i, &d);
        s->delivered += d;
        if (rc == 0 && s->cfg->policy != CORIO_TOPIC_BLOCK &&
            i % DROP_BURST == 0)
            rc = corio_sleep(0);
    }
    int cr = corio_topic_close(s->topic);
    return rc ? rc : cr;
}

/* Did every subscriber get what the policy promises? */
static int tp_verify(struct tp_state *s, uint64_t *received)
{
    int nsubs = s->cfg->nsubs;
    *received = 0;
    if (s->cfg->policy == CORIO_TOPIC_BLOCK &&
        s->delivered != s->n * (uint64_t)nsubs)
        return -EPROTO;
    for (int i = 0; i < nsubs; i++) {
        struct tp_sub *x = &s->subs[i];
        if (x->rc)
            return x->rc;
        if (x->last != s->n ||
            x->received + corio_topic_sub_dropped(x->sub) != s->n)
            return -EPROTO;
        *received += x->received;
    }
    return 0;
}

/* The publisher task: subscribes everyone, starts the subscriber tasks,
 * publishes, waits for them, checks and cleans up. */
static int tp_driver(void *arg, void **result)
{
    static const corio_task_opts sub_opts = {"topic subscriber", 0, 0};
    struct tp_state *s = arg;
    int nsubs = s->cfg->nsubs, rc, spawned = 0;
    corio_task **t = calloc((size_t)nsubs, sizeof *t);
    uint64_t received = 0;

    *result = NULL;
    s->delivered = 0;
    for (int i = 0; i < nsubs; i++) {
        struct tp_sub *x = &s->subs[i];
        x->s = s;
        x->sub = NULL;
        x->received = x->last = 0;
        x->rc = -EPROTO; /* until it ends */
    }
    rc = t ? corio_topic_new(&s->topic) : -ENOMEM;
    for (int i = 0; i < nsubs && rc == 0; i++)
        rc = corio_topic_subscribe(s->topic, CAPACITY, s->cfg->policy,
                                   &s->subs[i].sub);
    for (; spawned < nsubs && rc == 0; spawned++)
        rc = corio_spawn(tp_subscriber, &s->subs[spawned], &sub_opts,
                         &t[spawned]);
    if (rc == 0)
        rc = tp_publish(s);
    else if (s->topic)
        corio_topic_close(s->topic); /* lets the started ones end */
    for (int i = 0; i < spawned; i++) {
        int jr = corio_task_join(t[i], NULL);
        if (jr && !rc)
            rc = jr;
        corio_task_release(t[i]);
    }
    if (rc == 0)
        rc = tp_verify(s, &received);
    for (int i = 0; s->topic && i < nsubs; i++)
        if (s->subs[i].sub)
            corio_topic_unsubscribe(s->subs[i].sub);
    if (s->topic && corio_topic_free(s->topic) && rc == 0)
        rc = -EBUSY;
    s->topic = NULL;
    free(t);
    s->cfg->deliveries_per_item = (double)received / (double)s->n;
    s->rc = rc;
    corio_loop_stop(s->loop);
    return 0;
}

static int tp_setup(void **state, const bench_opts *opts, const char **why)
{
    struct tp_cfg *cfg = *state;
    struct tp_state *s = calloc(1, sizeof *s);
    int rc;
    (void)why;
    if (!s)
        return -ENOMEM;
    s->subs = calloc((size_t)cfg->nsubs, sizeof *s->subs);
    rc = s->subs ? corio_loop_new(NULL, &s->loop) : -ENOMEM;
    if (rc) {
        free(s->subs);
        free(s);
        return rc;
    }
    s->cfg = cfg;
    s->n = ITEMS(opts->quick, cfg->nsubs);
    *state = s;
    return 0;
}

static int tp_sample(void *state, lb_sample *ns_per_item, const char **why)
{
    struct tp_state *s = state;
    static const corio_task_opts driver = {"topic publisher", 0, 0};
    uint64_t c0 = lb_cpu_ns(), t0 = bench_now_ns();
    int rc;
    (void)why;
    s->rc = -EPROTO;
    rc = corio_loop_spawn(s->loop, tp_driver, s, &driver, NULL);
    if (rc == 0)
        rc = corio_loop_run(s->loop);
    ns_per_item->value = (double)(bench_now_ns() - t0) / (double)s->n;
    ns_per_item->cpu = (double)(lb_cpu_ns() - c0) / (double)s->n;
    return rc ? rc : s->rc;
}

static void tp_teardown(void *state)
{
    struct tp_state *s = state;
    corio_loop_free(s->loop);
    free(s->subs);
    free(s);
}

/* ---- asyncio ----------------------------------------------------------- */

struct py_state {
    struct tp_cfg *cfg;
    const bench_opts *opts;
};

static int py_setup(void **state, const bench_opts *opts, const char **why)
{
    struct py_state *p;
    int rc = lb_python_setup(why);
    if (rc)
        return rc;
    if (!(p = malloc(sizeof *p)))
        return -ENOMEM;
    p->cfg = *state;
    p->opts = opts;
    *state = p;
    return 0;
}

static int py_sample(void *state, lb_sample *ns_per_item, const char **why)
{
    struct py_state *p = state;
    char out[512], nsubs[32], n[32], cap[32];
    snprintf(nsubs, sizeof nsubs, "%d", p->cfg->nsubs);
    snprintf(n, sizeof n, "%d", PY_ITEMS(p->opts->quick, p->cfg->nsubs));
    snprintf(cap, sizeof cap, "%d", CAPACITY);
    const char *args[] = {"topic", nsubs, n, cap, NULL};
    int rc = lb_python_run(args, 120, out, sizeof out, why);
    if (rc)
        return rc;
    if (lb_field(out, "cpu_ns_per_item", &ns_per_item->cpu))
        ns_per_item->cpu = -1;
    if (lb_field(out, "ns_per_item", &ns_per_item->value))
        return -EPROTO;
    p->cfg->deliveries_per_item = p->cfg->nsubs;
    return 0;
}

/* ---- the table --------------------------------------------------------- */

enum { ROW_BLOCK1, ROW_BLOCK100, ROW_DROP100, ROW_PY1, ROW_PY100, NROWS };

#define L_BLOCK1 "corio BLOCK, 1 subscriber"
#define L_BLOCK100 "corio BLOCK, 100 subscribers"
#define L_DROP100 "corio DROP_OLDEST, 100 subscribers"
#define L_PY1 "asyncio Queue each, 1 subscriber"
#define L_PY100 "asyncio Queue each, 100 subscribers"

static struct tp_cfg cfgs[NROWS] = {
    [ROW_BLOCK1] = {L_BLOCK1, 1, CORIO_TOPIC_BLOCK, 0},
    [ROW_BLOCK100] = {L_BLOCK100, 100, CORIO_TOPIC_BLOCK, 0},
    [ROW_DROP100] = {L_DROP100, 100, CORIO_TOPIC_DROP_OLDEST, 0},
    [ROW_PY1] = {L_PY1, 1, -1, 0},
    [ROW_PY100] = {L_PY100, 100, -1, 0},
};

static const lb_row rows[NROWS] = {
    [ROW_BLOCK1] = {L_BLOCK1, tp_setup, tp_sample, tp_teardown, 0,
                    &cfgs[ROW_BLOCK1]},
    [ROW_BLOCK100] = {L_BLOCK100, tp_setup, tp_sample, tp_teardown, 0,
                      &cfgs[ROW_BLOCK100]},
    [ROW_DROP100] = {L_DROP100, tp_setup, tp_sample, tp_teardown, 0,
                     &cfgs[ROW_DROP100]},
    [ROW_PY1] = {L_PY1, py_setup, py_sample, free, 1, &cfgs[ROW_PY1]},
    [ROW_PY100] = {L_PY100, py_setup, py_sample, free, 1, &cfgs[ROW_PY100]},
};

/* "12.34 M" or "567.8 k" per second, from ns per item. */
static const char *per_sec(char *buf, size_t cap, double per_item_ns,
                           double times)
{
    double v = times * 1e9 / per_item_ns;
    if (v >= 1e6)
        snprintf(buf, cap, "%.2f M", v / 1e6);
    else
        snprintf(buf, cap, "%.1f k", v / 1e3);
    return buf;
}

static void print_throughput(const lb_result *res)
{
    /* DROP_OLDEST has no asyncio counterpart here. */
    static const int vs[NROWS] = {ROW_PY1, ROW_PY100, -1, -1, -1};
    printf("\n  %-36s  %10s  %13s  %10s\n", "Per second (from the medians)",
           "items", "deliveries", "vs asyncio");
    for (int i = 0; i < NROWS; i++) {
        char a[32], b[32], r[32] = "-";
        if (!res[i].ok || res[i].median <= 0)
            continue;
        if (vs[i] >= 0 && res[vs[i]].ok && res[vs[i]].median > 0)
            snprintf(r, sizeof r, "%.1fx",
                     res[vs[i]].median / res[i].median);
        printf("  %-36s  %10s  %13s  %10s\n", cfgs[i].label,
               per_sec(a, sizeof a, res[i].median, 1),
               per_sec(b, sizeof b, res[i].median,
                       cfgs[i].deliveries_per_item),
               r);
    }
}

static int topic_run(const bench_opts *opts)
{
    static const lb_table table = {
        "Pub/sub topic: one publisher, subscriber tasks, buffers of 64",
        "ns/item",
        1,
        rows,
        NROWS,
        {{NULL, 0}, {NULL, 0}},
        "CPU ns",
    };
    lb_result res[NROWS];
    int rc = lb_table_run(&table, opts, res);
    print_throughput(res);
    printf("\n"
           "  ns/item: wall time per item published, all subscribers "
           "included.\n"
           "  Items published: corio %s to 1 subscriber, %s to 100;\n"
           "  asyncio %s and %s.\n"
           "  DROP_OLDEST: the publisher yields every %d items; each "
           "subscriber\n"
           "  keeps the newest %d of a burst (deliveries: items received, "
           "not dropped).\n"
           "  vs asyncio: items/s against the asyncio row with as many "
           "subscribers\n"
           "  (one asyncio.Queue(maxsize=%d) each, `await q.put(item)` for "
           "each in turn).\n",
           lb_commas(ITEMS(opts->quick, 1)),
           lb_commas(ITEMS(opts->quick, 100)),
           lb_commas(PY_ITEMS(opts->quick, 1)),
           lb_commas(PY_ITEMS(opts->quick, 100)), DROP_BURST, CAPACITY,
           CAPACITY);
    return rc;
}

const bench_suite bench_suite_topic = {
    "topic",
    "one publisher fanning out to 1 and 100 subscriber tasks vs asyncio",
    topic_run,
};
