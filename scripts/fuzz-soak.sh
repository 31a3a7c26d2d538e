#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS of CPU time each (default 600 = 10 minutes), starting
# from its corpus in fuzz/corpus/<target>/; new interesting inputs go to build-fuzz/soak/<target>/,
# crashes to build-fuzz/soak/crash-<target>-*. A finding fails the run: minimize it, fix it, and
# add it to fuzz/corpus/<target>/ so the normal test run replays it.
#
# The budget is CPU time, not wall time: each target runs in slices (-max_total_time=SLICE) and
# the user+system time of every slice is added up until SECONDS is reached, so a soak that
# shares the machine (or runs under `nice`) still gives every target its full CPU budget.
# usage: scripts/fuzz-soak.sh BUILD_DIR [SECONDS] [TARGET...]
set -u
build=$1; shift
secs=${1:-600}; [ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
slice=${FUZZ_SLICE:-120}
passed=0; failed=0
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$build"/fuzz/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
for name in "${targets[@]}"; do
  name=fuzz_${name#fuzz_}; f="$build/fuzz/$name"; target=${name#fuzz_}
  [ -x "$f" ] || { echo "FAIL $name: no such target in $build/fuzz"; failed=$((failed + 1)); continue; }
  work="$build/soak/$target"; mkdir -p "$work"
  : > "$work.log"
  cpu=0; runs=0; ok=1; start=$(date +%s)
  while [ "$cpu" -lt "$secs" ]; do
    left=$((secs - cpu)); [ $left -gt $slice ] && left=$slice
    tf=$(mktemp)
    TIMEFORMAT='%U %S'
    { time "$f" -max_total_time="$left" -malloc_limit_mb=256 -rss_limit_mb=1024 -timeout=20 \
        -artifact_prefix="$build/soak/crash-$target-" "$work" "$root/fuzz/corpus/$target" \
        >> "$work.log" 2>&1 ; } 2> "$tf"
    rc=$?
    read -r u s < <(tail -n 1 "$tf"); rm -f "$tf"
    cpu=$(awk -v c="$cpu" -v u="$u" -v s="$s" 'BEGIN { printf "%d", c + u + s + 0.5 }')
    runs=$(grep -h '^#[0-9]*.*DONE' "$work.log" | awk '{ sub("#", "", $1); t += $1 } END { print t + 0 }')
    if [ $rc -ne 0 ]; then ok=0; break; fi
  done
  wall=$(( $(date +%s) - start ))
  if [ $ok -eq 1 ]; then
    passed=$((passed + 1)); echo "ok   $name: ${cpu} CPU-s (${wall} s wall), $runs executions, corpus $(ls "$work" | wc -l) new"
  else
    failed=$((failed + 1)); echo "FAIL $name after ${cpu} CPU-s"
    grep -E 'ERROR|SUMMARY|Test unit written' "$work.log" | head -5
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
