#!/usr/bin/env bash
# make crash-test: the full reliability run (docs/reliability.md) on a Debug build in
# build-crash: the in-process fault loops of test_oplog over every allocation and OS call
# (POND_CRASH_FULL=1), then every crash point and fault point of every CLI scenario, 500
# commits from each of two concurrent writers, gc racing a writer, and corruption.
# Prints the number of states checked and, last, the combined "N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-crash}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 1
cmake --build "$build" -j 2 --target pond_cli test_oplog >/dev/null || exit 1
passed=0; failed=0
out=$(cd "$root" && POND_CRASH_FULL=1 "$build/tests/test_oplog" -s oplog_crash:: 2>&1)
rc=$?
grep -E '^(FAIL|  )' <<<"$out"
last=$(tail -n 1 <<<"$out")
echo "test_oplog (oplog_crash, full): $last"
if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
  [ $rc -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] && failed=$((failed + 1))
else
  failed=$((failed + 1))
fi
out=$(POND_BIN="$build/pond" POND_CRASH_CONC_N=${POND_CRASH_CONC_N:-500} "$root/tests/crash/run.sh" 2>&1)
grep -vE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out"
last=$(tail -n 1 <<<"$out")
if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
else
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
