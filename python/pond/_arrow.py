"""Arrow C data <-> numpy/pandas, without pyarrow (Debian 12 has none).

Reading: a stream's batches are imported as they are; a fixed-width column without nulls becomes
a numpy array over the Arrow buffer itself (the batch is released when the last such array
goes). Writing: a DataFrame's columns are described as Arrow arrays pointing at numpy memory
for as long as the C call that reads them. docs/python.md has the dtype table.
"""
import ctypes
import datetime
import decimal
import warnings
from ctypes import POINTER, byref, c_char_p, c_void_p, cast

import numpy as np
import pandas as pd

from . import _lib
from ._lib import ArrowArray, ArrowArrayStream, ArrowSchema, lib


class PondError(Exception):
    """An error from pond: its message is pond's (one line naming the path and the reason)."""

    def __init__(self, message, code=-1):
        super().__init__(message)
        self.code = code


def check(rc):
    if rc < 0:
        e = lib.pond_error_last().contents
        raise PondError(e.message.decode("utf-8", "replace") if e.message else "error", rc)
    return rc


# ---- reading -------------------------------------------------------------------------------

_FIXED = {"c": "<i1", "C": "<u1", "s": "<i2", "S": "<u2", "i": "<i4", "I": "<u4", "l": "<i8",
          "L": "<u8", "e": "<f2", "f": "<f4", "g": "<f8"}
_TS_MUL = {"s": 1_000_000_000, "m": 1_000_000, "u": 1_000, "n": 1}


class _Batch:
    """Owns one imported ArrowArray; released when nothing refers to it any more."""

    def __init__(self, arr):
        self.arr = arr

    def __del__(self):
        if self.arr.release:
            self.arr.release(byref(self.arr))


def _view(batch, address, dtype, count):
    """A numpy array over count items at address, keeping the batch alive."""
    dt = np.dtype(dtype)
    if count == 0 or not address:
        return np.empty(0, dtype=dt)
    raw = (ctypes.c_char * (count * dt.itemsize)).from_address(address)
    raw._pond_batch = batch
    return np.frombuffer(raw, dtype=dt, count=count)


def _validity(batch, col, n):
    """A bool array of valid rows, or None when every row is valid."""
    if col.null_count == 0 or not col.buffers[0]:
        return None
    nbytes = (col.offset + n + 7) // 8
    bits = np.unpackbits(_view(batch, col.buffers[0], "u1", nbytes), bitorder="little")
    return bits[col.offset:col.offset + n].astype(bool)


def _strings(batch, col, n, large, text):
    ow = "<i8" if large else "<i4"
    off = _view(batch, col.buffers[1], ow, col.offset + n + 1)[col.offset:]
    total = int(off[-1]) if n else 0
    data = ctypes.string_at(col.buffers[2], total) if total else b""
    valid = _validity(batch, col, n)
    out = np.empty(n, dtype=object)
    o = off.tolist()
    if text:
        vals = [data[o[i]:o[i + 1]].decode("utf-8") for i in range(n)]
    else:
        vals = [data[o[i]:o[i + 1]] for i in range(n)]
    out[:] = vals
    if valid is not None:
        out[~valid] = None
    return out


class Column:
    """One output column: its name, Arrow format and the per-batch pieces."""

    def __init__(self, name, fmt):
        self.name = name
        self.fmt = fmt
        self.pieces = []


