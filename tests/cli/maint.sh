# fsck and gc: clean pond, a corrupted blob, a deleted one, retention and compaction.
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{64}/HASH/g; s/[0-9a-f]{2}\/HASH/XX\/HASH/g; s/[0-9.]+ (KiB|MiB|B) (freed|hashed)/SIZE \2/g'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
p init --threshold-data 1KiB
head -c 3000 /dev/zero | tr '\0' 'a' > a.txt
head -c 3000 /dev/zero | tr '\0' 'b' > b.txt
p copy host:a.txt host:b.txt /
p copy host:b.txt /a.txt
p fsck
blob=$(ls p/_large_files/*/* | grep -v chunks | head -1)
chmod u+w "$blob"; printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
p fsck -q
p gc --keep-versions 1 --grace 0s
p fsck -q
p gc --compact --grace 0s
"$POND_BIN" cat /a.txt | head -c 10; echo
p gc --keep-versions 0
p fsck --bogus
p gc --keep-age 0s --grace 0s
p gc --keep-age nan
p gc --keep-age 5x
p gc --help
