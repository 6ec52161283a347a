/*
 * test_ctxvar.c: context variables: defaults, set/get/reset, tokens used
 * twice or in the wrong context, inheritance at spawn in both directions,
 * O(1) spawn (the child shares its parent's map), copy-on-write, many
 * variables in random order, corio_context_run (nested, suspending, spawning),
 * lean tasks, and calls outside any task.
 */
#include "test.h"
#include "run_body.h"
#include "task/task_impl.h"
#include "task/ctxvar_impl.h"

#include <corio.h>
#include <errno.h>
#include <stdint.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

static corio_ctxvar *va, *vb, *vn; /* default 1, default NULL, no default */

static void vars_new(void)
{
    CHECK_EQ(corio_ctxvar_new("a", IP(1), &va), 0);
    CHECK_EQ(corio_ctxvar_new("b", NULL, &vb), 0);
    CHECK_EQ(corio_ctxvar_new_nodefault("n", &vn), 0);
}

static void vars_free(void)
{
    corio_ctxvar_free(va);
    corio_ctxvar_free(vb);
    corio_ctxvar_free(vn);
}

static intptr_t get(corio_ctxvar *v)
{
    void *x = IP(-12345);
    int rc = corio_ctxvar_get(v, &x);
    return rc ? rc : PI(x);
}

/* Let every ready task run until it parks. */
/* ---- defaults, set, get, reset ---------------------------------------------------- */

static int defaults_body(void)
{
    void *x = IP(7);
    CHECK_EQ(get(va), 1);
    CHECK_EQ(get(vb), 0);
    CHECK_EQ(corio_ctxvar_get(vn, &x), -ENOENT);
    CHECK_PTR(x, IP(7)); /* untouched */
    CHECK_EQ(corio_ctxvar_get(NULL, &x), -EINVAL);
    CHECK_EQ(corio_ctxvar_get(va, NULL), -EINVAL);
    CHECK_EQ(corio_ctxvar_set(NULL, x, NULL), -EINVAL);
    CHECK_EQ(corio_ctxvar_reset(NULL), -EINVAL);
    return 0;
}

TEST(ctxvar_defaults)
{
    corio_ctxvar *v;
    vars_new();
    CHECK(strcmp(corio_ctxvar_name(va), "a") == 0);
    CHECK_EQ(corio_ctxvar_new(NULL, NULL, &v), -EINVAL);
    CHECK_EQ(corio_ctxvar_new("x", NULL, NULL), -EINVAL);
    CHECK_EQ(corio_ctxvar_new_nodefault(NULL, &v), -EINVAL);
    CHECK_EQ(run(defaults_body), 0);
    vars_free();
    corio_ctxvar_free(NULL);
}

static int set_get_reset_body(void)
{
    corio_ctxvar_token *t1, *t2, *t3;
    CHECK_EQ(corio_ctxvar_set(va, IP(10), &t1), 0);
    CHECK_EQ(get(va), 10);
    CHECK_EQ(corio_ctxvar_set(va, IP(20), &t2), 0);
    CHECK_EQ(get(va), 20);
    CHECK_EQ(corio_ctxvar_set(vn, IP(30), &t3), 0);
    CHECK_EQ(get(vn), 30);
    CHECK_EQ(corio_ctxvar_set(vb, IP(40), NULL), 0); /* no token wanted */
    CHECK_EQ(get(vb), 40);

    CHECK_EQ(corio_ctxvar_reset(t2), 0);
    CHECK_EQ(get(va), 10);
    CHECK_EQ(corio_ctxvar_reset(t1), 0);
    CHECK_EQ(get(va), 1); /* unset again: the default */
    CHECK_EQ(corio_ctxvar_reset(t3), 0);
    CHECK_EQ(get(vn), -ENOENT);
    CHECK_EQ(get(vb), 40);
    corio_ctxvar_token_free(t1);
    corio_ctxvar_token_free(t2);
    corio_ctxvar_token_free(t3);
    corio_ctxvar_token_free(NULL);

    /* Resetting out of order restores what that set saw. */
    CHECK_EQ(corio_ctxvar_set(va, IP(5), &t1), 0);
    CHECK_EQ(corio_ctxvar_set(va, IP(6), &t2), 0);
    CHECK_EQ(corio_ctxvar_reset(t1), 0);
    CHECK_EQ(get(va), 1);
    CHECK_EQ(corio_ctxvar_reset(t2), 0);
    CHECK_EQ(get(va), 5);
    corio_ctxvar_token_free(t1);
    corio_ctxvar_token_free(t2);
    return 0;
}

