/* Page pruning with the column and offset indexes: pruned reads, filtered, equal a brute-force
 * filter of a full read (pond-written files with tiny pages, real writers' files from the
 * corpus); the bytes read through the source show that pages were skipped. */
#include "pt.h"

#include <pond/arrow.h>
#include <pond/buf.h>
#include <pond/parquet.h>

#include "parquet/pq_crc.h"
#include "parquet/pq_reader.h"
#include "util/util.h"

#include "util/json.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- a counting source */

typedef struct {
    const uint8_t *p;
    size_t n;
    int64_t bytes; /* bytes read so far */
} msrc;

static int msrc_read(int64_t off, void *buf, size_t len, size_t *n_out, void *payload)
{
    msrc *m = payload;
    size_t k = 0;
    if (off >= 0 && (uint64_t)off < m->n)
        k = POND_MIN(len, m->n - (size_t)off);
    if (k)
        memcpy(buf, m->p + off, k);
    m->bytes += (int64_t)k;
    *n_out = k;
    return 0;
}

static int sink_write(const void *d, size_t len, void *payload)
{
    return pond_buf_put(payload, d, len);
}

static int buf_write(const void *p, size_t n, void *payload) { return pond_buf_put(payload, p, n); }

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---------------------------------------------------------------- predicates */

typedef struct {
    const char *col;
    bool is_double;
    int64_t ilo, ihi;
    double dlo, dhi;
} pred;

/* The value of row i of an integer- or float-valued Arrow column (false when null). */
static bool cell_int(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i, int64_t *v)
{
    int64_t k = a->offset + i;
    const uint8_t *valid = a->buffers[0];
    if (a->null_count != 0 && valid && !((valid[k >> 3] >> (k & 7)) & 1))
        return false;
    const void *b = a->buffers[1];
    const char *f = s->format;
    if (!strcmp(f, "c"))
        *v = ((const int8_t *)b)[k];
    else if (!strcmp(f, "s"))
        *v = ((const int16_t *)b)[k];
    else if (!strcmp(f, "i") || !strcmp(f, "tdD") || !strcmp(f, "tts") || !strcmp(f, "ttm"))
        *v = ((const int32_t *)b)[k];
    else
        *v = ((const int64_t *)b)[k];
    return true;
}

static bool cell_double(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                        double *v)
{
    int64_t k = a->offset + i;
    const uint8_t *valid = a->buffers[0];
    if (a->null_count != 0 && valid && !((valid[k >> 3] >> (k & 7)) & 1))
        return false;
    if (!strcmp(s->format, "f"))
        *v = ((const float *)a->buffers[1])[k];
    else
        *v = ((const double *)a->buffers[1])[k];
    return true;
}

static int child_index(const struct ArrowSchema *s, const char *name)
{
    for (int64_t i = 0; i < s->n_children; i++)
        if (!strcmp(s->children[i]->name, name))
            return (int)i;
    return -1;
}

static bool row_matches(const struct ArrowSchema *s, const struct ArrowArray *b, int64_t i,
                        const pred *ps, int n)
{
    for (int k = 0; k < n; k++) {
        int c = child_index(s, ps[k].col);
        if (ps[k].is_double) {
            double v;
            if (!cell_double(s->children[c], b->children[c], i, &v) || !(v >= ps[k].dlo) ||
                !(v <= ps[k].dhi))
                return false;
        } else {
            int64_t v;
            if (!cell_int(s->children[c], b->children[c], i, &v) || v < ps[k].ilo || v > ps[k].ihi)
                return false;
        }
    }
    return true;
}

typedef struct {
    int64_t rows_seen; /* rows the reader returned */
    int64_t rows_kept; /* rows matching every predicate */
    int64_t bytes;     /* bytes read through the source */
} read_stats;

/* Read the file (with the predicates as pruning when `prune`), keep the canonical text of
 * the rows that match every predicate. */
