#!/usr/bin/env bash
# bench/replicate: pond push over SSH to localhost, side by side with rsync -a over the same
# sshd in the same run (docs/replication.md, docs/benchmarks.md). Starts its own sshd on
# 127.0.0.1 (tests/repl/lib.sh), prints the load average with every result, runs each
# comparison ROUNDS times, pond and rsync alternating.
#   1. a second push of an unchanged pond: bytes each way (target: under 1 KiB sent)
#   2. SIZE_MIB of new content (files of FILE_MIB) pushed onto a remote that has the rest,
#      against rsync -a of the same new files (target: pond >= 0.8x rsync's throughput)
#   3. COMMITS small commits pushed to a new remote, against rsync -a of the same log and data
#      files (target: pond under 2x rsync's time)
# usage: bench/replicate.sh [BUILD_DIR]   env: SIZE_MIB (1024), FILE_MIB (128), COMMITS (10000),
#        ROUNDS (2)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export POND_BIN=$BUILD/pond
SIZE_MIB=${SIZE_MIB:-1024}
FILE_MIB=${FILE_MIB:-128}
COMMITS=${COMMITS:-10000}
ROUNDS=${ROUNDS:-2}
command -v rsync >/dev/null || { echo "replicate: rsync is not installed (scripts/install-deps.sh)"; exit 1; }
. "$ROOT/tests/repl/lib.sh"
# its EXIT trap removes $WORK and stops sshd; these make every signal end through it
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
# a private copy: a rebuild during the run must not swap the binary under it
cp "$POND_BIN" "$WORK/pond" && POND_BIN=$WORK/pond
start_sshd || { echo "replicate: cannot start sshd: $SSHD_WHY"; exit 1; }
H="$SSHD_USER@127.0.0.1"
SSH="$POND_SSH_COMMAND -p $SSHD_PORT"
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "pond $("$POND_BIN" --version | cut -d' ' -f2), $(nproc) cores, $(uname -r)"

# a pass-through ssh that counts the bytes each way
cat >"$WORK/countssh" <<'EOS'
#!/bin/sh
exec python3 -c '
import os, subprocess, sys, threading
p = subprocess.Popen(["/bin/sh", "-c", os.environ["REAL_SSH"] + " \"$@\"", "ssh"] + sys.argv[1:],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
up = [0]
def pump():
    while True:
        b = os.read(0, 65536)
        if not b:
            break
        up[0] += len(b)
        p.stdin.write(b); p.stdin.flush()
    p.stdin.close()
t = threading.Thread(target=pump); t.start()
down = 0
while True:
    b = p.stdout.read1(65536)
    if not b:
        break
    down += len(b)
    os.write(1, b)
t.join(); p.wait()
with open(os.environ["COUNT_FILE"], "a") as f:
    f.write("%d %d\n" % (up[0], down))
' "$@"
EOS
chmod +x "$WORK/countssh"

# ---- 1. an unchanged pond ----------------------------------------------------------------------
S=$WORK/s1
pond --pond "$S" init >/dev/null
for i in $(seq 1 50); do echo "$i" >"$WORK/f"; pond --pond "$S" copy host:"$WORK/f" /f$((i % 5)) >/dev/null; done
pond --pond "$S" remote add far "ssh://$H:$SSHD_PORT$WORK/r1" --exec "$POND_BIN" >/dev/null
pond --pond "$S" push >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  : >"$WORK/count"
  REAL_SSH="$POND_SSH_COMMAND" COUNT_FILE="$WORK/count" POND_SSH_COMMAND="$WORK/countssh" \
    pond --pond "$S" push >"$WORK/out" 2>&1
  read -r up down <"$WORK/count"
  echo "unchanged push, round $r: $up bytes sent, $down received ($(cat "$WORK/out")) [load $(load)]"
done

# ---- 2. SIZE_MIB of new content -----------------------------------------------------------------
S=$WORK/s2
pond --pond "$S" init >/dev/null
echo base >"$WORK/f"; pond --pond "$S" copy host:"$WORK/f" /base >/dev/null
pond --pond "$S" remote add far "ssh://$H:$SSHD_PORT$WORK/r2" --exec "$POND_BIN" >/dev/null
pond --pond "$S" push >/dev/null
cp -a "$WORK/r2" "$WORK/r2.base"
mkdir -p "$WORK/new"; pond --pond "$S" mkdir /new >/dev/null
n=$(( SIZE_MIB / FILE_MIB ))
for i in $(seq 1 "$n"); do
  head -c $((FILE_MIB * 1048576)) /dev/urandom >"$WORK/new/f$i.bin"
  pond --pond "$S" copy host:"$WORK/new/f$i.bin" /new/f$i.bin >/dev/null
done
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/r2"; cp -a "$WORK/r2.base" "$WORK/r2"; sync
  l=$(load); t0=$(now)
  pond --pond "$S" push >"$WORK/out" 2>&1 || { echo "push failed: $(cat "$WORK/out")"; exit 1; }
  t1=$(now); tp=$(secs "$t0" "$t1")
  rm -rf "$WORK/rs2"; sync
  l2=$(load); t0=$(now)
  rsync -a -e "$SSH" "$WORK/new/" "$H:$WORK/rs2/" || { echo "rsync failed"; exit 1; }
  t1=$(now); tr=$(secs "$t0" "$t1")
  echo "$SIZE_MIB MiB new, round $r: pond push ${tp} s [load $l], rsync -a ${tr} s [load $l2]:" \
       "pond at $(ratio "$tr" "$tp")x rsync's throughput"
done

# ---- 3. COMMITS small commits -------------------------------------------------------------------
S=$WORK/s3
pond --pond "$S" init >/dev/null
echo "building a pond of $COMMITS commits..."
pond --pond "$S" mkdir $(for d in $(seq 0 19); do printf '/d%d ' "$d"; done) >/dev/null
for i in $(seq 1 "$COMMITS"); do
  printf 'v%d\n' "$i" >"$WORK/f"
  "$POND_BIN" --pond "$S" copy host:"$WORK/f" /d$((i % 20))/f$((i % 7)) >/dev/null
done
pond --pond "$S" remote add far "ssh://$H:$SSHD_PORT$WORK/r3" --exec "$POND_BIN" >/dev/null
files=$(cd "$S" && find _delta_log part_id=* -type f | wc -l)
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/r3"; sync
  l=$(load); t0=$(now)
  pond --pond "$S" push >"$WORK/out" 2>&1 || { echo "push failed: $(cat "$WORK/out")"; exit 1; }
  t1=$(now); tp=$(secs "$t0" "$t1")
  rm -rf "$WORK/rs3"; sync
  l2=$(load); t0=$(now)
  (cd "$S" && rsync -a -R -e "$SSH" _delta_log part_id=* "$H:$WORK/rs3/") || { echo "rsync failed"; exit 1; }
  t1=$(now); tr=$(secs "$t0" "$t1")
  echo "$COMMITS commits ($files files), round $r: pond push ${tp} s [load $l], rsync -a ${tr} s" \
       "[load $l2]: pond at $(ratio "$tp" "$tr")x rsync's time"
  echo "  $(cat "$WORK/out")"
done
