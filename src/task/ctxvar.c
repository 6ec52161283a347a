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
 * Owners. The current context of the thread belongs to an owner: the
 * innermost loop callback running (a frame, with the context captured
 * when the callback was scheduled, see corio__ctx_capture), else the
 * running task, else nobody (the empty context; set fails). An owner
 * keeps its map in a slot (t->ctxvars, fr->map).
 *
 * Context identity (for tokens). Python rejects a token reset in another
 * Context. Here a context is "the owner O" or "the corio_context C entered by
 * O". Contexts entered by corio_context_run or by a callback given one sit on
 * a per-thread list, newest first; the first one entered by O is O's
 * current context. A task spawned into a corio_context enters it for its
 * whole life without being on the list (t->ctx_whole, under any
 * corio_context_run of its own). The list holds only contexts being run right
 * now, so it stays short. A token made in an entered corio_context is valid
 * wherever that corio_context is the current one (Python's rule); otherwise
 * only with the same owner.
 *
 * Invariants:
 *   - m->refs >= 1, 1 <= m->n <= m->cap (an empty map is NULL, but one
 *     emptied in place may stay with n == 0), m->e[] strictly sorted by id;
 *   - a corio_context with owner != NULL has lent its map to that owner
 *     (ctx->map == NULL meanwhile; the map lives in *slot, or in the
 *     `outer` of a newer entry by the same owner), and is on the run
 *     list unless `whole`;
 *   - frames nest LIFO; a frame is always the innermost owner.
 *
 * Limits: reference counts are plain ints; contexts never cross threads.
 */
#include "alloc.h"
#include "task/task_impl.h"
#include "task/ctxvar_impl.h"

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
    struct corio__ctx_map *map;  /* NULL while entered (lent to owner) */
    const void *owner;           /* the task or frame inside it, or NULL */
    struct corio__ctx_map **slot; /* while entered: the owner's slot */
    struct corio__ctx_map *outer; /* while entered: the owner's map before */
    unsigned char whole;         /* entered by a task for its whole life */
    corio__node run_node;        /* in `runs` while entered (not whole) */
};

struct corio_ctxvar_token {
    uint64_t var_id;
    void *old;
    int had_old;
    int used;
    corio_loop *loop;   /* the context it was made in: loop, owner id, */
    uint64_t owner_id;  /* and the corio_context entered then, if any */
    corio_context *ctx;     /* (a reference) */
};

/* Whoever holds the thread's current context. */
typedef struct owner {
    const void *key;               /* the task or the frame */
    struct corio__ctx_map **slot;  /* where its map lives */
    uint64_t id;                   /* task id, or frame id (top bit set) */
    corio_task *task;              /* the task, if it is one */
} owner;

static atomic_uint_fast64_t next_var_id = 1;
static _Thread_local corio__list runs; /* entered contexts, newest first */
static _Thread_local corio__ctx_frame *frames; /* callbacks, innermost first */
static _Thread_local uint64_t next_frame_id;

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
        corio__free(m);
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
    m = corio__malloc(sizeof *m + (size_t)cap * sizeof m->e[0]);
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
            c = corio__realloc(m, sizeof *m + (size_t)m->cap * 2 * sizeof m->e[0]);
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

/* The current owner; 0 when there is none (outside tasks and callbacks). */
static int cur_owner(owner *o)
{
    corio_task *t;
    if (frames) {
        o->key = frames;
        o->slot = &frames->map;
        o->id = frames->id;
        o->task = NULL;
        return 1;
    }
    if ((t = corio__task_running()) != NULL) {
        o->key = t;
        o->slot = &t->ctxvars;
        o->id = t->id;
        o->task = t;
        return 1;
    }
    return 0;
}

/* The current context's map (NULL: empty, or no owner). */
static struct corio__ctx_map *cur_map(void)
{
    owner o;
    return cur_owner(&o) ? *o.slot : NULL;
}

static corio_context *run_of(const corio__node *n)
{
    return n ? CORIO__CONTAINER(n, corio_context, run_node) : NULL;
}

/* The corio_context o has entered last, or NULL for its own context. */
static corio_context *entered_by(const owner *o)
{
    corio_context *c;
    for (c = run_of(runs.first); c; c = run_of(c->run_node.next))
        if (c->owner == o->key)
            return c;
    return o->task ? o->task->ctx_whole : NULL;
}

