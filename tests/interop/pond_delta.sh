#!/usr/bin/env bash
# Interop: ponds written by pond are valid Delta tables for an independent reader.
# Builds ponds with the CLI (small and large files, a series, directories, moves, deletes,
# 105 commits so a checkpoint is written, gc --compact, a format-1 pond upgraded to format 2)
# and checks each with the oracle's
# delta-check.mjs, which replays the log (with and without the checkpoint), validates it and
# reads every live data file with DuckDB. Last line: "N passed, N failed".
# usage: tests/interop/pond_delta.sh [BUILD_DIR]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
P=$BUILD/pond
command -v node >/dev/null 2>&1 || { echo "pond_delta: SKIP (node not found)"; exit 0; }
ORACLE=${ORACLE_DIR:-$BUILD/oracle}
if [ ! -d "$ORACLE/node_modules" ]; then
  [ -d "$ROOT/../shared/tools/oracle" ] || { echo "pond_delta: SKIP (no ../shared/tools/oracle)"; exit 0; }
  mkdir -p "$ORACLE" && cp -r "$ROOT/../shared/tools/oracle/." "$ORACLE/"
  (cd "$ORACLE" && npm install --no-audit --no-fund >/dev/null 2>&1) || { echo "pond_delta: SKIP (npm install failed)"; exit 0; }
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/pond-delta-interop.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0; fail=0
check() { # check NAME POND [ARGS...]
  local name=$1 dir=$2; shift 2
  if node "$ORACLE/delta-check.mjs" "$dir" "$@" > "$name.log" 2>&1 && grep -q '^status: OK' "$name.log"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL pond_delta::$name"; sed 's/^/    /' "$name.log" | tail -15
  fi
}
# 1. a small pond with every entry type and content inline and in the store
export POND=$work/a
"$P" init --threshold-data 1KiB >/dev/null
"$P" mkdir -p /x/y
head -c 5000 /dev/urandom > big.bin
printf 'small' > small.txt
printf 'timestamp,v\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n' > s.csv
"$P" copy host:big.bin host:small.txt /x/y/ && "$P" copy --type series host:s.csv /x/s &&
"$P" copy --type table host:s.csv /x/t && "$P" ln -s y/small.txt /x/l && "$P" mv /x/y/small.txt /x/ &&
"$P" rm /x/l || { echo "FAIL pond_delta::setup"; fail=$((fail + 1)); }
check small "$POND"
# 1b. a series stream (two versions merged by pond's reader) written out by pond as Parquet
#     is read identically by DuckDB, hyparquet and parquet-wasm
printf 'timestamp,v,w\n2024-01-02T00:00:00Z,3,x\n' > s2.csv
"$P" copy --type series host:s2.csv /x/s && "$P" cat --format parquet /x/s > stream.parquet
want="sha256:$("$P" parquet dump stream.parquet | sha256sum | cut -d' ' -f1)"
if node "$ORACLE/parquet-check.mjs" stream.parquet --expect-digest "$want" --expect-rows 3 > stream.log 2>&1; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL pond_delta::series_stream"; tail -8 stream.log
fi
# 2. many commits: a checkpoint; the checkpoint and a plain replay must agree
export POND=$work/b
"$P" init >/dev/null
for i in $(seq 1 105); do "$P" mkdir -p "/d$((i % 7))/n$i" || break; done
check checkpoint "$POND"
check checkpoint_ignored "$POND" --no-checkpoint
d1=$(grep '^digest' checkpoint.log); d2=$(grep '^digest' checkpoint_ignored.log)
if [ -n "$d1" ] && [ "$d1" = "$d2" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL pond_delta::checkpoint_digest ($d1 vs $d2)"; fi
# 3. after compaction and retention
"$P" gc --compact --keep-versions 1 --grace 0s >/dev/null || { echo "FAIL pond_delta::gc"; fail=$((fail + 1)); }
check after_gc "$POND"
# 4. a format-1 pond written by the old code, upgraded to format 2 by a move (a metaData action
#    adding the nullable nested entries.part_id): old files lack the field, new ones have it
cp -r "$ROOT/tests/data/pond-format1" "$work/f1"
export POND=$work/f1
"$P" mv /w /d/ && "$P" mkdir /e && "$P" mv /d/f /e/f ||
  { echo "FAIL pond_delta::upgrade"; fail=$((fail + 1)); }
check upgraded "$POND"
# the upgrade is in the move's own commit (11), and DuckDB reads the new field's values
node "$ORACLE/delta-check.mjs" "$POND" --dump > upgraded.rows 2>/dev/null
if grep -q '"pond.format":"2"' "$POND/_delta_log/00000000000000000011.json" &&
   grep -q '"part_id":"[0-9a-f-]\{36\}"' upgraded.rows; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL pond_delta::upgrade_fields"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
