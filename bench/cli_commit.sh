#!/bin/sh
# bench/cli_commit: a pond CLI write command (process start to exit) on a pond that already has
# 1,000 transactions, side by side with `git add` + `git commit` of one small file with
# core.fsync=all, in the same run. Prints the mean of N runs of each and the ratio.
# usage: bench/cli_commit.sh [BUILD_DIR]   env: N (default 50), TXNS (default 1000)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-release}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${N:-50}
TXNS=${TXNS:-1000}
{ cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release && cmake --build "$BUILD" -j2 --target pond_cli; } >/dev/null
P=$BUILD/pond
. "$ROOT/bench/workdir.sh"
bench_tmpdir pond-cli-commit
W=$WORK
cd "$W"
export POND=$W/pond
"$P" init >/dev/null
echo "building a pond of $TXNS transactions..."
i=0
while [ $i -lt $TXNS ]; do
  printf 'v%d' $i > f.txt
  "$P" copy host:f.txt /d$((i % 20))/ >/dev/null
  i=$((i + 1))
done
git init -q repo && cd repo && git config core.fsync all && git config user.email b@x && git config user.name b
now() { date +%s%N; }
t0=$(now); i=0
while [ $i -lt $N ]; do printf 'w%d' $i > ../f.txt; "$P" copy host:../f.txt /bench.txt >/dev/null; i=$((i + 1)); done
t1=$(now); i=0
while [ $i -lt $N ]; do printf 'w%d' $i > f.txt; git add f.txt && git commit -q -m "w$i"; i=$((i + 1)); done
t2=$(now)
awk -v p=$((t1 - t0)) -v g=$((t2 - t1)) -v n=$N 'BEGIN {
  printf "pond copy (1 small file, fsync on):     %6.2f ms per command\n", p / n / 1e6
  printf "git add + git commit (core.fsync=all):  %6.2f ms per command\n", g / n / 1e6
  printf "ratio pond/git: %.2fx (target < 1.0)\n", p / g }'
