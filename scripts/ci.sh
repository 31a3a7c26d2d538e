#!/usr/bin/env bash
# The whole CI: dependencies, lint (scripts/lint.sh), header test, -Werror build, the suite normally, under ASan+UBSan,
# and the unit tests under valgrind. The last line sums all three runs.
set -u
cd "$(dirname "$0")/.."
scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }
total_p=0; total_f=0; total_s=0
phase() {
  local name=$1; shift
  echo "== $name"
  local log; log=$(mktemp)
  local t0=$SECONDS
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local last; last=$(tail -n 1 "$log")
  if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
    total_p=$((total_p + BASH_REMATCH[1])); total_f=$((total_f + BASH_REMATCH[2]))
    total_s=$((total_s + ${BASH_REMATCH[4]:-0}))
    [ "$rc" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ] && total_f=$((total_f + 1))
  elif [ "$rc" -ne 0 ]; then
    echo "$name failed (exit $rc)"; total_f=$((total_f + 1))
  fi
  echo "== $name: $((SECONDS - t0))s"
  rm -f "$log"
}
phase headertest make -s headertest
phase "build (-Werror)" make -s WERROR=ON all
phase "lint (one way, symbols, format)" scripts/lint.sh build
phase "tests" make -s WERROR=ON check
phase "tests under asan+ubsan" make -s WERROR=ON asan
phase "unit tests under valgrind" make -s WERROR=ON valgrind
phase "install (pkg-config, shared, static)" scripts/install-test.sh
if [ $total_s -gt 0 ]; then
  echo "$total_p passed, $total_f failed, $total_s skipped"
else
  echo "$total_p passed, $total_f failed"
fi
[ $total_f -eq 0 ]
