/* Reader leniency (issue 23): Parquet files that DuckDB, hyparquet and arrow read but a strict
 * reader refuses, and the limits of that leniency. Every file is assembled here, page by page,
 * with a hand-written footer that can give any field a wrong wire type:
 *   - data pages with nothing to decompress (a v2 all-null page whose value section is 0 bytes,
 *     for every codec; v1 and v2 pages of 0 values; all-null pages), and empty sections that
 *     claim a size, refused;
 *   - footers with a mistyped optional field (skipped with a warning) and with a mistyped
 *     required or decoding field (refused, naming the field);
 *   - dictionary offsets of 0, empty row groups; a row group without column chunks, refused.
 * With POND_INTEROP_DIR set, the files DuckDB should read and their expected digests are
 * written there (tests/parquet/interop.sh checks DuckDB reads the same rows from the same
 * bytes); the others go to pond_only/ and refused/ (seeds for the fuzz corpora). */
#include "pt.h"

#include "parquet/pq_codec.h"
#include "parquet/pq_meta.h"
#include "util/util.h"

#include <pond/arrow.h>
#include <pond/hash.h>
#include <pond/parquet.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- pages */

typedef struct {
    int kind;           /* PQ_PAGE_DATA, PQ_PAGE_DATA_V2, PQ_PAGE_DICTIONARY */
    int encoding;       /* of the values */
    int32_t num_values; /* levels (entries for a dictionary page) */
    int32_t num_nulls;  /* v2 */
    const uint8_t *def; /* RLE definition levels (no length prefix); NULL: required column */
    size_t def_len;
    const uint8_t *vals;
    size_t vals_len;
    /* Store the compressed part as 0 bytes: v2 the value section, v1 the whole body (their
     * declared sizes stay what they hold). */
    bool empty;
} lpage;

typedef struct {
    const char *name;
    int physical, repetition;
    bool string; /* BYTE_ARRAY annotated STRING */
    int codec;
    const lpage *pages;
    int n_pages;
    bool has_stats; /* int columns: min/max/null count */
    int64_t min, max, nulls;
    bool zero_dict_offset; /* write dictionary_page_offset 0 when there is no dictionary */
} lcol;

typedef struct {
    const lcol *cols;
    int n_cols; /* 0: a row group without column chunks */
    int64_t rows;
} lrg;

static bool can_compress(int codec) { return codec != PQ_CODEC_LZO && codec != PQ_CODEC_LZ4; }

static void put_compressed(pond_buf *out, int codec, const uint8_t *p, size_t n, size_t *stored)
{
    if (codec == PQ_CODEC_UNCOMPRESSED) {
        PT_ASSERT_OK(pond_buf_put(out, p, n));
        *stored = n;
        return;
    }
    PT_ASSERT(can_compress(codec));
    uint8_t *c = NULL;
    PT_ASSERT_OK(pond_pq_compress(codec, p, n, &c, stored));
    PT_ASSERT_OK(pond_buf_put(out, c, *stored));
    pond_free(c);
}

static void put_page(pond_buf *out, int codec, const lpage *p)
{
    pond_buf body = POND_BUF_INIT, raw = POND_BUF_INIT;
    pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = p->kind;
    size_t stored = 0;
    if (p->kind == PQ_PAGE_DATA_V2) {
        if (p->def)
            PT_ASSERT_OK(pond_buf_put(&body, p->def, p->def_len));
        if (!p->empty)
            put_compressed(&body, codec, p->vals, p->vals_len, &stored);
        h.has_data_v2 = true;
        h.data_v2.num_values = p->num_values;
        h.data_v2.num_nulls = p->num_nulls;
        h.data_v2.num_rows = p->num_values;
        h.data_v2.encoding = p->encoding;
        h.data_v2.def_levels_byte_length = (int32_t)p->def_len;
        h.data_v2.is_compressed = true;
        h.uncompressed_page_size = (int32_t)(p->def_len + p->vals_len);
        h.compressed_page_size = (int32_t)(p->def_len + stored);
    } else {
        if (p->def) {
            uint32_t n = (uint32_t)p->def_len;
            PT_ASSERT_OK(pond_buf_put(&raw, &n, 4));
            PT_ASSERT_OK(pond_buf_put(&raw, p->def, p->def_len));
        }
        if (p->vals_len)
            PT_ASSERT_OK(pond_buf_put(&raw, p->vals, p->vals_len));
        if (!p->empty)
            put_compressed(&body, codec, (const uint8_t *)raw.ptr, raw.size, &stored);
        h.uncompressed_page_size = (int32_t)raw.size;
        h.compressed_page_size = (int32_t)stored;
        if (p->kind == PQ_PAGE_DICTIONARY) {
            h.has_dict = true;
            h.dict.num_values = p->num_values;
            h.dict.encoding = PQ_ENC_PLAIN;
        } else {
            h.has_data = true;
            h.data.num_values = p->num_values;
            h.data.encoding = p->encoding;
            h.data.def_encoding = PQ_ENC_RLE;
            h.data.rep_encoding = PQ_ENC_RLE;
        }
    }
    pq_tenc e;
    pond_pq_tenc_init(&e, out);
    pond_pq_encode_page_header(&e, &h);
    PT_ASSERT_OK(e.rc);
    if (body.size)
        PT_ASSERT_OK(pond_buf_put(out, body.ptr, body.size));
    pond_buf_dispose(&body);
    pond_buf_dispose(&raw);
}

/* ---------------------------------------------------------------- a footer with mistyped fields */

enum { S_FILE, S_SCHEMA, S_RG, S_CHUNK, S_CMETA, S_STATS, S_KV };
enum {
    W_LIST = TC_LIST,
    W_I32 = TC_I32,
    W_BINARY = TC_BINARY,
    W_STRUCT = TC_STRUCT,
    W_BOOL = TC_TRUE,
    W_DOUBLE = TC_DOUBLE,
    W_BINLIST = 100
};

typedef struct {
    int s;      /* S_*: the struct (S_SCHEMA: the leaf elements) */
    int16_t id; /* field id */
    int wire;   /* W_*: the wire type written instead of the schema's */
} mistype;

static const mistype *g_mt;
static int g_n_mt;

