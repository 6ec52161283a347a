/*
 * dump.c: corio_loop_dump (corio/diag.h): every live task of a loop, what
 * it waits on, who waits for whom, and where each is suspended; in text
 * for people and JSON for tools. Also the per-loop debug mode (the run
 * hook that stamps parks) and the completer note on futures.
 *
 * The dump reads the loop's task list and each task's wait record
 * through its kind's describe op (wait.h); the wait-for edges those give
 * are inverted into "awaited by" and printed as a tree from the tasks
 * nobody waits for (a cycle is marked where it closes). It runs on the
 * loop's thread and changes nothing.
 */
#include "alloc.h"
#include "diag/diag_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN_MAX 16 /* spawning tasks shown per task */

typedef struct row {
    corio_task *t;
    corio__wait_desc d;  /* when parked */
    size_t *by;          /* rows that wait for this one */
    size_t nby, capby;
    size_t edge_row[CORIO__WAIT_DESC_EDGES]; /* rows of d.edge, or SIZE_MAX */
    unsigned char parked;
} row;

typedef struct dump {
    corio_loop *loop;
    FILE *out;
    row *rows;
    size_t n;
    corio_task *running;
    int64_t now;      /* the loop's clock (deadlines) */
    int64_t real_now; /* the real one (wait stamps) */
} dump;

/* ---- debug mode ------------------------------------------------------------------ */

int corio_diag_debug(corio_loop *loop, int on)
{
    if (!loop)
        return -EINVAL;
    loop->run_hook = on ? corio__diag_run : NULL;
    loop->idle_hook = on ? corio__diag_cycle_check : NULL;
    return 0;
}

int corio_diag_future_completer(corio_future *f, corio_task *t)
{
    if (!f || f->magic != CORIO__FUTURE_MAGIC)
        return -EINVAL;
    if (t && f->loop && t->loop != f->loop)
        return -EINVAL;
    f->completer = t;
    f->completer_id = t ? t->id : 0;
    return 0;
}

/* ---- gathering --------------------------------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const row *)a)->t;
    uintptr_t y = (uintptr_t)((const row *)b)->t;
    return x < y ? -1 : x > y;
}

static size_t row_of(const dump *dp, const corio_task *t)
{
    size_t lo = 0, hi = dp->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)dp->rows[mid].t < (uintptr_t)t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < dp->n && dp->rows[lo].t == t ? lo : SIZE_MAX;
}

static int add_by(row *r, size_t who)
{
    if (r->nby == r->capby) {
        size_t cap = r->capby ? 2 * r->capby : 4;
        size_t *p = corio__realloc(r->by, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        r->by = p;
        r->capby = cap;
    }
    r->by[r->nby++] = who;
    return 0;
}

static void free_rows(dump *dp)
{
    size_t i;
    for (i = 0; i < dp->n; i++)
        corio__free(dp->rows[i].by);
    corio__free(dp->rows);
}

static int gather(dump *dp)
{
    corio__node *nd, *nx;
    size_t i, k, n = dp->loop->tasks ? dp->loop->tasks->ntasks : 0;
    dp->rows = corio__calloc(n ? n : 1, sizeof *dp->rows);
    if (!dp->rows)
        return -ENOMEM;
    dp->n = 0;
    if (dp->loop->tasks) {
        CORIO__LIST_EACH(nd, nx, &dp->loop->tasks->all) {
            if (dp->n == n)
                break;
            dp->rows[dp->n++].t = CORIO__CONTAINER(nd, corio_task, all_node);
        }
    }
    qsort(dp->rows, dp->n, sizeof *dp->rows, row_cmp);
    for (i = 0; i < dp->n; i++) {
        row *r = &dp->rows[i];
        r->parked = corio__task_parked(r->t);
        if (r->parked)
            corio__wait_describe(&r->t->wait, &r->d);
        for (k = 0; k < CORIO__WAIT_DESC_EDGES; k++)
            r->edge_row[k] = SIZE_MAX;
    }
    for (i = 0; i < dp->n; i++) {
        row *r = &dp->rows[i];
        for (k = 0; r->parked && k < r->d.nedges && k < CORIO__WAIT_DESC_EDGES;
             k++) {
            size_t j = row_of(dp, r->d.edge[k]);
            r->edge_row[k] = j;
            if (j != SIZE_MAX && add_by(&dp->rows[j], i) != 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* Tasks in the order they were spawned (ids), for output. */
