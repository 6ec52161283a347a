#!/bin/sh
# null_coverage.sh SRCDIR: fail unless tests/test_null*.c (test_null.c and
# one test_null_AREA.c per newer area) name every public function (CORIO_API
# in include/corio/*.h), so a new function cannot skip the NULL rule's test.
# Internal corio__ names are not checked.
src=${1:-.}
test_files=$(ls "$src"/tests/test_null*.c)
names=$(grep -h '^CORIO_API' "$src"/include/corio/*.h |
        sed -E 's/^CORIO_API[^(]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/' |
        grep -v '^corio__' | sort -u)
if [ -z "$names" ]; then
    echo "null_coverage: no CORIO_API functions found under $src/include" >&2
    exit 1
fi
missing=0
count=0
for n in $names; do
    count=$((count + 1))
    if ! cat $test_files | grep -qw "$n"; then
        echo "null_coverage: $n is not tested in tests/test_null*.c" >&2
        missing=$((missing + 1))
    fi
done
if [ "$missing" -ne 0 ]; then
    echo "null_coverage: $missing of $count public functions untested" >&2
    exit 1
fi
echo "null_coverage: all $count public functions are in tests/test_null*.c"
