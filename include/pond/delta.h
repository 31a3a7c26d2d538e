/* pond: the Delta Lake transaction log -- snapshot reader and commit writer.
 *
 * Reading: pond_delta_table_open() lists `<dir>/_delta_log`, picks the newest complete
 * checkpoint at or below the wanted version, applies it, replays the JSON commits after it and
 * validates the result (protocol, metaData, schemaString, partition values, one logical file per
 * path). The snapshot is immutable; everything it returns is borrowed and lives until
 * pond_delta_table_free(). Errors: POND_ENOTFOUND (no log, no such version), POND_ECORRUPT (the
 * log breaks the protocol; the message names the version, line and action),
 * POND_EUNSUPPORTED (a valid feature pond does not read, named in the message).
 *
 * Writing: build a list of actions with pond_delta_actions_*, then pond_delta_commit_write()
 * publishes `_delta_log/<20-digit version>.json` with put-if-absent semantics: temp file, fsync,
 * link() to the final name, fsync of the directory. A version that already exists is
 * POND_ECONFLICT and is never overwritten. The caller writes and fsyncs data files first. */
#ifndef POND_DELTA_H
#define POND_DELTA_H

#include "buf.h"
#include "common.h"

/* ------------------------------------------------------------------ shared value types */

/** One string map entry (partitionValues, configuration, tags). value may be NULL (JSON null). */
typedef struct {
    const char *key;
    const char *value;
} pond_delta_kv;

/* ------------------------------------------------------------------ reading */

typedef struct pond_delta_table pond_delta_table;

typedef struct {
    unsigned version;        /* POND_DELTA_OPEN_OPTIONS_VERSION (1 or 2) */
    int64_t at_version;      /* the snapshot version to build; -1 = latest */
    bool ignore_checkpoints; /* replay every JSON commit from 0 (they must all exist) */
    /* version 2: */
    bool skip_stats; /* leave pond_delta_file.stats NULL (about half the memory of a
                                big snapshot); the snapshot then cannot be verified, dumped or
                                checkpointed */
} pond_delta_open_options;

#define POND_DELTA_OPEN_OPTIONS_VERSION 2
#define POND_DELTA_OPEN_OPTIONS_INIT                                                               \
    {                                                                                              \
        POND_DELTA_OPEN_OPTIONS_VERSION, -1, false, false                                          \
    }

/** Open a snapshot of the Delta table rooted at dir. opts may be NULL (latest, checkpoints used).
 *  On failure *out is NULL.
 *  A checkpoint that cannot be read is not an error while the JSON commits it stands for are
 *  there: the snapshot is built from an older checkpoint or from commit 0 instead, and a
 *  warning names the checkpoint (pond_delta_table_warning). A `_last_checkpoint` that cannot be
 *  parsed is ignored with a warning (it is only a hint). Errors name the damaged file: a commit
 *  that is missing or cannot be read (POND_ECORRUPT), a version older than a log cleanup left
 *  (POND_ENOTFOUND, "no longer in the log"). */
POND_API int pond_delta_table_open(pond_delta_table **out, const char *dir,
                                   const pond_delta_open_options *opts);
POND_API void pond_delta_table_free(pond_delta_table *t); /* NULL is fine */

/** The snapshot version. */
POND_API int64_t pond_delta_table_version(const pond_delta_table *t);
/** The table directory given to open (borrowed). */
POND_API const char *pond_delta_table_dir(const pond_delta_table *t);
/** The checkpoint the snapshot started from: its version (-1 = none, replayed from commit 0)
 *  and kind ("classic", "multi-part", "v2-json", "v2-parquet" or "none"). */
POND_API int64_t pond_delta_table_checkpoint_version(const pond_delta_table *t);
POND_API const char *pond_delta_table_checkpoint_kind(const pond_delta_table *t);
/** Warning i (0, 1, ...) about the log met while building the snapshot, or NULL past the last:
 *  e.g. "checkpoint _delta_log/00000000000000000040.checkpoint.parquet cannot be read (...);
 *  the JSON commits were read instead". Lives as long as the snapshot. */
POND_API const char *pond_delta_table_warning(const pond_delta_table *t, size_t i);
/** Number of JSON commit files replayed to build the snapshot. */
POND_API int64_t pond_delta_table_commits_replayed(const pond_delta_table *t);

