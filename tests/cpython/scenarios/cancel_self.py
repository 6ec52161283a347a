"""cancel_self: a task cancels itself.

Case "then awaits": awaiting a future that is already done does not
suspend, so it still gives the result; the next real suspension
(sleep(0)) fails with ECANCELED, and the task ends cancelled.

Case "then returns": the task returns 5 without suspending again.

FOUND DIFFERENCE (see cancel_self.expected-diff): asyncio ends such a task
cancelled (Task.__step: "cancelled right before the coroutine stops"),
discarding the 5; corio ends it with its result, since the body returned
0 (a body ends its task as cancelled only by returning -ECANCELED)."""
import asyncio
from evtrace import ev, run, section, errname


async def then_awaits():
    me = asyncio.current_task()
    fut = asyncio.get_running_loop().create_future()
    fut.set_result(3)
    ev("task", f"cancel self: {me.cancel()}")
    ev("task", f"await done future: ok {await fut}")
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError as e:
        ev("task", f"sleep(0): error {errname(e)}")
        raise


async def then_returns():
    ev("task", f"cancel self: {asyncio.current_task().cancel()}")
    ev("task", "returning 5")
    return 5


async def main(body):
    t = asyncio.create_task(body())
    try:
        ev("main", f"task: ok {await t}")
    except asyncio.CancelledError as e:
        ev("main", f"task: error {errname(e)}")
    ev("main", f"cancelled={t.cancelled()}")


section("then awaits")
run(main, then_awaits)
section("then returns")
run(main, then_returns)
