#!/usr/bin/env bash
# FIFOs where a pond keeps its own regular files: every command refuses them by name, promptly,
# instead of blocking on the open; gc never removes one; fsck fails naming it.
. "$(dirname "$0")/lib.sh"
P=$WORK/p
"$POND_BIN" --pond "$P" init >/dev/null
printf 'hello\n' > "$WORK/f.txt"
for i in 1 2 3; do "$POND_BIN" --pond "$P" copy host:"$WORK/f.txt" /f$i >/dev/null; done

# _last_checkpoint as a FIFO: it is only a hint (the Delta protocol), so a command may read
# the log without it, but it must not block on it.
mkfifo "$P/_delta_log/_last_checkpoint"
for cmd in "list /" "cat /f1" "fsck" "log"; do
  hrun "fifo_last_checkpoint_$cmd" "$POND_BIN" --pond "$P" $cmd &&
    if { [ "$H_RC" -eq 0 ] && printf '%s' "$H_OUT" | grep -Eq 'f1|hello|checked|init'; } ||
       { [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -q '_last_checkpoint'; }; then
      ok "fifo_last_checkpoint: $cmd"
    else
      fail "fifo_last_checkpoint: $cmd" "want the right answer or exit 1 naming _last_checkpoint, got $H_RC: $H_OUT"
    fi
done
rm -f "$P/_delta_log/_last_checkpoint"

# a commit JSON replaced by a FIFO
c=$P/_delta_log/00000000000000000002.json
mv "$c" "$WORK/saved.json" && mkfifo "$c"
for cmd in "list /" "fsck"; do
  hrun "fifo_commit_$cmd" "$POND_BIN" --pond "$P" $cmd &&
    if [ "$H_RC" -ne 0 ] && printf '%s' "$H_OUT" | grep -q '00000000000000000002.json'; then
      ok "fifo_commit: $cmd"
    else
      fail "fifo_commit: $cmd" "want exit 1 naming the commit, got $H_RC: $H_OUT"
    fi
done
rm -f "$c" && mv "$WORK/saved.json" "$c"
hrun fifo_restored "$POND_BIN" --pond "$P" cat /f1 && [ "$H_RC" -eq 0 ] && ok fifo_restored ||
  fail fifo_restored "pond unreadable after the FIFO went: $H_OUT"

# Every other kind of file pond keeps: a pond with a checkpoint, blobs and history.
B=$WORK/base
"$POND_BIN" --pond "$B" init --threshold-data 1KiB >/dev/null
head -c 2250 /dev/urandom | base64 -w0 > "$WORK/big.bin"
"$POND_BIN" --pond "$B" copy host:"$WORK/f.txt" host:"$WORK/big.bin" / >/dev/null
for i in $(seq 1 20); do
  printf 'v%s\n' "$i" > "$WORK/v.txt"
  "$POND_BIN" --pond "$B" copy host:"$WORK/v.txt" /x >/dev/null
done
ROOT=part_id=00000000-0000-7000-8000-000000000000
DATA=$(cd "$B/$ROOT" && ls *.parquet | head -1)
CKPT=$(cd "$B/_delta_log" && ls *.checkpoint.parquet | head -1)
LAST=$(cd "$B/_delta_log" && ls 0*.json | tail -1)
blob=$(cd "$B/_large_files" && ls -d ??/* | grep -v chunks | head -1)
[ -n "$CKPT" ] && [ -n "$blob" ] || { fail setup "no checkpoint or blob"; hostile_done; exit 1; }
"$POND_BIN" --pond "$B" remote add backup "$WORK/backup.pond" >/dev/null
mkdir -p "$B/_host/leases" "$B/_host/incoming"

# fifo NAME TARGET: a fresh copy of the base pond with TARGET (replaced or new) a FIFO.
fifo() {
  local name=$1 target=$2 Q=$WORK/q-$1
  rm -rf "$Q"
  cp -a "$B" "$Q"
  rm -f "$Q/$target"
  mkfifo "$Q/$target"
  local shown=${target##*/}
  for cmd in "list /" "cat /f.txt" "cat /big.bin" "copy host:$WORK/big.bin /new.bin" "rm /f.txt" \
             "gc --grace 0s" "gc --keep-versions 1 --grace 0s" "gc --compact --grace 0s" \
             "remote list" "fsck --repair" "fsck"; do
    hrun "$name: $cmd" "$POND_BIN" --pond "$Q" $cmd || continue
    if [ "$H_RC" -ne 0 ] && ! printf '%s' "$H_OUT" | grep -qF -- "$shown"; then
      fail "$name: $cmd" "failed without naming $shown: $(printf '%s' "$H_OUT" | tail -n 2)"
    fi
    if [ "$cmd" = fsck ]; then
      if [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -qF -- "$shown"; then
        ok "$name: fsck fails naming $shown"
      else
        fail "$name: fsck" "want exit 1 naming $shown, got $H_RC: $(printf '%s' "$H_OUT" | tail -n 3)"
      fi
    fi
  done
  [ -p "$Q/$target" ] && ok "$name: the FIFO is left in place" ||
    fail "$name" "the FIFO $target was removed or replaced"
}

fifo data_file "$ROOT/$DATA"
fifo orphan_data_file "$ROOT/00000000000000000099-deadbeef.parquet"
fifo old_commit _delta_log/00000000000000000003.json
fifo newest_commit "_delta_log/$LAST"
fifo checkpoint "_delta_log/$CKPT"
fifo commit_temp _delta_log/.tmp-00000000000000000099-1-1.json
fifo blob "_large_files/$blob"
fifo chunks "_large_files/$blob.chunks"
fifo store_temp _large_files/tmp/4242-1-abc.data
fifo pond_lock _pond.lock
fifo store_lock _large_files/.lock
fifo host_remotes _host/remotes
fifo host_lease _host/leases/4242-0badf00d.lease
fifo host_incoming _host/incoming/4242-1-0badf00d.tmp
hostile_done
