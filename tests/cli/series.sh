# CSV import as a series, a second version, describe, cat in every format with a time range.
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
cp "$FIXTURES/small.csv" .
p init
p copy --type series host:small.csv /s
printf 'timestamp,value,label,extra\n2024-01-02T00:00:00Z,10,x,1\n' > v2.csv
p copy --type series host:v2.csv /s
p describe /s
p cat /s
p cat --format json --from 2024-01-01T00:01:00Z --to 2024-01-01T00:03:00Z /s
p cat --format table --columns label,extra /s
p cat --version 1 --format csv /s
p copy --type table host:small.csv /t
p cat --format table /t
p cat --from 2024-01-01 /t
printf 'timestamp,value\n2024-01-03T00:00:00Z,abc\n' > bad.csv
p copy --type series host:bad.csv /s
p copy --type series --schema value:string host:bad.csv /s2
p cat /s2
p copy --format csv /s host:out.csv
cat out.csv
"$POND_BIN" cat --format parquet /t > t.parquet; echo "[exit $?]"
"$POND_BIN" parquet dump t.parquet
p copy --type auto host:t.parquet host:small.csv /auto/
p list -l /auto/ | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/'
