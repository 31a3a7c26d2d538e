/* pond: the content-addressed large-file store (`<pond>/_large_files/`).
 *
 * A blob is named by the SHA-256 of its bytes: `<store>/<first two hex>/<sha256 hex>`. Beside it
 * lives its chunk table `<sha256 hex>.chunks`: one SHA-256 per fixed-size chunk, one SHA-256 per
 * group of chunk hashes, and a 64-byte trailer. The 32-byte `root` (SHA-256 over the group hashes
 * and the trailer) is what the oplog row stores next to the content hash and the size; with it
 * every read is verified chunk by chunk, random access included, without hashing the whole blob
 * first. The scheme is specified in docs/cas.md.
 *
 * Thread safety: a pond_cas may be shared by threads once opened (it is read only); each writer
 * and reader is used by one thread at a time. Several processes may write the same store: the
 * publish step and blob removal serialize on `<store>/.lock` (flock).
 *
 * Errors: negative POND_E* codes with a message (pond_error_last()). Data that fails verification
 * is POND_ECORRUPT with a message naming the blob and the chunk; the caller prefixes the node. */
#ifndef POND_CAS_H
#define POND_CAS_H

#include "common.h"
#include "hash.h"

typedef struct pond_cas pond_cas;
typedef struct pond_cas_writer pond_cas_writer;
typedef struct pond_cas_reader pond_cas_reader;

/** What a reference to a blob records (the oplog row stores all three). */
typedef struct {
    pond_hash sha256; /* SHA-256 of the content; names the blob */
    pond_hash root;   /* SHA-256 over the chunk table's group hashes and trailer */
    int64_t size;     /* content length in bytes */
} pond_cas_ref;

#define POND_CAS_DEFAULT_CHUNK_SIZE (256u * 1024u)
#define POND_CAS_DEFAULT_FANOUT 1024u
#define POND_CAS_MIN_CHUNK_SIZE 16u
#define POND_CAS_MAX_CHUNK_SIZE (16u * 1024u * 1024u)
#define POND_CAS_MIN_FANOUT 2u
#define POND_CAS_MAX_FANOUT 65536u

#define POND_CAS_OPTIONS_VERSION 1
typedef struct {
    unsigned version;    /* POND_CAS_OPTIONS_VERSION */
    uint32_t chunk_size; /* bytes per chunk for new blobs; one value per store (see docs/cas.md) */
    uint32_t fanout;     /* chunk hashes per group */
    bool threaded;       /* share the two SHA-256 passes with a second thread while writing */
} pond_cas_options;
#define POND_CAS_OPTIONS_INIT                                                                      \
    {                                                                                              \
        POND_CAS_OPTIONS_VERSION, POND_CAS_DEFAULT_CHUNK_SIZE, POND_CAS_DEFAULT_FANOUT, true       \
    }

/** Opens the store rooted at `dir` (normally `<pond>/_large_files`). Nothing is created on disk
 *  until the first writer. `opts` may be NULL (defaults). Every blob of one store must use the
 *  same chunk size and fanout, because a dedup hit replaces the chunk table file: the oplog
 *  always uses the defaults; other values are for tests. POND_EINVALID for bad options. */
POND_API int pond_cas_open(pond_cas **out, const char *dir, const pond_cas_options *opts);
POND_API void pond_cas_free(
    pond_cas *cas); /* NULL is fine; open readers/writers must be freed first */

/** The blob's path (`<dir>/<ab>/<hex>`) in a fresh string (pond_free). */
POND_API int pond_cas_blob_path(char **out, const pond_cas *cas, const pond_hash *sha256);

/* ---- writing ------------------------------------------------------------------------------ */

/** Starts a blob: creates `<dir>/tmp/<unique>.data` and `.chunks` (and the store directories if
 *  missing). Memory is bounded (at most 8 chunk buffers plus one group of chunk hashes) for any
 *  size. */
POND_API int pond_cas_writer_new(pond_cas_writer **out, pond_cas *cas);
/** Appends bytes, hashing exactly what is written. All or error; an error sticks. Whole chunks
 *  are hashed and written from `buf` itself; nothing refers to `buf` after the call returns. */
