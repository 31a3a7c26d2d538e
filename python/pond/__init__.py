"""pond for Python: read and write a pond's tables and series as pandas DataFrames.

    import pond
    p = pond.open("/data/plant.pond")
    p.list("/plant/**")                       # entries (path, type, version, size, modified)
    p.describe("/plant/station1")             # type, versions, time range, schema
    df = p.read("/plant/station1", start="2024-01-01", end="2024-02-01", columns=["temp"])
    p.write("/plant/station2", df, kind="series")
    p.query("SELECT count(*) AS n FROM s WHERE temp > 20", s="/plant/station1")

Everything goes through the C library (ctypes over libpond.so); numpy and pandas (Debian's
python3-pandas) are the only Python dependencies. Objects that return data (`p.scan`,
`p.query_scan`) implement the Arrow PyCapsule interface (`__arrow_c_stream__`), so pyarrow,
Polars and DuckDB take the stream without a copy. Errors raise `pond.PondError` with pond's
message. docs/python.md has the dtype table and the rules.
"""
import collections
import ctypes
import datetime
import json
import os
from ctypes import byref, c_bool, c_char_p, c_int64, c_size_t, c_void_p

import numpy as np
import pandas as pd

from . import _arrow, _lib
from ._arrow import PondError, check
from ._lib import lib

__all__ = ["open", "Pond", "PondError", "Scan", "Entry"]
__version__ = "0.1.0"

Entry = collections.namedtuple("Entry", "path type version size modified")


def _b(s):
    return s.encode("utf-8")


def _us(t, what):
    """Microseconds since the epoch, UTC, of an ISO string, a datetime or a pandas Timestamp
    (naive values are UTC)."""
    if t is None:
        return None
    if isinstance(t, str):
        v = c_int64()
        raw = _b(t)
        check(lib.pond_time_parse(byref(v), raw, len(raw)))
        return v.value
    if isinstance(t, (datetime.datetime, np.datetime64, pd.Timestamp)):
        ts = pd.Timestamp(t)
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        ns = ts.value
        return ns // 1000 if ns >= 0 or ns % 1000 == 0 else ns // 1000 + 1  # toward the instant
    if isinstance(t, datetime.date):
        return _us(datetime.datetime(t.year, t.month, t.day), what)
    raise TypeError("%s: an ISO-8601 string, a datetime or a pandas Timestamp, not %s"
                    % (what, type(t).__name__))


def _take_str(ptr):
    """A pond_malloc'd C string as str (freed)."""
    if not ptr:
        return None
    s = ctypes.string_at(ptr).decode("utf-8")
    lib.pond_free(ptr)
    return s


class _Handle:
    """An open pond (backend + filesystem); freed when the last user (a stream too) is gone."""

    def __init__(self, directory, write=False):
        self.be = c_void_p()
        self.fs = c_void_p()
        self.locked = False
        check(lib.pond_oplog_open(byref(self.be), _b(directory), None))
        try:
            if write:
                check(lib.pond_oplog_lock(self.be, True))
                self.locked = True
            check(lib.pond_fs_open(byref(self.fs), self.be, None))
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.fs:
            lib.pond_fs_free(self.fs)
            self.fs = c_void_p()
        if self.be:
            if self.locked:
                lib.pond_oplog_unlock(self.be)
                self.locked = False
            lib.pond_backend_free(self.be)
            self.be = c_void_p()

    def __del__(self):
        self.close()


class Scan:
    """Rows of a table, a series or an SQL query, read when asked for: `to_pandas()`, or
    `__arrow_c_stream__()` (the Arrow PyCapsule interface) for pyarrow, Polars, DuckDB."""

    def __init__(self, open_stream):
        self._open = open_stream  # () -> (ArrowArrayStream, owner)
        self._batches = []
        self._names = []
        self._formats = []

    def __arrow_c_stream__(self, requested_schema=None):
        stream, owner = self._open()
        return _arrow.stream_capsule(stream, owner)

    def to_pandas(self):
        stream, owner = self._open()
        try:
            cols, batches = _arrow.stream_columns(stream)
        finally:
            del owner  # the batches outlive the pond handle: they own their buffers
        self._batches = batches
        self._names = [c.name for c in cols]
        self._formats = [c.fmt for c in cols]
        return _arrow.to_frame(cols)

    def _buffers(self, column):
        """(address, bytes) of the value buffer of `column` in each batch the last to_pandas()
        read: tests check that a zero-copy array lies in one of them."""
        k = self._names.index(column)
        out = []
        for b in self._batches:
            c = b.arr.children[k].contents
            width = np.dtype(_arrow._FIXED.get(self._formats[k], "u1")).itemsize
            out.append((c.buffers[1], (c.offset + c.length) * width))
        return out


