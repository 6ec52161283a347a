"""join_cancel_forwarded: cancelling a task that awaits another task
cancels the awaited one too. asyncio forwards the cancel at once
(child.cancelling() is 1 right after parent.cancel()), and the parent
keeps waiting until the child has finished its cleanup, so the parent
sees its CancelledError after the child's cleanup (tick 3, after the
child's 20 ms of cleanup)."""
import asyncio
from evtrace import ev, run, errname


async def child():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("child", "cancelled, 20 ms of cleanup")
        await asyncio.sleep(0.02)
        ev("child", "cleanup done")
        raise


async def parent(c):
    try:
        await c
    except asyncio.CancelledError as e:
        ev("parent", f"join: error {errname(e)}")
        raise


async def main():
    c = asyncio.create_task(child())
    p = asyncio.create_task(parent(c))
    await asyncio.sleep(0.01)
    ev("main", f"cancel parent: {p.cancel()}")
    ev("main", f"right after: child cancelling={c.cancelling()}")
    for name, t in (("parent", p), ("child", c)):
        try:
            await t
        except asyncio.CancelledError as e:
            ev("main", f"{name}: error {errname(e)}")


run(main)
