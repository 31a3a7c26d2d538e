#!/bin/sh
# SQL benchmark: pond (SQLite virtual table over a series) vs DuckDB on the same rows, THREADS
# threads each (default 1: pond's scans decode row groups on THREADS threads, pond_sql_set_threads;
# DuckDB gets SET threads=THREADS).
#   ROWS rows (default 10,000,000): ts (timestamp UTC, 1 s steps), a, b, c (doubles, random
#   walks), tag (string, 16 distinct values). bench_sql writes them with pond's writer into a
#   fresh pond as the series /s (VERSIONS versions of consecutive time, default 10) and exports
#   the same rows as one Parquet file (zstd); DuckDB (@duckdb/node-api, SET threads=THREADS) queries
#   that file with read_parquet.
# Queries (best of REPS, default 3), the same SQL on both sides:
#   full:  SELECT count(*), sum(a), avg(b), max(c) FROM t
#   range: the same WHERE ts BETWEEN lo AND hi, a 1% slice in the middle of the data
# pond's time covers prepare+step+finalize on an attached series (attaching, which reads every
# version's footer for the union schema, is printed separately); DuckDB's covers read_parquet
# (footer included) and the query. Prints wall and CPU times (the machine may be shared) and
# the ratios, the load average before and after, and the peak RSS of both processes.
#
# usage: bench/sql.sh [BUILD_DIR]          (default build-sql-release; configured Release here)
# env:   ROWS, VERSIONS, REPS, THREADS (default 1), WORKDIR (default a fresh temp dir, removed afterwards),
#        REUSE=1 (with WORKDIR: query the data an earlier run left there),
#        FAST=0 (pond without its aggregate fast path: SQLite's engine over the virtual table)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-sql-release}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROWS=${ROWS:-10000000}
VERSIONS=${VERSIONS:-10}
REPS=${REPS:-3}
THREADS=${THREADS:-1}
mkdir -p "$BUILD"
if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
       cmake --build "$BUILD" -j2 --target bench_bench_sql; } >"$BUILD/bench-sql-build.log" 2>&1; then
    cat "$BUILD/bench-sql-build.log"; echo "sql.sh: build failed"; exit 1
fi
command -v node >/dev/null 2>&1 || { echo "sql.sh: node is required for the DuckDB side"; exit 1; }
if [ ! -d "$ROOT/bench/duckdb/node_modules/@duckdb/node-api" ]; then
    (cd "$ROOT/bench/duckdb" && npm install --no-audit --no-fund >/dev/null)
fi
. "$ROOT/bench/workdir.sh"
bench_workdir pond-sql-bench
OUT=$WORK/results.txt
if [ "${REUSE:-0}" = 1 ] && [ -d "$WORK/pond" ] && [ -f "$WORK/data.parquet" ]; then
    GEN=--query-only   # the data of an earlier run with the same WORKDIR and ROWS
else
    rm -rf "$WORK/pond" "$WORK/data.parquet"; GEN=
fi
NOFAST=; [ "${FAST:-1}" = 0 ] && NOFAST=--no-fast
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
/usr/bin/time -f "pond_peak_rss_kb=%M" -o "$WORK/pond.rss" \
    "$BUILD/bench/bench_sql" --rows "$ROWS" --versions "$VERSIONS" --dir "$WORK" --reps "$REPS" \
    --threads "$THREADS" $GEN $NOFAST >"$OUT"
cat "$WORK/pond.rss" >>"$OUT"
LO=$(sed -n 's/^range_lo_us=//p' "$OUT")
HI=$(sed -n 's/^range_hi_us=//p' "$OUT")
cat >"$WORK/duck.cjs" <<'JS'
const { DuckDBInstance } = require(process.env.DUCKDB_API);
const [file, lo, hi, reps, threads] = process.argv.slice(2);
(async () => {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run(`SET threads=${Math.max(1, Number(threads) | 0)}`);
  const src = "read_parquet('" + file.replace(/'/g, "''") + "')";
  const agg = `SELECT count(*) AS n, sum(a) AS sa, avg(b) AS ab, max(c) AS mc FROM ${src}`;
  const range = ` WHERE ts BETWEEN make_timestamptz(${lo}::BIGINT) AND make_timestamptz(${hi}::BIGINT)`;
  async function timed(sql) {
    let best = Infinity, bestCpu = 0, row = null;
    for (let i = 0; i < Number(reps); i++) {
      const t = process.hrtime.bigint(), c = process.cpuUsage();
      const r = await conn.runAndReadAll(sql);
      const s = Number(process.hrtime.bigint() - t) / 1e9;
      const cu = process.cpuUsage(c);
      if (s < best) { best = s; bestCpu = (cu.user + cu.system) / 1e6; }
      row = r.getRowObjects()[0];
    }
    const text = `${row.n} ${Number(row.sa).toExponential(6)} ${Number(row.ab).toExponential(6)} ${Number(row.mc).toExponential(6)}`;
    return [best, text, bestCpu];
  }
  const [f, ft, fc] = await timed(agg);
  const [r, rt, rc] = await timed(agg + range);
  console.log(`duckdb_full_cpu_s=${fc.toFixed(4)}`);
  console.log(`duckdb_range_cpu_s=${rc.toFixed(4)}`);
  console.log(`duckdb_full_s=${f.toFixed(4)}`);
  console.log(`duckdb_full_result=${ft}`);
  console.log(`duckdb_range_s=${r.toFixed(4)}`);
  console.log(`duckdb_range_result=${rt}`);
})();
JS
DUCKDB_API="$ROOT/bench/duckdb/node_modules/@duckdb/node-api" /usr/bin/time -f "duckdb_peak_rss_kb=%M" -o "$WORK/duck.rss" \
    node "$WORK/duck.cjs" "$WORK/data.parquet" "$LO" "$HI" "$REPS" "$THREADS" >>"$OUT"