TEST(ctxvar_set_get_reset)
{
    vars_new();
    CHECK_EQ(run(set_get_reset_body), 0);
    vars_free();
}

/* ---- tokens: used twice, wrong context --------------------------------------------- */

static corio_ctxvar_token *foreign_tok;

static int reset_foreign(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_ctxvar_reset(foreign_tok);
}

static int set_in_ctx(void *arg)
{
    return corio_ctxvar_set(va, IP(77), (corio_ctxvar_token **)arg);
}

static int reset_in_ctx(void *arg)
{
    return corio_ctxvar_reset(arg);
}

static int tokens_body(void)
{
    corio_ctxvar_token *t, *tin;
    corio_context *c, *c2;
    corio_task *child;
    void *res;

    CHECK_EQ(corio_ctxvar_set(va, IP(2), &t), 0);
    CHECK_EQ(corio_ctxvar_reset(t), 0);
    CHECK_EQ(corio_ctxvar_reset(t), -EINVAL); /* used twice */
    CHECK_EQ(get(va), 1);
    corio_ctxvar_token_free(t);

    /* A token reset by another task (its context is a copy, not this). */
    CHECK_EQ(corio_ctxvar_set(va, IP(3), &foreign_tok), 0);
    CHECK_EQ(corio_spawn(reset_foreign, NULL, NULL, &child), 0);
    CHECK_EQ(corio_task_join(child, &res), -EINVAL);
    corio_task_release(child);
    CHECK_EQ(get(va), 3);
    CHECK_EQ(corio_ctxvar_reset(foreign_tok), 0); /* still fine here */
    corio_ctxvar_token_free(foreign_tok);

    /* A token made inside corio_context_run is not valid outside it, nor
     * inside another ctx, and one from outside is not valid inside. */
    CHECK_EQ(corio_context_copy(&c), 0);
    CHECK_EQ(corio_context_copy(&c2), 0);
    CHECK_EQ(corio_context_run(c, set_in_ctx, &tin), 0);
    CHECK_EQ(corio_ctxvar_reset(tin), -EINVAL);
    CHECK_EQ(corio_context_run(c2, reset_in_ctx, tin), -EINVAL);
    CHECK_EQ(corio_ctxvar_set(va, IP(4), &t), 0);
    CHECK_EQ(corio_context_run(c, reset_in_ctx, t), -EINVAL);
    CHECK_EQ(corio_context_run(c, reset_in_ctx, tin), 0);
    CHECK_EQ(corio_context_run(c, reset_in_ctx, tin), -EINVAL);
    CHECK_EQ(corio_ctxvar_reset(t), 0);
    corio_context_release(c);  /* the token tin still holds c */
    corio_context_release(c2);
    corio_ctxvar_token_free(tin);
    corio_ctxvar_token_free(t);
    return 0;
}

TEST(ctxvar_tokens)
{
    vars_new();
    CHECK_EQ(run(tokens_body), 0);
    vars_free();
}

/* ---- inheritance -------------------------------------------------------------------- */

struct seen {
    intptr_t a0, n0, a1;
    corio_future *go; /* wait for it between the two reads */
    int set_child;
};

static int child_reads(void *arg, void **result)
{
    struct seen *s = arg;
    (void)result;
    s->a0 = get(va);
    s->n0 = get(vn);
    if (s->set_child) {
        CHECK_EQ(corio_ctxvar_set(va, IP(500), NULL), 0);
        CHECK_EQ(corio_ctxvar_set(vn, IP(501), NULL), 0);
    }
    if (s->go)
        CHECK_EQ(corio_future_await(s->go, NULL), 0);
    s->a1 = get(va);
    return 0;
}

static int inherit_body(void)
{
    struct seen s = {0};
    corio_task *t;
    void *res;

    /* The child sees the parent's values at spawn... */
    CHECK_EQ(corio_ctxvar_set(va, IP(100), NULL), 0);
    CHECK_EQ(corio_ctxvar_set(vn, IP(101), NULL), 0);
    s.set_child = 1;
    CHECK_EQ(corio_spawn(child_reads, &s, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, &res), 0);
    corio_task_release(t);
    CHECK_EQ(s.a0, 100);
    CHECK_EQ(s.n0, 101);
    CHECK_EQ(s.a1, 500);
    /* ...and its changes never reach the parent. */
    CHECK_EQ(get(va), 100);
    CHECK_EQ(get(vn), 101);

    /* The parent's changes after the spawn never reach the child, even
     * before it first runs. */
    memset(&s, 0, sizeof s);
    CHECK_EQ(corio_future_new(NULL, &s.go), 0);
    CHECK_EQ(corio_spawn(child_reads, &s, NULL, &t), 0);
    CHECK_EQ(corio_ctxvar_set(va, IP(200), NULL), 0);
    settle();
    CHECK_EQ(s.a0, 100);
    CHECK_EQ(corio_ctxvar_set(va, IP(300), NULL), 0);
    CHECK_EQ(corio_future_set_result(s.go, NULL), 0);
    CHECK_EQ(corio_task_join(t, &res), 0);
    corio_task_release(t);
    corio_future_release(s.go);
    CHECK_EQ(s.a1, 100);
    CHECK_EQ(get(va), 300);
    return 0;
}

