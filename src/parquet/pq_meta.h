/* Parquet metadata structs (parquet.thrift) with compact-protocol decode and encode.
 *
 * Decoded structs live in a pq_arena: every array and string points into arena memory or
 * into the decoded buffer (which the caller keeps alive as long as the structs). The writer
 * fills the same structs with its own memory and encodes them. Optional scalar fields carry a
 * `has_` flag (or -1 / NULL when absent, as noted). */
#ifndef POND_PQ_META_H
#define POND_PQ_META_H

#include "parquet/pq_thrift.h"
#include "util/util.h"

#include <stdbool.h>

/* ---------------------------------------------------------------- enums */
enum {
    PQ_BOOLEAN = 0,
    PQ_INT32,
    PQ_INT64,
    PQ_INT96,
    PQ_FLOAT,
    PQ_DOUBLE,
    PQ_BYTE_ARRAY,
    PQ_FIXED_LEN_BYTE_ARRAY
};
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9
};
enum {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_LZO = 3,
    PQ_CODEC_BROTLI = 4,
    PQ_CODEC_LZ4 = 5,
    PQ_CODEC_ZSTD = 6,
    PQ_CODEC_LZ4_RAW = 7
};
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3 };
/* ConvertedType */
enum {
    PQ_CT_UTF8 = 0,
    PQ_CT_MAP = 1,
    PQ_CT_MAP_KEY_VALUE = 2,
    PQ_CT_LIST = 3,
    PQ_CT_ENUM = 4,
    PQ_CT_DECIMAL = 5,
    PQ_CT_DATE = 6,
    PQ_CT_TIME_MILLIS = 7,
    PQ_CT_TIME_MICROS = 8,
    PQ_CT_TIMESTAMP_MILLIS = 9,
    PQ_CT_TIMESTAMP_MICROS = 10,
    PQ_CT_UINT_8 = 11,
    PQ_CT_UINT_16 = 12,
    PQ_CT_UINT_32 = 13,
    PQ_CT_UINT_64 = 14,
    PQ_CT_INT_8 = 15,
    PQ_CT_INT_16 = 16,
    PQ_CT_INT_32 = 17,
    PQ_CT_INT_64 = 18,
    PQ_CT_JSON = 19,
    PQ_CT_BSON = 20,
    PQ_CT_INTERVAL = 21
};
/* LogicalType union member (field id in parquet.thrift); 0 = none */
enum {
    PQ_LT_NONE = 0,
    PQ_LT_STRING = 1,
    PQ_LT_MAP = 2,
    PQ_LT_LIST = 3,
    PQ_LT_ENUM = 4,
    PQ_LT_DECIMAL = 5,
    PQ_LT_DATE = 6,
    PQ_LT_TIME = 7,
    PQ_LT_TIMESTAMP = 8,
    PQ_LT_INTEGER = 10,
    PQ_LT_UNKNOWN = 11,
    PQ_LT_JSON = 12,
    PQ_LT_BSON = 13,
    PQ_LT_UUID = 14,
    PQ_LT_FLOAT16 = 15,
    PQ_LT_VARIANT = 16,
    PQ_LT_GEOMETRY = 17,
    PQ_LT_GEOGRAPHY = 18,
    PQ_LT_OTHER = 99 /* an id this reader does not know */
};
enum { PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 };

typedef struct {
    const uint8_t *ptr;
    size_t len;
} pq_bytes; /* ptr == NULL means absent */

typedef struct {
    pq_bytes max, min; /* deprecated fields 1, 2 */
    bool has_null_count, has_distinct_count;
    int64_t null_count, distinct_count;
    pq_bytes max_value, min_value; /* 5, 6 */
    bool has_max_exact, has_min_exact;
    bool is_max_value_exact, is_min_value_exact;
} pq_statistics;

typedef struct {
    int kind;             /* PQ_LT_* */
    int scale, precision; /* DECIMAL */
    int unit;             /* TIME / TIMESTAMP: PQ_UNIT_* */
    bool utc;             /* TIME / TIMESTAMP isAdjustedToUTC */
    int bit_width;        /* INTEGER */
    bool is_signed;       /* INTEGER */
} pq_logical_type;

typedef struct {
    int type;            /* PQ_BOOLEAN..; -1 for groups */
    int32_t type_length; /* 0 if absent */
    int repetition;      /* PQ_REQUIRED..; -1 if absent (root) */
    pq_bytes name;
    int32_t num_children;     /* 0 for leaves */
    int converted_type;       /* -1 if absent */
    int32_t scale, precision; /* -1 if absent */
    bool has_field_id;
    int32_t field_id;
    pq_logical_type logical; /* kind PQ_LT_NONE if absent */
} pq_schema_element;

typedef struct {
    pq_bytes key, value; /* value.ptr NULL when absent */
} pq_kv;

typedef struct {
    int page_type, encoding;
    int32_t count;
} pq_page_encoding_stats;

