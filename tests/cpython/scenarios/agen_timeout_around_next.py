"""agen_timeout_around_next: timeouts around an async generator's waits.
reader(wait, own) sleeps `wait` before each item, inside a timeout of its
own when `own` is given (closed before the yield; when it expires the
generator ends the stream quietly). Cases:

- the consumer's timeout around anext expires while the generator waits:
  the generator's wait is cancelled (CancelledError inside it, its
  finally runs), the consumer gets TimeoutError, cancelling() is back to
  0, and the generator is finished.
- the consumer's timeout does not expire: the item arrives within it.
- both: the consumer's timeout (30 ms) expires before the generator's own
  (60 ms): the generator's timeout lets the cancel pass (it is not its
  own), the consumer gets TimeoutError.
- both, the generator's own (30 ms) first: it turns into TimeoutError
  inside the generator, which ends the stream; the consumer's anext gets
  StopAsyncIteration within its own timeout (60 ms), which never fires.
- a timeout (100 ms) around a whole async for over items 40 ms apart:
  two items, then TimeoutError while the generator waits for the third."""
import asyncio
from evtrace import ev, run, section, errname, cancelling


async def reader(wait, own):
    i = 0
    try:
        while True:
            i += 1
            try:
                if own is None:
                    await asyncio.sleep(wait)
                else:
                    async with asyncio.timeout(own):
                        await asyncio.sleep(wait)
            except TimeoutError:
                ev("gen", f"own timeout expired, cancelling={cancelling()}: "
                          "the stream ends")
                return
            except asyncio.CancelledError as e:
                ev("gen", f"wait: error {errname(e)}")
                raise
            ev("gen", f"yield {i}")
            yield i
    finally:
        ev("gen", "finally")


async def one_next(g, limit):
    try:
        async with asyncio.timeout(limit):
            try:
                ev("main", f"anext: item {await anext(g)}")
            except StopAsyncIteration:
                ev("main", "anext: end")
        ev("main", f"timeout not reached, cancelling={cancelling()}")
    except TimeoutError as e:
        ev("main", f"anext: error {errname(e)}, cancelling={cancelling()}")
    ev("main", "aclose")
    await g.aclose()
    try:
        await anext(g)
        ev("main", "anext after it: an item")
    except StopAsyncIteration:
        ev("main", "anext after it: end")


async def main():
    section("consumer's 20 ms timeout, the generator waits 50 ms")
    await one_next(reader(0.05, None), 0.02)
    section("consumer's 50 ms timeout, the generator waits 20 ms")
    await one_next(reader(0.02, None), 0.05)
    section("consumer's 30 ms timeout, the generator's own 60 ms")
    await one_next(reader(0.1, 0.06), 0.03)
    section("consumer's 60 ms timeout, the generator's own 30 ms")
    await one_next(reader(0.1, 0.03), 0.06)

    section("100 ms timeout around async for, items 40 ms apart")
    try:
        async with asyncio.timeout(0.1):
            async for item in reader(0.04, None):
                ev("main", f"item {item}")
    except TimeoutError as e:
        ev("main", f"async for: error {errname(e)}, "
                   f"cancelling={cancelling()}")


run(main)
