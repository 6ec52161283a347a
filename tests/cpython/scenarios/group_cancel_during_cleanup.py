"""group_cancel_during_cleanup: the task running a TaskGroup is cancelled
from outside (tick 4) while a child is in cleanup.

Case "aborting": child "bad" failed at tick 1, so the group is already
cancelling its children; "slow" is in a 60 ms cleanup. The outside
cancel reaches the parent waiting in the group's exit, which does not
cancel the children again: slow's cleanup finishes (tick 7), and the
child's failure has priority over the cancel: the group raises EIO. The
outside request stands (cancelling() == 1).

Case "tidying": no failure; child "tidy" finished its work at tick 1 and
is in a 60 ms cleanup of its own (not cancelled). The outside cancel
makes the group cancel it, so the cleanup is interrupted at tick 4, and
the group raises ECANCELED.

(C twin: slow's cleanup runs under a shield, as level-triggered
cancellation requires; tidy's does not, since nothing cancelled it
before it began.)"""
import asyncio
from evtrace import ev, run, section, Fail, errname, cancelling, group_errors


async def bad():
    await asyncio.sleep(0.01)
    raise Fail("EIO", "bad broke")


async def slow():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("slow", "cancelled, 60 ms of cleanup")
        await asyncio.sleep(0.06)
        ev("slow", "cleanup done")
        raise


async def tidy():
    await asyncio.sleep(0.01)
    ev("tidy", "work done, 60 ms of cleanup")
    try:
        await asyncio.sleep(0.06)
        ev("tidy", "cleanup done")
    except asyncio.CancelledError as e:
        ev("tidy", f"cleanup: error {errname(e)}")
        raise


async def parent(children):
    try:
        async with asyncio.TaskGroup() as g:
            for c in children:
                g.create_task(c())
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError as e:
                ev("body", f"sleep: error {errname(e)}")
                raise
    except BaseExceptionGroup as eg:
        group_errors("parent", eg)
    except asyncio.CancelledError as e:
        ev("parent", f"group: error {errname(e)}")
    ev("parent", f"cancelling={cancelling()}")


async def main(children):
    p = asyncio.create_task(parent(children))
    await asyncio.sleep(0.04)
    ev("main", "cancel parent")
    p.cancel()
    await p


section("aborting")
run(main, (bad, slow))
section("tidying")
run(main, (tidy,))
