/* lock_fifo: four tasks queue on a lock that main holds; w2 is cancelled
 * while waiting; main releases and cancels w1 (the first waiter) before
 * it runs: w1 returns -ECANCELED without the lock, which goes on to w3,
 * then w4 (FIFO). DELIBERATE DIFFERENCE (sync.h, no barging): corio hands
 * the lock to the first waiter at release, so locked() is 1 right after
 * it; see the .expected-diff. */
#include "evtrace.h"
#include <corio/sync.h>

static int worker(void *arg, void **result)
{
    const char *name = corio_task_name(corio_task_current());
    corio_lock *lock = arg;
    int rc;
    ev(name, "acquiring");
    if ((rc = corio_lock_acquire(lock)) != 0) {
        ev(name, "acquire: error %s, locked=%s", errname(rc),
           TF(corio_lock_locked(lock)));
        return rc;
    }
    ev(name, "acquired");
    rc = corio_sleep(0.01);
    ev(name, "releasing");
    corio_lock_release(lock);
    return rc;
}

static int scenario(void *arg, void **result)
{
    static const char *names[4] = {"w1", "w2", "w3", "w4"};
    corio_lock *lock;
    corio_task *w[4];
    int i, rc;
    if ((rc = corio_lock_new(&lock)) != 0)
        return rc;
    corio_lock_acquire(lock);
    ev("main", "holds the lock");
    for (i = 0; i < 4; i++) {
        corio_task_opts o = {.name = names[i]};
        corio_spawn(worker, lock, &o, &w[i]);
    }
    corio_sleep(0.01);
    ev("main", "cancel w2 (waiting)");
    corio_task_cancel(w[1]);
    corio_sleep(0);
    corio_sleep(0);
    corio_lock_release(lock);
    ev("main", "released, locked=%s; cancel w1 before it runs",
       TF(corio_lock_locked(lock)));
    corio_task_cancel(w[0]);
    for (i = 0; i < 4; i++) {
        corio_task_join(w[i], NULL);
        corio_task_release(w[i]);
    }
    ev("main", "all done, locked=%s", TF(corio_lock_locked(lock)));
    return corio_lock_free(lock);
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
