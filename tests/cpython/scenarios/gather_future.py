"""gather_future: asyncio.gather returns a future at once. Cancelled before
anyone awaits it, it cancels its children (not yet started, they never
run) and awaiting it raises CancelledError. Left alone, it completes by
itself and its result is read after the fact. A failing child settles it
with that error while the other child runs on. Cancelled while the
children run, each child sees the cancel before the gather completes."""
import asyncio
from evtrace import Fail, ev, run, section


async def child(name, secs, fail=None, value=None):
    try:
        await asyncio.sleep(secs)
    except asyncio.CancelledError:
        ev(name, "cancelled")
        raise
    ev(name, "done")
    if fail:
        raise Fail(fail, f"{name} failed")
    return value


async def main():
    section("cancel before await")
    a = asyncio.create_task(child("a", 0.02))
    b = asyncio.create_task(child("b", 0.02))
    g = asyncio.gather(a, b)
    ev("main", f"cancel: {g.cancel()}")
    try:
        await g
    except asyncio.CancelledError:
        ev("main", "gather: error ECANCELED")
    ev("main", f"a cancelled={a.cancelled()}, b cancelled={b.cancelled()}")

    section("await after done")
    g = asyncio.gather(child("a", 0.02, value=1), child("b", 0.01, value=2))
    await asyncio.sleep(0.04)
    ev("main", f"done before await={g.done()}")
    ev("main", f"results {await g}")

    section("child fails")
    slow = asyncio.create_task(child("slow", 0.04, value=3))
    g = asyncio.gather(child("bad", 0.01, fail="EIO"), slow)
    try:
        await g
    except Fail as e:
        ev("main", f"gather: error {e.code}, slow done={slow.done()}")
    await slow
    ev("main", f"slow result {slow.result()}")

    section("cancel while running")
    g = asyncio.gather(child("a", 1), child("b", 1))
    await asyncio.sleep(0.01)
    g.cancel()
    try:
        await g
    except asyncio.CancelledError:
        ev("main", "gather: error ECANCELED")


run(main)