typedef struct {
    int32_t min_reader_version;
    int32_t min_writer_version;
    const char *const *reader_features; /* NULL when the protocol has no readerFeatures */
    size_t n_reader_features;
    const char *const *writer_features; /* NULL when the protocol has no writerFeatures */
    size_t n_writer_features;
} pond_delta_protocol;

POND_API const pond_delta_protocol *pond_delta_table_protocol(const pond_delta_table *t);

/** The reader features this reader implements, NULL-terminated (static storage). */
POND_API const char *const *pond_delta_supported_reader_features(void);

/* Schema: the parsed schemaString. */
typedef enum {
    POND_DELTA_TYPE_PRIMITIVE, /* name in `primitive`: "long", "string", "decimal(10,2)", ... */
    POND_DELTA_TYPE_STRUCT,
    POND_DELTA_TYPE_ARRAY,
    POND_DELTA_TYPE_MAP
} pond_delta_type_kind;

typedef struct pond_delta_field pond_delta_field;
typedef struct pond_delta_type pond_delta_type;

struct pond_delta_type {
    pond_delta_type_kind kind;
    const char *primitive;          /* PRIMITIVE */
    const pond_delta_field *fields; /* STRUCT */
    size_t n_fields;
    const pond_delta_type *element; /* ARRAY */
    bool contains_null;             /* ARRAY */
    const pond_delta_type *key;     /* MAP */
    const pond_delta_type *value;   /* MAP */
    bool value_contains_null;       /* MAP */
};

struct pond_delta_field {
    const char *name;
    const pond_delta_type *type;
    bool nullable;
    const char *metadata_json; /* the field's "metadata" object, compact JSON ("{}" if absent) */
    const char *physical_name; /* delta.columnMapping.physicalName, else name */
    int64_t column_id;         /* delta.columnMapping.id, else -1 */
};

typedef enum {
    POND_DELTA_COLUMN_MAPPING_NONE,
    POND_DELTA_COLUMN_MAPPING_NAME,
    POND_DELTA_COLUMN_MAPPING_ID
} pond_delta_column_mapping;

typedef struct {
    const char *id;
    const char *name;            /* NULL when absent */
    const char *description;     /* NULL when absent */
    const char *format_provider; /* "parquet" */
    const char *schema_string;
    const pond_delta_type *schema; /* kind STRUCT */
    const char *const *partition_columns;
    size_t n_partition_columns;
    const pond_delta_kv *configuration;
    size_t n_configuration;
    int64_t created_time; /* ms since epoch; -1 when absent */
    /* Effective column mapping (delta.columnMapping.mode, honoured when the protocol enables it).
     * Partition values and data file columns use physical names. */
    pond_delta_column_mapping column_mapping;
} pond_delta_metadata;

POND_API const pond_delta_metadata *pond_delta_table_metadata(const pond_delta_table *t);
/** A configuration value of the table, or NULL. */
POND_API const char *pond_delta_table_config(const pond_delta_table *t, const char *key);
/** The top-level schema field with this logical name, or NULL. */
POND_API const pond_delta_field *pond_delta_table_field(const pond_delta_table *t,
                                                        const char *name);

/** A deletion vector descriptor, as logged (pond exposes it; readers apply it). */
typedef struct {
    char storage_type;          /* 'u' (relative, z85 uuid), 'i' (inline) or 'p' (path) */
    const char *path_or_inline; /* as logged */
    int64_t offset;             /* -1 when absent */
    int64_t size_in_bytes;
    int64_t cardinality;
} pond_delta_dv;

typedef struct {
    const char *path;         /* as logged: a percent-encoded relative URI path */
    const char *decoded_path; /* percent-decoded, relative to the table directory */
    int64_t size;
    int64_t modification_time;
    bool data_change;
    const pond_delta_kv *partition_values; /* keys are physical column names */
    size_t n_partition_values;
    const char *stats;                    /* the stats JSON string, or NULL */
    const pond_delta_dv *deletion_vector; /* NULL when none */
    int64_t version;                      /* the commit (or checkpoint) that made it live */
    const pond_delta_kv *tags;            /* the add action's tags (may be none) */
    size_t n_tags;
} pond_delta_file;

/** Number of live files. */
POND_API size_t pond_delta_table_file_count(const pond_delta_table *t);
/** Calls cb for each live file in an unspecified but stable order; a negative return from cb
 *  stops the walk and is returned. */
typedef int (*pond_delta_file_cb)(const pond_delta_file *file, void *payload);
POND_API int pond_delta_table_foreach_file(const pond_delta_table *t, pond_delta_file_cb cb,
                                           void *payload);