/* Writes field id of struct s with the wire type a mutation gives, if one does. */
static bool mistyped(pq_tenc *e, int s, int16_t id)
{
    for (int i = 0; i < g_n_mt; i++) {
        if (g_mt[i].s != s || g_mt[i].id != id)
            continue;
        switch (g_mt[i].wire) {
        case W_LIST:
            pond_pq_tenc_field(e, TC_LIST, id);
            pond_pq_tenc_list_begin(e, TC_I32, 2);
            pond_pq_tenc_i32(e, 1);
            pond_pq_tenc_i32(e, 2);
            break;
        case W_BINLIST:
            pond_pq_tenc_field(e, TC_LIST, id);
            pond_pq_tenc_list_begin(e, TC_BINARY, 1);
            pond_pq_tenc_binary(e, "x", 1);
            break;
        case W_I32:
            pond_pq_tenc_field_i32(e, id, 7);
            break;
        case W_BINARY:
            pond_pq_tenc_field_binary(e, id, "x", 1);
            break;
        case W_STRUCT:
            pond_pq_tenc_field(e, TC_STRUCT, id);
            pond_pq_tenc_struct_begin(e);
            pond_pq_tenc_field_i32(e, 1, 5);
            pond_pq_tenc_struct_end(e);
            break;
        case W_BOOL:
            pond_pq_tenc_field_bool(e, id, 1);
            break;
        default:
            pond_pq_tenc_field_double(e, id, 1.5);
            break;
        }
        return true;
    }
    return false;
}