static int id_cmp(const void *a, const void *b)
{
    const row *x = *(row *const *)a, *y = *(row *const *)b;
    return x->t->id < y->t->id ? -1 : x->t->id > y->t->id;
}

static const char *state_of(const dump *dp, const corio_task *t)
{
    if (t == dp->running || t->coro.state == CORIO_CORO_RUNNING ||
        t->coro.state == CORIO_CORO_NORMAL)
        return "running";
    if (corio__task_parked(t))
        return "waiting";
    if (t->queued)
        return t->coro.state == CORIO_CORO_CREATED ? "not started" : "ready";
    return "suspended";
}

/* ---- text ------------------------------------------------------------------------- */

static void text_task_ref(FILE *out, const corio_task *t)
{
    fprintf(out, "'%s' (#%llu)", t->name, (unsigned long long)t->id);
}

static void text_chain(dump *dp, const corio_task *t)
{
    FILE *out = dp->out;
    uint64_t pid = t->parent_id;
    int depth = 0;
    fprintf(out, "  spawned at %s:%d", t->file, t->line);
    while (pid && depth++ < CHAIN_MAX) {
        corio_task *p = corio__task_by_id(dp->loop, pid);
        if (!p) {
            fprintf(out, "\n    by task #%llu (ended)",
                    (unsigned long long)pid);
            break;
        }
        fprintf(out, "\n    by ");
        text_task_ref(out, p);
        fprintf(out, ", spawned at %s:%d", p->file, p->line);
        pid = p->parent_id;
    }
    fputc('\n', out);
}

static void text_task(dump *dp, const row *r)
{
    FILE *out = dp->out;
    const corio_task *t = r->t;
    void *pcs[CORIO__BT_MAX];
    size_t i, n;
    fprintf(out, "task #%llu '%s' [%s]\n", (unsigned long long)t->id, t->name,
            state_of(dp, t));
    text_chain(dp, t);
    if (t->group) {
        fprintf(out, "  in a task group of ");
        text_task_ref(out, corio__group_parent(t->group));
        fputc('\n', out);
    }
    if (r->parked) {
        fprintf(out, "  waits on %s\n", r->d.text);
        if (t->wait_since > 0)
            fprintf(out, "  waiting for %.3f s\n",
                    (double)(dp->real_now - t->wait_since) / 1e9);
    }
    if (t->cancel_requests > 0)
        fprintf(out, "  cancelling: %d request(s)%s%s%s\n", t->cancel_requests,
                t->cancel_msg ? " (\"" : "",
                t->cancel_msg ? t->cancel_msg : "",
                t->cancel_msg ? "\")" : "");
    if (r->nby) {
        fprintf(out, "  awaited by:");
        for (i = 0; i < r->nby; i++) {
            fputc(' ', out);
            text_task_ref(out, dp->rows[r->by[i]].t);
        }
        fputc('\n', out);
    }
    n = corio__bt_task(t, pcs, CORIO__BT_MAX);
    if (n) {
        fprintf(out, "  backtrace:\n");
        corio__bt_print(out, "    ", pcs, n);
    }
}

/* Print r and, indented, what it waits for; on_path marks the rows of
 * the path from the root, so a cycle is shown where it closes. */
static void text_tree(dump *dp, size_t i, int depth, unsigned char *on_path,
                      unsigned char *shown)
{
    FILE *out = dp->out;
    row *r = &dp->rows[i];
    size_t k;
    fprintf(out, "%*s", 2 + 2 * depth, "");
    text_task_ref(out, r->t);
    if (on_path[i]) {
        fprintf(out, ": ... a cycle: back to this task (deadlock)\n");
        return;
    }
    if (r->parked)
        fprintf(out, ": %s\n", r->d.text);
    else
        fprintf(out, " [%s]\n", state_of(dp, r->t));
    if (depth > 64)
        return;
    shown[i] = 1;
    on_path[i] = 1;
    for (k = 0; r->parked && k < r->d.nedges && k < CORIO__WAIT_DESC_EDGES; k++)
        if (r->edge_row[k] != SIZE_MAX)
            text_tree(dp, r->edge_row[k], depth + 1, on_path, shown);
    on_path[i] = 0;
}

