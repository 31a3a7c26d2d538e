/* adaptive_codec: a column chunk whose codec saves less than 1/8 of its first data pages'
 * bytes (the pages until their bodies reach 192 KiB) is stored UNCOMPRESSED. The rule is checked against the
 * pages of the same data written with the codec forced on (the ratio the writer saw), at its
 * edge, on the first pages only, on small chunks, with dictionaries, and with the option off or
 * an older options struct. Every file is read back row for row. */
#include "pt.h"

#include <pond/arrow.h>
#include <pond/parquet.h>

#include "parquet/pq_meta.h"
#include "parquet/pq_thrift.h"
#include "util/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TRIAL ((int64_t)192 << 10)

static int mem_write(const void *data, size_t len, void *payload)
{
    return pond_buf_put(payload, data, len);
}

static uint64_t rng_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One double column "x" (nullable when null_every > 0: every null_every-th row null): value i
 * is val(i). */
typedef double (*val_fn)(int64_t i, uint64_t *rng, void *arg);

static void make_doubles(struct ArrowSchema *s, struct ArrowArray *a, int64_t n, val_fn val,
                         void *arg, int null_every)
{
    PT_ASSERT_OK(pond_arrow_schema_init(s, "+s", "", 0, 1));
    PT_ASSERT_OK(
        pond_arrow_schema_init(s->children[0], "g", "x", null_every ? ARROW_FLAG_NULLABLE : 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(a, n, 0, 1, 1));
    pond_arrow_builder *b;
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "g"));
    uint64_t rng = 42;
    for (int64_t i = 0; i < n; i++) {
        if (null_every && i % null_every == 3)
            PT_ASSERT_OK(pond_arrow_builder_append_null(b));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_double(b, val(i, &rng, arg)));
    }
    PT_ASSERT_OK(pond_arrow_builder_finish(a->children[0], b));
    pond_arrow_builder_free(b);
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

static void footer(pq_file_meta *fm, pq_arena *ar, const pond_buf *file)
{
    uint32_t len;
    memcpy(&len, file->ptr + file->size - 8, 4);
    pq_tdec d;
    pond_pq_tdec_init(&d, (const uint8_t *)file->ptr + file->size - 8 - len, len, 0, "footer");
    PT_ASSERT_OK(pond_pq_decode_file_meta(fm, ar, &d));
}

/* The trial's body bytes of a chunk written with the codec forced on: its data pages in order
 * until their uncompressed bodies reach 192 KiB (what the writer judged). */
static void trial_bytes(const pond_buf *file, const pq_column_meta *m, int64_t *raw, int64_t *comp)
{
    int64_t off = m->dictionary_page_offset >= 0 && m->dictionary_page_offset < m->data_page_offset
                      ? m->dictionary_page_offset
                      : m->data_page_offset;
    int64_t end = off + m->total_compressed_size;
    *raw = *comp = 0;
    while (off < end && *raw < TRIAL) {
        pq_tdec d;
        pond_pq_tdec_init(&d, (const uint8_t *)file->ptr + off, (size_t)(end - off), off, "page");
        pq_page_header h;
        PT_ASSERT_OK(pond_pq_decode_page_header(&h, &d));
        size_t hl = (size_t)(d.p - ((const uint8_t *)file->ptr + off));
        if (h.type == PQ_PAGE_DATA) {
            *raw += h.uncompressed_page_size;
            *comp += h.compressed_page_size;
        }
        off += (int64_t)hl + h.compressed_page_size;
    }
}

