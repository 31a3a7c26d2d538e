/* Export: partition keys, the state file, incremental exports (appends, replacements,
 * compaction recognised by the row digest, missing files), foreign files, and fault loops
 * that fail every mutating call of an export and check what readers see. */
#include "pt.h"
#include "pt_pond.h"

#include <pond/arrow.h>
#include <pond/csv_import.h>
#include <pond/delta.h>
#include <pond/export.h>
#include <pond/parquet.h>
#include <pond/sys/backend.h>
#include <pond/table.h>
#include <pond/timefmt.h>
#include <pond/tinyfs.h>

#include "export/export_internal.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_US INT64_C(86400000000)
#define T2024 INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */

/* ---- fixtures ---- */

typedef pt_pond env;
static void env_open(env *e) { pt_pond_memory(e); }
static void env_close(env *e) { pt_pond_close(e); }

/* One version: n rows, ts = t0 + i*step (µs UTC), v = base + i (null every 41st), name. */
static void put(env *e, const char *path, pond_entry_type type, int64_t t0, int64_t step, int n,
                double base)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 3));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "g", "v", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[2], "u", "name", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 3));
    pond_arrow_builder *b[3];
    PT_ASSERT_OK(pond_arrow_builder_new(&b[0], "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[1], "g"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[2], "u"));
    for (int i = 0; i < n; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "n%d", i % 5);
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], t0 + i * step));
        if (i % 41 == 3)
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[1]));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], base + i));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[2], nm, strlen(nm)));
    }
    for (int k = 0; k < 3; k++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b[k]));
        pond_arrow_builder_free(b[k]);
    }
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, path, type, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    a.release(&a);
    s.release(&s);
}

static void rm(env *e, const char *path)
{
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_remove(e->fs, NULL, path, false));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

/* ---- canonical rows as a sorted list of lines ---- */

typedef pt_lines lines;

static void source_lines(lines *l, env *e, const char *path, const pond_table_read_options *o)
{
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, e->fs, NULL, path, o));
    pt_lines_stream(l, &st);
    pt_lines_sort(l);
}

/* Every published .parquet file under dir (what a reader of the dataset sees). */
static void walk(const char *dir, void (*fn)(const char *path, void *p), void *p)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        PT_ASSERT(lstat(path, &st) == 0);
        if (S_ISDIR(st.st_mode))
            walk(path, fn, p);
        else if (strlen(e->d_name) > 8 && !strcmp(e->d_name + strlen(e->d_name) - 8, ".parquet"))
            fn(path, p);
    }
    closedir(d);
}

static void add_file_lines(const char *path, void *p) { pt_lines_file(p, path); }

static void dir_lines(lines *l, const char *dir)
{
    walk(dir, add_file_lines, l);
    pt_lines_sort(l);
}

static int delta_file_lines(const pond_delta_file *f, void *p)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", (const char *)((void **)p)[1], f->decoded_path);
    pt_lines_file(((void **)p)[0], path);
    return 0;
}

/* The rows of the Delta table's live files (partition columns left out) and its version. */
static int64_t delta_lines(lines *l, const char *dir)
{
    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_OK(pond_delta_table_verify(t, POND_DELTA_VERIFY_FILES));
    void *p[2] = {l, (void *)dir};
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, delta_file_lines, p));
    int64_t v = pond_delta_table_version(t);
    pond_delta_table_free(t);
    pt_lines_sort(l);
    return v;
}

static bool lines_same(const lines *a, const lines *b, bool quiet)
{
    if (a->n != b->n) {
        if (!quiet)
            printf("  %zu lines vs %zu\n", a->n, b->n);
        return false;
    }
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i])) {
            if (!quiet)
                printf("  line %zu: %s vs %s\n", i, a->v[i], b->v[i]);
            return false;
        }
    return true;
}

static bool lines_equal(const lines *a, const lines *b) { return lines_same(a, b, false); }

/* Each line of `seen` occurs in it at most as often as in `a` or in `b`: no duplicates. */
static bool lines_within(const lines *seen, const lines *a, const lines *b)
{
    size_t i = 0;
    while (i < seen->n) {
        size_t j = i;
        while (j < seen->n && !strcmp(seen->v[i], seen->v[j]))
            j++;
        size_t ca = 0, cb = 0;
        for (size_t k = 0; k < a->n; k++)
            ca += !strcmp(a->v[k], seen->v[i]);
        for (size_t k = 0; k < b->n; k++)
            cb += !strcmp(b->v[k], seen->v[i]);
        if (j - i > (ca > cb ? ca : cb)) {
            printf("  line '%s' seen %zu times (%zu before, %zu after)\n", seen->v[i], j - i, ca,
                   cb);
            return false;
        }
        i = j;
    }
    return true;
}

/* ---- directory snapshots: every file with its inode and mtime ---- */

