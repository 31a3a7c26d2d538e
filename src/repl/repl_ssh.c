/* The SSH transport: runs `<ssh> [-p PORT] [user@]host '<exec> wire-server <path>'` (the
 * system's ssh client, or $POND_SSH_COMMAND through /bin/sh, as git does) and speaks the wire
 * protocol (repl_wire.h) on its stdin/stdout. Puts are pipelined: nothing waits for a reply
 * until a sync or a query. */
#include "repl/repl_wire.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    repl_remote base;
    pid_t pid;
    int to_child, from_child;
    wire_conn c;
    pond_buf out;
    bool broken;
    bool getting; /* a get's frames are still coming */
    char *data;   /* a put's buffer (the negotiated DATA bound), allocated at the first put */
} ssh_remote;

#define SR(r) ((ssh_remote *)(r))

/* The remote shell reads the command: every argument single-quoted. */
static int shell_quote(pond_buf *b, const char *s)
{
    int rc = pond_buf_putc(b, '\'');
    for (; rc == 0 && *s; s++)
        rc = *s == '\'' ? pond_buf_puts(b, "'\\''") : pond_buf_putc(b, *s);
    return rc == 0 ? pond_buf_putc(b, '\'') : rc;
}

static int fail(ssh_remote *s, int rc)
{
    if (rc == POND_EIO || rc == POND_EEOF || rc == POND_ECORRUPT)
        s->broken = true;
    return rc;
}

static int send_flush(ssh_remote *s)
{
    int rc = pond_wire_send(&s->c, &s->out);
    if (rc == 0)
        rc = pond_wire_flush(&s->c);
    return fail(s, rc);
}

/* Receives the reply; an ERROR frame becomes that error, another type than want a protocol
 * error. */
static int expect(ssh_remote *s, wire_msg *m, wire_type want, wire_type alt)
{
    int rc = pond_wire_recv(&s->c, m);
    if (rc < 0)
        return fail(s, rc);
    if (m->type == W_ERROR) {
        rc = pond_error_set((int)m->i[0], R, "%s", m->s1);
        pond_wire_msg_dispose(m);
        return rc;
    }
    if (m->type != want && m->type != alt) {
        pond_wire_msg_dispose(m);
        return fail(s, pond_error_set(POND_ECORRUPT, R,
                                      "wire: '%s' answered with the wrong message (%d)",
                                      s->base.url, (int)m->type));
    }
    return 0;
}

static int usable(ssh_remote *s)
{
    if (s->broken)
        return pond_error_set(POND_EIO, R, "connection to '%s' is broken", s->base.url);
    if (s->getting)
        return pond_error_set(POND_EINVALID, R, "'%s': a get is still open", s->base.url);
    return 0;
}

static int s_open(repl_info *out, repl_remote *r, repl_open_mode mode)
{
    ssh_remote *s = SR(r);
    wire_msg m;
    int rc = usable(s);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_OPEN);
    pond_wire_u8(&s->out, (uint8_t)mode);
    if ((rc = send_flush(s)) < 0 || (rc = expect(s, &m, W_INFO, W_INFO)) < 0)
        return rc;
    memset(out, 0, sizeof *out);
    out->exists = m.i[0];
    out->incoming = m.i[1];
    /* the decoder bounds both (63 and 15 bytes) */
    memcpy(out->pond_id, m.s1, strnlen(m.s1, sizeof out->pond_id - 1));
    memcpy(out->format, m.s2, strnlen(m.s2, sizeof out->format - 1));
    out->head = m.i[2];
    out->low = m.i[3];
    out->head_is_commit = m.i[4];
    out->last_checkpoint = m.i[5];
    pond_wire_msg_dispose(&m);
    return 0;
}

static int s_hold(repl_remote *r, int64_t version)
{
    ssh_remote *s = SR(r);
    wire_msg m;
    int rc = usable(s);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_HOLD);
    pond_wire_i64(&s->out, version);
    if ((rc = send_flush(s)) == 0 && (rc = expect(s, &m, W_DONE, W_DONE)) == 0)
        pond_wire_msg_dispose(&m);
    return rc;
}