def _convert(batch, col, fmt, name):
    """One column of one batch as a numpy array (or an object array), zero-copy if possible."""
    n = col.length
    valid = _validity(batch, col, n)
    base = fmt[0]
    if fmt in _FIXED:
        vals = _view(batch, col.buffers[1], _FIXED[fmt], col.offset + n)[col.offset:]
        if valid is None:
            return vals
        out = vals.astype(np.float64) if vals.dtype.kind in "iu" else vals.copy()
        out[~valid] = np.nan
        return out
    if fmt == "b":
        nbytes = (col.offset + n + 7) // 8
        bits = np.unpackbits(_view(batch, col.buffers[1], "u1", nbytes), bitorder="little")
        vals = bits[col.offset:col.offset + n].astype(bool)
        if valid is None:
            return vals
        out = vals.astype(object)
        out[~valid] = None
        return out
    if fmt in ("u", "U", "z", "Z"):
        return _strings(batch, col, n, fmt in ("U", "Z"), fmt in ("u", "U"))
    if fmt.startswith("ts") and len(fmt) >= 4 and fmt[3] == ":":
        raw = _view(batch, col.buffers[1], "<i8", col.offset + n)[col.offset:]
        mul = _TS_MUL[fmt[2]]
        if mul == 1:
            ns = raw
        else:
            lim = np.iinfo(np.int64).max // mul
            bad = np.abs(raw) > lim if valid is None else (np.abs(raw) > lim) & valid
            if bad.any():
                raise PondError("column '%s': a timestamp lies outside the years 1677-2262 "
                                "that pandas' nanoseconds can hold" % name)
            ns = raw * mul
        if valid is not None:
            ns = ns.copy() if ns is raw else ns
            ns[~valid] = np.iinfo(np.int64).min  # NaT
        return ("ts", fmt[4:], ns.view("M8[ns]"))
    if fmt == "tdD":
        days = _view(batch, col.buffers[1], "<i4", col.offset + n)[col.offset:]
        epoch = datetime.date(1970, 1, 1)
        out = np.array([epoch + datetime.timedelta(days=int(d)) for d in days], dtype=object)
        if valid is not None:
            out[~valid] = None
        return out
    if fmt == "n":
        return np.full(n, None, dtype=object)
    if fmt.startswith("d:"):
        parts = fmt[2:].split(",")
        scale = int(parts[1])
        width = 32 if len(parts) > 2 and parts[2] == "256" else 16
        raw = ctypes.string_at(col.buffers[1] + col.offset * width, n * width)
        out = np.empty(n, dtype=object)
        for i in range(n):
            v = int.from_bytes(raw[i * width:(i + 1) * width], "little", signed=True)
            out[i] = decimal.Decimal(v).scaleb(-scale)
        if valid is not None:
            out[~valid] = None
        return out
    if fmt.startswith("w:"):
        w = int(fmt[2:])
        raw = ctypes.string_at(col.buffers[1] + col.offset * w, n * w)
        out = np.array([raw[i * w:(i + 1) * w] for i in range(n)], dtype=object)
        if valid is not None:
            out[~valid] = None
        return out
    raise PondError("column '%s': Arrow type '%s' has no pandas form here; read it through "
                    "__arrow_c_stream__ (pyarrow, polars, duckdb)" % (name, fmt))


def _empty(fmt):
    if fmt in _FIXED:
        return np.empty(0, dtype=_FIXED[fmt])
    if fmt == "b":
        return np.empty(0, dtype=bool)
    if fmt.startswith("ts") and len(fmt) >= 4 and fmt[3] == ":":
        return ("ts", fmt[4:], np.empty(0, dtype="M8[ns]"))
    return np.empty(0, dtype=object)


def _join(pieces, fmt):
    if not pieces:
        return _empty(fmt)
    if isinstance(pieces[0], tuple):  # timestamps: ("ts", tz, datetime64[ns] array)
        arrs = [p[2] for p in pieces]
        return ("ts", pieces[0][1], arrs[0] if len(arrs) == 1 else np.concatenate(arrs))
    if len(pieces) == 1:
        return pieces[0]  # no copy: possibly a view of the Arrow buffer
    kinds = {p.dtype for p in pieces}
    if len(kinds) > 1:  # some batches had nulls (float64/object), others not
        common = object if any(k == object for k in kinds) else np.float64
        pieces = [p.astype(common) for p in pieces]
    return np.concatenate(pieces)


def _series(values, name):
    if isinstance(values, tuple):
        _, tz, arr = values
        if tz:
            # pond's timestamps are UTC instants whatever zone the column names
            return pd.Series(pd.DatetimeIndex(arr).tz_localize("UTC"), name=name)
        return pd.Series(arr, name=name, copy=False)
    return pd.Series(values, name=name, copy=False)


def stream_columns(stream):
    """Consumes an ArrowArrayStream (released at the end): (columns, batches)."""
    schema = ArrowSchema()
    try:
        rc = stream.get_schema(byref(stream), byref(schema))
        if rc:
            raise PondError(_stream_error(stream, rc))
        if not schema.format.startswith(b"+s"):
            raise PondError("a stream of record batches was expected, not '%s'" % schema.format)
        cols = []
        for i in range(schema.n_children):
            c = schema.children[i].contents
            cols.append(Column(c.name.decode("utf-8") if c.name else "", c.format.decode()))
        batches = []
        while True:
            arr = ArrowArray()
            rc = stream.get_next(byref(stream), byref(arr))
            if rc:
                raise PondError(_stream_error(stream, rc))
            if not arr.release:
                break
            b = _Batch(arr)
            batches.append(b)
            for i, col in enumerate(cols):
                col.pieces.append(_convert(b, arr.children[i].contents, col.fmt, col.name))
        return cols, batches
    finally:
        if schema.release:
            schema.release(byref(schema))
        if stream.release:
            stream.release(byref(stream))


