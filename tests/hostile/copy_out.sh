#!/usr/bin/env bash
# Copy-out onto what is already on the host (issue 21 item 2; DESIGN.md "Copy-out never loosens
# permissions and never replaces a device, FIFO or socket"): a character device and a FIFO are
# written into as streams and stay what they were, a FIFO without a reader is an error (no
# hang), a 0600 file keeps its mode, hard links all see the new content, a symbolic link and a
# socket are refused, set-ID bits go, a file pond cannot give its owner back is rewritten in
# place (run as another user; also a writable file in a read-only directory), and a failed copy leaves the destination as it was and no
# temporary file. The device and other-user cases need root; without it they are skipped.
. "$(dirname "$0")/lib.sh"
SKIP=0
skip() { SKIP=$((SKIP + 1)); echo "SKIP $1: $2"; }
P=$WORK/p
D=$WORK/host
mkdir -p "$D"
"$POND_BIN" --pond "$P" init --threshold-data 1KiB >/dev/null
printf 'new content\n' > "$WORK/f.txt"
"$POND_BIN" --pond "$P" copy host:"$WORK/f.txt" /f >/dev/null
cout() { hrun "$1" "$POND_BIN" --pond "$P" copy "$2" host:"$3"; }
no_temps() { ! ls -a "$D" | grep -q 'pond-tmp'; }

# a character device: written into, never replaced
if [ "$(id -u)" -eq 0 ] && mknod "$D/null" c 1 3 2>/dev/null; then
  cout chardev /f "$D/null" && if [ "$H_RC" -eq 0 ] && [ -c "$D/null" ] &&
    [ "$(stat -c '%t:%T' "$D/null")" = "1:3" ]; then ok chardev_stays_a_device
  else fail chardev_stays_a_device "exit $H_RC, now: $(ls -l "$D/null") $H_OUT"; fi
  rm -f "$D/null"
else
  skip chardev_stays_a_device "mknod needs root"
fi

# a FIFO with a reader gets the bytes and stays a FIFO
mkfifo "$D/fifo"
timeout 20 cat "$D/fifo" > "$WORK/fifo.out" &
reader=$!
cout fifo_reader /f "$D/fifo"
wait $reader
if [ "$H_RC" -eq 0 ] && [ -p "$D/fifo" ] && cmp -s "$WORK/fifo.out" "$WORK/f.txt"; then
  ok fifo_with_reader
else fail fifo_with_reader "exit $H_RC, $(ls -l "$D/fifo"), got $(cat "$WORK/fifo.out") $H_OUT"; fi

# a FIFO nobody reads: an error at once, not a hang
H_TIMEOUT=10 cout fifo_no_reader /f "$D/fifo" &&
  if [ "$H_RC" -eq 1 ] && [ -p "$D/fifo" ]; then expect_msg fifo_no_reader "fifo.*no reader"
  else fail fifo_no_reader "exit $H_RC: $H_OUT"; fi

# a 0600 file keeps its mode (and gets the content)
printf 'secret' > "$D/private"; chmod 600 "$D/private"
cout mode_0600 /f "$D/private" &&
  if [ "$H_RC" -eq 0 ] && [ "$(stat -c %a "$D/private")" = 600 ] &&
    cmp -s "$D/private" "$WORK/f.txt"; then ok mode_0600_kept
  else fail mode_0600_kept "exit $H_RC, mode $(stat -c %a "$D/private"): $H_OUT"; fi

# hard links: every name sees the new content; the inode stays
printf 'old' > "$D/a"; ln "$D/a" "$D/b"; ino=$(stat -c %i "$D/a")
cout hard_link /f "$D/a" &&
  if [ "$H_RC" -eq 0 ] && cmp -s "$D/b" "$WORK/f.txt" && [ "$(stat -c %i "$D/a")" = "$ino" ] &&
    [ "$(stat -c %h "$D/a")" = 2 ]; then ok hard_link_sees_new_content
  else fail hard_link_sees_new_content "exit $H_RC, b: $(cat "$D/b"): $H_OUT"; fi

# a symbolic link at the destination is refused; link and target unchanged
printf 'target' > "$D/target"; ln -s target "$D/link"
before=$(tree_sum "$D")
cout symlink /f "$D/link" &&
  if [ "$H_RC" -eq 1 ] && [ "$(tree_sum "$D")" = "$before" ]; then
    expect_msg symlink_refused "link.*symbolic link \(to target\)"
  else fail symlink_refused "exit $H_RC: $H_OUT"; fi

