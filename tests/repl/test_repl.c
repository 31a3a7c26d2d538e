/* Replication: the wire codec, remotes, and push/pull/clone/verify over the directory transport
 * (docs/replication.md). The SSH transport, kills at random points and a real sshd are tested
 * by the shell tests in tests/repl/; every mutating call of a push by the crash harness. */
#include "pt.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/repl.h>
#include <pond/sys/backend.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include "repl/repl_wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------- */

/* a + b in a fresh malloc string */
static char *cat2(const char *a, const char *b)
{
    char *p = malloc(strlen(a) + strlen(b) + 1);
    strcpy(p, a);
    strcat(p, b);
    return p;
}

static char *make_pond(const char *name, int64_t threshold)
{
    char *p = malloc(strlen(PT_TMPDIR()) + strlen(name) + 2);
    sprintf(p, "%s/%s", PT_TMPDIR(), name);
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = threshold;
    PT_ASSERT_OK(pond_oplog_create(p, &co));
    return p;
}

static char *sub(const char *name)
{
    char *p = malloc(strlen(PT_TMPDIR()) + strlen(name) + 2);
    sprintf(p, "%s/%s", PT_TMPDIR(), name);
    return p;
}

/* One transaction writing path with len bytes of a pattern (seeded). */
static void put(const char *dir, const char *path, size_t len, unsigned seed)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    char *buf = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)((i * 131 + seed * 7 + i / 251) & 0xff);
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, path, POND_ENTRY_FILE_DATA, buf, len));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    pond_backend_free(be);
    free(buf);
}

