# Series that grow: re-imports of identical content skipped, late data and dedup=last (pond
# set, cat --dedup), compaction (gc --compact-series: same rows, --at before it, incremental,
# automatic with compact=N), and retention, which drops only versions a compaction replaced.
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z  (pond|OPTIMIZE)/TIME  \1/; s/[0-9.]+ (KiB|MiB|B) freed/SIZE freed/'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
printf 'timestamp,station,temp\n2024-01-01T00:00:00Z,a,1.5\n2024-01-01T00:10:00Z,a,2.5\n2024-01-01T00:10:00Z,b,7\n' > d1.csv
printf 'timestamp,station,temp\n2024-01-01T00:20:00Z,a,3.5\n' > d2.csv
# late data: corrects 00:10 of station a, and one new row
printf 'timestamp,station,temp\n2024-01-01T00:10:00Z,a,2.25\n2024-01-01T00:05:00Z,a,1.75\n' > late.csv
p init
p copy --type series host:d1.csv /s
p copy --type series host:d2.csv /s
p copy --type series host:d1.csv /s
p log
p copy --type series --allow-duplicate host:d2.csv /s2
p copy --type series host:d2.csv /s2
p copy --type series host:late.csv /s
p cat /s
p cat --dedup last:station /s
p cat --dedup last /s
p cat --dedup first /s
p set /s dedup=last:station
p set /s dedup=last:station
p set /s dedup=last:nope
p set /s color=red
p set /d1.csv dedup=last
p describe /s
p cat /s
p cat --dedup none --from 2024-01-01T00:10:00Z --to 2024-01-01T00:11:00Z /s
p query "SELECT station, count(*), sum(temp) FROM s GROUP BY station ORDER BY station" s=/s
p query "SELECT count(*) FROM s WHERE timestamp >= us('2024-01-01T00:10:00Z')" s=/s
# compaction: the same rows before and after, and --at before it
p cat --dedup none /s > before.txt
p gc --compact-series --grace 0s
p cat --dedup none /s > after.txt
cmp before.txt after.txt && echo "same rows after compaction"
p cat /s
p describe /s
p --at 6 cat --dedup none /s
p gc --compact-series
# retention: versions a compaction replaced may go, the others of a live series stay
p copy --type series host:d2.csv /t
printf 'timestamp,station,temp\n2024-01-02T00:00:00Z,c,9\n' > d3.csv
p copy --type series host:d3.csv /t
p gc --keep-versions 1 --grace 0s
p cat /t
p cat --dedup none /s
p describe /s
# the replaced versions are gone, but their content is known: no duplicate rows
p copy --type series host:d1.csv /s
p copy --type series host:late.csv /s
# automatic compaction: compact=3 after the third version since the last one
p set /t compact=3
printf 'timestamp,station,temp\n2024-01-03T00:00:00Z,c,10\n' > d4.csv
p copy --type series host:d4.csv /t
p log
p describe /t
p cat /t
p fsck -q
# a format-1 pond: compaction (and dedup) cannot be read by a format-1 reader, so the commit
# that records it upgrades the pond to format 2 (docs/format.md)
cp -r "$FIXTURES/pond-format1" f1
export POND=$PWD/f1
grep -ho '"pond.format":"[0-9]*"' f1/_delta_log/*.json | sort | uniq -c
p cat /w
p gc --compact-series /w
grep -ho '"pond.format":"[0-9]*"' f1/_delta_log/*.json | sort | uniq -c
p cat /w
p --at 10 cat /w
# appends to a format-1 pond's series (its data files have no event-time range: the identical
# check reads them all), an identical re-import skipped, btime still version 1's
cp -r "$FIXTURES/pond-format1" f2
export POND=$PWD/f2
printf 'timestamp,v\n2024-01-03T00:00:00Z,4\n' > w3.csv
printf 'timestamp,v\n2024-01-01T00:01:00Z,20\n' > w4.csv
p copy --type series host:w3.csv /w
p copy --type series host:w3.csv /w
p copy --type series host:w4.csv /w
p cat /w
p describe /w
p fsck -q