static void snap_add(const char *dir, const char *rel, pond_buf *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, pt_cmp_str);
    for (size_t i = 0; i < n; i++) {
        char r2[4200], p2[8500];
        snprintf(r2, sizeof r2, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        snprintf(p2, sizeof p2, "%s/%s", dir, r2);
        struct stat st;
        PT_ASSERT(lstat(p2, &st) == 0);
        pond_buf_printf(out, "%s %lu %ld.%09ld %lld\n", r2, (unsigned long)st.st_ino,
                        (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size);
        if (S_ISDIR(st.st_mode))
            snap_add(dir, r2, out);
        free(names[i]);
    }
    free(names);
}

static char *snapshot(const char *dir)
{
    pond_buf b = POND_BUF_INIT;
    snap_add(dir, "", &b);
    pond_buf_putc(&b, '\0');
    char *s = strdup(b.ptr);
    pond_buf_dispose(&b);
    return s;
}

static void count_file(const char *path, void *p)
{
    (void)path;
    ++*(int *)p;
}

static int parquet_files(const char *dir)
{
    int n = 0;
    walk(dir, count_file, &n);
    return n;
}

static char *subdir(const char *name)
{
    char *p = malloc(4200);
    snprintf(p, 4200, "%s/%s", PT_TMPDIR(), name);
    return p;
}

static void expect_same(env *e, const char *src, const char *dir, bool delta)
{
    lines a = {0}, b = {0};
    source_lines(&a, e, src, NULL);
    if (delta)
        delta_lines(&b, dir);
    else
        dir_lines(&b, dir);
    PT_ASSERT(lines_equal(&a, &b));
    pt_lines_free(&a);
    pt_lines_free(&b);
}

/* ---- partition keys ---- */

static void test_keys(void)
{
    char t[40];
    ex_key k = pond_ex_key_of(T2024 + 59 * DAY_US, 3); /* 2024-02-29 */
    PT_ASSERT_INT_EQ(k.y, 2024);
    PT_ASSERT_INT_EQ(k.m, 2);
    PT_ASSERT_INT_EQ(k.d, 29);
    pond_ex_key_text(t, &k, 3);
    PT_ASSERT_STR_EQ(t, "2024-2-29");
    ex_key back;
    PT_ASSERT_OK(pond_ex_key_parse(&back, t, 3));
    PT_ASSERT(pond_ex_key_equal(&back, &k));
    int64_t lo, hi;
    PT_ASSERT(pond_ex_key_span(&k, 3, &lo, &hi));
    PT_ASSERT_INT_EQ(lo, T2024 + 59 * DAY_US);
    PT_ASSERT_INT_EQ(hi - lo, DAY_US);
    /* one microsecond before 1970 is 1969-12-31 */
    k = pond_ex_key_of(-1, 2);
    PT_ASSERT_INT_EQ(k.y, 1969);
    PT_ASSERT_INT_EQ(k.m, 12);
    PT_ASSERT(pond_ex_key_span(&k, 2, &lo, &hi));
    PT_ASSERT_INT_EQ(hi, 0);
    PT_ASSERT_INT_EQ(lo, -31 * DAY_US);
    /* December spans into the next year; a year is 366 days in 2024 */
    k = pond_ex_key_of(T2024 + 340 * DAY_US, 2);
    PT_ASSERT_INT_EQ(k.m, 12);
    PT_ASSERT(pond_ex_key_span(&k, 2, &lo, &hi));
    PT_ASSERT_INT_EQ(hi, T2024 + 366 * DAY_US);
    k = pond_ex_key_of(T2024, 1);
    PT_ASSERT(pond_ex_key_span(&k, 1, &lo, &hi));
    PT_ASSERT_INT_EQ(hi - lo, 366 * DAY_US);
    pond_buf d = POND_BUF_INIT;
    PT_ASSERT_OK(pond_ex_key_dir(&d, &k, 1));
    PT_ASSERT_STR_EQ(d.ptr, "year=2024");
    pond_buf_clear(&d);
    ex_key nk = {0, 0, 0, true};
    PT_ASSERT_OK(pond_ex_key_dir(&d, &nk, 2));
    PT_ASSERT_STR_EQ(d.ptr, "year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__");
    pond_buf_dispose(&d);
    PT_ASSERT_ERR(pond_ex_key_parse(&back, "2024-13", 2), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_ex_key_parse(&back, "2024", 2), POND_ECORRUPT);
    pond_export_partition p;
    PT_ASSERT_OK(pond_export_partition_parse(&p, "year,month,day"));
    PT_ASSERT_INT_EQ(p, POND_EXPORT_PARTITION_DAY);
    PT_ASSERT_ERR(pond_export_partition_parse(&p, "month"), POND_EINVALID);
    char *sd = NULL;
    PT_ASSERT_OK(pond_export_subdir(&sd, "/out", "/plant/s1"));
    PT_ASSERT_STR_EQ(sd, "/out/plant/s1");
    pond_free(sd);
    PT_ASSERT_ERR(pond_export_subdir(&sd, "/out", "/plant/_hidden"), POND_EINVALID);
    PT_ASSERT_ERR(pond_export_subdir(&sd, "/out", "/a=b/s"), POND_EINVALID);
}

/* ---- the state file ---- */

static void test_state_roundtrip_and_damage(void)
{
    const char *dir = PT_TMPDIR();
    ex_state s, r;
    pond_ex_state_init(&s);
    s.format = POND_EXPORT_DELTA;
    s.source = pond_strdup("/a b/%x\n");
    s.node = pond_strdup("n");
    s.kind = pond_strdup("series");
    s.options = pond_strdup("partition=2;range=all;columns=*");
    s.schema = pond_strdup("abc");
    s.settings = pond_strdup("-");
    s.delta_id = pond_strdup("id");
    s.delta_version = 4;
    s.run = 7;
    s.position = 9;
    ex_ver v = {3, {{0}}, 5, 100, UINT64_MAX, 1, (char *)"2024-1,2024-2"};
    v.sha.bytes[0] = 0xab;
    PT_ASSERT_OK(pond_ex_state_add_ver(&s, &v));
    ex_file f = {(char *)"year=2024/month=1/p q.parquet", (char *)"2024-1", 10, 20, NULL};
    PT_ASSERT_OK(pond_ex_state_add_file(&s, &f));
    f.tmp = (char *)"000001-00001.tmp";
    PT_ASSERT_OK(pond_ex_state_add_removed(&s, &f));
    PT_ASSERT_OK(pond_ex_state_save(&s, dir, "st"));
    bool found;
    PT_ASSERT_OK(pond_ex_state_load(&r, &found, dir, "st"));
    PT_ASSERT(found);
    PT_ASSERT_STR_EQ(r.source, "/a b/%x\n");
    PT_ASSERT_INT_EQ(r.format, POND_EXPORT_DELTA);
    PT_ASSERT_INT_EQ(r.delta_version, 4);
    PT_ASSERT_INT_EQ(r.run, 7);
    PT_ASSERT_INT_EQ(pond_ex_state_nvers(&r), 1);
    PT_ASSERT(pond_ex_state_ver(&r, 0)->s1 == UINT64_MAX);
    PT_ASSERT(pond_hash_equal(&pond_ex_state_ver(&r, 0)->sha, &v.sha));
    PT_ASSERT_STR_EQ(pond_ex_state_ver(&r, 0)->parts, "2024-1,2024-2");
    PT_ASSERT_STR_EQ(pond_ex_state_file(&r, 0)->name, "year=2024/month=1/p q.parquet");
    PT_ASSERT(pond_ex_state_file(&r, 0)->tmp == NULL);
    PT_ASSERT_STR_EQ(pond_ex_state_removed(&r, 0)->tmp, "000001-00001.tmp");
    pond_ex_state_dispose(&r);
    pond_ex_state_dispose(&s);
    PT_ASSERT_OK(pond_ex_state_load(&r, &found, dir, "absent"));
    PT_ASSERT(!found);
    /* cut short: refused, never half-read */
    char path[4200];
    snprintf(path, sizeof path, "%s/st", dir);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, path, 1 << 20, 0));
    for (size_t cut = 1; cut < b.size; cut += 7) {
        FILE *fp = fopen(path, "wb");
        fwrite(b.ptr, 1, cut, fp);
        fclose(fp);
        PT_ASSERT_ERR(pond_ex_state_load(&r, &found, dir, "st"), POND_ECORRUPT);
    }
    /* a name that leaves the directory */
    FILE *fp = fopen(path, "wb");
    fprintf(fp, "pond-export 1\nformat parquet\nsource /s\nnode n\nkind table\noptions o\n"
                "schema s\nsettings -\nf ../../etc/passwd * 1 1 \nend 1\n");
    fclose(fp);
    PT_ASSERT_ERR(pond_ex_state_load(&r, &found, dir, "st"), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("outside the export directory");
    pond_buf_dispose(&b);
}

