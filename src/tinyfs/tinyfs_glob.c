/* Glob over the tree: literal components, single-name patterns and '**'. */
#include "tinyfs/tinyfs_internal.h"

#include <stdio.h>
#include <string.h>

enum { COMP_LIT, COMP_PAT, COMP_DSTAR };

typedef struct {
    int kind;
    char *lit;
    pond_glob_pat *pat;
} gcomp;

typedef struct {
    pond_fs *fs;
    gcomp *c;
    size_t n;
    pond_glob_fn fn;
    void *payload;
    char **caps; /* capture stack */
    size_t n_caps, cap_caps;
    pond_buf path; /* "" for the root */
    /* (component, path) states already explored: with several '**' (and literal components
     * that follow symlinks) one path is reachable by many splits of the pattern, and walking
     * each split again is exponential. The first split found wins; later ones would only
     * repeat its matches. */
    pond__bytemap seen;
    pond_buf key; /* scratch for a seen key */
    /* a damaged tree may list a directory twice or inside itself: reported, never walked */
    pond_dir_walk *tree;
} gctx;

/* 1 when state (kind, idx, current path) was seen before, 0 when it is new (now recorded). */
static int seen_check(gctx *g, char kind, size_t idx)
{
    int64_t v;
    pond_buf_clear(&g->key);
    int rc = pond_buf_printf(&g->key, "%c%zu:", kind, idx);
    if (rc == 0 && g->path.size)
        rc = pond_buf_put(&g->key, g->path.ptr, g->path.size);
    if (rc < 0)
        return rc;
    if (pond__bytemap_get(&g->seen, g->key.ptr, g->key.size, &v))
        return 1;
    return pond__bytemap_put(&g->seen, g->key.ptr, g->key.size, 1);
}

static void comps_free(gcomp *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pond_free(c[i].lit);
        pond_glob_pat_free(c[i].pat);
    }
    pond_free(c);
}

static bool has_magic(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '*' || s[i] == '?' || s[i] == '[')
            return true;
    }
    return false;
}

/* Split a full pattern into components; '.' and '..' are lexical, as for paths. */
static int parse(gcomp **out, size_t *n_out, size_t *caps_out, const char *full)
{
    size_t len = strlen(full), n = 0, caps = 0;
    int error = 0;
    gcomp *c = pond_calloc(len / 2 + 2, sizeof *c);
    if (!c)
        return POND_ENOMEM;
    for (size_t i = 0; i < len;) {
        while (i < len && full[i] == '/')
            i++;
        if (i >= len)
            break;
        size_t s = i;
        while (i < len && full[i] != '/')
            i++;
        size_t k = i - s;
        const char *p = full + s;
        if (k == 1 && p[0] == '.')
            continue;
        if (k == 2 && p[0] == '.' && p[1] == '.') {
            if (n) {
                n--;
                pond_free(c[n].lit);
                pond_glob_pat_free(c[n].pat);
                memset(&c[n], 0, sizeof c[n]);
            }
            continue;
        }
        if (k == 2 && p[0] == '*' && p[1] == '*') {
            c[n++].kind = COMP_DSTAR;
            caps++;
        } else if (has_magic(p, k)) {
            c[n].kind = COMP_PAT;
            if ((error = pond_glob_pat_compile(&c[n].pat, p, k)) < 0)
                goto fail;
            caps += pond_glob_pat_captures(c[n].pat);
            n++;
        } else {
            char *lit = pond_malloc(k + 1);
            if (!lit) {
                error = POND_ENOMEM;
                goto fail;
            }
            size_t o = 0;
            for (size_t j = 0; j < k; j++) {
                if (p[j] == '\\' && j + 1 < k)
                    j++;
                lit[o++] = p[j];
            }
            lit[o] = '\0';
            c[n].kind = COMP_LIT;
            c[n++].lit = lit;
            if ((error = pond_name_validate(lit, o)) < 0)
                goto fail;
        }
    }
    /* recount: '..' may have dropped components */
    caps = 0;
    for (size_t i = 0; i < n; i++)
        caps += c[i].kind == COMP_DSTAR ? 1
                : c[i].kind == COMP_PAT ? pond_glob_pat_captures(c[i].pat)
                                        : 0;
    *out = c;
    *n_out = n;
    *caps_out = caps;
    return 0;
fail:
    comps_free(c, n + 1);
    return error;
}

