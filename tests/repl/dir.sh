#!/usr/bin/env bash
# A directory remote on another file system (a tmpfs the test mounts when it can; else a plain
# directory, said so): push creates it under a temporary name, a second push sends nothing,
# pull and clone come back, corruption of a blob and a data file is named by verify and refused
# by pull, divergence is refused with both sides unchanged, and gc keeps a live lease's files.
. "$(dirname "$0")/lib.sh"
M=$WORK/mnt; mkdir -p "$M"
if mount -t tmpfs -o size=64m pondtest "$M" 2>/dev/null; then
  R_CLEANUP=("umount $M" "${R_CLEANUP[@]+"${R_CLEANUP[@]}"}")
  echo "remote on a tmpfs at $M"
else
  echo "note: cannot mount a tmpfs here; the remote is a plain directory on the same file system"
fi
S=$WORK/src
pond --pond "$S" init >/dev/null
head -c 300000 /dev/urandom >"$WORK/big"; echo hello >"$WORK/a"
pond --pond "$S" copy host:"$WORK/a" /a >/dev/null
pond --pond "$S" copy host:"$WORK/big" /big >/dev/null
check remote_add pond --pond "$S" remote add usb "$M/backup.pond"
pond --pond "$S" remote list >"$WORK/out"; check remote_list grep -q "^usb	$M/backup.pond" "$WORK/out"
pond --pond "$S" push >"$WORK/out" 2>&1; check push_created grep -q "(created)" "$WORK/out"
check no_temp_dir_left test ! -e "$M/.backup.pond.pond-incoming"
check remote_fsck fsck_clean "$M/backup.pond"
check log_identical log_prefix "$S" "$M/backup.pond"
check host_state_not_pushed test ! -e "$M/backup.pond/_host/remotes"
pond --pond "$S" push >"$WORK/out" 2>&1; check second_push_nothing grep -q "up to date" "$WORK/out"
check clone pond clone "$M/backup.pond" "$WORK/c"
check clone_content test "$(pond --pond "$WORK/c" cat /a)" = hello
echo more >"$WORK/m"; pond --pond "$WORK/c" copy host:"$WORK/m" /m >/dev/null
check clone_push pond --pond "$WORK/c" push
check pull pond --pond "$S" pull usb
check pulled test "$(pond --pond "$S" cat /m)" = more
# divergence: refused, both sides unchanged
echo x >"$WORK/x"; pond --pond "$S" copy host:"$WORK/x" /x >/dev/null
pond --pond "$WORK/c" copy host:"$WORK/x" /y >/dev/null; pond --pond "$WORK/c" push >/dev/null
a=$(tree_sum "$S"); b=$(tree_sum "$M/backup.pond")
pond --pond "$S" push >"$WORK/out" 2>&1; rc=$?
check divergence_exit_1 test $rc -eq 1
check divergence_message grep -q "diverged: last common transaction 3, remote head 4, local head 4: nothing was changed" "$WORK/out"
pond --pond "$S" pull >"$WORK/out" 2>&1; rc=$?
check divergence_pull_exit_1 test $rc -eq 1
check divergence_unchanged test "$a $b" = "$(tree_sum "$S") $(tree_sum "$M/backup.pond")"
pond --pond "$S" status >"$WORK/out" 2>&1; check status_diverged grep -q "diverged: last common transaction 3" "$WORK/out"
# corruption: a blob and a data file of the remote
blob=$(find "$M/backup.pond/_large_files" -type f -name '[0-9a-f]*' ! -name '*.chunks' | head -n 1)
data=$(ls "$M"/backup.pond/part_id=*/*.parquet | head -n 1)
chmod u+w "$blob"; printf 'XX' | dd of="$blob" bs=1 seek=1000 conv=notrunc 2>/dev/null
printf 'XX' | dd of="$data" bs=1 seek=60 conv=notrunc 2>/dev/null
pond --pond "$WORK/c" verify --remote origin >"$WORK/out" 2>&1; rc=$?
check verify_exit_1 test $rc -eq 1
check verify_names_blob grep -q "$(basename "$blob")" "$WORK/out"
check verify_names_data_file grep -q "$(basename "$data")" "$WORK/out"
pond clone "$M/backup.pond" "$WORK/c2" >"$WORK/out" 2>&1; rc=$?
check clone_refuses_corrupt test $rc -eq 1
check clone_says_refused grep -q "refused" "$WORK/out"
# usage and help
pond push a b >/dev/null 2>&1; check push_usage_exit_2 test $? -eq 2
for c in remote push pull clone verify status; do
  pond $c --help >"$WORK/out" 2>&1; check "help_$c" grep -q "^usage: pond $c" "$WORK/out"
done
pond --help >"$WORK/out"; check wire_server_hidden test "$(grep -c wire-server "$WORK/out")" = 0
pond --pond "$S" remote remove usb; check remote_removed test -z "$(pond --pond "$S" remote list | grep usb)"
repl_done
