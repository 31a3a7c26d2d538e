/* Retention (gc --keep-versions / --keep-age): what survives, and time travel after it.
 *
 * For every transaction T of a varied history the state is recorded before gc (every node
 * reachable at T with its version, and the bytes a read returns). After gc, the test computes
 * on its own which states are complete (every node version live at T still kept), and checks
 * that gc recorded exactly the oldest complete transaction, that --at every older transaction
 * is refused with a message naming it, and that --at every later one reads exactly as before. */
#include "pt.h"
#include "pt_pond.h"

#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TXN 24

typedef pt_pond env;

static void env_open(env *e) { pt_pond_open(e); }

static void env_create(env *e)
{
    static int seq;
    snprintf(e->dir, sizeof e->dir, "%s/pond%d", PT_TMPDIR(), seq++);
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 100; /* content of 100 bytes and more goes to the store */
    co.threshold_table = 100;
    PT_ASSERT_OK(pond_oplog_create(e->dir, &co));
    env_open(e);
}

static void env_close(env *e) { pt_pond_close(e); }

static void begin(env *e) { PT_ASSERT_OK(pond_fs_begin(e->fs, NULL)); }
static void commit(env *e) { PT_ASSERT_OK(pond_fs_commit(NULL, e->fs)); }

static void put(env *e, const char *path, pond_entry_type type, const char *text, int big)
{
    char buf[400];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s", text);
    for (; big && n < 300; n++) /* a blob in the store */
        buf[n] = (char)('a' + n % 26);
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, path, type, buf, n));
}

/* ---- a state, as reads see it -------------------------------------------------------------- */

typedef struct {
    pond_node_id id;
    int64_t version;
} live_ver;

typedef struct {
    pond_buf text;      /* paths, types, versions, content hashes */
    live_ver live[128]; /* the node versions that make up the state */
    size_t n_live;
} state;

static void note_live(state *s, const pond_node_id *id, int64_t version)
{
    PT_ASSERT(s->n_live < 128);
    s->live[s->n_live++] = (live_ver){*id, version};
}

static void hash_reader(pond_buf *text, pond_reader *r)
{
    /* the bytes themselves: a read must still find them (a blob gc removed would fail) */
    uint64_t h = 1469598103934665603ull;
    char buf[512];
    size_t n;
    for (;;) {
        PT_ASSERT_OK(pond_reader_read(r, buf, sizeof buf, &n));
        if (!n)
            break;
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
    }
    pond_buf_printf(text, " bytes=%016llx", (unsigned long long)h);
}

static void snap_dir(state *s, pond_fs *fs, const char *path)
{
    pond_fs_dirent *ents;
    size_t n;
    PT_ASSERT_OK(pond_fs_readdir(&ents, &n, fs, NULL, path));
    for (size_t i = 0; i < n; i++) {
        char child[1024];
        snprintf(child, sizeof child, "%s%s%s", path, strcmp(path, "/") ? "/" : "", ents[i].name);
        pond_stat st;
        PT_ASSERT_OK(pond_fs_lstat(&st, fs, NULL, child));
        pond_buf_printf(&s->text, "%s %s v%lld", child, pond_entry_type_name(st.type),
                        (long long)st.version);
        if (st.type == POND_ENTRY_FILE_SERIES) {
            /* a series reads as all its versions */
            pond_stat *vs;
            size_t nv;
            PT_ASSERT_OK(pond_fs_versions(&vs, &nv, fs, NULL, child));
            for (size_t k = 0; k < nv; k++) {
                pond_reader *r;
                PT_ASSERT_OK(pond_fs_open_reader_version(&r, fs, NULL, child, vs[k].version));
                pond_buf_printf(&s->text, " [v%lld", (long long)vs[k].version);
                hash_reader(&s->text, r);
                pond_buf_puts(&s->text, "]");
                pond_reader_free(r);
                note_live(s, &st.id, vs[k].version);
            }
            pond_free(vs);
        } else {
            note_live(s, &st.id, st.version);
        }
        if (st.type == POND_ENTRY_FILE_DATA || st.type == POND_ENTRY_FILE_TABLE) {
            pond_reader *r;
            PT_ASSERT_OK(pond_fs_open_reader(&r, fs, NULL, child));
            hash_reader(&s->text, r);
            pond_reader_free(r);
        } else if (st.type == POND_ENTRY_SYMLINK) {
            char *t;
            PT_ASSERT_OK(pond_fs_readlink(&t, fs, NULL, child));
            pond_buf_printf(&s->text, " -> %s", t);
            pond_free(t);
        }
        pond_buf_putc(&s->text, '\n');
        if (st.type == POND_ENTRY_DIRECTORY)
            snap_dir(s, fs, child);
    }
    pond_fs_dirents_free(ents, n);
}