/* Receives list frames of type t until END, calling each(). */
static int recv_list(ssh_remote *s, wire_type t, int (*each)(wire_msg *m, void *p), void *p)
{
    int rc = 0;
    for (;;) {
        wire_msg m;
        if ((rc = expect(s, &m, t, W_END)) < 0)
            return rc;
        bool end = m.type == W_END;
        /* a failing callback still reads the rest of the list: the stream stays in step */
        if (!end && rc == 0)
            rc = each(&m, p);
        pond_wire_msg_dispose(&m);
        if (end)
            return rc;
    }
}

typedef struct {
    repl_log_fn log;
    repl_blob_fn blob;
    repl_obj_fn obj;
    void *payload;
    int rc;
} cb_ctx;

static int each_log(wire_msg *m, void *p)
{
    cb_ctx *c = p;
    for (size_t k = 0; c->rc == 0 && k < m->n; k++)
        c->rc = c->log(&m->logs[k], c->payload);
    return 0;
}

static int s_list_log(repl_remote *r, int64_t from, int64_t to, repl_log_fn fn, void *payload)
{
    ssh_remote *s = SR(r);
    int rc = usable(s);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_LIST_LOG);
    pond_wire_i64(&s->out, from);
    pond_wire_i64(&s->out, to);
    cb_ctx c = {.log = fn, .payload = payload};
    if ((rc = send_flush(s)) == 0)
        rc = recv_list(s, W_LOG, each_log, &c);
    return rc < 0 ? rc : c.rc;
}

static int objs_request(ssh_remote *s, wire_type t, const repl_obj *objs, size_t n)
{
    pond_wire_begin(&s->out, t);
    pond_wire_u32(&s->out, (uint32_t)n);
    for (size_t k = 0; k < n; k++)
        pond_wire_obj(&s->out, &objs[k]);
    return send_flush(s);
}

static int flags_reply(pond_hash *hashes, bool *flags, ssh_remote *s, wire_type t,
                       const repl_obj *objs, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i += WIRE_MAX_ITEMS) {
        size_t k = n - i < WIRE_MAX_ITEMS ? n - i : WIRE_MAX_ITEMS;
        wire_msg m;
        if ((rc = objs_request(s, t, objs + i, k)) < 0 ||
            (rc = expect(s, &m, t == W_HAVE ? W_HAVES : W_HASHES, W_ERROR)) < 0)
            break;
        if (m.n != k)
            rc = fail(s, pond_error_set(POND_ECORRUPT, R, "wire: '%s' answered %zu of %zu",
                                        s->base.url, m.n, k));
        for (size_t j = 0; rc == 0 && j < k; j++) {
            flags[i + j] = m.flags[j];
            if (hashes)
                hashes[i + j] = m.hashes[j];
        }
        pond_wire_msg_dispose(&m);
    }
    return rc;
}

static int s_hash_log(pond_hash *out, bool *present, repl_remote *r, const repl_obj *objs, size_t n)
{
    int rc = usable(SR(r));
    return rc < 0 ? rc : flags_reply(out, present, SR(r), W_HASH_LOG, objs, n);
}

static int s_have(bool *out, repl_remote *r, const repl_obj *objs, size_t n)
{
    int rc = usable(SR(r));
    return rc < 0 ? rc : flags_reply(NULL, out, SR(r), W_HAVE, objs, n);
}

static int each_blob(wire_msg *m, void *p)
{
    cb_ctx *c = p;
    for (size_t k = 0; c->rc == 0 && k < m->n; k++)
        c->rc = c->blob(&m->blobs[k], c->payload);
    return 0;
}

