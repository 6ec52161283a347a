"""group_two_fail_at_once: two children wake on the same future and fail
in the same iteration (EIO, then EPIPE): both failures are kept, in the
order they happened; the first one aborts the group (the third child is
cancelled, the body too), the second finds it already aborting. The
group raises both (corio: returns the first, keeps both)."""
import asyncio
from evtrace import ev, run, Fail, errname, cancelling, group_errors


async def failer(name, go, code):
    await go
    ev(name, f"failing with {code}")
    raise Fail(code, f"{name} broke")


async def slow():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("slow", "cancelled")
        raise


async def main():
    go = asyncio.get_running_loop().create_future()
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(failer("a", go, "EIO"))
            g.create_task(failer("b", go, "EPIPE"))
            g.create_task(slow())
            await asyncio.sleep(0.02)
            ev("body", "go")
            go.set_result(None)
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError as e:
                ev("body", f"sleep: error {errname(e)}, cancelling={cancelling()}")
                raise
    except BaseExceptionGroup as eg:
        ev("main", f"group: error {errname(eg)}")
        group_errors("main", eg)
    ev("main", f"cancelling={cancelling()}")


run(main)
