/* Merged data files verified by row group (src/oplog/oplog_groups.c, docs/format.md
 * "Row-group hashes"): an old version of a merged file is loaded from its footer and the row
 * group holding it, not the whole file; a flipped byte in that group, in the footer or in the
 * add action's footer tag fails each read that uses it with ECORRUPT naming the file, and fsck
 * reports it. */
#include "oplog/oplog_internal.h"
#include "pt.h"
#include "pt_pond.h"

#include <pond/oplog.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Version v's content: 300 incompressible bytes, so a test can find them in the file. */
static void g_data(char out[300], int v)
{
    uint64_t s = (uint64_t)v * 0xD1B54A32D192ED03ull + 1;
    for (size_t i = 0; i < 300; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        out[i] = (char)(s >> 24);
    }
}

static void g_put(pt_pond *e, int v)
{
    char data[300];
    g_data(data, v);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, "/d/s", POND_ENTRY_FILE_SERIES, data, 300));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

/* Reads version v of /d/s: 0 (content compared), or the error code. */
static int g_read(pt_pond *e, int v)
{
    pond_reader *rd = NULL;
    char buf[301], want[300];
    size_t got = 0;
    int rc = pond_fs_open_reader_version(&rd, e->fs, NULL, "/d/s", v);
    if (rc == 0)
        rc = pond_reader_read(rd, buf, sizeof buf, &got);
    pond_reader_free(rd);
    if (rc < 0)
        return rc;
    g_data(want, v);
    if (got != 300 || memcmp(buf, want, 300) != 0)
        pt_fail(__FILE__, __LINE__, "version %d: %zu bytes read, or different bytes", v, got);
    return 0;
}

/* A pond whose /d/s has n versions merged into one file (by gc --compact) and one newer
 * version in a commit's file, reopened: the merged file is older than what a lookup loads. */
static void g_pond(pt_pond *e, const char *name, int n)
{
    snprintf(e->dir, sizeof e->dir, "%s/%s", PT_TMPDIR(), name);
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 4096; /* every version inline */
    PT_ASSERT_OK(pond_oplog_create(e->dir, &co));
    pt_pond_open(e);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e->fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    for (int v = 1; v <= n; v++)
        g_put(e, v);
    PT_ASSERT_OK(pond_oplog_lock(e->be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.compact = true;
    pond_gc_report r;
    int rc = pond_oplog_gc(&r, e->be, &o);
    pond_oplog_unlock(e->be);
    PT_ASSERT_OK(rc);
    g_put(e, n + 1);
    pt_pond_close(e);
    pt_pond_open(e);
}

/* The largest merged ("-l") data file of the pond, and its size. */
static void merged_file(char *out, size_t cap, const pt_pond *e, int64_t *size)
{
    DIR *d = opendir(e->dir);
    PT_ASSERT(d != NULL);
    struct dirent *de;
    *size = 0;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "part_id=", 8) != 0)
            continue;
        char sub[4500];
        snprintf(sub, sizeof sub, "%s/%s", e->dir, de->d_name);
        DIR *p = opendir(sub);
        PT_ASSERT(p != NULL);
        struct dirent *fe;
        while ((fe = readdir(p)) != NULL) {
            struct stat st;
            char path[4800];
            snprintf(path, sizeof path, "%s/%s", sub, fe->d_name);
            if (!strstr(fe->d_name, "-l") || stat(path, &st) != 0 || st.st_size <= *size)
                continue;
            snprintf(out, cap, "%s", path);
            *size = st.st_size;
        }
        closedir(p);
    }
    closedir(d);
    PT_ASSERT(*size > 0);
}

static uint64_t g_bytes;

static ssize_t counting_read(int fd, void *buf, size_t n)
{
    ssize_t r = pond_os_real()->read(fd, buf, n);
    g_bytes += r > 0 ? (uint64_t)r : 0;
    return r;
}

static ssize_t counting_pread(int fd, void *buf, size_t n, off_t off)
{
    ssize_t r = pond_os_real()->pread(fd, buf, n, off);
    g_bytes += r > 0 ? (uint64_t)r : 0;
    return r;
}

/* Bytes read to read version v from a fresh handle's state (nothing of the merged file
 * loaded). */
static uint64_t bytes_for(pt_pond *e, int v)
{
    pond_os counting = *pond_os_real();
    counting.read = counting_read;
    counting.pread = counting_pread;
    g_bytes = 0;
    pond_os_set(&counting);
    int rc = g_read(e, v);
    pond_os_set(NULL);
    PT_ASSERT_OK(rc);
    return g_bytes;
}

