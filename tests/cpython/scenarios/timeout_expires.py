"""timeout_expires: asyncio.timeout(20 ms) around a 100 ms sleep: the
sleep is cancelled at tick 2 (the body sees ECANCELED and its cleanup
runs), the timeout turns its own cancel into ETIMEDOUT, expired() is
True, and the cancel request it made is withdrawn: cancelling() is 0
before, 1 inside, 0 after, and the task sleeps normally afterwards."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def main():
    ev("main", f"before: cancelling={cancelling()}")
    try:
        async with asyncio.timeout(0.02) as cm:
            try:
                await asyncio.sleep(0.1)
                ev("body", "slept (must not happen)")
            except asyncio.CancelledError as e:
                ev("body", f"sleep: error {errname(e)}, cancelling={cancelling()}")
                raise
            finally:
                ev("body", "cleanup ran")
    except TimeoutError as e:
        ev("main", f"timeout: error {errname(e)}")
    ev("main", f"after: expired={cm.expired()} cancelling={cancelling()}")
    await asyncio.sleep(0.01)
    ev("main", "slept 10 ms after the timeout")


run(main)