static void read_filtered(pond_buf *out, read_stats *st, const pond_buf *file, const pred *ps,
                          int n, bool prune, bool page_index, int64_t max_batch_rows)
{
    msrc m = {(const uint8_t *)file->ptr, file->size, 0};
    pond_parquet_source src = {msrc_read, (int64_t)file->size, &m};
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.no_page_index = !page_index;
    o.max_batch_rows = max_batch_rows;
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open(&r, &src, &o));
    for (int k = 0; prune && k < n; k++) {
        if (ps[k].is_double)
            PT_ASSERT_OK(pond_parquet_reader_prune_double(r, ps[k].col, ps[k].dlo, ps[k].dhi));
        else
            PT_ASSERT_OK(pond_parquet_reader_prune_int(r, ps[k].col, ps[k].ilo, ps[k].ihi));
    }
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    memset(st, 0, sizeof *st);
    pond_buf text = POND_BUF_INIT;
    for (;;) {
        struct ArrowArray b;
        int rc = pond_parquet_reader_next(r, &b);
        if (rc == POND_ITEROVER)
            break;
        PT_ASSERT_OK(rc);
        if (!max_batch_rows) /* (slices would re-validate the whole row group each time) */
            PT_ASSERT_OK(pond_arrow_array_validate(&s, &b));
        /* render runs of matching rows only (rendering dominates the test's time) */
        for (int64_t i = 0; i < b.length;) {
            if (!row_matches(&s, &b, b.offset + i, ps, n)) {
                i++;
                continue;
            }
            int64_t j = i + 1;
            while (j < b.length && row_matches(&s, &b, b.offset + j, ps, n))
                j++;
            struct ArrowArray view = b;
            view.offset = b.offset + i;
            view.length = j - i;
            pond_buf_clear(&text);
            PT_ASSERT_OK(pond_arrow_canon_batch(&text, &s, &view));
            PT_ASSERT_OK(pond_buf_put(out, text.ptr, text.size));
            st->rows_kept += j - i;
            i = j;
        }
        st->rows_seen += b.length;
        pond_arrow_array_release(&b);
    }
    st->bytes = m.bytes;
    pond_buf_dispose(&text);
    pond_arrow_schema_release(&s);
    pond_parquet_reader_free(r);
}

/* Pruned (page index) vs row-group-pruned-only vs unpruned: identical filtered rows. */
static void check_preds(const pond_buf *file, const pred *ps, int n, read_stats *pruned,
                        read_stats *rg_only, int64_t slice)
{
    pond_buf a = POND_BUF_INIT, b = POND_BUF_INIT, c = POND_BUF_INIT;
    read_stats sa, sb, sc;
    read_filtered(&a, &sa, file, ps, n, true, true, 0);
    read_filtered(&b, &sb, file, ps, n, true, false, 0);
    read_filtered(&c, &sc, file, ps, n, false, true, 0);
    PT_ASSERT_INT_EQ(sa.rows_kept, sc.rows_kept);
    PT_ASSERT_INT_EQ(sb.rows_kept, sc.rows_kept);
    PT_ASSERT_INT_EQ(a.size, c.size);
    PT_ASSERT_INT_EQ(b.size, c.size);
    if (c.size) {
        PT_ASSERT_MEM_EQ(a.ptr, c.ptr, c.size);
        PT_ASSERT_MEM_EQ(b.ptr, c.ptr, c.size);
    }
    PT_ASSERT(sa.rows_seen <= sb.rows_seen);
    PT_ASSERT(sb.rows_seen <= sc.rows_seen);
    /* sliced batches give the same rows */
    pond_buf d = POND_BUF_INIT;
    read_stats sd;
    read_filtered(&d, &sd, file, ps, n, true, true, slice);
    PT_ASSERT_INT_EQ(d.size, c.size);
    if (c.size)
        PT_ASSERT_MEM_EQ(d.ptr, c.ptr, c.size);
    PT_ASSERT_INT_EQ(sd.rows_seen, sa.rows_seen);
    if (pruned)
        *pruned = sa;
    if (rg_only)
        *rg_only = sb;
    pond_buf_dispose(&a);
    pond_buf_dispose(&b);
    pond_buf_dispose(&c);
    pond_buf_dispose(&d);
}

/* ---------------------------------------------------------------- a pond-written file */

#define NROWS 20000

static void add_field(struct ArrowSchema *s, int i, const char *fmt, const char *name,
                      bool nullable)
{
    PT_ASSERT_OK(
        pond_arrow_schema_init(s->children[i], fmt, name, nullable ? ARROW_FLAG_NULLABLE : 0, 0));
}

/* ts: int64 sorted; v: double random walk with nulls; k: int32 random with whole null runs;
 * tag: low-cardinality string (dictionary) with nulls; flag: bool; when `with_list`, also
 * l: list<int64>. */
