/* SQL benchmark, pond side (bench/sql.sh runs it next to DuckDB).
 *
 * Generates ROWS rows — ts (timestamp UTC, 1 s steps), a, b, c (doubles, random walks), tag
 * (string, 16 distinct values) — writes them into a new on-disk pond as the series /s (in
 * VERSIONS versions of consecutive time, as a series grows by appends) with pond's own writer,
 * and exports the same rows as one Parquet file (zstd) for DuckDB. Then times, best of REPS,
 * the same two queries DuckDB runs: a full-scan aggregate and a 1% time-range aggregate.
 * A query's time covers prepare, step and finalize on an attached table (the stream opens the
 * versions it needs, reads their footers and pages); attaching the series (its version list
 * and every version's footer, for the union schema) is timed separately, like opening the pond.
 * Prints key=value lines (wall and CPU seconds: the machine may be shared).
 *
 * With the aggregate fast path (default) both queries are computed over Arrow batches in C;
 * --no-fast runs them through SQLite's engine over the virtual table.
 *
 * --threads T: the scans' decoding threads (pond_sql_set_threads; default 1).
 *
 * usage: bench_sql [--rows N] [--versions V] [--dir DIR] [--reps R] [--query-only] [--no-fast]
 *                  [--threads T] */
#include <pond/arrow.h>
#include <pond/errors.h>
#include <pond/oplog.h>
#include <pond/parquet.h>
#include <pond/sql.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    fprintf(stderr, "bench_sql: %s: %s\n", what, pond_error_last()->message);
    exit(1);
}

typedef struct {
    double seconds, cpu_seconds;
    int64_t rows;
    char text[256]; /* the result row, for comparing with DuckDB */
    pond_table_scan_stats stats;
} result;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Prepares, steps and finalizes one query on the attached table t. */
static void run_query(result *out, pond_sql *q, const char *sql)
{
    sqlite3_stmt *st;
    pond_sql_reset_stats(q);
    double t = now(), c = cpu_now();
    if (pond_sql_prepare(&st, q, sql) < 0)
        die("query");
    int rc = pond_sql_step(q, st);
    if (rc != 1)
        die("step");
    out->rows = sqlite3_column_int64(st, 0);
    snprintf(out->text, sizeof out->text, "%lld %.6e %.6e %.6e", (long long)out->rows,
             sqlite3_column_double(st, 1), sqlite3_column_double(st, 2),
             sqlite3_column_double(st, 3));
    if (pond_sql_step(q, st) != 0)
        die("step");
    sqlite3_finalize(st);
    out->seconds = now() - t;
    out->cpu_seconds = cpu_now() - c;
    pond_sql_table_stats(&out->stats, q, "t");
}

