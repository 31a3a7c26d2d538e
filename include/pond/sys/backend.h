/* pond: the tinyfs backend interface, for backend authors.
 *
 * A backend stores node versions. tinyfs calls it with its fs mutex held, so a backend needs no
 * locking of its own against one fs; readers it returns may be used from any thread at any time
 * (until freed) and must therefore not share mutable state with the backend unguarded.
 *
 * Content flows as blobs: immutable, reference-counted byte sources (a heap buffer, or an
 * unlinked temporary file held open) with their size and SHA-256 computed while the writer
 * wrote them. A backend reads a blob sequentially (pond_blob_open_reader) or by offset, or
 * simply keeps a reference (the memory backend does): a 10 GiB file never has to sit in memory. */
#ifndef POND_SYS_BACKEND_H
#define POND_SYS_BACKEND_H

#include "../common.h"
#include "../hash.h"
#include "../stream.h"
#include "../tinyfs.h"

/* ---- blobs ---------------------------------------------------------------------------------- */

typedef struct pond_blob pond_blob;

/** A blob holding a copy of data (for content a backend loads, e.g. inline rows). */
POND_API int pond_blob_from_buf(pond_blob **out, const void *data, size_t len);
/** A blob over an open file descriptor (taken: closed when the last reference goes, also on
 *  failure) holding size bytes whose SHA-256 is sha256 (NULL: computed by reading it). */
POND_API int pond_blob_from_fd_take(pond_blob **out, int fd, int64_t size, const pond_hash *sha256);
POND_API pond_blob *pond_blob_ref(pond_blob *b);
/** NULL is fine. */
POND_API void pond_blob_unref(pond_blob *b);
POND_API int64_t pond_blob_size(const pond_blob *b);
POND_API const pond_hash *pond_blob_sha256(const pond_blob *b);
/** True when the content is in a file rather than on the heap. */
POND_API bool pond_blob_is_file(const pond_blob *b);
/** Up to len bytes at off; *n_out < len only at the end. Thread-safe. */
POND_API int pond_blob_pread(const pond_blob *b, void *buf, size_t len, int64_t off, size_t *n_out);
/** A reader over the blob (holds its own reference). */
POND_API int pond_blob_open_reader(pond_reader **out, pond_blob *b);

/* ---- custom readers ------------------------------------------------------------------------ */

typedef struct {
    /* Up to len bytes at off (0 <= off <= size); *n_out < len only at the end. */
    int (*pread)(void *impl, void *buf, size_t len, int64_t off, size_t *n_out);
    void (*free)(void *impl); /* may be NULL */
} pond_reader_ops;

/** A reader over any random-access source of size bytes; impl is taken (ops->free is called
 *  on it when the reader is freed, also when this call fails). */
POND_API int pond_reader_new(pond_reader **out, int64_t size, const pond_reader_ops *ops,
                             void *impl);
/** A blob over a backend's own random-access source of size bytes whose SHA-256 is sha256 (e.g.
 *  content a content sink already stored). ops->pread must be thread-safe. impl is taken:
 *  ops->free is called on it when the last reference goes, also when this call fails. */
POND_API int pond_blob_from_source(pond_blob **out, int64_t size, const pond_hash *sha256,
                                   const pond_reader_ops *ops, void *impl);
/** The impl of a blob made by pond_blob_from_source with exactly these ops, else NULL: how a
 *  backend recognises, at commit, content that its own sink already stored. */
POND_API void *pond_blob_source(const pond_blob *b, const pond_reader_ops *ops);

/* ---- node versions ---------------------------------------------------------------------------- */

typedef struct {
    char *name;
    pond_node_id id;
    pond_entry_type type;
    /* Version 3. The child's home partition (where every version of it lives: the directory it
     * was created in) when that is not this listing's directory, i.e. a file or symlink moved
     * here from elsewhere; all zero bytes otherwise, and always for a directory (its own
     * partition). Read it through pond_dir_entry_home. */
    pond_node_id part_id;
} pond_dir_entry;

/** One version of one node: immutable once handed to or returned by a backend; shared by
 *  reference counting (pond_node_rec_ref / _unref). */
