"""event_waiters: three tasks wait on an event; b is cancelled while
waiting; set() at tick 2 wakes a and c, in the order they began to wait,
and they return True even though main clears the event before they run.
Waiting on a set event returns at once; after clear(), a new waiter d
waits until a timer sets the event again (tick 4)."""
import asyncio
from evtrace import ev, run, errname


async def waiter(name, event):
    try:
        ev(name, f"wait: ok {await event.wait()}")
    except asyncio.CancelledError as e:
        ev(name, f"wait: error {errname(e)}")
        raise


async def main():
    event = asyncio.Event()
    ws = [asyncio.create_task(waiter(n, event)) for n in "abc"]
    await asyncio.sleep(0.01)
    ws[1].cancel()
    await asyncio.sleep(0.01)
    event.set()
    event.clear()
    ev("main", f"set then cleared, is_set={event.is_set()}")
    await asyncio.gather(*ws, return_exceptions=True)
    event.set()
    ev("main", f"set again; wait on a set event: ok {await event.wait()}")
    event.clear()
    d = asyncio.create_task(waiter("d", event))
    asyncio.get_running_loop().call_later(0.02, event.set)
    await d


run(main)