static void text_dump(dump *dp, row **order)
{
    FILE *out = dp->out;
    corio_loop *loop = dp->loop;
    unsigned char *on_path = corio__calloc(dp->n + 1, 1);
    unsigned char *shown = corio__calloc(dp->n + 1, 1);
    size_t i;
    fprintf(out,
            "corio dump of loop %p: %zu task(s); %zu ready, %zu timer(s), "
            "%zu outside wait(s); poller %s; symbols by %s; debug mode %s\n",
            (void *)loop, dp->n, loop->ready.n, loop->timers.n,
            loop->outside_waits, loop->pops->name, corio__bt_symbolizer(),
            loop->run_hook ? "on" : "off (no wait times)");
    if (dp->running && dp->running->loop == loop)
        fprintf(out, "running now: task '%s' (#%llu)\n", dp->running->name,
                (unsigned long long)dp->running->id);
    for (i = 0; i < dp->n; i++) {
        fputc('\n', out);
        text_task(dp, order[i]);
    }
    if (dp->n && on_path && shown) {
        fprintf(out, "\nawait tree (each task, then the tasks it waits for):\n");
        for (i = 0; i < dp->n; i++) {
            size_t j = (size_t)(order[i] - dp->rows);
            if (order[i]->nby == 0)
                text_tree(dp, j, 0, on_path, shown);
        }
        for (i = 0; i < dp->n; i++) { /* what only cycles reach */
            size_t j = (size_t)(order[i] - dp->rows);
            if (!shown[j])
                text_tree(dp, j, 0, on_path, shown);
        }
    }
    corio__free(on_path);
    corio__free(shown);
}

/* ---- JSON ------------------------------------------------------------------------- */

void corio__json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_frames(FILE *out, void *const *pcs, size_t n)
{
    corio__sym *syms = corio__bt_symbolize_all(pcs, n);
    size_t i;
    fputc('[', out);
    for (i = 0; syms && i < n; i++) {
        corio__sym s = syms[i];
        fprintf(out, "%s{\"pc\":\"%p\",\"function\":", i ? "," : "", pcs[i]);
        if (s.name[0])
            corio__json_str(out, s.name);
        else
            fputs("null", out);
        fprintf(out, ",\"offset\":%lu,\"file\":", (unsigned long)s.offset);
        if (s.file[0])
            corio__json_str(out, s.file);
        else
            fputs("null", out);
        fprintf(out, ",\"line\":%d,\"object\":", s.line);
        corio__json_str(out, s.object);
        fprintf(out, ",\"object_offset\":%lu}", (unsigned long)s.obj_off);
    }
    fputc(']', out);
    corio__free(syms);
}

