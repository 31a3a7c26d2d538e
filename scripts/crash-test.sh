#!/usr/bin/env bash
# make crash-test: the full reliability run (docs/reliability.md) on a Debug build in
# build-crash: the in-process fault loops of test_oplog over every allocation and OS call
# (POND_CRASH_FULL=1), then every crash point, power-loss state and fault point of every CLI
# scenario, 500 commits from each of two concurrent writers, gc racing a writer, and corruption.
# Prints the number of states checked and, last, the combined "N passed, N failed".
#
# usage: scripts/crash-test.sh [BUILD_DIR]
#        scripts/crash-test.sh --repeat N [BUILD_DIR]
# --repeat N runs only the concurrency and corruption tests, N times in a row: the CLI ones
# (concurrent_writers, gc_races_dedup_writer, corruption) and the in-process ones (threads or
# processes racing, conflicting commits, damaged blobs and data files in test_oplog, test_cas,
# test_tinyfs, test_delta, test_parquet).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
repeat=0
if [ "${1:-}" = "--repeat" ]; then
  repeat=${2:?--repeat needs a count}
  shift 2
fi
build=${1:-$root/build-crash}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 1
passed=0; failed=0

# adds the "N passed, N failed" of $2 (the last line of a run whose exit code is $1)
count() {
  local rc=$1 last=$2
  if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
    [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] && failed=$((failed + 1))
  else
    failed=$((failed + 1))
  fi
}

if [ "$repeat" -gt 0 ]; then
  cmake --build "$build" -j 2 --target pond_cli pond_test_cli test_oplog test_cas test_tinyfs test_delta \
    test_parquet >/dev/null || exit 1
  inproc=("test_oplog oplog::conflicting_writer_loses" "test_oplog oplog::corrupt_blob_detected"
          "test_oplog oplog_maint::fsck_clean_then_corrupt_then_missing"
          "test_cas cas_rw::concurrent_same_content" "test_cas cas_rw::corrupt_"
          "test_cas cas_rw::truncated_and_replaced" "test_cas cas_gc::crash_points"
          "test_tinyfs tinyfs_stream::threads_" "test_delta delta::commit_conflict"
          "test_parquet pq_reader::truncated_and_flipped_files")
  for r in $(seq 1 "$repeat"); do
    p0=$passed; f0=$failed
    for t in "${inproc[@]}"; do
      set -- $t
      out=$(cd "$root" && "$build/tests/$1" -s "$2" 2>&1)
      rc=$?
      grep -E '^FAIL' <<<"$out"
      count $rc "$(tail -n 1 <<<"$out")"
    done
    echo "round $r/$repeat in process: $((passed - p0)) passed, $((failed - f0)) failed"
  done
  # streamed (a "round r/N" line per round), the summary line taken from a copy
  log=$(mktemp)
  POND_BIN="$build/pond-test" POND_CRASH_CONC_N=${POND_CRASH_CONC_N:-500} \
    "$root/tests/crash/run.sh" --repeat "$repeat" \
    --only concurrent_writers,gc_races_dedup_writer,corruption 2>&1 | tee "$log" |
    grep --line-buffered -vE '^[0-9]+ passed, [0-9]+ failed$'
  rc=${PIPESTATUS[0]}
  count "$rc" "$(tail -n 1 "$log")"
  rm -f "$log"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi

cmake --build "$build" -j 2 --target pond_cli pond_test_cli test_oplog >/dev/null || exit 1
out=$(cd "$root" && POND_CRASH_FULL=1 "$build/tests/test_oplog" -s oplog_crash:: 2>&1)
rc=$?
grep -E '^(FAIL|  )' <<<"$out"
last=$(tail -n 1 <<<"$out")
echo "test_oplog (oplog_crash, full): $last"
count $rc "$last"
out=$(POND_BIN="$build/pond-test" POND_CRASH_CONC_N=${POND_CRASH_CONC_N:-500} "$root/tests/crash/run.sh" 2>&1)
rc=$?
grep -vE '^[0-9]+ passed, [0-9]+ failed$' <<<"$out"
count $rc "$(tail -n 1 <<<"$out")"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
