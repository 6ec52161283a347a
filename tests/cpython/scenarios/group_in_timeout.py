"""group_in_timeout: a TaskGroup inside asyncio.timeout(40 ms). The
deadline cancels the body; the group cancels its children, waits for
their cleanup (10 ms, to tick 5) and raises ECANCELED, which the timeout
turns into ETIMEDOUT. cancelling() is 1 while the group unwinds and 0
after. (40 ms, not 20: were the process to stall for the whole timeout
while corio opens it, corio would find it expired and cancel at once, see
timeout_zero, and the child would be cancelled before it ever ran.)"""
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
        async with asyncio.timeout(0.04):
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
