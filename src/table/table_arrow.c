/* Array views, null arrays and streams over batches: the Arrow plumbing of tables. */
#include "table/table_internal.h"

#include <pond/arrow.h>
#include <pond/timefmt.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct table_holder {
    _Atomic int refs;
    struct ArrowArray batch;
};

int pond_table__holder_new(table_holder **out, struct ArrowArray *batch)
{
    table_holder *h = pond_calloc(1, sizeof *h);
    if (!h)
        return POND_ENOMEM;
    atomic_init(&h->refs, 1);
    pond_arrow_array_move(&h->batch, batch);
    *out = h;
    return 0;
}

void pond_table__holder_unref(table_holder *h)
{
    if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
        pond_arrow_array_release(&h->batch);
        pond_free(h);
    }
}

const struct ArrowArray *pond_table__holder_batch(const table_holder *h) { return &h->batch; }

static void view_release(struct ArrowArray *a)
{
    pond_table__holder_unref(a->private_data);
    a->release = NULL;
}

bool pond_table__is_null(const struct ArrowArray *a, int64_t i)
{
    const uint8_t *v = a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (!v || a->null_count == 0)
        return false;
    int64_t j = i + a->offset;
    return !(v[j >> 3] & (1u << (j & 7)));
}

int pond_table__view(struct ArrowArray *out, table_holder *h, const struct ArrowArray *src,
                     int64_t start, int64_t len)
{
    /* The view shares src's buffers and children; only offset/length/null_count differ.
     * Children are not re-sliced: the parent's offset applies to them as the spec says. */
    *out = *src;
    out->offset = src->offset + start;
    out->length = len;
    if (src->null_count == 0 || (src->n_buffers > 0 && !src->buffers[0])) {
        out->null_count = 0;
    } else {
        int64_t nulls = 0;
        for (int64_t i = 0; i < len; i++)
            nulls += pond_table__is_null(src, start + i);
        out->null_count = nulls;
    }
    out->release = view_release;
    out->private_data = h;
    atomic_fetch_add(&h->refs, 1);
    return 0;
}

typedef struct {
    struct ArrowArray *cols;
    struct ArrowArray **ptrs;
    int64_t n;
} struct_priv;

static void struct_release(struct ArrowArray *a)
{
    struct_priv *p = a->private_data;
    for (int64_t i = 0; i < p->n; i++)
        if (p->cols[i].release)
            p->cols[i].release(&p->cols[i]);
    pond_free(p->cols);
    pond_free(p->ptrs);
    pond_free((void *)a->buffers);
    pond_free(p);
    a->release = NULL;
}

int pond_table__struct_of(struct ArrowArray *out, struct ArrowArray *cols, int64_t n_cols,
                          int64_t len)
{
    struct_priv *p = pond_calloc(1, sizeof *p);
    const void **bufs = pond_calloc(1, sizeof *bufs);
    struct ArrowArray *c = pond_calloc((size_t)(n_cols ? n_cols : 1), sizeof *c);
    struct ArrowArray **ptrs = pond_calloc((size_t)(n_cols ? n_cols : 1), sizeof *ptrs);
    if (!p || !bufs || !c || !ptrs) {
        pond_free(p);
        pond_free(bufs);
        pond_free(c);
        pond_free(ptrs);
        for (int64_t i = 0; i < n_cols; i++)
            pond_arrow_array_release(&cols[i]);
        return POND_ENOMEM;
    }
    for (int64_t i = 0; i < n_cols; i++) {
        pond_arrow_array_move(&c[i], &cols[i]);
        ptrs[i] = &c[i];
    }
    p->cols = c;
    p->ptrs = ptrs;
    p->n = n_cols;
    memset(out, 0, sizeof *out);
    out->length = len;
    out->null_count = 0;
    out->n_buffers = 1;
    out->buffers = bufs;
    out->n_children = n_cols;
    out->children = ptrs;
    out->release = struct_release;
    out->private_data = p;
    return 0;
}

/* ---- timestamps ---- */

static const char *const TS_NAMES[] = {"timestamp", "time_stamp",      "ts",   "time",
                                       "datetime",  "date_time",       "date", "event_time",
                                       "eventtime", "event_timestamp", "year"};

