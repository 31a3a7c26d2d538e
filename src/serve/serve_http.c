/* pond serve: the HTTP side (docs/serve.md, "Security model" and "Limits").
 *
 * libmicrohttpd runs one thread per connection (bounded by --max-connections): a slow client
 * holds only its own thread, and an idle one is dropped after --timeout. A request borrows a
 * pond handle from a pool for the time it computes its answer: the handle is brought up to
 * the newest transaction incrementally (pond_oplog_refresh) and no other request uses it
 * meanwhile, so an answer is one whole transaction's state. The answer is spooled (memory,
 * then an unlinked temporary file) up to --max-response before anything is sent, so a
 * response over the bound is a 413, never a truncated 200; the handle goes back to the pool
 * before the bytes go out. */
#include "serve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SPOOL_MEM (1u << 20)
#define COOKIE "pond_token"

/* ---- the pool of pond handles ------------------------------------------------------------ */

typedef struct handle {
    pond_backend *be;
    pond_fs *fs;
    struct handle *next;
} handle;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static handle *pool_free;
static const serve_config *g_cfg;

static void handle_free(handle *h)
{
    if (!h)
        return;
    pond_fs_free(h->fs);
    pond_backend_free(h->be);
    free(h);
}

static int handle_get(handle **out)
{
    pthread_mutex_lock(&pool_mu);
    handle *h = pool_free;
    if (h)
        pool_free = h->next;
    pthread_mutex_unlock(&pool_mu);
    int rc = 0;
    if (!h) {
        pond_oplog_options o = POND_OPLOG_OPTIONS_INIT;
        o.as_of_txn = g_cfg->at_txn;
        if (!(h = calloc(1, sizeof *h)))
            return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
        if ((rc = pond_oplog_open(&h->be, g_cfg->pond_dir, &o)) == 0)
            rc = pond_fs_open(&h->fs, h->be, NULL);
    } else if (g_cfg->at_txn < 0) {
        rc = pond_oplog_refresh(NULL, h->be); /* the newest transaction, incrementally */
    }
    if (rc < 0) {
        handle_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

static void handle_put(handle *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&pool_mu);
    h->next = pool_free;
    pool_free = h;
    pthread_mutex_unlock(&pool_mu);
}

/* ---- a request ------------------------------------------------------------------------------ */

struct serve_req {
    struct MHD_Connection *c;
    handle *h;
    int status;
    const char *type;
    char hname[2][32], hval[2][512];
    int n_headers;
    /* the spool */
    pond_buf mem;
    int fd;
    int64_t size;
    bool over;
    bool has_body;
};

const char *serve_arg(serve_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
    const char *name;
    const char **v;
    size_t n, cap;
    int rc;
} args_ctx;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    args_ctx *a = cls;
    if (!key || strcmp(key, a->name) != 0)
        return MHD_YES;
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        const char **v = pond_realloc(a->v, cap * sizeof *v);
        if (!v) {
            a->rc = POND_ENOMEM;
            return MHD_NO;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = value ? value : "";
    a->v[a->n] = NULL;
    return MHD_YES;
}

int serve_args(const char ***out, serve_req *r, const char *name)
{
    args_ctx a = {name, NULL, 0, 0, 0};
    MHD_get_connection_values(r->c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    if (a.rc == 0 && !a.v && !(a.v = pond_calloc(1, sizeof *a.v)))
        a.rc = POND_ENOMEM;
    if (a.rc < 0) {
        pond_free(a.v);
        return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
    }
    *out = a.v;
    return 0;
}

pond_fs *serve_fs(serve_req *r) { return r->h->fs; }
pond_backend *serve_backend(serve_req *r) { return r->h->be; }
const serve_config *serve_cfg(serve_req *r) { (void)r; return g_cfg; }
void serve_set_type(serve_req *r, const char *t) { r->type = t; }

void serve_set_header(serve_req *r, const char *name, const char *value)
{
    if (r->n_headers < 2) {
        snprintf(r->hname[r->n_headers], sizeof r->hname[0], "%s", name);
        snprintf(r->hval[r->n_headers], sizeof r->hval[0], "%s", value);
        r->n_headers++;
    }
}

static void spool_reset(serve_req *r)
{
    pond_buf_clear(&r->mem);
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->size = 0;
}

int serve_body_write(const void *data, size_t len, void *payload)
{
    serve_req *r = payload;
    char lim[32];
    if (r->size + (int64_t)len > g_cfg->max_response) {
        r->over = true;
        pond_format_size(lim, g_cfg->max_response);
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "the response is larger than the server's limit of %s "
                              "(narrow it with from, to, columns or limit)", lim);
    }
    if (r->fd < 0 && r->mem.size + len > SPOOL_MEM) { /* spill to an unlinked file */
        const char *tmp = getenv("TMPDIR");
        char path[4200];
        snprintf(path, sizeof path, "%s/pond-serve-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0)
            return pond_error_set(POND_EIO, POND_DOM_CLI, "no room to spool the response: %s",
                                  strerror(errno));
        unlink(path);
        r->fd = fd;
        if (r->mem.size && write(fd, r->mem.ptr, r->mem.size) != (ssize_t)r->mem.size)
            return pond_error_set(POND_EIO, POND_DOM_CLI, "spooling the response: %s",
                                  strerror(errno));
        pond_buf_clear(&r->mem);
    }
    if (r->fd >= 0) {
        const char *p = data;
        size_t left = len;
        while (left) {
            ssize_t n = write(r->fd, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return pond_error_set(POND_EIO, POND_DOM_CLI, "spooling the response: %s",
                                      strerror(errno));
            p += n;
            left -= (size_t)n;
        }
    } else if (pond_buf_put(&r->mem, data, len) < 0) {
        return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
    }
    r->size += (int64_t)len;
    return 0;
}

/* Messages name pond paths, never where the pond lies on the host: the pond directory is cut
 * out of every message. */
static void scrub(char *out, size_t cap, const char *msg)
{
    const char *dir = g_cfg->pond_dir;
    size_t dl = strlen(dir), n = 0;
    while (*msg && n + 1 < cap) {
        if (dl && !strncmp(msg, dir, dl)) {
            msg += dl;
            if (*msg == '/')
                msg++;
            const char *rep = *msg && *msg != '\'' && *msg != ' ' ? "" : "(the pond)";
            for (; *rep && n + 1 < cap; rep++)
                out[n++] = *rep;
            continue;
        }
        out[n++] = *msg++;
    }
    out[n] = '\0';
}

int serve_error(serve_req *r, int status, const char *fmt, ...)
{
    char raw[1024], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    scrub(msg, sizeof msg, raw);
    spool_reset(r);
    r->over = false;
    r->status = status;
    r->type = "application/json";
    r->n_headers = 0;
    pond_buf b = POND_BUF_INIT;
    pond_buf_puts(&b, "{\"error\":");
    pond_buf_put_json_string(&b, msg, strlen(msg));
    pond_buf_printf(&b, ",\"status\":%d}\n", status);
    pond_buf_put(&r->mem, b.ptr, b.size);
    r->size = (int64_t)b.size;
    pond_buf_dispose(&b);
    return 0;
}

int serve_fail(serve_req *r)
{
    const pond_error *e = pond_error_last();
    if (r->over)
        return serve_error(r, 413, "%s", e->message);
    int status = 500;
    switch (e->code) {
    case POND_ENOTFOUND: status = 404; break;
    case POND_EINVALID: case POND_ENOTDIR: case POND_EISDIR: case POND_ELOOP: status = 400; break;
    case POND_EUNSUPPORTED: status = 422; break;
    case POND_EBUSY: status = 503; break;
    default: break;
    }
    return serve_error(r, status, "%s", e->message);
}

/* ---- authentication --------------------------------------------------------------------- */

/* Constant time in the length of the token we hold: every byte is compared. */
static bool token_ok(const char *given)
{
    const char *t = g_cfg->token;
    size_t tl = strlen(t), gl = given ? strlen(given) : 0;
    unsigned char diff = (unsigned char)(tl != gl);
    for (size_t i = 0; i < tl; i++)
        diff |= (unsigned char)(t[i] ^ (i < gl ? given[i] : 0));
    return given && diff == 0;
}

static const char *cookie_token(struct MHD_Connection *c)
{
    return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
}

static const char *bearer(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    return h && !strncmp(h, "Bearer ", 7) ? h + 7 : NULL;
}

/* ---- answering -------------------------------------------------------------------------- */

static enum MHD_Result send_answer(serve_req *r)
{
    struct MHD_Response *resp;
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd((uint64_t)r->size, r->fd);
        r->fd = -1; /* the response owns it */
    } else {
        resp = MHD_create_response_from_buffer(r->mem.size, r->mem.ptr ? r->mem.ptr : "",
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type ? r->type : "text/plain");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                            "img-src 'self' data:; frame-ancestors 'none'");
    for (int i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->hname[i], r->hval[i]);
    enum MHD_Result ok = MHD_queue_response(r->c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result answer_now(struct MHD_Connection *c, int status, const char *msg)
{
    serve_req r = {.c = c, .fd = -1, .mem = POND_BUF_INIT};
    serve_error(&r, status, "%s", msg);
    enum MHD_Result ok = send_answer(&r);
    pond_buf_dispose(&r.mem);
    return ok;
}

/* The browser's first visit with ?token=: set the cookie and send it on without the token in
 * its address bar. */
static enum MHD_Result exchange_token(struct MHD_Connection *c, const char *url)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    char cookie[600];
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
             g_cfg->token);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, url[0] == '/' ? url : "/");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)cls, (void)version, (void)upload;
    static int first_call;
    if (!*con_cls) { /* headers only: refuse bodies before reading them */
        *con_cls = &first_call;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if ((cl && strcmp(cl, "0") != 0) || te)
            return answer_now(c, 413, "request bodies are not accepted (the API is GET only)");
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return answer_now(c, 413, "request bodies are not accepted (the API is GET only)");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer_now(c, 405, "only GET and HEAD are served");
    if (g_cfg->token) {
        const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
        if (q && token_ok(q) && strncmp(url, "/api/", 5) != 0)
            return exchange_token(c, url);
        if (!token_ok(bearer(c)) && !token_ok(cookie_token(c)))
            return answer_now(c, 401, "a token is needed: send Authorization: Bearer TOKEN, or "
                                      "open the page once with ?token=TOKEN");
    }
    serve_req r = {.c = c, .fd = -1, .mem = POND_BUF_INIT, .status = 200};
    int rc;
    if (!strncmp(url, "/api/", 5)) {
        if ((rc = handle_get(&r.h)) < 0)
            serve_fail(&r);
        else
            serve_api(&r, url + 5);
        handle_put(r.h);
        r.h = NULL;
    } else if (serve_ui(&r, url) < 0) {
        serve_error(&r, 404, "no such page: %s", url);
    }
    enum MHD_Result ok = send_answer(&r);
    if (r.fd >= 0)
        close(r.fd);
    pond_buf_dispose(&r.mem);
    return ok;
}

/* ---- listening ---------------------------------------------------------------------------- */

static int parse_listen(struct sockaddr_storage *ss, bool *loopback, const char *s)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : 0;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || !colon[1] || *end || port < 0 || port > 65535 || hl == 0 || hl >= sizeof host)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "--listen: '%s' is not ADDR:PORT (127.0.0.1:8080, [::1]:8080)", s);
    memcpy(host, s, hl);
    host[hl] = '\0';
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                                  "--listen: '%s' is not an IPv6 address", host + 1);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "--listen: '%s' is not an IPv4 address (or [IPv6])", host);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls, (void)fmt, (void)ap; /* connection-level noise (resets, timeouts) */
}