static void make_file(pond_buf *file, bool page_index, bool with_list, int64_t rg_rows,
                      size_t page_bytes)
{
    int nc = with_list ? 6 : 5;
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, nc));
    add_field(&s, 0, "l", "ts", false);
    add_field(&s, 1, "g", "v", true);
    add_field(&s, 2, "i", "k", true);
    add_field(&s, 3, "u", "tag", true);
    add_field(&s, 4, "b", "flag", false);
    if (with_list) {
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[5], "+l", "l", ARROW_FLAG_NULLABLE, 1));
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[5]->children[0], "l", "item",
                                            ARROW_FLAG_NULLABLE, 0));
    }
    pond_arrow_builder *b[5];
    const char *fmts[5] = {"l", "g", "i", "u", "b"};
    for (int i = 0; i < 5; i++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[i], fmts[i]));
    pond_arrow_builder *items;
    PT_ASSERT_OK(pond_arrow_builder_new(&items, "l"));
    int32_t *loff = pond_malloc((NROWS + 1) * sizeof *loff);
    uint8_t *lvalid = pond_calloc((NROWS + 7) / 8, 1);
    PT_ASSERT(loff && lvalid);
    loff[0] = 0;
    int64_t lnulls = 0;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    double walk = 0;
    for (int64_t i = 0; i < NROWS; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], 1000 + i * 3));
        walk += (double)(rng_next(&seed) % 2001) / 1000.0 - 1.0;
        if (i % 17 == 5)
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[1]));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], walk));
        if ((i >= 3000 && i < 3700) || i % 11 == 0)
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[2]));
        else
            PT_ASSERT_OK(
                pond_arrow_builder_append_int(b[2], (int64_t)(rng_next(&seed) % 2001) - 1000));
        if (i % 13 == 0) {
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[3]));
        } else {
            char t[16];
            int n = snprintf(t, sizeof t, "tag%d", (int)(rng_next(&seed) % 8));
            PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[3], t, (size_t)n));
        }
        PT_ASSERT_OK(pond_arrow_builder_append_bool(b[4], rng_next(&seed) % 3 == 0));
        int nl = (int)(i % 4);
        for (int j = 0; j < nl; j++)
            PT_ASSERT_OK(pond_arrow_builder_append_int(items, i * 10 + j));
        loff[i + 1] = loff[i] + nl;
        if (i % 9 != 0)
            lvalid[i >> 3] |= (uint8_t)(1u << (i & 7));
        else
            lnulls++;
    }
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_array_init(&a, NROWS, 0, 1, nc));
    for (int i = 0; i < 5; i++) {
        pond_arrow_array_release(a.children[i]);
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[i], b[i]));
        pond_arrow_builder_free(b[i]);
    }
    if (with_list) {
        struct ArrowArray *l = a.children[5];
        pond_arrow_array_release(l);
        PT_ASSERT_OK(pond_arrow_array_init(l, NROWS, lnulls, 2, 1));
        pond_arrow_array_set_buffer(l, 0, lvalid);
        pond_arrow_array_set_buffer(l, 1, loff);
        pond_arrow_array_release(l->children[0]);
        PT_ASSERT_OK(pond_arrow_builder_finish(l->children[0], items));
        pond_arrow_builder_free(items);
    } else {
        pond_arrow_builder_free(items);
        pond_free(loff);
        pond_free(lvalid);
    }
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.row_group_rows = rg_rows;
    o.page_bytes = page_bytes;
    o.page_index = page_index;
    pond_parquet_sink sink = {sink_write, NULL, file};
    pond_parquet_writer *w;
    PT_ASSERT_OK(pond_parquet_writer_new(&w, &sink, &s, &o));
    PT_ASSERT_OK(pond_parquet_writer_write(w, &a));
    PT_ASSERT_OK(pond_parquet_writer_finish(w));
    pond_parquet_writer_free(w);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

