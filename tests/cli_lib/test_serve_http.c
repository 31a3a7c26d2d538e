/* pond serve over HTTP, in this process (serve_start on a free loopback port, requests from a
 * plain socket): the query string and path as they arrive (percent-encoding, '+', NUL bytes,
 * traversal, oversized and repeated values), errors that never name the pond's host
 * directory, and /api/log's pages. tests/serve/ covers the rest end to end. */
#include "serve/serve.h"

#include "pt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char dir[4096];
    serve_config cfg;
    serve_server *srv;
    unsigned port;
} env;

static void put_file(pond_fs *fs, const char *path, const char *text)
{
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, path, POND_ENTRY_FILE_DATA, text, strlen(text)));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
}

/* A pond with /d/h.txt, /d/é x.txt and a few more transactions; the server on it. */
static void env_start(env *e, int extra_txns)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(e->dir, sizeof e->dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(e->dir, NULL));
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, e->dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    put_file(fs, "/d/h.txt", "hello\n");
    put_file(fs, "/d/\xc3\xa9 x.txt", "accent\n");
    for (int i = 0; i < extra_txns; i++)
        put_file(fs, "/d/n.txt", "more\n");
    pond_fs_free(fs);
    pond_backend_free(be);
    e->cfg = (serve_config){.pond_dir = e->dir,
                            .at_txn = -1,
                            .listen = "127.0.0.1:0",
                            .max_connections = 8,
                            .max_response = 1 << 20,
                            .max_request = 64 << 10,
                            .sql_ms = 2000,
                            .timeout_s = 5};
    PT_ASSERT_OK(serve_start(&e->srv, &e->port, &e->cfg));
    PT_ASSERT(e->port > 0);
}

typedef struct {
    int status;
    pond_buf body;
    bool closed_without_answer;
} answer;

/* Sends raw bytes as a request and reads the answer to the end (Connection: close). */
static void http_raw(answer *a, const env *e, const char *req, size_t len)
{
    memset(a, 0, sizeof *a);
    a->body = (pond_buf)POND_BUF_INIT;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    PT_ASSERT(fd >= 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)e->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    PT_ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close early on an oversized request */
        off += (size_t)n;
    }
    pond_buf all = POND_BUF_INIT;
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        PT_ASSERT_OK(pond_buf_put(&all, buf, (size_t)n));
    }
    close(fd);
    if (all.size < 12 || strncmp(all.ptr, "HTTP/1.1 ", 9) != 0) {
        a->closed_without_answer = true;
    } else {
        a->status = atoi(all.ptr + 9);
        PT_ASSERT_OK(pond_buf_putc(&all, '\0'));
        const char *sep = strstr(all.ptr, "\r\n\r\n");
        if (sep)
            PT_ASSERT_OK(pond_buf_puts(&a->body, sep + 4));
    }
    PT_ASSERT_OK(pond_buf_putc(&a->body, '\0'));
    pond_buf_dispose(&all);
}

static void http_get(answer *a, const env *e, const char *target)
{
    pond_buf req = POND_BUF_INIT;
    PT_ASSERT_OK(
        pond_buf_printf(&req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target));
    http_raw(a, e, req.ptr, req.size);
    pond_buf_dispose(&req);
}

static void env_stop(env *e) { serve_stop(e->srv); }

#define GET_EXPECT(e, target, want_status, needle)                                                 \
    do {                                                                                           \
        answer a_;                                                                                 \
        http_get(&a_, (e), (target));                                                              \
        if (a_.status != (want_status) || !strstr(a_.body.ptr, (needle)))                          \
            pt_fail(__FILE__, __LINE__, "GET %s: %d %s (want %d with \"%s\")", (target),           \
                    a_.status, a_.body.ptr, (want_status), (needle));                              \
        if (strstr(a_.body.ptr, (e)->dir))                                                         \
            pt_fail(__FILE__, __LINE__, "GET %s names the pond's directory: %s", (target),         \
                    a_.body.ptr);                                                                  \
        pond_buf_dispose(&a_.body);                                                                \
    } while (0)