static int s_missing_blobs(repl_remote *r, const repl_obj *files, size_t n, repl_blob_fn fn,
                           void *payload)
{
    ssh_remote *s = SR(r);
    int rc = usable(s);
    cb_ctx c = {.blob = fn, .payload = payload};
    for (size_t i = 0; rc == 0 && c.rc == 0 && i < n; i += WIRE_MAX_ITEMS) {
        size_t k = n - i < WIRE_MAX_ITEMS ? n - i : WIRE_MAX_ITEMS;
        if ((rc = objs_request(s, W_MISSING_BLOBS, files + i, k)) == 0)
            rc = recv_list(s, W_BLOBS, each_blob, &c);
    }
    return rc < 0 ? rc : c.rc;
}

static int each_obj(wire_msg *m, void *p)
{
    cb_ctx *c = p;
    for (size_t k = 0; c->rc == 0 && k < m->n; k++)
        c->rc = c->obj(&m->objs[k], c->payload);
    return 0;
}

static int s_live_files(repl_remote *r, int64_t version, repl_obj_fn fn, void *payload)
{
    ssh_remote *s = SR(r);
    int rc = usable(s);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_LIVE_FILES);
    pond_wire_i64(&s->out, version);
    cb_ctx c = {.obj = fn, .payload = payload};
    if ((rc = send_flush(s)) == 0)
        rc = recv_list(s, W_OBJS, each_obj, &c);
    return rc < 0 ? rc : c.rc;
}

/* ---- get: the reply's DATA frames as a source ------------------------------------------------ */

typedef struct {
    ssh_remote *s;
    wire_msg m; /* the current DATA frame */
    size_t pos;
    bool end;
} get_source;

static int gs_read(void *self, void *buf, size_t cap, size_t *n_out)
{
    get_source *g = self;
    *n_out = 0;
    while (!g->end && g->pos == g->m.data_len) {
        pond_wire_msg_dispose(&g->m);
        int rc = expect(g->s, &g->m, W_DATA, W_END);
        if (rc < 0) {
            g->end = true;
            g->s->getting = false;
            memset(&g->m, 0, sizeof g->m);
            return rc;
        }
        g->pos = 0;
        if (g->m.type == W_END) {
            g->end = true;
            g->s->getting = false;
            g->m.data_len = 0;
        }
    }
    size_t k = g->m.data_len - g->pos < cap ? g->m.data_len - g->pos : cap;
    if (k)
        memcpy(buf, g->m.data + g->pos, k);
    g->pos += k;
    *n_out = k;
    return 0;
}

static void gs_close(void *self)
{
    get_source *g = self;
    char buf[4096];
    size_t n;
    /* read to the end: the stream must stay in step for the next request */
    while (!g->end && gs_read(g, buf, sizeof buf, &n) == 0)
        ;
    pond_wire_msg_dispose(&g->m);
    pond_free(g);
}

static int s_get(repl_source *out, repl_remote *r, const repl_obj *obj)
{
    ssh_remote *s = SR(r);
    int rc = usable(s);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_GET);
    pond_wire_obj(&s->out, obj);
    get_source *g = pond_calloc(1, sizeof *g);
    if (!g)
        return POND_ENOMEM;
    g->s = s;
    if ((rc = send_flush(s)) < 0) {
        pond_free(g);
        return rc;
    }
    /* the first frame tells whether the object is there */
    if ((rc = expect(s, &g->m, W_DATA, W_END)) < 0) {
        pond_free(g);
        return rc;
    }
    if (g->m.type == W_END) {
        g->end = true;
        g->m.data_len = 0;
    } else {
        s->getting = true;
    }
    *out = (repl_source){gs_read, gs_close, g};
    return 0;
}

/* ---- writes ------------------------------------------------------------------------------- */

