#include "cli/cli_pond.h"

#include <pond/rows.h>
#include <pond/timefmt.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int cli_fail(void)
{
    fflush(stdout); /* what was printed before the error comes before it */
    fprintf(stderr, "pond: %s\n", pond_error_last()->message);
    return 1;
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vmessage("pond: ", fmt, ap);
    va_end(ap);
    return 1;
}

void cli_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vmessage("pond: warning: ", fmt, ap);
    va_end(ap);
}

void cli_note_stale(const char *path)
{
    fflush(stdout);
    fprintf(stderr,
            "pond: note: %s is stale (a manual recipe whose sources changed since its last "
            "refresh): computed from its sources for this read, not stored (pond derive "
            "refresh %s stores it)\n",
            path, path);
}

void cli_note_if_stale(pond_fs *fs, const char *path)
{
    pond_fs_node *h = NULL;
    bool stale = false;
    if (pond_fs_node_open(&h, fs, NULL, path, 0) == 0 && pond_derive_stale(&stale, h) == 0 && stale)
        cli_note_stale(path);
    pond_fs_node_free(h);
}

int cli_pond_open(cli_pond *p, pond_cli *cli, bool write)
{
    memset(p, 0, sizeof *p);
    if (!cli->pond_dir)
        return cli_error("no pond: give --pond DIR or set POND");
    p->dir = cli->pond_dir;
    p->threads = cli->threads;
    if (write && cli->at_version >= 0)
        return cli_error("--at is for read commands: a past version cannot be changed");
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = write ? -1 : cli->at_version;
    if (pond_oplog_open(&p->be, p->dir, &oo) < 0)
        return cli_fail();
    /* the pond reads right, but the user should know what it read around */
    for (size_t i = 0; pond_oplog_warning(p->be, i); i++)
        cli_warning("%s", pond_oplog_warning(p->be, i));
    if (write && pond_oplog_lock(p->be, true) < 0) {
        cli_pond_close(p);
        return cli_fail();
    }
    p->writing = write;
    if (pond_fs_open(&p->fs, p->be, NULL) < 0) {
        cli_pond_close(p);
        return cli_fail();
    }
    return 0;
}

int cli_pond_open_leased(cli_pond *p, pond_cli *cli, const char *what)
{
    if (!cli->pond_dir) {
        memset(p, 0, sizeof *p);
        return cli_error("no pond: give --pond DIR or set POND");
    }
    /* the lease before the open: what the open reads is at v or later */
    pond_oplog_lease *lease = NULL;
    int64_t v = cli->at_version;
    if (v < 0 && pond_oplog_head(&v, cli->pond_dir) < 0) {
        memset(p, 0, sizeof *p);
        return cli_fail();
    }
    if (pond_oplog_lease_take(&lease, cli->pond_dir, v < 0 ? 0 : v, what) < 0)
        cli_warning("%s: reading without a snapshot lease (a gc in another process may remove "
                    "what this command is reading)",
                    pond_error_last()->message);
    int rc = cli_pond_open(p, cli, false);
    if (rc != 0) {
        pond_oplog_lease_release(lease);
        return rc;
    }
    p->lease = lease;
    return 0;
}

int cli_json_str(pond_buf *b, const char *s) { return pond_buf_put_json_string(b, s, strlen(s)); }

int cli_pond_begin(cli_pond *p, pond_cli *cli)
{
    pond_buf meta = POND_BUF_INIT;
    int rc = pond_buf_puts(&meta, "{\"pondCommand\":[");
    for (int i = 0; i < cli->cmdline_argc && rc == 0; i++) {
        if (i)
            rc = pond_buf_putc(&meta, ',');
        if (rc == 0)
            rc = cli_json_str(&meta, i == 0 ? "pond" : cli->cmdline_argv[i]);
    }
    if (rc == 0)
        rc = pond_buf_puts(&meta, "]}");
    if (rc == 0)
        rc = pond_fs_begin(p->fs, meta.ptr);
    pond_buf_dispose(&meta);
    return rc < 0 ? cli_fail() : 0;
}

int cli_pond_commit(cli_pond *p)
{
    if (pond_fs_commit(NULL, p->fs) < 0) {
        /* a full disk: say that nothing changed and what frees space from inside pond */
        const char *m = pond_error_last()->message;
        if (strstr(m, strerror(ENOSPC)))
            return cli_error("%s: nothing was committed (free some space: 'pond gc' removes "
                             "what no read of the pond needs)",
                             m);
        return cli_fail();
    }
    /* the commit stands; what failed after it is retried by the next one */
    const char *m = pond_oplog_maintenance_error(p->be);
    if (m)
        cli_warning("%s", m);
    return 0;
}

void cli_pond_close(cli_pond *p)
{
    pond_fs_free(p->fs);
    if (p->be && p->writing)
        pond_oplog_unlock(p->be);
    pond_backend_free(p->be);
    pond_oplog_lease_release(p->lease);
    memset(p, 0, sizeof *p);
}

size_t cli_time_seconds(char out[40], int64_t us) { return pond_format_time_seconds(out, us); }

void cli_human_size(char out[32], int64_t n) { pond_format_size(out, n); }

