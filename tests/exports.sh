#!/bin/sh
# The shared library exports corio's public API and nothing else: every
# dynamic symbol it defines is a public name (corio_ followed by a letter
# or digit; corio__ names are cross-file internals), apart from the few the
# linker defines itself. The public headers name no internal either.
# Usage: exports.sh NM LIBCORIO.so INCLUDE_DIR
set -eu
nm=$1 lib=$2 inc=$3
fail=0

syms=$("$nm" -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }')
n=$(printf '%s\n' "$syms" | grep -c '^corio_[a-z0-9]' || true)
[ "$n" -gt 0 ] || { echo "exports: no corio_ symbol found in $lib"; exit 1; }

# Linker-defined markers, present or not depending on the toolchain.
bad=$(printf '%s\n' "$syms" | sed 's/@.*//' |
      grep -v -e '^corio_[a-z0-9]' \
              -e '^_init$' -e '^_fini$' -e '^__bss_start$' -e '^_edata$' \
              -e '^_end$' -e '^$' || true)
if [ -n "$bad" ]; then
    echo "exports: $lib exports symbols outside the public API:"
    printf '  %s\n' $bad
    fail=1
fi

if grep -rn 'corio__' "$inc"; then
    echo "exports: the public headers above name internal (corio__) symbols"
    fail=1
fi

[ "$fail" -eq 0 ] && echo "exports: $n public symbols, nothing else"
exit $fail