static int push_cap(gctx *g, const char *s, size_t n)
{
    char *c = pond_strndup(s, n);
    if (!c)
        return POND_ENOMEM;
    if (g->n_caps >= g->cap_caps) {
        pond_free(c);
        return pond_error_set(POND_ERROR, POND_DOM_TINYFS, "glob: capture stack overflow");
    }
    g->caps[g->n_caps++] = c;
    return 0;
}

static void pop_caps(gctx *g, size_t to)
{
    while (g->n_caps > to)
        pond_free(g->caps[--g->n_caps]);
}

static int push_name(gctx *g, const char *name)
{
    int error = pond_buf_putc(&g->path, '/');
    return error ? error : pond_buf_puts(&g->path, name);
}

static void pop_path(gctx *g, size_t to)
{
    g->path.size = to;
    if (g->path.ptr)
        g->path.ptr[to] = '\0';
}

static int emit(gctx *g, const pond_node_rec *node)
{
    pond_stat st;
    pond_tinyfs__fill_stat(&st, g->fs, node);
    return g->fn(g->path.size ? g->path.ptr : "/", &st, (const char *const *)g->caps, g->n_caps,
                 g->payload);
}

static int walk(gctx *g, pond_node_rec *node, size_t idx);

/* Before descending into entry i of dir (g->path names it): the tree check. */
static int enter(gctx *g, const pond_node_rec *dir, size_t i)
{
    const pond_dir_entry *e = &dir->entries[i];
    if (e->type != POND_ENTRY_DIRECTORY)
        return 0;
    int rc = pond_dir_walk_enter(g->tree, &dir->id, e->name, &e->id, g->path.ptr);
    return rc < 0 ? rc : 0;
}

/* Get the child at entry i; a symlink is followed when more components must match below it. */
static int child_of(pond_node_rec **out, gctx *g, const pond_node_rec *dir, size_t i, bool follow)
{
    int error = pond_tinyfs__get_node(out, g->fs, &dir->entries[i].id);
    if (error < 0 || !follow || (*out)->type != POND_ENTRY_SYMLINK)
        return error;
    pond_node_rec *t = NULL;
    char *phys = NULL;
    error = pond_tinyfs__lookup(&t, &phys, g->fs, g->path.ptr, true);
    pond_free(phys);
    pond_node_rec_unref(*out);
    *out = t;
    /* a dangling or looping symlink simply matches nothing below it */
    if (error == POND_ENOTFOUND || error == POND_ELOOP || error == POND_ENOTDIR ||
        error == POND_EINVALID)
        error = 1;
    return error;
}

static int dstar(gctx *g, pond_node_rec *node, size_t idx, const char *acc, size_t acc_len)
{
    size_t caps0 = g->n_caps, path0 = g->path.size;
    if (path0 > TINYFS_PATH_MAX)
        return 0; /* not addressable; also bounds the recursion on a cyclic (corrupt) tree */
    int rc = seen_check(g, 'd', idx);
    if (rc)
        return rc < 0 ? rc : 0;
    rc = push_cap(g, acc, acc_len);
    if (rc == 0)
        rc = walk(g, node, idx + 1);
    pop_caps(g, caps0);
    if (rc || node->type != POND_ENTRY_DIRECTORY)
        return rc;
    bool trailing = idx + 1 == g->n;
    for (size_t i = 0; i < node->n_entries && rc == 0; i++) {
        const pond_dir_entry *e = &node->entries[i];
        if (e->type != POND_ENTRY_DIRECTORY && !trailing)
            continue;
        pond_buf a = POND_BUF_INIT;
        pond_node_rec *child = NULL;
        if ((rc = pond_buf_put(&a, acc, acc_len)) == 0 &&
            (!acc_len || (rc = pond_buf_putc(&a, '/')) == 0) &&
            (rc = pond_buf_puts(&a, e->name)) == 0 && (rc = push_name(g, e->name)) == 0 &&
            (rc = enter(g, node, i)) == 0 &&
            (rc = pond_tinyfs__get_node(&child, g->fs, &e->id)) == 0) {
            if (e->type == POND_ENTRY_DIRECTORY) {
                rc = dstar(g, child, idx, a.ptr, a.size);
            } else if ((rc = push_cap(g, a.ptr, a.size)) == 0) {
                rc = emit(g, child);
                pop_caps(g, caps0);
            }
        }
        pond_node_rec_unref(child);
        pond_buf_dispose(&a);
        pop_path(g, path0);
    }
    return rc;
}

