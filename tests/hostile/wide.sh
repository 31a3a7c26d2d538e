#!/usr/bin/env bash
# Wide tables: importing (CSV and JSON) and reading stay linear in the number of columns (name
# lookups went through a loop per name: cat of 65,536 columns took 62-88 s, importing them
# 826 MB). Every command finishes within the timeout, under the RSS bound, with the right
# answer.
. "$(dirname "$0")/lib.sh"
H_TIMEOUT=20
H_RSS_KB=524288
hostile_asan && H_RSS_KB=$((4 << 20)) H_TIMEOUT=60
P=$WORK/p
"$POND_BIN" --pond "$P" init >/dev/null
# wide.py OUT KIND N: a CSV of N columns (KIND plain: 3 rows; series1/series2: a timestamp
# column first, series2 with one more column; sql: 100 rows)
cat >"$WORK/wide.py" <<'PY'
import sys
out, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(out, "w") as f:
    if kind == "plain":
        f.write(",".join("c%d" % i for i in range(n)) + "\n")
        for r in range(3):
            f.write(",".join(str((i * 7 + r) % 1000) for i in range(n)) + "\n")
    elif kind.startswith("series"):
        extra = kind == "series2"
        f.write("timestamp," + ",".join("c%d" % i for i in range(1, n)) + (",extra" if extra else "") + "\n")
        for r in range(3):
            t = "2024-01-0%dT00:00:00Z" % (r + (4 if extra else 1))
            f.write(t + "," + ",".join(str(i % 10) for i in range(1, n)) + (",1" if extra else "") + "\n")
    else:
        f.write(",".join("c%d" % i for i in range(n)) + "\n")
        for r in range(100):
            f.write(",".join(str(r) for i in range(n)) + "\n")
PY
for n in 8192 65536; do
  python3 "$WORK/wide.py" "$WORK/w$n.csv" plain "$n"
  hrun "import $n columns" "$POND_BIN" --pond "$P" copy --type table host:"$WORK/w$n.csv" /w$n &&
    { [ "$H_RC" -eq 0 ] && ok "import $n columns ($H_RSS KiB)" ||
      fail "import $n columns" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
  hrun "cat $n columns" "$POND_BIN" --pond "$P" cat /w$n &&
    { [ "$H_RC" -eq 0 ] && [ "$H_OUT" = "$(cat "$WORK/w$n.csv")" ] && ok "cat $n columns ($H_RSS KiB)" ||
      fail "cat $n columns" "exit $H_RC, or not the CSV imported: $(printf '%s' "$H_OUT" | head -c 200)"; }
  hrun "describe $n columns" "$POND_BIN" --pond "$P" describe /w$n &&
    { [ "$H_RC" -eq 0 ] && printf '%s' "$H_OUT" | grep -q "c$((n - 1)) " && ok "describe $n columns" ||
      fail "describe $n columns" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
  hrun "copy out $n columns" "$POND_BIN" --pond "$P" copy --format csv /w$n host:"$WORK/out$n.csv" &&
    { [ "$H_RC" -eq 0 ] && cmp -s "$WORK/out$n.csv" "$WORK/w$n.csv" && ok "copy out $n columns" ||
      fail "copy out $n columns" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
  # SQLite allows 2000 columns: a clear refusal, not a crash or a minute of name lookups
  hrun "query $n columns" "$POND_BIN" --pond "$P" query "SELECT c0 FROM t" t=/w$n &&
    { [ "$H_RC" -eq 1 ] && printf '%s' "$H_OUT" | grep -q "has $n columns, and SQL tables have at most" &&
      ok "query $n columns refused" || fail "query $n columns" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
done
# the same 65,536 columns as NDJSON records (keys were looked up with a loop per key: 17 s)
python3 - "$WORK/w65536.ndjson" <<'PY'
import json, sys
n = 65536
with open(sys.argv[1], "w") as f:
    for r in range(3):
        f.write(json.dumps({"c%d" % i: (i * 7 + r) % 1000 for i in range(n)}) + "\n")
PY
# half the timeout: 1.4 s here, where the loop took 17 s
T=$H_TIMEOUT; H_TIMEOUT=$((T / 2))
hrun "import 65536 JSON keys" "$POND_BIN" --pond "$P" copy --type table --format ndjson host:"$WORK/w65536.ndjson" /j &&
  hrun "cat 65536 JSON keys" "$POND_BIN" --pond "$P" cat /j &&
  { [ "$H_RC" -eq 0 ] && [ "$H_OUT" = "$(cat "$WORK/w65536.csv")" ] && ok "import and cat 65536 JSON keys ($H_RSS KiB)" ||
    fail "import 65536 JSON keys" "exit $H_RC, or not the records imported: $(printf '%s' "$H_OUT" | head -c 200)"; }
H_TIMEOUT=$T
# a series of 65,535 columns and a second version with one more (65,536 fields: the CSV
# reader's limit): the union over versions
python3 "$WORK/wide.py" "$WORK/s1.csv" series1 65535
python3 "$WORK/wide.py" "$WORK/s2.csv" series2 65535
hrun "series of 65535 columns" "$POND_BIN" --pond "$P" copy --type series host:"$WORK/s1.csv" /s &&
  hrun "series second version" "$POND_BIN" --pond "$P" copy --type series host:"$WORK/s2.csv" /s &&
  hrun "cat series" "$POND_BIN" --pond "$P" cat /s &&
  { [ "$H_RC" -eq 0 ] && [ "$(printf '%s\n' "$H_OUT" | wc -l)" -eq 7 ] &&
    printf '%s' "$H_OUT" | head -n 1 | grep -q ',extra$' && ok "cat series of 65536 columns ($H_RSS KiB)" ||
    fail "cat series" "exit $H_RC: $(printf '%s' "$H_OUT" | head -c 300)"; }
# SQL over a table as wide as SQLite allows
python3 "$WORK/wide.py" "$WORK/q.csv" sql 2000
hrun "import 2000 columns" "$POND_BIN" --pond "$P" copy --type table host:"$WORK/q.csv" /q &&
  hrun "query 2000 columns" "$POND_BIN" --pond "$P" query --format csv "SELECT sum(c1999) FROM t" t=/q &&
  { [ "$H_RC" -eq 0 ] && printf '%s' "$H_OUT" | grep -qx 4950 && ok "query 2000 columns" ||
    fail "query 2000 columns" "exit $H_RC: $(printf '%s' "$H_OUT" | head -n 3)"; }
hostile_done