def _stream_error(stream, rc):
    msg = stream.get_last_error(byref(stream)) if stream.get_last_error else None
    return ctypes.string_at(msg).decode("utf-8", "replace") if msg else "stream error %d" % rc


def to_frame(cols):
    data = {c.name: _series(_join(c.pieces, c.fmt), c.name) for c in cols}
    return pd.DataFrame(data, columns=[c.name for c in cols], copy=False)


# ---- the Arrow PyCapsule interface ---------------------------------------------------------

_live = {}  # address of a heap ArrowArrayStream -> (struct, owner): kept until its capsule goes


@_lib.CapsuleDestructor
def _capsule_destructor(capsule):
    addr = _lib.capsule_get_pointer_raw(capsule, b"arrow_array_stream")
    entry = _live.pop(addr, None)
    if entry is not None:
        st = entry[0]
        if st.release:  # never taken by a consumer
            st.release(byref(st))


class OwnedStream:
    """An ArrowArrayStream whose release also lets go of what the inner stream borrows (the
    pond handle): consumers may keep it as long as they like."""

    def __init__(self, inner, owner):
        self.inner = inner
        self.owner = owner
        self.outer = ArrowArrayStream()
        self._cbs = (_lib.StreamGetSchema(self._get_schema), _lib.StreamGetNext(self._get_next),
                     _lib.StreamGetError(self._get_error), _lib.StreamRelease(self._release))
        self.outer.get_schema, self.outer.get_next, self.outer.get_last_error, \
            self.outer.release = self._cbs
        _OWNED[id(self)] = self

    def _get_schema(self, _s, out):
        return self.inner.get_schema(byref(self.inner), out)

    def _get_next(self, _s, out):
        return self.inner.get_next(byref(self.inner), out)

    def _get_error(self, _s):
        return self.inner.get_last_error(byref(self.inner))

    def _release(self, s):
        if self.inner.release:
            self.inner.release(byref(self.inner))
        s.contents.release = _lib.StreamRelease()
        self.owner = None
        _OWNED.pop(id(self), None)


_OWNED = {}


def stream_capsule(inner, owner):
    """A PyCapsule "arrow_array_stream" handing over inner (moved), which owner keeps valid."""
    wrapped = OwnedStream(inner, owner)
    st = ArrowArrayStream()
    ctypes.memmove(byref(st), byref(wrapped.outer), ctypes.sizeof(st))
    wrapped.outer.release = _lib.StreamRelease()  # moved into st
    addr = ctypes.addressof(st)
    _live[addr] = (st, wrapped)
    return _lib._py.PyCapsule_New(addr, b"arrow_array_stream",
                                  cast(_capsule_destructor, c_void_p))


# ---- writing -------------------------------------------------------------------------------

_NUMPY_FMT = {"int8": "c", "uint8": "C", "int16": "s", "uint16": "S", "int32": "i",
              "uint32": "I", "int64": "l", "uint64": "L", "float32": "f", "float64": "g"}


@_lib.ArrayRelease
def _noop_array_release(a):
    pass


@_lib.SchemaRelease
def _noop_schema_release(s):
    pass


class _Built:
    """Arrow structs describing numpy memory; everything they point at is kept here."""

    def __init__(self):
        self.keep = []

    def hold(self, obj):
        self.keep.append(obj)
        return obj


def _bitmap(mask):
    """Arrow validity bits (LSB first) of a bool array."""
    return np.packbits(mask.astype(np.uint8), bitorder="little")