/* The state at txn: reads through --at (txn -1: the live pond). */
static int snapshot(state *s, const char *dir, int64_t txn)
{
    memset(s, 0, sizeof *s);
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = txn;
    pond_backend *be = NULL;
    int rc = pond_oplog_open(&be, dir, &oo);
    if (rc < 0)
        return rc;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_stat root;
    PT_ASSERT_OK(pond_fs_stat(&root, fs, NULL, "/"));
    if (root.version > 0) /* version 0: the empty root of a new pond, never stored */
        note_live(s, &root.id, root.version);
    pond_buf_printf(&s->text, "/ v%lld\n", (long long)root.version);
    snap_dir(s, fs, "/");
    pond_fs_free(fs);
    pond_backend_free(be);
    return 0;
}

/* ---- the history --------------------------------------------------------------------------- */

/* Returns the number of the last transaction. Covers: files rewritten (inline and blob), a
 * series appended to, a symlink, a file removed, a directory moved and then removed with
 * everything in it, a series removed. */
static int64_t build_history(env *e)
{
    begin(e);
    PT_ASSERT_OK(pond_fs_mkdir(e->fs, NULL, "/d", 0));
    put(e, "/d/a", POND_ENTRY_FILE_DATA, "a1", 0);
    commit(e);
    begin(e);
    put(e, "/d/a", POND_ENTRY_FILE_DATA, "a2", 1);
    put(e, "/big", POND_ENTRY_FILE_DATA, "big1", 1);
    commit(e);
    begin(e);
    put(e, "/s", POND_ENTRY_FILE_SERIES, "s1", 1);
    commit(e);
    begin(e);
    put(e, "/s", POND_ENTRY_FILE_SERIES, "s2", 0);
    PT_ASSERT_OK(pond_fs_symlink(e->fs, NULL, "/d/a", "/l"));
    commit(e);
    begin(e);
    PT_ASSERT_OK(pond_fs_remove(e->fs, NULL, "/big", false));
    commit(e);
    begin(e);
    PT_ASSERT_OK(pond_fs_mkdir(e->fs, NULL, "/d/sub", 0));
    put(e, "/d/sub/x", POND_ENTRY_FILE_DATA, "x1", 1);
    put(e, "/gone", POND_ENTRY_FILE_SERIES, "g1", 1);
    commit(e);
    begin(e);
    PT_ASSERT_OK(pond_fs_mkdir(e->fs, NULL, "/m", 0));
    PT_ASSERT_OK(pond_fs_rename(e->fs, NULL, "/d/sub", "/m"));
    commit(e);
    begin(e);
    put(e, "/m/sub/x", POND_ENTRY_FILE_DATA, "x2", 0);
    commit(e);
    begin(e);
    PT_ASSERT_OK(pond_fs_remove(e->fs, NULL, "/m", true));
    PT_ASSERT_OK(pond_fs_remove(e->fs, NULL, "/gone", false));
    commit(e);
    begin(e);
    put(e, "/s", POND_ENTRY_FILE_SERIES, "s3", 1);
    put(e, "/d/a", POND_ENTRY_FILE_DATA, "a3", 0);
    commit(e);
    begin(e);
    put(e, "/later", POND_ENTRY_FILE_DATA, "later", 0);
    commit(e);
    int64_t last;
    PT_ASSERT_OK(e->be->last_txn(&last, e->be));
    return last;
}

static bool still_kept(pond_backend *be, const live_ver *lv)
{
    pond_node_rec *r = NULL;
    int rc = be->get_version(&r, be, &lv->id, lv->version);
    pond_node_rec_unref(r);
    return rc == 0;
}

/* Runs gc with opts on a fresh history and checks every transaction's state against the
 * independently computed oldest complete one. */
