# A sql recipe (golden): a cleaned, converted view of two stations' raw feeds, kept current as
# they report (rows the query drops later are gone from it too); the same rows as the query
# run directly over the sources with pond query, after every append; a rollup over it; a
# manual one, read while stale (computed, not stored); errors that name the query.
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
# (b's temp is integer, a's real: a column of the result has one type, so b's values are
# made real in the query, or they would read back as 10.0 where the query says 10)
Q="SELECT timestamp, 'a' AS station, temp_f - 32 AS temp FROM a WHERE temp_f < 200 UNION ALL SELECT timestamp, 'b', temp * 1.0 FROM b WHERE temp > (SELECT avg(temp) - 10 FROM b)"
same() { # the derived node equals the query over the sources
  "$POND_BIN" query "SELECT * FROM ($Q) ORDER BY 1, 2, 3" a=/raw/a b=/raw/b > want.txt 2>&1
  "$POND_BIN" query "SELECT * FROM v ORDER BY 1, 2, 3" v=/clean > got.txt 2>&1
  if cmp -s want.txt got.txt; then echo "same as the query: $(($(wc -l < got.txt) - 1)) rows"; else echo "DIFFERENT"; diff want.txt got.txt; fi
}
p init
p mkdir /raw
printf 'timestamp,temp_f\n2024-01-01T00:00:00Z,50\n2024-01-01T01:00:00Z,999\n2024-01-01T02:00:00Z,52.5\n' > a.csv
printf 'timestamp,temp\n2024-01-01T00:30:00Z,10\n2024-01-01T01:30:00Z,11\n' > b.csv
p copy --type series host:a.csv /raw/a
p copy --type series host:b.csv /raw/b
p derive sql /clean --source a=/raw/a --source b=/raw/b --sql "$Q"
p cat /clean
same
p derive rollup /hourly --source /clean --every 1h --agg avg,count
# b reports a much warmer hour: its earlier rows fall under the average and leave the view
printf 'timestamp,temp\n2024-01-01T03:30:00Z,40\n2024-01-01T00:45:00Z,41\n' > b2.csv
p copy --type series host:b2.csv /raw/b
p cat /clean
same
p cat /hourly
p query "SELECT timestamp + 0 AS t, count(*) FROM clean GROUP BY 1 ORDER BY 1" clean=/clean
printf 'timestamp,temp_f\n2024-01-01T03:00:00Z,60\n' > a2.csv
p copy --type series host:a2.csv /raw/a
same
p describe /clean | grep -E '^  (derived|dedup|versions|rows)|^    v'
p log | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/' | head -4
p --at 5 cat /clean
p derive sql /m --source a=/raw/a --sql "SELECT timestamp, temp_f FROM a" --refresh manual
printf 'timestamp,temp_f\n2024-01-01T04:00:00Z,61\n' > a3.csv
p copy --type series host:a3.csv /raw/a
p describe /m | grep '^  derived'
# a read of the stale node computes it from its sources and stores nothing
p cat /m
p query "SELECT count(*) FROM m" m=/m
"$POND_BIN" cat /m --format parquet > m.parquet 2>/dev/null
p log | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/' | head -3
p copy --type series host:m.parquet /m_out
p copy /m host:m.csv
p export /m host:m_export
p derive refresh /m
p cat /m
p derive sql /x --source a=/raw/a --sql "SELECT temp_f FROM a"
p derive sql /x --source a=/raw/a --sql "SELECT timestamp FROM nothere"
p derive sql /x --source a=/raw/a --sql "DELETE FROM a"
# a query that never ends (as a recipe in a pond someone sent may hold) stops at the limit
# --sql-timeout sets, and the write that ran it commits nothing
R="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT a.timestamp, (SELECT max(x) FROM c) AS m FROM a"
p --sql-timeout 200 derive sql /x --source a=/raw/a --sql "$R"
p --sql-timeout 0 derive sql /x --source a=/raw/a --sql "$R"
p --sql-timeout=x version
p derive sql /x --source a=/raw/a
p derive rollup /x --source /raw/a --every 1h --sql "SELECT 1"
p set /hourly dedup=none
p cat /x
