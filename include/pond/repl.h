/* pond: replication -- remotes, push, pull, clone, verify, status (docs/replication.md).
 *
 * A remote is another pond: a directory (`/mnt/usb/backup.pond`, `file:///...`) or a pond
 * reached over SSH (`ssh://[user@]host[:port]/path`, running `pond wire-server` there). Push
 * and pull are fast-forward only: the receiving pond's `_delta_log` is always byte-identical to
 * the sender's up to its head, and it advances only after everything a commit refers to is
 * durable there. Divergence is refused, naming the last common transaction and both heads.
 *
 * Remotes are host-side state of a pond (`_host/remotes`), never replicated. */
#ifndef POND_REPL_H
#define POND_REPL_H

#include "common.h"
#include "oplog.h"

#define POND_REMOTE_NAME_MAX 64
#define POND_REMOTE_URL_MAX 1024

typedef struct {
    char name[POND_REMOTE_NAME_MAX];
    char url[POND_REMOTE_URL_MAX];
    char exec[POND_REMOTE_URL_MAX]; /* the pond to run on the other end ("" = "pond") */
    int64_t version;                /* the last transaction both agreed on (-1: never) */
    int64_t time_us;                /* when (µs UTC), 0 never */
} pond_remote;

/** The remotes of the pond at dir, in name order (free *out with pond_free). */
POND_API int pond_remote_list(pond_remote **out, size_t *n_out, const char *dir);
/** One remote by name; POND_ENOTFOUND names the remotes there are. */
POND_API int pond_remote_get(pond_remote *out, const char *dir, const char *name);
/** Adds a remote. Names are letters, digits, '.', '_' and '-'; POND_EEXISTS if taken; the URL
 *  must be a directory path, file:///path or ssh://[user@]host[:port]/path (POND_EINVALID). */
POND_API int pond_remote_add(const char *dir, const char *name, const char *url, const char *exec);
/** Removes a remote (POND_ENOTFOUND if there is none of that name). */
POND_API int pond_remote_remove(const char *dir, const char *name);
/** Records the transaction a remote and the pond last agreed on. */
POND_API int pond_remote_set_version(const char *dir, const char *name, int64_t version);

typedef struct {
    unsigned version;        /* POND_REPL_OPTIONS_VERSION */
    const char *exec;        /* ssh: the remote pond binary; NULL = "pond" */
    const char *ssh_command; /* NULL: $POND_SSH_COMMAND, else "ssh" */
    /* Notes for the user ("starting the remote from checkpoint 40 ..."); may be NULL. */
    void (*note)(const char *message, void *payload);
    void *payload;
} pond_repl_options;
#define POND_REPL_OPTIONS_VERSION 1
#define POND_REPL_OPTIONS_INIT                                                                     \
    {                                                                                              \
        POND_REPL_OPTIONS_VERSION, NULL, NULL, NULL, NULL                                          \
    }

typedef struct {
    int64_t from_version;     /* the receiver's head before (-1: it had no pond) */
    int64_t to_version;       /* and after */
    int64_t commits;          /* commit files sent */
    int64_t checkpoints;      /* checkpoint files sent */
    int64_t data_files;       /* data files sent */
    int64_t blobs;            /* blobs sent */
    int64_t bytes;            /* content bytes sent (all kinds) */
    int64_t already;          /* objects the receiver already had (an interrupted run's) */
    int64_t start_checkpoint; /* >= 0: the receiver was started from this checkpoint */
    bool created;             /* the receiving pond was created */
} pond_repl_report;

/** Sends what the remote at url lacks (fast-forward only). POND_ECONFLICT on divergence or a
 *  remote that is ahead (nothing is changed on either side). */
POND_API int pond_repl_push(pond_repl_report *out, const char *dir, const char *url,
                            const pond_repl_options *opts);
/** Fetches what this pond lacks from the remote at url (fast-forward only). */
POND_API int pond_repl_pull(pond_repl_report *out, const char *dir, const char *url,
                            const pond_repl_options *opts);
/** Creates the pond dir (missing or empty) as a copy of the remote at url, built under a
 *  temporary name and renamed into place; records the remote as "origin". */
POND_API int pond_repl_clone(pond_repl_report *out, const char *url, const char *dir,
                             const pond_repl_options *opts);

typedef struct {
    int64_t commits_compared; /* commit files compared byte for byte (by SHA-256) */
    int64_t log_differs;      /* log files of the remote that differ from ours */
    pond_fsck_report fsck;    /* the remote's own check */
} pond_repl_verify_report;

/** Re-hashes the remote's content (its fsck, run where it is) and compares its log with ours;
 *  problems through fn (kind "missing", "corrupt", "differs", ...). POND_ECORRUPT when anything
 *  is missing, corrupt or different. */
POND_API int pond_repl_verify(pond_repl_verify_report *out, const char *dir, const char *url,
                              pond_fsck_fn fn, void *payload, const pond_repl_options *opts);

typedef enum {
    POND_REPL_SAME,     /* both at the same transaction */
    POND_REPL_BEHIND,   /* the remote lacks transactions we have */
    POND_REPL_AHEAD,    /* the remote has transactions we lack */
    POND_REPL_DIVERGED, /* both committed since the last common transaction */
    POND_REPL_MISSING,  /* no pond at the remote yet */
    POND_REPL_UNRELATED /* another pond (different table id) */
} pond_repl_relation;

typedef struct {
    pond_repl_relation relation;
    int64_t local_head, remote_head, common; /* common: -1 when none known */
} pond_repl_status;

/** Compares the pond with the remote (read only on both sides). */
POND_API int pond_repl_compare(pond_repl_status *out, const char *dir, const char *url,
                               const pond_repl_options *opts);

/** The server end of the wire protocol: serves the pond at dir (or creates it, for a first
 *  push) over in_fd/out_fd until the client says goodbye or the stream ends. */
POND_API int pond_repl_serve(int in_fd, int out_fd, const char *dir);

#endif
