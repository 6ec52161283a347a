#!/usr/bin/env bash
# Runs every test case under Valgrind memcheck, two at a time, each in its
# own process. Any memcheck error (or a "client switching stacks?" warning,
# which means a stack switch Valgrind was not told about) fails the run.
# Usage: tests/valgrind.sh BUILD_DIR
set -u
build=${1:-build}
bin="$build/corio_tests"
log=$(mktemp -d)
export CORIO_UNDER_VALGRIND=1 CORIO_TEST_TIMEOUT_MULTIPLIER=10
run_one() {
    local name=$1 log=$2 bin=$3 rc=0
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        "$bin" --one "$name" >"$log/$name.out" 2>&1 || rc=$?
    if grep -q "client switching stacks" "$log/$name.out"; then
        rc=98
    fi
    if [ "$rc" -eq 0 ]; then
        echo "ok   $name"
    elif [ "$rc" -eq 77 ]; then
        echo "skip $name"   # the case said it cannot run here (test.h)
    else
        echo "FAIL $name"; sed 's/^/    /' "$log/$name.out" | tail -40
        return 1
    fi
}
export -f run_one
"$bin" --list | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {} "$log" "$bin" | tee "$log/summary"
passed=$(grep -c '^ok' "$log/summary")
failed=$(grep -c '^FAIL' "$log/summary")
skipped=$(grep -c '^skip' "$log/summary")
echo "valgrind: $passed passed, $failed failed, $skipped skipped"
rm -rf "$log"
[ "$failed" -eq 0 ]
