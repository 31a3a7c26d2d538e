#!/usr/bin/env bash
# pond export holds a snapshot lease for as long as it reads the pond (issue 18: push, export
# and serve hold one, so a gc in another process keeps what they read): in the trace of an
# export (POND_TRACE), the lease is named (_host/leases/*.lease) before the export writes its
# first output byte and removed only after its last; none is left afterwards. And a pond whose
# directory cannot hold a lease is still exported, after a warning.
# usage: tests/export/lease.sh [BUILD_DIR]     Last line: "N passed, N failed".
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
P=$BUILD/pond
PT=$BUILD/pond-test # reads POND_TRACE (the shipped pond ignores it)
work=$(mktemp -d "${TMPDIR:-/tmp}/pond-export-lease.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export TZ=UTC POND_NO_PROGRESS=1 POND=$work/p
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL export_lease::$1"; [ -n "${2:-}" ] && echo "    $2"; }
python3 -c '
with open("v.csv", "w") as f:
    f.write("timestamp,v\n")
    for i in range(3000):
        f.write("%d,%d\n" % (1704067200 + i * 3600, i))
'
"$P" init >/dev/null && "$P" copy --type series host:v.csv /s >/dev/null || bad setup
POND_TRACE=$work/trace.txt "$PT" export /s host:out >/dev/null || bad "export"
# line numbers of: the lease's rename into place, output writes, the lease's unlink
taken=$(awk '$3 == "rename" && $5 ~ /_host\/leases\/[^\/]*\.lease$/ { print NR; exit }' trace.txt)
first=$(awk -v o="$work/out/" '($3 == "write" || $3 == "pwrite") && index($4, o) == 1 { print NR; exit }' trace.txt)
last=$(awk -v o="$work/out/" '($3 == "write" || $3 == "pwrite" || $3 == "rename") && (index($4, o) == 1 || index($5, o) == 1) { n = NR } END { print n }' trace.txt)
gone=$(awk '$3 == "unlink" && $4 ~ /_host\/leases\/[^\/]*\.lease$/ { n = NR } END { print n }' trace.txt)
if [ -n "$taken" ] && [ -n "$first" ] && [ -n "$last" ] && [ -n "$gone" ] &&
   [ "$taken" -lt "$first" ] && [ "$last" -lt "$gone" ]; then ok
else bad "lease spans the export" "lease taken at trace line ${taken:-none}, output written at lines ${first:-none}..${last:-none}, lease removed at ${gone:-none}"; fi
if ls "$POND/_host/leases/"*.lease >/dev/null 2>&1; then bad "no lease left" "$(ls "$POND/_host/leases/")"; else ok; fi
# the rows arrived
rows=$(find out -name '*.parquet' | wc -l)
if [ "$rows" -ge 1 ]; then ok; else bad "files written" "none"; fi
# read-only pond directory (not as root: root writes anyway)
if [ "$(id -u)" -ne 0 ]; then
  chmod -R a-w "$POND"
  if "$P" export /s host:out2 >/dev/null 2>err.txt && grep -q "without a snapshot lease" err.txt; then ok
  else bad "read-only pond" "$(cat err.txt)"; fi
  chmod -R u+w "$POND"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
