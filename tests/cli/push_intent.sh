# A power cut inside a push's batch (docs/replication.md, "Batches and power cuts"): the remote
# keeps commits 3 and 4 but lost 2's name, and _host/push-intent names 2..4. Read-only commands
# read it as transaction 1 and change nothing; fsck says what is unfinished; the next push
# removes the batch's commits above the gap and completes.
mask() { sed "s|$PWD|CWD|g" | sed -E 's/[0-9a-f]{64}/HASH/g; s/-[0-9a-f]{8}\.parquet/-XXXXXXXX.parquet/g; s/[0-9.]+ (KiB|MiB|B) (hashed)/SIZE \2/g; s/blobs, [0-9.]+ (KiB|MiB|B)/blobs, SIZE/; s/^( *[0-9]+  )[0-9TZ:.-]+/\1TIME/'; }
p() { echo "\$ pond $*" | mask; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/src
p init
for v in one two three four; do echo "$v" > f.txt; p copy host:f.txt /f.txt; done
p remote add backup "$PWD/remote"
p push backup
# the cut state: commit 2 removed, the intent naming 2..4 as the push wrote it
{
  echo "pond push-intent 1"
  for v in 2 3 4; do
    c=$(printf 'src/_delta_log/%020d.json' "$v")
    printf 'commit %020d %d %s\n' "$v" "$(stat -c %s "$c")" "$(sha256sum < "$c" | cut -c1-64)"
  done
} > intent.body
{ cat intent.body; printf 'end 3 %s\n' "$(sha256sum < intent.body | cut -c1-64)"; } > remote/_host/push-intent
rm remote/_delta_log/00000000000000000002.json
before=$(cd remote && find . -type f | sort | xargs sha256sum | sha256sum)
p --pond remote cat /f.txt
p --pond remote log
p --pond remote fsck -q
after=$(cd remote && find . -type f | sort | xargs sha256sum | sha256sum)
[ "$before" = "$after" ] && echo "read-only commands changed nothing"
p push backup
ls remote/_host
p --pond remote cat /f.txt
p --pond remote fsck -q
