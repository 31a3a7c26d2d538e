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
 * usage: bench_sql [--rows N] [--versions V] [--dir DIR] [--reps R] [--query-only] */
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

#define BATCH 131072
#define T0 1704067200000000LL /* 2024-01-01T00:00:00Z in microseconds */

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

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const tags[16] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
                                     "golf", "hotel", "india", "juliett", "kilo", "lima",
                                     "mike", "november", "oscar", "papa"};

static void make_schema(struct ArrowSchema *s)
{
    if (pond_arrow_schema_init(s, "+s", "", 0, 5) < 0 ||
        pond_arrow_schema_init(s->children[0], "tsu:UTC", "ts", 0, 0) < 0 ||
        pond_arrow_schema_init(s->children[1], "g", "a", ARROW_FLAG_NULLABLE, 0) < 0 ||
        pond_arrow_schema_init(s->children[2], "g", "b", ARROW_FLAG_NULLABLE, 0) < 0 ||
        pond_arrow_schema_init(s->children[3], "g", "c", ARROW_FLAG_NULLABLE, 0) < 0 ||
        pond_arrow_schema_init(s->children[4], "u", "tag", ARROW_FLAG_NULLABLE, 0) < 0)
        die("schema");
}

static void make_batch(struct ArrowArray *b, int64_t row0, int64_t n, double walk[3])
{
    if (pond_arrow_array_init(b, n, 0, 1, 5) < 0)
        die("batch");
    struct ArrowArray *c = b->children[0];
    if (pond_arrow_array_init(c, n, 0, 2, 0) < 0)
        die("batch");
    int64_t *ts = pond_arrow_array_alloc_buffer(c, 1, (size_t)n * 8);
    for (int64_t i = 0; i < n; i++)
        ts[i] = T0 + (row0 + i) * 1000000;
    for (int k = 0; k < 3; k++) {
        c = b->children[1 + k];
        if (pond_arrow_array_init(c, n, 0, 2, 0) < 0)
            die("batch");
        double *v = pond_arrow_array_alloc_buffer(c, 1, (size_t)n * 8);
        for (int64_t i = 0; i < n; i++) {
            walk[k] += ((double)(next_u64() >> 11) / 9007199254740992.0 - 0.5) * 0.1;
            v[i] = walk[k];
        }
    }
    c = b->children[4];
    if (pond_arrow_array_init(c, n, 0, 3, 0) < 0)
        die("batch");
    int32_t *off = pond_arrow_array_alloc_buffer(c, 1, (size_t)(n + 1) * 4);
    char *data = pond_arrow_array_alloc_buffer(c, 2, (size_t)n * 8);
    int32_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *t = tags[next_u64() >> 60];
        size_t len = strlen(t);
        memcpy(data + pos, t, len);
        pos += (int32_t)len;
        off[i + 1] = pos;
    }
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
    bool query_only = false, range_only = false;
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
        else if (!strcmp(argv[i], "--range-only")) /* for profiling */
            query_only = range_only = true;
        else {
            fprintf(stderr, "usage: bench_sql [--rows N] [--versions V] [--dir DIR] [--reps R] "
                            "[--query-only] [--range-only]\n");
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
        make_schema(&s);
        double walk[3] = {100, 200, 300};
        if (pond_oplog_create(pond_dir, NULL) < 0 || pond_oplog_open(&be, pond_dir, NULL) < 0 ||
            pond_fs_open(&fs, be, NULL) < 0)
            die(pond_dir);
        pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
        o.compression = POND_PARQUET_COMPRESS_ZSTD;
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
                make_batch(&batches[i], row, n, walk);
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
