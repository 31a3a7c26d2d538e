/* The wire codec and framed I/O (repl_wire.h). */
#include "repl/repl_wire.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define WBUF_SIZE ((size_t)64 << 10)
#define RBUF_SIZE ((size_t)64 << 10)
/* Pipes to and from ssh (and sshd's to the server) hold this much, so each side goes on
 * producing while the other hashes, writes or waits for a disk (the default 64 KiB holds a
 * quarter of one frame). */
#define PIPE_BYTES ((size_t)1 << 20)

/* ---- encoding ------------------------------------------------------------------------------ */

/* Appends are checked once, at pond_wire_send (the buffer's size is then compared with its bound):
 * an allocation failure leaves the buffer short, which send refuses. */
void pond_wire_begin(pond_buf *b, wire_type t)
{
    pond_buf_clear(b);
    (void)pond_buf_putc(b, (char)t);
}

void pond_wire_u8(pond_buf *b, uint8_t v) { (void)pond_buf_putc(b, (char)v); }

void pond_wire_u32(pond_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    (void)pond_buf_put(b, x, 4);
}

void pond_wire_i64(pond_buf *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(u >> (8 * i));
    (void)pond_buf_put(b, x, 8);
}

void pond_wire_str(pond_buf *b, const char *s)
{
    size_t n = strnlen(s, WIRE_MAX_STR);
    uint8_t x[2] = {(uint8_t)n, (uint8_t)(n >> 8)};
    (void)pond_buf_put(b, x, 2);
    (void)pond_buf_put(b, s, n);
}

void pond_wire_hash(pond_buf *b, const pond_hash *h) { (void)pond_buf_put(b, h->bytes, 32); }

void pond_wire_obj(pond_buf *b, const repl_obj *o)
{
    pond_wire_u8(b, (uint8_t)o->kind);
    pond_wire_i64(b, o->version);
    pond_wire_str(b, o->kind == REPL_DATA ? o->path : "");
    pond_wire_i64(b, o->size);
    pond_wire_u8(b, o->has_sha);
    pond_wire_hash(b, &o->sha256);
    pond_wire_hash(b, &o->root);
}

/* ---- decoding -------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    const char *what;
    int rc;
} cur;

static int bad(cur *c, const char *why)
{
    if (c->rc == 0)
        c->rc = pond_error_set(POND_ECORRUPT, R, "wire: %s message: %s at byte %zu", c->what, why,
                               c->pos);
    return c->rc;
}

static const uint8_t *take(cur *c, size_t k)
{
    if (c->rc || c->n - c->pos < k) {
        bad(c, "cut short");
        return NULL;
    }
    const uint8_t *r = c->p + c->pos;
    c->pos += k;
    return r;
}

static uint8_t get_u8(cur *c)
{
    const uint8_t *x = take(c, 1);
    return x ? x[0] : 0;
}

static uint32_t get_u32(cur *c)
{
    const uint8_t *x = take(c, 4);
    return x ? (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24
             : 0;
}

static int64_t get_i64(cur *c)
{
    const uint8_t *x = take(c, 8);
    uint64_t u = 0;
    for (int i = 0; x && i < 8; i++)
        u |= (uint64_t)x[i] << (8 * i);
    return (int64_t)u;
}

static bool get_bool(cur *c)
{
    uint8_t v = get_u8(c);
    if (v > 1)
        bad(c, "a flag is neither 0 nor 1");
    return v == 1;
}

static void get_str(cur *c, char *out, size_t cap)
{
    const uint8_t *x = take(c, 2);
    size_t len = x ? (size_t)x[0] | (size_t)x[1] << 8 : 0;
    out[0] = '\0';
    if (len > WIRE_MAX_STR || len >= cap) {
        bad(c, "a string is over its bound");
        return;
    }
    const uint8_t *s = take(c, len);
    if (!s)
        return;
    for (size_t i = 0; i < len; i++)
        if (s[i] == 0) {
            bad(c, "a string holds a NUL byte");
            return;
        }
    memcpy(out, s, len);
    out[len] = '\0';
}

static void get_hash(cur *c, pond_hash *h)
{
    const uint8_t *x = take(c, 32);
    if (x)
        memcpy(h->bytes, x, 32);
    else
        memset(h->bytes, 0, 32);
}

static void get_obj(cur *c, repl_obj *o)
{
    memset(o, 0, sizeof *o);
    uint8_t k = get_u8(c);
    o->kind = (repl_kind)k;
    o->version = get_i64(c);
    get_str(c, o->path, sizeof o->path);
    o->size = get_i64(c);
    o->has_sha = get_bool(c);
    get_hash(c, &o->sha256);
    get_hash(c, &o->root);
    if (c->rc)
        return;
    if (k < REPL_COMMIT || k > REPL_BLOB)
        bad(c, "unknown object kind");
    else if (o->size < -1)
        bad(c, "negative size");
    else if (k != REPL_DATA && o->path[0])
        bad(c, "a path on an object that is named otherwise");
    else if (pond_repl_obj_check(o) < 0 && c->rc == 0)
        c->rc = pond_error_last()->code; /* its message names the object */
}

