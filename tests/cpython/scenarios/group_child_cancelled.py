"""group_child_cancelled: one child of a TaskGroup is cancelled directly
through its handle (tick 1). A cancelled child is not a failure: the
group does not abort, its sibling finishes normally (tick 3), and the
group exits without error."""
import asyncio
from evtrace import ev, run, errname


async def child(name, ms):
    try:
        await asyncio.sleep(ms / 1000)
        ev(name, "done")
        return ms
    except asyncio.CancelledError:
        ev(name, "cancelled")
        raise


async def main():
    async with asyncio.TaskGroup() as g:
        a = g.create_task(child("a", 100))
        b = g.create_task(child("b", 30))
        await asyncio.sleep(0.01)
        ev("body", "cancel a")
        a.cancel()
    ev("main", f"group ok: a cancelled={a.cancelled()}, b result={b.result()}")


run(main)
