#!/usr/bin/env bash
# Ingest benchmark for the large-file store (docs/cas.md): a SIZE_MiB file written into a store
# (fsync on) next to openssl dgst -sha256, sha256sum and cp+sync of the same file; then read back
# verified next to openssl dgst -sha256 of the source. Peak RSS from /usr/bin/time.
# The same again through the CLI (`pond copy host:SRC /big` into a fresh pond: tinyfs's writer
# streams into the oplog's content sink, docs/cas.md; `pond cat /big` reads it back verified).
# usage: bench/ingest.sh [SIZE_MiB=2048] [BENCH_BIN=build/bench/bench_ingest] [WORKDIR] [POND_BIN]
set -eu
size_mb=${1:-2048}
bin=${2:-build/bench/bench_ingest}
# WORKDIR picks the file system: the run works in a fresh directory inside it, removed at exit
# (also on failure or Ctrl-C); WORKDIR itself is left as it was.
[ -z "${3:-}" ] || mkdir -p "$3"
. "$(dirname "$0")/workdir.sh"
bench_tmpdir pond-ingest "${3:-${TMPDIR:-/var/tmp}}"
work=$WORK
pond=${4:-$(dirname "$(dirname "$bin")")/pond}
[ -x "$bin" ] || { echo "ingest.sh: no bench binary at $bin (build the bench_bench_ingest target)" >&2; exit 2; }
[ -x "$pond" ] || { echo "ingest.sh: no pond binary at $pond (build the pond_cli target)" >&2; exit 2; }
src=$work/src
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$src"
sync
bytes=$(stat -c %s "$src")
tfile=$work/time
row() { # name, command... (stdout to $work/out, or to $ROW_OUT)
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tfile" "$@" >"${ROW_OUT:-$work/out}" 2>"$work/err" ||
    { cat "$work/out" "$work/err"; exit 1; }
  [ -n "${ROW_OUT:-}" ] || cat "$work/err" >>"$work/out"
  read -r secs rss <"$tfile"
  awk -v n="$name" -v s="$secs" -v r="$rss" -v b="$bytes" \
    'BEGIN { printf "%-34s %8.2f s %9.0f MB/s %8d KiB peak RSS\n", n, s, (s > 0 ? b / s / 1e6 : 0), r }'
  echo "$secs" >"$work/last"
  echo "$rss" >"$work/last_rss"
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
rm -rf "$work/store1"; sync
"$pond" init "$work/pond" >/dev/null
row "pond copy (CLI, sink)" "$pond" --pond "$work/pond" copy --type data "host:$src" /big
t_cli=$(cat "$work/last"); rss_cli_w=$(cat "$work/last_rss")
echo "--- read side (both from the page cache; alternated 3 times, best time kept)"
set -- $ref
best_o=999999; best_r=999999
for k in 1 2 3; do
  row "openssl dgst -sha256 (source) #$k" openssl dgst -sha256 "$src"
  best_o=$(awk -v a="$best_o" -v b="$(cat "$work/last")" 'BEGIN { print (b < a ? b : a) }')
  row "pond verified read #$k" "$bin" read "$work/store" "$2" "$3" "$4"
  best_r=$(awk -v a="$best_r" -v b="$(cat "$work/last")" 'BEGIN { print (b < a ? b : a) }')
  grep -E '^verified' "$work/out" | sed 's/^/    /'
  ROW_OUT=/dev/null row "pond cat (CLI, verified) #$k" "$pond" --pond "$work/pond" cat /big
  best_c=$(awk -v a="${best_c:-999999}" -v b="$(cat "$work/last")" 'BEGIN { print (b < a ? b : a) }')
  rss_cli_r=$(cat "$work/last_rss")
done
awk -v i="$t_ing" -v l="$t_cli" -v c="$t_cp" -v r="$best_r" -v k="$best_c" -v o="$best_o" \
    -v rw="$rss_cli_w" -v rr="$rss_cli_r" 'BEGIN {
  printf "store ingest / (cp+sync)      = %.2fx (target >= 0.6x)\n", c / i;
  printf "pond copy (CLI) / (cp+sync)   = %.2fx (target >= 0.6x)\n", c / l;
  printf "store verified read / openssl = %.2fx (best of 3 each; target >= 0.8x)\n", o / r;
  printf "pond cat (CLI) / openssl      = %.2fx (best of 3 each; target >= 0.8x)\n", o / k;
  printf "peak RSS pond copy %.1f MiB, pond cat %.1f MiB: %s 64 MiB\n", rw / 1024, rr / 1024,
         (rw < 65536 && rr < 65536) ? "under" : "NOT under" }'
