/* The walk of a pond's own directories for fsck and gc (the store has its own walk,
 * pond_cas_foreach). Every directory is opened without following a link and every entry is
 * looked at with lstat semantics, so nothing the walk reports (and nothing gc removes) lies
 * outside the pond. Names are matched against pond's own patterns: anything else is foreign. */
#include "oplog/oplog_internal.h"

#include <stdio.h>
#include <string.h>

#define D POND_DOM_OPLOG

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool pond_oplog__is_data_file_name(const char *name)
{
    /* <txn:020>-<8 hex>.parquet or <txn:020>-<8 hex>-l<N>.parquet (pond_oplog__write_part_file) */
    size_t n = strlen(name);
    if (n < 37 || !digits(name, 20) || name[20] != '-' || !lower_hex(name + 21, 8))
        return false;
    const char *rest = name + 29;
    if (rest[0] == '-' && rest[1] == 'l') {
        const char *p = rest + 2;
        size_t k = 0;
        while (p[k] >= '0' && p[k] <= '9')
            k++;
        if (k == 0 || k > 4)
            return false;
        rest = p + k;
    }
    return strcmp(rest, ".parquet") == 0;
}

/* What _delta_log holds for pond: 1 a commit, checkpoint or _last_checkpoint; 2 a temp file;
 * 0 anything else. */
static int log_name_kind(const char *name)
{
    size_t n = strlen(name);
    if (!strncmp(name, ".tmp-", 5) && n > 5)
        return 2;
    if (!strcmp(name, "_last_checkpoint"))
        return 1;
    if (n >= 20 && digits(name, 20) &&
        (!strcmp(name + 20, ".json") || !strcmp(name + 20, ".checkpoint.parquet")))
        return 1;
    return 0;
}

typedef struct {
    oplog_walk_fn fn;
    void *payload;
} walk_ctx;

static int report(walk_ctx *c, oplog_walk_kind kind, bool misplaced, const char *rel,
                  const struct stat *st, pond_dir *dir, const char *name)
{
    oplog_walk_entry e = {kind, rel, st, misplaced, false, dir, name};
    return c->fn(&e, c->payload);
}

/* Something else where pond keeps one of its directories. */
static int report_not_dir(walk_ctx *c, const char *rel, const struct stat *st, pond_dir *dir,
                          const char *name)
{
    oplog_walk_entry e = {OPLOG_WALK_FOREIGN, rel, st, true, true, dir, name};
    return c->fn(&e, c->payload);
}

static int walk_log(walk_ctx *c, pond_dir *root)
{
    pond_dir *d = NULL;
    int rc = pond__dir_open_at(&d, root, "_delta_log", D);
    if (rc < 0)
        return rc;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, d, D)) == 0) {
        char rel[300];
        snprintf(rel, sizeof rel, "_delta_log/%.250s", de.name);
        int k = log_name_kind(de.name);
        bool reg = S_ISREG(de.st.st_mode);
        if (k == 2 && reg)
            rc = report(c, OPLOG_WALK_LOG_TEMP, false, rel, &de.st, d, de.name);
        else if (k == 0 || !reg)
            rc = report(c, OPLOG_WALK_FOREIGN, k != 0, rel, &de.st, d, de.name);
        if (rc != 0)
            break;
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}

static int walk_part(walk_ctx *c, pond_dir *root, const char *dname)
{
    pond_dir *d = NULL;
    int rc = pond__dir_open_at(&d, root, dname, D);
    if (rc < 0)
        return rc == POND_ENOTFOUND ? 0 : rc;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, d, D)) == 0) {
        char rel[600];
        snprintf(rel, sizeof rel, "%.300s/%.250s", dname, de.name);
        bool ours = pond_oplog__is_data_file_name(de.name);
        if (ours && S_ISREG(de.st.st_mode))
            rc = report(c, OPLOG_WALK_DATA, false, rel, &de.st, d, de.name);
        else
            rc = report(c, OPLOG_WALK_FOREIGN, ours, rel, &de.st, d, de.name);
        if (rc != 0)
            break;
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}

/* A snapshot lease's name (oplog_repl.c): <pid>-<8 hex>.lease. */
static bool is_lease_name(const char *name)
{
    size_t k = 0;
    while (name[k] >= '0' && name[k] <= '9')
        k++;
    return k > 0 && k <= 20 && name[k] == '-' && strlen(name + k + 1) == 14 &&
           lower_hex(name + k + 1, 8) && !strcmp(name + k + 9, ".lease");
}

/* _host/leases/ (the lease files the lease code manages) and _host/incoming/ (a transfer's
 * temp files: the only thing in _host/ gc ever removes). */
