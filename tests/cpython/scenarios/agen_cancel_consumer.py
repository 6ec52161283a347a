"""agen_cancel_consumer: the task iterating an async generator is
cancelled. The generator yields 1, then waits before its second item;
10 ms in, main cancels the consumer task. Cases:

- the generator is waiting in a sleep, a queue get or on a future: the
  cancel reaches that wait inside the generator (which runs in the
  consumer's task: cancelling() is 1 there), the generator's finally
  runs, anext raises CancelledError in the consumer, which ends
  cancelled; the generator is finished (anext: end). The cancelled get
  took nothing (an item put afterwards stays queued); the future is
  cancelled.
- cleanup awaits after the cancel: the generator's finally sleeps 10 ms.
  (asyncio delivers the cancel once, so this sleep just works; corio's
  cancellation is level-triggered, so its twin shields that sleep.)
- cancelled between items: the consumer is in its own sleep, the
  generator suspended at its yield is not touched; the consumer's
  cleanup closes it with aclose (GeneratorExit, the finally) and ends
  cancelled."""
import asyncio
from evtrace import ev, run, section, errname, cancelling


async def source(kind, box, slow_cleanup):
    try:
        ev("gen", "yield 1")
        yield 1
        ev("gen", f"waiting on a {kind}")
        try:
            if kind == "sleep":
                await asyncio.sleep(1)
            elif kind == "queue get":
                await box.get()
            else:
                await box
        except asyncio.CancelledError as e:
            ev("gen", f"{kind}: error {errname(e)}, cancelling={cancelling()}")
            raise
        ev("gen", "yield 2")
        yield 2
    except GeneratorExit:
        ev("gen", "closing")
        raise
    finally:
        ev("gen", "finally")
        if slow_cleanup:
            await asyncio.sleep(0.01)
            ev("gen", "finally: slept 10 ms")


async def consumer(g, between):
    try:
        async for item in g:
            ev("consumer", f"item {item}")
            if between:
                await asyncio.sleep(1)
        ev("consumer", "end")
    except asyncio.CancelledError as e:
        ev("consumer", f"error {errname(e)}, cancelling={cancelling()}")
        if between:
            await g.aclose()
            ev("consumer", "aclose: ok")
        raise


CASES = (("waiting in a sleep", "sleep", False, False),
         ("waiting in a queue get", "queue get", False, False),
         ("waiting on a future", "future", False, False),
         ("cleanup awaits after the cancel", "sleep", False, True),
         ("cancelled between items", "sleep", True, False))


async def main():
    loop = asyncio.get_running_loop()
    for title, kind, between, slow in CASES:
        section(title)
        box = asyncio.Queue() if kind == "queue get" else loop.create_future()
        g = source(kind, box, slow)
        c = asyncio.create_task(consumer(g, between))
        await asyncio.sleep(0.01)
        ev("main", "cancel the consumer")
        c.cancel()
        try:
            await c
            ev("main", "consumer: ok")
        except asyncio.CancelledError as e:
            ev("main", f"consumer: error {errname(e)}")
        try:
            await anext(g)
            ev("main", "anext after it: an item")
        except StopAsyncIteration:
            ev("main", "anext after it: end")
        if kind == "queue get":
            box.put_nowait(5)
            ev("main", f"put 5 afterwards: qsize={box.qsize()}")
        elif kind == "future":
            ev("main", f"future cancelled={box.cancelled()}")


run(main)
