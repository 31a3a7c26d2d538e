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
# start_sshd: Debian's sshd on 127.0.0.1 on a free port, its config, host key and user key in
# $WORK/keys (and /run/sshd created); exports POND_SSH_COMMAND (that key, that known_hosts)
# and sets SSHD_PORT, SSHD_USER. Returns 1 with the reason in SSHD_WHY when it cannot start.
start_sshd() {
  local sshd k=$WORK/keys i
  sshd=$(command -v sshd || echo /usr/sbin/sshd)
  [ -x "$sshd" ] || { SSHD_WHY="no sshd (apt-get install openssh-server)"; return 1; }
  mkdir -p "$k" /run/sshd 2>/dev/null; chmod 700 "$k"
  ssh-keygen -q -t ed25519 -N '' -f "$k/host" && ssh-keygen -q -t ed25519 -N '' -f "$k/user" ||
    { SSHD_WHY="ssh-keygen failed"; return 1; }
  cp "$k/user.pub" "$k/authorized_keys"; chmod 600 "$k/authorized_keys"
  SSHD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  SSHD_USER=$(id -un)
  cat >"$k/sshd_config" <<EOC
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $k/host
PidFile $k/sshd.pid
AuthorizedKeysFile $k/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowUsers $SSHD_USER
SetEnv PATH=$(dirname "$POND_BIN"):/usr/bin:/bin
EOC
  "$sshd" -D -e -f "$k/sshd_config" -p "$SSHD_PORT" 2>"$k/sshd.log" &
  SSHD_PID=$!
  R_CLEANUP+=("kill $SSHD_PID")
  echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$k/host.pub")" >"$k/known_hosts"
  export POND_SSH_COMMAND="ssh -i $k/user -o UserKnownHostsFile=$k/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes"
  for i in $(seq 1 50); do
    $POND_SSH_COMMAND -p "$SSHD_PORT" "$SSHD_USER@127.0.0.1" true 2>/dev/null && return 0
    kill -0 "$SSHD_PID" 2>/dev/null || break
    sleep 0.1
  done
  SSHD_WHY="sshd did not start or refused the test key: $(tail -n 3 "$k/sshd.log" | tr '\n' ' ')"
  return 1
}
