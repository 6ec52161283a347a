"""move_on: give up on a slow step after a deadline and go on (Trio's
move_on_after). asyncio spells it as a timeout whose TimeoutError is
caught; corio has a scope kind for it (corio_scope_move_on_after) whose close
turns its own cancel into 0. A step that finishes in time is unaffected;
an outside cancel still propagates."""
import asyncio
from evtrace import ev, run, section, errname, cancelling


async def step(name, ms):
    try:
        await asyncio.sleep(ms / 1000)
        ev(name, f"finished in {ms} ms")
    except asyncio.CancelledError:
        ev(name, "gave up")
        raise


async def main():
    section("slow step")
    try:
        async with asyncio.timeout(0.04):
            await step("slow", 100)
    except TimeoutError:
        pass
    ev("main", f"moved on, cancelling={cancelling()}")

    section("quick step")
    try:
        async with asyncio.timeout(0.04):
            await step("quick", 10)
    except TimeoutError:
        pass
    ev("main", f"moved on, cancelling={cancelling()}")

    section("outside cancel")
    me = asyncio.current_task()
    asyncio.get_running_loop().call_later(0.01, me.cancel)
    try:
        try:
            async with asyncio.timeout(0.05):
                await step("cancelled", 100)
        except TimeoutError:
            pass
        ev("main", "moved on (must not happen)")
    except asyncio.CancelledError as e:
        ev("main", f"error {errname(e)}, cancelling={cancelling()}")
        me.uncancel()


run(main)