TEST(ctxvar_inherit)
{
    vars_new();
    CHECK_EQ(run(inherit_body), 0);
    vars_free();
}

/* A task spawned outside any task (corio_loop_spawn before the loop runs)
 * starts empty. */
static int reads_default(void *arg, void **result)
{
    (void)arg;
    (void)result;
    CHECK_EQ(get(va), 1);
    CHECK_EQ(get(vn), -ENOENT);
    CHECK(corio_task_current()->ctxvars == NULL);
    corio_loop_stop(corio_loop_current());
    return 0;
}

TEST(ctxvar_spawn_outside_task)
{
    corio_loop *loop;
    corio_task *t;
    vars_new();
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_spawn(loop, reads_default, NULL, NULL, &t), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(corio_task_result(t, NULL), 0);
    corio_task_release(t);
    corio_loop_free(loop);
    vars_free();
}

/* ---- O(1) spawn: 10,000 children share one map ------------------------------------ */

#define NVARS 50
#define NKIDS 10000
static corio_ctxvar *many[NVARS];

static int kid(void *arg, void **result)
{
    intptr_t i = PI(arg);
    (void)result;
    CHECK_EQ(get(many[i % NVARS]), 1000 + i % NVARS);
    if (i % 2) /* copy-on-write: the others keep the shared map */
        CHECK_EQ(corio_ctxvar_set(many[i % NVARS], IP(-1), NULL), 0);
    CHECK_EQ(get(many[i % NVARS]), i % 2 ? -1 : 1000 + i % NVARS);
    return 0;
}

static int share_body(void)
{
    corio_task *me = corio_task_current(), **kids;
    struct corio__ctx_map *m;
    void *res;

    for (int i = 0; i < NVARS; i++)
        CHECK_EQ(corio_ctxvar_set(many[i], IP(1000 + i), NULL), 0);
    m = me->ctxvars;
    CHECK_EQ(corio__ctx_map_refs(m), 1);
    CHECK((kids = malloc(NKIDS * sizeof *kids)) != NULL);
    for (intptr_t i = 0; i < NKIDS; i++) {
        CHECK_EQ(corio_spawn(kid, IP(i), NULL, &kids[i]), 0);
        CHECK(kids[i]->ctxvars == m); /* shared, not copied */
    }
    CHECK(me->ctxvars == m);
    CHECK_EQ(corio__ctx_map_refs(m), NKIDS + 1);
    for (int i = 0; i < NKIDS; i++) {
        CHECK_EQ(corio_task_join(kids[i], &res), 0);
        corio_task_release(kids[i]);
    }
    free(kids);
    CHECK_EQ(corio__ctx_map_refs(m), 1);
    /* Unshared again: a set updates in place. */
    CHECK_EQ(corio_ctxvar_set(many[0], IP(9), NULL), 0);
    CHECK(me->ctxvars == m);
    for (int i = 1; i < NVARS; i++)
        CHECK_EQ(get(many[i]), 1000 + i);
    return 0;
}

TEST(ctxvar_spawn_shares_map)
{
    for (int i = 0; i < NVARS; i++)
        CHECK_EQ(corio_ctxvar_new("many", NULL, &many[i]), 0);
    CHECK_EQ(run(share_body), 0);
    for (int i = 0; i < NVARS; i++)
        corio_ctxvar_free(many[i]);
}

/* ---- the map against a model: random sets and resets -------------------------------- */

