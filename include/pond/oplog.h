/* pond: the on-disk backend. A pond directory is a Delta Lake table (`_delta_log/`) whose
 * Parquet data files, partitioned by `part_id`, hold one row per node version; large file
 * content lives in the content-addressed store `_large_files/`. docs/format.md specifies it.
 *
 * One tinyfs transaction = one Delta commit (version == transaction sequence). Version 0 is the
 * pond's creation (protocol + metaData, no rows).
 *
 * Every function here that takes a pond_backend * needs one from pond_oplog_open (or an as-of
 * view of it): given another backend (a memory one, NULL) it returns POND_EINVALID naming the
 * function, and those that return no code say what they return instead. */
#ifndef POND_OPLOG_H
#define POND_OPLOG_H

#include "common.h"
#include "hash.h"
#include "tinyfs.h"

#define POND_THRESHOLD_DATA_DEFAULT ((int64_t)64 * 1024)
#define POND_THRESHOLD_TABLE_DEFAULT ((int64_t)1024 * 1024)

typedef struct {
    unsigned version;        /* POND_OPLOG_CREATE_OPTIONS_VERSION */
    int64_t threshold_data;  /* file:data content at or above this goes to the store */
    int64_t threshold_table; /* file:table and file:series likewise */
    const char
        *command_json; /* commitInfo extra members, e.g. {"pondCommand":[...]}; may be NULL */
} pond_oplog_create_options;
#define POND_OPLOG_CREATE_OPTIONS_VERSION 1
#define POND_OPLOG_CREATE_OPTIONS_INIT                                                             \
    {                                                                                              \
        POND_OPLOG_CREATE_OPTIONS_VERSION, POND_THRESHOLD_DATA_DEFAULT,                            \
            POND_THRESHOLD_TABLE_DEFAULT, NULL                                                     \
    }

/** Creates a new, empty pond at dir (created if missing; an existing directory must be empty).
 *  POND_EEXISTS if dir already holds a pond or anything else. */
POND_API int pond_oplog_create(const char *dir, const pond_oplog_create_options *opts);

/** True if dir looks like a pond: `_delta_log/` with commit 0, or (after a log cleanup removed
 *  the oldest commits) with any commit or checkpoint. Cheap when commit 0 is there. */
POND_API bool pond_oplog_is_pond(const char *dir);

/** Warning i (0, 1, ...) about the pond's log met while opening it, or NULL past the last: a
 *  checkpoint that could not be read (the JSON commits were read instead: `pond fsck --repair`
 *  rewrites it), a damaged `_last_checkpoint`. Borrowed; lives as long as be. NULL for a
 *  backend that is not an oplog. */
POND_API const char *pond_oplog_warning(const pond_backend *be, size_t i);

/** What failed in the work that follows the last commit made through be (merging data files,
 *  writing a checkpoint), or NULL when it all succeeded. The commit itself is durable and
 *  succeeded; the work is retried at the next commit (a missing checkpoint is also noticed
 *  when a pond is opened), so nothing is lost, but a failure that repeats (a full disk) slows
 *  opens and reads until fixed. Borrowed; valid until the next commit or pond_backend_free. */
POND_API const char *pond_oplog_maintenance_error(const pond_backend *be);

typedef struct {
    unsigned version;  /* POND_OPLOG_OPTIONS_VERSION */
    int64_t as_of_txn; /* -1: latest; otherwise a read-only view right after that transaction */
} pond_oplog_options;
#define POND_OPLOG_OPTIONS_VERSION 1
#define POND_OPLOG_OPTIONS_INIT                                                                    \
    {                                                                                              \
        POND_OPLOG_OPTIONS_VERSION, -1                                                             \
    }

/** Opens the pond at dir as a tinyfs backend (free with pond_backend_free). Reads the Delta log
 *  (checkpoint + later commits) and indexes data files by partition; rows are read lazily, one
 *  partition at a time, when a node of it is first looked up. POND_ENOTFOUND with a clear message
 *  if dir is not a pond. */
