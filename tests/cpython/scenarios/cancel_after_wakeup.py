"""cancel_after_wakeup: the future a task awaits completes, and the task is
cancelled before it gets to run: the cancel wins. The task's await raises
ECANCELED although the future holds a result (asyncio's _must_cancel)."""
import asyncio
from evtrace import ev, run, errname


async def waiter(fut):
    try:
        ev("waiter", f"got {await fut}")
    except asyncio.CancelledError as e:
        ev("waiter", f"await: error {errname(e)}, future done={fut.done()} "
                     f"result={fut.result()}")
        raise


async def main():
    fut = asyncio.get_running_loop().create_future()
    w = asyncio.create_task(waiter(fut))
    await asyncio.sleep(0.01)
    fut.set_result(1)
    ev("main", f"set_result, then cancel: {w.cancel()}")
    try:
        await w
    except asyncio.CancelledError as e:
        ev("main", f"waiter: error {errname(e)}")


run(main)
