"""wait_caller_cancelled: the task in asyncio.wait is cancelled (tick 1):
wait raises ECANCELED at once, and the futures it watched are not
cancelled: the children finish normally (ticks 3 and 5)."""
import asyncio
from evtrace import ev, run, errname


async def child(name, ms):
    await asyncio.sleep(ms / 1000)
    ev(name, "done")
    return ms


async def waiter(ts):
    try:
        await asyncio.wait(ts)
    except asyncio.CancelledError as e:
        ev("waiter", f"wait: error {errname(e)}")
        raise


async def main():
    ts = [asyncio.create_task(child("a", 30)), asyncio.create_task(child("b", 50))]
    w = asyncio.create_task(waiter(ts))
    await asyncio.sleep(0.01)
    w.cancel()
    await asyncio.gather(w, return_exceptions=True)
    ev("main", f"children cancelled: {ts[0].cancelled()} {ts[1].cancelled()}")
    ev("main", f"results: {await ts[0]} {await ts[1]}")


run(main)
