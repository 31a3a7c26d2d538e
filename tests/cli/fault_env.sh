# The shipped CLI ignores POND_FAULT and POND_TRACE: a variable left in the environment must not
# fail or trace anyone's commands. Only build/pond-test, the crash harness's CLI, reads them.
p() { "$POND_BIN" "$@"; echo "[exit $?]"; }
export POND_FAULT=errno:any:1:EIO:1 POND_TRACE=$PWD/trace
p --pond pt init
p --pond pt mkdir /a
p --pond pt list /
[ -e trace ] && echo "traced" || echo "no trace"
# pond-test, built beside it, does read them
T=$(dirname "$POND_BIN")/pond-test
"$T" --pond pt2 init >/dev/null 2>&1; echo "pond-test init with a fault: exit $?"
[ -e pt2/_delta_log/00000000000000000000.json ] && echo "pt2 committed" || echo "pt2 not committed"
unset POND_FAULT
"$T" --pond pt3 init >/dev/null; echo "pond-test init: exit $?"
[ -s trace ] && echo "pond-test traced" || echo "pond-test did not trace"