/* ---- exports ---- */

static void test_parquet_incremental(void)
{
    env e;
    env_open(&e);
    int n = pt_light() ? 300 : 3000;
    int64_t step = 75 * DAY_US / n; /* Jan 1 .. Mar 15: three months */
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, step, n, 0);
    char *dir = subdir("out");
    PT_ASSERT_OK(pond__mkdir(dir, false, 0));
    char foreign[4300];
    snprintf(foreign, sizeof foreign, "%s/notes.txt", dir);
    FILE *fp = fopen(foreign, "w");
    fputs("mine\n", fp);
    fclose(fp);
    pond_export_result r;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
    PT_ASSERT(r.full && !r.unchanged);
    PT_ASSERT_INT_EQ(r.files_written, 3);
    PT_ASSERT_INT_EQ(r.rows, n);
    PT_ASSERT_INT_EQ(parquet_files(dir), 3);
    expect_same(&e, "/s", dir, false);
    /* an append: only new files, in the months it touches */
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + 80 * DAY_US, DAY_US / 4, 100, 1e6);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
    PT_ASSERT(!r.full && !r.unchanged);
    PT_ASSERT_INT_EQ(r.files_written, 2); /* March 21.., April */
    PT_ASSERT_INT_EQ(r.files_removed, 0);
    PT_ASSERT_INT_EQ(r.rows, 100);
    PT_ASSERT_INT_EQ(r.versions_read, 1);
    PT_ASSERT_INT_EQ(parquet_files(dir), 5);
    expect_same(&e, "/s", dir, false);
    /* nothing new: nothing written, not even the state */
    char *before = snapshot(dir);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
    PT_ASSERT(r.unchanged);
    PT_ASSERT_INT_EQ(r.files_written, 0);
    char *after = snapshot(dir);
    PT_ASSERT_STR_EQ(after, before);
    free(before);
    free(after);
    /* the foreign file survived, and a second source is refused in the same directory */
    PT_ASSERT(access(foreign, F_OK) == 0);
    put(&e, "/t", POND_ENTRY_FILE_TABLE, T2024, 1000, 10, 0);
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/t", dir, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("holds the export of /s");
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.format = POND_EXPORT_DELTA;
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/s", dir, &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("Parquet export");
    /* changed options: everything rewritten, into days */
    o.format = POND_EXPORT_PARQUET;
    o.partition = POND_EXPORT_PARTITION_DAY;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(r.full);
    PT_ASSERT_INT_EQ(r.files_removed, 5);
    PT_ASSERT(parquet_files(dir) > 70);
    expect_same(&e, "/s", dir, false);
    PT_ASSERT(access(foreign, F_OK) == 0);
    /* a missing file: its partition is written again, the others stay */
    char victim[4300];
    snprintf(victim, sizeof victim, "%s/year=2024/month=2/day=10", dir);
    DIR *d = opendir(victim);
    PT_ASSERT(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".parquet")) {
            char p2[4600];
            snprintf(p2, sizeof p2, "%s/%s", victim, de->d_name);
            PT_ASSERT(unlink(p2) == 0);
        }
    closedir(d);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT_INT_EQ(r.files_written, 1);
    expect_same(&e, "/s", dir, false);
    PT_ASSERT(access(foreign, F_OK) == 0);
    free(dir);
    env_close(&e);
}

/* Rows that change other than by appending replace only the partitions they touched; the same
 * rows in new versions (a compaction) rewrite nothing. */
