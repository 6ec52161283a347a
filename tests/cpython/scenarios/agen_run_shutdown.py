"""agen_run_shutdown: asyncio.run's end with async generators left
unfinished. main iterates g1 once and g3 to its end, creates g0 and never
iterates it, and starts bg, which iterates g2 once and then sleeps in its
own body; main returns at tick 1. asyncio.run then:

1. cancels the leftover task bg and waits for it (its cleanup takes
   20 ms); g2, suspended at its yield, is not touched by that cancel;
2. then closes the unfinished generators g1 and g2 (shutdown_asyncgens),
   each aclose in a task of its own: their finally blocks run, and may
   await. g1's prints at once and awaits sleep(0); g2's awaits 10 ms
   first (asyncio closes them in the order of a set, so only one may
   print at once). g3 (finished) and g0 (never iterated) are left alone.

The generators are kept in a module-level list so that garbage
collection cannot finalize them before asyncio.run's shutdown does."""
import asyncio
from evtrace import ev, run, errname

GENS = []


async def stream(name, n, cleanup):
    try:
        for i in range(1, n + 1):
            yield i
        ev(name, "exhausted")
    finally:
        if cleanup == "sleep(0)":
            ev(name, "finally")
            await asyncio.sleep(0)
            ev(name, "finally: after sleep(0)")
        elif cleanup == "10 ms":
            await asyncio.sleep(0.01)
            ev(name, "finally, after a 10 ms sleep")
        else:
            ev(name, "finally")


async def bg(g):
    ev("bg", f"g2 gave {await anext(g)}")
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError as e:
        ev("bg", f"{errname(e)} at shutdown, cleanup 20 ms")
        await asyncio.sleep(0.02)
        ev("bg", "cleanup done")
        raise


async def main():
    g0 = stream("g0", 3, "")
    g1 = stream("g1", 3, "sleep(0)")
    g2 = stream("g2", 3, "10 ms")
    g3 = stream("g3", 1, "")
    GENS.extend((g0, g1, g2, g3))
    ev("main", f"g1 gave {await anext(g1)}")
    async for item in g3:
        ev("main", f"g3 gave {item}")
    asyncio.create_task(bg(g2))
    await asyncio.sleep(0.01)
    ev("main", "returning")


run(main)
