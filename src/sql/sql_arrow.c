/* The rows of an SQL statement as an Arrow stream (pond_sql_query_stream): for front ends that
 * hand results on as Arrow (the Python package, its Arrow PyCapsule interface). Column types
 * come from the declared type of a column taken straight from a table, else from the values of
 * the first batch; a later value that does not fit is an error naming the column and row,
 * never a silent conversion (docs/sql.md). */
#include "sql/sql_internal.h"

#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/errors.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define D POND_DOM_SQL
#define BATCH_ROWS 65536

typedef enum { T_NULL, T_INT, T_REAL, T_TEXT, T_BLOB, T_TS, T_TS_NAIVE } ctype;

typedef struct {
    int cls; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
    int64_t i;
    double d;
    size_t off, len; /* text/blob bytes in the batch arena */
} cell;

typedef struct {
    pond_sql *q;
    sqlite3_stmt *st;
    int ncols;
    ctype *types;
    struct ArrowSchema schema;
    pond_buf cells; /* ncols cells per row of the batch being collected */
    pond_buf arena;
    int64_t rows_before; /* rows of earlier batches (for messages) */
    bool done, failed;
    bool owns_q; /* pond_sql__query_stream_take: the stream frees q */
    char err[1024];
} sqs;

static int fail(sqs *s, int rc)
{
    snprintf(s->err, sizeof s->err, "%s", pond_error_last()->message);
    s->failed = true;
    return pond__errno_of(rc);
}

/* Collects up to BATCH_ROWS rows; *n_out rows are in s->cells. */
static int collect(sqs *s, int64_t *n_out)
{
    *n_out = 0;
    pond_buf_clear(&s->cells);
    pond_buf_clear(&s->arena);
    while (!s->done && *n_out < BATCH_ROWS) {
        int r = pond_sql_step(s->q, s->st);
        if (r < 0)
            return r;
        if (r == 0) {
            s->done = true;
            break;
        }
        for (int k = 0; k < s->ncols; k++) {
            cell c = {sqlite3_column_type(s->st, k), 0, 0, 0, 0};
            int rc = 0;
            if (c.cls == SQLITE_INTEGER) {
                c.i = sqlite3_column_int64(s->st, k);
            } else if (c.cls == SQLITE_FLOAT) {
                c.d = sqlite3_column_double(s->st, k);
            } else if (c.cls == SQLITE_TEXT || c.cls == SQLITE_BLOB) {
                const void *p = c.cls == SQLITE_TEXT ? (const void *)sqlite3_column_text(s->st, k)
                                                     : sqlite3_column_blob(s->st, k);
                c.len = (size_t)sqlite3_column_bytes(s->st, k);
                c.off = s->arena.size;
                if (c.len && (rc = pond_buf_put(&s->arena, p, c.len)) < 0)
                    return rc;
            }
            if ((rc = pond_buf_put(&s->cells, &c, sizeof c)) < 0)
                return rc;
        }
        ++*n_out;
    }
    return 0;
}

static bool has(const char *s, const char *word)
{
    for (size_t n = strlen(word); *s; s++)
        if (!strncasecmp(s, word, n))
            return true;
    return false;
}

/* SQLite's affinity rules, plus pond's declared timestamp types. */
static ctype from_decl(const char *d)
{
    if (!d)
        return T_NULL;
    if (!strcasecmp(d, "TIMESTAMP"))
        return T_TS;
    if (!strcasecmp(d, "DATETIME"))
        return T_TS_NAIVE;
    if (has(d, "INT"))
        return T_INT;
    if (has(d, "REAL") || has(d, "FLOA") || has(d, "DOUB"))
        return T_REAL;
    if (has(d, "CHAR") || has(d, "TEXT") || has(d, "CLOB") || !strcasecmp(d, "DATE"))
        return T_TEXT;
    if (has(d, "BLOB"))
        return T_BLOB;
    return T_NULL;
}

