"""cancel_swallowed: a task may refuse a cancel: it catches it, withdraws
the request with uncancel() and returns a result; it is then not
cancelled, and whoever awaits it gets the result."""
import asyncio
from evtrace import ev, run


async def stubborn():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        left = asyncio.current_task().uncancel()
        ev("stubborn", f"refusing the cancel, {left} left")
        return 7


async def main():
    t = asyncio.create_task(stubborn())
    await asyncio.sleep(0.01)
    t.cancel()
    ev("main", f"stubborn: ok {await t}")
    ev("main", f"cancelled={t.cancelled()} cancelling={t.cancelling()}")


run(main)
