"""group_body_fails: the code inside the TaskGroup fails.

Case "body alone": the body raises EINVAL at tick 1; the group cancels
its child (cleanup runs) and raises the body's error.

Case "child first": a child fails (EIO, tick 1), the body is cancelled,
and its except block raises an error of its own (EPIPE) instead of
re-raising: both are kept, the child's first, the body's after it."""
import asyncio
from evtrace import ev, run, section, Fail, errname, cancelling, group_errors


async def sleeper():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("sleeper", "cancelled")
        raise


async def bad():
    await asyncio.sleep(0.01)
    raise Fail("EIO", "child broke")


async def body_alone():
    await asyncio.sleep(0.01)
    ev("body", "failing with EINVAL")
    raise Fail("EINVAL", "body broke")


async def body_after_child():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError as e:
        ev("body", f"sleep: error {errname(e)}, failing with EPIPE instead")
        raise Fail("EPIPE", "body broke too")


async def main(children, body):
    try:
        async with asyncio.TaskGroup() as g:
            for c in children:
                g.create_task(c())
            await body()
    except BaseExceptionGroup as eg:
        ev("main", f"group: error {errname(eg)}")
        group_errors("main", eg)
    ev("main", f"cancelling={cancelling()}")


section("body alone")
run(main, (sleeper,), body_alone)
section("child first")
run(main, (bad, sleeper), body_after_child)
