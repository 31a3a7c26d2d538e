/* pond: tinyfs, the byte filesystem.
 *
 * A tree of directories, files and symlinks whose state lives in a backend (see
 * <pond/backend.h>: pond_backend_memory_new gives an in-memory one). Every change happens
 * inside a transaction (pond_fs_begin / pond_fs_commit / pond_fs_abort); a change outside one
 * fails with POND_ETXN. Every node written in a transaction gets exactly one new version
 * (1, 2, 3, ... per node). Reads inside a transaction see its own writes.
 *
 * Paths: '/'-separated UTF-8. Absolute paths start at the root; relative ones at a working
 * directory (pond_wd; NULL means the root). '.' and '..' are resolved lexically and never climb
 * above the root. A trailing '/' means "must be a directory". Intermediate symlinks are always
 * followed (at most 40 hops, else POND_ELOOP).
 *
 * Names: non-empty, no '/' or NUL, not "." or "..", valid UTF-8, at most 255 bytes
 * (POND_EINVALID naming the bad name).
 *
 * Threads: every call may be made from any thread; one recursive mutex per fs serialises them
 * (glob callbacks may call back into the fs). Errors: negative POND_E* with a message naming the
 * path (pond_error_last()). */
#ifndef POND_TINYFS_H
#define POND_TINYFS_H

#include "common.h"
#include "backend.h"
#include "buf.h"
#include "hash.h"
#include "stream.h"

typedef struct pond_fs pond_fs;
typedef struct pond_wd pond_wd;

typedef enum {
    POND_ENTRY_NONE = 0,
    POND_ENTRY_DIRECTORY = 1,  /* "directory" */
    POND_ENTRY_SYMLINK = 2,    /* "symlink" */
    POND_ENTRY_FILE_DATA = 3,  /* "file:data" */
    POND_ENTRY_FILE_TABLE = 4, /* "file:table" */
    POND_ENTRY_FILE_SERIES = 5 /* "file:series" */
} pond_entry_type;

/** The on-disk spelling ("file:data", ...); "unknown" for anything else. Static storage. */
POND_API const char *pond_entry_type_name(pond_entry_type t);
/** Parse an on-disk spelling; POND_EINVALID (naming it) when unknown. */
POND_API int pond_entry_type_parse(pond_entry_type *out, const char *name);
POND_API bool pond_entry_type_is_file(pond_entry_type t);

/** A node id: a UUIDv7 held as 16 bytes. The root directory's id is fixed:
 *  00000000-0000-7000-8000-000000000000. */
typedef struct {
    uint8_t bytes[16];
} pond_node_id;

#define POND_NODE_ID_STRLEN 36
POND_API pond_node_id pond_node_id_root(void);
/** A fresh UUIDv7 (48-bit ms time, getrandom for the rest). */
POND_API int pond_node_id_new(pond_node_id *out);
/** 36-char lowercase form plus NUL. */
POND_API void pond_node_id_format(char out[POND_NODE_ID_STRLEN + 1], const pond_node_id *id);
/** POND_EINVALID unless s is the 36-char hyphenated hex form. */
POND_API int pond_node_id_parse(pond_node_id *out, const char *s);
POND_API bool pond_node_id_equal(const pond_node_id *a, const pond_node_id *b);
/** True when id is all zero bytes, which no node has (UUIDv7 and the root carry version 7). */
POND_API bool pond_node_id_is_nil(const pond_node_id *id);

typedef struct {
    pond_entry_type type;
    pond_node_id id;
    int64_t version;     /* per-node counter; 0 only for the root of an empty fs */
    int64_t txn_seq;     /* the transaction that wrote this version (0: never written) */
    int64_t size;        /* files: bytes; symlinks: target length; directories: entries */
    int64_t mtime_us;    /* when this version was written (µs UTC) */
    int64_t btime_us;    /* when version 1 was written (µs UTC; see POND_XATTR_BTIME) */
    pond_hash sha256;    /* files: of the content; symlinks: of the target; dirs: zero */
    bool has_event_time; /* series versions: the event-time range a higher layer recorded */
    int64_t min_event_time_us;
    int64_t max_event_time_us;
} pond_stat;

/** A version's extended attributes may record its node's btime_us (an integer member of the
 *  top-level object): a stat then takes it from there instead of reading version 1, which
 *  may be far back in the node's history. A higher layer that keeps its own attributes across
 *  versions (the series index) records it; anything else reads version 1. */
#define POND_XATTR_BTIME "pond.btime"

typedef struct {
    char *name;
    pond_entry_type type;
    pond_node_id id;
} pond_fs_dirent;

/* ---- opening ---------------------------------------------------------------------------- */

