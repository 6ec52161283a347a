"""context_callbacks: callbacks run in the context captured when they were
scheduled (call_soon, call_later, done callbacks), not the one current
when they run; what a callback sets stays in its own copy. With
context=ctx they run inside ctx, and what they set stays there. A task
created with context=ctx runs inside ctx and leaves its values there; a
task created from a callback copies the callback's context."""
import asyncio
import contextvars
from evtrace import ev, run, section

var = contextvars.ContextVar("var", default="default")


def show(who):
    ev(who, f"var={var.get()}")


def show_and_set(who):
    show(who)
    var.set(f"set by {who}")


async def worker(who):
    show(who)
    var.set(f"set by {who}")
    await asyncio.sleep(0)


async def main():
    loop = asyncio.get_running_loop()
    section("captured when scheduled")
    var.set("first")
    fut = loop.create_future()
    loop.call_soon(show_and_set, "soon")
    loop.call_later(0.01, show, "later")
    fut.add_done_callback(lambda f: show("done-callback"))
    var.set("second")
    fut.set_result(None)
    await asyncio.sleep(0.02)
    show("main")

    section("explicit context")
    ctx = contextvars.copy_context()
    var.set("third")
    loop.call_soon(show_and_set, "soon-in-ctx", context=ctx)
    await asyncio.sleep(0)
    ev("main", f"ctx var={ctx[var]}")
    fut = loop.create_future()
    fut.add_done_callback(lambda f: show_and_set("done-in-ctx"), context=ctx)
    fut.set_result(None)
    await asyncio.sleep(0)
    ev("main", f"ctx var={ctx[var]}")
    show("main")

    section("task in a context")
    t = asyncio.create_task(worker("task-in-ctx"), context=ctx)
    await t
    ev("main", f"ctx var={ctx[var]}")
    show("main")

    section("task from a callback")
    tasks = []
    var.set("fourth")
    loop.call_soon(lambda: tasks.append(asyncio.create_task(worker("spawned"))))
    var.set("fifth")
    await asyncio.sleep(0)
    await tasks[0]
    show("main")


run(main)
