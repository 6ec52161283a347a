"""run_cancels_leftovers: asyncio.run (corio_run) returns main's result
only after cancelling the tasks still alive when main ends and waiting for
them: their cleanup runs (bg2's takes 10 ms), then the run ends. (Only
bg1 reports the cancel at once: asyncio cancels the leftovers in the
order of a set, which is arbitrary.)"""
import asyncio
from evtrace import ev, run


async def bg(name, cleanup_ms):
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        if not cleanup_ms:
            ev(name, "cancelled at shutdown")
        else:
            await asyncio.sleep(cleanup_ms / 1000)
            ev(name, f"cleanup done ({cleanup_ms} ms)")
        raise


async def main():
    asyncio.create_task(bg("bg1", 0))
    asyncio.create_task(bg("bg2", 10))
    await asyncio.sleep(0.01)
    ev("main", "returning 5")
    return 5


run(main)
