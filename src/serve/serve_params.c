/* pond serve: the request's own syntax (serve_params.h). */
#include "serve/serve_params.h"

#include <pond/buckets.h>
#include <pond/sql.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define D POND_DOM_CLI

static const char *const route_names[] = {"list", "describe", "read", "buckets", "query", "log"};

/* The keys each route takes, in the order of serve_route. */
static const char *const route_keys[][10] = {
    [SERVE_API_LIST] = {"path"},
    [SERVE_API_DESCRIBE] = {"path", "format"},
    [SERVE_API_READ] = {"path", "format", "from", "to", "timezone", "columns", "limit", "offset",
                        "version"},
    [SERVE_API_BUCKETS] = {"path", "from", "to", "timezone", "n", "columns"},
    [SERVE_API_QUERY] = {"sql", "src", "format", "timezone"},
    [SERVE_API_LOG] = {"before", "limit"},
};

static const char *const route_formats[][6] = {
    [SERVE_API_DESCRIBE] = {"json", "text"},
    [SERVE_API_READ] = {"json", "csv", "parquet", "arrow", "raw"},
    [SERVE_API_QUERY] = {"json", "csv"},
};

int serve_route_parse(serve_route *out, const char *name)
{
    for (size_t r = 0; r < sizeof route_names / sizeof *route_names; r++)
        if (!strcmp(name, route_names[r])) {
            *out = (serve_route)r;
            return 0;
        }
    return pond_error_set(POND_ENOTFOUND, D,
                          "no such API: /api/%s (list, describe, read, buckets, query, log)", name);
}

const char *serve_route_name(serve_route r) { return route_names[r]; }

void serve_params_dispose(serve_params *p)
{
    pond_tz_free(p->tz);
    pond_free(p->columns);
    for (size_t i = 0; i < p->n_srcs; i++) {
        pond_free(p->srcs[i].name);
        pond_free(p->srcs[i].path);
    }
    pond_free(p->srcs);
    memset(p, 0, sizeof *p);
}

/* A whole number in [min, max], digits only (no sign, blank or exponent). */
static int count_value(int64_t *out, const char *key, const char *v, int64_t min, int64_t max)
{
    int64_t x = 0;
    bool ok = *v != '\0';
    for (const char *c = v; *c && ok; c++) {
        if (*c < '0' || *c > '9' || x > (INT64_MAX - (*c - '0')) / 10)
            ok = false;
        else
            x = x * 10 + (*c - '0');
    }
    if (!ok || x < min || x > max)
        return pond_error_set(POND_EINVALID, D,
                              "%s: '%.100s' is not a whole number from %lld to %lld", key, v,
                              (long long)min, (long long)max);
    *out = x;
    return 0;
}

static int choice(const char **out, serve_route route, const char *v)
{
    pond_buf all = POND_BUF_INIT;
    for (int k = 0; k < 6 && route_formats[route][k]; k++) {
        if (!strcmp(v, route_formats[route][k])) {
            *out = route_formats[route][k];
            pond_buf_dispose(&all);
            return 0;
        }
        pond_buf_printf(&all, "%s%s", k ? ", " : "", route_formats[route][k]);
    }
    int rc = pond_error_set(POND_EINVALID, D, "format: '%.100s' is not one of %s", v,
                            all.ptr ? all.ptr : "");
    pond_buf_dispose(&all);
    return rc;
}

static int add_src(serve_params *p, const char *v)
{
    if (p->n_srcs >= SERVE_MAX_SRCS)
        return pond_error_set(POND_EINVALID, D, "src: more than %d tables", SERVE_MAX_SRCS);
    if (!p->srcs && !(p->srcs = pond_calloc(SERVE_MAX_SRCS, sizeof *p->srcs)))
        return POND_ENOMEM;
    serve_src *s = &p->srcs[p->n_srcs];
    int rc = pond_sql_binding_parse(&s->name, &s->path, &s->version, v);
    if (rc < 0) {
        pond_error_prefix("src");
        return rc;
    }
    for (size_t i = 0; i < p->n_srcs; i++)
        if (!strcmp(p->srcs[i].name, s->name)) {
            rc = pond_error_set(POND_EINVALID, D, "src: the name '%.200s' is given twice", s->name);
            pond_free(s->name);
            pond_free(s->path);
            *s = (serve_src){0};
            return rc;
        }
    p->n_srcs++;
    return 0;
}

static bool route_takes(serve_route route, const char *key)
{
    for (int k = 0; k < 10 && route_keys[route][k]; k++)
        if (!strcmp(key, route_keys[route][k]))
            return true;
    return false;
}

