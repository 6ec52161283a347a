"""queue_handoff: a producer puts 1, 2, 3 into a queue of size 1; a
consumer takes one item every 10 ms. The producer's second put waits
until the consumer takes 1, and puts when it runs; join() returns at
tick 1, between the consumer's task_done() for 1 and the woken put(2)
counting its item, in asyncio and in corio alike."""
import asyncio
from evtrace import ev, run


async def producer(q):
    for i in (1, 2, 3):
        ev("producer", f"put {i}")
        await q.put(i)
        ev("producer", f"put {i} done, qsize={q.qsize()}")


async def consumer(q):
    for _ in range(3):
        await asyncio.sleep(0.01)
        item = await q.get()
        ev("consumer", f"got {item}")
        q.task_done()


async def main():
    q = asyncio.Queue(maxsize=1)
    p = asyncio.create_task(producer(q))
    c = asyncio.create_task(consumer(q))
    await asyncio.sleep(0)
    await q.join()
    ev("main", f"joined, qsize={q.qsize()}")
    await p
    await c


run(main)