def open(directory):
    """Opens the pond at directory (PondError if it is not one)."""
    return Pond(directory)


class Pond:
    """A pond directory. Every call reads the pond as it is at that moment."""

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        _Handle(self.directory).close()  # fail now if it is not a pond

    def __repr__(self):
        return "pond.open(%r)" % self.directory

    # ---- metadata

    def list(self, pattern="/**"):
        """Entries matching a glob (`*`, `?`, `[...]`, `**`), in path order."""
        h = _Handle(self.directory)
        out = []

        def on(path, st, caps, ncaps, payload):
            s = st.contents
            out.append(Entry(path.decode("utf-8"), _lib.ENTRY_TYPES.get(s.type, "unknown"),
                             s.version, s.size,
                             pd.Timestamp(s.mtime_us * 1000, tz="UTC")))
            return 0

        try:
            check(lib.pond_fs_glob(h.fs, None, _b(pattern), _lib.GlobFn(on), None))
        finally:
            h.close()
        return out

    def describe(self, path):
        """A dict: path, type, versions (one dict each: version, size, txn, modified, and for
        series the event-time range), the time range of a series, its timestamp column, and
        the schema (name, Arrow format, pandas dtype) of what read() gives."""
        h = _Handle(self.directory)
        try:
            st = _lib.Stat()
            check(lib.pond_fs_stat(byref(st), h.fs, None, _b(path)))
            norm = c_void_p()
            check(lib.pond_path_normalize(byref(norm), None, None, _b(path)))
            d = {"path": _take_str(norm), "type": _lib.ENTRY_TYPES.get(st.type, "unknown"),
                 "size": st.size, "modified": pd.Timestamp(st.mtime_us * 1000, tz="UTC")}
            vs = ctypes.POINTER(_lib.Stat)()
            n = c_size_t()
            check(lib.pond_fs_versions(byref(vs), byref(n), h.fs, None, _b(path)))
            versions = []
            for i in range(n.value):
                v = vs[i]
                e = {"version": v.version, "size": v.size, "txn": v.txn_seq,
                     "modified": pd.Timestamp(v.mtime_us * 1000, tz="UTC")}
                if v.has_event_time:
                    e["start"] = pd.Timestamp(v.min_event_time_us * 1000, tz="UTC")
                    e["end"] = pd.Timestamp(v.max_event_time_us * 1000, tz="UTC")
                versions.append(e)
            lib.pond_free(vs)
            d["versions"] = versions
            if st.type in (_lib.ENTRY_TABLE, _lib.ENTRY_SERIES):
                if st.type == _lib.ENTRY_SERIES:
                    col = c_void_p()
                    check(lib.pond_series_timestamp_column(byref(col), h.fs, None, _b(path)))
                    d["timestamp_column"] = _take_str(col)
                    times = [(e["start"], e["end"]) for e in versions if "start" in e]
                    d["time_range"] = ((min(t[0] for t in times), max(t[1] for t in times))
                                       if times else None)
                stream = _lib.ArrowArrayStream()
                o = _read_options()
                check(lib.pond_table_read_stream(byref(stream), h.fs, None, _b(path), byref(o)))
                schema = _lib.ArrowSchema()
                try:
                    rc = stream.get_schema(byref(stream), byref(schema))
                    if rc:
                        raise PondError(_arrow._stream_error(stream, rc))
                    cols = []
                    for i in range(schema.n_children):
                        c = schema.children[i].contents
                        fmt = c.format.decode()
                        cols.append((c.name.decode("utf-8"), fmt, _pandas_dtype(fmt)))
                    d["schema"] = cols
                finally:
                    if schema.release:
                        schema.release(byref(schema))
                    stream.release(byref(stream))
            return d
        finally:
            h.close()

    # ---- reading

    def scan(self, path, start=None, end=None, columns=None, version=None):
        """A Scan of a table (its latest version, or `version`) or a series (all its versions,
        or one), limited to event times in [start, end) (series) and to `columns`."""
        lo, hi = _us(start, "start"), _us(end, "end")
        cols = list(columns) if columns is not None else None
        directory = self.directory

        def open_stream():
            h = _Handle(directory)
            try:
                o = _read_options()
                if version is not None:
                    o.file_version = int(version)
                if lo is not None or hi is not None:
                    o.has_range = True
                    o.from_us = lo if lo is not None else -2**63
                    o.to_us = hi if hi is not None else 2**63 - 1
                if cols is not None:
                    arr = (c_char_p * max(len(cols), 1))(*[_b(c) for c in cols])
                    o.columns = arr
                    o.n_columns = len(cols)
                stream = _lib.ArrowArrayStream()
                check(lib.pond_table_read_stream(byref(stream), h.fs, None, _b(path), byref(o)))
                return stream, h
            except BaseException:
                h.close()
                raise

        return Scan(open_stream)

    def read(self, path, start=None, end=None, columns=None, version=None):
        """A DataFrame of a table or series (see scan). Timestamps are datetime64[ns, UTC];
        `end` is exclusive, like `pond cat --to`."""
        return self.scan(path, start, end, columns, version).to_pandas()

    # ---- writing

    def write(self, path, df, kind="series", timestamp_column=None):
        """Writes df as a new version of the table or series at path (created, with its parent
        directories, if missing), in one transaction. Returns the transaction number."""
        if kind not in ("series", "table"):
            raise ValueError("kind must be 'series' or 'table'")
        schema, batch, keep = _arrow.frame_to_arrow(df)
        h = _Handle(self.directory, write=True)
        try:
            meta = json.dumps({"pondCommand": ["python", "write", path]})
            check(lib.pond_fs_begin(h.fs, _b(meta)))
            try:
                parent = path.rsplit("/", 1)[0]
                if parent:
                    check(lib.pond_fs_mkdir(h.fs, None, _b(parent), _lib.MKDIR_PARENTS))
                o = _lib.WriteOptions()
                o.version = 1
                if timestamp_column:
                    o.timestamp_column = _b(timestamp_column)
                check(lib.pond_table_write_batch(
                    h.fs, None, _b(path),
                    _lib.ENTRY_SERIES if kind == "series" else _lib.ENTRY_TABLE,
                    byref(schema), byref(batch), byref(o)))
                txn = c_int64()
                check(lib.pond_fs_commit(byref(txn), h.fs))
                return txn.value
            except BaseException:
                lib.pond_fs_abort(h.fs)
                raise
        finally:
            h.close()
            del keep

    # ---- SQL

    def query_scan(self, sql, **sources):
        """A Scan of one SQL statement (SQLite, as `pond query`) over named sources:
        query_scan("SELECT ... FROM s JOIN t USING (k)", s="/plant/s1", t="/ref/sites@2")."""
        directory = self.directory

        def open_stream():
            h = _Handle(directory)
            q = c_void_p()
            try:
                check(lib.pond_sql_open(byref(q), h.fs))
                for name, src in sources.items():
                    path, ver = src, 0
                    if "@" in src.rsplit("/", 1)[-1]:
                        path, v = src.rsplit("@", 1)
                        ver = int(v)
                    check(lib.pond_sql_attach(q, _b(name), _b(path), ver))
                stream = _lib.ArrowArrayStream()
                check(lib.pond_sql_query_stream(byref(stream), q, _b(sql)))
                return stream, _SqlOwner(q, h)
            except BaseException:
                if q:
                    lib.pond_sql_free(q)
                h.close()
                raise

        return Scan(open_stream)

    def query(self, sql, **sources):
        """A DataFrame of one SQL statement over named sources (see query_scan)."""
        return self.query_scan(sql, **sources).to_pandas()


class _SqlOwner:
    """Keeps the SQL connection and the pond open while a query's stream lives."""

    def __init__(self, q, h):
        self.q = q
        self.h = h

    def __del__(self):
        if self.q:
            lib.pond_sql_free(self.q)
            self.q = None
        self.h.close()


def _read_options():
    o = _lib.ReadOptions()
    o.version = 1
    return o


def _pandas_dtype(fmt):
    """The dtype read() gives for an Arrow format (without nulls; see docs/python.md)."""
    if fmt in _arrow._FIXED:
        return str(np.dtype(_arrow._FIXED[fmt]))
    if fmt == "b":
        return "bool"
    if fmt.startswith("ts") and len(fmt) >= 4 and fmt[3] == ":":
        return "datetime64[ns, UTC]" if fmt[4:] else "datetime64[ns]"
    return "object"
