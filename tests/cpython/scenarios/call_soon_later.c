/* call_soon_later: loop callbacks. call_soon callbacks run in the next
 * iteration in the order made, before a task that yielded after making
 * them; timers run at their deadlines (call_later, call_at), those due
 * together in the order made; a cancelled handle never runs. */
#include "evtrace.h"

static void say(void *who)
{
    ev(who, "ran");
}

static int scenario(void *arg, void **result)
{
    corio_loop *loop = corio_loop_current();
    corio_handle *h, *h2;
    corio_loop_call_later(loop, 0.06, say, "late-60", NULL);
    corio_loop_call_later(loop, 0.02, say, "early-20", NULL);
    corio_loop_call_later(loop, 0.02, say, "early-20-second", NULL);
    corio_loop_call_at(loop, corio_loop_time(loop) + 0.04, say, "at-40", NULL);
    corio_loop_call_later(loop, 0.03, say, "cancelled-30", &h);
    corio_loop_call_soon(loop, say, "soon-a", NULL);
    corio_loop_call_soon(loop, say, "soon-b", NULL);
    corio_loop_call_soon(loop, say, "soon-cancelled", &h2);
    corio_handle_cancel(h);
    corio_handle_cancel(h2);
    corio_handle_release(h);
    corio_handle_release(h2);
    ev("main", "scheduled");
    corio_sleep(0);
    ev("main", "after sleep(0)");
    corio_sleep(0.08);
    ev("main", "after 80 ms");
    return 0;
}

int main(void)
{
    trace_run(scenario, NULL);
    return 0;
}
