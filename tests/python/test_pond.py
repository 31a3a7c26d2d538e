"""The Python package against the CLI: DataFrames equal `pond cat`'s CSV parsed independently
(Python's csv module), writes read back by `pond cat`, SQL equals `pond query`, zero-copy float64
columns, the Arrow PyCapsule interface consumed through ctypes, errors as PondError.
Run by tests/python/run.sh (POND_BIN, POND_LIB, PYTHONPATH=python)."""
import csv
import ctypes
import datetime
import io
import os
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

import pond
from pond import _lib

POND_BIN = os.environ["POND_BIN"]


def cli(pond_dir, *args, check=True):
    env = dict(os.environ, POND=pond_dir, TZ="UTC")
    p = subprocess.run([POND_BIN] + list(args), env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("pond %s: %s" % (" ".join(args), p.stderr))
    return p


def cat_rows(pond_dir, path, *opts):
    """pond cat's CSV parsed with the csv module: header, rows of strings."""
    out = cli(pond_dir, "cat", "--format", "csv", *opts, path).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return rows[0], rows[1:]


def cell(v):
    """A DataFrame value as the CSV text pond cat prints for it."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%dT%H:%M:%S") + ("" if v.microsecond == 0 else
                                                     ".%06d" % v.microsecond).rstrip("0") + "Z"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v)).rstrip("0").rstrip(".") if float(v) != int(v) else str(int(v))
    return str(v)


def same_as_cat(df, pond_dir, path, *opts):
    header, rows = cat_rows(pond_dir, path, *opts)
    assert list(df.columns) == header
    assert len(df) == len(rows)
    for (_, r), want in zip(df.iterrows(), rows):
        got = [cell(v) for v in r]
        for g, w in zip(got, want):
            if g != w:  # floats: compare as numbers (printing differs in the last digit rules)
                assert float(g) == pytest.approx(float(w), rel=1e-15), (got, want)


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    d = tmp_path_factory.mktemp("py")
    pd_dir = str(d / "pond")
    cli(pd_dir, "init")
    rows1 = ["timestamp,temp,site,count,ok"]
    for i in range(3000):
        temp = "" if i % 17 == 3 else "%.3f" % (10 + i * 0.01)
        cnt = "" if i % 23 == 5 else str(i)
        rows1.append("%s,%s,s%d,%s,%s" % (
            (datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
             + datetime.timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            temp, i % 3, cnt, "true" if i % 2 else "false"))
    (d / "v1.csv").write_text("\n".join(rows1) + "\n")
    (d / "v2.csv").write_text("timestamp,temp,site,count,ok\n2024-03-01T00:00:00Z,99.5,s9,1,true\n")
    (d / "sites.csv").write_text("site,name\ns0,North\ns1,South\ns2,East\n")
    cli(pd_dir, "mkdir", "/plant")
    cli(pd_dir, "copy", "--type", "series", "host:" + str(d / "v1.csv"), "/plant/s1")
    cli(pd_dir, "copy", "--type", "series", "host:" + str(d / "v2.csv"), "/plant/s1")
    cli(pd_dir, "copy", "--type", "table", "host:" + str(d / "sites.csv"), "/plant/sites")
    cli(pd_dir, "copy", "host:" + str(d / "sites.csv"), "/plant/notes.csv")
    return pd_dir


def test_read_equals_cat(plant):
    p = pond.open(plant)
    df = p.read("/plant/s1")
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert df["temp"].dtype == np.float64
    assert df["count"].dtype == np.float64  # int64 with nulls: NaN, as pandas does
    assert df["ok"].dtype == bool
    assert df["site"].dtype == object
    assert df["temp"].isna().sum() == len(range(3, 3000, 17))
    same_as_cat(df, plant, "/plant/s1")
    t = p.read("/plant/sites")
    same_as_cat(t, plant, "/plant/sites")


@pytest.mark.parametrize("start,end", [
    ("2024-01-05", "2024-01-07T12:00Z"),
    (datetime.datetime(2024, 1, 5), datetime.datetime(2024, 1, 7, 12)),
    (pd.Timestamp("2024-01-05", tz="UTC"), pd.Timestamp("2024-01-07 12:00", tz="UTC")),
])
def test_time_range_and_columns(plant, start, end):
    p = pond.open(plant)
    df = p.read("/plant/s1", start=start, end=end, columns=["timestamp", "temp"])
    assert list(df.columns) == ["timestamp", "temp"]
    same_as_cat(df, plant, "/plant/s1", "--from", "2024-01-05", "--to", "2024-01-07T12:00Z",
                "--columns", "timestamp,temp")
    # end is exclusive, like --to
    assert df["timestamp"].max() < pd.Timestamp("2024-01-07 12:00", tz="UTC")
    assert df["timestamp"].min() == pd.Timestamp("2024-01-05", tz="UTC")


def test_zero_copy_float64(plant, tmp_path):
    p = pond.open(plant)
    # a float64 column without nulls, one batch: the array lies in the Arrow buffer
    df = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=1000, freq="s", tz="UTC"),
                       "x": np.arange(1000, dtype=np.float64) / 8})
    p.write("/zc/s", df)
    sc = p.scan("/zc/s")
    out = sc.to_pandas()
    addr = out["x"].values.ctypes.data
    assert any(a <= addr < a + n for a, n in sc._buffers("x"))
    assert not out["x"].values.flags.owndata
    np.testing.assert_array_equal(out["x"].values, df["x"].values)
    del sc
    assert out["x"].sum() == df["x"].sum()  # the buffer outlives the scan and the pond handle


def test_write_series_and_table(plant, tmp_path):
    p = pond.open(plant)
    ts = pd.date_range("2024-05-01", periods=50, freq="h", tz="Europe/Paris")
    df = pd.DataFrame({"timestamp": ts, "v": np.linspace(0, 1, 50), "n": np.arange(50),
                       "tag": ["a", None] * 25, "flag": [True, False] * 25})
    df.loc[7, "v"] = np.nan
    txn = p.write("/new/series", df, kind="series")
    assert txn > 0
    p.write("/new/series", df.iloc[:10], kind="series")
    assert len(p.describe("/new/series")["versions"]) == 2
    back = p.read("/new/series")
    assert len(back) == 60
    # the timestamps are the same instants, in UTC
    assert (back["timestamp"].iloc[:50].values == ts.tz_convert("UTC").values).all()
    assert np.isnan(back["v"].iloc[7])
    same_as_cat(back, plant, "/new/series")
    header, rows = cat_rows(plant, "/new/series")
    assert rows[0][0] == "2024-04-30T22:00:00Z" and rows[7][1] == "" and rows[1][3] == ""
    p.write("/new/table", pd.DataFrame({"k": [1, 2], "name": ["x", "y"]}), kind="table")
    p.write("/new/table", pd.DataFrame({"k": [3], "name": ["z"]}), kind="table")
    assert p.read("/new/table")["name"].tolist() == ["z"]
    # a DatetimeIndex becomes a column; a naive one is taken as UTC, with a warning
    idx = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.DatetimeIndex(["2024-01-01", "2024-01-02"],
                                                                  name="timestamp"))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p.write("/new/indexed", idx)
        assert [str(x.message) for x in w] == ["column 'timestamp': naive datetimes are taken as UTC"]
        p.write("/new/aware", df)  # time-zone aware: no warning
        assert len(w) == 1
    assert p.read("/new/indexed")["timestamp"].iloc[1] == pd.Timestamp("2024-01-02", tz="UTC")


def test_write_refuses_what_it_cannot_keep(plant):
    p = pond.open(plant)
    ns = pd.DataFrame({"timestamp": [pd.Timestamp("2024-01-01 00:00:00.000000001", tz="UTC")],
                       "v": [1.0]})
    with pytest.raises(pond.PondError, match="nanoseconds"):
        p.write("/bad/ns", ns)
    mixed = pd.DataFrame({"timestamp": pd.date_range("2024", periods=2, tz="UTC"),
                          "v": ["a", 3]})
    with pytest.raises(pond.PondError, match="one type per column"):
        p.write("/bad/mixed", mixed)
    # a changed column type is pond's own error, and nothing is written
    p.write("/bad/typed", pd.DataFrame({"timestamp": pd.date_range("2024", periods=2, tz="UTC"),
                                        "v": [1.0, 2.0]}))
    with pytest.raises(pond.PondError, match="v"):
        p.write("/bad/typed", pd.DataFrame({"timestamp": pd.date_range("2025", periods=1,
                                                                       tz="UTC"), "v": ["x"]}))
    assert len(p.describe("/bad/typed")["versions"]) == 1


def test_query_equals_cli(plant):
    p = pond.open(plant)
    sql = ("SELECT n.name, count(*) AS c, sum(s.count) AS total FROM s JOIN n USING (site) "
           "GROUP BY n.name ORDER BY n.name")
    df = p.query(sql, s="/plant/s1", n="/plant/sites")
    out = cli(plant, "query", "--format", "csv", sql, "s=/plant/s1", "n=/plant/sites").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert list(df.columns) == rows[0]
    assert [[str(x) for x in r] for r in df.itertuples(index=False)] == rows[1:]
    t = p.query("SELECT timestamp, temp FROM s WHERE timestamp < us('2024-01-01T01:00Z')",
                s="/plant/s1@1")
    assert str(t["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert len(t) == 6


def test_arrow_pycapsule(plant):
    p = pond.open(plant)
    sc = p.scan("/plant/s1", columns=["timestamp", "temp"])
    cap = sc.__arrow_c_stream__()
    assert _lib._py.PyCapsule_IsValid(cap, b"arrow_array_stream") == 1
    # a consumer (as pyarrow does): take the stream out of the capsule and read it
    addr = _lib._py.PyCapsule_GetPointer(cap, b"arrow_array_stream")
    src = _lib.ArrowArrayStream.from_address(addr)
    st = _lib.ArrowArrayStream()
    ctypes.memmove(ctypes.byref(st), ctypes.byref(src), ctypes.sizeof(st))
    src.release = _lib.StreamRelease()  # moved
    schema = _lib.ArrowSchema()
    assert st.get_schema(ctypes.byref(st), ctypes.byref(schema)) == 0
    assert [schema.children[i].contents.name for i in range(schema.n_children)] == [b"timestamp",
                                                                                      b"temp"]
    schema.release(ctypes.byref(schema))
    rows = 0
    while True:
        a = _lib.ArrowArray()
        assert st.get_next(ctypes.byref(st), ctypes.byref(a)) == 0
        if not a.release:
            break
        rows += a.length
        a.release(ctypes.byref(a))
    st.release(ctypes.byref(st))
    assert rows == 3001
    del cap  # the destructor finds the stream taken
    # a capsule dropped unread releases its stream (and the pond handle it holds)
    cap2 = p.query_scan("SELECT count(*) AS n FROM s", s="/plant/s1").__arrow_c_stream__()
    del cap2


def test_list_and_describe(plant):
    p = pond.open(plant)
    paths = [e.path for e in p.list("/plant/*")]
    assert paths == ["/plant/notes.csv", "/plant/s1", "/plant/sites"]
    e = [e for e in p.list("/plant/*") if e.path == "/plant/s1"][0]
    assert e.type == "file:series" and e.version == 2
    d = p.describe("/plant/s1")
    assert d["type"] == "file:series" and d["timestamp_column"] == "timestamp"
    assert d["time_range"][0] == pd.Timestamp("2024-01-01", tz="UTC")
    assert ("temp", "g", "float64") in d["schema"]
    assert [v["version"] for v in d["versions"]] == [1, 2]


def test_errors_are_pond_errors(plant, tmp_path):
    with pytest.raises(pond.PondError, match="not a pond|no such|not found"):
        pond.open(str(tmp_path))
    p = pond.open(plant)
    with pytest.raises(pond.PondError, match="/plant/missing"):
        p.read("/plant/missing")
    with pytest.raises(pond.PondError, match="not a table or series"):
        p.read("/plant")
    with pytest.raises(pond.PondError, match="no column 'nope'"):
        p.read("/plant/s1", columns=["nope"])
    with pytest.raises(pond.PondError, match="sql"):
        p.query("SELECT nope FROM s", s="/plant/s1")
    with pytest.raises(pond.PondError, match="yesterday"):
        p.read("/plant/s1", start="yesterday")


def test_series_dedup_and_compaction(tmp_path):
    """read(), scan() and query() give what pond cat gives under a dedup=last rule and after a
    compaction: late rows replace earlier ones, replaced versions are not read again."""
    d = str(tmp_path / "pond")
    cli(d, "init")
    (tmp_path / "a.csv").write_text("timestamp,v,k\n2024-01-01T00:00:00Z,1,a\n"
                                    "2024-01-01T00:00:00Z,2,b\n2024-01-02T00:00:00Z,3,a\n")
    (tmp_path / "b.csv").write_text("timestamp,v,k\n2024-01-01T00:00:00Z,10,a\n"
                                    "2024-01-03T00:00:00Z,4,a\n")
    for f in ("a.csv", "b.csv"):
        cli(d, "copy", "--type", "series", "host:" + str(tmp_path / f), "/s")
    cli(d, "set", "/s", "dedup=last:k")
    cli(d, "gc", "--compact-series", "/s")
    p = pond.open(d)
    df = p.read("/s")
    same_as_cat(df, d, "/s")
    assert sorted(df["v"].tolist()) == [2, 3, 4, 10]  # (Jan 1, a) is version 2's
    assert len(p.scan("/s").to_pandas()) == 4
    q = p.query("SELECT count(*) AS n, sum(v) AS total FROM s", s="/s")
    assert q["n"].tolist() == [4] and q["total"].tolist() == [19]