/* The rows read back by pond's reader are the rows written. */
static void check_rows(const pond_buf *file, const struct ArrowSchema *s,
                       const struct ArrowArray *a)
{
    pond_buf want = POND_BUF_INIT, got = POND_BUF_INIT;
    PT_ASSERT_OK(pond_arrow_canon_batch(&want, s, a));
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file->ptr, file->size, NULL));
    struct ArrowSchema rs = {0};
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &rs));
    for (;;) {
        struct ArrowArray b = {0};
        int rc = pond_parquet_reader_next(r, &b);
        if (rc == POND_ITEROVER)
            break;
        PT_ASSERT_OK(rc);
        PT_ASSERT_OK(pond_arrow_canon_batch(&got, &rs, &b));
        pond_arrow_array_release(&b);
    }
    pond_arrow_schema_release(&rs);
    pond_parquet_reader_free(r);
    PT_ASSERT_INT_EQ(got.size, want.size);
    PT_ASSERT(memcmp(got.ptr, want.ptr, want.size) == 0);
    pond_buf_dispose(&want);
    pond_buf_dispose(&got);
}

/* ---------------------------------------------------------------- the rule at its edge */

/* Random doubles, each repeated from the previous value with probability 1 - p/1000: zstd
 * turns a repeat into a short match, so the ratio moves smoothly with p. */
typedef struct {
    unsigned p;
    double last;
} repeat_arg;

static double repeat_val(int64_t i, uint64_t *rng, void *arg)
{
    repeat_arg *ra = arg;
    if (i == 0 || rng_next(rng) % 1000 < ra->p) {
        uint64_t bits = rng_next(rng) >> 2; /* finite, positive */
        memcpy(&ra->last, &bits, 8);
    }
    return ra->last;
}

static void test_edge_of_one_eighth(void)
{
    /* For each p the same rows are written with the rule off (giving the codec's ratio on the
     * trial pages) and on; the chunk is raw exactly when compressed * 8 > raw * 7. The sweep
     * (the edge is near p = 860, ratio 0.875) holds chunks on both sides within 0.3% of it.
     * Light runs (valgrind) take the two values of p on each side nearest the edge and 32,768
     * rows: the trial's pages are the same first 24,576 rows, so the ratios are the same, and
     * one 64 KiB page follows the trial. */
    double best_keep = 1, best_raw = 1;
    int keeps = 0, raws = 0;
    unsigned p_first = pt_light() ? 858 : 848, p_last = pt_light() ? 864 : 872;
    for (unsigned p = p_first; p <= p_last; p += 2) {
        struct ArrowSchema s;
        struct ArrowArray a;
        repeat_arg ra = {p, 0};
        make_doubles(&s, &a, pt_light() ? 32768 : 40000, repeat_val, &ra, 0);
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.compression_level = 1;
        o.page_bytes = (size_t)64 << 10;
        o.dictionary_bytes = 0;
        pond_buf on = POND_BUF_INIT, off = POND_BUF_INIT;
        write_mem(&on, &s, &a, &o);
        o.adaptive_codec = false;
        write_mem(&off, &s, &a, &o);
        pq_arena ar = {0};
        pq_file_meta fon, foff;
        footer(&fon, &ar, &on);
        footer(&foff, &ar, &off);
        PT_ASSERT_INT_EQ(fon.n_row_groups, 1);
        const pq_column_meta *mon = &fon.row_groups[0].columns[0].meta_data;
        const pq_column_meta *moff = &foff.row_groups[0].columns[0].meta_data;
        PT_ASSERT_INT_EQ(moff->codec, PQ_CODEC_ZSTD);
        int64_t raw, comp;
        trial_bytes(&off, moff, &raw, &comp);
        PT_ASSERT(raw >= TRIAL && raw < TRIAL + (64 << 10)); /* 64 KiB pages: several */
        bool keep = comp * 8 <= raw * 7;
        double ratio = (double)comp / (double)raw;
        if (mon->codec != (keep ? PQ_CODEC_ZSTD : PQ_CODEC_UNCOMPRESSED))
            pt_fail(__FILE__, __LINE__, "p %u: ratio %.4f, chunk codec %d", p, ratio, mon->codec);
        if (keep) {
            keeps++;
            best_keep = POND_MIN(best_keep, 0.875 - ratio);
            PT_ASSERT_INT_EQ(mon->total_compressed_size, moff->total_compressed_size);
        } else {
            raws++;
            best_raw = POND_MIN(best_raw, ratio - 0.875);
            /* stored raw: both sizes are the uncompressed bytes */
            PT_ASSERT_INT_EQ(mon->total_compressed_size, mon->total_uncompressed_size);
            PT_ASSERT(mon->total_compressed_size > moff->total_compressed_size);
        }
        check_rows(&on, &s, &a);
        pond__arena_dispose(&ar);
        pond_buf_dispose(&on);
        pond_buf_dispose(&off);
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&s);
    }
    PT_ASSERT(keeps > 0 && raws > 0);
    if (best_keep > 0.003 || best_raw > 0.003)
        pt_fail(__FILE__, __LINE__, "no chunk near the edge: %.4f below, %.4f above", best_keep,
                best_raw);
}

