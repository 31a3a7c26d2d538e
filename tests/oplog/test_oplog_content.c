/* One version's inline content read from the row group of its merged data file that holds it
 * (src/oplog/oplog_content.c, docs/format.md "Data files"): the bytes read do not grow with the
 * file, each row's content is checked against its own SHA-256, a corrupted row group fails
 * only the versions in it (naming the file and the version), and files of one row group (commit
 * files, merged files written before) are read whole as before. */
#include "pt.h"

#include <pond/oplog.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define C_MAXLEN 600

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

static void env_create(env *e, const char *name)
{
    snprintf(e->dir, sizeof e->dir, "%s/%s", PT_TMPDIR(), name);
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 4096; /* every version inline */
    PT_ASSERT_OK(pond_oplog_create(e->dir, &co));
    env_open(e);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e->fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

static void env_reopen(env *e)
{
    env_close(e);
    env_open(e);
}

static uint64_t c_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Version v's content under seed: incompressible bytes (so a test can find them in the file),
 * of 1..C_MAXLEN bytes when random_len, else 300. */
static size_t c_data(char *out, uint64_t seed, int v, bool random_len)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + (uint64_t)v * 0xD1B54A32D192ED03ull + 1;
    size_t len = random_len ? 1 + c_next(&s) % C_MAXLEN : 300;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)(c_next(&s) >> 24);
    return len;
}

static void c_put(env *e, uint64_t seed, int v, bool random_len)
{
    char data[C_MAXLEN];
    size_t len = c_data(data, seed, v, random_len);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, "/d/s", POND_ENTRY_FILE_SERIES, data, len));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

static void c_compact(env *e)
{
    PT_ASSERT_OK(pond_oplog_lock(e->be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.compact = true;
    pond_gc_report r;
    int rc = pond_oplog_gc(&r, e->be, &o);
    pond_oplog_unlock(e->be);
    PT_ASSERT_OK(rc);
}

/* Reads version v of /d/s: 0, or the error code (content compared when 0). */
static int c_read(env *e, uint64_t seed, int v, bool random_len)
{
    pond_reader *rd = NULL;
    char buf[C_MAXLEN + 1], want[C_MAXLEN];
    size_t got = 0;
    int rc = pond_fs_open_reader_version(&rd, e->fs, NULL, "/d/s", v);
    if (rc == 0)
        rc = pond_reader_read(rd, buf, sizeof buf, &got);
    pond_reader_free(rd);
    if (rc < 0)
        return rc;
    size_t len = c_data(want, seed, v, random_len);
    if (got != len || memcmp(buf, want, len) != 0)
        pt_fail(__FILE__, __LINE__, "version %d: %zu bytes read, want %zu (or different bytes)", v,
                got, len);
    return 0;
}

static void c_versions(env *e, int want)
{
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e->fs, NULL, "/d/s"));
    pond_free(vs);
    PT_ASSERT_INT_EQ((int64_t)nv, want);
}

/* Bytes read (read and pread) while counting is on. */
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

/* Bytes read to read version v once every row of the partition is loaded (its content still
 * pending): what reading that one version's content costs. */
static uint64_t content_bytes(env *e, uint64_t seed, int v, bool random_len)
{
    pond_os counting = *pond_os_real();
    counting.read = counting_read;
    counting.pread = counting_pread;
    g_bytes = 0;
    pond_os_set(&counting);
    int rc = c_read(e, seed, v, random_len);
    pond_os_set(NULL);
    PT_ASSERT_OK(rc);
    return g_bytes;
}

/* The partition's merged data file of /d (its only file with "-l" in the name) and its size. */
static void merged_file(char *out, size_t cap, const env *e, int64_t *size)
{
    DIR *d = opendir(e->dir);
    PT_ASSERT(d != NULL);
    struct dirent *de;
    int found = 0;
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
            found++;
        }
        closedir(p);
    }
    closedir(d);
    PT_ASSERT(found > 0);
}

/* A pond whose /d/s has n versions of 300 bytes merged into one file: the bytes read for the
 * content of its middle version. */
static uint64_t merged_version_bytes(int n, int64_t *file_size)
{
    env e;
    char name[32];
    snprintf(name, sizeof name, "pond%d", n);
    env_create(&e, name);
    for (int v = 1; v <= n; v++)
        c_put(&e, 7, v, false);
    c_compact(&e);
    env_reopen(&e);
    c_versions(&e, n); /* every row loaded, content pending */
    uint64_t bytes = content_bytes(&e, 7, n / 2, false);
    char path[4800];
    *file_size = 0;
    merged_file(path, sizeof path, &e, file_size);
    env_close(&e);
    return bytes;
}

/* The bytes read for one version's content of a merged file stay flat from 130 to 1,040
 * versions (light runs: 780): its footer and one row group, not the file (before: the whole
 * file, 8x as much). */
static void test_one_version_bounded(void)
{
    int64_t small_size, large_size;
    int most = pt_light() ? 780 : 1040;
    uint64_t small = merged_version_bytes(130, &small_size);
    uint64_t large = merged_version_bytes(most, &large_size);
    if (getenv("POND_TEST_VERBOSE"))
        printf("one version's content: %llu bytes read of a %lld-byte file (130 versions), "
               "%llu of %lld (%d)\n",
               (unsigned long long)small, (long long)small_size, (unsigned long long)large,
               (long long)large_size, most);
    /* the footer, read with the group, grows by ~900 bytes per row group (Parquet's entry
     * and the group's pond.row_groups entry): 1.48x before the row-group hashes, 1.53x after */
    if (large > small * 8 / 5 || large * 8 > (uint64_t)large_size)
        pt_fail(__FILE__, __LINE__,
                "one version's content read %llu bytes at %d versions (file %lld bytes), "
                "%llu at 130",
                (unsigned long long)large, most, (long long)large_size, (unsigned long long)small);
}