/* Field `id` of struct `s`: the mistyped value if a mutation asks, else the normal one. */
#define F(s, id, ...)                                                                              \
    do {                                                                                           \
        if (!mistyped(e, (s), (id))) {                                                             \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
    } while (0)

static void put_kv(pq_tenc *e, const char *k, const char *v)
{
    pond_pq_tenc_struct_begin(e);
    F(S_KV, 1, pond_pq_tenc_field_binary(e, 1, k, strlen(k)));
    F(S_KV, 2, pond_pq_tenc_field_binary(e, 2, v, strlen(v)));
    pond_pq_tenc_struct_end(e);
}

static void put_stat_value(pq_tenc *e, int16_t id, const lcol *c, int64_t v)
{
    if (c->physical == PQ_INT32) {
        int32_t x = (int32_t)v;
        pond_pq_tenc_field_binary(e, id, &x, 4);
    } else {
        pond_pq_tenc_field_binary(e, id, &v, 8);
    }
}

static void put_schema_leaf(pq_tenc *e, const lcol *c, int i)
{
    pond_pq_tenc_struct_begin(e);
    F(S_SCHEMA, 1, pond_pq_tenc_field_i32(e, 1, c->physical));
    F(S_SCHEMA, 2, (void)0);
    F(S_SCHEMA, 3, pond_pq_tenc_field_i32(e, 3, c->repetition));
    F(S_SCHEMA, 4, pond_pq_tenc_field_binary(e, 4, c->name, strlen(c->name)));
    F(S_SCHEMA, 5, (void)0);
    F(S_SCHEMA, 6, if (c->string) pond_pq_tenc_field_i32(e, 6, PQ_CT_UTF8));
    F(S_SCHEMA, 7, (void)0);
    F(S_SCHEMA, 8, (void)0);
    F(S_SCHEMA, 9, pond_pq_tenc_field_i32(e, 9, i + 1));
    F(
        S_SCHEMA, 10, if (c->string) {
            pond_pq_tenc_field(e, TC_STRUCT, 10);
            pond_pq_tenc_struct_begin(e);
            pond_pq_tenc_field(e, TC_STRUCT, PQ_LT_STRING);
            pond_pq_tenc_struct_begin(e);
            pond_pq_tenc_struct_end(e);
            pond_pq_tenc_struct_end(e);
        });
    pond_pq_tenc_struct_end(e);
}

typedef struct {
    int64_t start, len, dict; /* dict: -1 without a dictionary page */
    int64_t data;             /* the first data page */
    int64_t values;
} chunk_pos;

static void put_column_meta(pq_tenc *e, const lcol *c, const chunk_pos *p)
{
    int32_t encs[3] = {PQ_ENC_PLAIN, PQ_ENC_RLE, PQ_ENC_RLE_DICTIONARY};
    pond_pq_tenc_struct_begin(e);
    F(S_CMETA, 1, pond_pq_tenc_field_i32(e, 1, c->physical));
    F(S_CMETA, 2, {
        pond_pq_tenc_field(e, TC_LIST, 2);
        pond_pq_tenc_list_begin(e, TC_I32, 3);
        for (int k = 0; k < 3; k++)
            pond_pq_tenc_i32(e, encs[k]);
    });
    F(S_CMETA, 3, {
        pond_pq_tenc_field(e, TC_LIST, 3);
        pond_pq_tenc_list_begin(e, TC_BINARY, 1);
        pond_pq_tenc_binary(e, c->name, strlen(c->name));
    });
    F(S_CMETA, 4, pond_pq_tenc_field_i32(e, 4, c->codec));
    F(S_CMETA, 5, pond_pq_tenc_field_i64(e, 5, p->values));
    F(S_CMETA, 6, pond_pq_tenc_field_i64(e, 6, p->len));
    F(S_CMETA, 7, pond_pq_tenc_field_i64(e, 7, p->len));
    F(S_CMETA, 8, (void)0);
    F(S_CMETA, 9, pond_pq_tenc_field_i64(e, 9, p->data));
    F(S_CMETA, 10, (void)0);
    F(S_CMETA, 11,
      if (p->dict >= 0 || c->zero_dict_offset)
          pond_pq_tenc_field_i64(e, 11, p->dict >= 0 ? p->dict : 0));
    F(
        S_CMETA, 12, if (c->has_stats) {
            pond_pq_tenc_field(e, TC_STRUCT, 12);
            pond_pq_tenc_struct_begin(e);
            F(S_STATS, 1, (void)0);
            F(S_STATS, 2, (void)0);
            F(S_STATS, 3, pond_pq_tenc_field_i64(e, 3, c->nulls));
            F(S_STATS, 4, (void)0);
            F(S_STATS, 5, put_stat_value(e, 5, c, c->max));
            F(S_STATS, 6, put_stat_value(e, 6, c, c->min));
            F(S_STATS, 7, (void)0);
            F(S_STATS, 8, (void)0);
            pond_pq_tenc_struct_end(e);
        });
    F(S_CMETA, 13, (void)0);
    F(S_CMETA, 14, (void)0);
    F(S_CMETA, 15, (void)0);
    pond_pq_tenc_struct_end(e);
}

/* PAR1, the row groups' pages, the footer (mutated by g_mt), its length and PAR1. */
static void build(pond_buf *out, const lrg *rgs, int n_rg)
{
    pond_buf_clear(out);
    PT_ASSERT_OK(pond_buf_put(out, "PAR1", 4));
    chunk_pos pos[4][4];
    PT_ASSERT(n_rg <= 4);
    int64_t rows = 0;
    const lcol *schema = NULL;
    int n_leaves = 0;
    for (int g = 0; g < n_rg; g++) {
        rows += rgs[g].rows;
        PT_ASSERT(rgs[g].n_cols <= 4);
        if (rgs[g].n_cols) {
            schema = rgs[g].cols;
            n_leaves = rgs[g].n_cols;
        }
        for (int c = 0; c < rgs[g].n_cols; c++) {
            const lcol *col = &rgs[g].cols[c];
            chunk_pos *p = &pos[g][c];
            p->start = (int64_t)out->size;
            p->dict = p->data = -1;
            p->values = 0;
            for (int k = 0; k < col->n_pages; k++) {
                if (col->pages[k].kind == PQ_PAGE_DICTIONARY) {
                    p->dict = (int64_t)out->size;
                } else {
                    p->values += col->pages[k].num_values;
                    if (p->data < 0)
                        p->data = (int64_t)out->size;
                }
                put_page(out, col->codec, &col->pages[k]);
            }
            p->len = (int64_t)out->size - p->start;
            if (p->data < 0) /* no data page: some writers leave the offset at 0 */
                p->data = 0;
        }
    }
    PT_ASSERT(schema != NULL);
    size_t fstart = out->size;
    pq_tenc enc, *e = &enc;
    pond_pq_tenc_init(e, out);
    pond_pq_tenc_struct_begin(e);
    F(S_FILE, 1, pond_pq_tenc_field_i32(e, 1, 1));
    F(S_FILE, 2, {
        pond_pq_tenc_field(e, TC_LIST, 2);
        pond_pq_tenc_list_begin(e, TC_STRUCT, (uint32_t)n_leaves + 1);
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field_binary(e, 4, "schema", 6);
        pond_pq_tenc_field_i32(e, 5, n_leaves);
        pond_pq_tenc_struct_end(e);
        for (int c = 0; c < n_leaves; c++)
            put_schema_leaf(e, &schema[c], c);
    });
    F(S_FILE, 3, pond_pq_tenc_field_i64(e, 3, rows));
    F(S_FILE, 4, {
        pond_pq_tenc_field(e, TC_LIST, 4);
        pond_pq_tenc_list_begin(e, TC_STRUCT, (uint32_t)n_rg);
        for (int g = 0; g < n_rg; g++) {
            int64_t bytes = 0;
            for (int c = 0; c < rgs[g].n_cols; c++)
                bytes += pos[g][c].len;
            pond_pq_tenc_struct_begin(e);
            F(S_RG, 1, {
                pond_pq_tenc_field(e, TC_LIST, 1);
                pond_pq_tenc_list_begin(e, TC_STRUCT, (uint32_t)rgs[g].n_cols);
                for (int c = 0; c < rgs[g].n_cols; c++) {
                    pond_pq_tenc_struct_begin(e);
                    F(S_CHUNK, 1, (void)0);
                    F(S_CHUNK, 2, pond_pq_tenc_field_i64(e, 2, pos[g][c].start));
                    F(S_CHUNK, 3, {
                        pond_pq_tenc_field(e, TC_STRUCT, 3);
                        put_column_meta(e, &rgs[g].cols[c], &pos[g][c]);
                    });
                    for (int16_t id = 4; id <= 7; id++)
                        F(S_CHUNK, id, (void)0);
                    pond_pq_tenc_struct_end(e);
                }
            });
            F(S_RG, 2, pond_pq_tenc_field_i64(e, 2, bytes));
            F(S_RG, 3, pond_pq_tenc_field_i64(e, 3, rgs[g].rows));
            F(S_RG, 4, (void)0);
            F(S_RG, 5, if (rgs[g].n_cols) pond_pq_tenc_field_i64(e, 5, pos[g][0].start));
            F(S_RG, 6, pond_pq_tenc_field_i64(e, 6, bytes));
            F(S_RG, 7, {
                pond_pq_tenc_field(e, TC_I16, 7);
                pond_pq_tenc_i32(e, g);
            });
            pond_pq_tenc_struct_end(e);
        }
    });
    F(S_FILE, 5, {
        pond_pq_tenc_field(e, TC_LIST, 5);
        pond_pq_tenc_list_begin(e, TC_STRUCT, 1);
        put_kv(e, "writer", "pond lenient test");
    });
    F(S_FILE, 6, pond_pq_tenc_field_binary(e, 6, "pond lenient test", 17));
    F(S_FILE, 7, (void)0);
    pond_pq_tenc_struct_end(e);
    PT_ASSERT_OK(e->rc);
    uint32_t flen = (uint32_t)(out->size - fstart);
    PT_ASSERT_OK(pond_buf_put(out, &flen, 4));
    PT_ASSERT_OK(pond_buf_put(out, "PAR1", 4));
}

/* ---------------------------------------------------------------- reading */

/* The canonical text of every row; rc of the first failure. */
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

/* Writes dir/name.parquet; false without POND_INTEROP_DIR. */
static bool save_file(const char *sub, const char *name, const pond_buf *file)
{
    const char *dir = getenv("POND_INTEROP_DIR");
    if (!dir || !*dir)
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
    PT_ASSERT(mkdir(path, 0755) == 0 || errno == EEXIST);
    snprintf(path, sizeof path, "%s%s%s/%s.parquet", dir, sub ? "/" : "", sub ? sub : "", name);
    FILE *f = fopen(path, "wb");
    PT_ASSERT(f != NULL);
    PT_ASSERT(fwrite(file->ptr, 1, file->size, f) == file->size);
    PT_ASSERT(fclose(f) == 0);
    return true;
}

/* Writes name.parquet and name.expect (digest, rows) for interop.sh when POND_INTEROP_DIR is
 * set; the rows are the text pond reads, asserted by the caller. */
static void save(const char *name, const pond_buf *file, const pond_buf *text, int64_t rows)
{
    if (!save_file(NULL, name, file))
        return;
    const char *dir = getenv("POND_INTEROP_DIR");
    char path[4096];
    pond_hash h;
    char hex[65];
    PT_ASSERT_OK(pond_sha256_buf(&h, text->ptr ? text->ptr : "", text->size));
    pond_hash_hex(hex, &h);
    snprintf(path, sizeof path, "%s/%s.expect", dir, name);
    FILE *f = fopen(path, "w");
    PT_ASSERT(f != NULL);
    fprintf(f, "sha256:%s %" PRId64 "\n", hex, rows);
    PT_ASSERT(fclose(f) == 0);
}

static int64_t count_lines(const pond_buf *t)
{
    int64_t n = 0;
    for (size_t i = 0; i < t->size; i++)
        n += t->ptr[i] == '\n';
    return n;
}

/* The CLI tests' copies in tests/data/parquet/ must be the bytes built here. */
static void check_fixture(const char *name, const pond_buf *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/parquet/%s.parquet", pt_source_dir(), name);
    pond_buf have = POND_BUF_INIT;
    if (pond__read_file(&have, path, 1 << 20, POND_DOM_NONE) == 0 &&
        (have.size != file->size || memcmp(have.ptr, file->ptr, file->size) != 0))
        pt_fail(__FILE__, __LINE__, "%s differs from the file the test builds", path);
    pond_buf_dispose(&have);
}

/* pond must read `want` from the file; with `oracle`, DuckDB must too (interop.sh). */
static void expect_rows(const char *name, const pond_buf *file, const char *want, bool oracle)
{
    check_fixture(name, file);
    pond_buf t = POND_BUF_INIT;
    int rc = read_text(&t, file);
    if (rc < 0)
        pt_fail(__FILE__, __LINE__, "%s: %s", name, pond_error_last()->message);
    if (strcmp(t.ptr ? t.ptr : "", want) != 0)
        pt_fail(__FILE__, __LINE__, "%s: read\n%s\nwant\n%s", name, t.ptr ? t.ptr : "", want);
    if (oracle)
        save(name, file, &t, count_lines(&t));
    else
        save_file("pond_only", name, file); /* for the fuzz corpora */
    pond_buf_dispose(&t);
}

/* ---------------------------------------------------------------- empty pages */

/* RLE runs of bit width 1: (count << 1) then the value byte. */
static const uint8_t def_1010[] = {0x02, 1, 0x02, 0, 0x02, 1, 0x02, 0}; /* 1,0,1,0 */
static const uint8_t def_000[] = {0x06, 0};                             /* 0,0,0 */
static const uint8_t def_00[] = {0x04, 0};                              /* 0,0 */
static const uint8_t def_101[] = {0x02, 1, 0x02, 0, 0x02, 1};           /* 1,0,1 */

static const int32_t ids7[7] = {1, 2, 3, 4, 5, 6, 7};
static const int32_t x_10_30[2] = {10, 30};
/* two PLAIN strings (a dictionary page's entries too), and dictionary indices 0, 1 (bit
 * width 1, one RLE run each) */
static const uint8_t plain_ab[] = {1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b'};
static const uint8_t idx_01[] = {1, 0x02, 0, 0x02, 1};

static const char *const codec_names[8] = {"uncompressed", "snappy", "gzip", "lzo",
                                           "brotli",       "lz4",    "zstd", "lz4_raw"};

/* A v2 all-null page whose value section is 0 bytes, in a chunk of each codec, in an INT32 and
 * a string column (PLAIN). Codecs pond cannot compress with (LZO, Hadoop LZ4) hold only such
 * pages, so nothing is ever decompressed. */
static void build_v2_all_null(pond_buf *f, int codec, const char **want)
{
    bool comp = can_compress(codec);
    static const uint8_t def_4null[] = {0x08, 0}; /* 0,0,0,0 */
    lpage id_pages[1] = {
        {PQ_PAGE_DATA_V2, PQ_ENC_PLAIN, 7, 0, NULL, 0, (const uint8_t *)ids7, sizeof ids7, false}};
    lpage x_pages[2], s_pages[2];
    if (comp) {
        x_pages[0] =
            (lpage){PQ_PAGE_DATA_V2,          PQ_ENC_PLAIN,   4,    2, def_1010, sizeof def_1010,
                    (const uint8_t *)x_10_30, sizeof x_10_30, false};
        s_pages[0] = (lpage){PQ_PAGE_DATA_V2, PQ_ENC_PLAIN,    4,    2, def_1010, sizeof def_1010,
                             plain_ab,        sizeof plain_ab, false};
    } else {
        x_pages[0] = (lpage){PQ_PAGE_DATA_V2,  PQ_ENC_PLAIN, 4, 4,   def_4null,
                             sizeof def_4null, NULL,         0, true};
        s_pages[0] = x_pages[0];
    }
    x_pages[1] =
        (lpage){PQ_PAGE_DATA_V2, PQ_ENC_PLAIN, 3, 3, def_000, sizeof def_000, NULL, 0, true};
    s_pages[1] = x_pages[1];
    lcol cols[3] = {
        {"id", PQ_INT32, PQ_REQUIRED, false, comp ? codec : PQ_CODEC_SNAPPY, id_pages, 1, true, 1,
         7, 0, false},
        {"x", PQ_INT32, PQ_OPTIONAL, false, codec, x_pages, 2, false, 0, 0, 0, false},
        {"s", PQ_BYTE_ARRAY, PQ_OPTIONAL, true, codec, s_pages, 2, false, 0, 0, 0, false},
    };
    lrg rg = {cols, 3, 7};
    build(f, &rg, 1);
    *want = comp ? "i1\ti10\t\"a\"\ni2\tN\tN\ni3\ti30\t\"b\"\ni4\tN\tN\n"
                   "i5\tN\tN\ni6\tN\tN\ni7\tN\tN\n"
                 : "i1\tN\tN\ni2\tN\tN\ni3\tN\tN\ni4\tN\tN\n"
                   "i5\tN\tN\ni6\tN\tN\ni7\tN\tN\n";
}

static void test_v2_all_null_page_every_codec(void)
{
    pond_buf f = POND_BUF_INIT;
    for (int codec = 0; codec < 8; codec++) {
        const char *want;
        char name[64];
        build_v2_all_null(&f, codec, &want);
        snprintf(name, sizeof name, "v2_all_null_%s", codec_names[codec]);
        expect_rows(name, &f, want, true);
    }
    pond_buf_dispose(&f);
}

/* The same in a dictionary-encoded chunk: an all-null page has no indices to read, not even
 * their bit width. */
static void test_v2_all_null_dictionary_page(void)
{
    static const lpage s_pages[3] = {
        {PQ_PAGE_DICTIONARY, PQ_ENC_PLAIN, 2, 0, NULL, 0, plain_ab, sizeof plain_ab, false},
        {PQ_PAGE_DATA_V2, PQ_ENC_RLE_DICTIONARY, 4, 2, def_1010, sizeof def_1010, idx_01,
         sizeof idx_01, false},
        {PQ_PAGE_DATA_V2, PQ_ENC_RLE_DICTIONARY, 3, 3, def_000, sizeof def_000, NULL, 0, true},
    };
    pond_buf f = POND_BUF_INIT;
    static const int codecs[3] = {PQ_CODEC_SNAPPY, PQ_CODEC_ZSTD, PQ_CODEC_GZIP};
    for (int k = 0; k < 3; k++) {
        lcol cols[1] = {
            {"s", PQ_BYTE_ARRAY, PQ_OPTIONAL, true, codecs[k], s_pages, 3, false, 0, 0, 0, false}};
        lrg rg = {cols, 1, 7};
        build(&f, &rg, 1);
        char name[64];
        snprintf(name, sizeof name, "v2_all_null_dictionary_%s", codec_names[codecs[k]]);
        expect_rows(name, &f, "\"a\"\nN\n\"b\"\nN\nN\nN\nN\n", true);
    }
    pond_buf_dispose(&f);
}

/* An empty compressed section must declare 0 bytes: one that claims 8 bytes of values (v2)
 * or a whole body (v1) is refused by name, not read as nulls. */
static void test_empty_section_with_a_size_is_refused(void)
{
    static const lpage x[1] = {{PQ_PAGE_DATA_V2, PQ_ENC_PLAIN, 3, 1, def_101, sizeof def_101,
                                (const uint8_t *)x_10_30, sizeof x_10_30, true}};
    lcol cols[1] = {
        {"x", PQ_INT32, PQ_OPTIONAL, false, PQ_CODEC_SNAPPY, x, 1, false, 0, 0, 0, false}};
    lrg rg = {cols, 1, 3};
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    build(&f, &rg, 1);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("column 'x'");
    PT_ASSERT_MSG_HAS("8 bytes");
    save_file("refused", "v2_empty_section_declares_bytes", &f);
    /* v1, optional (levels and values decompressed together) and required (values only,
     * decompressed straight into the column) */
    static const lpage v1[1] = {{PQ_PAGE_DATA, PQ_ENC_PLAIN, 3, 0, def_101, sizeof def_101,
                                 (const uint8_t *)x_10_30, sizeof x_10_30, true}};
    cols[0].pages = v1;
    build(&f, &rg, 1);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("compressed section is empty but declares 18 bytes");
    static const lpage v1r[1] = {{PQ_PAGE_DATA, PQ_ENC_PLAIN, 2, 0, NULL, 0,
                                  (const uint8_t *)x_10_30, sizeof x_10_30, true}};
    cols[0].pages = v1r;
    cols[0].repetition = PQ_REQUIRED;
    rg.rows = 2;
    build(&f, &rg, 1);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("compressed section is empty but declares 8 bytes");
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

/* Pages with no values: a v1 page of 0 values with an empty body (sizes 0), a v2 page of 0
 * values, and all-null pages (v1: levels only; v2: an empty value section). */
static void test_pages_without_values(void)
{
    static const int32_t ids5[5] = {1, 2, 3, 4, 5};
    static const uint8_t v1_one[] = {1, 0, 0, 0}; /* PLAIN INT32 1 */
    static const lpage id_pages[1] = {
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 5, 0, NULL, 0, (const uint8_t *)ids5, sizeof ids5, false}};
    static const lpage x_pages[5] = {
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 0, 0, NULL, 0, NULL, 0, true},
        {PQ_PAGE_DATA_V2, PQ_ENC_PLAIN, 0, 0, NULL, 0, NULL, 0, false},
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 1, 0, (const uint8_t *)"\x02\x01", 2, v1_one, sizeof v1_one,
         false},
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 2, 0, def_00, sizeof def_00, NULL, 0, false},
        {PQ_PAGE_DATA_V2, PQ_ENC_PLAIN, 2, 2, def_00, sizeof def_00, NULL, 0, true},
    };
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    static const int codecs[3] = {PQ_CODEC_SNAPPY, PQ_CODEC_ZSTD, PQ_CODEC_UNCOMPRESSED};
    for (int k = 0; k < 3; k++) {
        lcol cols[2] = {
            {"id", PQ_INT32, PQ_REQUIRED, false, codecs[k], id_pages, 1, false, 0, 0, 0, false},
            {"x", PQ_INT32, PQ_OPTIONAL, false, codecs[k], x_pages, 5, false, 0, 0, 0, false},
        };
        lrg rg = {cols, 2, 5};
        build(&f, &rg, 1);
        char name[64];
        snprintf(name, sizeof name, "pages_without_values_%s_empty_v1", codec_names[codecs[k]]);
        /* DuckDB and hyparquet hand the empty v1 page's 0 bytes to the codec and arrow-rs
         * wants its levels, so DuckDB is asked about the file without it */
        expect_rows(name, &f, "i1\ti1\ni2\tN\ni3\tN\ni4\tN\ni5\tN\n", false);
        cols[1].pages = x_pages + 1;
        cols[1].n_pages = 4;
        build(&f, &rg, 1);
        snprintf(name, sizeof name, "pages_without_values_%s", codec_names[codecs[k]]);
        expect_rows(name, &f, "i1\ti1\ni2\tN\ni3\tN\ni4\tN\ni5\tN\n", true);
    }
    /* a v1 page with an empty body that claims values is refused */
    const lpage bad[1] = {{PQ_PAGE_DATA, PQ_ENC_PLAIN, 2, 0, NULL, 0, NULL, 0, true}};
    lcol cols[1] = {
        {"x", PQ_INT32, PQ_OPTIONAL, false, PQ_CODEC_SNAPPY, bad, 1, false, 0, 0, 0, false}};
    lrg rg = {cols, 1, 2};
    build(&f, &rg, 1);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("column 'x'");
    PT_ASSERT_MSG_HAS("empty");
    save_file("refused", "v1_empty_body_with_values", &f);
    /* an all-null page that says it is dictionary-encoded, in a chunk without a dictionary:
     * DuckDB, hyparquet and arrow refuse it too */
    const lpage nodict[1] = {
        {PQ_PAGE_DATA_V2, PQ_ENC_RLE_DICTIONARY, 2, 2, def_00, sizeof def_00, NULL, 0, true}};
    cols[0].pages = nodict;
    build(&f, &rg, 1);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("without a dictionary page");
    save_file("refused", "all_null_page_without_dictionary", &f);
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

