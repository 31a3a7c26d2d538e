/* Small Parquet files assembled byte by byte (metadata through our Thrift encoder, page bodies
 * by hand), to reach paths the corpus does not: deprecated BIT_PACKED levels, CRCs, lying
 * counts, out-of-range dictionary indices, mismatched column lengths. */
#include "pt.h"

#include "parquet/pq_codec.h"
#include "parquet/pq_meta.h"

#include <pond/arrow.h>
#include <pond/parquet.h>

#include <zlib.h>

#define B(s) ((pq_bytes){(const uint8_t *)(s), sizeof(s) - 1})

typedef struct {
    int type; /* PQ_PAGE_* */
    int encoding;
    int32_t num_values;
    int def_encoding;
    const void *body;
    size_t len;
    bool crc, bad_crc;
} page_spec;

static int g_codec = PQ_CODEC_UNCOMPRESSED;
static int g_size_delta;         /* added to the declared uncompressed size of data pages */
static size_t g_cut;             /* bytes cut from the end of compressed data pages */
static const char *g_created_by; /* the footer's created_by (NULL: none) */

/* One optional INT32 column "x" (max_def 1) per file; pages as given. */
static void build_file(pond_buf *out, const page_spec *pages, int n_pages, int64_t rows,
                       int64_t meta_values, int physical, int repetition)
{
    pond_buf_clear(out);
    PT_ASSERT_OK(pond_buf_put(out, "PAR1", 4));
    int64_t start = 4, total_values = 0;
    pq_tenc e;
    for (int i = 0; i < n_pages; i++) {
        const page_spec *p = &pages[i];
        pq_page_header h;
        memset(&h, 0, sizeof h);
        h.type = p->type;
        uint8_t *comp = NULL;
        size_t clen = p->len;
        const void *stored = p->body;
        if (g_codec != PQ_CODEC_UNCOMPRESSED) {
            PT_ASSERT_OK(pond_pq_compress(g_codec, p->body, p->len, &comp, &clen));
            stored = comp;
            if (p->type != PQ_PAGE_DICTIONARY)
                clen -= g_cut;
        }
        h.uncompressed_page_size =
            (int32_t)p->len + (p->type != PQ_PAGE_DICTIONARY ? g_size_delta : 0);
        h.compressed_page_size = (int32_t)clen;
        if (p->crc) {
            h.has_crc = true;
            h.crc = (int32_t)(uint32_t)crc32(0, stored, (uInt)clen) ^ (p->bad_crc ? 1 : 0);
        }
        if (p->type == PQ_PAGE_DICTIONARY) {
            h.has_dict = true;
            h.dict.num_values = p->num_values;
            h.dict.encoding = PQ_ENC_PLAIN;
        } else {
            h.has_data = true;
            h.data.num_values = p->num_values;
            h.data.encoding = p->encoding;
            h.data.def_encoding = p->def_encoding;
            h.data.rep_encoding = PQ_ENC_RLE;
            total_values += p->num_values;
        }
        pond_pq_tenc_init(&e, out);
        pond_pq_encode_page_header(&e, &h);
        PT_ASSERT_OK(e.rc);
        PT_ASSERT_OK(pond_buf_put(out, stored, clen));
        pond_free(comp);
    }
    int64_t chunk_len = (int64_t)out->size - start;
    pq_schema_element el[2];
    memset(el, 0, sizeof el);
    for (int i = 0; i < 2; i++) {
        el[i].type = -1;
        el[i].repetition = -1;
        el[i].converted_type = -1;
        el[i].scale = el[i].precision = -1;
    }
    el[0].name = B("schema");
    el[0].num_children = 1;
    el[1].name = B("x");
    el[1].type = physical;
    el[1].repetition = repetition;
    int32_t encs[2] = {PQ_ENC_PLAIN, PQ_ENC_RLE};
    pq_bytes path = B("x");
    pq_column_chunk cc;
    memset(&cc, 0, sizeof cc);
    cc.file_offset = start;
    cc.has_meta_data = true;
    cc.offset_index_offset = cc.column_index_offset = -1;
    pq_column_meta *cm = &cc.meta_data;
    cm->type = physical;
    cm->n_encodings = 2;
    cm->encodings = encs;
    cm->n_path = 1;
    cm->path = &path;
    cm->codec = g_codec;
    cm->num_values = meta_values >= 0 ? meta_values : total_values;
    cm->total_uncompressed_size = cm->total_compressed_size = chunk_len;
    cm->data_page_offset = start;
    cm->index_page_offset = cm->dictionary_page_offset = -1;
    cm->bloom_filter_offset = -1;
    cm->bloom_filter_length = -1;
    if (n_pages && pages[0].type == PQ_PAGE_DICTIONARY)
        cm->dictionary_page_offset = start;
    pq_row_group rg;
    memset(&rg, 0, sizeof rg);
    rg.n_columns = 1;
    rg.columns = &cc;
    rg.num_rows = rows;
    rg.total_byte_size = chunk_len;
    rg.file_offset = rg.total_compressed_size = -1;
    rg.ordinal = -1;
    pq_file_meta m;
    memset(&m, 0, sizeof m);
    m.version = 1;
    m.n_schema = 2;
    m.schema = el;
    m.num_rows = rows;
    m.n_row_groups = 1;
    m.row_groups = &rg;
    if (g_created_by) {
        m.created_by.ptr = (const uint8_t *)g_created_by;
        m.created_by.len = strlen(g_created_by);
    }
    size_t fstart = out->size;
    pond_pq_tenc_init(&e, out);
    pond_pq_encode_file_meta(&e, &m);
    PT_ASSERT_OK(e.rc);
    uint32_t flen = (uint32_t)(out->size - fstart);
    PT_ASSERT_OK(pond_buf_put(out, &flen, 4));
    PT_ASSERT_OK(pond_buf_put(out, "PAR1", 4));
}

