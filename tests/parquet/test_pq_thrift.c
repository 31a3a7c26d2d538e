/* Thrift compact protocol and Parquet metadata (de)serialisation. */
#include "pt.h"

#include "parquet/pq_meta.h"
#include "parquet/pq_thrift.h"

#include <pond/buf.h>

#define B(s) ((pq_bytes){(const uint8_t *)(s), sizeof(s) - 1})

static void sample_meta(pq_file_meta *m, pq_schema_element *el, pq_row_group *rg,
                        pq_column_chunk *cc, pq_kv *kv, int32_t *encs, pq_bytes *paths)
{
    memset(m, 0, sizeof *m);
    memset(el, 0, 3 * sizeof *el);
    for (int i = 0; i < 3; i++) {
        el[i].type = -1;
        el[i].repetition = -1;
        el[i].converted_type = -1;
        el[i].scale = el[i].precision = -1;
    }
    el[0].name = B("schema");
    el[0].num_children = 2;
    el[1].name = B("ts");
    el[1].type = PQ_INT64;
    el[1].repetition = PQ_REQUIRED;
    el[1].logical.kind = PQ_LT_TIMESTAMP;
    el[1].logical.unit = PQ_UNIT_NANOS;
    el[1].logical.utc = true;
    el[1].has_field_id = true;
    el[1].field_id = 7;
    el[2].name = B("price");
    el[2].type = PQ_FIXED_LEN_BYTE_ARRAY;
    el[2].type_length = 9;
    el[2].repetition = PQ_OPTIONAL;
    el[2].logical.kind = PQ_LT_DECIMAL;
    el[2].logical.precision = 20;
    el[2].logical.scale = 4;
    el[2].converted_type = PQ_CT_DECIMAL;
    el[2].precision = 20;
    el[2].scale = 4;
    m->version = 2;
    m->n_schema = 3;
    m->schema = el;
    m->num_rows = 1000;
    m->n_row_groups = 1;
    m->row_groups = rg;
    kv[0].key = B("k");
    kv[0].value = B("v");
    kv[1].key = B("novalue");
    kv[1].value = (pq_bytes){NULL, 0};
    m->n_kv = 2;
    m->kv = kv;
    m->created_by = B("pond test");
    m->n_column_orders = 2;
    memset(rg, 0, sizeof *rg);
    rg->n_columns = 2;
    rg->columns = cc;
    rg->num_rows = 1000;
    rg->total_byte_size = 12345;
    rg->file_offset = 4;
    rg->total_compressed_size = -1;
    rg->ordinal = 0;
    for (int i = 0; i < 2; i++) {
        pq_column_chunk *c = &cc[i];
        memset(c, 0, sizeof *c);
        c->file_offset = 4 + 100 * i;
        c->has_meta_data = true;
        c->offset_index_offset = -1;
        c->column_index_offset = i ? 5000 : -1;
        c->column_index_length = 33;
        pq_column_meta *cm = &c->meta_data;
        cm->type = i ? PQ_FIXED_LEN_BYTE_ARRAY : PQ_INT64;
        cm->n_encodings = 2;
        cm->encodings = encs;
        cm->n_path = 1;
        cm->path = &paths[i];
        cm->codec = PQ_CODEC_ZSTD;
        cm->num_values = 1000;
        cm->total_uncompressed_size = 8000 + i;
        cm->total_compressed_size = 100;
        cm->data_page_offset = 4 + 100 * i;
        cm->index_page_offset = -1;
        cm->dictionary_page_offset = -1;
        cm->bloom_filter_offset = -1;
        cm->bloom_filter_length = -1;
        cm->has_statistics = true;
        cm->statistics.has_null_count = true;
        cm->statistics.null_count = 3 + i;
        cm->statistics.min_value = B("\x01\x00\x00\x00\x00\x00\x00\x00");
        cm->statistics.max_value = B("\xff\x00\x00\x00\x00\x00\x00\x00");
        cm->statistics.has_min_exact = true;
        cm->statistics.is_min_value_exact = true;
    }
}

static void encode_sample(pond_buf *out)
{
    pq_file_meta m;
    pq_schema_element el[3];
    pq_row_group rg;
    pq_column_chunk cc[2];
    pq_kv kv[2];
    int32_t encs[2] = {PQ_ENC_PLAIN, PQ_ENC_RLE};
    pq_bytes paths[2] = {B("ts"), B("price")};
    sample_meta(&m, el, &rg, cc, kv, encs, paths);
    pq_tenc e;
    pond_pq_tenc_init(&e, out);
    pond_pq_encode_file_meta(&e, &m);
    PT_ASSERT_OK(e.rc);
}

