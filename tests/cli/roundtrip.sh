# CSV and JSON output re-import to the same types and values (issue 14 item 9): every value
# of a table and a series goes out with `pond cat` / `pond copy --format csv` and back in with
# `pond copy`; the two are compared type by type (describe) and value by value (the canonical
# dump of their Parquet: typed, exact doubles, -0, NaN). JSON output is read back with
# Python's json module and compared with the original values, and re-imported with
# `pond copy --format ndjson` and compared the same way (NaN and the infinities are the
# strings "NaN", "Infinity", "-Infinity" there, and read back as doubles).
mask() { sed -E "s|$PWD|CWD|g; s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/"; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
"$POND_BIN" init >/dev/null
# whole doubles only (5.0, 10.0): the column must stay double through CSV
cat > in.csv <<'CSV'
id,x,whole,s,t,b
1,5.0,5.0,"a ""q"", b",2024-01-01T00:00:00.123456Z,true
-9223372036854775808,NaN,10.0,"line1
line2",2024-01-01T00:00:01Z,false
9223372036854775807,-Infinity,-3.0,,2024-01-01T00:00:02Z,
3,-0.0,0.0,"",,true
4,1e300,1e15,naïve ☃ 日本,2024-01-01T00:00:03.5Z,false
5,0.1,7.0," lead and trail ",1969-12-31T23:59:59.999999Z,true
6,4.9e-324,123456789.0,"comma,quote""",2262-04-11T23:47:16.854775Z,false
7,Infinity,1e17,x,1970-01-01T00:00:00Z,true
8,0.30000000000000004,-2.0,\,2024-02-29T12:00:00Z,false
CSV
p copy --type table --schema whole:double host:in.csv /a
same() { # same types and values: describe's schema lines and the canonical dumps
  "$POND_BIN" describe "$1" | grep -E '^    [a-z]+ ' > "d1"
  "$POND_BIN" describe "$2" | grep -E '^    [a-z]+ ' > "d2"
  "$POND_BIN" cat --format parquet "$1" > 1.parquet && "$POND_BIN" parquet dump 1.parquet > v1
  "$POND_BIN" cat --format parquet "$2" > 2.parquet && "$POND_BIN" parquet dump 2.parquet > v2
  if cmp -s d1 d2 && cmp -s v1 v2; then echo "$1 and $2: same types and values ($(wc -l < v1) rows)"
  else echo "$1 and $2 DIFFER"; diff d1 d2; diff v1 v2; fi
}
p describe /a
"$POND_BIN" cat /a > out.csv; echo "[exit $?]"
cat out.csv
p copy --type table host:out.csv /b
same /a /b
# copy out as CSV, back in, and onto the same table as a new version (appends keep working)
p copy --format csv /a host:copied.csv
cmp out.csv copied.csv && echo "copy --format csv gives cat's bytes"
p copy --type table host:copied.csv /a
"$POND_BIN" cat --version 2 --format parquet /a > v2.parquet
"$POND_BIN" cat --version 1 --format parquet /a > v1.parquet
"$POND_BIN" parquet dump v1.parquet > dump1; "$POND_BIN" parquet dump v2.parquet > dump2
cmp dump1 dump2 && echo "version 2 (from CSV) equals version 1"
# a series: two versions, the second adds a column; cat's CSV re-imports as one version
printf 'timestamp,value\n2024-01-01T00:00:00Z,1.0\n2024-01-01T00:01:00Z,2.0\n' > s1.csv
printf 'timestamp,value,note\n2024-01-01T00:02:00Z,3.0,"x, y"\n' > s2.csv
p copy --type series --schema value:double host:s1.csv /s
p copy --type series host:s2.csv /s
"$POND_BIN" cat /s > s.csv; cat s.csv
p copy --type series host:s.csv /s_again
same /s /s_again
# JSON: one object per line that a JSON reader takes back with the same types and values
"$POND_BIN" cat --format json /a > out.json; echo "[exit $?]"
cat out.json
python3 - out.json <<'PY'
import json, math, sys
want = [
    (1, 5.0, 5.0, 'a "q", b', "2024-01-01T00:00:00.123456Z", True),
    (-9223372036854775808, "NaN", 10.0, "line1\nline2", "2024-01-01T00:00:01Z", False),
    (9223372036854775807, "-Infinity", -3.0, None, "2024-01-01T00:00:02Z", None),
    (3, -0.0, 0.0, "", None, True),
    (4, 1e300, 1e15, "naïve ☃ 日本", "2024-01-01T00:00:03.500Z", False),
    (5, 0.1, 7.0, " lead and trail ", "1969-12-31T23:59:59.999999Z", True),
    (6, 5e-324, 123456789.0, 'comma,quote"', "2262-04-11T23:47:16.854775Z", False),
    (7, "Infinity", 1e17, "x", "1970-01-01T00:00:00Z", True),
    (8, 0.30000000000000004, -2.0, "\\", "2024-02-29T12:00:00Z", False),
]
names = ["id", "x", "whole", "s", "t", "b"]
bad = 0
with open(sys.argv[1], encoding="utf-8") as f:
    rows = [json.loads(line) for line in f]
for got, exp in zip(rows, want):
    if list(got) != names:
        print("keys", list(got)); bad += 1
    for n, e in zip(names, exp):
        g = got[n]
        same = type(g) is type(e) and (g == e or (isinstance(g, float) and math.copysign(1, g) == math.copysign(1, e) and g == e))
        if isinstance(e, float) and isinstance(g, float):
            same = g.hex() == e.hex()
        if not same:
            print("row", got["id"], n, repr(g), "want", repr(e)); bad += 1
print("json: %d rows, %s" % (len(rows), "all values and types as stored" if bad == 0 and len(rows) == len(want) else "%d differences" % bad))
PY
# JSON back in: the same types and values
p copy --type table --format ndjson host:out.json /a_json
same /a /a_json
"$POND_BIN" cat --format json /s > s.json
p copy --type series host:s.json /s_json
same /s /s_json
# a column of nothing but NaN and infinities stays double through CSV and JSON
printf 'v,n\nNaN,1\nInfinity,2\n-Infinity,3\n' > nf.csv
p copy --type table host:nf.csv /nf
"$POND_BIN" cat --format json /nf > nf.json; cat nf.json
p copy --type table --format ndjson host:nf.json /nf_json
same /nf /nf_json
"$POND_BIN" cat /nf > nf2.csv
p copy --type table host:nf2.csv /nf_csv
same /nf /nf_csv
