#!/usr/bin/env bash
# Replication over a real sshd: the test starts Debian's sshd on 127.0.0.1 on a free port with
# its own config, host key and user key in a temp directory, and points POND_SSH_COMMAND at
# that key and known_hosts. Push (creating the remote), push again (nothing sent), pull and
# clone, verify, status, divergence refused, a missing pond on the far end named.
# SKIP (with the reason) only when sshd cannot start here.
. "$(dirname "$0")/lib.sh"
if ! start_sshd; then
  echo "SKIP repl::sshd: $SSHD_WHY"; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
ok sshd_up
S=$WORK/src
pond --pond "$S" init >/dev/null
head -c 2000000 /dev/urandom >"$WORK/big"; echo hello >"$WORK/a"
pond --pond "$S" copy host:"$WORK/a" /a >/dev/null
pond --pond "$S" copy host:"$WORK/big" /big >/dev/null
me=$SSHD_USER; port=$SSHD_PORT
URL="ssh://$me@127.0.0.1:$port$WORK/remote.pond"
check remote_add pond --pond "$S" remote add far "$URL" --exec "$POND_BIN"
pond --pond "$S" push >"$WORK/out" 2>&1; check first_push_created grep -q "(created)" "$WORK/out"
check remote_fsck fsck_clean "$WORK/remote.pond"
check log_identical log_prefix "$S" "$WORK/remote.pond"
pond --pond "$S" push >"$WORK/out" 2>&1; check second_push_up_to_date grep -q "up to date" "$WORK/out"
pond --pond "$S" status >"$WORK/out" 2>&1; check status_up_to_date grep -q "far.*up to date" "$WORK/out"
echo more >"$WORK/m"; pond --pond "$S" copy host:"$WORK/m" /m >/dev/null
pond --pond "$S" status >"$WORK/out" 2>&1; check status_behind grep -q "1 transactions behind" "$WORK/out"
pond --pond "$S" push >"$WORK/out" 2>&1; check incremental_push grep -q "1 commits" "$WORK/out"
check clone pond clone "$URL" "$WORK/c" --exec "$POND_BIN"
check clone_content test "$(pond --pond "$WORK/c" cat /m)" = more
echo c >"$WORK/cc"; pond --pond "$WORK/c" copy host:"$WORK/cc" /cc >/dev/null
check push_from_clone pond --pond "$WORK/c" push
check pull pond --pond "$S" pull
check pulled_content test "$(pond --pond "$S" cat /cc)" = c
check verify pond --pond "$S" verify --remote far
# divergence over ssh: refused, both sides unchanged
echo x >"$WORK/x"; pond --pond "$S" copy host:"$WORK/x" /x >/dev/null
pond --pond "$WORK/c" copy host:"$WORK/x" /y >/dev/null; pond --pond "$WORK/c" push >/dev/null
a=$(tree_sum "$S"); b=$(tree_sum "$WORK/remote.pond")
pond --pond "$S" push >"$WORK/out" 2>&1; rc=$?
check divergence_refused test $rc -eq 1
check divergence_named grep -q "diverged: last common transaction" "$WORK/out"
check divergence_unchanged test "$a $b" = "$(tree_sum "$S") $(tree_sum "$WORK/remote.pond")"
# corruption on the far end: verify names it, pull refuses it
blob=$(find "$WORK/remote.pond/_large_files" -type f -name '[0-9a-f]*' ! -name '*.chunks' | head -n 1)
chmod u+w "$blob"; printf 'XX' | dd of="$blob" bs=1 seek=1000 conv=notrunc 2>/dev/null
pond --pond "$S" verify --remote far >"$WORK/out" 2>&1; rc=$?
check verify_names_corrupt_blob grep -q "$(basename "$blob")" "$WORK/out"
check verify_exit_1 test $rc -eq 1
pond clone "$URL" "$WORK/c2" --exec "$POND_BIN" >"$WORK/out" 2>&1; rc=$?
check clone_refuses_corrupt test $rc -eq 1 -a ! -d "$WORK/c2/_delta_log"
# a far end with no pond program
pond --pond "$S" remote add nopond "ssh://$me@127.0.0.1:$port$WORK/x.pond" --exec /nonexistent/pond >/dev/null
pond --pond "$S" push nopond >"$WORK/out" 2>&1; rc=$?
check no_pond_there test $rc -eq 1
check no_pond_named grep -q "no pond answered" "$WORK/out"
repl_done
