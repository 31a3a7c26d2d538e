/* Remotes: `_host/remotes` (host-side state, never replicated) and URLs.
 *
 * The file is text, one remote per line after a header, fields separated by tabs:
 *     pond-remotes 1
 *     <name> TAB <url> TAB <exec or -> TAB <agreed version> TAB <time µs>
 * It is replaced as a whole (temp file, fsync, rename, fsync of `_host/`). */
#include "repl/repl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER "pond-remotes 1\n"
#define MAX_REMOTES_FILE ((size_t)4 << 20)

static bool good_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= POND_REMOTE_NAME_MAX || s[0] == '-' || s[0] == '.')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

static bool good_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static char *remotes_path(const char *dir)
{
    pond_buf b = POND_BUF_INIT;
    if (pond_buf_printf(&b, "%s/%s/remotes", dir, POND_HOST_DIR) < 0) {
        pond_buf_dispose(&b);
        return NULL;
    }
    return pond_buf_detach(&b);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const pond_remote *)a)->name, ((const pond_remote *)b)->name);
}

int pond_remote_list(pond_remote **out, size_t *n_out, const char *dir)
{
    POND_ASSERT_ARG(out && n_out && dir);
    *out = NULL;
    *n_out = 0;
    char *p = remotes_path(dir);
    if (!p)
        return POND_ENOMEM;
    pond_buf text = POND_BUF_INIT;
    /* host-side state is pond's own: no link followed below the pond */
    int rc = pond__read_file_in(&text, dir, POND_HOST_DIR "/remotes", MAX_REMOTES_FILE, R);
    if (rc == POND_ENOTFOUND) {
        pond_error_clear();
        pond_free(p);
        pond_buf_dispose(&text);
        return 0;
    }
    pond_remote *v = NULL;
    size_t n = 0, cap = 0, lineno = 1;
    if (rc == 0 && (text.size < strlen(HEADER) || memcmp(text.ptr, HEADER, strlen(HEADER))))
        rc = pond_error_set(POND_ECORRUPT, R, "'%s' line 1: not a pond remotes file", p);
    for (char *line = rc == 0 ? text.ptr + strlen(HEADER) : NULL, *next; rc == 0 && line && *line;
         line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (!next) {
            rc = pond_error_set(POND_ECORRUPT, R, "'%s' line %zu: cut short", p, lineno);
            break;
        }
        *next++ = '\0';
        char *f[5];
        int nf = 0;
        for (char *s = line, *tab; nf < 5; s = tab + 1) {
            f[nf++] = s;
            if (!(tab = strchr(s, '\t')))
                break;
            *tab = '\0';
        }
        char *end1 = NULL, *end2 = NULL;
        long long ver = nf == 5 ? strtoll(f[3], &end1, 10) : 0;
        long long t = nf == 5 ? strtoll(f[4], &end2, 10) : 0;
        if (nf != 5 || !good_name(f[0]) || !good_text(f[1], POND_REMOTE_URL_MAX) ||
            !good_text(f[2], POND_REMOTE_URL_MAX) || *end1 || *end2 || ver < -1 || t < 0) {
            rc = pond_error_set(POND_ECORRUPT, R,
                                "'%s' line %zu: not name, url, exec, version "
                                "and time separated by tabs",
                                p, lineno);
            break;
        }
        if (POND_GROW(v, n, cap) < 0) {
            rc = POND_ENOMEM;
            break;
        }
        pond_remote *r = &v[n++];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", f[0]);
        snprintf(r->url, sizeof r->url, "%s", f[1]);
        snprintf(r->exec, sizeof r->exec, "%s", strcmp(f[2], "-") ? f[2] : "");
        r->version = ver;
        r->time_us = t;
    }
    pond_buf_dispose(&text);
    pond_free(p);
    if (rc < 0) {
        pond_free(v);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, name_cmp);
    *out = v;
    *n_out = n;
    return 0;
}

