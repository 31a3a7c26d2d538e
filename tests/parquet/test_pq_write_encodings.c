/* The writer's value encodings besides PLAIN and dictionaries: DELTA_BINARY_PACKED for
 * INT32/INT64 columns (on by default) and BYTE_STREAM_SPLIT for FLOAT/DOUBLE columns (asked
 * for). Property tests: random values, including the extremes where deltas wrap, written and
 * read back bit for bit; the encodings named in the footer; statistics the same as PLAIN's. */
#include "pt.h"

#include <pond/arrow.h>
#include <pond/parquet.h>

#include "parquet/pq_meta.h"
#include "parquet/pq_thrift.h"
#include "test_parquet_write_gen.h"
#include "util/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { C_I32 = PQWG_EDGE_I32, C_I64, C_TS, C_F32, C_F64, NCOL = PQWG_EDGE_NCOL };
static const char *const *const col_name = pqwg_edge_names;

static int mem_write(const void *data, size_t len, void *payload)
{
    return pond_buf_put(payload, data, len);
}

static void make_batch(struct ArrowSchema *s, struct ArrowArray *a, pqwg_rng *r, int64_t n,
                       int mode, int null_pct)
{
    PT_ASSERT_OK(pqwg_edge_batch(s, a, r, n, mode, null_pct));
}

static bool valid_at(const struct ArrowArray *a, int64_t i)
{
    const uint8_t *v = a->buffers[0];
    int64_t k = a->offset + i;
    return !v || (v[k >> 3] >> (k & 7)) & 1;
}

/* Read the file back and compare every value's bits (NaN payloads, -0.0) and validity. */
static void check_read_back(const pond_buf *file, const struct ArrowArray *want, const char *what)
{
    pond_parquet_reader *rd;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&rd, file->ptr, file->size, NULL));
    int64_t row = 0;
    struct ArrowArray a;
    int rc;
    while ((rc = pond_parquet_reader_next(rd, &a)) == 0) {
        for (int c = 0; c < NCOL; c++) {
            const struct ArrowArray *g = a.children[c], *w = want->children[c];
            size_t width = c == C_I32 || c == C_F32 ? 4 : 8;
            for (int64_t i = 0; i < a.length; i++) {
                bool gv = valid_at(g, i), wv = valid_at(w, row + i);
                const uint8_t *gp =
                    (const uint8_t *)g->buffers[1] + (size_t)(g->offset + i) * width;
                const uint8_t *wp =
                    (const uint8_t *)w->buffers[1] + (size_t)(w->offset + row + i) * width;
                if (gv != wv || (gv && memcmp(gp, wp, width) != 0))
                    pt_fail(__FILE__, __LINE__, "%s: column %s row %" PRId64 " differs", what,
                            col_name[c], row + i);
            }
        }
        row += a.length;
        pond_arrow_array_release(&a);
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT_INT_EQ(row, want->length);
    pond_parquet_reader_free(rd);
}

/* The footer's encodings of column c, as a bit set over all row groups. */
static unsigned footer_encodings(const pond_buf *file, int c, pq_statistics *first_stats,
                                 pq_arena *arena, pq_file_meta *fm)
{
    uint32_t len;
    memcpy(&len, file->ptr + file->size - 8, 4);
    pq_tdec d;
    pond_pq_tdec_init(&d, (const uint8_t *)file->ptr + file->size - 8 - len, len, 0, "footer");
    PT_ASSERT_OK(pond_pq_decode_file_meta(fm, arena, &d));
    unsigned set = 0;
    for (uint32_t g = 0; g < fm->n_row_groups; g++) {
        const pq_column_meta *m = &fm->row_groups[g].columns[c].meta_data;
        for (uint32_t k = 0; k < m->n_encodings; k++)
            set |= 1u << m->encodings[k];
        if (g == 0 && first_stats)
            *first_stats = m->statistics;
    }
    return set;
}

