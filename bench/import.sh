#!/bin/sh
# bench/import: CSV -> series import of ROWS rows (default 10,000,000: timestamp at 1 s steps,
# three random-walk doubles, one 16-value string), side by side with DuckDB converting the
# same CSV to Parquet, in the same run. pond parses on one thread while its Parquet writer
# encodes column chunks on THREADS threads (default 2: pond --threads); DuckDB runs with
# threads=THREADS, and for reference with 1. Best of REPS (default 3) for each side. Prints the
# load average before and after, rows/s, ratios (DuckDB time / pond time) and pond's peak RSS.
# usage: bench/import.sh [BUILD_DIR]   env: ROWS, REPS, THREADS, WORKDIR
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-release}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROWS=${ROWS:-10000000}
REPS=${REPS:-3}
THREADS=${THREADS:-2}
{ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release && cmake --build "$BUILD" -j2 --target pond_cli; } >/dev/null
command -v node >/dev/null 2>&1 || { echo "import.sh: node is required for the DuckDB side"; exit 1; }
[ -d "$ROOT/bench/duckdb/node_modules/@duckdb/node-api" ] || (cd "$ROOT/bench/duckdb" && npm install --no-audit --no-fund >/dev/null)
. "$ROOT/bench/workdir.sh"
bench_workdir pond-import   # WORKDIR: kept, its data.csv reused
CSV=$WORK/data.csv
if [ ! -s "$CSV" ]; then
  node "$ROOT/bench/duckdb/gen.mjs" "$ROWS" "$CSV"   # DuckDB writes it: fast, seeded
fi
echo "rows: $ROWS  csv: $(du -h "$CSV" | cut -f1)  THREADS=$THREADS (pond writer and DuckDB)  best of $REPS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
export POND=$WORK/pond
: > "$WORK/pond.times"
r=0
while [ $r -lt "$REPS" ]; do
  rm -rf "$POND"
  "$BUILD/pond" init >/dev/null
  /usr/bin/time -f "%e %M" -a -o "$WORK/pond.times" "$BUILD/pond" --threads "$THREADS" copy --type series "host:$CSV" /s >/dev/null
  r=$((r + 1))
done
: > "$WORK/duck.txt"
r=0
while [ $r -lt "$REPS" ]; do
  node "$ROOT/bench/duckdb/import.mjs" "$CSV" "$WORK" "$THREADS" >> "$WORK/duck.txt"
  [ "$THREADS" = 1 ] || node "$ROOT/bench/duckdb/import.mjs" "$CSV" "$WORK" 1 >> "$WORK/duck.txt"
  r=$((r + 1))
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $LOAD_BEFORE  after: $LOAD_AFTER"
PSIZE="$(du -sh "$POND/_large_files" | cut -f1) stored"
PS=$(sort -n "$WORK/pond.times" | head -1 | cut -d' ' -f1)
PRSS=$(sort -n -k2 "$WORK/pond.times" | tail -1 | cut -d' ' -f2)
awk -v rows="$ROWS" -v ps="$PS" -v rss="$PRSS" -v psize="$PSIZE" -v threads="$THREADS" -F= '
{ if (!($1 in d) || $2 < d[$1]) d[$1] = $2 }
END {
  printf "%-34s %8.2f s %8.2f M rows/s  (peak RSS %d MiB, %s)\n", "pond copy --type series (zstd)", ps, rows/ps/1e6, rss/1024, psize
  best = ""
  for (k in d) {
    printf "%-34s %8.2f s %8.2f M rows/s   pond/duckdb speed %.2fx\n", "duckdb " k, d[k], rows/d[k]/1e6, d[k]/ps
    if (k ~ "_t" threads "$" && (best == "" || d[k] < d[best])) best = k
  }
  if (best != "")
    printf "CSV -> series vs DuckDB best of zstd/snappy at %d thread(s) (%s): %.2fx\n", threads, best, d[best]/ps
}' "$WORK/duck.txt"
[ "$KEEP" = 0 ] || echo "work dir: $WORK"
