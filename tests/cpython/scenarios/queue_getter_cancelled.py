"""queue_getter_cancelled: two getters wait on an empty queue; main puts
"x" and at once cancels g1, the first getter, before it can run; a
10 ms later main puts "y".

The put only wakes g1 and leaves "x" in the queue; cancelled before it
runs, g1 fails with CancelledError and passes the wake-up on, so g2 gets
"x" and "y" stays queued (corio does the same). No item is lost or
duplicated."""
import asyncio
from evtrace import ev, run, errname


async def getter(name, q):
    try:
        ev(name, f"got {await q.get()}")
    except asyncio.CancelledError as e:
        ev(name, f"get: error {errname(e)}")
        raise


async def main():
    q = asyncio.Queue()
    g1 = asyncio.create_task(getter("g1", q))
    g2 = asyncio.create_task(getter("g2", q))
    await asyncio.sleep(0.01)
    q.put_nowait("x")
    g1.cancel()
    ev("main", "put x, cancelled g1")
    await asyncio.sleep(0.01)
    q.put_nowait("y")
    ev("main", "put y")
    await asyncio.gather(g1, g2, return_exceptions=True)
    ev("main", f"qsize={q.qsize()}")


run(main)