/* A dictionary_page_offset of 0 means no dictionary page (parquet-mr and others write it), and
 * a row group of 0 rows whose chunks hold no pages (their offsets 0) reads as no rows. */
static void test_zero_offsets_and_empty_row_groups(void)
{
    static const int32_t a[2] = {1, 2}, b[1] = {3};
    static const uint8_t def_11[] = {0x04, 1};
    const lpage pa[1] = {
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 2, 0, NULL, 0, (const uint8_t *)a, sizeof a, false}};
    const lpage pb[1] = {
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 1, 0, NULL, 0, (const uint8_t *)b, sizeof b, false}};
    const lpage sa[2] = {
        {PQ_PAGE_DICTIONARY, PQ_ENC_PLAIN, 2, 0, NULL, 0, plain_ab, sizeof plain_ab, false},
        {PQ_PAGE_DATA, PQ_ENC_RLE_DICTIONARY, 2, 0, def_11, sizeof def_11, idx_01, sizeof idx_01,
         false}};
    const lpage sb[1] = {{PQ_PAGE_DATA, PQ_ENC_PLAIN, 1, 0, def_101, 2, plain_ab, 5, false}};
    lcol ca[2] = {
        {"id", PQ_INT32, PQ_REQUIRED, false, PQ_CODEC_SNAPPY, pa, 1, true, 1, 2, 0, true},
        {"s", PQ_BYTE_ARRAY, PQ_OPTIONAL, true, PQ_CODEC_SNAPPY, sa, 2, false, 0, 0, 0, true}};
    lcol c0[2] = {
        {"id", PQ_INT32, PQ_REQUIRED, false, PQ_CODEC_SNAPPY, NULL, 0, false, 0, 0, 0, true},
        {"s", PQ_BYTE_ARRAY, PQ_OPTIONAL, true, PQ_CODEC_SNAPPY, NULL, 0, false, 0, 0, 0, true}};
    lcol cb[2] = {
        {"id", PQ_INT32, PQ_REQUIRED, false, PQ_CODEC_ZSTD, pb, 1, true, 3, 3, 0, true},
        {"s", PQ_BYTE_ARRAY, PQ_OPTIONAL, true, PQ_CODEC_ZSTD, sb, 1, false, 0, 0, 0, true}};
    lrg rgs[4] = {{c0, 2, 0}, {ca, 2, 2}, {c0, 2, 0}, {cb, 2, 1}};
    pond_buf f = POND_BUF_INIT;
    build(&f, rgs, 4);
    expect_rows("zero_offsets_and_empty_row_groups", &f, "i1\t\"a\"\ni2\t\"b\"\ni3\t\"a\"\n", true);
    pond_buf_dispose(&f);
}

