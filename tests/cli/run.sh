#!/usr/bin/env bash
# CLI golden tests: each tests/cli/<name>.sh runs in a fresh temp directory with $POND_BIN (the
# pond binary) and $FIXTURES (tests/data); its combined stdout+stderr must equal <name>.out and
# its exit code <name>.exit. `run.sh --update` rewrites the golden files.
# Last line: "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
update=0; filter=""
for a in "$@"; do
  case "$a" in --update) update=1 ;; *) filter=$a ;; esac
done
: "${POND_BIN:=$root/build/pond}"
POND_BIN=$(cd "$(dirname "$POND_BIN")" && pwd)/$(basename "$POND_BIN")
export POND_BIN FIXTURES="$root/tests/data" CORPUS="$root/../shared/corpus"
export LC_ALL=C TZ=UTC
unset POND
passed=0; failed=0
for t in "$here"/*.sh; do
  name=$(basename "$t" .sh)
  [ "$name" = run ] && continue
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  tmp=$(mktemp -d)
  out=$( cd "$tmp" && bash "$t" 2>&1 )
  rc=$?
  rm -rf "$tmp"
  if [ $update -eq 1 ]; then
    printf '%s\n' "$out" > "$here/$name.out"; echo "$rc" > "$here/$name.exit"
    passed=$((passed + 1)); continue
  fi
  want_out=$(cat "$here/$name.out" 2>/dev/null); want_rc=$(cat "$here/$name.exit" 2>/dev/null)
  if [ "$out" == "$want_out" ] && [ "$rc" == "$want_rc" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL cli::$name (exit $rc, want $want_rc)"
    diff <(printf '%s\n' "$want_out") <(printf '%s\n' "$out") | head -20
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
