"""timeout_outside_cancel: a timeout expires in the same iteration as a
cancel from outside (timers due together run in the order made; both
orders are tried). The outside cancel wins: the timeout withdraws only
its own request, sees another one standing, and lets ECANCELED through
instead of raising ETIMEDOUT; the count left is 1."""
import asyncio
from evtrace import ev, run, section, errname, cancelling


async def case(outside_first):
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    when = loop.time() + 0.02
    cancel = lambda: (ev("timer", "cancel from outside"), me.cancel())
    if outside_first:
        loop.call_at(when, cancel)
    try:
        async with asyncio.timeout_at(when) as cm:
            if not outside_first:
                loop.call_at(when, cancel)
            await asyncio.sleep(1)
    except (asyncio.CancelledError, TimeoutError) as e:
        ev("main", f"error {errname(e)}, expired={cm.expired()}, "
                   f"cancelling={cancelling()}")
    ev("main", f"uncancel -> {me.uncancel()}")


for outside_first in (False, True):
    section("outside cancel made " + ("first" if outside_first else "second"))
    run(case, outside_first)
