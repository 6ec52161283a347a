#!/bin/sh
# Layers include only downward (STYLE.md). Every quoted #include of a file
# under src/ is resolved the way the compiler does (first next to the
# including file, then from src/) and the layer of the included file must
# be the includer's own or one below it. The layers, bottom to top:
#   0 root   src/*.c, src/*.h (check, list, error, version, alloc, threads)
#   1 core   src/core/     (contexts, stacks, coroutines)
#   2 loop   src/loop/     (loop, timers, pollers)
#   3 task   src/task/     (futures, tasks, waits, scopes, groups, ...)
#   4 sync   src/sync/, chan src/chan/, thread src/thread/: side by side
#            on task, none of them includes another.
#   5 io     src/io/       (fd waits, signals, files, subprocesses)
#   6 net    src/net/      (sockets, name resolution, servers, streams, TLS)
#   7 diag   src/diag/     (task dumps, backtraces, watchdog)
# Object names must be unique across folders (the link check maps an
# object back to its folder by file name).
# Angle-bracket includes (<corio/...>, the system's) are not checked: the
# public headers are the API every layer may use.
#
# Given nm and the static library too, the same rule is checked on links:
# a corio symbol (corio_*, corio__*) one object uses must be defined by an
# object of its own layer or a lower one (a header can point down while
# its functions are defined above: that is caught here).
# Usage: layers.sh SOURCE_DIR [NM LIBCORIO.a]
set -eu
src=$1/src
[ -d "$src" ] || { echo "layers: no $src"; exit 1; }

# layer NAME of a path relative to src/
layer_of() {
    case $1 in
    */*) echo "${1%%/*}" ;;
    *) echo root ;;
    esac
}

rank_of() {
    case $1 in
    root) echo 0 ;;
    core) echo 1 ;;
    loop) echo 2 ;;
    task) echo 3 ;;
    sync | chan | thread) echo 4 ;;
    io) echo 5 ;;
    net) echo 6 ;;
    diag) echo 7 ;;
    *) echo 9 ;; # a new folder: give it a place above
    esac
}

fail=0
checked=0
files=$(cd "$src" && find . -name '*.[ch]' | sed 's|^\./||' | sort)
for f in $files; do
    from=$(layer_of "$f")
    from_rank=$(rank_of "$from")
    dir=$(dirname "$f")
    incs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' \
        "$src/$f")
    for inc in $incs; do
        if [ -e "$src/$dir/$inc" ]; then
            target=$(cd "$src/$dir" && cd "$(dirname "$inc")" && pwd -P)/$(basename "$inc")
        elif [ -e "$src/$inc" ]; then
            target=$(cd "$src" && cd "$(dirname "$inc")" && pwd -P)/$(basename "$inc")
        else
            continue # not corio's (a generated or system header)
        fi
        rel=${target#$(cd "$src" && pwd -P)/}
        to=$(layer_of "$rel")
        to_rank=$(rank_of "$to")
        checked=$((checked + 1))
        if [ "$to_rank" -gt "$from_rank" ]; then
            echo "layers: src/$f ($from) includes \"$inc\" (src/$rel, $to): a higher layer"
            fail=1
        elif [ "$to_rank" -eq "$from_rank" ] && [ "$to" != "$from" ]; then
            echo "layers: src/$f ($from) includes \"$inc\" (src/$rel, $to): a sibling layer"
            fail=1
        fi
    done
done
[ "$checked" -gt 0 ] || { echo "layers: no include found under $src"; exit 1; }
[ "$fail" -eq 0 ] && echo "layers: $checked includes checked, all point down"

if [ $# -ge 3 ]; then
    nm=$2 lib=$3
    # member layer: the folder of the source file the member was built from
    # (CMake names members <source file name>.o; the names are unique).
    map=$(cd "$src" && find . -name '*.[cS]' | sed 's|^\./||' | while read -r f; do
        l=$(layer_of "$f")
        echo "$(basename "$f").o $l $(rank_of "$l")"
    done)
    links=$("$nm" -A "$lib" 2>/dev/null | awk -v map="$map" '
        BEGIN {
            n = split(map, lines, "\n")
            for (i = 1; i <= n; i++) {
                split(lines[i], f, " ")
                layer[f[1]] = f[2]; rank[f[1]] = f[3]
            }
        }
        {
            k = split($0, parts, ":")
            member = parts[k - 1]
            m = split(parts[k], w, " ")
            sym = w[m]; type = w[m - 1]
            if (sym !~ /^corio_/ || !(member in layer))
                next
            if (type == "U")
                uses[member, sym] = 1
            else if (type != "w" && type != "v")
                def[sym] = member
        }
        END {
            for (key in uses) {
                split(key, p, SUBSEP)
                u = p[1]; s = p[2]
                if (!(s in def))
                    continue
                d = def[s]
                if (rank[d] > rank[u] ||
                    (rank[d] == rank[u] && layer[d] != layer[u]))
                    printf "layers: %s (%s) uses %s, defined in %s (%s)\n",
                        u, layer[u], s, d, layer[d]
                total++
            }
            printf "checked %d\n", total
        }')
    bad=$(printf '%s\n' "$links" | grep '^layers:' || true)
    total=$(printf '%s\n' "$links" | sed -n 's/^checked //p')
    if [ -n "$bad" ]; then
        printf '%s\n' "$bad"
        fail=1
    elif [ "${total:-0}" -eq 0 ]; then
        echo "layers: no link between objects found in $lib"
        fail=1
    else
        echo "layers: $total links between objects checked, all point down"
    fi
fi
exit $fail
