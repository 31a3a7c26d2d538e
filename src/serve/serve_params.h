/* pond serve: what the server reads from a request itself, apart from HTTP (which
 * libmicrohttpd parses and percent-decodes): the API route, its query parameters, the listen
 * address and the token. Pure functions over strings, so that unit tests and a fuzz target
 * (fuzz/fuzz_serve_params.c) reach them without a socket. Errors are POND_EINVALID with a
 * message in the user's words (the server answers 400 with it). */
#ifndef POND_SERVE_PARAMS_H
#define POND_SERVE_PARAMS_H

#include <pond/pond.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef enum {
    SERVE_API_LIST,
    SERVE_API_DESCRIBE,
    SERVE_API_READ,
    SERVE_API_BUCKETS,
    SERVE_API_QUERY,
    SERVE_API_LOG,
} serve_route;

/* One decoded query argument. Lengths are what the HTTP parser decoded: a value whose length
 * differs from its strlen held a NUL byte (%00). value may be NULL (a bare "?key"). */
typedef struct {
    const char *key, *value;
    size_t key_len, value_len;
} serve_kv;

typedef struct {
    char *name, *path;
    int64_t version; /* 0: every version (series) or the latest (table) */
} serve_src;

/* The parameters of one API request, checked. Strings are borrowed from the serve_kv values
 * unless said otherwise; NULL or has_* false: not given. */
typedef struct {
    serve_route route;
    const char *path;
    const char *format; /* one of the route's formats */
    const char *sql;
    pond_tz *tz; /* timezone= (owned) */
    bool has_from, has_to;
    int64_t from_us, to_us;
    char **columns; /* owned, NULL-terminated (pond_table_columns_parse) */
    int n_columns;
    int64_t limit;   /* -1: no limit */
    int64_t offset;  /* 0 */
    int64_t version; /* 0: none given */
    int64_t n;       /* buckets (default 100) */
    int64_t before;  /* log: transactions below this one; -1: from the newest */
    serve_src *srcs; /* owned */
    size_t n_srcs;
} serve_params;

#define SERVE_MAX_SRCS 64
#define SERVE_LOG_MAX 1000

/* "list", "describe", "read", "buckets", "query", "log" -> the route; POND_ENOTFOUND
 * otherwise. */
int serve_route_parse(serve_route *out, const char *name);
/* The route's name. */
const char *serve_route_name(serve_route r);

/* Reads and checks a request's query arguments for route: every key must be one the route
 * takes (and "token", which the server's authentication reads), none may be given twice
 * (but src), no key or value may hold a NUL byte; numbers, formats, times (the CLI's
 * forms, in timezone= when given), columns and src bindings are read as the CLI reads
 * them. Dispose out with serve_params_dispose, also on failure. */
int serve_params_parse(serve_params *out, serve_route route, const serve_kv *kv, size_t n);
void serve_params_dispose(serve_params *p);

/* "ADDR:PORT", "[IPv6]:PORT" or "localhost:PORT" -> a socket address; *loopback whether only
 * this machine can reach it. */
int serve_listen_parse(struct sockaddr_storage *out, bool *loopback, const char *s);

/* Whether given equals the token, in a time that depends only on the token's length. */
bool serve_token_equal(const char *token, const char *given);
/* The token of an Authorization header ("Bearer TOKEN"), or NULL. */
const char *serve_bearer(const char *authorization);

#endif