typedef struct {
    unsigned version;       /* POND_FS_OPTIONS_VERSION */
    size_t spill_threshold; /* writers keep this much in memory, then stream to the backend's
                               * content sink (if any) or spill to tmp_dir; 0 = 1 MiB */
    const char *tmp_dir;    /* where spill files go; NULL = $TMPDIR or /tmp (copied) */
    int64_t as_of_txn;      /* -1: latest; otherwise a read-only view right after that
                               * transaction (as pond_oplog_options.as_of_txn). Version 1 of
                               * this struct said latest with 0: a version-1 caller's 0 (or
                               * less) still means latest. */
} pond_fs_options;

#define POND_FS_OPTIONS_VERSION 2
#define POND_FS_OPTIONS_INIT                                                                       \
    {                                                                                              \
        POND_FS_OPTIONS_VERSION, 0, NULL, -1                                                       \
    }
#define POND_FS_DEFAULT_SPILL_THRESHOLD ((size_t)1 << 20)

/** Open a filesystem over a backend. The backend is borrowed: it must outlive the fs (free the
 *  fs first). opts may be NULL. With an as_of_txn other than -1 the backend must support
 *  open_as_of (else POND_EUNSUPPORTED) and the fs is read-only. */
POND_API int pond_fs_open(pond_fs **out, pond_backend *backend, const pond_fs_options *opts);
/** NULL is fine. An open transaction is aborted. Open writers must be freed first; readers may
 *  outlive the fs. */
POND_API void pond_fs_free(pond_fs *fs);

/* ---- transactions -------------------------------------------------------------------------- */

/** Start the fs's one write transaction. POND_EBUSY if one is open; POND_EUNSUPPORTED on a
 *  read-only fs. meta_json (may be NULL, copied) is handed to the backend at commit (e.g. the
 *  command line). */
POND_API int pond_fs_begin(pond_fs *fs, const char *meta_json);
/** Hand every new node version to the backend in one call. POND_EBUSY (transaction stays open)
 *  while a writer is open. Any other failure aborts the transaction. On success *txn_seq_out
 *  (may be NULL) is the committed transaction's sequence number. */
POND_API int pond_fs_commit(int64_t *txn_seq_out, pond_fs *fs);
/** Drop every change of the open transaction; open writers become dead (their next write and
 *  their finish give POND_ETXN, and the first of those drops what they wrote: spill file, or a
 *  backend sink's temporary data). No-op without a transaction. */
POND_API void pond_fs_abort(pond_fs *fs);
POND_API bool pond_fs_in_txn(pond_fs *fs);
/** How many nodes the open transaction changes so far (0 without one): a command that found
 *  nothing to do aborts instead of committing an empty transaction. */
POND_API size_t pond_fs_txn_changes(pond_fs *fs);
/** The sequence number of the last committed transaction (0 when none). */
POND_API int pond_fs_last_txn(int64_t *out, pond_fs *fs);

/* ---- working directories ------------------------------------------------------------------ */

/** A working directory for relative paths: path is resolved (symlinks followed) against base
 *  (NULL = root) and must be a directory. The wd keeps the resolved absolute path (not the
 *  node): it names whatever is at that path at each call. */
POND_API int pond_wd_open(pond_wd **out, pond_fs *fs, const pond_wd *base, const char *path);
/** The wd's absolute path; valid while the wd lives. */
POND_API const char *pond_wd_path(const pond_wd *wd);
POND_API void pond_wd_free(pond_wd *wd);

/* ---- paths and names ---------------------------------------------------------------------- */

/** Validate one name; POND_EINVALID with a message quoting it and saying why. */
POND_API int pond_name_validate(const char *name, size_t len);
/** Normalise path (relative to base, an absolute path; NULL = "/") lexically into a fresh
 *  absolute path ("/" or "/a/b", no trailing slash). *dir_out (may be NULL) is set when the
 *  path ended in '/'. Paths longer than 4096 bytes are POND_EINVALID. */
POND_API int pond_path_normalize(char **out, bool *dir_out, const char *base, const char *path);

/* ---- operations (wd may be NULL: the root) ----------------------------------------------- */

#define POND_FS_MKDIR_PARENTS 1u /* create missing parents; an existing directory is fine */

POND_API int pond_fs_mkdir(pond_fs *fs, const pond_wd *wd, const char *path, unsigned flags);
/** Create an empty file (version 1, size 0) of a file type; POND_EEXISTS if the name exists. */
POND_API int pond_fs_create(pond_fs *fs, const pond_wd *wd, const char *path, pond_entry_type type);
/** Follows a final symlink. */
POND_API int pond_fs_stat(pond_stat *out, pond_fs *fs, const pond_wd *wd, const char *path);
/** Does not follow a final symlink. */
POND_API int pond_fs_lstat(pond_stat *out, pond_fs *fs, const pond_wd *wd, const char *path);
/** Entries of a directory in byte order of name; free with pond_fs_dirents_free. */
POND_API int pond_fs_readdir(pond_fs_dirent **out, size_t *n_out, pond_fs *fs, const pond_wd *wd,
                             const char *path);