static void test_ts_ranges_skip_pages(void)
{
    pond_buf file = POND_BUF_INIT;
    make_file(&file, true, false, 8192, 512);
    uint64_t seed = 42;
    int iters = pt_light() ? 4 : 15;
    for (int it = 0; it < iters; it++) {
        int64_t a = (int64_t)(rng_next(&seed) % NROWS), w = (int64_t)(rng_next(&seed) % 300);
        pred p = {.col = "ts", .ilo = 1000 + a * 3 - 1, .ihi = 1000 + (a + w) * 3 + 1};
        read_stats pr, rg;
        check_preds(&file, &p, 1, &pr, &rg, 7);
        PT_ASSERT_INT_EQ(pr.rows_kept, POND_MIN(w + 1, NROWS - a));
        /* narrow ranges: a few pages of each column instead of whole row groups */
        PT_ASSERT(pr.rows_seen < rg.rows_seen / 4);
        PT_ASSERT(pr.bytes < rg.bytes / 2);
    }
    /* a range across row groups, an empty range, a range below/above everything */
    pred wide = {.col = "ts", .ilo = 1000 + 7000 * 3, .ihi = 1000 + 9500 * 3};
    read_stats pr;
    check_preds(&file, &wide, 1, &pr, NULL, 7);
    PT_ASSERT_INT_EQ(pr.rows_kept, 2501);
    pred none = {.col = "ts", .ilo = 1001, .ihi = 1002};
    check_preds(&file, &none, 1, &pr, NULL, 7);
    PT_ASSERT_INT_EQ(pr.rows_kept, 0);
    PT_ASSERT(pr.rows_seen < 200); /* the first page only */
    pred above = {.col = "ts", .ilo = INT64_MAX - 5, .ihi = INT64_MAX};
    check_preds(&file, &above, 1, &pr, NULL, 7);
    PT_ASSERT_INT_EQ(pr.rows_seen, 0);
    pond_buf_dispose(&file);
}

static void test_scattered_and_combined_preds(void)
{
    pond_buf file = POND_BUF_INIT;
    make_file(&file, true, false, 5000, 256);
    uint64_t seed = 7;
    int iters = pt_light() ? 1 : 3;
    for (int it = 0; it < iters; it++) {
        /* k is random: pages rarely prune, but the null run (rows 3000..3699) does */
        int64_t lo = (int64_t)(rng_next(&seed) % 2001) - 1000;
        pred k = {.col = "k", .ilo = lo, .ihi = lo + (int64_t)(rng_next(&seed) % 50)};
        check_preds(&file, &k, 1, NULL, NULL, 7);
        /* v is a random walk: ranges of values select scattered pages */
        double d = (double)(rng_next(&seed) % 100) - 50;
        pred v = {.col = "v", .is_double = true, .dlo = d, .dhi = d + 3};
        check_preds(&file, &v, 1, NULL, NULL, 7);
        /* conjunctions intersect row ranges from different columns' page boundaries */
        int64_t a = (int64_t)(rng_next(&seed) % NROWS);
        pred two[2] = {{.col = "ts", .ilo = 1000 + a * 3, .ihi = 1000 + (a + 4000) * 3}, v};
        check_preds(&file, two, 2, NULL, NULL, 7);
        pred three[3] = {two[0], v, k};
        check_preds(&file, three, 3, NULL, NULL, 7);
    }
    pond_buf_dispose(&file);
}

static void test_no_page_index_and_nested_fallback(void)
{
    /* without a page index: the same rows, whole row groups, the same bytes */
    pond_buf file = POND_BUF_INIT;
    make_file(&file, false, false, 8192, 512);
    pred p = {.col = "ts", .ilo = 1000 + 100 * 3, .ihi = 1000 + 150 * 3};
    read_stats pr, rg;
    check_preds(&file, &p, 1, &pr, &rg, 7);
    PT_ASSERT_INT_EQ(pr.rows_kept, 51);
    PT_ASSERT_INT_EQ(pr.rows_seen, rg.rows_seen);
    PT_ASSERT_INT_EQ(pr.bytes, rg.bytes);
    PT_ASSERT_INT_EQ(pr.rows_seen, 8192);
    pond_buf_dispose(&file);

    /* a list column in the projection: whole row groups (still exact after filtering) */
    pond_buf nf = POND_BUF_INIT;
    make_file(&nf, true, true, 8192, 512);
    check_preds(&nf, &p, 1, &pr, &rg, 7);
    PT_ASSERT_INT_EQ(pr.rows_kept, 51);
    PT_ASSERT_INT_EQ(pr.rows_seen, 8192);
    /* projecting only flat columns of that file prunes pages again */
    msrc m = {(const uint8_t *)nf.ptr, nf.size, 0};
    pond_parquet_source src = {msrc_read, (int64_t)nf.size, &m};
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    const char *cols[] = {"ts", "tag"};
    o.column_names = cols;
    o.n_column_names = 2;
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open(&r, &src, &o));
    PT_ASSERT_OK(pond_parquet_reader_prune_int(r, "ts", p.ilo, p.ihi));
    int64_t seen = 0;
    struct ArrowArray b;
    int rc;
    while ((rc = pond_parquet_reader_next(r, &b)) == 0) {
        seen += b.length;
        pond_arrow_array_release(&b);
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT(seen >= 51 && seen < 2000);
    PT_ASSERT(r->pages_skipped > 0);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&nf);
}

