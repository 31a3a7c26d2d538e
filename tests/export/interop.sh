#!/usr/bin/env bash
# Exports read back by independent readers equal pond's own cat: DuckDB over the Hive-partitioned
# Parquet dataset, the oracle's delta-check over the Delta table (log, stats, rows; with and
# without its checkpoint) and DuckDB over the Delta table's live files, all three oracle readers
# (DuckDB, hyparquet, parquet-wasm) over every file; incremental exports write only new files
# (counted), nothing at all when nothing changed or after gc --compact; a table's new version
# replaces its file; several sources at once; a foreign file survives everything.
# Digests are canon-v1, order-independent. Last line: "N passed, N failed".
# usage: tests/export/interop.sh [BUILD_DIR]    (ORACLE_DIR: the installed oracle)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
P=$BUILD/pond
HERE=$ROOT/tests/export
command -v node >/dev/null 2>&1 || { echo "export_interop: SKIP (node not found)"; exit 0; }
export ORACLE_DIR=${ORACLE_DIR:-$BUILD/oracle}
[ -d "$ORACLE_DIR/node_modules" ] || { echo "export_interop: SKIP (no oracle at $ORACLE_DIR)"; exit 0; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pond-export-interop.XXXXXX")
[ -n "${KEEP:-}" ] && echo "work: $work" || trap 'rm -rf "$work"' EXIT
cd "$work"
export POND=$work/pond TZ=UTC POND_NO_PROGRESS=1
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL export_interop::$1"; [ -n "${2:-}" ] && echo "    $2"; }
digests() { mapfile -t D < <(node "$HERE/digest.mjs" "$@" 2>&1); } # one DuckDB for all queries
same() { # same NAME A B: two digest lines must be equal and name rows
  if [ "$2" = "$3" ] && [[ "$2" == rows=* ]]; then ok; else bad "$1" "$2 vs $3"; fi
}
snap() { find "$1" -printf '%P %i %T@ %s\n' | sort; }
nfiles() { find "$1" -name '*.parquet' -not -path '*/_delta_log/*' | wc -l; }
catq() { # catq FILE PATH [cat options]: writes pond cat's Parquet, prints the query over it
  local f=$1 src=$2; shift 2
  "$P" cat --format parquet "$@" "$src" > "$f" && echo "select * from read_parquet('$f')"
}
partsq() { # the rows of a cat file plus year/month columns, as a Delta reader sees them
  echo "select *, year(timestamp::TIMESTAMP)::INTEGER as year, month(timestamp::TIMESTAMP)::INTEGER as month from read_parquet('$1')"
}
hiveq() { echo "select * exclude (year, month) from read_parquet('$1/**/*.parquet', hive_partitioning=true)"; }
delta_ok() { # delta_ok NAME DIR WANT_DIGEST [--no-checkpoint]: the oracle replays and reads it
  local out
  out=$(node "$ORACLE_DIR/delta-check.mjs" "$2" ${4:-} 2>&1)
  if grep -q '^status: OK' <<<"$out" && grep -q "^digest: ${3#*digest=} " <<<"$out"; then ok
  else bad "$1" "$(grep -E '^(status|digest|rows)|ERROR|error' <<<"$out" | head -5 | tr '\n' ' ') want $3"; fi
}
three_readers() { # every data file read alike by DuckDB, hyparquet and parquet-wasm
  local f n=0 files=()
  rm -rf plain && mkdir plain
  while IFS= read -r f; do
    # plain paths: DuckDB would otherwise add the key=value directories as columns
    n=$((n + 1)); cp "$f" plain/$n.parquet; files+=(plain/$n.parquet)
  done < <(find "$2" -name '*.parquet' -not -path '*/_delta_log/*')
  if [ $n -gt 0 ] && node "$ORACLE_DIR/parquet-check.mjs" "${files[@]}" > pc.log 2>&1; then ok
  else bad "$1" "$(grep -B3 MISMATCH pc.log | head -8)"; fi
}

# ---- a pond: a series over three months in two versions (nulls, text), another series, a table
"$P" init >/dev/null
python3 - <<'EOF'
import random
random.seed(7)
def rows(path, start, n, step, base):
    with open(path, "w") as f:
        f.write("timestamp,temp,site,flag\n")
        for i in range(n):
            t = start + i * step
            temp = "" if i % 37 == 5 else "%.3f" % (base + random.random() * 10)
            site = "" if i % 53 == 7 else "site-%d" % (i % 4)
            f.write("%d,%s,%s,%s\n" % (t, temp, site, "true" if i % 3 else "false"))
rows("v1.csv", 1704067200, 6000, 900, 10)       # 2024-01-01 .. 2024-03-03
rows("v2.csv", 1709251200, 3000, 1200, 20)      # 2024-03-01 .. 2024-04-11 (overlaps March)
rows("v3.csv", 1712000000, 1500, 1800, 30)      # April .. May
rows("o.csv", 1704067200, 500, 86400, 0)
with open("sites.csv", "w") as f:
    f.write("site,name,elev\nsite-0,North,12\nsite-1,South,\nsite-2,East,7\n")
with open("sites2.csv", "w") as f:
    f.write("site,name,elev\nsite-0,North,12\nsite-3,West,99\n")
EOF
"$P" mkdir -p /plant /ref
"$P" copy --type series host:v1.csv /plant/s1 && "$P" copy --type series host:v2.csv /plant/s1 &&
  "$P" copy --type series host:o.csv /plant/s2 && "$P" copy --type table host:sites.csv /ref/sites ||
  bad setup

# ---- Parquet dataset and Delta table: DuckDB with hive partitioning, the oracle's Delta
#      replay (log, stats, rows), DuckDB over the live files: all equal cat
mkdir pq && echo keep > pq/README.txt
"$P" export /plant/s1 host:pq > out.txt 2>&1 || bad export_parquet "$(cat out.txt)"
"$P" export --format delta /plant/s1 host:dl > out.txt 2>&1 || bad export_delta "$(cat out.txt)"
digests "$(catq c1.parquet /plant/s1)" "$(hiveq pq)" "$(partsq c1.parquet)" live:dl \
  "$(catq c2.parquet /plant/s1 --from 2024-03-01 --to 2024-04-01)" \
  "select * exclude (year, month) from read_parquet('pq/**/*.parquet', hive_partitioning=true) where year = 2024 and month = 3"
same parquet_duckdb_hive "${D[0]}" "${D[1]}"
delta_ok delta_check dl "${D[2]}"
same delta_live_duckdb "${D[0]}" "${D[3]}"
same parquet_partition_filter "${D[4]}" "${D[5]}" # DuckDB reads only March, as cat --from/--to
[ "$(nfiles pq)" -eq 4 ] && ok || bad parquet_files "$(nfiles pq) files, want 4 (January to April)"
three_readers three_readers pq
# the statistics engines prune on: min/max/null count per column chunk, checked for exactness
st_bad=0
for f in $(find pq -name '*.parquet'); do
  node "$ORACLE_DIR/parquet-stats-check.mjs" "$f" > st.log 2>&1 || { st_bad=1; bad "parquet_stats $f" "$(tail -3 st.log)"; }
done
[ $st_bad -eq 0 ] && ok

# ---- incremental: an append writes only new files (a second April file, May)
before=$(snap pq)
"$P" copy --type series host:v3.csv /plant/s1 || bad append
"$P" export /plant/s1 host:pq > out.txt 2>&1 || bad export_parquet_2 "$(cat out.txt)"
new=$(comm -13 <(echo "$before" | grep '\.parquet ' | cut -d' ' -f1) <(snap pq | grep '\.parquet ' | cut -d' ' -f1) | wc -l)
[ "$new" -eq 2 ] && ok || bad parquet_new_files "$new new files, want 2 (April, May)"
# the files of the first export are untouched (same inode, time and size)
kept=$(comm -12 <(echo "$before" | grep '\.parquet ') <(snap pq | grep '\.parquet ') | wc -l)
[ "$kept" -eq 4 ] && ok || bad parquet_kept_files "$kept kept, want 4"
"$P" export --format delta /plant/s1 host:dl > out.txt 2>&1 || bad export_delta_2 "$(cat out.txt)"
grep -q 'Delta version 1' out.txt && ok || bad delta_version_1 "$(cat out.txt)"
# nothing new: nothing written (no file, no commit, no checkpoint, not even the state)
before_pq=$(snap pq); before_dl=$(snap dl)
"$P" export /plant/s1 host:pq > out.txt 2>&1 && grep -q unchanged out.txt || bad unchanged_parquet "$(cat out.txt)"
"$P" export --format delta /plant/s1 host:dl > out.txt 2>&1 && grep -q unchanged out.txt || bad unchanged_delta "$(cat out.txt)"
[ "$before_pq" = "$(snap pq)" ] && ok || bad unchanged_parquet_snapshot
[ "$before_dl" = "$(snap dl)" ] && ok || bad unchanged_delta_snapshot
# compaction of the pond's data files keeps every row: nothing is rewritten
"$P" gc --compact > /dev/null 2>&1 || bad gc_compact
"$P" export /plant/s1 host:pq > out.txt 2>&1 && grep -q unchanged out.txt || bad compact_parquet "$(cat out.txt)"
"$P" export --format delta /plant/s1 host:dl > out.txt 2>&1 && grep -q unchanged out.txt || bad compact_delta "$(cat out.txt)"
[ "$before_pq" = "$(snap pq)" ] && [ "$before_dl" = "$(snap dl)" ] && ok || bad compact_snapshot
digests "$(catq c3.parquet /plant/s1)" "$(hiveq pq)" live:dl "$(partsq c3.parquet)"
same parquet_after_append "${D[0]}" "${D[1]}"
same delta_after_compact "${D[0]}" "${D[2]}"
delta_ok delta_after_append dl "${D[3]}"

# ---- nine more appends: a Delta checkpoint at version 10, equal to the plain replay
for i in $(seq 1 9); do
  printf 'timestamp,temp,site,flag\n%d,%d.5,site-9,true\n' $((1720000000 + i * 86400)) "$i" > a$i.csv
  "$P" copy --type series host:a$i.csv /plant/s1 && "$P" export --format delta /plant/s1 host:dl > /dev/null 2>&1 ||
    bad "append_$i"
done
[ -f dl/_delta_log/00000000000000000010.checkpoint.parquet ] && ok || bad delta_checkpoint "$(ls dl/_delta_log)"

# ---- series compaction: the compacted version holds the rows exported already, so nothing is
# written (no data file, no Delta commit); retention then drops the replaced versions: unchanged
"$P" export /plant/s1 host:pq > /dev/null 2>&1 || bad export_parquet_3
before_pq=$(snap pq | grep '\.parquet '); before_dl=$(snap dl | grep -E '\.parquet |_delta_log/')
"$P" gc --compact-series /plant/s1 > out.txt 2>&1 && grep -q 'compacted /plant/s1' out.txt || bad gc_compact_series "$(cat out.txt)"
"$P" export /plant/s1 host:pq > out.txt 2>&1 && grep -q 'no rows to write' out.txt || bad compact_series_parquet "$(cat out.txt)"
"$P" export --format delta /plant/s1 host:dl > out.txt 2>&1 && grep -q 'no rows to write' out.txt || bad compact_series_delta "$(cat out.txt)"
[ "$before_pq" = "$(snap pq | grep '\.parquet ')" ] && [ "$before_dl" = "$(snap dl | grep -E '\.parquet |_delta_log/')" ] && ok || bad compact_series_snapshot
"$P" gc --keep-versions 1 > /dev/null 2>&1 || bad gc_retention
"$P" export /plant/s1 host:pq > out.txt 2>&1 && grep -q unchanged out.txt || bad retention_parquet "$(cat out.txt)"
"$P" export --format delta /plant/s1 host:dl > out.txt 2>&1 && grep -q unchanged out.txt || bad retention_delta "$(cat out.txt)"
digests "$(catq c4.parquet /plant/s1)" "$(hiveq pq)" live:dl "$(partsq c4.parquet)"
same parquet_after_compact_series "${D[0]}" "${D[1]}"
same delta_after_compact_series "${D[0]}" "${D[2]}"
delta_ok delta_after_compact_series_log dl "${D[3]}"

# ---- a table: its new version replaces the file (Parquet) or removes and adds it (Delta)
"$P" export /ref/sites host:t > /dev/null 2>&1 && "$P" export --format delta /ref/sites host:td > /dev/null 2>&1 || bad export_table
"$P" copy --type table host:sites2.csv /ref/sites || bad table_v2
"$P" export /ref/sites host:t > out.txt 2>&1 && grep -q '1 file replaced' out.txt || bad table_replaced "$(cat out.txt)"
[ "$(nfiles t)" -eq 1 ] && ok || bad table_one_file "$(nfiles t)"
"$P" export --format delta /ref/sites host:td > /dev/null 2>&1 || bad export_table_delta_2

# ---- several sources (a glob and a path) into DIR/<path in the pond>/
"$P" export '/plant/*' /ref/sites host:many > out.txt 2>&1 || bad export_many "$(cat out.txt)"

# ---- projections and ranges equal cat's; by day
"$P" export --columns temp,site --from 2024-02-10 --to 2024-02-20T12:00Z --partition year,month,day /plant/s1 host:cols > out.txt 2>&1 ||
  bad export_columns "$(cat out.txt)"
[ "$(nfiles cols)" -eq 11 ] && ok || bad columns_days "$(nfiles cols) files, want 11 days"

digests "$(catq c4.parquet /plant/s1)" "$(partsq c4.parquet)" \
  "$(catq c5.parquet /ref/sites)" "select * from read_parquet('t/*.parquet')" live:td \
  "$(hiveq many/plant/s1)" "$(catq c6.parquet /plant/s2)" "$(hiveq many/plant/s2)" \
  "select * from read_parquet('many/ref/sites/*.parquet')" \
  "$(catq c7.parquet /plant/s1 --columns temp,site --from 2024-02-10 --to 2024-02-20T12:00Z)" \
  "select * exclude (year, month, day) from read_parquet('cols/**/*.parquet', hive_partitioning=true)"
delta_ok delta_with_checkpoint dl "${D[1]}"
delta_ok delta_checkpoint_ignored dl "${D[1]}" --no-checkpoint
same table_parquet "${D[2]}" "${D[3]}"
delta_ok table_delta td "${D[2]}"
same table_delta_live "${D[2]}" "${D[4]}"
same many_s1 "${D[0]}" "${D[5]}"
same many_s2 "${D[6]}" "${D[7]}"
same many_sites "${D[2]}" "${D[8]}"
same columns_range "${D[9]}" "${D[10]}"

# ---- event times as pond cat reads them: a series of wall-clock Parquet timestamps (DuckDB's
#      TIMESTAMP, isAdjustedToUTC=false) read in America/New_York, and a CSV read with
#      --time-format in Europe/Berlin. The rows equal cat's over the same range, and each row's
#      partition is the UTC day of its instant as Python's zoneinfo computes it.
node "$HERE/digest.mjs" "copy (select (timestamp '2024-01-31 18:00:00' + to_hours(i * 7)) as local_time, i as v from range(0, 300) t(i)) to 'wall.parquet' (format parquet)" > /dev/null
python3 - <<'EOF'
import datetime as dt
from zoneinfo import ZoneInfo
utc = dt.timezone.utc
def instant(local, zone):  # None for a local time the zone skips
    u = local.replace(tzinfo=zone).astimezone(utc)
    return u if u.astimezone(zone).replace(tzinfo=None) == local else None
ny, be = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
lo, hi = instant(dt.datetime(2024, 2, 1), ny), instant(dt.datetime(2024, 4, 1), ny)
with open("wall.want", "w") as f:
    for v in range(300):
        u = instant(dt.datetime(2024, 1, 31, 18) + dt.timedelta(hours=7 * v), ny)
        if u and lo <= u < hi:
            f.write("%d,%d,%d,%d\n" % (v, u.year, u.month, u.day))
with open("berlin.csv", "w") as c, open("berlin.want", "w") as f:
    c.write("when,v\n")
    for v in range(200):
        local = dt.datetime(2024, 1, 30, 20, 30) + dt.timedelta(hours=11 * v)
        u = instant(local, be)
        if u is None:
            continue
        c.write("%s,%d\n" % (local.strftime("%d.%m.%Y %H:%M"), v))
        f.write("%d,%d,%d,%d\n" % (v, u.year, u.month, u.day))
EOF
{ "$P" mkdir -p /tz && "$P" copy --type series --timezone America/New_York host:wall.parquet /tz/wall &&
  "$P" copy --type series --time-format '%d.%m.%Y %H:%M' --timezone Europe/Berlin \
    --timestamp-column when host:berlin.csv /tz/csv; } > out.txt 2>&1 || bad event_time_copy "$(cat out.txt)"
"$P" export --partition year,month,day --timezone America/New_York --from 2024-02-01 \
  --to 2024-04-01 /tz/wall host:wall_x > out.txt 2>&1 || bad export_wall "$(cat out.txt)"
"$P" export --partition year,month,day /tz/csv host:csv_x > out.txt 2>&1 || bad export_csv "$(cat out.txt)"
dayq() { echo "select * exclude (year, month, day) from read_parquet('$1/**/*.parquet', hive_partitioning=true)"; }
partq() { echo "copy (select v, year, month, day from read_parquet('$1/**/*.parquet', hive_partitioning=true) order by v) to '$2' (header false)"; }
digests "$(catq c8.parquet /tz/wall --timezone America/New_York --from 2024-02-01 --to 2024-04-01)" \
  "$(dayq wall_x)" "$(catq c9.parquet /tz/csv)" "$(dayq csv_x)" "$(partq wall_x wall.got)" \
  "$(partq csv_x berlin.got)"
same wall_clock_rows "${D[0]}" "${D[1]}"
same time_format_rows "${D[2]}" "${D[3]}"
cmp -s wall.want wall.got && [ -s wall.got ] && ok || bad wall_clock_partitions "$(diff wall.want wall.got | head -4)"
cmp -s berlin.want berlin.got && [ -s berlin.got ] && ok || bad time_format_partitions "$(diff berlin.want berlin.got | head -4)"

# ---- the foreign file survived every export
[ "$(cat pq/README.txt)" = keep ] && ok || bad foreign_file
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
