/* Export honours series semantics (docs/export.md, "Series compaction and dedup"): the rows an
 * export holds are `pond cat`'s after a compaction (no version read twice, nothing rewritten
 * when the compaction replaced exported versions) and under a dedup=last rule (a new version
 * that hides older rows rewrites the partitions it touches, and only those). */
#include "pt.h"
#include "pt_pond.h"

#include <pond/arrow.h>
#include <pond/delta.h>
#include <pond/export.h>
#include <pond/parquet.h>
#include <pond/sys/backend.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DAY_US INT64_C(86400000000)
#define T2024 INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */
#define FEB (T2024 + 31 * DAY_US)
#define MAR (T2024 + 60 * DAY_US)
#define APR (T2024 + 91 * DAY_US)

typedef pt_pond env;
static void env_open(env *e) { pt_pond_memory(e); }
static void env_close(env *e) { pt_pond_close(e); }

/* One version of n rows: ts = t0 + i*step, k = "k<i % nk>", v = base + i. */
static void put(env *e, const char *path, int64_t t0, int64_t step, int n, int nk, double base)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 3));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "u", "k", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[2], "g", "v", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 3));
    pond_arrow_builder *b[3];
    PT_ASSERT_OK(pond_arrow_builder_new(&b[0], "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[1], "u"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[2], "g"));
    for (int i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i % nk);
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], t0 + i * step));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[1], k, strlen(k)));
        PT_ASSERT_OK(pond_arrow_builder_append_double(b[2], base + i));
    }
    for (int k = 0; k < 3; k++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b[k]));
        pond_arrow_builder_free(b[k]);
    }
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, path, POND_ENTRY_FILE_SERIES, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    a.release(&a);
    s.release(&s);
}

static void compact(env *e, const char *path, int64_t want_replaced)
{
    pond_fs_node *h = NULL;
    pond_series_compact_result res;
    PT_ASSERT_OK(pond_fs_node_open(&h, e->fs, NULL, path, 0));
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_series_compact(&res, h, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    PT_ASSERT_INT_EQ(res.versions_replaced, want_replaced);
    pond_fs_node_free(h);
}

static void set_dedup(env *e, const char *path, pond_dedup d, const char *key)
{
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, e->fs, NULL, path, 0));
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_series_set_dedup(h, d, key ? &key : NULL, key ? 1 : 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    pond_fs_node_free(h);
}

/* ---- rows as sorted canonical lines ---- */

typedef pt_lines lines;

static void walk(lines *l, const char *dir)
{
    DIR *d = opendir(dir);
    PT_ASSERT(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        PT_ASSERT(lstat(path, &st) == 0);
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            walk(l, path);
        else if (n > 8 && !strcmp(e->d_name + n - 8, ".parquet"))
            pt_lines_file(l, path);
    }
    closedir(d);
}

static int delta_file(const pond_delta_file *f, void *p)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", (const char *)((void **)p)[1], f->decoded_path);
    pt_lines_file(((void **)p)[0], path);
    return 0;
}

/* The rows a reader of the export sees: the dataset's files, or the Delta table's live files. */
static void export_lines(lines *l, const char *dir, bool delta)
{
    if (delta) {
        pond_delta_table *t;
        PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
        void *p[2] = {l, (void *)dir};
        PT_ASSERT_OK(pond_delta_table_foreach_file(t, delta_file, p));
        pond_delta_table_free(t);
    } else {
        walk(l, dir);
    }
    pt_lines_sort(l);
}

