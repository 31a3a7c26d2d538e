# pond export: summaries, incremental runs, several sources, notes and every usage error.
mask() { sed "s|$PWD|CWD|g"; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
p init
printf 'timestamp,v\n2024-01-31T23:00:00Z,1\n2024-02-01T00:00:00Z,2\n2024-02-02T00:00:00Z,\n' > a.csv
printf 'timestamp,v\n2024-03-05T00:00:00Z,4\n' > b.csv
printf 'k,name\n1,one\n2,two\n' > t.csv
p mkdir /d
p copy --type series host:a.csv /d/s
p copy --type table host:t.csv /d/t
p copy host:t.csv /d/raw.csv
p export /d/s host:out
find out -name '*.parquet' | sed 's/part-.*/part-*.parquet/' | sort
p copy --type series host:b.csv /d/s
p export /d/s host:out
p export /d/s host:out
p export --format delta --partition year,month,day /d/s host:dl
find dl -name '*.parquet' -not -path '*/_delta_log/*' | sed 's/part-.*/part-*.parquet/' | sort
p export --partition year /d/t host:t
p export '/d/*' host:many
find many -name '*.parquet' | sed 's/part-.*/part-*.parquet/' | sort
p export --format delta /d/s host:out
p export /d/t host:out
p export --from 2024-02-01 /d/t host:t2
p export /d/raw.csv host:x
p export /d host:x
p export /nope host:x
p export '/d/*.txt' host:x
p export /d/s
p export /d/s /d/t
p export host:a.csv host:x
p export --format csv /d/s host:x
p export --partition month /d/s host:x
p export --from yesterday /d/s host:x
p export --to 2024-01-01 --from 2024-02-01 /d/s host:x
p export --target-size 0 /d/s host:x
p export --bogus /d/s host:x
p export
# --from/--to in pond cat's forms (a year, a month, an epoch with its unit; a bare integer is
# refused) and zone; --opt=value; the help lists every option
p export --from=2024-02 --to 2024-03 /d/s host:feb
find feb -name '*.parquet' | sed 's/part-.*/part-*.parquet/' | sort
p cat --timezone America/New_York --from 2024-02-01 --to 2024-02-02 /d/s
p export --timezone America/New_York --from 2024-02-01 --to 2024-02-02 --partition=year,month,day /d/s host:ny
find ny -name '*.parquet' | sed 's/part-.*/part-*.parquet/' | sort
p export --from 1706745600s --to 2025 /d/s host:epoch
p export --from 1706745600 /d/s host:x
p export --timezone Mars/Base /d/s host:x
p export --columns= /d/s host:x
p export '/nope/*' host:x
p export --help
# series semantics: dedup=last exports the rows cat gives (a settings change: everything is
# written again); a compaction keeps the rows, so the next export writes nothing; a first
# export of the compacted series reads the compacted version only
printf 'timestamp,v\n2024-02-01T00:00:00Z,20\n2024-04-01T00:00:00Z,5\n' > c.csv
p copy --type series host:c.csv /d/s
p set /d/s dedup=last
p cat /d/s
p export /d/s host:out
p gc --compact-series /d/s
p export /d/s host:out
p cat /d/s
p export /d/s host:fresh
find fresh -name '*.parquet' | sed 's/part-.*/part-*.parquet/' | sort