/* A corrupt offset index must not crash or mis-read: it is checked, and a bad one means
 * reading the whole chunk. Flip bytes across the footer area and compare with a full read
 * whenever both succeed. */
static void test_damaged_index_bytes(void)
{
    pond_buf file = POND_BUF_INIT;
    make_file(&file, true, false, 8192, 512);
    /* page indexes sit between the last column chunk and the footer */
    uint32_t flen;
    memcpy(&flen, file.ptr + file.size - 8, 4);
    size_t end = file.size - 8 - flen;
    uint64_t seed = 99;
    int iters = pt_light() ? 20 : 200;
    pred p = {.col = "ts", .ilo = 1000 + 9000 * 3, .ihi = 1000 + 9100 * 3};
    for (int it = 0; it < iters; it++) {
        pond_buf copy = POND_BUF_INIT;
        PT_ASSERT_OK(pond_buf_put(&copy, file.ptr, file.size));
        size_t at = end - 1 - (size_t)(rng_next(&seed) % 4000);
        copy.ptr[at] = (char)(copy.ptr[at] ^ (1 + (int)(rng_next(&seed) % 255)));
        msrc m = {(const uint8_t *)copy.ptr, copy.size, 0};
        pond_parquet_source src = {msrc_read, (int64_t)copy.size, &m};
        pond_parquet_reader *r;
        if (pond_parquet_reader_open(&r, &src, NULL) == 0) {
            PT_ASSERT_OK(pond_parquet_reader_prune_int(r, "ts", p.ilo, p.ihi));
            struct ArrowArray b;
            int rc;
            while ((rc = pond_parquet_reader_next(r, &b)) == 0)
                pond_arrow_array_release(&b);
            PT_ASSERT(rc == POND_ITEROVER || rc == POND_ECORRUPT || rc == POND_EUNSUPPORTED);
            pond_parquet_reader_free(r);
        }
        pond_buf_dispose(&copy);
    }
    pond_buf_dispose(&file);
}

/* ---------------------------------------------------------------- corpus files */