/* Column types: declared, else the first batch's values (REAL over INTEGER, TEXT over numbers). */
static void infer(sqs *s, int64_t n)
{
    const cell *cells = (const cell *)s->cells.ptr;
    for (int k = 0; k < s->ncols; k++) {
        ctype t = from_decl(sqlite3_column_decltype(s->st, k));
        if (t != T_NULL) {
            s->types[k] = t;
            continue;
        }
        bool i = false, r = false, x = false, b = false;
        for (int64_t row = 0; row < n; row++) {
            int cls = cells[row * s->ncols + k].cls;
            i |= cls == SQLITE_INTEGER;
            r |= cls == SQLITE_FLOAT;
            x |= cls == SQLITE_TEXT;
            b |= cls == SQLITE_BLOB;
        }
        s->types[k] = x ? T_TEXT : b ? (i || r ? T_TEXT : T_BLOB) : r ? T_REAL : i ? T_INT : T_NULL;
    }
}

static const char *format_of(ctype t)
{
    switch (t) {
    case T_INT:
        return "l";
    case T_REAL:
        return "g";
    case T_TEXT:
        return "u";
    case T_BLOB:
        return "z";
    case T_TS:
        return "tsu:UTC";
    case T_TS_NAIVE:
        return "tsu:";
    default:
        return "n";
    }
}

static const char *cls_name(int cls)
{
    switch (cls) {
    case SQLITE_INTEGER:
        return "an INTEGER";
    case SQLITE_FLOAT:
        return "a REAL";
    case SQLITE_TEXT:
        return "a TEXT";
    default:
        return "a BLOB";
    }
}

static int misfit(sqs *s, int k, int64_t row, int cls)
{
    static const char *const tn[] = {"an all-NULL", "an INTEGER",  "a REAL",    "a TEXT",
                                     "a BLOB",      "a TIMESTAMP", "a DATETIME"};
    return pond_error_set(
        POND_EINVALID, D,
        "sql: column '%s' row %" PRId64 ": %s value in %s column (its type "
        "came from %s); CAST it in the SQL",
        sqlite3_column_name(s->st, k), s->rows_before + row + 1, cls_name(cls), tn[s->types[k]],
        sqlite3_column_decltype(s->st, k) ? "its declared type" : "the first rows");
}

/* One column of the collected rows as an Arrow array of the column's type. */
static int build_column(struct ArrowArray *out, sqs *s, int k, int64_t n)
{
    const cell *cells = (const cell *)s->cells.ptr;
    ctype t = s->types[k];
    pond_arrow_builder *b = NULL;
    int rc;
    if (t == T_NULL) {
        for (int64_t row = 0; row < n; row++)
            if (cells[row * s->ncols + k].cls != SQLITE_NULL)
                return misfit(s, k, row, cells[row * s->ncols + k].cls);
        if ((rc = pond_arrow_array_init(out, n, n, 0, 0)) < 0)
            return rc;
        return 0;
    }
    if ((rc = pond_arrow_builder_new(&b, format_of(t))) < 0)
        return rc;
    for (int64_t row = 0; row < n && rc == 0; row++) {
        const cell *c = &cells[row * s->ncols + k];
        const char *bytes = s->arena.ptr ? s->arena.ptr + c->off : "";
        char num[40];
        if (c->cls == SQLITE_NULL) {
            rc = pond_arrow_builder_append_null(b);
            continue;
        }
        switch (t) {
        case T_INT:
        case T_TS:
        case T_TS_NAIVE:
            if (c->cls == SQLITE_INTEGER)
                rc = pond_arrow_builder_append_int(b, c->i);
            else if (c->cls == SQLITE_FLOAT && t == T_INT && c->d == floor(c->d) &&
                     fabs(c->d) < 9.2e18)
                rc = pond_arrow_builder_append_int(b, (int64_t)c->d);
            else
                rc = misfit(s, k, row, c->cls);
            break;
        case T_REAL:
            if (c->cls == SQLITE_FLOAT)
                rc = pond_arrow_builder_append_double(b, c->d);
            else if (c->cls == SQLITE_INTEGER)
                rc = pond_arrow_builder_append_double(b, (double)c->i);
            else
                rc = misfit(s, k, row, c->cls);
            break;
        case T_TEXT:
            if (c->cls == SQLITE_TEXT) {
                rc = pond_arrow_builder_append_bytes(b, bytes, c->len);
            } else if (c->cls == SQLITE_INTEGER) {
                snprintf(num, sizeof num, "%" PRId64, c->i);
                rc = pond_arrow_builder_append_bytes(b, num, strlen(num));
            } else if (c->cls == SQLITE_FLOAT) {
                pond_arrow_format_double(num, c->d);
                rc = pond_arrow_builder_append_bytes(b, num, strlen(num));
            } else {
                rc = misfit(s, k, row, c->cls);
            }
            break;
        default: /* T_BLOB */
            if (c->cls == SQLITE_BLOB || c->cls == SQLITE_TEXT)
                rc = pond_arrow_builder_append_bytes(b, bytes, c->len);
            else
                rc = misfit(s, k, row, c->cls);
            break;
        }
    }
    if (rc == 0)
        rc = pond_arrow_builder_finish(out, b);
    pond_arrow_builder_free(b);
    return rc;
}

