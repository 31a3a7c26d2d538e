/* Bounded memory on a 2 GiB file (64 MiB under pt_light, i.e. valgrind): written through
 * the streaming writer a batch at a time, read back through the file reader a row group at a
 * time, with the allocation counter's peak asserted against one row group plus bounded
 * buffers. The data is incompressible-sized fixed binary, uncompressed, so the test is
 * disk-bound (a few seconds). */
#include "pt.h"

#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/parquet.h>

#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VALUE_BYTES 4096
#define BATCH_ROWS 2048             /* 8 MiB of payload per batch */
#define RG_BYTES ((size_t)32 << 20) /* the writer's row-group byte cap */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* A file sink without fsync: the test is about memory, and syncing 2 GiB would only make it
 * wait for the disk. */
typedef struct {
    int fd;
    const char *path;
} nosync_sink;

static int nosync_write(const void *data, size_t len, void *payload)
{
    nosync_sink *k = payload;
    return pond__write_all(k->fd, data, len, k->path, POND_DOM_NONE);
}

static void test_two_gib_bounded(void)
{
    int64_t total = pt_light() ? (int64_t)64 << 20 : (int64_t)2 << 30;
    int64_t n_batches = total / ((int64_t)BATCH_ROWS * VALUE_BYTES);
    char path[4096];
    snprintf(path, sizeof path, "%s/big.parquet", PT_TMPDIR());

    struct ArrowSchema s;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "l", "row", 0, 0));
    char wfmt[16];
    snprintf(wfmt, sizeof wfmt, "w:%d", VALUE_BYTES);
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], wfmt, "payload", 0, 0));

    /* one batch, rewritten in place for every write: row numbers and each value's first
     * 8 bytes change, the rest is pseudo-random */
    struct ArrowArray batch;
    PT_ASSERT_OK(pond_arrow_array_init(&batch, BATCH_ROWS, 0, 1, 2));
    PT_ASSERT_OK(pond_arrow_array_init(batch.children[0], BATCH_ROWS, 0, 2, 0));
    PT_ASSERT_OK(pond_arrow_array_init(batch.children[1], BATCH_ROWS, 0, 2, 0));
    int64_t *rows =
        pond_arrow_array_alloc_buffer(batch.children[0], 1, BATCH_ROWS * sizeof(int64_t));
    uint8_t *vals =
        pond_arrow_array_alloc_buffer(batch.children[1], 1, (size_t)BATCH_ROWS * VALUE_BYTES);
    PT_ASSERT(rows && vals);
    for (size_t i = 0; i < (size_t)BATCH_ROWS * VALUE_BYTES / 8; i++) {
        uint64_t x = mix(i + 1);
        memcpy(vals + i * 8, &x, 8);
    }

    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.compression = POND_PARQUET_COMPRESS_NONE;
    o.dictionary_bytes = 0;
    /* the bounds below assume encoded bytes = decoded bytes (no compression): PLAIN, since
     * DELTA_BINARY_PACKED stores the row numbers in almost nothing and a row group of
     * RG_BYTES encoded would then decode to more */
    o.delta_ints = false;
    o.page_crc = false;
    o.row_group_bytes = RG_BYTES;
    o.max_statistics_bytes = 64; /* no 4 KiB min/max per page held for the page index */

    /* ---- write: the caller's batch plus at most one row group of encoded pages, one page
     * per column and bounded metadata */
    size_t base = pond_alloc_current();
    pond_alloc_reset_peak();
    nosync_sink ns = {-1, path};
    PT_ASSERT_OK(pond__open(&ns.fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0644, POND_DOM_NONE));
    pond_parquet_sink sink = {nosync_write, NULL, &ns};
    pond_parquet_writer *w;
    PT_ASSERT_OK(pond_parquet_writer_new(&w, &sink, &s, &o));
    for (int64_t b = 0; b < n_batches; b++) {
        for (int64_t i = 0; i < BATCH_ROWS; i++) {
            int64_t row = b * BATCH_ROWS + i;
            rows[i] = row;
            uint64_t tag = mix((uint64_t)row);
            memcpy(vals + (size_t)i * VALUE_BYTES, &tag, 8);
        }
        PT_ASSERT_OK(pond_parquet_writer_write(w, &batch));
    }
    PT_ASSERT_OK(pond_parquet_writer_finish(w));
    pond_parquet_writer_free(w);
    pond__close(ns.fd);
    size_t write_peak = pond_alloc_peak() - base;
    size_t write_bound = RG_BYTES + ((size_t)16 << 20);
    printf("  wrote %lld MiB: writer peak %.1f MiB (bound %.1f MiB)\n", (long long)(total >> 20),
           (double)write_peak / 1048576.0, (double)write_bound / 1048576.0);
    PT_ASSERT(write_peak <= write_bound);
    pond_arrow_array_release(&batch);

    /* ---- read: a row group at a time; the reader holds the projected chunks' bytes, their
     * decoded values and the output arrays of one row group, plus per-thread page buffers */
    base = pond_alloc_current();
    pond_alloc_reset_peak();
    pond_parquet_reader *r;
    pond_parquet_read_options ro = POND_PARQUET_READ_OPTIONS_INIT;
    ro.threads = 1; /* one row group at a time (read-ahead is checked below) */
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, &ro));
    PT_ASSERT_INT_EQ(pond_parquet_reader_num_rows(r), n_batches * BATCH_ROWS);
    PT_ASSERT(pond_parquet_reader_num_row_groups(r) >= (int)(total / (int64_t)RG_BYTES));
    int64_t next = 0;
    struct ArrowArray a;
    int rc;
    while ((rc = pond_parquet_reader_next(r, &a)) == 0) {
        const int64_t *rv = (const int64_t *)a.children[0]->buffers[1] + a.children[0]->offset;
        const uint8_t *pv = (const uint8_t *)a.children[1]->buffers[1] +
                            (size_t)a.children[1]->offset * VALUE_BYTES;
        for (int64_t i = 0; i < a.length; i++, next++) {
            if (rv[i] != next)
                PT_ASSERT_INT_EQ(rv[i], next);
            uint64_t tag;
            memcpy(&tag, pv + (size_t)i * VALUE_BYTES, 8);
            if (tag != mix((uint64_t)next))
                PT_ASSERT(tag == mix((uint64_t)next));
        }
        /* the tail of the last value of the batch is the generated pattern */
        uint64_t x;
        size_t last = (size_t)(a.length - 1) * VALUE_BYTES + VALUE_BYTES - 8;
        memcpy(&x, pv + last, 8);
        size_t k = ((size_t)(next - 1) % BATCH_ROWS * VALUE_BYTES + VALUE_BYTES - 8) / 8;
        PT_ASSERT(x == mix(k + 1));
        pond_arrow_array_release(&a);
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT_INT_EQ(next, n_batches * BATCH_ROWS);
    pond_parquet_reader_free(r);
    size_t read_peak = pond_alloc_peak() - base;
    size_t read_bound = 2 * RG_BYTES + ((size_t)8 << 20);
    printf("  read back: reader peak %.1f MiB (bound %.1f MiB)\n", (double)read_peak / 1048576.0,
           (double)read_bound / 1048576.0);
    PT_ASSERT(read_peak <= read_bound);
    PT_ASSERT(pond_alloc_current() <= base);

    /* with read-ahead (2 threads), up to 2 row groups are decoded besides the caller's: the
     * first 256 MiB of the file */
    base = pond_alloc_current();
    pond_alloc_reset_peak();
    ro.threads = 2;
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, &ro));
    next = 0;
    while (next < ((int64_t)256 << 20) / VALUE_BYTES &&
           (rc = pond_parquet_reader_next(r, &a)) == 0) {
        const int64_t *rv = (const int64_t *)a.children[0]->buffers[1] + a.children[0]->offset;
        PT_ASSERT_INT_EQ(rv[0], next);
        PT_ASSERT_INT_EQ(rv[a.length - 1], next + a.length - 1);
        next += a.length;
        pond_arrow_array_release(&a);
    }
    PT_ASSERT(rc == 0 || rc == POND_ITEROVER);
    pond_parquet_reader_free(r);
    read_peak = pond_alloc_peak() - base;
    read_bound = 3 * (2 * RG_BYTES) + ((size_t)8 << 20);
    printf("  read-ahead (2 threads): reader peak %.1f MiB (bound %.1f MiB)\n",
           (double)read_peak / 1048576.0, (double)read_bound / 1048576.0);
    PT_ASSERT(read_peak <= read_bound);
    PT_ASSERT(pond_alloc_current() <= base);

    PT_ASSERT(unlink(path) == 0);
    pond_arrow_schema_release(&s);
}

PT_SUITE(pq_big, PT_TEST(two_gib_bounded))