static int write_remotes(const char *dir, const pond_remote *v, size_t n)
{
    char *p = remotes_path(dir);
    pond_buf text = POND_BUF_INIT, tmp = POND_BUF_INIT, host = POND_BUF_INIT;
    int fd = -1;
    int rc = p ? pond_buf_puts(&text, HEADER) : POND_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = pond_buf_printf(&text, "%s\t%s\t%s\t%" PRId64 "\t%" PRId64 "\n", v[i].name, v[i].url,
                             v[i].exec[0] ? v[i].exec : "-", v[i].version, v[i].time_us);
    if (rc == 0)
        rc = pond_buf_printf(&host, "%s/%s", dir, POND_HOST_DIR);
    if (rc == 0)
        rc = pond__mkdir_own(host.ptr, NULL, R); /* a real directory, never a link */
    if (rc == 0)
        rc = pond_buf_printf(&tmp, "%s/.remotes.tmp-%ld", host.ptr, (long)getpid());
    if (rc == 0)
        rc = pond__open(&fd, tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644, R);
    if (rc == 0)
        rc = pond__write_all(fd, text.ptr, text.size, tmp.ptr, R);
    if (rc == 0)
        rc = pond__fsync(fd, tmp.ptr, R);
    pond__close(fd);
    if (rc == 0 && pond__os_rename(tmp.ptr, p) < 0)
        rc = pond_error_set_os(R, "rename '%s' to '%s'", tmp.ptr, p);
    if (rc == 0)
        rc = pond__fsync_dir(host.ptr, R);
    else if (fd >= 0)
        (void)pond__os_unlink(tmp.ptr);
    pond_buf_dispose(&text);
    pond_buf_dispose(&tmp);
    pond_buf_dispose(&host);
    pond_free(p);
    return rc;
}

int pond_remote_get(pond_remote *out, const char *dir, const char *name)
{
    POND_ASSERT_ARG(out && dir && name);
    pond_remote *v = NULL;
    size_t n = 0;
    int rc = pond_remote_list(&v, &n, dir);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) {
            *out = v[i];
            pond_free(v);
            return 0;
        }
    pond_buf names = POND_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        pond_buf_printf(&names, "%s%s", i ? ", " : "", v[i].name);
    rc = pond_error_set(POND_ENOTFOUND, R, "no remote '%s' (%s%s)", name,
                        n ? "remotes: " : "none yet: pond remote add NAME URL", n ? names.ptr : "");
    pond_buf_dispose(&names);
    pond_free(v);
    return rc;
}

/* ---- URLs ------------------------------------------------------------------------------------ */

typedef struct {
    bool ssh;
    char user_host[256];
    char port[8];
    char path[POND_REMOTE_URL_MAX];
} parsed_url;

static int parse_url(parsed_url *u, const char *url)
{
    memset(u, 0, sizeof *u);
    if (!strncmp(url, "ssh://", 6)) {
        const char *h = url + 6, *slash = strchr(h, '/');
        if (!slash || slash == h || !slash[1])
            return pond_error_set(POND_EINVALID, R,
                                  "'%s': an ssh URL is ssh://[user@]host[:port]/path", url);
        const char *at = memchr(h, '@', (size_t)(slash - h));
        const char *colon = memchr(at ? at : h, ':', (size_t)(slash - (at ? at : h)));
        const char *hend = colon ? colon : slash;
        if ((size_t)(hend - h) >= sizeof u->user_host || hend == (at ? at + 1 : h))
            return pond_error_set(POND_EINVALID, R, "'%s': bad host", url);
        memcpy(u->user_host, h, (size_t)(hend - h));
        if (colon) {
            size_t pl = (size_t)(slash - colon - 1);
            if (pl == 0 || pl >= sizeof u->port)
                return pond_error_set(POND_EINVALID, R, "'%s': bad port", url);
            memcpy(u->port, colon + 1, pl);
            for (size_t i = 0; i < pl; i++)
                if (u->port[i] < '0' || u->port[i] > '9')
                    return pond_error_set(POND_EINVALID, R, "'%s': bad port", url);
        }
        for (const char *c = u->user_host; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || strchr(".-_@[]:", *c)))
                return pond_error_set(POND_EINVALID, R, "'%s': bad character in the host", url);
        if (u->user_host[0] == '-')
            return pond_error_set(POND_EINVALID, R, "'%s': bad host", url);
        u->ssh = true;
        snprintf(u->path, sizeof u->path, "%s", slash);
        return 0;
    }
    if (!strncmp(url, "file://", 7)) {
        if (url[7] != '/')
            return pond_error_set(POND_EINVALID, R, "'%s': a file URL is file:///absolute/path",
                                  url);
        snprintf(u->path, sizeof u->path, "%s", url + 7);
        return 0;
    }
    if (strstr(url, "://"))
        return pond_error_set(POND_EUNSUPPORTED, R,
                              "'%s': unsupported URL (a directory, file:///path or "
                              "ssh://[user@]host[:port]/path)",
                              url);
    snprintf(u->path, sizeof u->path, "%s", url);
    return 0;
}

