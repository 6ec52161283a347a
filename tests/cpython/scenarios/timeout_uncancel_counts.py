"""timeout_uncancel_counts: cancelling() after caught timeouts. Three
timeouts caught in a row each leave the count at 0; a body that swallows
the timeout's own cancel leaves no TimeoutError and a count of 0; a
cancel from outside while inside a timeout passes through it unconverted
with the count at 1, and after uncancel() the next timeout works as
before."""
import asyncio
from evtrace import ev, run, section, errname, cancelling


async def cancel_later(task, secs):
    await asyncio.sleep(secs)
    ev("canceller", "cancel main")
    task.cancel()


async def main():
    me = asyncio.current_task()
    section("three caught timeouts")
    ev("main", f"start: cancelling={cancelling()}")
    for i in range(3):
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
        except TimeoutError:
            ev("main", f"timeout {i} caught, cancelling={cancelling()}")

    section("body swallows the timeout's cancel")
    async with asyncio.timeout(0.01) as cm:
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            ev("body", f"swallowed the timeout's cancel, cancelling={cancelling()}")
    ev("main", f"no error, expired={cm.expired()}, cancelling={cancelling()}")

    section("outside cancel inside a timeout")
    c = asyncio.create_task(cancel_later(me, 0.01))
    try:
        async with asyncio.timeout(0.05):
            await asyncio.sleep(1)
    except asyncio.CancelledError as e:
        ev("main", f"outside cancel passed through: {errname(e)}, "
                   f"cancelling={cancelling()}")
        ev("main", f"uncancel -> {me.uncancel()}")
    await c

    section("timeout after uncancel")
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)
    except TimeoutError:
        ev("main", f"timeout after uncancel caught, cancelling={cancelling()}")


run(main)
