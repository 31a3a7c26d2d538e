# SQL over tables and series: cat --sql, query with joins, formats, time ranges, --at, errors.
mask() { sed "s|$PWD|CWD|g"; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
cp "$FIXTURES/small.csv" .
p init
p copy --type series host:small.csv /s
printf 'timestamp,value,label,extra\n2024-01-02T00:00:00Z,10,x,1\n' > v2.csv
p copy --type series host:v2.csv /s
printf 'label,name\na,Alpha\nb,Beta\nx,Ex\n' > names.csv
p copy --type table host:names.csv /names
p cat --sql "SELECT * FROM source" --format table /s
p cat --sql "SELECT * FROM source" --format csv /s
p cat --sql "SELECT label, value, extra, timestamp FROM source WHERE extra IS NULL" --format json /s
p cat --sql "SELECT count(*) AS n, sum(value) AS total, iso(min(timestamp)) AS first FROM source" /s
p cat --sql "SELECT iso(timestamp) AS t, value FROM source WHERE timestamp >= us('2024-01-01T00:01Z') AND timestamp < us('2024-01-01T00:03Z')" /s
p cat --sql "SELECT timestamp FROM source WHERE timestamp BETWEEN us('2024-01-01T00:02Z') AND us('2024-01-02')" --format table /s
p cat --sql "SELECT * FROM source WHERE value > 100" --format table /s
p cat --sql "SELECT * FROM source WHERE value > 100" --format csv /s
p cat --sql "SELECT count(*) FROM source" --version 1 /s
p cat --sql "SELECT time_bucket(timestamp, 120000000) AS b, count(*) AS n FROM source GROUP BY b ORDER BY b" --format table /s
p query "SELECT s.label, n.name, s.value FROM s JOIN n USING (label) ORDER BY s.timestamp" s=/s n=/names --format table
p query --format json "SELECT n.name, count(s.label) AS c FROM n LEFT JOIN s USING (label) GROUP BY n.name ORDER BY n.name" s=/s n=/names
p query "SELECT count(*) FROM s1" s1=/s@1
p query "SELECT 1 + 1 AS two, iso(0) AS epoch"
p --at 1 query "SELECT count(*) FROM s" s=/s
p cat --sql "SELEC * FROM source" /s
p cat --sql "SELECT nope FROM source" /s
p cat --sql "SELECT * FROM source" /missing
p cat --sql "SELECT 1" --from 2024-01-01 /s
p query "SELECT * FROM x" x=/names@7
p query "SELECT 1" x
p query
p query "SELECT us('yesterday')"
p cat --sql "SELECT 1; SELECT 2" /s
