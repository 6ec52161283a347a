"""spawn_order: a spawned task first runs in a later iteration, never
inside create_task; tasks then run in spawn order, and sleep(0) lets
every other ready task run once (round robin)."""
import asyncio
from evtrace import ev, run


async def worker(name):
    for i in range(3):
        ev(name, f"step {i}")
        await asyncio.sleep(0)
    ev(name, "done")


async def main():
    tasks = [asyncio.create_task(worker(n), name=n) for n in "abc"]
    ev("main", "spawned 3, none has run")
    await asyncio.sleep(0)
    ev("main", "after sleep(0)")
    for t in tasks:
        await t
        ev("main", f"joined {t.get_name()}")


run(main)
