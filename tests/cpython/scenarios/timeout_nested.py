"""timeout_nested: three timeouts nested (outer, middle, inner) around a
long sleep, in three cases: the inner one expires first, the outer one
first, the middle one first. A timeout converts only its own cancel:
the one that expired raises ETIMEDOUT, the ones inside it let ECANCELED
pass, and a level that catches ETIMEDOUT from inside goes on until its
own deadline. cancelling() is back to 0 after every conversion."""
import asyncio
from evtrace import ev, run, section, errname, cancelling

LEVELS = []


async def level(i):
    name, secs = LEVELS[i]
    try:
        async with asyncio.timeout(secs):
            if i + 1 < len(LEVELS):
                try:
                    await level(i + 1)
                except TimeoutError:
                    ev(name, f"caught ETIMEDOUT from {LEVELS[i + 1][0]}, "
                             f"cancelling={cancelling()}")
            ev(name, "sleeping")
            await asyncio.sleep(1)
    except (asyncio.CancelledError, TimeoutError) as e:
        ev(name, f"exit: error {errname(e)}, cancelling={cancelling()}")
        raise


async def main():
    try:
        await level(0)
    except TimeoutError as e:
        ev("main", f"error {errname(e)}, cancelling={cancelling()}")


for title, ms in (("inner first", (80, 50, 20)),
                  ("outer first", (20, 50, 80)),
                  ("middle first", (80, 20, 50))):
    LEVELS = [(n, m / 1000) for n, m in zip(("outer", "middle", "inner"), ms)]
    section(f"{title}: outer {ms[0]} ms, middle {ms[1]} ms, inner {ms[2]} ms")
    run(main)