POND_API int pond_cas_writer_write(pond_cas_writer *w, const void *buf, size_t len);
/** Zero-copy appending, for a producer that reads its bytes from somewhere (a socket, a file):
 *  *buf_out points at the free part of the writer's current chunk buffer, *cap_out (> 0) bytes
 *  long; read up to that many bytes into it, then call pond_cas_writer_commit with how many were
 *  put there. The buffer is valid until the next call on `w`. The writer hashes and writes a
 *  chunk once it is full, on its hash thread while the producer fills the next buffer, so
 *  nothing is copied and the producer does not wait for the hashes (the ring of 8 buffers is
 *  what bounds how far it may run ahead). Interleaves freely with pond_cas_writer_write. */
POND_API int pond_cas_writer_buffer(void **buf_out, size_t *cap_out, pond_cas_writer *w);
/** Takes `len` bytes (at most the *cap_out of the last pond_cas_writer_buffer; 0 is fine)
 *  written into that buffer. All or error; an error sticks. */
POND_API int pond_cas_writer_commit(pond_cas_writer *w, size_t len);
/** Completes the blob: fsyncs both temp files, then (under the store lock) renames the chunk
 *  table and then the blob to their final names and fsyncs the fan-out directory (creating and
 *  fsyncing it first if needed). If the blob already existed (a dedup hit) the new, identical copy
 *  still replaces it: the inode at the final name is then fresh, which is how a dedup hit protects
 *  the blob from a concurrent gc (docs/cas.md). On failure nothing is left under a final name that
 *  was not there before. Call at most once; the writer must still be freed. */
POND_API int pond_cas_writer_finish(pond_cas_ref *ref_out, pond_cas_writer *w);
/** After a successful finish: true if a blob of that content already existed. */
POND_API bool pond_cas_writer_deduplicated(const pond_cas_writer *w);
/** Frees the writer; an unfinished writer is aborted and its temp files removed. NULL is fine. */
POND_API void pond_cas_writer_free(pond_cas_writer *w);

/** One-shot: writes `len` bytes as a blob. */
POND_API int pond_cas_put(pond_cas_ref *ref_out, pond_cas *cas, const void *data, size_t len);

/** Dedup without writing: if blob `sha256` of `size` bytes is in the store with a consistent
 *  chunk table, refreshes it against gc (under the store lock, a fresh copy of its table replaces
 *  the table: the same protection a writer's dedup hit gives) and returns its reference.
 *  POND_ENOTFOUND if it is absent, has another size, or its table is missing or damaged: then
 *  write the content with a writer (which also replaces a damaged copy). The blob's bytes are not
 *  re-hashed (reads verify them). For callers that already know the content hash, e.g. from a
 *  tinyfs spill file. */
POND_API int pond_cas_reuse(pond_cas_ref *ref_out, pond_cas *cas, const pond_hash *sha256,
                            int64_t size);

/* ---- verified reading --------------------------------------------------------------------- */

/** Opens a verified reader. Reads the chunk table's group hashes and trailer, checks them against
 *  ref->root, and checks the trailer's content hash against ref->sha256 and its size against
 *  ref->size (when ref->size >= 0). POND_ENOTFOUND if the blob is absent; POND_ECORRUPT if the
 *  chunk table is missing or does not match. Memory: one chunk, one group of chunk hashes and the
 *  group-hash list (32 bytes per group, 128 bytes per GiB with the defaults). */
POND_API int pond_cas_reader_open(pond_cas_reader **out, pond_cas *cas, const pond_cas_ref *ref);
/** Reads up to cap bytes at the current position and advances it; *n_out == 0 at end.
 *  Every byte returned belongs to a chunk whose SHA-256 matched; a chunk failing verification is
 *  POND_ECORRUPT ("blob <hex> chunk <i> ..."), *n_out is 0, the position does not move and the
 *  bytes of buf this call wrote are zeroed (whole chunks are verified in buf itself; nothing
 *  after the failed chunk is touched). Other failures (I/O, memory) leave buf the same way. */
POND_API int pond_cas_reader_read(pond_cas_reader *r, void *buf, size_t cap, size_t *n_out);
/** Reads up to len bytes at off without moving the position; *n_out < len only at the end. */
POND_API int pond_cas_reader_read_at(pond_cas_reader *r, void *buf, size_t len, int64_t off,
                                     size_t *n_out);
/** Moves the position (whence: SEEK_SET, SEEK_CUR, SEEK_END); past the end is allowed.
 *  POND_EINVALID for a negative result. pos_out may be NULL. */
