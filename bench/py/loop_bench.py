#!/usr/bin/env python3
"""loop_bench.py: the asyncio rows of corio_bench's event-loop suites.

Each subcommand runs one workload the way the C rows do and prints one line
    result key=value ...
that corio_bench parses (bench/loopbench.c, lb_field).

    spawn NTASKS BATCH     create_task + gather per batch of BATCH trivial
                           tasks, after one untimed batch; ns_per_task
    sleepers N SECS        N tasks each awaiting asyncio.sleep(SECS) at
                           once; peak RSS growth (VmHWM after - before) / N
    pingpong N             two tasks handing control back and forth N times
                           through a new future per hand-off; ns_per_handoff
    timers N SPREAD SEED   N loop.call_later callbacks with delays uniform
                           in [0, SPREAD) from splitmix64(SEED), the C rows'
                           generator; CPU time (user + system, getrusage)
                           from the first call_later to the last callback
    topic NSUBS N CAP      pub/sub by hand: one asyncio.Queue(CAP) per
                           subscriber task; the publisher awaits q.put of
                           items 1..N on each queue in turn, then an end
                           mark; every subscriber must get 1..N in order;
                           ns_per_item (per item published)
    agen MODE N            async for over an async generator yielding 1..N
                           (MODE plain: only yields; sleep0: awaits
                           asyncio.sleep(0) before each); ns_per_item

The default event loop of asyncio.run (no uvloop). Times: perf_counter_ns,
with process_time_ns beside them (cpu_ns_per_...); the timers' CPU time:
resource.getrusage(RUSAGE_SELF), as in C.
"""
import asyncio
import resource
import sys
import time

MASK = (1 << 64) - 1


def splitmix64(state):
    """Yield splitmix64 values from `state`, as lb_splitmix64 in C."""
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_ns():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return int((r.ru_utime + r.ru_stime) * 1e9)


async def trivial():
    return None


async def spawn(ntasks, batch):
    async def run(n):
        while n > 0:
            b = min(batch, n)
            await asyncio.gather(*[asyncio.create_task(trivial())
                                   for _ in range(b)])
            n -= b

    await run(batch)  # warm-up
    c0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    await run(ntasks)
    t1 = time.perf_counter_ns()
    c1 = time.process_time_ns()
    print(f"result ns_per_task={(t1 - t0) / ntasks:.1f} "
          f"cpu_ns_per_task={(c1 - c0) / ntasks:.1f}")


async def sleepers(n, secs):
    state = {"asleep": 0, "done": 0}

    async def sleeper():
        state["asleep"] += 1
        await asyncio.sleep(secs)
        state["done"] += 1

    before = status_bytes("VmHWM")
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    # Our own wake-up is queued behind every task's first step, so when
    # this returns they are all asleep (unless the first ones woke already).
    await asyncio.sleep(0)
    at_once = state["asleep"] == n and state["done"] == 0
    await asyncio.gather(*tasks)
    after = status_bytes("VmHWM")
    print(f"result bytes_per_task={(after - before) / n:.1f} "
          f"hwm_before={before} hwm_after={after} all_at_once={int(at_once)}")


async def pingpong(n):
    loop = asyncio.get_running_loop()
    slot = [loop.create_future(), loop.create_future()]
    count = 0
    STOP = 2

    async def side(i):
        nonlocal count
        while True:
            if await slot[i] == STOP:
                return
            if count >= n:
                slot[1 - i].set_result(STOP)
                return
            slot[i] = loop.create_future()  # what we wait on next
            count += 1
            slot[1 - i].set_result(1)       # the hand-off

    c0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    tasks = [asyncio.create_task(side(0)), asyncio.create_task(side(1))]
    slot[0].set_result(1)
    await asyncio.gather(*tasks)
    t1 = time.perf_counter_ns()
    c1 = time.process_time_ns()
    print(f"result ns_per_handoff={(t1 - t0) / n:.1f} "
          f"cpu_ns_per_handoff={(c1 - c0) / n:.1f}")