#define NRAND 64
static int random_body(void)
{
    corio_ctxvar *v[NRAND];
    corio_ctxvar_token *first[NRAND]; /* made when v[i] was unset */
    intptr_t model[NRAND];            /* 0: unset */
    corio_context *snap = NULL;
    uint32_t seed = 12345;

    for (int i = 0; i < NRAND; i++) {
        CHECK_EQ(corio_ctxvar_new_nodefault("r", &v[i]), 0);
        model[i] = 0;
        first[i] = NULL;
    }
    for (int step = 0; step < 20000; step++) {
        int i, op;
        corio_ctxvar_token *tok;
        seed = seed * 1103515245u + 12345u;
        i = (int)((seed >> 8) % NRAND);
        op = (int)((seed >> 20) % 4);
        if (step % 97 == 0) { /* share the map now and then */
            corio_context_release(snap);
            CHECK_EQ(corio_context_copy(&snap), 0);
        }
        if (op <= 1 || (op == 2 && !first[i])) {
            CHECK_EQ(corio_ctxvar_set(v[i], IP(step + 1),
                                      model[i] ? NULL : &first[i]), 0);
            model[i] = step + 1;
        } else if (op == 2) { /* back to unset: deletes the entry */
            CHECK_EQ(corio_ctxvar_reset(first[i]), 0);
            CHECK_EQ(corio_ctxvar_reset(first[i]), -EINVAL);
            corio_ctxvar_token_free(first[i]);
            first[i] = NULL;
            model[i] = 0;
        } else { /* set then reset: back to what it was */
            CHECK_EQ(corio_ctxvar_set(v[i], IP(-5), &tok), 0);
            CHECK_EQ(get(v[i]), -5);
            CHECK_EQ(corio_ctxvar_reset(tok), 0);
            corio_ctxvar_token_free(tok);
        }
        for (int j = 0; j < NRAND; j++)
            CHECK_EQ(get(v[j]), model[j] ? model[j] : -ENOENT);
    }
    corio_context_release(snap);
    for (int i = 0; i < NRAND; i++) {
        corio_ctxvar_token_free(first[i]);
        corio_ctxvar_free(v[i]);
    }
    return 0;
}

TEST(ctxvar_random_model)
{
    CHECK_EQ(run(random_body), 0);
}

/* ---- corio_context_run -------------------------------------------------------------------- */

static corio_context *cx;

static int in_ctx(void *arg)
{
    corio_context *other = arg;
    corio_task *t;
    struct seen s = {0};
    void *res;
    int rc;

    CHECK_EQ(get(va), 10); /* the snapshot's value */
    CHECK_EQ(corio_ctxvar_set(va, IP(11), NULL), 0);
    CHECK_EQ(corio_ctxvar_set(vn, IP(12), NULL), 0);
    CHECK_EQ(corio_context_run(cx, in_ctx, NULL), -EBUSY); /* entered */
    CHECK_EQ(corio_sleep(0), 0); /* suspending inside is fine */
    CHECK_EQ(get(va), 11);
    /* A task spawned inside copies cx. */
    CHECK_EQ(corio_spawn(child_reads, &s, NULL, &t), 0);
    CHECK_EQ(corio_task_join(t, &res), 0);
    corio_task_release(t);
    CHECK_EQ(s.a0, 11);
    CHECK_EQ(s.n0, 12);
    if (other) { /* nested: cx's values read through the inner run */
        rc = corio_context_run(other, in_ctx, NULL);
        CHECK_EQ(get(va), 11);
        return rc;
    }
    {
        void *x;
        CHECK_EQ(corio_context_get(cx, va, &x), 0);
        CHECK_EQ(PI(x), 11);
    }
    return 42;
}

static int entered_elsewhere(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_context_run(cx, in_ctx, NULL);
}

static int ctx_run_body(void)
{
    corio_context *c2;
    corio_task *t;
    void *x, *res;

    CHECK_EQ(corio_ctxvar_set(va, IP(10), NULL), 0);
    CHECK_EQ(corio_context_copy(&cx), 0);
    CHECK_EQ(corio_ctxvar_set(va, IP(20), NULL), 0); /* not in cx */
    CHECK_EQ(corio_context_size(cx), 1);

    /* Another task tries to enter cx while this one is inside. */
    CHECK_EQ(corio_spawn(entered_elsewhere, NULL, NULL, &t), 0);
    CHECK_EQ(corio_context_run(cx, in_ctx, NULL), 42);
    CHECK_EQ(corio_task_join(t, &res), -EBUSY);
    corio_task_release(t);

    /* Back in the task's own context; cx kept the changes. */
    CHECK_EQ(get(va), 20);
    CHECK_EQ(get(vn), -ENOENT);
    CHECK_EQ(corio_context_get(cx, va, &x), 0);
    CHECK_EQ(PI(x), 11);
    CHECK_EQ(corio_context_get(cx, vn, &x), 0);
    CHECK_EQ(PI(x), 12);
    CHECK_EQ(corio_context_get(cx, vb, &x), 0);
    CHECK_PTR(x, NULL);
    CHECK_EQ(corio_context_size(cx), 2);

    /* Nested runs of two contexts: in cx, then in c2 inside it. */
    CHECK_EQ(corio_ctxvar_set(va, IP(10), NULL), 0);
    corio_context_release(cx);
    CHECK_EQ(corio_context_copy(&cx), 0);
    CHECK_EQ(corio_context_copy(&c2), 0);
    CHECK_EQ(corio_ctxvar_set(va, IP(20), NULL), 0);
    /* inner in_ctx runs in c2 (va 10 there) and sets 11 in c2 */
    CHECK_EQ(corio_context_run(cx, in_ctx, c2), 42);
    CHECK_EQ(corio_context_get(c2, va, &x), 0);
    CHECK_EQ(PI(x), 11);
    CHECK_EQ(get(va), 20);

    CHECK_EQ(corio_context_run(NULL, in_ctx, NULL), -EINVAL);
    CHECK_EQ(corio_context_run(cx, NULL, NULL), -EINVAL);
    CHECK_EQ(corio_context_get(NULL, va, &x), -EINVAL);
    corio_context_release(c2);
    corio_context_release(cx);
    return 0;
}