static int read_text(pond_buf *text, const pond_buf *file)
{
    pond_parquet_reader *r = NULL;
    int rc = pond_parquet_reader_open_memory(&r, file->ptr, file->size, NULL);
    pond_buf_clear(text);
    if (rc == 0) {
        struct ArrowSchema s;
        struct ArrowArray a;
        PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
        while ((rc = pond_parquet_reader_next(r, &a)) == 0) {
            PT_ASSERT_OK(pond_arrow_array_validate(&s, &a));
            PT_ASSERT_OK(pond_arrow_canon_batch(text, &s, &a));
            pond_arrow_array_release(&a);
        }
        if (rc == POND_ITEROVER)
            rc = 0;
        pond_arrow_schema_release(&s);
    }
    pond_parquet_reader_free(r);
    return rc;
}

/* def levels 1,0,1,1 as RLE (length-prefixed): bit-packed run of one group */
static const uint8_t rle_defs_and_values[] = {
    2,  0, 0, 0, 0x03, 0x0d, /* len 2: header (1 group, bit-packed), bits 1011 */
    10, 0, 0, 0, 30,   0,    0, 0, 40, 0, 0, 0,
};

static void test_plain_with_rle_levels(void)
{
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    page_spec p = {
        PQ_PAGE_DATA, PQ_ENC_PLAIN, 4, PQ_ENC_RLE, rle_defs_and_values, sizeof rle_defs_and_values,
        true,         false};
    build_file(&f, &p, 1, 4, -1, PQ_INT32, PQ_OPTIONAL);
    PT_ASSERT_OK(read_text(&t, &f));
    PT_ASSERT_STR_EQ(t.ptr, "i10\nN\ni30\ni40\n");
    /* the same page with a wrong CRC is refused; with skip_crc it reads */
    p.bad_crc = true;
    build_file(&f, &p, 1, 4, -1, PQ_INT32, PQ_OPTIONAL);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("page CRC mismatch");
    PT_ASSERT_MSG_HAS("column 'x'");
    pond_parquet_reader *r;
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.skip_crc = true;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, f.ptr, f.size, &o));
    struct ArrowArray a;
    PT_ASSERT_OK(pond_parquet_reader_next(r, &a));
    PT_ASSERT_INT_EQ(a.children[0]->null_count, 1);
    pond_arrow_array_release(&a);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

/* Reads the bad-CRC page of rle_defs_and_values with skip_crc_created_by = prefix:
 * 0 when the page was read, the reader's error otherwise. */
