#!/usr/bin/env bash
# The Python package's tests (tests/python/test_*.py) with Debian's python3, pandas and pytest,
# against a build tree's libpond.so and pond CLI. Last line: "N passed, N failed".
# usage: tests/python/run.sh [BUILD_DIR]     ($POND_PYTHON: the interpreter, default /usr/bin/python3)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PY=${POND_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import pandas, pytest' 2>/dev/null; then
  echo "python: SKIP ($PY lacks pandas or pytest: scripts/install-deps.sh installs them)"
  exit 0
fi
out=$(cd "$ROOT" && PYTHONPATH="$ROOT/python" POND_LIB="$BUILD/libpond.so" POND_BIN="$BUILD/pond" \
  "$PY" -m pytest -q -p no:cacheprovider "$ROOT/tests/python" 2>&1)
rc=$?
echo "$out" | grep -E '^(FAILED|ERROR)|Error|assert' | head -40
last=$(echo "$out" | tail -n 1)
p=$(grep -oE '[0-9]+ passed' <<<"$last" | cut -d' ' -f1)
f=$(grep -oE '[0-9]+ (failed|error)' <<<"$last" | awk '{s += $1} END {print s + 0}')
echo "${p:-0} passed, ${f:-0} failed"
[ $rc -eq 0 ] || [ "${f:-0}" != 0 ] || { echo "python: pytest exit $rc"; exit 1; }
[ $rc -eq 0 ]
