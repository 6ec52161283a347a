"""io_vs_ready_work: when a task waiting for a readable socket runs,
relative to a task that keeps yielding with sleep(0).

DELIBERATE DIFFERENCE (see io_vs_ready_work.expected-diff): asyncio polls
for I/O in every iteration, so the reader wakes a couple of spins after
the byte is sent. corio does not look at the poller while work is ready
except every 61 iterations (docs/loop.md: ready work costs no system
call), so the reader wakes only at the next such poll, tens of spins
later. The byte arrives either way; only the position differs."""
import asyncio
import socket
from evtrace import ev, run

spins = 0
got = False


async def reader(sock):
    global got
    ev("reader", "waiting for a byte")
    data = await asyncio.get_running_loop().sock_recv(sock, 1)
    got = True
    ev("reader", f"got {data.decode()} after {spins} spins")


async def main():
    global spins
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    r = asyncio.create_task(reader(a))
    await asyncio.sleep(0)
    b.send(b"x")
    ev("main", "sent x, spinning with sleep(0)")
    for spins in range(200):
        if got:
            break
        await asyncio.sleep(0)
    ev("main", f"stopped spinning at {spins}")
    await r
    a.close()
    b.close()


run(main)
