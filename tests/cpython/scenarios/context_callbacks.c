/* context_callbacks: callbacks run in the context captured when they were
 * scheduled (call_soon, call_later, done callbacks), not the one current
 * when they run; what a callback sets stays in its own copy. The _in_ctx
 * variants run them inside a corio_context, and what they set stays there.
 * A task spawned with corio_spawn_in_ctx runs inside the ctx and leaves
 * its values there; a task spawned from a callback copies the callback's
 * context. */
#include "evtrace.h"

static corio_ctxvar *var;

struct who {
    const char *name;
    const char *sets; /* value to set afterwards, or NULL */
};

static const char *val(void)
{
    void *v;
    corio_ctxvar_get(var, &v);
    return v;
}

static void show(void *arg)
{
    struct who *w = arg;
    ev(w->name, "var=%s", val());
    if (w->sets)
        corio_ctxvar_set(var, (void *)w->sets, NULL);
}

static void done_show(corio_future *f, void *arg)
{
    (void)f;
    show(arg);
}

static int worker(void *arg, void **result)
{
    (void)result;
    show(arg);
    return corio_sleep(0);
}

static corio_task *spawned;

static void spawner(void *arg)
{
    corio_spawn(worker, arg, NULL, &spawned);
}

static const char *ctx_val(corio_context *c)
{
    void *v;
    corio_context_get(c, var, &v);
    return v;
}

static int scenario(void *arg, void **result)
{
    corio_loop *loop = corio_loop_current();
    static struct who soon = {"soon", "set by soon"}, later = {"later", NULL},
                      donecb = {"done-callback", NULL},
                      main_ = {"main", NULL},
                      soon_ctx = {"soon-in-ctx", "set by soon-in-ctx"},
                      done_ctx = {"done-in-ctx", "set by done-in-ctx"},
                      task_ctx = {"task-in-ctx", "set by task-in-ctx"},
                      sp = {"spawned", "set by spawned"};
    corio_future *fut;
    corio_task *t;
    corio_context *ctx;
    (void)arg;
    (void)result;

    section("captured when scheduled");
    corio_ctxvar_set(var, "first", NULL);
    corio_future_new(NULL, &fut);
    corio_loop_call_soon(loop, show, &soon, NULL);
    corio_loop_call_later(loop, 0.01, show, &later, NULL);
    corio_future_add_done_callback(fut, done_show, &donecb);
    corio_ctxvar_set(var, "second", NULL);
    corio_future_set_result(fut, NULL);
    corio_sleep(0.02);
    show(&main_);
    corio_future_release(fut);

    section("explicit context");
    corio_context_copy(&ctx);
    corio_ctxvar_set(var, "third", NULL);
    corio_loop_call_soon_in_ctx(loop, ctx, show, &soon_ctx, NULL);
    corio_sleep(0);
    ev("main", "ctx var=%s", ctx_val(ctx));
    corio_future_new(NULL, &fut);
    corio_future_add_done_callback_in_ctx(fut, ctx, done_show, &done_ctx);
    corio_future_set_result(fut, NULL);
    corio_sleep(0);
    ev("main", "ctx var=%s", ctx_val(ctx));
    show(&main_);
    corio_future_release(fut);

    section("task in a context");
    corio_spawn_in_ctx(ctx, worker, &task_ctx, NULL, &t);
    corio_task_join(t, NULL);
    corio_task_release(t);
    ev("main", "ctx var=%s", ctx_val(ctx));
    show(&main_);
    corio_context_release(ctx);

    section("task from a callback");
    corio_ctxvar_set(var, "fourth", NULL);
    corio_loop_call_soon(loop, spawner, &sp, NULL);
    corio_ctxvar_set(var, "fifth", NULL);
    corio_sleep(0);
    corio_task_join(spawned, NULL);
    corio_task_release(spawned);
    show(&main_);
    return 0;
}

int main(void)
{
    corio_ctxvar_new("var", "default", &var);
    trace_run(scenario, NULL);
    corio_ctxvar_free(var);
    return 0;
}
