"""timeout_reschedule: a body that finishes in time leaves the timeout
unexpired; reschedule() moves the deadline later (the body outlives the
original one) or earlier (it expires sooner), None removes it, and
timeout_at takes an absolute loop time."""
import asyncio
from evtrace import ev, run, section


async def main():
    loop = asyncio.get_running_loop()
    section("in time")
    async with asyncio.timeout(0.05) as cm:
        await asyncio.sleep(0.01)
    ev("main", f"done in time, expired={cm.expired()}")

    section("later")
    async with asyncio.timeout(0.01) as cm:
        cm.reschedule(loop.time() + 0.04)
        await asyncio.sleep(0.02)
    ev("main", f"outlived the first deadline, expired={cm.expired()}")

    section("earlier")
    try:
        async with asyncio.timeout(1) as cm:
            cm.reschedule(loop.time() + 0.01)
            await asyncio.sleep(0.05)
    except TimeoutError:
        ev("main", f"timed out early, expired={cm.expired()}")

    section("none")
    async with asyncio.timeout(0.01) as cm:
        cm.reschedule(None)
        await asyncio.sleep(0.02)
    ev("main", f"no deadline: when is None={cm.when() is None}, expired={cm.expired()}")

    section("timeout_at")
    try:
        async with asyncio.timeout_at(loop.time() + 0.02):
            await asyncio.sleep(1)
    except TimeoutError:
        ev("main", "timeout_at: ETIMEDOUT")


run(main)
