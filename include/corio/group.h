/*
 * corio/group.h: task groups (asyncio.TaskGroup, Trio's nursery).
 *
 * A group is opened inside a task (the parent), children are spawned into
 * it, and corio_group_wait waits for all of them: children never outlive
 * the group's wait. The shape, `async with TaskGroup() as tg:` in C:
 *
 *     corio_group *g;
 *     if ((rc = corio_group_open(&g)) != 0) return rc;
 *     corio_group_spawn(g, child, arg, NULL, NULL);   // any number
 *     rc = body();                     // the code inside the `async with`
 *     rc = corio_group_wait(g, rc);    // __aexit__: waits for children
 *     ... walk corio_group_error(g, i) if rc says a child failed ...
 *     corio_group_free(g);
 *
 * Failure: the first child that fails (an error other than -ECANCELED)
 * cancels its siblings and the parent's code between open and wait (its
 * calls that would have to wait return -ECANCELED). corio_group_wait then
 * returns that first child's error, and every failure is kept, with its
 * code, message (corio_fail), task name and spawn site: C's
 * ExceptionGroup. An error the parent's own code passes to wait (other
 * than -ECANCELED) also cancels the children and is kept as an error of
 * the group.
 *
 * Cancellation: if the parent is cancelled from outside (corio_task_cancel,
 * an enclosing scope's deadline), the children are cancelled, waited for,
 * and wait returns -ECANCELED (unless children failed: then their first
 * error). corio_group_cancel (asyncio 3.15's TaskGroup.cancel) stops the
 * children and the parent's code and makes wait return 0 quietly. asyncio's
 * counters stay as in Python: a child failure cancels the parent once and
 * wait withdraws that request.
 *
 * Graceful cancel (asked of Trio in its issue 147): corio_group_stop gives
 * the children `grace` seconds in which their suspending calls still work
 * and corio_stop_requested() tells them to wrap up; then it cancels them.
 */
#ifndef CORIO_GROUP_H
#define CORIO_GROUP_H

#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_group corio_group;

/* One failure kept by a group. Strings are the group's copies, valid
 * until corio_group_free. */
typedef struct corio_group_error_info {
    int code;              /* the child's negative error */
    const char *message;   /* from corio_fail, or NULL */
    const char *task_name; /* "(body)" for the parent's own error */
    const char *file;      /* spawn site */
    int line;
    /* The message of the cancel the task was under when it failed
     * (corio_task_cancel_msg), or NULL: Python chains that CancelledError
     * to the failure. */
    const char *cancel_message;
} corio_group_error_info;

/*
 * corio_group_open: open a group in the running task. Does not suspend.
 * Returns 0 with *out set (the caller frees it with corio_group_free after
 * corio_group_wait), -EINVAL (out NULL), -ENOMEM, CORIO_ENOTASK (not in a
 * task).
 */
CORIO_API int corio_group_open(corio_group **out);

/*
 * corio_group_spawn: start a child in the group (see corio_spawn for
 * fn/arg/opts/out; the group holds its own reference, so out may be NULL).
 * Any task may spawn into an open group, children included. Does not
 * suspend. Returns 0, -EINVAL (g or fn NULL), the errors of corio_spawn,
 * or -ESHUTDOWN once the group is cancelling its children or has finished
 * waiting (asyncio: "TaskGroup is shutting down" / "is finished").
 */
#define corio_group_spawn(g, fn, arg, opts, out)                           \
    corio_group_spawn_at((g), (fn), (arg), (opts), (out), __FILE__, __LINE__)
CORIO_API int corio_group_spawn_at(corio_group *g, corio_coro_fn fn, void *arg,
                                   const corio_task_opts *opts,
                                   corio_task **out, const char *file,
                                   int line);

/*
 * corio_group_wait: end the group's body and wait until every child is
 * done (`async with`'s exit). `rc` is the outcome of the parent's code
 * since open. Must be called by the parent. Suspends while children run.
 *
 * Cancellation: never fails at once and is not cut short: a cancel that
 * stands when it would have to wait (a child still alive), or that
 * reaches the parent while it waits, cancels the children and the wait
 * goes on until they are done. With no child alive it returns at once,
 * cancel or not.
 *
 * Returns: the first child's error if any child failed (or rc, if it is
 * the first error); else -ECANCELED if the parent was cancelled from
 * outside (never a cancellation the group caused itself); else rc (0 for
 * -ECANCELED caused by corio_group_cancel). CORIO_ESCOPE when called
 * twice, by another task, or with scopes opened after the group still
 * open (nothing is waited for then); -EINVAL (g NULL).
 */
CORIO_API int corio_group_wait(corio_group *g, int rc);

/* corio_group_cancel: cancel every child and the parent's code inside the
 * group; wait then returns 0 unless a child failed. Never suspends. */
CORIO_API void corio_group_cancel(corio_group *g);

/*
 * corio_group_stop: ask the children to finish within `grace` seconds:
 * corio_stop_requested() becomes 1 for them and the parent, their
 * suspending calls keep working, and when the grace period ends (or at
 * once, if grace <= 0) the group is cancelled as by corio_group_cancel.
 * grace INFINITY asks without ever cancelling. Returns 0 (also when the
 * group is finished or already stopping: nothing changes), -ENOMEM,
 * -EINVAL (g NULL, grace NaN: nothing changes). Never suspends.
 */
CORIO_API int corio_group_stop(corio_group *g, double grace);

/* corio_stop_requested: 1 if the running task belongs to (or is the parent
 * of) a group that corio_group_stop asked to finish, else 0. */
CORIO_API int corio_stop_requested(void);

/* The failures kept so far: how many (0 for a NULL g), and the i-th (NULL
 * past the end, or for a NULL g).
 * The first failure is always kept, out of memory too (its strings may
 * then be NULL), so wait never turns a failure into success; a later one
 * that finds no memory is dropped and reported on stderr. */
CORIO_API size_t corio_group_error_count(const corio_group *g);
CORIO_API const corio_group_error_info *corio_group_error(const corio_group *g,
                                                          size_t i);

/*
 * corio_group_free: release a group after corio_group_wait (children's
 * handles held by the group are dropped). Freeing one that was not waited
 * for is misuse: it is reported, its children are cancelled and left to
 * the loop.
 */
CORIO_API void corio_group_free(corio_group *g);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_GROUP_H */
