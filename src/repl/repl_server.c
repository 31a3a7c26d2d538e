/* The server end of the wire protocol (`pond wire-server DIR`, run by ssh on the remote host):
 * every request is decoded and checked (repl_wire.c), then carried out by the directory
 * transport on DIR. Puts are pipelined: the first failure is kept, every later put and publish
 * is skipped (its data drained), and the next request with a reply gets the error. */
#include "repl/repl_wire.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    wire_conn c;
    repl_remote *d;
    pond_buf out;
    int latched; /* the first error of a pipelined put, 0 none */
    char latched_msg[WIRE_MAX_STR + 1];
    bool put_ended; /* the current put's END was read */
    int mode;       /* -1 before OPEN, else the repl_open_mode */
} server;

static int reply_error(server *s, int code, const char *msg)
{
    pond_wire_begin(&s->out, W_ERROR);
    pond_wire_u32(&s->out, (uint32_t)(int32_t)(code < 0 && code >= -31 ? code : POND_ERROR));
    pond_wire_str(&s->out, msg);
    return pond_wire_send(&s->c, &s->out);
}

static int reply_last(server *s, int rc) { return reply_error(s, rc, pond_error_last()->message); }

static int reply_ok(server *s)
{
    pond_wire_begin(&s->out, W_DONE);
    return pond_wire_send(&s->c, &s->out);
}

/* ---- replies that are lists ------------------------------------------------------------------ */

typedef struct {
    server *s;
    size_t n;
    wire_type type;
    pond_buf items;
} list_out;

static int list_flush(list_out *l)
{
    if (!l->n)
        return 0;
    pond_wire_begin(&l->s->out, l->type);
    pond_wire_u32(&l->s->out, (uint32_t)l->n);
    (void)pond_buf_put(&l->s->out, l->items.ptr, l->items.size);
    l->n = 0;
    pond_buf_clear(&l->items);
    return pond_wire_send(&l->s->c, &l->s->out);
}

static int list_next(list_out *l)
{
    l->n++;
    return l->n == WIRE_MAX_ITEMS ? list_flush(l) : 0;
}

static int on_log(const repl_log_entry *e, void *payload)
{
    list_out *l = payload;
    pond_wire_i64(&l->items, e->version);
    pond_wire_u8(&l->items, (uint8_t)e->kind);
    pond_wire_i64(&l->items, e->size);
    return list_next(l);
}

static int on_blob(const repl_blob_ref *b, void *payload)
{
    list_out *l = payload;
    pond_wire_hash(&l->items, &b->sha256);
    pond_wire_hash(&l->items, &b->root);
    pond_wire_i64(&l->items, b->size);
    return list_next(l);
}

static int on_obj(const repl_obj *o, void *payload)
{
    list_out *l = payload;
    pond_wire_obj(&l->items, o);
    return list_next(l);
}

/* Runs a listing op and sends its items in frames of at most WIRE_MAX_ITEMS, then END (or
 * ERROR). */
static int send_list(server *s, wire_type t, int rc_of_op, list_out *l)
{
    int rc = rc_of_op == 0 ? list_flush(l) : 0;
    pond_buf_dispose(&l->items);
    if (rc < 0)
        return rc;
    (void)t;
    if (rc_of_op < 0)
        return reply_last(s, rc_of_op);
    pond_wire_begin(&s->out, W_END);
    return pond_wire_send(&s->c, &s->out);
}

/* ---- puts ---------------------------------------------------------------------------------- */

/* A put's content: DATA payloads read from the connection straight into the receiver's buffer
 * (the large-file store's own chunk buffer for a blob), so nothing is copied on the way and the
 * store's hash thread works on one buffer while the next one is read. */
static int wire_read(void *self, void *buf, size_t cap, size_t *n_out)
{
    server *s = self;
    *n_out = 0;
    if (s->put_ended)
        return 0;
    int rc = pond_wire_read_data(&s->c, buf, cap, n_out);
    if (rc == 0 && *n_out == 0)
        s->put_ended = true;
    return rc;
}

static int drain(server *s)
{
    char *buf = pond_malloc(WIRE_MAX_DATA_V1);
    int rc = buf ? 0 : POND_ENOMEM;
    while (rc == 0 && !s->put_ended) {
        size_t n;
        rc = wire_read(s, buf, WIRE_MAX_DATA_V1, &n);
    }
    pond_free(buf);
    return rc;
}

static void latch(server *s, int rc)
{
    if (s->latched)
        return;
    s->latched = rc;
    snprintf(s->latched_msg, sizeof s->latched_msg, "%s", pond_error_last()->message);
}

