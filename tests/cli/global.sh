# Global options: --version, --help, unknown command and option, exit codes.
p() { "$POND_BIN" "$@"; echo "[exit $?]"; }
p --version | sed 's/pond [0-9.]*/pond VERSION/'
p --help | head -3
p nosuchcommand
p --nosuchoption
p version --help
p version extra
# --threads: 1 to 64; what is stored does not depend on it (200,000 rows: slices large enough
# to be encoded in parallel)
p --threads 0 version
p --threads=65 version
p --threads x version
p --threads
"$POND_BIN" --pond pt init >/dev/null
awk 'BEGIN { print "ts,a,b,tag"; for (i = 0; i < 200000; i++) printf "%d,%d,%.3f,t%d\n", 1700000000 + i, i * 7 % 1000, i / 3, i % 16 }' > big.csv
for t in 1 2 4; do "$POND_BIN" --pond pt --threads $t copy --type series host:big.csv /s$t >/dev/null; echo "[exit $?]"; done
for t in 1 2 4; do "$POND_BIN" --pond pt cat --format raw /s$t | sha256sum | cut -c1-16; done
p --pond pt --threads 2 query "SELECT count(*), sum(a), max(tag) FROM s" s=/s2
