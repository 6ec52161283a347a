"""wait_modes: asyncio.wait with each return_when, over the same three
children: a (done at 10 ms), b (fails at 40 ms), c (done at 80 ms).
FIRST_COMPLETED returns at tick 1 with a done; FIRST_EXCEPTION at tick 4
with a and b; ALL_COMPLETED at tick 8 with all three; ALL_COMPLETED with a
25 ms timeout returns at tick 2 with a done and b, c pending. wait never
raises and never cancels: the pending children are cancelled afterwards
by the caller (in name order)."""
import asyncio
from evtrace import ev, run, section, Fail, errname

MODES = [("FIRST_COMPLETED", asyncio.FIRST_COMPLETED, None),
         ("FIRST_EXCEPTION", asyncio.FIRST_EXCEPTION, None),
         ("ALL_COMPLETED", asyncio.ALL_COMPLETED, None),
         ("ALL_COMPLETED, timeout 25 ms", asyncio.ALL_COMPLETED, 0.025)]


async def child(name, ms, fail):
    try:
        await asyncio.sleep(ms / 1000)
    except asyncio.CancelledError:
        ev(name, "cancelled")
        raise
    if fail:
        raise Fail("EIO", f"{name} broke")
    return ms


async def main(mode, timeout):
    ts = {n: asyncio.create_task(child(n, ms, f), name=n)
          for n, ms, f in (("a", 10, False), ("b", 40, True), ("c", 80, False))}
    done, pending = await asyncio.wait(ts.values(), timeout=timeout,
                                       return_when=mode)
    names = lambda s: " ".join(sorted(t.get_name() for t in s)) or "-"
    ev("main", f"wait: done={names(done)} pending={names(pending)}")
    for t in sorted(done, key=lambda t: t.get_name()):
        e = t.exception()
        ev("main", f"{t.get_name()}: " + (f"error {errname(e)}" if e else f"ok {t.result()}"))
    for t in sorted(pending, key=lambda t: t.get_name()):
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


for title, mode, timeout in MODES:
    section(title)
    run(main, mode, timeout)
