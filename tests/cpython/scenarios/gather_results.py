"""gather_results: gather of three tasks (60, 20, 40 ms) returns at tick
6, when the last is done, with the results in argument order, not
completion order. gather of nothing returns at once."""
import asyncio
from evtrace import ev, run


async def child(name, ms):
    await asyncio.sleep(ms / 1000)
    ev(name, "done")
    return ms


async def main():
    ts = [asyncio.create_task(child(n, ms)) for n, ms in
          (("a", 60), ("b", 20), ("c", 40))]
    res = await asyncio.gather(*ts)
    ev("main", f"gather: ok {res}")
    ev("main", f"gather of nothing: ok {await asyncio.gather()}")


run(main)
