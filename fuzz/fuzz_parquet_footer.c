/* A whole Parquet file from memory: footer, schema, then every row group decoded, validated
 * as Arrow and rendered canonically; then read again with a range predicate on each column
 * that takes one (row-group and page pruning through the column/offset indexes). Allocations
 * are capped at 64 MiB per chunk. */
#include <pond/arrow.h>
#include <pond/parquet.h>

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int discard(const void *buf, size_t len, void *payload)
{
    (void)payload;
    (void)buf;
    (void)len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.max_alloc = 64u << 20;
    /* as a pond version is read (table_scan.c): page CRCs of pond-written files are not
     * checked, so a mutated page of a pond-written seed reaches the decoders (with the CRCs
     * checked, every mutation of a page body stops at its CRC) */
    o.skip_crc_created_by = POND_PARQUET_CREATED_BY_PREFIX;
    pond_parquet_reader *r = NULL;
    if (pond_parquet_reader_open_memory(&r, data, size, &o) == 0) {
        struct ArrowSchema s;
        if (pond_parquet_reader_schema(r, &s) == 0) {
            for (int i = 0; i < pond_parquet_reader_num_row_groups(r); i++) {
                struct ArrowArray a;
                if (pond_parquet_reader_read_row_group(r, i, &a) == 0) {
                    if (pond_arrow_array_validate(&s, &a) != 0)
                        __builtin_trap(); /* the reader must only produce valid arrays */
                    pond_arrow_array_release(&a);
                }
            }
            pond_arrow_schema_release(&s);
        }
        pond_buf out = POND_BUF_INIT;
        (void)pond_parquet_reader_describe(&out, r);
        pond_buf_dispose(&out);
        (void)pond_parquet_dump(r, discard, NULL, NULL);
    }
    pond_parquet_reader_free(r);
    r = NULL;
    /* pruned reads: the range comes from the input's first bytes */
    int64_t lo = 0, hi = 0;
    if (size >= 16) {
        memcpy(&lo, data + 4, 8);
        memcpy(&hi, data + 8, 8);
    }
    if (lo > hi) {
        int64_t t = lo;
        lo = hi;
        hi = t;
    }
    o.threads = 1;
    if (pond_parquet_reader_open_memory(&r, data, size, &o) == 0) {
        struct ArrowSchema s;
        if (pond_parquet_reader_schema(r, &s) == 0) {
            for (int64_t c = 0; c < s.n_children; c++) {
                if (pond_parquet_reader_prune_int(r, s.children[c]->name, lo, hi) < 0)
                    (void)pond_parquet_reader_prune_double(r, s.children[c]->name, (double)lo,
                                                           (double)hi);
            }
            struct ArrowArray a;
            while (pond_parquet_reader_next(r, &a) == 0) {
                if (pond_arrow_array_validate(&s, &a) != 0)
                    __builtin_trap();
                pond_arrow_array_release(&a);
            }
            pond_arrow_schema_release(&s);
        }
    }
    pond_parquet_reader_free(r);
    return 0;
}
