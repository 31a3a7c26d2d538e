#!/usr/bin/env bash
# The SQLite loadable extension: Debian's sqlite3 shell `.load`s build/libpond_sqlite (from
# another directory too) and answers the same aggregates, group-bys, time-range queries and
# joins as `pond query` over the same pond (REALs compared through printf: the shell and pond
# print floats differently), with the timestamp range and a column comparison
# pushed into the virtual table (EXPLAIN QUERY PLAN); Python's sqlite3 module (another client)
# loads it too; errors are SQL errors naming the pond or path. Normal runs only (an ASan build
# of the module cannot be loaded into an uninstrumented sqlite3). Last line: "N passed, N failed".
# usage: tests/sqlite_ext/ext.sh [BUILD_DIR]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
P=$BUILD/pond
EXT=$BUILD/libpond_sqlite
command -v sqlite3 >/dev/null 2>&1 || { echo "sqlite_ext: SKIP (no sqlite3 shell)"; exit 0; }
[ -f "$EXT.so" ] || { echo "sqlite_ext: no $EXT.so"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pond-sqlite-ext.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export POND=$work/pond TZ=UTC
pass=0; fail=0
bad() { fail=$((fail + 1)); echo "FAIL sqlite_ext::$1"; [ -n "${2:-}" ] && echo "$2" | head -20 | sed 's/^/    /'; }
python3 - <<'PY'
import random
random.seed(3)
with open("s.csv", "w") as f:
    f.write("timestamp,v,site\n")
    for i in range(5000):
        v = "" if i % 29 == 4 else "%.4f" % (random.random() * 100)
        f.write("%d,%s,s%d\n" % (1704067200 + i * 1800, v, i % 4))
with open("s2.csv", "w") as f:
    f.write("timestamp,v,site\n1720000000,1.5,s9\n1720000060,2.5,s9\n")
with open("sites.csv", "w") as f:
    f.write("site,name\ns0,North\ns1,South\ns2,East\n")
PY
"$P" init >/dev/null && "$P" copy --type series host:s.csv /s && "$P" copy --type series host:s2.csv /s &&
  "$P" copy --type table host:sites.csv /sites || bad setup
sq() { # sq SQL: the shell's CSV answer, with both tables created from the extension
  (cd / && sqlite3 -csv -header :memory: ".load $EXT" \
    "CREATE VIRTUAL TABLE s USING pond('$POND', '/s');" \
    "CREATE VIRTUAL TABLE sites USING pond('$POND', '/sites');" "$1" 2>&1)
}
pq() { "$P" query --format csv "$1" s=/s sites=/sites 2>&1; }
same() {
  local a b
  a=$(pq "$1"); b=$(sq "$1")
  if [ "$a" = "$b" ] && [ -n "$a" ]; then pass=$((pass + 1)); else bad "$2" "pond query: $a
sqlite3:    $b"; fi
}
same "SELECT count(*) AS n, count(v) AS nv, printf('%.17g', sum(v)) AS total, printf('%.17g', avg(v)) AS mean, min(v) AS lo, max(v) AS hi FROM s" aggregates
same "SELECT site, count(*) AS n, printf('%.6f', sum(v)) AS total FROM s GROUP BY site ORDER BY site" group_by
same "SELECT count(*) AS n, min(timestamp) AS first, max(timestamp) AS last FROM s WHERE timestamp >= us('2024-02-01') AND timestamp < us('2024-03-01')" time_range
same "SELECT count(*) AS n FROM s WHERE v > 50 AND timestamp BETWEEN us('2024-01-10') AND us('2024-02-10')" range_and_column
same "SELECT n.name, count(*) AS c FROM s JOIN sites n USING (site) GROUP BY n.name ORDER BY n.name" join
same "SELECT time_bucket(timestamp, 86400000000) AS day, count(*) AS n FROM s GROUP BY day ORDER BY day LIMIT 5" time_bucket
# the range and the column comparison are pushed into the virtual table
plan=$(sq "EXPLAIN QUERY PLAN SELECT count(*) FROM s WHERE timestamp >= us('2024-02-01') AND timestamp < us('2024-03-01') AND v > 50")
grep -q 'VIRTUAL TABLE INDEX 0:.*G0,l0,g1' <<<"$plan" && pass=$((pass + 1)) || bad pushdown "$plan"
# one version of the series, and the extension loaded by Python's sqlite3 module
got=$(cd / && sqlite3 :memory: ".load $EXT" "CREATE VIRTUAL TABLE v1 USING pond('$POND', '/s', 1);" "SELECT count(*) FROM v1;" 2>&1)
[ "$got" = 5000 ] && pass=$((pass + 1)) || bad version_argument "$got"
got=$(/usr/bin/python3 - "$EXT" "$POND" <<'PY' 2>&1
import sqlite3, sys
c = sqlite3.connect(":memory:")
c.enable_load_extension(True)
c.load_extension(sys.argv[1])
c.execute("CREATE VIRTUAL TABLE s USING pond(?, '/s')".replace("?", "'%s'" % sys.argv[2]))
print(c.execute("SELECT count(*), iso(max(timestamp)) FROM s").fetchone())
PY
)
[ "$got" = "(5002, '2024-07-03T09:47:40Z')" ] && pass=$((pass + 1)) || bad python_client "$got"
# errors: SQL errors naming what is wrong
err() { # err NAME SQL EXPECTED_TEXT
  local out; out=$(cd / && sqlite3 :memory: ".load $EXT" "$2" 2>&1)
  grep -q "$3" <<<"$out" && pass=$((pass + 1)) || bad "$1" "$out"
}
err no_pond "CREATE VIRTUAL TABLE x USING pond('$work/nope', '/s');" "nope"
err no_path "CREATE VIRTUAL TABLE x USING pond('$POND', '/missing');" "/missing"
err one_argument "CREATE VIRTUAL TABLE x USING pond('/s');" "usage: CREATE VIRTUAL TABLE"
err not_tabular "CREATE VIRTUAL TABLE x USING pond('$POND', '/');" "not a table or series"
# series semantics as pond cat: a dedup=last rule (a late row replaces the one with its
# timestamp) and a compaction (its replaced versions are not read again)
printf 'timestamp,v,site\n1720000000,9.5,s9\n' > s3.csv
"$P" copy --type series host:s3.csv /s >/dev/null && "$P" set /s dedup=last &&
  "$P" gc --compact-series /s >/dev/null || bad series_setup
want=$("$P" cat --format csv /s | tail -n +2 | wc -l)
got=$(sq "SELECT count(*) FROM s" | tail -n 1)
[ "$want" = 5002 ] && [ "$got" = "$want" ] && pass=$((pass + 1)) || bad dedup_compacted_rows "cat $want, sqlite3 $got"
got=$(sq "SELECT v FROM s WHERE timestamp = us('2024-07-03T09:46:40Z')" | tail -n 1)
[ "$got" = 9.5 ] && pass=$((pass + 1)) || bad dedup_last_value "$got"
same "SELECT count(*) AS n, printf('%.6f', sum(v)) AS total FROM s" dedup_compacted_aggregate
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
