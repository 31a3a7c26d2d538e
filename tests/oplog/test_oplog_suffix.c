/* Partial loads (docs/decisions.md, "Partial loads"): a partition's rows are loaded for a suffix
 * of its data files, newest first. What an append needs is bounded by the newest files; what
 * needs the whole history (listing versions, old versions, retention, merges, fsck, time
 * travel) loads the rest first and answers exactly as a full load would. */
#include "pt.h"

#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char dir[4200];
    pond_backend *be;
    pond_fs *fs;
} env;

static void env_open(env *e, int64_t as_of)
{
    pond_oplog_options o = POND_OPLOG_OPTIONS_INIT;
    o.as_of_txn = as_of;
    PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, &o));
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
}

static void env_close(env *e)
{
    pond_fs_free(e->fs);
    pond_backend_free(e->be);
    e->fs = NULL;
    e->be = NULL;
}

static void env_create(env *e)
{
    snprintf(e->dir, sizeof e->dir, "%s/pond", PT_TMPDIR());
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    PT_ASSERT_OK(pond_oplog_create(e->dir, &co));
    env_open(e, -1);
}

static void env_reopen(env *e)
{
    env_close(e);
    env_open(e, -1);
}

static int64_t put(env *e, const char *path, pond_entry_type t, const char *data)
{
    int64_t txn = 0;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, path, t, data, strlen(data)));
    PT_ASSERT_OK(pond_fs_commit(&txn, e->fs));
    return txn;
}

static void expect_content(env *e, const char *path, int64_t version, const char *want)
{
    pond_reader *rd = NULL;
    if (version > 0)
        PT_ASSERT_OK(pond_fs_open_reader_version(&rd, e->fs, NULL, path, version));
    else
        PT_ASSERT_OK(pond_fs_open_reader(&rd, e->fs, NULL, path));
    char buf[128] = {0};
    size_t got = 0;
    int rc = pond_reader_read(rd, buf, sizeof buf - 1, &got);
    pond_reader_free(rd);
    PT_ASSERT_OK(rc);
    PT_ASSERT_STR_EQ(buf, want);
}

/* Data files opened (openat of a name ending in .parquet, outside _delta_log). */
static int g_opens;

static int counting_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    size_t n = strlen(path);
    if (n > 8 && !strcmp(path + n - 8, ".parquet") && !strstr(path, "checkpoint"))
        g_opens++;
    return pond_os_real()->openat(dirfd, path, flags, mode);
}

/* Data files opened by a fresh handle for one read of the newest version and one append. */
static int one_append_opens(env *e, const char *path, int v)
{
    env_reopen(e);
    pond_os counting = *pond_os_real();
    counting.openat = counting_openat;
    g_opens = 0;
    pond_os_set(&counting);
    char want[64], next[64];
    snprintf(want, sizeof want, "version %d of %s", v, path);
    snprintf(next, sizeof next, "version %d of %s", v + 1, path);
    pond_reader *rd = NULL;
    char buf[128] = {0};
    size_t got = 0;
    int rc = pond_fs_open_reader(&rd, e->fs, NULL, path);
    if (rc == 0)
        rc = pond_reader_read(rd, buf, sizeof buf - 1, &got);
    pond_reader_free(rd);
    if (rc == 0 && (rc = pond_fs_begin(e->fs, NULL)) == 0) {
        rc = pond_fs_write_all(e->fs, NULL, path, POND_ENTRY_FILE_SERIES, next, strlen(next));
        if (rc == 0)
            rc = pond_fs_commit(NULL, e->fs);
        else
            pond_fs_abort(e->fs);
    }
    int opens = g_opens;
    pond_os_set(NULL);
    PT_ASSERT_OK(rc);
    PT_ASSERT_STR_EQ(buf, want);
    return opens;
}

