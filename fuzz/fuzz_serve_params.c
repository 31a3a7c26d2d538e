/* Fuzz target: what pond serve reads from a request itself (src/serve/serve_params.c), after
 * libmicrohttpd has split and decoded the query string. The first byte picks what is read:
 * 0-5 an API route's parameters (the rest split at '&' into key=value pairs, which may hold
 * any byte, NUL included, as decoded %00 would), 6 a --listen address, 7 a token and an
 * Authorization header (split at the first NUL). Checks what a successful parse promises. */
#include "serve/serve_params.h"

#include <pond/buckets.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const serve_params *p)
{
    if (p->has_from && p->has_to && p->to_us <= p->from_us)
        abort();
    if (p->columns) {
        if (p->n_columns < 1 || p->columns[p->n_columns] != NULL)
            abort();
        for (int k = 0; k < p->n_columns; k++)
            if (!p->columns[k][0] || strchr(p->columns[k], ','))
                abort();
    }
    for (size_t i = 0; i < p->n_srcs; i++) {
        if (!p->srcs[i].name[0] || !p->srcs[i].path[0] || p->srcs[i].version < 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->srcs[i].name, p->srcs[j].name))
                abort();
    }
    if (p->n_srcs > SERVE_MAX_SRCS || p->limit < -1 || p->offset < 0 || p->version < 0 ||
        p->n < 1 || p->n > POND_BUCKETS_MAX ||
        (p->route == SERVE_API_LOG && p->limit > SERVE_LOG_MAX))
        abort();
    bool needs_path = p->route == SERVE_API_READ || p->route == SERVE_API_DESCRIBE ||
                      p->route == SERVE_API_BUCKETS;
    if ((needs_path && (!p->path || !*p->path)) || (p->route == SERVE_API_QUERY && !p->sql))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    unsigned mode = data[0] % 8;
    /* each part gets its own NUL-terminated copy; parts are at most size bytes in all */
    char *text = malloc(2 * size + 2);
    serve_kv *kv = malloc((size + 1) * sizeof *kv);
    if (!text || !kv) {
        free(text);
        free(kv);
        return 0;
    }
    const char *in = (const char *)data + 1;
    size_t len = size - 1, used = 0, n = 0;
    if (mode == 6 || mode == 7) {
        memcpy(text, in, len);
        text[len] = '\0';
        if (mode == 6) {
            struct sockaddr_storage ss;
            bool lo;
            (void)serve_listen_parse(&ss, &lo, text);
        } else {
            const char *given = text + strlen(text) < text + len ? text + strlen(text) + 1 : "";
            bool eq = serve_token_equal(text, serve_bearer(given));
            const char *b = serve_bearer(given);
            if (eq != (b && !strcmp(b, text)))
                abort();
        }
        free(text);
        free(kv);
        return 0;
    }
    for (size_t pos = 0; pos <= len && n <= size;) {
        const char *amp = memchr(in + pos, '&', len - pos);
        size_t plen = amp ? (size_t)(amp - (in + pos)) : len - pos;
        const char *eq = memchr(in + pos, '=', plen);
        size_t klen = eq ? (size_t)(eq - (in + pos)) : plen;
        char *k = text + used;
        memcpy(k, in + pos, klen);
        k[klen] = '\0';
        used += klen + 1;
        char *v = NULL;
        size_t vlen = 0;
        if (eq) {
            vlen = plen - klen - 1;
            v = text + used;
            memcpy(v, eq + 1, vlen);
            v[vlen] = '\0';
            used += vlen + 1;
        }
        kv[n++] = (serve_kv){k, v, klen, vlen};
        if (!amp)
            break;
        pos += plen + 1;
    }
    serve_params p;
    if (serve_params_parse(&p, (serve_route)mode, kv, n) == 0)
        check(&p);
    serve_params_dispose(&p);
    free(text);
    free(kv);
    return 0;
}
