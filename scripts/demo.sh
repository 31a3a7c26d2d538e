#!/usr/bin/env bash
# The README demo: a real session with a pond of sensor data.
# Generates a year of 1-minute readings (525,600 rows) as CSV, imports it as a series, adds a
# second version (the first week of the next year), then lists, describes, reads a one-day
# range and shows the log. Everything happens in a fresh directory (default: a temp dir).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
POND_BIN=${POND_BIN:-$root/build/pond}
work=${DEMO_DIR:-$(mktemp -d /tmp/pond-demo.XXXXXX)}
mkdir -p "$work"
cd "$work"
export POND="$work/demo.pond"
rm -rf "$POND"

gen() { # gen START_ISO MINUTES FILE
  python3 - "$1" "$2" "$3" <<'PY'
import sys, datetime, math
start = datetime.datetime.fromisoformat(sys.argv[1]).replace(tzinfo=datetime.timezone.utc)
n = int(sys.argv[2])
with open(sys.argv[3], "w") as f:
    f.write("timestamp,temperature_c,flow_lps,pressure_kpa,pump\n")
    for i in range(n):
        t = start + datetime.timedelta(minutes=i)
        day = (t.timetuple().tm_yday - 1) / 365.0
        hour = t.hour + t.minute / 60.0
        temp = 12 + 8 * math.sin(2 * math.pi * (day - 0.3)) + 3 * math.sin(2 * math.pi * (hour - 9) / 24)
        flow = max(0.0, 4 + 3 * math.sin(2 * math.pi * (hour - 7) / 24) + (i % 7) * 0.1)
        pres = 310 + 5 * math.cos(2 * math.pi * hour / 24)
        pump = "on" if 6 <= t.hour < 22 else "off"
        f.write(f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{temp:.2f},{flow:.2f},{pres:.1f},{pump}\n")
PY
}

say() { printf '\n$ %s\n' "$*"; "$@"; }

echo "demo directory: $work"
gen 2025-01-01T00:00:00 525600 year2025.csv
gen 2026-01-01T00:00:00 10080 week2026.csv
echo "generated year2025.csv ($(wc -l < year2025.csv) lines) and week2026.csv ($(wc -l < week2026.csv) lines)"

say "$POND_BIN" init
say "$POND_BIN" mkdir -p /plant/sensors
say "$POND_BIN" copy --type series host:year2025.csv /plant/sensors/station1
say "$POND_BIN" copy --type series host:week2026.csv /plant/sensors/station1
say "$POND_BIN" copy host:week2026.csv /plant/raw/
say "$POND_BIN" list -l
say "$POND_BIN" describe /plant/sensors/station1
say "$POND_BIN" cat --format table --from 2025-06-21T12:00:00Z --to 2025-06-21T12:10:00Z /plant/sensors/station1
echo
echo "# one whole day as CSV: row count (plus the header line)"
"$POND_BIN" cat --from 2025-06-21 --to 2025-06-22 /plant/sensors/station1 | wc -l
say "$POND_BIN" log
echo
echo "demo finished: the pond is $POND (a Delta Lake table: $(ls "$POND"/_delta_log | wc -l) log files)"