static void check_retention(const pond_gc_options *opts, int64_t *oldest_out)
{
    env e;
    env_create(&e);
    int64_t last = build_history(&e);
    PT_ASSERT(last < MAX_TXN);
    static state before[MAX_TXN];
    for (int64_t t = 0; t <= last; t++)
        PT_ASSERT_OK(snapshot(&before[t], e.dir, t));
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, opts));
    pond_oplog_unlock(e.be);
    env_close(&e);
    env_open(&e);
    /* the current state is untouched */
    state now;
    PT_ASSERT_OK(snapshot(&now, e.dir, -1));
    PT_ASSERT_STR_EQ(now.text.ptr, before[last].text.ptr);
    pond_buf_dispose(&now.text);
    /* which states are complete, computed here: every node version live at t still kept */
    int64_t want = 0;
    for (int64_t t = 0; t <= last; t++)
        for (size_t k = 0; k < before[t].n_live; k++)
            if (!still_kept(e.be, &before[t].live[k]))
                want = t + 1;
    PT_ASSERT_INT_EQ(r.oldest_complete, r.versions_dropped ? want : 0);
    for (int64_t t = 0; t <= last; t++) {
        state after;
        int rc = snapshot(&after, e.dir, t);
        if (t < want) {
            PT_ASSERT_ERR(rc, POND_ENOTFOUND);
            char msg[160];
            snprintf(msg, sizeof msg,
                     "transaction %lld is no longer kept: gc at transaction %lld "
                     "dropped its history; the oldest complete transaction is %lld",
                     (long long)t, (long long)r.commit_version, (long long)want);
            PT_ASSERT_MSG_HAS(msg);
        } else {
            PT_ASSERT_OK(rc);
            if (strcmp(after.text.ptr, before[t].text.ptr) != 0)
                pt_fail(__FILE__, __LINE__, "--at %lld reads differently after gc:\n%s---\n%s",
                        (long long)t, before[t].text.ptr, after.text.ptr);
            pond_buf_dispose(&after.text);
        }
    }
    for (int64_t t = 0; t <= last; t++)
        pond_buf_dispose(&before[t].text);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL)); /* retention is not damage */
    PT_ASSERT_INT_EQ(fr.unreferenced_blobs + fr.orphan_files + fr.foreign, 0);
    *oldest_out = want;
    env_close(&e);
}

static void test_keep_versions_then_time_travel(void)
{
    for (int keep = 1; keep <= 3; keep++) {
        pond_gc_options o = POND_GC_OPTIONS_INIT;
        o.grace_us = 0;
        o.keep_versions = keep;
        int64_t oldest;
        check_retention(&o, &oldest);
        PT_ASSERT(oldest > 0); /* every policy here drops something: the test means it */
    }
}

static void test_keep_age_then_time_travel(void)
{
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.grace_us = 0;
    o.keep_age_us = 0; /* only the current state */
    int64_t oldest;
    check_retention(&o, &oldest);
    PT_ASSERT(oldest > 0);
    o.keep_age_us = 3600LL * 1000000; /* everything is younger than an hour: nothing goes */
    check_retention(&o, &oldest);
    PT_ASSERT_INT_EQ(oldest, 0);
}

/* keep-age keeps what was current within the window: versions superseded before the cutoff go,
 * the one that was current at the cutoff stays (so the state at the cutoff is complete). */
static void test_keep_age_window(void)
{
    env e;
    env_create(&e);
    begin(&e);
    put(&e, "/f", POND_ENTRY_FILE_DATA, "f1", 1);
    commit(&e);
    begin(&e);
    put(&e, "/f", POND_ENTRY_FILE_DATA, "f2", 1);
    commit(&e);
    begin(&e);
    put(&e, "/g", POND_ENTRY_FILE_DATA, "g1", 1);
    commit(&e);
    usleep(1200 * 1000);
    begin(&e);
    put(&e, "/f", POND_ENTRY_FILE_DATA, "f3", 1);
    commit(&e);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.grace_us = 0;
    /* 0.6 s: f1 and the root listing without g stopped being current 1.2 s ago; f2 was
     * current until the last transaction, just now, so it stays although it is older */
    o.keep_age_us = 600 * 1000;
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    PT_ASSERT_INT_EQ(r.versions_dropped, 2);
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(nv, 2);
    PT_ASSERT_INT_EQ(vs[0].version, 2);
    PT_ASSERT_INT_EQ(vs[1].version, 3);
    pond_free(vs);
    PT_ASSERT_INT_EQ(r.oldest_complete, 3); /* the state of txn 2 needed the first root listing */
    env_close(&e);
}

/* A series is the union of its versions: retention keeps every version of a live series
 * that no compaction replaced, whatever the policy; a removed series is history. */
static void test_series_versions_all_kept(void)
{
    env e;
    env_create(&e);
    for (int v = 0; v < 3; v++) {
        char text[16];
        snprintf(text, sizeof text, "rows%d", v);
        begin(&e);
        put(&e, "/s", POND_ENTRY_FILE_SERIES, text, v != 1);
        put(&e, "/dead", POND_ENTRY_FILE_SERIES, text, 1);
        commit(&e);
    }
    begin(&e);
    PT_ASSERT_OK(pond_fs_remove(e.fs, NULL, "/dead", false));
    commit(&e);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.grace_us = 0;
    o.keep_versions = 1;
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    o.keep_versions = 0;
    o.keep_age_us = 0;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    env_close(&e);
    env_open(&e);
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/s"));
    PT_ASSERT_INT_EQ(nv, 3);
    for (size_t k = 0; k < nv; k++) {
        pond_reader *rd;
        PT_ASSERT_OK(pond_fs_open_reader_version(&rd, e.fs, NULL, "/s", vs[k].version));
        char buf[400];
        size_t n;
        PT_ASSERT_OK(pond_reader_read(rd, buf, sizeof buf, &n));
        char want[24];
        snprintf(want, sizeof want, "rows%d", (int)k);
        PT_ASSERT(n >= strlen(want) && !memcmp(buf, want, strlen(want)));
        pond_reader_free(rd);
    }
    pond_free(vs);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(fr.unreferenced_blobs, 0); /* /dead's blobs went with its versions */
    env_close(&e);
}

