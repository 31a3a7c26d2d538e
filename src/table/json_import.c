/* JSON records (an array of objects, or NDJSON) as rows for the importer in csv_import.c. */
#include "table/table_internal.h"

#include <pond/input.h>
#include <pond/json_reader.h>

#include <string.h>

#define D POND_DOM_TABLE

enum { K_BARE = 0, K_JSTR = 2, K_TEXT = 3 }; /* csv_import.c's field kinds */

struct table_json_src {
    pond_json_reader *r;
    char *name;
    char **cols;
    size_t n_cols, cols_cap;
    pond__strmap col_of; /* key -> column (a loop per key is quadratic in a wide record) */
    /* the sample, replayed first: per record "col(u32) kind(u8) bytes NUL" ... */
    char **sample;
    size_t *sample_bytes;
    int64_t *sample_line;
    size_t n_sample, sample_pos;
    bool live; /* past the sample: rows come from the reader */
    /* the current row */
    const char **val;
    size_t *len;
    int *kind;
    int64_t *stamp, row, line;
};

static int json_read(void *buf, size_t cap, size_t *n_out, void *payload)
{
    return pond_input_read(payload, buf, cap, n_out);
}

static int kind_of(pond_json_kind k)
{
    return k == POND_JSON_STRING ? K_JSTR : k == POND_JSON_NESTED ? K_TEXT : K_BARE;
}

static const char *text_of(pond_json_kind k, const char *v)
{
    return k == POND_JSON_TRUE ? "true" : k == POND_JSON_FALSE ? "false" : v;
}

/* The column of key i of the current record: tries the same position first (records usually
 * list their keys in one order). -1 when unknown. */
static long find_col(const table_json_src *s, size_t i, const char *key)
{
    if (i < s->n_cols && !strcmp(s->cols[i], key))
        return (long)i;
    return (long)pond__strmap_get(&s->col_of, key);
}

static int add_col(table_json_src *s, const char *key)
{
    if (POND_GROW(s->cols, s->n_cols, s->cols_cap) < 0)
        return POND_ENOMEM;
    if (!(s->cols[s->n_cols] = pond_strdup(key)))
        return POND_ENOMEM;
    /* the map borrows the column's own copy of the name */
    int rc = pond__strmap_put(&s->col_of, s->cols[s->n_cols], (int64_t)s->n_cols);
    if (rc < 0) {
        pond_free(s->cols[s->n_cols]);
        return rc;
    }
    s->n_cols++;
    return 0;
}

static int dup_key(const table_json_src *s, const char *key)
{
    return pond_error_set(POND_ECORRUPT, D, "%s: line %lld: key '%s' appears twice in one record",
                          s->name, (long long)pond_json_reader_line(s->r), key);
}

/* Reads one sampled record into a compact buffer, adding new keys as columns. */
static int sample_one(table_json_src *s, pond_buf *b, int64_t rec)
{
    size_t nk = pond_json_reader_nkeys(s->r);
    int rc;
    for (size_t i = 0; i < nk; i++) {
        const char *key = pond_json_reader_key(s->r, i, NULL);
        long c = find_col(s, i, key);
        if (c < 0) {
            if ((rc = add_col(s, key)) < 0)
                return rc;
            c = (long)s->n_cols - 1;
            int64_t *st = pond_realloc(s->stamp, s->n_cols * sizeof *st);
            if (!st)
                return POND_ENOMEM;
            s->stamp = st;
            st[c] = 0;
        }
        if (s->stamp[c] == rec)
            return dup_key(s, key);
        s->stamp[c] = rec;
        size_t vl;
        pond_json_kind k;
        const char *v = pond_json_reader_value(s->r, i, &vl, &k);
        if (k == POND_JSON_TRUE || k == POND_JSON_FALSE) {
            v = text_of(k, v);
            vl = strlen(v);
        }
        uint32_t col = (uint32_t)c;
        if ((rc = pond_buf_put(b, &col, sizeof col)) < 0 ||
            (rc = pond_buf_putc(b, (char)kind_of(k))) < 0 || (rc = pond_buf_put(b, v, vl)) < 0 ||
            (rc = pond_buf_putc(b, 0)) < 0)
            return rc;
    }
    return 0;
}

