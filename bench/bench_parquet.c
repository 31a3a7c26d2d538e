/* Parquet benchmark (pond side): generates N rows (bench_data.h: a UTC timestamp at 1 s steps,
 * three doubles as random walks, one string column with 16 distinct values), then times
 *   - writing them with zstd and with snappy,
 *   - a full read of the zstd file (decode every column, sum them),
 *   - the same write and full read with the doubles as BYTE_STREAM_SPLIT (split_floats),
 *   - a read of a 1% time range (row groups pruned by statistics, rows filtered exactly).
 * Output: key=value lines for bench/parquet.sh.
 *
 * --threads T: the writer's and the reader's threads (pond_parquet_writer_options.threads,
 * pond_parquet_read_options.threads). Also prints the writer's heap peak (pond's allocator).
 *
 * usage: bench_parquet [--rows N] [--dir DIR] [--row-group N] [--zstd-level L] [--reps R]
 *                      [--threads T] [--page-bytes B] */
#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/errors.h>
#include <pond/parquet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_data.h"

#define BATCH 131072
#define T0 BENCH_DATA_T0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_parquet: %s: %s\n", what, pond_error_last()->message);
    exit(1);
}

static int g_threads = 1;
static size_t g_page_bytes = 0; /* 0: the writer's default */
static size_t g_write_peak = 0; /* the writer's heap peak (pond allocator), bytes */

static double write_file(const char *path, const struct ArrowSchema *s, struct ArrowArray *batches,
                         int nb, pond_parquet_compression codec, int level, int64_t rg_rows,
                         bool split_floats)
{
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.compression = codec;
    o.split_floats = split_floats;
    if (g_page_bytes > 0)
        o.page_bytes = g_page_bytes;
    o.compression_level = level;
    if (rg_rows > 0)
        o.row_group_rows = rg_rows;
    o.threads = g_threads;
    pond_parquet_sink sink;
    pond_parquet_writer *w;
    size_t base = pond_alloc_current();
    pond_alloc_reset_peak();
    double t = now();
    if (pond_parquet_file_sink_open(&sink, path) < 0 ||
        pond_parquet_writer_new(&w, &sink, s, &o) < 0)
        die(path);
    for (int i = 0; i < nb; i++)
        if (pond_parquet_writer_write(w, &batches[i]) < 0)
            die("write");
    if (pond_parquet_writer_finish(w) < 0)
        die("finish");
    t = now() - t;
    size_t peak = pond_alloc_peak() - base;
    if (peak > g_write_peak)
        g_write_peak = peak;
    pond_parquet_writer_free(w);
    pond_parquet_file_sink_close(&sink);
    return t;
}

typedef struct {
    int64_t rows;
    int64_t ts_sum;
    double sum[3];
    int64_t tag_bytes;
} sums;

/* Read the file (optionally only ts in [lo, hi]) and sum every column. */