/* Data files a fresh handle opens to read version v of path (its content checked). */
static int old_version_opens(env *e, const char *path, int v)
{
    env_reopen(e);
    pond_os counting = *pond_os_real();
    counting.openat = counting_openat;
    g_opens = 0;
    pond_os_set(&counting);
    pond_reader *rd = NULL;
    char buf[128] = {0}, want[64];
    size_t got = 0;
    int rc = pond_fs_open_reader_version(&rd, e->fs, NULL, path, v);
    if (rc == 0)
        rc = pond_reader_read(rd, buf, sizeof buf - 1, &got);
    pond_reader_free(rd);
    int opens = g_opens;
    pond_os_set(NULL);
    PT_ASSERT_OK(rc);
    snprintf(want, sizeof want, "version %d of %s", v, path);
    PT_ASSERT_STR_EQ(buf, want);
    return opens;
}

/* The data files a fresh handle opens to read a series' newest version and append one do not
 * grow with its history: the partition's newest file holds the newest version. Before partial
 * loads every file of the partition was read (9 at 401 versions). */
static void test_append_reads_bounded(void)
{
    env e;
    env_create(&e);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    char data[64];
    int v = 0;
    int small = -1, large = -1;
    /* 41 and 401 versions (light runs: 201): the next commit merges nothing (8-file tiers) */
    int most = pt_light() ? 201 : 401;
    while (v < most) {
        snprintf(data, sizeof data, "version %d of /d/s", ++v);
        put(&e, "/d/s", POND_ENTRY_FILE_SERIES, data);
        if (v == 41) {
            small = one_append_opens(&e, "/d/s", v);
            v++;
        }
    }
    large = one_append_opens(&e, "/d/s", v);
    v++;
    if (getenv("POND_TEST_VERBOSE"))
        printf("one append: %d data files opened at 41 versions, %d at %d\n", small, large, most);
    /* 402 versions are 0o622: ten files in the series' partition (2 + 2 + 6 per level); 202
     * are 0o312 (six) */
    if (large > small + 1 || large > 4)
        pt_fail(__FILE__, __LINE__, "one append opened %d data files at %d versions, %d at 41",
                large, most, small);
    /* an old version: the newest file, then the one older file whose version range holds it
     * (read apart, and once more for its content), not every file after it; the root's and
     * /d's files too (5; loading the suffix down to it: 13 and 11) */
    int old = old_version_opens(&e, "/d/s", 5);
    int mid = old_version_opens(&e, "/d/s", most / 2);
    if (getenv("POND_TEST_VERBOSE"))
        printf("version 5: %d data files opened, version %d: %d\n", old, most / 2, mid);
    if (old > 5 || mid > 5)
        pt_fail(__FILE__, __LINE__, "reading version 5 opened %d data files, version %d %d", old,
                most / 2, mid);
    /* and nothing was lost: every version reads back, in a fresh handle and after a full load */
    env_reopen(&e);
    for (int k = v; k >= 1; k -= 37) {
        snprintf(data, sizeof data, "version %d of /d/s", k);
        expect_content(&e, "/d/s", k, data);
    }
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/d/s"));
    PT_ASSERT_INT_EQ((int64_t)nv, v);
    for (size_t i = 0; i < nv; i++)
        PT_ASSERT_INT_EQ(vs[i].version, (int64_t)i + 1);
    pond_free(vs);
    env_close(&e);
}

/* ---- random partial loads against a model --------------------------------------------------- */

#define R_FILES 3
#define R_MAXV 400

typedef struct {
    const char *path;
    pond_entry_type type;
    int n;                   /* versions written */
    int first;               /* the oldest kept (retention) */
    int64_t txn[R_MAXV + 1]; /* txn of each version */
} r_file;

static uint64_t r_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void r_data(char *out, size_t cap, const r_file *f, int v)
{
    snprintf(out, cap, "%s v%d", f->path, v);
}

/* Everything a full load answers, checked against the model: the version list, each kept
 * version's content, the newest version. */
static void r_check_whole(env *e, r_file *fs)
{
    char want[64];
    for (int k = 0; k < R_FILES; k++) {
        r_file *f = &fs[k];
        if (!f->n)
            continue;
        pond_stat *vs = NULL;
        size_t nv = 0;
        PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e->fs, NULL, f->path));
        PT_ASSERT_INT_EQ((int64_t)nv, f->n - f->first + 1);
        for (size_t i = 0; i < nv; i++)
            PT_ASSERT_INT_EQ(vs[i].version, f->first + (int64_t)i);
        pond_free(vs);
        for (int v = f->first; v <= f->n; v++) {
            r_data(want, sizeof want, f, v);
            expect_content(e, f->path, v, want);
        }
    }
}

