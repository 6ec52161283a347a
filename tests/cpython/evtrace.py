"""evtrace.py: the Python half of corio's CPython comparison suite.

Each scenario in scenarios/ exists twice, NAME.py (asyncio) and NAME.c
(corio), and both print the same event trace through this module and its C
twin evtrace.h. A line is

    [  3] worker: cancelled

that is, ticks since the run began, who, and what happened. A tick is 10 ms
of the loop's clock, rounded down: a sleep of 20 ms shows up as tick 2.
run() uses VirtualClockLoop (time jumps to the next timer when everything
waits, as corio_diag_virtual_clock on the C side), so ticks do not depend
on the machine's load; use_real_time() (or CORIO_TRACE_REAL_TIME=1) keeps
the real clock. Lines without a tick ("== case 2", "run: ok") are section
headers and outcomes.

Errors are named like errno values so that both sides print the same word:
CancelledError is ECANCELED, TimeoutError is ETIMEDOUT, and a scenario that
fails raises Fail("EIO", "message"), the twin of
`return corio_fail(-EIO, "message")`. A TaskGroup's ExceptionGroup is named
after its first exception, which is what corio_group_wait returns.

Run one by hand: PYTHONPATH=tests/cpython python3 tests/cpython/scenarios/NAME.py
"""
import asyncio
import os
import time

TICK = 0.010
_t0 = time.monotonic()


class _VirtualSelector:
    """The loop's selector, but a wait with a timeout looks (timeout 0)
    and, finding nothing, moves the loop's virtual time to the end of the
    timeout instead of waiting for it."""

    def __init__(self, selector, loop):
        self._selector = selector
        self._loop = loop

    def select(self, timeout=None):
        if timeout is None or timeout <= 0:
            return self._selector.select(timeout)
        events = self._selector.select(0)
        if not events:
            self._loop._vtime += timeout
        return events

    def __getattr__(self, name):
        return getattr(self._selector, name)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock, as corio_diag_virtual_clock on the
    C side (Trio's MockClock with autojump): time stands still while
    anything is ready and jumps to the next timer when everything waits.
    The traces then do not depend on the machine's load."""

    def __init__(self):
        super().__init__()
        self._vtime = time.monotonic()
        self._selector = _VirtualSelector(self._selector, self)

    def time(self):
        return self._vtime


_real_time = bool(os.environ.get("CORIO_TRACE_REAL_TIME"))


def use_real_time():
    """For a scenario about real time passing while the loop is blocked:
    its runs use the real clock, not the virtual one."""
    global _real_time
    _real_time = True


def _now():
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def ticks():
    """Whole ticks since the current run began."""
    return int((_now() - _t0) / TICK)


def ev(who, what):
    """Print one timed event."""
    print(f"[{ticks():3d}] {who}: {what}", flush=True)


def note(text):
    """Print an untimed line (a section header)."""
    print(text, flush=True)


class Fail(Exception):
    """A failure with an errno name: `raise Fail("EIO", "disk gone")`."""

    def __init__(self, code, msg=""):
        super().__init__(code, msg)
        self.code = code
        self.msg = msg


def errname(exc):
    """The errno name corio would report for exc."""
    if isinstance(exc, asyncio.CancelledError):
        return "ECANCELED"
    if isinstance(exc, TimeoutError):
        return "ETIMEDOUT"
    if isinstance(exc, Fail):
        return exc.code
    if isinstance(exc, BaseExceptionGroup):
        return errname(exc.exceptions[0])  # corio_group_wait's return
    raise exc  # not part of the vocabulary: let it show


def outcome(exc):
    """'error NAME' for an exception, as evtrace.h's outcome()."""
    return f"error {errname(exc)}"


def group_errors(who, eg):
    """Print a TaskGroup's ExceptionGroup as corio's group error list."""
    ev(who, f"group failed: {len(eg.exceptions)} error(s)")
    for i, e in enumerate(eg.exceptions):
        msg = e.msg if isinstance(e, Fail) else ""
        ev(who, f"  error[{i}] {errname(e)} {msg}".rstrip())


def section(title):
    """Print an untimed header '== title' and restart the clock, so that
    the cases of one scenario keep their own ticks."""
    global _t0
    note(f"== {title}")
    _t0 = _now()


def cancelling():
    """The running task's cancelling() count."""
    return asyncio.current_task().cancelling()


def run(main, *args):
    """asyncio.run(main(*args)) with the clock restarted; print its outcome."""
    async def wrapper():
        global _t0
        _t0 = _now()
        return await main(*args)

    try:
        with asyncio.Runner(loop_factory=None if _real_time else
                            VirtualClockLoop) as runner:
            res = runner.run(wrapper())
    except (asyncio.CancelledError, TimeoutError, Fail) as exc:
        note(f"run: {outcome(exc)}")
        return None
    note("run: ok" if not res else f"run: ok {res}")  # None and 0 alike
    return res