int pond_table__json_src_new(table_json_src **out, struct pond_input *in, const char *name,
                             int layout, int64_t sample_rows)
{
    *out = NULL;
    table_json_src *s = pond_calloc(1, sizeof *s);
    if (!s)
        return POND_ENOMEM;
    pond_json_options o = POND_JSON_OPTIONS_INIT;
    o.layout = layout == 1 ? POND_JSON_ARRAY : layout == 2 ? POND_JSON_LINES : POND_JSON_AUTO;
    o.name = name;
    size_t cap = (size_t)sample_rows;
    int rc = 0;
    if (!(s->name = pond_strdup(name)) || !(s->sample = pond_calloc(cap, sizeof *s->sample)) ||
        !(s->sample_bytes = pond_calloc(cap, sizeof *s->sample_bytes)) ||
        !(s->sample_line = pond_calloc(cap, sizeof *s->sample_line)))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = pond_json_reader_new(&s->r, json_read, in, &o);
    while (rc == 0 && s->n_sample < cap) {
        rc = pond_json_reader_next(s->r);
        if (rc == POND_ITEROVER) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        pond_buf b = POND_BUF_INIT;
        rc = sample_one(s, &b, (int64_t)s->n_sample + 1);
        if (rc < 0) {
            pond_buf_dispose(&b);
            break;
        }
        s->sample_bytes[s->n_sample] = b.size;
        s->sample_line[s->n_sample] = pond_json_reader_line(s->r);
        s->sample[s->n_sample++] = pond_buf_detach(&b);
    }
    if (rc == 0) {
        size_t n = s->n_cols ? s->n_cols : 1;
        s->val = pond_calloc(n, sizeof *s->val);
        s->len = pond_calloc(n, sizeof *s->len);
        s->kind = pond_calloc(n, sizeof *s->kind);
        int64_t *st = pond_realloc(s->stamp, n * sizeof *st);
        if (st)
            s->stamp = st;
        if (!s->val || !s->len || !s->kind || !st)
            rc = POND_ENOMEM;
        else
            memset(s->stamp, 0, n * sizeof *s->stamp);
    }
    if (rc < 0) {
        pond_table__json_src_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

size_t pond_table__json_src_ncols(const table_json_src *s) { return s->n_cols; }
const char *pond_table__json_src_name(const table_json_src *s, size_t col) { return s->cols[col]; }

static void clear_row(table_json_src *s)
{
    for (size_t c = 0; c < s->n_cols; c++) {
        s->val[c] = "";
        s->len[c] = 0;
        s->kind[c] = K_BARE;
    }
}

int pond_table__json_src_next(table_json_src *s)
{
    s->row++;
    if (s->sample_pos > 0 && s->sample_pos <= s->n_sample) {
        pond_free(s->sample[s->sample_pos - 1]); /* the row handed out last */
        s->sample[s->sample_pos - 1] = NULL;
    }
    clear_row(s);
    if (s->sample_pos < s->n_sample) {
        size_t k = s->sample_pos++;
        const char *p = s->sample[k], *end = p + s->sample_bytes[k];
        while (p < end) {
            uint32_t col;
            memcpy(&col, p, sizeof col);
            p += sizeof col;
            s->kind[col] = *p++;
            s->val[col] = p;
            s->len[col] = strlen(p);
            p += s->len[col] + 1;
        }
        s->line = s->sample_line[k];
        return 0;
    }
    if (!s->live) {
        s->live = true;
        s->sample_pos = s->n_sample + 1;
    }
    int rc = pond_json_reader_next(s->r);
    if (rc < 0)
        return rc;
    s->line = pond_json_reader_line(s->r);
    size_t nk = pond_json_reader_nkeys(s->r);
    for (size_t i = 0; i < nk; i++) {
        const char *key = pond_json_reader_key(s->r, i, NULL);
        long c = find_col(s, i, key);
        if (c < 0)
            return pond_error_set(POND_EINVALID, D,
                                  "%s: line %lld: key '%s' is not in the first %zu records, so it "
                                  "has no column (import with a larger sample, or add the key "
                                  "to an early record)",
                                  s->name, (long long)s->line, key, s->n_sample);
        if (s->stamp[c] == s->row)
            return dup_key(s, key);
        s->stamp[c] = s->row;
        pond_json_kind k;
        const char *v = pond_json_reader_value(s->r, i, &s->len[c], &k);
        s->val[c] = text_of(k, v);
        if (k == POND_JSON_TRUE || k == POND_JSON_FALSE)
            s->len[c] = strlen(s->val[c]);
        s->kind[c] = kind_of(k);
    }
    return 0;
}

const char *pond_table__json_src_field(const table_json_src *s, size_t col, size_t *len, int *kind)
{
    *len = s->len[col];
    *kind = s->kind[col];
    return s->val[col];
}

int64_t pond_table__json_src_line(const table_json_src *s) { return s->line; }

void pond_table__json_src_free(table_json_src *s)
{
    if (!s)
        return;
    pond_json_reader_free(s->r);
    pond__strmap_dispose(&s->col_of);
    for (size_t c = 0; c < s->n_cols; c++)
        pond_free(s->cols[c]);
    pond_free(s->cols);
    for (size_t k = 0; k < s->n_sample; k++)
        pond_free(s->sample[k]);
    pond_free(s->sample);
    pond_free(s->sample_bytes);
    pond_free(s->sample_line);
    pond_free(s->val);
    pond_free(s->len);
    pond_free(s->kind);
    pond_free(s->stamp);
    pond_free(s->name);
    pond_free(s);
}
