"""cleanup_with_shield: cleanup that itself awaits, after a cancel.

asyncio delivers a cancel once, so the except block may simply await
(20 ms of cleanup, ticks 1 to 3) before re-raising. corio's cancellation
is level-triggered, so the C twin wraps the cleanup in a shield scope,
which keeps the standing request out; the traces are the same. Inside
the cleanup the request still counts (cancelling() == 1)."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def worker():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("worker", f"cancelled, cleaning up (cancelling={cancelling()})")
        await asyncio.sleep(0.02)
        ev("worker", "cleanup done")
        raise


async def main():
    t = asyncio.create_task(worker())
    await asyncio.sleep(0.01)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError as e:
        ev("main", f"worker: error {errname(e)}")


run(main)
