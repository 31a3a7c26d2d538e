# The time model on lines of real files (tests/data/time): --from/--to forms, integer years and
# YYYYMMDD refused with the pointer to --time-format, formats, time zones, the timestamp column
# recorded on the series, Parquet files as series.
mask() { sed "s|$PWD|CWD|g; s|$FIXTURES|DATA|g" | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g; s/^( +v[0-9]+ +)[0-9T:.Z-]+/\1TIME/'; }
p() { echo "\$ pond $*" | mask; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
D=$FIXTURES/time
p init
# ISO dates, detected by type (seattle-weather: date; co2-concentration: Date; iowa: year)
p copy --type series host:$D/seattle-weather.csv /sw
p describe /sw
p cat --from 2012-01-02 --to 2012-01-04 --columns date,weather /sw
p cat --from 2012 --to 2013 --columns date /sw
p cat --from 2012-01 --to 2012-02 --columns date /sw
p cat --from 1325462400s --to 1325635200000ms --columns date /sw
p cat --from 2012-01-03T00:00:00+01:00 --columns date /sw
p cat --from 1325462400 /sw
p cat --from 2012-1-2 /sw
p cat --timezone America/Los_Angeles --from 2012-01-04 --columns date,weather /sw
p copy --type series host:$D/co2-concentration.csv /co2c
p copy --type series host:$D/iowa-electricity.csv /iowa
p cat --from 2002 /iowa
p copy --type series host:$D/weather.csv /weather
p cat --to 2012-01-02 --columns location,date /weather
# YYYYMMDD and integer years are not epoch seconds
p copy --type series host:$D/co2.csv /co2
p copy --type series --time-format %Y%m%d host:$D/co2.csv /co2
p cat --from 1958-04 --to 1958-04-13 /co2
p copy --type series host:$D/sunspots.csv /sun
p copy --type series --schema YEAR:timestamp host:$D/sunspots.csv /sun
p copy --type series --time-format %Y host:$D/sunspots.csv /sun
p copy --type series host:$D/sunspots-more.csv /sun
p describe /sun
p cat --from 1704 /sun
p copy --type series --time-format %Y host:$D/nile.csv /nile
p cat --from 1872 --to 1873 /nile
p copy --type series --time-format %Y host:$D/macrodata.csv /macro
p cat --from 1959 --to 1960 --columns year,quarter,realgdp /macro
p copy --type series --time-format %YQ%q host:$D/danish.csv /dk
p cat --from 1974-04 /dk
# text dates need their form
p copy --type series host:$D/stocks.csv /stocks
p copy --type series --time-format "%b %d %Y" host:$D/stocks.csv /stocks
p cat --from 2000-03 --to 2000-05 /stocks
p copy --type series --time-format "%b %d %Y" host:$D/sp500.csv /sp500
p cat --from 2000-02 /sp500
# local date-times without a zone, read in a zone; recorded; shown
p copy --type series --time-format "%Y/%m/%d %H:%M:%S" --timezone America/Los_Angeles host:$D/github.csv /gh
p describe /gh
p cat /gh
p cat --timezone America/Los_Angeles --from 2015-01-01T04:00 /gh
p copy --type series host:$D/github.csv /gh
p copy --type series --timezone Europe/Berlin host:$D/github.csv /gh
p copy --type series --timestamp-column count host:$D/github.csv /gh
p cat --sql "SELECT time, count FROM source WHERE count > 2" --timezone Asia/Kolkata /gh
# usage errors
p copy --type series --timezone Mars/Base host:$D/github.csv /x
p copy --type series --time-format %Q host:$D/github.csv /x
p copy --type series --time-format %m/%d host:$D/github.csv /x
p cat --timezone ../../etc/passwd /gh
# a Parquet file as a series: detected, --timestamp-column, ranges recorded, reads pruned
"$POND_BIN" cat --format parquet /sw > sw.parquet; echo "[exit $?]"
p copy --type series host:sw.parquet /swp
p describe /swp
p cat --from 2012-01-04 --columns date,weather /swp
p copy --type series --timestamp-column weather host:sw.parquet /swq
p copy --type series --allow-duplicate host:sw.parquet /swp
p describe /swp
p cat --from 2012-01-05 --columns date /swp
