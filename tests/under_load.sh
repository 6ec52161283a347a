#!/usr/bin/env bash
# Runs the suite the way a busy machine would: one CPU hog (a busy loop in
# its own process) per core, and CTest running more tests at once than there
# are cores. A suite that passes here does not depend on timing. The hogs are
# killed on every way out (the trap).
#
# Usage: tests/under_load.sh BUILD_DIR [ctest arguments...]
#   CORIO_LOAD_HOGS   how many hogs (default: one per core)
#   CORIO_LOAD_JOBS   ctest -j (default: twice the cores, at least 4)
set -u
build=${1:-build}
shift || true
cores=$(nproc 2>/dev/null || echo 2)
hogs=${CORIO_LOAD_HOGS:-$cores}
jobs=${CORIO_LOAD_JOBS:-$((cores * 2 < 4 ? 4 : cores * 2))}
pids=()
stop_hogs() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    pids=()
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT TERM
for _ in $(seq "$hogs"); do
    ( trap - INT TERM; while :; do :; done ) &
    pids+=("$!")
done
echo "under_load: $hogs CPU hogs on $cores cores, ctest -j$jobs"
cd "$build" && ctest --output-on-failure -j"$jobs" "$@"
