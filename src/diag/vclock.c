/*
 * vclock.c: a virtual clock for tests (corio_diag_virtual_clock) and
 * corio_wait_all_blocked (corio/diag.h), Trio's MockClock with autojump
 * and wait_all_tasks_blocked, Go's synctest.
 *
 * The clock itself is the loop's (loop.c: vclock, vclock_on): while on,
 * corio__loop_now_ns reads the loop's virtual time on its thread, the
 * poller never waits for a timer, and an iteration that finds nothing
 * ready and no event pending moves the time to the next deadline. So a
 * test of a 10-minute timeout takes microseconds and cannot flake under
 * load: time passes only when everything waits.
 */
#include "diag/diag_impl.h"

#include <errno.h>

int corio_diag_virtual_clock(corio_loop *loop, int on)
{
    if (!loop)
        return -EINVAL;
    if (loop->running && loop != corio_loop_current())
        return CORIO_EWRONGTHREAD;
    if (on && !loop->vclock_on)
        loop->vclock = corio__clock_ns(); /* starts from now */
    loop->vclock_on = on != 0;
    return 0;
}

int corio_wait_all_blocked(void)
{
    corio_task *t = corio__task_running();
    int rc;
    if (!t)
        return CORIO_ENOTASK;
    do {
        /* After a full iteration, what is still queued was queued by
         * someone who ran: go round until only this task runs. */
        if ((rc = corio_sleep(0)) != 0)
            return rc;
    } while (t->loop->ready.n > 0);
    return 0;
}
