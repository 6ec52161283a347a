#!/bin/sh
# Compiles every ```c block of README.md, CONTRIBUTING.md and docs/*.md
# against the built library, and runs the whole programs, so the
# documentation cannot rot (CTest `doc_blocks`).
#
# The convention (CONTRIBUTING.md, "C blocks in the docs", says the same):
#   ```c            with `int main` in it: a whole program. Compiled as it
#                   stands (it must include what it uses), linked against
#                   libcorio.a and run; it must exit 0.
#   ```c            without main: top-level declarations (functions, types,
#                   variables). Compiled with -c after `#define _GNU_SOURCE`,
#                   `#include <corio.h>` and the usual C headers (errno,
#                   math, stdint, stdio, stdlib, string).
#   ```c body       statements: compiled the same way, as the body of a
#                   function `int doc_body(void)`.
#   ```c nocompile  not checked: only for text that cannot be C (a sketch
#                   with `...`). Avoid it; prefer a setup comment.
# A fragment that uses names it does not declare (a `fetch` coroutine, a
# task `t`) gets them from an HTML comment right before its fence, which
# Markdown does not show; its lines are put at file scope before the block:
#   <!-- doc-setup: int fetch(void *arg, void **result); corio_task *t; -->
# (one line, or several up to `-->`; an #include needs a line of its own). Fragments are compiled with -Wall
# -Wextra -Werror except the unused-variable/function warnings; every other
# fence (```sh, ```python, ``` plain) is prose. Fences count only at the
# start of a line.
#
# Usage: doc_blocks.sh CC LIBCORIO.a SRCDIR [EXTRA_FLAGS (sanitizer flags)]
set -eu
cc=$1 lib=$2 src=$3 extra=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

files=""
for f in README.md CONTRIBUTING.md docs/*.md; do
    [ -f "$src/$f" ] && files="$files $f"
done

# Each block becomes $tmp/bN.c; $tmp/list gets "N KIND FILE LINE".
# shellcheck disable=SC2086 # files is a list of names without spaces
(cd "$src" && awk -v dir="$tmp" '
    FNR == 1 { in_block = 0; in_setup = 0; pending = ""; }
    in_block && /^```/ { in_block = 0; close(out); next; }
    in_block { body = body $0 "\n"; print > out; next; }
    in_setup {
        if ($0 ~ /-->/) { sub(/-->.*/, ""); in_setup = 0; }
        pending = pending $0 "\n"; next;
    }
    /^<!-- doc-setup:/ {
        line = $0; sub(/^<!-- doc-setup:/, "", line);
        if (line ~ /-->/) sub(/-->.*/, "", line); else in_setup = 1;
        pending = line "\n"; next;
    }
    /^```c([ \t]|$)/ {
        kind = $0; sub(/^```c[ \t]*/, "", kind); sub(/[ \t].*/, "", kind);
        if (kind == "") kind = "unit";
        n++; out = dir "/b" n ".c";
        print n, kind, FILENAME, FNR + 1 > (dir "/list");
        print pending > (dir "/s" n ".c"); close(dir "/s" n ".c");
        pending = ""; in_block = 1; body = "";
        printf "" > out;
        next;
    }
    /^[ \t]*$/ { next; }
    { pending = ""; }
' $files)

[ -s "$tmp/list" ] || { echo "doc_blocks: no C blocks found"; exit 1; }

prelude='#define _GNU_SOURCE
#include <corio.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>'
frag_flags="-Wno-unused-variable -Wno-unused-but-set-variable -Wno-unused-function -Wno-unused-parameter"
programs=0 fragments=0 skipped=0 failed=0
while read -r n kind file line; do
    b=$tmp/b$n.c s=$tmp/s$n.c c=$tmp/c$n.c where="$file:$line"
    case $kind in
    nocompile)
        skipped=$((skipped + 1))
        continue
        ;;
    unit | body) ;;
    *)
        echo "doc_blocks: $where: unknown info string '\`\`\`c $kind'"
        failed=$((failed + 1))
        continue
        ;;
    esac
    if [ "$kind" = unit ] && grep -q '^int main' "$b"; then
        { printf '#line %s "%s"\n' "$line" "$file"; cat "$b"; } > "$c"
        # shellcheck disable=SC2086 # extra holds several flags
        if ! "$cc" -std=c11 -Wall -Wextra -Werror $extra -I"$src/include" "$c" \
            "$lib" -lpthread -lm -o "$tmp/p$n" 2> "$tmp/err"; then
            echo "doc_blocks: $where: the program does not build:"; cat "$tmp/err"
            failed=$((failed + 1))
        elif ! "$tmp/p$n" > "$tmp/out" 2>&1; then
            echo "doc_blocks: $where: the program failed:"; tail -20 "$tmp/out"
            failed=$((failed + 1))
        else
            programs=$((programs + 1))
        fi
        continue
    fi
    {
        printf '%s\n' "$prelude"
        printf '#line 1 "%s (doc-setup before line %s)"\n' "$file" "$line"
        cat "$s"
        if [ "$kind" = body ]; then printf 'int doc_body(void);\nint doc_body(void)\n{\n'; fi
        printf '#line %s "%s"\n' "$line" "$file"
        cat "$b"
        if [ "$kind" = body ]; then printf '\nreturn 0;\n}\n'; fi
    } > "$c"
    # shellcheck disable=SC2086
    if ! "$cc" -std=c11 -Wall -Wextra -Werror $frag_flags $extra -I"$src/include" \
        -c "$c" -o "$tmp/o$n.o" 2> "$tmp/err"; then
        echo "doc_blocks: $where: the fragment does not compile (\`\`\`c $kind):"
        cat "$tmp/err"
        failed=$((failed + 1))
    else
        fragments=$((fragments + 1))
    fi
done < "$tmp/list"

echo "doc_blocks: $programs program(s) built and ran, $fragments fragment(s) compiled," \
     "$skipped not checked, $failed failed"
[ "$failed" -eq 0 ]
