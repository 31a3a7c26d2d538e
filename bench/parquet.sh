#!/bin/sh
# Parquet benchmark: pond vs DuckDB on the same data, the same thread count for both
# (THREADS, default 1: pond's writer encodes column chunks and its reader decodes them on that
# many threads, DuckDB gets SET threads=THREADS).
#   10,000,000 rows (override: ROWS=...): ts (timestamp, UTC, 1 s steps), a, b, c (doubles,
#   random walks), tag (string, 16 distinct values).
# pond writes the data with zstd and snappy and reads it back (full scan summing every column,
# and a 1% time range); timestamps are DELTA_BINARY_PACKED (pond's default), doubles PLAIN (the
# default) and, in the "(split floats)" lines, BYTE_STREAM_SPLIT (the split_floats option); DuckDB (@duckdb/node-api, SET threads=THREADS) loads the rows from pond's zstd
# file into memory (untimed), writes them with zstd and snappy, and runs the same two reads on
# its own file (and, for reference, on pond's file). Prints rows/s and pond/DuckDB ratios.
#
# usage: bench/parquet.sh [BUILD_DIR]        (default build-release; configured Release here)
# env:   ROWS (default 10000000), REPS (default 3), WORKDIR (kept; default a fresh temp dir,
#        removed at exit, also on failure or Ctrl-C),
#        ROW_GROUP (pond row-group rows; default: the writer's default, 131072),
#        THREADS (default 1),
#        PAGE_BYTES (pond's target page size; default 131072, the 128 KiB pages pond writes for
#        every table and series (docs/decisions.md): with the page index a range read decodes
#        about one page per column beyond the range; 0 = the library default, 1 MiB)
# Prints the load average before and after (the targets are for a quiet machine: load < 1.5),
# the writer's heap peak and the process's peak RSS (which includes the generated input).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-release}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROWS=${ROWS:-10000000}
REPS=${REPS:-3}
ROW_GROUP=${ROW_GROUP:-0}
THREADS=${THREADS:-1}
PAGE_BYTES=${PAGE_BYTES:-131072}
mkdir -p "$BUILD"
if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
       cmake --build "$BUILD" -j2 --target bench_bench_parquet; } >"$BUILD/bench-build.log" 2>&1; then
    cat "$BUILD/bench-build.log"; echo "parquet.sh: build failed"; exit 1
fi
command -v node >/dev/null 2>&1 || { echo "parquet.sh: node is required for the DuckDB side"; exit 1; }
if [ ! -d "$ROOT/bench/duckdb/node_modules/@duckdb/node-api" ]; then
    (cd "$ROOT/bench/duckdb" && npm install --no-audit --no-fund >/dev/null)
fi
. "$ROOT/bench/workdir.sh"
bench_workdir pond-bench
OUT=$WORK/results.txt
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
"$BUILD/bench/bench_parquet" --rows "$ROWS" --dir "$WORK" --reps "$REPS" --row-group "$ROW_GROUP" --threads "$THREADS" --page-bytes "$PAGE_BYTES" >"$OUT"
LO=$(sed -n 's/^range_lo_us=//p' "$OUT")
HI=$(sed -n 's/^range_hi_us=//p' "$OUT")
node "$ROOT/bench/duckdb/bench.mjs" "$WORK/pond_zstd.parquet" "$WORK" "$LO" "$HI" "$REPS" "$THREADS" >>"$OUT"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
awk -F= -v load_before="$LOAD_BEFORE" -v load_after="$LOAD_AFTER" -v reps="$REPS" '
{ v[$1] = $2 }
function rate(s) { return v["rows"] / s / 1e6 }
function line(what, p, d) {
    printf "%-26s %10.2f M rows/s %10.2f M rows/s %8.2fx\n", what, rate(p), rate(d), d / p
}
END {
    printf "rows: %d (pond row groups of %s rows (0 = default 131072), pages of %s bytes; DuckDB defaults; THREADS=%d: pond %d, DuckDB %d; best of %d)\n", v["rows"], "'"$ROW_GROUP"'", "'"$PAGE_BYTES"'", v["pond_threads"], v["pond_threads"], v["duckdb_threads"], reps
    printf "load average before: %s  after: %s\n", load_before, load_after
    printf "%-26s %17s %17s %9s\n", "", "pond", "DuckDB", "pond/DuckDB"
    line("write zstd", v["pond_write_zstd_s"], v["duckdb_write_zstd_s"])
    line("write snappy", v["pond_write_snappy_s"], v["duckdb_write_snappy_s"])
    line("full read (sum all)", v["pond_read_full_s"], v["duckdb_read_full_s"])
    line("write zstd (split floats)", v["pond_write_zstd_split_s"], v["duckdb_write_zstd_s"])
    line("full read (split floats)", v["pond_read_full_split_s"], v["duckdb_read_full_s"])
    printf "%-26s %13.2f ms %14.2f ms %8.2fx   (%d / %d rows)\n", "1% time-range read", v["pond_read_range_s"] * 1000, v["duckdb_read_range_s"] * 1000, v["duckdb_read_range_s"] / v["pond_read_range_s"], v["pond_read_range_rows"], v["duckdb_read_range_rows"]
    printf "%-26s %13.1f MB %14.1f MB %8.3fx (size ratio, lower is better)\n", "zstd file size", v["pond_zstd_bytes"] / 1e6, v["duckdb_zstd_bytes"] / 1e6, v["pond_zstd_bytes"] / v["duckdb_zstd_bytes"]
    printf "%-26s %13.1f MB %14.1f MB %8.3fx\n", "zstd split-floats size", v["pond_zstd_split_bytes"] / 1e6, v["duckdb_zstd_bytes"] / 1e6, v["pond_zstd_split_bytes"] / v["duckdb_zstd_bytes"]
    printf "%-26s %13.1f MB %14.1f MB %8.3fx\n", "snappy file size", v["pond_snappy_bytes"] / 1e6, v["duckdb_snappy_bytes"] / 1e6, v["pond_snappy_bytes"] / v["duckdb_snappy_bytes"]
    printf "pond writer heap peak %.1f MiB; pond process peak RSS %.1f MiB (with the generated input in memory)\n", v["pond_write_peak_heap_bytes"] / 1048576, v["pond_process_peak_rss_kb"] / 1024
    printf "DuckDB reading pond'"'"'s zstd file: full %.2f M rows/s, 1%% range %.2f ms\n", rate(v["duckdb_on_pond_read_full_s"]), v["duckdb_on_pond_read_range_s"] * 1000
    if (v["pond_read_full_rows"] != v["duckdb_read_full_rows"] || v["pond_read_range_rows"] != v["duckdb_read_range_rows"])
        print "WARNING: row counts differ between pond and DuckDB"
}' "$OUT"
[ "$KEEP" = 0 ] || echo "raw results: $OUT"
