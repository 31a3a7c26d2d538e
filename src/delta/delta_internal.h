/* Delta log internals shared by the files of src/delta (not installed). */
#ifndef POND_DELTA_INTERNAL_H
#define POND_DELTA_INTERNAL_H

#include <pond/delta.h>
#include <pond/errors.h>

#include "util/util.h"

#include "util/json.h"

/* Limits on untrusted input. */
/* Commits and JSON checkpoints are read one line (one action) at a time (docs/delta.md,
 * "Limits"): memory holds one line and its parsed form, whatever the file size. */
#define DELTA_MAX_LINE_BYTES (16u << 20)  /* one line of a commit or JSON checkpoint */
#define DELTA_MAX_COMMIT_BYTES (1u << 30) /* one commit or JSON checkpoint file */
#define DELTA_MAX_LAST_CHECKPOINT_BYTES (16u << 20)
#define DELTA_MAX_SCHEMA_DEPTH 32 /* nested struct/array/map levels */

/* ---- strings and arrays that live as long as a snapshot: util's arena */
typedef pond__arena delta_arena;

/* ---- schema (delta_schema.c) */
/* Parse a schemaString into a type tree allocated in the arena. POND_ECORRUPT with
 * "metaData.schemaString is not valid JSON" / "is not a JSON struct type" / field errors. */
int pond_delta__schema_parse(const pond_delta_type **out, delta_arena *a, const char *schema_string,
                             pond_delta_column_mapping mode);
/* Describe a type as text ("long", "struct<a:long>", "array<string>") into buf. */
int pond_delta__type_format(pond_buf *out, const pond_delta_type *t);

/* ---- one action line (delta_action.c) */
typedef enum {
    DELTA_ACT_UNKNOWN = 0,
    DELTA_ACT_ADD,
    DELTA_ACT_REMOVE,
    DELTA_ACT_METADATA,
    DELTA_ACT_PROTOCOL,
    DELTA_ACT_TXN,
    DELTA_ACT_COMMITINFO,
    DELTA_ACT_CDC,
    DELTA_ACT_DOMAIN,
    DELTA_ACT_CHECKPOINT_META,
    DELTA_ACT_SIDECAR
} delta_action_kind;

/* Parse one line: a JSON object with exactly one member. *kind_out and *body_out (borrowed from
 * *root_out, which the caller json_decref()s) describe it; unknown actions give
 * DELTA_ACT_UNKNOWN. `where` prefixes messages ("version 3 line 2"). */
int pond_delta__action_parse(json_t **root_out, delta_action_kind *kind_out, json_t **body_out,
                             const char *line, size_t len, const char *where);

/* The action a line names, from its first key, without parsing it ("add", "commitInfo", ...;
 * static storage), or NULL when the line does not start plainly with a known action's key
 * (parse it to know). Replay reads a commit in two passes and parses each action once. */
const char *pond_delta__action_sniff(const char *line, size_t len);

/* Field validation of individual actions; messages start with `where`. */
int pond_delta__check_add(const json_t *add, const char *where);
int pond_delta__check_remove(const json_t *rm, const char *where);
int pond_delta__check_protocol(const json_t *p, const char *where);
int pond_delta__check_metadata(const json_t *m, const char *where);
int pond_delta__check_dv(const json_t *dv, const char *where);

/* ---- Parquet checkpoints (delta_checkpoint.c) */
/* One add or remove action as replay applies it, from a JSON line or straight from a
 * checkpoint's columns. Strings are NUL-terminated and borrowed for the call. */
typedef struct {
    const char *path; /* as logged; never NULL or "" */
    int64_t size, modification_time;
    bool data_change;
    const char *stats; /* NULL when absent */
    const pond_delta_kv *partition_values;
    size_t n_partition_values;
    const pond_delta_kv *tags;
    size_t n_tags;
    const pond_delta_dv *dv;    /* NULL when none */
    int64_t deletion_timestamp; /* a remove's; 0 when absent */
} delta_file_action;

/* A checked add or remove (pond_delta__check_add/remove) as the fields replay applies; the
 * strings are borrowed from a, and *kv_out holds the map pairs for the caller to pond_free. */
int pond_delta__file_action_from_json(delta_file_action *fa, pond_delta_kv **kv_out,
                                      pond_delta_dv *dv, const json_t *a);
/* A JSON string map (values NULL when not strings) as borrowed pairs; *out is the caller's to
 * pond_free. */