/** The files commit `version` (>= 0) of the Delta table at dir adds and removes, read from that
 *  commit file alone: on_remove for each remove action (only path and decoded_path are set),
 *  then on_add for each add action (as pond_delta_table_foreach_file gives them; they live
 *  until the commit is freed, i.e. during the call). *meta_out: the commit changes the
 *  protocol or metaData. POND_ENOTFOUND when the commit does not exist (yet);
 *  for readers that follow a table commit by commit instead of replaying it. */
POND_API int pond_delta_commit_changes(bool *meta_out, const char *dir, int64_t version,
                                       pond_delta_file_cb on_add, pond_delta_file_cb on_remove,
                                       void *payload);
/** The live file whose decoded path is decoded_path, or NULL. O(1). */
POND_API const pond_delta_file *pond_delta_table_file_lookup(const pond_delta_table *t,
                                                             const char *decoded_path);
/** The value of a partition column (logical name) of a file: *value_out is NULL for a null
 *  partition value. POND_ENOTFOUND when the column is not a partition column. */
POND_API int pond_delta_file_partition_value(const char **value_out, const pond_delta_table *t,
                                             const pond_delta_file *file, const char *column);
/** stats.numRecords of a file. POND_ENOTFOUND when the file has no stats or no numRecords,
 *  POND_ECORRUPT when the stats are not valid JSON or numRecords is not a count. */
POND_API int pond_delta_file_num_records(int64_t *num_out, const pond_delta_file *file);

/** The rows deleted by a file's deletion vector, ascending (free *rows_out with pond_free).
 *  Checks the stored size, CRC-32 and cardinality. POND_ECORRUPT for a bad or missing vector,
 *  POND_EUNSUPPORTED for absolute-path ('p') storage. */
POND_API int pond_delta_dv_read(uint64_t **rows_out, size_t *n_out, const pond_delta_table *t,
                                const pond_delta_file *file);

/** The latest version recorded by a `txn` action for app_id (POND_ENOTFOUND when none). */
POND_API int pond_delta_table_txn_version(int64_t *version_out, const pond_delta_table *t,
                                          const char *app_id);

/* Checks that go beyond the log, by flag:
 *  FILES: every live file exists with the size the log gives ("data file does not exist",
 *         "size in log N != actual file size M"); stats parse ("stats is not valid JSON");
 *         deletion vectors load and stay below stats.numRecords;
 *  CRC:   the version checksum `<v>.crc`, when present, agrees with the snapshot (numFiles,
 *         tableSizeBytes, numMetadata, numProtocol, metadata id, protocol). */
#define POND_DELTA_VERIFY_FILES 0x1u
#define POND_DELTA_VERIFY_CRC 0x2u
#define POND_DELTA_VERIFY_ALL 0x3u
POND_API int pond_delta_table_verify(const pond_delta_table *t, unsigned flags);

/** Write the rows of the snapshot in canonical text form (canon-v1, docs/parquet.md
 *  "Canonical text": one LF-terminated line per row, TAB-separated cells in
 *  table-schema order, partition values from the log, deletion vectors applied), sorted
 *  bytewise, through write (a negative return stops and is returned). Reads every live data
 *  file with the Parquet reader and checks its row count against stats.numRecords
 *  ("stats.numRecords=N but file has M rows"). Holds the whole text in memory to sort it.
 *  *rows_out (may be NULL) gets the row count. */
POND_API int pond_delta_table_dump(const pond_delta_table *t,
                                   int (*write)(const void *buf, size_t len, void *payload),
                                   void *payload, int64_t *rows_out);

/** The commitInfo object of one version as compact JSON (free with pond_free), or
 *  POND_ENOTFOUND when the commit has none. */
POND_API int pond_delta_commit_info_read(char **json_out, const char *dir, int64_t version);
/** Calls fn with the decoded path of every add action of commit `version`, reading the commit
 *  line by line (one action parsed at a time, so memory is bounded whatever its size). A
 *  negative return from fn stops and is returned. POND_ECORRUPT (naming the file and line) for
 *  a line that is not a valid action; an open error (POND_ENOTFOUND...) for a missing file. */
typedef int (*pond_delta_path_fn)(const char *decoded_path, void *payload);
POND_API int pond_delta_commit_added_paths(const char *dir, int64_t version, pond_delta_path_fn fn,
                                           void *payload);

/** One add or remove action of a commit, as pond_delta_commit_file_actions gives it. Every
 *  pointer lives until the callback returns. */