/* Lend ctx's map to o (it becomes o's current context) and list it. */
static void ctx_enter(corio_context *ctx, const owner *o)
{
    corio_context_retain(ctx);
    ctx->outer = *o->slot;
    *o->slot = ctx->map; /* ctx's reference moves to the owner */
    ctx->map = NULL;
    ctx->owner = o->key;
    ctx->slot = o->slot;
    corio__list_push_front(&runs, &ctx->run_node);
}

/* Undo ctx_enter: ctx takes its map back, the owner its own. */
static void ctx_leave(corio_context *ctx)
{
    assert(ctx->owner && !ctx->whole);
    corio__list_remove(&runs, &ctx->run_node);
    ctx->map = *ctx->slot;
    *ctx->slot = ctx->outer;
    ctx->outer = NULL;
    ctx->owner = NULL;
    ctx->slot = NULL;
    corio_context_release(ctx);
}

/* ---- variables ------------------------------------------------------------------ */

static int var_new(const char *name, void *def, int has_def,
                   corio_ctxvar **out)
{
    corio_ctxvar *v;
    if (!name || !out)
        return -EINVAL;
    if (!(v = corio__malloc(sizeof *v)))
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
    corio__free(var);
}

const char *corio_ctxvar_name(const corio_ctxvar *var)
{
    return var ? var->name : "";
}

int corio_ctxvar_get(const corio_ctxvar *var, void **value)
{
    return map_get(cur_map(), var, value);
}

