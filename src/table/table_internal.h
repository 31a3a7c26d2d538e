#ifndef POND_TABLE_INTERNAL_H
#define POND_TABLE_INTERNAL_H

#include <pond/table.h>
#include <pond/timefmt.h>

#include "util/util.h"

/* Views: arrays that share the buffers of a batch kept alive by a reference count. */
typedef struct table_holder table_holder;
/* Takes the batch (moved). */
int table__holder_new(table_holder **out, struct ArrowArray *batch);
void table__holder_unref(table_holder *h);
/* The held batch (borrowed while a reference is held). */
const struct ArrowArray *table__holder_batch(const table_holder *h);
/* A shallow view of src (a child of the held batch) sliced to [start, start+len). */
int table__view(struct ArrowArray *out, table_holder *h, const struct ArrowArray *src,
                int64_t start, int64_t len);
/* A struct batch of n_cols views/arrays (taken) of length len. */
int table__struct_of(struct ArrowArray *out, struct ArrowArray *cols, int64_t n_cols, int64_t len);
/* An all-null array of the given (flat) type and length. */
int table__null_array(struct ArrowArray *out, const struct ArrowSchema *type, int64_t len);

/* Timestamp handling: the µs value of row i of a timestamp, date or int64 column. */
typedef struct {
    int kind;  /* 0 none, 1 timestamp with unit, 2 int64 (unit by magnitude), 3 int32, 4 date32 */
    int unit;  /* pond_arrow_unit for kind 1 */
    const pond_tz *local; /* kind 1 without a zone and kind 4: wall-clock values read in this
                             zone (NULL: UTC); NULL for instants */
} table_ts;
/* tz: the series' zone, used only when the column holds wall-clock values. */
int table__ts_kind(table_ts *out, const struct ArrowSchema *col, const pond_tz *tz);
int64_t table__ts_value(const table_ts *t, const struct ArrowArray *col, int64_t i);
/* The same, failing (POND_EINVALID, message without context) on an int64 below the epoch
 * magnitude bound or a wall-clock time the zone skips or shows twice: for writers. */
int table__ts_value_checked(int64_t *us_out, const table_ts *t, const struct ArrowArray *col,
                            int64_t i);
bool table__is_null(const struct ArrowArray *a, int64_t i);
/* Names a timestamp column is detected by (case-insensitive): timestamp, time, date, ... */
bool table__ts_name(const char *name);
/* The timestamp column among n columns of the given kinds (1: a timestamp or date type, 2: an
 * int64, 0: other) by the rule of docs/time.md: the only timestamp-typed column, else the only
 * such one named like a time, else the only int64 named like a time. POND_EINVALID (message
 * naming the candidates, no path) when there is none or it is ambiguous. */
int table__pick_ts(int *index_out, const char *const *names, const int *kinds, size_t n);
/* The index of the timestamp column of a schema: the given name (-2 when its type cannot
 * be one, -1 when missing) or, name NULL, picked as above (-1 with the message set). */
int table__find_ts(const struct ArrowSchema *schema, const char *name);

/* A series' event time (pond_event_time in table.h): the one place that says which column holds
 * it, which zone its wall-clock values are in, and (table__ts_value) what a row's value is. The
 * series reader embeds one; export and other readers get one from pond_event_time_open. */
struct pond_event_time {
    char *column; /* the recorded timestamp column, or NULL */
    pond_tz *tz;  /* the series' zone for wall-clock values (NULL: UTC) */
    int index;    /* bound: the column's index in the schema, -1 when not bound */
    table_ts ts;  /* bound: how its values read */
};
/* Reads the settings of the series at path (path in messages). */
int table__event_time_init(pond_event_time *et, pond_fs *fs, const pond_wd *wd, const char *path);
void table__event_time_dispose(pond_event_time *et);
/* Binds to the column of the "+s" schema named et->column: 0, 1 when the schema has no such
 * column (et->index -1, no message), POND_EINVALID when its type holds no time. */
int table__event_time_bind(pond_event_time *et, const struct ArrowSchema *schema);

/* The Parquet schema (as Arrow) of one version of a file, read from its footer. */
int table__version_schema(struct ArrowSchema *out, pond_fs *fs, const pond_wd *wd,
                          const char *path, int64_t version);
/* Format strings equal, recursively (names of nested children too). */
bool table__same_type(const struct ArrowSchema *a, const struct ArrowSchema *b);

/* JSON records as rows for import (json_import.c). The columns are the keys of the first
 * sample_rows records in order of first appearance; a later record with another key is an
 * error naming it. Fields of a row are in column order; a missing key reads as null. Kinds
 * are csv_import.c's: 0 bare (null, false, true, numbers), 2 a string, 3 nested JSON text. */
typedef struct table_json_src table_json_src;
struct pond_input;
/* layout: 0 auto, 1 array, 2 lines. in is borrowed. Reads the sample at once. */
int table__json_src_new(table_json_src **out, struct pond_input *in, const char *name, int layout,
                        int64_t sample_rows);
size_t table__json_src_ncols(const table_json_src *s);
const char *table__json_src_name(const table_json_src *s, size_t col);
int table__json_src_next(table_json_src *s);
const char *table__json_src_field(const table_json_src *s, size_t col, size_t *len, int *kind);
int64_t table__json_src_line(const table_json_src *s);
void table__json_src_free(table_json_src *s);

#endif
