/* Differential test: the same random operations on the memory backend and on the on-disk
 * oplog backend (with a tiny large-file threshold, so the store is exercised) must leave
 * identical trees: names, types, versions (every one of each file), sizes, hashes, contents and
 * symlink targets, after
 * every transaction, and again after reopening the pond from disk. */
#include "pt.h"

#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    pond_backend *be;
    pond_fs *fs;
} side;

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static const char *const NAMES[] = {"a", "b", "c", "d"};

static void random_path(char *out, size_t cap, unsigned *s)
{
    int depth = 1 + (int)(rnd(s) % 3);
    size_t o = 0;
    for (int i = 0; i < depth; i++)
        o += (size_t)snprintf(out + o, cap - o, "/%s", NAMES[rnd(s) % 4]);
}

/* One random operation, applied to both sides; both must agree on success or failure. */
static void random_op(side *sd, unsigned *s, char *buf)
{
    char p[64], q[64];
    random_path(p, sizeof p, s);
    random_path(q, sizeof q, s);
    int kind = (int)(rnd(s) % 10);
    size_t len = rnd(s) % 700; /* threshold is 256: about two thirds go to the store */
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + (rnd(s) % 3)); /* few distinct contents: dedup happens */
    int rc[2];
    for (int k = 0; k < 2; k++) {
        pond_fs *fs = sd[k].fs;
        switch (kind) {
        case 0:
        case 1:
            rc[k] = pond_fs_mkdir(fs, NULL, p, POND_FS_MKDIR_PARENTS);
            break;
        case 2:
        case 3:
        case 4:
            rc[k] = pond_fs_write_all(fs, NULL, p, POND_ENTRY_FILE_DATA, buf, len);
            break;
        case 5:
            rc[k] = pond_fs_remove(fs, NULL, p, true);
            break;
        case 6:
            rc[k] = pond_fs_rename(fs, NULL, p, q);
            break;
        case 7:
            rc[k] = pond_fs_symlink(fs, NULL, q, p);
            break;
        case 8:
            rc[k] = pond_fs_set_xattrs(fs, NULL, p, len % 2 ? "{\"k\":1}" : NULL);
            break;
        default:
            rc[k] = pond_fs_write_all(fs, NULL, p, POND_ENTRY_FILE_TABLE, buf, len);
            break;
        }
    }
    if ((rc[0] < 0) != (rc[1] < 0) || (rc[0] < 0 && rc[0] != rc[1]))
        pt_fail(__FILE__, __LINE__, "op %d on %s (%s): memory %d, oplog %d", kind, p, q, rc[0],
                rc[1]);
}

