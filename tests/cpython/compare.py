"""compare.py: run one scenario as asyncio and as corio, compare traces.

    compare.py [--print-diff] SCENARIO.py -- [EMULATOR...] C_BINARY

Both programs print event traces (see evtrace.py). They must be equal line
for line, except that ticks may differ by TOLERANCE (one tick, plus one
for every five ticks into the run). A scenario where corio differs from
asyncio on purpose (or through a reported bug, or on some Python
versions) has SCENARIO.expected-diff beside it:

    # Why corio differs here (comment lines start with '#').
    #! python < 3.11.3     (optional: the difference exists only when every
    #                       such condition on the running Python holds)
    #! bug                 (optional: the difference is a corio bug, kept
    #                       here until fixed; the test says so when it runs)
    - [  2] worker: cleanup slept      (a line only asyncio prints)
    + [  0] worker: cleanup: ECANCELED (a line only corio prints)
    ~ [  4] main: done                 (a line both print, corio at tick 4
                                        whatever asyncio's tick)

Then the difference between the two traces must be exactly the one written
there: difflib's opcodes on the events without their ticks, each run of
changed lines as its '-' lines then its '+' lines, in trace order
(--print-diff prints it in that form). With no such file, or when its
conditions do not hold, the traces must be equal. Once corio no longer
differs, the test fails until the file is removed.

Ticks depend on the machine's load, and so, on a badly overloaded machine,
can the order of two timers a few ticks apart (the process stalls between
creating them, or both fire in one iteration). So a scenario whose traces
differ is run again, up to RETRIES times, and passes if any run agrees; a
real difference fails every time. When only ticks differ, the runs whose
events agree are also combined: a stall only ever makes a line late (a
timer never fires early, and every tick counts from a time read before
its timer was made), so each side's earliest tick for a line over those
runs is the closest to its unloaded tick, and the traces pass if those
agree. A stall hits different lines in different runs; a real difference
is in every run, so the earliest ticks keep it. Scenarios keep racing
events at least two ticks apart, or order them causally, so that retries
stay rare. Any output on stderr, or a non-zero exit, fails the scenario at
once.

--print-diff prints the difference in expected-diff form (to write such a
file after checking that the difference is the intended one).
"""
import sys

if sys.version_info < (3, 11):
    sys.exit("cpython comparison: Python %s is too old; these tests need "
             "Python 3.11 or newer (asyncio.timeout, TaskGroup, uncancel). "
             "Install one as python3, or point CORIO_PYTHON at it."
             % sys.version.split()[0])

import difflib
import os
import re
import subprocess

TOLERANCE = 1  # ticks (see ticks_close)
RETRIES = 3
LINE = re.compile(r"^\[\s*(\d+)\] (.*)$")
COND = re.compile(r"^#!\s*python\s*(<|<=|>|>=|==|!=)\s*(\d+(?:\.\d+)*)\s*$")


def parse(text):
    """Lines as (tick or None, event text)."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        out.append((int(m.group(1)), m.group(2)) if m else (None, line))
    return out


def show(line):
    tick, text = line
    return text if tick is None else f"[{tick:3d}] {text}"


def ticks_close(a, b):
    """Ticks agree within TOLERANCE, plus one for every 5 ticks of the
    later one: lateness adds up along a chain of sleeps on a loaded
    machine."""
    if a is None or b is None:
        return a == b
    return abs(a - b) <= TOLERANCE + max(a, b) // 5


def earliest(a, b):
    """Two runs of one program combined, each line at the earlier of its
    two ticks; None if the runs' events differ (nothing to combine)."""
    if a is None or [t for _, t in a] != [t for _, t in b]:
        return None
    return [(x if y is None else y if x is None else min(x, y), t)
            for (x, t), (y, _) in zip(a, b)]


def version_holds(op, ver):
    want = tuple(int(x) for x in ver.split("."))
    have = sys.version_info[:len(want)]
    return {"<": have < want, "<=": have <= want, ">": have > want,
            ">=": have >= want, "==": have == want, "!=": have != want}[op]


def load_expected(path):
    """(applies, lines, why-not, bug) from an expected-diff file."""
    lines, applies, why, bug = [], True, "", False
    with open(path) as f:
        for raw in f:
            raw = raw.rstrip("\n")
            if raw.strip() == "#! bug":
                bug = True
                continue
            m = COND.match(raw)
            if m:
                if not version_holds(m.group(1), m.group(2)):
                    applies = False
                    why = raw[2:].strip()
                continue
            if raw.startswith("#") or not raw.strip():
                continue
            if raw[:2] not in ("- ", "+ ", "~ "):
                sys.exit(f"{path}: a line must start with '- ', '+ ', '~ ' "
                         f"or '#': {raw!r}")
            (tick, text), = parse(raw[2:])
            lines.append((raw[0], tick, text))
    return applies, lines, why, bug


def difference(py, c, moved=()):
    """The difference between two traces: ('-', tick, text) for a line
    only asyncio printed, ('+', tick, text) for one only corio printed,
    ('~', corio's tick, text) for a line both printed at ticks further
    apart than the tolerance, and always for the lines listed in `moved`
    (the '~' lines of an expected difference, in order: their ticks are
    compared with the expected ones, not with asyncio's)."""
    moved = list(moved)
    sm = difflib.SequenceMatcher(None, [t for _, t in py], [t for _, t in c],
                                 autojunk=False)
    diff, minus, plus = [], [], []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            diff += minus + plus
            minus, plus = [], []
            for a, b in zip(py[i1:i2], c[j1:j2]):
                if moved and moved[0] == b[1]:
                    moved.pop(0)
                    diff.append(("~", b[0], b[1]))
                elif not ticks_close(a[0], b[0]):
                    diff.append(("~", b[0], b[1]))
            continue
        minus += [("-",) + l for l in py[i1:i2]]
        plus += [("+",) + l for l in c[j1:j2]]
    return diff + minus + plus


