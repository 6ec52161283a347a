"""cancel_level_triggered: a task that catches CancelledError without
uncancel() and then awaits again.

DELIBERATE DIFFERENCE (see cancel_level_triggered.expected-diff): asyncio
raises CancelledError once, so the worker's later sleep works and it ends
with a result although a request still stands (cancelling() == 1). corio
is level-triggered: while the request stands every suspension returns
-ECANCELED at once, so the sleep fails at tick 1 and the task ends
cancelled. The second worker shows the shared remedy: uncancel() first,
then both agree."""
import asyncio
from evtrace import ev, run, errname, section


async def worker(name, withdraw):
    me = asyncio.current_task()
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev(name, f"caught cancel, cancelling={me.cancelling()}")
        if withdraw:
            ev(name, f"uncancel -> {me.uncancel()}")
    try:
        await asyncio.sleep(0.02)
        ev(name, "slept 20 ms after the cancel")
    except asyncio.CancelledError as e:
        ev(name, f"sleep after the cancel: error {errname(e)}")
        raise
    return 1


async def main():
    for name, withdraw in (("keeps", False), ("withdraws", True)):
        section(name)
        t = asyncio.create_task(worker(name, withdraw))
        await asyncio.sleep(0.01)
        t.cancel()
        try:
            ev("main", f"{name}: ok {await t}")
        except asyncio.CancelledError as e:
            ev("main", f"{name}: error {errname(e)}")


run(main)