static size_t get_count(cur *c)
{
    uint32_t n = get_u32(c);
    if (n > WIRE_MAX_ITEMS) {
        bad(c, "too many items");
        return 0;
    }
    return n;
}

static void *alloc_items(cur *c, size_t n, size_t size)
{
    if (c->rc)
        return NULL;
    /* never more items than the bytes left could hold: no allocation from a bare count */
    void *p = pond_calloc(n ? n : 1, size);
    if (!p)
        c->rc = POND_ENOMEM;
    return p;
}

void pond_wire_msg_dispose(wire_msg *m)
{
    pond_free(m->objs);
    pond_free(m->hashes);
    pond_free(m->flags);
    pond_free(m->blobs);
    pond_free(m->logs);
    m->objs = NULL;
    m->hashes = NULL;
    m->flags = NULL;
    m->blobs = NULL;
    m->logs = NULL;
    m->n = 0;
}

static const char *type_name(int t)
{
    static const char *const names[] = {[W_HELLO] = "hello",
                                        [W_OPEN] = "open",
                                        [W_HOLD] = "hold",
                                        [W_LIST_LOG] = "list-log",
                                        [W_HASH_LOG] = "hash-log",
                                        [W_HAVE] = "have",
                                        [W_MISSING_BLOBS] = "missing-blobs",
                                        [W_GET] = "get",
                                        [W_LIVE_FILES] = "live-files",
                                        [W_PUT] = "put",
                                        [W_DATA] = "data",
                                        [W_END] = "end",
                                        [W_SYNC] = "sync",
                                        [W_FINISH] = "finish",
                                        [W_VERIFY] = "verify",
                                        [W_BYE] = "bye",
                                        [W_HELLO_OK] = "hello-ok",
                                        [W_INFO] = "info",
                                        [W_DONE] = "done",
                                        [W_ERROR] = "error",
                                        [W_LOG] = "log",
                                        [W_HASHES] = "hashes",
                                        [W_HAVES] = "haves",
                                        [W_BLOBS] = "blobs",
                                        [W_OBJS] = "objs",
                                        [W_PROBLEM] = "problem",
                                        [W_REPORT] = "report"};
    return t >= 0 && t < (int)POND_ARRAY_LEN(names) && names[t] ? names[t] : NULL;
}

