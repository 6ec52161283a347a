"""gather_results: gather of three tasks (30, 10, 20 ms) returns at tick
3, when the last is done, with the results in argument order, not
completion order. gather of nothing returns at once."""
import asyncio
from evtrace import ev, run


async def child(name, ms):
    await asyncio.sleep(ms / 1000)
    ev(name, "done")
    return ms


async def main():
    ts = [asyncio.create_task(child(n, ms)) for n, ms in
          (("a", 30), ("b", 10), ("c", 20))]
    res = await asyncio.gather(*ts)
    ev("main", f"gather: ok {res}")
    ev("main", f"gather of nothing: ok {await asyncio.gather()}")


run(main)
