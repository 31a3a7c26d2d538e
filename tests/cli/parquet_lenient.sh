# Reader leniency (tests/parquet/test_pq_lenient.c writes these fixtures): a footer field of
# another wire type than the Parquet schema's is skipped with a warning when decoding does not
# need it, and refused by name when it does; a v2 all-null page with an empty value section.
mask() { sed "s|$FIXTURES|FIXTURES|g; s|$PWD|CWD|g"; }
p() { echo "\$ pond $*" | mask; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
F=$FIXTURES/parquet
p parquet meta "$F/mistyped_statistics_list.parquet"
p parquet dump "$F/mistyped_statistics_list.parquet"
p parquet meta "$F/mistyped_all_optional.parquet"
p parquet meta "$F/mistyped_column_type.parquet"
p parquet dump "$F/mistyped_column_type.parquet"
p parquet dump "$F/v2_all_null_snappy.parquet"
p init
p copy --type table "host:$F/mistyped_statistics_list.parquet" /t
p cat /t
p copy --type table "host:$F/mistyped_column_type.parquet" /bad
p copy --type table "host:$F/v2_all_null_snappy.parquet" /nulls
p cat /nulls