int pond_delta__json_kv(pond_delta_kv **out, size_t *n_out, const json_t *m);

/* fn gets each action as a jansson value (borrowed) with the name of its column ("metaData",
 * "protocol", "txn", ...). */
typedef int (*delta_action_fn)(void *payload, const char *action, json_t *body);
typedef struct {
    delta_action_fn action;
    /* adds and removes, read from their columns without jansson and checked as
     * pond_delta__check_add/remove check a JSON one; NULL: they go to `action` as jansson
     * values too (the former conversion, kept as the tests' oracle) */
    int (*add)(void *payload, const delta_file_action *a);
    int (*remove)(void *payload, const delta_file_action *r);
    void *payload;
    const char *where; /* prefixes the checks' messages ("checkpoint 20") */
    bool skip_stats;   /* the column path leaves add.stats NULL (the snapshot drops them) */
} delta_cp_sink;
/* Reads a Parquet checkpoint one row group at a time; this is what replay uses. Every error
 * names the file. */
int pond_delta__checkpoint_parquet_actions(const char *path, const delta_cp_sink *sink);
/* The same over a Parquet file held in memory (at most 64 MiB of allocations while reading). */
int pond_delta__checkpoint_parquet_actions_mem(const void *data, size_t len,
                                               const delta_cp_sink *sink);
/* A snapshot from one Parquet checkpoint held in memory (at most 64 MiB of allocations while
 * reading it), through the column reader or, with via_json, the jansson conversion (fuzzing). */
int pond_delta__table_from_checkpoint_mem(pond_delta_table **out, const void *data, size_t len,
                                          bool via_json);
/* Compares two snapshots field by field (files in order, tombstones, txns, protocol and
 * metaData): out is left empty when they are the same, else it names the first difference
 * (delta_verify.c; tests and fuzzing). */
int pond_delta__snapshot_diff(pond_buf *out, const pond_delta_table *a, const pond_delta_table *b);
/* A Parquet file at path (created exclusively) with the schema `root` describes and one row per
 * JSON object text of rows (a field whose JSON type does not fit its column is null): the
 * checkpoint writer's schema, and the tests' hand-made checkpoints (delta_checkpoint_write.c). */
typedef struct delta_col_spec {
    const char *name;
    const char *format; /* "u", "i", "l", "b", "+s", "+m" (children: one key_value struct),
                           "+l" */
    const struct delta_col_spec *children;
    int n_children;
    bool nullable;
} delta_col_spec;
int pond_delta__rows_parquet(const char *path, const delta_col_spec *root, const char *const *rows,
                             size_t n);
/* pond_delta_table_open with the checkpoint read through jansson values (the tests' oracle). */
int pond_delta__table_open_ex(pond_delta_table **out, const char *dir,
                              const pond_delta_open_options *opts, bool cp_via_json);

/* ---- the _delta_log listing (delta_listing.c) */
typedef enum {
    DELTA_LOG_COMMIT,
    DELTA_LOG_CP_CLASSIC,
    DELTA_LOG_CP_MULTI,
    DELTA_LOG_CP_V2
} delta_log_kind;

typedef struct {
    int64_t version;
    delta_log_kind kind;
    uint32_t part, parts; /* multi-part */
    char *name;
} delta_log_entry;

typedef struct {
    delta_log_entry *v;
    size_t n, cap;
} delta_log_list;

/* Lists log_dir once: commits and checkpoints sorted by (version, kind, parts, part, name).
 * POND_ENOTFOUND when there is no such directory. */
int pond_delta__log_list(delta_log_list *out, const char *log_dir);
void pond_delta__log_list_dispose(delta_log_list *l);
/* "<dir>/_delta_log/<version, 20 digits>.json", the path of a commit (pond_free it), or NULL
 * when out of memory. */
char *pond_delta__commit_path(const char *dir, int64_t version);

/* Reads one commit file alone (every action parsed, checked and applied to an empty scratch
 * snapshot), or one checkpoint alone (all parts from first on, its sidecars, and the final
 * validation of protocol and metaData): 0 when it reads, else the error it gives (delta_log.c). */
int pond_delta__check_commit(const char *path, int64_t version);
int pond_delta__check_checkpoint(const char *log_dir, const delta_log_entry *first, uint32_t parts);

/* ---- replay of in-memory commits 0..n-1 (fuzzing, tests); no file access (delta_log.c) */
int pond_delta__table_from_memory(pond_delta_table **out, const char *const *commits,
                                  const size_t *lens, size_t n);

#endif
