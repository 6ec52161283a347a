#!/bin/sh
# tests/shuffle.sh BUILD [SEED...]: run corio's concurrency cases (the
# names below) with their ready tasks in shuffled orders, each under every
# seed: fixed ones, so CI always meets the same orders, and one drawn now
# and printed, so each run also meets new ones and any failure can be
# replayed. `make test-shuffle` runs it; .ci/run too.
#
# Each case runs through the runner (corio_tests --one NAME) with
# CORIO_TEST_SHUFFLE=SEED: debug mode on and the seed in
# CORIO_SHUFFLE_SEED (tests/runner.c); cases marked TEST_FIFO assert the
# FIFO order corio promises and are skipped there. The seeds run one after
# another, the cases of a seed JOBS at a time. A failing case's output is
# printed with the line that replays it:
#   CORIO_TEST_SHUFFLE=SEED BUILD/corio_tests --one NAME
# SEED arguments replace the default seeds (no random one then); with
# CORIO_BACKEND=poll in the environment the cases run on poll(2).
set -u
build=${1:?usage: tests/shuffle.sh BUILD [SEED...]}
shift
bin=$build/corio_tests
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
# The concurrency areas: tasks and their waits, the combinators, groups,
# scopes, async generators, context variables, sync and channels.
areas='sync|queue|topic|group|combine|gather|wait|task|future|agen|scope|ctxvar'

if [ $# -gt 0 ]; then
    seeds=$*
else
    random=0
    while [ "$random" = 0 ]; do
        random=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    done
    seeds="1 2 3 20260 $random"
    echo "shuffle seeds: $seeds (the last drawn for this run)"
fi

out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT INT TERM
"$bin" --list | grep -E "^($areas)_" >"$out/cases" || {
    echo "shuffle.sh: no cases listed by $bin" >&2
    exit 1
}

failed=0
for seed in $seeds; do
    mkdir -p "$out/$seed"
    # One case: its output kept in a file, its outcome in the file's name.
    CORIO_TEST_SHUFFLE=$seed OUT=$out/$seed BIN=$bin \
        xargs -P "$jobs" -n 1 sh -c '
            "$BIN" --one "$1" >"$OUT/$1.log" 2>&1
            rc=$?
            case $rc in
            0) mv "$OUT/$1.log" "$OUT/$1.pass" ;;
            77) mv "$OUT/$1.log" "$OUT/$1.skip" ;;
            *) echo "exit $rc" >>"$OUT/$1.log"; mv "$OUT/$1.log" "$OUT/$1.fail" ;;
            esac
            exit 0' sh <"$out/cases"
    np=$(ls "$out/$seed" | grep -c '\.pass$')
    ns=$(ls "$out/$seed" | grep -c '\.skip$')
    nf=$(ls "$out/$seed" | grep -c '\.fail$')
    echo "seed $seed: $np passed, $nf failed, $ns skipped"
    for f in "$out/$seed"/*.fail; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .fail)
        echo "FAIL $name under seed $seed; replay:"
        echo "  CORIO_TEST_SHUFFLE=$seed $bin --one $name"
        sed 's/^/  | /' "$f"
    done
    [ "$nf" = 0 ] || failed=1
done
exit $failed
