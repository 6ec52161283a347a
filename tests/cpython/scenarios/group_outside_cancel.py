"""group_outside_cancel: the task running a TaskGroup is cancelled from
outside (tick 2) while its children run: the body's sleep fails, the
group cancels both children and waits for their cleanup (10 and 30 ms),
then raises ECANCELED (nothing failed) at tick 5; the request stands
(cancelling() == 1)."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def child(name, cleanup_ms):
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        await asyncio.sleep(cleanup_ms / 1000)
        ev(name, f"cleanup done ({cleanup_ms} ms)")
        raise


async def parent():
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(child("a", 10))
            g.create_task(child("b", 30))
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError as e:
                ev("body", f"sleep: error {errname(e)}, cancelling={cancelling()}")
                raise
    except asyncio.CancelledError as e:
        ev("parent", f"group: error {errname(e)}, cancelling={cancelling()}")
        raise


async def main():
    p = asyncio.create_task(parent())
    await asyncio.sleep(0.02)
    ev("main", "cancel parent")
    p.cancel()
    try:
        await p
    except asyncio.CancelledError as e:
        ev("main", f"parent: error {errname(e)}")


run(main)
