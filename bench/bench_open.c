/* bench/open: the time to open a pond with many transactions and files and stat one path,
 * with checkpoints (as written) and without (checkpoint files hidden, the log replayed).
 * usage: bench_open [DIR] [TXNS] [FILES_PER_TXN] [DIRS]   (default 10000 10 100: 100,000 files)
 * The pond is built through the library first (that part is not timed). */
#include <pond/errors.h>
#include <pond/oplog.h>
#include <pond/tinyfs.h>

#include <dirent.h>
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

static int die(void)
{
    fprintf(stderr, "pond: %s\n", pond_error_last()->message);
    return 1;
}

/* Opens, stats one path, closes; returns ms. */
static double open_stat(const char *dir, const char *path, int64_t *version)
{
    double t0 = now_ms();
    pond_backend *be;
    pond_fs *fs;
    pond_stat st;
    if (pond_oplog_open(&be, dir, NULL) < 0 || pond_fs_open(&fs, be, NULL) < 0 ||
        pond_fs_stat(&st, fs, NULL, path) < 0) {
        die();
        exit(1);
    }
    double t = now_ms() - t0;
    *version = st.version;
    pond_fs_free(fs);
    pond_backend_free(be);
    return t;
}

static void hide_checkpoints(const char *dir, bool hide)
{
    char log[4200];
    snprintf(log, sizeof log, "%s/_delta_log", dir);
    DIR *d = opendir(log);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *n = e->d_name;
        bool cp = strstr(n, ".checkpoint.parquet") || !strcmp(n, "_last_checkpoint");
        bool hidden = !strncmp(n, "hidden-", 7);
        char from[4500], to[4500];
        if (hide && cp && !hidden) {
            snprintf(from, sizeof from, "%s/%s", log, n);
            snprintf(to, sizeof to, "%s/hidden-%s", log, n);
            rename(from, to);
        } else if (!hide && hidden) {
            snprintf(from, sizeof from, "%s/%s", log, n);
            snprintf(to, sizeof to, "%s/%s", log, n + 7);
            rename(from, to);
        }
    }
    if (d)
        closedir(d);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "/tmp/pond-bench-open";
    int txns = argc > 2 ? atoi(argv[2]) : 10000;
    int per = argc > 3 ? atoi(argv[3]) : 10;
    int ndirs = argc > 4 ? atoi(argv[4]) : 100;
    char dir[4096], cmd[8400];
    snprintf(dir, sizeof dir, "%s/pond", base);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", base, base);
    if (system(cmd) != 0)
        return 1;
    pond_backend *be;
    pond_fs *fs;
    if (pond_oplog_create(dir, NULL) < 0 || pond_oplog_open(&be, dir, NULL) < 0 ||
        pond_fs_open(&fs, be, NULL) < 0)
        return die();
    double t0 = now_ms();
    int nfile = 0;
    for (int t = 0; t < txns; t++) {
        if (pond_fs_begin(fs, NULL) < 0)
            return die();
        for (int k = 0; k < per; k++, nfile++) {
            char path[64], data[64];
            snprintf(path, sizeof path, "/d%03d/f%07d", nfile % ndirs, nfile);
            int len = snprintf(data, sizeof data, "file %d", nfile);
            if (t < 1 || nfile < ndirs) {
                char d[16];
                snprintf(d, sizeof d, "/d%03d", nfile % ndirs);
                pond_fs_mkdir(fs, NULL, d, POND_FS_MKDIR_PARENTS);
            }
            if (pond_fs_write_all(fs, NULL, path, POND_ENTRY_FILE_DATA, data, (size_t)len) < 0)
                return die();
        }
        if (pond_fs_commit(NULL, fs) < 0)
            return die();
        if (t % 1000 == 999)
            fprintf(stderr, "  built %d transactions (%.0f s)\n", t + 1, (now_ms() - t0) / 1000);
    }
    pond_fs_free(fs);
    pond_backend_free(be);
    printf("built: %d transactions, %d files in %d directories, %.1f s\n", txns, nfile, ndirs,
           (now_ms() - t0) / 1000);
    char path[64];
    snprintf(path, sizeof path, "/d%03d/f%07d", (nfile - 1) % ndirs, nfile - 1);
    int64_t v;
    double best = 1e9, worst = 0;
    for (int r = 0; r < 3; r++) {
        double ms = open_stat(dir, path, &v);
        best = ms < best ? ms : best;
        worst = ms > worst ? ms : worst;
    }
    printf("open + stat %s, with checkpoints:    best %.1f ms, worst %.1f ms (target < 100 ms)\n",
           path, best, worst);
    hide_checkpoints(dir, true);
    best = 1e9;
    for (int r = 0; r < 2; r++) {
        double ms = open_stat(dir, path, &v);
        best = ms < best ? ms : best;
    }
    hide_checkpoints(dir, false);
    printf("open + stat %s, without checkpoints: best %.1f ms\n", path, best);
    return 0;
}