typedef struct {
    int type;
    uint32_t n_encodings;
    int32_t *encodings;
    uint32_t n_path;
    pq_bytes *path;
    int codec;
    int64_t num_values;
    int64_t total_uncompressed_size, total_compressed_size;
    uint32_t n_kv;
    pq_kv *kv;
    int64_t data_page_offset;
    int64_t index_page_offset;      /* -1 if absent */
    int64_t dictionary_page_offset; /* -1 if absent */
    bool has_statistics;
    pq_statistics statistics;
    uint32_t n_encoding_stats;
    pq_page_encoding_stats *encoding_stats;
    int64_t bloom_filter_offset; /* -1 if absent */
    int32_t bloom_filter_length; /* -1 if absent */
} pq_column_meta;

typedef struct {
    pq_bytes file_path;
    int64_t file_offset;
    bool has_meta_data;
    pq_column_meta meta_data;
    int64_t offset_index_offset; /* -1 if absent */
    int32_t offset_index_length;
    int64_t column_index_offset; /* -1 if absent */
    int32_t column_index_length;
    bool encrypted; /* crypto_metadata or encrypted_column_metadata present */
} pq_column_chunk;

typedef struct {
    int32_t column_idx;
    bool descending, nulls_first;
} pq_sorting_column;

typedef struct {
    uint32_t n_columns;
    pq_column_chunk *columns;
    int64_t total_byte_size;
    int64_t num_rows;
    uint32_t n_sorting;
    pq_sorting_column *sorting;
    int64_t file_offset;           /* -1 if absent */
    int64_t total_compressed_size; /* -1 if absent */
    int32_t ordinal;               /* -1 if absent */
} pq_row_group;

typedef struct {
    int32_t version;
    uint32_t n_schema;
    pq_schema_element *schema;
    int64_t num_rows;
    uint32_t n_row_groups;
    pq_row_group *row_groups;
    uint32_t n_kv;
    pq_kv *kv;
    pq_bytes created_by;
    uint32_t n_column_orders; /* each is TYPE_ORDER (the only defined one) */
    bool encrypted_algorithm; /* encryption_algorithm set (plaintext footer mode) */
} pq_file_meta;

typedef struct {
    int32_t num_values;
    int encoding, def_encoding, rep_encoding;
    bool has_statistics;
    pq_statistics statistics;
} pq_data_page_header;

typedef struct {
    int32_t num_values;
    int encoding;
    bool has_is_sorted, is_sorted;
} pq_dict_page_header;

typedef struct {
    int32_t num_values, num_nulls, num_rows;
    int encoding;
    int32_t def_levels_byte_length, rep_levels_byte_length;
    bool is_compressed; /* default true */
    bool has_statistics;
    pq_statistics statistics;
} pq_data_page_header_v2;

typedef struct {
    int type;
    int32_t uncompressed_page_size, compressed_page_size;
    bool has_crc;
    int32_t crc;
    bool has_data, has_dict, has_data_v2;
    pq_data_page_header data;
    pq_dict_page_header dict;
    pq_data_page_header_v2 data_v2;
} pq_page_header;

typedef struct {
    int64_t offset;
    int32_t compressed_page_size;
    int64_t first_row_index;
} pq_page_location;

typedef struct {
    uint32_t n_pages;
    pq_page_location *pages;
} pq_offset_index;

typedef struct {
    uint32_t n_pages;
    bool *null_pages;
    pq_bytes *min_values, *max_values;
    int boundary_order;     /* 0 unordered, 1 ascending, 2 descending */
    uint32_t n_null_counts; /* 0 if absent */
    int64_t *null_counts;
} pq_column_index;

/* ---------------------------------------------------------------- arena */
/* util's arena: pond__arena_zalloc (zeroed, 16-aligned; NULL + POND_ENOMEM), pond__arena_dispose */
typedef pond__arena pq_arena;

/* ---------------------------------------------------------------- decode */
int pond_pq_decode_file_meta(pq_file_meta *out, pq_arena *a, pq_tdec *d);
int pond_pq_decode_page_header(pq_page_header *out, pq_tdec *d); /* no allocation */
int pond_pq_decode_offset_index(pq_offset_index *out, pq_arena *a, pq_tdec *d);
int pond_pq_decode_column_index(pq_column_index *out, pq_arena *a, pq_tdec *d);

/* ---------------------------------------------------------------- encode (sticky rc in e) */
void pond_pq_encode_file_meta(pq_tenc *e, const pq_file_meta *m);
void pond_pq_encode_page_header(pq_tenc *e, const pq_page_header *h);
void pond_pq_encode_offset_index(pq_tenc *e, const pq_offset_index *oi);
void pond_pq_encode_column_index(pq_tenc *e, const pq_column_index *ci);
void pond_pq_encode_statistics(pq_tenc *e, const pq_statistics *s);

/* Names for enums (static strings; "?" for unknown values). */
const char *pond_pq_type_name(int t);
const char *pond_pq_encoding_name(int e);
const char *pond_pq_codec_name(int c);
const char *pond_pq_converted_name(int c);
const char *pond_pq_repetition_name(int r);
const char *pond_pq_page_type_name(int t);

#endif
