# mv keeps every version and the node's identity (no new version, nothing copied): a two-version
# series moved into another directory, every entry type, a moved directory, --at before the
# move, gc after the old directory is gone, and a format-1 pond (tests/data/pond-format1.md).
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z  pond/TIME  pond/; s/[0-9.]+ (KiB|MiB|B) (freed|hashed)/SIZE \2/g'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
printf 'timestamp,v\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n' > a.csv
printf 'timestamp,v\n2024-01-02T00:00:00Z,3\n' > b.csv
printf 'one' > one.txt; printf 'two!' > two.txt
p init
grep -ho '"pond.format":"[0-9]*"' p/_delta_log/*.json
p copy --type series host:a.csv /w
p copy --type series host:b.csv /w
p mkdir /a
p mv /w /a/
p cat /a/w
p describe /a/w
p cat --version 1 /a/w
p --at 3 cat /w
p --at 3 cat /a/w
# every entry type, across directories and within one
p mkdir /d
p copy host:one.txt /d/f
p copy host:two.txt /d/f
p copy --type table host:a.csv /d/t
p copy --type table host:b.csv /d/t
p ln -s ../a/w /d/l
p mv /d/f /a/f
p mv /d/t /a/
p mv /d/l /a/l
p mv /a/f /a/g
p cat --version 1 /a/g
p cat /a/g
p cat --version 1 /a/t
p cat /a/l
p list -l /a/ | sed -E "s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/"
# a moved directory holding multi-version files, then its old parent removed and gc'd
p mkdir /e
p mv /a /e/
p describe /e/a/w
p cat --version 1 /e/a/g
p copy host:one.txt /e/a/g
p cat --version 2 /e/a/g
p cat --version 3 /e/a/g
p rm -r /d
p gc --compact --grace 0s
p cat /e/a/w
p cat --version 1 /e/a/t
p fsck -q
# a format-1 pond: read as before (its old-style move left stranded versions), upgraded by the
# first move that needs format 2
cp -r "$FIXTURES/pond-format1" f1
export POND=$PWD/f1
grep -ho '"pond.format":"[0-9]*"' f1/_delta_log/*.json | sort | uniq -c
p cat --version 1 /w
p cat /old/m
p fsck -q
p mv /w /d/
grep -ho '"pond.format":"[0-9]*"' f1/_delta_log/*.json | sort | uniq -c
p cat /d/w
p cat --version 1 /d/w
p --at 10 cat /w
p fsck -q
