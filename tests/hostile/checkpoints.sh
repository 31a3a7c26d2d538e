#!/usr/bin/env bash
# Every single-file damage to a pond's _delta_log (each file truncated to half, zeroed, replaced
# by garbage of the same size, deleted), with two checkpoints in the log: every command either
# gives the right answer (a warning may name the damaged file) or exits 1 naming the file and
# the recovery; never a wrong answer. fsck names each damage it can see; fsck --repair rewrites
# damaged checkpoints and _last_checkpoint from the JSON commits and never touches a commit. A
# pond whose oldest commits were cleaned up (as Delta log cleanup does) opens from its
# checkpoint, and still reads the transactions before it (time travel reads the newest
# snapshot's rows, not the log).
. "$(dirname "$0")/lib.sh"
H_TIMEOUT=15
P0=$WORK/base
"$POND_BIN" --pond "$P0" init >/dev/null
# two checkpoints without 40 commits: the pond-wide setting pond.checkpoint_interval (4), put
# into commit 0's metaData configuration before anything else is written
sed -i 's/"configuration":{/"configuration":{"pond.checkpoint_interval":"4",/' \
  "$P0/_delta_log/00000000000000000000.json"
"$POND_BIN" --pond "$P0" mkdir /d1 /d2 >/dev/null
for i in 1 2 3 4 5 6 7 8 9; do
  printf 'content %d\n' "$i" >"$WORK/f$i"
  "$POND_BIN" --pond "$P0" copy host:"$WORK/f$i" /d$((i % 2 + 1))/f$i >/dev/null
done
LOG0=$P0/_delta_log
if ! [ -f "$LOG0/00000000000000000004.checkpoint.parquet" ] ||
   ! [ -f "$LOG0/00000000000000000008.checkpoint.parquet" ]; then
  fail setup "want checkpoints at 4 and 8: $(ls "$LOG0" | tr '\n' ' ')"; hostile_done; exit 1
