# Option parsing, the same for every command: --help lists every option in the usage line and
# the option list; --opt=value works wherever --opt value does; numbers are checked (empty,
# negative, too large, not a number: usage errors, exit 2); global --at likewise.
p() { echo "\$ pond $*" | sed "s|$PWD|CWD|g"; "$POND_BIN" "$@" 2>&1 | sed "s|$PWD|CWD|g"; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
"$POND_BIN" init >/dev/null
printf 'timestamp,v\n2024-01-01T00:00:00Z,1.0\n' > s.csv
"$POND_BIN" copy --type series host:s.csv /s >/dev/null
cmds=$("$POND_BIN" --help | awk '/^commands:/ { on = 1; next } on && NF { print $1 }')
echo "commands: $(echo $cmds)"
# every option in the option list is in the usage line, and the other way round
for c in $cmds; do
  help=$("$POND_BIN" $c --help); rc=$?
  usage=$(printf '%s\n' "$help" | awk '/^(usage|   or):/ { u = 1 } u && /^$/ { exit } u')
  listed=$(printf '%s\n' "$help" | awk '/^options:/ { o = 1; next } o && /^  -/ { print $1 }' | tr -d ',' | sort -u)
  inusage=$(printf '%s\n' "$usage" | grep -o '\[-[-a-z]*' | tr -d '[' | sort -u)
  extra=$(comm -3 <(printf '%s\n' $listed | grep -v -- '^-h$\|^--help$' | grep .) \
                  <(printf '%s\n' $inusage | grep .) | tr -d '\t')
  [ $rc -eq 0 ] && [ -z "$extra" ] && echo "$c: options in the usage line and the list: $(echo $inusage)" ||
    echo "$c: MISMATCH (exit $rc): $extra"
done
# --opt=value
p cat --format=json --columns=v /s
p cat --version=1 --format=csv /s
p log --limit=1 | sed -E 's/[0-9]{4}-[0-9-]+T[0-9:.]+Z/TIME/'
p --pond="$POND" list --json /s | sed -E 's/"time":"[^"]*"/"time":TIME/'
p --at=1 list
p query --format=csv "SELECT count(*) AS n FROM s" s=/s
p copy --format=csv /s host:s-out.csv
p gc --keep-versions=1 --grace=0s | sed -E 's/[0-9.]+ (KiB|B) freed/SIZE freed/'
p delta log "$POND" --version=0 | head -n 3
# numbers: empty, negative, too large, not a number
p --at '' list
p --at -1 list
p --at 99999999999999999999 list
p --at=1x list
for c in $cmds; do
  "$POND_BIN" --at '' $c >/dev/null 2>&1; a=$?
  "$POND_BIN" --at -1 $c >/dev/null 2>&1; b=$?
  "$POND_BIN" --at 99999999999999999999 $c >/dev/null 2>&1; d=$?
  [ "$a$b$d" = 222 ] || echo "$c: --at gave exit $a $b $d"
done
echo "--at '', -1 and 99999999999999999999 before every command: exit 2"
p cat --version 0 /s
p cat --version=-1 /s
p cat --version 99999999999999999999 /s
p cat --version '' /s
p log --limit -1
p gc --keep-versions 0
p gc --grace=soon
p copy --zstd-level=0 host:s.csv /x
p init --threshold-data=0 other
p init --threshold-table 1.5X other
p delta log "$POND" --version=-2
p query "SELECT 1" t=/s@0
p query "SELECT 1" t=/s@99999999999999999999
# flags take no value; unknown options; a value that is missing
p list -l=yes
p list --json=1
p rm --nope /s
p cat --format
