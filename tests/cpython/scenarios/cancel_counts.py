"""cancel_counts: two cancel requests are counted (cancelling() == 2) but
delivered as one wake-up; a task that means to go on withdraws both with
uncancel() and can then sleep normally, ending with a result."""
import asyncio
from evtrace import ev, run


async def worker():
    me = asyncio.current_task()
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("worker", f"cancelled, cancelling={me.cancelling()}")
        ev("worker", f"uncancel -> {me.uncancel()}")
        ev("worker", f"uncancel -> {me.uncancel()}")
        ev("worker", f"uncancel at 0 -> {me.uncancel()}")
    await asyncio.sleep(0.02)
    ev("worker", "slept again after uncancel")
    return 3


async def main():
    t = asyncio.create_task(worker())
    await asyncio.sleep(0.01)
    ev("main", f"cancel: {t.cancel()}")
    ev("main", f"cancel: {t.cancel()}")
    ev("main", f"cancelling: {t.cancelling()}")
    ev("main", f"worker: ok {await t}, cancelled={t.cancelled()}")


run(main)
