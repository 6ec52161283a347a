"""group_child_refuses: a TaskGroup child refuses the cancel the group
sends when its sibling fails (it uncancels, works 10 ms more and returns
7). That is allowed: the group waits for it, raises only the sibling's
failure, and the refusing child's result can be read."""
import asyncio
from evtrace import ev, run, Fail, group_errors


async def bad():
    await asyncio.sleep(0.01)
    raise Fail("EIO", "bad broke")


async def stubborn():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("stubborn", f"refusing, {asyncio.current_task().uncancel()} left")
    await asyncio.sleep(0.01)
    ev("stubborn", "finished anyway")
    return 7


async def main():
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(bad())
            s = g.create_task(stubborn())
    except BaseExceptionGroup as eg:
        group_errors("main", eg)
    ev("main", f"stubborn: cancelled={s.cancelled()} result={s.result()}")


run(main)