static void write_mem(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                      const pond_parquet_writer_options *o)
{
    pond_parquet_sink sink = {mem_write, NULL, out};
    pond_parquet_writer *w;
    PT_ASSERT_OK(pond_parquet_writer_new(&w, &sink, s, o));
    PT_ASSERT_OK(pond_parquet_writer_write(w, a));
    PT_ASSERT_OK(pond_parquet_writer_finish(w));
    pond_parquet_writer_free(w);
}

static bool same_bytes(pq_bytes a, pq_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void test_round_trip_property(void)
{
    /* sizes around the block (128 values) and miniblock (32) edges, and random ones */
    static const int64_t sizes[] = {1, 2, 31, 32, 33, 127, 128, 129, 130, 256, 257, 1000, 5000};
    static const pond_parquet_compression codecs[] = {
        POND_PARQUET_COMPRESS_ZSTD, POND_PARQUET_COMPRESS_NONE, POND_PARQUET_COMPRESS_SNAPPY};
    int cases = pt_light() ? 60 : 240;
    for (int k = 0; k < cases; k++) {
        pqwg_rng r;
        pqwg_seed(&r, 0xde17a000u + (uint64_t)k, NULL, 0);
        int64_t n = k < (int)POND_ARRAY_LEN(sizes) * 2 ? sizes[k % POND_ARRAY_LEN(sizes)]
                                                       : 1 + (int64_t)pqwg_below(&r, 3000);
        int mode = k % 6;
        int null_pct = (int)(k / 6 % 4) * 30; /* 0, 30, 60, 90 */
        if (k % 23 == 22)
            null_pct = 100; /* all null pages */
        struct ArrowSchema s;
        struct ArrowArray a;
        make_batch(&s, &a, &r, n, mode, null_pct);
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.split_floats = true;
        o.compression = codecs[k % POND_ARRAY_LEN(codecs)];
        /* no dictionary, a dictionary that falls back part way, or the default */
        o.dictionary_bytes = k % 3 == 0 ? 0 : k % 3 == 1 ? 256 : o.dictionary_bytes;
        o.page_bytes = k % 2 ? 512 : o.page_bytes; /* many pages, or one */
        o.row_group_rows = k % 5 == 0 ? 200 : o.row_group_rows;
        pond_buf file = POND_BUF_INIT;
        write_mem(&file, &s, &a, &o);
        char what[64];
        snprintf(what, sizeof what, "case %d (n %" PRId64 ", mode %d, nulls %d%%)", k, n, mode,
                 null_pct);
        check_read_back(&file, &a, what);

        /* without a dictionary, every column with a value uses the new encodings; and the
         * statistics are those PLAIN gives */
        if (o.dictionary_bytes == 0) {
            pond_parquet_writer_options p = o;
            p.delta_ints = false;
            p.split_floats = false;
            pond_buf plain = POND_BUF_INIT;
            write_mem(&plain, &s, &a, &p);
            check_read_back(&plain, &a, what);
            for (int c = 0; c < NCOL; c++) {
                pq_arena ar1 = {0}, ar2 = {0};
                pq_file_meta f1, f2;
                pq_statistics st1, st2;
                unsigned e1 = footer_encodings(&file, c, &st1, &ar1, &f1);
                unsigned e2 = footer_encodings(&plain, c, &st2, &ar2, &f2);
                int want = c == C_F32 || c == C_F64 ? PQ_ENC_BYTE_STREAM_SPLIT
                                                    : PQ_ENC_DELTA_BINARY_PACKED;
                bool any = a.children[c]->null_count < a.length;
                if (any && !(e1 & (1u << want)))
                    pt_fail(__FILE__, __LINE__, "%s: column %s lacks encoding %d", what,
                            col_name[c], want);
                PT_ASSERT(e2 & (1u << PQ_ENC_PLAIN));
                PT_ASSERT(!(e2 & (1u << want)));
                PT_ASSERT_INT_EQ(st1.null_count, st2.null_count);
                PT_ASSERT(same_bytes(st1.min_value, st2.min_value));
                PT_ASSERT(same_bytes(st1.max_value, st2.max_value));
                pond__arena_dispose(&ar1);
                pond__arena_dispose(&ar2);
            }
            pond_buf_dispose(&plain);
        }
        pond_buf_dispose(&file);
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&s);
    }
}

