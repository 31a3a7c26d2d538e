/* A data file read by row groups, each verified on its own (docs/format.md, "Row-group
 * hashes").
 *
 * A merged data file holds thousands of versions' rows in row groups of OL_CONTENT_GROUP_ROWS.
 * Its whole-file SHA-256 (the add action's OPLOG_TAG_SHA256) can only be checked by reading
 * the whole file, which a read of one old version or one day does not need. So the writer also
 * records the SHA-256 of each row group's byte range in the Parquet footer (OPLOG_KV_GROUPS),
 * and the SHA-256 of the footer in the add action (OPLOG_TAG_FOOTER), which the log trusts as
 * it trusts the file's path and size. A reader here verifies the footer against the tag when it
 * opens the file, then each row group's bytes against the footer the first time the Parquet
 * reader touches them, and serves no other byte: a flipped bit in the footer, in a row group or
 * in the tag is ECORRUPT naming the file, never data. */
#include "oplog_internal.h"

#include <pond/errors.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_OPLOG

struct ol_gfile {
    int fd;
    char *path; /* for messages: the pond's dir joined with the file's */
    int64_t size;
    uint8_t *footer; /* the file's last footer_len bytes, verified */
    int64_t foot_off, foot_len;
    ol_group *groups;
    size_t n;
    uint8_t **data; /* per group: its verified bytes, NULL until read */
    pond_parquet_reader *r;
};

int pond_oplog__groups_format(pond_buf *out, const ol_group *groups, size_t n)
{
    int rc = pond_buf_puts(out, "1;");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ol_group *g = &groups[i];
        char hex[65], et[48] = "-,-";
        pond_hash_hex(hex, &g->sha);
        if (g->has_et)
            snprintf(et, sizeof et, "%" PRId64 ",%" PRId64, g->et_min, g->et_max);
        rc = pond_buf_printf(out, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%s;", g->off,
                             g->len, g->v_min, g->v_max, et, hex);
    }
    return rc;
}

static bool parse_i64(int64_t *out, const char **s, char end)
{
    char *e = NULL;
    if (**s != '-' && (**s < '0' || **s > '9'))
        return false;
    errno = 0;
    long long v = strtoll(*s, &e, 10);
    if (e == *s || *e != end || errno == ERANGE)
        return false;
    *out = v;
    *s = e + 1;
    return true;
}

static int bad_groups(const ol_gfile *g, const char *what)
{
    return pond_error_set(POND_ECORRUPT, D, "data file '%s': its footer's %s entry %s", g->path,
                          OPLOG_KV_GROUPS, what);
}

int pond_oplog__groups_parse(ol_group *groups, size_t n_rg, size_t *n_out, const char *v,
                             int64_t foot_off, const char **why)
{
    *n_out = 0;
    *why = NULL;
    if (strncmp(v, "1;", 2) != 0) {
        *why = "is not version 1";
        return -1;
    }
    v += 2;
    size_t n = 0;
    int64_t at = 4; /* after the magic */
    while (*v) {
        if (n == n_rg) {
            *why = "lists more row groups than the file has";
            return -1;
        }
        ol_group *x = &groups[n];
        memset(x, 0, sizeof *x);
        *why = "does not parse";
        if (!parse_i64(&x->off, &v, ',') || !parse_i64(&x->len, &v, ',') ||
            !parse_i64(&x->v_min, &v, ',') || !parse_i64(&x->v_max, &v, ','))
            return -1;
        if (!strncmp(v, "-,-,", 4)) {
            v += 4;
        } else {
            if (!parse_i64(&x->et_min, &v, ',') || !parse_i64(&x->et_max, &v, ','))
                return -1;
            x->has_et = true;
        }
        char hex[65];
        if (strnlen(v, 65) < 65 || v[64] != ';')
            return -1;
        memcpy(hex, v, 64);
        hex[64] = '\0';
        if (pond_hash_from_hex(&x->sha, hex) < 0) {
            *why = "has a bad SHA-256";
            return -1;
        }
        v += 65;
        if (x->off != at || x->len <= 0 || x->len > foot_off - at) {
            *why = "does not tile the file";
            return -1;
        }
        at += x->len;
        n++;
    }
    if (n != n_rg || at != foot_off) {
        *why = "does not tile the file";
        return -1;
    }
    *why = NULL;
    *n_out = n;
    return 0;
}

