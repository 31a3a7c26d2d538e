# A replaced sensor stitched with a join (golden): the old sensor until 2024-06-01, the new one
# from then on, kept current as the new sensor reports (late data included); the same rows as
# a query run directly over the sources; an as-of join with a tolerance.
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
p init
cat > old.csv <<'CSV'
timestamp,temp
2024-05-31T22:00:00Z,10.5
2024-05-31T23:00:00Z,11
2024-06-01T00:00:00Z,99
2024-06-01T01:00:00Z,98
CSV
cat > new.csv <<'CSV'
timestamp,temp,hum
2024-05-31T23:00:00Z,-5.5,1
2024-06-01T00:00:00Z,12.25,40
2024-06-01T01:00:00Z,13,
CSV
p mkdir /site
p copy --type series host:old.csv /site/old
p copy --type series host:new.csv /site/new
p derive join /site/temp --source old=/site/old --source new=/site/new --window old=..2024-06-01 --window new=2024-06-01..
p cat /site/temp
p describe /site/temp
printf 'timestamp,temp,hum\n2024-06-01T02:00:00Z,14,42\n2024-06-01T00:30:00Z,12.5,40\n' > more.csv
p copy --type series host:more.csv /site/new
p cat /site/temp
p query "SELECT timestamp, old_temp, new_temp, new_hum FROM t ORDER BY timestamp" t=/site/temp
p query "SELECT timestamp, temp AS old_temp, NULL AS new_temp, NULL AS new_hum FROM o WHERE timestamp < us('2024-06-01') UNION ALL SELECT timestamp, NULL, temp, hum FROM n WHERE timestamp >= us('2024-06-01') ORDER BY timestamp" o=/site/old n=/site/new
p derive join /site/asof --source old=/site/old --source new=/site/new --tolerance 45m
p cat /site/asof
p derive join /site/bad --source old=/site/old --source old=/site/new
p derive join /site/bad --source /site/old --window nope=2024..
p derive join /site/bad --source /site/old --window old=2025..2024
p derive join /site/bad --source /site/old --window old=yesterday..
p derive join /site/bad --source /site/old --every 1h