typedef struct pond_node_rec {
    int refs; /* managed by pond_node_rec_ref/unref (atomic) */
    pond_node_id id;
    pond_node_id part_id; /* home partition, for life: a directory is its own; a file or
                               * symlink's is the directory it was created in (a move changes
                               * only the listings, docs/format.md) */
    pond_entry_type type;
    int64_t version;      /* per-node counter, 1, 2, 3, ... */
    int64_t txn_seq;      /* the transaction that wrote it */
    int64_t timestamp_us; /* µs UTC */
    int64_t size;         /* see pond_stat */
    pond_hash sha256;
    pond_dir_entry *entries; /* directories: the FULL listing, sorted by name (strcmp) */
    size_t n_entries;
    char *symlink_target; /* symlinks */
    char *xattrs_json;    /* may be NULL */
    bool has_event_time;  /* series: set by a higher layer */
    int64_t min_event_time_us;
    int64_t max_event_time_us;
    /* Files: the content. A backend's own records may leave it NULL (it serves content through
     * open_content). In records handed to commit it is NULL when this version has the same
     * bytes as the node's previous version (new xattrs): size
     * and sha256 still describe them, and the backend must keep serving them. */
    pond_blob *content;
} pond_node_rec;

/** A zeroed record with one reference. */
POND_API int pond_node_rec_new(pond_node_rec **out);
/** A deep copy with one reference (entries and strings copied, content blob shared). */
POND_API int pond_node_rec_dup(pond_node_rec **out, const pond_node_rec *src);
POND_API pond_node_rec *pond_node_rec_ref(pond_node_rec *r);
/** NULL is fine; frees everything it owns at the last reference. */
POND_API void pond_node_rec_unref(pond_node_rec *r);
POND_API void pond_node_recs_free(pond_node_rec **recs, size_t n);

/** Where the versions of dir's entry e live: e->part_id when set, else the child itself for a
 *  directory, else dir's own id. */
POND_API pond_node_id pond_dir_entry_home(const pond_node_rec *dir, const pond_dir_entry *e);

/** The POND_ENOTFOUND a backend returns for a node it does not have (version 0: "node <id> not
 *  found") or a version it does not have (version > 0: "node <id> has no version <n>"), set in
 *  the backend's error domain. */
POND_API int pond_node_not_found(int domain, const pond_node_id *id, int64_t version);

/* ---- damaged listings ------------------------------------------------------------------------ */

/** Called once per broken rule with a message such as "entry 2 'a/b': name contains '/'". */
typedef void (*pond_dir_problem_fn)(const char *problem, void *payload);
/** Checks the listing of directory record dir against the rules every listing obeys: each name
 *  is a valid entry name (pond_name_validate: non-empty, at most 255 bytes, no '/' or NUL, not
 *  "." or "..", UTF-8); names are strictly increasing by strcmp (sorted, unique); the node id
 *  is present (not the nil id); a part_id (optional: all zero is none) is only on a file or
 *  symlink entry; no entry refers to the directory itself or to the root; every type is known.
 *  A backend checks what it decodes and refuses to write a listing that fails. What only the
 *  stored form shows is the decoder's to refuse: a name with a NUL inside (its stored length)
 *  and a stored part_id that is the nil id (it would read as none).
 *  With fn, reports every violation and returns how many there were (0: valid). With fn NULL,
 *  stops at the first: POND_ECORRUPT with the message as above (the caller adds where the
 *  listing came from). */
POND_API int pond_dir_entries_check(const pond_node_rec *dir, pond_dir_problem_fn fn,
                                    void *payload);

/** A walk of a directory tree that notices a directory reached twice. In a sound tree every
 *  directory but the root is listed by exactly one entry; a damaged or crafted one may list a
 *  directory twice or in its own subtree, and an unchecked walk then loops or explodes. */
typedef struct pond_dir_walk pond_dir_walk;
POND_API int pond_dir_walk_new(pond_dir_walk **out);
/** NULL is fine. */
POND_API void pond_dir_walk_free(pond_dir_walk *w);
/** Call before descending into directory child, which is entry name of directory parent,
 *  shown to the user as path. 0: reached for the first time. 1: reached through this same
 *  entry before (a walk that comes back through a symlink or another pattern component).
 *  POND_ECORRUPT: child is the root, or was reached before through another entry; the message
 *  names path and the first path ("the directory tree is corrupt"). */
POND_API int pond_dir_walk_enter(pond_dir_walk *w, const pond_node_id *parent, const char *name,
                                 const pond_node_id *child, const char *path);

/* ---- content sinks ---------------------------------------------------------------------------- */