bool pond_table__ts_name(const char *name)
{
    for (size_t k = 0; name && k < POND_ARRAY_LEN(TS_NAMES); k++)
        if (!strcasecmp(name, TS_NAMES[k]))
            return true;
    return false;
}

int pond_table__ts_kind(table_ts *out, const struct ArrowSchema *col, const pond_tz *tz)
{
    pond_arrow_format f;
    memset(out, 0, sizeof *out);
    if (pond_arrow_format_parse(&f, col->format) < 0)
        return 0;
    if (f.type == POND_ARROW_TIMESTAMP) {
        out->kind = 1;
        out->unit = (int)f.unit;
        /* no zone: Parquet's isAdjustedToUTC=false, a wall-clock time */
        out->local = f.tz[0] ? NULL : tz;
    } else if (f.type == POND_ARROW_INT64) {
        out->kind = 2;
    } else if (f.type == POND_ARROW_INT32) {
        out->kind = 3;
    } else if (f.type == POND_ARROW_DATE32) {
        out->kind = 4;
        out->local = tz;
    }
    return 0;
}

static int64_t raw_us(const table_ts *t, const struct ArrowArray *col, int64_t j)
{
    if (t->kind == 4)
        return (int64_t)((const int32_t *)col->buffers[1])[j] * 86400 * 1000000;
    int64_t v = ((const int64_t *)col->buffers[1])[j], r;
    /* a value past the µs range (seconds beyond year 292,277) saturates: never overflow */
    switch (t->unit) {
    case POND_ARROW_UNIT_S:
        return __builtin_mul_overflow(v, 1000000, &r) ? (v < 0 ? INT64_MIN : INT64_MAX) : r;
    case POND_ARROW_UNIT_MS:
        return __builtin_mul_overflow(v, 1000, &r) ? (v < 0 ? INT64_MIN : INT64_MAX) : r;
    case POND_ARROW_UNIT_US:
        return v;
    default:
        return v / 1000 - (v % 1000 < 0);
    }
}

/* A wall-clock µs value read in t->local; rc < 0 for a skipped or doubled local time (the
 * value is still the documented resolution: see pond_tz_to_utc). */
static int local_to_utc(int64_t *out, const table_ts *t, int64_t local_us)
{
    int64_t secs = local_us / 1000000 - (local_us % 1000000 < 0), utc;
    /* zones mean nothing tens of thousands of years out; keep such values as they are */
    if (secs < -(1LL << 40) || secs > (1LL << 40)) {
        *out = local_us;
        return 0;
    }
    int rc = pond_tz_to_utc(&utc, t->local, secs);
    *out = utc * 1000000 + (local_us - secs * 1000000);
    return rc;
}

int64_t pond_table__ts_value(const table_ts *t, const struct ArrowArray *col, int64_t i)
{
    int64_t j = i + col->offset;
    if (t->kind == 3)
        return pond_time_epoch_guess_us(((const int32_t *)col->buffers[1])[j]);
    if (t->kind == 2)
        return pond_time_epoch_guess_us(((const int64_t *)col->buffers[1])[j]);
    int64_t v = raw_us(t, col, j);
    if (t->local && !pond_tz_is_utc(t->local))
        (void)local_to_utc(&v, t, v); /* checked when written */
    return v;
}

int pond_table__ts_value_checked(int64_t *us_out, const table_ts *t, const struct ArrowArray *col,
                                 int64_t i)
{
    int64_t j = i + col->offset;
    if (t->kind == 2 || t->kind == 3)
        return pond_time_epoch_magnitude(us_out, t->kind == 2
                                                     ? ((const int64_t *)col->buffers[1])[j]
                                                     : ((const int32_t *)col->buffers[1])[j]);
    int64_t v = raw_us(t, col, j);
    if (t->local && !pond_tz_is_utc(t->local)) {
        int64_t local = v;
        int rc = local_to_utc(&v, t, local);
        if (rc < 0) {
            char when[40];
            size_t n = pond_time_format_iso(when, local);
            when[n ? n - 1 : 0] = '\0'; /* a wall-clock time: no Z */
            pond_error_prefix("%s", when);
            return rc;
        }
    }
    *us_out = v;
    return 0;
}

