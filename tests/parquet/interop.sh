#!/bin/sh
# Interop check of the Parquet writer: writes a file set with the test binary (one file per
# leaf type flat, plus random nested shapes, across all codecs), then reads every file with
# DuckDB, hyparquet and parquet-wasm (../shared/tools/oracle) and compares their canonical
# digest to the digest of the rows pond wrote, checks statistics with parquet-stats-check, and,
# when `pond parquet dump` exists, compares pond's own reader dump too. Then the reader's
# leniency fixtures: DuckDB must read each to the rows pond reads.
#
# usage: tests/parquet/interop.sh [BUILD_DIR]     (default: build)
# env:   ORACLE_DIR  a copy of the oracle folder with node_modules installed
#        (default: BUILD_DIR/oracle, then ../shared/tools/oracle)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
if ! command -v node >/dev/null 2>&1; then
    echo "interop: SKIP (node not found)"
    exit 0
fi
ORACLE=${ORACLE_DIR:-}
if [ -z "$ORACLE" ]; then
    for d in "$BUILD/oracle" "$ROOT/../shared/tools/oracle"; do
        if [ -d "$d/node_modules" ]; then ORACLE=$d; break; fi
    done
fi
if [ -z "$ORACLE" ]; then
    if [ -d "$ROOT/../shared/tools/oracle" ]; then
        ORACLE=$BUILD/oracle
        mkdir -p "$ORACLE"
        cp -r "$ROOT/../shared/tools/oracle/." "$ORACLE/"
        (cd "$ORACLE" && npm install --no-audit --no-fund >/dev/null 2>&1) || {
            echo "interop: SKIP (npm install of the oracle failed)"; exit 0; }
    else
        echo "interop: SKIP (oracle not found)"
        exit 0
    fi
fi
TEST=$BUILD/tests/test_parquet
[ -x "$TEST" ] || { echo "interop: $TEST not built"; exit 1; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/pond-interop.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
POND_INTEROP_DIR=$OUT "$TEST" -s parquet_write::interop_files >"$OUT/gen.log" 2>&1 || {
    cat "$OUT/gen.log"; echo "interop: generating files failed"; exit 1; }
POND=$BUILD/pond
have_dump=0
if [ -x "$POND" ] && "$POND" parquet dump --help >/dev/null 2>&1; then have_dump=1; fi
pass=0; fail=0
for f in "$OUT"/*.parquet; do
    name=$(basename "$f" .parquet)
    set -- $(cat "$OUT/$name.expect")
    digest=$1; rows=$2
    if node "$ORACLE/parquet-check.mjs" "$f" --expect-digest "$digest" --expect-rows "$rows" >"$OUT/$name.log" 2>&1 &&
       node "$ORACLE/parquet-stats-check.mjs" "$f" >>"$OUT/$name.log" 2>&1; then
        ok=1
    else
        ok=0
    fi
    if [ $ok = 1 ] && [ $have_dump = 1 ]; then
        got="sha256:$("$POND" parquet dump "$f" 2>>"$OUT/$name.log" | sha256sum | cut -d' ' -f1)"
        if [ "$got" != "$digest" ]; then
            echo "pond parquet dump digest $got != $digest" >>"$OUT/$name.log"; ok=0
        fi
    fi
    if [ $ok = 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name"; sed 's/^/    /' "$OUT/$name.log"
    fi
done
# Reader leniency (tests/parquet/test_pq_lenient.c): files pond's reader must accept, written
# by the test with the rows pond reads; DuckDB must read the same rows from the same bytes (one
# node process for all of them), and `pond parquet dump` must give the same digest.
LEN=$OUT/lenient
mkdir -p "$LEN"
if POND_INTEROP_DIR=$LEN "$TEST" -s pq_lenient:: >"$LEN/gen.log" 2>&1; then
    node "$ORACLE/parquet-check.mjs" "$LEN"/*.parquet --readers duckdb --json >"$LEN/duckdb.json" 2>"$LEN/duckdb.err"
    # one line per file: "<file> <digest> <rows>", or "<file> failed: <error>"
    node -e '
        for (const r of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) {
            const d = r.readers.duckdb;
            console.log(`${r.file} ${d && d.ok ? `${d.digest} ${d.rows}` : `failed: ${d ? d.error : "no result"}`}`);
        }' "$LEN/duckdb.json" >"$LEN/duckdb.txt" 2>>"$LEN/duckdb.err"
    for f in "$LEN"/*.parquet; do
        name=$(basename "$f" .parquet)
        set -- $(cat "$LEN/$name.expect")
        got=$(grep -F "$f " "$LEN/duckdb.txt" | head -n 1 | cut -d' ' -f2-)
        dump="sha256:$("$POND" parquet dump "$f" 2>>"$LEN/dump.err" | sha256sum | cut -d' ' -f1)"
        if [ "$got" = "$1 $2" ] && { [ $have_dump = 0 ] || [ "$dump" = "$1" ]; }; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL lenient/$name"
            echo "    pond: $1 $2; duckdb: $got; pond parquet dump: $dump"
        fi
    done
else
    fail=$((fail + 1))
    echo "FAIL lenient: generating files failed"; sed 's/^/    /' "$LEN/gen.log"
fi
[ $have_dump = 1 ] || echo "interop: note: 'pond parquet dump' not available; reader digest not compared"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
