"""shield_in_timeout: asyncio.shield(work) awaited inside a 20 ms timeout.
At tick 2 the timeout cancels the await on the shield, not the work: the
timeout raises ETIMEDOUT (count back to 0), the work is neither done nor
cancelled, runs on to tick 5 and its result can still be awaited."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def work():
    await asyncio.sleep(0.05)
    ev("work", "done")
    return 5


async def main():
    t = asyncio.create_task(work())
    try:
        async with asyncio.timeout(0.02):
            await asyncio.shield(t)
    except TimeoutError as e:
        ev("main", f"timeout: error {errname(e)}, cancelling={cancelling()}")
    ev("main", f"work: done={t.done()} cancelled={t.cancelled()}")
    ev("main", f"work: ok {await t}")


run(main)
