/* cas on a hostile store: symbolic links at every position of the store lead out of it, and
 * FIFOs sit where the store keeps files. Nothing outside the store changes (a checksum of the
 * victim tree), nothing blocks, reads refuse by name, and walks report what they never enter. */
#include "pt.h"

#include <pond/cas.h>
#include <pond/hash.h>

#include "util/util.h"
#include "cas_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOUR_US (3600LL * 1000000)

typedef struct {
    int blobs, temps, others, misplaced;
    char misplaced_paths[1024];
} hostile_seen;

static int seen_cb(const pond_cas_entry *e, void *payload)
{
    hostile_seen *s = payload;
    s->blobs += e->kind == POND_CAS_ENTRY_BLOB;
    s->temps += e->kind == POND_CAS_ENTRY_TEMP;
    s->others += e->kind == POND_CAS_ENTRY_OTHER;
    if (e->misplaced) {
        s->misplaced++;
        size_t n = strlen(s->misplaced_paths);
        snprintf(s->misplaced_paths + n, sizeof s->misplaced_paths - n, "[%s]", e->path);
    }
    return 0;
}

static hostile_seen walk(pond_cas *cas)
{
    hostile_seen s;
    memset(&s, 0, sizeof s);
    PT_ASSERT_OK(pond_cas_foreach(cas, 0, seen_cb, &s));
    return s;
}

static void copy_file(const char *from, const char *to)
{
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, from, 1 << 20, POND_DOM_CAS));
    FILE *f = fopen(to, "wb");
    PT_ASSERT(f);
    PT_ASSERT_INT_EQ(fwrite(b.ptr, 1, b.size, f), b.size);
    fclose(f);
    pond_buf_dispose(&b);
}

/* <tmp>/victim: copies of a blob and its table under their store names (so that a gc that
 * followed a link would find "unreferenced blobs" there), and old writer-named temp files. */
static char *make_victim(pond_cas *cas, const pond_hash *sha)
{
    char *victim = pond__path_join(PT_TMPDIR(), "victim");
    PT_ASSERT_INT_EQ(mkdir(victim, 0777), 0);
    char hex[65], to[4300];
    pond_hash_hex(hex, sha);
    char *bp = ct_blob_path(cas, sha, ""), *tp = ct_blob_path(cas, sha, ".chunks");
    snprintf(to, sizeof to, "%s/%s", victim, hex);
    copy_file(bp, to);
    ct_age(to, 7200);
    snprintf(to, sizeof to, "%s/%s.chunks", victim, hex);
    copy_file(tp, to);
    ct_age(to, 7200);
    snprintf(to, sizeof to, "%s/77-1-abc.data", victim);
    copy_file(bp, to);
    ct_age(to, 7200);
    free(bp);
    free(tp);
    return victim;
}

static void put(pond_cas_ref *ref, pond_cas *cas, uint64_t seed)
{
    uint8_t data[300];
    ct_fill(data, sizeof data, seed);
    PT_ASSERT_OK(pond_cas_put(ref, cas, data, sizeof data));
}

/* Every gc primitive and every read on the store leaves the victim alone. */
static void leave_victim_alone(pond_cas *cas, const pond_cas_ref *refs, size_t n,
                               const char *victim)
{
    uint64_t before = pt_tree_sum(victim);
    for (size_t i = 0; i < n; i++) {
        bool removed = true;
        int rc = pond_cas_remove(&removed, NULL, cas, &refs[i].sha256, 0);
        PT_ASSERT(rc == 0 || rc == POND_ECORRUPT);
        pond_cas_ref v;
        (void)pond_cas_verify(&v, cas, &refs[i].sha256);
        pond_cas_reader *r = NULL;
        if (pond_cas_reader_open(&r, cas, &refs[i]) == 0)
            pond_cas_reader_free(r);
    }
    int rc = pond_cas_remove_stale_temps(NULL, NULL, cas, 0);
    PT_ASSERT(rc == 0 || rc == POND_ECORRUPT);
    PT_ASSERT(pt_tree_sum(victim) == before);
}