/* A row group of 0 rows without column chunks: DuckDB fails on it and arrow refuses it
 * ("column count mismatch"); pond refuses it by name. */
static void test_row_group_without_chunks_is_refused(void)
{
    static const int32_t a[2] = {1, 2};
    const lpage pa[1] = {
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 2, 0, NULL, 0, (const uint8_t *)a, sizeof a, false}};
    lcol ca[1] = {
        {"id", PQ_INT32, PQ_REQUIRED, false, PQ_CODEC_SNAPPY, pa, 1, true, 1, 2, 0, false}};
    lrg rgs[2] = {{ca, 1, 2}, {NULL, 0, 0}};
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    build(&f, rgs, 2);
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("row group 1 has 0 column chunks");
    save_file("refused", "row_group_without_chunks", &f);
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

/* ---------------------------------------------------------------- mistyped footer fields */

static void build_plain(pond_buf *f)
{
    static const int32_t ids[4] = {4, 5, 6, 7};
    static const uint8_t s_idx[] = {1, 0x02, 1, 0x02, 0, 0x02, 1}; /* 1, 0, 1 */
    static const uint8_t s_def[] = {0x06, 1, 0x02, 0};             /* 1,1,1,0 */
    static const lpage id_pages[1] = {
        {PQ_PAGE_DATA, PQ_ENC_PLAIN, 4, 0, NULL, 0, (const uint8_t *)ids, sizeof ids, false}};
    static const lpage s_pages[2] = {
        {PQ_PAGE_DICTIONARY, PQ_ENC_PLAIN, 2, 0, NULL, 0, plain_ab, sizeof plain_ab, false},
        {PQ_PAGE_DATA, PQ_ENC_RLE_DICTIONARY, 4, 0, s_def, sizeof s_def, s_idx, sizeof s_idx,
         false},
    };
    lcol cols[2] = {
        {"id", PQ_INT32, PQ_REQUIRED, false, PQ_CODEC_SNAPPY, id_pages, 1, true, 4, 7, 0, false},
        {"s", PQ_BYTE_ARRAY, PQ_OPTIONAL, true, PQ_CODEC_SNAPPY, s_pages, 2, false, 0, 0, 0, false},
    };
    lrg rg = {cols, 2, 4};
    build(f, &rg, 1);
}