static int walk(gctx *g, pond_node_rec *node, size_t idx)
{
    if (idx == g->n) {
        int seen = seen_check(g, 'e', idx); /* a path is reported once */
        return seen ? (seen < 0 ? seen : 0) : emit(g, node);
    }
    if (node->type != POND_ENTRY_DIRECTORY || g->path.size > TINYFS_PATH_MAX)
        return 0;
    int seen = seen_check(g, 'w', idx);
    if (seen)
        return seen < 0 ? seen : 0;
    const gcomp *c = &g->c[idx];
    if (c->kind == COMP_DSTAR)
        return dstar(g, node, idx, "", 0);
    size_t path0 = g->path.size, caps0 = g->n_caps;
    bool more = idx + 1 < g->n;
    int rc = 0;
    if (c->kind == COMP_LIT) {
        ptrdiff_t at = pond_tinyfs__dir_find(node, c->lit);
        if (at < 0)
            return 0;
        pond_node_rec *child = NULL;
        if ((rc = push_name(g, c->lit)) == 0 && (rc = enter(g, node, (size_t)at)) == 0 &&
            (rc = child_of(&child, g, node, (size_t)at, more)) == 0)
            rc = walk(g, child, idx + 1);
        if (rc == 1)
            rc = 0;
        pond_node_rec_unref(child);
        pop_path(g, path0);
        return rc;
    }
    size_t ncap = pond_glob_pat_captures(c->pat);
    size_t(*spans)[2] = pond_calloc(ncap ? ncap : 1, sizeof *spans);
    if (!spans)
        return POND_ENOMEM;
    for (size_t i = 0; i < node->n_entries && rc == 0; i++) {
        const char *name = node->entries[i].name;
        size_t nlen = strlen(name), got;
        if (!pond_glob_pat_match(c->pat, name, nlen, spans, ncap, &got))
            continue;
        for (size_t k = 0; k < got && rc == 0; k++)
            rc = push_cap(g, name + spans[k][0], spans[k][1] - spans[k][0]);
        pond_node_rec *child = NULL;
        /* symlinks are not followed through wildcards: no loops, no duplicates */
        if (rc == 0 && (rc = push_name(g, name)) == 0 && (rc = enter(g, node, i)) == 0 &&
            (rc = pond_tinyfs__get_node(&child, g->fs, &node->entries[i].id)) == 0 &&
            !(more && child->type == POND_ENTRY_SYMLINK))
            rc = walk(g, child, idx + 1);
        pond_node_rec_unref(child);
        pop_caps(g, caps0);
        pop_path(g, path0);
    }
    pond_free(spans);
    return rc;
}

int pond_fs_glob(pond_fs *fs, const pond_wd *wd, const char *pattern, pond_glob_fn fn,
                 void *payload)
{
    POND_ASSERT_ARG(fs && pattern && fn);
    size_t plen = strnlen(pattern, TINYFS_PATH_MAX + 1);
    if (plen == 0 || plen > TINYFS_PATH_MAX)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid glob pattern: %s",
                              plen ? "longer than 4096 bytes" : "empty");
    gctx g;
    memset(&g, 0, sizeof g);
    g.fs = fs;
    g.fn = fn;
    g.payload = payload;
    pond_buf full = POND_BUF_INIT;
    pond_node_rec *root = NULL;
    int rc = 0;
    if (pattern[0] != '/' && wd)
        rc = pond_buf_puts(&full, wd->path);
    if (rc == 0 && (rc = pond_buf_putc(&full, '/')) == 0)
        rc = pond_buf_put(&full, pattern, plen);
    if (rc == 0)
        rc = parse(&g.c, &g.n, &g.cap_caps, full.ptr);
    if (rc == 0 && !(g.caps = pond_calloc(g.cap_caps + 1, sizeof *g.caps)))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = pond_dir_walk_new(&g.tree);
    pond_tinyfs__lock(fs);
    pond_node_id rid = pond_node_id_root();
    if (rc == 0 && (rc = pond_tinyfs__get_node(&root, fs, &rid)) == 0)
        rc = walk(&g, root, 0);
    pond_tinyfs__unlock(fs);
    pond_node_rec_unref(root);
    pop_caps(&g, 0);
    pond_free(g.caps);
    pond__bytemap_dispose(&g.seen);
    pond_buf_dispose(&g.key);
    pond_dir_walk_free(g.tree);
    comps_free(g.c, g.n);
    pond_buf_dispose(&g.path);
    pond_buf_dispose(&full);
    return rc;
}