int serve_run(const serve_config *cfg)
{
    struct sockaddr_storage ss;
    bool loopback = false;
    int rc = parse_listen(&ss, &loopback, cfg->listen);
    if (rc < 0)
        return rc;
    if (!loopback && !cfg->token)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "--listen %s is not a loopback address: give --token-file so "
                              "that only holders of the token can read the pond",
                              cfg->listen);
    g_cfg = cfg;
    /* the first handle: a pond that cannot be opened is an error before listening */
    handle *h = NULL;
    if ((rc = handle_get(&h)) < 0)
        return rc;
    handle_put(h);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's threads inherit it */
    signal(SIGPIPE, SIG_IGN);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_request,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!d) {
        rc = pond_error_set(POND_EIO, POND_DOM_CLI, "cannot listen on %s: %s", cfg->listen,
                            strerror(errno));
        goto done;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[64] = "";
    if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    printf("listening on http://%s%s%s:%u/\n", ss.ss_family == AF_INET6 ? "[" : "", host,
           ss.ss_family == AF_INET6 ? "]" : "", info ? (unsigned)info->port : 0);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
done:
    pthread_mutex_lock(&pool_mu);
    while (pool_free) {
        handle *n = pool_free->next;
        handle_free(pool_free);
        pool_free = n;
    }
    pthread_mutex_unlock(&pool_mu);
    return rc;
}
