/* pond serve: an HTTP server over one pond, read-only (docs/serve.md). A front end: it uses
 * the public headers only. serve_http.c is the server (libmicrohttpd: listening, the token,
 * limits, routing, the pool of pond handles), serve_api.c the data API, serve_ui.c the web
 * UI's embedded files. */
#ifndef POND_SERVE_H
#define POND_SERVE_H

#include "serve/serve_params.h"

#include <pond/buckets.h>
#include <pond/pond.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *pond_dir;
    int64_t at_txn;          /* -1: follow the newest transaction; N: a fixed view */
    const char *listen;      /* "ADDR:PORT" ("127.0.0.1:8080", "[::1]:0"); port 0 = any */
    const char *token;       /* NULL: no token (loopback only) */
    int64_t max_connections; /* concurrent connections */
    int64_t max_response;    /* bytes; larger responses are a 413 */
    int64_t max_request;     /* bytes of request line and headers */
    int64_t sql_ms;          /* SQL time limit per query */
    int64_t timeout_s;       /* an idle connection is closed after this */
    int64_t cache_bytes;     /* decoded series kept for buckets (0: none) */
    /* tests only: called at the end of every /api/ request, after its answer is spooled and
     * just before its snapshot lease is released (NULL: nothing) */
    void (*before_release)(void *payload);
    void *hook_payload;
} serve_config;

/* Runs until SIGINT or SIGTERM. Prints "listening on http://ADDR:PORT/" to stdout once
 * listening. Returns 0, or a pond error (message set) when it cannot start. */
int serve_run(const serve_config *cfg);

/* A server in this process (what serve_run runs; the unit tests start one): listening when
 * serve_start returns, on *port_out (may be NULL). cfg is borrowed until serve_stop, which
 * waits for the requests under way and frees everything. */
typedef struct serve_server serve_server;
int serve_start(serve_server **out, unsigned *port_out, const serve_config *cfg);
void serve_stop(serve_server *s);

/* ---- what serve_api.c needs from serve_http.c -------------------------------------------- */

typedef struct serve_req serve_req;

/* The request's query arguments (decoded; borrowed for the request). */
const serve_kv *serve_args(serve_req *r, size_t *n_out);
/* The pond handle for this request (the newest transaction; refreshed once per request). */
pond_fs *serve_fs(serve_req *r);
pond_backend *serve_backend(serve_req *r);
/* The transaction this request sees. */
int64_t serve_txn(serve_req *r);
const serve_config *serve_cfg(serve_req *r);
/* The server's buckets cache (NULL when --cache 0). */
pond_buckets_cache *serve_buckets_cache(serve_req *r);

/* Response bodies go to a spool (memory, then an unlinked temporary file) bounded by
 * max_response: a sink error once the bound is passed, answered with 413. */
int serve_body_write(const void *data, size_t len, void *payload); /* payload: the serve_req */
void serve_set_type(serve_req *r, const char *content_type);
/* An error answer: JSON {"error": message, "status": status}. Returns 0. */
int serve_error(serve_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An error answer for the last pond error, with the status its code calls for. */
int serve_fail(serve_req *r);
/* Extra response headers (Content-Disposition). */
void serve_set_header(serve_req *r, const char *name, const char *value);

/* serve_api.c: the API, for a request whose parameters were read (serve_params_parse). Returns
 * 0 when it answered (an answer or an error). */
int serve_api(serve_req *r, const serve_params *p);
/* serve_ui.c: the UI's files; 0 when found and answered, POND_ENOTFOUND otherwise. */
int serve_ui(serve_req *r, const char *url);

#endif
