# Shared helpers for the hostile-pond suite (tests/hostile/*.sh). Each case script sources
# this file, builds hostile ponds in $WORK (a fresh temp directory) and checks every command:
# no file outside the pond changes, no hang (timeout), no crash (exit 0, 1 or 2 only), memory
# under a bound, and a message naming the problem. The script's last line is
# "N passed, N failed" (hostile_done).
set -u
: "${POND_BIN:?POND_BIN must name the pond binary}"
export LC_ALL=C TZ=UTC
unset POND
WORK=$(mktemp -d)
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
H_PASS=0
H_FAIL=0
# Defaults for hrun: seconds before a command counts as a hang, and the RSS bound in KiB.
H_TIMEOUT=${H_TIMEOUT:-20}
H_RSS_KB=${H_RSS_KB:-524288}

ok() { H_PASS=$((H_PASS + 1)); echo "ok $1"; }
fail() { H_FAIL=$((H_FAIL + 1)); echo "FAIL hostile::$1: $2"; }

# hrun NAME CMD...: runs one command with a timeout and an RSS limit, keeping its exit code in
# H_RC, stdout+stderr in H_OUT and peak RSS (KiB) in H_RSS. Records a failure (and returns 1)
# on a hang, a crash (signal or exit code other than 0/1/2) or RSS over H_RSS_KB.
hrun() {
  local name=$1; shift
  local out="$WORK/.hrun.out" tf="$WORK/.hrun.time"
  timeout -k 5 "$H_TIMEOUT" /usr/bin/env time -f '%M' -o "$tf" "$@" >"$out" 2>&1
  H_RC=$?
  H_OUT=$(cat "$out")
  H_RSS=$(tail -n 1 "$tf" 2>/dev/null)
  [[ "$H_RSS" =~ ^[0-9]+$ ]] || H_RSS=0
  if [ "$H_RC" -eq 124 ] || [ "$H_RC" -eq 137 ]; then
    fail "$name" "hang: no exit within ${H_TIMEOUT}s: $*"; return 1
  fi
  if [ "$H_RC" -gt 2 ]; then
    fail "$name" "crash or unexpected exit $H_RC: $* -- $(printf '%s' "$H_OUT" | tail -n 3)"
    return 1
  fi
  if [ "$H_RSS" -gt "$H_RSS_KB" ]; then
    fail "$name" "peak RSS ${H_RSS} KiB over ${H_RSS_KB} KiB: $*"; return 1
  fi
  return 0
}

# expect_msg NAME REGEX: the last hrun's output matches REGEX (grep -E).
expect_msg() {
  if printf '%s' "$H_OUT" | grep -Eq -- "$2"; then ok "$1"; else
    fail "$1" "output does not match /$2/ (exit $H_RC): $(printf '%s' "$H_OUT" | head -n 5)"
  fi
}

# tree_sum DIR: one checksum over every path, type, mode, size and content below DIR (without
# following symlinks), to show that nothing outside a pond changed.
tree_sum() {
  (cd "$1" && find . -printf '%p %y %m %s %l\n' | sort &&
    find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}

# hostile_asan: true when POND_BIN is built with AddressSanitizer. Its shadow memory and
# quarantine are no measure of pond's own memory, and it runs several times slower: scripts
# then check outcomes without RSS bounds, on fewer cases.
hostile_asan() { grep -qa __asan_init "$POND_BIN"; }

hostile_done() {
  echo "$H_PASS passed, $H_FAIL failed"
  [ "$H_FAIL" -eq 0 ]
}
