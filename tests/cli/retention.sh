# Retention never changes the current state: a series keeps every row (its state is the union
# of its versions); after gc every --at either reads exactly as before or fails naming the
# oldest complete transaction (never a raw "No such file", never an empty listing).
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9.]+ (KiB|MiB|B) freed/SIZE freed/'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
p init --threshold-data 1KiB
for v in 1 2 3; do
  printf 'timestamp,value\n2024-01-0%sT00:00:00Z,%s\n2024-01-0%sT01:00:00Z,%s\n' $v $v $v $((v * 10)) > s$v.csv
  "$POND_BIN" copy --type series host:s$v.csv /s >/dev/null
done
p cat /s
head -c 3000 /dev/zero | tr '\0' 'a' > a.txt
head -c 3000 /dev/zero | tr '\0' 'b' > b.txt
"$POND_BIN" copy host:a.txt /f >/dev/null
"$POND_BIN" mkdir /d
"$POND_BIN" copy host:b.txt /d/g >/dev/null
"$POND_BIN" copy host:b.txt /f >/dev/null
"$POND_BIN" rm /d/g
"$POND_BIN" copy host:a.txt /d/h >/dev/null
last=$("$POND_BIN" log --limit 1 | awk '{print $1}')
# every transaction's state before gc: listing and every file's bytes
view() {
  "$POND_BIN" --at "$1" list -l '/**' 2>&1 | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/'
  for f in $("$POND_BIN" --at "$1" list '/**' 2>/dev/null); do
    "$POND_BIN" --at "$1" cat "$f" 2>/dev/null | sha256sum
  done
}
for t in $(seq 0 "$last"); do view "$t" > before.$t; done
p gc --keep-versions 1 --grace 0s
p cat /s
p list /
p fsck -q
for t in $(seq 0 "$last"); do
  if out=$("$POND_BIN" --at "$t" list / 2>&1); then
    view "$t" > after.$t
    if cmp -s before.$t after.$t; then echo "--at $t: reads as before gc"; else
      echo "--at $t: DIFFERS"; diff before.$t after.$t | head -5; fi
  else
    echo "--at $t: $out" | mask
  fi
done
p --at 2 cat /s
