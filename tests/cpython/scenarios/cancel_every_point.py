"""cancel_every_point: one worker with seven await points of different
kinds, run once without a cancel (case 0) and once per point k = 1..7
with a cancel that arrives while the worker is suspended at point k (a
call_soon queued just before that await). Each case shows where the
cancel lands, what it cancels on the way (the future, the group's child)
and that the worker's cleanup runs; the timeout at point 5 does not turn
a cancel from outside into ETIMEDOUT.

Points: 1 sleep(10 ms), 2 sleep(0), 3 await a future a timer completes,
4 await a child task, 5 sleep inside timeout(50 ms), 6 sleep in the body
of a TaskGroup, 7 the TaskGroup's exit waiting for its child."""
import asyncio
from evtrace import ev, run, section, errname, cancelling

TARGET = 0


def point(k, what):
    ev("worker", f"point {k}: {what}")
    if k == TARGET:
        asyncio.get_running_loop().call_soon(asyncio.current_task().cancel)


async def helper():
    await asyncio.sleep(0.01)
    return 5


async def group_child():
    try:
        await asyncio.sleep(0.05)
        ev("child", "done")
    except asyncio.CancelledError:
        ev("child", "cancelled")
        raise


async def worker():
    loop = asyncio.get_running_loop()
    try:
        point(1, "sleep")
        await asyncio.sleep(0.01)
        point(2, "sleep(0)")
        await asyncio.sleep(0)
        fut = loop.create_future()
        loop.call_later(0.01, lambda: fut.done() or fut.set_result(3))
        point(3, "future")
        ev("worker", f"future: ok {await fut}")
        t = asyncio.create_task(helper())
        point(4, "task")
        ev("worker", f"task: ok {await t}")
        async with asyncio.timeout(0.05):
            point(5, "sleep in a timeout")
            await asyncio.sleep(0.01)
        async with asyncio.TaskGroup() as g:
            g.create_task(group_child())
            point(6, "sleep in a group body")
            await asyncio.sleep(0.01)
            point(7, "group exit")
        ev("worker", "all points passed")
    except asyncio.CancelledError as e:
        ev("worker", f"cleanup after {errname(e)}, cancelling={cancelling()}")
        raise


async def main():
    w = asyncio.create_task(worker())
    try:
        await w
        ev("main", "worker: ok")
    except asyncio.CancelledError as e:
        ev("main", f"worker: error {errname(e)}")


for TARGET in range(8):
    section(f"cancel at point {TARGET}" if TARGET else "no cancel")
    run(main)
