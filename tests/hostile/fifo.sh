#!/usr/bin/env bash
# FIFOs where a pond expects its own regular files: every command refuses them by name,
# promptly, instead of blocking on the open.
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
hostile_done
