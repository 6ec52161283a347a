"""future_callbacks: a future completed by a timer callback wakes its
awaiting tasks and runs its done callbacks, in the order they were added,
all in the iteration after it completes (never inside set_result); a
callback added after completion runs soon, not at once. A pending future
has no result, and a done one cannot be completed again."""
import asyncio
from evtrace import ev, run


async def waiter(name, fut):
    ev(name, "awaiting")
    ev(name, f"got {await fut}")


async def main():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    try:
        fut.result()
    except asyncio.InvalidStateError:
        ev("main", "result while pending: refused")
    fut.add_done_callback(lambda f: ev("cb1", f"result {f.result()}"))
    fut.add_done_callback(lambda f: ev("cb2", "ran"))
    w = [asyncio.create_task(waiter(n, fut)) for n in ("w1", "w2")]

    def complete():
        ev("timer", "set_result 42")
        fut.set_result(42)
        ev("timer", "set_result returned")

    loop.call_later(0.02, complete)
    await w[0]
    await w[1]
    fut.add_done_callback(lambda f: ev("cb3", "added late, ran"))
    ev("main", "added cb3")
    try:
        fut.set_result(1)
    except asyncio.InvalidStateError:
        ev("main", "set_result again: refused")
    await asyncio.sleep(0)
    ev("main", f"done={fut.done()} cancelled={fut.cancelled()}")


run(main)
