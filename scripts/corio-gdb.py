# corio-gdb.py: gdb commands for corio programs, on a live process or a
# core file (docs/debugging.md).
#
#   source /path/to/corio-gdb.py
#   corio loop            every loop: poller, ready work, timers, tasks
#   corio tasks           every live task: id, name, state, spawn site,
#                         what it waits on (and for whom, where known)
#   corio bt TASK         backtrace of a suspended task (TASK: its id,
#                         its name, or its address)
#
# How: corio keeps every loop on a list (corio__loops, loop.c); each
# loop's task layer keeps its live tasks on a list. A suspended task's
# context is its saved stack pointer: the saved frame holds its frame
# pointer and resume address (x86-64: sp+48, sp+56; AArch64: sp+80,
# sp+88, see src/core/ctx/asm/*.S), and from there the walk follows frame
# records ([fp] = the caller's fp, [fp+8] = the return address) inside
# the task's stack. Frames of a lean task that another lean task pushed
# off its shared stack are read from the saved copy. Needs corio's debug
# information (RelWithDebInfo or Debug builds) and frame pointers (corio
# is built with them; build the program with -fno-omit-frame-pointer to
# see its own frames).
#
# Only reads memory: safe on a core file and on a stopped process.

import gdb

WAIT_PENDING = 1
# enum of corio/coro.h: CREATED, RUNNING, SUSPENDED, NORMAL, CLOSED
CORO_CREATED, CORO_RUNNING, CORO_SUSPENDED, CORO_NORMAL, CORO_CLOSED = range(5)
CORO_STATES = {0: "created", 1: "running", 2: "suspended", 3: "normal",
               4: "closed"}


def _type(name):
    return gdb.lookup_type(name)


def _offset(struct, field):
    for f in struct.fields():
        if f.name == field:
            return f.bitpos // 8
    raise gdb.GdbError("corio: no field %s in %s" % (field, struct))


def _str(v):
    """A C string, read up to its NUL (at most 200 bytes)."""
    try:
        addr = int(v)
        if addr == 0:
            return "?"
        out = b""
        while len(out) < 200:
            chunk = bytes(gdb.selected_inferior().read_memory(addr, 16))
            if b"\0" in chunk:
                out += chunk[:chunk.index(b"\0")]
                break
            out += chunk
            addr += 16
        return out.decode("utf-8", "replace")
    except (gdb.error, gdb.MemoryError):
        return "?"


def _container(node_ptr, struct_name, field):
    st = _type("struct " + struct_name)
    addr = int(node_ptr) - _offset(st, field)
    return gdb.Value(addr).cast(st.pointer())


def _list(lst):
    """Node pointers of a corio__list (first, next)."""
    n = lst["first"]
    seen = 0
    while int(n) != 0 and seen < 1000000:
        yield n
        n = n["next"]
        seen += 1


def loops():
    try:
        sym = gdb.lookup_global_symbol("corio__loops") or \
            gdb.lookup_static_symbol("corio__loops")
    except AttributeError:
        sym = gdb.lookup_global_symbol("corio__loops")
    if sym is None:
        try:
            head = gdb.parse_and_eval("corio__loops")
        except gdb.error:
            raise gdb.GdbError("corio: no corio__loops here (is this a "
                               "corio program with debug information?)")
    else:
        head = sym.value()
    loop = head
    while int(loop) != 0:
        yield loop
        loop = loop["all_next"]


def tasks(loop):
    tl = loop["tasks"]
    if int(tl) == 0:
        return
    for n in _list(tl["all"]):
        yield _container(n, "corio_task", "all_node")


def all_tasks():
    for loop in loops():
        for t in tasks(loop):
            yield loop, t


def task_state(t):
    if int(t["wait"]["state"]) == WAIT_PENDING:
        return "waiting"
    cs = int(t["coro"]["state"])
    if cs in (CORO_RUNNING, CORO_NORMAL):
        return "running"
    if int(t["queued"]):
        return "not started" if cs == 0 else "ready"
    return CORO_STATES.get(cs, "?")


def task_ref(t):
    return "'%s' (#%d)" % (_str(t["name"]), int(t["id"]))


def describe_wait(t):
    w = t["wait"]
    if int(w["state"]) != WAIT_PENDING:
        return None
    what = _str(w["ops"]["what"])
    obj = w["obj"]
    text = "%s 0x%x" % (what, int(obj))
    try:
        if what in ("future", "future (raw await)", "wait_for"):
            f = obj.cast(_type("struct corio_future").pointer())
            if int(f["is_task"]):
                tk = obj.cast(_type("struct corio_task").pointer())
                text = "join of task " + task_ref(tk)
            elif int(f["completer"]) != 0:
                text += " (completer: task #%d)" % int(f["completer_id"])
        elif what.startswith("lock"):
            lk = obj.cast(_type("struct corio_lock").pointer())
            owner = lk["owner"]
            if int(owner) != 0:
                text += " held by task " + task_ref(owner)
        elif what.startswith("fd"):
            text = "%s: fd %d" % (what, int(obj))
        elif what == "signal":
            text = "signal %d" % int(obj)
        elif what == "sleep":
            text = "sleep until loop time %.3f s" % \
                (int(t["timer"]["node"]["key"]) / 1e9)
    except gdb.error:
        pass
    return text


def find_task(arg):
    arg = arg.strip()
    if not arg:
        raise gdb.GdbError("usage: corio bt TASK (id, name or address)")
    for loop, t in all_tasks():
        if arg.isdigit() and int(t["id"]) == int(arg):
            return t
        if _str(t["name"]) == arg:
            return t
        try:
            if arg.startswith("0x") and int(t) == int(arg, 16):
                return t
        except ValueError:
            pass
    raise gdb.GdbError("corio: no live task %s" % arg)


