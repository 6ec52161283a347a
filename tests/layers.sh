#!/bin/sh
# Layers include only downward (STYLE.md). Every quoted #include of a file
# under src/ is resolved the way the compiler does (first next to the
# including file, then from src/) and the layer of the included file must
# be the includer's own or one below it. The layers, bottom to top:
#   0 root   src/*.c, src/*.h (check.h, list.h, error.c, version.c)
#   1 core   src/core/     (contexts, stacks, coroutines)
#   2 loop   src/loop/     (loop, timers, pollers)
#   3 task   src/task/     (futures, tasks, waits, scopes, groups, ...)
#   4 sync   src/sync/, chan src/chan/, io src/io/: side by side on task,
#            none of them includes another.
# Angle-bracket includes (<corio/...>, the system's) are not checked: the
# public headers are the API every layer may use.
# Usage: layers.sh SOURCE_DIR
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
    sync | chan | io) echo 4 ;;
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
exit $fail