static int read_bad_crc(const char *created_by, const char *prefix)
{
    pond_buf f = POND_BUF_INIT;
    page_spec p = {
        PQ_PAGE_DATA, PQ_ENC_PLAIN, 4, PQ_ENC_RLE, rle_defs_and_values, sizeof rle_defs_and_values,
        true,         true};
    g_created_by = created_by;
    build_file(&f, &p, 1, 4, -1, PQ_INT32, PQ_OPTIONAL);
    g_created_by = NULL;
    pond_parquet_reader *r = NULL;
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.skip_crc_created_by = prefix;
    int rc = pond_parquet_reader_open_memory(&r, f.ptr, f.size, &o);
    struct ArrowArray a;
    if (rc == 0 && (rc = pond_parquet_reader_next(r, &a)) == 0) {
        PT_ASSERT_INT_EQ(a.length, 4);
        PT_ASSERT_INT_EQ(a.children[0]->null_count, 1);
        pond_arrow_array_release(&a);
    }
    pond_parquet_reader_free(r);
    pond_buf_dispose(&f);
    return rc;
}

/* skip_crc_created_by skips the CRCs only of the files whose writer it names: pond's own
 * versions are verified by their SHA-256, a file from elsewhere keeps its CRC check. */
static void test_skip_crc_created_by(void)
{
    const char *pond = POND_PARQUET_CREATED_BY_PREFIX "0.9.0";
    PT_ASSERT_OK(read_bad_crc(pond, POND_PARQUET_CREATED_BY_PREFIX));
    PT_ASSERT_ERR(read_bad_crc(pond, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("page CRC mismatch");
    PT_ASSERT_ERR(read_bad_crc("parquet-mr version 1.13.1", POND_PARQUET_CREATED_BY_PREFIX),
                  POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("page CRC mismatch");
    PT_ASSERT_ERR(read_bad_crc(NULL, POND_PARQUET_CREATED_BY_PREFIX), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("page CRC mismatch");
    PT_ASSERT_ERR(read_bad_crc("pond", POND_PARQUET_CREATED_BY_PREFIX), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("page CRC mismatch");
}

static void test_bit_packed_levels(void)
{
    /* deprecated BIT_PACKED def levels, MSB first: 1,0,1,1 -> 1011 0000 */
    const uint8_t body[] = {0xb0, 10, 0, 0, 0, 30, 0, 0, 0, 40, 0, 0, 0};
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    page_spec p = {PQ_PAGE_DATA, PQ_ENC_PLAIN, 4,     PQ_ENC_BIT_PACKED,
                   body,         sizeof body,  false, false};
    build_file(&f, &p, 1, 4, -1, PQ_INT32, PQ_OPTIONAL);
    PT_ASSERT_OK(read_text(&t, &f));
    PT_ASSERT_STR_EQ(t.ptr, "i10\nN\ni30\ni40\n");
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

static void test_dictionary_pages(void)
{
    const int32_t dict[3] = {100, 200, 300};
    /* required column: no levels; indices bit width 2: RLE run 2 x idx2, then bit-packed 0,1 */
    const uint8_t data[] = {2, 0x04, 0x02, 0x03, 0x04, 0x00};
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    page_spec p[2] = {
        {PQ_PAGE_DICTIONARY, PQ_ENC_PLAIN, 3, PQ_ENC_RLE, dict, sizeof dict, true, false},
        {PQ_PAGE_DATA, PQ_ENC_RLE_DICTIONARY, 4, PQ_ENC_RLE, data, sizeof data, false, false}};
    build_file(&f, p, 2, 4, -1, PQ_INT32, PQ_REQUIRED);
    PT_ASSERT_OK(read_text(&t, &f));
    PT_ASSERT_STR_EQ(t.ptr, "i300\ni300\ni100\ni200\n");
    /* an index past the dictionary */
    const uint8_t bad[] = {2, 0x02, 0x03};
    p[1].body = bad;
    p[1].len = sizeof bad;
    p[1].num_values = 1;
    build_file(&f, p, 2, 1, -1, PQ_INT32, PQ_REQUIRED);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("dictionary index out of range");
    /* a data page without its dictionary */
    build_file(&f, &p[1], 1, 1, -1, PQ_INT32, PQ_REQUIRED);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("without a dictionary page");
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

static void test_lying_counts(void)
{
    const int32_t vals[2] = {7, 8};
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    page_spec p = {PQ_PAGE_DATA, PQ_ENC_PLAIN, 2, PQ_ENC_RLE, vals, sizeof vals, false, false};
    build_file(&f, &p, 1, 2, -1, PQ_INT32, PQ_REQUIRED);
    PT_ASSERT_OK(read_text(&t, &f));
    PT_ASSERT_STR_EQ(t.ptr, "i7\ni8\n");
    /* the page claims more values than its bytes hold */
    p.num_values = 3;
    build_file(&f, &p, 1, 3, -1, PQ_INT32, PQ_REQUIRED);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("shorter than the value count");
    /* the chunk metadata claims more values than the pages hold */
    p.num_values = 2;
    build_file(&f, &p, 1, 2, 5, PQ_INT32, PQ_REQUIRED);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("holds 2 values, its metadata says 5");
    /* the row group claims more rows than the column has */
    build_file(&f, &p, 1, 3, -1, PQ_INT32, PQ_REQUIRED);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("has 2 rows, the row group says 3");
    /* a page claiming 2^31-1 values is refused by the allocation limit, not allocated */
    p.num_values = INT32_MAX;
    build_file(&f, &p, 1, 2, -1, PQ_INT32, PQ_REQUIRED);
    pond_alloc_reset_peak();
    size_t base = pond_alloc_current();
    int rc = read_text(&t, &f);
    PT_ASSERT(rc == POND_ECORRUPT || rc == POND_EUNSUPPORTED);
    PT_ASSERT(pond_alloc_peak() - base < ((size_t)64 << 20));
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

static void test_boolean_rle_and_plain(void)
{
    /* RLE booleans: 4-byte length, then runs: 3 x true, 2 x false */
    const uint8_t rle[] = {4, 0, 0, 0, 0x06, 0x01, 0x04, 0x00};
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    page_spec p = {PQ_PAGE_DATA, PQ_ENC_RLE, 5, PQ_ENC_RLE, rle, sizeof rle, false, false};
    build_file(&f, &p, 1, 5, -1, PQ_BOOLEAN, PQ_REQUIRED);
    PT_ASSERT_OK(read_text(&t, &f));
    PT_ASSERT_STR_EQ(t.ptr, "T\nT\nT\nF\nF\n");
    const uint8_t plain[] = {0x05}; /* 1,0,1 */
    page_spec q = {PQ_PAGE_DATA, PQ_ENC_PLAIN, 3, PQ_ENC_RLE, plain, sizeof plain, false, false};
    build_file(&f, &q, 1, 3, -1, PQ_BOOLEAN, PQ_REQUIRED);
    PT_ASSERT_OK(read_text(&t, &f));
    PT_ASSERT_STR_EQ(t.ptr, "T\nF\nT\n");
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

/* a zstd page large enough for the direct-to-column path, with its failure modes */
static void test_zstd_plain_pages(void)
{
    enum { N = 1200 };
    uint8_t body[4 + 3 + 4 * N];
    memcpy(body, "\x03\x00\x00\x00\xe0\x12\x01", 7); /* RLE run of 1200 x def 1 */
    for (int i = 0; i < N; i++) {
        int32_t v = i * 3 - 7;
        memcpy(body + 7 + 4 * i, &v, 4);
    }
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    page_spec p = {PQ_PAGE_DATA, PQ_ENC_PLAIN, N, PQ_ENC_RLE, body, sizeof body, true, false};
    int codecs[] = {PQ_CODEC_ZSTD, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP};
    for (int c = 0; c < 3; c++) {
        g_codec = codecs[c];
        build_file(&f, &p, 1, N, -1, PQ_INT32, PQ_OPTIONAL);
        PT_ASSERT_OK(read_text(&t, &f));
        PT_ASSERT(!strncmp(t.ptr, "i-7\ni-4\ni-1\n", 12));
        PT_ASSERT(strstr(t.ptr, "\ni3590\n") != NULL);
        PT_ASSERT_INT_EQ(t.size, strlen(t.ptr));
    }
    g_codec = PQ_CODEC_ZSTD;
    /* the declared size is larger than the data */
    g_size_delta = 8;
    build_file(&f, &p, 1, N, -1, PQ_INT32, PQ_OPTIONAL);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    /* smaller than the data */
    g_size_delta = -8;
    build_file(&f, &p, 1, N, -1, PQ_INT32, PQ_OPTIONAL);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    g_size_delta = 0;
    /* truncated compressed data */
    g_cut = 5;
    build_file(&f, &p, 1, N, -1, PQ_INT32, PQ_OPTIONAL);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    g_cut = 0;
    g_codec = PQ_CODEC_UNCOMPRESSED;
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

PT_SUITE(pq_crafted, PT_TEST(zstd_plain_pages), PT_TEST(plain_with_rle_levels),
         PT_TEST(skip_crc_created_by), PT_TEST(bit_packed_levels), PT_TEST(dictionary_pages),
         PT_TEST(lying_counts), PT_TEST(boolean_rle_and_plain))
