#!/bin/sh
# need.sh TARGET: checks that what `make TARGET` needs is installed, and
# when something is missing names the Debian 12 packages to install (the
# same ones .ci/run installs) instead of letting the build fail obscurely.
# Exits 0 when everything is there, 1 after printing the apt-get line.
# SAN_CC (from the Makefile) is the compiler the sanitizer builds use.
set -u
target=$1
missing=""

# need_cmd COMMAND PACKAGE: PACKAGE provides COMMAND.
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
# need_file PATH PACKAGE: PACKAGE provides PATH.
need_file() { [ -e "$1" ] || missing="$missing $2"; }
# can_link CC FLAGS... : a trivial program builds with these flags.
can_link() {
    cc=$1; shift
    printf 'int main(void) { return 0; }\n' |
        "$cc" -x c "$@" - -o /dev/null >/dev/null 2>&1
}

case $target in
asan | tsan)
    cc=${SAN_CC:-gcc}
    if [ "$target" = asan ]; then flags=-fsanitize=address,undefined; else flags=-fsanitize=thread; fi
    if ! command -v "$cc" >/dev/null 2>&1; then
        missing=" clang-14 libclang-rt-14-dev"
    elif ! can_link "$cc" "$flags"; then
        case $(basename "$cc") in
        clang-14 | clang) missing=" libclang-rt-14-dev" ;;
        *) missing=" clang-14 libclang-rt-14-dev" ;;
        esac
    fi
    ;;
valgrind)
    need_cmd valgrind valgrind
    ;;
aarch64)
    need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
    need_file /usr/aarch64-linux-gnu/include/stdio.h libc6-dev-arm64-cross
    need_cmd qemu-aarch64 qemu-user
    ;;
docs)
    need_cmd doxygen doxygen
    ;;
consumer)
    need_cmd pkg-config pkg-config
    ;;
*)
    echo "need.sh: unknown target '$target'" >&2
    exit 2
    ;;
esac

[ -z "$missing" ] && exit 0
echo "make $target needs Debian packages that are not installed:$missing" >&2
echo "install them with:" >&2
echo "    sudo apt-get install$missing" >&2
exit 1
