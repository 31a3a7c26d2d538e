/* Round-trip fuzz target for the Parquet writer: the input bytes steer a small random schema
 * (flat and nested), random data and writer options; the batches are written with the pond
 * writer, read back with the pond reader, and the canonical rows must match exactly (abort()
 * otherwise). Any write or read error on valid input is a bug too. */
#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/errors.h>
#include <pond/parquet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The generator is shared with the unit tests (tests/parquet/). */
#include "../tests/parquet/test_parquet_write_gen.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mem_write(const void *p, size_t len, void *payload)
{
    return pond_buf_put(payload, p, len);
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_parquet_roundtrip: %s: %s\n", what, pond_error_last()->message);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seed = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        seed = seed << 8 | data[i];
    pqwg_rng r;
    pqwg_seed(&r, seed, size > 8 ? data + 8 : NULL, size > 8 ? size - 8 : 0);
    struct ArrowSchema s;
    if (pqwg_schema(&s, &r, 1 + (int)pqwg_below(&r, 3), (int)pqwg_below(&r, 3), -1) < 0)
        return 0; /* allocation failure only */
    int nb = (int)pqwg_below(&r, 3);
    struct ArrowArray b[2];
    pond_buf want = POND_BUF_INIT, got = POND_BUF_INIT, file = POND_BUF_INIT;
    int made = 0;
    for (int i = 0; i < nb; i++) {
        if (pqwg_batch(&b[i], &s, &r, pqwg_below(&r, 120), pqwg_below(&r, 3)) < 0)
            goto out;
        made++;
        if (pond_arrow_canon_batch(&want, &s, &b[i]) < 0)
            fail("canon of input");
    }
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    static const pond_parquet_compression codecs[] = {
        POND_PARQUET_COMPRESS_ZSTD, POND_PARQUET_COMPRESS_SNAPPY, POND_PARQUET_COMPRESS_LZ4_RAW,
        POND_PARQUET_COMPRESS_GZIP, POND_PARQUET_COMPRESS_NONE};
    o.compression = codecs[pqwg_below(&r, 5)];
    o.page_bytes = 32 + pqwg_below(&r, 2000);
    o.row_group_rows = 1 + pqwg_below(&r, 150);
    o.dictionary_bytes = pqwg_below(&r, 3) == 0 ? 0 : 16 + pqwg_below(&r, 1000);
    o.page_crc = pqwg_below(&r, 2);
    o.max_statistics_bytes = 1 + pqwg_below(&r, 16);
    o.delta_ints = pqwg_below(&r, 4) != 0;
    o.split_floats = pqwg_below(&r, 2);
    o.adaptive_codec = pqwg_below(&r, 4) != 0;
    pond_parquet_sink sink = {mem_write, NULL, &file};
    pond_parquet_writer *w = NULL;
    if (pond_parquet_writer_new(&w, &sink, &s, &o) < 0)
        fail("writer_new");
    for (int i = 0; i < made; i++)
        if (pond_parquet_writer_write(w, &b[i]) < 0)
            fail("write");
    if (pond_parquet_writer_finish(w) < 0)
        fail("finish");
    pond_parquet_writer_free(w);
    pond_parquet_reader *rd = NULL;
    struct ArrowSchema rs = {0};
    if (pond_parquet_reader_open_memory(&rd, file.ptr, file.size, NULL) < 0 ||
        pond_parquet_reader_schema(rd, &rs) < 0)
        fail("reader open");
    for (;;) {
        struct ArrowArray a;
        int rc = pond_parquet_reader_next(rd, &a);
        if (rc == POND_ITEROVER)
            break;
        if (rc < 0)
            fail("read");
        if (pond_arrow_canon_batch(&got, &rs, &a) < 0)
            fail("canon of output");
        pond_arrow_array_release(&a);
    }
    pond_arrow_schema_release(&rs);
    pond_parquet_reader_free(rd);
    if (got.size != want.size || (got.size && memcmp(got.ptr, want.ptr, got.size) != 0)) {
        fprintf(stderr, "fuzz_parquet_roundtrip: rows differ (%zu vs %zu bytes)\n", got.size,
                want.size);
        abort();
    }
out:
    for (int i = 0; i < made; i++)
        pond_arrow_array_release(&b[i]);
    pond_arrow_schema_release(&s);
    pond_buf_dispose(&want);
    pond_buf_dispose(&got);
    pond_buf_dispose(&file);
    return 0;
}