static const char plain_rows[] = "i4\t\"b\"\ni5\t\"a\"\ni6\t\"b\"\ni7\tN\n";

typedef struct {
    const char *name;
    mistype m;
    const char *warning; /* a part of the warning pond gives */
    bool not_duckdb;     /* DuckDB refuses the file (pond reads it, with the warning) */
} skip_case;

/* Optional fields decoding does not depend on: skipped, with a warning naming them. */
static const skip_case skip_cases[] = {
    {"statistics_list", {S_CMETA, 12, W_LIST}, "column metadata field 'statistics' (12)", false},
    {"offset_index_length_list",
     {S_CHUNK, 5, W_LIST},
     "column chunk field 'offset_index_length' (5) has wire type list, expected i32",
     false},
    {"column_index_offset_binary", {S_CHUNK, 6, W_BINARY}, "'column_index_offset' (6)", false},
    {"created_by_i32", {S_FILE, 6, W_I32}, "file metadata field 'created_by' (6)", false},
    {"key_value_metadata_binlist",
     {S_FILE, 5, W_BINLIST},
     "'key_value_metadata' (5) has wire type list<binary>, expected list<struct>",
     true},
    {"kv_value_struct", {S_KV, 2, W_STRUCT}, "key-value field 'value' (2)", false},
    {"null_count_binary", {S_STATS, 3, W_BINARY}, "statistics field 'null_count' (3)", false},
    {"min_value_double", {S_STATS, 6, W_DOUBLE}, "statistics field 'min_value' (6)", false},
    {"distinct_count_bool", {S_STATS, 4, W_BOOL}, "'distinct_count' (4) has wire type bool", false},
    {"bloom_filter_offset_binary", {S_CMETA, 14, W_BINARY}, "'bloom_filter_offset' (14)", false},
    {"bloom_filter_length_list", {S_CMETA, 15, W_LIST}, "'bloom_filter_length' (15)", false},
    {"index_page_offset_struct", {S_CMETA, 10, W_STRUCT}, "'index_page_offset' (10)", false},
    {"encoding_stats_i32", {S_CMETA, 13, W_I32}, "'encoding_stats' (13)", false},
    {"chunk_kv_binary", {S_CMETA, 8, W_BINARY}, "'key_value_metadata' (8)", false},
    {"field_id_binary", {S_SCHEMA, 9, W_BINARY}, "schema element field 'field_id' (9)", false},
    {"sorting_columns_i32", {S_RG, 4, W_I32}, "row group field 'sorting_columns' (4)", false},
    {"rg_file_offset_list", {S_RG, 5, W_LIST}, "row group field 'file_offset' (5)", false},
    {"rg_total_compressed_size_binary", {S_RG, 6, W_BINARY}, "'total_compressed_size' (6)", false},
    {"ordinal_binary", {S_RG, 7, W_BINARY}, "row group field 'ordinal' (7)", false},
    {"column_orders_i32", {S_FILE, 7, W_I32}, "'column_orders' (7)", false},
};