static int s_put(repl_remote *r, const repl_obj *o, const repl_source *src)
{
    ssh_remote *s = SR(r);
    int rc = usable(s);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_PUT);
    pond_wire_obj(&s->out, o);
    if ((rc = fail(s, pond_wire_send(&s->c, &s->out))) < 0)
        return rc;
    /* one buffer for the session: a push of many small objects allocates nothing per put */
    if (!s->data && !(s->data = pond_malloc(s->c.max_data))) {
        s->broken = true; /* the put's header is out: the session cannot go on */
        return POND_ENOMEM;
    }
    char *buf = s->data;
    for (;;) {
        size_t n = 0;
        if ((rc = src->read(src->self, buf, s->c.max_data, &n)) < 0) {
            /* the put cannot be finished: the server must not take a short object, so the
             * session ends here */
            s->broken = true;
            break;
        }
        if (n == 0)
            break;
        if ((rc = fail(s, pond_wire_send_data(&s->c, W_DATA, buf, n))) < 0)
            break;
    }
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_END);
    return fail(s, pond_wire_send(&s->c, &s->out));
}

static int simple(repl_remote *r, wire_type t)
{
    ssh_remote *s = SR(r);
    wire_msg m;
    int rc = usable(s);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, t);
    if ((rc = send_flush(s)) == 0 && (rc = expect(s, &m, W_DONE, W_DONE)) == 0)
        pond_wire_msg_dispose(&m);
    return rc;
}

static int s_sync(repl_remote *r) { return simple(r, W_SYNC); }
static int s_finish(repl_remote *r) { return simple(r, W_FINISH); }

static int s_verify(pond_fsck_report *out, repl_remote *r, repl_problem_fn fn, void *payload)
{
    ssh_remote *s = SR(r);
    int rc = usable(s);
    memset(out, 0, sizeof *out);
    if (rc < 0)
        return rc;
    pond_wire_begin(&s->out, W_VERIFY);
    if ((rc = send_flush(s)) < 0)
        return rc;
    for (;;) {
        wire_msg m;
        if ((rc = expect(s, &m, W_PROBLEM, W_REPORT)) < 0)
            return rc;
        if (m.type == W_PROBLEM) {
            if (fn)
                fn(m.s1, m.s2, payload);
            pond_wire_msg_dispose(&m);
            continue;
        }
        int64_t *f[10] = {&out->rows,          &out->data_files,         &out->inline_checked,
                          &out->blobs_checked, &out->bytes_hashed,       &out->missing,
                          &out->corrupt,       &out->unreferenced_blobs, &out->stale_temps,
                          &out->orphan_files};
        for (int k = 0; k < 10; k++)
            *f[k] = m.i[k];
        rc = (int)m.i[10];
        if (rc < 0)
            rc = pond_error_set(rc, R, "%s", m.s1);
        pond_wire_msg_dispose(&m);
        return rc;
    }
}