POND_API int pond_oplog_open(pond_backend **out, const char *dir, const pond_oplog_options *opts);

/** Takes the pond's advisory writer lock (`<dir>/_pond.lock`, flock). wait=false: POND_EBUSY at
 *  once if another process holds it. After locking, the backend re-reads the log if another
 *  writer committed since it was opened, so a transaction begun now builds on the newest state. */
POND_API int pond_oplog_lock(pond_backend *be, bool wait);
/** Releases the lock; nothing to do when it is not held or be is not an oplog. */
POND_API void pond_oplog_unlock(pond_backend *be);

/** Brings a live (not as-of) backend up to the newest committed transaction by reading only
 *  the commits made since it was opened or last refreshed, one by one: a new data file's rows
 *  are appended to its loaded partition, a partition a merge or gc rewrote is dropped and
 *  loads again when used, and a commit that changes the pond's metaData (format, settings)
 *  rebuilds the index from the log. A reader sees the state of one whole transaction, never
 *  part of one. Not concurrently with other calls on the backend (or the fs over it);
 *  readers opened before keep reading what they opened. *txn_out (may be NULL): the last
 *  transaction now visible. A commit that cannot be read rebuilds the index from the log and
 *  reports what that finds. */
POND_API int pond_oplog_refresh(int64_t *txn_out, pond_backend *be);

/** One transaction of the pond's log, as `pond log` shows it. */
typedef struct {
    char *path;   /* as logged: percent-encoded, relative to the pond */
    int64_t size; /* bytes */
} pond_oplog_txn_file;

typedef struct {
    int64_t txn;     /* the transaction (its Delta commit version) */
    bool has_info;   /* false: the commit records no commitInfo (time and command 0/NULL) */
    int64_t time_us; /* when it was committed, µs UTC (millisecond precision) */
    char *command;   /* the command line that made it (words joined by spaces), else the
                           * Delta operation; NULL when neither is recorded */
    pond_oplog_txn_file *files; /* with opts->files: the data files it added, in log order */
    size_t n_files;
    char *error;       /* non-NULL: the commit cannot be read (why); the others are 0/NULL */
    char *files_error; /* non-NULL: the files after files[n_files - 1] cannot be read (why) */
} pond_oplog_txn;

typedef struct {
    unsigned version; /* POND_OPLOG_HISTORY_OPTIONS_VERSION */
    int64_t newest;   /* the newest transaction to return; -1 (or past the log): the latest */
    int64_t limit;    /* at most this many (-1: all) */
    bool files;       /* also the data files each transaction added */
} pond_oplog_history_options;
#define POND_OPLOG_HISTORY_OPTIONS_VERSION 1
#define POND_OPLOG_HISTORY_OPTIONS_INIT                                                            \
    {                                                                                              \
        POND_OPLOG_HISTORY_OPTIONS_VERSION, -1, -1, false                                          \
    }

/** The transactions of the pond at dir, newest first, from opts->newest down (at most
 *  opts->limit of them), read from the commit files alone (no replay): what `pond log` and
 *  `pond serve`'s /api/log print. *out is yours: pond_oplog_history_free(*out, *n_out).
 *  A commit that cannot be read is listed with its error (never silent, and the rest of the
 *  log still shows); an error return is for the log itself (unlistable, out of memory). */
POND_API int pond_oplog_history(pond_oplog_txn **out, size_t *n_out, const char *dir,
                                const pond_oplog_history_options *opts);
POND_API void pond_oplog_history_free(pond_oplog_txn *t, size_t n);

/** The large-file threshold for an entry type, from the pond's configuration; POND_EINVALID
 *  (negative) for a backend that is not an oplog. */
POND_API int64_t pond_oplog_threshold(const pond_backend *be, pond_entry_type type);
/** The pond directory (borrowed: lives as long as be); NULL for a backend that is not an
 *  oplog. */