static void test_replacements(void)
{
    env e;
    env_open(&e);
    int n = pt_light() ? 200 : 2000;
    int64_t step = 59 * DAY_US / n; /* January and February */
    char *dir = subdir("out"), *ddir = subdir("delta");
    pond_export_options od = POND_EXPORT_OPTIONS_INIT;
    od.format = POND_EXPORT_DELTA;
    pond_export_result r;
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, step, n, 0);
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + 70 * DAY_US, DAY_US, 20, 500); /* March */
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", ddir, &od));
    PT_ASSERT_INT_EQ(r.delta_version, 0);
    /* "compaction": the same rows as one new version of a new node */
    put(&e, "/c", POND_ENTRY_FILE_SERIES, T2024, step, n, 0);
    rm(&e, "/s");
    /* rebuild /s from both row sets in one version: write the two parts into /tmp and
       stream them out as one batch each into a single version is not possible with put();
       instead a version holding all rows is built by reading /c plus the March rows */
    put(&e, "/m", POND_ENTRY_FILE_SERIES, T2024 + 70 * DAY_US, DAY_US, 20, 500);
    struct ArrowArrayStream a;
    PT_ASSERT_OK(pond_table_read_stream(&a, e.fs, NULL, "/c", NULL));
    struct ArrowSchema s;
    PT_ASSERT_INT_EQ(a.get_schema(&a, &s), 0);
    struct ArrowArray parts[64];
    size_t np = 0;
    for (;;) {
        PT_ASSERT(np < 60);
        PT_ASSERT_INT_EQ(a.get_next(&a, &parts[np]), 0);
        if (!parts[np].release)
            break;
        np++;
    }
    a.release(&a);
    struct ArrowArrayStream m;
    PT_ASSERT_OK(pond_table_read_stream(&m, e.fs, NULL, "/m", NULL));
    for (;;) {
        PT_ASSERT(np < 63);
        PT_ASSERT_INT_EQ(m.get_next(&m, &parts[np]), 0);
        if (!parts[np].release)
            break;
        np++;
    }
    m.release(&m);
    struct ArrowArrayStream all;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&all, &s, parts, np));
    s.release(&s);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(
        pond_table_write_stream(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &all, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    char *before = snapshot(dir);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
    PT_ASSERT(!r.unchanged && !r.full);
    PT_ASSERT_INT_EQ(r.files_written, 0);
    PT_ASSERT_INT_EQ(r.files_removed, 0);
    PT_ASSERT_INT_EQ(r.versions_kept, 1);
    char *after = snapshot(dir);
    /* only the state changed (it now names the new version) */
    char *sb = strstr(before, "_pond_export.state "), *sa = strstr(after, "_pond_export.state ");
    PT_ASSERT(sb && sa);
    *strchr(sb, '\n') = '\0';
    *strchr(sa, '\n') = '\0';
    PT_ASSERT(strcmp(sa, sb) != 0);
    free(before);
    free(after);
    expect_same(&e, "/s", dir, false);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", ddir, &od));
    PT_ASSERT_INT_EQ(r.files_written, 0);
    PT_ASSERT_INT_EQ(r.delta_version, 0); /* no commit */
    expect_same(&e, "/s", ddir, true);
    /* different rows: a new node whose February differs. January (untouched) keeps its file
       only when its rows came from versions still there, which is not the case here: every
       partition of the version that went is written again */
    rm(&e, "/s");
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, step, n / 2, 0);                /* Jan */
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + 70 * DAY_US, DAY_US, 20, 500); /* March */
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
    PT_ASSERT(!r.full);
    PT_ASSERT(r.files_removed >= 2);
    expect_same(&e, "/s", dir, false);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", ddir, &od));
    PT_ASSERT_INT_EQ(r.delta_version, 1);
    PT_ASSERT(r.files_removed >= 2);
    expect_same(&e, "/s", ddir, true);
    /* a table's new version replaces its files */
    put(&e, "/t", POND_ENTRY_FILE_TABLE, T2024, 1000, 50, 0);
    char *tdir = subdir("t");
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/t", tdir, NULL));
    PT_ASSERT_INT_EQ(r.files_written, 1);
    put(&e, "/t", POND_ENTRY_FILE_TABLE, T2024, 1000, 60, 7);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/t", tdir, NULL));
    PT_ASSERT_INT_EQ(r.files_written, 1);
    PT_ASSERT_INT_EQ(r.files_removed, 1);
    PT_ASSERT_INT_EQ(parquet_files(tdir), 1);
    expect_same(&e, "/t", tdir, false);
    /* a table version with the same rows: nothing written */
    put(&e, "/t", POND_ENTRY_FILE_TABLE, T2024, 1000, 60, 7);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/t", tdir, NULL));
    PT_ASSERT_INT_EQ(r.files_written, 0);
    PT_ASSERT_INT_EQ(r.files_removed, 0);
    expect_same(&e, "/t", tdir, false);
    free(tdir);
    free(dir);
    free(ddir);
    env_close(&e);
}

static int discard(const void *b, size_t n, void *p)
{
    (void)p;
    (void)b;
    (void)n;
    return 0;
}

static void test_delta_incremental(void)
{
    env e;
    env_open(&e);
    char *dir = subdir("d");
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.format = POND_EXPORT_DELTA;
    pond_export_result r;
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, DAY_US / 2, 60, 0);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT_INT_EQ(r.delta_version, 0);
    /* twelve appends: a checkpoint at version 10, txn records the pond transaction */
    for (int i = 1; i <= 12; i++) {
        put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + (30 + i) * DAY_US, 3600000000, 10, i * 100.0);
        PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
        PT_ASSERT_INT_EQ(r.delta_version, i);
        PT_ASSERT_INT_EQ(r.files_removed, 0);
    }
    char *before = snapshot(dir);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT(r.unchanged);
    char *after = snapshot(dir);
    PT_ASSERT_STR_EQ(after, before);
    free(before);
    free(after);
    char cp[4300];
    snprintf(cp, sizeof cp, "%s/_delta_log/00000000000000000010.checkpoint.parquet", dir);
    PT_ASSERT(access(cp, F_OK) == 0);
    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    int64_t pos, last;
    PT_ASSERT_OK(pond_delta_table_txn_version(&pos, t, "pond-export:/s"));
    PT_ASSERT_OK(pond_fs_last_txn(&last, e.fs));
    PT_ASSERT_INT_EQ(pos, last);
    PT_ASSERT_INT_EQ(pond_delta_table_protocol(t)->min_reader_version, 1);
    PT_ASSERT_INT_EQ(pond_delta_table_protocol(t)->min_writer_version, 2);
    PT_ASSERT_INT_EQ(pond_delta_table_metadata(t)->n_partition_columns, 2);
    /* the rows pond's own Delta reader gives, partition values included */
    int64_t rows;
    PT_ASSERT_OK(pond_delta_table_dump(t, discard, NULL, &rows));
    PT_ASSERT_INT_EQ(rows, 60 + 120);
    pond_delta_table_free(t);
    expect_same(&e, "/s", dir, true);
    free(dir);
    env_close(&e);
}

/* --columns without the timestamp, --from/--to, partition none, file size rollover */
static void test_options(void)
{
    env e;
    env_open(&e);
    int n = pt_light() ? 2000 : 20000;
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, 5 * DAY_US / n, n, 0); /* five days */
    char *dir = subdir("cols");
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    const char *cols[] = {"v"};
    o.columns = cols;
    o.n_columns = 1;
    o.has_range = true;
    o.from_us = T2024 + DAY_US;
    o.to_us = T2024 + 3 * DAY_US;
    o.partition = POND_EXPORT_PARTITION_DAY;
    pond_export_result r;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    lines a = {0}, b = {0};
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.columns = cols;
    ro.n_columns = 1;
    ro.has_range = true;
    ro.from_us = o.from_us;
    ro.to_us = o.to_us;
    source_lines(&a, &e, "/s", &ro);
    dir_lines(&b, dir);
    PT_ASSERT(lines_equal(&a, &b));
    PT_ASSERT_INT_EQ(parquet_files(dir), 2);
    pt_lines_free(&a);
    pt_lines_free(&b);
    free(dir);
    /* unpartitioned, small target: a file per version read */
    dir = subdir("small");
    for (int i = 0; i < 4; i++)
        put(&e, "/p", POND_ENTRY_FILE_SERIES, T2024 + i * DAY_US, 1000000, 100, i);
    pond_export_options o2 = POND_EXPORT_OPTIONS_INIT;
    o2.partition = POND_EXPORT_PARTITION_NONE;
    o2.target_file_bytes = 1;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/p", dir, &o2));
    PT_ASSERT_INT_EQ(r.files_written, 4);
    expect_same(&e, "/p", dir, false);
    free(dir);
    /* a time range on a table, a column named like a partition, an unknown column */
    put(&e, "/t", POND_ENTRY_FILE_TABLE, T2024, 1000, 10, 0);
    dir = subdir("t");
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/t", dir, &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("needs a series");
    const char *bad[] = {"nope"};
    o2.columns = bad;
    o2.n_columns = 1;
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/s", dir, &o2), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/", dir, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("not a table or series");
    free(dir);
    env_close(&e);
}

