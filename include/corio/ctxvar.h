/*
 * corio/ctxvar.h: task-local context variables (Python's contextvars).
 *
 * A corio_ctxvar is a key; each task holds a context, a map from variables
 * to values. corio_ctxvar_get reads the running task's value (or the
 * variable's default), corio_ctxvar_set changes it in the running task's
 * context only. A spawned task starts with a copy of its spawner's context
 * (asyncio's create_task copies the current context); changes in the child
 * never reach the parent, and the parent's later changes never reach the
 * child.
 *
 * Cost. A context is an immutable sorted array shared by reference count:
 * a spawn copies it in O(1) (one increment, no allocation). get is a
 * binary search, O(log n) in the number of variables set in that context.
 * set is O(n): it copies the array when the context is shared with another
 * task (copy-on-write), else it updates it in place (O(log n) for a
 * variable already set, O(n) to insert one).
 *
 * Values are borrowed pointers: corio never frees them; keep them alive
 * for as long as a context may hold them.
 *
 * Threads. Variables are process-wide objects and may be used on any
 * thread. Contexts belong to the thread whose loop runs their tasks; their
 * reference counts are plain ints, so a context (corio_context included) must
 * never be handed to another thread.
 *
 * The current context. Inside a task: the task's (or the corio_context it
 * entered with corio_context_run). Inside a loop callback (call_soon,
 * call_later, a future's done callback): the callback's, captured when it
 * was scheduled, or the corio_context it was given (loop.h); set works there
 * and stays in the callback's copy. Anywhere else on the thread (before
 * the loop runs, between iterations, with no loop at all) the current
 * context is the empty one, which cannot change: get returns the
 * default, set and corio_context_run return CORIO_ENOTASK, and callbacks
 * scheduled or tasks spawned from there start empty.
 */
#ifndef CORIO_CTXVAR_H
#define CORIO_CTXVAR_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_ctxvar corio_ctxvar;
typedef struct corio_ctxvar_token corio_ctxvar_token;
typedef struct corio_context corio_context;

/*
 * corio_ctxvar_new: a variable named `name` (borrowed: it must outlive the
 * variable; a literal is typical) whose default is default_value (NULL is
 * a valid default). corio_ctxvar_new_nodefault: a variable without a
 * default; corio_ctxvar_get reports -ENOENT where it is not set (Python's
 * LookupError). Returns 0 or -EINVAL (name or out NULL), -ENOMEM. The
 * caller owns *out.
 *
 * Variables are meant to live as long as the process, like Python's
 * module-level ContextVar objects. Does not suspend.
 */
CORIO_API int corio_ctxvar_new(const char *name, void *default_value,
                               corio_ctxvar **out);
CORIO_API int corio_ctxvar_new_nodefault(const char *name,
                                         corio_ctxvar **out);

/*
 * corio_ctxvar_free: free a variable (NULL is ignored). Contexts that
 * still hold a value for it keep a dead entry until they die, which no
 * later variable can ever match; tokens for it can still be freed, but
 * must not be reset.
 */
CORIO_API void corio_ctxvar_free(corio_ctxvar *var);

/* corio_ctxvar_name: the name given at creation (borrowed); "" for a
 * NULL var. */
CORIO_API const char *corio_ctxvar_name(const corio_ctxvar *var);

/*
 * corio_ctxvar_get: *value gets the running task's value for var, else
 * var's default. Returns 0, or -ENOENT (no value and no default: *value
 * untouched), -EINVAL (var or value NULL). Outside a task: the default.
 * Does not suspend.
 */
CORIO_API int corio_ctxvar_get(const corio_ctxvar *var, void **value);

/*
 * corio_ctxvar_set: set var to value in the current context. If tok
 * is not NULL, *tok gets a token that corio_ctxvar_reset uses to restore
 * what was there before; the caller frees it with corio_ctxvar_token_free.
 * Returns 0, -EINVAL (var NULL; tok may be NULL), -ENOMEM, CORIO_ENOTASK
 * (outside a task).
 * On error nothing changed and *tok is untouched. Does not suspend.
 */
CORIO_API int corio_ctxvar_set(corio_ctxvar *var, void *value,
                               corio_ctxvar_token **tok);

/*
 * corio_ctxvar_reset: restore var to its value (or unset state) before
 * the set that made tok. Returns 0; -EINVAL if tok is NULL, was already
 * used (Python's RuntimeError) or was made in another context (Python's
 * ValueError): a token made while a corio_context was the current context is
 * valid wherever that corio_context is current again (in any task or
 * callback), any other only in the task or callback run that made it and
 * outside any corio_context; -ENOMEM (the context had to be copied: nothing
 * changed); CORIO_ENOTASK outside tasks and callbacks. The token stays the
 * caller's. Does not suspend.
 */
CORIO_API int corio_ctxvar_reset(corio_ctxvar_token *tok);

/* corio_ctxvar_token_free: free a token, used or not (NULL is ignored).
 * A token must not outlive the loop it was made on. */
CORIO_API void corio_ctxvar_token_free(corio_ctxvar_token *tok);

/*
 * Context objects (Python's contextvars.Context).
 *
 * corio_context_copy: *out gets a snapshot of the running task's context
 * (copy_context()); outside a task, an empty context. O(1). Returns 0,
 * -EINVAL (out NULL), -ENOMEM. Release it with corio_context_release.
 * corio_context_retain takes another reference; corio_context_release drops
 * one (both do nothing for NULL).
 */
CORIO_API int corio_context_copy(corio_context **out);
CORIO_API void corio_context_retain(corio_context *ctx);
CORIO_API void corio_context_release(corio_context *ctx);

/*
 * corio_context_run: run fn(arg) with ctx as the current context (Context.run)
 * and return what fn returns. Values set inside stay in ctx; the caller's
 * own context is back when fn returns. fn may suspend (corio_context_run
 * suspends if fn does); tasks spawned and callbacks scheduled inside
 * copy ctx. Works in a task or a loop callback. Errors, fn not called:
 * -EINVAL (ctx or fn NULL), -EBUSY (ctx is already entered, by this or
 * another task, a callback, or a task spawned into it: Python's
 * RuntimeError), CORIO_ENOTASK (outside tasks and callbacks).
 */
CORIO_API int corio_context_run(corio_context *ctx, int (*fn)(void *),
                                void *arg);

/* corio_context_get: ctx's value for var, without entering it (Context[var]
 * with the default as fallback); returns as corio_ctxvar_get, and -EINVAL
 * for ctx NULL. Works anywhere; does not suspend. */
CORIO_API int corio_context_get(const corio_context *ctx,
                                const corio_ctxvar *var, void **value);
/* corio_context_size: how many variables are set in ctx (len(Context)). */
CORIO_API size_t corio_context_size(const corio_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_CTXVAR_H */
