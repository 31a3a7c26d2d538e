/* bench/commit: latency of a one-small-file transaction (fsync on) through the library, side
 * by side with sqlite3 inserting a 1 KiB blob per transaction (journal_mode=DELETE,
 * synchronous=FULL), in the same run on the same disk, transactions alternating.
 * usage: bench_commit [DIR] [N]   (DIR default /tmp/pond-bench-commit, N default 300) */
#include <pond/errors.h>
#include <pond/oplog.h>
#include <pond/tinyfs.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, double *lat, int n)
{
    qsort(lat, (size_t)n, sizeof *lat, cmp_d);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += lat[i];
    printf("%-28s mean %7.3f ms  p50 %7.3f ms  p99 %7.3f ms  (%d transactions)\n", name, sum / n,
           lat[n / 2], lat[n * 99 / 100], n);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "/tmp/pond-bench-commit";
    int n = argc > 2 ? atoi(argv[2]) : 300;
    char dir[4096], db[4096], cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", base, base);
    if (system(cmd) != 0)
        return 1;
    snprintf(dir, sizeof dir, "%s/pond", base);
    snprintf(db, sizeof db, "%s/bench.sqlite", base);
    char payload[1024];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (char)('a' + i % 26);

    /* pond and sqlite3 transactions alternate, so both see the same machine load */
    pond_backend *be;
    pond_fs *fs;
    if (pond_oplog_create(dir, NULL) < 0 || pond_oplog_open(&be, dir, NULL) < 0 ||
        pond_fs_open(&fs, be, NULL) < 0) {
        fprintf(stderr, "pond: %s\n", pond_error_last()->message);
        return 1;
    }
    sqlite3 *s;
    if (sqlite3_open(db, &s) != SQLITE_OK)
        return 1;
    sqlite3_exec(s,
                 "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;"
                 "CREATE TABLE f(id INTEGER PRIMARY KEY, name TEXT, data BLOB);",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(s, "INSERT INTO f(name, data) VALUES (?, ?)", -1, &st, NULL);
    double *lp = calloc((size_t)n, sizeof *lp), *ls = calloc((size_t)n, sizeof *ls);
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/f%d", i % 10);
        payload[0] = (char)i;
        double t0 = now_ms();
        if (pond_fs_begin(fs, NULL) < 0 ||
            pond_fs_write_all(fs, NULL, path, POND_ENTRY_FILE_DATA, payload, sizeof payload) < 0 ||
            pond_fs_commit(NULL, fs) < 0) {
            fprintf(stderr, "pond: %s\n", pond_error_last()->message);
            return 1;
        }
        lp[i] = now_ms() - t0;
        t0 = now_ms();
        sqlite3_exec(s, "BEGIN", NULL, NULL, NULL);
        sqlite3_bind_text(st, 1, "f", -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, payload, sizeof payload, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            return 1;
        sqlite3_reset(st);
        sqlite3_exec(s, "COMMIT", NULL, NULL, NULL);
        ls[i] = now_ms() - t0;
    }
    pond_fs_free(fs);
    pond_backend_free(be);
    sqlite3_finalize(st);
    sqlite3_close(s);
    double mp = 0, ms = 0;
    for (int i = 0; i < n; i++) {
        mp += lp[i];
        ms += ls[i];
    }
    report("pond (library, 1 KiB file)", lp, n);
    double p50p = lp[n / 2];
    report("sqlite3 (1 KiB blob, FULL)", ls, n);
    printf("ratio pond/sqlite3: mean latency %.2fx (target <= 1.5x), median %.2fx\n", mp / ms,
           p50p / ls[n / 2]);
    free(lp);
    free(ls);
    return 0;
}