POND_API void pond_fs_dirents_free(pond_fs_dirent *entries, size_t n);
/** Append the whole latest content to out. */
POND_API int pond_fs_read_all(pond_buf *out, pond_fs *fs, const pond_wd *wd, const char *path);
/** Create or replace a file with data (one writer, finished). type NONE keeps an existing
 *  file's type, or file:data for a new one. */
POND_API int pond_fs_write_all(pond_fs *fs, const pond_wd *wd, const char *path,
                               pond_entry_type type, const void *data, size_t len);
/** A reader over the latest content (or, inside a transaction, its pending content).
 *  POND_EBUSY (naming the path) while a writer is open on the file. */
POND_API int pond_fs_open_reader(pond_reader **out, pond_fs *fs, const pond_wd *wd,
                                 const char *path);
/** A reader over an older version of a file (by number). */
POND_API int pond_fs_open_reader_version(pond_reader **out, pond_fs *fs, const pond_wd *wd,
                                         const char *path, int64_t version);
/** Every stored version of the node at path, oldest first; free with pond_free. */
POND_API int pond_fs_versions(pond_stat **out, size_t *n_out, pond_fs *fs, const pond_wd *wd,
                              const char *path);
/** A writer that will replace (or create) the file at path when finished. Requires an open
 *  transaction (POND_ETXN). POND_EBUSY (naming the path) if another writer is open on it.
 *  type: as for pond_fs_write_all; a type different from an existing file's is POND_EINVALID. */
POND_API int pond_fs_open_writer(pond_writer **out, pond_fs *fs, const pond_wd *wd,
                                 const char *path, pond_entry_type type);
/** Remove a file, a symlink (not its target) or an empty directory; recursive removes a
 *  directory with everything under it. POND_ENOTEMPTY otherwise; the root cannot be removed. */
POND_API int pond_fs_remove(pond_fs *fs, const pond_wd *wd, const char *path, bool recursive);
/** Move from to to. If to names an existing directory the entry moves into it under its own
 *  name; any other existing to is POND_EEXISTS. Moving a directory into itself is
 *  POND_EINVALID. */
POND_API int pond_fs_rename(pond_fs *fs, const pond_wd *wd, const char *from, const char *to);
/** Create a symlink at linkpath whose target is the path text target (not checked). */
POND_API int pond_fs_symlink(pond_fs *fs, const pond_wd *wd, const char *target,
                             const char *linkpath);
/** The target of the symlink at path (fresh string, pond_free). */
POND_API int pond_fs_readlink(char **out, pond_fs *fs, const pond_wd *wd, const char *path);
/** Set (or with NULL clear) the extended-attributes JSON text of a node: a new version. */
POND_API int pond_fs_set_xattrs(pond_fs *fs, const pond_wd *wd, const char *path, const char *json);
/** The extended-attributes JSON of the latest version (*out NULL when none; pond_free). */
POND_API int pond_fs_get_xattrs(char **out, pond_fs *fs, const pond_wd *wd, const char *path);

/* ---- node handles ---------------------------------------------------------------------------- */

/** A resolved entry: a name in a directory, found once by walking its path (symlinks followed
 *  as pond_fs_open_node's flags say), then used for any number of calls that would otherwise
 *  walk the path from the root again each time (stat, versions, readers, writers, attributes).
 *  Each call looks the name up in its directory's current listing (O(log entries)), so the
 *  handle sees writes, a file created through it, and a removal (POND_ENOTFOUND) in the
 *  transaction; a rename or removal of a directory above it is not seen (it names the
 *  directory, not the path). A handle borrows the fs: free it before the fs. One thread at a
 *  time per handle. */
typedef struct pond_fs_node pond_fs_node;

#define POND_FS_NODE_NOFOLLOW 1u /* a final symlink is the entry itself (like lstat) */

/** Resolve path. The entry need not exist yet (its directory must: POND_ENOTFOUND, or
 *  POND_ENOTDIR, otherwise): a writer opened through the handle creates it. */
POND_API int pond_fs_node_open(pond_fs_node **out, pond_fs *fs, const pond_wd *wd, const char *path,
                               unsigned flags);
