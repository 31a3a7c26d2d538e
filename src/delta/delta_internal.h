/* Delta log internals shared by the files of src/delta (not installed). */
#ifndef POND_DELTA_INTERNAL_H
#define POND_DELTA_INTERNAL_H

#include <pond/delta.h>
#include <pond/errors.h>

#include "util/util.h"

#include <jansson.h>

/* Limits on untrusted input. */
#define DELTA_MAX_JSON_DEPTH 64             /* nesting of one action line / schema / stats */
#define DELTA_MAX_COMMIT_BYTES (256u << 20) /* one commit or JSON checkpoint file */
#define DELTA_MAX_LAST_CHECKPOINT_BYTES (16u << 20)
#define DELTA_MAX_SCHEMA_DEPTH 32 /* nested struct/array/map levels */

/* ---- jansson through pond's allocator (delta_json.c) */
void pond_delta__json_init(void);
/* Reset / check the "jansson ran out of pond memory" flag around direct jansson calls (object
 * building): check returns POND_ENOMEM (message set) when an allocation failed since reset. */
void pond_delta__json_oom_reset(void);
int pond_delta__json_oom_check(void);
/* Parse one JSON document of len bytes (not NUL-terminated) with the depth limit. On failure
 * sets POND_ECORRUPT "<where>: invalid JSON (...)" or POND_ENOMEM and returns NULL. */
json_t *pond_delta__json_parse(const char *text, size_t len, size_t flags, const char *where);
/* Compact serialization into a fresh pond_malloc string (NULL on OOM, error set). */
char *pond_delta__json_dump(const json_t *j);
/* Integer member: true when present and a JSON integer. */
bool pond_delta__json_int(int64_t *out, const json_t *obj, const char *key);

/* ---- arena for strings and arrays that live as long as a snapshot (delta_json.c) */
typedef struct delta_arena_block delta_arena_block;
typedef struct {
    delta_arena_block *head;
} delta_arena;
void *pond_delta__arena_alloc(delta_arena *a, size_t n);
char *pond_delta__arena_strdup(delta_arena *a, const char *s);
void pond_delta__arena_dispose(delta_arena *a);

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

/* Field validation of individual actions; messages start with `where`. */
int pond_delta__check_add(const json_t *add, const char *where);
int pond_delta__check_remove(const json_t *rm, const char *where);
int pond_delta__check_protocol(const json_t *p, const char *where);
int pond_delta__check_metadata(const json_t *m, const char *where);
int pond_delta__check_dv(const json_t *dv, const char *where);

/* ---- Parquet checkpoints (delta_checkpoint.c) */
/* The same without the JSON text: fn gets each action as a jansson value (borrowed) with the
 * name of its column ("add", "remove", "metaData", ...). This is what replay uses. */
typedef int (*delta_action_fn)(void *payload, const char *action, json_t *body);
int pond_delta__checkpoint_parquet_actions(const char *path, delta_action_fn fn, void *payload);
/* The same over a Parquet file held in memory (fuzzing). */
int pond_delta__checkpoint_parquet_lines_mem(pond_buf *out, const void *data, size_t len);

/* ---- replay of in-memory commits 0..n-1 (fuzzing, tests); no file access (delta_log.c) */
int pond_delta__table_from_memory(pond_delta_table **out, const char *const *commits,
                                  const size_t *lens, size_t n);

#endif
