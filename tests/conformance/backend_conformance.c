/* Backend conformance cases (see backend_conformance.h). Registers nothing by itself. */
#include "conformance/backend_conformance.h"

#include "harness/pt.h"

#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <stdlib.h>

typedef struct {
    const char *name;
    conformance_factory_fn factory;
    conformance_reopen_fn reopen;
    void *payload;
} conf_slot;

static conf_slot g_slots[CONFORMANCE_MAX_SLOTS];
static int g_nslots;

/* ---- helpers ---------------------------------------------------------------------------------- */

static pond_backend *make(const conf_slot *s)
{
    pond_backend *be = NULL;
    PT_ASSERT_OK(s->factory(&be, s->payload));
    PT_ASSERT(be != NULL);
    PT_ASSERT_INT_EQ(be->version, POND_BACKEND_VERSION);
    PT_ASSERT(be->free != NULL);
    /* a conforming backend implements everything; only time travel is optional */
    PT_ASSERT(be->latest && be->get_version && be->list_versions && be->open_content &&
              be->last_txn && be->commit);
    return be;
}

static pond_node_id fresh_id(void)
{
    pond_node_id id;
    PT_ASSERT_OK(pond_node_id_new(&id));
    return id;
}

static pond_node_rec *file_rec(pond_node_id id, pond_node_id part, int64_t version, int64_t txn,
                               const void *data, size_t len)
{
    pond_node_rec *r = NULL;
    PT_ASSERT_OK(pond_node_rec_new(&r));
    r->id = id;
    r->part_id = part;
    r->type = POND_ENTRY_FILE_DATA;
    r->version = version;
    r->txn_seq = txn;
    r->timestamp_us = 1700000000000000 + txn;
    PT_ASSERT_OK(pond_blob_from_buf(&r->content, data, len));
    r->size = (int64_t)len;
    r->sha256 = *pond_blob_sha256(r->content);
    return r;
}

static pond_node_rec *dir_rec(pond_node_id id, int64_t version, int64_t txn,
                              const char *const *names, const pond_node_id *ids,
                              const pond_entry_type *types, size_t n)
{
    pond_node_rec *r = NULL;
    PT_ASSERT_OK(pond_node_rec_new(&r));
    r->id = r->part_id = id;
    r->type = POND_ENTRY_DIRECTORY;
    r->version = version;
    r->txn_seq = txn;
    r->timestamp_us = 1700000000000000 + txn;
    r->entries = pond_calloc(n ? n : 1, sizeof *r->entries);
    PT_ASSERT(r->entries);
    for (size_t i = 0; i < n; i++) {
        r->entries[i].name = pond_strdup(names[i]);
        r->entries[i].id = ids[i];
        r->entries[i].type = types[i];
    }
    r->n_entries = n;
    r->size = (int64_t)n;
    return r;
}

static void commit(pond_backend *be, int64_t txn, pond_node_rec *const *recs, size_t n)
{
    pond_backend_txn_info info = {txn, 1700000000000000 + txn, "{\"argv\":[\"test\"]}"};
    PT_ASSERT(be->commit != NULL);
    PT_ASSERT_OK(be->commit(be, &info, recs, n));
}

static void expect_content(pond_backend *be, const pond_node_rec *r, const void *data, size_t len)
{
    pond_reader *rd = NULL;
    PT_ASSERT_OK(be->open_content(&rd, be, r));
    PT_ASSERT_INT_EQ(pond_reader_size(rd), (int64_t)len);
    char *got = malloc(len + 1);
    PT_ASSERT(got);
    size_t total = 0, n;
    for (;;) {
        int rc = pond_reader_read(rd, got + total, len + 1 - total, &n);
        if (rc < 0) {
            free(got);
            pond_reader_free(rd);
            PT_ASSERT_OK(rc);
        }
        if (n == 0)
            break;
        total += n;
    }
    pond_reader_free(rd);
    PT_ASSERT_INT_EQ(total, len);
    int same = memcmp(got, data, len) == 0;
    free(got);
    PT_ASSERT(same);
}

static pond_backend *do_reopen(const conf_slot *s, pond_backend *be)
{
    if (!s->reopen)
        return be;
    PT_ASSERT_OK(s->reopen(&be, s->payload));
    PT_ASSERT(be != NULL);
    return be;
}

/* ---- cases ------------------------------------------------------------------------------------ */