/* The versions of /s, each "v<N>" (0: gone). */
static void versions_of(env *e, const char *path, int64_t *out, size_t max, size_t *n_out)
{
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e->fs, NULL, path));
    PT_ASSERT(nv <= max);
    for (size_t k = 0; k < nv; k++)
        out[k] = vs[k].version;
    *n_out = nv;
    pond_free(vs);
}

/* Series compaction (docs/format.md, "The series index"): a compacted version C records in the
 * series' pond.compactions that it holds the rows of versions lo..hi. Those versions may then
 * go under a retention policy (reads skip them); every version no compaction replaced stays,
 * however old, and so does C. An entry whose C the series does not have replaces nothing. */
static void test_series_replaced_versions_dropped(void)
{
    for (int policy = 0; policy < 2; policy++) {
        env e;
        env_create(&e);
        /* /s: v1, v2, v3 with rows; v4 compacts v1..v2; v5 more rows (carries the entry) */
        for (int v = 1; v <= 3; v++) {
            char text[16];
            snprintf(text, sizeof text, "rows%d", v);
            begin(&e);
            put(&e, "/s", POND_ENTRY_FILE_SERIES, text, v == 2);
            put(&e, "/u", POND_ENTRY_FILE_SERIES, text, 0);
            commit(&e);
        }
        begin(&e);
        put(&e, "/s", POND_ENTRY_FILE_SERIES, "rows1rows2", 1);
        PT_ASSERT_OK(pond_fs_set_xattrs(e.fs, NULL, "/s", "{\"pond.compactions\":[[4,1,2]]}"));
        /* /u names a compacted version it does not have: nothing of it is replaced */
        PT_ASSERT_OK(pond_fs_set_xattrs(e.fs, NULL, "/u", "{\"pond.compactions\":[[9,1,2]]}"));
        commit(&e);
        begin(&e);
        put(&e, "/s", POND_ENTRY_FILE_SERIES, "rows5", 0);
        commit(&e);
        int64_t last;
        PT_ASSERT_OK(e.be->last_txn(&last, e.be));
        PT_ASSERT_INT_EQ(last, 5);
        PT_ASSERT_OK(pond_oplog_lock(e.be, false));
        pond_gc_options o = POND_GC_OPTIONS_INIT;
        o.grace_us = 0;
        if (policy == 0)
            o.keep_versions = 1;
        else
            o.keep_age_us = 0;
        pond_gc_report r;
        PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
        pond_oplog_unlock(e.be);
        PT_ASSERT_INT_EQ(r.versions_dropped, 2); /* /s v1 and v2; the root has one version */
        env_close(&e);
        env_open(&e);
        int64_t v[8];
        size_t nv;
        versions_of(&e, "/s", v, 8, &nv);
        PT_ASSERT_INT_EQ(nv, 3); /* v1 and v2 went, v3 (older than v4, not replaced) stays */
        PT_ASSERT_INT_EQ(v[0], 3);
        PT_ASSERT_INT_EQ(v[1], 4);
        PT_ASSERT_INT_EQ(v[2], 5);
        versions_of(&e, "/u", v, 8, &nv);
        PT_ASSERT_INT_EQ(nv, 4); /* three with rows and the attributes version: all stay */
        /* the replaced versions were part of every state before the compaction (txn 4) */
        PT_ASSERT_INT_EQ(r.oldest_complete, 4);
        state st;
        PT_ASSERT_ERR(snapshot(&st, e.dir, 3), POND_ENOTFOUND);
        PT_ASSERT_OK(snapshot(&st, e.dir, 4));
        pond_buf_dispose(&st.text);
        pond_fsck_report fr;
        PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
        PT_ASSERT_INT_EQ(fr.unreferenced_blobs + fr.orphan_files + fr.foreign, 0);
        env_close(&e);
    }
}

PT_SUITE(oplog_retain, PT_TEST(keep_versions_then_time_travel), PT_TEST(keep_age_then_time_travel),
         PT_TEST(keep_age_window), PT_TEST(series_versions_all_kept),
         PT_TEST(series_replaced_versions_dropped))
