"""join_outcomes: awaiting a task gives its outcome: a result, its error
(with the message it failed with), or ECANCELED when it was cancelled;
done() and cancelled() agree."""
import asyncio
from evtrace import ev, run, Fail, errname


async def good():
    await asyncio.sleep(0.02)
    return 5


async def bad():
    await asyncio.sleep(0.04)
    raise Fail("EIO", "disk gone")


async def slow():
    await asyncio.sleep(1)


async def main():
    tasks = [asyncio.create_task(f(), name=f.__name__)
             for f in (good, bad, slow)]
    await asyncio.sleep(0.06)
    ev("main", f"cancel slow: {tasks[2].cancel()}")
    for t in tasks:
        try:
            ev("main", f"{t.get_name()}: ok {await t}")
        except Fail as e:
            ev("main", f"{t.get_name()}: error {e.code} ({e.msg})")
        except asyncio.CancelledError as e:
            ev("main", f"{t.get_name()}: error {errname(e)}")
        ev("main", f"{t.get_name()}: done={t.done()} cancelled={t.cancelled()}")


run(main)
