"""agen_yield_in_scope: an async generator yields inside a timeout it
opened itself (PEP 789's hazard). The consumer takes the item and sleeps
50 ms in its own code; the generator's 20 ms timeout expires meanwhile.

DELIBERATE DIFFERENCE (see agen_yield_in_scope.expected-diff): asyncio
lets the yield through, so the generator's timeout, still open, cancels
the consumer's own sleep at tick 2: a CancelledError that no timeout of
the consumer's converts (cancelling()=1 until the generator's timeout
exits during aclose). corio refuses such a yield: corio_yield returns
CORIO_EYIELDSCOPE in the generator, the item is not delivered, the
generator closes its scope and fails with it, the consumer's next
returns that error, and its sleep is undisturbed."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def careless():
    try:
        async with asyncio.timeout(0.02):
            ev("gen", "yield 1 inside its own 20 ms timeout")
            yield 1
    except GeneratorExit:
        ev("gen", "closing")
        raise
    finally:
        ev("gen", "finally")


async def main():
    g = careless()
    ev("main", f"anext: item {await anext(g)}")
    try:
        await asyncio.sleep(0.05)
        ev("main", "slept 50 ms")
    except asyncio.CancelledError as e:
        ev("main", f"sleep: error {errname(e)}, cancelling={cancelling()}")
    ev("main", "aclose")
    await g.aclose()
    ev("main", f"aclose: ok, cancelling={cancelling()}")


run(main)