TEST(ctxvar_ctx_run)
{
    vars_new();
    CHECK_EQ(run(ctx_run_body), 0);
    vars_free();
}

/* ---- lean tasks ------------------------------------------------------------------------ */

static int lean_body(void)
{
    /* Not on this lean task's stack: the children read it while this
     * task's stack is saved away. */
    static struct seen s[8];
    corio_task_opts lean = {0};
    corio_task *t[8];
    corio_context *c;
    void *res;

    lean.flags = CORIO_CORO_LEAN;
    CHECK_EQ(corio_ctxvar_set(va, IP(100), NULL), 0);
    CHECK_EQ(corio_ctxvar_set(vn, IP(101), NULL), 0);
    CHECK_EQ(corio_context_copy(&c), 0);
    memset(s, 0, sizeof s);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(corio_future_new(NULL, &s[i].go), 0);
        s[i].set_child = 1;
        CHECK_EQ(corio_spawn(child_reads, &s[i], &lean, &t[i]), 0);
    }
    settle();
    CHECK_EQ(corio_ctxvar_set(va, IP(7), NULL), 0);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(corio_future_set_result(s[i].go, NULL), 0);
        CHECK_EQ(corio_task_join(t[i], &res), 0);
        corio_task_release(t[i]);
        corio_future_release(s[i].go);
        CHECK_EQ(s[i].a0, 100);
        CHECK_EQ(s[i].n0, 101);
        CHECK_EQ(s[i].a1, 500);
    }
    CHECK_EQ(get(va), 7);
    CHECK_EQ(get(vn), 101);
    corio_context_release(c);
    return 0;
}

static int lean_main(void *arg, void **result)
{
    (void)arg;
    int rc;
    (void)result;
    rc = lean_body();
    corio_loop_stop(corio_loop_current());
    return rc;
}

TEST(ctxvar_lean)
{
    corio_task_opts lean = {0};
    corio_loop *loop;
    corio_task *t;
    vars_new();
    /* Both the parent and its children run on shared stacks. */
    lean.flags = CORIO_CORO_LEAN;
    CHECK_EQ(corio_loop_new(NULL, &loop), 0);
    CHECK_EQ(corio_loop_spawn(loop, lean_main, NULL, &lean, &t), 0);
    CHECK_EQ(corio_loop_run(loop), 0);
    CHECK_EQ(corio_task_result(t, NULL), 0);
    corio_task_release(t);
    corio_loop_free(loop);
    vars_free();
}

/* ---- outside any task ------------------------------------------------------------------- */

static int never(void *arg)
{
    (void)arg;
    CHECK(0);
    return 0;
}

TEST(ctxvar_outside_task)
{
    corio_ctxvar_token *tok = NULL;
    corio_context *c;
    void *x;
    vars_new();
    CHECK_EQ(get(va), 1);
    CHECK_EQ(get(vn), -ENOENT);
    CHECK_EQ(corio_ctxvar_set(va, IP(5), &tok), CORIO_ENOTASK);
    CHECK_PTR(tok, NULL);
    CHECK_EQ(get(va), 1);
    CHECK_EQ(corio_context_copy(&c), 0); /* empty */
    CHECK_EQ(corio_context_size(c), 0);
    CHECK_EQ(corio_context_get(c, va, &x), 0);
    CHECK_EQ(PI(x), 1);
    CHECK_EQ(corio_context_get(c, vn, &x), -ENOENT);
    CHECK_EQ(corio_context_run(c, never, NULL), CORIO_ENOTASK);
    CHECK_EQ(corio_context_copy(NULL), -EINVAL);
    corio_context_release(c);
    corio_context_release(NULL);
    vars_free();
}
