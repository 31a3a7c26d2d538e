# Sourced by the bench scripts (POSIX sh and bash): their work directory and its removal.
#   bench_workdir PREFIX   sets WORK to $WORKDIR when the user gave one (KEEP=1: left in place,
#                          an earlier run's data may be reused) or else to a fresh directory
#                          ${TMPDIR:-/tmp}/PREFIX.XXXXXX (KEEP=0) that is removed when the script
#                          ends: on success, on failure (set -e) and on Ctrl-C, TERM or HUP.
#   bench_tmpdir PREFIX [BASE]  always a fresh directory BASE/PREFIX.XXXXXX (BASE defaults to
#                          ${TMPDIR:-/tmp}), removed the same way.
#   BENCH_ON_EXIT          optional commands run first at exit (e.g. stopping a server).
# Without the INT/TERM/HUP traps dash runs no EXIT trap when a signal ends it: interrupted runs
# of session 9 left ~70 GB of work directories in /tmp.
bench_cleanup() {
    [ -z "${BENCH_ON_EXIT:-}" ] || eval "$BENCH_ON_EXIT" || :
    if [ "${KEEP:-1}" = 0 ] && [ -n "${WORK:-}" ]; then
        chmod -R u+w "$WORK" 2>/dev/null || :
        rm -rf "$WORK"
    fi
}
bench_traps() {
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}
bench_tmpdir() {
    bench_traps
    KEEP=0
    WORK=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/$1.XXXXXX")
}
bench_workdir() {
    if [ -n "${WORKDIR:-}" ]; then
        bench_traps
        WORK=$WORKDIR KEEP=1
        mkdir -p "$WORK"
    else
        bench_tmpdir "$1"
    fi
}
