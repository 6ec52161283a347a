"""lock_fifo: four tasks queue on a lock that main holds. w2 is cancelled
while waiting (it leaves the queue, nothing else changes). main releases
the lock and at once cancels w1, the first waiter, before it can run: w1
raises ECANCELED without the lock, which goes on to w3, then w4; waiters
are served in FIFO order and each holds the lock 10 ms.

DELIBERATE DIFFERENCE (sync.h, "no barging"; see
lock_fifo.expected-diff): corio hands a released lock to the first
waiter at once, so locked() is True right after the release and while
w1 unwinds (the lock passes straight from w1 to w3); asyncio's release()
unlocks and wakes the first waiter, which takes the lock only when it
runs, so locked() is False in between."""
import asyncio
from evtrace import ev, run, errname


async def worker(name, lock):
    ev(name, "acquiring")
    try:
        await lock.acquire()
    except asyncio.CancelledError as e:
        ev(name, f"acquire: error {errname(e)}, locked={lock.locked()}")
        raise
    ev(name, "acquired")
    await asyncio.sleep(0.01)
    ev(name, "releasing")
    lock.release()


async def main():
    lock = asyncio.Lock()
    await lock.acquire()
    ev("main", "holds the lock")
    ws = [asyncio.create_task(worker(f"w{i}", lock)) for i in range(1, 5)]
    await asyncio.sleep(0.01)
    ev("main", "cancel w2 (waiting)")
    ws[1].cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    lock.release()
    ev("main", f"released, locked={lock.locked()}; cancel w1 before it runs")
    ws[0].cancel()
    await asyncio.gather(*ws, return_exceptions=True)
    ev("main", f"all done, locked={lock.locked()}")


run(main)
