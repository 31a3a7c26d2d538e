/* CSV to Arrow record batches with type inference, streaming. */
#include "csv/csv_internal.h"
#include "table/table_internal.h"
#include "util/util.h"

#include <pond/csv.h>
#include <pond/csv_import.h>
#include <pond/input.h>
#include <pond/timefmt.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_TABLE

typedef enum { T_NULL, T_BOOL, T_INT, T_DOUBLE, T_TS, T_STRING } col_type;

static const char *const TYPE_NAMES[] = {"null", "bool", "int64", "double", "timestamp", "string"};
static const char *const TYPE_FORMATS[] = {"u", "b", "l", "g", "tsu:UTC", "u"};

typedef struct {
    char *name;
    col_type type;
    int fixed; /* 0 inferred, 1 from the schema hint, 2 given by --schema, 3 the timestamp
                  column given or recorded */
    /* integers here may be times (read through --time-format, or epochs by magnitude): the
     * timestamp column, a --schema timestamp, or, for a series, a column named like a time */
    bool time_ints;
} column;

/* Field kinds: how a field may be read (the sample keeps one per field). */
enum {
    F_BARE = 0,   /* CSV unquoted, JSON number/true/false/null: anything; empty is null */
    F_QUOTED = 1, /* CSV quoted: anything; empty is the empty string */
    F_JSTR = 2,   /* a JSON string: a timestamp or text, never a number */
    F_TEXT = 3,   /* nested JSON: text */
};

typedef struct {
    pond_input *in;
    pond_csv_reader *csv;
    table_json_src *json;
    char *path;
    column *cols;
    size_t n_cols;
    pond_csv_import_options opts;
    char **nulls; /* --null-values markers (NULL: the defaults) */
    size_t n_nulls;
    int64_t padded; /* ragged rows padded with nulls */
    /* sampled rows, replayed before reading on */
    char **sample; /* per row: fields joined with NUL, with a quoted flag byte before each */
    size_t *sample_len;
    int64_t *sample_line;
    size_t n_sample, sample_pos;
    bool eof;
    char err[1024];
    pond__strmap names; /* column name -> index (a loop per name is quadratic when wide) */
    /* builders, n_cols per slot: slot 0 is the caller's thread (the serial path), 1.. the
     * pool's workers */
    pond_arrow_builder **bld;
    pond__time_memo *memo; /* n_cols per slot, as bld: the last ISO time's minute per column */
    int n_slots;
    /* Parallel CSV parsing (docs/import.md, "Parallel parsing"). The CSV reader reads from
     * pend, then from the input; in the parallel state (par) there is no reader and rounds of
     * chunks of batch_rows lines each are cut from pend and parsed on the pool. */
    pond_csv_options csv_opts;
    int threads;
    pond_pool *pool;
    pond_buf pend; /* input read but not parsed yet: pend.ptr[pend_pos, size) */
    size_t pend_pos;
    int64_t pend_line; /* line of pend.ptr[pend_pos] when par */
    bool in_eof;       /* the input has given everything (pend holds the rest) */
    bool par;
    bool redo;     /* a chunk of the round failed: parse from pend_pos serially, one batch */
    int fallbacks; /* chunks that failed so far */
    int64_t par_batches;
    size_t max_chunk;
    struct chunk *chunks;
    size_t n_chunks, next_chunk;
} imp;

/* One chunk of a parallel round: batch_rows lines (fewer at the end of the input). */
typedef struct chunk {
    size_t off, len; /* in pend */
    int64_t line;    /* where it starts */
    int64_t newlines;
    bool last; /* reaches the end of the input */
    bool ok;   /* parsed into exactly one batch of the serial reading */
    int64_t rows, padded;
    struct ArrowArray batch;
} chunk;

static bool parse_int(const char *s, size_t len, int64_t *v)
{
    if (!len || len > 20)
        return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        if (++i == len)
            return false;
    }
    uint64_t m = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return false;
        if (m > (UINT64_MAX - d) / 10)
            return false;
        m = m * 10 + d;
    }
    if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX)
        return false;
    *v = neg ? (int64_t)(0 - m) : (int64_t)m;
    return true;
}

/* A decimal number that strtod can only turn into infinity or zero (1e400, 1e-400). */
static bool out_of_range(const char *s, size_t len)
{
    double x;
    return pond__strtod_decimal(&x, s, len) < 0;
}

/* "007", "-01.5": a code written with a leading zero, kept as text unless a type is given. */
static bool leading_zero(const char *s, size_t len)
{
    size_t i = len && (s[0] == '-' || s[0] == '+');
    return len > i + 1 && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9';
}

/* An integer too long for int64 (kept as text rather than rounded to a double); the int64
 * extremes themselves (19 digits) are integers. */
