#!/bin/sh
# echo_count.sh: instructions per request of each echo server's thread,
# counted with callgrind, which the machine's load does not move (the
# echo suite of corio_bench times the same servers).
#
#   sh bench/echo_count.sh [options] [ROW...]
#
# ROW: 0 epoll, 1 corio raw fd calls, 2 corio streams, 3 libuv (default:
# all four). For each row, corio_bench's echo suite runs under
# `valgrind --tool=callgrind --separate-threads=yes` twice, with N and 2N
# requests (CORIO_BENCH_ECHO_ROW, CORIO_BENCH_ECHO_REQS); the server runs
# on the process's second thread, so (its total at 2N - its total at N) / N
# is one request, start-up and teardown cancelled out. Also printed: the
# total at N over N (how earlier figures in docs/status.md were taken).
#
# Options:
#   -n N        requests of the first run (default 20000)
#   -b PATH     the corio_bench binary (default build/bench/corio_bench)
#   -f K        also list the K functions with the most instructions of
#               the server thread per request (the 2N run, self cost,
#               divided by 2N; needs callgrind_annotate)
#   -k DIR      keep the callgrind output files in DIR
#
# The same program, built twice (before and after a change), gives a
# before/after that is an instruction count, not a wall-clock time.
set -eu

n=20000
bin=build/bench/corio_bench
top=0
keep=
while getopts n:b:f:k: opt; do
    case $opt in
    n) n=$OPTARG ;;
    b) bin=$OPTARG ;;
    f) top=$OPTARG ;;
    k) keep=$OPTARG ;;
    *) echo "usage: $0 [-n N] [-b corio_bench] [-f K] [-k DIR] [ROW...]" >&2
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

# The server thread's total for row $1 and $2 requests (output in $dir).
count() {
    out="$dir/row$1.$2"
    rm -f "$out" "$out"-*
    CORIO_BENCH_ECHO_ROW=$1 CORIO_BENCH_ECHO_REQS=$2 \
        valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out" "$bin" --suite echo --samples 1 \
        >"$dir/row$1.$2.log" 2>&1 || {
        echo "echo_count.sh: row $1 failed (log: $dir/row$1.$2.log)" >&2
        return 1
    }
    if grep -q "n/a" "$dir/row$1.$2.log"; then
        echo "n/a"
        return 0
    fi
    [ -f "$out-02" ] || { echo "echo_count.sh: no server thread" >&2; return 1; }
    sed -n 's/^summary: //p' "$out-02"
}

printf '%-14s %12s %12s\n' server "Ir/request" "(total/N)"
for row in $rows; do
    name=$(echo $names | cut -d' ' -f$((row + 1)))
    a=$(count "$row" "$n")
    if [ "$a" = n/a ]; then
        printf '%-14s %12s\n' "$name" "n/a (libuv1-dev not installed)"
        continue
    fi
    b=$(count "$row" $((2 * n)))
    awk -v name="$name" -v a="$a" -v b="$b" -v n="$n" \
        'BEGIN { printf "%-14s %12.1f %12.1f\n", name, (b - a) / n, a / n }'
    if [ "$top" -gt 0 ]; then
        callgrind_annotate --inclusive=no "$dir/row$row.$((2 * n))-02" \
            2>/dev/null |
            awk -v n=$((2 * n)) -v k="$top" '
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
