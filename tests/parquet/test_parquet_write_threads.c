/* The Parquet writer on several threads: the bytes written do not depend on the thread count,
 * and an error found on a worker is reported like the single-threaded writer reports it. */
#include "pt.h"

#include <pond/arrow.h>
#include <pond/parquet.h>

#include "parquet/parquet_write.h"
#include "test_parquet_write_gen.h"
#include "util/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int mem_write(const void *data, size_t len, void *payload)
{
    return pond_buf_put(payload, data, len);
}

/* Write the batches with `threads` threads into out; *par_out = steps split across threads. */
static int write_threads(pond_buf *out, int64_t *par_out, const struct ArrowSchema *s,
                         const struct ArrowArray *batches, int n, pond_parquet_writer_options o,
                         int threads)
{
    pond_parquet_sink sink = {mem_write, NULL, out};
    pond_parquet_writer *w = NULL;
    o.threads = threads;
    int rc = pond_parquet_writer_new(&w, &sink, s, &o);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = pond_parquet_writer_write(w, &batches[i]);
    if (rc == 0)
        rc = pond_parquet_writer_finish(w);
    if (w)
        *par_out = pond_pqw__parallel_steps(w);
    pond_parquet_writer_free(w);
    return rc;
}

static void test_bytes_identical_at_1_2_4_threads(void)
{
    /* Random schemas (nested up to depth 2, nulls, every leaf kind the generator knows), every
     * codec, small pages and dictionaries so that pages, dictionary trials and fallbacks happen
     * inside parallel steps; several row groups, closed mid-batch. */
    static const pond_parquet_compression codecs[] = {
        POND_PARQUET_COMPRESS_ZSTD, POND_PARQUET_COMPRESS_SNAPPY, POND_PARQUET_COMPRESS_GZIP,
        POND_PARQUET_COMPRESS_LZ4_RAW, POND_PARQUET_COMPRESS_NONE};
    int n_seeds = pt_light() ? 2 : 5;
    int64_t rows = pt_light() ? 6000 : 30000;
    int delta_seen = 0, split_seen = 0, raw_seen = 0, kept_seen = 0;
    for (int seed = 0; seed < n_seeds; seed++) {
        pqwg_rng r;
        pqwg_seed(&r, 0x5eed0000u + (uint64_t)seed, NULL, 0);
        struct ArrowSchema s;
        /* seed 1: every leaf a double (BYTE_STREAM_SPLIT once a dictionary falls back) */
        int leaf = -1;
        for (int f = 0; seed == 1 && pqwg_leaf_formats[f]; f++)
            if (!strcmp(pqwg_leaf_formats[f], "g"))
                leaf = f;
        PT_ASSERT_OK(pqwg_schema(&s, &r, 10, seed == 0 ? 0 : 2, leaf));
        struct ArrowArray b[3];
        for (int i = 0; i < 3; i++)
            PT_ASSERT_OK(pqwg_batch(&b[i], &s, &r, rows, i == 1 ? 7 : 0));
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.compression = codecs[seed % POND_ARRAY_LEN(codecs)];
        o.row_group_rows = rows * 2 / 3 + 1;
        o.page_bytes = (size_t)16 << 10;
        o.dictionary_bytes = (size_t)(seed & 1 ? 8 : 64) << 10;
        o.split_floats = true; /* DELTA_BINARY_PACKED is on by default */
        pond_buf one = POND_BUF_INIT;
        int64_t par = -1;
        PT_ASSERT_OK(write_threads(&one, &par, &s, b, 3, o, 1));
        PT_ASSERT_INT_EQ(par, 0);
        for (int threads = 2; threads <= 4; threads += 2) {
            pond_buf many = POND_BUF_INIT;
            PT_ASSERT_OK(write_threads(&many, &par, &s, b, 3, o, threads));
            if (par == 0)
                pt_fail(__FILE__, __LINE__, "seed %d, %d threads: no step ran in parallel", seed,
                        threads);
            if (many.size != one.size || memcmp(many.ptr, one.ptr, one.size) != 0) {
                size_t at = 0;
                while (at < one.size && at < many.size && one.ptr[at] == many.ptr[at])
                    at++;
                pt_fail(__FILE__, __LINE__,
                        "seed %d, %d threads: %zu bytes vs %zu, first difference at %zu", seed,
                        threads, many.size, one.size, at);
            }
            pond_buf_dispose(&many);
        }
        /* the file reads back: the rows are all there */
        pond_parquet_reader *rd;
        PT_ASSERT_OK(pond_parquet_reader_open_memory(&rd, one.ptr, one.size, NULL));
        PT_ASSERT_INT_EQ(pond_parquet_reader_num_rows(rd), 3 * rows);
        pond_buf desc = POND_BUF_INIT;
        PT_ASSERT_OK(pond_parquet_reader_describe(&desc, rd));
        pond_buf_putc(&desc, 0);
        delta_seen += strstr(desc.ptr, "DELTA_BINARY_PACKED") != NULL;
        split_seen += strstr(desc.ptr, "BYTE_STREAM_SPLIT") != NULL;
        if (o.compression != POND_PARQUET_COMPRESS_NONE) {
            /* adaptive_codec (the default): chunks the codec barely shrinks are stored raw */
            raw_seen += strstr(desc.ptr, " UNCOMPRESSED, ") != NULL;
            kept_seen +=
                strstr(desc.ptr, o.compression == POND_PARQUET_COMPRESS_ZSTD     ? " ZSTD, "
                                 : o.compression == POND_PARQUET_COMPRESS_SNAPPY ? " SNAPPY, "
                                 : o.compression == POND_PARQUET_COMPRESS_GZIP
                                     ? " GZIP, "
                                     : " LZ4_RAW, ") != NULL;
        }
        pond_buf_dispose(&desc);
        pond_parquet_reader_free(rd);
        pond_buf_dispose(&one);
        for (int i = 0; i < 3; i++)
            pond_arrow_array_release(&b[i]);
        pond_arrow_schema_release(&s);
    }
    /* the identical bytes covered both encodings, and files mixing a codec with raw chunks */
    PT_ASSERT(delta_seen > 0);
    PT_ASSERT(split_seen > 0);
    PT_ASSERT(raw_seen > 0);
    PT_ASSERT(kept_seen > 0);
}

