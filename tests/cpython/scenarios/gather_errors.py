"""gather_errors: gather with and without collecting errors.

Case "first error": b fails at tick 2; gather raises its error at once,
and the other children are not cancelled: they finish later (ticks 4, 6).

Case "collected" (return_exceptions=True): gather waits for all of them
and returns every outcome in argument order: a result, b's error, and
ECANCELED for c, which a timer cancelled at tick 4."""
import asyncio
from evtrace import ev, run, section, Fail, errname


async def child(name, ms, fail=False):
    try:
        await asyncio.sleep(ms / 1000)
    except asyncio.CancelledError:
        ev(name, "cancelled")
        raise
    if fail:
        ev(name, "failing with EIO")
        raise Fail("EIO", f"{name} broke")
    ev(name, "done")
    return ms


def show(r):
    return f"error {errname(r)}" if isinstance(r, BaseException) else f"ok {r}"


async def first_error():
    ts = [asyncio.create_task(child("a", 60)),
          asyncio.create_task(child("b", 20, fail=True)),
          asyncio.create_task(child("c", 40))]
    try:
        await asyncio.gather(*ts)
    except Fail as e:
        ev("main", f"gather: error {errname(e)}")
    await asyncio.sleep(0.06)
    ev("main", "after 60 ms: " + ", ".join(show(t.result() if not t.exception()
                                                   else t.exception())
                                              for t in ts))


async def collected():
    ts = [asyncio.create_task(child("a", 60)),
          asyncio.create_task(child("b", 20, fail=True)),
          asyncio.create_task(child("c", 100))]
    asyncio.get_running_loop().call_later(0.04, ts[2].cancel)
    res = await asyncio.gather(*ts, return_exceptions=True)
    ev("main", "gather: ok [" + ", ".join(show(r) for r in res) + "]")


section("first error")
run(first_error)
section("collected")
run(collected)