static void test_defaults_and_version_1_options(void)
{
    /* distinct integers fall back from the dictionary: DELTA_BINARY_PACKED by default, doubles
     * PLAIN by default; a version-1 options struct (which ends before delta_ints) gets the
     * default; delta_ints = false gives PLAIN */
    pqwg_rng r;
    pqwg_seed(&r, 7, NULL, 0);
    struct ArrowSchema s;
    struct ArrowArray a;
    make_batch(&s, &a, &r, 20000, 2, 0);
    for (int v = 0; v < 3; v++) {
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        if (v == 1) {
            o.version = 1;
            o.delta_ints = false; /* not read from a version-1 struct */
        }
        if (v == 2)
            o.delta_ints = false;
        pond_buf file = POND_BUF_INIT;
        write_mem(&file, &s, &a, &o);
        check_read_back(&file, &a, v == 1 ? "version 1" : "defaults");
        pq_arena ar = {0};
        pq_file_meta fm;
        unsigned ts = footer_encodings(&file, C_TS, NULL, &ar, &fm);
        pond__arena_dispose(&ar);
        unsigned f64 = footer_encodings(&file, C_F64, NULL, &ar, &fm);
        pond__arena_dispose(&ar);
        PT_ASSERT_INT_EQ(!!(ts & (1u << PQ_ENC_DELTA_BINARY_PACKED)), v < 2);
        PT_ASSERT_INT_EQ(!!(ts & (1u << PQ_ENC_PLAIN)), v == 2);
        PT_ASSERT(!(f64 & (1u << PQ_ENC_BYTE_STREAM_SPLIT)));
        pond_buf_dispose(&file);
    }
    /* an unknown options version is refused */
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.version = POND_PARQUET_WRITER_OPTIONS_VERSION + 1;
    pond_buf out = POND_BUF_INIT;
    pond_parquet_sink sink = {mem_write, NULL, &out};
    pond_parquet_writer *w = NULL;
    PT_ASSERT_ERR(pond_parquet_writer_new(&w, &sink, &s, &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("options version");
    pond_buf_dispose(&out);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

static void test_timestamps_shrink(void)
{
    /* the reason for the default: 1 s timestamps take a few bytes per page instead of 8 per
     * value (before compression) */
    pqwg_rng r;
    pqwg_seed(&r, 11, NULL, 0);
    struct ArrowSchema s;
    struct ArrowArray a;
    make_batch(&s, &a, &r, 50000, 6, 0); /* i64 in clean steps too */
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.compression = POND_PARQUET_COMPRESS_NONE;
    pond_buf file = POND_BUF_INIT;
    write_mem(&file, &s, &a, &o);
    pq_arena ar = {0};
    pq_file_meta fm;
    footer_encodings(&file, C_TS, NULL, &ar, &fm);
    int64_t bytes = 0;
    for (uint32_t g = 0; g < fm.n_row_groups; g++)
        bytes += fm.row_groups[g].columns[C_TS].meta_data.total_uncompressed_size;
    pond__arena_dispose(&ar);
    /* jitter of 0..2: 2 bits a value (plus block headers), not 64 */
    if (bytes * 16 > 50000 * 8)
        pt_fail(__FILE__, __LINE__, "ts column takes %" PRId64 " bytes for 50000 values", bytes);
    pond_buf_dispose(&file);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

PT_SUITE(pq_write_encodings, PT_TEST(round_trip_property), PT_TEST(defaults_and_version_1_options),
         PT_TEST(timestamps_shrink))