/* ---------------------------------------------------------------- the first pages decide */

static double half_random(int64_t i, uint64_t *rng, void *arg)
{
    int64_t cut = *(const int64_t *)arg;
    bool random = cut > 0 ? i < cut : i >= -cut;
    if (!random)
        return (double)(i / 1000);
    uint64_t bits = rng_next(rng) >> 2;
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

static void test_first_pages_decide(void)
{
    /* 131,072 rows (1 MiB of doubles) in 128 KiB pages, one chunk, the trial its first two
     * pages (~32,000 rows): random first and constant runs after stays raw (the constant rest
     * is not compressed either); constant first and random after keeps zstd. Nullable variants put definition levels in every page. */
    for (int k = 0; k < 4; k++) {
        if (pt_light() && (k == 1 || k == 2))
            continue; /* light runs (valgrind): one of each order, one of them nullable */
        int64_t cut = k % 2 == 0 ? 40000 : -40000;
        struct ArrowSchema s;
        struct ArrowArray a;
        make_doubles(&s, &a, 131072, half_random, &cut, k >= 2 ? 7 : 0);
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.page_bytes = (size_t)128 << 10;
        o.dictionary_bytes = 0;
        pond_buf file = POND_BUF_INIT;
        write_mem(&file, &s, &a, &o);
        pq_arena ar = {0};
        pq_file_meta fm;
        footer(&fm, &ar, &file);
        const pq_column_meta *m = &fm.row_groups[0].columns[0].meta_data;
        PT_ASSERT_INT_EQ(m->codec, cut > 0 ? PQ_CODEC_UNCOMPRESSED : PQ_CODEC_ZSTD);
        if (cut > 0)
            PT_ASSERT(m->total_compressed_size > 131072 * 8 * 6 / 7);
        check_rows(&file, &s, &a);
        pond__arena_dispose(&ar);
        pond_buf_dispose(&file);
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&s);
    }
}