static void test_link_at_fan_out_dir(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, false);
    pond_cas_ref refs[2];
    put(&refs[0], cas, 1);
    put(&refs[1], cas, 2);
    char *victim = make_victim(cas, &refs[0].sha256);
    uint64_t before = pt_tree_sum(victim);
    /* the fan-out dir of blob 0 becomes a link to the victim */
    char hex[65], fan[4300];
    pond_hash_hex(hex, &refs[0].sha256);
    snprintf(fan, sizeof fan, "%s/lf/%.2s", PT_TMPDIR(), hex);
    char *bp = ct_blob_path(cas, &refs[0].sha256, ""),
         *tp = ct_blob_path(cas, &refs[0].sha256, ".chunks");
    PT_ASSERT_INT_EQ(unlink(bp), 0);
    PT_ASSERT_INT_EQ(unlink(tp), 0);
    PT_ASSERT_INT_EQ(rmdir(fan), 0);
    PT_ASSERT_INT_EQ(symlink("../victim", fan), 0);
    hostile_seen s = walk(cas);
    PT_ASSERT_INT_EQ(s.misplaced, 1); /* the link, reported, never entered */
    PT_ASSERT(strstr(s.misplaced_paths, "[") != NULL);
    PT_ASSERT_INT_EQ(s.blobs, 1); /* blob 1 only: the copies in the victim are not seen */
    /* reads refuse by name */
    pond_cas_reader *r = NULL;
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &refs[0]), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("is a symbolic link");
    /* a writer publishing into it refuses too */
    uint8_t data[300];
    ct_fill(data, sizeof data, 1);
    pond_cas_ref again;
    PT_ASSERT_ERR(pond_cas_put(&again, cas, data, sizeof data), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("a pond directory must be a real directory");
    leave_victim_alone(cas, refs, 2, victim);
    PT_ASSERT(pt_tree_sum(victim) == before);
    free(bp);
    free(tp);
    pond_free(victim);
    pond_cas_free(cas);
}

static void test_links_at_tmp_blob_table_and_store(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, false);
    pond_cas_ref refs[3];
    put(&refs[0], cas, 1);
    put(&refs[1], cas, 2);
    put(&refs[2], cas, 3);
    char *victim = make_victim(cas, &refs[0].sha256);
    uint64_t before = pt_tree_sum(victim);
    char hex[65], link[4300];
    /* tmp/ is a link to the victim (whose temp-named file is old: stale if followed) */
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s/lf/tmp", PT_TMPDIR());
    PT_ASSERT_INT_EQ(rmdir(tmp), 0);
    PT_ASSERT_INT_EQ(symlink("../victim", tmp), 0);
    /* blob 0 is a link to the victim's copy; blob 1's table is a link; blob 2's is a FIFO */
    char *bp0 = ct_blob_path(cas, &refs[0].sha256, "");
    PT_ASSERT_INT_EQ(unlink(bp0), 0);
    pond_hash_hex(hex, &refs[0].sha256);
    snprintf(link, sizeof link, "%s/victim/%s", PT_TMPDIR(), hex);
    PT_ASSERT_INT_EQ(symlink(link, bp0), 0);
    char *tp1 = ct_blob_path(cas, &refs[1].sha256, ".chunks");
    PT_ASSERT_INT_EQ(unlink(tp1), 0);
    PT_ASSERT_INT_EQ(symlink(link, tp1), 0);
    char *tp2 = ct_blob_path(cas, &refs[2].sha256, ".chunks");
    PT_ASSERT_INT_EQ(unlink(tp2), 0);
    PT_ASSERT_INT_EQ(mkfifo(tp2, 0644), 0);
    hostile_seen s = walk(cas);
    PT_ASSERT_INT_EQ(s.misplaced, 4); /* tmp, blob 0, table 1, table 2 */
    PT_ASSERT_INT_EQ(s.temps, 0);
    pond_cas_reader *r = NULL;
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &refs[0]), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("is a symbolic link: a pond file must be a regular file");
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &refs[1]), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(".chunks' is a symbolic link");
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &refs[2]), POND_ECORRUPT); /* never blocks */
    PT_ASSERT_MSG_HAS(".chunks' is a FIFO");
    pond_cas_ref v;
    PT_ASSERT_ERR(pond_cas_verify(&v, cas, &refs[2].sha256), POND_ECORRUPT);
    leave_victim_alone(cas, refs, 3, victim);
    /* the links and the FIFO are still there: gc removes only its own regular files */
    struct stat st;
    PT_ASSERT(lstat(bp0, &st) == 0 && S_ISLNK(st.st_mode));
    PT_ASSERT(lstat(tp1, &st) == 0 && S_ISLNK(st.st_mode));
    PT_ASSERT(lstat(tp2, &st) == 0 && S_ISFIFO(st.st_mode));
    /* a writer needs tmp/: refused by name, nothing written into the victim */
    uint8_t data[300];
    ct_fill(data, sizeof data, 9);
    pond_cas_ref ref;
    PT_ASSERT_ERR(pond_cas_put(&ref, cas, data, sizeof data), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("/lf/tmp' is a symbolic link");
    PT_ASSERT(pt_tree_sum(victim) == before);
    /* the store directory itself a link: one misplaced entry, nothing entered or created */
    pond_cas_free(cas);
    char lf[4300], lf2[4300];
    snprintf(lf, sizeof lf, "%s/lf", PT_TMPDIR());
    snprintf(lf2, sizeof lf2, "%s/lf-real", PT_TMPDIR());
    PT_ASSERT_INT_EQ(rename(lf, lf2), 0);
    PT_ASSERT_INT_EQ(symlink("victim", lf), 0);
    cas = ct_store("lf", 64, 4, false);
    s = walk(cas);
    PT_ASSERT_INT_EQ(s.misplaced, 1);
    PT_ASSERT_STR_EQ(s.misplaced_paths, "[]");
    PT_ASSERT_INT_EQ(s.blobs + s.temps, 0);
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &refs[0]), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("/lf' is a symbolic link");
    PT_ASSERT_ERR(pond_cas_put(&ref, cas, data, sizeof data), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_cas_remove(NULL, NULL, cas, &refs[0].sha256, 0), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_cas_remove_stale_temps(NULL, NULL, cas, 0), POND_ECORRUPT);
    PT_ASSERT(pt_tree_sum(victim) == before);
    free(bp0);
    free(tp1);
    free(tp2);
    pond_free(victim);
    pond_cas_free(cas);
}