def check(diff, expected):
    """None if diff matches expected, 'events' if lines are missing or
    extra, 'ticks' if only ticks disagree (worth another try)."""
    events = lambda d: [(s, t) for s, _, t in d if s != "~"]
    if events(diff) != events(expected):
        return "events"
    if len(diff) != len(expected) or any(
            d[0] != e[0] or d[2] != e[2] or not ticks_close(d[1], e[1])
            for d, e in zip(diff, expected)):
        return "ticks"
    return None


def run(cmd, env=None):
    mult = float(os.environ.get("CORIO_TEST_TIMEOUT_MULTIPLIER", "1") or 1)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=30 * mult)
    except subprocess.TimeoutExpired as e:
        return None, f"timed out: {' '.join(cmd)}\n{e.stdout or ''}{e.stderr or ''}"
    problem = ""
    if p.returncode != 0:
        problem = f"exit status {p.returncode}: {' '.join(cmd)}\n"
    if p.stderr:
        problem += f"stderr of {' '.join(cmd)}:\n{p.stderr}"
    return p.stdout, problem


def side_by_side(py, c):
    width = max([len(show(l)) for l in py] + [20])
    out = [f"{'asyncio (' + sys.version.split()[0] + ')':<{width}} | corio"]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
            None, [t for _, t in py], [t for _, t in c],
            autojunk=False).get_opcodes():
        a, b = py[i1:i2], c[j1:j2]
        for k in range(max(len(a), len(b))):
            left = show(a[k]) if k < len(a) else ""
            right = show(b[k]) if k < len(b) else ""
            mark = "|" if tag == "equal" else "*"
            if tag == "equal" and not ticks_close(a[k][0], b[k][0]):
                mark = "~"
            out.append(f"{left:<{width}} {mark} {right}")
    return "\n".join(out)


def main(argv):
    print_diff = False
    if argv and argv[0] == "--print-diff":
        print_diff = True
        argv = argv[1:]
    if len(argv) < 3 or argv[1] != "--":
        sys.exit(__doc__)
    script, ccmd = argv[0], argv[2:]
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=here, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONASYNCIODEBUG", None)
    exp_path = os.path.splitext(script)[0] + ".expected-diff"
    expected, applies, why, bug = [], False, "", False
    if os.path.exists(exp_path):
        applies, expected, why, bug = load_expected(exp_path)
        if not applies:
            expected = []
    name = os.path.splitext(os.path.basename(script))[0]
    moved = [t for s, _, t in expected if s == "~"]
    early_py = early_c = None  # earliest ticks over runs whose events agree
    combined = 0

    for attempt in range(RETRIES + 1):
        pyout, pyprob = run([sys.executable, script], env)
        cout, cprob = run(ccmd)
        if pyprob or cprob:
            print(f"{name}: FAILED to run\n{pyprob}{cprob}")
            if pyout is not None and cout is not None:
                print(side_by_side(parse(pyout), parse(cout)))
            return 1
        py, c = parse(pyout), parse(cout)
        diff = difference(py, c, moved)
        if print_diff:
            for sign, tick, text in diff:
                print(f"{sign} {show((tick, text))}")
            return 0
        verdict = check(diff, expected)
        if verdict == "ticks":
            ep, ec = earliest(early_py, py), earliest(early_c, c)
            if ep is None or ec is None:  # the first such run, or events moved
                ep, ec, combined = py, c, 0
            early_py, early_c, combined = ep, ec, combined + 1
            if combined > 1 and check(difference(ep, ec, moved),
                                      expected) is None:
                py, c, verdict = ep, ec, None
                print(f"{name}: ticks agree taking each line's earliest tick "
                      f"over {combined} runs whose events agree:")
        if verdict is None:
            print(side_by_side(py, c))
            if os.path.exists(exp_path):
                print(f"{name}: traces differ as {os.path.basename(exp_path)} says"
                      if applies else
                      f"{name}: {os.path.basename(exp_path)} does not apply "
                      f"({why} is false here): traces equal")
            if bug and applies:
                print(f"NOTE: {os.path.basename(exp_path)} records a corio bug "
                      "(reported, not yet fixed); see its comment")
            print(f"{name}: OK")
            return 0
        if attempt < RETRIES:
            print(f"{name}: {verdict} differ (attempt {attempt + 1}); trying "
                  "again, in case the machine's load moved a timer:")
            for sign, tick, text in diff:
                print(f"  {sign} {show((tick, text))}")
            continue
        break

    print(side_by_side(py, c))
    print("('*': events differ, '~': ticks differ beyond the tolerance)\n")
    if os.path.exists(exp_path) and not applies:
        print(f"{os.path.basename(exp_path)} does not apply here ({why} is false)")
    if expected:
        print(f"expected difference ({os.path.basename(exp_path)}):")
        for sign, tick, text in expected:
            print(f"  {sign} {show((tick, text))}")
    print("actual difference:")
    for sign, tick, text in diff:
        print(f"  {sign} {show((tick, text))}")
    print(f"{name}: FAILED ({'ticks' if verdict == 'ticks' else 'events'} differ)")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