/* The export holds exactly `pond cat`'s rows (over the export's range, if any). */
static void expect_cat(env *e, const char *dir, bool delta, const pond_export_options *o)
{
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    if (o && o->has_range) {
        ro.has_range = true;
        ro.from_us = o->from_us;
        ro.to_us = o->to_us;
    }
    struct ArrowArrayStream st;
    lines a = {0}, b = {0};
    PT_ASSERT_OK(pond_table_read_stream(&st, e->fs, NULL, "/s", &ro));
    pt_lines_stream(&a, &st);
    pt_lines_sort(&a);
    export_lines(&b, dir, delta);
    if (a.n != b.n)
        printf("  cat has %zu rows, the export %zu\n", a.n, b.n);
    PT_ASSERT_INT_EQ(b.n, a.n);
    for (size_t i = 0; i < a.n; i++)
        if (strcmp(a.v[i], b.v[i]))
            pt_fail(__FILE__, __LINE__, "row %zu: cat '%s', export '%s'", i, a.v[i], b.v[i]);
    pt_lines_free(&a);
    pt_lines_free(&b);
}

/* Every file under dir/rel with its inode, mtime and size (what a rewrite would change). */
static void snap(pond_buf *out, const char *dir, const char *rel)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, pt_cmp_str);
    for (size_t i = 0; i < n; i++) {
        char p2[8500];
        snprintf(p2, sizeof p2, "%s/%s", path, names[i]);
        struct stat st;
        PT_ASSERT(lstat(p2, &st) == 0);
        pond_buf_printf(out, "%s %lu %ld.%09ld %lld\n", names[i], (unsigned long)st.st_ino,
                        (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size);
        free(names[i]);
    }
    free(names);
}

static char *snapshot(const char *dir, const char *rel)
{
    pond_buf b = POND_BUF_INIT;
    snap(&b, dir, rel);
    pond_buf_putc(&b, '\0');
    char *s = strdup(b.ptr);
    pond_buf_dispose(&b);
    return s;
}

/* The "v" records of the export's state: the source versions it holds. */
static int state_versions(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/_pond_export.state", dir);
    FILE *f = fopen(path, "r");
    PT_ASSERT(f != NULL);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += line[0] == 'v' && line[1] == ' ';
    fclose(f);
    return n;
}

static char *subdir(const char *name)
{
    char *p = malloc(4200);
    snprintf(p, 4200, "%s/%s", PT_TMPDIR(), name);
    return p;
}

/* ---- compaction ---- */

static void compacted(bool delta)
{
    env e;
    env_open(&e);
    int n = pt_light() ? 20 : 200;
    char *dir = subdir(delta ? "cd" : "cp"), *fresh = subdir(delta ? "cdf" : "cpf");
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.format = delta ? POND_EXPORT_DELTA : POND_EXPORT_PARQUET;
    pond_export_result r;
    put(&e, "/s", T2024, 25 * DAY_US / n, n, 7, 0);       /* January */
    put(&e, "/s", FEB, 25 * DAY_US / n, n, 7, 1000);      /* February */
    put(&e, "/s", FEB + 3600000000, DAY_US, 10, 7, 2000); /* February again, other times */
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(r.full);
    expect_cat(&e, dir, delta, &o);
    int64_t dv = r.delta_version;
    char *before = snapshot(dir, "year=2024/month=2");

    /* the compaction keeps the rows: nothing is written, removed or committed */
    compact(&e, "/s", 3);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(!r.full);
    PT_ASSERT_INT_EQ(r.files_written, 0);
    PT_ASSERT_INT_EQ(r.files_removed, 0);
    if (delta)
        PT_ASSERT_INT_EQ(r.delta_version, dv);
    expect_cat(&e, dir, delta, &o);
    char *after = snapshot(dir, "year=2024/month=2");
    PT_ASSERT_STR_EQ(after, before);
    free(after);
    PT_ASSERT_INT_EQ(state_versions(dir), 1); /* the compacted version stands for the three */
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(r.unchanged);

    /* an append after it: only the new version's rows are written */
    put(&e, "/s", MAR, DAY_US, 5, 7, 3000);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(!r.full && !r.unchanged);
    PT_ASSERT_INT_EQ(r.rows, 5);
    PT_ASSERT_INT_EQ(r.files_removed, 0);
    expect_cat(&e, dir, delta, &o);

    /* a first export of the compacted series reads the compacted version, not those it
     * replaced, and records the versions a read gives */
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", fresh, &o));
    PT_ASSERT(r.full);
    PT_ASSERT_INT_EQ(r.versions_read, 2);
    PT_ASSERT_INT_EQ(state_versions(fresh), 2);
    expect_cat(&e, fresh, delta, &o);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", fresh, &o));
    PT_ASSERT(r.unchanged);

    /* a compaction of versions some of which were never exported: the partitions of those
     * that were are written again, and no row twice */
    put(&e, "/s", APR, DAY_US, 5, 7, 4000);
    compact(&e, "/s", 2); /* March (exported) and April (not) */
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(!r.full);
    expect_cat(&e, dir, delta, &o);
    after = snapshot(dir, "year=2024/month=2");
    PT_ASSERT_STR_EQ(after, before); /* February is untouched */
    free(after);
    free(before);
    free(dir);
    free(fresh);
    env_close(&e);
}

