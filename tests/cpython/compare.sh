#!/bin/sh
# compare.sh: CTest's entry point for one CPython comparison scenario.
#
#   compare.sh SCENARIO.py -- [EMULATOR...] C_BINARY
#
# Checks that a Python 3.11 or newer is there (python3, or $CORIO_PYTHON),
# failing with a clear message when it is not (never skipping: a missing
# Python would otherwise pass the suite silently), then hands over to
# compare.py, which runs both twins and compares their traces.
py=${CORIO_PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
    echo "cpython comparison: '$py' not found; these tests need Python 3.11" \
         "or newer (install python3, or point CORIO_PYTHON at one)" >&2
    exit 1
fi
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "cpython comparison: $("$py" --version 2>&1) is too old; these tests" \
         "need Python 3.11 or newer (asyncio.timeout, TaskGroup, uncancel)" >&2
    exit 1
fi
exec "$py" "$(dirname "$0")/compare.py" "$@"
