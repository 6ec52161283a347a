#!/bin/sh
# gdb.sh CORIO_TESTS SCRIPT: scripts/corio-gdb.py on a live process and on
# a core file. Runs the case diag_gdb_target of the test binary under gdb
# in batch mode, stops it while its tasks wait in every kind of wait,
# runs `corio loop`, `corio tasks` and `corio bt`, writes a core with
# gdb's own gcore (no system core_pattern involved), then loads that core
# in a second gdb and runs the same commands. Exit 77 (skipped) when gdb
# or its Python is missing, or when ptrace is not allowed here.
set -u
bin=$1
script=$2
command -v gdb >/dev/null 2>&1 || { echo "gdb.sh: no gdb: skipped"; exit 77; }
gdb -nx -batch -ex 'python print("py-ok")' 2>/dev/null | grep -q py-ok ||
    { echo "gdb.sh: gdb has no Python: skipped"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/corio-gdb.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
core=$dir/core

gdb -nx -batch -ex "source $script" \
    -ex 'set pagination off' \
    -ex 'handle SIGUSR1 SIGUSR2 SIGPIPE nostop noprint pass' \
    -ex 'break corio_test_gdb_stop_here' \
    -ex 'run' \
    -ex 'corio loop' -ex 'corio tasks' -ex 'corio bt holder' \
    -ex 'corio bt leanw' -ex 'corio bt 3' \
    -ex "gcore $core" -ex 'continue' \
    --args "$bin" --here diag_gdb_target >"$dir/live.txt" 2>&1
if grep -q "ptrace: Operation not permitted\|Could not trace" "$dir/live.txt"; then
    echo "gdb.sh: ptrace not permitted here: skipped"
    exit 77
fi

fail=0
check() { # FILE TEXT
    if ! grep -qF -- "$2" "$1"; then
        echo "gdb.sh: missing in $(basename "$1"): $2"
        fail=1
    fi
}
for f in live; do
    check "$dir/$f.txt" "poller "
    check "$dir/$f.txt" "'holder' [waiting]"
    check "$dir/$f.txt" "'main' [running]"
    check "$dir/$f.txt" "held by task 'holder' (#2)"
    check "$dir/$f.txt" "join of task 'holder' (#2)"
    check "$dir/$f.txt" "task 'holder' (#2) [waiting]"
    check "$dir/$f.txt" "in holder_fn at "
    check "$dir/$f.txt" "in corio_event_wait at "
    check "$dir/$f.txt" "task 'locker' (#3) [waiting]"
    check "$dir/$f.txt" "in corio_lock_acquire at "
done
[ -s "$core" ] || { echo "gdb.sh: gcore wrote no core"; fail=1; }

gdb -nx -batch -ex "source $script" \
    -ex 'corio loop' -ex 'corio tasks' -ex 'corio bt holder' \
    -ex 'corio bt leanw' -ex 'corio bt 3' \
    "$bin" "$core" >"$dir/core.txt" 2>&1
for f in core; do
    check "$dir/$f.txt" "poller "
    check "$dir/$f.txt" "'holder' [waiting]"
    check "$dir/$f.txt" "held by task 'holder' (#2)"
    check "$dir/$f.txt" "task 'holder' (#2) [waiting]"
    check "$dir/$f.txt" "in holder_fn at "
    check "$dir/$f.txt" "in corio_event_wait at "
    check "$dir/$f.txt" "in corio_lock_acquire at "
done
if [ $fail -ne 0 ]; then
    echo "---- live"; cat "$dir/live.txt"
    echo "---- core"; cat "$dir/core.txt"
    exit 1
fi
echo "gdb.sh: corio-gdb.py works on a live process and on a core file"