/* Every column chunk of an export has the codec it names (zstd), also where the codec saves
 * little: a pond stores such chunks uncompressed (adaptive_codec, docs/decisions.md), an export
 * is a file for other engines. Random doubles do not shrink. */
static void codec_of_file(const char *path, void *p)
{
    pond_parquet_reader *r = NULL;
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, NULL));
    pond_buf d = POND_BUF_INIT;
    PT_ASSERT_OK(pond_parquet_reader_describe(&d, r));
    PT_ASSERT_OK(pond_buf_putc(&d, 0));
    if (strstr(d.ptr, " UNCOMPRESSED, "))
        pt_fail(__FILE__, __LINE__, "%s: a chunk is not zstd:\n%s", path, d.ptr);
    PT_ASSERT(strstr(d.ptr, " ZSTD, ") != NULL);
    ++*(int *)p;
    pond_buf_dispose(&d);
    pond_parquet_reader_free(r);
}

static void test_export_keeps_its_codec(void)
{
    env e;
    env_open(&e);
    struct ArrowSchema s;
    struct ArrowArray a;
    const int n = 3000;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "g", "v", 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 2));
    pond_arrow_builder *b[2];
    PT_ASSERT_OK(pond_arrow_builder_new(&b[0], "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[1], "g"));
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        uint64_t bits = x >> 2; /* finite */
        memcpy(&d, &bits, 8);
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], T2024 + i * INT64_C(1000000)));
        PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], d));
    }
    for (int k = 0; k < 2; k++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b[k]));
        pond_arrow_builder_free(b[k]);
    }
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    a.release(&a);
    s.release(&s);
    char *dir = subdir("out");
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.partition = POND_EXPORT_PARTITION_NONE;
    pond_export_result r;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    int files = 0;
    walk(dir, codec_of_file, &files);
    PT_ASSERT_INT_EQ(files, 1);
    expect_same(&e, "/s", dir, false);
    free(dir);
    env_close(&e);
}

/* A full export reads all versions in one stream: each version's record (rows, partitions)
 * still belongs to that version; a version outside the range has none. */
static void test_full_export_records_versions(void)
{
    env e;
    env_open(&e);
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, DAY_US, 10, 0);               /* January */
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + 40 * DAY_US, DAY_US, 5, 0);  /* February */
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + 200 * DAY_US, DAY_US, 7, 0); /* July */
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + 80 * DAY_US, DAY_US, 12, 0); /* Mar 21-Apr 1 */
    char *dir = subdir("out");
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = T2024;
    o.to_us = T2024 + 150 * DAY_US; /* July is outside */
    pond_export_result r;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, &o));
    PT_ASSERT_INT_EQ(r.rows, 27);
    ex_state st;
    bool found;
    PT_ASSERT_OK(pond_ex_state_load(&st, &found, dir, "_pond_export.state"));
    PT_ASSERT_INT_EQ(pond_ex_state_nvers(&st), 4);
    const int64_t rows[] = {10, 5, 0, 12};
    const char *parts[] = {"2024-1", "2024-2", "", "2024-3,2024-4"};
    for (int i = 0; i < 4; i++) {
        PT_ASSERT_INT_EQ(pond_ex_state_ver(&st, (size_t)i)->rows, rows[i]);
        PT_ASSERT_STR_EQ(pond_ex_state_ver(&st, (size_t)i)->parts, parts[i]);
    }
    pond_ex_state_dispose(&st);
    lines a = {0}, b = {0};
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.has_range = true;
    ro.from_us = o.from_us;
    ro.to_us = o.to_us;
    source_lines(&a, &e, "/s", &ro);
    dir_lines(&b, dir);
    PT_ASSERT(lines_equal(&a, &b));
    pt_lines_free(&a);
    pt_lines_free(&b);
    free(dir);
    env_close(&e);
}

/* Memory is bounded by a few row groups, not by the rows exported. */
static void test_bounded_memory(void)
{
    env e;
    env_open(&e);
    int per = pt_light() ? 20000 : 300000;
    size_t peaks[2];
    for (int round = 0; round < 2; round++) {
        /* round 0: two versions; round 1: two more in the same two months (the same open
           files, twice the rows; a full export reads all four) */
        for (int v = 0; v < 2; v++)
            put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024 + v * 30 * DAY_US + round * 1000000,
                20 * DAY_US / per, per, v);
        char name[16];
        snprintf(name, sizeof name, "m%d", round);
        char *dir = subdir(name);
        size_t base = pond_alloc_current();
        pond_alloc_reset_peak();
        pond_export_result r;
        PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
        PT_ASSERT_INT_EQ(r.rows, (int64_t)per * 2 * (round + 1));
        peaks[round] = pond_alloc_peak() - base;
        free(dir);
    }
    printf("  export peak: %zu KiB for %d rows, %zu KiB for %d rows\n", peaks[0] / 1024, 2 * per,
           peaks[1] / 1024, 4 * per);
    PT_ASSERT(peaks[1] < peaks[0] + peaks[0] / 2);
    PT_ASSERT(peaks[1] < (size_t)64 << 20);
    env_close(&e);
}

/* A symbolic link where export expects its own directory is refused before anything outside
 * the export directory is written or removed. */
