/*
 * ctxvar.c: task-local context variables (Python's contextvars).
 *
 * A context is a struct corio__ctx_map: a reference-counted array of
 * (variable id, value) sorted by id, or NULL for the empty context. Each
 * task holds one reference in t->ctxvars; a spawn takes another on the
 * spawner's (task.c), so the copy is O(1). The map is immutable while
 * shared: a set on a map with refs > 1 builds a new one (copy-on-write);
 * with refs == 1 it is changed in place. Keys are ids, not pointers, so a
 * freed variable's stale entries can never be mistaken for a new one's.
 *
 * Context identity (for tokens). Python rejects a token reset in another
 * Context. Here a context is "task T" or "the corio_context C entered by task
 * T". Entered corio_context objects sit on a per-thread list, newest first;
 * the first one entered by T is T's current context. The list holds only
 * contexts being run right now, so it stays short.
 *
 * Invariants:
 *   - m->refs >= 1, 1 <= m->n <= m->cap (an empty map is NULL, but one
 *     emptied in place may stay with n == 0), m->e[] strictly sorted by id;
 *   - a corio_context with task != NULL is on the run list and its map has
 *     been lent to that task (ctx->map == NULL meanwhile).
 *
 * Limits: reference counts are plain ints; contexts never cross threads.
 */
#include "loop_impl.h"
#include "corio/ctxvar.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct corio_ctxvar {
    uint64_t id;
    const char *name;
    void *def;
    int has_def;
};

struct ctx_entry {
    uint64_t id;
    void *value;
};

struct corio__ctx_map {
    int refs;
    unsigned n, cap;
    struct ctx_entry e[];
};

struct corio_context {
    int refs;
    struct corio__ctx_map *map;  /* NULL while entered (lent to task) */
    corio_task *task;            /* the task running inside it, or NULL */
    struct corio__ctx_map *outer; /* while entered: the task's map before */
    corio__node run_node;        /* in `runs` while entered */
};

struct corio_ctxvar_token {
    uint64_t var_id;
    void *old;
    int had_old;
    int used;
    corio_loop *loop;   /* the context it was made in: loop, task id, */
    uint64_t task_id;   /* and the corio_context entered then, if any */
    corio_context *ctx;     /* (a reference) */
};

static atomic_uint_fast64_t next_var_id = 1;
static _Thread_local corio__list runs; /* entered contexts, newest first */

static corio_context *ctx_of_run(corio__node *n)
{
    return n ? CORIO__CONTAINER(n, corio_context, run_node) : NULL;
}

/* ---- the map ------------------------------------------------------------------- */

struct corio__ctx_map *corio__ctx_map_retain(struct corio__ctx_map *m)
{
    if (m) {
        assert(m->refs > 0);
        m->refs++;
    }
    return m;
}

void corio__ctx_map_release(struct corio__ctx_map *m)
{
    if (m && --m->refs == 0)
        free(m);
}

int corio__ctx_map_refs(const struct corio__ctx_map *m)
{
    return m ? m->refs : 0;
}