static void read_back(pond_buf *out, const char *dir, const char *path)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_buf_clear(out);
    PT_ASSERT_OK(pond_fs_read_all(out, fs, NULL, path));
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void fsck_clean(const char *dir)
{
    pond_backend *be = NULL;
    pond_fsck_report r;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_oplog_fsck(&r, be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(r.missing + r.corrupt, 0);
    pond_backend_free(be);
}

static int64_t head(const char *dir)
{
    int64_t v = -1;
    PT_ASSERT_OK(pond_delta_latest_version(&v, dir));
    return v;
}

/* A digest of every file under dir (name, size, bytes): "nothing changed" checks. */
static void tree_digest(pond_hash *out, const char *dir)
{
    pond_sha256 *h = NULL;
    PT_ASSERT_OK(pond_sha256_new(&h));
    char **stack = malloc(sizeof(char *) * 4096);
    size_t n = 0;
    stack[n++] = strdup(dir);
    while (n) {
        char *d = stack[--n];
        DIR *dd = opendir(d);
        struct dirent *e;
        char **names = NULL;
        size_t nn = 0;
        while (dd && (e = readdir(dd))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            names = realloc(names, (nn + 1) * sizeof *names);
            names[nn++] = strdup(e->d_name);
        }
        if (dd)
            closedir(dd);
        for (size_t i = 0; i + 1 < nn; i++) /* sort: readdir order is not stable */
            for (size_t j = i + 1; j < nn; j++)
                if (strcmp(names[i], names[j]) > 0) {
                    char *t = names[i];
                    names[i] = names[j];
                    names[j] = t;
                }
        for (size_t i = 0; i < nn; i++) {
            char *p = malloc(strlen(d) + strlen(names[i]) + 2);
            sprintf(p, "%s/%s", d, names[i]);
            struct stat st;
            PT_ASSERT(lstat(p, &st) == 0);
            pond_sha256_update(h, p, strlen(p));
            if (S_ISDIR(st.st_mode)) {
                stack[n++] = p;
                continue;
            }
            pond_buf b = POND_BUF_INIT;
            int fd = open(p, O_RDONLY);
            char chunk[65536];
            ssize_t k;
            while (fd >= 0 && (k = read(fd, chunk, sizeof chunk)) > 0)
                pond_sha256_update(h, chunk, (size_t)k);
            if (fd >= 0)
                close(fd);
            pond_buf_dispose(&b);
            free(p);
        }
        for (size_t i = 0; i < nn; i++)
            free(names[i]);
        free(names);
        free(d);
    }
    free(stack);
    PT_ASSERT_OK(pond_sha256_final(out, h));
    pond_sha256_free(h);
}

static void log_identical(const char *a, const char *b)
{
    int64_t hb = head(b);
    for (int64_t v = 0; v <= hb; v++) {
        char rel[64];
        snprintf(rel, sizeof rel, "/_delta_log/%020lld.json", (long long)v);
        char *pa = malloc(strlen(a) + 64), *pb = malloc(strlen(b) + 64);
        sprintf(pa, "%s%s", a, rel);
        sprintf(pb, "%s%s", b, rel);
        pond_buf x = POND_BUF_INIT, y = POND_BUF_INIT;
        FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
        PT_ASSERT(fa && fb);
        char c[4096];
        size_t k;
        while ((k = fread(c, 1, sizeof c, fa)) > 0)
            pond_buf_put(&x, c, k);
        while ((k = fread(c, 1, sizeof c, fb)) > 0)
            pond_buf_put(&y, c, k);
        fclose(fa);
        fclose(fb);
        PT_ASSERT_INT_EQ(x.size, y.size);
        PT_ASSERT(x.size == 0 || memcmp(x.ptr, y.ptr, x.size) == 0);
        pond_buf_dispose(&x);
        pond_buf_dispose(&y);
        free(pa);
        free(pb);
    }
}

/* ---- the wire codec --------------------------------------------------------------------- */

static void test_wire_roundtrip(void)
{
    pond_buf b = POND_BUF_INIT;
    repl_obj objs[3] = {{.kind = REPL_COMMIT, .version = 7, .size = 100},
                        {.kind = REPL_BLOB, .size = 1 << 20},
                        {.kind = REPL_DATA, .size = 5000, .has_sha = true}};
    strcpy(objs[2].path,
           "part_id=01a24df4-cd8d-7a6c-859a-256f432f3f6e/00000000000000000003-0a1b2c3d.parquet");
    memset(objs[1].sha256.bytes, 0xab, 32);
    memset(objs[1].root.bytes, 0xcd, 32);
    for (int i = 0; i < 3; i++)
        PT_ASSERT_OK(pond_repl_obj_check(&objs[i]));
    pond_wire_begin(&b, W_HAVE);
    pond_wire_u32(&b, 3);
    for (int i = 0; i < 3; i++)
        pond_wire_obj(&b, &objs[i]);
    wire_msg m;
    PT_ASSERT_OK(pond_wire_decode(&m, (const uint8_t *)b.ptr, b.size));
    PT_ASSERT_INT_EQ(m.type, W_HAVE);
    PT_ASSERT_INT_EQ(m.n, 3);
    PT_ASSERT_STR_EQ(m.objs[0].path, "_delta_log/00000000000000000007.json");
    PT_ASSERT_STR_EQ(m.objs[1].path, "_large_files/ab/"
                                     "abababababababababababababababababababababababababababababab"
                                     "abab");
    PT_ASSERT_STR_EQ(m.objs[2].path, objs[2].path);
    PT_ASSERT_MEM_EQ(m.objs[1].root.bytes, objs[1].root.bytes, 32);
    pond_wire_msg_dispose(&m);
    /* every strict prefix is refused, naming the message */
    for (size_t cut = 1; cut < b.size; cut++) {
        PT_ASSERT_ERR(pond_wire_decode(&m, (const uint8_t *)b.ptr, cut), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("have message");
    }
    /* trailing bytes */
    pond_buf_putc(&b, 0);
    PT_ASSERT_ERR(pond_wire_decode(&m, (const uint8_t *)b.ptr, b.size), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("trailing");
    /* more items than the bound */
    pond_wire_begin(&b, W_HAVES);
    pond_wire_u32(&b, WIRE_MAX_ITEMS + 1);
    PT_ASSERT_ERR(pond_wire_decode(&m, (const uint8_t *)b.ptr, b.size), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("too many items");
    /* an unknown type, an empty frame, an error frame with a positive code */
    uint8_t unknown[] = {77, 1};
    PT_ASSERT_ERR(pond_wire_decode(&m, unknown, 2), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("unknown message type 77");
    PT_ASSERT_ERR(pond_wire_decode(&m, unknown, 0), POND_ECORRUPT);
    pond_wire_begin(&b, W_ERROR);
    pond_wire_u32(&b, 5);
    pond_wire_str(&b, "x");
    PT_ASSERT_ERR(pond_wire_decode(&m, (const uint8_t *)b.ptr, b.size), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("not an error code");
    pond_buf_dispose(&b);
}

static void test_wire_paths_refused(void)
{
    static const char *const bad[] = {
        "../x.parquet",
        "part_id=01a24df4-cd8d-7a6c-859a-256f432f3f6e/../../etc/passwd.parquet",
        "part_id=01a24df4-cd8d-7a6c-859a-256f432f3f6e/.hidden.parquet",
        "part_id=01a24df4-cd8d-7a6c-859a-256f432f3f6e/a/b.parquet",
        "part_id=not-a-uuid/x.parquet",
        "part_id=01a24df4-cd8d-7a6c-859a-256f432f3f6e/x.json",
        "/etc/passwd",
        ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        repl_obj o = {.kind = REPL_DATA, .size = 1};
        strcpy(o.path, bad[i]);
        PT_ASSERT_ERR(pond_repl_obj_check(&o), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("not a data file path");
        /* and on the wire */
        pond_buf b = POND_BUF_INIT;
        pond_wire_begin(&b, W_GET);
        pond_wire_obj(&b, &o);
        wire_msg m;
        PT_ASSERT_ERR(pond_wire_decode(&m, (const uint8_t *)b.ptr, b.size), POND_ECORRUPT);
        pond_buf_dispose(&b);
    }
    repl_obj neg = {.kind = REPL_COMMIT, .version = -1};
    PT_ASSERT_ERR(pond_repl_obj_check(&neg), POND_ECORRUPT);
}

/* A server over a pipe pair, fed a hostile stream: it answers with an error, never crashes,
 * and writes nothing outside the pond. */
static void test_server_refuses_garbage(void)
{
    char *dir = make_pond("p", 1024);
    int to[2], from[2];
    PT_ASSERT(pipe(to) == 0 && pipe(from) == 0);
    /* a frame claiming 16 MiB, then nothing */
    uint8_t hdr[4] = {0, 0, 0, 1};
    PT_ASSERT(write(to[1], hdr, 4) == 4);
    close(to[1]);
    PT_ASSERT_ERR(pond_repl_serve(to[0], from[1], dir), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("(bound 1048577)");
    close(to[0]);
    close(from[1]);
    /* the server told the client why */
    char buf[512];
    ssize_t k = read(from[0], buf, sizeof buf);
    PT_ASSERT(k > 5 && buf[4] == W_ERROR);
    close(from[0]);
    free(dir);
}

/* Writes frames to a file the way a peer writes them to the pipe; returns the file's path. */
static char *frames_file(const char *name, const uint8_t *data, const size_t *lens, size_t n,
                         bool end, wire_type after)
{
    char *path = pond__path_join(PT_TMPDIR(), name);
    PT_ASSERT(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    PT_ASSERT(fd >= 0);
    wire_conn c;
    PT_ASSERT_OK(pond_wire_conn_init(&c, -1, fd, "test"));
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_wire_send_data(&c, W_DATA, data + off, lens[i]));
        off += lens[i];
    }
    pond_buf b = POND_BUF_INIT;
    if (end) {
        pond_wire_begin(&b, W_END);
        PT_ASSERT_OK(pond_wire_send(&c, &b));
    }
    pond_wire_begin(&b, after);
    PT_ASSERT_OK(pond_wire_send(&c, &b));
    PT_ASSERT_OK(pond_wire_flush(&c));
    pond_buf_dispose(&b);
    pond_wire_conn_dispose(&c);
    close(fd);
    return path;
}

/* An object's content read as a stream (what the server hands the large-file store): DATA
 * payloads land in the reader's buffer across reads of any size, an empty DATA frame is
 * skipped, END ends it and the next message reads as usual. A 1 MiB frame is within version
 * 2's bound and over version 1's (256 KiB), both for the stream and for a whole-frame read;
 * another message where content should continue is refused. */
static void test_wire_read_data(void)
{
    size_t lens[] = {1000, 0, WIRE_MAX_DATA, 3};
    size_t total = 1000 + WIRE_MAX_DATA + 3;
    uint8_t *data = malloc(total), *got = malloc(total + 1);
    PT_ASSERT(data && got);
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 11));
    char *path = frames_file("stream", data, lens, 4, true, W_DONE);
    static const size_t caps[] = {7, 3 * 65536, 100000, 1};
    wire_conn c;
    int fd = open(path, O_RDONLY);
    PT_ASSERT(fd >= 0);
    PT_ASSERT_OK(pond_wire_conn_init(&c, fd, -1, "test"));
    pond_wire_set_version(&c, 2);
    size_t have = 0, n;
    for (size_t i = 0;; i++) {
        size_t cap = caps[i % POND_ARRAY_LEN(caps)];
        PT_ASSERT_OK(pond_wire_read_data(&c, got + have, POND_MIN(cap, total - have + 1), &n));
        if (n == 0)
            break;
        PT_ASSERT(n <= cap);
        have += n;
    }
    PT_ASSERT_INT_EQ(have, total);
    PT_ASSERT_MEM_EQ(got, data, total);
    wire_msg m;
    PT_ASSERT_OK(pond_wire_recv(&c, &m));
    PT_ASSERT_INT_EQ(m.type, W_DONE);
    pond_wire_conn_dispose(&c);
    close(fd);
    /* version 1 (the default until HELLO): the 1 MiB frame is over the bound */
    fd = open(path, O_RDONLY);
    PT_ASSERT_OK(pond_wire_conn_init(&c, fd, -1, "test"));
    PT_ASSERT_OK(pond_wire_read_data(&c, got, total, &n));
    PT_ASSERT_INT_EQ(n, 1000);
    PT_ASSERT_ERR(pond_wire_read_data(&c, got, total, &n), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("data frame of 1048576 bytes (bound 262144 at version 1)");
    pond_wire_conn_dispose(&c);
    close(fd);
    pond_free(path);
    /* the same frame read whole, at version 1 and at version 2 */
    size_t one[] = {WIRE_MAX_DATA};
    path = frames_file("big", data, one, 1, true, W_DONE);
    for (unsigned v = 1; v <= 2; v++) {
        fd = open(path, O_RDONLY);
        PT_ASSERT_OK(pond_wire_conn_init(&c, fd, -1, "test"));
        pond_wire_set_version(&c, v);
        if (v == 1) {
            PT_ASSERT_ERR(pond_wire_recv(&c, &m), POND_ECORRUPT);
            PT_ASSERT_MSG_HAS("(bound 262144 at version 1)");
        } else {
            PT_ASSERT_OK(pond_wire_recv(&c, &m));
            PT_ASSERT_INT_EQ(m.data_len, WIRE_MAX_DATA);
            PT_ASSERT_MEM_EQ(m.data, data, WIRE_MAX_DATA);
            pond_wire_msg_dispose(&m);
        }
        pond_wire_conn_dispose(&c);
        close(fd);
    }
    pond_free(path);
    /* content that stops without END */
    size_t two[] = {10, 20};
    path = frames_file("noend", data, two, 2, false, W_SYNC);
    fd = open(path, O_RDONLY);
    PT_ASSERT_OK(pond_wire_conn_init(&c, fd, -1, "test"));
    PT_ASSERT_OK(pond_wire_read_data(&c, got, total, &n));
    PT_ASSERT_INT_EQ(n, 10);
    PT_ASSERT_OK(pond_wire_read_data(&c, got, 5, &n));
    PT_ASSERT_INT_EQ(n, 5);
    /* a message may not be read inside a data frame */
    PT_ASSERT_ERR(pond_wire_recv(&c, &m), POND_ECORRUPT);
    PT_ASSERT_OK(pond_wire_read_data(&c, got, total, &n));
    PT_ASSERT_INT_EQ(n, 15);
    PT_ASSERT_ERR(pond_wire_read_data(&c, got, total, &n), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("without END (a sync frame");
    pond_wire_conn_dispose(&c);
    close(fd);
    pond_free(path);
    free(data);
    free(got);
}

/* HELLO: the server answers with the highest version both speak (a version-1 client gets 1,
 * and its DATA bound), and refuses a client that speaks none of its versions, by name. */
static void test_wire_versions(void)
{
    char *dir = make_pond("p", 1024);
    static const uint32_t ranges[][3] = {{1, 1, 1}, {1, 2, 2}, {2, 9, 2}, {3, 4, 0}};
    for (size_t i = 0; i < POND_ARRAY_LEN(ranges); i++) {
        int to[2], from[2];
        PT_ASSERT(pipe(to) == 0 && pipe(from) == 0);
        wire_conn c;
        PT_ASSERT_OK(pond_wire_conn_init(&c, from[0], to[1], "test"));
        pond_buf b = POND_BUF_INIT;
        pond_wire_begin(&b, W_HELLO);
        pond_wire_str(&b, WIRE_MAGIC);
        pond_wire_u32(&b, ranges[i][0]);
        pond_wire_u32(&b, ranges[i][1]);
        pond_wire_str(&b, "test");
        PT_ASSERT_OK(pond_wire_send(&c, &b));
        pond_wire_begin(&b, W_BYE);
        PT_ASSERT_OK(pond_wire_send(&c, &b));
        PT_ASSERT_OK(pond_wire_flush(&c));
        close(to[1]);
        int rc = pond_repl_serve(to[0], from[1], dir);
        close(to[0]);
        close(from[1]);
        wire_msg m;
        PT_ASSERT_OK(pond_wire_recv(&c, &m));
        if (ranges[i][2]) {
            PT_ASSERT_OK(rc);
            PT_ASSERT_INT_EQ(m.type, W_HELLO_OK);
            PT_ASSERT_INT_EQ(m.i[0], ranges[i][2]);
        } else {
            PT_ASSERT_ERR(rc, POND_EUNSUPPORTED);
            PT_ASSERT_INT_EQ(m.type, W_ERROR);
            PT_ASSERT(strstr(m.s1, "speaks versions 3..4, this pond 1..2") != NULL);
        }
        pond_wire_msg_dispose(&m);
        pond_wire_conn_dispose(&c);
        pond_buf_dispose(&b);
        close(from[0]);
    }
    free(dir);
}

/* Requests out of order: a write before OPEN, or to a pond opened for reading, ends the
 * session with an error and writes nothing. */
static void serve_script(const char *dir, wire_type second, int mode, const char *want)
{
    int to[2], from[2];
    PT_ASSERT(pipe(to) == 0 && pipe(from) == 0);
    wire_conn c;
    PT_ASSERT_OK(pond_wire_conn_init(&c, from[0], to[1], "test"));
    pond_buf b = POND_BUF_INIT;
    pond_wire_begin(&b, W_HELLO);
    pond_wire_str(&b, WIRE_MAGIC);
    pond_wire_u32(&b, 1);
    pond_wire_u32(&b, 1);
    pond_wire_str(&b, "test");
    PT_ASSERT_OK(pond_wire_send(&c, &b));
    if (mode >= 0) {
        pond_wire_begin(&b, W_OPEN);
        pond_wire_u8(&b, (uint8_t)mode);
        PT_ASSERT_OK(pond_wire_send(&c, &b));
    }
    repl_obj o = {.kind = REPL_COMMIT, .version = 0, .size = 4};
    PT_ASSERT_OK(pond_repl_obj_check(&o));
    pond_wire_begin(&b, second);
    if (second == W_PUT)
        pond_wire_obj(&b, &o);
    else if (second == W_OPEN)
        pond_wire_u8(&b, REPL_OPEN_READ);
    PT_ASSERT_OK(pond_wire_send(&c, &b));
    PT_ASSERT_OK(pond_wire_send_data(&c, W_DATA, "abcd", 4));
    pond_wire_begin(&b, W_END);
    PT_ASSERT_OK(pond_wire_send(&c, &b));
    PT_ASSERT_OK(pond_wire_flush(&c));
    close(to[1]);
    PT_ASSERT_ERR(pond_repl_serve(to[0], from[1], dir), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(want);
    close(to[0]);
    close(from[1]);
    pond_wire_conn_dispose(&c);
    close(from[0]);
    pond_buf_dispose(&b);
}

static void test_server_order(void)
{
    char *dir = make_pond("p", 1024);
    pond_hash before, after;
    tree_digest(&before, dir);
    serve_script(dir, W_PUT, -1, "a request before OPEN");
    serve_script(dir, W_PUT, REPL_OPEN_READ, "a write to a pond opened for reading");
    serve_script(dir, W_OPEN, REPL_OPEN_READ, "a second OPEN");
    tree_digest(&after, dir);
    PT_ASSERT(pond_hash_equal(&before, &after));
    free(dir);
}

/* ---- remotes ------------------------------------------------------------------------------- */

static void test_remotes_file(void)
{
    char *dir = make_pond("p", 1024);
    PT_ASSERT_OK(pond_remote_add(dir, "usb", "/mnt/usb/b.pond", NULL));
    PT_ASSERT_OK(pond_remote_add(dir, "host", "ssh://me@h:2222/srv/p", "/opt/pond"));
    PT_ASSERT_ERR(pond_remote_add(dir, "usb", "/x", NULL), POND_EEXISTS);
    PT_ASSERT_ERR(pond_remote_add(dir, "bad name", "/x", NULL), POND_EINVALID);
    PT_ASSERT_ERR(pond_remote_add(dir, "x", "ftp://h/x", NULL), POND_EUNSUPPORTED);
    PT_ASSERT_ERR(pond_remote_add(dir, "x", "ssh://h", NULL), POND_EINVALID);
    PT_ASSERT_ERR(pond_remote_add(dir, "x", "ssh://-oProxyCommand=x/p", NULL), POND_EINVALID);
    pond_remote *v = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_remote_list(&v, &n, dir));
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_STR_EQ(v[0].name, "host");
    PT_ASSERT_STR_EQ(v[0].exec, "/opt/pond");
    PT_ASSERT_INT_EQ(v[1].version, -1);
    pond_free(v);
    PT_ASSERT_OK(pond_remote_set_version(dir, "usb", 12));
    pond_remote r;
    PT_ASSERT_OK(pond_remote_get(&r, dir, "usb"));
    PT_ASSERT_INT_EQ(r.version, 12);
    PT_ASSERT_OK(pond_remote_remove(dir, "usb"));
    PT_ASSERT_ERR(pond_remote_get(&r, dir, "usb"), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("remotes: host");
    /* a damaged file is an error naming it and the line, never a guess */
    char *rp = cat2(dir, "/_host/remotes");
    FILE *f = fopen(rp, "a");
    fputs("oops\n", f);
    fclose(f);
    PT_ASSERT_ERR(pond_remote_list(&v, &n, dir), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("line 3");
    free(rp);
    free(dir);
}

/* ---- push, pull, clone over the directory transport ------------------------------------ */

static void test_push_clone_pull(void)
{
    char *src = make_pond("src", 1024), *remote = sub("remote.pond"), *clone = sub("clone");
    put(src, "/small", 100, 1);
    put(src, "/big", 300000, 2);  /* a blob */
    put(src, "/big2", 300000, 2); /* the same blob */
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    PT_ASSERT(r.created);
    PT_ASSERT_INT_EQ(r.commits, 4);
    PT_ASSERT_INT_EQ(r.blobs, 1);
    PT_ASSERT_INT_EQ(r.to_version, 3);
    log_identical(src, remote);
    fsck_clean(remote);
    /* nothing new: nothing sent */
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    PT_ASSERT_INT_EQ(r.commits + r.data_files + r.blobs + r.bytes, 0);
    /* incremental */
    put(src, "/small", 50, 3);
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    PT_ASSERT_INT_EQ(r.commits, 1);
    PT_ASSERT_INT_EQ(r.blobs, 0);
    PT_ASSERT_INT_EQ(r.from_version, 3);
    log_identical(src, remote);
    /* clone, change the clone, push it back, pull into the source */
    PT_ASSERT_OK(pond_repl_clone(&r, remote, clone, NULL));
    pond_remote origin;
    PT_ASSERT_OK(pond_remote_get(&origin, clone, "origin"));
    PT_ASSERT_INT_EQ(origin.version, 4);
    put(clone, "/from-clone", 70000, 9);
    PT_ASSERT_OK(pond_repl_push(&r, clone, remote, NULL));
    PT_ASSERT_OK(pond_repl_pull(&r, src, remote, NULL));
    PT_ASSERT_INT_EQ(r.to_version, 5);
    pond_buf a = POND_BUF_INIT, b = POND_BUF_INIT;
    read_back(&a, src, "/from-clone");
    read_back(&b, clone, "/from-clone");
    PT_ASSERT_INT_EQ(a.size, 70000);
    PT_ASSERT_MEM_EQ(a.ptr, b.ptr, a.size);
    read_back(&a, clone, "/big");
    PT_ASSERT_INT_EQ(a.size, 300000);
    log_identical(src, clone);
    fsck_clean(src);
    pond_buf_dispose(&a);
    pond_buf_dispose(&b);
    free(src);
    free(remote);
    free(clone);
}

static void test_divergence_refused_unchanged(void)
{
    char *a = make_pond("a", 1024), *b = sub("b");
    put(a, "/f", 10, 1);
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_clone(&r, a, b, NULL));
    put(a, "/x", 10, 2);
    put(b, "/y", 10, 3);
    put(b, "/z", 10, 4);
    pond_hash da, db, da2, db2;
    tree_digest(&da, a);
    tree_digest(&db, b);
    PT_ASSERT_ERR(pond_repl_push(&r, a, b, NULL), POND_ECONFLICT);
    PT_ASSERT_MSG_HAS("last common transaction 1, remote head 3, local head 2");
    PT_ASSERT_ERR(pond_repl_pull(&r, a, b, NULL), POND_ECONFLICT);
    PT_ASSERT_MSG_HAS("diverged");
    PT_ASSERT_ERR(pond_repl_push(&r, b, a, NULL), POND_ECONFLICT);
    pond_repl_status st;
    PT_ASSERT_OK(pond_repl_compare(&st, a, b, NULL));
    PT_ASSERT_INT_EQ(st.relation, POND_REPL_DIVERGED);
    PT_ASSERT_INT_EQ(st.common, 1);
    tree_digest(&da2, a);
    tree_digest(&db2, b);
    PT_ASSERT(pond_hash_equal(&da, &da2));
    PT_ASSERT(pond_hash_equal(&db, &db2));
    /* a remote that is only ahead is refused for push, and pulled */
    char *c = sub("c");
    PT_ASSERT_OK(pond_repl_clone(&r, b, c, NULL));
    put(b, "/w", 10, 5);
    PT_ASSERT_ERR(pond_repl_push(&r, c, b, NULL), POND_ECONFLICT);
    PT_ASSERT_MSG_HAS("the remote is ahead");
    PT_ASSERT_OK(pond_repl_pull(&r, c, b, NULL));
    /* another pond altogether */
    char *d = make_pond("d", 1024);
    put(d, "/q", 10, 6);
    PT_ASSERT_ERR(pond_repl_push(&r, d, a, NULL), POND_ECONFLICT);
    PT_ASSERT_MSG_HAS("a different pond");
    free(a);
    free(b);
    free(c);
    free(d);
}

static void flip(const char *path, long off)
{
    chmod(path, 0644);
    int fd = open(path, O_RDWR);
    PT_ASSERT(fd >= 0);
    unsigned char c;
    PT_ASSERT(pread(fd, &c, 1, off) == 1);
    c ^= 0x40;
    PT_ASSERT(pwrite(fd, &c, 1, off) == 1);
    close(fd);
}

/* The first file under dir/sub whose name ends with suffix (and, for blobs, has no dot). */
static char *find_file(const char *dir, const char *suffix, bool blob)
{
    char *root = cat2(dir, blob ? "/_large_files" : "");
    DIR *d = opendir(root);
    struct dirent *e;
    char *found = NULL;
    while (!found && d && (e = readdir(d))) {
        if (e->d_name[0] == '.' ||
            (blob ? strlen(e->d_name) != 2 : strncmp(e->d_name, "part_id=", 8) != 0))
            continue;
        char *sd = malloc(strlen(root) + strlen(e->d_name) + 2);
        sprintf(sd, "%s/%s", root, e->d_name);
        DIR *d2 = opendir(sd);
        struct dirent *f;
        while (!found && d2 && (f = readdir(d2))) {
            size_t n = strlen(f->d_name);
            if (f->d_name[0] == '.' || (blob && strchr(f->d_name, '.')) ||
                (!blob && (n < strlen(suffix) || strcmp(f->d_name + n - strlen(suffix), suffix))))
                continue;
            found = malloc(strlen(sd) + n + 2);
            sprintf(found, "%s/%s", sd, f->d_name);
        }
        if (d2)
            closedir(d2);
        free(sd);
    }
    if (d)
        closedir(d);
    free(root);
    PT_ASSERT(found);
    return found;
}

typedef struct {
    int corrupt, missing, differs;
    char all[8192];
} seen;

static void on_problem(const char *kind, const char *msg, void *payload)
{
    seen *s = payload;
    s->corrupt += !strcmp(kind, "corrupt");
    s->missing += !strcmp(kind, "missing");
    s->differs += !strcmp(kind, "differs");
    size_t l = strlen(s->all);
    snprintf(s->all + l, sizeof s->all - l, "%s %s\n", kind, msg);
}

static void test_corrupt_remote_verify_and_pull(void)
{
    char *src = make_pond("src", 1024), *remote = sub("remote"), *clone = sub("clone");
    put(src, "/big", 300000, 2);
    put(src, "/small", 10, 1);
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    PT_ASSERT_OK(pond_repl_clone(&r, remote, clone, NULL));
    pond_repl_verify_report vr;
    seen s = {0};
    PT_ASSERT_OK(pond_repl_verify(&vr, src, remote, on_problem, &s, NULL));
    PT_ASSERT_INT_EQ(vr.commits_compared, 3);
    /* one blob byte, one data file byte */
    char *blob = find_file(remote, "", true), *data = find_file(remote, ".parquet", false);
    flip(blob, 1000);
    flip(data, 40);
    PT_ASSERT_ERR(pond_repl_verify(&vr, src, remote, on_problem, &s, NULL), POND_ECORRUPT);
    const char *bn = strrchr(blob, '/') + 1, *dn = strrchr(data, '/') + 1;
    PT_ASSERT(strstr(s.all, bn) != NULL);
    PT_ASSERT(strstr(s.all, dn) != NULL);
    PT_ASSERT(vr.fsck.corrupt >= 2);
    /* a pull or clone from it refuses the corrupt bytes and takes nothing corrupt */
    char *c2 = sub("c2");
    PT_ASSERT_ERR(pond_repl_clone(&r, remote, c2, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("refused");
    PT_ASSERT(!pond_oplog_is_pond(c2));
    /* repaired; then a newer commit in the remote whose blob is corrupt: pull refuses it */
    flip(blob, 1000);
    flip(data, 40);
    put(src, "/big3", 200000, 7);
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    char *blob3 = NULL;
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    pond_stat st;
    PT_ASSERT_OK(pond_oplog_open(&be, remote, NULL));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/big3"));
    pond_oplog_storage so;
    PT_ASSERT_OK(pond_oplog_storage_of(&so, be, &st.id, st.version));
    blob3 = malloc(strlen(remote) + strlen(so.blob_path) + 2);
    sprintf(blob3, "%s/%s", remote, so.blob_path);
    pond_fs_free(fs);
    pond_backend_free(be);
    flip(blob3, 5);
    int64_t before = head(clone);
    PT_ASSERT_ERR(pond_repl_pull(&r, clone, remote, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("does not match its SHA-256");
    PT_ASSERT_INT_EQ(head(clone), before);
    fsck_clean(clone);
    free(blob);
    free(blob3);
    free(data);
    free(src);
    free(remote);
    free(clone);
    free(c2);
}

/* An interrupted push (an I/O error at every mutating call in turn) leaves the remote at a
 * transaction of the source, fsck clean, and the next push completes without sending again
 * what arrived. */
static void test_push_interrupted_resumes(void)
{
    char *src = make_pond("src", 1024), *remote = sub("remote");
    put(src, "/a", 100, 1);
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    put(src, "/big", 300000, 2);
    put(src, "/b", 100, 3);
    put(src, "/big2", 400000, 4);
    int64_t want = head(src);
    char *tmpl = sub("template"), cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", remote, tmpl);
    PT_ASSERT(system(cmd) == 0);
    /* how many mutating calls a push makes here */
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s.count'", tmpl, remote);
    PT_ASSERT(system(cmd) == 0);
    char *counted = cat2(remote, ".count");
    pond_os_calls_reset();
    PT_ASSERT_OK(pond_repl_push(&r, src, counted, NULL));
    static const pond_os_call mut[] = {POND_OS_WRITE,     POND_OS_PWRITE,  POND_OS_FSYNC,
                                       POND_OS_FTRUNCATE, POND_OS_RENAME,  POND_OS_LINK,
                                       POND_OS_UNLINK,    POND_OS_MKDIR,   POND_OS_RMDIR,
                                       POND_OS_SYNCFS,    POND_OS_UNLINKAT};
    int total = 0;
    for (size_t k = 0; k < sizeof mut / sizeof mut[0]; k++)
        total += (int)pond_os_calls(mut[k]);
    free(counted);
    PT_ASSERT(total > 20);
    /* from the same old remote each time, an error at mutating call n: about 30 points spread
     * over all of them (every one in the crash harness's full run) */
    bool completed = false;
    int resumed_with_some = 0;
    int stride = total / (pt_light() ? 4 : 16) + 1;
    for (int n = 1; n <= total + 1 && !completed; n += n + stride > total ? 1 : stride) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", remote, tmpl, remote);
        PT_ASSERT(system(cmd) == 0);
        pond_os_fault_at(POND_OS__COUNT, (uint64_t)n, POND_FAULT_ERRNO, EIO, false);
        int rc = pond_repl_push(&r, src, remote, NULL);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        /* a failure of a clean-up call (a temp file's unlink) may go unreported */
        if (!fired) {
            PT_ASSERT_OK(rc);
            completed = true;
        }
        int64_t h = head(remote);
        PT_ASSERT(h >= 1 && h <= want);
        fsck_clean(remote);
        log_identical(src, remote);
        if (rc < 0) { /* and the next push completes, not sending again what arrived */
            PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
            resumed_with_some += r.already > 0;
        }
        PT_ASSERT_INT_EQ(head(remote), want);
        fsck_clean(remote);
    }
    PT_ASSERT(completed);
    PT_ASSERT(resumed_with_some > 0);
    free(tmpl);
    free(src);
    free(remote);
}

/* A lease keeps what a push in progress reads, whatever gc's retention says; without it gc
 * frees those files (the regression this guards). Retention itself still runs: time travel
 * reads the newest snapshot, so --at below the oldest complete transaction is refused by name,
 * but every data file and blob of the leased versions stays, and a push reading them from
 * version 1 on is not cut short. */
static void test_lease_holds_gc(void)
{
    char *src = make_pond("src", 1024);
    put(src, "/big", 300000, 1);
    put(src, "/big", 300000, 2); /* version 2 replaces the blob of version 1 */
    put(src, "/f", 10, 3);
    pond_oplog_lease *l = NULL;
    PT_ASSERT_OK(pond_oplog_lease_take(&l, src, 1, "test"));
    int64_t oldest;
    PT_ASSERT_OK(pond_oplog_lease_oldest(&oldest, src));
    PT_ASSERT_INT_EQ(oldest, 1);
    pond_backend *be = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, src, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.keep_versions = 1;
    o.grace_us = 0;
    pond_gc_report gr;
    PT_ASSERT_OK(pond_oplog_gc(&gr, be, &o));
    PT_ASSERT(gr.versions_dropped >= 1);
    PT_ASSERT_INT_EQ(gr.blobs_removed, 0);
    PT_ASSERT_INT_EQ(gr.data_files_removed, 0);
    pond_backend_free(be);
    /* every version from 1 on still has its data files (as the Delta snapshots list them) */
    for (int64_t v = 1; v <= head(src); v++) {
        pond_delta_table *t = NULL;
        pond_delta_open_options dop = POND_DELTA_OPEN_OPTIONS_INIT;
        dop.at_version = v;
        PT_ASSERT_OK(pond_delta_table_open(&t, src, &dop));
        int vrc = pond_delta_table_verify(t, POND_DELTA_VERIFY_FILES);
        pond_delta_table_free(t);
        PT_ASSERT_OK(vrc);
    }
    /* and their blobs: a push of every transaction from 1 on is not cut short */
    char *remote = sub("remote");
    pond_repl_report rr;
    PT_ASSERT_OK(pond_repl_push(&rr, src, remote, NULL));
    PT_ASSERT_INT_EQ(rr.start_checkpoint, -1);
    PT_ASSERT_INT_EQ(rr.blobs, 2);
    PT_ASSERT_INT_EQ(head(remote), head(src));
    fsck_clean(remote);
    pond_buf b = POND_BUF_INIT;
    read_back(&b, remote, "/big");
    PT_ASSERT_INT_EQ(b.size, 300000);
    pond_buf_dispose(&b);
    /* time travel below what retention kept is refused by name, not misread */
    pond_backend *old = NULL;
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = 1;
    PT_ASSERT_ERR(pond_oplog_open(&old, src, &oo), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("is no longer kept");
    free(remote);
    /* released: the next gc frees them */
    pond_oplog_lease_release(l);
    PT_ASSERT_OK(pond_oplog_lease_oldest(&oldest, src));
    PT_ASSERT_INT_EQ(oldest, -1);
    PT_ASSERT_OK(pond_oplog_open(&be, src, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    PT_ASSERT_OK(pond_oplog_gc(&gr, be, &o));
    PT_ASSERT(gr.blobs_removed + gr.data_files_removed > 0);
    pond_backend_free(be);
    fsck_clean(src);
    free(src);
}

/* The source dropped, by retention, data files the remote still lacks: the push starts the
 * remote from a checkpoint after them, and says so. */
static void test_retention_starts_from_checkpoint(void)
{
    char *src = make_pond("src", 1024), *remote = sub("remote");
    put(src, "/f", 10, 0);
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    for (unsigned i = 1; i <= 6; i++)
        put(src, "/f", 10 + i, i);
    pond_backend *be = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, src, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.keep_versions = 1;
    o.grace_us = 0;
    pond_gc_report gr;
    PT_ASSERT_OK(pond_oplog_gc(&gr, be, &o));
    PT_ASSERT(gr.data_files_removed > 0);
    pond_backend_free(be);
    /* no checkpoint after the gap yet: refused, naming the gap, the remote unchanged */
    int64_t rh = head(remote);
    int rc = pond_repl_push(&r, src, remote, NULL);
    if (rc == 0) {
        PT_ASSERT(r.start_checkpoint >= 0);
    } else {
        PT_ASSERT_ERR(rc, POND_ENOTFOUND);
        PT_ASSERT_MSG_HAS("checkpoint");
        PT_ASSERT_INT_EQ(head(remote), rh);
        /* commits up to the next checkpoint (every 20) */
        while (head(src) < 20)
            put(src, "/g", 5, (unsigned)head(src));
        PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
        PT_ASSERT_INT_EQ(r.start_checkpoint, 20);
    }
    PT_ASSERT_INT_EQ(head(remote), head(src));
    fsck_clean(remote);
    pond_buf a = POND_BUF_INIT;
    read_back(&a, remote, "/f");
    PT_ASSERT_INT_EQ(a.size, 16);
    pond_buf_dispose(&a);
    free(src);
    free(remote);
}

/* A pond of a format this build does not know is neither sent nor received into. */
static void test_other_format_refused(void)
{
    char *a = make_pond("a", 1024), *b = sub("b");
    put(a, "/f", 10, 1);
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_clone(&r, a, b, NULL));
    char *c0 = cat2(b, "/_delta_log/00000000000000000000.json");
    FILE *f = fopen(c0, "rb");
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, "\"pond.format\":\"2\"");
    PT_ASSERT(at != NULL);
    at[15] = '9';
    f = fopen(c0, "wb");
    fwrite(text, 1, n, f);
    fclose(f);
    put(a, "/g", 10, 2);
    pond_hash before, after;
    tree_digest(&before, b);
    PT_ASSERT_ERR(pond_repl_push(&r, a, b, NULL), POND_EUNSUPPORTED);
    PT_ASSERT_MSG_HAS("of format '9'");
    PT_ASSERT_ERR(pond_repl_pull(&r, a, b, NULL), POND_EUNSUPPORTED);
    PT_ASSERT_MSG_HAS("pond format '9' is not supported");
    tree_digest(&after, b);
    PT_ASSERT(pond_hash_equal(&before, &after));
    free(c0);
    free(a);
    free(b);
}

/* Every version of node at path, in order, equals want[0..n). */
static void expect_versions(const char *dir, const char *path, const char *const *want, size_t n)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_stat *v = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_versions(&v, &nv, fs, NULL, path));
    PT_ASSERT_INT_EQ(nv, n);
    for (size_t k = 0; k < n; k++) {
        pond_reader *rd = NULL;
        PT_ASSERT_OK(pond_fs_open_reader_version(&rd, fs, NULL, path, v[k].version));
        size_t len = strlen(want[k]);
        PT_ASSERT_INT_EQ(pond_reader_size(rd), (int64_t)len);
        char got[64] = {0};
        int rc = pond_reader_read_exact(rd, got, len);
        pond_reader_free(rd);
        PT_ASSERT_OK(rc);
        PT_ASSERT_STR_EQ(got, want[k]);
    }
    pond_free(v);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void move_and_write(const char *dir, const char *from, const char *to, const char *body)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, from, to));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    if (body) {
        PT_ASSERT_OK(pond_fs_begin(fs, NULL));
        PT_ASSERT_OK(pond_fs_write_all(fs, NULL, to, POND_ENTRY_NONE, body, strlen(body)));
        PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    }
    pond_fs_free(fs);
    pond_backend_free(be);
}

static const char *format_of(char out[8], const char *dir)
{
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    const char *f = pond_delta_table_config(t, "pond.format");
    snprintf(out, 8, "%s", f ? f : "");
    pond_delta_table_free(t);
    return out;
}

/* A moved file keeps its versions in its home partition (format 2): a push and a clone copy
 * those files as they are, and the remote reads every version where the listing says, also
 * after the home directory was removed. A format-1 remote behind its source is fast-forwarded
 * through the commit that upgraded the source to format 2. */
static void test_push_moved_file_format_2(void)
{
    char *src = make_pond("src", 1024), *remote = sub("remote"), *clone = sub("clone");
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, src, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/a", 0));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/b", 0));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a/f", POND_ENTRY_FILE_DATA, "one", 3));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a/f", POND_ENTRY_NONE, "two!", 4));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    pond_backend_free(be);
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    move_and_write(src, "/a/f", "/b/f", "three");
    PT_ASSERT_OK(pond_oplog_open(&be, src, NULL));
    PT_ASSERT_OK(pond_oplog_lock(be, true));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_remove(fs, NULL, "/a", true));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    pond_backend_free(be);
    const char *const want[] = {"one", "two!", "three"};
    expect_versions(src, "/b/f", want, 3);
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    PT_ASSERT_OK(pond_repl_clone(&r, src, clone, NULL));
    expect_versions(remote, "/b/f", want, 3);
    expect_versions(clone, "/b/f", want, 3);
    log_identical(src, remote);
    fsck_clean(remote);
    fsck_clean(clone);
    /* a format-1 pond (tests/data/pond-format1), cloned while format 1, then upgraded by a
     * move across directories: the next push carries the upgrade */
    char *old = sub("old"), *old_remote = sub("old-remote"), cmd[9000], f[8];
    snprintf(cmd, sizeof cmd, "cp -R '%s/tests/data/pond-format1' '%s'", pt_source_dir(), old);
    PT_ASSERT(system(cmd) == 0);
    PT_ASSERT_OK(pond_repl_clone(&r, old, old_remote, NULL));
    PT_ASSERT_STR_EQ(format_of(f, old_remote), "1");
    move_and_write(old, "/d/f", "/old/f", "three");
    PT_ASSERT_STR_EQ(format_of(f, old), "2");
    PT_ASSERT_OK(pond_repl_push(&r, old, old_remote, NULL));
    PT_ASSERT_STR_EQ(format_of(f, old_remote), "2");
    const char *const want_old[] = {"one", "two!", "three"};
    expect_versions(old_remote, "/old/f", want_old, 3);
    log_identical(old, old_remote);
    fsck_clean(old_remote);
    free(old);
    free(old_remote);
    free(src);
    free(remote);
    free(clone);
}

static void write_aged(const char *path, const char *text, int64_t age_s)
{
    FILE *f = fopen(path, "wb");
    PT_ASSERT(f);
    fputs(text, f);
    fclose(f);
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= age_s;
    ts[1] = ts[0];
    PT_ASSERT(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

/* `_host/` is pond's own in fsck's and gc's walk: remotes, leases and incoming transfers are
 * not foreign; a transfer's temp file is a young or stale temp (gc removes a stale one, only
 * that); anything else there is foreign and left alone. */
static void test_host_dir_is_ponds_own(void)
{
    char *src = make_pond("src", 1024), *remote = sub("remote");
    put(src, "/f", 10, 1);
    PT_ASSERT_OK(pond_remote_add(src, "backup", remote, NULL));
    pond_repl_report r;
    PT_ASSERT_OK(pond_repl_push(&r, src, remote, NULL));
    PT_ASSERT_OK(pond_remote_set_version(src, "backup", r.to_version));
    char *inc = cat2(remote, "/_host/incoming"), *stale = cat2(inc, "/4242-1-0badf00d.tmp"),
         *young = cat2(inc, "/4242-2-0badf00d.tmp"), *notes = cat2(remote, "/_host/notes.txt");
    PT_ASSERT(mkdir(inc, 0755) == 0 || errno == EEXIST);
    write_aged(stale, "stale", 7200);
    write_aged(young, "young", 0);
    write_aged(notes, "notes", 7200);
    const char *dirs[] = {src, remote};
    for (int k = 0; k < 2; k++) {
        pond_backend *be = NULL;
        pond_fsck_report fr;
        PT_ASSERT_OK(pond_oplog_open(&be, dirs[k], NULL));
        PT_ASSERT_OK(pond_oplog_fsck(&fr, be, NULL, NULL, NULL));
        PT_ASSERT_INT_EQ(fr.misplaced, 0);
        PT_ASSERT_INT_EQ(fr.foreign, k); /* notes.txt in the remote's _host/ only */
        PT_ASSERT_INT_EQ(fr.stale_temps, k);
        PT_ASSERT_INT_EQ(fr.young_temps, k);
        PT_ASSERT_OK(pond_oplog_lock(be, true));
        pond_gc_options o = POND_GC_OPTIONS_INIT;
        pond_gc_report gr;
        PT_ASSERT_OK(pond_oplog_gc(&gr, be, &o));
        PT_ASSERT_INT_EQ(gr.temps_removed, k);
        pond_backend_free(be);
    }
    struct stat st;
    PT_ASSERT(stat(stale, &st) < 0 && errno == ENOENT);
    PT_ASSERT(stat(young, &st) == 0);
    PT_ASSERT(stat(notes, &st) == 0);
    pond_remote back;
    PT_ASSERT_OK(pond_remote_get(&back, src, "backup"));
    PT_ASSERT_INT_EQ(back.version, head(src));
    free(inc);
    free(stale);
    free(young);
    free(notes);
    free(src);
    free(remote);
}

PT_SUITE(repl, PT_TEST(wire_roundtrip), PT_TEST(wire_paths_refused), PT_TEST(wire_read_data),
         PT_TEST(wire_versions), PT_TEST(server_refuses_garbage), PT_TEST(server_order),
         PT_TEST(remotes_file), PT_TEST(push_clone_pull), PT_TEST(divergence_refused_unchanged),
         PT_TEST(corrupt_remote_verify_and_pull), PT_TEST(push_interrupted_resumes),
         PT_TEST(lease_holds_gc), PT_TEST(retention_starts_from_checkpoint),
         PT_TEST(other_format_refused), PT_TEST(push_moved_file_format_2),
         PT_TEST(host_dir_is_ponds_own))