/* Random appends to two series (their own partitions) and a data file (its directory's), with
 * fresh handles that read the newest version or a random old one first (partial loads), then
 * ask for the whole history: version lists, every old version, gc --compact, time travel,
 * retention and fsck give the model's answers. */
static void test_partial_then_whole_random(void)
{
    uint64_t seed = 0x5eedf00dULL;
    const char *env_seed = getenv("POND_TEST_SEED");
    if (env_seed)
        seed = strtoull(env_seed, NULL, 0);
    env e;
    env_create(&e);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    static r_file fs[R_FILES];
    memset(fs, 0, sizeof fs);
    fs[0] = (r_file){"/d/s1", POND_ENTRY_FILE_SERIES, 0, 1, {0}};
    fs[1] = (r_file){"/d/s2", POND_ENTRY_FILE_SERIES, 0, 1, {0}};
    fs[2] = (r_file){"/d/f", POND_ENTRY_FILE_DATA, 0, 1, {0}};
    char data[64];
    int64_t last_txn = 0;
    int steps = pt_light() ? 300 : 600; /* light runs (valgrind): about 70 versions of each file */
    for (int step = 0; step < steps; step++) {
        r_file *f = &fs[r_next(&seed) % R_FILES];
        uint64_t op = r_next(&seed) % 100;
        if (op < 70 && f->n < R_MAXV) {
            r_data(data, sizeof data, f, f->n + 1);
            last_txn = put(&e, f->path, f->type, data);
            f->txn[++f->n] = last_txn;
        } else if (op < 80 && f->n) {
            env_reopen(&e); /* a fresh handle's first question is about one old version */
            int v = 1 + (int)(r_next(&seed) % (uint64_t)f->n);
            r_data(data, sizeof data, f, v);
            expect_content(&e, f->path, v, data);
        } else if (op < 90 && f->n) {
            env_reopen(&e);
            r_data(data, sizeof data, f, f->n);
            expect_content(&e, f->path, 0, data);
        } else if (op < 93) {
            env_reopen(&e);
            r_data(data, sizeof data, f, f->n);
            if (f->n)
                expect_content(&e, f->path, 0, data);
            r_check_whole(&e, fs);
        } else if (op < 95) {
            /* a partial load, then gc --compact rewrites every partition whole */
            if (f->n) {
                env_reopen(&e);
                r_data(data, sizeof data, f, f->n);
                expect_content(&e, f->path, 0, data);
            }
            PT_ASSERT_OK(pond_oplog_lock(e.be, false));
            pond_gc_options o = POND_GC_OPTIONS_INIT;
            o.compact = true;
            pond_gc_report r;
            int rc = pond_oplog_gc(&r, e.be, &o);
            pond_oplog_unlock(e.be);
            PT_ASSERT_OK(rc);
            r_check_whole(&e, fs);
        } else if (op < 98 && last_txn > 2) {
            /* time travel: a view right after a random transaction */
            int64_t at = 2 + (int64_t)(r_next(&seed) % (uint64_t)(last_txn - 1));
            env_close(&e);
            env_open(&e, at);
            for (int k = 0; k < R_FILES; k++) {
                int v = 0;
                for (int x = 1; x <= fs[k].n; x++)
                    if (fs[k].txn[x] <= at)
                        v = x;
                if (!v)
                    continue;
                r_data(data, sizeof data, &fs[k], v);
                expect_content(&e, fs[k].path, 0, data);
                pond_stat *vs = NULL;
                size_t nv = 0;
                PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, fs[k].path));
                PT_ASSERT_INT_EQ((int64_t)nv, v);
                pond_free(vs);
            }
            env_reopen(&e);
        }
    }
    /* retention after a partial load: keep the newest 5 of each data file */
    env_reopen(&e);
    r_data(data, sizeof data, &fs[0], fs[0].n);
    expect_content(&e, fs[0].path, 0, data);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.keep_versions = 5;
    pond_gc_report r;
    int rc = pond_oplog_gc(&r, e.be, &o);
    pond_oplog_unlock(e.be);
    PT_ASSERT_OK(rc);
    /* a series' state is the union of its versions: retention keeps them all (DESIGN.md) */
    for (int k = 0; k < R_FILES; k++)
        if (fs[k].n > 5 && fs[k].type != POND_ENTRY_FILE_SERIES)
            fs[k].first = fs[k].n - 4;
    PT_ASSERT(fs[2].first > 1);
    env_reopen(&e);
    r_check_whole(&e, fs);
    /* a version retention dropped is not found, in a fresh handle too */
    env_reopen(&e);
    for (int k = 0; k < R_FILES; k++) {
        if (fs[k].first <= 1)
            continue;
        pond_reader *rd = NULL;
        PT_ASSERT_INT_EQ(pond_fs_open_reader_version(&rd, e.fs, NULL, fs[k].path, 1),
                         POND_ENOTFOUND);
    }
    env_reopen(&e);
    r_data(data, sizeof data, &fs[1], fs[1].n);
    expect_content(&e, fs[1].path, 0, data);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(fr.corrupt, 0);
    PT_ASSERT_INT_EQ(fr.missing, 0);
    env_close(&e);
}

