/*
 * traceback.c: debug mode's sites and tracebacks for the lower layers'
 * reports, which cannot call this layer themselves: they call hooks this
 * file installs (from slow.c's constructor, whenever this layer is linked
 * in: a constructor here would not pull this file into a static link).
 *
 *   - the never-resumed report of a corio_coro_new coroutine (core's
 *     corio__coro_site_hook): "function (file:line)" of its creation site;
 *   - the unretrieved-error report of a task (task.c's corio__fail_trace):
 *     corio_fail, in a loop in debug mode, records the C backtrace from its
 *     caller outward and the chain of tasks that spawned the failing one,
 *     while they still live; the report prints both under its line:
 *
 *       corio: task 'leaf' (spawned at app.c:40 by task 'mid' (#2)) failed
 *       at app.c:12 with EIO (...): disk gone and nobody retrieved the error
 *         async traceback of task 'leaf' (#3), most recent call first:
 *           #0 0x... read_block+0x2c at app.c:12
 *           #1 0x... leaf_main+0x1b at app.c:20
 *           ...
 *         spawned at app.c:40
 *           by task 'mid' (#2), spawned at app.c:55
 *           by task 'main' (#1), spawned at app.c:70
 *
 * Cost: nothing outside debug mode (the lower layers test the loop's run
 * hook, or read CORIO_DEBUG, only when they report or fail).
 */
#include "alloc.h"
#include "diag/diag_impl.h"

#include <string.h>

#define TRACE_CHAIN_MAX 16 /* spawning tasks recorded */

/* What corio_fail records in debug mode (task.c frees it). */
typedef struct fail_record {
    size_t npcs;
    void *pcs[CORIO__BT_MAX];
    char chain[1024]; /* "spawned at ...", one line per spawner */
} fail_record;

/* ---- the creation site of a coroutine ---------------------------------------- */

static void coro_site(void *ret, char *buf, size_t len)
{
    /* Looked up inside the call, not at the instruction after it. */
    void *pc = (void *)((uintptr_t)ret - 1);
    corio__sym *s = corio__bt_symbolize_all(&pc, 1);
    const char *obj;
    if (!s)
        return;
    obj = strrchr(s->object, '/');
    obj = obj ? obj + 1 : s->object;
    if (s->name[0] && s->file[0])
        snprintf(buf, len, "%s (%s:%d)", s->name, s->file, s->line);
    else if (s->name[0])
        snprintf(buf, len, "%s+0x%lx in %s", s->name,
                 (unsigned long)s->offset, obj);
    else if (obj[0])
        snprintf(buf, len, "%s+0x%lx", obj, (unsigned long)s->obj_off);
    corio__free(s);
}

/* ---- the async traceback of a failed task ------------------------------------ */

static void chain_text(const corio_task *t, char *buf, size_t len)
{
    size_t n = 0;
    uint64_t pid = t->parent_id;
    int depth = 0, w;
    w = snprintf(buf, len, "spawned at %s:%d\n", t->file, t->line);
    n = w > 0 ? (size_t)w : 0;
    while (pid && depth++ < TRACE_CHAIN_MAX && n < len) {
        corio_task *p = corio__task_by_id(t->loop, pid);
        if (p)
            w = snprintf(buf + n, len - n,
                         "  by task '%s' (#%llu), spawned at %s:%d\n",
                         p->name, (unsigned long long)p->id, p->file,
                         p->line);
        else
            w = snprintf(buf + n, len - n, "  by task #%llu (ended)\n",
                         (unsigned long long)pid);
        if (w < 0)
            break;
        n += (size_t)w;
        if (!p)
            break;
        pid = p->parent_id;
    }
}

static void *fail_capture(const corio_task *t, void *fp)
{
    fail_record *r = corio__malloc(sizeof *r);
    const struct corio_coro *co = &t->coro;
    uintptr_t lo, hi;
    if (!r)
        return NULL;
    r->npcs = 0;
    if (co->stack && fp) {
        lo = (uintptr_t)co->stack->lo;
        hi = lo + co->stack->size;
        /* From corio_fail's frame record: the first address is where its
         * caller called it. */
        r->npcs = corio__bt_walk(NULL, fp, lo, hi, NULL, r->pcs,
                                 CORIO__BT_MAX);
        if (r->npcs)
            r->pcs[0] = (void *)((uintptr_t)r->pcs[0] - 1);
    }
    chain_text(t, r->chain, sizeof r->chain);
    return r;
}

static void fail_print(const corio_task *t, const void *trace)
{
    const fail_record *r = trace;
    char text[16384], now[1024];
    const char *chain;
    FILE *out = fmemopen(text, sizeof text, "w");
    if (!out)
        return;
    if (r && r->npcs) {
        fprintf(out, "  async traceback of task '%s' (#%llu), where it "
                     "failed (corio_fail), most recent call first:\n",
                t->name, (unsigned long long)t->id);
        corio__bt_print(out, "    ", r->pcs, r->npcs);
    } else {
        fprintf(out, "  task '%s' (#%llu): no backtrace (it %s)\n", t->name,
                (unsigned long long)t->id,
                r ? "failed on a stack corio could not walk"
                  : "returned its error without corio_fail");
    }
    if (r) {
        chain = r->chain;
    } else {
        chain_text(t, now, sizeof now);
        chain = now;
    }
    /* Each line of the chain indented under the report. */
    while (*chain) {
        const char *nl = strchr(chain, '\n');
        size_t n = nl ? (size_t)(nl - chain) : strlen(chain);
        fprintf(out, "  %.*s\n", (int)n, chain);
        chain += n + (nl ? 1 : 0);
    }
    corio__bt_emit(out, text, sizeof text);
}

static const corio__fail_trace_hooks fail_hooks = {fail_capture, fail_print};

void corio__diag_traceback_hooks(void)
{
    corio__coro_site_hook = coro_site;
    corio__fail_trace = &fail_hooks;
}