typedef struct {
    bool add;                   /* an add action, else a remove */
    const char *path;           /* as logged */
    const char *decoded_path;   /* percent-decoded, relative to the table directory */
    int64_t size;               /* -1 when absent (a remove may omit it) */
    int64_t deletion_timestamp; /* a remove's deletionTimestamp (ms), -1 when absent or an add */
    const pond_delta_kv *tags;  /* the action's tags (may be none) */
    size_t n_tags;
} pond_delta_file_action;
typedef int (*pond_delta_file_action_fn)(const pond_delta_file_action *a, void *payload);
/** Calls fn for every add and remove action of commit `version`, in the order of the commit,
 *  reading it line by line as pond_delta_commit_added_paths does (each action is checked as
 *  replay checks it). A negative return from fn stops and is returned. POND_ECORRUPT (naming
 *  the file and line) for a line that is not a valid action; an open error (POND_ENOTFOUND for
 *  a missing commit, POND_ECORRUPT for a link or anything but a regular file) otherwise. */
POND_API int pond_delta_commit_file_actions(const char *dir, int64_t version,
                                            pond_delta_file_action_fn fn, void *payload);
/** The same over a commit's text held in memory (e.g. received from another pond); name is
 *  used in messages. */
POND_API int pond_delta_commit_text_file_actions(const char *text, size_t len, const char *name,
                                                 pond_delta_file_action_fn fn, void *payload);

/* ------------------------------------------------------------------ writing */

typedef struct pond_delta_actions pond_delta_actions;

POND_API int pond_delta_actions_new(pond_delta_actions **out);
POND_API void pond_delta_actions_free(pond_delta_actions *a); /* NULL is fine */

/** protocol. Feature lists may be NULL (absent); they are required for reader 3 / writer 7. */
POND_API int pond_delta_actions_protocol(pond_delta_actions *a, int32_t min_reader_version,
                                         int32_t min_writer_version,
                                         const char *const *reader_features, size_t n_reader,
                                         const char *const *writer_features, size_t n_writer);

typedef struct {
    unsigned version;          /* POND_DELTA_METADATA_DESC_VERSION */
    const char *id;            /* table id (a UUID); required */
    const char *name;          /* optional */
    const char *description;   /* optional */
    const char *schema_string; /* required; must parse as a struct schema */
    const char *const *partition_columns;
    size_t n_partition_columns;
    const pond_delta_kv *configuration;
    size_t n_configuration;
    int64_t created_time; /* ms since epoch; -1 = omit */
} pond_delta_metadata_desc;
#define POND_DELTA_METADATA_DESC_VERSION 1

POND_API int pond_delta_actions_metadata(pond_delta_actions *a, const pond_delta_metadata_desc *m);

typedef struct {
    unsigned version; /* POND_DELTA_FILE_DESC_VERSION */
    const char *path; /* relative filesystem path; pond percent-encodes it */
    const pond_delta_kv *partition_values;
    size_t n_partition_values;
    int64_t size;               /* add: required; remove: -1 = omit */
    int64_t modification_time;  /* add: ms since epoch */
    int64_t deletion_timestamp; /* remove: ms since epoch */
    bool data_change;
    const char *stats; /* add: stats JSON object text (numRecords, minValues, ...) or NULL */
    const pond_delta_kv *tags;
    size_t n_tags;
} pond_delta_file_desc;
#define POND_DELTA_FILE_DESC_VERSION 1

POND_API int pond_delta_actions_add(pond_delta_actions *a, const pond_delta_file_desc *f);
POND_API int pond_delta_actions_remove(pond_delta_actions *a, const pond_delta_file_desc *f);
POND_API int pond_delta_actions_txn(pond_delta_actions *a, const char *app_id, int64_t version,
                                    int64_t last_updated);
/** commitInfo: timestamp (ms), operation, operationParameters (a JSON object text or NULL) and
 *  extra (a JSON object text whose members are added to commitInfo, e.g. the command line and
 *  a transaction sequence; or NULL). */
POND_API int pond_delta_actions_commit_info(pond_delta_actions *a, int64_t timestamp_ms,
                                            const char *operation,
                                            const char *operation_parameters_json,
                                            const char *extra_json);
/** Number of actions added so far. */
POND_API size_t pond_delta_actions_count(const pond_delta_actions *a);
/** The commit text: one compact JSON action per line, LF-terminated. */
POND_API int pond_delta_actions_to_json(pond_buf *out, const pond_delta_actions *a);

