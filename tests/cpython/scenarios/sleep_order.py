"""sleep_order: three tasks sleep 60, 20 and 40 ms; they wake in deadline
order, each at its tick, and joining them gives their results in the order
joined."""
import asyncio
from evtrace import ev, run


async def sleeper(name, ms):
    ev(name, "started")
    await asyncio.sleep(ms / 1000)
    ev(name, f"woke after {ms} ms")
    return ms


async def main():
    tasks = [asyncio.create_task(sleeper(n, ms), name=n)
             for n, ms in (("a", 60), ("b", 20), ("c", 40))]
    ev("main", "spawned 3")
    for t in tasks:
        ev("main", f"joined {t.get_name()}: ok {await t}")


run(main)
