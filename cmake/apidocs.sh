#!/bin/sh
# apidocs.sh SRCDIR OUTDIR: the API reference (`make docs`). Runs Doxygen
# (Doxyfile) over include/corio.h and include/corio/*.h into OUTDIR/html,
# then fails if Doxygen warned about anything, or if a public name is
# missing from the reference: every CORIO_API function, every public type
# (typedef) and every CORIO_ macro of the headers must have an entry.
set -eu
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
rm -rf "$out/html" "$out/xml" "$out/warnings.log"
CORIO_VERSION=$(sed -n 's/^#define CORIO_VERSION_STRING "\(.*\)"/\1/p' \
    "$src/include/corio/version.h")
CORIO_DOCS_OUT=$out
export CORIO_VERSION CORIO_DOCS_OUT
(cd "$src" && doxygen Doxyfile)

if [ -s "$out/warnings.log" ]; then
    echo "apidocs: Doxygen warned (fix the header comments, or Doxyfile):"
    sed 's/^/  /' "$out/warnings.log"
    exit 1
fi

# Every public name, read from the headers, must be a member or a class
# (struct) in Doxygen's index.
names=$( (
    # functions: CORIO_API <type> [*]name(
    sed -n '/^CORIO_API/{
        :a
        /(/!{
            N
            ba
        }
        s/(.*//
        s/.*[ *]\([a-z_0-9]*\)$/\1/p
    }' "$src"/include/corio/*.h
    # types: typedef ... name;  and the last word of a typedef'd struct
    grep -h -o 'typedef [^;(]*[ *]corio_[a-z0-9_]*;' "$src"/include/corio/*.h |
        sed 's/.*[ *]\(corio_[a-z0-9_]*\);/\1/'
    grep -h -o '^} *corio_[a-z0-9_]*;' "$src"/include/corio/*.h |
        sed 's/^} *\(corio_[a-z0-9_]*\);/\1/'
    # constants: #define CORIO_... and enumerators CORIO_... =
    grep -h -o '^#define CORIO_[A-Z0-9_]*' "$src"/include/corio/*.h |
        sed 's/#define //' | grep -v -e '_H$' -e '^CORIO_API$'
    grep -h -o '^ *CORIO_[A-Z0-9_]* *[=,]' "$src"/include/corio/*.h |
        sed 's/^ *\(CORIO_[A-Z0-9_]*\).*/\1/'
) | sort -u)
index=$out/xml/index.xml
missing=""
n=0
for name in $names; do
    n=$((n + 1))
    grep -q "<name>$name</name>" "$index" || missing="$missing $name"
done
if [ -n "$missing" ]; then
    echo "apidocs: not in the reference:$missing"
    exit 1
fi
echo "apidocs: $n public names documented, no warnings: $out/html/index.html"