int serve_params_parse(serve_params *out, serve_route route, const serve_kv *kv, size_t n)
{
    memset(out, 0, sizeof *out);
    out->route = route;
    out->limit = -1;
    out->before = -1;
    out->n = 100;
    const char *from = NULL, *to = NULL, *zone = NULL, *cols = NULL;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *key = kv[i].key ? kv[i].key : "", *v = kv[i].value ? kv[i].value : "";
        if (strlen(key) != kv[i].key_len)
            return pond_error_set(POND_EINVALID, D, "a parameter name holds a NUL byte");
        if (kv[i].value && strlen(v) != kv[i].value_len)
            return pond_error_set(POND_EINVALID, D, "%.100s: the value holds a NUL byte", key);
        if (!strcmp(key, "token"))
            continue; /* the server's authentication reads it */
        if (!route_takes(route, key)) {
            pond_buf keys = POND_BUF_INIT;
            for (int k = 0; k < 10 && route_keys[route][k]; k++)
                pond_buf_printf(&keys, "%s%s", k ? ", " : "", route_keys[route][k]);
            rc = pond_error_set(POND_EINVALID, D,
                                "/api/%s takes no parameter '%.100s' (it takes %s)",
                                route_names[route], key, keys.ptr ? keys.ptr : "");
            pond_buf_dispose(&keys);
            return rc;
        }
        if (strcmp(key, "src") != 0)
            for (size_t j = 0; j < i; j++)
                if (kv[j].key && !strcmp(kv[j].key, key))
                    return pond_error_set(POND_EINVALID, D, "%s: given twice", key);
        if (!strcmp(key, "path"))
            out->path = v;
        else if (!strcmp(key, "format"))
            rc = choice(&out->format, route, v);
        else if (!strcmp(key, "sql"))
            out->sql = v;
        else if (!strcmp(key, "from"))
            from = v;
        else if (!strcmp(key, "to"))
            to = v;
        else if (!strcmp(key, "timezone"))
            zone = v;
        else if (!strcmp(key, "columns"))
            cols = v;
        else if (!strcmp(key, "limit"))
            rc = count_value(&out->limit, key, v, 0,
                             route == SERVE_API_LOG ? SERVE_LOG_MAX : INT64_MAX);
        else if (!strcmp(key, "offset"))
            rc = count_value(&out->offset, key, v, 0, INT64_MAX);
        else if (!strcmp(key, "version"))
            rc = count_value(&out->version, key, v, 1, INT64_MAX);
        else if (!strcmp(key, "n"))
            rc = count_value(&out->n, key, v, 1, POND_BUCKETS_MAX);
        else if (!strcmp(key, "before"))
            rc = count_value(&out->before, key, v, 0, INT64_MAX);
        else if (!strcmp(key, "src"))
            rc = add_src(out, v);
    }
    if (rc < 0)
        return rc;
    bool needs_path =
        route == SERVE_API_DESCRIBE || route == SERVE_API_READ || route == SERVE_API_BUCKETS;
    if (needs_path && (!out->path || !*out->path))
        return pond_error_set(POND_EINVALID, D, "the 'path' parameter is missing");
    if (route == SERVE_API_LIST && out->path && !*out->path)
        out->path = NULL;
    if (route == SERVE_API_QUERY && (!out->sql || !*out->sql))
        return pond_error_set(POND_EINVALID, D, "the 'sql' parameter is missing");
    if (zone && *zone && pond_tz_open(&out->tz, zone) < 0) {
        pond_error_prefix("timezone");
        return POND_EINVALID;
    }
    if (from && *from) {
        if ((rc = pond_time_parse_arg(&out->from_us, from, strlen(from), out->tz)) < 0) {
            pond_error_prefix("from");
            return POND_EINVALID;
        }
        out->has_from = true;
    }
    if (to && *to) {
        if ((rc = pond_time_parse_arg(&out->to_us, to, strlen(to), out->tz)) < 0) {
            pond_error_prefix("to");
            return POND_EINVALID;
        }
        out->has_to = true;
    }
    if (out->has_from && out->has_to && out->to_us <= out->from_us)
        return pond_error_set(POND_EINVALID, D, "to must be after from");
    if (cols && (rc = pond_table_columns_parse(&out->columns, &out->n_columns, cols)) < 0)
        return rc;
    return 0;
}

int serve_listen_parse(struct sockaddr_storage *ss, bool *loopback, const char *s)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : 0;
    int64_t port = -1;
    bool ok = colon && hl > 0 && hl < sizeof host && colon[1] &&
              count_value(&port, "port", colon + 1, 0, 65535) == 0;
    if (!ok)
        return pond_error_set(POND_EINVALID, D,
                              "--listen: '%.200s' is not ADDR:PORT (127.0.0.1:8080, [::1]:8080)",
                              s);
    memcpy(host, s, hl);
    host[hl] = '\0';
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return pond_error_set(POND_EINVALID, D, "--listen: '%s' is not an IPv6 address",
                                  host + 1);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return pond_error_set(POND_EINVALID, D, "--listen: '%s' is not an IPv4 address (or [IPv6])",
                              host);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    return 0;
}

bool serve_token_equal(const char *token, const char *given)
{
    size_t tl = strlen(token), gl = given ? strlen(given) : 0;
    unsigned char diff = (unsigned char)(tl != gl);
    /* every byte of the token is compared, whatever given is */
    for (size_t i = 0; i < tl; i++)
        diff |= (unsigned char)(token[i] ^ (i < gl ? given[i] : 0));
    return given && diff == 0;
}

const char *serve_bearer(const char *h) { return h && !strncmp(h, "Bearer ", 7) ? h + 7 : NULL; }
