#!/usr/bin/env python3
"""Real-data acceptance: imports public data sets with the options a user would give, then
compares pond's answers (row counts, per-column sums, min/max timestamps, a group-by, a
time-range read) with the same numbers computed here, independently, with Python's csv and json
modules. Last line: "N passed, N failed".

usage: check.py POND_BIN VEGA_DATA_DIR STATSMODELS_DATASETS_DIR
"""
import csv
import datetime as dt
import io
import json
import math
import os
import subprocess
import sys
import tempfile

POND, VEGA, SM = sys.argv[1:4]
passed = failed = 0
ENV = dict(os.environ, LC_ALL="C", TZ="UTC", POND_NO_PROGRESS="1")

def ok(name):
    global passed
    passed += 1


def fail(name, why):
    global failed
    failed += 1
    print(f"FAIL realdata::{name}: {why}")


def pond(*args, stdin=None):
    r = subprocess.run([POND, *args], env=ENV, capture_output=True, text=True, input=stdin)
    return r.returncode, r.stdout, r.stderr


def pond_csv(*args):
    rc, out, err = pond(*args)
    if rc != 0:
        raise RuntimeError(f"pond {' '.join(args)}: exit {rc}: {err.strip()}")
    return list(csv.reader(io.StringIO(out)))


def num(v):
    v = v.strip()
    if v == "" or v in ("NA", "null"):
        return None
    return float(v)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def parse_time(s):
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1]
    if len(s) == 4:
        return dt.datetime(int(s), 1, 1)
    if len(s) == 7:
        return dt.datetime.strptime(s, "%Y-%m")
    if len(s) == 10:
        return dt.datetime.strptime(s, "%Y-%m-%d")
    return dt.datetime.fromisoformat(s.split(".")[0])


def read_source(path, fmt, delimiter=",", quote='"'):
    if fmt == "json":
        with open(path, encoding="utf-8") as f:
            recs = json.load(f)
        keys = list(recs[0].keys())
        rows = [[("" if r.get(k) is None else str(r.get(k))) for k in keys] for r in recs]
        return keys, rows
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f, delimiter=delimiter, quotechar=quote)
        header = next(rd)
        rows = [r for r in rd if r]
    return header, rows


def q(c):
    return '"' + c.replace('"', '""') + '"'


def check(name, path, kind, args, fmt="csv", delimiter=",", quote='"', numeric=(), ts=None,
          group=None, time_range=None, tparse=None):
    """group: (sql_expr, python_fn(row_dict) -> key, sum_column); time_range: (from, to, col);
    tparse: how Python reads the source's timestamp text (default: ISO-8601)."""
    tparse = tparse or parse_time
    dest = "/" + name
    rc, out, err = pond("copy", "--type", kind, *args, "host:" + path, dest)
    if rc != 0:
        fail(name, f"import exit {rc}: {err.strip()}")
        return
    header, rows = read_source(path, fmt, delimiter, quote)
    dicts = [dict(zip(header, r)) for r in rows]
    try:
        # counts and per-column sums
        sel = ", ".join(["count(*)"] + [f"sum({q(c)})" for c in numeric])
        got = pond_csv("cat", "--sql", f"SELECT {sel} FROM source", dest)[1]
        want = [float(len(rows))] + [
            math.fsum(x for x in (num(d[c]) for d in dicts) if x is not None) for c in numeric]
        bad = [(c, g, w) for c, g, w in zip(["rows"] + list(numeric), got, want)
               if not close(num(g), w)]
        if bad:
            fail(name, f"count/sum differ (column, pond, python): {bad}")
        else:
            ok(name)
        # min/max of the timestamp column
        if ts:
            got = pond_csv("cat", "--sql", f"SELECT iso(min({q(ts)})), iso(max({q(ts)})) FROM source",
                           dest)[1]
            times = [tparse(d[ts]) for d in dicts]
            want = [iso(min(times)), iso(max(times))]
            if got != want:
                fail(name, f"min/max {ts}: pond {got}, python {want}")
            else:
                ok(name)
        # a group-by aggregate
        if group:
            expr, key, col = group
            got = pond_csv("cat", "--sql",
                           f"SELECT {expr} AS k, count(*), sum({q(col)}) FROM source "
                           f"GROUP BY k ORDER BY k", dest)[1:]
            agg = {}
            for d in dicts:
                k = key(d)
                n, s = agg.get(k, (0, []))
                v = num(d[col])
                agg[k] = (n + 1, s + ([v] if v is not None else []))
            want = sorted(agg.items())
            diff = len(got) != len(want)
            for g, (k, (n, s)) in zip(got, want):
                if str(g[0]) != str(k) or int(g[1]) != n or not close(num(g[2]), math.fsum(s)):
                    diff = True
                    fail(name, f"group {k}: pond {g}, python {[k, n, math.fsum(s)]}")
                    break
            if len(got) != len(want):
                fail(name, f"group-by: pond {len(got)} groups, python {len(want)}")
            elif not diff:
                ok(name)
        # a time-range read against a brute-force filter of the source
        if time_range:
            frm, to, col = time_range
            out = pond_csv("cat", "--from", frm, "--to", to, "--format", "csv", dest)
            h = out[0]
            got_rows = out[1:]
            lo, hi = parse_time(frm), parse_time(to)
            sel = [d for d in dicts if lo <= tparse(d[ts]) < hi]
            got_sum = math.fsum(x for x in (num(r[h.index(col)]) for r in got_rows) if x is not None)
            want_sum = math.fsum(x for x in (num(d[col]) for d in sel) if x is not None)
            if len(got_rows) != len(sel) or not close(got_sum, want_sum) or not sel:
                fail(name, f"range [{frm}, {to}): pond {len(got_rows)} rows sum {got_sum}, "
                           f"python {len(sel)} rows sum {want_sum}")
            else:
                ok(name)
    except Exception as e:  # a failed pond command is a failed check, named
        fail(name, str(e))