/** Publish the actions as commit `version` of the table at dir (created with `_delta_log/`
 *  if needed). Version 0 must carry protocol and metaData. POND_ECONFLICT if the version already
 *  exists ("version N already exists"); on any failure no commit file is left behind. */
POND_API int pond_delta_commit_write(const char *dir, int64_t version, const pond_delta_actions *a);

/** The same, calling before_sync(payload) once the commit's temporary file is written and
 *  before it is fsynced and published: a caller that wrote data files without syncing them
 *  syncs them there, so the file system can make both durable in one journal commit. A
 *  failing hook fails the commit (nothing published). */
POND_API int pond_delta_commit_write_hook(const char *dir, int64_t version,
                                          const pond_delta_actions *a,
                                          int (*before_sync)(void *payload), void *payload);

/** The newest commit version in dir's log, from the listing alone (no replay); POND_ENOTFOUND
 *  when there is no log or no commit. The next commit of a writer is this + 1. */
POND_API int pond_delta_latest_version(int64_t *version_out, const char *dir);
/** The oldest version the log can still build (from the listing alone): 0 while commit 0 is
 *  there, else the oldest checkpoint's (a log cleanup removed the commits before it; the
 *  checkpoint may still turn out unreadable). POND_ENOTFOUND when there is neither. */
POND_API int pond_delta_oldest_version(int64_t *version_out, const char *dir);

/** Percent-encode a relative path for an add/remove action (free with pond_free). */
POND_API int pond_delta_path_encode(char **out, const char *path);
/** Percent-decode a logged path and check it is a safe relative path (no scheme, not absolute,
 *  no "." / ".." / empty components, no NUL). Free with pond_free. POND_ECORRUPT for bad
 *  escapes or unsafe components, POND_EUNSUPPORTED for absolute paths and URIs. */
POND_API int pond_delta_path_decode(char **out, const char *logged_path);

/* ------------------------------------------------------------------ checking and repair */

typedef enum {
    POND_DELTA_LOG_COMMIT,         /* a JSON commit (damaged, or missing between others) */
    POND_DELTA_LOG_CHECKPOINT,     /* a checkpoint (all its parts) that cannot be read */
    POND_DELTA_LOG_LAST_CHECKPOINT /* _last_checkpoint: unreadable, or names no checkpoint */
} pond_delta_log_file_kind;

typedef struct {
    const char *file; /* name inside _delta_log */
    pond_delta_log_file_kind kind;
    int64_t version;     /* of the commit or checkpoint (-1: _last_checkpoint) */
    const char *problem; /* why, one line */
} pond_delta_log_problem;
typedef void (*pond_delta_log_problem_fn)(const pond_delta_log_problem *p, void *payload);

/** Checks every file of dir's `_delta_log` on its own: each commit parses and its actions are
 *  valid (one action parsed at a time), no commit is missing between the oldest and the
 *  newest above the newest checkpoint that reads (a cleanup removes only the oldest; commits
 *  missing below a readable checkpoint are no damage: a reader starts there, and a log copied
 *  from a checkpoint has such a hole), each checkpoint reads completely (all parts)
 *  with exactly one protocol and metaData, `_last_checkpoint` parses and names an existing
 *  checkpoint. fn (may be NULL) gets every problem; *n_out counts them. The return is an error
 *  only when the check itself could not run (no log, out of memory). */
POND_API int pond_delta_log_check(int *n_out, const char *dir, pond_delta_log_problem_fn fn,
                                  void *payload);

/** Write a classic checkpoint `<v>.checkpoint.parquet` of the snapshot (v = its version): one
 *  row per protocol, metaData, txn, live file (add, dataChange false) and tombstone (remove),
 *  written to a temp file, fsynced, link()ed into place, then `_last_checkpoint` is replaced by
 *  rename (it is only a hint). POND_EEXISTS when that checkpoint already exists. Needs a
 *  snapshot opened by pond_delta_table_open (not one built from memory). */
POND_API int pond_delta_checkpoint_write(const pond_delta_table *t);
/** The same, but an existing (damaged) checkpoint of that version is replaced: temp file,
 *  fsync, rename() over it, fsync of `_delta_log`; `_last_checkpoint` is rewritten only when
 *  no newer checkpoint exists. Never touches a commit. */
POND_API int pond_delta_checkpoint_rewrite(const pond_delta_table *t);

#endif
