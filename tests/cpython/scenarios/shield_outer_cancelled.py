"""shield_outer_cancelled: a client task awaits asyncio.shield(work) and
is cancelled from outside (tick 1): the client gets ECANCELED and ends
cancelled, the shield's outer future is cancelled, and the work runs on
to its end (tick 3). Cancelling the outer future directly does not reach
the work either."""
import asyncio
from evtrace import ev, run, errname


async def work(ms):
    await asyncio.sleep(ms / 1000)
    ev("work", f"done after {ms} ms")
    return ms


async def client(outer):
    try:
        await outer
    except asyncio.CancelledError as e:
        ev("client", f"await shield: error {errname(e)}")
        raise


async def main():
    t = asyncio.create_task(work(30))
    outer = asyncio.shield(t)
    c = asyncio.create_task(client(outer))
    await asyncio.sleep(0.01)
    ev("main", "cancel client")
    c.cancel()
    await asyncio.gather(c, return_exceptions=True)
    ev("main", f"client cancelled={c.cancelled()}, outer cancelled={outer.cancelled()}, "
               f"work done={t.done()}")
    ev("main", f"work: ok {await t}")

    t2 = asyncio.create_task(work(10))
    outer2 = asyncio.shield(t2)
    ev("main", f"cancel outer: {outer2.cancel()}")
    ev("main", f"work: ok {await t2}")


run(main)
