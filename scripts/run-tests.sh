#!/usr/bin/env bash
# Runs every test binary of one build directory, the fuzz corpora replays and the CLI golden
# tests, and prints one combined "N passed, N failed" line last; each part's line ends with its
# wall-clock seconds (where CI time goes).
# usage: scripts/run-tests.sh BUILD_DIR [--units-only] [-- WRAPPER...]
set -u
build=$1; shift
units_only=0
wrapper=()
while [ $# -gt 0 ]; do
  case "$1" in
    --units-only) units_only=1; shift ;;
    --) shift; wrapper=("$@"); break ;;
    *) echo "run-tests: unknown argument $1" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
passed=0; failed=0; skipped=0
# The unit tests' temporary directories (TMPDIR of the pt harness): on a tmpfs when there is one
# with room (8 GiB: pq_big writes a 2 GiB file), where fsync costs nothing. The unit tests check
# what pond writes, not the disk; thousands of commits, each fsynced, doubled their wall time on
# ext4 (test_delta 21-24 s on /tmp, 9-11 s on /dev/shm, the same CPU). The crash harness, CLI,
# hostile and replication scripts still run on the default TMPDIR. POND_TEST_TMPDIR=DIR picks
# the parent directory (POND_TEST_TMPDIR=/tmp: the old behaviour).
unit_tmp=; pwork=
cleanup() { rm -rf ${unit_tmp:+"$unit_tmp"} ${pwork:+"$pwork"}; } # also what a crashed test left
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
unit_parent=${POND_TEST_TMPDIR:-}
if [ -z "$unit_parent" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
   [ -w /dev/shm ] && [ "$(df -k --output=avail /dev/shm 2>/dev/null | tail -n 1)" -ge 8388608 ]; then
  unit_parent=/dev/shm
fi
if [ -n "$unit_parent" ]; then
  unit_tmp=$(mktemp -d "$unit_parent/pond-tests.XXXXXX") || exit 1
else
  unit_tmp=$(mktemp -d) || exit 1
fi
tally() { # reads a runner's last line "N passed, N failed[, N skipped]"
  local line=$1 name=$2 rc=$3
  if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
    skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
    if [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then
      echo "$name: exit code $rc with no failed test (crash, leak or sanitizer report)"; failed=$((failed + 1))
    fi
  else
    echo "$name: no summary line (exit code $rc): crashed?"; failed=$((failed + 1))
  fi
}
# The unit test binaries, then the fuzz corpora replays through the standalone driver (also
# under the wrapper: valgrind sees them). POND_TEST_JOBS=N runs up to N of them at once (the
# Makefile passes JOBS): most use one core, valgrind always. Reports print in this order.
parts=()
for p in "$build"/tests/test_* "$build"/fuzz/fuzz_*; do [ -x "$p" ] && parts+=("$p"); done
pwork=$(mktemp -d)
run_part() { # INDEX PATH: PATH's output, exit code and seconds into $pwork/INDEX.*
  local i=$1 p=$2 t0=$SECONDS args=() name
  name=$(basename "$p")
  if [[ $name == fuzz_* ]]; then
    args=("$root/fuzz/corpus/${name#fuzz_}")
    [ -d "${args[0]}" ] || { echo none >"$pwork/$i.rc"; return; }
  fi
  ( cd "$root" && TMPDIR=$unit_tmp "${wrapper[@]}" "$p" "${args[@]}" ) >"$pwork/$i.out" 2>&1
  echo $? >"$pwork/$i.rc"
  echo $((SECONDS - t0)) >"$pwork/$i.secs"
}
running=0
for i in "${!parts[@]}"; do
  if [ "$running" -ge "${POND_TEST_JOBS:-1}" ]; then wait -n; running=$((running - 1)); fi
  run_part "$i" "${parts[$i]}" &
  running=$((running + 1))
done
wait
for i in "${!parts[@]}"; do
  name=$(basename "${parts[$i]}")
  rc=$(cat "$pwork/$i.rc" 2>/dev/null || echo 1)
  if [ "$rc" = none ]; then
    echo "$name: no corpus at fuzz/corpus/${name#fuzz_}"; failed=$((failed + 1)); continue
  fi
  out=$pwork/$i.out
  if [[ $name == test_* ]]; then
    grep -E '^(FAIL|SKIP|  )|ERROR SUMMARY|==[0-9]+==' "$out" | head -60
  elif [ "$rc" -ne 0 ]; then
    tail -n 20 "$out"
  fi
  last=$(tail -n 1 "$out")
  echo "$name: $last ($(cat "$pwork/$i.secs" 2>/dev/null) s)"
  tally "$last" "$name" "$rc"
done
rm -rf "$pwork"
# Example programs: each must run to success (exit 0) against a fresh directory.
ex_pass=0; ex_fail=0
for e in "$build"/examples/*; do
  [ -x "$e" ] || continue
  d=$(mktemp -d)
  if ( cd "$root" && "${wrapper[@]}" "$e" "$d/pond" ) >"$d/out" 2>&1; then
    ex_pass=$((ex_pass + 1))
  else
    ex_fail=$((ex_fail + 1)); echo "FAIL example $(basename "$e")"; tail -n 15 "$d/out"
  fi
  rm -rf "$d"
done
if [ $((ex_pass + ex_fail)) -gt 0 ]; then
  echo "examples: $ex_pass passed, $ex_fail failed"
  tally "$ex_pass passed, $ex_fail failed" examples 0
fi
if [ $units_only -eq 0 ] && [ -x "$root/tests/cli/run.sh" ]; then
  out=$(mktemp); t0=$SECONDS
  POND_BIN="$build/pond" "$root/tests/cli/run.sh" >"$out" 2>&1
  rc=$?
  grep -E '^FAIL' -A 12 "$out" | head -80
  last=$(tail -n 1 "$out")
  echo "cli: $last ($((SECONDS - t0)) s)"
  tally "$last" cli "$rc"
  rm -f "$out"
fi
# Interop with independent readers (DuckDB, hyparquet, parquet-wasm, the Delta checker):
# normal runs only; they need node and the shared oracle (skipped with a message otherwise).
# POND_NO_INTEROP=1 leaves them out (the ASan run: the files are the same bytes).
if [ $units_only -eq 0 ] && [ -z "${POND_NO_INTEROP:-}" ]; then
  oracle=${ORACLE_DIR:-$root/$build/oracle}
  if command -v node >/dev/null && [ ! -d "$oracle/node_modules" ] && [ -d "$root/../shared/tools/oracle" ]; then
    mkdir -p "$oracle" && cp -r "$root/../shared/tools/oracle/." "$oracle/" &&
      (cd "$oracle" && npm install --no-audit --no-fund >/dev/null 2>&1) || echo "oracle: npm install failed"
  fi
  # tests/export/*.sh: exports read back by DuckDB and the Delta oracle, and killed exports
  for t in "$root/tests/parquet/interop.sh" "$root/tests/interop/pond_delta.sh" \
           "$root"/tests/export/*.sh; do
    [ -x "$t" ] || continue
    name=$(basename "$t" .sh)
    [[ "$t" == */tests/export/* ]] && name=export_$name
    out=$(mktemp); t0=$SECONDS
    ORACLE_DIR="$oracle" "$t" "$build" >"$out" 2>&1
    rc=$?
    last=$(tail -n 1 "$out")
    if grep -q 'SKIP' "$out" && ! [[ "$last" =~ passed ]]; then
      echo "$name: $(grep SKIP "$out" | head -1)"
    else
      grep -E '^FAIL' -A 12 "$out" | head -60
      echo "$name: $last ($((SECONDS - t0)) s)"
      tally "$last" "$name" "$rc"
    fi
    rm -f "$out"
  done
fi
# The SQLite loadable extension loaded into Debian's sqlite3 shell and python3 (tests/sqlite_ext):
# normal runs only (an ASan build of the module cannot be loaded into them).
if [ $units_only -eq 0 ] && [ -z "${POND_NO_INTEROP:-}" ] && [ -x "$root/tests/sqlite_ext/ext.sh" ]; then
  out=$(mktemp); t0=$SECONDS
  "$root/tests/sqlite_ext/ext.sh" "$build" >"$out" 2>&1
  rc=$?
  grep -E '^FAIL' -A 8 "$out" | head -40
  last=$(tail -n 1 "$out")
  echo "sqlite_ext: $last ($((SECONDS - t0)) s)"
  tally "$last" sqlite_ext "$rc"
  rm -f "$out"
fi
# The Python package (tests/python, Debian's python3-pandas and python3-pytest): normal runs
# only (ctypes loads build/libpond.so into an uninstrumented python3).
if [ $units_only -eq 0 ] && [ -z "${POND_NO_INTEROP:-}" ] && [ -x "$root/tests/python/run.sh" ]; then
  out=$(mktemp); t0=$SECONDS
  "$root/tests/python/run.sh" "$build" >"$out" 2>&1
  rc=$?
  if grep -q 'SKIP' "$out" && ! grep -q passed "$out"; then
    echo "python: $(grep SKIP "$out" | head -1)"
  else
    grep -vE 'passed, [0-9]+ failed$' "$out" | head -40
    last=$(tail -n 1 "$out")
    echo "python: $last ($((SECONDS - t0)) s)"
    tally "$last" python "$rc"
  fi
  rm -f "$out"
fi
# Real data (tests/realdata): public data sets imported as a user would, checked against an
# independent computation. Normal runs only (not ASan, not valgrind: same code paths as the
# unit tests, and the data comes from npm and Debian).
if [ $units_only -eq 0 ] && [ -z "${POND_NO_INTEROP:-}" ] && [ -x "$root/tests/realdata/run.sh" ]; then
  out=$(mktemp); t0=$SECONDS
  "$root/tests/realdata/run.sh" "$build" >"$out" 2>&1
  rc=$?
  grep -E '^FAIL' "$out" | head -40
  last=$(tail -n 1 "$out")
  echo "realdata: $last ($((SECONDS - t0)) s)"
  tally "$last" realdata "$rc"
  rm -f "$out"
fi
# pond serve end to end (tests/serve): the API against the CLI, security bounds, reads during
# writes, and the web UI in headless Chromium. Normal runs only (not ASan, not valgrind).
if [ $units_only -eq 0 ] && [ -z "${POND_NO_INTEROP:-}" ] && [ -x "$root/tests/serve/run.sh" ]; then
  out=$(mktemp); t0=$SECONDS
  "$root/tests/serve/run.sh" "$build" >"$out" 2>&1
  rc=$?
  grep -E '^FAIL' -A 4 "$out" | head -40
  last=$(tail -n 1 "$out")
  echo "serve: $last ($((SECONDS - t0)) s)"
  tally "$last" serve "$rc"
  rm -f "$out"
fi
# Hostile and damaged ponds (tests/hostile/*.sh): every command on ponds built to escape,
# hang or exhaust memory. Normal and ASan runs; not under valgrind (--units-only).
if [ $units_only -eq 0 ]; then
  for t in "$root"/tests/hostile/*.sh; do
    [ -f "$t" ] || continue
    name=hostile_$(basename "$t" .sh)
    [ "$name" = hostile_lib ] && continue
    out=$(mktemp); t0=$SECONDS
    POND_BIN="$(cd "$build" && pwd)/pond" bash "$t" >"$out" 2>&1
    rc=$?
    grep -E '^FAIL' "$out" | head -40
    last=$(tail -n 1 "$out")
    echo "$name: $last ($((SECONDS - t0)) s)"
    tally "$last" "$name" "$rc"
    rm -f "$out"
  done
fi
# Replication (tests/repl/*.sh): a directory remote on a tmpfs, pushes killed at random points
# and cut connections, a real sshd. Normal runs only (like interop: not under ASan).
if [ $units_only -eq 0 ] && [ -z "${POND_NO_INTEROP:-}" ]; then
  for t in "$root"/tests/repl/*.sh; do
    [ -f "$t" ] || continue
    name=repl_$(basename "$t" .sh)
    [ "$name" = repl_lib ] && continue
    out=$(mktemp); t0=$SECONDS
    POND_BIN="$(cd "$build" && pwd)/pond" bash "$t" >"$out" 2>&1
    rc=$?
    grep -E '^(FAIL|SKIP)' "$out" | head -40
    last=$(tail -n 1 "$out")
    echo "$name: $last ($((SECONDS - t0)) s)"
    tally "$last" "$name" "$rc"
    rm -f "$out"
  done
fi
# Reliability harness, sampled (tests/crash/run.sh --quick; make crash-test runs it fully).
# POND_CRASH_ONLY=A,B limits it to the tests whose names contain A or B (the ASan run).
if [ $units_only -eq 0 ] && [ -x "$root/tests/crash/run.sh" ]; then
  out=$(mktemp); t0=$SECONDS
  only=(); [ -n "${POND_CRASH_ONLY:-}" ] && only=(--only "$POND_CRASH_ONLY")
  POND_BIN="$build/pond-test" "$root/tests/crash/run.sh" --quick "${only[@]}" >"$out" 2>&1
  rc=$?
  grep -E '^FAIL' -A 6 "$out" | head -60
  last=$(tail -n 1 "$out")
  echo "crash: $(tail -n 2 "$out" | head -n 1); $last ($((SECONDS - t0)) s)"
  tally "$last" crash "$rc"
  rm -f "$out"
fi
if [ $skipped -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
