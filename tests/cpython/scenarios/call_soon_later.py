"""call_soon_later: loop callbacks. call_soon callbacks run in the next
iteration in the order made, before a task that yielded after making
them; timers run at their deadlines (call_later, call_at), those due
together in the order made; a cancelled handle never runs."""
import asyncio
from evtrace import ev, run


async def main():
    loop = asyncio.get_running_loop()
    say = lambda who: ev(who, "ran")
    loop.call_later(0.03, say, "late-30")
    loop.call_later(0.01, say, "early-10")
    loop.call_later(0.01, say, "early-10-second")
    loop.call_at(loop.time() + 0.02, say, "at-20")
    h = loop.call_later(0.015, say, "cancelled-15")
    loop.call_soon(say, "soon-a")
    loop.call_soon(say, "soon-b")
    h2 = loop.call_soon(say, "soon-cancelled")
    h.cancel()
    h2.cancel()
    ev("main", "scheduled")
    await asyncio.sleep(0)
    ev("main", "after sleep(0)")
    await asyncio.sleep(0.04)
    ev("main", "after 40 ms")


run(main)