static void test_symlinks_refused(void)
{
    env e;
    env_open(&e);
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, DAY_US, 50, 0); /* January, February */
    char *dir = subdir("out"), *victim = subdir("victim"), path[4400], link[4400];
    PT_ASSERT(mkdir(dir, 0777) == 0 && mkdir(victim, 0777) == 0);
    snprintf(link, sizeof link, "%s/year=2024", dir);
    PT_ASSERT(symlink(victim, link) == 0);
    pond_export_result r;
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("is a symbolic link");
    PT_ASSERT_INT_EQ(parquet_files(victim), 0);
    /* after a real export, a partition directory swapped for a link to files of the same
       names: a replacement must not remove them */
    PT_ASSERT(unlink(link) == 0);
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL));
    snprintf(path, sizeof path, "%s/year=2024", dir);
    snprintf(link, sizeof link, "%s/moved", victim);
    PT_ASSERT(rename(path, link) == 0);
    PT_ASSERT(symlink(link, path) == 0);
    rm(&e, "/s");
    put(&e, "/s", POND_ENTRY_FILE_SERIES, T2024, DAY_US, 40, 1);
    int before = parquet_files(victim);
    PT_ASSERT(before == 2);
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/s", dir, NULL), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(parquet_files(victim), before);
    /* and _pond_tmp as a link */
    char *dir2 = subdir("out2");
    PT_ASSERT(mkdir(dir2, 0777) == 0);
    snprintf(path, sizeof path, "%s/_pond_tmp", dir2);
    PT_ASSERT(symlink(victim, path) == 0);
    PT_ASSERT_ERR(pond_export_source(&r, e.fs, NULL, "/s", dir2, NULL), POND_ECORRUPT);
    free(dir);
    free(dir2);
    free(victim);
    env_close(&e);
}

/* ---- event times: read as the series reader reads them ---- */

static int64_t civil(int y, unsigned m, unsigned d, int h, int mi)
{
    return (pond_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60) * 1000000;
}

/* A host Parquet file with a column "at" of the given format holding vals, and "v" = first,
 * first+1, ... (int64). */
static const char *host_parquet(const char *name, const char *fmt, const int64_t *vals, int n,
                                int first)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", PT_TMPDIR(), name);
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], fmt, "at", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "l", "v", 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 2));
    pond_arrow_builder *b[2];
    PT_ASSERT_OK(pond_arrow_builder_new(&b[0], fmt));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[1], "l"));
    for (int i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], vals[i]));
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[1], first + i));
    }
    for (int k = 0; k < 2; k++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b[k]));
        pond_arrow_builder_free(b[k]);
    }
    const struct ArrowArray *batches[] = {&a};
    PT_ASSERT_OK(pond_parquet_write_file(path, &s, batches, 1, NULL));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    return path;
}

/* "v=<v> <partition directory>" for every row of a published file (its path relative to the
 * export directory). */
static void v_lines_of(lines *l, const char *file, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    int plen = slash ? (int)(slash - rel) : 0;
    pond_parquet_reader *r;
    struct ArrowArrayStream st;
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, file, NULL));
    PT_ASSERT_OK(pond_parquet_reader_stream(&st, r));
    PT_ASSERT_INT_EQ(st.get_schema(&st, &s), 0);
    int vi = -1;
    for (int64_t k = 0; k < s.n_children; k++)
        if (!strcmp(s.children[k]->name, "v"))
            vi = (int)k;
    PT_ASSERT(vi >= 0);
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
        if (!b.release)
            break;
        const struct ArrowArray *c = b.children[vi];
        for (int64_t i = 0; i < b.length; i++)
            pond_buf_printf(&l->text, "v=%lld %.*s\n",
                            (long long)((const int64_t *)c->buffers[1])[c->offset + b.offset + i],
                            plen, rel);
        b.release(&b);
    }
    s.release(&s);
    st.release(&st);
}

typedef struct {
    lines *l;
    const char *dir;
} v_walk;

static void v_file(const char *path, void *p)
{
    v_walk *w = p;
    v_lines_of(w->l, path, path + strlen(w->dir) + 1);
}

static int v_delta_file(const pond_delta_file *f, void *p)
{
    v_walk *w = p;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", w->dir, f->decoded_path);
    v_lines_of(w->l, path, f->decoded_path);
    return 0;
}

static void v_partitions(lines *l, const char *dir, bool delta)
{
    v_walk w = {l, dir};
    if (delta) {
        pond_delta_table *t;
        PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
        PT_ASSERT_OK(pond_delta_table_foreach_file(t, v_delta_file, &w));
        pond_delta_table_free(t);
    } else {
        walk(dir, v_file, &w);
    }
    pt_lines_sort(l);
}

/* want: "v=<v> <partition>" lines, in any order */
static void expect_partitions(const char *dir, bool delta, const char *const *want, size_t n)
{
    lines got = {0}, exp = {0};
    v_partitions(&got, dir, delta);
    for (size_t i = 0; i < n; i++)
        pond_buf_printf(&exp.text, "%s\n", want[i]);
    pt_lines_sort(&exp);
    PT_ASSERT(lines_equal(&exp, &got));
    pt_lines_free(&got);
    pt_lines_free(&exp);
}

/* The export's rows equal the series reader's (pond cat's) over the same range. */
static void expect_rows_as_read(env *e, const char *src, const char *dir, bool delta,
                                const pond_export_options *o)
{
    lines a = {0}, b = {0};
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.has_range = o->has_range;
    ro.from_us = o->from_us;
    ro.to_us = o->to_us;
    source_lines(&a, e, src, &ro);
    if (delta)
        delta_lines(&b, dir);
    else
        dir_lines(&b, dir);
    PT_ASSERT(lines_equal(&a, &b));
    pt_lines_free(&a);
    pt_lines_free(&b);
}

/* A series whose timestamps are wall-clock Parquet values read in America/New_York: its rows
 * are partitioned by their instants (UTC), and a range exports exactly the rows a range read
 * gives, as the series reader converts them; dates in Asia/Tokyo likewise. */
