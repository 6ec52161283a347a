"""timeout_in_cleanup: an outer timeout expires; its body catches the
cancel and runs a cleanup bounded by a timeout of its own (20 ms), which
expires too. The inner timeout must raise ETIMEDOUT, not ECANCELED,
although the outer timeout's request still stands (cancelling() is 1 on
entry): Python 3.11.3+ (gh-102780) and 3.12 withdraw the inner request
and compare with the count at entry. The outer timeout then raises
ETIMEDOUT as usual.

corio follows the 3.11.3+ rule (scope.h). The C twin runs the cleanup
under a shield scope, because corio's cancellation is level-triggered
(the standing request would fail the cleanup's sleep at once).

EXPECTED DIFFERENCE on Python older than 3.11.3 (see
timeout_in_cleanup.expected-diff): 3.11.0-3.11.2 compare uncancel()'s
result with 0, so the inner timeout lets ECANCELED out (Debian 12's
python3 is 3.11.2)."""
import asyncio
from evtrace import ev, run, errname, cancelling


async def main():
    try:
        async with asyncio.timeout(0.01):
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                ev("body", f"outer expired, cleanup with a 20 ms timeout, "
                           f"cancelling={cancelling()}")
                try:
                    async with asyncio.timeout(0.02):
                        await asyncio.sleep(1)
                except (TimeoutError, asyncio.CancelledError) as e:
                    ev("body", f"cleanup timed out: error {errname(e)}, "
                               f"cancelling={cancelling()}")
                raise
    except TimeoutError as e:
        ev("main", f"outer: error {errname(e)}, cancelling={cancelling()}")


run(main)
