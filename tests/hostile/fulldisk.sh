#!/usr/bin/env bash
# A full disk cured from inside pond (a small tmpfs, filled to the last page): a write command
# fails saying nothing was committed; gc frees space in an order that needs none first
# (garbage, then the smallest retention commit, then what it freed), and a merge that finds no
# space is a warning, not a failure. Needs root (mount); skipped with a message otherwise.
. "$(dirname "$0")/lib.sh"
MNT=$WORK/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=8m tmpfs "$MNT" 2>"$WORK/mount.err"; then
  echo "SKIP fulldisk: cannot mount a tmpfs: $(cat "$WORK/mount.err")"
  echo "0 passed, 0 failed, 1 skipped"
  exit 0
fi
trap 'umount "$MNT" 2>/dev/null; chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
P=$MNT/p
free_kb() { df -k --output=avail "$MNT" | tail -n 1 | tr -d ' '; }
fill() { # every free page of the tmpfs, outside the pond
  dd if=/dev/zero of="$MNT/filler.$1" bs=4k 2>/dev/null
  [ "$(free_kb)" -eq 0 ] && ok "disk full ($1)" || fail "fill $1" "$(free_kb) KiB still free"
}
"$POND_BIN" --pond "$P" init >/dev/null
head -c 2500000 /dev/urandom > "$WORK/v1.bin"
head -c 2500000 /dev/urandom > "$WORK/v2.bin"
"$POND_BIN" --pond "$P" copy host:"$WORK/v1.bin" /big >/dev/null
"$POND_BIN" --pond "$P" copy host:"$WORK/v2.bin" /big >/dev/null # version 1 is history now
for i in $(seq 1 9); do # the 8th commit of a partition merges its files: 8 replaced ones
  printf 'small %s\n' "$i" > "$WORK/s.txt"
  "$POND_BIN" --pond "$P" copy host:"$WORK/s.txt" /s >/dev/null
done
want=$(sha256sum < "$WORK/v2.bin")
fill 1

# A write on a full disk: refused, naming the file and the cause, nothing changed.
hrun rm_full "$POND_BIN" --pond "$P" rm /s
if [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -q 'No space left on device' &&
   printf '%s' "$H_OUT" | grep -q 'nothing was committed' && printf '%s' "$H_OUT" | grep -q "$P"; then
  ok "rm on a full disk: exit 1, says nothing was committed"
else
  fail rm_full "want exit 1 naming the file and saying nothing was committed, got $H_RC: $H_OUT"
fi
hrun list_after "$POND_BIN" --pond "$P" list /
printf '%s' "$H_OUT" | grep -q '^/s$' && ok "rm on a full disk changed nothing" ||
  fail list_after "$H_OUT"

# Retention on the full disk: garbage first (the merged-away data files), then the retention
# commit fits, then version 1's blob goes.
hrun gc_full "$POND_BIN" --pond "$P" gc --keep-versions 1 --grace 0s
if [ "$H_RC" -eq 0 ] && [ "$(free_kb)" -ge 2400 ]; then
  ok "gc --keep-versions 1 on a full disk freed $(free_kb) KiB"
else
  fail gc_full "exit $H_RC, $(free_kb) KiB free: $H_OUT"
fi
[ "$("$POND_BIN" --pond "$P" cat /big | sha256sum)" = "$want" ] && ok "current state kept" ||
  fail cat_big "/big does not read as its newest version"

# Merging last: on a full disk it is a warning and gc succeeds.
fill 2
hrun gc_compact_full "$POND_BIN" --pond "$P" gc --compact --grace 0s
if [ "$H_RC" -eq 0 ] && printf '%s' "$H_OUT" | grep -q 'merging data files skipped: .*No space left on device'; then
  ok "gc --compact on a full disk: the merge is a warning"
else
  fail gc_compact_full "want exit 0 and a warning, got $H_RC: $H_OUT"
fi
rm -f "$MNT"/filler.*
hrun fsck_after "$POND_BIN" --pond "$P" fsck
[ "$H_RC" -eq 0 ] && ok "fsck clean after the full disk" || fail fsck_after "$H_OUT"
hrun rm_after "$POND_BIN" --pond "$P" rm /s
[ "$H_RC" -eq 0 ] && ok "rm once there is space" || fail rm_after "$H_OUT"
hostile_done
