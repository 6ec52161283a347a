"""queue_putter_cancelled: a queue of size 1 holds "a"; putters p1 ("b")
and p2 ("c") wait. main takes "a", which frees the slot and wakes p1, and
at once cancels p1, before it can run. The slot stays free until then
(qsize 0, not full); p1 fails with CancelledError without putting and
passes the wake-up on, so p2 puts "c". A consumer loop of get and
task_done then lets join() return: nothing is stranded."""
import asyncio
from evtrace import ev, run, errname


async def putter(name, q, item):
    try:
        await q.put(item)
        ev(name, f"put {item}, qsize={q.qsize()}")
    except asyncio.CancelledError as e:
        ev(name, f"put: error {errname(e)}")
        raise


async def main():
    q = asyncio.Queue(maxsize=1)
    q.put_nowait("a")
    p1 = asyncio.create_task(putter("p1", q, "b"))
    p2 = asyncio.create_task(putter("p2", q, "c"))
    await asyncio.sleep(0.01)
    item = q.get_nowait()
    q.task_done()
    p1.cancel()
    ev("main", f"got {item}, cancelled p1, qsize={q.qsize()}, full={q.full()}")
    await asyncio.sleep(0.01)
    ev("main", f"qsize={q.qsize()}, full={q.full()}")
    item = await q.get()
    q.task_done()
    ev("main", f"got {item}")
    await asyncio.gather(p1, p2, return_exceptions=True)
    await q.join()
    ev("main", f"joined, qsize={q.qsize()}")


run(main)
