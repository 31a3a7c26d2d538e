#!/bin/sh
# bench/import: CSV -> series import of ROWS rows (default 10,000,000: timestamp at 1 s steps,
# three random-walk doubles, one 16-value string), side by side with DuckDB converting the
# same CSV to Parquet, in the same run. pond uses two threads (parsing overlaps encoding), so
# DuckDB runs with threads=2, and for reference with 1. Prints rows/s, ratios and pond's RSS.
# usage: bench/import.sh [BUILD_DIR]   env: ROWS, WORKDIR
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-release}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROWS=${ROWS:-10000000}
{ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release && cmake --build "$BUILD" -j2 --target pond_cli; } >/dev/null
command -v node >/dev/null 2>&1 || { echo "import.sh: node is required for the DuckDB side"; exit 1; }
[ -d "$ROOT/bench/duckdb/node_modules/@duckdb/node-api" ] || (cd "$ROOT/bench/duckdb" && npm install --no-audit --no-fund >/dev/null)
WORK=${WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/pond-import.XXXXXX")}
mkdir -p "$WORK"
CSV=$WORK/data.csv
if [ ! -s "$CSV" ]; then
  node "$ROOT/bench/duckdb/gen.mjs" "$ROWS" "$CSV"   # DuckDB writes it: fast, seeded
fi
echo "rows: $ROWS  csv: $(du -h "$CSV" | cut -f1)"
export POND=$WORK/pond
rm -rf "$POND"
"$BUILD/pond" init >/dev/null
/usr/bin/time -f "%e %M" -o "$WORK/pond.time" "$BUILD/pond" copy --type series "host:$CSV" /s
read -r PS PRSS < "$WORK/pond.time"
node "$ROOT/bench/duckdb/import.mjs" "$CSV" "$WORK" 2 > "$WORK/duck.txt"
node "$ROOT/bench/duckdb/import.mjs" "$CSV" "$WORK" 1 >> "$WORK/duck.txt"
PSIZE="$(du -sh "$POND/_large_files" | cut -f1) stored"
awk -v rows="$ROWS" -v ps="$PS" -v rss="$PRSS" -v psize="$PSIZE" -F= '
{ d[$1] = $2 }
END {
  printf "%-34s %8.2f s %8.2f M rows/s  (peak RSS %d MiB, %s)\n", "pond copy --type series (zstd)", ps, rows/ps/1e6, rss/1024, psize
  for (k in d) printf "%-34s %8.2f s %8.2f M rows/s   pond/duckdb speed %.2fx\n", "duckdb " k, d[k], rows/d[k]/1e6, d[k]/ps
}' "$WORK/duck.txt"
echo "work dir: $WORK"
