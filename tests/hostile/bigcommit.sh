#!/usr/bin/env bash
# Huge commits (tests/hostile/bigcommit.py writes them): pond reads a commit one action at a
# time (docs/delta.md, "Limits"), so a 200 MB commit of ordinary actions is read under 256 MiB
# of RSS (before: parsed whole into a tree of ~36x its size), and a commit with one line over
# the 16 MiB line limit is refused by name, promptly and in little memory.
. "$(dirname "$0")/lib.sh"
GEN="$(dirname "$0")/bigcommit.py"
H_TIMEOUT=120
BIG_MB=200
BIG_RSS=262144 # KiB: 256 MiB
# ASan's shadow memory and quarantine are no measure of pond's own: there, the sizes shrink and
# only the outcome is checked
REM_MB=10
if hostile_asan; then BIG_MB=20; BIG_RSS=$((4 << 20)); REM_MB=2; fi

base() {
  "$POND_BIN" --pond "$1" init >/dev/null
  printf 'hello\n' >"$WORK/f.txt"
  "$POND_BIN" --pond "$1" copy host:"$WORK/f.txt" /f >/dev/null
}

# 200 MB of add actions: a commit that touched ~313,000 directories (their data files are
# not there; the pond's own tree does not reach them, so listing it reads only the log).
P=$WORK/adds
base "$P"
python3 "$GEN" "$P" "$BIG_MB" adds
H_RSS_KB=$BIG_RSS hrun "adds ${BIG_MB} MB: list /" "$POND_BIN" --pond "$P" list / &&
  { [ "$H_RC" -eq 0 ] && [ "$H_OUT" = "/f" ] && ok "adds ${BIG_MB} MB: list / ($H_RSS KiB)" ||
    fail "adds ${BIG_MB} MB: list /" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
H_RSS_KB=$BIG_RSS hrun "adds ${BIG_MB} MB: log" "$POND_BIN" --pond "$P" log --limit 1 &&
  { [ "$H_RC" -eq 0 ] && printf '%s' "$H_OUT" | grep -q bigcommit && ok "adds ${BIG_MB} MB: log ($H_RSS KiB)" ||
    fail "adds ${BIG_MB} MB: log" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
rm -rf "$P"

# One line of 200 MB (over the 16 MiB limit for one action): refused, naming file and line.
P=$WORK/oneline
base "$P"
python3 "$GEN" "$P" "$BIG_MB" oneline
for cmd in "list /" "cat /f" "fsck"; do
  # shellcheck disable=SC2086
  H_RSS_KB=524288 hrun "one ${BIG_MB} MB line: $cmd" "$POND_BIN" --pond "$P" $cmd &&
    { [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -q '00000000000000000002.json' &&
      printf '%s' "$H_OUT" | grep -q 'line 1 is longer than' &&
      ok "one ${BIG_MB} MB line: $cmd refused ($H_RSS KiB)" ||
      fail "one ${BIG_MB} MB line: $cmd" "want exit 1 naming the commit and line 1, got $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
done
H_RSS_KB=524288 hrun "one ${BIG_MB} MB line: log" "$POND_BIN" --pond "$P" log &&
  { [ "$H_RC" -eq 0 ] && printf '%s' "$H_OUT" | grep -q 'cannot be read.*line 1 is longer' &&
    ok "one ${BIG_MB} MB line: log names it ($H_RSS KiB)" ||
    fail "one ${BIG_MB} MB line: log" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
rm -rf "$P"

# 10 MB of removes (tombstones, as a big gc commit has): every command, 256 MiB.
P=$WORK/removes
base "$P"
python3 "$GEN" "$P" "$REM_MB" removes
for cmd in "list" "cat /f" "describe /f" "log" "fsck" "gc --grace 0s" "mkdir /d"; do
  # shellcheck disable=SC2086
  H_RSS_KB=$BIG_RSS hrun "removes $REM_MB MB: $cmd" "$POND_BIN" --pond "$P" $cmd &&
    { [ "$H_RC" -eq 0 ] && ok "removes $REM_MB MB: $cmd ($H_RSS KiB)" ||
      fail "removes $REM_MB MB: $cmd" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
done
hostile_done