int pond_repl_remote_open_url(repl_remote **out, const char *url, const char *exec,
                              const char *ssh_command)
{
    parsed_url u;
    int rc = parse_url(&u, url);
    if (rc < 0)
        return rc;
    if (u.ssh)
        return pond_repl_ssh_new(out, url, u.user_host, u.port, u.path, exec, ssh_command);
    return pond_repl_dir_new(out, u.path, url);
}

void pond_repl_remote_free(repl_remote *r)
{
    if (r)
        r->t->free(r);
}

int pond_remote_add(const char *dir, const char *name, const char *url, const char *exec)
{
    POND_ASSERT_ARG(dir && name && url);
    if (!good_name(name))
        return pond_error_set(POND_EINVALID, R,
                              "bad remote name '%s' (letters, digits, '.', '_', '-'; up to %d)",
                              name, POND_REMOTE_NAME_MAX - 1);
    if (!good_text(url, POND_REMOTE_URL_MAX) ||
        (exec && *exec && !good_text(exec, POND_REMOTE_URL_MAX)))
        return pond_error_set(POND_EINVALID, R, "bad remote URL or exec path '%s'", url);
    parsed_url u;
    int rc = parse_url(&u, url);
    if (rc < 0)
        return rc;
    char abs[POND_REMOTE_URL_MAX];
    if (!u.ssh && strncmp(url, "file://", 7) && url[0] != '/') {
        /* a relative directory means the same thing from any working directory later */
        char cwd[POND_REMOTE_URL_MAX / 2];
        if (!getcwd(cwd, sizeof cwd))
            return pond_error_set_os(R, "getcwd");
        if (strlen(cwd) + strlen(url) + 2 > sizeof abs)
            return pond_error_set(POND_EINVALID, R, "remote path '%s' is too long", url);
        pond_buf ab = POND_BUF_INIT;
        if (pond_buf_printf(&ab, "%s/%s", cwd, url) < 0) {
            pond_buf_dispose(&ab);
            return POND_ENOMEM;
        }
        memcpy(abs, ab.ptr, ab.size + 1);
        pond_buf_dispose(&ab);
        url = abs;
    }
    pond_remote *v = NULL;
    size_t n = 0;
    if ((rc = pond_remote_list(&v, &n, dir)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) {
            rc = pond_error_set(POND_EEXISTS, R, "remote '%s' already exists (%s)", name, v[i].url);
            pond_free(v);
            return rc;
        }
    pond_remote *v2 = pond_realloc(v, (n + 1) * sizeof *v2);
    if (!v2) {
        pond_free(v);
        return POND_ENOMEM;
    }
    v = v2;
    memset(&v[n], 0, sizeof v[n]);
    snprintf(v[n].name, sizeof v[n].name, "%s", name);
    snprintf(v[n].url, sizeof v[n].url, "%s", url);
    snprintf(v[n].exec, sizeof v[n].exec, "%s", exec ? exec : "");
    v[n].version = -1;
    rc = write_remotes(dir, v, n + 1);
    pond_free(v);
    return rc;
}

static int update(const char *dir, const char *name, bool remove, int64_t version)
{
    pond_remote *v = NULL;
    size_t n = 0;
    int rc = pond_remote_list(&v, &n, dir);
    if (rc < 0)
        return rc;
    size_t i = 0;
    while (i < n && strcmp(v[i].name, name))
        i++;
    if (i == n) {
        pond_free(v);
        return pond_error_set(POND_ENOTFOUND, R, "no remote '%s'", name);
    }
    if (remove) {
        memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof *v);
        n--;
    } else {
        v[i].version = version;
        v[i].time_us = pond__now_us();
    }
    rc = write_remotes(dir, v, n);
    pond_free(v);
    return rc;
}

int pond_remote_remove(const char *dir, const char *name)
{
    POND_ASSERT_ARG(dir && name);
    return update(dir, name, true, 0);
}

int pond_remote_set_version(const char *dir, const char *name, int64_t version)
{
    POND_ASSERT_ARG(dir && name);
    return update(dir, name, false, version);
}
