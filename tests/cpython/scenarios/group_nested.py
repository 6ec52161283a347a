"""group_nested: a TaskGroup inside another's body. The inner group's
child fails (tick 1): the inner group cancels its sibling and raises;
that error leaves the outer group's body, so the outer group cancels its
own child and raises it in turn. asyncio nests the ExceptionGroups;
corio's outer group keeps the inner group's result (EIO) as its body's
error. Both parents' counts end at 0."""
import asyncio
from evtrace import ev, run, Fail, errname, cancelling, group_errors


async def sleeper(name):
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev(name, "cancelled")
        raise


async def bad():
    await asyncio.sleep(0.01)
    ev("inner-bad", "failing with EIO")
    raise Fail("EIO", "inner child broke")


async def main():
    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(sleeper("outer-child"))
            try:
                async with asyncio.TaskGroup() as inner:
                    inner.create_task(bad())
                    inner.create_task(sleeper("inner-child"))
                    try:
                        await asyncio.sleep(1)
                    except asyncio.CancelledError as e:
                        ev("inner-body", f"sleep: error {errname(e)}")
                        raise
            except BaseExceptionGroup as eg:
                ev("outer-body", f"inner group: error {errname(eg)}, "
                                 f"cancelling={cancelling()}")
                raise
    except BaseExceptionGroup as eg:
        ev("main", f"outer group: error {errname(eg)}")
        group_errors("main", eg)
    ev("main", f"cancelling={cancelling()}")


run(main)
