/*
 * cycles.c: debug mode's check for tasks that wait on each other in a
 * cycle while the loop itself stays alive (a timer ticking, a socket
 * open, other tasks working), which the loop's global deadlock report
 * cannot see.
 *
 * When an iteration finds nothing ready (the loop's idle hook), it builds
 * the wait-for graph of the loop's parked tasks from their wait records'
 * describe ops (wait.h): an edge from a task to each task its wait waits
 * for (a joined task, a lock's holder, a future's named completer, a
 * group's children, what a gather waits for). Waits that end by
 * themselves (a deadline) give no edges. Every cycle is printed once to
 * stderr, with each task's spawn site and what it waits on.
 *
 * (slow.c installs the hook CORIO_DEBUG uses, which calls this one.)
 *
 * Cost: only in debug mode, and only when the set of parked tasks changed
 * since the last look (a sum over their park stamps; one pass over the
 * task list otherwise).
 */
#include "alloc.h"
#include "diag/diag_impl.h"

#include <stdlib.h>
#include <string.h>

typedef corio__diag_state diag_state;

static void release_state(corio__closer *c, corio_loop *loop)
{
    diag_state *ds = CORIO__CONTAINER(c, diag_state, release);
    loop->diag = NULL;
    loop->idle_hook = NULL;
    corio__free(ds->batch);
    corio__free(ds);
}

static void let_go(corio__closer *c, corio_loop *loop)
{
    (void)c;
    corio__diag_sigdump_let_go(loop);
    corio__diag_slow_let_go(loop);
}

void corio__diag_let_go_at_free(corio_loop *loop, diag_state *ds)
{
    if (ds->let_go_set)
        return;
    ds->let_go_set = 1;
    ds->let_go.order = CORIO__CLOSE_TASKS - 1;
    ds->let_go.close = let_go;
    corio__loop_add_closer(loop, &ds->let_go);
}

diag_state *corio__diag_state_of(corio_loop *loop)
{
    diag_state *ds = loop->diag;
    if (ds || loop->closing)
        return ds;
    if (!(ds = corio__calloc(1, sizeof *ds)))
        return NULL;
    ds->since = corio__clock_ns();
    ds->release.order = CORIO__CLOSE_RELEASE;
    ds->release.close = release_state;
    corio__loop_add_closer(loop, &ds->release);
    loop->diag = ds;
    return ds;
}

typedef struct node {
    corio_task *t;
    corio__wait_desc d;
    size_t edge[CORIO__WAIT_DESC_EDGES];
    size_t nedge;
    unsigned char color; /* 0 new, 1 on the path, 2 done */
} node;

static int node_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const node *)a)->t;
    uintptr_t y = (uintptr_t)((const node *)b)->t;
    return x < y ? -1 : x > y;
}

static size_t find(node *v, size_t n, const corio_task *t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)v[mid].t < (uintptr_t)t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].t == t ? lo : SIZE_MAX;
}

static int id_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Print the cycle path[from..len) unless printed before. */
static void report(diag_state *ds, node *v, const size_t *path, size_t from,
                   size_t len)
{
    uint64_t ids[64], sig = 1469598103934665603ull;
    size_t i, k, n = len - from;
    if (n > 64)
        n = 64;
    for (i = 0; i < n; i++)
        ids[i] = v[path[from + i]].t->id;
    qsort(ids, n, sizeof ids[0], id_cmp);
    for (i = 0; i < n; i++)
        sig = (sig ^ ids[i]) * 1099511628211ull;
    for (k = 0; k < ds->nreported; k++)
        if (ds->reported[k] == sig)
            return;
    if (ds->nreported < CORIO__DIAG_REPORTED_MAX)
        ds->reported[ds->nreported++] = sig;
    fprintf(stderr, "corio: deadlock: %zu task(s) wait on each other in a "
                    "cycle (the loop itself goes on):\n",
            len - from);
    for (i = from; i < len; i++) {
        const node *x = &v[path[i]];
        fprintf(stderr, "  task '%s' (#%llu, spawned at %s:%d) waits on %s\n",
                x->t->name, (unsigned long long)x->t->id, x->t->file,
                x->t->line, x->d.text);
    }
    fflush(stderr);
}

/* Depth-first, iterative: each cycle is found at its back edge. */
static void search(diag_state *ds, node *v, size_t n, size_t start,
                   size_t *path, size_t *next)
{
    size_t len = 0;
    path[len] = start;
    next[len++] = 0;
    v[start].color = 1;
    while (len > 0) {
        node *x = &v[path[len - 1]];
        size_t e = next[len - 1]++;
        if (e >= x->nedge) {
            x->color = 2;
            len--;
            continue;
        }
        size_t y = x->edge[e];
        if (v[y].color == 1) {
            size_t from = len;
            while (from > 0 && path[from - 1] != y)
                from--;
            if (from > 0)
                report(ds, v, path, from - 1, len);
        } else if (v[y].color == 0 && len < n) {
            v[y].color = 1;
            path[len] = y;
            next[len++] = 0;
        }
    }
}

void corio__diag_cycle_check(corio_loop *loop)
{
    diag_state *ds = corio__diag_state_of(loop);
    corio__node *nd, *nx;
    node *v;
    size_t *path, *next;
    size_t n = 0, i, k;
    uint64_t sig = 0;
    if (!ds || !loop->tasks)
        return;
    /* Anything new parked since the last look? */
    CORIO__LIST_EACH(nd, nx, &loop->tasks->all) {
        corio_task *t = CORIO__CONTAINER(nd, corio_task, all_node);
        if (corio__task_parked(t)) {
            sig = sig * 31 + (uint64_t)t->wait_since + t->id;
            n++;
        }
    }
    if (n < 2 || (sig == ds->last_sig && n == ds->last_n)) {
        ds->last_sig = sig;
        ds->last_n = n;
        return;
    }
    ds->last_sig = sig;
    ds->last_n = n;
    v = corio__calloc(n, sizeof *v);
    path = corio__calloc(n + 1, sizeof *path);
    next = corio__calloc(n + 1, sizeof *next);
    if (!v || !path || !next)
        goto out;
    i = 0;
    CORIO__LIST_EACH(nd, nx, &loop->tasks->all) {
        corio_task *t = CORIO__CONTAINER(nd, corio_task, all_node);
        if (corio__task_parked(t) && i < n)
            v[i++].t = t;
    }
    n = i;
    qsort(v, n, sizeof *v, node_cmp);
    for (i = 0; i < n; i++) {
        corio__wait_describe(&v[i].t->wait, &v[i].d);
        if (v[i].d.deadline >= 0)
            continue; /* it ends by itself */
        for (k = 0; k < v[i].d.nedges && k < CORIO__WAIT_DESC_EDGES; k++) {
            size_t j = find(v, n, v[i].d.edge[k]);
            if (j != SIZE_MAX)
                v[i].edge[v[i].nedge++] = j;
        }
    }
    for (i = 0; i < n; i++)
        if (v[i].color == 0)
            search(ds, v, n, i, path, next);
out:
    corio__free(v);
    corio__free(path);
    corio__free(next);
}
