#!/usr/bin/env bash
# pond serve under load (loopback only, bounded): ROWS rows in a series (default 10,000,000
# over ten years), CLIENTS concurrent clients (default 32) for SECONDS (default 30) asking for
# 1,000 buckets of one day and of ten years while a writer appends a version every second;
# prints errors and p50/p99 latencies, then the ten-year request alone (no load).
# usage: bench/serve.sh BUILD_DIR [ROWS] [CLIENTS] [SECONDS]
set -eu
build=$(cd "$1" && pwd); rows=${2:-10000000}; clients=${3:-32}; secs=${4:-30}
tmp=$(mktemp -d); trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
export POND=$tmp/pond
"$build/pond" init >/dev/null
python3 - "$rows" > "$tmp/s.csv" <<'PY'
import sys, math
n = int(sys.argv[1]); t0 = 1420070400; step = 10 * 365.25 * 86400 / n
print("timestamp,v")
for i in range(n):
    print(f"{int(t0 + i * step)},{math.sin(i / 5000.0) * 100 + (i % 97):.3f}")
PY
"$build/pond" copy --type series host:"$tmp/s.csv" /s >/dev/null
"$build/pond" serve --listen 127.0.0.1:0 > "$tmp/url" & srv=$!
sleep 1; url=$(sed 's/listening on //' "$tmp/url")
( i=0; while [ ! -f "$tmp/stop" ]; do   # the writer: a small version every second
    printf 'timestamp,v\n%d,%d\n' $((1735689600 + i)) $i > "$tmp/w.csv"
    "$build/pond" copy --type series host:"$tmp/w.csv" /s >/dev/null; i=$((i + 1)); sleep 1
  done ) &
node - "$url" "$clients" "$secs" <<'JS'
const [url, clients, secs] = [process.argv[2], +process.argv[3], +process.argv[4]];
const day = `${url}api/buckets?path=/s&n=1000&from=2020-06-01&to=2020-06-02`;
const ten = `${url}api/buckets?path=/s&n=1000`;
const pct = (a, p) => a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))].toFixed(1);
(async () => {
  const lat = { day: [], ten: [] }; let errors = 0; const end = Date.now() + secs * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (Date.now() < end) {
      const k = c % 2 ? 'ten' : 'day', t = performance.now();
      const r = await fetch(k === 'ten' ? ten : day).catch(() => null);
      if (!r || r.status !== 200) errors++; else await r.arrayBuffer();
      lat[k].push(performance.now() - t);
    }
  }));
  console.log(`under load: ${errors} errors; one day p50 ${pct(lat.day, .5)} ms p99 ${pct(lat.day, .99)} ms (${lat.day.length}); ten years p50 ${pct(lat.ten, .5)} ms p99 ${pct(lat.ten, .99)} ms (${lat.ten.length})`);
  const alone = [];
  for (let i = 0; i < 20; i++) { const t = performance.now(); await (await fetch(ten)).arrayBuffer(); alone.push(performance.now() - t); }
  console.log(`alone: ten years, 1000 buckets: p50 ${pct(alone, .5)} ms`);
})();
JS
touch "$tmp/stop"; wait $! 2>/dev/null || true