def _column(b, name, s):
    """(format, length, null_count, buffers as numpy arrays or None) of one pandas column."""
    n = len(s)
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        s = s.astype(object)
        dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        if isinstance(dtype, pd.DatetimeTZDtype):
            ns = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="M8[ns]").view("<i8")
        else:
            warnings.warn("column '%s': naive datetimes are taken as UTC" % name, stacklevel=4)
            ns = s.to_numpy(dtype="M8[ns]").view("<i8")
        nat = ns == np.iinfo(np.int64).min
        rem = np.where(nat, 0, ns % 1000)
        if rem.any():
            raise PondError("column '%s': a timestamp has nanoseconds; pond stores microseconds "
                            "(round it first, e.g. .dt.floor('us'))" % name)
        us = np.where(nat, 0, ns // 1000).astype("<i8")
        valid = ~nat
        return "tsu:UTC", n, int(nat.sum()), [_bitmap(valid) if nat.any() else None, us]
    if pd.api.types.is_extension_array_dtype(dtype):
        na = s.isna().to_numpy()
        if isinstance(dtype, pd.BooleanDtype):
            vals = s.fillna(False).to_numpy(dtype=bool)
            return "b", n, int(na.sum()), [_bitmap(~na) if na.any() else None, _bitmap(vals)]
        if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
            np_dt = dtype.numpy_dtype
            vals = s.fillna(0).to_numpy(dtype=np_dt)
            return (_NUMPY_FMT[np_dt.name], n, int(na.sum()),
                    [_bitmap(~na) if na.any() else None, np.ascontiguousarray(vals)])
        s = s.astype(object)
        dtype = s.dtype
    if dtype.kind in "iuf":
        vals = np.ascontiguousarray(s.to_numpy())
        fmt = _NUMPY_FMT.get(vals.dtype.name)
        if fmt is None:
            raise PondError("column '%s': dtype %s is not supported" % (name, dtype))
        if dtype.kind == "f":
            nan = np.isnan(vals)
            if nan.any():  # pandas' missing value: a null in pond
                return fmt, n, int(nan.sum()), [_bitmap(~nan), vals]
        return fmt, n, 0, [None, vals]
    if dtype.kind == "b":
        return "b", n, 0, [None, _bitmap(s.to_numpy())]
    if dtype.kind == "O" or dtype.kind == "U":
        vals = s.to_numpy(dtype=object)
        na = pd.isna(vals)
        kinds = {type(v) for v in vals[~na]}
        if kinds <= {str}:
            text, fmt = True, "u"
        elif kinds <= {bytes}:
            text, fmt = False, "z"
        else:
            raise PondError("column '%s': a column of %s; pond needs one type per column "
                            "(str or bytes)" % (name, ", ".join(sorted(k.__name__ for k in kinds))))
        parts = [(v.encode("utf-8") if text else v) if not m else b"" for v, m in zip(vals, na)]
        lens = np.fromiter((len(p) for p in parts), dtype=np.int64, count=n)
        offs = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lens, out=offs[1:])
        large = offs[-1] > 2**31 - 1
        if large:
            fmt = fmt.upper()
        data = np.frombuffer(b"".join(parts) or b"\0", dtype=np.uint8)
        return (fmt, n, int(na.sum()),
                [_bitmap(~na) if na.any() else None,
                 offs.astype("<i8" if large else "<i4"), data])
    raise PondError("column '%s': dtype %s is not supported" % (name, dtype))


def frame_to_arrow(df):
    """(ArrowSchema, ArrowArray, keep-alive) describing the DataFrame as one record batch."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError("write needs a pandas.DataFrame")
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()  # a meaningful index (a DatetimeIndex, ...) becomes columns
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise PondError("column names must be unique")
    b = _Built()
    ncol = len(names)
    schema = b.hold(ArrowSchema())
    batch = b.hold(ArrowArray())
    cschemas = b.hold((POINTER(ArrowSchema) * max(ncol, 1))())
    carrays = b.hold((POINTER(ArrowArray) * max(ncol, 1))())
    for k, name in enumerate(names):
        fmt, n, nulls, bufs = _column(b, name, df.iloc[:, k])
        cs = b.hold(ArrowSchema())
        cs.format = fmt.encode()  # the struct keeps the bytes alive
        cs.name = name.encode("utf-8")
        cs.flags = _lib.ARROW_FLAG_NULLABLE
        cs.release = _noop_schema_release
        ca = b.hold(ArrowArray())
        ca.length = n
        ca.null_count = nulls
        ptrs = b.hold((c_void_p * len(bufs))())
        for i, buf in enumerate(bufs):
            if buf is not None:
                b.hold(buf)
                ptrs[i] = buf.ctypes.data
        ca.n_buffers = len(bufs)
        ca.buffers = ptrs
        ca.release = _noop_array_release
        cschemas[k] = ctypes.pointer(cs)
        carrays[k] = ctypes.pointer(ca)
    schema.format = b"+s"
    schema.name = b""
    schema.n_children = ncol
    schema.children = cschemas
    schema.release = _noop_schema_release
    batch.length = len(df)
    batch.n_buffers = 1
    batch.buffers = b.hold((c_void_p * 1)())
    batch.n_children = ncol
    batch.children = carrays
    batch.release = _noop_array_release
    return schema, batch, b