/* For each top-level column the predicates accept, ranges drawn from its own values. */
static int corpus_file_ranges(const pond_buf *file, uint64_t *seed, int iters, bool *had_index)
{
    pond_parquet_reader *r;
    if (pond_parquet_reader_open_memory(&r, file->ptr, file->size, NULL) < 0)
        return 0;
    struct ArrowArray b;
    int rc;
    while ((rc = pond_parquet_reader_next(r, &b)) == 0)
        pond_arrow_array_release(&b);
    pond_parquet_reader_free(r);
    if (rc != POND_ITEROVER) /* e.g. a corrupt CRC (read by tools that ignore CRCs) */
        return 0;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file->ptr, file->size, NULL));
    for (uint32_t g = 0; g < r->meta.n_row_groups; g++)
        for (uint32_t c = 0; c < r->meta.row_groups[g].n_columns; c++)
            if (r->meta.row_groups[g].columns[c].column_index_offset > 0)
                *had_index = true;
    if (pt_light() && !*had_index) { /* valgrind: only files with a page index */
        pond_parquet_reader_free(r);
        return 0;
    }
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    int checked = 0, cols = 0;
    for (int64_t c = 0; c < s.n_children && cols < 4; c++) {
        const char *name = s.children[c]->name;
        pond_parquet_reader *t;
        PT_ASSERT_OK(pond_parquet_reader_open_memory(&t, file->ptr, file->size, NULL));
        bool is_d = false;
        rc = pond_parquet_reader_prune_int(t, name, INT64_MIN, INT64_MAX);
        if (rc < 0) {
            is_d = true;
            rc = pond_parquet_reader_prune_double(t, name, -INFINITY, INFINITY);
        }
        pond_parquet_reader_free(t);
        if (rc < 0)
            continue;
        cols++;
        /* collect the column's values to draw ranges from */
        int64_t *iv = NULL;
        double *dv = NULL;
        size_t nv = 0, cap = 0;
        PT_ASSERT_OK(pond_parquet_reader_open_memory(&t, file->ptr, file->size, NULL));
        while ((rc = pond_parquet_reader_next(t, &b)) == 0) {
            for (int64_t i = 0; i < b.length; i++) {
                if (nv == cap) {
                    cap = cap ? cap * 2 : 1024;
                    iv = pond_realloc(iv, cap * sizeof *iv);
                    dv = pond_realloc(dv, cap * sizeof *dv);
                    PT_ASSERT(iv && dv);
                }
                if (is_d ? cell_double(s.children[c], b.children[c], i, &dv[nv])
                         : cell_int(s.children[c], b.children[c], i, &iv[nv]))
                    nv += !is_d || !isnan(dv[nv]);
            }
            pond_arrow_array_release(&b);
        }
        if (rc != POND_ITEROVER)
            printf("  %s: %s\n", name, pond_error_last()->message);
        PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
        pond_parquet_reader_free(t);
        for (int it = 0; it < iters && nv > 0; it++) {
            size_t x = (size_t)(rng_next(seed) % nv), y = (size_t)(rng_next(seed) % nv);
            pred p = {.col = name, .is_double = is_d};
            /* between two of its values (the first column), else around one value */
            bool wide = cols == 1 && it == 1;
            if (is_d) {
                p.dlo = wide ? POND_MIN(dv[x], dv[y]) : dv[x] - fabs(dv[x]) * 0.01;
                p.dhi = wide ? POND_MAX(dv[x], dv[y]) : dv[x] + fabs(dv[x]) * 0.01;
            } else {
                p.ilo = wide ? POND_MIN(iv[x], iv[y]) : iv[x];
                p.ihi = wide ? POND_MAX(iv[x], iv[y]) : iv[x];
            }
            if (getenv("PQ_PAGES_DEBUG"))
                printf("  %s %s [%lld, %lld] [%g, %g]\n", getenv("PQ_PAGES_DEBUG"), name,
                       (long long)p.ilo, (long long)p.ihi, p.dlo, p.dhi);
            check_preds(file, &p, 1, NULL, NULL, 997);
            checked++;
        }
        pond_free(iv);
        pond_free(dv);
    }
    pond_arrow_schema_release(&s);
    pond_parquet_reader_free(r);
    return checked;
}

static void test_corpus_files_with_page_index(void)
{
    const char *corpus = pt_corpus_dir();
    if (!corpus)
        pt_skip("no ../shared/corpus (set POND_CORPUS)");
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", corpus);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    PT_ASSERT(root != NULL);
    json_t *files = json_object_get(root, "parquet");
    const char *key;
    json_t *v;
    uint64_t seed = 1234;
    int with_index = 0, checked = 0;
    json_object_foreach(files, key, v)
    {
        const char *expect = json_string_value(json_object_get(v, "expect"));
        json_int_t bytes = json_integer_value(json_object_get(v, "bytes"));
        if (!expect || strcmp(expect, "read") != 0 || bytes > (1 << 20))
            continue;
        snprintf(path, sizeof path, "%s/%s", corpus, key);
        pond_buf file = POND_BUF_INIT;
        if (pond__read_file(&file, path, 8 << 20, POND_DOM_NONE) < 0) {
            pond_buf_dispose(&file);
            continue;
        }
        bool had = false;
        if (getenv("PQ_PAGES_DEBUG"))
            setenv("PQ_PAGES_DEBUG", key, 1);
        int n = corpus_file_ranges(&file, &seed, pt_light() ? 1 : 2, &had);
        checked += n;
        if (had && n > 0) {
            with_index++;
            printf("  page index: %s (%d ranges)\n", key, n);
        }
        pond_buf_dispose(&file);
    }
    json_decref(root);
    printf("  %d ranges checked, %d files with a page index\n", checked, with_index);
    PT_ASSERT(checked > 0);
    PT_ASSERT(with_index >= 2); /* at least alltypes_tiny_pages*.parquet */
}

/* ---------------------------------------------------------------- threads */

