# Error exits: each names the path and the reason; exit 1 for errors, 2 for usage.
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | sed "s|$PWD|CWD|g"; echo "[exit ${PIPESTATUS[0]}]"; }
cp "$FIXTURES/ragged.csv" .
unset POND
p list
export POND=$PWD/nope
p list
mkdir notapond
p --pond notapond list
export POND=$PWD/p
p init
p init
p cat /missing
p list '/x*'
p mkdir /a/b
p mkdir -p /d
printf 'x' > f.txt
p copy host:f.txt /d/f
p copy host:f.txt /d/f/sub
mkdir srcdir
p copy host:srcdir /d/
p copy host:missing.txt /d/
p copy host:f.txt host:g.txt
mkfifo fifo
p copy host:fifo /d/
p copy --type series host:ragged.csv /d/r
head -c 100 "$CORPUS/parquet/parquet-testing/alltypes_plain.parquet" > trunc.parquet 2>/dev/null || printf 'PAR1garbage' > trunc.parquet
p copy --type table host:trunc.parquet /d/t
p ln -s /d/loop1 /d/loop2
p ln -s /d/loop2 /d/loop1
p cat /d/loop1
p cat --from nottime /d/f
p cat --format bogus /d/f
p rm /d
p mv /d /d/inside
p --at 999 list
p list --nosuch
