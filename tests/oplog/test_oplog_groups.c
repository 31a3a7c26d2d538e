/* Merged data files verified by row group (src/oplog/oplog_groups.c, docs/format.md
 * "Row-group hashes"): an old version of a merged file is loaded from its footer and the row
 * group holding it, not the whole file; a flipped byte in that group, in the footer or in the
 * add action's footer tag fails each read that uses it with ECORRUPT naming the file, and fsck
 * reports it. */
#include "pt.h"

#include <pond/oplog.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char dir[4200];
    pond_backend *be;
    pond_fs *fs;
} env;

static void env_open(env *e)
{
    PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
}

static void env_close(env *e)
{
    pond_fs_free(e->fs);
    pond_backend_free(e->be);
    e->fs = NULL;
    e->be = NULL;
}

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

static void g_put(env *e, int v)
{
    char data[300];
    g_data(data, v);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, "/d/s", POND_ENTRY_FILE_SERIES, data, 300));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

/* Reads version v of /d/s: 0 (content compared), or the error code. */
static int g_read(env *e, int v)
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
static void g_pond(env *e, const char *name, int n)
{
    snprintf(e->dir, sizeof e->dir, "%s/%s", PT_TMPDIR(), name);
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 4096; /* every version inline */
    PT_ASSERT_OK(pond_oplog_create(e->dir, &co));
    env_open(e);
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
    env_close(e);
    env_open(e);
}

/* The largest merged ("-l") data file of the pond, and its size. */
static void merged_file(char *out, size_t cap, const env *e, int64_t *size)
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
static uint64_t bytes_for(env *e, int v)
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
    env e;
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
    env_close(&e);
    env_open(&e);
    for (int v = n; v >= 1; v -= 37)
        PT_ASSERT_OK(g_read(&e, v));
    for (int v = 1; v <= n + 1; v += 29)
        PT_ASSERT_OK(g_read(&e, v));
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    env_close(&e);
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

static int fsck_corrupt(env *e)
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
    env e;
    int n = pt_light() ? 200 : 300;
    g_pond(&e, "pond", n);
    char path[4800], want[300];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    g_data(want, 100);
    env_close(&e);
    flip_at(path, find_in_file(path, want, 300) + 150);
    env_open(&e);
    PT_ASSERT_ERR(g_read(&e, 100), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(strrchr(path, '/') + 1);
    PT_ASSERT_MSG_HAS("row group");
    /* row n - 11 is in group 2 or 4 of 64-row groups; 100 (row 99) in group 1 */
    PT_ASSERT_OK(g_read(&e, n - 10));
    PT_ASSERT(fsck_corrupt(&e) >= 1);
    env_close(&e);
}

/* A flipped byte in the footer (the last bytes: its length and magic are in the tag's range
 * too): every version of the file fails naming it. */
static void test_flipped_footer(void)
{
    env e;
    g_pond(&e, "pond", pt_light() ? 200 : 300);
    char path[4800];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    env_close(&e);
    flip_at(path, size - 40);
    env_open(&e);
    PT_ASSERT_ERR(g_read(&e, 100), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(strrchr(path, '/') + 1);
    PT_ASSERT_MSG_HAS("footer");
    PT_ASSERT(fsck_corrupt(&e) >= 1);
    env_close(&e);
}

/* A footer tag that lies (one hex digit of its SHA-256 changed in the log): the footer no
 * longer matches it, so no row group's hash is believed: reads fail naming the file, and fsck
 * reports it although the file itself is intact (its whole-file SHA-256 matches). */
static void test_lying_tag(void)
{
    env e;
    g_pond(&e, "pond", pt_light() ? 200 : 300);
    char path[4800];
    int64_t size;
    merged_file(path, sizeof path, &e, &size);
    env_close(&e);
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
    env_open(&e);
    PT_ASSERT_ERR(g_read(&e, 100), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(base);
    PT_ASSERT_MSG_HAS("pond.footer");
    PT_ASSERT(fsck_corrupt(&e) >= 1);
    env_close(&e);
}

PT_SUITE(oplog_groups, PT_TEST(one_version_reads_its_group), PT_TEST(flipped_group),
         PT_TEST(flipped_footer), PT_TEST(lying_tag))
