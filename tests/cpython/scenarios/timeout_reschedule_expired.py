"""timeout_reschedule_expired: once a timeout has expired, reschedule()
is refused (asyncio raises RuntimeError; corio returns -EALREADY) and
changes nothing: when() keeps the old deadline and the block still ends
in TimeoutError. Rescheduling before expiry still works."""
import asyncio
from evtrace import ev, run, section


async def main():
    loop = asyncio.get_running_loop()
    section("expired")
    try:
        async with asyncio.timeout(0.02) as cm:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                ev("main", f"sleep: error ECANCELED, expired={cm.expired()}")
                when = cm.when()
                try:
                    cm.reschedule(loop.time() + 1)
                    ev("main", "reschedule accepted")
                except RuntimeError:
                    ev("main", "reschedule refused")
                ev("main", f"deadline unchanged={cm.when() == when}")
                raise
    except TimeoutError:
        ev("main", "block: error ETIMEDOUT")

    section("before expiry")
    async with asyncio.timeout(0.02) as cm:
        cm.reschedule(loop.time() + 1)
        ev("main", "reschedule accepted")
        await asyncio.sleep(0.03)
    ev("main", f"outlived the first deadline, expired={cm.expired()}")


run(main)
