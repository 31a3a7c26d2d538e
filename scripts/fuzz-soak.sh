#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS of CPU time each (default 600 = 10 minutes), starting
# from its corpus in fuzz/corpus/<target>/; new interesting inputs go to build-fuzz/soak/<target>/,
# crashes to build-fuzz/soak/crash-<target>-*. A finding fails the run: minimize it, fix it, and
# add it to fuzz/corpus/<target>/ so the normal test run replays it.
# usage: scripts/fuzz-soak.sh BUILD_DIR [SECONDS]
set -u
build=$1
secs=${2:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
passed=0; failed=0
for f in "$build"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f"); target=${name#fuzz_}
  work="$build/soak/$target"; mkdir -p "$work"
  echo "== $name: ${secs}s"
  if "$f" -max_total_time="$secs" -malloc_limit_mb=256 -rss_limit_mb=1024 -timeout=20 \
      -artifact_prefix="$build/soak/crash-$target-" "$work" "$root/fuzz/corpus/$target" \
      > "$work.log" 2>&1; then
    passed=$((passed + 1)); tail -n 1 "$work.log"
  else
    failed=$((failed + 1)); echo "FAIL $name"; grep -E 'ERROR|SUMMARY|Test unit written' "$work.log" | head -5
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