/* ---- versions overlapping an event-time range -------------------------------------------- */

#define O_VERSIONS 300

typedef struct {
    bool has;
    int64_t lo, hi;
} o_range;

/* One version of the series at path in each fs, with event times r (or none). */
static void o_put(pond_fs *const *fss, size_t nfs, const char *path, int v, const o_range *r)
{
    char data[64];
    int len = snprintf(data, sizeof data, "v%d", v);
    for (size_t i = 0; i < nfs; i++) {
        pond_writer *w = NULL;
        PT_ASSERT_OK(pond_fs_begin(fss[i], NULL));
        PT_ASSERT_OK(pond_fs_open_writer(&w, fss[i], NULL, path, POND_ENTRY_FILE_SERIES));
        PT_ASSERT_OK(pond_writer_write(w, data, (size_t)len));
        if (r->has)
            PT_ASSERT_OK(pond_writer_set_event_time(w, r->lo, r->hi));
        PT_ASSERT_OK(pond_writer_finish(w));
        pond_writer_free(w);
        PT_ASSERT_OK(pond_fs_commit(NULL, fss[i]));
    }
}

typedef struct {
    int64_t v[O_VERSIONS + 2];
    size_t n;
} o_seen;

static int o_collect(const pond_stat *st, const char *xattrs, void *payload)
{
    (void)xattrs;
    o_seen *s = payload;
    PT_ASSERT(s->n < O_VERSIONS + 2);
    s->v[s->n++] = st->version;
    return 0;
}

/* The versions of path overlapping [from, to] in fs, checked against the model: exactly the
 * versions whose range overlaps, and those without one, oldest first (pending: one more, the
 * transaction's, whatever its range). */
static void o_check(pond_fs *fs, const char *path, const o_range *model, int n, int64_t from,
                    int64_t to, int pending)
{
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, path, 0));
    o_seen got = {{0}, 0};
    int rc = pond_fs_node_foreach_version_overlapping(h, from, to, o_collect, &got);
    pond_fs_node_free(h);
    PT_ASSERT_OK(rc);
    size_t k = 0;
    for (int v = 1; v <= n; v++) {
        const o_range *r = &model[v];
        if (r->has && (r->hi < from || r->lo > to))
            continue;
        if (k >= got.n || got.v[k] != v)
            pt_fail(__FILE__, __LINE__, "[%lld, %lld]: version %d missing (listed %zu)",
                    (long long)from, (long long)to, v, got.n);
        k++;
    }
    if (pending) {
        PT_ASSERT(k < got.n);
        PT_ASSERT_INT_EQ(got.v[k], pending);
        k++;
    }
    PT_ASSERT_INT_EQ((int64_t)got.n, (int64_t)k);
}

static int o_read_one(const pond_stat *st, const char *xattrs, void *payload)
{
    (void)xattrs;
    o_seen *s = payload;
    s->v[s->n++] = st->version;
    return 0;
}

/* Every version listed for [from, to] opened by number (old ones from the files read apart):
 * each reads its own content. */
