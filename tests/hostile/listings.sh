#!/usr/bin/env bash
# Crafted directory listings (tests/tools/pond_craft writes what pond refuses to write): names
# '.', '..', with '/' or a NUL, empty, duplicated, out of order, a missing id, a part_id on a
# directory entry or not a node id, a directory listing itself, a cycle, and a chain of
# directories each listed twice (2^30 paths for a walk that does not notice). Every command:
# no hang, no crash, bounded memory; it either works (the damage is elsewhere) or exits 1
# naming the damage; list and fsck must name it. Sound listings a reader might trip on (a
# part_id naming the listing's own directory, format 1's three fields) work everywhere.
. "$(dirname "$0")/lib.sh"
CRAFT=${POND_CRAFT:-$(dirname "$POND_BIN")/tests/tools/pond_craft}
[ -x "$CRAFT" ] || { fail setup "no pond_craft at $CRAFT"; hostile_done; exit 1; }
H_TIMEOUT=10
ROOT=root
NIL=00000000-0000-0000-0000-000000000000

BASE=$WORK/base
"$POND_BIN" --pond "$BASE" init >/dev/null
"$POND_BIN" --pond "$BASE" mkdir -p /a/b >/dev/null
printf 'hello\n' >"$WORK/f.txt"
"$POND_BIN" --pond "$BASE" copy host:"$WORK/f.txt" /f >/dev/null
A=$("$CRAFT" id "$BASE" /a)
B=$("$CRAFT" id "$BASE" /a/b)
F=$("$CRAFT" id "$BASE" /f)

# check_case NAME REGEX: every command on $P; list and fsck must fail naming REGEX, the others
# may succeed or fail naming it.
check_case() {
  local name=$1 re=$2 cmd
  while IFS= read -r cmd; do
    [ -n "$cmd" ] || continue
    # each writing command gets its own copy of the damaged pond
    Q=$P
    case "$cmd" in list*|cat*|describe*|log|fsck) ;; *) Q=$WORK/w; rm -rf "$Q"; cp -a "$P" "$Q" ;; esac
    # shellcheck disable=SC2086
    hrun "$name: $cmd" "$POND_BIN" --pond "$Q" $cmd || continue
    case "$cmd" in
      list|fsck)
        if [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -Eq -- "$re"; then ok "$name: $cmd"
        else fail "$name: $cmd" "want exit 1 naming /$re/, got $H_RC: $(printf '%s' "$H_OUT" | tail -n 3)"; fi ;;
      *)
        if [ "$H_RC" -eq 0 ] || { [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -Eq -- "$re"; }; then
          ok "$name: $cmd"
        else fail "$name: $cmd" "want success or exit 1 naming /$re/, got $H_RC: $(printf '%s' "$H_OUT" | tail -n 3)"; fi ;;
    esac
  done <<EOF
$COMMANDS
EOF
}
COMMANDS="list
list -l /
list /a/
cat /f
describe /f
log
fsck
gc --grace 0s
gc --keep-versions 1 --grace 0s
copy host:$WORK/f.txt /new
mkdir /newdir
rm /f
mv /f /g
ln -s /f /lnk"
# several times slower under ASan: the walks, fsck, gc and one write
hostile_asan && COMMANDS="list
cat /f
fsck
gc --keep-versions 1 --grace 0s
copy host:$WORK/f.txt /new"

# craft_case NAME REGEX DIR [NAME ID TYPE]...: a fresh copy of the base pond, one crafted
# listing, every command.
craft_case() {
  local name=$1 re=$2; shift 2
  P=$WORK/$name
  rm -rf "$P" && cp -a "$BASE" "$P"
  if ! "$CRAFT" listing "$P" "$@"; then fail "$name" "pond_craft failed"; return; fi
  check_case "$name" "$re"
}

craft_case dot "entry 1 '\.': '\.' and '\.\.' are reserved" $ROOT a "$A" directory . "$F" file:data
craft_case dotdot "entry 0 '\.\.'" $ROOT .. "$A" directory f "$F" file:data
craft_case slash "entry 1 'f/x': contains '/'" $ROOT a "$A" directory f/x "$F" file:data
craft_case nul "entry 1: name contains a NUL byte" $ROOT a "$A" directory 'f\x00x' "$F" file:data
craft_case empty "entry 0 '': empty" $ROOT '' "$A" directory f "$F" file:data
craft_case duplicate "entry 1 'a': the same name as the entry before it" $ROOT a "$A" directory a "$F" file:data
craft_case unsorted "entry 1 'a': out of order" $ROOT f "$F" file:data a "$A" directory
craft_case nil_id "entry 1 'f': no node id" $ROOT a "$A" directory f $NIL file:data
craft_case self "entry 1 'me': refers to the directory itself" "$A" b "$B" directory me "$A" directory
craft_case root_again "refers to the root directory" "$B" up $ROOT directory
craft_case cycle "already reached as '/a'" "$B" up1 "$A" directory up2 "$A" directory

# part_id (format 2: a moved file's home partition): never on a directory entry, never the nil
# id, always a node id.
craft_case part_on_dir "entry 0 'a': a directory entry has a part_id" $ROOT a "$A" directory@"$A" f "$F" file:data
craft_case part_nil "entry 1: part_id is the nil id" $ROOT a "$A" directory f "$F" file:data@$NIL
craft_case part_bad "bad part_id in a directory entry" $ROOT a "$A" directory f "$F" file:data@not-an-id

# Listings that are sound: part_id naming the listing's own directory (the default, spelt
# out), and a listing written in format 1 (three fields); every command works.
sound_case() {
  local name=$1 cmd; shift
  P=$WORK/$name
  rm -rf "$P" && cp -a "$BASE" "$P"
  if ! "$CRAFT" listing "$@"; then fail "$name" "pond_craft failed"; return; fi
  for cmd in "list /" "cat /f" "fsck"; do
    # shellcheck disable=SC2086
    hrun "$name: $cmd" "$POND_BIN" --pond "$P" $cmd || continue
    if [ "$H_RC" -eq 0 ]; then ok "$name: $cmd"
    else fail "$name: $cmd" "want exit 0, got $H_RC: $(printf '%s' "$H_OUT" | tail -n 3)"; fi
  done
}
sound_case part_own "$WORK/part_own" $ROOT a "$A" directory f "$F" file:data@root
sound_case format1 --format 1 "$WORK/format1" $ROOT a "$A" directory f "$F" file:data

# A chain of 30 directories, each listing the next one twice.
P=$WORK/chain
rm -rf "$P" && cp -a "$BASE" "$P"
path=/a/b
for i in $(seq 1 30); do path=$path/c$i; done
"$POND_BIN" --pond "$P" mkdir -p "$path" >/dev/null
prev=$B
for i in $(seq 1 30); do
  id=$("$CRAFT" id "$P" "$(printf '/a/b%s' "$(for k in $(seq 1 "$i"); do printf '/c%d' "$k"; done)")")
  "$CRAFT" listing "$P" "$prev" "c$i" "$id" directory "d$i" "$id" directory || fail chain "craft $i"
  prev=$id
done
check_case chain "already reached as '/a/b/c1"

hostile_done
