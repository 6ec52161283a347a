"""cancel_while_sleeping: cancelling a sleeping task wakes it at once with
ECANCELED (tick 2, not 5); its cleanup runs, and it ends cancelled."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def worker():
    ev("worker", "sleeping 50 ms")
    try:
        await asyncio.sleep(0.05)
        ev("worker", "woke (must not happen)")
    except asyncio.CancelledError:
        ev("worker", f"cancelled, cancelling={cancelling()}")
        ev("worker", "cleanup ran")
        raise


async def main():
    t = asyncio.create_task(worker())
    await asyncio.sleep(0.02)
    ev("main", "cancel worker")
    t.cancel()
    try:
        await t
    except asyncio.CancelledError as e:
        ev("main", f"worker: error {errname(e)}, cancelled={t.cancelled()}")


run(main)