# a socket is refused
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$D/sock"
cout socket /f "$D/sock" &&
  if [ "$H_RC" -eq 1 ] && [ -S "$D/sock" ]; then expect_msg socket_refused "sock is a socket"
  else fail socket_refused "exit $H_RC: $H_OUT"; fi

# set-user-ID does not survive new content, replaced or rewritten in place
printf 'x' > "$D/suid"; chmod 4755 "$D/suid"
cout setuid /f "$D/suid" &&
  if [ "$H_RC" -eq 0 ] && [ "$(stat -c %a "$D/suid")" = 755 ]; then ok setuid_dropped
  else fail setuid_dropped "exit $H_RC, mode $(stat -c %a "$D/suid")"; fi

# a failed copy (a corrupt blob in the pond) changes nothing on the host: an existing file, a
# hard-linked one (rewritten in place only after the content is complete) and a missing one
head -c 5000 /dev/urandom > "$WORK/big.bin"
"$POND_BIN" --pond "$P" copy host:"$WORK/big.bin" /big >/dev/null
blob=$(find "$P/_large_files" -mindepth 2 -type f ! -name '*.chunks' ! -path "$P/_large_files/tmp/*" | head -n 1)
chmod u+w "$blob"; printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
printf 'precious' > "$D/keep"; printf 'linked' > "$D/l1"; ln "$D/l1" "$D/l2"
before=$(tree_sum "$D")
for dest in keep l1 missing; do
  cout "corrupt_$dest" /big "$D/$dest" && [ "$H_RC" -eq 1 ] ||
    fail "corrupt_$dest" "want exit 1, got $H_RC: $H_OUT"
done
if [ "$(tree_sum "$D")" = "$before" ] && no_temps; then ok failed_copy_changes_nothing
else fail failed_copy_changes_nothing "host files changed: $(ls -la "$D")"; fi

# as another user: a root-owned file pond cannot give back its owner is rewritten in place
# (owner kept); one it may not write is refused and unchanged
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod -R o+rX "$WORK" "$P"
  U=$WORK/user; mkdir -p "$U"; chown 65534:65534 "$U"
  printf 'root file' > "$U/shared"; chmod 666 "$U/shared"
  printf 'root only' > "$U/locked"; chmod 644 "$U/locked"
  as_user() { hrun "$1" setpriv --reuid=65534 --regid=65534 --clear-groups "$POND_BIN" --pond "$P" copy /f host:"$2"; }
  as_user other_user_shared "$U/shared" &&
    if [ "$H_RC" -eq 0 ] && [ "$(stat -c %U:%a "$U/shared")" = root:666 ] &&
      cmp -s "$U/shared" "$WORK/f.txt"; then ok other_user_owner_kept
    else fail other_user_owner_kept "exit $H_RC, $(ls -l "$U/shared"): $H_OUT"; fi
  as_user other_user_locked "$U/locked" &&
    if [ "$H_RC" -eq 1 ] && [ "$(cat "$U/locked")" = "root only" ] &&
      [ "$(stat -c %U "$U/locked")" = root ] && ! ls -a "$U" | grep -q pond-tmp; then
      expect_msg other_user_locked "locked.*Permission denied"
    else fail other_user_locked "exit $H_RC, $(ls -l "$U"): $H_OUT"; fi
  # a writable file in a directory nobody may write: rewritten in place (staged elsewhere)
  R=$WORK/readonly; mkdir -p "$R"; printf 'mine' > "$R/f"; chown 65534:65534 "$R" "$R/f"
  chmod 555 "$R"
  as_user readonly_dir "$R/f" &&
    if [ "$H_RC" -eq 0 ] && cmp -s "$R/f" "$WORK/f.txt" && [ "$(ls -A "$R")" = f ]; then
      ok readonly_dir_in_place
    else fail readonly_dir_in_place "exit $H_RC, $(ls -la "$R"): $H_OUT"; fi
else
  skip other_user "needs root and setpriv"
fi
no_temps && ok no_temporary_files_left || fail no_temporary_files_left "$(ls -a "$D")"
echo "$H_PASS passed, $H_FAIL failed, $SKIP skipped"
[ "$H_FAIL" -eq 0 ]