/* A merged file of 60 versions is one row group, like every merged file written before row
 * groups: it is read whole, as before, and every version reads back. */
static void test_one_group_read_whole(void)
{
    env e;
    env_create(&e, "pond60");
    for (int v = 1; v <= 60; v++)
        c_put(&e, 3, v, false);
    c_compact(&e);
    env_reopen(&e);
    c_versions(&e, 60);
    char path[4800];
    int64_t size = 0;
    merged_file(path, sizeof path, &e, &size);
    uint64_t bytes = content_bytes(&e, 3, 30, false);
    if (bytes < (uint64_t)size)
        pt_fail(__FILE__, __LINE__, "a one-group file of %lld bytes was read for %llu bytes",
                (long long)size, (unsigned long long)bytes);
    for (int v = 1; v <= 60; v++)
        PT_ASSERT_OK(c_read(&e, 3, v, false));
    env_close(&e);
}

static char *find_bytes(char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

/* A corrupted row group fails the versions in it, naming the file and the version; another
 * row group's versions still read (before: the file was read and hashed whole, so every
 * version of it failed). The rows were loaded (and the file checked whole) before the damage,
 * as in a long-lived handle. */
static void test_corrupt_group(void)
{
    env e;
    env_create(&e, "pondbad");
    for (int v = 1; v <= 200; v++)
        c_put(&e, 11, v, false);
    c_compact(&e);
    env_reopen(&e);
    c_versions(&e, 200);
    char path[4800];
    int64_t size = 0;
    merged_file(path, sizeof path, &e, &size);
    /* version 10's bytes, stored as written (incompressible): damage one in its middle */
    char want[C_MAXLEN];
    size_t len = c_data(want, 11, 10, false);
    FILE *fp = fopen(path, "r+b");
    PT_ASSERT(fp != NULL);
    char *file = malloc((size_t)size);
    PT_ASSERT(file != NULL);
    PT_ASSERT_INT_EQ((int64_t)fread(file, 1, (size_t)size, fp), size);
    char *at = find_bytes(file, (size_t)size, want + 16, len - 32);
    PT_ASSERT(at != NULL);
    PT_ASSERT(fseek(fp, (long)(at - file) + 40, SEEK_SET) == 0);
    char flip = (char)(at[40] ^ 0x5a);
    PT_ASSERT_INT_EQ((int64_t)fwrite(&flip, 1, 1, fp), 1);
    PT_ASSERT(fclose(fp) == 0);
    free(file);
    /* versions 130 and 200 are in other row groups (rows 129 and 199 of 64-row groups) */
    PT_ASSERT_OK(c_read(&e, 11, 130, false));
    PT_ASSERT_OK(c_read(&e, 11, 200, false));
    PT_ASSERT_ERR(c_read(&e, 11, 10, false), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(": version 10 from data file");
    PT_ASSERT_MSG_HAS(strrchr(path, '/') + 1);
    /* asked again, it fails again: nothing of it was taken as loaded */
    PT_ASSERT_ERR(c_read(&e, 11, 12, false), POND_ECORRUPT);
    PT_ASSERT_ERR(c_read(&e, 11, 10, false), POND_ECORRUPT);
    PT_ASSERT_OK(c_read(&e, 11, 70, false));
    env_close(&e);
}

/* Random versions of a merged file and newer commit files, read in random order from fresh
 * handles (rows loaded whole or partially), right after the merge (positions unknown: the file
 * read whole) and after a full content load by a merge: each equals what was written. */
static void test_random_versions(void)
{
    uint64_t s = 0x5eed;
    for (int round = 0; round < 3; round++) {
        env e;
        char name[32];
        snprintf(name, sizeof name, "pondr%d", round);
        env_create(&e, name);
        /* light runs (valgrind): up to 195 versions merged, still one to four row groups */
        int merged = 65 + (int)(c_next(&s) % (pt_light() ? 130 : 300));
        int n = merged + (int)(c_next(&s) % 20);
        for (int v = 1; v <= merged; v++)
            c_put(&e, (uint64_t)round, v, true);
        c_compact(&e);
        /* in the merging handle: the rows went back to pending, now in the merged file */
        for (int k = 0; k < 10; k++)
            PT_ASSERT_OK(
                c_read(&e, (uint64_t)round, 1 + (int)(c_next(&s) % (uint64_t)merged), true));
        for (int v = merged + 1; v <= n; v++)
            c_put(&e, (uint64_t)round, v, true);
        for (int h = 0; h < 4; h++) {
            env_reopen(&e);
            if (h % 2)
                c_versions(&e, n);
            for (int k = 0; k < 40; k++)
                PT_ASSERT_OK(
                    c_read(&e, (uint64_t)round, 1 + (int)(c_next(&s) % (uint64_t)n), true));
        }
        /* every version, in order, after a merge that loaded the content whole */
        c_compact(&e);
        env_reopen(&e);
        for (int v = 1; v <= n; v++)
            PT_ASSERT_OK(c_read(&e, (uint64_t)round, v, true));
        env_close(&e);
    }
}

PT_SUITE(oplog_content, PT_TEST(one_version_bounded), PT_TEST(one_group_read_whole),
         PT_TEST(corrupt_group), PT_TEST(random_versions))