static bool long_digits(const char *s, size_t len)
{
    size_t i = len && (s[0] == '-' || s[0] == '+');
    if (len - i < 19)
        return false;
    for (size_t k = i; k < len; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    int64_t v;
    return !parse_int(s, len, &v);
}

/* JSON has no NaN or infinities: pond writes them, as proto3's JSON mapping does, as these
 * strings, and they read back as the double they name. */
static bool json_special_double(const char *s, size_t len, double *d)
{
    if (len == 3 && !memcmp(s, "NaN", 3))
        *d = NAN;
    else if (len == 8 && !memcmp(s, "Infinity", 8))
        *d = INFINITY;
    else if (len == 9 && !memcmp(s, "-Infinity", 9))
        *d = -INFINITY;
    else
        return false;
    return true;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t'))
        (*s)++, (*len)--;
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* Null markers read as null in columns of numbers, booleans and timestamps when no
 * --null-values is given (pandas, R and spreadsheet conventions); in a text column they stay
 * text. */
static const char *const DEFAULT_NULLS[] = {"NA",   "N/A",  "n/a", "#N/A", "NULL",
                                            "null", "None", "nil", "-",    "?"};

static bool default_null(const char *s, size_t len)
{
    if (len > 4)
        return false; /* the longest marker; most values are not markers (once per value) */
    for (size_t k = 0; k < POND_ARRAY_LEN(DEFAULT_NULLS); k++)
        if (strlen(DEFAULT_NULLS[k]) == len && !memcmp(DEFAULT_NULLS[k], s, len))
            return true;
    return false;
}

static bool user_null(const imp *m, const char *s, size_t len)
{
    for (size_t k = 0; k < m->n_nulls; k++)
        if (strlen(m->nulls[k]) == len && !memcmp(m->nulls[k], s, len))
            return true;
    return false;
}

/* Is this field null in a column of type t? */
static bool is_null(const imp *m, col_type t, const char *s, size_t len, int kind)
{
    if (kind != F_BARE)
        return false;
    if (len == 0)
        return true;
    if (m->nulls)
        return user_null(m, s, len);
    if ((unsigned)(s[0] - '0') <= 9)
        return false; /* no marker starts with a digit: every number and date, quickly */
    const char *ts = s;
    size_t tl = len;
    trim(&ts, &tl);
    if (t != T_STRING && tl == 0)
        return true; /* blanks in a column of numbers (space-padded files) */
    return t != T_STRING && default_null(ts, tl);
}

static bool parse_bool(const char *s, size_t len, bool *v)
{
    if ((len == 4 && !strncasecmp(s, "true", 4))) {
        *v = true;
        return true;
    }
    if (len == 5 && !strncasecmp(s, "false", 5)) {
        *v = false;
        return true;
    }
    return false;
}

/* The narrowest type that holds both. */
static col_type widen(col_type have, col_type v)
{
    if (have == T_NULL)
        return v;
    if (v == T_NULL || v == have)
        return have;
    if ((have == T_INT && v == T_DOUBLE) || (have == T_DOUBLE && v == T_INT))
        return T_DOUBLE;
    /* integers that are times beside ones that are not: integers, unless the column is
     * picked as the timestamp, when the others fail with their line */
    if ((have == T_TS && v == T_INT) || (have == T_INT && v == T_TS))
        return T_INT;
    return T_STRING;
}

static unsigned ts_flags(const column *c) { return c->time_ints ? 0 : POND_TIME_NO_FORMATS; }

static col_type classify(const imp *m, const column *c, const char *s, size_t len, int kind)
{
    if (kind == F_TEXT)
        return T_STRING;
    if (is_null(m, T_NULL, s, len, kind))
        return T_NULL;
    if (len == 0)
        return T_STRING;
    int64_t i;
    double d;
    bool b;
    int64_t us;
    if (kind == F_JSTR) {
        /* a JSON string is text or a time, never a number: but "NaN", "Infinity" and
         * "-Infinity", which JSON can only say as strings (beside other numbers a double
         * column; beside other text, text) */
        if (json_special_double(s, len, &d))
            return T_DOUBLE;
        if (parse_int(s, len, &i) || pond__parse_double(&d, s, len))
            return T_STRING;
        return pond_time_reader_parse(&us, m->opts.time_reader, s, len,
                                      POND_TIME_NO_EPOCH | POND_TIME_SYNTAX) == 0
                   ? T_TS
                   : T_STRING;
    }
    trim(&s, &len);
    if (len == 0 || leading_zero(s, len) || long_digits(s, len))
        return T_STRING;
    if (out_of_range(s, len))
        return T_DOUBLE; /* a number: appending it names the line */
    if (parse_int(s, len, &i)) {
        if (c->time_ints &&
            pond_time_reader_parse(&us, m->opts.time_reader, s, len, ts_flags(c)) == 0)
            return T_TS;
        return T_INT;
    }
    if (pond__parse_double(&d, s, len))
        return T_DOUBLE;
    if (parse_bool(s, len, &b))
        return T_BOOL;
    /* a value that reads as a time but names a local time the zone skips or shows twice is
     * still a time: its line fails with the reason, never becomes text */
    if (pond_time_reader_parse(&us, m->opts.time_reader, s, len,
                               POND_TIME_NO_EPOCH | POND_TIME_SYNTAX) == 0)
        return T_TS;
    return T_STRING;
}

static int append(const imp *m, const column *c, pond_arrow_builder *bld, pond__time_memo *memo,
                  const char *s, size_t len, int kind, int64_t line, size_t f)
{
    if (is_null(m, c->type, s, len, kind))
        return pond_arrow_builder_append_null(bld);
    int64_t i;
    double d;
    bool b;
    const char *raw = s;
    size_t raw_len = len;
    if (c->type == T_DOUBLE && kind == F_JSTR && json_special_double(s, len, &d))
        return pond_arrow_builder_append_double(bld, d);
    if (c->type != T_STRING)
        trim(&s, &len);
    if (c->type != T_STRING && (kind == F_TEXT || (kind == F_JSTR && c->type != T_TS)))
        goto mismatch;
    if ((c->type == T_INT || c->type == T_DOUBLE) && c->fixed != 2 && leading_zero(s, len))
        return pond_error_set(POND_EINVALID, D,
                              "%s: line %lld: '%.*s' in column '%s' has a leading zero (a code, "
                              "not a number?): read the column as text with --schema %s:string",
                              m->path, (long long)line, (int)POND_MIN(len, 40), s, c->name,
                              c->name);
    /* out_of_range (a strtod) only for what does not parse: nothing that parses as an int64
     * or a finite double is out of range */
    switch (c->type) {
    case T_INT:
        if (parse_int(s, len, &i))
            return pond_arrow_builder_append_int(bld, i);
        goto number_failed;
    case T_DOUBLE:
        if (pond__parse_double(&d, s, len))
            return pond_arrow_builder_append_double(bld, d);
    number_failed:
        if (out_of_range(s, len))
            return pond_error_set(POND_EINVALID, D,
                                  "%s: line %lld: '%.*s' in column '%s' is out of the range of "
                                  "a double (about 1e308)",
                                  m->path, (long long)line, (int)POND_MIN(len, 40), s, c->name);
        break;
    case T_BOOL:
        if (parse_bool(s, len, &b))
            return pond_arrow_builder_append_bool(bld, b);
        break;
    case T_TS:
        if (pond__time_reader_parse_memo(&i, m->opts.time_reader, s, len, ts_flags(c), memo) == 0)
            return pond_arrow_builder_append_int(bld, i);
        pond_error_prefix("%s: line %lld, column %zu ('%s')", m->path, (long long)line, f + 1,
                          c->name);
        return POND_EINVALID;
    default:
        return pond_arrow_builder_append_bytes(bld, raw, raw_len);
    }
mismatch:
    return pond_error_set(POND_EINVALID, D,
                          "%s: line %lld: '%.*s' is not a valid %s for column '%s' (%s)", m->path,
                          (long long)line, (int)POND_MIN(len, 40), s, TYPE_NAMES[c->type], c->name,
                          c->fixed == 2   ? "as --schema says"
                          : c->fixed == 1 ? "the column's type in earlier versions"
                                          : "inferred from the first rows; set the type with "
                                            "--schema");
}

/* ---- the row source: CSV records or JSON objects ------------------------------------------ */

static int src_next(imp *m)
{
    return m->json ? pond_table__json_src_next(m->json) : pond_csv_reader_next(m->csv);
}

static size_t src_nfields(const imp *m)
{
    return m->json ? m->n_cols : pond_csv_reader_nfields(m->csv);
}

static const char *src_field(const imp *m, size_t f, size_t *len, int *kind)
{
    if (m->json)
        return pond_table__json_src_field(m->json, f, len, kind);
    bool q;
    const char *s = pond_csv_reader_field(m->csv, f, len, &q);
    *kind = q ? F_QUOTED : F_BARE;
    return s;
}

static int64_t src_line(const imp *m)
{
    return m->json ? pond_table__json_src_line(m->json) : pond_csv_reader_line(m->csv);
}

/* Sampled rows are stored compactly: per field one kind byte + bytes + NUL. */
static int keep_sample(imp *m, size_t nf)
{
    pond_buf b = POND_BUF_INIT;
    int rc = 0;
    for (size_t f = 0; f < nf && rc == 0; f++) {
        size_t len;
        int kind;
        const char *s = src_field(m, f, &len, &kind);
        rc = pond_buf_putc(&b, (char)(kind + 1));
        if (rc == 0)
            rc = pond_buf_put(&b, s, len);
        if (rc == 0)
            rc = pond_buf_putc(&b, 0);
    }
    if (rc < 0) {
        pond_buf_dispose(&b);
        return rc;
    }
    m->sample_len[m->n_sample] = nf;
    m->sample_line[m->n_sample] = src_line(m);
    m->sample[m->n_sample++] = pond_buf_detach(&b);
    return 0;
}

static void note(imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(imp *m, const char *fmt, ...)
{
    if (!m->opts.note)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    m->opts.note(msg, m->opts.note_payload);
}

/* The current row: of the import's own source (csv NULL: its CSV reader or JSON source), or of
 * a chunk's CSV reader. */
static size_t row_nfields(const imp *m, const pond_csv_reader *csv)
{
    return csv ? pond_csv_reader_nfields(csv) : src_nfields(m);
}

static const char *row_field(const imp *m, const pond_csv_reader *csv, size_t f, size_t *len,
                             int *kind)
{
    if (!csv)
        return src_field(m, f, len, kind);
    bool q;
    const char *s = pond_csv_reader_field(csv, f, len, &q);
    *kind = q ? F_QUOTED : F_BARE;
    return s;
}

static int64_t row_line(const imp *m, const pond_csv_reader *csv)
{
    return csv ? pond_csv_reader_line(csv) : src_line(m);
}

/* Checks a record's field count: returns how many fields to read (short rows padded with
 * nulls under allow_ragged, counted in *padded; trailing empty fields beyond the header
 * dropped there too). */
static int check_width(const imp *m, const pond_csv_reader *csv, size_t *use, int64_t *padded)
{
    size_t nf = row_nfields(m, csv);
    *use = nf;
    if (nf == m->n_cols)
        return 0;
    int64_t line = row_line(m, csv);
    if (m->opts.allow_ragged) {
        bool extra_empty = nf > m->n_cols;
        for (size_t f = m->n_cols; f < nf && extra_empty; f++) {
            size_t len;
            int kind;
            row_field(m, csv, f, &len, &kind);
            extra_empty = len == 0 && kind == F_BARE;
        }
        if (nf < m->n_cols || extra_empty) {
            *use = POND_MIN(nf, m->n_cols);
            *padded += nf < m->n_cols;
            return 0;
        }
        return pond_error_set(POND_ECORRUPT, D,
                              "%s: line %lld has %zu fields, more than the %zu of the header",
                              m->path, (long long)line, nf, m->n_cols);
    }
    return pond_error_set(POND_ECORRUPT, D,
                          "%s: line %lld has %zu fields, the header has %zu (--allow-ragged "
                          "pads short rows with nulls)",
                          m->path, (long long)line, nf, m->n_cols);
}

/* Appends the current row to the builders bld (n_cols of them). */
static int convert_row(const imp *m, const pond_csv_reader *csv, pond_arrow_builder **bld,
                       pond__time_memo *memo, int64_t *padded)
{
    size_t use;
    int rc = check_width(m, csv, &use, padded);
    int64_t line = row_line(m, csv);
    for (size_t f = 0; f < m->n_cols && rc == 0; f++) {
        if (f >= use) {
            rc = pond_arrow_builder_append_null(bld[f]);
            continue;
        }
        size_t len;
        int kind;
        const char *s = row_field(m, csv, f, &len, &kind);
        rc = append(m, &m->cols[f], bld[f], memo + f, s, len, kind, line, f);
    }
    return rc;
}

/* Moves the builders' rows out as one batch. */
static int finish_batch(const imp *m, pond_arrow_builder **bld, int64_t rows,
                        struct ArrowArray *out)
{
    int rc = pond_arrow_array_init(out, rows, 0, 1, (int64_t)m->n_cols);
    for (size_t f = 0; f < m->n_cols && rc == 0; f++)
        rc = pond_arrow_builder_finish(out->children[f], bld[f]);
    if (rc < 0 && out->release)
        pond_arrow_array_release(out);
    return rc;
}

/* Empties the builders (a chunk whose rows are thrown away): new ones, since a builder whose
 * append or finish failed may hold part of a row. One that cannot be made stays NULL, for
 * make_builders to try again. */
static void discard_rows(const imp *m, pond_arrow_builder **bld)
{
    for (size_t f = 0; f < m->n_cols; f++) {
        pond_arrow_builder_free(bld[f]);
        bld[f] = NULL;
        (void)pond_arrow_builder_new(&bld[f], TYPE_FORMATS[m->cols[f].type]);
    }
}

/* The builders a slot lacks (an allocation failed in discard_rows). */
static int make_builders(const imp *m, pond_arrow_builder **bld)
{
    for (size_t f = 0; f < m->n_cols; f++) {
        int rc = bld[f] ? 0 : pond_arrow_builder_new(&bld[f], TYPE_FORMATS[m->cols[f].type]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void note_padded(imp *m)
{
    if (m->padded)
        note(m, "%s: %lld rows had fewer fields than the header: padded with nulls", m->path,
             (long long)m->padded);
}

static int fill_batch(imp *m, struct ArrowArray *out, int64_t *rows_out)
{
    int64_t rows = 0, limit = m->opts.batch_rows;
    pond_arrow_builder **bld = m->bld; /* slot 0 */
    int rc = make_builders(m, bld);
    while (rows < limit && rc == 0) {
        if (m->sample_pos < m->n_sample) {
            size_t k = m->sample_pos++;
            const char *p = m->sample[k];
            for (size_t f = 0; f < m->n_cols && rc == 0; f++) {
                if (f >= m->sample_len[k]) {
                    rc = pond_arrow_builder_append_null(bld[f]);
                    continue;
                }
                int kind = *p++ - 1;
                size_t len = strlen(p);
                rc =
                    append(m, &m->cols[f], bld[f], m->memo + f, p, len, kind, m->sample_line[k], f);
                p += len + 1;
            }
            pond_free(m->sample[k]);
            m->sample[k] = NULL;
            rows++;
            continue;
        }
        if (m->eof)
            break;
        rc = src_next(m);
        if (rc == POND_ITEROVER) {
            m->eof = true;
            rc = 0;
            note_padded(m);
            break;
        }
        if (rc < 0)
            break;
        rc = convert_row(m, NULL, bld, m->memo, &m->padded);
        rows++;
    }
    if (rc < 0)
        return rc;
    *rows_out = rows;
    if (rows == 0)
        return 0;
    return finish_batch(m, bld, rows, out);
}

/* ---- parallel parsing ---------------------------------------------------------------------
 *
 * The rule (docs/import.md, "Parallel parsing"): once a batch has been read serially and the
 * reader stands at a record start, the input is cut into chunks of exactly batch_rows lines
 * (memchr for newlines; the last chunk is what remains). Each is parsed on its own, from a
 * start that is a record start only if every earlier chunk was one batch exactly: the chunks
 * are checked in input order, and a chunk is kept when it parsed without an error into
 * exactly batch_rows rows (or reached the end of the input). Then its every newline ended a
 * record, so the next chunk starts at a record start too. A chunk that is not kept (a quoted
 * newline, a blank or comment line, an error) and all after it are thrown away and its lines
 * are read serially, one batch, by the reader of one thread (whose errors name the right line:
 * the chunk's first line is known by counting newlines); then chunks again. So the batches,
 * the errors and the notes are those of one thread, and quotes are never guessed. */

#define READ_BLOCK ((size_t)1 << 20)
/* Memory: a chunk stops at 64 MiB (it then cannot be a whole batch and is read serially), and
 * a round stops adding chunks at 128 MiB once each thread has one. */
#define MAX_CHUNK_BYTES ((size_t)64 << 20) /* m->max_chunk; tests set less */
#define MAX_ROUND_BYTES ((size_t)128 << 20)
#define MAX_FALLBACKS 8 /* chunks that fail before the rest of the input is read serially */

/* The CSV reader's source: what pend holds, then the input. */
static int serial_read(void *buf, size_t cap, size_t *n_out, void *payload)
{
    imp *m = payload;
    size_t have = m->pend.size - m->pend_pos;
    if (have == 0) {
        int rc = pond_input_read(m->in, buf, cap, n_out);
        if (rc == 0 && *n_out == 0)
            m->in_eof = true;
        return rc;
    }
    size_t n = POND_MIN(cap, have);
    memcpy(buf, m->pend.ptr + m->pend_pos, n);
    m->pend_pos += n;
    if (m->pend_pos == m->pend.size) {
        pond_buf_clear(&m->pend);
        m->pend_pos = 0;
    }
    *n_out = n;
    return 0;
}

static int make_csv_reader(imp *m)
{
    return pond_csv_reader_new(&m->csv, serial_read, m, &m->csv_opts);
}

/* After a full serial batch: hands what the reader holds back to pend and parses in chunks
 * from there. */
static int go_parallel(imp *m)
{
    int rc = 0;
    if (!m->pool) {
        if ((rc = pond__pool_new(&m->pool, m->threads)) < 0)
            return rc;
        int slots = pond__pool_threads(m->pool);
        size_t nchunks = (size_t)m->threads * 2;
        pond_arrow_builder **b = pond_calloc((size_t)slots * m->n_cols, sizeof *b);
        if (!b)
            return POND_ENOMEM;
        memcpy(b, m->bld, m->n_cols * sizeof *b); /* slot 0's */
        pond_free(m->bld);
        m->bld = b;
        pond_free(m->memo);
        if (!(m->memo = pond_calloc((size_t)slots * m->n_cols, sizeof *m->memo)))
            return POND_ENOMEM;
        m->n_slots = slots;
        for (int slot = 1; slot < slots && rc == 0; slot++)
            rc = make_builders(m, m->bld + (size_t)slot * m->n_cols);
        if (rc < 0)
            return rc;
        if (!(m->chunks = pond_calloc(nchunks, sizeof *m->chunks)))
            return POND_ENOMEM;
    }
    const char *rest;
    size_t n;
    int64_t line;
    pond_csv__reader_rest(m->csv, &rest, &n, &line);
    pond_buf b = POND_BUF_INIT;
    size_t more = m->pend.size - m->pend_pos;
    if ((rc = pond_buf_grow(&b, n + more)) < 0)
        return rc;
    if (n)
        memcpy(b.ptr, rest, n);
    if (more)
        memcpy(b.ptr + n, m->pend.ptr + m->pend_pos, more);
    b.size = n + more;
    pond_buf_dispose(&m->pend);
    m->pend = b;
    m->pend_pos = 0;
    m->pend_line = line;
    pond_csv_reader_free(m->csv);
    m->csv = NULL;
    m->par = true;
    return 0;
}

/* Reads input into pend until it holds `want` bytes past `from`, or the input ends. */
static int pend_fill(imp *m, size_t from, size_t want)
{
    while (!m->in_eof && m->pend.size - from < want) {
        int rc = pond_buf_grow(&m->pend, m->pend.size + READ_BLOCK);
        size_t n = 0;
        if (rc == 0)
            rc = pond_input_read(m->in, m->pend.ptr + m->pend.size, READ_BLOCK, &n);
        if (rc < 0)
            return rc;
        m->pend.size += n;
        m->in_eof = n == 0;
    }
    return 0;
}

/* Cuts the chunk starting at pend offset `off`: through its batch_rows-th newline, or to the
 * end of the input. */
static int cut_chunk(imp *m, chunk *ch, size_t off)
{
    size_t p = off;
    int64_t nl = 0, want = m->opts.batch_rows;
    int rc;
    for (;;) {
        const char *base = m->pend.ptr;
        while (nl < want && p < m->pend.size && p - off < m->max_chunk) {
            const char *q = memchr(base + p, '\n', m->pend.size - p);
            if (!q) {
                p = m->pend.size;
                break;
            }
            p = (size_t)(q - base) + 1;
            nl++;
        }
        if (nl == want || m->in_eof || p - off >= m->max_chunk)
            break;
        if ((rc = pend_fill(m, p, READ_BLOCK)) < 0)
            return rc;
    }
    ch->off = off;
    ch->len = p - off;
    ch->newlines = nl;
    ch->last = m->in_eof && p == m->pend.size;
    return 0;
}

static void parse_chunk(void *payload, int task, int slot)
{
    imp *m = payload;
    chunk *ch = &m->chunks[task];
    pond_arrow_builder **bld = m->bld + (size_t)slot * m->n_cols;
    pond_csv_reader *r = NULL;
    ch->rows = ch->padded = 0;
    ch->ok = false;
    if (!ch->last && ch->newlines < m->opts.batch_rows)
        return; /* too long to be a batch: each record but the input's last ends a line */
    int rc = make_builders(m, bld);
    if (rc == 0)
        rc = pond_csv__reader_open_view(&r, m->pend.ptr + ch->off, ch->len, &m->csv_opts);
    if (rc == 0)
        pond_csv__reader_resume(r, ch->line);
    while (rc == 0) {
        if ((rc = pond_csv_reader_next(r)) == POND_ITEROVER) {
            rc = 0;
            break;
        }
        if (rc == 0 && ch->rows == m->opts.batch_rows)
            rc = POND_ERROR; /* cannot happen: a record ends at each newline at most */
        if (rc == 0)
            rc = convert_row(m, r, bld, m->memo + (size_t)slot * m->n_cols, &ch->padded);
        ch->rows++;
    }
    pond_csv_reader_free(r);
    bool ok = rc == 0 && (ch->last || ch->rows == m->opts.batch_rows);
    if (ok && ch->rows > 0 && finish_batch(m, bld, ch->rows, &ch->batch) < 0)
        ok = false;
    if (!ok)
        discard_rows(m, bld);
    ch->ok = ok;
}

static void release_chunks(imp *m, size_t from)
{
    for (size_t k = from; k < m->n_chunks; k++)
        if (m->chunks[k].batch.release)
            pond_arrow_array_release(&m->chunks[k].batch);
}

/* Cuts and parses one round of chunks. m->n_chunks == 0 afterwards: the input has ended. */
static int run_round(imp *m)
{
    if (m->pend_pos) { /* what earlier rounds parsed */
        memmove(m->pend.ptr, m->pend.ptr + m->pend_pos, m->pend.size - m->pend_pos);
        m->pend.size -= m->pend_pos;
        m->pend_pos = 0;
    }
    size_t off = 0, max = (size_t)m->threads * 2;
    int64_t line = m->pend_line;
    int rc;
    m->n_chunks = m->next_chunk = 0;
    while (m->n_chunks < max && (off < MAX_ROUND_BYTES || m->n_chunks < (size_t)m->threads)) {
        if ((rc = pend_fill(m, off, 1)) < 0)
            return rc;
        if (off == m->pend.size)
            break;
        chunk *ch = &m->chunks[m->n_chunks++];
        memset(ch, 0, sizeof *ch);
        if ((rc = cut_chunk(m, ch, off)) < 0)
            return rc;
        ch->line = line;
        off += ch->len;
        line += ch->newlines;
        if (ch->last)
            break;
    }
    if (m->n_chunks == 0)
        return 0;
    pond__pool_run(m->pool, (int)m->n_chunks, parse_chunk, m);
    size_t k = 0;
    for (; k < m->n_chunks && m->chunks[k].ok; k++)
        m->padded += m->chunks[k].padded;
    if (k == m->n_chunks) {
        m->pend_pos = off;
        m->pend_line = line;
        return 0;
    }
    /* chunk k did not start a record where the next chunk starts (or failed): its lines are
     * read serially, and what follows is cut again */
    release_chunks(m, k);
    m->n_chunks = k;
    m->pend_pos = m->chunks[k].off;
    m->pend_line = m->chunks[k].line;
    m->redo = true;
    return 0;
}

/* The next batch of the parallel state: 1 with a batch in out, 0 when the serial reader takes
 * over (m->par cleared) or the input has ended (m->eof). */
static int par_next(imp *m, struct ArrowArray *out)
{
    int rc;
    while (!m->eof) {
        while (m->next_chunk < m->n_chunks) {
            chunk *ch = &m->chunks[m->next_chunk++];
            if (ch->rows == 0)
                continue; /* blank lines at the end */
            *out = ch->batch;
            ch->batch.release = NULL;
            m->par_batches++;
            return 1;
        }
        if (m->redo) {
            m->redo = false;
            m->fallbacks++;
            m->par = false;
            if ((rc = make_csv_reader(m)) < 0)
                return rc;
            pond_csv__reader_resume(m->csv, m->pend_line);
            return 0;
        }
        if ((rc = run_round(m)) < 0)
            return rc;
        if (m->n_chunks == 0 && !m->redo) {
            m->eof = true;
            note_padded(m);
        }
    }
    return 0; /* the end, and get_next after it */
}

void pond_table__csv_import_stats(const struct ArrowArrayStream *s, int64_t *parallel_batches,
                                  int64_t *fallbacks)
{
    const imp *m = s->private_data;
    *parallel_batches = m->par_batches;
    *fallbacks = m->fallbacks;
}

void pond_table__csv_import_set_chunk_limit(struct ArrowArrayStream *s, size_t bytes)
{
    imp *m = s->private_data;
    m->max_chunk = bytes;
}

static int next_batch(imp *m, struct ArrowArray *out)
{
    int rc;
    if (m->par) {
        if ((rc = par_next(m, out)) != 0 || m->eof)
            return rc < 0 ? rc : 0;
    }
    int64_t rows;
    if ((rc = fill_batch(m, out, &rows)) < 0)
        return rc;
    if (rows == m->opts.batch_rows && m->threads > 1 && m->csv && !m->eof &&
        m->sample_pos == m->n_sample && m->fallbacks < MAX_FALLBACKS && (rc = go_parallel(m)) < 0) {
        pond_arrow_array_release(out);
        return rc;
    }
    return 0;
}

static int imp_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    imp *m = s->private_data;
    memset(out, 0, sizeof *out);
    if (m->err[0])
        return EIO;
    int rc = next_batch(m, out);
    if (rc < 0) {
        snprintf(m->err, sizeof m->err, "%s", pond_error_last()->message);
        return pond__errno_of(rc);
    }
    return 0;
}

static int imp_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    imp *m = s->private_data;
    int rc = pond_arrow_schema_init(out, "+s", "", 0, (int64_t)m->n_cols);
    for (size_t f = 0; f < m->n_cols && rc == 0; f++)
        rc = pond_arrow_schema_init(out->children[f], TYPE_FORMATS[m->cols[f].type],
                                    m->cols[f].name, ARROW_FLAG_NULLABLE, 0);
    if (rc < 0) {
        if (out->release) /* a child failed: the parent holds the others */
            out->release(out);
        snprintf(m->err, sizeof m->err, "%s", pond_error_last()->message);
        return pond__errno_of(rc);
    }
    return 0;
}

static const char *imp_err(struct ArrowArrayStream *s)
{
    imp *m = s->private_data;
    return m->err[0] ? m->err : NULL;
}

static void imp_free(imp *m)
{
    if (!m)
        return;
    pond_csv_reader_free(m->csv);
    pond_table__json_src_free(m->json);
    pond_input_free(m->in);
    for (size_t k = 0; k < m->n_nulls; k++)
        pond_free(m->nulls[k]);
    pond_free(m->nulls);
    for (size_t f = 0; m->cols && f < m->n_cols; f++) /* cols NULL: its allocation failed */
        pond_free(m->cols[f].name);
    if (m->chunks) {
        release_chunks(m, m->next_chunk);
        pond_free(m->chunks);
    }
    pond__pool_free(m->pool);
    for (size_t k = 0; m->bld && k < (size_t)m->n_slots * m->n_cols; k++)
        pond_arrow_builder_free(m->bld[k]);
    pond_free(m->bld);
    pond_free(m->memo);
    pond_buf_dispose(&m->pend);
    pond_free(m->cols);
    pond__strmap_dispose(&m->names);
    for (size_t k = 0; k < m->n_sample; k++)
        pond_free(m->sample[k]);
    pond_free(m->sample);
    pond_free(m->sample_len);
    pond_free(m->sample_line);
    pond_free(m->path);
    pond_free(m);
}

static void imp_release(struct ArrowArrayStream *s)
{
    imp_free(s->private_data);
    s->release = NULL;
}

static int apply_schema(imp *m, const char *spec, bool lenient)
{
    const char *p = spec;
    while (*p) {
        const char *colon = strchr(p, ':');
        const char *comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        if (!colon || colon > comma)
            return pond_error_set(POND_EINVALID, D, "--schema: expected name:type in '%.*s'",
                                  (int)(comma - p), p);
        size_t nl = (size_t)(colon - p), tl = (size_t)(comma - colon - 1);
        col_type t = T_NULL;
        for (int k = T_BOOL; k <= T_STRING; k++)
            if (strlen(TYPE_NAMES[k]) == tl && !strncmp(colon + 1, TYPE_NAMES[k], tl))
                t = (col_type)k;
        if (t == T_NULL)
            return pond_error_set(POND_EINVALID, D,
                                  "--schema: unknown type '%.*s' (int64, double, bool, string, "
                                  "timestamp)",
                                  (int)tl, colon + 1);
        char *name = pond_strndup(p, nl);
        if (!name)
            return POND_ENOMEM;
        int64_t at = pond__strmap_get(&m->names, name);
        pond_free(name);
        size_t f = at >= 0 ? (size_t)at : m->n_cols;
        if (f == m->n_cols && lenient) {
            p = *comma ? comma + 1 : comma;
            continue;
        }
        if (f == m->n_cols) {
            pond_buf have = POND_BUF_INIT;
            for (size_t k = 0; k < m->n_cols; k++)
                pond_buf_printf(&have, "%s%s", k ? ", " : "", m->cols[k].name);
            int rc = pond_error_set(POND_EINVALID, D,
                                    "--schema: %s has no column '%.*s' "
                                    "(columns: %s)",
                                    m->path, (int)nl, p, have.ptr ? have.ptr : "none");
            pond_buf_dispose(&have);
            return rc;
        }
        m->cols[f].type = t;
        m->cols[f].fixed = lenient ? 1 : 2;
        m->cols[f].time_ints = t == T_TS;
        p = *comma ? comma + 1 : comma;
    }
    return 0;
}

static int parse_nulls(imp *m, const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    if (!(m->nulls = pond_calloc(n, sizeof *m->nulls)))
        return POND_ENOMEM;
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!(m->nulls[m->n_nulls++] = pond_strndup(p, len)))
            return POND_ENOMEM;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* Does the text start like JSON: an object, or an array of values? */
static bool looks_json(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && strchr(" \t\r\n", p[i]))
        i++;
    if (i >= n || (p[i] != '{' && p[i] != '['))
        return false;
    char open = p[i++];
    while (i < n && strchr(" \t\r\n", p[i]))
        i++;
    if (i >= n)
        return true;
    if (open == '{')
        return p[i] == '"' || p[i] == '}';
    return strchr("{[]\"-0123456789tfn", p[i]) != NULL;
}

/* Opens the input, decides the format and the CSV dialect, and creates the row source. */
static int open_source(imp *m, const char *path, const pond_csv_import_options *opts)
{
    pond_input_options io = POND_INPUT_OPTIONS_INIT;
    io.encoding = (pond_input_encoding)opts->encoding;
    int rc = pond_input_open_file(&m->in, path, &io);
    if (rc < 0)
        return rc;
    const char *head;
    size_t n;
    const size_t want = 64u << 10;
    rc = pond_input_peek(m->in, &head, &n, want);
    if (rc < 0)
        return rc;
    int fmt = opts->format;
    bool json = looks_json(head, n);
    if (fmt == POND_IMPORT_AUTO)
        fmt = json ? POND_IMPORT_JSON : POND_IMPORT_CSV; /* the JSON reader tells array/lines */
    else if (fmt == POND_IMPORT_CSV && json)
        return pond_error_set(POND_EINVALID, D,
                              "%s: looks like JSON, not CSV (give --format json or ndjson, or "
                              "leave --format out)",
                              m->path);
    if (fmt == POND_IMPORT_JSON || fmt == POND_IMPORT_NDJSON) {
        int layout = opts->format == POND_IMPORT_JSON     ? 1
                     : opts->format == POND_IMPORT_NDJSON ? 2
                                                          : 0;
        return pond_table__json_src_new(&m->json, m->in, m->path, layout, m->opts.sample_rows);
    }
    pond_csv_options co = POND_CSV_OPTIONS_INIT;
    co.name = m->path;
    co.comment = opts->comment;
    co.skip_lines = opts->skip_rows;
    co.quote = opts->quote ? opts->quote : '"';
    if (opts->delimiter == ' ') {
        co.space_aligned = true;
        co.delimiter = ' ';
    } else if (opts->delimiter) {
        co.delimiter = opts->delimiter;
        if (!opts->quote && co.delimiter == '"')
            co.quote = '\'';
    } else {
        /* sniff past the skipped lines */
        size_t off = 0;
        for (int64_t k = 0; k < opts->skip_rows && off < n; k++) {
            const char *nl = memchr(head + off, '\n', n - off);
            off = nl ? (size_t)(nl - head) + 1 : n;
        }
        pond_csv_dialect d;
        if ((rc = pond_csv_sniff(&d, head + off, n - off, n < want, co.quote, opts->quote != 0,
                                 opts->comment, m->path)) < 0)
            return rc;
        co.delimiter = d.delimiter;
        co.space_aligned = d.space_aligned;
        co.quote = d.quote;
    }
    m->csv_opts = co;
    return make_csv_reader(m);
}

/* The given or recorded timestamp column: its values must read as times. */
static int force_timestamp(imp *m, const char *name)
{
    int64_t f = pond__strmap_get(&m->names, name);
    if (f >= 0) {
        m->cols[f].type = T_TS;
        m->cols[f].fixed = 3;
        m->cols[f].time_ints = true;
        return 0;
    }
    return pond_error_set(POND_EINVALID, D,
                          "%s: no column '%s' (the timestamp column; "
                          "--timestamp-column)",
                          m->path, name);
}

/* A series without a known timestamp column: the rule of pond_table__pick_ts over the inferred
 * types, and the column picked must then read as times. */
static int pick_timestamp(imp *m)
{
    const char **names = pond_calloc(m->n_cols, sizeof *names);
    int *kinds = pond_calloc(m->n_cols, sizeof *kinds);
    int rc = names && kinds ? 0 : POND_ENOMEM;
    for (size_t f = 0; f < m->n_cols && rc == 0; f++) {
        names[f] = m->cols[f].name;
        kinds[f] = m->cols[f].type == T_TS ? 1 : m->cols[f].type == T_INT ? 2 : 0;
    }
    int idx;
    if (rc == 0 && (rc = pond_table__pick_ts(&idx, names, kinds, m->n_cols)) < 0) {
        /* text in a column named like a time: say which value needs a --time-format */
        for (size_t f = 0; f < m->n_cols && rc == POND_EINVALID; f++) {
            if (m->cols[f].type != T_STRING || !pond_table__ts_name(m->cols[f].name))
                continue;
            for (size_t k = 0; k < m->n_sample; k++) {
                if (f >= m->sample_len[k])
                    continue;
                const char *p = m->sample[k];
                for (size_t g = 0; g < f; g++)
                    p += 1 + strlen(p + 1) + 1;
                int64_t us;
                if (!p[1] || pond_time_reader_parse(&us, m->opts.time_reader, p + 1, strlen(p + 1),
                                                    POND_TIME_NO_EPOCH) == 0)
                    continue;
                if (m->opts.time_reader && pond_time_reader_has_formats(m->opts.time_reader)) {
                    pond_error_prefix("%s: line %lld, column %zu ('%s')", m->path,
                                      (long long)m->sample_line[k], f + 1, m->cols[f].name);
                    break;
                }
                rc = pond_error_set(POND_EINVALID, D,
                                    "%s: line %lld, column %zu ('%s'): '%.40s' is not an "
                                    "ISO-8601 time: give its form with --time-format (like "
                                    "'%%b %%d %%Y' for 'Jan 1 2000'), or name another column "
                                    "with --timestamp-column",
                                    m->path, (long long)m->sample_line[k], f + 1, m->cols[f].name,
                                    p + 1);
                break;
            }
        }
        if (rc == POND_EINVALID && !strstr(pond_error_last()->message, m->path))
            pond_error_prefix("%s", m->path);
    }
    if (rc == 0) {
        m->cols[idx].type = T_TS;
        m->cols[idx].time_ints = true;
    }
    pond_free(names);
    pond_free(kinds);
    return rc;
}

int pond_csv_import_stream(struct ArrowArrayStream *out, const char *path,
                           const pond_csv_import_options *opts)
{
    pond_csv_import_options def = POND_CSV_IMPORT_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    memset(out, 0, sizeof *out);
    if (opts->version != POND_CSV_IMPORT_OPTIONS_VERSION && opts->version != 2)
        return pond_error_set(POND_EINVALID, D, "import: unknown options version %u",
                              opts->version);
    imp *m = pond_calloc(1, sizeof *m);
    if (!m)
        return POND_ENOMEM;
    if (opts->version == 2) { /* version 2 ends before threads */
        m->opts = def;
        memcpy(&m->opts, opts, offsetof(pond_csv_import_options, threads));
    } else {
        m->opts = *opts;
    }
    m->threads = POND_MAX(1, POND_MIN(m->opts.threads, 64));
    /* a round holds about MAX_ROUND_BYTES of input whatever the thread count (a chunk cut
     * short of a batch's lines is read on one thread, like any chunk that is not one batch) */
    m->max_chunk =
        POND_MIN(MAX_CHUNK_BYTES, POND_MAX(MAX_ROUND_BYTES / (size_t)m->threads, (size_t)2 << 20));
    if (m->opts.sample_rows <= 0)
        m->opts.sample_rows = 10000;
    if (m->opts.batch_rows <= 0)
        m->opts.batch_rows = 65536;
    int rc = 0;
    if (!(m->path = pond_strdup(strcmp(path, "-") ? path : "stdin")))
        rc = POND_ENOMEM;
    if (rc == 0 && opts->null_values)
        rc = parse_nulls(m, opts->null_values);
    if (rc == 0)
        rc = open_source(m, path, opts);
    if (rc < 0)
        goto fail;
    bool first_is_data = false;
    if (m->json) {
        m->n_cols = pond_table__json_src_ncols(m->json);
        if (m->n_cols == 0) {
            rc = pond_error_set(POND_EINVALID, D, "%s: no records with keys (nothing to import)",
                                m->path);
            goto fail;
        }
    } else {
        if ((rc = pond_csv_reader_next(m->csv)) == POND_ITEROVER)
            rc = pond_error_set(POND_EINVALID, D, "%s: empty file (%s)", m->path,
                                opts->no_header ? "no rows" : "a header row is needed");
        if (rc < 0)
            goto fail;
        m->n_cols = pond_csv_reader_nfields(m->csv);
        first_is_data = opts->no_header;
    }
    if (!(m->cols = pond_calloc(m->n_cols, sizeof *m->cols))) {
        rc = POND_ENOMEM;
        goto fail;
    }
    for (size_t f = 0; f < m->n_cols; f++) {
        size_t len = 0;
        const char *s = NULL;
        char gen[32];
        if (m->json) {
            s = pond_table__json_src_name(m->json, f);
            len = strlen(s);
        } else if (!opts->no_header) {
            s = pond_csv_reader_field(m->csv, f, &len, NULL);
        }
        if (len == 0) {
            snprintf(gen, sizeof gen, "column%zu", f + 1);
            if (!opts->no_header)
                note(m, "%s: header column %zu has no name: called it %s", m->path, f + 1, gen);
            s = gen;
            len = strlen(gen);
        }
        if (!(m->cols[f].name = pond_strndup(s, len))) {
            rc = POND_ENOMEM;
            goto fail;
        }
        /* by name: a loop over the earlier names is quadratic in a wide header */
        if ((rc = pond__strmap_put(&m->names, m->cols[f].name, (int64_t)f)) < 0)
            goto fail;
        if (rc == 1) {
            rc = pond_error_set(POND_EINVALID, D, "%s: column name '%s' appears twice", m->path,
                                m->cols[f].name);
            goto fail;
        }
    }
    bool v2 = opts->version >= 2;
    if (!v2) {
        m->opts.time_reader = NULL;
        m->opts.timestamp_column = NULL;
        m->opts.detect_timestamp = false;
    }
    for (size_t f = 0; f < m->n_cols; f++)
        m->cols[f].time_ints = m->opts.detect_timestamp && pond_table__ts_name(m->cols[f].name);
    if (opts->schema_hint && (rc = apply_schema(m, opts->schema_hint, true)) < 0)
        goto fail;
    if (m->opts.timestamp_column && (rc = force_timestamp(m, m->opts.timestamp_column)) < 0)
        goto fail;
    if (opts->schema && (rc = apply_schema(m, opts->schema, false)) < 0)
        goto fail;
    /* sample */
    size_t cap = (size_t)m->opts.sample_rows;
    m->sample = pond_calloc(cap, sizeof *m->sample);
    m->sample_len = pond_calloc(cap, sizeof *m->sample_len);
    m->sample_line = pond_calloc(cap, sizeof *m->sample_line);
    if (!m->sample || !m->sample_len || !m->sample_line) {
        rc = POND_ENOMEM;
        goto fail;
    }
    while (m->n_sample < cap) {
        if (!first_is_data)
            rc = src_next(m);
        first_is_data = false;
        if (rc == POND_ITEROVER) {
            m->eof = true;
            rc = 0;
            if (m->padded)
                note(m, "%s: %lld rows had fewer fields than the header: padded with nulls",
                     m->path, (long long)m->padded);
            break;
        }
        if (rc < 0)
            goto fail;
        size_t use;
        if ((rc = check_width(m, NULL, &use, &m->padded)) < 0)
            goto fail;
        for (size_t f = 0; f < use; f++) {
            if (m->cols[f].fixed)
                continue;
            size_t len;
            int kind;
            const char *s = src_field(m, f, &len, &kind);
            m->cols[f].type = widen(m->cols[f].type, classify(m, &m->cols[f], s, len, kind));
        }
        if ((rc = keep_sample(m, use)) < 0)
            goto fail;
    }
    if (m->opts.detect_timestamp && !m->opts.timestamp_column && (rc = pick_timestamp(m)) < 0)
        goto fail;
    for (size_t f = 0; f < m->n_cols; f++)
        if (m->cols[f].type == T_NULL)
            m->cols[f].type = T_STRING; /* all empty: keep it as text */
    m->n_slots = 1;
    if (!(m->bld = pond_calloc(m->n_cols, sizeof *m->bld)) ||
        !(m->memo = pond_calloc(m->n_cols, sizeof *m->memo))) {
        rc = POND_ENOMEM;
        goto fail;
    }
    if ((rc = make_builders(m, m->bld)) < 0)
        goto fail;
    out->get_schema = imp_schema;
    out->get_next = imp_next;
    out->get_last_error = imp_err;
    out->release = imp_release;
    out->private_data = m;
    return 0;
fail:
    imp_free(m);
    return rc;
}
