"""The C library (libpond.so) through ctypes: loading it, the structs and the prototypes.

The library is, in order: the file named by $POND_LIB; build/libpond.so of the source tree this
package sits in (python/pond/ -> ../../build/libpond.so); the library `make install` put beside
this package (_install.LIBDIR); libpond.so.0 from the loader's search path.
"""
import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char_p, c_int, c_int64, c_size_t,
                    c_uint, c_uint8, c_void_p)

# ---- the Arrow C data and stream interfaces (exactly the specification's structs)


class ArrowSchema(Structure):
    pass


class ArrowArray(Structure):
    pass


class ArrowArrayStream(Structure):
    pass


SchemaRelease = CFUNCTYPE(None, POINTER(ArrowSchema))
ArrayRelease = CFUNCTYPE(None, POINTER(ArrowArray))
ArrowSchema._fields_ = [
    ("format", c_char_p), ("name", c_char_p), ("metadata", c_char_p), ("flags", c_int64),
    ("n_children", c_int64), ("children", POINTER(POINTER(ArrowSchema))),
    ("dictionary", POINTER(ArrowSchema)), ("release", SchemaRelease), ("private_data", c_void_p)]
ArrowArray._fields_ = [
    ("length", c_int64), ("null_count", c_int64), ("offset", c_int64), ("n_buffers", c_int64),
    ("n_children", c_int64), ("buffers", POINTER(c_void_p)),
    ("children", POINTER(POINTER(ArrowArray))), ("dictionary", POINTER(ArrowArray)),
    ("release", ArrayRelease), ("private_data", c_void_p)]
StreamGetSchema = CFUNCTYPE(c_int, POINTER(ArrowArrayStream), POINTER(ArrowSchema))
StreamGetNext = CFUNCTYPE(c_int, POINTER(ArrowArrayStream), POINTER(ArrowArray))
StreamGetError = CFUNCTYPE(c_void_p, POINTER(ArrowArrayStream))
StreamRelease = CFUNCTYPE(None, POINTER(ArrowArrayStream))
ArrowArrayStream._fields_ = [
    ("get_schema", StreamGetSchema), ("get_next", StreamGetNext),
    ("get_last_error", StreamGetError), ("release", StreamRelease), ("private_data", c_void_p)]

ARROW_FLAG_NULLABLE = 2

# ---- pond structs


class Error(Structure):
    _fields_ = [("code", c_int), ("domain", c_int), ("message", c_char_p)]


class Stat(Structure):
    _fields_ = [("type", c_int), ("id", c_uint8 * 16), ("version", c_int64), ("txn_seq", c_int64),
                ("size", c_int64), ("mtime_us", c_int64), ("btime_us", c_int64),
                ("sha256", c_uint8 * 32), ("has_event_time", c_bool),
                ("min_event_time_us", c_int64), ("max_event_time_us", c_int64)]


class ReadOptions(Structure):
    _fields_ = [("version", c_uint), ("file_version", c_int64), ("has_range", c_bool),
                ("from_us", c_int64), ("to_us", c_int64), ("columns", POINTER(c_char_p)),
                ("n_columns", c_int)]


class WriteOptions(Structure):
    _fields_ = [("version", c_uint), ("timestamp_column", c_char_p), ("compression", c_int),
                ("row_group_rows", c_int64), ("compression_level", c_int)]


GlobFn = CFUNCTYPE(c_int, c_char_p, POINTER(Stat), POINTER(c_char_p), c_size_t, c_void_p)

ENTRY_TYPES = {1: "directory", 2: "symlink", 3: "file:data", 4: "file:table", 5: "file:series"}
ENTRY_TABLE, ENTRY_SERIES = 4, 5
MKDIR_PARENTS = 1


def _find():
    env = os.environ.get("POND_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    tree = os.path.normpath(os.path.join(here, "..", "..", "build", "libpond.so"))
    if os.path.exists(tree):
        return tree
    try:
        from . import _install
        inst = os.path.join(_install.LIBDIR, "libpond.so.0")
        if os.path.exists(inst):
            return inst
    except ImportError:
        pass
    return ctypes.util.find_library("pond") or "libpond.so.0"


def _load():
    lib = ctypes.CDLL(_find())
    P = c_void_p
    protos = {
        "pond_error_last": (POINTER(Error), []),
        "pond_free": (None, [P]),
        "pond_oplog_open": (c_int, [POINTER(P), c_char_p, P]),
        "pond_oplog_lock": (c_int, [P, c_bool]),
        "pond_oplog_unlock": (None, [P]),
        "pond_backend_free": (None, [P]),
        "pond_fs_open": (c_int, [POINTER(P), P, P]),
        "pond_fs_free": (None, [P]),
        "pond_fs_begin": (c_int, [P, c_char_p]),
        "pond_fs_commit": (c_int, [POINTER(c_int64), P]),
        "pond_fs_abort": (None, [P]),
        "pond_fs_mkdir": (c_int, [P, P, c_char_p, c_uint]),
        "pond_fs_stat": (c_int, [POINTER(Stat), P, P, c_char_p]),
        "pond_fs_versions": (c_int, [POINTER(POINTER(Stat)), POINTER(c_size_t), P, P, c_char_p]),
        "pond_fs_glob": (c_int, [P, P, c_char_p, GlobFn, P]),
        "pond_path_normalize": (c_int, [POINTER(c_void_p), POINTER(c_bool), c_char_p, c_char_p]),
        "pond_series_timestamp_column": (c_int, [POINTER(c_void_p), P, P, c_char_p]),
        "pond_table_read_stream": (c_int, [POINTER(ArrowArrayStream), P, P, c_char_p,
                                           POINTER(ReadOptions)]),
        "pond_table_write_batch": (c_int, [P, P, c_char_p, c_int, POINTER(ArrowSchema),
                                           POINTER(ArrowArray), POINTER(WriteOptions)]),
        "pond_time_parse": (c_int, [POINTER(c_int64), c_char_p, c_size_t]),
        "pond_sql_open": (c_int, [POINTER(P), P]),
        "pond_sql_free": (None, [P]),
        "pond_sql_attach": (c_int, [P, c_char_p, c_char_p, c_int64]),
        "pond_sql_query_stream": (c_int, [POINTER(ArrowArrayStream), P, c_char_p]),
    }
    for name, (res, args) in protos.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    return lib


lib = _load()

# the C API of CPython, for the Arrow PyCapsule interface
_py = ctypes.pythonapi
_py.PyCapsule_New.restype = ctypes.py_object
_py.PyCapsule_New.argtypes = [c_void_p, c_char_p, c_void_p]
_py.PyCapsule_GetPointer.restype = c_void_p
_py.PyCapsule_GetPointer.argtypes = [ctypes.py_object, c_char_p]
_py.PyCapsule_IsValid.restype = c_int
_py.PyCapsule_IsValid.argtypes = [ctypes.py_object, c_char_p]
# the destructor receives the capsule while it is being freed: a raw pointer, never a py_object
CapsuleDestructor = CFUNCTYPE(None, c_void_p)
capsule_get_pointer_raw = ctypes.PYFUNCTYPE(c_void_p, c_void_p, c_char_p)(
    ("PyCapsule_GetPointer", _py))