static int walk_host_sub(walk_ctx *c, pond_dir *host, const char *sub)
{
    pond_dir *d = NULL;
    int rc = pond__dir_open_at(&d, host, sub, D);
    if (rc < 0)
        return rc == POND_ENOTFOUND ? 0 : rc;
    bool incoming = !strcmp(sub, "incoming");
    pond_dirent de;
    while ((rc = pond__dir_next(&de, d, D)) == 0) {
        char rel[400];
        snprintf(rel, sizeof rel, "%s/%s/%.250s", POND_HOST_DIR, sub, de.name);
        bool reg = S_ISREG(de.st.st_mode);
        if (incoming) {
            rc = report(c, reg ? OPLOG_WALK_HOST_TEMP : OPLOG_WALK_FOREIGN, !reg, rel, &de.st, d,
                        de.name);
        } else {
            bool ours = is_lease_name(de.name) || !strncmp(de.name, ".tmp-", 5);
            if (!ours || !reg)
                rc = report(c, OPLOG_WALK_FOREIGN, ours, rel, &de.st, d, de.name);
        }
        if (rc != 0)
            break;
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}

/* _host/: host-side state (docs/format.md): remotes, leases/, incoming/, push-intent. */
static int walk_host(walk_ctx *c, pond_dir *root)
{
    pond_dir *d = NULL;
    int rc = pond__dir_open_at(&d, root, POND_HOST_DIR, D);
    if (rc < 0)
        return rc == POND_ENOTFOUND ? 0 : rc;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, d, D)) == 0) {
        char rel[300];
        snprintf(rel, sizeof rel, "%s/%.250s", POND_HOST_DIR, de.name);
        bool dir = S_ISDIR(de.st.st_mode);
        if (!strcmp(de.name, "leases") || !strcmp(de.name, "incoming")) {
            char sub[16];
            snprintf(sub, sizeof sub, "%s", de.name);
            rc = dir ? walk_host_sub(c, d, sub) : report_not_dir(c, rel, &de.st, d, de.name);
        } else if (!strcmp(de.name, "remotes") || !strncmp(de.name, ".remotes.tmp-", 13) ||
                   !strcmp(de.name, "push-intent")) {
            if (!S_ISREG(de.st.st_mode))
                rc = report(c, OPLOG_WALK_FOREIGN, true, rel, &de.st, d, de.name);
        } else {
            rc = report(c, OPLOG_WALK_FOREIGN, false, rel, &de.st, d, de.name);
        }
        if (rc != 0)
            break;
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}

int pond_oplog__walk(oplog_be *ob, oplog_walk_fn fn, void *payload)
{
    walk_ctx c = {fn, payload};
    pond_dir *root = NULL;
    /* the pond directory itself may be reached through a link: it is the user's path */
    int rc = pond__dir_open(&root, ob->dir, true, D);
    if (rc < 0)
        return rc;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, root, D)) == 0) {
        char name[256];
        snprintf(name, sizeof name, "%s", de.name);
        bool dir = S_ISDIR(de.st.st_mode);
        if (!strcmp(name, "_delta_log")) {
            rc = dir ? walk_log(&c, root) : report_not_dir(&c, name, &de.st, root, name);
        } else if (!strcmp(name, OPLOG_STORE_NAME)) {
            continue; /* pond_cas_foreach walks the store and reports what it finds there */
        } else if (!strcmp(name, POND_HOST_DIR)) {
            rc = dir ? walk_host(&c, root) : report_not_dir(&c, name, &de.st, root, name);
        } else if (!strcmp(name, "_pond.lock")) {
            if (!S_ISREG(de.st.st_mode))
                rc = report(&c, OPLOG_WALK_FOREIGN, true, name, &de.st, root, name);
        } else if (!strncmp(name, "part_id=", 8)) {
            /* a partition's place: only a real directory named for a node id is entered */
            pond_node_id id;
            bool valid = pond_node_id_parse(&id, name + 8) == 0;
            if (dir && valid) {
                if ((rc = walk_part(&c, root, name)) == 0)
                    rc = report(&c, OPLOG_WALK_PART_END, false, name, &de.st, root, name);
            } else if (!dir)
                rc = report_not_dir(&c, name, &de.st, root, name);
            else
                rc = report(&c, OPLOG_WALK_FOREIGN, false, name, &de.st, root, name);
        } else {
            rc = report(&c, OPLOG_WALK_FOREIGN, false, name, &de.st, root, name);
        }
        if (rc != 0)
            break;
    }
    pond__dir_close(root);
    return rc == POND_ITEROVER ? 0 : rc;
}

void pond_oplog__describe_foreign(char *out, size_t cap, const oplog_walk_entry *e)
{
    const char *kind = pond__file_kind(e->st->st_mode);
    if (e->misplaced)
        snprintf(out, cap,
                 "%s is %s where pond keeps its own %s: pond never follows or "
                 "removes it",
                 e->rel, kind, e->expect_dir ? "directory" : "file");
    else
        snprintf(out, cap, "%s is %s that is not pond's: left alone", e->rel, kind);
}