static void case_empty(const conf_slot *s)
{
    pond_backend *be = make(s);
    int64_t last = -1;
    PT_ASSERT_OK(be->last_txn(&last, be));
    PT_ASSERT_INT_EQ(last, 0);
    pond_node_id id = fresh_id();
    pond_node_rec *r = NULL;
    PT_ASSERT_ERR(be->latest(&r, be, &id), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS(" not found"); /* pond_node_not_found: the same words from every backend */
    PT_ASSERT(r == NULL);
    pond_backend_free(be);
}

static void case_commit_and_latest(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_node_id root = pond_node_id_root(), f = fresh_id();
    const char *names[] = {"hello.txt"};
    pond_entry_type types[] = {POND_ENTRY_FILE_SERIES};
    pond_node_rec *recs[2];
    recs[0] = dir_rec(root, 1, 1, names, &f, types, 1);
    recs[1] = file_rec(f, root, 1, 1, "hello, pond", 11);
    recs[1]->type = POND_ENTRY_FILE_SERIES;
    recs[1]->xattrs_json = pond_strdup("{\"k\":\"v\"}");
    recs[1]->has_event_time = true;
    recs[1]->min_event_time_us = -5;
    recs[1]->max_event_time_us = 1700000000123456;
    commit(be, 1, recs, 2);
    be = do_reopen(s, be);
    int64_t last;
    PT_ASSERT_OK(be->last_txn(&last, be));
    PT_ASSERT_INT_EQ(last, 1);
    pond_node_rec *d = NULL, *x = NULL;
    PT_ASSERT_OK(be->latest(&d, be, &root));
    PT_ASSERT_INT_EQ(d->type, POND_ENTRY_DIRECTORY);
    PT_ASSERT_INT_EQ(d->version, 1);
    PT_ASSERT_INT_EQ(d->txn_seq, 1);
    PT_ASSERT_INT_EQ(d->n_entries, 1);
    PT_ASSERT_STR_EQ(d->entries[0].name, "hello.txt");
    PT_ASSERT(pond_node_id_equal(&d->entries[0].id, &f));
    PT_ASSERT_INT_EQ(d->entries[0].type, POND_ENTRY_FILE_SERIES);
    PT_ASSERT(pond_node_id_equal(&d->part_id, &root));
    PT_ASSERT_OK(be->latest(&x, be, &f));
    PT_ASSERT(pond_node_id_equal(&x->id, &f));
    PT_ASSERT(pond_node_id_equal(&x->part_id, &root));
    PT_ASSERT_INT_EQ(x->type, POND_ENTRY_FILE_SERIES);
    PT_ASSERT(x->has_event_time);
    PT_ASSERT_INT_EQ(x->min_event_time_us, -5);
    PT_ASSERT_INT_EQ(x->max_event_time_us, 1700000000123456);
    PT_ASSERT_INT_EQ(x->version, 1);
    PT_ASSERT_INT_EQ(x->size, 11);
    PT_ASSERT_INT_EQ(x->timestamp_us, 1700000000000001);
    PT_ASSERT(pond_hash_equal(&x->sha256, &recs[1]->sha256));
    PT_ASSERT_STR_EQ(x->xattrs_json, "{\"k\":\"v\"}");
    expect_content(be, x, "hello, pond", 11);
    pond_node_rec_unref(d);
    pond_node_rec_unref(x);
    pond_node_rec_unref(recs[0]);
    pond_node_rec_unref(recs[1]);
    pond_backend_free(be);
}

static void case_versions(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_node_id root = pond_node_id_root(), f = fresh_id();
    const char *names[] = {"v"};
    pond_entry_type types[] = {POND_ENTRY_FILE_DATA};
    const char *bodies[] = {"one", "two!", "three"};
    for (int64_t v = 1; v <= 3; v++) {
        pond_node_rec *recs[2];
        size_t n = 0;
        if (v == 1)
            recs[n++] = dir_rec(root, 1, 1, names, &f, types, 1);
        recs[n++] = file_rec(f, root, v, v, bodies[v - 1], strlen(bodies[v - 1]));
        commit(be, v, recs, n);
        for (size_t i = 0; i < n; i++)
            pond_node_rec_unref(recs[i]);
    }
    be = do_reopen(s, be);
    pond_node_rec *r = NULL;
    PT_ASSERT_OK(be->latest(&r, be, &f));
    PT_ASSERT_INT_EQ(r->version, 3);
    expect_content(be, r, "three", 5);
    pond_node_rec_unref(r);
    PT_ASSERT_OK(be->get_version(&r, be, &f, 2));
    PT_ASSERT_INT_EQ(r->version, 2);
    PT_ASSERT_INT_EQ(r->txn_seq, 2);
    expect_content(be, r, "two!", 4);
    pond_node_rec_unref(r);
    r = NULL;
    PT_ASSERT_ERR(be->get_version(&r, be, &f, 4), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS(" has no version 4");
    pond_node_rec **all = NULL;
    size_t n = 0;
    PT_ASSERT_OK(be->list_versions(&all, &n, be, &f));
    PT_ASSERT_INT_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        PT_ASSERT_INT_EQ(all[i]->version, (int64_t)i + 1);
        expect_content(be, all[i], bodies[i], strlen(bodies[i]));
    }
    pond_node_recs_free(all, n);
    pond_backend_free(be);
}

static void case_conflict(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_node_id root = pond_node_id_root();
    pond_node_rec *d = dir_rec(root, 1, 1, NULL, NULL, NULL, 0);
    pond_backend_txn_info info = {2, 1, NULL}; /* skips txn 1 */
    PT_ASSERT_ERR(be->commit(be, &info, &d, 1), POND_ECONFLICT);
    commit(be, 1, &d, 1);
    info.txn_seq = 1; /* a second writer of txn 1 loses */
    pond_node_rec *d2 = dir_rec(root, 2, 1, NULL, NULL, NULL, 0);
    PT_ASSERT_ERR(be->commit(be, &info, &d2, 1), POND_ECONFLICT);
    int64_t last;
    PT_ASSERT_OK(be->last_txn(&last, be));
    PT_ASSERT_INT_EQ(last, 1);
    pond_node_rec *r = NULL;
    PT_ASSERT_OK(be->latest(&r, be, &root));
    PT_ASSERT_INT_EQ(r->version, 1);
    pond_node_rec_unref(r);
    pond_node_rec_unref(d);
    pond_node_rec_unref(d2);
    pond_backend_free(be);
}

/* A version committed without content has its previous version's bytes (moves, xattrs). */
static void case_content_carried(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_node_id root = pond_node_id_root(), f = fresh_id();
    const char *names[] = {"f"};
    pond_entry_type types[] = {POND_ENTRY_FILE_DATA};
    pond_node_rec *recs[2];
    recs[0] = dir_rec(root, 1, 1, names, &f, types, 1);
    recs[1] = file_rec(f, root, 1, 1, "carried bytes", 13);
    commit(be, 1, recs, 2);
    pond_node_rec *v2 = NULL;
    PT_ASSERT_OK(pond_node_rec_dup(&v2, recs[1]));
    pond_blob_unref(v2->content);
    v2->content = NULL;
    v2->version = 2;
    v2->txn_seq = 2;
    v2->xattrs_json = pond_strdup("{}");
    commit(be, 2, &v2, 1);
    /* without content and with a different hash: refused, nothing stored */
    pond_node_rec *bad = NULL;
    PT_ASSERT_OK(pond_node_rec_dup(&bad, v2));
    bad->version = 3;
    bad->txn_seq = 3;
    bad->sha256.bytes[0] ^= 1;
    pond_backend_txn_info info = {3, 3, NULL};
    PT_ASSERT(be->commit(be, &info, &bad, 1) < 0);
    be = do_reopen(s, be);
    pond_node_rec *r = NULL;
    PT_ASSERT_OK(be->latest(&r, be, &f));
    PT_ASSERT_INT_EQ(r->version, 2);
    PT_ASSERT_STR_EQ(r->xattrs_json, "{}");
    expect_content(be, r, "carried bytes", 13);
    pond_node_rec_unref(r);
    pond_node_rec_unref(bad);
    pond_node_rec_unref(v2);
    pond_node_rec_unref(recs[0]);
    pond_node_rec_unref(recs[1]);
    pond_backend_free(be);
}

/* Content arriving as a file-backed blob (a spilled writer) is streamed, and read back intact. */
static void case_large_stream(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = 64 * 1024;
    o.tmp_dir = PT_TMPDIR();
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, &o));
    size_t len = 3 * 1024 * 1024 + 17;
    unsigned char *data = malloc(len);
    PT_ASSERT(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, fs, NULL, "/big.bin", POND_ENTRY_FILE_TABLE));
    for (size_t off = 0; off < len; off += 100000)
        PT_ASSERT_OK(pond_writer_write(w, data + off, off + 100000 <= len ? 100000 : len - off));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, &o));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/big.bin"));
    PT_ASSERT_INT_EQ(st.size, (int64_t)len);
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_TABLE);
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_buf(&want, data, len));
    PT_ASSERT(pond_hash_equal(&st.sha256, &want));
    pond_reader *rd = NULL;
    PT_ASSERT_OK(pond_fs_open_reader(&rd, fs, NULL, "/big.bin"));
    unsigned char tail[1000];
    PT_ASSERT_OK(pond_reader_seek(rd, (int64_t)len - 1000));
    PT_ASSERT_OK(pond_reader_read_exact(rd, tail, sizeof tail));
    PT_ASSERT_MEM_EQ(tail, data + len - 1000, sizeof tail);
    PT_ASSERT_OK(pond_reader_seek(rd, 12345));
    PT_ASSERT_OK(pond_reader_read_exact(rd, tail, sizeof tail));
    PT_ASSERT_MEM_EQ(tail, data + 12345, sizeof tail);
    pond_reader_free(rd);
    free(data);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* Large content read inside the writing transaction (before the backend committed it), then
 * aborted, then written again and committed: the same bytes and attributes throughout. */