def _arch_slots():
    name = gdb.selected_inferior().architecture().name()
    if "x86-64" in name or "x86_64" in name:
        return 48, 56
    if "aarch64" in name:
        return 80, 88
    raise gdb.GdbError("corio: saved frames of %s are not known" % name)


class _Stack(object):
    """Reads words of a task's stack, through a lean task's copy."""

    def __init__(self, t):
        co = t["coro"]
        st = co["stack"]
        self.lo = int(st["lo"])
        self.hi = self.lo + int(st["size"])
        sp = int(co["ctx"]["sp"])
        if not (self.lo <= sp < self.hi):
            # The stack's record is unreadable (a core that left out the
            # arena's bookkeeping pages): bound the walk by the saved sp
            # and the largest stack instead; each frame must still lie
            # above the last.
            self.lo, self.hi = sp, sp + (1 << 30)
        self.copy = None
        lean = co["lean"]
        if int(lean) != 0 and int(lean["occupant"]) != int(co.address):
            n = int(co["save_len"])
            self.copy_base = self.hi - n
            self.copy = bytes(gdb.selected_inferior().read_memory(
                int(co["save"]), n)) if n else b""

    def word(self, a):
        if a < self.lo or a + 8 > self.hi or a % 8:
            return None
        if self.copy is not None:
            if a < self.copy_base:
                return None
            off = a - self.copy_base
            return int.from_bytes(self.copy[off:off + 8], "little")
        try:
            m = gdb.selected_inferior().read_memory(a, 8)
        except gdb.MemoryError:
            return None
        return int.from_bytes(bytes(m), "little")


def task_frames(t, limit=64):
    co = t["coro"]
    if int(co["state"]) != CORO_SUSPENDED or int(co["stack"]) == 0:
        return None
    fp_slot, pc_slot = _arch_slots()
    stack = _Stack(t)
    sp = int(co["ctx"]["sp"])
    fp = stack.word(sp + fp_slot)
    pc = stack.word(sp + pc_slot)
    mask = (1 << 48) - 1
    pcs = []
    if pc:
        pcs.append(pc & mask)
    while fp and len(pcs) < limit:
        nxt = stack.word(fp)
        ret = stack.word(fp + 8)
        if nxt is None or not ret:
            break
        pcs.append(ret & mask)
        if nxt <= fp:
            break
        fp = nxt
    return pcs


def symbolize(pc, is_return):
    look = pc - 1 if is_return else pc
    name = "??"
    try:
        block = gdb.block_for_pc(look)
        while block is not None and block.function is None:
            block = block.superblock
        if block is not None and block.function is not None:
            name = block.function.print_name
        else:
            sym = gdb.execute("info symbol 0x%x" % look, to_string=True)
            if not sym.startswith("No symbol"):
                name = sym.split(" in section")[0].strip()
    except RuntimeError:
        pass
    where = ""
    sal = gdb.find_pc_line(look)
    if sal.symtab is not None:
        where = " at %s:%d" % (sal.symtab.filename, sal.line)
    else:
        lib = gdb.solib_name(look)
        if lib:
            where = " from " + lib
    return name, where


class CorioCommand(gdb.Command):
    """corio: inspect corio loops and tasks (corio loop, corio tasks,
corio bt TASK)."""

    def __init__(self):
        super(CorioCommand, self).__init__("corio", gdb.COMMAND_DATA,
                                           gdb.COMPLETE_NONE, True)


class CorioLoop(gdb.Command):
    """corio loop: every corio loop of the program."""

    def __init__(self):
        super(CorioLoop, self).__init__("corio loop", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        n = 0
        for loop in loops():
            n += 1
            tl = loop["tasks"]
            ntasks = int(tl["ntasks"]) if int(tl) != 0 else 0
            gdb.write("loop 0x%x: poller %s, %s, %d ready, %d timer(s), "
                      "%d outside wait(s), %d task(s)%s\n" % (
                          int(loop), _str(loop["pops"]["name"]),
                          "running" if int(loop["running"]) else
                          "not running", int(loop["ready"]["n"]),
                          int(loop["timers"]["n"]),
                          int(loop["outside_waits"]), ntasks,
                          ", closing" if int(loop["closing"]) else ""))
        if n == 0:
            gdb.write("no corio loop\n")


class CorioTasks(gdb.Command):
    """corio tasks: every live task: id, name, state, spawn site, wait."""

    def __init__(self):
        super(CorioTasks, self).__init__("corio tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        for loop, t in all_tasks():
            gdb.write("#%d '%s' [%s] spawned at %s:%d (loop 0x%x, task "
                      "0x%x)\n" % (int(t["id"]), _str(t["name"]),
                                   task_state(t), _str(t["file"]),
                                   int(t["line"]), int(loop), int(t)))
            pid = int(t["parent_id"])
            if pid:
                gdb.write("    spawned by task #%d\n" % pid)
            w = describe_wait(t)
            if w:
                gdb.write("    waits on %s\n" % w)


class CorioBt(gdb.Command):
    """corio bt TASK: backtrace of a suspended task (id, name, address)."""

    def __init__(self):
        super(CorioBt, self).__init__("corio bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        t = find_task(arg)
        pcs = task_frames(t)
        gdb.write("task %s [%s]\n" % (task_ref(t), task_state(t)))
        if pcs is None:
            gdb.write("  not suspended (running: see 'bt' in its thread; "
                      "not started: no frames)\n")
            return
        for i, pc in enumerate(pcs):
            name, where = symbolize(pc, i > 0)
            gdb.write("#%-2d 0x%016x in %s%s\n" % (i, pc, name, where))


CorioCommand()
CorioLoop()
CorioTasks()
CorioBt()
