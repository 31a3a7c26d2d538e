/* The `_delta_log` listing: which names are commits and checkpoints, in version order. */
#include "delta/delta_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pond_delta__log_list_dispose(delta_log_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        pond_free(l->v[i].name);
    pond_free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_uuid36(const char *s)
{
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!(hex || c == '-'))
            return false;
    }
    return true;
}

/* Classifies one _delta_log name; false for names that are not commits or checkpoints. */
static bool classify(delta_log_entry *e, const char *name)
{
    size_t n = strlen(name);
    if (n < 21 || !all_digits(name, 20) || name[20] != '.')
        return false;
    char digits[21];
    memcpy(digits, name, 20);
    digits[20] = '\0';
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, 10);
    if (errno || v > (unsigned long long)INT64_MAX)
        return false;
    e->version = (int64_t)v;
    const char *rest = name + 21;
    size_t rn = n - 21;
    if (!strcmp(rest, "json")) {
        e->kind = DELTA_LOG_COMMIT;
        return true;
    }
    if (!strcmp(rest, "checkpoint.parquet")) {
        e->kind = DELTA_LOG_CP_CLASSIC;
        return true;
    }
    /* checkpoint.<10 digits>.<10 digits>.parquet */
    if (rn == 11 + 10 + 1 + 10 + 8 && !strncmp(rest, "checkpoint.", 11) &&
        all_digits(rest + 11, 10) && rest[21] == '.' && all_digits(rest + 22, 10) &&
        !strcmp(rest + 32, ".parquet")) {
        e->kind = DELTA_LOG_CP_MULTI;
        e->part = (uint32_t)strtoul(rest + 11, NULL, 10);
        e->parts = (uint32_t)strtoul(rest + 22, NULL, 10);
        return e->part >= 1 && e->parts >= 1 && e->part <= e->parts;
    }
    /* checkpoint.<uuid>.json|parquet */
    if (!strncmp(rest, "checkpoint.", 11) && rn >= 11 + 36 + 5 && is_uuid36(rest + 11) &&
        (!strcmp(rest + 47, ".json") || !strcmp(rest + 47, ".parquet"))) {
        e->kind = DELTA_LOG_CP_V2;
        return true;
    }
    return false;
}

static int cmp_entry(const void *a, const void *b)
{
    const delta_log_entry *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    if (x->parts != y->parts)
        return x->parts < y->parts ? -1 : 1;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return strcmp(x->name, y->name);
}

int pond_delta__log_list(delta_log_list *out, const char *log_dir)
{
    DIR *d = pond__os_opendir(log_dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA, "no _delta_log directory in '%s'",
                                  log_dir);
        return pond_error_set_os(POND_DOM_DELTA, "opendir '%s'", log_dir);
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        delta_log_entry e = {0};
        if (!classify(&e, de->d_name))
            continue;
        if (POND_GROW(out->v, out->n, out->cap) < 0) {
            rc = POND_ENOMEM;
            break;
        }
        if (!(e.name = pond_strdup(de->d_name))) {
            rc = POND_ENOMEM;
            break;
        }
        out->v[out->n++] = e;
    }
    closedir(d);
    if (rc == 0 && out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_entry);
    return rc;
}

char *pond_delta__commit_path(const char *dir, int64_t version)
{
    char name[64];
    snprintf(name, sizeof name, "_delta_log/%020" PRId64 ".json", version);
    return pond__path_join(dir, name);
}

/* Lists dir's _delta_log into l; *log_dir (pond_free it, also on failure) names it for
 * messages. */
static int list_log(delta_log_list *l, char **log_dir, const char *dir)
{
    if (!(*log_dir = pond__path_join(dir, "_delta_log")))
        return POND_ENOMEM;
    return pond_delta__log_list(l, *log_dir);
}

int pond_delta_latest_version(int64_t *version_out, const char *dir)
{
    POND_ASSERT_ARG(version_out && dir);
    char *log_dir = NULL;
    delta_log_list l = {0};
    int rc = list_log(&l, &log_dir, dir);
    int64_t latest = -1;
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        if (l.v[i].kind == DELTA_LOG_COMMIT && l.v[i].version > latest)
            latest = l.v[i].version;
    if (rc == 0 && latest < 0)
        rc = pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA, "no commit in '%s'", log_dir);
    if (rc == 0)
        *version_out = latest;
    pond_delta__log_list_dispose(&l);
    pond_free(log_dir);
    return rc;
}

int pond_delta_oldest_version(int64_t *version_out, const char *dir)
{
    POND_ASSERT_ARG(version_out && dir);
    char *log_dir = NULL;
    delta_log_list l = {0};
    int rc = list_log(&l, &log_dir, dir);
    int64_t oldest = -1;
    /* sorted by version: commit 0, or the first checkpoint (a snapshot can start there) */
    for (size_t i = 0; rc == 0 && i < l.n && oldest < 0; i++)
        if (l.v[i].version == 0 || l.v[i].kind != DELTA_LOG_COMMIT)
            oldest = l.v[i].version;
    if (rc == 0 && oldest < 0)
        rc = pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA,
                            "'%s' has neither commit 0 nor a checkpoint", log_dir);
    if (rc == 0)
        *version_out = oldest;
    pond_delta__log_list_dispose(&l);
    pond_free(log_dir);
    return rc;
}
