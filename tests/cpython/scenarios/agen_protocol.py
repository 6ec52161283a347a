"""agen_protocol: the async generator protocol, call by call. One
generator, counter(n), yields 1..n, 10 ms apart, and reports what each
yield brings back; its finally waits 10 ms. The cases:

- anext to the end: items, the finally, StopAsyncIteration ("end"); anext
  after the end is "end" again; aclose of a finished generator is a no-op.
- asend: a value into a generator that has not started is refused ("not
  started", nothing runs); asend(None) starts it; a value comes back from
  its yield; aclose at a yield runs the cleanup (GeneratorExit, the
  finally, which waits), and the generator is finished.
- athrow: handled at the yield (the generator goes on to its next item),
  unhandled (the finally runs, athrow raises it, the generator is
  finished), and into a generator that has not started (raised at once,
  no body runs, finished); aclose of one that never started.
- already running: while one task waits inside anext, anext, asend,
  athrow and aclose from another task are refused at once; the first
  anext is not disturbed.

corio's spellings: StopAsyncIteration is CORIO_END, "asynchronous
generator is already running" CORIO_ERUNNING, "can't send non-None value
to a just-started async generator" CORIO_ENOTSTARTED, GeneratorExit
CORIO_EEXIT; both sides print neutral words for them."""
import asyncio
from evtrace import ev, run, section, errname, Fail


def status(e):
    """A neutral word for the outcomes that are not errno errors."""
    if isinstance(e, StopAsyncIteration):
        return "end"
    if isinstance(e, RuntimeError) and "already running" in str(e):
        return "already running"
    if isinstance(e, TypeError) and "just-started" in str(e):
        return "not started"
    return f"error {errname(e)}"


async def counter(n, handles):
    try:
        for i in range(1, n + 1):
            await asyncio.sleep(0.01)
            ev("gen", f"yield {i}")
            try:
                got = yield i
            except Fail as e:
                if not handles:
                    raise
                ev("gen", f"caught {errname(e)}, going on")
                continue
            if got is not None:
                ev("gen", f"sent {got}")
    except GeneratorExit:
        ev("gen", "closing")
        raise
    finally:
        ev("gen", "finally")
        await asyncio.sleep(0.01)
        ev("gen", "finally: slept 10 ms")


async def call(who, what, aw):
    """Await one protocol call and print what it gave."""
    try:
        item = await aw
    except (StopAsyncIteration, RuntimeError, TypeError, Fail) as e:
        ev(who, f"{what}: {status(e)}")
        return
    ev(who, f"{what}: ok" if item is None else f"{what}: item {item}")


async def main():
    section("anext to the end")
    g = counter(2, False)
    while True:
        try:
            item = await anext(g)
        except StopAsyncIteration as e:
            ev("main", f"anext: {status(e)}")
            break
        ev("main", f"anext: item {item}")
    await call("main", "anext after the end", anext(g))
    await call("main", "aclose a finished one", g.aclose())

    section("asend")
    g = counter(3, False)
    await call("main", "asend(5) before the start", g.asend(5))
    await call("main", "asend(None)", g.asend(None))
    await call("main", "asend(7)", g.asend(7))
    await call("main", "aclose at a yield", g.aclose())
    await call("main", "anext after aclose", anext(g))

    section("athrow")
    g = counter(3, True)
    await call("main", "anext", anext(g))
    await call("main", "athrow EIO, handled", g.athrow(Fail("EIO")))
    await call("main", "aclose", g.aclose())
    g = counter(3, False)
    await call("main", "anext", anext(g))
    await call("main", "athrow EIO, unhandled", g.athrow(Fail("EIO")))
    await call("main", "anext after it", anext(g))
    g = counter(3, False)
    await call("main", "athrow EIO before the start", g.athrow(Fail("EIO")))
    await call("main", "anext after it", anext(g))
    g = counter(3, False)
    await call("main", "aclose before the start", g.aclose())
    await call("main", "anext after it", anext(g))

    section("already running")
    g = counter(2, False)
    first = asyncio.create_task(call("first", "anext", anext(g)))
    await asyncio.sleep(0)  # first is now waiting inside g
    ev("main", "first is inside anext")
    await call("main", "anext", anext(g))
    await call("main", "asend(7)", g.asend(7))
    await call("main", "athrow EIO", g.athrow(Fail("EIO")))
    await call("main", "aclose", g.aclose())
    await first
    await call("main", "aclose", g.aclose())


run(main)