static void test_encoding(void)
{
    env e;
    env_start(&e, 0);
    GET_EXPECT(&e, "/api/read?path=/d/h.txt", 200, "hello\n");
    GET_EXPECT(&e, "/api/read?path=%2Fd%2Fh%2Etxt", 200, "hello\n");
    /* UTF-8 and a blank, percent-encoded or as '+' */
    GET_EXPECT(&e, "/api/read?path=/d/%C3%A9%20x.txt", 200, "accent\n");
    GET_EXPECT(&e, "/api/read?path=/d/%C3%A9+x.txt", 200, "accent\n");
    /* a NUL byte would cut the path short: refused, not read as /d/h.txt */
    GET_EXPECT(&e, "/api/read?path=/d/h.txt%00/../../../etc/passwd", 400, "NUL byte");
    GET_EXPECT(&e, "/api/read?pa%00th=/d/h.txt", 400, "NUL byte");
    /* malformed escapes stay literal text (no such file) */
    GET_EXPECT(&e, "/api/read?path=/d/h.txt%zz", 404, "");
    GET_EXPECT(&e, "/api/read?path=/d/%C3", 400, "not valid UTF-8");
    /* unknown and repeated parameters are refused, never ignored */
    GET_EXPECT(&e, "/api/read?path=/d/h.txt&colums=v", 400, "takes no parameter 'colums'");
    GET_EXPECT(&e, "/api/read?path=/d/h.txt&path=/d/n.txt", 400, "path: given twice");
    GET_EXPECT(&e, "/api/nothing", 404, "no such API");
    GET_EXPECT(&e, "/api/read/../list", 404, "no such API");
    env_stop(&e);
}

static void test_traversal(void)
{
    env e;
    env_start(&e, 0);
    static const char *const tries[] = {
        "/api/read?path=../../../../etc/passwd",
        "/api/read?path=/../../../../etc/passwd",
        "/api/read?path=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/read?path=/d/../../../etc/passwd",
        "/api/list?path=/../../..",
        "/api/read?path=/_delta_log/00000000000000000000.json",
        "/api/describe?path=/d/h.txt/../../../etc",
    };
    for (size_t i = 0; i < sizeof tries / sizeof *tries; i++) {
        answer a;
        http_get(&a, &e, tries[i]);
        if (a.status != 404 && a.status != 400 && !(a.status == 200 && strstr(tries[i], "list")))
            pt_fail(__FILE__, __LINE__, "%s: %d %s", tries[i], a.status, a.body.ptr);
        PT_ASSERT(!strstr(a.body.ptr, "root:"));
        PT_ASSERT(!strstr(a.body.ptr, e.dir));
        pond_buf_dispose(&a.body);
    }
    /* .. stops at the pond's root: the listing of /../../.. is the root's */
    GET_EXPECT(&e, "/api/list?path=/../../..", 200, "\"path\":\"/d\"");
    /* the UI's files come from the binary: nothing else answers */
    static const char *const pages[] = {"/ui/../../../../etc/passwd", "/../../etc/passwd",
                                        "/%2e%2e/%2e%2e/etc/passwd", "/ui/%2e%2e/index.html",
                                        "/_delta_log/"};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
        GET_EXPECT(&e, pages[i], 404, "no such page");
    /* an escaped NUL would end the decoded path early and serve /ui/index.html */
    GET_EXPECT(&e, "/ui/index.html%00.png", 400, "NUL byte");
    GET_EXPECT(&e, "/api/list%00x?path=/", 400, "NUL byte");
    GET_EXPECT(&e, "/", 200, "<html");
    env_stop(&e);
}

