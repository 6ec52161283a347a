"""join_child_refuses: the parent awaiting a child is cancelled, and the
child refuses the forwarded cancel (uncancel, returns 9). In asyncio the
parent keeps waiting on the child and gets its result: the parent's
await does not fail at all, and the parent ends with the result."""
import asyncio
from evtrace import ev, run, errname


async def child():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("child", f"refusing the cancel, {asyncio.current_task().uncancel()} left")
    return 9


async def parent(c):
    try:
        r = await c
        ev("parent", f"join: ok {r}")
        return r
    except asyncio.CancelledError as e:
        ev("parent", f"join: error {errname(e)}")
        raise


async def main():
    c = asyncio.create_task(child())
    p = asyncio.create_task(parent(c))
    await asyncio.sleep(0.01)
    p.cancel()
    for name, t in (("parent", p), ("child", c)):
        try:
            ev("main", f"{name}: ok {await t}")
        except asyncio.CancelledError as e:
            ev("main", f"{name}: error {errname(e)}")


run(main)
