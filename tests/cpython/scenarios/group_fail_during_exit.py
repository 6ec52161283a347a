"""group_fail_during_exit: a child fails (tick 2) while the parent is
already waiting in the TaskGroup's exit (its body ended at tick 0). The
group cancels the other child and raises the failure. Afterwards the
parent should have no cancel request standing.

EXPECTED DIFFERENCE on Python 3.11 (see group_fail_during_exit
.expected-diff): 3.11's TaskGroup cancels the parent task here too and
never withdraws that request (it uncancels only at the start of
__aexit__, before the wait): cancelling() stays 1 after the group, a
CPython bug (fixed upstream by gh-116720, moving the uncancel after the
wait). corio does not raise the parent's count then: 0. The parent's
sleep afterwards works in both (in asyncio because the cancel was
delivered once, inside the group's wait)."""
import asyncio
from evtrace import ev, run, Fail, cancelling, group_errors


async def bad():
    await asyncio.sleep(0.02)
    ev("bad", "failing with EIO")
    raise Fail("EIO", "bad broke")


async def slow():
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        ev("slow", "cancelled")
        raise


async def main():
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(bad())
            g.create_task(slow())
            ev("body", "done, waiting in the group's exit")
    except BaseExceptionGroup as eg:
        group_errors("main", eg)
    ev("main", f"after the group: cancelling={cancelling()}")
    await asyncio.sleep(0.01)
    ev("main", "slept 10 ms after the group")


run(main)