static void test_oversized(void)
{
    env e;
    env_start(&e, 0);
    /* a request line past --max-request (64 KiB): refused, and the server goes on */
    size_t big = 128 << 10;
    char *target = malloc(big + 64);
    PT_ASSERT(target);
    strcpy(target, "/api/read?path=/");
    memset(target + 16, 'a', big);
    target[16 + big] = '\0';
    answer a;
    http_get(&a, &e, target);
    PT_ASSERT(a.closed_without_answer || a.status == 414 || a.status == 431 || a.status == 400);
    pond_buf_dispose(&a.body);
    /* a header past it likewise */
    pond_buf req = POND_BUF_INIT;
    PT_ASSERT_OK(pond_buf_puts(&req, "GET /api/list HTTP/1.1\r\nHost: x\r\nX-Big: "));
    for (size_t i = 0; i < big / 64; i++)
        PT_ASSERT_OK(pond_buf_puts(
            &req, "0123456789012345678901234567890123456789012345678901234567890123"));
    PT_ASSERT_OK(pond_buf_puts(&req, "\r\nConnection: close\r\n\r\n"));
    http_raw(&a, &e, req.ptr, req.size);
    PT_ASSERT(a.closed_without_answer || a.status == 431 || a.status == 413 || a.status == 400);
    pond_buf_dispose(&a.body);
    pond_buf_dispose(&req);
    /* a value under the bound is read whole: a path too long for tinyfs, not a cut one */
    memset(target + 16, 'b', 8000);
    target[16 + 8000] = '\0';
    http_get(&a, &e, target);
    PT_ASSERT_INT_EQ(a.status, 400);
    PT_ASSERT(strstr(a.body.ptr, "longer than"));
    pond_buf_dispose(&a.body);
    /* more parameters than the server reads */
    pond_buf many = POND_BUF_INIT;
    PT_ASSERT_OK(pond_buf_puts(&many, "/api/list?path=/"));
    for (int i = 0; i < 300; i++)
        PT_ASSERT_OK(pond_buf_printf(&many, "&x%d=1", i));
    GET_EXPECT(&e, many.ptr, 400, "more than 256 parameters");
    pond_buf_dispose(&many);
    /* a request body, and methods other than GET and HEAD */
    const char post[] = "POST /api/list HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                        "Connection: close\r\n\r\nhello";
    http_raw(&a, &e, post, sizeof post - 1);
    PT_ASSERT_INT_EQ(a.status, 413);
    pond_buf_dispose(&a.body);
    const char del[] = "DELETE /api/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    http_raw(&a, &e, del, sizeof del - 1);
    PT_ASSERT_INT_EQ(a.status, 405);
    pond_buf_dispose(&a.body);
    /* garbage instead of HTTP */
    const char junk[] = "\x01\x02\x03 not http\r\n\r\n";
    http_raw(&a, &e, junk, sizeof junk - 1);
    PT_ASSERT(a.closed_without_answer || a.status == 400);
    pond_buf_dispose(&a.body);
    /* and the server still answers */
    GET_EXPECT(&e, "/api/read?path=/d/h.txt", 200, "hello");
    free(target);
    env_stop(&e);
}

static void test_response_bound(void)
{
    env e;
    env_start(&e, 0);
    serve_stop(e.srv);
    e.cfg.max_response = 4;
    PT_ASSERT_OK(serve_start(&e.srv, &e.port, &e.cfg));
    GET_EXPECT(&e, "/api/read?path=/d/h.txt", 413, "larger than the server's limit of 4 B");
    env_stop(&e);
}

/* /api/log: pages of transactions, newest first, that together are the whole log. */
static void test_log_pages(void)
{
    env e;
    env_start(&e, 5);
    pond_oplog_history_options o = POND_OPLOG_HISTORY_OPTIONS_INIT;
    pond_oplog_txn *t = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_oplog_history(&t, &n, e.dir, &o));
    int64_t latest = t[0].txn;
    PT_ASSERT_INT_EQ(n, latest + 1);
    PT_ASSERT(n >= 9);
    char want_head[96];
    snprintf(want_head, sizeof want_head, "{\"txn\":%lld,\"entries\":[{\"txn\":%lld,\"time\":\"",
             (long long)latest, (long long)latest);
    GET_EXPECT(&e, "/api/log", 200, want_head);
    char target[128] = "/api/log?limit=4";
    int64_t want = latest;
    int pages = 0;
    for (;;) {
        answer a;
        http_get(&a, &e, target);
        PT_ASSERT_INT_EQ(a.status, 200);
        const char *p = a.body.ptr;
        while ((p = strstr(p, "{\"txn\":")) != NULL) {
            long long v = atoll(p + 7);
            if (p != a.body.ptr) { /* the entries, not the header */
                PT_ASSERT_INT_EQ(v, want);
                PT_ASSERT(t[latest - want].has_info);
                want--;
            }
            p += 7;
        }
        pages++;
        const char *nb = strstr(a.body.ptr, "\"next_before\":");
        PT_ASSERT(nb);
        if (!strncmp(nb + 14, "null", 4)) {
            pond_buf_dispose(&a.body);
            break;
        }
        snprintf(target, sizeof target, "/api/log?limit=4&before=%lld", atoll(nb + 14));
        pond_buf_dispose(&a.body);
        PT_ASSERT(pages < 10);
    }
    PT_ASSERT_INT_EQ(want, -1);
    PT_ASSERT_INT_EQ(pages, (int)((n + 3) / 4));
    GET_EXPECT(&e, "/api/log?before=0", 200, "\"entries\":[],\"next_before\":null");
    GET_EXPECT(&e, "/api/log?limit=0", 200, "\"entries\":[]");
    /* a command recorded with the commit is shown */
    GET_EXPECT(&e, "/api/log?limit=1&before=1", 200, "{\"txn\":0,");
    pond_oplog_history_free(t, n);
    /* --at N: the log stops at N */
    serve_stop(e.srv);
    e.cfg.at_txn = 3;
    PT_ASSERT_OK(serve_start(&e.srv, &e.port, &e.cfg));
    GET_EXPECT(&e, "/api/log?limit=1", 200, "{\"txn\":3,\"entries\":[{\"txn\":3,");
    GET_EXPECT(&e, "/api/log?before=100&limit=1", 200, "\"entries\":[{\"txn\":3,");
    env_stop(&e);
}

