"""timeout_zero: timeouts whose deadline is already past, or passes while
the body never awaits. With no await inside, no timeout error is raised
(asyncio.timeout(0) and a blocked body alike); the body's first await
inside fails, and the timeout raises ETIMEDOUT.

DELIBERATE DIFFERENCE (see timeout_zero.expected-diff): expired() of
timeout(0) around a body that never awaits. asyncio arms such a timeout
with call_soon, so it has not fired yet when the body ends: expired() is
False. corio cancels a scope whose deadline is already past at once
(scope.h), so it reports itself cancelled (True); it still converts
nothing, because the body returned no ECANCELED."""
import asyncio
import time
from evtrace import ev, run, section, errname, cancelling


async def main():
    section("timeout(0), no await")
    async with asyncio.timeout(0) as cm:
        ev("body", "runs")
    ev("main", f"no error, expired={cm.expired()}, cancelling={cancelling()}")

    section("timeout(0), sleep(0) inside")
    try:
        async with asyncio.timeout(0):
            await asyncio.sleep(0)
            ev("body", "slept (must not happen)")
    except TimeoutError as e:
        ev("main", f"error {errname(e)}, cancelling={cancelling()}")

    section("timeout(-1), sleep inside")
    try:
        async with asyncio.timeout(-1):
            await asyncio.sleep(0.01)
    except TimeoutError as e:
        ev("main", f"error {errname(e)}, cancelling={cancelling()}")

    section("deadline passes while the body blocks")
    async with asyncio.timeout(0.01) as cm:
        time.sleep(0.02)
        ev("body", "blocked 20 ms without awaiting")
    ev("main", f"no error, cancelling={cancelling()}")
    await asyncio.sleep(0.01)
    ev("main", "slept 10 ms afterwards")


run(main)