int pond_table__pick_ts(int *index_out, const char *const *names, const int *kinds, size_t n)
{
    int typed = 0, typed_named = 0, int_named = 0, last_typed = -1, last_tn = -1, last_in = -1;
    for (size_t i = 0; i < n; i++) {
        bool named = pond_table__ts_name(names[i]);
        if (kinds[i] == 1) {
            typed++;
            last_typed = (int)i;
            if (named) {
                typed_named++;
                last_tn = (int)i;
            }
        } else if (kinds[i] == 2 && named) {
            int_named++;
            last_in = (int)i;
        }
    }
    if (typed == 1) {
        *index_out = last_typed;
        return 0;
    }
    if (typed > 1 && typed_named == 1) {
        *index_out = last_tn;
        return 0;
    }
    if (typed == 0 && int_named == 1) {
        *index_out = last_in;
        return 0;
    }
    char list[256] = "";
    size_t lp = 0;
    for (size_t i = 0; i < n && lp < sizeof list - 1; i++) {
        bool cand = typed ? kinds[i] == 1 && (typed_named == 0 || pond_table__ts_name(names[i]))
                          : kinds[i] == 2 && pond_table__ts_name(names[i]);
        if (cand) {
            int k = snprintf(list + lp, sizeof list - lp, "%s'%s'", lp ? ", " : "", names[i]);
            lp += k > 0 ? (size_t)k : 0;
        }
    }
    if (lp)
        return pond_error_set(POND_EINVALID, POND_DOM_TABLE,
                              "several columns could be the timestamp (%s): choose one with "
                              "--timestamp-column",
                              list);
    return pond_error_set(POND_EINVALID, POND_DOM_TABLE,
                          "no timestamp column: none has a timestamp or date type or is an "
                          "integer named like one (timestamp, time, date, ts, datetime, "
                          "event_time, year); name it with --timestamp-column");
}

int pond_table__find_ts(const struct ArrowSchema *schema, const char *name)
{
    size_t n = (size_t)schema->n_children;
    const char **names = pond_calloc(n ? n : 1, sizeof *names);
    int *kinds = pond_calloc(n ? n : 1, sizeof *kinds);
    int found = -1;
    if (!names || !kinds) {
        pond_free(names);
        pond_free(kinds);
        pond_error_set(POND_ENOMEM, POND_DOM_TABLE, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ArrowSchema *c = schema->children[i];
        table_ts t;
        pond_table__ts_kind(&t, c, NULL);
        names[i] = c->name ? c->name : "";
        kinds[i] = t.kind == 1 || t.kind == 4 ? 1 : t.kind == 2 ? 2 : 0;
        if (name && !strcmp(names[i], name))
            found = kinds[i] ? (int)i : -2;
    }
    if (!name) {
        int idx;
        found = pond_table__pick_ts(&idx, names, kinds, n) == 0 ? idx : -1;
    }
    pond_free(names);
    pond_free(kinds);
    return found;
}

/* The format as Parquet stores it: large and small variants of strings, binaries and lists
 * are the same column, and any time zone means "adjusted to UTC". */
static void storage_format(char out[64], const char *f)
{
    if (!strcmp(f, "U"))
        f = "u";
    else if (!strcmp(f, "Z"))
        f = "z";
    else if (!strcmp(f, "+L"))
        f = "+l";
    else if (!strcmp(f, "tts"))
        f = "ttm"; /* Parquet has no seconds unit: seconds are stored as milliseconds */
    if (f[0] == 't' && f[1] == 's' && f[2] && f[3] == ':') {
        snprintf(out, 64, "ts%c:%s", f[2] == 's' ? 'm' : f[2], f[4] ? "UTC" : "");
        return;
    }
    snprintf(out, 64, "%s", f);
}

bool pond_table__same_type(const struct ArrowSchema *a, const struct ArrowSchema *b)
{
    char fa[64], fb[64];
    storage_format(fa, a->format);
    storage_format(fb, b->format);
    if (strcmp(fa, fb) != 0 || a->n_children != b->n_children)
        return false;
    for (int64_t i = 0; i < a->n_children; i++)
        if (!pond_table__same_type(a->children[i], b->children[i]))
            return false;
    return true;
}