static void case_large_in_txn(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = 64 * 1024;
    o.tmp_dir = PT_TMPDIR();
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, &o));
    size_t len = 2 * 1024 * 1024 + 3;
    unsigned char *data = malloc(len);
    PT_ASSERT(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 40503u >> 7);
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_buf(&want, data, len));
    for (int round = 0; round < 2; round++) {
        PT_ASSERT_OK(pond_fs_begin(fs, NULL));
        PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/big", POND_ENTRY_FILE_SERIES, data, len));
        pond_buf b = POND_BUF_INIT;
        PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/big"));
        int same = b.size == len && memcmp(b.ptr, data, len) == 0;
        pond_buf_dispose(&b);
        PT_ASSERT(same);
        pond_stat st;
        PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/big"));
        PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_SERIES);
        PT_ASSERT(pond_hash_equal(&st.sha256, &want));
        if (round == 0) {
            pond_fs_abort(fs);
            PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/big"), POND_ENOTFOUND);
        } else {
            PT_ASSERT_OK(pond_fs_commit(NULL, fs));
        }
    }
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, &o));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/big"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_SERIES);
    PT_ASSERT_INT_EQ(st.size, (int64_t)len);
    PT_ASSERT_INT_EQ(st.version, 1);
    PT_ASSERT(pond_hash_equal(&st.sha256, &want));
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/big"));
    int same = b.size == len && memcmp(b.ptr, data, len) == 0;
    pond_buf_dispose(&b);
    PT_ASSERT(same);
    free(data);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void case_fs_tree(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, "{\"argv\":[\"pond\",\"mkdir\"]}"));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/a/b/c", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a/b/zeta", POND_ENTRY_NONE, "z", 1));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, fs, NULL, "/a/b/alpha", POND_ENTRY_FILE_SERIES));
    PT_ASSERT_OK(pond_writer_write(w, "PAR1", 4));
    PT_ASSERT_OK(pond_writer_set_event_time(w, 1000, 2000));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_symlink(fs, NULL, "b/zeta", "/a/link"));
    PT_ASSERT_OK(pond_fs_set_xattrs(fs, NULL, "/a/b/zeta", "{\"unit\":\"m\"}"));
    int64_t seq = 0;
    PT_ASSERT_OK(pond_fs_commit(&seq, fs));
    PT_ASSERT_INT_EQ(seq, 1);
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_fs_dirent *e = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_readdir(&e, &n, fs, NULL, "/a/b"));
    PT_ASSERT_INT_EQ(n, 3);
    PT_ASSERT_STR_EQ(e[0].name, "alpha");
    PT_ASSERT_INT_EQ(e[0].type, POND_ENTRY_FILE_SERIES);
    PT_ASSERT_STR_EQ(e[1].name, "c");
    PT_ASSERT_INT_EQ(e[1].type, POND_ENTRY_DIRECTORY);
    PT_ASSERT_STR_EQ(e[2].name, "zeta");
    pond_fs_dirents_free(e, n);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/a/link"));
    PT_ASSERT_STR_EQ(b.ptr, "z");
    pond_buf_dispose(&b);
    char *t = NULL, *x = NULL;
    PT_ASSERT_OK(pond_fs_readlink(&t, fs, NULL, "/a/link"));
    PT_ASSERT_STR_EQ(t, "b/zeta");
    PT_ASSERT_OK(pond_fs_get_xattrs(&x, fs, NULL, "/a/b/zeta"));
    PT_ASSERT_STR_EQ(x, "{\"unit\":\"m\"}");
    pond_free(t);
    pond_free(x);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/a/b/zeta"));
    PT_ASSERT_INT_EQ(st.version, 1); /* created, written and tagged in one txn: one version */
    PT_ASSERT_INT_EQ(st.txn_seq, 1);
    PT_ASSERT(!st.has_event_time);
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/a/b/alpha"));
    PT_ASSERT(st.has_event_time);
    PT_ASSERT_INT_EQ(st.min_event_time_us, 1000);
    PT_ASSERT_INT_EQ(st.max_event_time_us, 2000);
    PT_ASSERT_INT_EQ(st.size, 4);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void case_version_per_txn(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    for (int i = 1; i <= 3; i++) {
        char body[16];
        snprintf(body, sizeof body, "body %d", i);
        PT_ASSERT_OK(pond_fs_begin(fs, NULL));
        PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/f", POND_ENTRY_NONE, body, strlen(body)));
        PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/f", POND_ENTRY_NONE, body, strlen(body)));
        PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    }
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_stat *v = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_versions(&v, &n, fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        PT_ASSERT_INT_EQ(v[i].version, (int64_t)i + 1);
        PT_ASSERT_INT_EQ(v[i].txn_seq, (int64_t)i + 1);
    }
    pond_free(v);
    pond_reader *rd = NULL;
    PT_ASSERT_OK(pond_fs_open_reader_version(&rd, fs, NULL, "/f", 2));
    char got[16] = {0};
    PT_ASSERT_OK(pond_reader_read_exact(rd, got, 6));
    PT_ASSERT_STR_EQ(got, "body 2");
    pond_reader_free(rd);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void case_time_travel(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/f", POND_ENTRY_NONE, "old", 3));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/f", POND_ENTRY_NONE, "new", 3));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/g", POND_ENTRY_NONE, "g", 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.as_of_txn = 1;
    if (!be->open_as_of) {
        PT_ASSERT_ERR(pond_fs_open(&fs, be, &o), POND_EUNSUPPORTED);
        pond_backend_free(be);
        return;
    }
    PT_ASSERT_OK(pond_fs_open(&fs, be, &o));
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/f"));
    PT_ASSERT_STR_EQ(b.ptr, "old");
    pond_buf_dispose(&b);
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/g"), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_begin(fs, NULL), POND_EUNSUPPORTED);
    pond_fs_free(fs);
    o.as_of_txn = 9;
    PT_ASSERT_ERR(pond_fs_open(&fs, be, &o), POND_ENOTFOUND);
    pond_backend_free(be);
}