static void s_free(repl_remote *r)
{
    ssh_remote *s = SR(r);
    if (!s)
        return;
    if (s->pid > 0 && !s->broken && !s->getting && s->c.wbuf) {
        pond_wire_begin(&s->out, W_BYE);
        (void)send_flush(s);
    }
    if (s->to_child >= 0)
        close(s->to_child);
    if (s->from_child >= 0)
        close(s->from_child);
    if (s->pid > 0) {
        int st;
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    pond_wire_conn_dispose(&s->c);
    pond_buf_dispose(&s->out);
    pond_free(s->data);
    pond_free(s->base.url);
    pond_free(s);
}

static const repl_transport SSH_TRANSPORT = {
    REPL_TRANSPORT_VERSION,
    "ssh",
    s_open,
    s_hold,
    s_list_log,
    s_hash_log,
    s_have,
    s_missing_blobs,
    s_get,
    s_live_files,
    s_put,
    s_sync,
    s_finish,
    s_verify,
    s_free,
};

int pond_repl_ssh_new(repl_remote **out, const char *url, const char *user_host, const char *port,
                      const char *path, const char *exec, const char *ssh_command)
{
    *out = NULL;
    ssh_remote *s = pond_calloc(1, sizeof *s);
    if (!s)
        return POND_ENOMEM;
    s->base.t = &SSH_TRANSPORT;
    s->to_child = s->from_child = -1;
    pond_buf cmd = POND_BUF_INIT, shell = POND_BUF_INIT;
    int rc = (s->base.url = pond_strdup(url)) ? 0 : POND_ENOMEM;
    if (!ssh_command || !*ssh_command)
        ssh_command = getenv("POND_SSH_COMMAND");
    if (!ssh_command || !*ssh_command)
        ssh_command = "ssh";
    /* the remote command line: its shell splits it, so each word is quoted */
    if (rc == 0)
        rc = shell_quote(&cmd, exec && *exec ? exec : "pond");
    if (rc == 0)
        rc = pond_buf_puts(&cmd, " wire-server ");
    if (rc == 0)
        rc = shell_quote(&cmd, path);
    /* the local one: $POND_SSH_COMMAND may hold options, so /bin/sh reads it, and the
     * arguments follow as "$@" */
    if (rc == 0)
        rc = pond_buf_printf(&shell, "%s \"$@\"", ssh_command);
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    if (rc == 0 && (pipe(in_pipe) < 0 || pipe(out_pipe) < 0))
        rc = pond_error_set_os(R, "pipe");
    if (rc == 0) {
        char *argv[10];
        int k = 0;
        argv[k++] = "/bin/sh";
        argv[k++] = "-c";
        argv[k++] = shell.ptr;
        argv[k++] = "ssh";
        if (port && *port) {
            argv[k++] = "-p";
            argv[k++] = (char *)port;
        }
        argv[k++] = "--";
        argv[k++] = (char *)user_host;
        argv[k++] = cmd.ptr;
        argv[k] = NULL;
        s->pid = fork();
        if (s->pid < 0) {
            rc = pond_error_set_os(R, "fork");
        } else if (s->pid == 0) {
            dup2(in_pipe[0], STDIN_FILENO);
            dup2(out_pipe[1], STDOUT_FILENO);
            close(in_pipe[0]);
            close(in_pipe[1]);
            close(out_pipe[0]);
            close(out_pipe[1]);
            signal(SIGPIPE, SIG_DFL);
            execv("/bin/sh", argv);
            _exit(127);
        }
    }
    if (in_pipe[0] >= 0)
        close(in_pipe[0]);
    if (out_pipe[1] >= 0)
        close(out_pipe[1]);
    s->to_child = in_pipe[1];
    s->from_child = out_pipe[0];
    pond_buf_dispose(&cmd);
    pond_buf_dispose(&shell);
    if (rc == 0)
        rc = pond_wire_conn_init(&s->c, s->from_child, s->to_child, s->base.url);
    if (rc == 0) {
        wire_msg m;
        pond_wire_begin(&s->out, W_HELLO);
        pond_wire_str(&s->out, WIRE_MAGIC);
        pond_wire_u32(&s->out, WIRE_VERSION_MIN);
        pond_wire_u32(&s->out, WIRE_VERSION);
        pond_wire_str(&s->out, pond_version());
        if ((rc = send_flush(s)) == 0 && (rc = expect(s, &m, W_HELLO_OK, W_HELLO_OK)) == 0) {
            if (m.i[0] < WIRE_VERSION_MIN || m.i[0] > WIRE_VERSION)
                rc = pond_error_set(POND_EUNSUPPORTED, R,
                                    "'%s' answered with wire version %lld, this pond speaks "
                                    "%d..%d",
                                    url, (long long)m.i[0], WIRE_VERSION_MIN, WIRE_VERSION);
            else
                pond_wire_set_version(&s->c, (unsigned)m.i[0]);
            pond_wire_msg_dispose(&m);
        } else if (rc == POND_EEOF || rc == POND_EIO)
            rc = pond_error_set(POND_EIO, R,
                                "'%s': no pond answered over ssh (is ssh set up for that host, "
                                "and pond installed there? --exec names it)",
                                url);
    }
    if (rc < 0) {
        s->broken = true;
        s_free(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
