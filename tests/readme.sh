#!/bin/sh
# Compiles and runs every ```c block of README.md against the built library,
# so the README's examples cannot rot.
# Usage: readme.sh CC LIBCORIO.a SRCDIR [EXTRA_FLAGS (the sanitizer flags)]
set -eu
cc=$1 lib=$2 src=$3 extra=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v dir="$tmp" '
    /^```c$/ { n++; out = dir "/block" n ".c"; next }
    /^```/   { out = ""; next }
    out      { print > out }
' "$src/README.md"
count=0
for f in "$tmp"/block*.c; do
    [ -e "$f" ] || continue
    # shellcheck disable=SC2086 # extra holds several flags
    "$cc" -std=c11 -Wall -Wextra -Werror $extra -I"$src/include" "$f" "$lib" \
        -lpthread -o "${f%.c}"
    "${f%.c}" > /dev/null
    count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "no C blocks found in README.md"; exit 1; }
echo "README: $count example(s) built and ran"
