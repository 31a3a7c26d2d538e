# Import options: dialects, null markers, ragged rows, encodings, compressed files, stdin, JSON.
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | sed "s|$PWD|CWD|g"; echo "[exit ${PIPESTATUS[0]}]"; }
q() { "$POND_BIN" cat --format csv "$@" 2>&1; }
export POND=$PWD/p
p init >/dev/null
printf 'name;value\nx;1,5\ny;2\n' > semi.csv
p copy --type table host:semi.csv /semi
q /semi
printf 'a,b;c\n1,2;3\n' > amb.csv
p copy --type table host:amb.csv /amb
p copy --type table --delimiter ';' host:amb.csv /amb
q /amb
printf "Exported 2024\n# comment\n'k'\t'v'\n'a b'\t1\n" > q.tsv
p copy --type table --skip-rows 1 --comment '#' host:q.tsv /q
q /q
printf '1|x\n2|y\n' > nh.txt
p copy --type table --no-header host:nh.txt /nh
q /nh
printf '"","v"\n"1",NA\n"2",4\n' > r.csv
p copy --type table host:r.csv /r
q /r
printf 'v,s\n-,x\n3,-\n' > nv.csv
p copy --type table --null-values '-' host:nv.csv /nv
q /nv
printf 'a,b,c\n1,2,3\n4\n' > rag.csv
p copy --type table host:rag.csv /rag
p copy --type table --allow-ragged host:rag.csv /rag
q /rag
printf 'v\n1.5\n1e400\n' > big.csv
p copy --type table host:big.csv /big
printf 'city,n\nZ\xfcrich,1\n' > l1.csv
p copy --type table host:l1.csv /l1
p copy --type table --encoding latin1 host:l1.csv /l1
q /l1
p copy --type table --encoding ebcdic host:l1.csv /l1
printf 'a,b\n1,x\n2,y\n' > plain.csv
gzip -c plain.csv > plain.csv.gz; xz -c plain.csv > plain.csv.xz
bzip2 -c plain.csv > plain.csv.bz2; zstd -q -c plain.csv > plain.csv.zst
for f in gz xz bz2 zst; do p copy --type table host:plain.csv.$f /c_$f; q /c_$f; done
head -c 20 plain.csv.xz > cut.csv.xz
p copy --type table host:cut.csv.xz /cut
printf 'a,b\n5,z\n' | "$POND_BIN" copy --type table host:- /stdin; echo "[exit $?]"
q /stdin
printf 'a,b\n5,z\n' | "$POND_BIN" copy --type table host:- /dir/ 2>&1; echo "[exit $?]"
printf '[{"time":"2024-01-01T00:00:00Z","v":1,"o":{"k":[1]}},\n{"time":"2024-01-02T00:00:00Z","v":null,"o":"s"}]' > a.json
p copy --type series host:a.json /js
q /js
printf '{"v":1}\n{"v":2.5}\n' > n.ndjson
p copy --type table --format ndjson host:n.ndjson /nd
q /nd
p copy --type table --format csv host:a.json /bad
p copy --type table --format json host:n.ndjson /bad
p copy --format ndjson /nd host:out.json
"$POND_BIN" copy --help | grep -c -- '--null-values'