/* Appends a canonical description of the tree under path to out. */
static void describe(pond_buf *out, pond_fs *fs, const char *path)
{
    pond_fs_dirent *e;
    size_t n;
    PT_ASSERT_OK(pond_fs_readdir(&e, &n, fs, NULL, path));
    for (size_t i = 0; i < n; i++) {
        char child[512];
        snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") ? path : "", e[i].name);
        pond_stat st;
        PT_ASSERT_OK(pond_fs_lstat(&st, fs, NULL, child));
        char hex[65];
        pond_hash_hex(hex, &st.sha256);
        pond_buf_printf(out, "%s %s v%lld size %lld %s", child, pond_entry_type_name(st.type),
                        (long long)st.version, (long long)st.size,
                        st.type == POND_ENTRY_DIRECTORY ? "" : hex);
        if (st.type != POND_ENTRY_SYMLINK) { /* (xattrs of a path follow a final symlink) */
            char *x = NULL;
            PT_ASSERT_OK(pond_fs_get_xattrs(&x, fs, NULL, child));
            pond_buf_printf(out, " x=%s", x ? x : "-");
            pond_free(x);
        }
        if (st.type == POND_ENTRY_SYMLINK) {
            char *t = NULL;
            PT_ASSERT_OK(pond_fs_readlink(&t, fs, NULL, child));
            pond_buf_printf(out, " -> %s", t);
            pond_free(t);
        } else if (st.type != POND_ENTRY_DIRECTORY) {
            pond_buf content = POND_BUF_INIT;
            pond_reader *r;
            PT_ASSERT_OK(pond_fs_open_reader_version(&r, fs, NULL, child, st.version));
            char tmp[1024];
            size_t got;
            while (pond_reader_read(r, tmp, sizeof tmp, &got) == 0 && got)
                pond_buf_put(&content, tmp, got);
            pond_reader_free(r);
            pond_hash h;
            pond_sha256_buf(&h, content.ptr ? content.ptr : "", content.size);
            PT_ASSERT((int64_t)content.size == st.size);
            PT_ASSERT(pond_hash_equal(&h, &st.sha256)); /* the bytes are the bytes hashed */
            pond_buf_dispose(&content);
            /* every version, wherever the node was moved since (issue 14) */
            pond_stat *v = NULL;
            size_t nv = 0;
            PT_ASSERT_OK(pond_fs_versions(&v, &nv, fs, NULL, child));
            for (size_t k = 0; k < nv; k++) {
                pond_hash_hex(hex, &v[k].sha256);
                pond_buf_printf(out, " v%lld:%.8s", (long long)v[k].version, hex);
                PT_ASSERT_OK(pond_fs_open_reader_version(&r, fs, NULL, child, v[k].version));
                PT_ASSERT(pond_reader_size(r) == v[k].size);
                pond_reader_free(r);
            }
            pond_free(v);
        }
        pond_buf_putc(out, '\n');
        if (st.type == POND_ENTRY_DIRECTORY)
            describe(out, fs, child);
    }
    pond_fs_dirents_free(e, n);
}

static void compare(side *sd)
{
    pond_buf a = POND_BUF_INIT, b = POND_BUF_INIT;
    describe(&a, sd[0].fs, "/");
    describe(&b, sd[1].fs, "/");
    PT_ASSERT_STR_EQ(b.ptr ? b.ptr : "", a.ptr ? a.ptr : "");
    pond_buf_dispose(&a);
    pond_buf_dispose(&b);
}

static void test_memory_vs_oplog(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 256;
    co.threshold_table = 256;
    PT_ASSERT_OK(pond_oplog_create(dir, &co));
    side sd[2];
    PT_ASSERT_OK(pond_backend_memory_new(&sd[0].be));
    PT_ASSERT_OK(pond_oplog_open(&sd[1].be, dir, NULL));
    for (int k = 0; k < 2; k++)
        PT_ASSERT_OK(pond_fs_open(&sd[k].fs, sd[k].be, NULL));
    unsigned seed = 20261124;
    int txns = pt_light() ? 40 : 1000, ops = 0;
    char *buf = malloc(1024);
    for (int t = 0; t < txns; t++) {
        for (int k = 0; k < 2; k++)
            PT_ASSERT_OK(pond_fs_begin(sd[k].fs, NULL));
        int n = 1 + (int)(rnd(&seed) % 6);
        for (int i = 0; i < n; i++, ops++)
            random_op(sd, &seed, buf);
        bool abort_it = rnd(&seed) % 8 == 0;
        for (int k = 0; k < 2; k++) {
            if (abort_it)
                pond_fs_abort(sd[k].fs);
            else
                PT_ASSERT_OK(pond_fs_commit(NULL, sd[k].fs));
        }
        compare(sd);
        if (t % 50 == 49) { /* the disk side, read back from disk */
            pond_fs_free(sd[1].fs);
            pond_backend_free(sd[1].be);
            PT_ASSERT_OK(pond_oplog_open(&sd[1].be, dir, NULL));
            PT_ASSERT_OK(pond_fs_open(&sd[1].fs, sd[1].be, NULL));
            compare(sd);
        }
    }
    printf("  differential: %d transactions, %d operations, trees identical\n", txns, ops);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, sd[1].be, NULL, NULL, NULL));
    free(buf);
    for (int k = 0; k < 2; k++) {
        pond_fs_free(sd[k].fs);
        pond_backend_free(sd[k].be);
    }
}

PT_SUITE(oplog_differential, PT_TEST(memory_vs_oplog))