POND_API const char *pond_oplog_dir(const pond_backend *be);

/** How a file version's content is stored. */
typedef struct {
    bool in_store;       /* true: in `_large_files/`, false: inline in the row */
    char blob_path[512]; /* relative to the pond dir, when in_store */
} pond_oplog_storage;
POND_API int pond_oplog_storage_of(pond_oplog_storage *out, pond_backend *be,
                                   const pond_node_id *id, int64_t version);

/* ---- maintenance: fsck, gc, compaction ----------------------------------------------------- */

typedef struct {
    int64_t rows;           /* node versions checked */
    int64_t data_files;     /* data files read */
    int64_t inline_checked; /* inline contents re-hashed */
    int64_t blobs_checked;  /* distinct blobs re-hashed */
    int64_t bytes_hashed;
    int64_t missing;            /* referenced blobs or data files that are not there */
    int64_t corrupt;            /* blobs, data files or log entries that fail verification */
    int64_t unreferenced_blobs; /* blobs no version refers to (gc removes them) */
    int64_t stale_temps;        /* temp files older than the grace period (gc removes them) */
    int64_t orphan_files;       /* data files no commit refers to (gc removes them) */
    int64_t young_temps;        /* temp files younger than the grace period: a writer at work,
                                 * or one that stopped recently (each reported with size, age) */
    int64_t young_temp_bytes;
    int64_t replaced_files; /* data files a later commit replaced (a merge, retention): no
                                 * read needs them any more, gc removes them */
    int64_t foreign;        /* entries in the pond's own directories that are not pond's */
    int64_t misplaced;      /* ... of them where pond keeps its own file or directory (a
                                 * link, a FIFO, a device): fsck fails on these */
    int64_t stranded;       /* versions of a node outside the partition its listing names
                                 * (left by a move in a pond written before format 2): a
                                 * warning, kept and never read */
} pond_fsck_report;

/* kind is "missing", "corrupt", "unreferenced", "stale", "orphan", "temp" (a young temp file),
 * "foreign", "stranded" or "unfinished" (a push a power cut interrupted: docs/replication.md);
 * message names the node path (or id), the file, blob or partition, and the reason. */
typedef void (*pond_fsck_fn)(const char *kind, const char *message, void *payload);
typedef void (*pond_progress_fn)(int64_t done, int64_t total, void *payload);

/** Checks every file of the pond's `_delta_log` on its own (damaged commits and checkpoints,
 *  commits missing where no checkpoint stands for them, a damaged `_last_checkpoint`:
 *  "corrupt"), re-reads every data file (and checks every directory listing in it: each broken
 *  rule is one "corrupt" line) and re-hashes every inline content and every blob against the
 *  recorded hashes, reports missing, corrupt and unreferenced blobs, stale and young temp
 *  files, orphan and replaced data files, foreign entries, directories reached twice, nodes of
 *  the tree without versions where their directory says they are (missing) and versions
 *  stranded outside it (a warning) through fn (may be NULL). Walks never follow a symbolic
 *  link. Returns 0 when nothing is missing, corrupt or misplaced, else POND_ECORRUPT with a
 *  summary. History that retention dropped is not checked (it is gone by policy, not damage).
 *  progress (may be NULL) counts bytes hashed. */
POND_API int pond_oplog_fsck(pond_fsck_report *out, pond_backend *be, pond_fsck_fn fn,
                             pond_progress_fn progress, void *payload);

typedef struct {
    int64_t checkpoints_rewritten;     /* damaged checkpoints rebuilt from the JSON commits */
    int64_t last_checkpoint_rewritten; /* 1 when _last_checkpoint was rewritten */
    int64_t unrepaired;                /* problems the log cannot rebuild (damaged commits...) */
} pond_repair_report;

