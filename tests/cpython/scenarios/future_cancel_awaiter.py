"""future_cancel_awaiter: cancelling a task that awaits a future cancels
the future too; the future's done callback and a second task awaiting the
same future see it cancelled (the second task is not cancelled itself)."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def waiter(name, fut):
    try:
        await fut
    except asyncio.CancelledError as e:
        ev(name, f"error {errname(e)}, cancelling={cancelling()}")
        if name == "w1":
            raise
    await asyncio.sleep(0.01)
    ev(name, "went on sleeping")


async def main():
    fut = asyncio.get_running_loop().create_future()
    fut.add_done_callback(lambda f: ev("cb", f"future cancelled={f.cancelled()}"))
    w1 = asyncio.create_task(waiter("w1", fut))
    w2 = asyncio.create_task(waiter("w2", fut))
    await asyncio.sleep(0.01)
    ev("main", f"cancel w1: {w1.cancel()}")
    ev("main", f"right after: future cancelled={fut.cancelled()}")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    ev("main", f"future cancelled={fut.cancelled()}")
    await asyncio.gather(w1, w2, return_exceptions=True)
    ev("main", f"w1 cancelled={w1.cancelled()} w2 cancelled={w2.cancelled()}")


run(main)
