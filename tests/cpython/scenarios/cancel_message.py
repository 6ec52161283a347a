"""cancel_message: task.cancel(msg). The cancelled task sees the message
in its CancelledError and so does whoever awaits it. A task not yet
started sees the last message given; a task woken from a wait by a
cancel sees that cancel's message, whatever later cancels say. A cancel
passed on through `await task` carries the message to the inner task."""
import asyncio
from evtrace import ev, run, section


def msg_of(exc):
    return exc.args[0] if exc.args else None


async def sleeper(who):
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError as e:
        ev(who, f"cancelled, message={msg_of(e)}")
        raise


async def outer(inner):
    try:
        await inner
    except asyncio.CancelledError as e:
        ev("outer", f"join cancelled, message={msg_of(e)}")
        raise


async def join(t):
    try:
        await t
    except asyncio.CancelledError as e:
        ev("main", f"join: error ECANCELED, message={msg_of(e)}")


async def main():
    section("one cancel")
    t = asyncio.create_task(sleeper("worker"))
    await asyncio.sleep(0.01)
    t.cancel("stop now")
    await join(t)

    section("before start: last wins")
    t = asyncio.create_task(sleeper("worker"))
    t.cancel("first")
    t.cancel("second")
    await join(t)

    section("while waiting: first wins")
    t = asyncio.create_task(sleeper("worker"))
    await asyncio.sleep(0.01)
    t.cancel("first")
    t.cancel("second")
    await join(t)

    section("passed on")
    inner = asyncio.create_task(sleeper("inner"))
    o = asyncio.create_task(outer(inner))
    await asyncio.sleep(0.01)
    o.cancel("from main")
    await join(o)


run(main)