/** Repairs what the pond's log can rebuild, under the writer lock (pond_oplog_lock): each
 *  damaged checkpoint is rewritten from the JSON commits (temp file, fsync, rename over it),
 *  and a damaged `_last_checkpoint` is rewritten for the newest checkpoint that reads. A commit
 *  is never written, replaced or removed, and nothing but a regular file is replaced (a link
 *  or FIFO at a checkpoint's name or at `_last_checkpoint` is unrepaired: remove it). fn gets
 *  one "repaired" or "unrepaired" line per damaged file (a damaged commit is unrepaired:
 *  restore it from a backup). Returns 0 unless
 *  the repair could not run. Run pond_oplog_fsck afterwards to see what is left. */
POND_API int pond_oplog_repair(pond_repair_report *out, pond_backend *be, pond_fsck_fn fn,
                               void *payload);

typedef struct {
    unsigned version;         /* POND_GC_OPTIONS_VERSION */
    int64_t keep_versions;    /* > 0: keep only the newest N versions of each node */
    int64_t keep_age_us;      /* >= 0: keep only the versions that were current at some moment
                               * of the last keep_age_us (0: only the current state); -1: none */
    int64_t grace_us;         /* files younger than this are never removed (default 1 hour) */
    bool compact;             /* also merge each partition's data files into one */
    const char *command_json; /* commitInfo extra members, or NULL */
    /* Called for what gc leaves alone and says so (a foreign entry, a merge a full disk
     * stopped): one lowercase line each. May be NULL. */
    void (*warn)(const char *message, void *payload);
    void *warn_payload;
} pond_gc_options;
#define POND_GC_OPTIONS_VERSION 1
#define POND_GC_OPTIONS_INIT                                                                       \
    {                                                                                              \
        POND_GC_OPTIONS_VERSION, 0, -1, 3600LL * 1000000, false, NULL, NULL, NULL                  \
    }

typedef struct {
    int64_t versions_dropped, partitions_rewritten, data_files_removed, blobs_removed,
        temps_removed, bytes_freed;
    int64_t commit_version;  /* the last commit gc wrote (retention, then merging), or -1 */
    int64_t oldest_complete; /* after a retention commit: the oldest transaction whose state is
                              * complete (older ones are refused by --at), else 0 */
    int64_t foreign;         /* foreign entries left alone (each one passed to warn) */
    bool merge_skipped;      /* merging failed (e.g. a full disk): passed to warn, not an error */
} pond_gc_report;

/** Garbage collection. Requires the writer lock (pond_oplog_lock). In this order, so that a
 *  full disk can always be cured: (1) removes what is garbage already, writing nothing: stale
 *  temp files, data files no snapshot refers to, blobs no version refers to; (2) with a
 *  retention policy, drops the versions it does not keep in the smallest commit that can (only
 *  the data files holding dropped rows are rewritten) and records the oldest complete
 *  transaction; (3) removes what that freed; (4) with compact, merges each partition's data
 *  files, where a failure is reported through warn and is not an error. Nothing younger than
 *  the grace period is removed, so a concurrent writer's new files are safe, and walks never
 *  follow a symbolic link or remove anything but pond's own regular files. Retention never
 *  changes what a read of the current pond returns (docs/format.md, "Retention"). Every commit
 *  still in the log is read (one action at a time) before anything is removed: one that cannot
 *  be read stops gc with POND_ECORRUPT naming it, since what it removed is unknown; so does a
 *  directory reached twice in the tree when retention needs it. */
POND_API int pond_oplog_gc(pond_gc_report *out, pond_backend *be, const pond_gc_options *opts);

/* ---- replication support: what a data file and a commit refer to; host-side state; leases -- */

/** The directory of host-side state inside a pond (remotes, leases, incoming transfers): pond's
 *  own, never replicated, never part of a transaction (docs/format.md). */
#define POND_HOST_DIR "_host"

/** Whether this build reads and writes ponds of the given `pond.format` value. */
POND_API bool pond_oplog_format_supported(const char *format);

