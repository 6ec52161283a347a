#!/bin/sh
# echo_count.sh: instructions per request of each echo server's thread,
# counted with callgrind, which the machine's load does not move (the
# echo suite of corio_bench times the same servers).
#
#   sh bench/echo_count.sh [options] [ROW...]
#
# ROW: 0 epoll, 1 corio raw fd calls, 2 corio streams, 3 libuv (default:
# all four). For each row, corio_bench's echo suite runs under
# `valgrind --tool=callgrind --separate-threads=yes` (CORIO_BENCH_ECHO_ROW,
# CORIO_BENCH_ECHO_REQS): once with 200 requests (start-up and teardown)
# and R times with N; the server runs on the process's second thread, so
# (its total at N - its total at 200) / (N - 200) is one request. The
# median of the R runs is shown, and the lowest and highest: how the
# client and server threads interleave under valgrind (how many events
# one poller wait returns) moves a run by a percent or two.
#
# Options:
#   -n N        requests per run (default 20000)
#   -r R        runs at N (default 3)
#   -b PATH     the corio_bench binary (default build/bench/corio_bench)
#   -f K        also list the K functions with the most instructions of
#               the server thread per request (the last run, self cost,
#               divided by N; needs callgrind_annotate)
#   -k DIR      keep the callgrind output files in DIR
#
# The same program, built twice (before and after a change), gives a
# before/after that is an instruction count, not a wall-clock time.
set -eu

n=20000
runs=3
bin=build/bench/corio_bench
top=0
keep=
while getopts n:r:b:f:k: opt; do
    case $opt in
    n) n=$OPTARG ;;
    r) runs=$OPTARG ;;
    b) bin=$OPTARG ;;
    f) top=$OPTARG ;;
    k) keep=$OPTARG ;;
    *) echo "usage: $0 [-n N] [-r R] [-b corio_bench] [-f K] [-k DIR] [ROW...]" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
rows=${*:-0 1 2 3}

command -v valgrind >/dev/null 2>&1 || {
    echo "echo_count.sh: valgrind is not installed (Debian: valgrind)" >&2
    exit 1
}
[ -x "$bin" ] || { echo "echo_count.sh: no $bin (build first)" >&2; exit 1; }

dir=${keep:-$(mktemp -d)}
mkdir -p "$dir"
[ -n "$keep" ] || trap 'rm -rf "$dir"' EXIT

names="epoll corio-raw corio-streams libuv"

# The server thread's total for row $1 and $2 requests, run $3 (output in
# $dir).
count() {
    out="$dir/row$1.$2.$3"
    rm -f "$out" "$out"-*
    CORIO_BENCH_ECHO_ROW=$1 CORIO_BENCH_ECHO_REQS=$2 \
        valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out" "$bin" --suite echo --samples 1 \
        >"$out.log" 2>&1 || {
        echo "echo_count.sh: row $1 failed (log: $out.log)" >&2
        return 1
    }
    if grep -q "n/a" "$out.log"; then
        echo "n/a"
        return 0
    fi
    [ -f "$out-02" ] || { echo "echo_count.sh: no server thread" >&2; return 1; }
    sed -n 's/^summary: //p' "$out-02"
}

printf '%-14s %12s %20s\n' server "Ir/request" "(lowest-highest)"
for row in $rows; do
    name=$(echo $names | cut -d' ' -f$((row + 1)))
    base=$(count "$row" 200 0)
    if [ "$base" = n/a ]; then
        printf '%-14s %12s\n' "$name" "n/a (libuv1-dev not installed)"
        continue
    fi
    all=
    i=1
    while [ "$i" -le "$runs" ]; do
        all="$all $(count "$row" "$n" "$i")"
        i=$((i + 1))
    done
    echo $all | tr ' ' '\n' | sort -n | awk -v name="$name" -v b="$base" \
        -v n="$n" '
        { v[NR] = ($1 - b) / (n - 200) }
        END { printf "%-14s %12.1f %9.1f-%.1f\n", name, v[int((NR + 1) / 2)],
              v[1], v[NR] }'
    if [ "$top" -gt 0 ]; then
        callgrind_annotate --inclusive=no "$dir/row$row.$n.$runs-02" \
            2>/dev/null |
            awk -v n="$n" -v k="$top" '
                /^-+$/ { dash++; next }
                dash >= 3 && NF >= 2 && shown < k {
                    v = $1; gsub(",", "", v)
                    if (v !~ /^[0-9]+$/) next
                    $1 = ""; line = $0
                    sub(/^ *\( *[0-9.]+%\) */, "", line)
                    sub(/ \[.*\]$/, "", line)
                    printf "    %8.1f  %s\n", v / n, line; shown++ }'
    fi
done
