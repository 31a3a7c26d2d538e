#!/usr/bin/env bash
# An export killed at every mutating OS call (POND_FAULT=crash:any:N: the process dies right
# before the Nth write, fsync, rename, link, unlink, mkdir or rmdir) leaves a directory a reader
# can read: a Parquet dataset with no torn file and no row twice, a Delta table at exactly the
# state before or after; and the next export completes it. Three changes are killed: an append
# (Parquet and Delta) and a replacement of every row (Parquet). At least 20 kill points each;
# checks run in one oracle process (tests/export/kill-check.mjs). Last line: "N passed, N failed".
# usage: tests/export/kill.sh [BUILD_DIR]    (ORACLE_DIR: the installed oracle)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
P=$BUILD/pond-test # reads POND_FAULT (the shipped pond does not)
HERE=$ROOT/tests/export
command -v node >/dev/null 2>&1 || { echo "export_kill: SKIP (node not found)"; exit 0; }
export ORACLE_DIR=${ORACLE_DIR:-$BUILD/oracle}
[ -d "$ORACLE_DIR/node_modules" ] || { echo "export_kill: SKIP (no oracle at $ORACLE_DIR)"; exit 0; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pond-export-kill.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export TZ=UTC POND_NO_PROGRESS=1
pass=0; fail=0
bad() { fail=$((fail + 1)); echo "FAIL export_kill::$1"; [ -n "${2:-}" ] && echo "    $2"; }
python3 - <<'EOF'
def rows(path, start, n, step, base):
    with open(path, "w") as f:
        f.write("timestamp,v,site\n")
        for i in range(n):
            f.write("%d,%s,s%d\n" % (start + i * step, "" if i % 13 == 2 else base + i, i % 3))
rows("v1.csv", 1704067200, 400, 21600, 0)      # Jan .. Apr
rows("v2.csv", 1710000000, 300, 21600, 1000)   # Mar .. May
rows("r1.csv", 1704067200, 300, 43200, 5)      # a table's rows before and after
rows("r2.csv", 1704500000, 200, 43200, 9)
EOF
# scenario NAME KIND FORMAT: two ponds, A (before) and B (after the change)
scenario() {
  local name=$1 kind=$2 fmt=$3 first=$4 second=$5
  mkdir -p "$name" && cd "$name"
  POND=$PWD/a "$P" init >/dev/null && POND=$PWD/b "$P" init >/dev/null || bad "$name setup"
  POND=$PWD/a "$P" copy --type "$kind" "host:../$first" /s && POND=$PWD/b "$P" copy --type "$kind" "host:../$first" /s ||
    bad "$name copy"
  if [ "$kind" = series ]; then POND=$PWD/b "$P" copy --type series "host:../$second" /s
  else POND=$PWD/b "$P" copy --type table "host:../$second" /s; fi || bad "$name change"
  POND=$PWD/a "$P" cat --format parquet /s > before.parquet && POND=$PWD/b "$P" cat --format parquet /s > after.parquet
  POND=$PWD/a "$P" export --format "$fmt" /s host:base > /dev/null || bad "$name base export"
  # the mutating calls of the export that is killed
  cp -a base traced
  POND=$PWD/b POND_TRACE=$PWD/trace.txt "$P" export --format "$fmt" /s host:traced > /dev/null || bad "$name traced export"
  # (the trace also lists opens and the exit; a crash point is a mutating call)
  local n; n=$(awk '$3 ~ /^(write|pwrite|fsync|ftruncate|rename|link|unlink|mkdir|rmdir)$/' trace.txt | wc -l)
  local points=() k
  if [ "$n" -le 24 ]; then points=($(seq 1 "$n"))
  else for k in $(seq 0 23); do points+=($((1 + k * (n - 1) / 23))); done; fi
  local crashed=0
  for k in "${points[@]}"; do
    rm -rf "k$k" && cp -a base "k$k"
    POND=$PWD/b POND_FAULT="crash:any:$k" "$P" export --format "$fmt" /s "host:k$k" > /dev/null 2>&1
    local rc=$?
    if [ $rc -eq 77 ]; then crashed=$((crashed + 1)); else bad "$name kill $k" "exit $rc, want 77 (crash)"; fi
  done
  [ "$crashed" -ge 20 ] && pass=$((pass + 1)) || bad "$name kill points" "$crashed crashes of $n calls, want at least 20"
  # readable after the crash
  local out
  out=$(node "$HERE/kill-check.mjs" before.parquet after.parquet $(printf 'k%s ' "${points[@]}") 2>&1) &&
    pass=$((pass + 1)) || bad "$name readable after a kill" "$(grep -v '^ok' <<<"$out" | head -5)"
  # the next export completes it: exactly the rows after, no journal, no temporary file left
  for k in "${points[@]}"; do
    POND=$PWD/b "$P" export --format "$fmt" /s "host:k$k" > /dev/null 2>&1 || bad "$name resume $k"
    [ ! -e "k$k/_pond_export.journal" ] && [ -z "$(ls "k$k/_pond_tmp")" ] || bad "$name leftovers $k" "$(ls "k$k" "k$k/_pond_tmp")"
  done
  out=$(node "$HERE/kill-check.mjs" after.parquet after.parquet $(printf 'k%s ' "${points[@]}") 2>&1) &&
    pass=$((pass + 1)) || bad "$name complete after resuming" "$(grep -v '^ok' <<<"$out" | head -5)"
  if [ "$fmt" = parquet ]; then # after resuming, exactly the rows (kill-check only bounds them)
    local qs=("select * from read_parquet('after.parquet')") d wrong=0
    for k in "${points[@]}"; do qs+=("select * from read_parquet('k$k/**/*.parquet', hive_partitioning=false)"); done
    mapfile -t d < <(node "$HERE/digest.mjs" "${qs[@]}" 2>&1)
    for k in $(seq 1 "${#points[@]}"); do
      [ "${d[$k]}" = "${d[0]}" ] || { wrong=1; bad "$name rows after resuming ${points[$((k - 1))]}" "${d[$k]} vs ${d[0]}"; }
    done
    [ $wrong -eq 0 ] && [[ "${d[0]}" == rows=* ]] && pass=$((pass + 1))
  fi
  echo "  $name: $n mutating calls, $crashed kill points" >&2
  cd ..
}
scenario append_parquet series parquet v1.csv v2.csv
scenario append_delta series delta v1.csv v2.csv
scenario replace_parquet table parquet r1.csv r2.csv
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