int pond_wire_decode(wire_msg *out, const uint8_t *frame, size_t len)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return pond_error_set(POND_ECORRUPT, R, "wire: an empty frame");
    if (len > WIRE_MAX_FRAME)
        return pond_error_set(POND_ECORRUPT, R, "wire: a frame of %zu bytes is over the bound",
                              len);
    const char *name = type_name(frame[0]);
    if (!name)
        return pond_error_set(POND_ECORRUPT, R, "wire: unknown message type %u", frame[0]);
    cur c = {frame, len, 1, name, 0};
    out->type = (wire_type)frame[0];
    switch (out->type) {
    case W_HELLO:
        get_str(&c, out->s1, sizeof out->s1); /* magic */
        out->i[0] = get_u32(&c);              /* lowest version */
        out->i[1] = get_u32(&c);              /* highest version */
        get_str(&c, out->s2, sizeof out->s2); /* software */
        if (!c.rc && strcmp(out->s1, WIRE_MAGIC))
            bad(&c, "not the pond wire protocol");
        if (!c.rc && out->i[0] > out->i[1])
            bad(&c, "empty version range");
        break;
    case W_OPEN:
        out->i[0] = get_u8(&c);
        if (!c.rc && out->i[0] > REPL_OPEN_WRITE)
            bad(&c, "unknown mode");
        break;
    case W_HOLD:
    case W_LIVE_FILES:
        out->i[0] = get_i64(&c);
        if (!c.rc && out->i[0] < 0)
            bad(&c, "negative version");
        break;
    case W_LIST_LOG:
        out->i[0] = get_i64(&c);
        out->i[1] = get_i64(&c);
        break;
    case W_HASH_LOG:
    case W_HAVE:
    case W_MISSING_BLOBS:
    case W_OBJS:
        out->n = get_count(&c);
        out->objs = alloc_items(&c, out->n, sizeof *out->objs);
        for (size_t k = 0; !c.rc && k < out->n; k++)
            get_obj(&c, &out->objs[k]);
        if (!c.rc && out->type == W_HASH_LOG)
            for (size_t k = 0; k < out->n; k++)
                if (out->objs[k].kind != REPL_COMMIT && out->objs[k].kind != REPL_CHECKPOINT)
                    bad(&c, "hash-log of something that is not a log file");
        if (!c.rc && out->type == W_MISSING_BLOBS)
            for (size_t k = 0; k < out->n; k++)
                if (out->objs[k].kind != REPL_DATA)
                    bad(&c, "missing-blobs of something that is not a data file");
        break;
    case W_GET:
    case W_PUT:
        get_obj(&c, &out->obj);
        break;
    case W_DATA:
        out->data = frame + 1;
        out->data_len = len - 1;
        c.pos = len;
        if (out->data_len > WIRE_MAX_DATA)
            bad(&c, "a data frame over its bound");
        break;
    case W_END:
    case W_SYNC:
    case W_FINISH:
    case W_VERIFY:
    case W_BYE:
    case W_DONE:
        break;
    case W_HELLO_OK:
        out->i[0] = get_u32(&c);
        get_str(&c, out->s2, sizeof out->s2);
        break;
    case W_INFO:
        out->i[0] = get_bool(&c); /* exists */
        out->i[1] = get_bool(&c); /* incoming */
        get_str(&c, out->s1, 64); /* pond id */
        get_str(&c, out->s2, 16); /* format */
        out->i[2] = get_i64(&c);  /* head */
        out->i[3] = get_i64(&c);  /* low */
        out->i[4] = get_bool(&c); /* head is a commit */
        out->i[5] = get_i64(&c);  /* last checkpoint */
        if (!c.rc && (out->i[2] < -1 || out->i[3] < -1 || out->i[5] < -1))
            bad(&c, "a version below -1");
        break;
    case W_ERROR:
        out->i[0] = (int32_t)get_u32(&c);
        get_str(&c, out->s1, sizeof out->s1);
        if (!c.rc && (out->i[0] >= 0 || out->i[0] < -31))
            bad(&c, "not an error code");
        break;
    case W_LOG:
        out->n = get_count(&c);
        out->logs = alloc_items(&c, out->n, sizeof *out->logs);
        for (size_t k = 0; !c.rc && k < out->n; k++) {
            out->logs[k].version = get_i64(&c);
            out->logs[k].kind = (repl_kind)get_u8(&c);
            out->logs[k].size = get_i64(&c);
            if (!c.rc && (out->logs[k].version < 0 || (out->logs[k].kind != REPL_COMMIT &&
                                                       out->logs[k].kind != REPL_CHECKPOINT)))
                bad(&c, "not a log entry");
        }
        break;
    case W_HASHES:
    case W_HAVES:
        out->n = get_count(&c);
        out->flags = alloc_items(&c, out->n, sizeof *out->flags);
        if (out->type == W_HASHES)
            out->hashes = alloc_items(&c, out->n, sizeof *out->hashes);
        for (size_t k = 0; !c.rc && k < out->n; k++) {
            out->flags[k] = get_bool(&c);
            if (out->type == W_HASHES)
                get_hash(&c, &out->hashes[k]);
        }
        break;
    case W_BLOBS:
        out->n = get_count(&c);
        out->blobs = alloc_items(&c, out->n, sizeof *out->blobs);
        for (size_t k = 0; !c.rc && k < out->n; k++) {
            get_hash(&c, &out->blobs[k].sha256);
            get_hash(&c, &out->blobs[k].root);
            out->blobs[k].size = get_i64(&c);
            if (!c.rc && out->blobs[k].size < 0)
                bad(&c, "negative blob size");
        }
        break;
    case W_PROBLEM:
        get_str(&c, out->s1, 32);
        get_str(&c, out->s2, sizeof out->s2);
        break;
    case W_REPORT:
        for (int k = 0; k < 10; k++) {
            out->i[k] = get_i64(&c);
            if (!c.rc && out->i[k] < 0)
                bad(&c, "a negative count");
        }
        out->i[10] = (int32_t)get_u32(&c); /* the fsck's return code */
        get_str(&c, out->s1, sizeof out->s1);
        if (!c.rc && (out->i[10] > 0 || out->i[10] < -31))
            bad(&c, "not a return code");
        break;
    }
    if (!c.rc && c.pos != c.n)
        bad(&c, "trailing bytes");
    if (c.rc) {
        pond_wire_msg_dispose(out);
        return c.rc;
    }
    return 0;
}

