"""gather_cancelled: the task awaiting gather is cancelled (tick 1): gather
cancels every child; the children clean up (10 and 30 ms).

DELIBERATE DIFFERENCE (combine.h; see gather_cancelled.expected-diff):
asyncio's gather raises CancelledError as soon as the first child reports
its cancellation (tick 2), while the other child is still cleaning up;
corio_gather waits until every child is done (tick 4), so that no child
still runs when it returns (C children often borrow the caller's
stack)."""
import asyncio
from evtrace import ev, run, errname


async def child(name, cleanup_ms):
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        await asyncio.sleep(cleanup_ms / 1000)
        ev(name, f"cleanup done ({cleanup_ms} ms)")
        raise


async def gatherer(ts):
    try:
        await asyncio.gather(*ts)
    except asyncio.CancelledError as e:
        ev("gatherer", f"gather: error {errname(e)}")
        raise


async def main():
    ts = [asyncio.create_task(child("a", 10)),
          asyncio.create_task(child("b", 30))]
    g = asyncio.create_task(gatherer(ts))
    await asyncio.sleep(0.01)
    ev("main", "cancel gatherer")
    g.cancel()
    try:
        await g
    except asyncio.CancelledError as e:
        ev("main", f"gatherer: error {errname(e)}")
    await asyncio.gather(*ts, return_exceptions=True)
    ev("main", f"children cancelled: {ts[0].cancelled()} {ts[1].cancelled()}")


run(main)
