# Shared helpers for the replication shell tests (tests/repl/*.sh): each sources this file,
# works in $WORK (a fresh temp directory) and ends with repl_done ("N passed, N failed").
set -u
: "${POND_BIN:?POND_BIN must name the pond binary}"
export LC_ALL=C TZ=UTC
unset POND POND_SSH_COMMAND
WORK=$(mktemp -d)
trap 'repl_cleanup' EXIT
R_PASS=0
R_FAIL=0
R_CLEANUP=()
repl_cleanup() {
  local c
  for c in "${R_CLEANUP[@]+"${R_CLEANUP[@]}"}"; do eval "$c" >/dev/null 2>&1; done
  chmod -R u+w "$WORK" 2>/dev/null
  rm -rf "$WORK"
}
ok() { R_PASS=$((R_PASS + 1)); echo "ok $1"; }
fail() { R_FAIL=$((R_FAIL + 1)); echo "FAIL repl::$1: $2"; }
# check NAME CONDITION-COMMAND...: ok when the command succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else fail "$n" "$*"; fi; }
pond() { "$POND_BIN" "$@"; }
# tree_sum DIR: one checksum over every path, type, size and content below DIR.
tree_sum() {
  (cd "$1" && find . -printf '%p %y %s %l\n' | sort &&
    find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}
# head_of POND: the newest commit version (-1 when there is no pond)
head_of() {
  local l
  l=$(ls "$1/_delta_log" 2>/dev/null | grep -E '^[0-9]{20}\.json$' | tail -n 1)
  [ -n "$l" ] && echo $((10#${l%.json})) || echo -1
}
# log_prefix SRC DST: every commit of DST is byte-identical to SRC's
log_prefix() {
  local f
  for f in "$2"/_delta_log/*.json; do
    [ -e "$f" ] || continue
    cmp -s "$f" "$1/_delta_log/$(basename "$f")" || return 1
  done
  return 0
}
# fsck_clean POND: fsck exits 0 (leftover temp files and unreferenced blobs are reported only)
fsck_clean() { pond --pond "$1" fsck -q >"$WORK/.fsck" 2>&1; }
repl_done() {
  echo "$R_PASS passed, $R_FAIL failed"
  [ "$R_FAIL" -eq 0 ]
}