static void dump_threads(pond_buf *out, const pond_buf *file, int threads, bool prune, int64_t lo,
                         int64_t hi, int *rc_out)
{
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.threads = threads;
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file->ptr, file->size, &o));
    if (prune)
        PT_ASSERT_OK(pond_parquet_reader_prune_int(r, "ts", lo, hi));
    int64_t rows;
    *rc_out = pond_parquet_dump(r, buf_write, out, &rows);
    pond_parquet_reader_free(r);
}

/* Read-ahead and the column pool (row groups above 512 KiB) give the same rows as one
 * thread; an error in a row group decoded ahead reaches the caller with its message; a
 * reader freed mid-way stops its threads (checked for leaks under ASan and valgrind). */
static void test_threads_same_rows(void)
{
    int64_t rows = 120000;
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 3));
    add_field(&s, 0, "l", "ts", false);
    add_field(&s, 1, "g", "v", true);
    add_field(&s, 2, "u", "tag", true);
    pond_arrow_builder *b[3];
    const char *fmts[3] = {"l", "g", "u"};
    for (int i = 0; i < 3; i++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[i], fmts[i]));
    uint64_t seed = 77;
    for (int64_t i = 0; i < rows; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], i * 2));
        if (i % 7 == 0)
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[1]));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], (double)rng_next(&seed) / 3.0));
        char t[32];
        int n = snprintf(t, sizeof t, "t%llu", (unsigned long long)(rng_next(&seed) % 50));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[2], t, (size_t)n));
    }
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_array_init(&a, rows, 0, 1, 3));
    for (int i = 0; i < 3; i++) {
        pond_arrow_array_release(a.children[i]);
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[i], b[i]));
        pond_arrow_builder_free(b[i]);
    }
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.row_group_rows = 40000; /* ~700 KiB per row group: above the threads' threshold */
    o.page_bytes = 64 << 10;
    o.compression = POND_PARQUET_COMPRESS_SNAPPY;
    pond_buf file = POND_BUF_INIT;
    pond_parquet_sink sink = {sink_write, NULL, &file};
    pond_parquet_writer *w;
    PT_ASSERT_OK(pond_parquet_writer_new(&w, &sink, &s, &o));
    PT_ASSERT_OK(pond_parquet_writer_write(w, &a));
    PT_ASSERT_OK(pond_parquet_writer_finish(w));
    pond_parquet_writer_free(w);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);

    int rc;
    pond_buf one = POND_BUF_INIT;
    dump_threads(&one, &file, 1, false, 0, 0, &rc);
    PT_ASSERT_OK(rc);
    for (int t = 2; t <= 2; t++) {
        pond_buf many = POND_BUF_INIT;
        dump_threads(&many, &file, t, false, 0, 0, &rc);
        PT_ASSERT_OK(rc);
        PT_ASSERT_INT_EQ(many.size, one.size);
        PT_ASSERT_MEM_EQ(many.ptr, one.ptr, one.size);
        pond_buf_dispose(&many);
    }
    /* with pruning: row groups and pages dropped, the same rows either way */
    pond_buf p1 = POND_BUF_INIT, p2 = POND_BUF_INIT;
    dump_threads(&p1, &file, 1, true, rows / 3, rows / 3 + 30000, &rc);
    PT_ASSERT_OK(rc);
    dump_threads(&p2, &file, 2, true, rows / 3, rows / 3 + 30000, &rc);
    PT_ASSERT_OK(rc);
    PT_ASSERT(p1.size > 0 && p1.size < one.size);
    PT_ASSERT_INT_EQ(p2.size, p1.size);
    PT_ASSERT_MEM_EQ(p2.ptr, p1.ptr, p1.size);
    pond_buf_dispose(&p1);
    pond_buf_dispose(&p2);
    /* a single large row group through read_row_group: the column pool */
    pond_parquet_read_options ro = POND_PARQUET_READ_OPTIONS_INIT;
    ro.threads = 2;
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &ro));
    pond_buf rg = POND_BUF_INIT;
    struct ArrowSchema rs;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &rs));
    for (int g = 0; g < pond_parquet_reader_num_row_groups(r); g++) {
        PT_ASSERT_OK(pond_parquet_reader_read_row_group(r, g, &a));
        PT_ASSERT_OK(pond_arrow_canon_batch(&rg, &rs, &a));
        pond_arrow_array_release(&a);
    }
    PT_ASSERT_INT_EQ(rg.size, one.size);
    PT_ASSERT_MEM_EQ(rg.ptr, one.ptr, one.size);
    pond_buf_dispose(&rg);
    /* stop mid-way: read-ahead threads hold decoded row groups */
    PT_ASSERT_OK(pond_parquet_reader_next(r, &a));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&rs);
    pond_parquet_reader_free(r);
    /* damage a page of the second-to-last row group: the error comes back, named */
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, NULL));
    int last = pond_parquet_reader_num_row_groups(r) - 2;
    int64_t off = r->meta.row_groups[last].columns[1].meta_data.data_page_offset;
    pond_parquet_reader_free(r);
    file.ptr[off + 200] = (char)(file.ptr[off + 200] ^ 0x5a);
    for (int t = 1; t <= 2; t++) {
        pond_buf bad = POND_BUF_INIT;
        dump_threads(&bad, &file, t, false, 0, 0, &rc);
        PT_ASSERT_ERR(rc, POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("CRC mismatch");
        char want[32];
        snprintf(want, sizeof want, "row group %d", last);
        PT_ASSERT_MSG_HAS(want);
        pond_buf_dispose(&bad);
    }
    /* the column pool (read_row_group) reports it too */
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &ro));
    PT_ASSERT_ERR(pond_parquet_reader_read_row_group(r, last, &a), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("CRC mismatch");
    PT_ASSERT_OK(pond_parquet_reader_read_row_group(r, 0, &a));
    pond_arrow_array_release(&a);
    pond_parquet_reader_free(r);
    /* a file reader freed while its read-ahead worker is still reading: the worker is
     * stopped before the descriptor and the path go (a use-after-free under ASan before) */
    char path[4200];
    snprintf(path, sizeof path, "%s/threads.parquet", PT_TMPDIR());
    FILE *f = fopen(path, "wb");
    PT_ASSERT(f && fwrite(file.ptr, 1, file.size, f) == file.size);
    fclose(f);
    for (int i = 0; i < 20; i++) {
        PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, &ro));
        rc = pond_parquet_reader_next(r, &a);
        if (rc == 0)
            pond_arrow_array_release(&a);
        pond_parquet_reader_free(r);
    }
    pond_buf_dispose(&one);
    pond_buf_dispose(&file);
}