static bool bytes_eq(pq_bytes b, const char *s)
{
    return b.ptr && b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static void test_file_meta_round_trip(void)
{
    pond_buf buf = POND_BUF_INIT;
    encode_sample(&buf);
    pq_arena a = {0};
    pq_file_meta d;
    pq_tdec dec;
    pond_pq_tdec_init(&dec, buf.ptr, buf.size, 0, "footer");
    PT_ASSERT_OK(pond_pq_decode_file_meta(&d, &a, &dec));
    PT_ASSERT(dec.p == dec.end);
    PT_ASSERT_INT_EQ(d.version, 2);
    PT_ASSERT_INT_EQ(d.num_rows, 1000);
    PT_ASSERT_INT_EQ(d.n_schema, 3);
    PT_ASSERT(bytes_eq(d.schema[0].name, "schema"));
    PT_ASSERT_INT_EQ(d.schema[0].num_children, 2);
    PT_ASSERT_INT_EQ(d.schema[1].type, PQ_INT64);
    PT_ASSERT_INT_EQ(d.schema[1].logical.kind, PQ_LT_TIMESTAMP);
    PT_ASSERT_INT_EQ(d.schema[1].logical.unit, PQ_UNIT_NANOS);
    PT_ASSERT(d.schema[1].logical.utc);
    PT_ASSERT(d.schema[1].has_field_id && d.schema[1].field_id == 7);
    PT_ASSERT_INT_EQ(d.schema[2].type_length, 9);
    PT_ASSERT_INT_EQ(d.schema[2].logical.kind, PQ_LT_DECIMAL);
    PT_ASSERT_INT_EQ(d.schema[2].logical.precision, 20);
    PT_ASSERT_INT_EQ(d.schema[2].logical.scale, 4);
    PT_ASSERT_INT_EQ(d.schema[2].converted_type, PQ_CT_DECIMAL);
    PT_ASSERT_INT_EQ(d.schema[2].repetition, PQ_OPTIONAL);
    PT_ASSERT_INT_EQ(d.n_kv, 2);
    PT_ASSERT(bytes_eq(d.kv[0].key, "k") && bytes_eq(d.kv[0].value, "v"));
    PT_ASSERT(d.kv[1].value.ptr == NULL);
    PT_ASSERT(bytes_eq(d.created_by, "pond test"));
    PT_ASSERT_INT_EQ(d.n_column_orders, 2);
    PT_ASSERT_INT_EQ(d.n_row_groups, 1);
    const pq_row_group *rg = &d.row_groups[0];
    PT_ASSERT_INT_EQ(rg->num_rows, 1000);
    PT_ASSERT_INT_EQ(rg->total_byte_size, 12345);
    PT_ASSERT_INT_EQ(rg->ordinal, 0);
    PT_ASSERT_INT_EQ(rg->n_columns, 2);
    const pq_column_meta *cm = &rg->columns[1].meta_data;
    PT_ASSERT_INT_EQ(cm->type, PQ_FIXED_LEN_BYTE_ARRAY);
    PT_ASSERT_INT_EQ(cm->codec, PQ_CODEC_ZSTD);
    PT_ASSERT_INT_EQ(cm->n_encodings, 2);
    PT_ASSERT_INT_EQ(cm->encodings[1], PQ_ENC_RLE);
    PT_ASSERT(bytes_eq(cm->path[0], "price"));
    PT_ASSERT_INT_EQ(cm->total_uncompressed_size, 8001);
    PT_ASSERT_INT_EQ(cm->data_page_offset, 104);
    PT_ASSERT_INT_EQ(cm->dictionary_page_offset, -1);
    PT_ASSERT(cm->has_statistics);
    PT_ASSERT_INT_EQ(cm->statistics.null_count, 4);
    PT_ASSERT_INT_EQ(cm->statistics.max_value.len, 8);
    PT_ASSERT_INT_EQ(cm->statistics.max_value.ptr[0], 0xff);
    PT_ASSERT(cm->statistics.has_min_exact && cm->statistics.is_min_value_exact);
    PT_ASSERT(!cm->statistics.has_max_exact);
    PT_ASSERT_INT_EQ(rg->columns[1].column_index_offset, 5000);
    PT_ASSERT_INT_EQ(rg->columns[1].column_index_length, 33);
    PT_ASSERT_INT_EQ(rg->columns[0].column_index_offset, -1);

    /* re-encoding the decoded structs gives the same bytes */
    pond_buf again = POND_BUF_INIT;
    pq_tenc e;
    pond_pq_tenc_init(&e, &again);
    pond_pq_encode_file_meta(&e, &d);
    PT_ASSERT_OK(e.rc);
    PT_ASSERT_INT_EQ(again.size, buf.size);
    PT_ASSERT_MEM_EQ(again.ptr, buf.ptr, buf.size);
    pond_buf_dispose(&again);
    pond__arena_dispose(&a);
    pond_buf_dispose(&buf);
}

static void test_truncated_footer_every_length(void)
{
    pond_buf buf = POND_BUF_INIT;
    encode_sample(&buf);
    for (size_t n = 0; n < buf.size; n++) {
        pq_arena a = {0};
        pq_file_meta d;
        pq_tdec dec;
        pond_pq_tdec_init(&dec, buf.ptr, n, 100, "footer");
        PT_ASSERT_ERR(pond_pq_decode_file_meta(&d, &a, &dec), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("footer: ");
        PT_ASSERT_MSG_HAS("at offset");
        pond__arena_dispose(&a);
    }
    pond_buf_dispose(&buf);
}

static void test_lying_lengths(void)
{
    pq_arena a = {0};
    pq_file_meta d;
    pq_tdec dec;
    /* field 2 (schema), list of structs claiming 2^31 elements with 3 bytes left */
    const uint8_t list[] = {0x29, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00, 0x00, 0x00};
    pond_pq_tdec_init(&dec, list, sizeof list, 0, "footer");
    PT_ASSERT_ERR(pond_pq_decode_file_meta(&d, &a, &dec), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("exceeds");
    pond__arena_dispose(&a);
    /* field 6 (created_by), binary of 1000 bytes with 2 left */
    const uint8_t bin[] = {0x68, 0xe8, 0x07, 'a', 'b'};
    pond_pq_tdec_init(&dec, bin, sizeof bin, 40, "footer");
    PT_ASSERT_ERR(pond_pq_decode_file_meta(&d, &a, &dec), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("binary length 1000 exceeds the 2 bytes that remain");
    PT_ASSERT_MSG_HAS("offset 43");
    pond__arena_dispose(&a);
    /* an over-long varint */
    const uint8_t var[] = {0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    pond_pq_tdec_init(&dec, var, sizeof var, 0, "footer");
    PT_ASSERT_ERR(pond_pq_decode_file_meta(&d, &a, &dec), POND_ECORRUPT);
    pond__arena_dispose(&a);
}

static void test_depth_cap_and_unknown_fields(void)
{
    /* unknown field 100 holding structs nested 200 deep */
    uint8_t deep[512];
    size_t n = 0;
    deep[n++] = 0x0c; /* type struct, long-form id */
    deep[n++] = 0xc8; /* zigzag(100) = 200 */
    deep[n++] = 0x01;
    for (int i = 0; i < 200; i++)
        deep[n++] = 0x1c; /* field 1, struct */
    for (int i = 0; i < 202; i++)
        deep[n++] = 0x00;
    pq_arena a = {0};
    pq_file_meta d;
    pq_tdec dec;
    pond_pq_tdec_init(&dec, deep, n, 0, "footer");
    PT_ASSERT_ERR(pond_pq_decode_file_meta(&d, &a, &dec), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("deeper");
    pond__arena_dispose(&a);

    /* the sample with unknown fields appended to the top struct still decodes */
    pond_buf buf = POND_BUF_INIT;
    encode_sample(&buf);
    buf.size--; /* drop the stop byte */
    pond_buf ext = POND_BUF_INIT;
    pq_tenc e;
    pond_pq_tenc_init(&e, &ext);
    pond_pq_tenc_struct_begin(&e);
    e.last_id[0] = 7; /* the sample ended with field 7 (column orders) */
    pond_pq_tenc_field_binary(&e, 50, "future", 6);
    pond_pq_tenc_field(&e, TC_STRUCT, 51);
    pond_pq_tenc_struct_begin(&e);
    pond_pq_tenc_field_double(&e, 1, 2.5);
    pond_pq_tenc_field(&e, TC_MAP, 2);
    pond_pq_tenc_map_begin(&e, TC_BINARY, TC_I32, 1);
    pond_pq_tenc_binary(&e, "x", 1);
    pond_pq_tenc_i32(&e, 5);
    pond_pq_tenc_field(&e, TC_LIST, 3);
    pond_pq_tenc_list_begin(&e, TC_TRUE, 2);
    pond_pq_tenc_byte(&e, 1);
    pond_pq_tenc_byte(&e, 2);
    pond_pq_tenc_struct_end(&e);
    pond_pq_tenc_struct_end(&e);
    PT_ASSERT_OK(e.rc);
    PT_ASSERT_OK(pond_buf_put(&buf, ext.ptr, ext.size));
    pond_pq_tdec_init(&dec, buf.ptr, buf.size, 0, "footer");
    PT_ASSERT_OK(pond_pq_decode_file_meta(&d, &a, &dec));
    PT_ASSERT(dec.p == dec.end);
    PT_ASSERT_INT_EQ(d.num_rows, 1000);
    pond__arena_dispose(&a);
    pond_buf_dispose(&ext);
    pond_buf_dispose(&buf);
}

static void test_page_header_round_trip(void)
{
    pq_page_header h[3];
    memset(h, 0, sizeof h);
    h[0].type = PQ_PAGE_DICTIONARY;
    h[0].uncompressed_page_size = 100;
    h[0].compressed_page_size = 50;
    h[0].has_dict = true;
    h[0].dict.num_values = 16;
    h[0].dict.encoding = PQ_ENC_PLAIN;
    h[1].type = PQ_PAGE_DATA;
    h[1].uncompressed_page_size = 1 << 20;
    h[1].compressed_page_size = 1000;
    h[1].has_crc = true;
    h[1].crc = (int32_t)0xdeadbeef;
    h[1].has_data = true;
    h[1].data.num_values = 4096;
    h[1].data.encoding = PQ_ENC_RLE_DICTIONARY;
    h[1].data.def_encoding = PQ_ENC_RLE;
    h[1].data.rep_encoding = PQ_ENC_RLE;
    h[1].data.has_statistics = true;
    h[1].data.statistics.has_null_count = true;
    h[1].data.statistics.null_count = 12;
    h[2].type = PQ_PAGE_DATA_V2;
    h[2].uncompressed_page_size = 300;
    h[2].compressed_page_size = 200;
    h[2].has_data_v2 = true;
    h[2].data_v2.num_values = 10;
    h[2].data_v2.num_nulls = 2;
    h[2].data_v2.num_rows = 5;
    h[2].data_v2.encoding = PQ_ENC_DELTA_BINARY_PACKED;
    h[2].data_v2.def_levels_byte_length = 3;
    h[2].data_v2.rep_levels_byte_length = 4;
    h[2].data_v2.is_compressed = false;
    for (int i = 0; i < 3; i++) {
        pond_buf buf = POND_BUF_INIT;
        pq_tenc e;
        pond_pq_tenc_init(&e, &buf);
        pond_pq_encode_page_header(&e, &h[i]);
        PT_ASSERT_OK(e.rc);
        pq_page_header d;
        pq_tdec dec;
        pond_pq_tdec_init(&dec, buf.ptr, buf.size, 0, "page header");
        PT_ASSERT_OK(pond_pq_decode_page_header(&d, &dec));
        PT_ASSERT(dec.p == dec.end);
        PT_ASSERT_INT_EQ(d.type, h[i].type);
        PT_ASSERT_INT_EQ(d.uncompressed_page_size, h[i].uncompressed_page_size);
        PT_ASSERT_INT_EQ(d.compressed_page_size, h[i].compressed_page_size);
        PT_ASSERT_INT_EQ(d.has_crc, h[i].has_crc);
        PT_ASSERT_INT_EQ(d.crc, h[i].crc);
        PT_ASSERT_INT_EQ(d.dict.num_values, h[i].dict.num_values);
        PT_ASSERT_INT_EQ(d.data.num_values, h[i].data.num_values);
        PT_ASSERT_INT_EQ(d.data.encoding, h[i].data.encoding);
        PT_ASSERT_INT_EQ(d.data.statistics.null_count, h[i].data.statistics.null_count);
        PT_ASSERT_INT_EQ(d.data_v2.num_nulls, h[i].data_v2.num_nulls);
        PT_ASSERT_INT_EQ(d.data_v2.num_rows, h[i].data_v2.num_rows);
        PT_ASSERT_INT_EQ(d.data_v2.def_levels_byte_length, h[i].data_v2.def_levels_byte_length);
        PT_ASSERT_INT_EQ(d.data_v2.rep_levels_byte_length, h[i].data_v2.rep_levels_byte_length);
        PT_ASSERT_INT_EQ(d.data_v2.is_compressed, h[i].data_v2.is_compressed);
        /* every truncation fails cleanly */
        for (size_t n = 0; n < buf.size; n++) {
            pond_pq_tdec_init(&dec, buf.ptr, n, 0, "page header");
            PT_ASSERT_ERR(pond_pq_decode_page_header(&d, &dec), POND_ECORRUPT);
        }
        pond_buf_dispose(&buf);
    }
}

static void test_page_indexes_round_trip(void)
{
    bool nulls[3] = {false, true, false};
    pq_bytes mins[3] = {B("a"), B(""), B("m")}, maxs[3] = {B("f"), B(""), B("z")};
    int64_t ncount[3] = {0, 10, 1};
    pq_column_index ci = {3, nulls, mins, maxs, 1, 3, ncount};
    pq_page_location locs[2] = {{4, 100, 0}, {104, 90, 500}};
    pq_offset_index oi = {2, locs};
    pond_buf buf = POND_BUF_INIT;
    pq_tenc e;
    pond_pq_tenc_init(&e, &buf);
    pond_pq_encode_column_index(&e, &ci);
    size_t split = buf.size;
    pond_pq_encode_offset_index(&e, &oi);
    PT_ASSERT_OK(e.rc);
    pq_arena a = {0};
    pq_column_index dci;
    pq_offset_index doi;
    pq_tdec dec;
    pond_pq_tdec_init(&dec, buf.ptr, split, 0, "column index");
    PT_ASSERT_OK(pond_pq_decode_column_index(&dci, &a, &dec));
    PT_ASSERT_INT_EQ(dci.n_pages, 3);
    PT_ASSERT(!dci.null_pages[0] && dci.null_pages[1] && !dci.null_pages[2]);
    PT_ASSERT(bytes_eq(dci.max_values[2], "z"));
    PT_ASSERT_INT_EQ(dci.boundary_order, 1);
    PT_ASSERT_INT_EQ(dci.null_counts[1], 10);
    pond_pq_tdec_init(&dec, buf.ptr + split, buf.size - split, (int64_t)split, "offset index");
    PT_ASSERT_OK(pond_pq_decode_offset_index(&doi, &a, &dec));
    PT_ASSERT_INT_EQ(doi.n_pages, 2);
    PT_ASSERT_INT_EQ(doi.pages[1].offset, 104);
    PT_ASSERT_INT_EQ(doi.pages[1].compressed_page_size, 90);
    PT_ASSERT_INT_EQ(doi.pages[1].first_row_index, 500);
    pond__arena_dispose(&a);
    pond_buf_dispose(&buf);
}

static void test_varint_zigzag_extremes(void)
{
    int64_t vals[] = {0, -1, 1, INT64_MIN, INT64_MAX, -64, 63, INT32_MIN, INT32_MAX};
    pond_buf buf = POND_BUF_INIT;
    pq_tenc e;
    pond_pq_tenc_init(&e, &buf);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        pond_pq_tenc_i64(&e, vals[i]);
    PT_ASSERT_OK(e.rc);
    pq_tdec dec;
    pond_pq_tdec_init(&dec, buf.ptr, buf.size, 0, "test");
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        int64_t v;
        PT_ASSERT_OK(pond_pq_tdec_i64(&dec, &v));
        PT_ASSERT_INT_EQ(v, vals[i]);
    }
    /* -1 is one byte (zigzag 1), INT64_MIN ten bytes */
    PT_ASSERT_INT_EQ((uint8_t)buf.ptr[1], 1);
    pond_buf_dispose(&buf);
    /* i32 range is enforced */
    const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    int32_t v32;
    pond_pq_tdec_init(&dec, big, sizeof big, 0, "test");
    PT_ASSERT_ERR(pond_pq_tdec_i32(&dec, &v32), POND_ECORRUPT);
}

PT_SUITE(pq_thrift, PT_TEST(file_meta_round_trip), PT_TEST(truncated_footer_every_length),
         PT_TEST(lying_lengths), PT_TEST(depth_cap_and_unknown_fields),
         PT_TEST(page_header_round_trip), PT_TEST(page_indexes_round_trip),
         PT_TEST(varint_zigzag_extremes))