static void test_worker_error_is_the_first_column_s(void)
{
    /* Seconds timestamps that overflow milliseconds in columns 2 and 5: whichever thread meets
     * one first, the writer reports column 2 (as the single-threaded writer does), stops, and
     * every later call fails the same way. */
    enum { NC = 8 };
    const int64_t rows = pt_light() ? 6000 : 20000;
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, NC));
    for (int c = 0; c < NC; c++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", c);
        PT_ASSERT_OK(pqwg_field(s.children[c], c == 2 || c == 5 ? "tss:UTC" : "l", name, false));
    }
    struct ArrowArray b;
    PT_ASSERT_OK(pond_arrow_array_init(&b, rows, 0, 1, NC));
    for (int c = 0; c < NC; c++) {
        pond_arrow_builder *bl;
        PT_ASSERT_OK(pond_arrow_builder_new(&bl, s.children[c]->format));
        for (int64_t i = 0; i < rows; i++) {
            bool bad = (c == 2 && i == rows - 3) || (c == 5 && i == 5);
            PT_ASSERT_OK(pond_arrow_builder_append_int(bl, bad ? INT64_MAX / 10 : i * 7 + c));
        }
        PT_ASSERT_OK(pond_arrow_builder_finish(b.children[c], bl));
        pond_arrow_builder_free(bl);
    }
    char want[256] = "";
    for (int threads = 1; threads <= 4; threads++) {
        pond_buf out = POND_BUF_INIT;
        pond_parquet_sink sink = {mem_write, NULL, &out};
        pond_parquet_writer *w;
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.threads = threads;
        PT_ASSERT_OK(pond_parquet_writer_new(&w, &sink, &s, &o));
        PT_ASSERT_ERR(pond_parquet_writer_write(w, &b), POND_EINVALID);
        PT_ASSERT_MSG_HAS("column 'c2'");
        if (threads == 1)
            snprintf(want, sizeof want, "%s", pond_error_last()->message);
        else
            PT_ASSERT_STR_EQ(pond_error_last()->message, want);
        PT_ASSERT_ERR(pond_parquet_writer_write(w, &b), POND_EINVALID);
        PT_ASSERT_ERR(pond_parquet_writer_finish(w), POND_EINVALID);
        if (threads > 1)
            PT_ASSERT(pond_pqw__parallel_steps(w) > 0);
        pond_parquet_writer_free(w);
        pond_buf_dispose(&out);
    }
    pond_arrow_array_release(&b);
    pond_arrow_schema_release(&s);
}

PT_SUITE(parquet_write_threads, PT_TEST(bytes_identical_at_1_2_4_threads),
         PT_TEST(worker_error_is_the_first_column_s))