static void test_compacted_parquet(void) { compacted(false); }
static void test_compacted_delta(void) { compacted(true); }

/* ---- dedup=last ---- */

static void dedup(bool delta)
{
    env e;
    env_open(&e);
    int n = pt_light() ? 20 : 200;
    int64_t step = 25 * DAY_US / n;
    char *dir = subdir(delta ? "dd" : "dp"), *ranged = subdir(delta ? "ddr" : "dpr");
    pond_export_options o = POND_EXPORT_OPTIONS_INIT, orange;
    o.format = delta ? POND_EXPORT_DELTA : POND_EXPORT_PARQUET;
    orange = o;
    orange.has_range = true;
    orange.from_us = FEB + 5 * DAY_US;
    orange.to_us = MAR + 5 * DAY_US;
    pond_export_result r;
    put(&e, "/s", T2024, step, n, 2, 0);      /* January: keys k0, k1 */
    put(&e, "/s", FEB, step, n, 2, 1000);     /* February */
    put(&e, "/s", FEB, step, n / 2, 1, 2000); /* repeats February's first half with key k0 */
    set_dedup(&e, "/s", POND_DEDUP_LAST, "k");
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(r.full);
    expect_cat(&e, dir, delta, &o);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", ranged, &orange));
    expect_cat(&e, ranged, delta, &orange);
    char *jan = snapshot(dir, "year=2024/month=1");

    /* a version that hides rows of February (same time, same key) and adds March: February
     * and March are written from the deduplicated read, January keeps its files */
    put(&e, "/s", FEB, 2 * step, n / 2, 1, 3000);
    put(&e, "/s", MAR, DAY_US, 5, 2, 4000);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(!r.full && !r.unchanged);
    PT_ASSERT(r.files_removed >= 1);
    expect_cat(&e, dir, delta, &o);
    char *now = snapshot(dir, "year=2024/month=1");
    PT_ASSERT_STR_EQ(now, jan);
    free(now);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", ranged, &orange));
    PT_ASSERT(!r.full);
    expect_cat(&e, ranged, delta, &orange);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(r.unchanged);

    /* compaction keeps the order, hence the answers: nothing written */
    compact(&e, "/s", 5);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT_INT_EQ(r.files_written, 0);
    PT_ASSERT_INT_EQ(r.files_removed, 0);
    expect_cat(&e, dir, delta, &o);

    /* the rule removed: every row again, everything rewritten */
    set_dedup(&e, "/s", POND_DEDUP_NONE, NULL);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(r.full);
    expect_cat(&e, dir, delta, &o);
    now = snapshot(dir, "year=2024/month=1");
    PT_ASSERT(strcmp(now, jan) != 0);
    free(now);
    free(jan);
    free(dir);
    free(ranged);
    env_close(&e);
}

static void test_dedup_parquet(void) { dedup(false); }
static void test_dedup_delta(void) { dedup(true); }

PT_SUITE(export_series, PT_TEST(compacted_parquet), PT_TEST(compacted_delta),
         PT_TEST(dedup_parquet), PT_TEST(dedup_delta))