async def timers(n, spread, seed):
    loop = asyncio.get_running_loop()
    rng = splitmix64(seed)
    delays = [(next(rng) >> 11) * (1.0 / 9007199254740992.0) * spread
              for _ in range(n)]
    done = loop.create_future()
    fired = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == n:
            done.set_result(None)

    c0 = cpu_ns()
    w0 = time.perf_counter()
    for d in delays:
        loop.call_later(d, cb)
    await done
    c1 = cpu_ns()
    w1 = time.perf_counter()
    print(f"result cpu_ns_per_timer={(c1 - c0) / n:.1f} wall_s={w1 - w0:.3f}")


async def topic(nsubs, n, cap):
    queues = [asyncio.Queue(cap) for _ in range(nsubs)]
    end = object()

    async def subscriber(q):
        expect = 1
        while (item := await q.get()) is not end:
            if item != expect:
                sys.exit(f"topic: got {item}, expected {expect}")
            expect += 1
        return expect - 1

    c0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    tasks = [asyncio.create_task(subscriber(q)) for q in queues]
    for i in range(1, n + 1):
        for q in queues:
            await q.put(i)
    for q in queues:
        await q.put(end)
    counts = await asyncio.gather(*tasks)
    t1 = time.perf_counter_ns()
    c1 = time.process_time_ns()
    if counts != [n] * nsubs:
        sys.exit(f"topic: subscribers got {set(counts)} items, not {n}")
    print(f"result ns_per_item={(t1 - t0) / n:.1f} "
          f"cpu_ns_per_item={(c1 - c0) / n:.1f}")


async def agen(mode, n):
    async def numbers():
        for i in range(1, n + 1):
            yield i

    async def numbers_sleep0():
        for i in range(1, n + 1):
            await asyncio.sleep(0)
            yield i

    gen = numbers() if mode == "plain" else numbers_sleep0()
    c0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    total = count = 0
    async for x in gen:
        total += x
        count += 1
    t1 = time.perf_counter_ns()
    c1 = time.process_time_ns()
    if count != n or total != n * (n + 1) // 2:
        sys.exit(f"agen: got {count} items summing to {total}")
    print(f"result ns_per_item={(t1 - t0) / n:.1f} "
          f"cpu_ns_per_item={(c1 - c0) / n:.1f}")


async def tothread(n):
    def empty():
        return None

    await asyncio.to_thread(empty)  # the executor's thread is up
    c0, t0 = cpu_ns(), time.perf_counter_ns()
    for _ in range(n):
        await asyncio.to_thread(empty)
    t1, c1 = time.perf_counter_ns(), cpu_ns()
    print(f"result ns_per_call={(t1 - t0) / n:.1f} "
          f"cpu_ns_per_call={(c1 - c0) / n:.1f}")


async def procspawn(n):
    for _ in range(n + 1):  # the first spawn is a warm-up
        if _ == 1:
            c0, t0 = cpu_ns(), time.perf_counter_ns()
        proc = await asyncio.create_subprocess_exec("/bin/true")
        if await proc.wait() != 0:
            sys.exit("procspawn: /bin/true failed")
    t1, c1 = time.perf_counter_ns(), cpu_ns()
    print(f"result ns_per_spawn={(t1 - t0) / n:.1f} "
          f"cpu_ns_per_spawn={(c1 - c0) / n:.1f}")


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "spawn":
        asyncio.run(spawn(int(args[0]), int(args[1])))
    elif cmd == "sleepers":
        asyncio.run(sleepers(int(args[0]), float(args[1])))
    elif cmd == "pingpong":
        asyncio.run(pingpong(int(args[0])))
    elif cmd == "timers":
        asyncio.run(timers(int(args[0]), float(args[1]), int(args[2])))
    elif cmd == "topic":
        asyncio.run(topic(int(args[0]), int(args[1]), int(args[2])))
    elif cmd == "agen":
        asyncio.run(agen(args[0], int(args[1])))
    elif cmd == "tothread":
        asyncio.run(tothread(int(args[0])))
    elif cmd == "procspawn":
        asyncio.run(procspawn(int(args[0])))
    else:
        sys.exit(f"loop_bench.py: unknown subcommand {cmd}")


if __name__ == "__main__":
    main(sys.argv)