static void case_many_entries(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/d", 0));
    for (int i = 299; i >= 0; i--) {
        char name[32];
        snprintf(name, sizeof name, "/d/f%03d", i);
        PT_ASSERT_OK(pond_fs_write_all(fs, NULL, name, POND_ENTRY_NONE, name, strlen(name)));
    }
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_fs_dirent *e = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_readdir(&e, &n, fs, NULL, "/d"));
    PT_ASSERT_INT_EQ(n, 300);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%03zu", i);
        PT_ASSERT_STR_EQ(e[i].name, name);
    }
    pond_fs_dirents_free(e, n);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/d/f123"));
    PT_ASSERT_STR_EQ(b.ptr, "/d/f123");
    pond_buf_dispose(&b);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/d"));
    PT_ASSERT_INT_EQ(st.version, 1);
    PT_ASSERT_INT_EQ(st.size, 300);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void case_remove_and_rename_persist(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/x/y", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/z", 0));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/x/y/f", POND_ENTRY_NONE, "F", 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/x/y/f", "/z/g"));
    PT_ASSERT_OK(pond_fs_remove(fs, NULL, "/x", true));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/x"), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/z/g"));
    PT_ASSERT_INT_EQ(st.version, 1); /* a move adds no version of the moved node */
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/z/g"));
    PT_ASSERT_STR_EQ(b.ptr, "F");
    pond_buf_dispose(&b);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- moves: a move keeps every version and the node's identity ------------------------------ */

