"""as_completed: children a (80 ms), b (fails at 20 ms), c (40 ms) are
taken in the order they complete: b (its error), c, a, each at its tick.
With a 60 ms timeout, b and c come out and the next take raises
ETIMEDOUT at tick 6; a is not cancelled by it (the caller cancels it)."""
import asyncio
from evtrace import ev, run, section, Fail, errname


async def child(name, ms, fail=False):
    try:
        await asyncio.sleep(ms / 1000)
    except asyncio.CancelledError:
        ev(name, "cancelled")
        raise
    if fail:
        raise Fail("EIO", f"{name} broke")
    return ms


async def main(timeout):
    ts = [asyncio.create_task(child("a", 80)),
          asyncio.create_task(child("b", 20, fail=True)),
          asyncio.create_task(child("c", 40))]
    try:
        for f in asyncio.as_completed(ts, timeout=timeout):
            try:
                ev("main", f"took: ok {await f}")
            except Fail as e:
                ev("main", f"took: error {errname(e)}")
        ev("main", "all taken")
    except TimeoutError as e:
        ev("main", f"next: error {errname(e)}")
        ts[0].cancel()
        await asyncio.gather(ts[0], return_exceptions=True)


section("no timeout")
run(main, None)
section("timeout 60 ms")
run(main, 0.06)
