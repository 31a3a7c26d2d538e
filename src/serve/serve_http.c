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
#define MAX_ARGS 256

/* ---- the server and its pool of pond handles ---------------------------------------------- */

typedef struct handle {
    pond_backend *be;
    pond_fs *fs;
    int64_t txn;
    pond_oplog_lease *lease; /* held while a request uses the handle */
    struct handle *next;
} handle;

struct serve_server {
    const serve_config *cfg;
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    handle *free; /* handles not in use */
    pond_buckets_cache *cache;
    bool no_leases; /* the pond's directory cannot hold one (read-only): said once at start */
};

static void handle_free(handle *h)
{
    if (!h)
        return;
    pond_fs_free(h->fs);
    pond_backend_free(h->be);
    free(h);
}

/* A snapshot lease from version v on, so that a gc in another process keeps every data file
 * and blob the request may read (the request reads the newest transaction, at v or later). */
static int take_lease(serve_server *s, handle *h, int64_t v)
{
    if (s->no_leases)
        return 0;
    return pond_oplog_lease_take(&h->lease, s->cfg->pond_dir, v < 0 ? 0 : v, "pond serve");
}

static int handle_get(handle **out, serve_server *s)
{
    pthread_mutex_lock(&s->mu);
    handle *h = s->free;
    if (h)
        s->free = h->next;
    pthread_mutex_unlock(&s->mu);
    int rc = 0;
    if (!h) {
        pond_oplog_options o = POND_OPLOG_OPTIONS_INIT;
        o.as_of_txn = s->cfg->at_txn;
        int64_t v = s->cfg->at_txn;
        if (!(h = calloc(1, sizeof *h)))
            return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
        /* the lease before the open: what the open reads is at v or later */
        if (v < 0)
            rc = pond_oplog_head(&v, s->cfg->pond_dir);
        if (rc == 0)
            rc = take_lease(s, h, v);
        if (rc == 0)
            rc = pond_oplog_open(&h->be, s->cfg->pond_dir, &o);
        if (rc == 0)
            rc = pond_fs_open(&h->fs, h->be, NULL);
        h->txn = s->cfg->at_txn;
        if (rc == 0 && s->cfg->at_txn < 0)
            rc = pond_oplog_refresh(&h->txn, h->be);
    } else {
        /* the lease before the refresh: the refresh moves to h->txn or later */
        rc = take_lease(s, h, h->txn);
        if (rc == 0 && s->cfg->at_txn < 0)
            rc = pond_oplog_refresh(&h->txn, h->be); /* the newest transaction, incrementally */
    }
    if (rc < 0) {
        pond_oplog_lease_release(h->lease);
        h->lease = NULL;
        handle_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

/* The answer is spooled: nothing of the pond is read after this, the lease can go. */
static void handle_put(serve_server *s, handle *h)
{
    if (!h)
        return;
    if (s->cfg->before_release)
        s->cfg->before_release(s->cfg->hook_payload);
    pond_oplog_lease_release(h->lease);
    h->lease = NULL;
    pthread_mutex_lock(&s->mu);
    h->next = s->free;
    s->free = h;
    pthread_mutex_unlock(&s->mu);
}

/* ---- a request ------------------------------------------------------------------------------ */

struct serve_req {
    serve_server *srv;
    struct MHD_Connection *c;
    handle *h;
    int status;
    const char *type;
    char hname[2][32], hval[2][512];
    int n_headers;
    serve_kv args[MAX_ARGS];
    size_t n_args;
    bool too_many_args;
    /* the spool */
    pond_buf mem;
    int fd;
    int64_t size;
    bool over;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    serve_req *r = cls;
    if (r->n_args == MAX_ARGS) {
        r->too_many_args = true;
        return MHD_NO;
    }
    r->args[r->n_args++] = (serve_kv){key, value, key ? key_size : 0, value ? value_size : 0};
    return MHD_YES;
}

const serve_kv *serve_args(serve_req *r, size_t *n_out)
{
    *n_out = r->n_args;
    return r->args;
}

pond_fs *serve_fs(serve_req *r) { return r->h->fs; }
pond_backend *serve_backend(serve_req *r) { return r->h->be; }
int64_t serve_txn(serve_req *r) { return r->h->txn; }
const serve_config *serve_cfg(serve_req *r) { return r->srv->cfg; }
pond_buckets_cache *serve_buckets_cache(serve_req *r) { return r->srv->cache; }
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
    if (r->size + (int64_t)len > r->srv->cfg->max_response) {
        r->over = true;
        pond_format_size(lim, r->srv->cfg->max_response);
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "the response is larger than the server's limit of %s "
                              "(narrow it with from, to, columns or limit)",
                              lim);
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
static void scrub(char *out, size_t cap, const char *msg, const char *dir)
{
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
    scrub(msg, sizeof msg, raw, r->srv->cfg->pond_dir);
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
    case POND_ENOTFOUND:
        status = 404;
        break;
    case POND_EINVALID:
    case POND_ENOTDIR:
    case POND_EISDIR:
    case POND_ELOOP:
        status = 400;
        break;
    case POND_EUNSUPPORTED:
        status = 422;
        break;
    case POND_EBUSY:
        status = 503;
        break;
    default:
        break;
    }
    return serve_error(r, status, "%s", e->message);
}

/* ---- authentication --------------------------------------------------------------------- */

static const char *cookie_token(struct MHD_Connection *c)
{
    return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
}

static const char *bearer(struct MHD_Connection *c)
{
    return serve_bearer(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
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

static enum MHD_Result answer_now(serve_server *s, struct MHD_Connection *c, int status,
                                  const char *msg)
{
    serve_req r = {.srv = s, .c = c, .fd = -1, .mem = POND_BUF_INIT};
    serve_error(&r, status, "%s", msg);
    enum MHD_Result ok = send_answer(&r);
    pond_buf_dispose(&r.mem);
    return ok;
}

/* The browser's first visit with ?token=: set the cookie and send it on without the token in
 * its address bar. */
static enum MHD_Result exchange_token(serve_server *s, struct MHD_Connection *c, const char *url)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    char cookie[600];
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", s->cfg->token);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, url[0] == '/' ? url : "/");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* A request's state between the handler's calls, as a pointer to one of these (no
 * allocation): fresh (headers not yet seen) or seen, and whether the raw path held an escaped
 * NUL byte. libmicrohttpd hands the handler the decoded path as a C string, where "%00" would
 * silently end it ("/ui/index.html%00.png" read as "/ui/index.html"), so the raw path is
 * looked at before decoding. */
static const char st_fresh, st_fresh_nul, st_seen, st_seen_nul;

static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls, (void)c;
    size_t path_len = strcspn(uri, "?");
    for (size_t i = 0; i + 2 < path_len; i++)
        if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
            return (void *)&st_fresh_nul;
    return (void *)&st_fresh;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version, (void)upload;
    serve_server *s = cls;
    bool fresh = *con_cls == &st_fresh || *con_cls == &st_fresh_nul;
    bool nul_in_path = *con_cls == &st_fresh_nul || *con_cls == &st_seen_nul;
    if (fresh) { /* headers only: refuse bodies before reading them */
        *con_cls = (void *)(nul_in_path ? &st_seen_nul : &st_seen);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if ((cl && strcmp(cl, "0") != 0) || te)
            return answer_now(s, c, 413, "request bodies are not accepted (the API is GET only)");
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return answer_now(s, c, 413, "request bodies are not accepted (the API is GET only)");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer_now(s, c, 405, "only GET and HEAD are served");
    if (nul_in_path)
        return answer_now(s, c, 400, "the address holds a NUL byte (%00)");
    if (s->cfg->token) {
        const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
        if (q && serve_token_equal(s->cfg->token, q) && strncmp(url, "/api/", 5) != 0)
            return exchange_token(s, c, url);
        if (!serve_token_equal(s->cfg->token, bearer(c)) &&
            !serve_token_equal(s->cfg->token, cookie_token(c)))
            return answer_now(s, c, 401,
                              "a token is needed: send Authorization: Bearer TOKEN, "
                              "or open the page once with ?token=TOKEN");
    }
    serve_req *r = calloc(1, sizeof *r); /* MAX_ARGS arguments: too big for a thread's stack */
    if (!r)
        return MHD_NO;
    *r = (serve_req){.srv = s, .c = c, .fd = -1, .mem = POND_BUF_INIT, .status = 200};
    if (!strncmp(url, "/api/", 5)) {
        serve_route route;
        serve_params p;
        memset(&p, 0, sizeof p);
        MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_arg, r);
        if (r->too_many_args)
            serve_error(r, 400, "more than %d parameters", MAX_ARGS);
        else if (serve_route_parse(&route, url + 5) < 0)
            serve_error(r, 404, "%s", pond_error_last()->message);
        else if (serve_params_parse(&p, route, r->args, r->n_args) < 0)
            serve_error(r, 400, "%s", pond_error_last()->message);
        else if (handle_get(&r->h, s) < 0)
            serve_fail(r);
        else
            serve_api(r, &p);
        serve_params_dispose(&p);
        handle_put(s, r->h);
        r->h = NULL;
    } else if (serve_ui(r, url) < 0) {
        serve_error(r, 404, "no such page: %s", url);
    }
    enum MHD_Result ok = send_answer(r);
    if (r->fd >= 0)
        close(r->fd);
    pond_buf_dispose(&r->mem);
    free(r);
    return ok;
}

/* ---- listening ---------------------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (getenv("POND_SERVE_DEBUG"))
        vfprintf(stderr, fmt, ap);
}

void serve_stop(serve_server *s)
{
    if (!s)
        return;
    if (s->d)
        MHD_stop_daemon(s->d); /* waits for the connections' threads */
    while (s->free) {
        handle *n = s->free->next;
        handle_free(s->free);
        s->free = n;
    }
    pthread_mutex_destroy(&s->mu);
    pond_buckets_cache_free(s->cache);
    free(s);
}