/** A second handle on the same entry (no path walk). */
POND_API int pond_fs_node_dup(pond_fs_node **out, const pond_fs_node *node);
/** NULL is fine. */
POND_API void pond_fs_node_free(pond_fs_node *node);
/** The physical absolute path (symlinks substituted); valid while the handle lives. */
POND_API const char *pond_fs_node_path(const pond_fs_node *node);
/** The fs the handle was opened on. */
POND_API pond_fs *pond_fs_node_fs(const pond_fs_node *node);
/** As pond_fs_stat; POND_ENOTFOUND (naming the path) when the entry does not exist. */
POND_API int pond_fs_node_stat(pond_stat *out, pond_fs_node *node);
/** As pond_fs_versions: every stored version (and the transaction's pending one), oldest
 *  first; free with pond_free. */
POND_API int pond_fs_node_versions(pond_stat **out, size_t *n_out, pond_fs_node *node);
/** Called per version, oldest first, with its stat and its extended attributes (NULL when it
 *  has none); both borrowed for the call. Return non-zero to stop (returned as is). */
typedef int (*pond_fs_version_fn)(const pond_stat *st, const char *xattrs_json, void *payload);
/** Every version as pond_fs_node_versions lists them, without copying them. fn must not call
 *  back into the fs. */
POND_API int pond_fs_node_foreach_version(pond_fs_node *node, pond_fs_version_fn fn, void *payload);
/** As pond_fs_node_foreach_version, for the versions that may hold event times in
 *  [from_us, to_us] only: those whose recorded event-time range overlaps it, those without one,
 *  and the transaction's pending version (whatever its range). Asks the backend for just those
 *  when it can (the oplog then reads only the data files whose range overlaps), else lists
 *  every version and filters. A stat's btime_us is the node's (as pond_fs_node_stat's). */
POND_API int pond_fs_node_foreach_version_overlapping(pond_fs_node *node, int64_t from_us,
                                                      int64_t to_us, pond_fs_version_fn fn,
                                                      void *payload);
/** A reader over version `version` (0: the latest, or the transaction's pending content).
 *  With version 0, POND_EBUSY while a writer is open on the entry; a version asked for by
 *  number is immutable and readable while a writer prepares the next one. */
POND_API int pond_fs_node_open_reader(pond_reader **out, pond_fs_node *node, int64_t version);
/** As pond_fs_open_writer on the entry (type NONE keeps an existing file's type). */
POND_API int pond_fs_node_open_writer(pond_writer **out, pond_fs_node *node, pond_entry_type type);
/** The latest version's extended attributes (*out NULL when none; pond_free). */
POND_API int pond_fs_node_get_xattrs(char **out, pond_fs_node *node);
/** As pond_fs_set_xattrs. */
POND_API int pond_fs_node_set_xattrs(pond_fs_node *node, const char *json);

/** How many paths this fs has walked from the root so far (every path-based call walks one;
 *  calls through a node handle walk none): for tests and benchmarks. */
POND_API uint64_t pond_fs_path_walks(pond_fs *fs);

/* ---- glob --------------------------------------------------------------------------------- */

/** Called once per match with its absolute path, its lstat, and the text matched by each
 *  wildcard of the pattern, left to right ('*', '?', '[...]' each capture their text; '**'
 *  captures the directories it crossed joined by '/', "" for zero). Return non-zero to stop
 *  (pond_fs_glob then returns that value). */
typedef int (*pond_glob_fn)(const char *path, const pond_stat *st, const char *const *captures,
                            size_t n_captures, void *payload);

/** Match pattern (relative to wd, or absolute) against the tree in depth-first name order.
 *  '*' any run of characters within a name, '?' one character, '[abc]' '[a-z]' '[!a]' one
 *  character of a set, '**' as a whole component: zero or more directories. A backslash
 *  escapes the next character. Symlinked directories are followed for literal components only
 *  ('**' does not descend through symlinks, so it cannot loop). */
POND_API int pond_fs_glob(pond_fs *fs, const pond_wd *wd, const char *pattern, pond_glob_fn fn,
                          void *payload);

/** A compiled single-name pattern (one path component), exposed for tests and fuzzing. */
typedef struct pond_glob_pat pond_glob_pat;
POND_API int pond_glob_pat_compile(pond_glob_pat **out, const char *text, size_t len);
/** 1 on match (captures filled: n_caps_out spans [start, end) in caps, up to cap_cap of them),
 *  0 on no match. */
POND_API int pond_glob_pat_match(const pond_glob_pat *p, const char *name, size_t len,
                                 size_t (*caps)[2], size_t cap_cap, size_t *n_caps_out);
POND_API size_t pond_glob_pat_captures(const pond_glob_pat *p);
POND_API void pond_glob_pat_free(pond_glob_pat *p);

#endif