/* Loading one old version of a merged file reads its footer and the row group holding it (and
 * that group's content chunks), not the file: at 1,040 versions (17 row groups) less than a
 * quarter of the file (light runs: 520 versions, less than half). Before: the file was read and hashed whole to load the version's row. */
static void test_one_version_reads_its_group(void)
{
    pt_pond e;
    int n = pt_light() ? 520 : 1040;
    g_pond(&e, "pond", n);
    char path[4800];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    uint64_t bytes = bytes_for(&e, n / 2);
    if (getenv("POND_TEST_VERBOSE"))
        printf("version %d of a merged file of %lld bytes: %llu bytes read\n", n / 2,
               (long long)size, (unsigned long long)bytes);
    if (bytes * (n > 520 ? 4 : 2) > (uint64_t)size)
        pt_fail(__FILE__, __LINE__, "one version read %llu bytes of a merged file of %lld",
                (unsigned long long)bytes, (long long)size);
    /* and every version reads back, in a fresh handle, in an order that moves between groups */
    pt_pond_close(&e);
    pt_pond_open(&e);
    for (int v = n; v >= 1; v -= 37)
        PT_ASSERT_OK(g_read(&e, v));
    for (int v = 1; v <= n + 1; v += 29)
        PT_ASSERT_OK(g_read(&e, v));
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    pt_pond_close(&e);
}

static void flip_at(const char *path, int64_t off)
{
    FILE *fp = fopen(path, "r+b");
    PT_ASSERT(fp != NULL);
    PT_ASSERT(fseek(fp, (long)off, SEEK_SET) == 0);
    int c = fgetc(fp);
    PT_ASSERT(c != EOF);
    PT_ASSERT(fseek(fp, (long)off, SEEK_SET) == 0);
    PT_ASSERT(fputc(c ^ 0x20, fp) != EOF);
    PT_ASSERT(fclose(fp) == 0);
}

static int64_t find_in_file(const char *path, const char *needle, size_t m)
{
    FILE *fp = fopen(path, "rb");
    PT_ASSERT(fp != NULL);
    PT_ASSERT(fseek(fp, 0, SEEK_END) == 0);
    long size = ftell(fp);
    rewind(fp);
    char *buf = malloc((size_t)size);
    PT_ASSERT(buf != NULL);
    PT_ASSERT_INT_EQ((int64_t)fread(buf, 1, (size_t)size, fp), (int64_t)size);
    fclose(fp);
    int64_t at = -1;
    for (long i = 0; at < 0 && i + (long)m <= size; i++)
        if (buf[i] == needle[0] && memcmp(buf + i, needle, m) == 0)
            at = i;
    free(buf);
    PT_ASSERT(at >= 0);
    return at;
}

static int fsck_corrupt(pt_pond *e)
{
    pond_fsck_report fr;
    int rc = pond_oplog_fsck(&fr, e->be, NULL, NULL, NULL);
    PT_ASSERT_ERR(rc, POND_ECORRUPT);
    return (int)fr.corrupt;
}

/* A flipped byte in the row group holding a version: loading that version fails naming the
 * file; a version of another group still reads; fsck reports the file. */