static void test_fifo_lock_and_strays(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, false);
    pond_cas_ref ref;
    put(&ref, cas, 5);
    /* a FIFO as the store's lock file: refused by name, never waited on */
    char lock[4300], stray[4300], fifo_tmp[4300];
    snprintf(lock, sizeof lock, "%s/lf/.lock", PT_TMPDIR());
    PT_ASSERT_INT_EQ(unlink(lock), 0);
    PT_ASSERT_INT_EQ(mkfifo(lock, 0644), 0);
    PT_ASSERT_ERR(pond_cas_remove(NULL, NULL, cas, &ref.sha256, 0), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(".lock' is a FIFO");
    hostile_seen s = walk(cas);
    PT_ASSERT_INT_EQ(s.misplaced, 1);
    PT_ASSERT_INT_EQ(unlink(lock), 0);
    /* a stray regular file at the top and a FIFO with a writer's name in tmp/ */
    snprintf(stray, sizeof stray, "%s/lf/README", PT_TMPDIR());
    FILE *f = fopen(stray, "w");
    PT_ASSERT(f);
    fclose(f);
    ct_age(stray, 7200);
    snprintf(fifo_tmp, sizeof fifo_tmp, "%s/lf/tmp/5-5-55.data", PT_TMPDIR());
    PT_ASSERT_INT_EQ(mkfifo(fifo_tmp, 0644), 0);
    ct_age(fifo_tmp, 7200);
    s = walk(cas);
    PT_ASSERT_INT_EQ(s.others, 2);
    PT_ASSERT_INT_EQ(s.misplaced, 1); /* the FIFO: tmp/ is the store's own */
    size_t n = 9;
    PT_ASSERT_OK(pond_cas_remove_stale_temps(&n, NULL, cas, 0));
    PT_ASSERT_INT_EQ(n, 0);
    struct stat st;
    PT_ASSERT(lstat(fifo_tmp, &st) == 0 && lstat(stray, &st) == 0);
    bool removed = false;
    int64_t bytes = 0;
    PT_ASSERT_OK(pond_cas_remove(&removed, &bytes, cas, &ref.sha256, 0));
    PT_ASSERT(removed);
    PT_ASSERT(bytes > 300); /* the blob and its table */
    pond_cas_free(cas);
}

PT_SUITE(cas_hostile, PT_TEST(link_at_fan_out_dir), PT_TEST(links_at_tmp_blob_table_and_store),
         PT_TEST(fifo_lock_and_strays))
