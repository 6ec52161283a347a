#!/bin/sh
# compare.sh: CTest's entry point for one CPython comparison scenario.
#
#   compare.sh SCENARIO.py -- [EMULATOR...] C_BINARY
#
# Checks that a Python is there (python3, or $CORIO_PYTHON), failing with
# a clear message when it is not (never skipping: a missing Python would
# otherwise pass the suite silently), then hands over to compare.py, which
# fails just as clearly on a Python older than 3.11, runs both twins and
# compares their traces.
py=${CORIO_PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
    echo "cpython comparison: '$py' not found; these tests need Python 3.11" \
         "or newer (install python3, or point CORIO_PYTHON at one)" >&2
    exit 1
fi
# compare.py checks the version first thing (one interpreter start per
# test: a pyenv shim costs a tenth of a second each time).
exec "$py" "$(dirname "$0")/compare.py" "$@"
