"""queue_getter_cancelled: two getters wait on an empty queue; main puts
"x" and at once cancels g1, the first getter, before it can run; a
10 ms later main puts "y".

DELIBERATE DIFFERENCE (queue.h, "a wait that was satisfied has
happened"; see queue_getter_cancelled.expected-diff): asyncio only wakes
g1; cancelled before it runs, g1 raises CancelledError and passes the
wake-up on, so g2 gets "x" and "y" stays queued. corio hands "x" to g1
when it is put, so g1 returns it despite the cancel (which it would see
at its next suspension), g2 gets "y" and the queue ends empty. No item
is lost or duplicated either way."""
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