POND_API int pond_cas_reader_seek(int64_t *pos_out, pond_cas_reader *r, int64_t off, int whence);
/** The verified content size. */
POND_API int64_t pond_cas_reader_size(const pond_cas_reader *r);
POND_API void pond_cas_reader_free(pond_cas_reader *r); /* NULL is fine */

/* ---- fsck and gc primitives --------------------------------------------------------------- */

/** Re-hashes the blob `sha256` completely: the content hash must match its name, every chunk its
 *  chunk hash, every group its group hash and the trailer the size. On success *ref_out holds the
 *  recomputed reference: the caller compares ref_out->root and ->size with what it recorded.
 *  POND_ECORRUPT names the blob and the first bad chunk; POND_ENOTFOUND if absent. */
POND_API int pond_cas_verify(pond_cas_ref *ref_out, pond_cas *cas, const pond_hash *sha256);

typedef enum {
    POND_CAS_ENTRY_BLOB,   /* <ab>/<hex>: a blob (has_chunks says whether its table exists) */
    POND_CAS_ENTRY_CHUNKS, /* <ab>/<hex>.chunks whose blob is missing (orphan) */
    POND_CAS_ENTRY_TEMP, /* tmp/<pid>-<n>-<hex>.data|.chunks: a writer's file, live or abandoned */
    POND_CAS_ENTRY_OTHER /* anything else under the store: foreign (reported, never touched) */
} pond_cas_entry_kind;

typedef struct {
    pond_cas_entry_kind kind;
    const char *path; /* relative to the store directory ("" = the store directory itself);
                         * valid during the callback */
    pond_hash sha256; /* BLOB and CHUNKS */
    int64_t size;     /* bytes on disk */
    int64_t mtime_us; /* modification time, µs since the epoch */
    bool has_chunks;  /* BLOB: `<hex>.chunks` exists (as a regular file) */
    bool stale;       /* mtime older than the grace period given to foreach */
    uint32_t mode;    /* st_mode of the entry itself (a link is reported as a link) */
    bool misplaced;   /* OTHER: it sits where the store keeps its own file or directory (a
                         * blob name, `tmp`, a fan-out directory, the store itself, anything in
                         * tmp/) but is of the wrong type: a symbolic link, a FIFO, a device... */
} pond_cas_entry;

/** A non-zero return stops the walk and is returned. */
typedef int (*pond_cas_entry_cb)(const pond_cas_entry *entry, void *payload);

/** Walks the store: blobs, orphan chunk tables, temp files and foreign entries, in no
 *  particular order. `stale` is set for entries whose mtime is older than now - grace_us. A
 *  store directory that does not exist is empty. The walk never follows a symbolic link: a link
 *  (or a FIFO, a device, a file where a directory belongs) is reported as OTHER and never
 *  entered or opened; BLOB, CHUNKS and TEMP entries are regular files with the store's names. */
POND_API int pond_cas_foreach(pond_cas *cas, int64_t grace_us, pond_cas_entry_cb cb, void *payload);

/** gc: removes blob `sha256` and its chunk table, unless either was modified within the last
 *  grace_us microseconds (then *removed_out is false and nothing changes). Runs under the store
 *  lock, so it cannot interleave with a writer's publish step; a writer's dedup hit refreshes the
 *  blob, so an unreferenced blob that a writer is about to commit is never removed as long as
 *  grace_us exceeds the time between finish and commit. An absent blob removes any orphan chunk
 *  table and reports *removed_out = false. Only regular files are removed: a link or anything
 *  else under either name leaves both in place. *bytes_out is the size of what was removed.
 *  removed_out and bytes_out may be NULL. */
POND_API int pond_cas_remove(bool *removed_out, int64_t *bytes_out, pond_cas *cas,
                             const pond_hash *sha256, int64_t grace_us);

/** gc: removes the writers' temp files in `<dir>/tmp/` (regular files named as writers name
 *  them, nothing else) last modified more than grace_us ago whose sibling (the same stem with the
 *  other of `.data`/`.chunks`) is also that old or absent. A live writer writes its `.data` file
 *  once per chunk, so a grace period longer than any writer's pause never removes an
 *  in-progress temp file (a writer that pauses longer fails at finish). count_out and bytes_out
 *  (the bytes removed) may be NULL. */
POND_API int pond_cas_remove_stale_temps(size_t *count_out, int64_t *bytes_out, pond_cas *cas,
                                         int64_t grace_us);

#endif