/* What the lease file says at the end of a request, after everything was read. */
typedef struct {
    const char *dir;
    int64_t oldest;
    int rc, calls;
} lease_probe;

static void probe_lease(void *p)
{
    lease_probe *lp = p;
    lp->calls++;
    lp->rc = pond_oplog_lease_oldest(&lp->oldest, lp->dir);
}

/* A request holds its snapshot lease until its answer is spooled, and only until then. The
 * check runs inside the request (the server's hook, after the answer is spooled): polling from
 * another thread depends on the scheduler, and under valgrind (one thread runs at a time)
 * the poller was starved for the whole request in CI. */
static void test_lease_held(void)
{
    env e;
    env_start(&e, 0);
    serve_stop(e.srv);
    lease_probe lp = {e.dir, -2, 0, 0};
    e.cfg.sql_ms = 400;
    e.cfg.before_release = probe_lease;
    e.cfg.hook_payload = &lp;
    PT_ASSERT_OK(serve_start(&e.srv, &e.port, &e.cfg));
    lp.calls = 0; /* the start opens (and puts back) one handle */
    int64_t latest = -1, oldest = 0;
    PT_ASSERT_OK(pond_delta_latest_version(&latest, e.dir));
    PT_ASSERT_OK(pond_oplog_lease_oldest(&oldest, e.dir));
    PT_ASSERT_INT_EQ(oldest, -1);
    /* a query that runs to its time limit, and a plain listing */
    answer a;
    http_get(&a, &e,
             "/api/query?sql=WITH+RECURSIVE+c(x)+AS+(SELECT+1+UNION+ALL+SELECT+x%2B1+FROM+c)"
             "+SELECT+max(x)+FROM+c");
    PT_ASSERT_INT_EQ(a.status, 503);
    pond_buf_dispose(&a.body);
    PT_ASSERT_INT_EQ(lp.calls, 1);
    PT_ASSERT_OK(lp.rc);
    PT_ASSERT_INT_EQ(lp.oldest, latest);
    PT_ASSERT_OK(pond_oplog_lease_oldest(&oldest, e.dir));
    PT_ASSERT_INT_EQ(oldest, -1);
    lp.oldest = -2;
    http_get(&a, &e, "/api/read?path=/d/h.txt");
    PT_ASSERT_INT_EQ(a.status, 200);
    pond_buf_dispose(&a.body);
    PT_ASSERT_INT_EQ(lp.calls, 2);
    PT_ASSERT_INT_EQ(lp.oldest, latest);
    PT_ASSERT_OK(pond_oplog_lease_oldest(&oldest, e.dir));
    PT_ASSERT_INT_EQ(oldest, -1);
    env_stop(&e);
}

PT_SUITE(serve_http, PT_TEST(encoding), PT_TEST(traversal), PT_TEST(oversized),
         PT_TEST(response_bound), PT_TEST(log_pages), PT_TEST(lease_held))