/** Where a writer streams new content that outgrew its memory buffer, when the backend offers
 *  one (vtable version 2, open_sink): the backend stores the bytes as they arrive (the oplog:
 *  into a large-file store writer, hashing while writing), so that commit only records a
 *  reference. A sink is used by one thread at a time. */
typedef struct pond_content_sink pond_content_sink;
struct pond_content_sink {
    /* Appends len bytes; nothing refers to buf after the call. An error sticks. */
    int (*write)(pond_content_sink *s, const void *buf, size_t len);
    /* Completes the content (durably, if the backend is durable): *out is a new blob of exactly
     * the bytes written, with their size and SHA-256, readable like any blob, and which this
     * backend's commit stores without copying. Call at most once; free the sink afterwards. */
    int (*finish)(pond_blob **out, pond_content_sink *s);
    /* Required. An unfinished sink discards its content (temporary data removed). */
    void (*free)(pond_content_sink *s);
};

/* ---- the vtable ------------------------------------------------------------------------------- */

/* Version 2 appended open_sink. Version 3 appended part_id to pond_dir_entry: listings are
 * arrays of it, so a backend built for 1 or 2 lays them out differently and is refused.
 * Version 4 appended list_versions_overlapping (a version 3 backend is read as having none).
 * tinyfs accepts versions POND_BACKEND_VERSION_MIN..POND_BACKEND_VERSION. */
#define POND_BACKEND_VERSION 4
#define POND_BACKEND_VERSION_MIN 3

typedef struct {
    int64_t txn_seq;       /* must be last_txn + 1, else the backend returns POND_ECONFLICT */
    int64_t timestamp_us;  /* the transaction's time (µs UTC) */
    const char *meta_json; /* may be NULL: e.g. {"argv": [...]} for commitInfo */
} pond_backend_txn_info;

struct pond_backend {
    unsigned version; /* POND_BACKEND_VERSION */
    const char *name; /* "memory", "oplog", ... */
    /* The latest version of a node (*out: a new reference). POND_ENOTFOUND if none. */
    int (*latest)(pond_node_rec **out, pond_backend *be, const pond_node_id *id);
    /* Version n of a node. POND_ENOTFOUND if none. */
    int (*get_version)(pond_node_rec **out, pond_backend *be, const pond_node_id *id,
                       int64_t version);
    /* Every version of a node, oldest first (array from pond_malloc of new references; free
     * with pond_node_recs_free). POND_ENOTFOUND if none. */
    int (*list_versions)(pond_node_rec ***out, size_t *n_out, pond_backend *be,
                         const pond_node_id *id);
    /* A reader over a file version's content (rec came from this backend). */
    int (*open_content)(pond_reader **out, pond_backend *be, const pond_node_rec *rec);
    /* The sequence number of the last committed transaction (0 when none). */
    int (*last_txn)(int64_t *out, pond_backend *be);
    /* Durably and atomically store one transaction: recs are the new node versions (each
     * node at most once; references are borrowed: take your own). All or nothing. */
    int (*commit)(pond_backend *be, const pond_backend_txn_info *info, pond_node_rec *const *recs,
                  size_t n);
    /* A read-only backend showing the state right after transaction txn_seq (time travel).
     * It may share state with be; it must be freed before be. */
    int (*open_as_of)(pond_backend **out, pond_backend *be, int64_t txn_seq);
    /* Required. */
    void (*free)(pond_backend *be);
    /* ---- version 2 ---- */
    /* May be NULL (tinyfs then spills large content to an unlinked temporary file and hands
     * commit a file blob). A sink for new content of a file of the given type, opened by a
     * writer once its content outgrows the writer's memory buffer. POND_EUNSUPPORTED makes the
     * writer spill as without a sink (e.g. a read-only view). The sink must not outlive be. */
    int (*open_sink)(pond_content_sink **out, pond_backend *be, pond_entry_type type);
    /* ---- version 4 ---- */
    /* May be NULL (tinyfs then lists every version). The versions of a node, oldest
     * first, that may hold event times in [from_us, to_us]: at least every version
     * whose recorded event-time range overlaps it, and every version without one. */
    int (*list_versions_overlapping)(pond_node_rec ***out, size_t *n_out, pond_backend *be,
                                     const pond_node_id *id, int64_t from_us, int64_t to_us);
};

#endif