static int build_batch(struct ArrowArray *out, sqs *s, int64_t n)
{
    int rc = pond_arrow_array_init(out, n, 0, 1, s->ncols);
    for (int k = 0; k < s->ncols && rc == 0; k++)
        rc = build_column(out->children[k], s, k, n);
    if (rc < 0)
        pond_arrow_array_release(out);
    s->rows_before += n;
    return rc;
}

static int sq_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
    sqs *s = st->private_data;
    int rc = pond_arrow_schema_copy(out, &s->schema);
    return rc < 0 ? fail(s, rc) : 0;
}

/* The first batch is collected at creation (to type the columns); it is built here. */
static int sq_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
    sqs *s = st->private_data;
    memset(out, 0, sizeof *out);
    if (s->failed)
        return EIO;
    int64_t n = (int64_t)(s->cells.size / sizeof(cell)) / (s->ncols ? s->ncols : 1);
    int rc = 0;
    if (n == 0 && !s->done && (rc = collect(s, &n)) < 0)
        return fail(s, rc);
    if (n == 0)
        return 0; /* the end */
    rc = build_batch(out, s, n);
    pond_buf_clear(&s->cells);
    return rc < 0 ? fail(s, rc) : 0;
}

static const char *sq_err(struct ArrowArrayStream *st)
{
    sqs *s = st->private_data;
    return s->err[0] ? s->err : NULL;
}

static void sqs_free(sqs *s)
{
    sqlite3_finalize(s->st);
    if (s->owns_q)
        pond_sql_free(s->q);
    pond_arrow_schema_release(&s->schema);
    pond_free(s->types);
    pond_buf_dispose(&s->cells);
    pond_buf_dispose(&s->arena);
    pond_free(s);
}

static void sq_release(struct ArrowArrayStream *st)
{
    sqs_free(st->private_data);
    st->release = NULL;
}

static int query_stream(struct ArrowArrayStream *out, pond_sql *q, const char *sql, bool take)
{
    memset(out, 0, sizeof *out);
    sqs *s = pond_calloc(1, sizeof *s);
    if (!s) {
        if (take)
            pond_sql_free(q);
        return POND_ENOMEM;
    }
    s->q = q;
    s->owns_q = take;
    int rc = pond_sql_prepare(&s->st, q, sql);
    if (rc < 0)
        goto fail;
    s->ncols = sqlite3_column_count(s->st);
    if (s->ncols == 0) {
        rc = pond_error_set(POND_EINVALID, D, "sql: the statement returns no columns");
        goto fail;
    }
    if (!(s->types = pond_calloc((size_t)s->ncols, sizeof *s->types))) {
        rc = POND_ENOMEM;
        goto fail;
    }
    int64_t n;
    if ((rc = collect(s, &n)) < 0)
        goto fail;
    infer(s, n);
    if ((rc = pond_arrow_schema_init(&s->schema, "+s", "", 0, s->ncols)) < 0)
        goto fail;
    for (int k = 0; k < s->ncols && rc == 0; k++)
        rc = pond_arrow_schema_init(s->schema.children[k], format_of(s->types[k]),
                                    sqlite3_column_name(s->st, k), ARROW_FLAG_NULLABLE, 0);
    if (rc < 0)
        goto fail;
    out->get_schema = sq_schema;
    out->get_next = sq_next;
    out->get_last_error = sq_err;
    out->release = sq_release;
    out->private_data = s;
    return 0;
fail:
    sqs_free(s);
    return rc;
}

int pond_sql_query_stream(struct ArrowArrayStream *out, pond_sql *q, const char *sql)
{
    return query_stream(out, q, sql, false);
}

int pond_sql__query_stream_take(struct ArrowArrayStream *out, pond_sql *q, const char *sql)
{
    return query_stream(out, q, sql, true);
}