static void json_task(dump *dp, const row *r)
{
    FILE *out = dp->out;
    const corio_task *t = r->t;
    void *pcs[CORIO__BT_MAX];
    uint64_t pid = t->parent_id;
    size_t i, n;
    int depth = 0, first = 1;
    fprintf(out, "{\"id\":%llu,\"name\":", (unsigned long long)t->id);
    corio__json_str(out, t->name);
    fprintf(out, ",\"state\":\"%s\",\"spawned_at\":{\"file\":", state_of(dp, t));
    corio__json_str(out, t->file);
    fprintf(out, ",\"line\":%d},\"spawned_by\":[", t->line);
    while (pid && depth++ < CHAIN_MAX) {
        corio_task *p = corio__task_by_id(dp->loop, pid);
        fprintf(out, "%s{\"id\":%llu,\"name\":", first ? "" : ",",
                (unsigned long long)pid);
        first = 0;
        if (!p) {
            fputs("null,\"ended\":true}", out);
            break;
        }
        corio__json_str(out, p->name);
        fputs(",\"file\":", out);
        corio__json_str(out, p->file);
        fprintf(out, ",\"line\":%d}", p->line);
        pid = p->parent_id;
    }
    fputs("],\"group_of\":", out);
    if (t->group)
        fprintf(out, "%llu",
                (unsigned long long)corio__group_parent(t->group)->id);
    else
        fputs("null", out);
    fputs(",\"waits_on\":", out);
    if (r->parked) {
        fputs("{\"kind\":", out);
        corio__json_str(out, t->wait.ops ? t->wait.ops->what : "?");
        fputs(",\"text\":", out);
        corio__json_str(out, r->d.text);
        fputs(",\"tasks\":[", out);
        for (i = 0; i < r->d.nedges && i < CORIO__WAIT_DESC_EDGES; i++) {
            fprintf(out, "%s{\"id\":%llu,\"how\":", i ? "," : "",
                    (unsigned long long)r->d.edge[i]->id);
            corio__json_str(out, r->d.edge_how[i]);
            fputc('}', out);
        }
        fputs("],\"ends_in\":", out);
        if (r->d.deadline >= 0)
            fprintf(out, "%.6f", (double)(r->d.deadline - dp->now) / 1e9);
        else
            fputs("null", out);
        fputs(",\"waited\":", out);
        if (t->wait_since > 0)
            fprintf(out, "%.6f",
                    (double)(dp->real_now - t->wait_since) / 1e9);
        else
            fputs("null", out);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fprintf(out, ",\"cancelling\":%d,\"awaited_by\":[", t->cancel_requests);
    for (i = 0; i < r->nby; i++)
        fprintf(out, "%s%llu", i ? "," : "",
                (unsigned long long)dp->rows[r->by[i]].t->id);
    fputs("],\"backtrace\":", out);
    n = corio__bt_task(t, pcs, CORIO__BT_MAX);
    json_frames(out, pcs, n);
    fputc('}', out);
}

static void json_dump(dump *dp, row **order)
{
    FILE *out = dp->out;
    corio_loop *loop = dp->loop;
    size_t i;
    fprintf(out,
            "{\"loop\":\"%p\",\"poller\":\"%s\",\"ready\":%zu,\"timers\":%zu,"
            "\"outside_waits\":%zu,\"debug\":%s,\"symbols\":\"%s\","
            "\"running\":",
            (void *)loop, loop->pops->name, loop->ready.n, loop->timers.n,
            loop->outside_waits, loop->run_hook ? "true" : "false",
            corio__bt_symbolizer());
    if (dp->running && dp->running->loop == loop)
        fprintf(out, "%llu", (unsigned long long)dp->running->id);
    else
        fputs("null", out);
    fputs(",\"tasks\":[", out);
    for (i = 0; i < dp->n; i++) {
        if (i)
            fputc(',', out);
        json_task(dp, order[i]);
    }
    fputs("]}\n", out);
}

/* ---- the call ---------------------------------------------------------------------- */

int corio_loop_dump(corio_loop *loop, FILE *out, int format)
{
    dump dp;
    row **order;
    size_t i;
    int rc;
    if (!loop)
        loop = corio_loop_current();
    if (!loop || !out ||
        (format != CORIO_DUMP_TEXT && format != CORIO_DUMP_JSON))
        return -EINVAL;
    memset(&dp, 0, sizeof dp);
    dp.loop = loop;
    dp.out = out;
    dp.running = corio__task_running();
    dp.now = corio__loop_now_ns();
    dp.real_now = corio__clock_ns();
    if ((rc = gather(&dp)) != 0) {
        free_rows(&dp);
        return rc;
    }
    order = corio__malloc((dp.n ? dp.n : 1) * sizeof *order);
    if (!order) {
        free_rows(&dp);
        return -ENOMEM;
    }
    for (i = 0; i < dp.n; i++)
        order[i] = &dp.rows[i];
    qsort(order, dp.n, sizeof *order, id_cmp);
    if (format == CORIO_DUMP_JSON)
        json_dump(&dp, order);
    else
        text_dump(&dp, order);
    corio__free(order);
    free_rows(&dp);
    return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
