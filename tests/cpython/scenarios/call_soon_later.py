"""call_soon_later: loop callbacks. call_soon callbacks run in the next
iteration in the order made, before a task that yielded after making
them; timers run at their deadlines (call_later, call_at), those due
together in the order made; a cancelled handle never runs."""
import asyncio
from evtrace import ev, run


async def main():
    loop = asyncio.get_running_loop()
    say = lambda who: ev(who, "ran")
    loop.call_later(0.06, say, "late-60")
    loop.call_later(0.02, say, "early-20")
    loop.call_later(0.02, say, "early-20-second")
    loop.call_at(loop.time() + 0.04, say, "at-40")
    h = loop.call_later(0.03, say, "cancelled-30")
    loop.call_soon(say, "soon-a")
    loop.call_soon(say, "soon-b")
    h2 = loop.call_soon(say, "soon-cancelled")
    h.cancel()
    h2.cancel()
    ev("main", "scheduled")
    await asyncio.sleep(0)
    ev("main", "after sleep(0)")
    await asyncio.sleep(0.08)
    ev("main", "after 80 ms")


run(main)
