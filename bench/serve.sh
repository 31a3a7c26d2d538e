#!/usr/bin/env bash
# pond serve under load (loopback only, bounded): ROWS rows in a series (default 10,000,000
# over ten years), CLIENTS concurrent clients (default 32) for SECONDS (default 30) asking for
# 1,000 buckets of one day and of ten years while a writer appends a version every second;
# prints the load average, the first ten-year request (the server's buckets cache cold: the
# series read whole), errors and p50/p99 latencies under load, then the ten-year request
# alone (no load; the cache warm) and with --cache 0 (every request reads the pond).
# usage: bench/serve.sh BUILD_DIR [ROWS] [CLIENTS] [SECONDS]
set -eu
build=$(cd "$1" && pwd); rows=${2:-10000000}; clients=${3:-32}; secs=${4:-30}
srv=; srv0=; writer=; BENCH_ON_EXIT='kill $srv $srv0 $writer 2>/dev/null'
. "$(dirname "$0")/workdir.sh"
bench_tmpdir pond-serve-bench   # removed at exit, also on failure or Ctrl-C
tmp=$WORK
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
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
"$build/pond" serve --listen 127.0.0.1:0 --cache 0 > "$tmp/url0" & srv0=$!
sleep 1; url=$(sed 's/listening on //' "$tmp/url"); url0=$(sed 's/listening on //' "$tmp/url0")
curl -s -o /dev/null -w "first ten-year request (cache cold): %{time_total} s\n" "${url}api/buckets?path=/s&n=1000"
( i=0; while [ ! -f "$tmp/stop" ]; do   # the writer: a small version every second
    printf 'timestamp,v\n%d,%d\n' $((1735689600 + i)) $i > "$tmp/w.csv"
    "$build/pond" copy --type series host:"$tmp/w.csv" /s >/dev/null; i=$((i + 1)); sleep 1
  done ) & writer=$!
# one phase: MODE load (CLIENTS clients for SECONDS, day and ten-year requests, errors counted)
# or alone (20 ten-year requests one after another, on URL)
phase() {
node - "$@" <<'JS'
const [mode, url, clients, secs] = [process.argv[2], process.argv[3], +process.argv[4], +process.argv[5]];
const day = `${url}api/buckets?path=/s&n=1000&from=2020-06-01&to=2020-06-02`;
const ten = `${url}api/buckets?path=/s&n=1000`;
const pct = (a, p) => a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))].toFixed(1);
(async () => {
  if (mode === 'alone') {
    const alone = [], sources = {};
    for (let i = 0; i < 20; i++) {
      const t = performance.now(), b = await (await fetch(ten)).json();
      alone.push(performance.now() - t);
      sources[b.source] = (sources[b.source] || 0) + 1;
    }
    console.log(`  ten years, 1000 buckets: p50 ${pct(alone, .5)} ms p99 ${pct(alone, .99)} ms (answered from: ${JSON.stringify(sources)})`);
    return;
  }
  const lat = { day: [], ten: [] }; let errors = 0; const end = Date.now() + secs * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (Date.now() < end) {
      const k = c % 2 ? 'ten' : 'day', t = performance.now();
      const r = await fetch(k === 'ten' ? ten : day).catch((e) => ({ status: 0, text: async () => String(e.cause || e) }));
      if (r.status !== 200) {
        if (++errors <= 5) console.log(`  error: ${k}: ${r.status} ${(await r.text()).slice(0, 300)}`);
      } else await r.arrayBuffer();
      lat[k].push(performance.now() - t);
    }
  }));
  console.log(`under load (${clients} clients, ${secs} s, a writer appending): ${errors} errors; one day p50 ${pct(lat.day, .5)} ms p99 ${pct(lat.day, .99)} ms (${lat.day.length} requests); ten years p50 ${pct(lat.ten, .5)} ms p99 ${pct(lat.ten, .99)} ms (${lat.ten.length} requests)`);
})();
JS
}
phase load "$url" "$clients" "$secs"
echo "load average after the load: $(cut -d' ' -f1-3 /proc/loadavg)"
touch "$tmp/stop"; wait $writer 2>/dev/null || true
echo "alone (no writer, no other client), cache warm:"; phase alone "$url"
echo "alone, --cache 0 (every request reads the pond):"; phase alone "$url0"
