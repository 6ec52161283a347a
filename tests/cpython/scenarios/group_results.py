"""group_results: a TaskGroup with three children (60, 20, 40 ms) and a
body that sleeps 40 ms: the group's exit waits for the last child (tick
6), never less; results are read from the task handles afterwards."""
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
              for n, ms in (("a", 60), ("b", 20), ("c", 40))]
        ev("body", "spawned 3, sleeping 40 ms")
        await asyncio.sleep(0.04)
        ev("body", "done, waiting for the children")
    ev("main", "group done: " + " ".join(f"{t.get_name()}={t.result()}" for t in ts))


run(main)