static int do_put(server *s, const repl_obj *o)
{
    s->put_ended = false;
    if (!s->latched) {
        repl_source src = {wire_read, NULL, s};
        int rc = s->d->t->put(s->d, o, &src);
        if (rc < 0) {
            /* a broken stream cannot be resynchronised: the session ends */
            if (rc == POND_ECORRUPT && !s->put_ended && pond_error_last()->domain == R &&
                !strncmp(pond_error_last()->message, "wire:", 5))
                return rc;
            latch(s, rc);
        }
    }
    return drain(s);
}

/* ---- the loop ----------------------------------------------------------------------------- */

typedef struct {
    server *s;
    int rc;
} problem_ctx;

static void on_problem(const char *kind, const char *msg, void *payload)
{
    problem_ctx *p = payload;
    if (p->rc < 0)
        return;
    pond_wire_begin(&p->s->out, W_PROBLEM);
    pond_wire_str(&p->s->out, kind);
    pond_wire_str(&p->s->out, msg);
    p->rc = pond_wire_send(&p->s->c, &p->s->out);
}

static int serve_one(server *s, wire_msg *m, bool *bye)
{
    repl_remote *d = s->d;
    int rc = 0;
    /* a request with a reply after a failed pipelined put gets that failure */
    if (s->latched && m->type != W_PUT && m->type != W_BYE)
        return reply_error(s, s->latched, s->latched_msg);
    /* one OPEN first; writes only after OPEN for writing (which holds the pond's lock) */
    bool writes = m->type == W_PUT || m->type == W_SYNC || m->type == W_FINISH;
    if ((m->type == W_OPEN) != (s->mode < 0) && m->type != W_BYE)
        return pond_error_set(POND_ECORRUPT, R, "wire: %s",
                              s->mode < 0 ? "a request before OPEN" : "a second OPEN");
    if (writes && s->mode != REPL_OPEN_WRITE)
        return pond_error_set(POND_ECORRUPT, R, "wire: a write to a pond opened for reading");
    switch (m->type) {
    case W_OPEN: {
        repl_info info;
        if ((rc = d->t->open(&info, d, (repl_open_mode)m->i[0])) < 0)
            return reply_last(s, rc);
        s->mode = (int)m->i[0];
        pond_wire_begin(&s->out, W_INFO);
        pond_wire_u8(&s->out, info.exists);
        pond_wire_u8(&s->out, info.incoming);
        pond_wire_str(&s->out, info.pond_id);
        pond_wire_str(&s->out, info.format);
        pond_wire_i64(&s->out, info.head);
        pond_wire_i64(&s->out, info.low);
        pond_wire_u8(&s->out, info.head_is_commit);
        pond_wire_i64(&s->out, info.last_checkpoint);
        return pond_wire_send(&s->c, &s->out);
    }
    case W_HOLD:
        return (rc = d->t->hold(d, m->i[0])) < 0 ? reply_last(s, rc) : reply_ok(s);
    case W_LIST_LOG: {
        list_out l = {s, 0, W_LOG, POND_BUF_INIT};
        return send_list(s, W_LOG, d->t->list_log(d, m->i[0], m->i[1], on_log, &l), &l);
    }
    case W_MISSING_BLOBS: {
        list_out l = {s, 0, W_BLOBS, POND_BUF_INIT};
        return send_list(s, W_BLOBS, d->t->missing_blobs(d, m->objs, m->n, on_blob, &l), &l);
    }
    case W_LIVE_FILES: {
        list_out l = {s, 0, W_OBJS, POND_BUF_INIT};
        return send_list(s, W_OBJS, d->t->live_files(d, m->i[0], on_obj, &l), &l);
    }
    case W_HASH_LOG:
    case W_HAVE: {
        pond_hash *h = pond_calloc(m->n ? m->n : 1, sizeof *h);
        bool *f = pond_calloc(m->n ? m->n : 1, sizeof *f);
        if (!h || !f)
            rc = POND_ENOMEM;
        else if (m->type == W_HASH_LOG)
            rc = d->t->hash_log(h, f, d, m->objs, m->n);
        else
            rc = d->t->have(f, d, m->objs, m->n);
        if (rc == 0) {
            pond_wire_begin(&s->out, m->type == W_HASH_LOG ? W_HASHES : W_HAVES);
            pond_wire_u32(&s->out, (uint32_t)m->n);
            for (size_t k = 0; k < m->n; k++) {
                pond_wire_u8(&s->out, f[k]);
                if (m->type == W_HASH_LOG)
                    pond_wire_hash(&s->out, &h[k]);
            }
            rc = pond_wire_send(&s->c, &s->out);
        } else {
            rc = reply_last(s, rc);
        }
        pond_free(h);
        pond_free(f);
        return rc;
    }
    case W_GET: {
        repl_source src;
        if ((rc = d->t->get(&src, d, &m->obj)) < 0)
            return reply_last(s, rc);
        char *buf = pond_malloc(s->c.max_data);
        int orc = buf ? 0 : POND_ENOMEM;
        while (orc == 0 && rc == 0) {
            size_t n = 0;
            if ((orc = src.read(src.self, buf, s->c.max_data, &n)) < 0 || n == 0)
                break;
            rc = pond_wire_send_data(&s->c, W_DATA, buf, n);
        }
        if (src.close)
            src.close(src.self);
        pond_free(buf);
        if (rc < 0)
            return rc;
        if (orc < 0)
            return reply_last(s, orc);
        pond_wire_begin(&s->out, W_END);
        return pond_wire_send(&s->c, &s->out);
    }
    case W_PUT:
        return do_put(s, &m->obj);
    case W_SYNC:
    case W_FINISH:
        rc = m->type == W_SYNC ? d->t->sync(d) : d->t->finish(d);
        if (rc < 0) {
            latch(s, rc);
            return reply_last(s, rc);
        }
        return reply_ok(s);
    case W_VERIFY: {
        pond_fsck_report r;
        problem_ctx p = {s, 0};
        int vrc = d->t->verify(&r, d, on_problem, &p);
        if (p.rc < 0)
            return p.rc;
        if (vrc < 0 && vrc != POND_ECORRUPT)
            return reply_last(s, vrc);
        pond_wire_begin(&s->out, W_REPORT);
        int64_t f[10] = {r.rows,         r.data_files,  r.inline_checked, r.blobs_checked,
                         r.bytes_hashed, r.missing,     r.corrupt,        r.unreferenced_blobs,
                         r.stale_temps,  r.orphan_files};
        for (int k = 0; k < 10; k++)
            pond_wire_i64(&s->out, f[k]);
        pond_wire_u32(&s->out, (uint32_t)(int32_t)vrc);
        pond_wire_str(&s->out, vrc < 0 ? pond_error_last()->message : "");
        return pond_wire_send(&s->c, &s->out);
    }
    case W_BYE:
        *bye = true;
        return 0;
    default:
        return pond_error_set(POND_ECORRUPT, R, "wire: a client may not send a %d message",
                              (int)m->type);
    }
}

