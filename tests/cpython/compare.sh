#!/bin/sh
# compare.sh: CTest's entry point for one CPython comparison scenario.
#
#   compare.sh SCENARIO.py -- [EMULATOR...] C_BINARY
#
# Checks that a Python is there (python3, or $CORIO_PYTHON). Without one,
# the test reports itself SKIPPED (exit 77: CTest then counts it as not
# run, never as passed), so `make test` still works on a machine with only
# a C toolchain; with CORIO_REQUIRE_PYTHON=1 (CI sets it) a missing Python
# is a failure instead. compare.py fails clearly on a Python older than
# 3.11, runs both twins and compares their traces.
py=${CORIO_PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
    echo "cpython comparison: '$py' not found; these tests need Python 3.11" \
         "or newer (install python3, or point CORIO_PYTHON at one)" >&2
    [ "${CORIO_REQUIRE_PYTHON:-0}" = 1 ] && exit 1
    exit 77
fi
# compare.py checks the version first thing (one interpreter start per
# test: a pyenv shim costs a tenth of a second each time).
exec "$py" "$(dirname "$0")/compare.py" "$@"
