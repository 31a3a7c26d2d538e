/* The push intent (docs/replication.md, "Batches and power cuts"): the state a power cut inside
 * a push's batch can leave -- a later commit's name kept, an earlier one's lost, the intent
 * naming the batch -- read as the log before the gap by read-only opens (which write nothing),
 * reported by fsck, and finished by the next push or write; files the intent does not explain
 * are never removed. The cut itself is the crash harness's (tests/crash/repl_crash.py,
 * power_push); here the state is built directly. */
#include "pt.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/repl.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include "oplog/oplog_intent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *path2(const char *a, const char *b)
{
    char *p = malloc(strlen(a) + strlen(b) + 2);
    sprintf(p, "%s/%s", a, b);
    return p;
}

static char *commit_path(const char *pond, int64_t v)
{
    char rel[64];
    snprintf(rel, sizeof rel, "_delta_log/%020lld.json", (long long)v);
    return path2(pond, rel);
}

static void put(const char *dir, const char *path, const char *text)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, path, POND_ENTRY_FILE_DATA, text, strlen(text)));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* path's content in the pond at dir (read-only open) and the transaction it reads as */
static int64_t read_text(pond_buf *out, const char *dir, const char *path)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    int64_t txn = -1;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(be->last_txn(&txn, be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_buf_clear(out);
    PT_ASSERT_OK(pond_fs_read_all(out, fs, NULL, path));
    pond_fs_free(fs);
    pond_backend_free(be);
    return txn;
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void file_bytes(pond_buf *out, const char *p)
{
    pond_buf_clear(out);
    FILE *f = fopen(p, "rb");
    PT_ASSERT(f != NULL);
    char c[4096];
    size_t k;
    while ((k = fread(c, 1, sizeof c, f)) > 0)
        pond_buf_put(out, c, k);
    fclose(f);
}

/* Names, sizes and bytes of every file under dir: "nothing changed" checks. */
static void digest_dir(pond_sha256 *h, const char *d)
{
    DIR *dd = opendir(d);
    PT_ASSERT(dd != NULL);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while ((e = readdir(dd)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    closedir(dd);
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        char *p = path2(d, names[i]);
        struct stat st;
        PT_ASSERT(lstat(p, &st) == 0);
        pond_sha256_update(h, p, strlen(p));
        if (S_ISDIR(st.st_mode)) {
            digest_dir(h, p);
        } else {
            pond_buf b = POND_BUF_INIT;
            file_bytes(&b, p);
            pond_sha256_update(h, b.ptr ? b.ptr : "", b.size);
            pond_buf_dispose(&b);
        }
        free(p);
        free(names[i]);
    }
    free(names);
}

static void digest(pond_hash *out, const char *dir)
{
    pond_sha256 *h = NULL;
    PT_ASSERT_OK(pond_sha256_new(&h));
    digest_dir(h, dir);
    PT_ASSERT_OK(pond_sha256_final(out, h));
    pond_sha256_free(h);
}

typedef struct {
    int unfinished;
    char msg[1024];
} problems;

static void on_problem(const char *kind, const char *msg, void *payload)
{
    problems *p = payload;
    if (!strcmp(kind, "unfinished")) {
        p->unfinished++;
        snprintf(p->msg, sizeof p->msg, "%s", msg);
    }
}

static problems fsck(const char *dir, bool clean)
{
    problems p = {0, ""};
    pond_backend *be = NULL;
    pond_fsck_report r;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    int rc = pond_oplog_fsck(&r, be, on_problem, NULL, &p);
    if (clean) {
        PT_ASSERT_OK(rc);
        PT_ASSERT_INT_EQ(r.missing + r.corrupt + r.foreign, 0);
    }
    pond_backend_free(be);
    return p;
}

/* The entry the intent has for a commit file of src. */
static pond_push_entry entry_of(const char *src, int64_t v)
{
    pond_buf b = POND_BUF_INIT;
    char *p = commit_path(src, v);
    file_bytes(&b, p);
    pond_push_entry e = {v, false, (int64_t)b.size, {{0}}};
    PT_ASSERT_OK(pond_sha256_buf(&e.sha256, b.ptr, b.size));
    pond_buf_dispose(&b);
    free(p);
    return e;
}

/* A source at transaction `base` + 3 and a remote as a power cut inside the push of the last
 * three can leave it: everything of the batch durable but commit base + 1's name; the intent
 * names base + 1 .. base + 3. Returns base. */
static int64_t cut_state(char **src_out, char **remote_out, const char *tag)
{
    char name[64];
    snprintf(name, sizeof name, "src-%s", tag);
    char *src = path2(PT_TMPDIR(), name);
    snprintf(name, sizeof name, "remote-%s", tag);
    char *remote = path2(PT_TMPDIR(), name);
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    PT_ASSERT_OK(pond_oplog_create(src, &co));
    put(src, "/f", "one");
    int64_t base = -1;
    PT_ASSERT_OK(pond_delta_latest_version(&base, src));
    put(src, "/f", "two");
    put(src, "/g", "three");
    put(src, "/f", "four");
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    pond_push_entry e[3];
    for (int k = 0; k < 3; k++)
        e[k] = entry_of(src, base + 1 + k);
    PT_ASSERT_OK(pond_oplog_intent_write(remote, e, 3));
    char *gone = commit_path(remote, base + 1);
    PT_ASSERT(unlink(gone) == 0);
    free(gone);
    *src_out = src;
    *remote_out = remote;
    return base;
}

static void test_gap_reads_prefix_then_push_finishes(void)
{
    char *src, *remote;
    int64_t base = cut_state(&src, &remote, "push");
    pond_hash before, after;
    digest(&before, remote);
    /* read-only: the log ends before the gap, and nothing is written */
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/f"), base);
    PT_ASSERT_INT_EQ(b.size, 3);
    PT_ASSERT(!memcmp(b.ptr, "one", 3));
    int64_t h = -1, end = -2;
    PT_ASSERT_OK(pond_oplog_head(&h, remote));
    PT_ASSERT_INT_EQ(h, base);
    PT_ASSERT_OK(pond_oplog_intent_end(&end, remote));
    PT_ASSERT_INT_EQ(end, base);
    problems p = fsck(remote, true);
    PT_ASSERT_INT_EQ(p.unfinished, 1);
    PT_ASSERT(strstr(p.msg, "unfinished push") && strstr(p.msg, "push-intent"));
    digest(&after, remote);
    PT_ASSERT(pond_hash_equal(&before, &after));
    /* the next push removes the batch's commits above the gap and the intent, then completes */
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    PT_ASSERT_INT_EQ(r.commits, 3);
    char *intent = path2(remote, "_host/push-intent");
    PT_ASSERT(!exists(intent));
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/f"), base + 3);
    PT_ASSERT(b.size == 4 && !memcmp(b.ptr, "four", 4));
    for (int64_t v = 0; v <= base + 3; v++) {
        pond_buf x = POND_BUF_INIT, y = POND_BUF_INIT;
        char *a = commit_path(src, v), *c = commit_path(remote, v);
        file_bytes(&x, a);
        file_bytes(&y, c);
        PT_ASSERT(x.size == y.size && !memcmp(x.ptr, y.ptr, x.size));
        pond_buf_dispose(&x);
        pond_buf_dispose(&y);
        free(a);
        free(c);
    }
    PT_ASSERT_INT_EQ(fsck(remote, true).unfinished, 0);
    pond_buf_dispose(&b);
    free(intent);
    free(src);
    free(remote);
}

static void test_next_write_finishes(void)
{
    char *src, *remote;
    int64_t base = cut_state(&src, &remote, "write");
    char *notes = path2(remote, "_host/notes.txt");
    FILE *f = fopen(notes, "w");
    fputs("mine", f);
    fclose(f);
    /* a local write: under the lock the batch's commits above the gap go first */
    put(remote, "/local", "here");
    int64_t h = -1;
    PT_ASSERT_OK(pond_delta_latest_version(&h, remote));
    PT_ASSERT_INT_EQ(h, base + 1);
    char *intent = path2(remote, "_host/push-intent");
    PT_ASSERT(!exists(intent));
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/local"), base + 1);
    PT_ASSERT(b.size == 4 && !memcmp(b.ptr, "here", 4));
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/f"), base + 1);
    PT_ASSERT(b.size == 3 && !memcmp(b.ptr, "one", 3));
    PT_ASSERT(exists(notes)); /* not pond's: left alone */
    problems p = {0, ""};
    pond_backend *be = NULL;
    pond_fsck_report r;
    PT_ASSERT_OK(pond_oplog_open(&be, remote, NULL));
    PT_ASSERT_OK(pond_oplog_fsck(&r, be, on_problem, NULL, &p));
    PT_ASSERT_INT_EQ(r.missing + r.corrupt, 0);
    PT_ASSERT_INT_EQ(r.foreign, 1);
    PT_ASSERT_INT_EQ(p.unfinished, 0);
    pond_backend_free(be);
    pond_buf_dispose(&b);
    free(notes);
    free(intent);
    free(src);
    free(remote);
}

/* A file above the gap that the intent does not name with its bytes: nothing hides it and
 * nothing removes it. */
static void test_foreign_never_removed(void)
{
    char *src, *remote;
    int64_t base = cut_state(&src, &remote, "foreign");
    char *last = commit_path(remote, base + 3);
    pond_buf b = POND_BUF_INIT;
    file_bytes(&b, last);
    FILE *f = fopen(last, "ab");
    fputs("\n", f); /* not the bytes the intent names */
    fclose(f);
    pond_hash before, after;
    digest(&before, remote);
    int64_t end = -2;
    PT_ASSERT_OK(pond_oplog_intent_end(&end, remote));
    PT_ASSERT_INT_EQ(end, -1);
    pond_backend *be = NULL;
    PT_ASSERT_INT_EQ(pond_oplog_open(&be, remote, NULL), POND_ECORRUPT); /* the gap, by name */
    PT_ASSERT(strstr(pond_error_last()->message, "missing commit file"));
    PT_ASSERT_INT_EQ(pond_oplog_intent_finish(remote), POND_ECORRUPT);
    PT_ASSERT(strstr(pond_error_last()->message, "is not a log file it names"));
    pond_repl_report r;
    PT_ASSERT(pond_repl_push(&r, src, remote, NULL) < 0);
    digest(&after, remote);
    PT_ASSERT(pond_hash_equal(&before, &after));
    pond_buf_dispose(&b);
    free(last);
    free(src);
    free(remote);
}

/* An intent cut short (a power cut before the batch's sync: nothing of it was linked) hides
 * nothing; fsck says so and the next write removes it. */
static void test_torn_intent_hides_nothing(void)
{
    char *src, *remote;
    int64_t base = cut_state(&src, &remote, "torn");
    char *intent = path2(remote, "_host/push-intent");
    pond_buf b = POND_BUF_INIT;
    file_bytes(&b, intent);
    PT_ASSERT(truncate(intent, (off_t)b.size / 2) == 0);
    /* put the lost name back: as if the cut came before any link */
    char *a = commit_path(src, base + 1), *c = commit_path(remote, base + 1);
    pond_buf x = POND_BUF_INIT;
    file_bytes(&x, a);
    FILE *f = fopen(c, "wb");
    fwrite(x.ptr, 1, x.size, f);
    fclose(f);
    int64_t end = -2;
    PT_ASSERT_OK(pond_oplog_intent_end(&end, remote));
    PT_ASSERT_INT_EQ(end, -1);
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/f"), base + 3);
    problems p = fsck(remote, true);
    PT_ASSERT_INT_EQ(p.unfinished, 1);
    PT_ASSERT(strstr(p.msg, "cut short"));
    put(remote, "/x", "x");
    PT_ASSERT(!exists(intent));
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/f"), base + 4);
    pond_buf_dispose(&x);
    pond_buf_dispose(&b);
    free(a);
    free(c);
    free(intent);
    free(src);
    free(remote);
}

/* A start from a checkpoint links the checkpoint first: a cut that lost its name but kept the
 * commits after it reads as the remote's old head, and the next push completes. */
static void test_checkpoint_first_batch(void)
{
    char *src = path2(PT_TMPDIR(), "src-cp"), *remote = path2(PT_TMPDIR(), "remote-cp");
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    PT_ASSERT_OK(pond_oplog_create(src, &co));
    put(src, "/f", "v1");
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    int64_t old = -1;
    PT_ASSERT_OK(pond_delta_latest_version(&old, remote));
    char text[16];
    for (int i = 2; i <= 22; i++) {
        snprintf(text, sizeof text, "v%d", i);
        put(src, "/f", text);
    }
    char *cp = path2(src, "_delta_log/00000000000000000020.checkpoint.parquet");
    PT_ASSERT(exists(cp));
    pond_push_entry e[3] = {{20, true, 0, {{0}}}, entry_of(src, 20), entry_of(src, 21)};
    pond_buf b = POND_BUF_INIT;
    file_bytes(&b, cp);
    e[0].size = (int64_t)b.size;
    PT_ASSERT_OK(pond_sha256_buf(&e[0].sha256, b.ptr, b.size));
    PT_ASSERT_OK(pond_oplog_intent_write(remote, e, 3));
    for (int64_t v = 20; v <= 21; v++) { /* the commits' names survived, the checkpoint's not */
        char *a = commit_path(src, v), *c = commit_path(remote, v);
        file_bytes(&b, a);
        FILE *f = fopen(c, "wb");
        fwrite(b.ptr, 1, b.size, f);
        fclose(f);
        free(a);
        free(c);
    }
    int64_t end = -2;
    PT_ASSERT_OK(pond_oplog_intent_end(&end, remote));
    PT_ASSERT_INT_EQ(end, old);
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/f"), old);
    PT_ASSERT(b.size == 2 && !memcmp(b.ptr, "v1", 2));
    PT_ASSERT_INT_EQ(fsck(remote, true).unfinished, 1);
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    int64_t h = -1;
    PT_ASSERT_OK(pond_delta_latest_version(&h, src)); /* with the automatic merges */
    PT_ASSERT_INT_EQ(read_text(&b, remote, "/f"), h);
    PT_ASSERT(b.size == 3 && !memcmp(b.ptr, "v22", 3));
    PT_ASSERT_INT_EQ(fsck(remote, true).unfinished, 0);
    pond_buf_dispose(&b);
    free(cp);
    free(src);
    free(remote);
}

static void test_parse_round_trip_and_refusals(void)
{
    pond_push_entry v[3] = {{7, false, 120, {{1}}}, {7, true, 4000, {{2}}}, {8, false, 5, {{3}}}};
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_oplog__intent_format(&b, v, 3));
    oplog_intent in;
    PT_ASSERT_OK(pond_oplog__intent_parse(&in, b.ptr, b.size, "x"));
    PT_ASSERT_INT_EQ(in.n, 3);
    for (int i = 0; i < 3; i++) {
        PT_ASSERT_INT_EQ(in.v[i].version, v[i].version);
        PT_ASSERT(in.v[i].checkpoint == v[i].checkpoint);
        PT_ASSERT_INT_EQ(in.v[i].size, v[i].size);
        PT_ASSERT(pond_hash_equal(&in.v[i].sha256, &v[i].sha256));
    }
    pond_oplog__intent_dispose(&in);
    static const char *bad[] = {
        "",
        "pond push-intent 2\n",
        "pond push-intent 1\ncommit 00000000000000000001 5 00\nend 1 00\n",
        "pond push-intent 1\nend 0 "
        "0000000000000000000000000000000000000000000000000000000000000000\n",
        "pond push-intent 1\ncommit x 5 "
        "0000000000000000000000000000000000000000000000000000000000000000\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PT_ASSERT_INT_EQ(pond_oplog__intent_parse(&in, bad[i], strlen(bad[i]), "x"), POND_ECORRUPT);
        PT_ASSERT(strstr(pond_error_last()->message, "x, line "));
    }
    /* a flipped byte fails the end line's SHA-256; versions must ascend */
    b.ptr[b.size / 2] ^= 1;
    PT_ASSERT_INT_EQ(pond_oplog__intent_parse(&in, b.ptr, b.size, "x"), POND_ECORRUPT);
    pond_push_entry desc[2] = {{8, false, 1, {{0}}}, {7, false, 1, {{0}}}};
    pond_buf_clear(&b);
    PT_ASSERT_OK(pond_oplog__intent_format(&b, desc, 2));
    PT_ASSERT_INT_EQ(pond_oplog__intent_parse(&in, b.ptr, b.size, "x"), POND_ECORRUPT);
    PT_ASSERT(strstr(pond_error_last()->message, "ascend"));
    /* a start from a checkpoint: the checkpoint before its version's commit; never twice */
    pond_push_entry cp_first[3] = {
        {20, true, 1, {{0}}}, {20, false, 1, {{0}}}, {21, false, 1, {{0}}}};
    pond_buf_clear(&b);
    PT_ASSERT_OK(pond_oplog__intent_format(&b, cp_first, 3));
    PT_ASSERT_OK(pond_oplog__intent_parse(&in, b.ptr, b.size, "x"));
    pond_oplog__intent_dispose(&in);
    pond_push_entry twice[3] = {{20, false, 1, {{0}}}, {20, true, 1, {{0}}}, {20, false, 1, {{0}}}};
    pond_buf_clear(&b);
    PT_ASSERT_OK(pond_oplog__intent_format(&b, twice, 3));
    PT_ASSERT_INT_EQ(pond_oplog__intent_parse(&in, b.ptr, b.size, "x"), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(pond_oplog_intent_write(PT_TMPDIR(), twice, 3), POND_EINVALID);
    pond_buf_dispose(&b);
}

PT_SUITE(repl_intent, PT_TEST(gap_reads_prefix_then_push_finishes), PT_TEST(next_write_finishes),
         PT_TEST(foreign_never_removed), PT_TEST(torn_intent_hides_nothing),
         PT_TEST(checkpoint_first_batch), PT_TEST(parse_round_trip_and_refusals))
