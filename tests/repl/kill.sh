#!/usr/bin/env bash
# A push killed at random points (SIGKILL), and a push whose connection is cut after N bytes
# (the ssh transport through a stand-in ssh): the remote is always a valid pond (fsck clean)
# whose log is a byte-identical prefix of the source's, and the next push completes.
. "$(dirname "$0")/lib.sh"
S=$WORK/src
pond --pond "$S" init >/dev/null
for i in $(seq 1 3); do head -c 300000 /dev/urandom >"$WORK/b$i"; done
for i in $(seq 1 14); do echo "small $i" >"$WORK/s.txt"; pond --pond "$S" copy host:"$WORK/s.txt" /s$((i % 7)) >/dev/null; done
for i in 1 2 3; do pond --pond "$S" copy host:"$WORK/b$i" /b$i >/dev/null; done
want=$(head_of "$S")
# the old state every kill starts from: a remote that was pushed at transaction 5
# (a copy of the source cut back to transaction 5 pushes it)
cp -a "$S" "$WORK/src5"
for f in "$WORK/src5"/_delta_log/*; do
  b=$(basename "$f"); v=${b%%.*}
  [[ "$v" =~ ^[0-9]{20}$ ]] && [ $((10#$v)) -gt 5 ] && rm -f "$f"
done
rm -f "$WORK/src5/_delta_log/_last_checkpoint"
pond --pond "$WORK/src5" remote add r "$WORK/old" >/dev/null
pond --pond "$WORK/src5" push >/dev/null || fail setup "push of transaction 5"
[ "$(head_of "$WORK/old")" -eq 5 ] || fail setup "old remote at $(head_of "$WORK/old")"

# baseline time of the full push
cp -a "$WORK/old" "$WORK/r"
t0=$(date +%s%N)
pond --pond "$S" remote add r "$WORK/r" >/dev/null
pond --pond "$S" push >/dev/null || fail baseline "push failed"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 + 1 ))
echo "baseline push: ${ms} ms, $want transactions"

after_interrupt() { # NAME: the remote is old-or-new and valid; the next push completes
  local name=$1 h
  if [ -d "$WORK/r/_delta_log" ]; then
    h=$(head_of "$WORK/r")
    if [ "$h" -lt 5 ] || [ "$h" -gt "$want" ]; then fail "$name" "remote at $h"; return; fi
    fsck_clean "$WORK/r" || { fail "$name" "fsck: $(cat "$WORK/.fsck")"; return; }
    log_prefix "$S" "$WORK/r" || { fail "$name" "log is not a prefix of the source's"; return; }
  elif [ "$2" != new ]; then
    fail "$name" "the remote is gone"; return
  fi
  if ! pond --pond "$S" push >"$WORK/.out" 2>&1; then fail "$name" "next push: $(cat "$WORK/.out")"; return; fi
  R_N=$((${R_N:-0} + 1))
  # the remote after the resumed push: at the head, the same log; fsck'ed every third time
  [ "$(head_of "$WORK/r")" -eq "$want" ] && log_prefix "$S" "$WORK/r" &&
    { [ $((R_N % 3)) -ne 0 ] || fsck_clean "$WORK/r"; } ||
    { fail "$name" "after the next push: head $(head_of "$WORK/r")"; return; }
  ok "$name"
}

# 1. SIGKILL at random times: 15 from the old remote, 5 into a first push
RANDOM=4242
for k in $(seq 1 20); do
  rm -rf "$WORK/r" "$WORK/.r.pond-incoming"
  mode=old; [ "$k" -gt 15 ] && mode=new
  [ $mode = old ] && cp -a "$WORK/old" "$WORK/r"
  delay=$(( RANDOM % (ms + 1) ))
  "$POND_BIN" --pond "$S" push >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' $((delay % 1000)))"; [ $delay -ge 1000 ] && sleep $((delay / 1000))
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  after_interrupt "kill_${mode}_${k}_at_${delay}ms" $mode
done

# 2. the connection cut after N bytes (ssh transport, stand-in ssh that runs the command here)
cat >"$WORK/cutssh" <<'EOS'
#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -p) shift 2;; --) shift; break;; *) break;; esac; done
shift
exec sh -c "python3 -c '
import os, sys
n = int(sys.argv[1])
while n > 0:
    b = os.read(0, min(65536, n))
    if not b:
        break
    os.write(1, b)
    n -= len(b)
' $CUT_AT | $1"
EOS
chmod +x "$WORK/cutssh"
pond --pond "$S" remote remove r >/dev/null
pond --pond "$S" remote add r "ssh://localhost$WORK/r" --exec "$POND_BIN" >/dev/null
total=$(du -sb "$S/_large_files" | cut -f1)
for cut in 100 20000 $((total - 10000)); do
  rm -rf "$WORK/r"; cp -a "$WORK/old" "$WORK/r"
  if POND_SSH_COMMAND="$WORK/cutssh" CUT_AT=$cut pond --pond "$S" push >"$WORK/.out" 2>&1; then
    fail "cut_at_$cut" "the push succeeded over a cut connection"; continue
  fi
  grep -q "connection" "$WORK/.out" || { fail "cut_at_$cut" "message: $(cat "$WORK/.out")"; continue; }
  POND_SSH_COMMAND="$WORK/cutssh" CUT_AT=1000000000 after_interrupt "cut_at_$cut" old
done
repl_done
