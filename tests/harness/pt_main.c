#define _XOPEN_SOURCE 700
#include "pt.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *name;
    const pt_test *tests;
} pt_suite;

#define MAX_SUITES 256
static pt_suite g_suites[MAX_SUITES];
static int g_nsuites;
static jmp_buf g_jmp;
static char g_tmpdir[4200];
static char g_tmproot[4000];
static bool g_skipped;
static char g_skip_why[512];

void pt_register(const char *suite, const pt_test *tests)
{
    if (g_nsuites < MAX_SUITES)
        g_suites[g_nsuites++] = (pt_suite){suite, tests};
}

void pt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    longjmp(g_jmp, 1);
}

void pt_skip(const char *why)
{
    g_skipped = true;
    snprintf(g_skip_why, sizeof g_skip_why, "%s", why);
    longjmp(g_jmp, 2);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_rf(const char *p) { nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

const char *pt_tmpdir(void)
{
    if (!g_tmpdir[0]) {
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/t-XXXXXX", g_tmproot);
        if (!mkdtemp(g_tmpdir)) {
            g_tmpdir[0] = '\0';
            pt_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
        }
    }
    return g_tmpdir;
}

const char *pt_source_dir(void)
{
#ifdef POND_SOURCE_DIR
    return POND_SOURCE_DIR;
#else
    return ".";
#endif
}

const char *pt_corpus_dir(void)
{
    static char path[4096];
    const char *env = getenv("POND_CORPUS");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else
        snprintf(path, sizeof path, "%s/../shared/corpus", pt_source_dir());
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

static uint64_t g_sum, g_entry;

static void sum_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        g_entry = (g_entry ^ b[i]) * 1099511628211ull; /* FNV-1a */
}

static size_t g_sum_root;

static int sum_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag, (void)ftw;
    const char *rel = strlen(p) > g_sum_root ? p + g_sum_root : ".";
    g_entry = 14695981039346656037ull;
    sum_bytes(rel, strlen(rel) + 1);
    uint64_t meta[2] = {(uint64_t)st->st_mode, (uint64_t)st->st_size};
    sum_bytes(meta, sizeof meta);
    if (S_ISLNK(st->st_mode)) {
        char target[4096];
        ssize_t n = readlink(p, target, sizeof target);
        if (n > 0)
            sum_bytes(target, (size_t)n);
    } else if (S_ISREG(st->st_mode)) {
        FILE *f = fopen(p, "rb");
        char buf[8192];
        size_t n;
        while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
            sum_bytes(buf, n);
        if (f)
            fclose(f);
    }
    /* a sum of per-entry hashes: independent of the order the directory lists them in */
    g_sum += g_entry * 0x9e3779b97f4a7c15ull + (g_entry >> 29);
    return 0;
}

uint64_t pt_tree_sum(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return 0;
    g_sum = 1;
    g_sum_root = strlen(dir);
    nftw(dir, sum_cb, 16, FTW_PHYS);
    return g_sum;
}

bool pt_light(void)
{
    const char *e = getenv("POND_TEST_LIGHT");
    return e && *e && strcmp(e, "0") != 0;
}

static bool matches(const char *filter, const char *suite, const char *name)
{
    if (!filter)
        return true;
    char full[512];
    snprintf(full, sizeof full, "%s::%s", suite, name);
    return strstr(full, filter) != NULL;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0 pass, 1 fail, 2 skip. setjmp lives here so that main's locals are never clobbered. */
static int run_one(void (*fn)(void))
{
    int j = setjmp(g_jmp);
    if (j == 0) {
        fn();
        return 0;
    }
    return j;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    bool list = false, verbose = getenv("PT_VERBOSE") != NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s") && i + 1 < argc)
            filter = argv[++i];
        else if (!strcmp(argv[i], "-l"))
            list = true;
        else if (!strcmp(argv[i], "-v"))
            verbose = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s [-s SUITE::CASE-substring] [-l] [-v]\n", argv[0]);
            return 0;
        } else {
            fprintf(stderr, "unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(g_tmproot, sizeof g_tmproot, "%.3900s/pt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!list && !mkdtemp(g_tmproot)) {
        fprintf(stderr, "mkdtemp %s: %s\n", g_tmproot, strerror(errno));
        return 1;
    }
    int passed = 0, failed = 0, skipped = 0;
    for (int s = 0; s < g_nsuites; s++) {
        for (const pt_test *t = g_suites[s].tests; t->name; t++) {
            if (!matches(filter, g_suites[s].name, t->name))
                continue;
            if (list) {
                printf("%s::%s\n", g_suites[s].name, t->name);
                continue;
            }
            g_tmpdir[0] = '\0';
            g_skipped = false;
            pond_error_clear();
            /* CPU time too: on a shared machine the wall clock says little about a test */
            double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            int j = run_one(t->fn);
            if (j == 0) {
                passed++;
                if (verbose)
                    printf("ok   %s::%s (%.3fs, cpu %.3fs)\n", g_suites[s].name, t->name,
                           clock_s(CLOCK_MONOTONIC) - t0, clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
            } else if (j == 2) {
                skipped++;
                printf("SKIP %s::%s  %s\n", g_suites[s].name, t->name, g_skip_why);
            } else {
                failed++;
                printf("FAIL %s::%s\n", g_suites[s].name, t->name);
            }
            pond_alloc_fail_at(0, false);
            pond_os_fault_clear();
            if (g_tmpdir[0] && j != 1)
                rm_rf(g_tmpdir);
            fflush(stdout);
        }
    }
    if (list)
        return 0;
    rm_rf(g_tmproot);
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
