"""group_results: a TaskGroup with three children (30, 10, 20 ms) and a
body that sleeps 20 ms: the group's exit waits for the last child (tick
3), never less; results are read from the task handles afterwards."""
import asyncio
from evtrace import ev, run


async def child(name, ms):
    ev(name, "started")
    await asyncio.sleep(ms / 1000)
    ev(name, "done")
    return ms


async def main():
    async with asyncio.TaskGroup() as g:
        ts = [g.create_task(child(n, ms), name=n)
              for n, ms in (("a", 30), ("b", 10), ("c", 20))]
        ev("body", "spawned 3, sleeping 20 ms")
        await asyncio.sleep(0.02)
        ev("body", "done, waiting for the children")
    ev("main", "group done: " + " ".join(f"{t.get_name()}={t.result()}" for t in ts))


run(main)
