# Derived nodes: a rollup by key, late data, a cascade, describe, query, --at, moves, rm of a
# source refused without --force, errors naming the source and column.
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
p init
cat > raw.csv <<'CSV'
timestamp,station,temp
2024-01-01T00:10:00Z,a,1.5
2024-01-01T00:20:00Z,b,2
2024-01-01T00:50:00Z,a,3.5
2024-01-01T01:05:00Z,a,NaN
2024-01-01T01:30:00Z,b,
2024-01-02T10:00:00Z,a,10
CSV
p copy --type series host:raw.csv /raw
p derive rollup /hourly --source /raw --every 1h --by station --agg avg,min,max,sum,count
p derive rollup /daily --source /hourly --every 1d
p cat /hourly
p cat /daily
# late data into an old bucket, and a new day: one transaction for the source and both rollups
printf 'timestamp,station,temp\n2024-01-01T00:40:00Z,b,4\n2024-01-03T08:00:00Z,b,-1\n' > late.csv
p copy --type series host:late.csv /raw
p cat /hourly --from 2024-01-01T00:00:00Z --to 2024-01-01T01:00:00Z
p cat /daily
p log | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/'
p --at 3 cat /daily
p --at 3 cat /hourly --from 2024-01-01T00:00:00Z --to 2024-01-01T01:00:00Z
p describe /daily
p query "SELECT timestamp, temp_avg, temp_count FROM daily ORDER BY timestamp" daily=/daily
p query "SELECT min(timestamp), count(*), sum(temp_count) FROM h WHERE station = 'b'" h=/hourly
p list -l / | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/'
p mv /raw /sensors
printf 'timestamp,station,temp\n2024-01-03T09:00:00Z,b,5\n' > more.csv
p copy --type series host:more.csv /sensors
p cat /daily --from 2024-01-03
p describe /sensors
p rm /sensors
p rm -r /
p derive rollup /x --source /sensors --every 1h --columns station
p derive rollup /x --source /sensors --every 1h --columns nope
p derive rollup /x --source /nothere --every 1h
p derive rollup /x --source /sensors --every 7m
p derive rollup /x --source /daily --every 1h
p derive rollup /daily --source /sensors --every 1d
p derive bogus /x --source /sensors
p derive rollup /x --every 1h
p rm --force /sensors
p describe /hourly
p cat /daily
p derive refresh /daily
p derive refresh /hourly
# a manual recipe: source writes leave it as it was and mark it stale; refresh recomputes it
printf 'timestamp,v\n2024-01-01T00:00:00Z,1\n' > m.csv
p copy --type series host:m.csv /m
p derive rollup /mr --source /m --every 1d --agg sum,count --refresh manual
printf 'timestamp,v\n2024-01-01T05:00:00Z,2\n' > m2.csv
p copy --type series host:m2.csv /m
p cat /mr
p describe /mr
p derive refresh /mr
p cat /mr
