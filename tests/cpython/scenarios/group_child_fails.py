"""group_child_fails: one child fails (tick 4): the group cancels its
running sibling and the body (both see ECANCELED, cleanup runs), keeps
the finished sibling's result, and raises the failure (corio: returns
it, with the list of errors). The group's own cancel of the parent is
withdrawn: cancelling() is 1 in the cancelled body and 0 after, and the
parent goes on sleeping normally."""
import asyncio
from evtrace import ev, run, Fail, errname, cancelling, group_errors


async def ok():
    await asyncio.sleep(0.02)
    ev("ok", "done")
    return 1


async def bad():
    await asyncio.sleep(0.04)
    ev("bad", "failing with EIO")
    raise Fail("EIO", "bad broke")


async def slow():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("slow", "cancelled, cleanup ran")
        raise


async def main():
    try:
        async with asyncio.TaskGroup() as g:
            t = g.create_task(ok())
            g.create_task(bad())
            g.create_task(slow())
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError as e:
                ev("body", f"sleep: error {errname(e)}, cancelling={cancelling()}")
                raise
    except BaseExceptionGroup as eg:
        group_errors("main", eg)
    ev("main", f"after the group: cancelling={cancelling()}, ok's result={t.result()}")
    await asyncio.sleep(0.01)
    ev("main", "slept 10 ms after the group")


run(main)