/** Calls fn for every row of a data file (its bytes, already checked against the add action)
 *  whose content is in the large-file store: the blob's SHA-256, size and chunk-table root.
 *  name is used in messages. A negative return from fn stops and is returned. POND_ECORRUPT
 *  when the bytes are not a pond data file. */
typedef int (*pond_oplog_blob_fn)(const pond_hash *sha256, int64_t size, const pond_hash *root,
                                  void *payload);
POND_API int pond_oplog_data_file_blobs(const void *bytes, size_t len, const char *name,
                                        pond_oplog_blob_fn fn, void *payload);

/** Calls fn for every add and remove action of one commit's JSON text: add is true for an
 *  add, path is the decoded path relative to the pond, size is -1 when absent and sha256 is
 *  NULL when the action carries no `pond.sha256` tag. POND_ECORRUPT for text that is not
 *  one JSON object per line. */
typedef int (*pond_oplog_action_fn)(bool add, const char *path, int64_t size,
                                    const pond_hash *sha256, void *payload);
POND_API int pond_oplog_commit_files(const char *text, size_t len, const char *name,
                                     pond_oplog_action_fn fn, void *payload);

/** Temp files of interrupted transfers (`_host/incoming/`) older than grace_us: reported
 *  through fn (path relative to the pond; may be NULL) and, with remove, removed. Only regular
 *  files count; nothing is followed. */
POND_API int pond_oplog_host_temps(const char *dir, int64_t grace_us, bool remove,
                                   void (*fn)(const char *rel, void *payload), void *payload,
                                   int64_t *count_out);

/** A snapshot lease (`_host/leases/`): while it is held, gc keeps every data file and blob
 *  that any version from `version` on refers to, whatever its retention policy (a push reading
 *  those versions is not cut short). A lease lives as long as its holder: it is flock'ed, so
 *  the lease of a process that died is ignored (and removed by gc). */
typedef struct pond_oplog_lease pond_oplog_lease;
POND_API int pond_oplog_lease_take(pond_oplog_lease **out, const char *dir, int64_t version,
                                   const char *what);
/** Ends the lease (removes its file). NULL is fine. */
POND_API void pond_oplog_lease_release(pond_oplog_lease *lease);
/** The oldest version any live lease holds (*version_out = -1 for none); removes the files of
 *  leases whose holder is gone. */
POND_API int pond_oplog_lease_oldest(int64_t *version_out, const char *dir);

/** A log file a receiving pond links as part of one batch (docs/replication.md, "Batches and
 *  power cuts"): a commit, or a checkpoint of the version of the commit before it. */
typedef struct {
    int64_t version;
    bool checkpoint;
    int64_t size;
    pond_hash sha256;
} pond_push_entry;
/** Names the batch about to be linked, in link order, in `_host/push-intent` (docs/format.md).
 *  Not synced: the caller makes it durable with the batch's files before the first link. At
 *  most 4096 entries; there must be no intent already (the lock holder finished it). */
POND_API int pond_oplog_intent_write(const char *dir, const pond_push_entry *v, size_t n);
/** The batch's links are durable: removes `_host/push-intent` durably. */
POND_API int pond_oplog_intent_clear(const char *dir);
/** Where an unfinished push (a power cut inside a batch) makes the log end: *end_out is the
 *  version before the first commit of the batch that is missing, when log files the intent
 *  names (and nothing else) are above it; -1 when nothing is hidden. Writes nothing. */
POND_API int pond_oplog_intent_end(int64_t *end_out, const char *dir);
/** The newest version pond reads in the pond at dir (pond_oplog_intent_end, else the newest
 *  commit). */
POND_API int pond_oplog_head(int64_t *version_out, const char *dir);
/** Under the writer lock (every writer runs it first): finishes an unfinished push. Removes
 *  the batch's log files above its gap (each checked against the intent's size and SHA-256;
 *  when anything else is there, nothing is removed and it is POND_ECORRUPT), makes the log
 *  durable, then removes the intent durably. Nothing to do: 0. */
POND_API int pond_oplog_intent_finish(const char *dir);

#endif
