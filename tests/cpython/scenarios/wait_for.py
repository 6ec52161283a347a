"""wait_for: asyncio.wait_for (3.11 semantics) around a task.

"in time": the task finishes (tick 1) before the 30 ms timeout: its result.
"timeout": at tick 2 the task is cancelled, and wait_for waits for its
  10 ms cleanup before raising ETIMEDOUT (tick 3): no task runs on after
  wait_for returns.
"refused": the task swallows the cancel and returns 9: wait_for returns
  9, not ETIMEDOUT.
"caller cancelled": the caller is cancelled at tick 1: the task is
  cancelled and waited for (cleanup to tick 2), then ECANCELED.
"already done": a done task's result comes back at once.
The caller's cancelling() is 0 after each, except after its own cancel."""
import asyncio
from evtrace import ev, run, section, errname, cancelling


async def worker(ms, refuse=False):
    try:
        await asyncio.sleep(ms / 1000)
        ev("worker", "done")
        return ms
    except asyncio.CancelledError:
        if refuse:
            asyncio.current_task().uncancel()
            ev("worker", "refusing the cancel")
            return 9
        await asyncio.sleep(0.01)
        ev("worker", "cleanup done")
        raise


async def call(who, coro_or_task, timeout):
    try:
        r = await asyncio.wait_for(coro_or_task, timeout)
        ev(who, f"wait_for: ok {r}, cancelling={cancelling()}")
    except (TimeoutError, asyncio.CancelledError) as e:
        ev(who, f"wait_for: error {errname(e)}, cancelling={cancelling()}")
        if isinstance(e, asyncio.CancelledError):
            raise


async def main(case):
    if case == "in time":
        await call("main", asyncio.create_task(worker(10)), 0.03)
    elif case == "timeout":
        await call("main", asyncio.create_task(worker(100)), 0.02)
    elif case == "refused":
        await call("main", asyncio.create_task(worker(100, refuse=True)), 0.02)
    elif case == "caller cancelled":
        c = asyncio.create_task(call("caller", asyncio.create_task(worker(100)), 1))
        await asyncio.sleep(0.01)
        c.cancel()
        try:
            await c
        except asyncio.CancelledError as e:
            ev("main", f"caller: error {errname(e)}")
    else:
        t = asyncio.create_task(worker(0))
        await asyncio.sleep(0.01)
        await call("main", t, 0.01)


for case in ("in time", "timeout", "refused", "caller cancelled", "already done"):
    section(case)
    run(main, case)