static void fs_txn_begin(pond_fs *fs) { PT_ASSERT_OK(pond_fs_begin(fs, NULL)); }
static void fs_txn_commit(pond_fs *fs) { PT_ASSERT_OK(pond_fs_commit(NULL, fs)); }

/* Version k's content of the file at path is exactly want. */
static void expect_version(pond_fs *fs, const char *path, int64_t k, const char *want)
{
    pond_reader *rd = NULL;
    PT_ASSERT_OK(pond_fs_open_reader_version(&rd, fs, NULL, path, k));
    size_t len = strlen(want);
    PT_ASSERT_INT_EQ(pond_reader_size(rd), (int64_t)len);
    char got[64] = {0};
    PT_ASSERT(len < sizeof got);
    int rc = pond_reader_read_exact(rd, got, len);
    pond_reader_free(rd);
    PT_ASSERT_OK(rc);
    PT_ASSERT_STR_EQ(got, want);
}

/* The file at path has exactly versions 1..n, with bodies[k-1] as version k, all readable both
 * by path and through the backend's get_version. */
static void expect_history(pond_fs *fs, pond_backend *be, const char *path,
                           const char *const *bodies, size_t n)
{
    pond_stat *v = NULL, st;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_versions(&v, &nv, fs, NULL, path));
    PT_ASSERT_INT_EQ(nv, n);
    for (size_t i = 0; i < nv; i++)
        PT_ASSERT_INT_EQ(v[i].version, (int64_t)i + 1);
    pond_free(v);
    PT_ASSERT_OK(pond_fs_lstat(&st, fs, NULL, path));
    PT_ASSERT_INT_EQ(st.version, (int64_t)n);
    for (size_t k = 1; k <= n; k++) {
        if (st.type != POND_ENTRY_SYMLINK)
            expect_version(fs, path, (int64_t)k, bodies[k - 1]);
        pond_node_rec *r = NULL;
        PT_ASSERT_OK(be->get_version(&r, be, &st.id, (int64_t)k));
        PT_ASSERT_INT_EQ(r->version, (int64_t)k);
        PT_ASSERT_INT_EQ(r->size, (int64_t)strlen(bodies[k - 1]));
        pond_node_rec_unref(r);
    }
}