static void o_read_listed(pond_fs *fs, const char *path, int64_t from, int64_t to)
{
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, path, 0));
    o_seen got = {{0}, 0};
    int rc = pond_fs_node_foreach_version_overlapping(h, from, to, o_read_one, &got);
    for (size_t i = 0; rc == 0 && i < got.n; i++) {
        pond_reader *rd = NULL;
        char buf[64] = {0}, want[64];
        size_t n = 0;
        rc = pond_fs_node_open_reader(&rd, h, got.v[i]);
        if (rc == 0)
            rc = pond_reader_read(rd, buf, sizeof buf - 1, &n);
        pond_reader_free(rd);
        PT_ASSERT_OK(rc);
        snprintf(want, sizeof want, "v%lld", (long long)got.v[i]);
        PT_ASSERT_STR_EQ(buf, want);
    }
    pond_fs_node_free(h);
    PT_ASSERT_OK(rc);
}

/* Random event-time ranges (some versions without one) in an oplog pond and a memory backend:
 * the versions overlapping random ranges, asked by fresh handles (partial loads, old files read
 * apart), after a checkpoint (the files' ranges are tags it keeps) and after gc --compact, are
 * exactly the model's, and the same as the memory backend's (which lists every version). */
static void test_versions_overlapping_model(void)
{
    uint64_t seed = 0xfeedbeefULL;
    env e;
    env_create(&e);
    pond_backend *mb = NULL;
    pond_fs *mfs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&mb));
    PT_ASSERT_OK(pond_fs_open(&mfs, mb, NULL));
    static o_range model[O_VERSIONS + 1];
    int n = pt_light() ? 150 : O_VERSIONS; /* light runs (valgrind): half the versions */
    for (int v = 1; v <= n; v++) {
        uint64_t x = r_next(&seed);
        /* mostly increasing days, some late data, some versions without times */
        int64_t day = x % 7 == 0 ? (int64_t)(r_next(&seed) % (uint64_t)v) : v;
        model[v] = (o_range){x % 11 != 0, day * 100, day * 100 + (int64_t)(x % 250)};
        pond_fs *both[2] = {e.fs, mfs};
        o_put(both, 2, "/s", v, &model[v]);
        if (v % 50 == 0 || v == 7) {
            for (int q = 0; q < 6; q++) {
                int64_t from = (int64_t)(r_next(&seed) % (uint64_t)(v * 100 + 300)) - 100;
                int64_t to = from + (int64_t)(r_next(&seed) % 700);
                env_reopen(&e); /* partial: what the range needs, read from a fresh handle */
                o_check(e.fs, "/s", model, v, from, to, 0);
                o_read_listed(e.fs, "/s", from, to);
                o_check(mfs, "/s", model, v, from, to, 0);
            }
        }
    }
    /* the transaction's pending version is listed whatever its range */
    env_reopen(&e);
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES));
    PT_ASSERT_OK(pond_writer_write(w, "pending", 7));
    PT_ASSERT_OK(pond_writer_set_event_time(w, -50000, -40000));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    o_check(e.fs, "/s", model, n, 1000, 2000, n + 1);
    pond_fs_abort(e.fs);
    /* one file with every version: its range is the union */
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.compact = true;
    pond_gc_report r;
    int rc = pond_oplog_gc(&r, e.be, &o);
    pond_oplog_unlock(e.be);
    PT_ASSERT_OK(rc);
    for (int q = 0; q < 6; q++) {
        int64_t from = (int64_t)(r_next(&seed) % (uint64_t)(n * 100));
        env_reopen(&e);
        o_check(e.fs, "/s", model, n, from, from + 150, 0);
    }
    /* and a time-travel view answers from its own rows */
    env_close(&e);
    env_open(&e, 60);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, e.fs, NULL, "/s"));
    o_check(e.fs, "/s", model, (int)st.version, 0, 3000, 0);
    env_close(&e);
    pond_fs_free(mfs);
    pond_backend_free(mb);
}

PT_SUITE(oplog_suffix, PT_TEST(append_reads_bounded), PT_TEST(partial_then_whole_random),
         PT_TEST(versions_overlapping_model))