int main(int argc, char **argv)
{
    int64_t rows = 10000000;
    int versions = 10, reps = 3;
    bool query_only = false, range_only = false, fast = true;
    int threads = 1;
    const char *dir = ".";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--versions") && i + 1 < argc)
            versions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--query-only"))
            query_only = true;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) /* decoding threads */
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-fast")) /* SQLite's engine for every query */
            fast = false;
        else if (!strcmp(argv[i], "--range-only")) /* for profiling */
            query_only = range_only = true;
        else {
            fprintf(stderr, "usage: bench_sql [--rows N] [--versions V] [--dir DIR] [--reps R] "
                            "[--query-only] [--range-only] [--no-fast] [--threads T]\n");
            return 2;
        }
    }
    if (rows < 100 || versions < 1 || versions > 1000) {
        fprintf(stderr, "bench_sql: need --rows >= 100 and 1 <= --versions <= 1000\n");
        return 2;
    }
    char pond_dir[1024], pq_path[1024];
    snprintf(pond_dir, sizeof pond_dir, "%s/pond", dir);
    snprintf(pq_path, sizeof pq_path, "%s/data.parquet", dir);
    pond_backend *be;
    pond_fs *fs;
    if (!query_only) {
        struct ArrowSchema s;
        bench_data_schema(&s);
        bench_data gen = BENCH_DATA_INIT;
        if (pond_oplog_create(pond_dir, NULL) < 0 || pond_oplog_open(&be, pond_dir, NULL) < 0 ||
            pond_fs_open(&fs, be, NULL) < 0)
            die(pond_dir);
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.compression = POND_PARQUET_COMPRESS_ZSTD;
        /* DuckDB's file is zstd throughout, as `pond export` writes it (pond's own versions
         * store incompressible chunks raw: adaptive_codec) */
        o.adaptive_codec = false;
        pond_parquet_sink sink;
        pond_parquet_writer *w;
        if (pond_parquet_file_sink_open(&sink, pq_path) < 0 ||
            pond_parquet_writer_new(&w, &sink, &s, &o) < 0)
            die(pq_path);
        double t = now();
        int64_t per = rows / versions, row = 0;
        for (int v = 0; v < versions; v++) {
            int64_t end = v == versions - 1 ? rows : row + per;
            int nb = (int)((end - row + BATCH - 1) / BATCH);
            struct ArrowArray *batches = calloc((size_t)nb, sizeof *batches);
            for (int i = 0; i < nb; i++) {
                int64_t n = end - row < BATCH ? end - row : BATCH;
                bench_data_batch(&gen, &batches[i], row, n);
                if (pond_parquet_writer_write(w, &batches[i]) < 0)
                    die("parquet write");
                row += n;
            }
            struct ArrowArrayStream in;
            if (pond_arrow_stream_from_batches(&in, &s, batches, (size_t)nb) < 0)
                die("stream");
            free(batches);
            if (pond_fs_begin(fs, NULL) < 0 ||
                pond_table_write_stream(NULL, fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &in, NULL) <
                    0 ||
                pond_fs_commit(NULL, fs) < 0)
                die("pond write");
        }
        if (pond_parquet_writer_finish(w) < 0)
            die("parquet finish");
        pond_parquet_writer_free(w);
        pond_parquet_file_sink_close(&sink);
        printf("generate_s=%.3f\n", now() - t);
        pond_arrow_schema_release(&s);
        pond_fs_free(fs);
        pond_backend_free(be);
    }
    if (pond_oplog_open(&be, pond_dir, NULL) < 0 || pond_fs_open(&fs, be, NULL) < 0)
        die(pond_dir);
    int64_t lo = T0 + rows / 2 * 1000000, hi = lo + (rows / 100) * 1000000 - 1;
    char full_sql[512], range_sql[512];
    const char *agg = "SELECT count(*), sum(a), avg(b), max(c) FROM t";
    snprintf(full_sql, sizeof full_sql, "%s", agg);
    snprintf(range_sql, sizeof range_sql, "%s WHERE ts BETWEEN %" PRId64 " AND %" PRId64, agg, lo,
             hi);
    result full = {1e30, 0, 0, "", {0}}, part = {1e30, 0, 0, "", {0}};
    double attach_s = 1e30;
    for (int r = 0; r < reps; r++) {
        /* attach: the series' versions and footers (for the union schema), like opening */
        pond_sql *q;
        double t = now();
        if (pond_sql_open(&q, fs) < 0 || pond_sql_attach(q, "t", "/s", 0) < 0)
            die("attach");
        pond_sql_set_fast_path(q, fast);
        pond_sql_set_threads(q, threads);
        t = now() - t;
        attach_s = t < attach_s ? t : attach_s;
        result x;
        if (!range_only)
            run_query(&x, q, full_sql);
        if (!range_only && x.seconds < full.seconds)
            full = x;
        run_query(&x, q, range_sql);
        if (x.seconds < part.seconds)
            part = x;
        pond_sql_free(q);
    }
    pond_fs_free(fs);
    pond_backend_free(be);
    printf("rows=%" PRId64 "\n", rows);
    printf("pond_fast=%d\n", fast);
    printf("pond_threads=%d\n", threads);
    printf("versions=%d\n", versions);
    printf("range_lo_us=%" PRId64 "\n", lo);
    printf("range_hi_us=%" PRId64 "\n", hi);
    printf("pond_attach_s=%.4f\n", attach_s);
    printf("pond_full_s=%.4f\n", full.seconds);
    printf("pond_full_cpu_s=%.4f\n", full.cpu_seconds);
    printf("pond_range_cpu_s=%.4f\n", part.cpu_seconds);
    printf("pond_full_result=%s\n", full.text);
    printf("pond_range_s=%.4f\n", part.seconds);
    printf("pond_range_result=%s\n", part.text);
    printf("pond_range_versions_read=%" PRId64 "/%" PRId64 "\n", part.stats.versions_read,
           part.stats.versions_total);
    printf("pond_range_row_groups_read=%" PRId64 "/%" PRId64 "\n", part.stats.row_groups_read,
           part.stats.row_groups_total);
    printf("pond_range_rows_decoded=%" PRId64 "\n", part.stats.rows_read);
    return 0;
}
