#!/usr/bin/env bash
# Symbolic links out of the pond at every place where pond keeps a directory or a file of its
# own. Every command runs on each hostile pond: nothing outside the pond changes (a checksum of
# the victim tree, which holds copies of pond files under pond's own names, old enough for any
# gc to take), no hang, no crash, and fsck fails naming the link; a command that fails names it.
. "$(dirname "$0")/lib.sh"
B=$WORK/base
"$POND_BIN" --pond "$B" init --threshold-data 1KiB >/dev/null
head -c 2250 /dev/urandom | base64 -w0 > "$WORK/big.bin"
head -c 2250 /dev/urandom | base64 -w0 > "$WORK/big2.bin"
printf 'small\n' > "$WORK/small.txt"
"$POND_BIN" --pond "$B" copy host:"$WORK/small.txt" host:"$WORK/big.bin" / >/dev/null
"$POND_BIN" --pond "$B" mkdir /d
for i in $(seq 1 20); do # enough commits for a checkpoint, and history for retention
  printf 'v%s\n' "$i" > "$WORK/v.txt"
  "$POND_BIN" --pond "$B" copy host:"$WORK/v.txt" /d/x >/dev/null
done
"$POND_BIN" --pond "$B" copy host:"$WORK/big2.bin" /d/y >/dev/null
ls "$B/_delta_log/"*.checkpoint.parquet >/dev/null 2>&1 || { fail setup "no checkpoint"; hostile_done; exit 1; }
# host-side state (docs/format.md, "_host/"): a remote, the leases and incoming directories
"$POND_BIN" --pond "$B" remote add backup "$WORK/backup.pond" >/dev/null
mkdir -p "$B/_host/leases" "$B/_host/incoming"
ROOT=part_id=00000000-0000-7000-8000-000000000000
DPART=$(cd "$B" && ls -d part_id=* | grep -v "$ROOT" | head -1)

# the victim: copies of everything pond owns, under pond's names, two hours old
V=$WORK/victim
mkdir -p "$V"
cp -a "$B/_delta_log" "$V/log"
cp -a "$B/_large_files" "$V/store"
cp -a "$B/$ROOT" "$V/rootpart"
cp -a "$B/$DPART" "$V/dpart"
cp -a "$B/_host" "$V/host"
printf 'pond-lease 1\nversion 0\nwhat victim\n' > "$V/host/leases/4242-0badf00d.lease"
printf 'x' > "$V/host/incoming/4242-1-0badf00d.tmp"
DATA=$(cd "$B/$ROOT" && ls *.parquet | head -1)
CKPT=$(cd "$B/_delta_log" && ls *.checkpoint.parquet | head -1)
cp "$B/$ROOT/$DATA" "$V/"
blob=$(cd "$B/_large_files" && ls -d ??/* | grep -v chunks | head -1)
cp "$B/_large_files/$blob" "$B/_large_files/$blob.chunks" "$V/"
printf 'x' > "$V/4242-1-abc.data"
printf 'victim\n' > "$V/precious.txt"
find "$V" -exec touch -h -d '2 hours ago' {} +
chmod -R u+w "$V"
SUM=$(tree_sum "$V")

# hostile NAME TARGET-IN-POND LINK-TEXT: a fresh copy of the base pond with TARGET replaced
# by a link (relative, pointing out of the pond into the victim), then every command.
hostile() {
  local name=$1 target=$2 link=$3 P=$WORK/p-$1
  rm -rf "$P"
  cp -a "$B" "$P"
  rm -rf "${P:?}/$target"
  ln -s "$link" "$P/$target"
  local shown=${target##*/}
  for cmd in "list /" "cat /small.txt" "cat /big.bin" "cat /d/y" "list -l /d" \
             "copy host:$WORK/small.txt /new.txt" "copy host:$WORK/big2.bin /d/new.bin" \
             "rm /small.txt" "gc --grace 0s" "gc --keep-versions 1 --grace 0s" \
             "gc --compact --grace 0s" "log -v" "remote list" "status --offline" "fsck --repair" \
             "fsck"; do
    hrun "$name: $cmd" "$POND_BIN" --pond "$P" $cmd || continue
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
  [ -L "$P/$target" ] && ok "$name: the link is left in place" ||
    fail "$name" "the link $target was removed or replaced"
  [ "$(tree_sum "$V")" = "$SUM" ] && ok "$name: victim unchanged" ||
    fail "$name" "files outside the pond changed"
}

hostile part_id_evil "part_id=evil" ../victim
hostile part_id_root "$ROOT" ../victim/rootpart
hostile part_id_dir "$DPART" ../victim/dpart
hostile data_file "$ROOT/$DATA" "../../victim/$DATA"
hostile delta_log _delta_log ../victim/log
hostile commit _delta_log/00000000000000000003.json ../../victim/log/00000000000000000003.json
hostile checkpoint "_delta_log/$CKPT" "../../victim/log/$CKPT"
hostile last_checkpoint _delta_log/_last_checkpoint ../../victim/log/_last_checkpoint
hostile store _large_files ../victim/store
hostile fan_out "_large_files/${blob%%/*}" "../../victim/store/${blob%%/*}"
hostile store_tmp _large_files/tmp ../../victim
hostile blob "_large_files/$blob" "../../../victim/${blob##*/}"
hostile chunks "_large_files/$blob.chunks" "../../../victim/${blob##*/}.chunks"
hostile pond_lock _pond.lock ../victim/new-lock-file
hostile store_lock _large_files/.lock ../../victim/new-lock-file
hostile host _host ../victim/host
hostile host_leases _host/leases ../../victim/host/leases
hostile host_incoming _host/incoming ../../victim/host/incoming
hostile host_remotes _host/remotes ../../victim/host/remotes
hostile_done
