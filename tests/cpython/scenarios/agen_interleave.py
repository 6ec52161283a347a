"""agen_interleave: an async generator's waits suspend the task that
iterates it, and the loop runs other tasks meanwhile. Three cases:

- timers: numbers() sleeps 40 ms before each of three items while a
  ticker task prints every 40 ms, 20 ms out of phase; the consumer's
  items and the ticks alternate.
- queue: the generator reads a queue that a producer fills, one item every
  20 ms, then None to end the stream; each item reaches the consumer right
  after the producer puts it.
- two consumers: two tasks each iterate a generator of their own (periods
  40 ms, starts 40 ms and 20 ms); each generator suspends only its own
  consumer, and the items interleave."""
import asyncio
from evtrace import ev, run, section


async def numbers(who, first, every, n):
    await asyncio.sleep(first)
    for i in range(1, n + 1):
        if i > 1:
            await asyncio.sleep(every)
        ev(who, f"yield {i}")
        yield i


async def consume(who, g):
    async for item in g:
        ev(who, f"item {item}")
    ev(who, "end")


async def ticker(n):
    await asyncio.sleep(0.02)
    for k in range(1, n + 1):
        if k > 1:
            await asyncio.sleep(0.04)
        ev("ticker", f"tick {k}")


async def drain(q):
    while (item := await q.get()) is not None:
        ev("gen", f"yield {item}")
        yield item
    ev("gen", "got None: the stream ends")


async def producer(q):
    for i in (1, 2, 3, None):
        await asyncio.sleep(0.02)
        ev("producer", f"put {i}")
        await q.put(i)


async def main():
    section("timers")
    t = asyncio.create_task(ticker(4))
    await consume("main", numbers("gen", 0.04, 0.04, 3))
    await t

    section("queue")
    q = asyncio.Queue()
    p = asyncio.create_task(producer(q))
    await consume("main", drain(q))
    await p

    section("two consumers")
    a = asyncio.create_task(consume("A", numbers("genA", 0.04, 0.04, 3)))
    b = asyncio.create_task(consume("B", numbers("genB", 0.02, 0.04, 3)))
    await a
    await b


run(main)