int serve_start(serve_server **out, unsigned *port_out, const serve_config *cfg)
{
    struct sockaddr_storage ss;
    bool loopback = false;
    *out = NULL;
    int rc = serve_listen_parse(&ss, &loopback, cfg->listen);
    if (rc < 0)
        return rc;
    if (!loopback && !cfg->token)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "--listen %s is not a loopback address: give --token-file so "
                              "that only holders of the token can read the pond",
                              cfg->listen);
    serve_server *s = calloc(1, sizeof *s);
    if (!s)
        return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
    s->cfg = cfg;
    pthread_mutex_init(&s->mu, NULL);
    if (cfg->cache_bytes > 0 &&
        (rc = pond_buckets_cache_new(&s->cache, (size_t)cfg->cache_bytes)) < 0) {
        serve_stop(s);
        return rc;
    }
    /* a pond whose directory cannot hold a lease (read-only to this user) is served without:
     * said once, here */
    pond_oplog_lease *probe = NULL;
    int64_t latest = 0;
    if (pond_oplog_head(&latest, cfg->pond_dir) == 0 &&
        pond_oplog_lease_take(&probe, cfg->pond_dir, latest, "pond serve") < 0) {
        fprintf(stderr,
                "pond: warning: %s: serving without snapshot leases (a gc in another "
                "process may remove what a request is reading)\n",
                pond_error_last()->message);
        s->no_leases = true;
    }
    pond_oplog_lease_release(probe);
    /* the first handle: a pond that cannot be opened is an error before listening */
    handle *h = NULL;
    if ((rc = handle_get(&h, s)) < 0) {
        serve_stop(s);
        return rc;
    }
    handle_put(s, h);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                            NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_request,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_seen, NULL, MHD_OPTION_END);
    if (!s->d) {
        rc = pond_error_set(POND_EIO, POND_DOM_CLI, "cannot listen on %s: %s", cfg->listen,
                            strerror(errno));
        serve_stop(s);
        return rc;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    if (port_out)
        *port_out = info ? info->port : 0;
    *out = s;
    return 0;
}

int serve_run(const serve_config *cfg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's threads inherit it */
    signal(SIGPIPE, SIG_IGN);
    serve_server *s = NULL;
    unsigned port = 0;
    int rc = serve_start(&s, &port, cfg);
    if (rc < 0)
        return rc;
    struct sockaddr_storage ss;
    bool loopback;
    serve_listen_parse(&ss, &loopback, cfg->listen);
    char host[64] = "";
    if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    printf("listening on http://%s%s%s:%u/\n", ss.ss_family == AF_INET6 ? "[" : "", host,
           ss.ss_family == AF_INET6 ? "]" : "", port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    serve_stop(s);
    return 0;
}