int corio_ctxvar_set(corio_ctxvar *var, void *value, corio_ctxvar_token **tok)
{
    corio_ctxvar_token *k = NULL;
    owner o;
    long i;
    int rc;

    if (!var)
        return -EINVAL;
    if (!cur_owner(&o))
        return CORIO_ENOTASK;
    if (tok) {
        if (!(k = corio__malloc(sizeof *k)))
            return -ENOMEM;
        i = map_find(*o.slot, var->id);
        k->var_id = var->id;
        k->had_old = i >= 0;
        k->old = i >= 0 ? (*o.slot)->e[i].value : NULL;
        k->used = 0;
        k->loop = corio_loop_current();
        k->owner_id = o.id;
        k->ctx = entered_by(&o);
    }
    if ((rc = map_set(o.slot, var->id, value)) != 0) {
        corio__free(k);
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
    corio_context *cur;
    owner o;
    int rc;

    if (!tok)
        return -EINVAL;
    if (!cur_owner(&o))
        return CORIO_ENOTASK;
    cur = entered_by(&o);
    if (tok->used || tok->ctx != cur ||
        (!cur && (tok->loop != corio_loop_current() || tok->owner_id != o.id)))
        return -EINVAL;
    rc = tok->had_old ? map_set(o.slot, tok->var_id, tok->old)
                      : map_del(o.slot, tok->var_id);
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
    corio__free(tok);
}

/* ---- context objects ------------------------------------------------------------ */

int corio_context_copy(corio_context **out)
{
    corio_context *c;
    if (!out)
        return -EINVAL;
    if (!(c = corio__malloc(sizeof *c)))
        return -ENOMEM;
    c->refs = 1;
    c->map = corio__ctx_map_retain(cur_map());
    c->owner = NULL;
    c->slot = NULL;
    c->whole = 0;
    c->outer = NULL;
    c->run_node.next = c->run_node.prev = NULL;
    *out = c;
    return 0;
}

void corio_context_retain(corio_context *ctx)
{
    if (!ctx)
        return;
    assert(ctx->refs > 0);
    ctx->refs++;
}

void corio_context_release(corio_context *ctx)
{
    if (!ctx || --ctx->refs > 0)
        return;
    assert(!ctx->owner); /* whoever entered it holds a reference */
    corio__ctx_map_release(ctx->map);
    corio__free(ctx);
}

int corio_context_run(corio_context *ctx, int (*fn)(void *), void *arg)
{
    owner o;
    int rc;

    if (!ctx || !fn)
        return -EINVAL;
    if (!cur_owner(&o))
        return CORIO_ENOTASK;
    if (ctx->owner)
        return -EBUSY;
    ctx_enter(ctx, &o);
    rc = fn(arg);
    assert(ctx->owner == o.key);
    ctx_leave(ctx);
    return rc;
}

/* ctx's values now: while entered, they are lent to its owner, which
 * holds them in its slot or, inside a later entry of its own, saved them
 * in that entry's `outer`. A whole-life entry is older than any listed
 * one. */
static const struct corio__ctx_map *live_map(const corio_context *ctx)
{
    const corio_context *c, *newer = NULL;
    if (!ctx->owner)
        return ctx->map;
    if (ctx->whole) {
        for (c = run_of(runs.first); c; c = run_of(c->run_node.next))
            if (c->owner == ctx->owner)
                newer = c; /* the oldest listed one wins */
    } else {
        for (c = run_of(ctx->run_node.prev); c && !newer;
             c = run_of(c->run_node.prev))
            if (c->owner == ctx->owner)
                newer = c;
    }
    return newer ? newer->outer : *ctx->slot;
}

int corio_context_get(const corio_context *ctx, const corio_ctxvar *var,
                      void **value)
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

/* ---- contexts for callbacks and spawns (loop.c, future.c, task.c) ------------------
 *
 * The loop layer carries captures and frames without knowing what a
 * context is: these four are its corio__ctx_ops, registered before main. */

static void ctx_capture(corio__ctx_cap *c, corio_context *ctx)
{
    if (ctx) {
        corio_context_retain(ctx);
        c->ctx = ctx;
        c->map = NULL;
    } else {
        c->ctx = NULL;
        c->map = corio__ctx_map_retain(cur_map());
    }
}

static void ctx_capture_drop(corio__ctx_cap *c)
{
    corio__ctx_map_release(c->map);
    c->map = NULL;
    if (c->ctx)
        corio_context_release(c->ctx);
    c->ctx = NULL;
}

static int ctx_frame_push(corio__ctx_frame *fr, corio__ctx_cap *c)
{
    owner o;
    if (c->ctx && c->ctx->owner)
        return -EBUSY;
    fr->map = c->map; /* the capture's reference moves to the frame */
    c->map = NULL;
    fr->id = (UINT64_C(1) << 63) | next_frame_id++;
    fr->entered = c->ctx;
    c->ctx = NULL;
    fr->prev = frames;
    frames = fr;
    if (fr->entered) {
        cur_owner(&o);
        ctx_enter(fr->entered, &o);
        corio_context_release(fr->entered); /* ctx_enter took its own */
    }
    return 0;
}

static void ctx_frame_pop(corio__ctx_frame *fr)
{
    assert(frames == fr);
    if (fr->entered)
        ctx_leave(fr->entered); /* may free it: the capture's ref is gone */
    frames = fr->prev;
    corio__ctx_map_release(fr->map);
    fr->map = NULL;
}

static const corio__ctx_ops ctx_ops = {ctx_capture, ctx_capture_drop,
                                       ctx_frame_push, ctx_frame_pop};

__attribute__((constructor)) static void ctx_register(void)
{
    corio__ctx_ops_registered = &ctx_ops;
}

struct corio__ctx_map *corio__ctx_current(void)
{
    /* On every spawn: read the owner's map directly, no owner record. */
    struct corio__ctx_map *m;
    corio_task *t;
    if (frames)
        m = frames->map;
    else
        m = (t = corio__task_running()) != NULL ? t->ctxvars : NULL;
    if (m)
        m->refs++;
    return m;
}

int corio__ctx_enter_whole(corio_task *t, corio_context *ctx)
{
    if (ctx->owner)
        return -EBUSY;
    corio_context_retain(ctx);
    corio__ctx_map_release(t->ctxvars);
    t->ctxvars = ctx->map; /* lent for the task's life */
    ctx->map = NULL;
    ctx->owner = t;
    ctx->slot = &t->ctxvars;
    ctx->whole = 1;
    t->ctx_whole = ctx;
    return 0;
}

void corio__ctx_leave_whole(corio_task *t)
{
    corio_context *ctx = t->ctx_whole;
    if (!ctx)
        return;
    assert(ctx->owner == t && ctx->whole);
    ctx->map = t->ctxvars;
    t->ctxvars = NULL;
    ctx->owner = NULL;
    ctx->slot = NULL;
    ctx->whole = 0;
    t->ctx_whole = NULL;
    corio_context_release(ctx);
}

int corio__ctx_busy(const corio_context *ctx)
{
    return ctx->owner != NULL;
}
