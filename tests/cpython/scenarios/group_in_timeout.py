"""group_in_timeout: a TaskGroup inside asyncio.timeout(20 ms). The
deadline cancels the body; the group cancels its children, waits for
their cleanup (10 ms, to tick 3) and raises ECANCELED, which the timeout
turns into ETIMEDOUT. cancelling() is 1 while the group unwinds and 0
after."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def child():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        await asyncio.sleep(0.01)
        ev("child", "cleanup done")
        raise


async def main():
    try:
        async with asyncio.timeout(0.02):
            try:
                async with asyncio.TaskGroup() as g:
                    g.create_task(child())
                    try:
                        await asyncio.sleep(1)
                    except asyncio.CancelledError as e:
                        ev("body", f"sleep: error {errname(e)}, cancelling={cancelling()}")
                        raise
            except asyncio.CancelledError as e:
                ev("main", f"group: error {errname(e)}, cancelling={cancelling()}")
                raise
    except TimeoutError as e:
        ev("main", f"timeout: error {errname(e)}, cancelling={cancelling()}")


run(main)
