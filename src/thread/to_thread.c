/*
 * to_thread.c: corio_to_thread, asyncio's to_thread for C (contract in
 * corio/thread.h): a pool job (pool.h) that runs the caller's function
 * and carries its result back; when nobody waits for it any more its
 * result goes to the caller's free_result.
 */
#include "alloc.h"
#include "thread/pool.h"

#include <errno.h>
#include <stdlib.h>

struct tt_job {
    corio__job job;
    corio_thread_fn fn;
    void *arg;
    void *result;
    int rc;
    void (*free_result)(void *result);
};

static void tt_work(corio__job *j)
{
    struct tt_job *tj = CORIO__CONTAINER(j, struct tt_job, job);
    tj->result = NULL;
    tj->rc = tj->fn(tj->arg, &tj->result);
}

static void tt_drop_result(struct tt_job *tj)
{
    if (tj->job.ran && tj->result && tj->free_result)
        tj->free_result(tj->result);
}

static void tt_abandon(corio__job *j)
{
    struct tt_job *tj = CORIO__CONTAINER(j, struct tt_job, job);
    tt_drop_result(tj);
    corio__free(tj);
}

int corio_to_thread_with(corio_thread_fn fn, void *arg,
                         const corio_to_thread_opts *opts, void **result)
{
    corio_task *t;
    struct tt_job *tj;
    int lane = opts ? opts->lane : CORIO_LANE_USER;
    int mode = opts ? opts->cancel : CORIO_CANCEL_ABANDON;
    int rc, kept;

    if (!fn || lane < 0 || lane >= CORIO_LANE_COUNT ||
        (mode != CORIO_CANCEL_ABANDON && mode != CORIO_CANCEL_WAIT))
        return -EINVAL;
    if (!(t = corio__task_running()))
        return CORIO_ENOTASK;
    if (corio__task_cancel_report(t))
        return -ECANCELED; /* before anything is made */
    if (!(tj = corio__calloc(1, sizeof *tj)))
        return -ENOMEM;
    tj->job.work = tt_work;
    tj->job.abandon = tt_abandon;
    tj->job.lane = lane;
    tj->job.wait_on_cancel = mode == CORIO_CANCEL_WAIT;
    tj->fn = fn;
    tj->arg = arg;
    tj->free_result = opts ? opts->free_result : NULL;
    rc = corio__job_run(t, &tj->job, &kept);
    if (!kept)
        return rc; /* the pool frees it */
    if (tj->job.ran) {
        if (rc == 0)
            rc = tj->rc;
        if (result)
            *result = tj->result;
        else
            tt_drop_result(tj);
    }
    corio__free(tj);
    return rc;
}

int corio_to_thread(corio_thread_fn fn, void *arg, void **result)
{
    return corio_to_thread_with(fn, arg, NULL, result);
}
