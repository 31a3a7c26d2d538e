#!/bin/sh
# Derived series (issue 16): a 1-hour rollup (avg, min, max, sum, count) over 5 years of
# 1-minute data (YEARS, default 5: 2.6 M source rows, one version per year).
#   - the first materialization: `pond derive rollup` (process start to commit), side by side
#     with DuckDB's GROUP BY time_bucket over the same Parquet files (@duckdb/node-api, SET
#     threads=THREADS, default 1; best of REPS, default 3; the query inside one process).
#     Target: pond <= DuckDB.
#   - a chart-sized read: `pond cat --from Y --to Y+1 /h` (one year of hourly rows, CSV to
#     /dev/null), best of 5 wall times. Target: < 50 ms.
#   - an append of one day to the source (its refresh reads that day): wall time.
#   - both sides' results agree (row count, sum of sums, sum of counts).
# usage: bench/derived.sh [BUILD_DIR]     (default build-release, configured Release here)
# env:   YEARS, REPS, THREADS, WORKDIR (default a fresh temp dir, removed afterwards)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-release}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
YEARS=${YEARS:-5}
REPS=${REPS:-3}
THREADS=${THREADS:-1}
mkdir -p "$BUILD"
if [ ! -x "$BUILD/pond" ]; then
    { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
      cmake --build "$BUILD" -j2 --target pond_cli; } >"$BUILD/bench-derived-build.log" 2>&1 ||
        { cat "$BUILD/bench-derived-build.log"; echo "derived.sh: build failed"; exit 1; }
fi
P=$BUILD/pond
command -v node >/dev/null 2>&1 || { echo "derived.sh: node is required (DuckDB side)"; exit 1; }
if [ ! -d "$ROOT/bench/duckdb/node_modules/@duckdb/node-api" ]; then
    (cd "$ROOT/bench/duckdb" && npm install --no-audit --no-fund >/dev/null)
fi
DUCK="node $ROOT/bench/duckdb/derived.mjs"
. "$ROOT/bench/workdir.sh"
bench_workdir pond-derived-bench
export POND=$WORK/pond
load() { cut -d' ' -f1-3 /proc/loadavg; }
now_ns() { date +%s%N; }
ms() { echo "$1" | awk '{printf "%.1f", $1 / 1e6}'; }

rm -rf "$WORK/src" "$POND"
mkdir -p "$WORK/src"
$DUCK gen "$WORK/src" "$YEARS" >/dev/null
"$P" init >/dev/null
y=0
while [ "$y" -lt "$YEARS" ]; do
    "$P" copy --type series "host:$WORK/src/y$y.parquet" /s >/dev/null
    y=$((y + 1))
done
rows=$((YEARS * 365 * 1440))
echo "derived: $YEARS years of 1-minute rows ($rows), $YEARS versions; build $BUILD"

t0=$(now_ns)
"$P" derive rollup /h --source /s --every 1h --columns temp --agg avg,min,max,sum,count >/dev/null
t1=$(now_ns)
pond_mat=$((t1 - t0))
duck=$($DUCK rollup "$WORK/src" "$REPS" "$THREADS")
duck_s=$(echo "$duck" | sed -n 's/^duckdb_rollup_s=//p')
echo "first materialization: pond $(ms $pond_mat) ms, DuckDB GROUP BY time_bucket $(echo "$duck_s" | awk '{printf "%.1f", $1 * 1000}') ms (threads=$THREADS)  [load $(load)]"

# a chart-sized read: one year of the rollup
best=""
i=0
while [ "$i" -lt 5 ]; do
    t0=$(now_ns)
    "$P" cat --from 2021-01-01 --to 2022-01-01 /h >/dev/null
    t1=$(now_ns)
    d=$((t1 - t0))
    if [ -z "$best" ] || [ "$d" -lt "$best" ]; then best=$d; fi
    i=$((i + 1))
done
n=$("$P" cat --from 2021-01-01 --to 2022-01-01 /h | tail -n +2 | wc -l)
echo "chart read (cat of one year of the 1-hour rollup, $n rows): best of 5 $(ms $best) ms  [load $(load)]"

# agreement
pond_chk=$("$P" query "SELECT count(*), printf('%.2f', sum(temp_sum)), sum(temp_count) FROM h" h=/h | tail -1 | tr ',' ' ')
duck_chk=$(echo "$duck" | sed -n 's/^duckdb_check=//p')
echo "check: pond $pond_chk, DuckDB $duck_chk"
[ "$pond_chk" = "$duck_chk" ] || { echo "derived.sh: results differ"; exit 1; }

# one more day appended: the refresh reads that day
printf 'timestamp,temp,hum\n' > "$WORK/day.csv"
awk -v y="$YEARS" 'BEGIN { for (i = 0; i < 1440; i++) printf "%d-01-01T%02d:%02d:00Z,%.2f,%d\n", 2019 + y, i / 60, i % 60, (i % 400 - 200) / 4, 40 + i % 50 }' >> "$WORK/day.csv"
t0=$(now_ns)
"$P" copy --type series "host:$WORK/day.csv" /s >/dev/null
t1=$(now_ns)
echo "append of one day (1,440 rows) refreshing the rollup: $(ms $((t1 - t0))) ms  [load $(load)]"