/* The entry `name` of the directory at dir_path: the child's home partition it records (all
 * zero when it is the directory's own, and for a directory) and the child's own record's
 * part_id both equal home. */
static void expect_home(pond_fs *fs, pond_backend *be, const char *dir_path, const char *name,
                        const pond_node_id *home)
{
    pond_stat ds;
    PT_ASSERT_OK(pond_fs_stat(&ds, fs, NULL, dir_path));
    pond_node_rec *d = NULL, *c = NULL;
    PT_ASSERT_OK(be->latest(&d, be, &ds.id));
    const pond_dir_entry *e = NULL;
    for (size_t i = 0; i < d->n_entries; i++)
        if (!strcmp(d->entries[i].name, name))
            e = &d->entries[i];
    PT_ASSERT(e != NULL);
    pond_node_id got = pond_dir_entry_home(d, e);
    int same_entry = pond_node_id_equal(&got, home);
    bool own = pond_node_id_equal(home, &ds.id) || e->type == POND_ENTRY_DIRECTORY;
    int nil_when_own = own == pond_node_id_is_nil(&e->part_id);
    pond_node_id child = e->id;
    pond_node_rec_unref(d);
    PT_ASSERT(same_entry);
    PT_ASSERT(nil_when_own);
    PT_ASSERT_OK(be->latest(&c, be, &child));
    int same_rec = pond_node_id_equal(&c->part_id, home);
    pond_node_rec_unref(c);
    PT_ASSERT(same_rec);
}

static pond_node_id id_of(pond_fs *fs, const char *path)
{
    pond_stat st;
    PT_ASSERT_OK(pond_fs_lstat(&st, fs, NULL, path));
    return st.id;
}

static const char *const MV_BODIES[] = {"first", "second!", "third..."};
static const pond_entry_type MV_TYPES[] = {POND_ENTRY_FILE_DATA, POND_ENTRY_FILE_TABLE,
                                           POND_ENTRY_FILE_SERIES};

/* Every entry type, moved within its directory and across: no new version, every version
 * readable, before and after a reopen; the directory listings are the only change. */