static void test_mistyped_optional_fields_are_skipped(void)
{
    pond_buf f = POND_BUF_INIT;
    build_plain(&f);
    expect_rows("mistyped_none", &f, plain_rows, true);
    /* the clean file has no warning */
    pond_parquet_reader *r = NULL;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, f.ptr, f.size, NULL));
    PT_ASSERT_INT_EQ(pond_parquet_reader_warning_count(r), 0);
    PT_ASSERT(pond_parquet_reader_warning(r, 0) == NULL);
    pond_parquet_reader_free(r);
    for (size_t i = 0; i < sizeof skip_cases / sizeof skip_cases[0]; i++) {
        const skip_case *c = &skip_cases[i];
        g_mt = &c->m;
        g_n_mt = 1;
        build_plain(&f);
        g_n_mt = 0;
        char name[96];
        snprintf(name, sizeof name, "mistyped_%s", c->name);
        expect_rows(name, &f, plain_rows, !c->not_duckdb);
        PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, f.ptr, f.size, NULL));
        int n = pond_parquet_reader_warning_count(r);
        const char *w = pond_parquet_reader_warning(r, 0);
        if (n != 1 || !w || !strstr(w, c->warning))
            pt_fail(__FILE__, __LINE__, "%s: %d warnings, first '%s', want one with '%s'", c->name,
                    n, w ? w : "(none)", c->warning);
        /* one lowercase line naming the footer and the offset */
        PT_ASSERT(!strncmp(w, "footer: ", 8));
        PT_ASSERT(strstr(w, "skipped") != NULL && strstr(w, "offset ") != NULL);
        PT_ASSERT(strchr(w, '\n') == NULL);
        /* the description shows it */
        pond_buf d = POND_BUF_INIT;
        PT_ASSERT_OK(pond_parquet_reader_describe(&d, r));
        PT_ASSERT_OK(pond_buf_put(&d, "", 1));
        PT_ASSERT(strstr(d.ptr, "\nwarning: footer: ") != NULL);
        pond_buf_dispose(&d);
        pond_parquet_reader_free(r);
    }
    pond_buf_dispose(&f);
}

/* What a skipped field means for the reader: the statistics of a chunk are gone (no pruning
 * by them), a repeated kind of skip is one warning with its count. */