const char *cli_host_path(const char *s)
{
    if (strncmp(s, "host:", 5) != 0)
        return NULL;
    s += 5;
    if (!strncmp(s, "///", 3))
        return s + 2; /* host:///abs/dir -> /abs/dir */
    return s;
}

bool cli_stdout_tty(void) { return isatty(1); }
bool cli_stderr_tty(void) { return isatty(2) && !getenv("POND_NO_PROGRESS"); }

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cli_progress_start(cli_progress *p, const char *what, int64_t total)
{
    memset(p, 0, sizeof *p);
    p->what = what;
    p->total = total;
    p->active = cli_stderr_tty() && (total < 0 || total > 4 * 1024 * 1024);
}

void cli_progress_add(cli_progress *p, int64_t n)
{
    p->done += n;
    if (!p->active)
        return;
    int64_t t = now_us();
    if (t - p->last_draw_us < 100000)
        return;
    p->last_draw_us = t;
    char d[32];
    cli_human_size(d, p->done);
    if (p->total > 0) {
        int pct = (int)(p->done * 100 / p->total), w = 30, fillw = pct * w / 100;
        char bar[31];
        memset(bar, '#', (size_t)fillw);
        memset(bar + fillw, '.', (size_t)(w - fillw));
        bar[w] = '\0';
        fprintf(stderr, "\r%s [%s] %3d%% %s", p->what, bar, pct, d);
    } else {
        fprintf(stderr, "\r%s %s", p->what, d);
    }
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->active && p->last_draw_us)
        fprintf(stderr, "\r\033[K");
    p->active = false;
}

void cli_dedup_dispose(cli_dedup *d)
{
    for (size_t i = 0; d->keys && i < d->n_keys; i++)
        free(d->keys[i]);
    free(d->keys);
    memset(d, 0, sizeof *d);
}

int cli_dedup_parse(cli_dedup *out, const char *s)
{
    cli_dedup_dispose(out);
    if (!strcmp(s, "none")) {
        out->rule = POND_DEDUP_NONE;
        return 0;
    }
    if (strncmp(s, "last", 4) || (s[4] && s[4] != ':') || (s[4] && !s[5]))
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "'%s' is not a dedup rule (last, last:COLUMN,... or none)", s);
    out->rule = POND_DEDUP_LAST;
    for (const char *p = s + 5; s[4];) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!len) {
            cli_dedup_dispose(out);
            return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                                  "'%s' is not a dedup rule (an empty column name)", s);
        }
        char **nk = realloc(out->keys, (out->n_keys + 1) * sizeof *nk);
        if (nk)
            out->keys = nk;
        if (!nk || !(nk[out->n_keys] = strndup(p, len))) {
            cli_dedup_dispose(out);
            return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
        }
        out->n_keys++;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

int cli_opt_dedup(void *dest, const char *value) { return cli_dedup_parse(dest, value); }

int cli_time_range(bool *has_range, int64_t *from_us, int64_t *to_us, const cli_spec *spec,
                   const char *from_text, const char *to_text, const pond_tz *tz)
{
    *has_range = from_text || to_text;
    *from_us = INT64_MIN;
    *to_us = INT64_MAX;
    const char *bad = NULL;
    if (from_text && pond_time_parse_arg(from_us, from_text, strlen(from_text), tz) < 0)
        bad = "--from";
    else if (to_text && pond_time_parse_arg(to_us, to_text, strlen(to_text), tz) < 0)
        bad = "--to";
    if (bad)
        return cli_usage(spec, "%s: %s", bad, pond_error_last()->message);
    return -1;
}

bool cli_is_glob(const char *operand) { return strpbrk(operand, "*?[") != NULL; }

typedef struct {
    cli_operand_fn fn;
    void *payload;
    size_t taken, skipped;
    int rc;
} expand_ctx;

static int on_glob_match(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                         void *payload)
{
    (void)caps, (void)n;
    expand_ctx *x = payload;
    int rc = x->fn(path, st, true, x->payload);
    if (rc == CLI_SKIPPED) {
        x->skipped++;
        return 0;
    }
    if (rc)
        return x->rc = rc;
    x->taken++;
    return 0;
}

int cli_expand_operands(bool *globs_out, cli_pond *p, char *const *operands, int n,
                        const char *kind, const char *skipped, cli_operand_fn fn, void *payload)
{
    expand_ctx x = {fn, payload, 0, 0, 0};
    if (globs_out)
        *globs_out = false;
    for (int i = 0; i < n; i++) {
        if (!cli_is_glob(operands[i])) {
            int rc = fn(operands[i], NULL, false, payload);
            if (rc && rc != CLI_SKIPPED)
                return rc;
            continue;
        }
        if (globs_out)
            *globs_out = true;
        x.taken = x.skipped = 0;
        if (pond_fs_glob(p->fs, NULL, operands[i], on_glob_match, &x) < 0 && !x.rc)
            return cli_fail();
        if (x.rc)
            return x.rc;
        if (!x.taken)
            return x.skipped ? cli_error("no %s matches '%s', only %s", kind, operands[i], skipped)
                             : cli_error("no match for '%s'", operands[i]);
    }
    return 0;
}
