"""future_error: a future completed with an error raises it in every task
awaiting it; a future cancelled by hand raises ECANCELED in its awaiters,
which are not themselves cancelled (cancelling() stays 0, they go on)."""
import asyncio
from evtrace import ev, run, Fail, errname, cancelling


async def waiter(name, fut):
    try:
        await fut
    except (Fail, asyncio.CancelledError) as e:
        ev(name, f"error {errname(e)}, cancelling={cancelling()}")
    await asyncio.sleep(0.01)
    ev(name, "went on sleeping")


async def main():
    loop = asyncio.get_running_loop()
    bad, gone = loop.create_future(), loop.create_future()
    tasks = [asyncio.create_task(waiter(n, f))
             for n, f in (("a", bad), ("b", bad), ("c", gone))]
    await asyncio.sleep(0.01)
    ev("main", "set_exception EIO, cancel the other")
    bad.set_exception(Fail("EIO"))
    ev("main", f"cancel: {gone.cancel()}, cancelled={gone.cancelled()}")
    for t in tasks:
        await t
    ev("main", f"all done, exception {errname(bad.exception())}")


run(main)