static void case_move_every_type(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/src", 0));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/dst", 0));
    PT_ASSERT_OK(pond_fs_symlink(fs, NULL, "../dst/t0", "/src/link"));
    fs_txn_commit(fs);
    /* three versions of each file type, one transaction each */
    for (int v = 0; v < 3; v++) {
        fs_txn_begin(fs);
        for (int t = 0; t < 3; t++) {
            char path[32];
            snprintf(path, sizeof path, "/src/t%d", t);
            pond_writer *w = NULL;
            PT_ASSERT_OK(pond_fs_open_writer(&w, fs, NULL, path, MV_TYPES[t]));
            PT_ASSERT_OK(pond_writer_write(w, MV_BODIES[v], strlen(MV_BODIES[v])));
            if (MV_TYPES[t] == POND_ENTRY_FILE_SERIES)
                PT_ASSERT_OK(pond_writer_set_event_time(w, 1000 * v, 1000 * v + 999));
            PT_ASSERT_OK(pond_writer_finish(w));
            pond_writer_free(w);
        }
        fs_txn_commit(fs);
    }
    int64_t before;
    PT_ASSERT_OK(pond_fs_last_txn(&before, fs));
    /* renamed within the directory, then moved across, in separate transactions */
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/src/t0", "/src/r0"));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/src/link", "/src/l2"));
    fs_txn_commit(fs);
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/src/r0", "/dst/t0"));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/src/t1", "/dst/"));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/src/t2", "/dst/s2"));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/src/l2", "/dst/link"));
    /* inside the moving transaction already */
    expect_history(fs, be, "/dst/t0", MV_BODIES, 3);
    fs_txn_commit(fs);
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            pond_fs_free(fs);
            be = do_reopen(s, be);
            PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
        }
        expect_history(fs, be, "/dst/t0", MV_BODIES, 3);
        expect_history(fs, be, "/dst/t1", MV_BODIES, 3);
        expect_history(fs, be, "/dst/s2", MV_BODIES, 3);
        const char *target[] = {"../dst/t0"};
        expect_history(fs, be, "/dst/link", target, 1);
        pond_stat st;
        PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/dst/link")); /* still resolves */
        PT_ASSERT_INT_EQ(st.version, 3);
        PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/dst/s2"));
        PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_SERIES);
        PT_ASSERT(st.has_event_time);
        PT_ASSERT_INT_EQ(st.min_event_time_us, 2000);
        pond_buf b = POND_BUF_INIT;
        PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/dst/t1"));
        PT_ASSERT_STR_EQ(b.ptr, "third...");
        pond_buf_dispose(&b);
        PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/src/t1"), POND_ENOTFOUND);
        PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/src"));
        PT_ASSERT_INT_EQ(st.size, 0);
        /* the listings record where the moved nodes live, for life: /src, and a series its
         * own partition (docs/format.md, "Home partitions") */
        pond_node_id src = id_of(fs, "/src"), s2 = id_of(fs, "/dst/s2");
        expect_home(fs, be, "/dst", "t0", &src);
        expect_home(fs, be, "/dst", "t1", &src);
        expect_home(fs, be, "/dst", "s2", &s2);
        expect_home(fs, be, "/dst", "link", &src);
    }
    /* time travel: before the moves the old paths hold every version */
    pond_fs_free(fs);
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.as_of_txn = before;
    if (be->open_as_of) {
        PT_ASSERT_OK(pond_fs_open(&fs, be, &o));
        expect_history(fs, be, "/src/t0", MV_BODIES, 3);
        expect_history(fs, be, "/src/t2", MV_BODIES, 3);
        pond_stat st;
        PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/dst/t0"), POND_ENOTFOUND);
        pond_fs_free(fs);
        o.as_of_txn = before + 1; /* renamed, not yet moved */
        PT_ASSERT_OK(pond_fs_open(&fs, be, &o));
        expect_history(fs, be, "/src/r0", MV_BODIES, 3);
        pond_fs_free(fs);
    }
    pond_backend_free(be);
}

/* A chain of moves across directories and back home, a new version written after moving,
 * and the old directory removed: every version stays readable. */
static void case_move_chain_then_write(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/a", 0));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/b", 0));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/c", 0));
    /* a data file: it lives with the directory it was created in (a series is its own home) */
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a/f", POND_ENTRY_FILE_DATA, "first", 5));
    fs_txn_commit(fs);
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a/f", POND_ENTRY_NONE, "second!", 7));
    fs_txn_commit(fs);
    const char *hops[] = {"/b/f", "/c/g", "/a/h", "/b/"};
    const char *at[] = {"/b/f", "/c/g", "/a/h", "/b/h"};
    const char *dirs[] = {"/b", "/c", "/a", "/b"}, *names[] = {"f", "g", "h", "h"};
    const char *prev = "/a/f";
    pond_node_id home = id_of(fs, "/a");
    for (int i = 0; i < 4; i++) {
        fs_txn_begin(fs);
        PT_ASSERT_OK(pond_fs_rename(fs, NULL, prev, hops[i]));
        fs_txn_commit(fs);
        expect_history(fs, be, at[i], MV_BODIES, 2);
        expect_home(fs, be, dirs[i], names[i], &home); /* back in /a: no part_id recorded */
        prev = at[i];
    }
    /* a new version after the moves: version 3, and 1 and 2 still there */
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/b/h", POND_ENTRY_NONE, "third...", 8));
    fs_txn_commit(fs);
    expect_history(fs, be, "/b/h", MV_BODIES, 3);
    expect_home(fs, be, "/b", "h", &home); /* written where it lives */
    /* the directory it was created in goes away */
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_remove(fs, NULL, "/a", true));
    fs_txn_commit(fs);
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    expect_history(fs, be, "/b/h", MV_BODIES, 3);
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/b/h", POND_ENTRY_NONE, "fourth", 6));
    fs_txn_commit(fs);
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    const char *four[] = {"first", "second!", "third...", "fourth"};
    expect_history(fs, be, "/b/h", four, 4);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* A directory holding multi-version files moves elsewhere: it keeps its version, and its
 * files all their versions (they were never in another partition). */