static void test_flipped_group(void)
{
    pt_pond e;
    int n = pt_light() ? 200 : 300;
    g_pond(&e, "pond", n);
    char path[4800], want[300];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    g_data(want, 100);
    pt_pond_close(&e);
    flip_at(path, find_in_file(path, want, 300) + 150);
    pt_pond_open(&e);
    PT_ASSERT_ERR(g_read(&e, 100), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(strrchr(path, '/') + 1);
    PT_ASSERT_MSG_HAS("row group");
    /* row n - 11 is in group 2 or 4 of 64-row groups; 100 (row 99) in group 1 */
    PT_ASSERT_OK(g_read(&e, n - 10));
    PT_ASSERT(fsck_corrupt(&e) >= 1);
    pt_pond_close(&e);
}

/* A flipped byte in the footer (the last bytes: its length and magic are in the tag's range
 * too): every version of the file fails naming it. */
static void test_flipped_footer(void)
{
    pt_pond e;
    g_pond(&e, "pond", pt_light() ? 200 : 300);
    char path[4800];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    pt_pond_close(&e);
    flip_at(path, size - 40);
    pt_pond_open(&e);
    PT_ASSERT_ERR(g_read(&e, 100), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(strrchr(path, '/') + 1);
    PT_ASSERT_MSG_HAS("footer");
    PT_ASSERT(fsck_corrupt(&e) >= 1);
    pt_pond_close(&e);
}

/* A footer tag that lies (one hex digit of its SHA-256 changed in the log): the footer no
 * longer matches it, so no row group's hash is believed: reads fail naming the file, and fsck
 * reports it although the file itself is intact (its whole-file SHA-256 matches). */
static void test_lying_tag(void)
{
    pt_pond e;
    g_pond(&e, "pond", pt_light() ? 200 : 300);
    char path[4800];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    pt_pond_close(&e);
    /* the commit adding the merged file: the one JSON commit naming it */
    const char *base = strrchr(path, '/') + 1;
    char logdir[4300];
    snprintf(logdir, sizeof logdir, "%s/_delta_log", e.dir);
    DIR *d = opendir(logdir);
    PT_ASSERT(d != NULL);
    struct dirent *de;
    int edited = 0;
    while ((de = readdir(d)) != NULL) {
        char lp[4600];
        snprintf(lp, sizeof lp, "%s/%s", logdir, de->d_name);
        /* the checkpoints go (the commits are all there): the log is read from the JSON */
        if (strstr(de->d_name, "checkpoint")) {
            PT_ASSERT(remove(lp) == 0);
            continue;
        }
        if (!strstr(de->d_name, ".json"))
            continue;
        FILE *fp = fopen(lp, "rb");
        PT_ASSERT(fp != NULL);
        char *buf = calloc(1, 1 << 20);
        PT_ASSERT(buf != NULL);
        size_t n = fread(buf, 1, (1 << 20) - 1, fp);
        fclose(fp);
        char *add = strstr(buf, base);
        char *tag = add ? strstr(add, "\"pond.footer\":\"") : NULL;
        char *eol = add ? strchr(add, '\n') : NULL;
        if (tag && (!eol || tag < eol)) {
            char *comma = strchr(tag + 15, ',');
            PT_ASSERT(comma != NULL);
            comma[1] = comma[1] == '0' ? '1' : '0';
            fp = fopen(lp, "wb");
            PT_ASSERT(fp != NULL);
            PT_ASSERT_INT_EQ((int64_t)fwrite(buf, 1, n, fp), (int64_t)n);
            PT_ASSERT(fclose(fp) == 0);
            edited++;
        }
        free(buf);
    }
    closedir(d);
    PT_ASSERT_INT_EQ(edited, 1);
    pt_pond_open(&e);
    PT_ASSERT_ERR(g_read(&e, 100), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(base);
    PT_ASSERT_MSG_HAS("pond.footer");
    PT_ASSERT(fsck_corrupt(&e) >= 1);
    pt_pond_close(&e);
}

/* Version v of /d/t: content g_data(v), event times [v * 100, v * 100 + 99] (none for version 5:
 * it overlaps every range, and its row group is read for every range). */
static void t_put(pt_pond *e, int v)
{
    char data[300];
    g_data(data, v);
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, e->fs, NULL, "/d/t", POND_ENTRY_FILE_SERIES));
    PT_ASSERT_OK(pond_writer_write(w, data, sizeof data));
    if (v != 5)
        PT_ASSERT_OK(pond_writer_set_event_time(w, v * 100, v * 100 + 99));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

typedef struct {
    int64_t v[64];
    size_t n;
} t_seen;

static int t_collect(const pond_stat *st, const char *xattrs, void *payload)
{
    (void)xattrs;
    t_seen *s = payload;
    PT_ASSERT(s->n < 64);
    s->v[s->n++] = st->version;
    return 0;
}

/* Lists the versions of /d/t overlapping [from, to] from a fresh handle and reads each: they
 * are exactly the model's (every version whose range meets it, and those without one), and
 * each reads its own content. Returns the bytes read. */
static uint64_t t_range(pt_pond *e, int n, int64_t from, int64_t to)
{
    pt_pond_close(e);
    pt_pond_open(e);
    pond_os counting = *pond_os_real();
    counting.read = counting_read;
    counting.pread = counting_pread;
    g_bytes = 0;
    pond_os_set(&counting);
    pond_fs_node *h = NULL;
    t_seen got = {{0}, 0};
    int rc = pond_fs_node_open(&h, e->fs, NULL, "/d/t", 0);
    if (rc == 0)
        rc = pond_fs_node_foreach_version_overlapping(h, from, to, t_collect, &got);
    for (size_t i = 0; rc == 0 && i < got.n; i++) {
        pond_reader *rd = NULL;
        char buf[301], want[300];
        size_t len = 0;
        if ((rc = pond_fs_node_open_reader(&rd, h, got.v[i])) == 0)
            rc = pond_reader_read(rd, buf, sizeof buf, &len);
        pond_reader_free(rd);
        g_data(want, (int)got.v[i]);
        if (rc == 0 && (len != 300 || memcmp(buf, want, 300) != 0))
            pt_fail(__FILE__, __LINE__, "version %lld read other bytes", (long long)got.v[i]);
    }
    pond_fs_node_free(h);
    pond_os_set(NULL);
    PT_ASSERT_OK(rc);
    size_t k = 0;
    for (int v = 1; v <= n; v++) {
        if (v != 5 && (v * 100 + 99 < from || v * 100 > to))
            continue;
        if (k >= got.n || got.v[k] != v)
            pt_fail(__FILE__, __LINE__, "[%lld, %lld]: version %d not listed", (long long)from,
                    (long long)to, v);
        k++;
    }
    PT_ASSERT_INT_EQ((int64_t)got.n, (int64_t)k);
    return g_bytes;
}

/* The versions of one day (a range meeting one version's event times) of a series whose
 * versions were merged into one file: listed from the row groups whose event times meet the
 * range (and those holding versions without times), read from them, not from the whole file;
 * random ranges list exactly the model's versions. */
static void test_day_reads_its_groups(void)
{
    pt_pond e;
    int n = pt_light() ? 448 : 640;
    snprintf(e.dir, sizeof e.dir, "%s/%s", PT_TMPDIR(), "pondt");
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 4096; /* every version inline */
    PT_ASSERT_OK(pond_oplog_create(e.dir, &co));
    pt_pond_open(&e);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    for (int v = 1; v <= n; v++)
        t_put(&e, v);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.compact = true;
    pond_gc_report r;
    int rc = pond_oplog_gc(&r, e.be, &o);
    pond_oplog_unlock(e.be);
    PT_ASSERT_OK(rc);
    t_put(&e, n + 1);
    char path[4800];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    /* version 2 * n / 3 lies in one row group; the versions without times are in every one */
    int d = 2 * n / 3;
    uint64_t bytes = t_range(&e, n + 1, d * 100 + 10, d * 100 + 20);
    if (getenv("POND_TEST_VERBOSE"))
        printf("one day of a merged file of %lld bytes: %llu bytes read\n", (long long)size,
               (unsigned long long)bytes);
    /* the footer, the day's group and version 5's (group 0), not the rest (a third of the 10
     * groups' file; light: half of 7): the whole file before */
    if (bytes * (n > 448 ? 3 : 2) > (uint64_t)size)
        pt_fail(__FILE__, __LINE__, "one day read %llu bytes of a merged file of %lld",
                (unsigned long long)bytes, (long long)size);
    uint64_t seed = 0x5eedULL;
    for (int q = 0; q < 8; q++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t from = (int64_t)((seed >> 33) % (uint64_t)(n * 100 + 200)) - 100;
        int64_t to = from + (int64_t)((seed >> 20) % 900);
        (void)t_range(&e, n + 1, from, to);
    }
    pt_pond_close(&e);
}

/* The entry's parser takes only what tiles the file and fits int64 (a value past it used to
 * saturate silently). */
static void test_entry_parse_bounds(void)
{
    char h[65], text[512];
    memset(h, 'a', 64);
    h[64] = '\0';
    ol_group g[2];
    size_t n = 9;
    const char *why = NULL;
    snprintf(text, sizeof text, "1;4,100,1,64,-,-,%s;104,200,65,70,5,9,%s;", h, h);
    PT_ASSERT_INT_EQ(pond_oplog__groups_parse(g, 2, &n, text, 304, &why), 0);
    PT_ASSERT_INT_EQ((int64_t)n, 2);
    PT_ASSERT(!g[0].has_et && g[1].has_et && g[1].et_min == 5 && g[1].et_max == 9);
    PT_ASSERT_INT_EQ(pond_oplog__groups_parse(g, 2, &n, text, 305, &why), -1);
    PT_ASSERT_STR_EQ(why, "does not tile the file");
    PT_ASSERT_INT_EQ(pond_oplog__groups_parse(g, 1, &n, text, 304, &why), -1);
    PT_ASSERT_STR_EQ(why, "lists more row groups than the file has");
    snprintf(text, sizeof text, "1;4,100,99999999999999999999,64,-,-,%s;", h);
    PT_ASSERT_INT_EQ(pond_oplog__groups_parse(g, 1, &n, text, 104, &why), -1);
    PT_ASSERT_STR_EQ(why, "does not parse");
    snprintf(text, sizeof text, "1;4,100,1,64,-,-,%.63s;", h);
    PT_ASSERT_INT_EQ(pond_oplog__groups_parse(g, 1, &n, text, 104, &why), -1);
    PT_ASSERT_STR_EQ(why, "does not parse");
}

PT_SUITE(oplog_groups, PT_TEST(one_version_reads_its_group), PT_TEST(day_reads_its_groups),
         PT_TEST(flipped_group), PT_TEST(flipped_footer), PT_TEST(lying_tag),
         PT_TEST(entry_parse_bounds))
