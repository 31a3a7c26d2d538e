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

static void rm_rf(const char *p)
{
    nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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
            double t0 = now_s();
            int j = run_one(t->fn);
            if (j == 0) {
                passed++;
                if (verbose)
                    printf("ok   %s::%s (%.3fs)\n", g_suites[s].name, t->name, now_s() - t0);
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
