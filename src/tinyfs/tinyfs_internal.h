/* tinyfs internals shared across src/tinyfs/ (not installed). */
#ifndef POND_TINYFS_INTERNAL_H
#define POND_TINYFS_INTERNAL_H

#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <pthread.h>

#define TINYFS_PATH_MAX 4096
#define TINYFS_NAME_MAX 255
#define TINYFS_SYMLINK_HOPS 40

/* ---- names and paths ---- */
/* Quote a name for a message: printable ASCII as is, other bytes as \xNN, truncated. */
void pond_tinyfs__quote(char *out, size_t cap, const char *s, size_t len);
/* Why name (len bytes) is not a valid entry name (the rules of pond_name_validate), or NULL.
 * The answer is static text or written into why. */
const char *pond_tinyfs__name_problem(const char *name, size_t len, char why[64]);
/* Split a normalised absolute path into a fresh parent path and a pointer to the last name
 * inside path. "/" has no parent (POND_EINVALID). */
int pond_tinyfs__split(char **parent_out, const char **name_out, const char *abs_path);

/* ---- directories ---- */
/* Index of name in a sorted listing, or -(insert position) - 1. */
ptrdiff_t pond_tinyfs__dir_find(const pond_node_rec *dir, const char *name);

/* ---- the fs ---- */
typedef struct tinyfs_busy {
    pond_node_id parent;
    char *name;
    pond_writer *writer;
    struct tinyfs_busy *next;
} tinyfs_busy;

struct pond_fs {
    pond_backend *be;
    pond_backend *view; /* owned as-of view (be points at it too) or NULL */
    pthread_mutex_t mu; /* recursive */
    size_t spill_threshold;
    char *tmp_dir;
    bool read_only;
    /* the open transaction */
    bool in_txn;
    int64_t txn_seq;
    int64_t txn_time_us;
    char *txn_meta;
    pond__idmap pending;          /* node id -> pond_node_rec* (refs held) */
    pond_node_rec **pending_list; /* insertion order, for commit */
    size_t n_pending, cap_pending;
    tinyfs_busy *busy;
    uint64_t walks; /* path walks from the root (pond_fs_path_walks) */
};

struct pond_wd {
    pond_fs *fs;
    char *path;
};

void pond_tinyfs__lock(pond_fs *fs);
void pond_tinyfs__unlock(pond_fs *fs);

/* The current record of a node: pending in the txn, else the backend's latest (new ref). */
int pond_tinyfs__get_node(pond_node_rec **out, pond_fs *fs, const pond_node_id *id);
/* Busy bookkeeping (fs locked). */
tinyfs_busy *pond_tinyfs__busy_find(pond_fs *fs, const pond_node_id *parent, const char *name);
void pond_tinyfs__busy_remove(pond_fs *fs, pond_writer *w);

/* Publish a finished writer's content (fs locked, txn open). Takes the blob reference. */
typedef struct {
    bool has;
    int64_t min_us, max_us;
} tinyfs_event_time;
int pond_tinyfs__publish(pond_fs *fs, const pond_node_id *parent, const char *name,
                         const char *path, pond_entry_type type, pond_blob *blob,
                         const tinyfs_event_time *et);

void pond_tinyfs__fill_stat(pond_stat *st, pond_fs *fs, const pond_node_rec *n);
/* The node at a normalised absolute path (fs locked); *path_out its physical path. */
int pond_tinyfs__lookup(pond_node_rec **out, char **path_out, pond_fs *fs, const char *abs_path,
                        bool follow);

/* Helpers shared by the namespace operations (tinyfs_fs.c) and node handles (tinyfs_node.c);
 * the fs is locked. */
/* The first change of a node in the txn copies its latest version as version + 1 into the
 * overlay; later changes modify that pending version (borrowed: owned by the overlay). */
int pond_tinyfs__make_pending(pond_node_rec **out, pond_fs *fs, const pond_node_id *id);
int pond_tinyfs__busy_error(const char *path);
/* POND_EUNSUPPORTED on a read-only view, POND_ETXN without a transaction. */
int pond_tinyfs__need_txn(pond_fs *fs, const char *what, const char *path);
int pond_tinyfs__not_found(const char *path);
/* A reader over a file record's content (its blob, or the backend's; a pending version
 * without bytes of its own reads its last committed version's). */
int pond_tinyfs__content_reader(pond_reader **out, pond_fs *fs, const pond_node_rec *n);

/* An entry found by walking a path: its physical path, and the directory and name holding
 * it (none for the root). The entry itself may not exist. */
typedef struct {
    char *path;
    bool has_parent;
    pond_node_id parent;
    char *name;
    bool dir; /* the path ended in '/' */
} tinyfs_entry;
int pond_tinyfs__resolve_entry(tinyfs_entry *out, pond_fs *fs, const pond_wd *wd, const char *path,
                               bool follow);
void pond_tinyfs__entry_dispose(tinyfs_entry *e);

/* ---- writers ---- */
int pond_tinyfs__writer_new(pond_writer **out, pond_fs *fs, const pond_node_id *parent,
                            const char *name, const char *path, pond_entry_type type);
/* The txn ended under the writer (abort): it can only be freed now. */
void pond_tinyfs__writer_detach(pond_writer *w);

/* ---- blobs ---- */
/* A heap blob taking ownership of data (pond_malloc'd; freed on failure too). */
int pond_tinyfs__blob_take_buf(pond_blob **out, char *data, size_t len, const pond_hash *sha256);
/* Names a reader after the node path it reads: its read errors get "'<path>': " in front. */
int pond_tinyfs__reader_name(pond_reader *r, const char *path);
/* Create an anonymous (already unlinked) temporary file in dir. */
int pond_tinyfs__tmpfile(int *fd_out, const char *dir);

#endif
