"""group_spawn_refused: a TaskGroup refuses new children once it is
cancelling its children ("shutting down") and once its exit has finished
("finished"); asyncio raises RuntimeError, corio returns -ESHUTDOWN.
While the exit waits for live children, spawning still works (a child
spawns a sibling then)."""
import asyncio
from evtrace import ev, run, Fail, errname, group_errors


async def noop():
    ev("noop", "ran (must not happen)")


def try_spawn(who, g):
    coro = noop()
    try:
        g.create_task(coro)
        ev(who, "spawn: ok")
    except RuntimeError:
        coro.close()
        ev(who, "spawn: error ESHUTDOWN")


async def bad():
    await asyncio.sleep(0.01)
    raise Fail("EIO", "bad broke")


async def late(g):
    await asyncio.sleep(0.02)
    async def sibling():
        ev("sibling", "ran")
    g.create_task(sibling())
    ev("late", "spawned a sibling during the group's exit")


async def main():
    async with asyncio.TaskGroup() as g:
        g.create_task(late(g))
        ev("body", "done, exit waits for late")
    ev("main", "group finished")
    try_spawn("main", g)

    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(bad())
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                try_spawn("body", g)
                raise
    except BaseExceptionGroup as eg:
        group_errors("main", eg)


run(main)