fi
LIST0=$("$POND_BIN" --pond "$P0" list 2>&1)
CAT0=$("$POND_BIN" --pond "$P0" cat /d2/f9 2>&1)
# without its newest commit a pond is the pond before that commit (a crash looks the same)
NEWEST=$(ls "$LOG0" | grep -E '^[0-9]{20}\.json$' | tail -n 1)
LIST9=$("$POND_BIN" --pond "$P0" --at $((10#${NEWEST%.json} - 1)) list 2>&1)
LIST3=$("$POND_BIN" --pond "$P0" --at 3 list 2>&1)

commits_sum() { cat "$1"/_delta_log/*.json 2>/dev/null | sha256sum | cut -d' ' -f1; }

# damage FILE KIND: applied to $P's copy of the file
damage() {
  local f=$P/_delta_log/$1 size
  size=$(stat -c %s "$f")
  case $2 in
    truncate) truncate -s $((size / 2)) "$f" ;;
    zero) head -c "$size" /dev/zero >"$f.x" && mv "$f.x" "$f" ;;
    garbage) python3 -c "import random,sys; random.seed(sys.argv[1]); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(int(sys.argv[2]))))" "$1" "$size" >"$f.x" && mv "$f.x" "$f" ;;
    delete) rm -f "$f" ;;
  esac
}

# readable NAME FILE WANT CMD...: right answer (warnings aside, which must name FILE), or exit 1
# naming FILE and a recovery.
readable() {
  local name=$1 file=$2 want=$3; shift 3
  hrun "$name" "$@" || return
  local out warn
  out=$(printf '%s\n' "$H_OUT" | grep -v '^pond: warning: ')
  warn=$(printf '%s\n' "$H_OUT" | grep '^pond: warning: ')
  if [ "$H_RC" -eq 0 ] && [ "$out" = "$want" ] &&
     { [ -z "$warn" ] || printf '%s' "$warn" | grep -q -- "$file"; }; then
    ok "$name"
  elif [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -q -- "$file" &&
       printf '%s' "$H_OUT" | grep -Eq 'restore|fsck --repair'; then
    ok "$name (refused, naming $file)"
  else
    fail "$name" "want the right answer or exit 1 naming $file and a recovery, got $H_RC: $(printf '%s' "$H_OUT" | head -n 4)"
  fi
}

KINDS="truncate zero garbage delete"
hostile_asan && KINDS="zero delete" # several times slower: two kinds of damage
for file in $(ls "$LOG0"); do
  case $file in *.json|*.parquet|_last_checkpoint) ;; *) continue ;; esac
  for kind in $KINDS; do
    n="$file $kind"
    P=$WORK/p
    rm -rf "$P" && cp -a "$P0" "$P"
    damage "$file" "$kind"
    if [ "$file $kind" = "$NEWEST delete" ]; then
      readable "$n: list" "$file" "$LIST9" "$POND_BIN" --pond "$P" list
    else
      readable "$n: list" "$file" "$LIST0" "$POND_BIN" --pond "$P" list
      readable "$n: cat" "$file" "$CAT0" "$POND_BIN" --pond "$P" cat /d2/f9
    fi
    hrun "$n: fsck" "$POND_BIN" --pond "$P" fsck || continue
    if [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -q -- "$file"; then
      ok "$n: fsck names it"
    elif [ "$kind" = delete ] && { [ "$H_RC" -eq 0 ] ||
         printf '%s' "$H_OUT" | grep -q '_delta_log/'; }; then
      ok "$n: fsck (a deleted file leaves at most a trace)"
    else
      fail "$n: fsck" "want exit 1 naming $file, got $H_RC: $(printf '%s' "$H_OUT" | head -n 4)"
    fi
    before=$(commits_sum "$P")
    hrun "$n: fsck --repair" "$POND_BIN" --pond "$P" fsck --repair || continue
    [ "$(commits_sum "$P")" = "$before" ] && ok "$n: repair leaves the commits alone" ||
      fail "$n: repair" "a commit changed"
    case $file in
      *.checkpoint.parquet|_last_checkpoint)
        # the log can rebuild these: afterwards everything is clean and reads without a warning
        hrun "$n: fsck after repair" "$POND_BIN" --pond "$P" fsck &&
          { [ "$H_RC" -eq 0 ] && ok "$n: clean after repair" ||
            fail "$n: after repair" "fsck exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
        hrun "$n: list after repair" "$POND_BIN" --pond "$P" list &&
          { [ "$H_RC" -eq 0 ] && [ "$H_OUT" = "$LIST0" ] && ok "$n: reads clean after repair" ||
            fail "$n: list after repair" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; } ;;
    esac
  done
done

# Writing on a pond with a damaged checkpoint: the commit works and the next read is right.
P=$WORK/w
rm -rf "$P" && cp -a "$P0" "$P"
head -c 100 /dev/zero >"$P/_delta_log/00000000000000000008.checkpoint.parquet"
hrun "write past a damaged checkpoint" "$POND_BIN" --pond "$P" copy host:"$WORK/f1" /d1/new &&
  { [ "$H_RC" -eq 0 ] && ok "write past a damaged checkpoint" ||
    fail "write past a damaged checkpoint" "exit $H_RC: $H_OUT"; }
hrun "read after the write" "$POND_BIN" --pond "$P" cat /d1/new &&
  { [ "$H_RC" -eq 0 ] && printf '%s' "$H_OUT" | grep -q 'content 1' && ok "read after the write" ||
    fail "read after the write" "exit $H_RC: $H_OUT"; }

# A log cleanup: commits up to the newest checkpoint removed. The pond opens from its
# checkpoint, writes go on, and a version before the checkpoint still reads as it was.
P=$WORK/clean
rm -rf "$P" && cp -a "$P0" "$P"
for v in 0 1 2 3 4 5 6 7 8; do rm -f "$P/_delta_log/0000000000000000000$v.json"; done
rm -f "$P/_delta_log/00000000000000000004.checkpoint.parquet"
readable "cleaned-up log: list" "_delta_log" "$LIST0" "$POND_BIN" --pond "$P" list
readable "cleaned-up log: cat" "_delta_log" "$CAT0" "$POND_BIN" --pond "$P" cat /d2/f9
hrun "cleaned-up log: fsck" "$POND_BIN" --pond "$P" fsck &&
  { [ "$H_RC" -eq 0 ] && ok "cleaned-up log: fsck clean" || fail "cleaned-up log: fsck" "exit $H_RC: $H_OUT"; }
hrun "cleaned-up log: write" "$POND_BIN" --pond "$P" copy host:"$WORK/f2" /d2/new &&
  { [ "$H_RC" -eq 0 ] && ok "cleaned-up log: write" || fail "cleaned-up log: write" "exit $H_RC: $H_OUT"; }
# gc merges every directory's files and removes what no read needs (the files the merge
# replaced, among them those live at checkpoint 8, whose adding commits are gone): --at 8 and
# --at 3 read the merged files' rows
hrun "cleaned-up log: gc" "$POND_BIN" --pond "$P" gc --compact --grace 0s &&
  { [ "$H_RC" -eq 0 ] && ok "cleaned-up log: gc" || fail "cleaned-up log: gc" "exit $H_RC: $H_OUT"; }
hrun "cleaned-up log: --at 8 after gc" "$POND_BIN" --pond "$P" --at 8 cat /d2/f7 &&
  { [ "$H_RC" -eq 0 ] && [ "$H_OUT" = "content 7" ] && ok "cleaned-up log: --at 8 after gc" ||
    fail "cleaned-up log: --at 8" "exit $H_RC: $H_OUT"; }
hrun "cleaned-up log: --at 3" "$POND_BIN" --pond "$P" --at 3 list &&
  { [ "$H_RC" -eq 0 ] && [ "$H_OUT" = "$LIST3" ] &&
    ok "cleaned-up log: --at 3 reads as before" || fail "cleaned-up log: --at 3" "exit $H_RC: $H_OUT"; }
hrun "cleaned-up log: fsck after gc" "$POND_BIN" --pond "$P" fsck &&
  { [ "$H_RC" -eq 0 ] && ok "cleaned-up log: fsck after gc" ||
    fail "cleaned-up log: fsck after gc" "exit $H_RC: $H_OUT"; }
hrun "cleaned-up log: log" "$POND_BIN" --pond "$P" log &&
  { [ "$H_RC" -eq 0 ] && ok "cleaned-up log: log" || fail "cleaned-up log: log" "exit $H_RC: $H_OUT"; }
hostile_done