static void case_move_directory_with_versions(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/d/sub", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/x", 0));
    fs_txn_commit(fs);
    for (int v = 0; v < 2; v++) {
        fs_txn_begin(fs);
        PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/d/f", POND_ENTRY_FILE_TABLE, MV_BODIES[v],
                                       strlen(MV_BODIES[v])));
        PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/d/sub/g", POND_ENTRY_FILE_SERIES, MV_BODIES[v],
                                       strlen(MV_BODIES[v])));
        fs_txn_commit(fs);
    }
    pond_stat d1, d2;
    PT_ASSERT_OK(pond_fs_stat(&d1, fs, NULL, "/d"));
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/d", "/x/"));
    fs_txn_commit(fs);
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/x/d/sub", "/moved"));
    fs_txn_commit(fs);
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_stat(&d2, fs, NULL, "/x/d"));
    PT_ASSERT(pond_node_id_equal(&d1.id, &d2.id));
    PT_ASSERT_INT_EQ(d2.version, d1.version + 1); /* only /x/d/sub left it */
    expect_history(fs, be, "/x/d/f", MV_BODIES, 2);
    expect_history(fs, be, "/moved/g", MV_BODIES, 2);
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/moved/g", POND_ENTRY_NONE, "third...", 8));
    fs_txn_commit(fs);
    expect_history(fs, be, "/moved/g", MV_BODIES, 3);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* A node created and moved in one transaction has no versions anywhere yet: its home is where
 * it ends up, and no listing records another. Moves of directories never record one. */
static void case_move_new_node_rehomed(const conf_slot *s)
{
    pond_backend *be = make(s);
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    fs_txn_begin(fs);
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/a/sub", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/b", 0));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a/f", POND_ENTRY_FILE_DATA, "new", 3));
    PT_ASSERT_OK(pond_fs_symlink(fs, NULL, "f", "/a/l"));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/a/f", "/b/"));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/a/l", "/b/l"));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/a/sub", "/b/"));
    fs_txn_commit(fs);
    pond_fs_free(fs);
    be = do_reopen(s, be);
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_node_id b = id_of(fs, "/b"), sub = id_of(fs, "/b/sub");
    expect_home(fs, be, "/b", "f", &b);
    expect_home(fs, be, "/b", "l", &b);
    expect_home(fs, be, "/b", "sub", &sub);
    const char *one[] = {"new"};
    expect_history(fs, be, "/b/f", one, 1);
    pond_buf buf = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&buf, fs, NULL, "/b/l"));
    PT_ASSERT_STR_EQ(buf.ptr, "new");
    pond_buf_dispose(&buf);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- registration: each slot gets its own wrappers (pt tests take no arguments) ---------------- */

#define CONF_CASES(X)                                                                              \
    X(empty)                                                                                       \
    X(commit_and_latest)                                                                           \
    X(versions)                                                                                    \
    X(conflict)                                                                                    \
    X(content_carried)                                                                             \
    X(large_stream)                                                                                \
    X(large_in_txn)                                                                                \
    X(fs_tree)                                                                                     \
    X(version_per_txn)                                                                             \
    X(time_travel)                                                                                 \
    X(many_entries)                                                                                \
    X(remove_and_rename_persist)                                                                   \
    X(move_every_type)                                                                             \
    X(move_chain_then_write)                                                                       \
    X(move_directory_with_versions)                                                                \
    X(move_new_node_rehomed)

#define CONF_WRAP(slot, name)                                                                      \
    static void test_s##slot##_##name(void) { case_##name(&g_slots[slot]); }
#define CONF_ENTRY(slot, name) {#name, test_s##slot##_##name},

#define W0(n) CONF_WRAP(0, n)
#define W1(n) CONF_WRAP(1, n)
#define W2(n) CONF_WRAP(2, n)
#define W3(n) CONF_WRAP(3, n)
#define E0(n) CONF_ENTRY(0, n)
#define E1(n) CONF_ENTRY(1, n)
#define E2(n) CONF_ENTRY(2, n)
#define E3(n) CONF_ENTRY(3, n)

CONF_CASES(W0)
CONF_CASES(W1)
CONF_CASES(W2)
CONF_CASES(W3)
static const pt_test g_tests_0[] = {CONF_CASES(E0) PT_END};
static const pt_test g_tests_1[] = {CONF_CASES(E1) PT_END};
static const pt_test g_tests_2[] = {CONF_CASES(E2) PT_END};
static const pt_test g_tests_3[] = {CONF_CASES(E3) PT_END};
static const pt_test *const g_tables[CONFORMANCE_MAX_SLOTS] = {g_tests_0, g_tests_1, g_tests_2,
                                                               g_tests_3};

void conformance_register(const char *suite_name, conformance_factory_fn factory,
                          conformance_reopen_fn reopen, void *payload)
{
    if (g_nslots >= CONFORMANCE_MAX_SLOTS || !factory)
        return;
    g_slots[g_nslots] = (conf_slot){suite_name, factory, reopen, payload};
    pt_register(suite_name, g_tables[g_nslots]);
    g_nslots++;
}
