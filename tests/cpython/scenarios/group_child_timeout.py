"""group_child_timeout: a TaskGroup child's own timeout expires and its
TimeoutError escapes the child: that is a failure like any other; the
group cancels the sibling and the body, and raises ETIMEDOUT. The child's
timeout leaves no request on the parent: its count is 0 after."""
import asyncio
from evtrace import ev, run, errname, cancelling, group_errors


async def impatient():
    async with asyncio.timeout(0.01):
        await asyncio.sleep(1)


async def sibling():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("sibling", "cancelled")
        raise


async def main():
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(impatient())
            g.create_task(sibling())
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError as e:
                ev("body", f"sleep: error {errname(e)}")
                raise
    except BaseExceptionGroup as eg:
        group_errors("main", eg)
    ev("main", f"cancelling={cancelling()}")


run(main)