static void test_event_time_wall_clock(void)
{
    env e;
    env_open(&e);
    /* local wall-clock times; EST is UTC-5, EDT (from 2024-03-10 03:00) UTC-4 */
    const int64_t local[8] = {
        civil(2024, 1, 31, 18, 0),  /* 23:00Z        -> 2024-01-31 */
        civil(2024, 1, 31, 19, 0),  /* 02-01 00:00Z  -> 2024-02-01 */
        civil(2024, 1, 31, 23, 30), /* 02-01 04:30Z  -> 2024-02-01 */
        civil(2024, 2, 29, 20, 0),  /* 03-01 01:00Z  -> 2024-03-01 */
        civil(2024, 3, 10, 1, 30),  /* 06:30Z        -> 2024-03-10 */
        civil(2024, 3, 10, 3, 30),  /* 07:30Z (EDT)  -> 2024-03-10 */
        civil(2024, 3, 10, 21, 0),  /* 03-11 01:00Z  -> 2024-03-11 */
        civil(2024, 12, 31, 20, 0), /* 2025-01-01 01:00Z */
    };
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timezone = "America/New_York";
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_parquet_file(NULL, e.fs, NULL, "/w", POND_ENTRY_FILE_SERIES,
                                               host_parquet("w1.parquet", "tsu:", local, 4, 0),
                                               &wo));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_parquet_file(NULL, e.fs, NULL, "/w", POND_ENTRY_FILE_SERIES,
                                               host_parquet("w2.parquet", "tsu:", local + 4, 4, 4),
                                               NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    /* the same rules in the table layer's own words */
    pond_event_time *et;
    PT_ASSERT_OK(pond_event_time_open(&et, e.fs, NULL, "/w"));
    PT_ASSERT_STR_EQ(pond_event_time_column(et), "at");
    pond_event_time_free(et);

    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.partition = POND_EXPORT_PARTITION_DAY;
    o.has_range = true;
    o.from_us = civil(2024, 2, 1, 0, 0); /* local 2024-01-31T19:00: row 0 is out */
    o.to_us = civil(2025, 1, 1, 0, 0);   /* row 7 is out */
    const char *want[] = {
        "v=1 year=2024/month=2/day=1",  "v=2 year=2024/month=2/day=1",
        "v=3 year=2024/month=3/day=1",  "v=4 year=2024/month=3/day=10",
        "v=5 year=2024/month=3/day=10", "v=6 year=2024/month=3/day=11",
    };
    for (int delta = 0; delta < 2; delta++) {
        char *dir = subdir(delta ? "wd" : "wp");
        o.format = delta ? POND_EXPORT_DELTA : POND_EXPORT_PARQUET;
        pond_export_result r;
        PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/w", dir, &o));
        PT_ASSERT_INT_EQ(r.rows, 6);
        expect_rows_as_read(&e, "/w", dir, delta, &o);
        expect_partitions(dir, delta, want, POND_ARRAY_LEN(want));
        free(dir);
    }
    /* a version read alone (an append) partitions the same way */
    const int64_t more[1] = {civil(2024, 4, 30, 22, 0)}; /* 05-01 02:00Z (EDT) */
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_parquet_file(NULL, e.fs, NULL, "/w", POND_ENTRY_FILE_SERIES,
                                               host_parquet("w3.parquet", "tsu:", more, 1, 8),
                                               NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    char *dir = subdir("wp");
    o.format = POND_EXPORT_PARQUET;
    pond_export_result r;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/w", dir, &o));
    PT_ASSERT_INT_EQ(r.rows, 1);
    PT_ASSERT(!r.full);
    expect_rows_as_read(&e, "/w", dir, false, &o);
    const char *want2[] = {
        "v=1 year=2024/month=2/day=1",  "v=2 year=2024/month=2/day=1",
        "v=3 year=2024/month=3/day=1",  "v=4 year=2024/month=3/day=10",
        "v=5 year=2024/month=3/day=10", "v=6 year=2024/month=3/day=11",
        "v=8 year=2024/month=5/day=1",
    };
    expect_partitions(dir, false, want2, POND_ARRAY_LEN(want2));
    free(dir);

    /* dates are midnight in the series' zone: in Tokyo (UTC+9) the day before, in UTC */
    const int64_t days[2] = {pond_days_from_civil(2024, 7, 1), pond_days_from_civil(2024, 7, 2)};
    wo.timezone = "Asia/Tokyo";
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_parquet_file(NULL, e.fs, NULL, "/d", POND_ENTRY_FILE_SERIES,
                                               host_parquet("d.parquet", "tdD", days, 2, 0), &wo));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    dir = subdir("dp");
    pond_export_options od = POND_EXPORT_OPTIONS_INIT;
    od.partition = POND_EXPORT_PARTITION_DAY;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/d", dir, &od));
    expect_rows_as_read(&e, "/d", dir, false, &od);
    const char *want3[] = {"v=0 year=2024/month=6/day=30", "v=1 year=2024/month=7/day=1"};
    expect_partitions(dir, false, want3, POND_ARRAY_LEN(want3));
    free(dir);
    env_close(&e);
}

/* A series imported from CSV with --time-format in Europe/Berlin: exported as read, by the
 * instants the import made of the local times. */
static void test_event_time_csv_time_format(void)
{
    env e;
    env_open(&e);
    char csv[4200];
    snprintf(csv, sizeof csv, "%s/in.csv", PT_TMPDIR());
    FILE *f = fopen(csv, "w");
    PT_ASSERT(f != NULL);
    fputs("at;v\n"
          "31.01.2024 23:30;0\n"  /* 22:30Z -> 2024-01-31 */
          "01.02.2024 00:30;1\n"  /* 01-31 23:30Z: local February, UTC January */
          "29.02.2024 23:59;2\n"  /* 22:59Z -> 2024-02-29 */
          "31.03.2024 03:00;3\n"  /* CEST: 01:00Z -> 2024-03-31 */
          "01.04.2024 01:00;4\n", /* 03-31 23:00Z */
          f);
    fclose(f);
    const char *formats[] = {"%d.%m.%Y %H:%M"};
    pond_tz *tz = NULL;
    pond_time_reader *tr = NULL;
    PT_ASSERT_OK(pond_tz_open(&tz, "Europe/Berlin"));
    PT_ASSERT_OK(pond_time_reader_new(&tr, formats, 1, tz));
    pond_csv_import_options io = POND_CSV_IMPORT_OPTIONS_INIT;
    io.time_reader = tr;
    io.timestamp_column = "at";
    struct ArrowArrayStream in;
    PT_ASSERT_OK(pond_csv_import_stream(&in, csv, &io));
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timestamp_column = "at";
    wo.timezone = "Europe/Berlin";
    wo.time_formats = formats;
    wo.n_time_formats = 1;
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_stream(NULL, e.fs, NULL, "/c", POND_ENTRY_FILE_SERIES, &in, &wo));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    pond_time_reader_free(tr);
    pond_tz_free(tz);
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.partition = POND_EXPORT_PARTITION_DAY;
    o.has_range = true;
    o.from_us = civil(2024, 1, 31, 23, 0);
    o.to_us = civil(2024, 4, 1, 0, 0);
    char *dir = subdir("cp");
    pond_export_result r;
    PT_ASSERT_OK(pond_export_source(&r, e.fs, NULL, "/c", dir, &o));
    expect_rows_as_read(&e, "/c", dir, false, &o);
    const char *want[] = {"v=1 year=2024/month=1/day=31", "v=2 year=2024/month=2/day=29",
                          "v=3 year=2024/month=3/day=31", "v=4 year=2024/month=3/day=31"};
    expect_partitions(dir, false, want, POND_ARRAY_LEN(want));
    free(dir);
    env_close(&e);
}