static void test_small_chunks_and_row_groups(void)
{
    /* chunks smaller than the trial are judged whole, at the row group's end; each row group's
     * chunk on its own: 3,000-row groups alternate random and constant values */
    int64_t cut = 3000;
    struct ArrowSchema s;
    struct ArrowArray a;
    /* rows [0, 3000) random, [3000, 12000) constant runs */
    make_doubles(&s, &a, 12000, half_random, &cut, 0);
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.row_group_rows = 3000;
    o.dictionary_bytes = 0; /* constant runs PLAIN, not a few bytes of indices */
    pond_buf file = POND_BUF_INIT;
    write_mem(&file, &s, &a, &o);
    pq_arena ar = {0};
    pq_file_meta fm;
    footer(&fm, &ar, &file);
    PT_ASSERT_INT_EQ(fm.n_row_groups, 4);
    for (uint32_t g = 0; g < 4; g++)
        PT_ASSERT_INT_EQ(fm.row_groups[g].columns[0].meta_data.codec,
                         g == 0 ? PQ_CODEC_UNCOMPRESSED : PQ_CODEC_ZSTD);
    check_rows(&file, &s, &a);
    pond__arena_dispose(&ar);
    pond_buf_dispose(&file);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

/* 256 distinct values in random order: a dictionary pays (8 bytes per value down to 8 bits),
 * but its bit-packed indices (random bytes) do not shrink: the chunk, dictionary page
 * included, is raw. */
static double dict_val(int64_t i, uint64_t *rng, void *arg)
{
    (void)i;
    (void)arg;
    uint64_t k = rng_next(rng) % 256;
    return (double)k * 1.2345678901234567;
}

static void test_dictionary_chunk_raw(void)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    /* light runs (valgrind): 220,000 rows, whose one-byte indices still pass the trial's 192 KiB */
    int64_t n = pt_light() ? 220000 : 300000;
    make_doubles(&s, &a, n, dict_val, NULL, 0);
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.row_group_rows = n; /* 1 MiB pages: the first page keeps the dictionary */
    pond_buf file = POND_BUF_INIT;
    write_mem(&file, &s, &a, &o);
    pq_arena ar = {0};
    pq_file_meta fm;
    footer(&fm, &ar, &file);
    const pq_column_meta *m = &fm.row_groups[0].columns[0].meta_data;
    PT_ASSERT(m->dictionary_page_offset > 0);
    PT_ASSERT_INT_EQ(m->codec, PQ_CODEC_UNCOMPRESSED);
    /* the dictionary page is stored raw too (its header says so) */
    pq_tdec d;
    pond_pq_tdec_init(&d, (const uint8_t *)file.ptr + m->dictionary_page_offset,
                      file.size - (size_t)m->dictionary_page_offset, m->dictionary_page_offset,
                      "page");
    pq_page_header h;
    PT_ASSERT_OK(pond_pq_decode_page_header(&h, &d));
    PT_ASSERT_INT_EQ(h.type, PQ_PAGE_DICTIONARY);
    PT_ASSERT_INT_EQ(h.compressed_page_size, h.uncompressed_page_size);
    PT_ASSERT_INT_EQ(h.dict.num_values, 256);
    check_rows(&file, &s, &a);
    pond__arena_dispose(&ar);
    pond_buf_dispose(&file);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

static void test_option_off_and_version_2(void)
{
    /* adaptive_codec = false keeps the codec on every chunk; a version-2 options struct (which
     * ends before adaptive_codec) gets the default (on); NONE stays NONE */
    int64_t cut = pt_light() ? 30000 : 50000; /* light: 240 KB, still more than the trial */
    struct ArrowSchema s;
    struct ArrowArray a;
    make_doubles(&s, &a, cut, half_random, &cut, 0); /* all random */
    for (int v = 0; v < 4; v++) {
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.compression = v == 3 ? POND_PARQUET_COMPRESS_NONE : POND_PARQUET_COMPRESS_SNAPPY;
        if (v == 1)
            o.adaptive_codec = false;
        if (v == 2) {
            o.version = 2;
            o.adaptive_codec = false; /* not read from a version-2 struct */
        }
        pond_buf file = POND_BUF_INIT;
        write_mem(&file, &s, &a, &o);
        pq_arena ar = {0};
        pq_file_meta fm;
        footer(&fm, &ar, &file);
        int want = v == 1 ? PQ_CODEC_SNAPPY : PQ_CODEC_UNCOMPRESSED;
        PT_ASSERT_INT_EQ(fm.row_groups[0].columns[0].meta_data.codec, want);
        check_rows(&file, &s, &a);
        pond__arena_dispose(&ar);
        pond_buf_dispose(&file);
    }
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

PT_SUITE(pq_write_codec, PT_TEST(edge_of_one_eighth), PT_TEST(first_pages_decide),
         PT_TEST(small_chunks_and_row_groups), PT_TEST(dictionary_chunk_raw),
         PT_TEST(option_off_and_version_2))