cat "$WORK/duck.rss" >>"$OUT"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
awk -F= -v load_before="$LOAD_BEFORE" -v load_after="$LOAD_AFTER" '
{ v[$1] = $2 }
END {
    printf "rows: %d in %d series versions; THREADS=%d: pond %d, DuckDB %d; best of '"$REPS"'\n", v["rows"], v["versions"], '"$THREADS"', v["pond_threads"], '"$THREADS"'
    printf "load average before: %s  after: %s\n", load_before, load_after
    printf "peak RSS: pond %.1f MiB (bench_sql, generation included unless REUSE=1), DuckDB %.1f MiB (node)\n", v["pond_peak_rss_kb"] / 1024, v["duckdb_peak_rss_kb"] / 1024
    printf "%-30s %12s %12s %14s\n", "", (v["pond_fast"] ? "pond (fast)" : "pond (SQLite)"), "DuckDB", "pond speed"
    printf "%-30s %10.1f ms %9.1f ms %13.2fx   (%.1f M rows/s)\n", "full-scan aggregate", v["pond_full_s"] * 1000, v["duckdb_full_s"] * 1000, v["duckdb_full_s"] / v["pond_full_s"], v["rows"] / v["pond_full_s"] / 1e6
    printf "%-30s %10.1f ms %9.1f ms %13.2fx\n", "  (CPU time)", v["pond_full_cpu_s"] * 1000, v["duckdb_full_cpu_s"] * 1000, v["duckdb_full_cpu_s"] / v["pond_full_cpu_s"]
    printf "%-30s %10.1f ms %9.1f ms %13.2fx\n", "1% time-range aggregate", v["pond_range_s"] * 1000, v["duckdb_range_s"] * 1000, v["duckdb_range_s"] / v["pond_range_s"]
    printf "%-30s %10.1f ms %9.1f ms %13.2fx\n", "  (CPU time)", v["pond_range_cpu_s"] * 1000, v["duckdb_range_cpu_s"] * 1000, v["duckdb_range_cpu_s"] / v["pond_range_cpu_s"]
    printf "pond attach (versions + footers, untimed above): %.1f ms\n", v["pond_attach_s"] * 1000
    printf "pond range read: versions %s, row groups %s, rows decoded %s\n", v["pond_range_versions_read"], v["pond_range_row_groups_read"], v["pond_range_rows_decoded"]
    printf "results pond   full: %s | range: %s\n", v["pond_full_result"], v["pond_range_result"]
    printf "results DuckDB full: %s | range: %s\n", v["duckdb_full_result"], v["duckdb_range_result"]
    split(v["pond_full_result"], pf, " "); split(v["duckdb_full_result"], df, " ")
    split(v["pond_range_result"], pr, " "); split(v["duckdb_range_result"], dr, " ")
    bad = 0
    for (i = 1; i <= 4; i++) {
        if (i == 1 ? pf[i] != df[i] : (pf[i] - df[i]) > 1e-5 * (pf[i] < 0 ? -pf[i] : pf[i]) || (df[i] - pf[i]) > 1e-5 * (pf[i] < 0 ? -pf[i] : pf[i])) bad = 1
        if (i == 1 ? pr[i] != dr[i] : (pr[i] - dr[i]) > 1e-5 * (pr[i] < 0 ? -pr[i] : pr[i]) || (dr[i] - pr[i]) > 1e-5 * (pr[i] < 0 ? -pr[i] : pr[i])) bad = 1
    }
    print (bad ? "WARNING: results differ between pond and DuckDB" : "results match (count exactly, the rest to 6 digits)")
}' "$OUT"
echo "(pond speed = DuckDB time / pond time: above 1 means pond is faster)"
[ "$KEEP" = 0 ] || echo "raw results: $OUT"