/* ---- the connection ------------------------------------------------------------------------ */

int pond_wire_conn_init(wire_conn *c, int in_fd, int out_fd, const char *peer)
{
    memset(c, 0, sizeof *c);
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->peer = peer;
    pond_wire_set_version(c, WIRE_VERSION_MIN);
    pond__pipe_hint(in_fd, PIPE_BYTES);
    pond__pipe_hint(out_fd, PIPE_BYTES);
    c->rbuf = pond_malloc(RBUF_SIZE);
    c->wbuf = pond_malloc(WBUF_SIZE);
    if (!c->rbuf || !c->wbuf) {
        pond_wire_conn_dispose(c);
        return POND_ENOMEM;
    }
    return 0;
}

void pond_wire_conn_dispose(wire_conn *c)
{
    pond_free(c->rbuf);
    pond_free(c->wbuf);
    pond_buf_dispose(&c->frame);
    c->rbuf = c->wbuf = NULL;
}

void pond_wire_set_version(wire_conn *c, unsigned version)
{
    c->version = version;
    c->max_data = version >= 2 ? WIRE_MAX_DATA : WIRE_MAX_DATA_V1;
}

/* Writes every byte of iov[0..n) (n <= 3), in one writev when the pipe takes it. */
static int write_iov(wire_conn *c, struct iovec *iov, int n)
{
    while (n > 0) {
        if (iov[0].iov_len == 0) {
            iov++;
            n--;
            continue;
        }
        ssize_t k = writev(c->out_fd, iov, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return pond_error_set(POND_EIO, R, "connection to '%s' lost (%s)", c->peer,
                                  k < 0 ? strerror(errno) : "no progress");
        for (size_t left = (size_t)k; left > 0;) {
            size_t t = left < iov[0].iov_len ? left : iov[0].iov_len;
            iov[0].iov_base = (char *)iov[0].iov_base + t;
            iov[0].iov_len -= t;
            left -= t;
            if (iov[0].iov_len == 0) {
                iov++;
                n--;
            }
        }
    }
    return 0;
}

static int write_fd(wire_conn *c, const void *p, size_t n)
{
    struct iovec iov[1] = {{(void *)p, n}};
    return write_iov(c, iov, 1);
}

int pond_wire_flush(wire_conn *c)
{
    int rc = c->wlen ? write_fd(c, c->wbuf, c->wlen) : 0;
    c->wlen = 0;
    return rc;
}

static int send_frame(wire_conn *c, uint8_t type, const void *payload, size_t len)
{
    if (len + 1 > WIRE_MAX_FRAME)
        return pond_error_set(POND_EINVALID, R, "wire: a message of %zu bytes is over the bound",
                              len + 1);
    uint32_t fl = (uint32_t)(len + 1);
    uint8_t hdr[5] = {(uint8_t)fl, (uint8_t)(fl >> 8), (uint8_t)(fl >> 16), (uint8_t)(fl >> 24),
                      type};
    int rc = 0;
    if (5 + len > WBUF_SIZE) {
        /* big data goes straight out, not through the buffer: what is queued, the header and
         * the payload in one writev */
        struct iovec iov[3] = {{c->wbuf, c->wlen}, {hdr, 5}, {(void *)payload, len}};
        c->wlen = 0;
        return write_iov(c, iov, 3);
    }
    if (c->wlen + 5 + len > WBUF_SIZE && (rc = pond_wire_flush(c)) < 0)
        return rc;
    memcpy(c->wbuf + c->wlen, hdr, 5);
    memcpy(c->wbuf + c->wlen + 5, payload, len);
    c->wlen += 5 + len;
    return 0;
}

int pond_wire_send(wire_conn *c, const pond_buf *body)
{
    if (!body->ptr || body->size == 0)
        return pond_error_set(POND_ENOMEM, R, "wire: out of memory building a message");
    return send_frame(c, (uint8_t)body->ptr[0], body->ptr + 1, body->size - 1);
}

int pond_wire_send_data(wire_conn *c, wire_type t, const void *data, size_t len)
{
    return send_frame(c, (uint8_t)t, data, len);
}

/* Reads exactly n bytes into dst (through the read buffer). */
static int read_exact(wire_conn *c, void *dst, size_t n, bool *eof_at_start)
{
    uint8_t *d = dst;
    size_t got = 0;
    while (got < n) {
        if (c->rpos == c->rlen && n - got >= RBUF_SIZE) {
            /* a large read goes straight to its destination, not through the buffer */
            ssize_t k = read(c->in_fd, d + got, n - got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return pond_error_set(POND_EIO, R, "connection to '%s' lost (%s)", c->peer,
                                      strerror(errno));
            if (k == 0)
                return pond_error_set(POND_EIO, R, "connection to '%s' closed in mid-message",
                                      c->peer);
            got += (size_t)k;
            continue;
        }
        if (c->rpos == c->rlen) {
            ssize_t k = read(c->in_fd, c->rbuf, RBUF_SIZE);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return pond_error_set(POND_EIO, R, "connection to '%s' lost (%s)", c->peer,
                                      strerror(errno));
            if (k == 0) {
                if (got == 0 && eof_at_start) {
                    *eof_at_start = true;
                    return POND_EEOF;
                }
                return pond_error_set(POND_EIO, R, "connection to '%s' closed in mid-message",
                                      c->peer);
            }
            c->rpos = 0;
            c->rlen = (size_t)k;
        }
        size_t k = c->rlen - c->rpos < n - got ? c->rlen - c->rpos : n - got;
        memcpy(d + got, c->rbuf + c->rpos, k);
        c->rpos += k;
        got += k;
    }
    return 0;
}

int pond_wire_recv(wire_conn *c, wire_msg *out)
{
    memset(out, 0, sizeof *out);
    if (c->data_left)
        return pond_error_set(POND_ECORRUPT, R, "wire: a message read inside a data frame");
    uint8_t hdr[4];
    bool eof = false;
    int rc = read_exact(c, hdr, 4, &eof);
    if (rc == POND_EEOF)
        return pond_error_set(POND_EEOF, R, "connection to '%s' closed", c->peer);
    if (rc < 0)
        return rc;
    size_t len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
    if (len == 0 || len > WIRE_MAX_FRAME)
        return pond_error_set(POND_ECORRUPT, R,
                              "wire: '%s' sent a frame of %zu bytes (bound %zu): not the pond "
                              "wire protocol?",
                              c->peer, len, WIRE_MAX_FRAME);
    pond_buf_clear(&c->frame);
    if ((rc = pond_buf_grow(&c->frame, len)) < 0)
        return rc;
    if ((rc = read_exact(c, c->frame.ptr, len, NULL)) < 0)
        return rc;
    c->frame.size = len;
    if (c->frame.ptr[0] == W_DATA && len - 1 > c->max_data)
        return pond_error_set(POND_ECORRUPT, R,
                              "wire: '%s' sent a data frame of %zu bytes (bound %zu at version %u)",
                              c->peer, len - 1, c->max_data, c->version);
    return pond_wire_decode(out, (const uint8_t *)c->frame.ptr, len);
}

int pond_wire_read_data(wire_conn *c, void *buf, size_t cap, size_t *n_out)
{
    POND_ASSERT_ARG(cap > 0);
    *n_out = 0;
    int rc;
    while (c->data_left == 0) {
        uint8_t hdr[5];
        if ((rc = read_exact(c, hdr, 5, NULL)) < 0)
            return rc;
        size_t len =
            (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
        if (hdr[4] == W_END && len == 1)
            return 0;
        if (hdr[4] != W_DATA || len == 0)
            return pond_error_set(POND_ECORRUPT, R,
                                  "wire: '%s' ended an object's content without END (a %s "
                                  "frame of %zu bytes)",
                                  c->peer, type_name(hdr[4]) ? type_name(hdr[4]) : "unknown", len);
        if (len - 1 > c->max_data)
            return pond_error_set(POND_ECORRUPT, R,
                                  "wire: '%s' sent a data frame of %zu bytes (bound %zu at "
                                  "version %u)",
                                  c->peer, len - 1, c->max_data, c->version);
        c->data_left = len - 1; /* an empty DATA frame is allowed and skipped */
    }
    size_t k = cap < c->data_left ? cap : c->data_left;
    if ((rc = read_exact(c, buf, k, NULL)) < 0)
        return rc;
    c->data_left -= k;
    *n_out = k;
    return 0;
}
