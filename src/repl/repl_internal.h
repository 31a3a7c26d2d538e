/* Replication internals: the transport interface, the objects it moves and the wire codec.
 * docs/replication.md describes the design; each transport is one file (repl_dir.c, repl_ssh.c),
 * the server side of the wire is repl_server.c and the algorithm (push, pull, clone, verify,
 * status) is repl_sync.c. */
#ifndef POND_REPL_INTERNAL_H
#define POND_REPL_INTERNAL_H

#include <pond/hash.h>
#include <pond/oplog.h>
#include <pond/repl.h>

#include "util/util.h"

#define R POND_DOM_REPL

/* ---- objects --------------------------------------------------------------------------------- */

/* What moves between ponds. Each kind has one place in a pond (repl_obj_path) and is checked
 * on arrival against its SHA-256 (blobs: the name; everything else: the hash the sender gives,
 * which for a data file is the add action's pond.sha256 tag). */
typedef enum {
    REPL_COMMIT = 1,          /* _delta_log/<v:020>.json (put-if-absent) */
    REPL_CHECKPOINT = 2,      /* _delta_log/<v:020>.checkpoint.parquet (put-if-absent) */
    REPL_LAST_CHECKPOINT = 3, /* _delta_log/_last_checkpoint (replaced: only a hint) */
    REPL_DATA = 4,            /* part_id=<uuid>/<name>.parquet */
    REPL_BLOB = 5             /* _large_files/<ab>/<sha256> (+ its chunk table, rebuilt) */
} repl_kind;

#define REPL_PATH_MAX 200

typedef struct {
    repl_kind kind;
    int64_t version;          /* COMMIT, CHECKPOINT */
    char path[REPL_PATH_MAX]; /* DATA: relative path; others: derived (repl_obj_path) */
    int64_t size;             /* bytes; -1 unknown (only for have/get of log files) */
    pond_hash sha256;         /* BLOB: its name; others: the expected content hash */
    bool has_sha;
    pond_hash root; /* BLOB: the chunk-table root the data file records */
} repl_obj;

/* Fills obj->path from kind/version/sha256 and validates it: a data file path must be
 * `part_id=<uuid>/<name>.parquet` with a plain name. POND_ECORRUPT names what is wrong (an
 * object name from outside never reaches the file system unchecked). */
int pond_repl_obj_check(repl_obj *obj);

/* ---- the transport interface ------------------------------------------------------------- */

typedef struct repl_remote repl_remote;

typedef enum { REPL_OPEN_READ = 0, REPL_OPEN_WRITE = 1 } repl_open_mode;

/* What a pond's log looks like. */
typedef struct {
    bool exists;             /* a pond is there (for WRITE: or being built under a temp name) */
    bool incoming;           /* WRITE on a missing pond: puts go to the temp directory */
    char pond_id[64];        /* metaData.id */
    char format[16];         /* metaData.configuration pond.format */
    int64_t head;            /* newest version (commit or checkpoint); -1 when none */
    int64_t low;             /* oldest commit of the unbroken run of commits ending at head (or at
                            the checkpoint at head): versions low..head have commit files */
    bool head_is_commit;     /* false: the head is a checkpoint without its commit */
    int64_t last_checkpoint; /* newest checkpoint version, -1 none */
} repl_info;

/* A log file of the listing. */
typedef struct {
    int64_t version;
    repl_kind kind; /* COMMIT or CHECKPOINT */
    int64_t size;
} repl_log_entry;

/* Content handed to put and returned by get: reads up to cap bytes; *n_out == 0 at the end.
 * close (may be NULL) ends it early or late. */
typedef struct {
    int (*read)(void *self, void *buf, size_t cap, size_t *n_out);
    void (*close)(void *self);
    void *self;
} repl_source;

/* A blob a data file refers to (missing_blobs). */
typedef struct {
    pond_hash sha256, root;
    int64_t size;
} repl_blob_ref;

typedef int (*repl_log_fn)(const repl_log_entry *e, void *payload);
typedef int (*repl_blob_fn)(const repl_blob_ref *b, void *payload);
typedef int (*repl_obj_fn)(const repl_obj *o, void *payload);
typedef void (*repl_problem_fn)(const char *kind, const char *message, void *payload);

/* Version 1. Every op returns 0 or a negative POND_E* with a message naming the remote and
 * the object. A transport's puts may be deferred (pipelined): an error of a put is then
 * reported by a later op, at the latest by sync, and nothing is published after it. */
typedef struct {
    unsigned version;
    const char *name; /* "dir", "ssh" */
    /* Opens the pond (WRITE: takes its writer lock; on a missing pond starts the temp
     * directory, or resumes the one an interrupted first push left). */
    int (*open)(repl_info *out, repl_remote *r, repl_open_mode mode);
    /* READ: a snapshot lease from version on (gc keeps what those versions need). */
    int (*hold)(repl_remote *r, int64_t version);
    /* The log files with versions in [from, to], ascending. */
    int (*list_log)(repl_remote *r, int64_t from, int64_t to, repl_log_fn fn, void *payload);
    /* SHA-256 of log files (COMMIT/CHECKPOINT by version); present[i] false when absent. */
    int (*hash_log)(pond_hash *out, bool *present, repl_remote *r, const repl_obj *objs, size_t n);
    /* Which objects are there intact: log files and data files by size and SHA-256, blobs by
     * name, size and chunk table. */
    int (*have)(bool *out, repl_remote *r, const repl_obj *objs, size_t n);
    /* The blobs these data files (which must be present) refer to and that are not there. */
    int (*missing_blobs)(repl_remote *r, const repl_obj *files, size_t n, repl_blob_fn fn,
                         void *payload);
    /* An object's bytes (unverified: the receiver checks them); close the source after. */
    int (*get)(repl_source *out, repl_remote *r, const repl_obj *obj);
    /* The data files live at a version (a checkpoint's state). */
    int (*live_files)(repl_remote *r, int64_t version, repl_obj_fn fn, void *payload);
    /* Writes an object from src, checking size and SHA-256 as it arrives. A COMMIT is
     * published with put-if-absent (an existing different commit is POND_ECONFLICT); data files
     * and blobs are durable by the next sync. */
    int (*put)(repl_remote *r, const repl_obj *obj, const repl_source *src);
    /* Everything put so far is durable (or the first error of a deferred put). */
    int (*sync)(repl_remote *r);
    /* A first push: renames the temp directory into place (after sync). */
    int (*finish)(repl_remote *r);
    /* Re-hashes everything (fsck of that pond): problems through fn. */
    int (*verify)(pond_fsck_report *out, repl_remote *r, repl_problem_fn fn, void *payload);
    void (*free)(repl_remote *r);
} repl_transport;
#define REPL_TRANSPORT_VERSION 1

struct repl_remote {
    const repl_transport *t;
    char *url; /* for messages */
};

/* Transports. */
int pond_repl_dir_new(repl_remote **out, const char *dir, const char *url);
int pond_repl_ssh_new(repl_remote **out, const char *url, const char *user_host, const char *port,
                      const char *path, const char *exec, const char *ssh_command);
/* The transport for a URL (a directory, file:///..., ssh://[user@]host[:port]/path). */
int pond_repl_remote_open_url(repl_remote **out, const char *url, const char *exec,
                              const char *ssh_command);
void pond_repl_remote_free(repl_remote *r);

/* The path of an object's file relative to a pond, as pond_repl_obj_check computed it. */
static inline const char *repl_obj_rel(const repl_obj *o) { return o->path; }

#endif