/* Parses the footer's OPLOG_KV_GROUPS entry. The footer is verified already: what does not
 * parse, or does not tile the file, was written so by whoever wrote the file. */
static int parse_groups(ol_gfile *g, const char *v)
{
    int n_rg = pond_parquet_reader_num_row_groups(g->r);
    if (n_rg <= 0)
        return bad_groups(g, "lists row groups the file does not have");
    g->groups = pond_calloc((size_t)n_rg, sizeof *g->groups);
    g->data = pond_calloc((size_t)n_rg, sizeof *g->data);
    if (!g->groups || !g->data)
        return POND_ENOMEM;
    const char *why;
    if (pond_oplog__groups_parse(g->groups, (size_t)n_rg, &g->n, v, g->foot_off, &why) < 0)
        return bad_groups(g, why);
    return 0;
}

static int load_group(ol_gfile *g, size_t i)
{
    const ol_group *x = &g->groups[i];
    uint8_t *buf = pond_malloc((size_t)x->len);
    if (!buf)
        return POND_ENOMEM;
    size_t got = 0;
    pond_hash h;
    int rc = pond__pread_full(&got, g->fd, buf, (size_t)x->len, x->off, g->path, D);
    if (rc == 0 && got != (size_t)x->len)
        rc = pond_error_set(POND_ECORRUPT, D, "data file '%s' is truncated in row group %zu",
                            g->path, i);
    if (rc == 0 && (rc = pond_sha256_buf(&h, buf, (size_t)x->len)) == 0 &&
        !pond_hash_equal(&h, &x->sha))
        rc = pond_error_set(POND_ECORRUPT, D,
                            "data file '%s' is corrupt: row group %zu (bytes %" PRId64 "..%" PRId64
                            ") does not match the SHA-256 its footer records",
                            g->path, i, x->off, x->off + x->len);
    if (rc < 0) {
        pond_free(buf);
        return rc;
    }
    g->data[i] = buf;
    return 0;
}

/* Serves verified bytes only: the magic, the footer, or row groups (read and verified on first
 * touch). */
static int g_read_at(int64_t off, void *buf, size_t len, size_t *n_out, void *payload)
{
    ol_gfile *g = payload;
    uint8_t *out = buf;
    *n_out = 0;
    if (off < 0 || off > g->size)
        return pond_error_set(POND_ECORRUPT, D, "data file '%s': a read at offset %" PRId64,
                              g->path, off);
    len = (size_t)POND_MIN((int64_t)len, g->size - off);
    size_t done = 0;
    while (done < len) {
        int64_t at = off + (int64_t)done;
        size_t n;
        if (at < 4) {
            n = POND_MIN(len - done, (size_t)(4 - at));
            memcpy(out + done, "PAR1" + at, n);
        } else if (at >= g->foot_off) {
            n = len - done;
            memcpy(out + done, g->footer + (at - g->foot_off), n);
        } else {
            size_t lo = 0, hi = g->n;
            while (lo < hi) { /* the last group starting at or before `at` */
                size_t mid = (lo + hi) / 2;
                if (g->groups[mid].off <= at)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == 0)
                return pond_error_set(POND_ECORRUPT, D,
                                      "data file '%s': a read at offset %" PRId64
                                      " outside its verified row groups",
                                      g->path, at);
            size_t i = lo - 1;
            const ol_group *x = &g->groups[i];
            int rc;
            if (!g->data[i] && (rc = load_group(g, i)) < 0)
                return rc;
            n = POND_MIN(len - done, (size_t)(x->off + x->len - at));
            memcpy(out + done, g->data[i] + (at - x->off), n);
        }
        done += n;
    }
    *n_out = len;
    return 0;
}

