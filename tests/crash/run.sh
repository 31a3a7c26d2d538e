#!/usr/bin/env bash
# Reliability harness (docs/reliability.md): crash points, trace lint, fault injection,
# concurrent writers, gc racing a writer, corruption. Runs tests/crash/crash.py against a pond
# binary. --quick samples the crash and fault points (the default CI suite); without it every
# mutating call of every scenario is a crash point and a fault point (make crash-test).
# usage: tests/crash/run.sh [--quick] [--only NAME]    ($POND_BIN: build/pond-test, the CLI that
# reads POND_FAULT and POND_TRACE)
# Last line: "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${POND_BIN:=$root/build/pond-test}"
if [ ! -x "$POND_BIN" ]; then
  echo "crash: no pond binary at $POND_BIN"
  echo "0 passed, 1 failed"
  exit 1
fi
if ! command -v python3 >/dev/null; then
  echo "crash: python3 not found"
  echo "0 passed, 1 failed"
  exit 1
fi
exec python3 -B "$here/crash.py" "$POND_BIN" "$@"