def main():
    v = lambda f: os.path.join(VEGA, f)
    s = lambda d: os.path.join(SM, d, d + ".csv")
    ts = ["--timestamp-column"]
    check("seattle_weather", v("seattle-weather.csv"), "series", ts + ["date"],
          numeric=("precipitation", "temp_max", "temp_min", "wind"), ts="date",
          group=("weather", lambda d: d["weather"], "precipitation"),
          time_range=("2013-01-01", "2013-07-01", "temp_max"))
    strp = lambda f: (lambda t: dt.datetime.strptime(t.strip(), f))
    year = lambda t: dt.datetime(int(t), 1, 1)
    check("stocks", v("stocks.csv"), "series", ["--time-format", "%b %d %Y"], numeric=("price",),
          ts="date", tparse=strp("%b %d %Y"), group=("symbol", lambda d: d["symbol"], "price"),
          time_range=("2004", "2006-07", "price"))
    check("sp500", v("sp500.csv"), "series", ["--time-format", "%b %d %Y"], numeric=("price",),
          ts="date", tparse=strp("%b %d %Y"),
          group=("substr(iso(date), 1, 4)", lambda d: d["date"][-4:], "price"),
          time_range=("2008-09", "2009-03-15", "price"))
    check("co2_concentration", v("co2-concentration.csv"), "series", ts + ["Date"],
          numeric=("CO2", "adjusted CO2"), ts="Date",
          group=("substr(iso(Date), 1, 3)", lambda d: d["Date"][:3], "CO2"),
          time_range=("2000-01-01", "2010-01-01", "CO2"))
    check("iowa_electricity", v("iowa-electricity.csv"), "series", ts + ["year"],
          numeric=("net_generation",), ts="year",
          group=("source", lambda d: d["source"], "net_generation"),
          time_range=("2005-01-01", "2012-01-01", "net_generation"))
    check("weather", v("weather.csv"), "series", ts + ["date"],
          numeric=("precipitation", "temp_max", "temp_min", "wind"), ts="date",
          group=("location", lambda d: d["location"], "temp_max"),
          time_range=("2014-03-01", "2014-04-15", "precipitation"))
    check("unemployment", v("unemployment-across-industries.json"), "series", ts + ["date"],
          fmt="json", numeric=("year", "month", "count", "rate"), ts="date",
          group=("series", lambda d: d["series"], "count"),
          time_range=("2005-06-01", "2008-01-01T08:00:00Z", "rate"))
    check("flights_10k", v("flights-10k.json"), "series", ["--time-format", "%Y/%m/%d %H:%M"],
          fmt="json", numeric=("delay", "distance"), ts="date", tparse=strp("%Y/%m/%d %H:%M"),
          group=("origin", lambda d: d["origin"], "delay"),
          time_range=("2001-01-02T06:30", "2001-01-03", "delay"))
    check("sm_co2", s("co2"), "series", ["--time-format", "%Y%m%d"], numeric=("co2",), ts="date",
          tparse=strp("%Y%m%d"),
          group=("substr(iso(date), 1, 3)", lambda d: d["date"][:3], "co2"),
          time_range=("1990-06", "1991", "co2"))
    check("sm_sunspots", s("sunspots"), "series", ["--timestamp-column", "YEAR", "--time-format",
          "%Y"], numeric=("SUNACTIVITY",), ts="YEAR", tparse=year,
          group=("substr(iso(YEAR), 1, 2)", lambda d: d["YEAR"][:2], "SUNACTIVITY"),
          time_range=("1800", "1850", "SUNACTIVITY"))
    cols = ["quarter", "realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi",
            "m1", "tbilrate", "unemp", "pop", "infl", "realint"]
    check("sm_macrodata", s("macrodata"), "series", ["--timestamp-column", "year",
          "--time-format", "%Y"], numeric=tuple(cols), ts="year", tparse=year,
          group=("quarter", lambda d: int(float(d["quarter"])), "realgdp"),
          time_range=("1970", "1980", "realgdp"))
    check("sm_nile", s("nile"), "series", ["--time-format", "%Y"], numeric=("volume",),
          ts="year", tparse=year,
          group=("substr(iso(year), 1, 3)", lambda d: d["year"][:3], "volume"),
          time_range=("1900", "1920", "volume"))
    check("sm_anes96", s("anes96"), "table", [], delimiter="\t", quote="'",
          numeric=("popul", "TVnews", "selfLR", "ClinLR", "DoleLR", "PID", "age", "educ",
                   "income", "vote"),
          group=("vote", lambda d: int(d["vote"]), "age"))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        ENV["POND"] = os.path.join(d, "pond")
        rc, _, err = pond("init")
        if rc != 0:
            print(f"FAIL realdata::init: {err}")
            print("0 passed, 1 failed")
            sys.exit(1)
        sys.exit(main())
