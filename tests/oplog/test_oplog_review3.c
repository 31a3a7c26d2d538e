/* Review (session 9, rev3): reproductions for the partial loads and the event-time listing.
 * The lead decides on the fixes. */
#include "pt.h"

#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    pond_backend *be;
    pond_fs *fs;
} hd;

static void hd_open(hd *h, const char *dir)
{
    PT_ASSERT_OK(pond_oplog_open(&h->be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&h->fs, h->be, NULL));
}

static void hd_close(hd *h)
{
    pond_fs_free(h->fs);
    pond_backend_free(h->be);
}

static void put_day(hd *h, const char *path, int v)
{
    char data[32];
    int len = snprintf(data, sizeof data, "v%d", v);
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_begin(h->fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, h->fs, NULL, path, POND_ENTRY_FILE_SERIES));
    PT_ASSERT_OK(pond_writer_write(w, data, (size_t)len));
    PT_ASSERT_OK(pond_writer_set_event_time(w, v * 100, v * 100 + 50));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, h->fs));
}

/* Replaces the value of tag `key` in the commit of the log holding `marker` by `value`. */
static int retag(const char *dir, const char *marker, const char *key, const char *value)
{
    char logdir[4300];
    snprintf(logdir, sizeof logdir, "%s/_delta_log", dir);
    DIR *d = opendir(logdir);
    PT_ASSERT(d);
    struct dirent *de;
    int done = 0;
    while (!done && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 5, ".json"))
            continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", logdir, de->d_name);
        FILE *f = fopen(path, "rb");
        PT_ASSERT(f);
        static char text[1 << 16], out[1 << 16];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        char pat[128];
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        char *k = strstr(text, pat);
        if (!strstr(text, marker) || !k)
            continue;
        char *vs = k + strlen(pat), *ve = strchr(vs, '"');
        PT_ASSERT(ve);
        int m = snprintf(out, sizeof out, "%.*s%s%s", (int)(vs - text), text, value, ve);
        f = fopen(path, "wb");
        PT_ASSERT(f);
        PT_ASSERT(fwrite(out, 1, (size_t)m, f) == (size_t)m);
        fclose(f);
        done = 1;
    }
    closedir(d);
    return done;
}

/* A pond someone sent whose merged file's pond.event_time tag lies (narrower than its rows).
 * The rows are in a file whose SHA-256 matches; only the tag is wrong. A range listing from a
 * fresh handle skips a file by its tag without reading it, so the guard is that every read of
 * the file refuses it (naming the file and the tag) and fsck, which reads every file, reports
 * it: the lie is never silent. */
static void test_lying_event_time_tag_hides_versions(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    hd h;
    hd_open(&h, dir);
    /* 10 versions: the series' first 8 files merge into one level-1 file (an OPTIMIZE commit) */
    for (int v = 1; v <= 10; v++)
        put_day(&h, "/s", v);
    hd_close(&h);
    PT_ASSERT(retag(dir, "OPTIMIZE", "pond.event_time", "0,1"));
    hd_open(&h, dir);
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_ERR(pond_fs_versions(&vs, &nv, h.fs, NULL, "/s"), POND_ECORRUPT);
    PT_ASSERT(strstr(pond_error_last()->message, "pond.event_time tag (0..1)") != NULL);
    PT_ASSERT(strstr(pond_error_last()->message, "-l1.parquet") != NULL);
    hd_close(&h);
    hd_open(&h, dir);
    pond_fsck_report fr;
    int frc = pond_oplog_fsck(&fr, h.be, NULL, NULL, NULL);
    PT_ASSERT(frc == POND_ECORRUPT || (frc == 0 && fr.corrupt > 0));
    hd_close(&h);
}