/* ---- fault loops: every mutating call of an incremental export fails once ---- */

typedef struct {
    env a, b; /* the source before and after the change */
    const char *src;
    bool delta;
} fault_case;

static int fault_body(fault_case *fc, const char *dir, uint64_t n, bool *fired)
{
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    o.format = fc->delta ? POND_EXPORT_DELTA : POND_EXPORT_PARQUET;
    pond_export_result r;
    PT_ASSERT_OK(pond_export_source(&r, fc->a.fs, NULL, fc->src, dir, &o));
    pond_os_fault_at(POND_OS__COUNT, n, POND_FAULT_ERRNO, EIO, false);
    int rc = pond_export_source(&r, fc->b.fs, NULL, fc->src, dir, &o);
    *fired = pond_os_fault_fired();
    pond_os_fault_clear();
    return rc;
}

/* Durability is not what these loops check (tests/export/kill.sh crashes real processes):
 * fsync is a no-op here so that hundreds of exports take seconds. */
static int fake_fsync(int fd)
{
    (void)fd;
    return 0;
}

static void fault_loop(fault_case *fc)
{
    pond_os fast = *pond_os_real();
    fast.fsync = fake_fsync;
    pond_os_set(&fast);
    lines old = {0}, neu = {0};
    source_lines(&old, &fc->a, fc->src, NULL);
    source_lines(&neu, &fc->b, fc->src, NULL);
    int failures = 0;
    /* under valgrind every third call: still more than 20 failure points per loop */
    uint64_t stride = pt_light() ? 3 : 1;
    for (uint64_t n = 1;; n += stride) {
        char name[32];
        snprintf(name, sizeof name, "%s%llu", fc->delta ? "d" : "p", (unsigned long long)n);
        char *dir = subdir(name);
        bool fired;
        int rc = fault_body(fc, dir, n, &fired);
        lines seen = {0};
        if (fc->delta) {
            /* atomic: exactly the old or the new rows */
            delta_lines(&seen, dir);
            PT_ASSERT(lines_same(&seen, rc == 0 ? &neu : &old, true) ||
                      (fired && lines_same(&seen, &neu, true)));
        } else {
            /* never a torn file (every published file reads) nor a row twice */
            dir_lines(&seen, dir);
            PT_ASSERT(lines_within(&seen, &old, &neu));
        }
        pt_lines_free(&seen);
        if (!fired) {
            PT_ASSERT_OK(rc);
            free(dir);
            break;
        }
        failures += rc < 0;
        /* the next export completes it */
        pond_export_result r;
        pond_export_options o = POND_EXPORT_OPTIONS_INIT;
        o.format = fc->delta ? POND_EXPORT_DELTA : POND_EXPORT_PARQUET;
        PT_ASSERT_OK(pond_export_source(&r, fc->b.fs, NULL, fc->src, dir, &o));
        expect_same(&fc->b, fc->src, dir, fc->delta);
        /* and nothing is left in _pond_tmp or as a journal */
        char p[4300];
        snprintf(p, sizeof p, "%s/_pond_export.journal", dir);
        PT_ASSERT(access(p, F_OK) != 0);
        free(dir);
    }
    pond_os_set(NULL);
    printf("  %d injected failures, each leaving a readable state\n", failures);
    PT_ASSERT(failures >= 20);
    pt_lines_free(&old);
    pt_lines_free(&neu);
}

static void fault_series(fault_case *fc, bool delta)
{
    int n = pt_light() ? 60 : 400;
    env_open(&fc->a);
    env_open(&fc->b);
    fc->src = "/s";
    fc->delta = delta;
    int64_t step = 60 * DAY_US / n;
    put(&fc->a, "/s", POND_ENTRY_FILE_SERIES, T2024, step, n, 0);
    put(&fc->b, "/s", POND_ENTRY_FILE_SERIES, T2024, step, n, 0);
    /* the change: an append across February and March */
    put(&fc->b, "/s", POND_ENTRY_FILE_SERIES, T2024 + 50 * DAY_US, DAY_US, 30, 1000);
}

static void test_fault_parquet_append(void)
{
    fault_case fc;
    fault_series(&fc, false);
    fault_loop(&fc);
    env_close(&fc.a);
    env_close(&fc.b);
}

static void test_fault_delta_append(void)
{
    fault_case fc;
    fault_series(&fc, true);
    fault_loop(&fc);
    env_close(&fc.a);
    env_close(&fc.b);
}

static void test_fault_parquet_replace(void)
{
    fault_case fc;
    env_open(&fc.a);
    env_open(&fc.b);
    fc.src = "/t";
    fc.delta = false;
    put(&fc.a, "/t", POND_ENTRY_FILE_SERIES, T2024, DAY_US, 90, 0);
    put(&fc.b, "/t", POND_ENTRY_FILE_SERIES, T2024, DAY_US, 70, 5);
    fault_loop(&fc);
    fc.delta = true;
    fault_loop(&fc);
    env_close(&fc.a);
    env_close(&fc.b);
}

PT_SUITE(export, PT_TEST(keys), PT_TEST(state_roundtrip_and_damage), PT_TEST(parquet_incremental),
         PT_TEST(replacements), PT_TEST(delta_incremental), PT_TEST(options),
         PT_TEST(full_export_records_versions), PT_TEST(bounded_memory), PT_TEST(symlinks_refused),
         PT_TEST(event_time_wall_clock), PT_TEST(event_time_csv_time_format),
         PT_TEST(fault_parquet_append), PT_TEST(fault_delta_append), PT_TEST(fault_parquet_replace),
         PT_TEST(export_keeps_its_codec))