static void test_skipped_statistics_keep_every_row_group(void)
{
    pond_buf f = POND_BUF_INIT;
    const mistype m = {S_STATS, 5, W_LIST}; /* max_value */
    g_mt = &m;
    g_n_mt = 1;
    build_plain(&f);
    g_n_mt = 0;
    pond_parquet_reader *r = NULL;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, f.ptr, f.size, NULL));
    /* without max_value the chunk has no usable bounds: the row group stays selected */
    PT_ASSERT_OK(pond_parquet_reader_prune_int(r, "id", 100, 200));
    PT_ASSERT(pond_parquet_reader_row_group_selected(r, 0));
    pond_parquet_reader_free(r);
    /* the clean file prunes it */
    build_plain(&f);
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, f.ptr, f.size, NULL));
    PT_ASSERT_OK(pond_parquet_reader_prune_int(r, "id", 100, 200));
    PT_ASSERT(!pond_parquet_reader_row_group_selected(r, 0));
    pond_parquet_reader_free(r);
    /* every skip at once: distinct kinds are distinct warnings */
    mistype all[sizeof skip_cases / sizeof skip_cases[0]];
    int n_all = 0;
    for (size_t i = 0; i < sizeof skip_cases / sizeof skip_cases[0]; i++)
        if (!skip_cases[i].not_duckdb)
            all[n_all++] = skip_cases[i].m;
    g_mt = all;
    g_n_mt = n_all;
    build_plain(&f);
    g_n_mt = 0;
    expect_rows("mistyped_all_optional", &f, plain_rows, true);
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, f.ptr, f.size, NULL));
    PT_ASSERT(pond_parquet_reader_warning_count(r) >= 16);
    pond_parquet_reader_free(r);
    /* the same skip in two column chunks is one warning that counts both */
    const mistype m2 = {S_CMETA, 14, W_BINARY};
    g_mt = &m2;
    g_n_mt = 1;
    build_plain(&f);
    g_n_mt = 0;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, f.ptr, f.size, NULL));
    PT_ASSERT_INT_EQ(pond_parquet_reader_warning_count(r), 1);
    PT_ASSERT(strstr(pond_parquet_reader_warning(r, 0), "skipped 2 times, first at offset") !=
              NULL);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&f);
}

typedef struct {
    mistype m;
    const char *message;
} refuse_case;

/* Required fields, and fields decoding depends on: a wrong wire type is an error naming them. */
static const refuse_case refuse_cases[] = {
    {{S_CMETA, 1, W_LIST}, "column metadata field 'type' (1) has wire type list, expected i32"},
    {{S_CMETA, 2, W_I32}, "'encodings' (2) has wire type i32, expected list<i32>"},
    {{S_CMETA, 2, W_BINLIST}, "'encodings' (2) has wire type list<binary>, expected list<i32>"},
    {{S_CMETA, 4, W_BINARY}, "column metadata field 'codec' (4)"},
    {{S_CMETA, 5, W_LIST}, "'num_values' (5)"},
    {{S_CMETA, 7, W_DOUBLE}, "'total_compressed_size' (7) has wire type double"},
    {{S_CMETA, 9, W_BINARY}, "'data_page_offset' (9)"},
    {{S_CMETA, 11, W_LIST}, "'dictionary_page_offset' (11)"},
    {{S_SCHEMA, 1, W_BINARY}, "schema element field 'type' (1)"},
    {{S_SCHEMA, 3, W_LIST}, "schema element field 'repetition_type' (3)"},
    {{S_SCHEMA, 4, W_I32}, "schema element field 'name' (4)"},
    {{S_SCHEMA, 6, W_BINARY}, "'converted_type' (6)"},
    {{S_SCHEMA, 10, W_I32}, "'logicalType' (10) has wire type i32, expected struct"},
    {{S_SCHEMA, 2, W_LIST}, "'type_length' (2)"},
    {{S_SCHEMA, 7, W_BINARY}, "'scale' (7)"},
    {{S_SCHEMA, 8, W_BOOL}, "'precision' (8)"},
    {{S_SCHEMA, 5, W_BINARY}, "'num_children' (5)"},
    {{S_RG, 3, W_LIST}, "row group field 'num_rows' (3)"},
    {{S_RG, 2, W_BINARY}, "row group field 'total_byte_size' (2)"},
    {{S_RG, 1, W_I32}, "row group field 'columns' (1)"},
    {{S_CHUNK, 1, W_I32}, "column chunk field 'file_path' (1)"},
    {{S_CHUNK, 2, W_BINARY}, "column chunk field 'file_offset' (2)"},
    {{S_CHUNK, 3, W_LIST}, "column chunk field 'meta_data' (3)"},
    {{S_FILE, 1, W_BINARY}, "file metadata field 'version' (1)"},
    {{S_FILE, 3, W_STRUCT}, "file metadata field 'num_rows' (3)"},
    {{S_FILE, 4, W_I32}, "file metadata field 'row_groups' (4)"},
    {{S_KV, 1, W_I32}, "key-value field 'key' (1)"},
};

static void test_mistyped_required_fields_are_refused(void)
{
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    for (size_t i = 0; i < sizeof refuse_cases / sizeof refuse_cases[0]; i++) {
        const refuse_case *c = &refuse_cases[i];
        g_mt = &c->m;
        g_n_mt = 1;
        build_plain(&f);
        g_n_mt = 0;
        int rc = read_text(&t, &f);
        const char *msg = pond_error_last()->message;
        if (rc != POND_ECORRUPT || !strstr(msg, c->message) || strncmp(msg, "footer: ", 8) != 0)
            pt_fail(__FILE__, __LINE__, "case %zu: rc %d, message '%s', want '%s'", i, rc, msg,
                    c->message);
        /* kept for the fuzz corpora and the CLI fixtures (not for DuckDB: no rows to compare) */
        char name[32];
        snprintf(name, sizeof name, "refused_%02zu", i);
        if (i == 0)
            check_fixture("mistyped_column_type", &f);
        save_file("refused", name, &f);
    }
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

/* Page headers have no warning channel: a mistyped field there stays an error naming it. */
static void test_mistyped_page_header_field_is_refused(void)
{
    pond_buf f = POND_BUF_INIT, t = POND_BUF_INIT;
    build_plain(&f);
    /* the first page header starts at offset 4: field 1 (type, i32) becomes a binary */
    PT_ASSERT_INT_EQ((uint8_t)f.ptr[4], 0x15);
    f.ptr[4] = 0x18;
    PT_ASSERT_ERR(read_text(&t, &f), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("page header: page header field 'type' (1) has wire type binary");
    save_file("refused", "page_header_type_binary", &f);
    pond_buf_dispose(&f);
    pond_buf_dispose(&t);
}

PT_SUITE(pq_lenient, PT_TEST(v2_all_null_page_every_codec), PT_TEST(v2_all_null_dictionary_page),
         PT_TEST(empty_section_with_a_size_is_refused), PT_TEST(pages_without_values),
         PT_TEST(zero_offsets_and_empty_row_groups), PT_TEST(row_group_without_chunks_is_refused),
         PT_TEST(mistyped_optional_fields_are_skipped),
         PT_TEST(skipped_statistics_keep_every_row_group),
         PT_TEST(mistyped_required_fields_are_refused),
         PT_TEST(mistyped_page_header_field_is_refused))
