#!/bin/sh
# check.sh SRCDIR [BUILDDIR]: installs corio into a temporary prefix and
# builds tests/consumer/ against it three ways, running every program:
#   1. pkg-config: cc main.c $(pkg-config --cflags --libs corio), shared,
#      and static with pkg-config --static (Libs.private);
#   2. find_package(corio): corio::corio and corio::corio_static;
#   3. add_subdirectory(corio): the same targets, and none of corio's own
#      tests, examples or benchmarks in the consumer's build.
# BUILDDIR is a configured corio build whose libraries are built (make
# consumer passes build/); without it a library-only build is made here.
# CC picks the compiler (default cc). `make consumer` runs this; so does CI.
set -eu
src=$(cd "$1" && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
say() { printf 'consumer: %s\n' "$*"; }

if [ $# -ge 2 ]; then
    build=$(cd "$2" && pwd)
else
    build=$tmp/corio-build
    cmake -S "$src" -B "$build" -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF \
        -DCORIO_BUILD_BENCH=OFF -DCORIO_BUILD_CPYTHON=OFF >/dev/null
    cmake --build "$build" -j2 --target corio_static corio_shared >/dev/null
fi
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name corio.pc)")
libdir=${libdir%/pkgconfig}
for f in include/corio.h include/corio/version.h; do
    [ -f "$prefix/$f" ] || { say "missing $prefix/$f after install"; exit 1; }
done
for f in libcorio.a libcorio.so pkgconfig/corio.pc cmake/corio/corioConfig.cmake \
         cmake/corio/corioConfigVersion.cmake; do
    [ -e "$libdir/$f" ] || { say "missing $libdir/$f after install"; exit 1; }
done
say "installed into a fresh prefix ($(cd "$prefix" && find . -type f | wc -l) files)"

# Runs a built consumer; shared builds find libcorio.so by LD_LIBRARY_PATH
# (pkg-config gives no rpath) or their rpath (CMake's).
run() {
    what=$1; shift
    out=$(LD_LIBRARY_PATH=$libdir "$@") || { say "$what: FAILED: $out"; exit 1; }
    say "$what: $out"
}

# 1. pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion corio)" = "$(sed -n 's/^#define CORIO_VERSION_STRING "\(.*\)"/\1/p' \
     "$src/include/corio/version.h")" ] || { say "pkg-config --modversion disagrees"; exit 1; }
# shellcheck disable=SC2046 # pkg-config's output is several flags
"$cc" -std=c11 -Wall -Werror "$src/tests/consumer/main.c" $(pkg-config --cflags --libs corio) \
    -o "$tmp/pc_shared"
# The same flags, with libcorio.a forced: Libs.private must be enough.
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror "$src/tests/consumer/main.c" $(pkg-config --cflags corio) \
    $(pkg-config --static --libs corio | sed 's/-lcorio\b/-l:libcorio.a/') -o "$tmp/pc_static"
soname=$(readelf -d "$tmp/pc_shared" | sed -n 's/.*NEEDED.*\[\(libcorio[^]]*\)\].*/\1/p')
[ -n "$soname" ] || { say "pkg-config: the shared build does not need libcorio.so"; exit 1; }
run "pkg-config, shared ($soname)" "$tmp/pc_shared"
run "pkg-config, static" "$tmp/pc_static"

# 2. find_package
cmake -S "$src/tests/consumer" -B "$tmp/fp" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/fp" -j2 >/dev/null
run "find_package, corio::corio" "$tmp/fp/consumer_shared"
run "find_package, corio::corio_static" "$tmp/fp/consumer_static"

# 3. add_subdirectory
cmake -S "$src/tests/consumer" -B "$tmp/sub" -DCMAKE_C_COMPILER="$cc" \
    -DCORIO_SOURCE_DIR="$src" >/dev/null
if cmake --build "$tmp/sub" --target help | grep -q -e corio_tests -e example_ -e corio_bench; then
    say "add_subdirectory: corio's tests, examples or benchmarks are in the consumer's build"
    exit 1
fi
cmake --build "$tmp/sub" -j2 >/dev/null
run "add_subdirectory, corio::corio" "$tmp/sub/consumer_shared"
run "add_subdirectory, corio::corio_static" "$tmp/sub/consumer_static"
say "all three ways build and run"