int pond_repl_serve(int in_fd, int out_fd, const char *dir)
{
    POND_ASSERT_ARG(dir);
    server s = {0};
    s.mode = -1;
    int rc = pond_wire_conn_init(&s.c, in_fd, out_fd, "the pond client");
    if (rc == 0)
        rc = pond_repl_dir_new(&s.d, dir, dir);
    wire_msg m = {0};
    if (rc == 0 && (rc = pond_wire_recv(&s.c, &m)) == 0) {
        if (m.type != W_HELLO || m.i[0] > WIRE_VERSION || m.i[1] < WIRE_VERSION_MIN) {
            rc = pond_error_set(POND_EUNSUPPORTED, R,
                                "wire: the client speaks versions %lld..%lld, this pond %d..%d",
                                (long long)m.i[0], (long long)m.i[1], WIRE_VERSION_MIN,
                                WIRE_VERSION);
            (void)reply_last(&s, rc);
        } else {
            /* the highest version both speak */
            unsigned v = m.i[1] < WIRE_VERSION ? (unsigned)m.i[1] : WIRE_VERSION;
            pond_wire_set_version(&s.c, v);
            pond_wire_begin(&s.out, W_HELLO_OK);
            pond_wire_u32(&s.out, v);
            pond_wire_str(&s.out, pond_version());
            rc = pond_wire_send(&s.c, &s.out);
        }
        pond_wire_msg_dispose(&m);
    }
    bool bye = false;
    while (rc == 0 && !bye && (rc = pond_wire_flush(&s.c)) == 0) {
        if ((rc = pond_wire_recv(&s.c, &m)) < 0)
            break;
        rc = serve_one(&s, &m, &bye);
        pond_wire_msg_dispose(&m);
    }
    if (rc == POND_EEOF)
        rc = 0; /* the client went away: what was not synced was never promised */
    if (rc < 0 && s.c.rbuf) {
        /* tell the client why, if it still listens */
        (void)reply_last(&s, rc);
        (void)pond_wire_flush(&s.c);
    }
    pond_repl_remote_free(s.d);
    pond_wire_conn_dispose(&s.c);
    pond_buf_dispose(&s.out);
    return rc;
}