/* The accelerated page CRC equals zlib's for every length and alignment, chained or not. */
static void test_crc32_matches_zlib(void)
{
    size_t n = 70000;
    uint8_t *buf = pond_malloc(n + 64);
    PT_ASSERT(buf != NULL);
    uint64_t seed = 5;
    for (size_t i = 0; i < n + 64; i++)
        buf[i] = (uint8_t)rng_next(&seed);
    for (size_t len = 0; len < 600; len++)
        for (size_t off = 0; off < 3; off++)
            PT_ASSERT_INT_EQ(pond_pq_crc32(0, buf + off, len),
                             pond_pq_crc32_portable(0, buf + off, len));
    for (int it = 0; it < 200; it++) {
        size_t len = (size_t)(rng_next(&seed) % n), off = (size_t)(rng_next(&seed) % 64);
        uint32_t init = (uint32_t)rng_next(&seed);
        PT_ASSERT_INT_EQ(pond_pq_crc32(init, buf + off, len),
                         pond_pq_crc32_portable(init, buf + off, len));
        size_t cut = len ? (size_t)(rng_next(&seed) % len) : 0;
        PT_ASSERT_INT_EQ(
            pond_pq_crc32(pond_pq_crc32(0, buf + off, cut), buf + off + cut, len - cut),
            pond_pq_crc32_portable(0, buf + off, len));
    }
    /* a known value: CRC-32 of "123456789" */
    PT_ASSERT_INT_EQ(pond_pq_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    memset(buf, 0, n);
    PT_ASSERT_INT_EQ(pond_pq_crc32(0, buf, n), pond_pq_crc32_portable(0, buf, n));
    pond_free(buf);
}

PT_SUITE(pq_pages, PT_TEST(crc32_matches_zlib), PT_TEST(threads_same_rows),
         PT_TEST(ts_ranges_skip_pages), PT_TEST(scattered_and_combined_preds),
         PT_TEST(no_page_index_and_nested_fallback), PT_TEST(damaged_index_bytes),
         PT_TEST(corpus_files_with_page_index))