static double read_file(const char *path, sums *out, bool range, int64_t lo, int64_t hi)
{
    pond_parquet_reader *r;
    memset(out, 0, sizeof *out);
    pond_parquet_read_options ro = POND_PARQUET_READ_OPTIONS_INIT;
    ro.threads = g_threads;
    double t = now();
    if (pond_parquet_reader_open_file(&r, path, &ro) < 0)
        die(path);
    if (range && pond_parquet_reader_prune_int(r, "ts", lo, hi) < 0)
        die("prune");
    for (;;) {
        struct ArrowArray a;
        int rc = pond_parquet_reader_next(r, &a);
        if (rc == POND_ITEROVER)
            break;
        if (rc < 0)
            die("read");
        const struct ArrowArray *c0 = a.children[0];
        const int64_t *ts = (const int64_t *)c0->buffers[1] + c0->offset;
        const double *v[3];
        for (int k = 0; k < 3; k++)
            v[k] = (const double *)a.children[1 + k]->buffers[1] + a.children[1 + k]->offset;
        const struct ArrowArray *ct = a.children[4];
        const int32_t *off = (const int32_t *)ct->buffers[1] + ct->offset;
        int64_t i0 = 0, i1 = a.length;
        if (range) {
            /* ts is sorted within the file: binary search the bounds */
            int64_t l = 0, h = a.length;
            while (l < h) {
                int64_t m = (l + h) / 2;
                if (ts[m] < lo)
                    l = m + 1;
                else
                    h = m;
            }
            i0 = l;
            h = a.length;
            while (l < h) {
                int64_t m = (l + h) / 2;
                if (ts[m] <= hi)
                    l = m + 1;
                else
                    h = m;
            }
            i1 = l;
        }
        double s0 = 0, s1 = 0, s2 = 0;
        int64_t tsum = 0;
        for (int64_t i = i0; i < i1; i++) {
            tsum += ts[i];
            s0 += v[0][i];
            s1 += v[1][i];
            s2 += v[2][i];
        }
        out->ts_sum += tsum;
        out->sum[0] += s0;
        out->sum[1] += s1;
        out->sum[2] += s2;
        out->tag_bytes += i1 > i0 ? off[i1] - off[i0] : 0;
        out->rows += i1 - i0;
        pond_arrow_array_release(&a);
    }
    t = now() - t;
    pond_parquet_reader_free(r);
    return t;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

int main(int argc, char **argv)
{
    int64_t rows = 10000000, rg_rows = 0; /* 0: the writer's default */
    const char *dir = ".";
    int level = 0, reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--row-group") && i + 1 < argc)
            rg_rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--zstd-level") && i + 1 < argc)
            level = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            g_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--page-bytes") && i + 1 < argc)
            g_page_bytes = (size_t)atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_parquet [--rows N] [--dir DIR] [--row-group N] "
                            "[--zstd-level L] [--reps R] [--threads T] [--page-bytes B]\n");
            return 2;
        }
    }
    struct ArrowSchema s;
    bench_data_schema(&s);
    int nb = (int)((rows + BATCH - 1) / BATCH);
    struct ArrowArray *batches = calloc((size_t)nb, sizeof *batches);
    bench_data gen = BENCH_DATA_INIT;
    for (int i = 0; i < nb; i++) {
        int64_t n = rows - (int64_t)i * BATCH < BATCH ? rows - (int64_t)i * BATCH : BATCH;
        bench_data_batch(&gen, &batches[i], (int64_t)i * BATCH, n);
    }
    char zpath[1024], spath[1024], xpath[1024];
    snprintf(zpath, sizeof zpath, "%s/pond_zstd.parquet", dir);
    snprintf(spath, sizeof spath, "%s/pond_snappy.parquet", dir);
    snprintf(xpath, sizeof xpath, "%s/pond_zstd_split.parquet", dir);
    double tz = 1e30, ts = 1e30, tx = 1e30;
    for (int r = 0; r < reps; r++) {
        double t =
            write_file(zpath, &s, batches, nb, POND_PARQUET_COMPRESS_ZSTD, level, rg_rows, false);
        tz = t < tz ? t : tz;
        t = write_file(spath, &s, batches, nb, POND_PARQUET_COMPRESS_SNAPPY, 0, rg_rows, false);
        ts = t < ts ? t : ts;
        /* the doubles as BYTE_STREAM_SPLIT (an option: docs/decisions.md) */
        t = write_file(xpath, &s, batches, nb, POND_PARQUET_COMPRESS_ZSTD, level, rg_rows, true);
        tx = t < tx ? t : tx;
    }
    for (int i = 0; i < nb; i++)
        pond_arrow_array_release(&batches[i]);
    free(batches);
    pond_arrow_schema_release(&s);
    printf("rows=%" PRId64 "\n", rows);
    printf("pond_threads=%d\n", g_threads);
    printf("pond_write_zstd_s=%.4f\n", tz);
    printf("pond_write_snappy_s=%.4f\n", ts);
    printf("pond_write_zstd_split_s=%.4f\n", tx);
    printf("pond_zstd_split_bytes=%" PRId64 "\n", file_size(xpath));
    printf("pond_zstd_bytes=%" PRId64 "\n", file_size(zpath));
    printf("pond_snappy_bytes=%" PRId64 "\n", file_size(spath));
    printf("pond_write_peak_heap_bytes=%zu\n", g_write_peak);
    sums full, part, split;
    double tr = 1e30, tp = 1e30, trx = 1e30;
    int64_t lo = T0 + rows / 2 * 1000000, hi = lo + (rows / 100) * 1000000 - 1;
    for (int r = 0; r < reps; r++) {
        double t = read_file(zpath, &full, false, 0, 0);
        tr = t < tr ? t : tr;
        t = read_file(zpath, &part, true, lo, hi);
        tp = t < tp ? t : tp;
        t = read_file(xpath, &split, false, 0, 0);
        trx = t < trx ? t : trx;
    }
    if (split.rows != full.rows || split.ts_sum != full.ts_sum ||
        memcmp(split.sum, full.sum, sizeof full.sum) != 0 || split.tag_bytes != full.tag_bytes) {
        fprintf(stderr, "bench_parquet: the split-floats file reads back different sums\n");
        return 1;
    }
    printf("pond_read_full_s=%.4f\n", tr);
    printf("pond_read_full_rows=%" PRId64 "\n", full.rows);
    printf("pond_read_full_check=%.6e\n", full.sum[0] + full.sum[1] + full.sum[2]);
    printf("pond_read_full_split_s=%.4f\n", trx);
    printf("pond_read_range_s=%.4f\n", tp);
    printf("pond_read_range_rows=%" PRId64 "\n", part.rows);
    printf("range_lo_us=%" PRId64 "\n", lo);
    printf("range_hi_us=%" PRId64 "\n", hi);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) /* includes the generated input, all in memory */
        printf("pond_process_peak_rss_kb=%ld\n", ru.ru_maxrss);
    return 0;
}
