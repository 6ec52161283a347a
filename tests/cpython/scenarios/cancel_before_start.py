"""cancel_before_start: a task cancelled before its first step never runs
its body (not even up to its first await); cancel() counts each request,
and awaiting the task gives ECANCELED."""
import asyncio
from evtrace import ev, run, errname


async def body():
    ev("body", "started (must not happen)")


async def main():
    t = asyncio.create_task(body(), name="body")
    ev("main", f"cancel: {t.cancel()}")
    ev("main", f"cancel again: {t.cancel()}")
    ev("main", f"cancelling: {t.cancelling()}")
    try:
        await t
    except asyncio.CancelledError as e:
        ev("main", f"join: error {errname(e)}")
    ev("main", f"done={t.done()} cancelled={t.cancelled()}")
    ev("main", f"cancel after the end: {t.cancel()}")


run(main)