void pond_oplog__gfile_free(ol_gfile *g)
{
    if (!g)
        return;
    pond_parquet_reader_free(g->r);
    for (size_t i = 0; g->data && i < g->n; i++)
        pond_free(g->data[i]);
    pond_free(g->data);
    pond_free(g->groups);
    pond_free(g->footer);
    if (g->fd >= 0)
        pond__close(g->fd);
    pond_free(g->path);
    pond_free(g);
}

int pond_oplog__gfile_open(ol_gfile **out, oplog_be *ob, const ol_file *f,
                           const pond_parquet_read_options *po)
{
    *out = NULL;
    ol_gfile *g = pond_calloc(1, sizeof *g);
    if (!g)
        return POND_ENOMEM;
    g->fd = -1;
    g->size = f->size;
    if (!(g->path = pond__path_join(ob->dir, f->path))) {
        pond_free(g);
        return POND_ENOMEM;
    }
    int rc = 0;
    if (!f->has_footer || f->size < 12 || f->footer_len < 8 || f->footer_len > f->size - 4)
        rc = pond_error_set(POND_ECORRUPT, D, "data file '%s': its %s tag does not fit its size",
                            g->path, OPLOG_TAG_FOOTER);
    g->foot_len = f->footer_len;
    g->foot_off = f->size - f->footer_len;
    if (rc == 0 && !(g->footer = pond_malloc((size_t)g->foot_len)))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = pond__open_pond_file_in(&g->fd, ob->dir, f->path, D);
    size_t got = 0;
    if (rc == 0)
        rc = pond__pread_full(&got, g->fd, g->footer, (size_t)g->foot_len, g->foot_off, g->path, D);
    /* one byte past the size the log records: a file that grew is as wrong as one that shrank */
    uint8_t extra;
    size_t more = 0;
    if (rc == 0 && got == (size_t)g->foot_len)
        rc = pond__pread_full(&more, g->fd, &extra, 1, f->size, g->path, D);
    if (rc == 0 && (got != (size_t)g->foot_len || more != 0))
        rc = pond_error_set(POND_ECORRUPT, D,
                            "data file '%s' is not %" PRId64
                            " bytes as the log says: it was truncated or appended to",
                            g->path, f->size);
    pond_hash h;
    if (rc == 0 && (rc = pond_sha256_buf(&h, g->footer, (size_t)g->foot_len)) == 0 &&
        memcmp(h.bytes, f->footer_sha, OL_FOOTER_SHA_BYTES) != 0)
        rc = pond_error_set(POND_ECORRUPT, D,
                            "data file '%s' is corrupt: its footer does not match the SHA-256 of "
                            "its %s tag",
                            g->path, OPLOG_TAG_FOOTER);
    if (rc == 0) {
        pond_parquet_source src = {g_read_at, f->size, g};
        rc = pond_parquet_reader_open(&g->r, &src, po);
    }
    const char *v = NULL;
    for (int i = 0; rc == 0 && i < pond_parquet_reader_kv_count(g->r) && !v; i++) {
        const char *k = NULL, *val = NULL;
        if (pond_parquet_reader_kv(g->r, i, &k, &val) == 0 && k && !strcmp(k, OPLOG_KV_GROUPS))
            v = val ? val : "";
    }
    if (rc == 0 && !v)
        rc = bad_groups(g, "is missing");
    if (rc == 0)
        rc = parse_groups(g, v);
    if (rc < 0) {
        pond_oplog__gfile_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

pond_parquet_reader *pond_oplog__gfile_reader(ol_gfile *g) { return g->r; }

size_t pond_oplog__gfile_n_groups(const ol_gfile *g) { return g->n; }

const ol_group *pond_oplog__gfile_group(const ol_gfile *g, size_t i) { return &g->groups[i]; }
