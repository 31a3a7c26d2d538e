#!/usr/bin/env bash
# Ingest benchmark for the large-file store (docs/cas.md): a SIZE_MiB file written into a store
# (fsync on) next to openssl dgst -sha256, sha256sum and cp+sync of the same file; then read back
# verified next to openssl dgst -sha256 of the source. Peak RSS from /usr/bin/time.
# usage: bench/ingest.sh [SIZE_MiB=2048] [BENCH_BIN=build/bench/bench_ingest] [WORKDIR]
set -eu
size_mb=${1:-2048}
bin=${2:-build/bench/bench_ingest}
work=${3:-$(mktemp -d "${TMPDIR:-/var/tmp}/pond-ingest.XXXXXX")}
[ -x "$bin" ] || { echo "ingest.sh: no bench binary at $bin (build the bench_bench_ingest target)" >&2; exit 2; }
trap 'rm -rf "$work"' EXIT
src=$work/src
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$src"
sync
bytes=$(stat -c %s "$src")
tfile=$work/time
row() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tfile" "$@" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  read -r secs rss <"$tfile"
  awk -v n="$name" -v s="$secs" -v r="$rss" -v b="$bytes" \
    'BEGIN { printf "%-34s %8.2f s %9.0f MB/s %8d KiB peak RSS\n", n, s, (s > 0 ? b / s / 1e6 : 0), r }'
  echo "$secs" >"$work/last"
}
echo "file: $bytes bytes ($size_mb MiB); work dir $work"
echo "--- write side"
row "openssl dgst -sha256" openssl dgst -sha256 "$src"
row "sha256sum" sha256sum "$src"
row "cp + sync" sh -c "cp '$src' '$work/copy' && sync"; t_cp=$(cat "$work/last")
rm -f "$work/copy"; sync
row "pond ingest (fsync, 2 threads)" "$bin" ingest "$src" "$work/store"; t_ing=$(cat "$work/last")
grep -E '^(ingest|  streaming)' "$work/out" | sed 's/^/    /'
ref=$(grep '^ref ' "$work/out")
rm -rf "$work/store1"; sync
row "pond ingest (fsync, 1 thread)" "$bin" ingest "$src" "$work/store1" --no-thread
rm -rf "$work/store1"
echo "--- read side (both from the page cache; alternated 3 times, best time kept)"
set -- $ref
best_o=999999; best_r=999999
for k in 1 2 3; do
  row "openssl dgst -sha256 (source) #$k" openssl dgst -sha256 "$src"
  best_o=$(awk -v a="$best_o" -v b="$(cat "$work/last")" 'BEGIN { print (b < a ? b : a) }')
  row "pond verified read #$k" "$bin" read "$work/store" "$2" "$3" "$4"
  best_r=$(awk -v a="$best_r" -v b="$(cat "$work/last")" 'BEGIN { print (b < a ? b : a) }')
done
grep -E '^verified' "$work/out" | sed 's/^/    /'
awk -v i="$t_ing" -v c="$t_cp" -v r="$best_r" -v o="$best_o" 'BEGIN {
  printf "ingest throughput / (cp+sync) = %.2fx (target >= 0.6x)\n", c / i;
  printf "verified read / openssl dgst  = %.2fx (best of 3 each; target >= 0.8x)\n", o / r }'