/* Index of id in m, or -(insertion point) - 1. */
static long map_find(const struct corio__ctx_map *m, uint64_t id)
{
    unsigned lo = 0, hi = m ? m->n : 0;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (m->e[mid].id == id)
            return (long)mid;
        if (m->e[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

static struct corio__ctx_map *map_alloc(unsigned cap)
{
    struct corio__ctx_map *m;
    if (cap < 4)
        cap = 4;
    m = malloc(sizeof *m + (size_t)cap * sizeof m->e[0]);
    if (!m)
        return NULL;
    m->refs = 1;
    m->n = 0;
    m->cap = cap;
    return m;
}

/* Set id to value in *mp (a reference the caller owns), copying the map
 * if it is shared. Returns 0 or -ENOMEM (then *mp is unchanged). */
static int map_set(struct corio__ctx_map **mp, uint64_t id, void *value)
{
    struct corio__ctx_map *m = *mp, *c;
    long i = map_find(m, id);
    unsigned at;

    if (i >= 0 && m->refs == 1) {
        m->e[i].value = value;
        return 0;
    }
    if (i >= 0) { /* shared: copy with the new value */
        if (!(c = map_alloc(m->n)))
            return -ENOMEM;
        memcpy(c->e, m->e, m->n * sizeof m->e[0]);
        c->n = m->n;
        c->e[i].value = value;
        corio__ctx_map_release(m);
        *mp = c;
        return 0;
    }
    at = (unsigned)(-i - 1);
    if (m && m->refs == 1) {
        if (m->n == m->cap) {
            c = realloc(m, sizeof *m + (size_t)m->cap * 2 * sizeof m->e[0]);
            if (!c)
                return -ENOMEM;
            c->cap *= 2;
            *mp = m = c;
        }
        memmove(&m->e[at + 1], &m->e[at], (m->n - at) * sizeof m->e[0]);
        m->n++;
    } else {
        unsigned n = m ? m->n : 0;
        if (!(c = map_alloc(n + 1)))
            return -ENOMEM;
        if (m) {
            memcpy(c->e, m->e, at * sizeof m->e[0]);
            memcpy(&c->e[at + 1], &m->e[at], (n - at) * sizeof m->e[0]);
        }
        c->n = n + 1;
        corio__ctx_map_release(m);
        *mp = m = c;
    }
    m->e[at].id = id;
    m->e[at].value = value;
    return 0;
}

/* Remove id from *mp. Returns 0 or -ENOMEM (*mp unchanged). */
static int map_del(struct corio__ctx_map **mp, uint64_t id)
{
    struct corio__ctx_map *m = *mp, *c;
    long i = map_find(m, id);
    if (i < 0)
        return 0;
    if (m->n == 1) {
        corio__ctx_map_release(m);
        *mp = NULL;
        return 0;
    }
    if (m->refs == 1) {
        memmove(&m->e[i], &m->e[i + 1],
                (m->n - (unsigned)i - 1) * sizeof m->e[0]);
        m->n--;
        return 0;
    }
    if (!(c = map_alloc(m->n - 1)))
        return -ENOMEM;
    memcpy(c->e, m->e, (size_t)i * sizeof m->e[0]);
    memcpy(&c->e[i], &m->e[i + 1], (m->n - (unsigned)i - 1) * sizeof m->e[0]);
    c->n = m->n - 1;
    corio__ctx_map_release(m);
    *mp = c;
    return 0;
}

static int map_get(const struct corio__ctx_map *m, const corio_ctxvar *var,
                   void **value)
{
    long i;
    if (!var || !value)
        return -EINVAL;
    if ((i = map_find(m, var->id)) >= 0) {
        *value = m->e[i].value;
        return 0;
    }
    if (!var->has_def)
        return -ENOENT;
    *value = var->def;
    return 0;
}

/* The corio_context task t has entered last, or NULL for its own context. */
static corio_context *entered_by(const corio_task *t)
{
    corio_context *c;
    for (c = ctx_of_run(runs.first); c; c = ctx_of_run(c->run_node.next))
        if (c->task == t)
            return c;
    return NULL;
}

/* ---- variables ------------------------------------------------------------------ */

static int var_new(const char *name, void *def, int has_def,
                   corio_ctxvar **out)
{
    corio_ctxvar *v;
    if (!name || !out)
        return -EINVAL;
    if (!(v = malloc(sizeof *v)))
        return -ENOMEM;
    v->id = atomic_fetch_add(&next_var_id, 1);
    v->name = name;
    v->def = def;
    v->has_def = has_def;
    *out = v;
    return 0;
}

int corio_ctxvar_new(const char *name, void *default_value,
                     corio_ctxvar **out)
{
    return var_new(name, default_value, 1, out);
}

int corio_ctxvar_new_nodefault(const char *name, corio_ctxvar **out)
{
    return var_new(name, NULL, 0, out);
}

void corio_ctxvar_free(corio_ctxvar *var)
{
    free(var);
}

const char *corio_ctxvar_name(const corio_ctxvar *var)
{
    return var->name;
}

int corio_ctxvar_get(const corio_ctxvar *var, void **value)
{
    corio_task *t = corio__task_running();
    return map_get(t ? t->ctxvars : NULL, var, value);
}

int corio_ctxvar_set(corio_ctxvar *var, void *value, corio_ctxvar_token **tok)
{
    corio_task *t = corio__task_running();
    corio_ctxvar_token *k = NULL;
    long i;
    int rc;

    if (!var)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (tok) {
        if (!(k = malloc(sizeof *k)))
            return -ENOMEM;
        i = map_find(t->ctxvars, var->id);
        k->var_id = var->id;
        k->had_old = i >= 0;
        k->old = i >= 0 ? t->ctxvars->e[i].value : NULL;
        k->used = 0;
        k->loop = t->loop;
        k->task_id = t->id;
        k->ctx = entered_by(t);
    }
    if ((rc = map_set(&t->ctxvars, var->id, value)) != 0) {
        free(k);
        return rc;
    }
    if (k) {
        if (k->ctx)
            corio_context_retain(k->ctx);
        *tok = k;
    }
    return 0;
}

int corio_ctxvar_reset(corio_ctxvar_token *tok)
{
    corio_task *t = corio__task_running();
    int rc;

    if (!tok)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (tok->used || tok->loop != t->loop || tok->task_id != t->id ||
        tok->ctx != entered_by(t))
        return -EINVAL;
    rc = tok->had_old ? map_set(&t->ctxvars, tok->var_id, tok->old)
                      : map_del(&t->ctxvars, tok->var_id);
    if (rc == 0)
        tok->used = 1;
    return rc;
}

void corio_ctxvar_token_free(corio_ctxvar_token *tok)
{
    if (!tok)
        return;
    if (tok->ctx)
        corio_context_release(tok->ctx);
    free(tok);
}

/* ---- context objects ------------------------------------------------------------ */

int corio_context_copy(corio_context **out)
{
    corio_task *t = corio__task_running();
    corio_context *c;
    if (!out)
        return -EINVAL;
    if (!(c = malloc(sizeof *c)))
        return -ENOMEM;
    c->refs = 1;
    c->map = corio__ctx_map_retain(t ? t->ctxvars : NULL);
    c->task = NULL;
    c->outer = NULL;
    c->run_node.next = c->run_node.prev = NULL;
    *out = c;
    return 0;
}

void corio_context_retain(corio_context *ctx)
{
    assert(ctx->refs > 0);
    ctx->refs++;
}

void corio_context_release(corio_context *ctx)
{
    if (!ctx || --ctx->refs > 0)
        return;
    assert(!ctx->task); /* corio_context_run holds a reference */
    corio__ctx_map_release(ctx->map);
    free(ctx);
}

int corio_context_run(corio_context *ctx, int (*fn)(void *), void *arg)
{
    corio_task *t = corio__task_running();
    int rc;

    if (!ctx || !fn)
        return -EINVAL;
    if (!t)
        return CORIO_ENOTASK;
    if (ctx->task)
        return -EBUSY;
    corio_context_retain(ctx);
    ctx->outer = t->ctxvars;
    t->ctxvars = ctx->map; /* ctx's reference moves to the task */
    ctx->map = NULL;
    ctx->task = t;
    corio__list_push_front(&runs, &ctx->run_node);

    rc = fn(arg);

    assert(corio__task_running() == t && ctx->task == t);
    corio__list_remove(&runs, &ctx->run_node);
    ctx->task = NULL;
    ctx->map = t->ctxvars;
    t->ctxvars = ctx->outer;
    ctx->outer = NULL;
    corio_context_release(ctx);
    return rc;
}

/* ctx's values now: while entered, they are lent to its task, which holds
 * them itself or, inside a later corio_context_run, saved them in that ctx. */
static const struct corio__ctx_map *live_map(const corio_context *ctx)
{
    const corio_context *c;
    if (!ctx->task)
        return ctx->map;
    for (c = ctx_of_run(ctx->run_node.prev); c;
         c = ctx_of_run(c->run_node.prev))
        if (c->task == ctx->task)
            return c->outer;
    return ctx->task->ctxvars;
}

int corio_context_get(const corio_context *ctx, const corio_ctxvar *var, void **value)
{
    if (!ctx)
        return -EINVAL;
    return map_get(live_map(ctx), var, value);
}

size_t corio_context_size(const corio_context *ctx)
{
    const struct corio__ctx_map *m = ctx ? live_map(ctx) : NULL;
    return m ? m->n : 0;
}
