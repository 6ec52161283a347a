"""cancel_done_task: cancelling a task that already finished (with a
result or an error) does nothing and says so (False), adds no request,
and leaves its outcome alone."""
import asyncio
from evtrace import ev, run, Fail


async def quick():
    return 1


async def broken():
    raise Fail("EPIPE", "peer left")


async def main():
    a = asyncio.create_task(quick())
    b = asyncio.create_task(broken())
    await asyncio.sleep(0.01)
    for name, t in (("quick", a), ("broken", b)):
        ev("main", f"{name}: done={t.done()} cancel={t.cancel()} "
                   f"cancelling={t.cancelling()} cancelled={t.cancelled()}")
    ev("main", f"quick: ok {a.result()}")
    ev("main", f"broken: error {b.exception().code}")


run(main)
