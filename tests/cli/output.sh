# Output shapes: empty results keep their columns (CSV header, table header, nothing in JSON),
# numbers right-aligned in tables, list -l times of one width and series sizes summed over
# versions, describe's columns aligned after long names.
# the times a version was written vary run to run: masked (same width) where they are shown
mask() { sed -E "s|$PWD|CWD|g; s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^(file:series +[0-9]+ +[0-9]+  |    v[0-9]+  )[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/\1YYYY-MM-DDTHH:MM:SSZ/"; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
"$POND_BIN" init >/dev/null
printf 'timestamp,value,label\n2024-01-01T00:00:00Z,1.5,a\n2024-01-01T00:01:00Z,-22.25,bb\n' > v1.csv
printf 'timestamp,value,label,a_rather_long_column_name_for_alignment\n2024-01-02T00:00:00Z,1000.0,c,7\n' > v2.csv
"$POND_BIN" copy --type series host:v1.csv /s >/dev/null
"$POND_BIN" copy --type series host:v2.csv /s >/dev/null
# a range that touches no version, and one that touches only the first: the same columns
for f in csv table json; do p cat --format $f --from 2030-01-01 /s; done
p cat --format csv --from 2024-01-01 --to 2024-01-01T00:00:30Z /s
p cat --format table /s
p cat --sql "SELECT label, value FROM source WHERE value > 1e9" --format table /s
p cat --sql "SELECT label, value FROM source WHERE value > 1e9" --format csv /s
p cat --sql "SELECT label, value FROM source WHERE value > 1e9" --format json /s
p describe /s
# list -l: one width for every time; a series' size is the sum of its versions
p list -l /s
"$POND_BIN" list -l | awk '{ print length($4) }' | sort -u
sum=$("$POND_BIN" describe /s | awk '$1 ~ /^v[0-9]/ { for (i = 1; i <= NF; i++) if ($i == "B") s += $(i-1) } END { print s }')
size=$("$POND_BIN" list -l /s | awk '{ print $2 }')
[ "$sum" = "$size" ] && echo "list -l size $size = the sum of the versions"
json=$("$POND_BIN" list --json /s | grep -o '"size":[0-9]*')
[ "$json" = "\"size\":$size" ] && echo "list --json size: the same"
