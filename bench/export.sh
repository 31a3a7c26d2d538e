#!/bin/sh
# bench/export: `pond export` of a 10,000,000-row series (timestamp at 1 s steps, three
# random-walk doubles, a 16-value string) to a Parquet dataset partitioned by year and month,
# side by side with DuckDB's COPY ... TO ... (FORMAT parquet, PARTITION_BY (year, month)) of the
# same rows (read from pond's own Parquet of the series: `pond cat --format parquet`), zstd for
# both, in the same run. DuckDB runs with 1 and with 2 threads (pond's export is one thread
# reading and one writing). Every comparison runs REPS times (default 2); each line carries the
# load average at that moment. For reference DuckDB also copies the rows unpartitioned into one
# file (1 thread). Rows are checked equal (DuckDB counts both outputs).
# usage: bench/export.sh [BUILD_DIR]   env: ROWS, REPS, WORKDIR
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-release}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROWS=${ROWS:-10000000}
REPS=${REPS:-2}
{ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release && cmake --build "$BUILD" -j2 --target pond_cli; } >/dev/null
command -v node >/dev/null 2>&1 || { echo "export.sh: node is required for the DuckDB side"; exit 1; }
[ -d "$ROOT/bench/duckdb/node_modules/@duckdb/node-api" ] || (cd "$ROOT/bench/duckdb" && npm install --no-audit --no-fund >/dev/null)
. "$ROOT/bench/workdir.sh"
bench_workdir pond-export-bench   # WORKDIR: kept, its pond reused
export POND=$WORK/pond
if [ ! -d "$POND" ]; then
  node "$ROOT/bench/duckdb/gen.mjs" "$ROWS" "$WORK/data.csv"
  "$BUILD/pond" init >/dev/null
  "$BUILD/pond" copy --type series "host:$WORK/data.csv" /s
  "$BUILD/pond" cat --format parquet /s > "$WORK/src.parquet"
  rm -f "$WORK/data.csv"
fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "rows: $ROWS (series in the pond: $(du -sh "$POND/_large_files" | cut -f1); DuckDB's source: $(du -h "$WORK/src.parquet" | cut -f1))"
printf '%-5s %-30s %9s %12s   %s\n' rep what seconds "M rows/s" "pond/DuckDB speed (load average)"
rep=1
while [ $rep -le "$REPS" ]; do
  rm -rf "$WORK/out_pond"
  /usr/bin/time -f "%e %M" -o "$WORK/pond.time" "$BUILD/pond" export --partition year,month /s "host:$WORK/out_pond" >/dev/null
  read -r PS PRSS < "$WORK/pond.time"
  printf '%-5s %-30s %9.2f %12.2f   (peak RSS %d MiB; load %s)\n' "$rep" "pond export" "$PS" \
    "$(echo "$ROWS $PS" | awk '{print $1 / $2 / 1e6}')" $((PRSS / 1024)) "$(load)"
  for t in 1 2; do
    node "$ROOT/bench/duckdb/export.mjs" "$WORK/src.parquet" "$WORK/out_duck" "$t" > "$WORK/duck.txt"
    DS=$(sed -n 's/^duckdb_s=//p' "$WORK/duck.txt")
    DR=$(sed -n 's/^duckdb_rows=//p' "$WORK/duck.txt")
    [ "$DR" = "$ROWS" ] || echo "WARNING: DuckDB wrote $DR rows"
    printf '%-5s %-30s %9.2f %12.2f   %.2fx (load %s)\n' "$rep" "DuckDB COPY, $t thread(s)" "$DS" \
      "$(echo "$ROWS $DS" | awk '{print $1 / $2 / 1e6}')" "$(echo "$DS $PS" | awk '{print $1 / $2}')" "$(load)"
  done
  node "$ROOT/bench/duckdb/export.mjs" "$WORK/src.parquet" "$WORK/out_flat.parquet" 1 flat > "$WORK/duck.txt"
  DS=$(sed -n 's/^duckdb_s=//p' "$WORK/duck.txt")
  printf '%-5s %-30s %9.2f %12.2f   %.2fx (load %s; reference: no partitions, one file)\n' "$rep" \
    "DuckDB COPY unpartitioned, 1" "$DS" "$(echo "$ROWS $DS" | awk '{print $1 / $2 / 1e6}')" \
    "$(echo "$DS $PS" | awk '{print $1 / $2}')" "$(load)"
  rep=$((rep + 1))
done
# pond's export holds the same rows (counted by DuckDB through hive partitioning)
cat > "$WORK/count.mjs" <<JS
import { DuckDBInstance } from '$ROOT/bench/duckdb/node_modules/@duckdb/node-api/lib/index.js';
const c = await (await DuckDBInstance.create(':memory:')).connect();
const r = await c.runAndReadAll("SELECT count(*), count(DISTINCT timestamp) FROM read_parquet('$WORK/out_pond/**/*.parquet', hive_partitioning=true)");
console.log(r.getRows()[0].join(' '));
JS
echo "pond's export read back by DuckDB: $(node "$WORK/count.mjs") rows, distinct timestamps; files: $(find "$WORK/out_pond" -name '*.parquet' | wc -l) pond, $(find "$WORK/out_duck" -name '*.parquet' | wc -l) DuckDB"
[ "$KEEP" = 0 ] || echo "work dir: $WORK"
