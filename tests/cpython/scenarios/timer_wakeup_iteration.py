"""timer_wakeup_iteration: in which iteration a task whose sleep has
ended runs again, relative to a task that keeps yielding.

The loop is blocked (20 ms, synchronously) past the sleeper's 10 ms
deadline; then main yields three times.

FOUND DIFFERENCE (see timer_wakeup_iteration.expected-diff): asyncio's
sleep is a future completed by a timer callback, and the task's wake-up is
a callback of that future, so the sleeper runs one iteration after its
timer fires (after main's spin 2). corio's timer makes the task ready
directly, so the sleeper runs in the iteration its timer fires (between
spin 1 and spin 2). Deadlines and timer order are the same; only the
position among ready work differs, by one iteration."""
import asyncio
import time
from evtrace import ev, run, use_real_time


async def sleeper():
    ev("sleeper", "sleeping 10 ms")
    await asyncio.sleep(0.01)
    ev("sleeper", "woke")


async def main():
    s = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    time.sleep(0.02)  # the loop is blocked past the sleeper's deadline
    for i in range(4):
        ev("main", f"spin {i}")
        await asyncio.sleep(0)
    await s


use_real_time()  # the loop is blocked in real time
run(main)