static void put_text(hd *h, const char *path, const char *text)
{
    PT_ASSERT_OK(pond_fs_begin(h->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(h->fs, NULL, path, POND_ENTRY_FILE_SERIES, text, strlen(text)));
    PT_ASSERT_OK(pond_fs_commit(NULL, h->fs));
}

static void expect_version(hd *h, const char *path, int64_t v, const char *want)
{
    pond_reader *rd = NULL;
    if (v > 0)
        PT_ASSERT_OK(pond_fs_open_reader_version(&rd, h->fs, NULL, path, v));
    else
        PT_ASSERT_OK(pond_fs_open_reader(&rd, h->fs, NULL, path));
    char buf[64] = {0};
    size_t n = 0;
    int rc = pond_reader_read(rd, buf, sizeof buf - 1, &n);
    pond_reader_free(rd);
    PT_ASSERT_OK(rc);
    PT_ASSERT_STR_EQ(buf, want);
}

static uint64_t rn(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A reader following a writer (pond_oplog_refresh) while its partitions are partly loaded and
 * it reads old versions (side files): appends, tier merges (remove + add) and gc --compact by
 * the writer; every answer the reader gives equals the model. */
static void test_refresh_partial_random(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    hd w, r;
    hd_open(&w, dir);
    static const char *const names[] = {"/s1", "/s2"};
    int nv[2] = {0, 0};
    char text[64];
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++) {
            snprintf(text, sizeof text, "%s v%d", names[k], ++nv[k]);
            put_text(&w, names[k], text);
        }
    hd_open(&r, dir);
    uint64_t seed =
        getenv("POND_TEST_SEED") ? strtoull(getenv("POND_TEST_SEED"), NULL, 0) : 0xabcdef12345ULL;
    int steps = pt_light() ? 250 : 500; /* light runs (valgrind): still merges and compactions */
    for (int step = 0; step < steps; step++) {
        int k = (int)(rn(&seed) % 2);
        uint64_t op = rn(&seed) % 100;
        if (op < 60) {
            /* either handle writes, having followed the other first */
            hd *h = rn(&seed) % 3 == 0 ? &r : &w;
            PT_ASSERT_OK(pond_oplog_refresh(NULL, h->be));
            snprintf(text, sizeof text, "%s v%d", names[k], ++nv[k]);
            put_text(h, names[k], text);
        } else if (op < 63) {
            PT_ASSERT_OK(pond_oplog_refresh(NULL, w.be));
            PT_ASSERT_OK(pond_oplog_lock(w.be, false));
            pond_gc_options o = POND_GC_OPTIONS_INIT;
            o.compact = true;
            pond_gc_report rep;
            int rc = pond_oplog_gc(&rep, w.be, &o);
            pond_oplog_unlock(w.be);
            PT_ASSERT_OK(rc);
        } else if (op < 75) {
            PT_ASSERT_OK(pond_oplog_refresh(NULL, r.be));
            snprintf(text, sizeof text, "%s v%d", names[k], nv[k]);
            expect_version(&r, names[k], 0, text);
        } else if (op < 92) {
            PT_ASSERT_OK(pond_oplog_refresh(NULL, r.be));
            int v = 1 + (int)(rn(&seed) % (uint64_t)nv[k]);
            snprintf(text, sizeof text, "%s v%d", names[k], v);
            expect_version(&r, names[k], v, text);
        } else if (op < 95) {
            PT_ASSERT_OK(pond_oplog_refresh(NULL, r.be));
            pond_stat *vs = NULL;
            size_t n = 0;
            PT_ASSERT_OK(pond_fs_versions(&vs, &n, r.fs, NULL, names[k]));
            pond_free(vs);
            PT_ASSERT_INT_EQ((int64_t)n, nv[k]);
        } else {
            hd_close(&r); /* a fresh reader: nothing loaded */
            hd_open(&r, dir);
        }
    }
    hd_close(&r);
    hd_close(&w);
}

/* A lying pond.versions tag (the merged file says it holds versions 100..200, the next one
 * says 1..9): an old version is still read with its own content (the tag only chooses which
 * file to read apart; a miss loads the suffix down to it). */
/* A lying pond.versions tag (a pond someone sent): an old version read from the file it names
 * is refused naming the file and the tag, never another version's content; the versions the
 * tagged file does not hold still read right. */
static void test_lying_versions_tag_reads_right(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    hd h;
    hd_open(&h, dir);
    for (int v = 1; v <= 11; v++)
        put_day(&h, "/s", v);
    hd_close(&h);
    PT_ASSERT(retag(dir, "OPTIMIZE", "pond.versions", "100,200"));
    for (int v = 1; v <= 11; v++) {
        hd_open(&h, dir);
        pond_reader *rd = NULL;
        int rc = pond_fs_open_reader_version(&rd, h.fs, NULL, "/s", v);
        if (rc == 0) {
            char buf[64] = {0}, want[16];
            size_t n = 0;
            PT_ASSERT_OK(pond_reader_read(rd, buf, sizeof buf - 1, &n));
            snprintf(want, sizeof want, "v%d", v);
            PT_ASSERT_STR_EQ(buf, want);
            pond_reader_free(rd);
        } else {
            PT_ASSERT_ERR(rc, POND_ECORRUPT);
            PT_ASSERT(strstr(pond_error_last()->message, "pond.versions tag (100..200)") != NULL);
            PT_ASSERT(v <= 8); /* only the merged file's versions */
        }
        hd_close(&h);
    }
}

PT_SUITE(oplog_review3, PT_TEST(lying_event_time_tag_hides_versions),
         PT_TEST(refresh_partial_random), PT_TEST(lying_versions_tag_reads_right))
