# pond copy: pond-side globs, the one-line summary, host names that follow the format written,
# a series of several versions as one Parquet file (the bytes of cat --format parquet), the
# format from the destination's name, and the errors of each.
mask() { sed -E "s|$PWD|CWD|g"; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
cp "$FIXTURES/small.csv" .
printf 'hello\n' > hello.txt
printf 'timestamp,value,label,extra\n2024-01-02T00:00:00Z,10,x,1\n' > v2.csv
p init
p copy --type table host:small.csv /vega/temps.csv
p mkdir /vega
p copy --type table host:small.csv /vega/temps.csv
p copy host:hello.txt host:small.csv /vega/
p copy --type series host:small.csv /vega/s
p copy --type series host:v2.csv /vega/s
p mkdir /vega/sub
p copy '/vega/*' host:out/
p copy '/vega/[hst]*' host:out/
ls out
p copy '/vega/[st]*' host:out/
ls out
"$POND_BIN" cat --format parquet /vega/s > cat.parquet
cmp cat.parquet out/s.parquet && echo "out/s.parquet: the bytes of cat --format parquet"
"$POND_BIN" parquet dump out/s.parquet
p copy --format csv /vega/s /vega/temps.csv host:csv/
ls csv
cat csv/s.csv
p copy --format json /vega/s host:json/
cat json/s.json
p copy /vega/s host:named.csv
head -n 2 named.csv
p copy /vega/s host:named.json
head -n 1 named.json
p copy /vega/temps.csv host:plain
"$POND_BIN" parquet dump plain | head -n 1
p copy /vega/hello.txt /vega/small.csv host:data/
ls data
# errors: nothing is written
p copy '/nope/*' host:x/
p copy /vega/sub host:x/
p copy '/vega/s*' host:one-file.csv
p copy --format csv /vega/hello.txt host:x/
p copy --format json /vega/s host:x.csv
p copy /vega/s /vega/s host:x/
p copy --format csv host:small.csv /vega/
p copy --type table /vega/s host:x/
p copy --zstd-level=20 host:small.csv /vega/
ls -d x 2>/dev/null || echo "no x"
