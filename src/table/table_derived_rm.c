/* Removing a source of derived nodes (docs/derived.md, "Sources, moves and removal"): the
 * library's rule, so that pond rm and a C program give the same answer; tinyfs, below
 * tables, cannot know it. */
#include "table/table_internal.h"

#include <string.h>

#define D POND_DOM_TABLE

/* A source that derived nodes depend on is kept unless force (docs/derived.md): the derived
 * nodes would keep their rows but could never be refreshed again. */
static int check_one(pond_fs *fs, const char *path)
{
    pond_fs_node *h = NULL;
    pond_stat st;
    char **deps = NULL;
    size_t n = 0;
    int rc = pond_fs_node_open(&h, fs, NULL, path, POND_FS_NODE_NOFOLLOW);
    if (rc == 0)
        rc = pond_fs_node_stat(&st, h);
    if (rc == 0 && st.type == POND_ENTRY_FILE_SERIES)
        rc = pond_derive_dependents(&deps, &n, h);
    if (rc == 0 && n > 0) {
        pond_buf b = POND_BUF_INIT;
        for (size_t k = 0; k < n; k++)
            pond_buf_printf(&b, "%s%s", k ? ", " : "", deps[k]);
        rc = pond_error_set(POND_EINVALID, D,
                            "%s is a source of %s: remove %s first, or use --force (%s then "
                            "keeps its rows but is never refreshed again)",
                            pond_fs_node_path(h), b.ptr ? b.ptr : "?", n > 1 ? "them" : "it",
                            n > 1 ? "each" : "it");
        pond_buf_dispose(&b);
    }
    for (size_t k = 0; k < n; k++)
        pond_free(deps[k]);
    pond_free(deps);
    pond_fs_node_free(h);
    return rc == POND_ENOTFOUND ? 0 : rc; /* the removal itself says what is missing */
}

typedef struct {
    pond_fs *fs;
    int rc;
} deps_ctx;

static int check_fn(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                    void *payload)
{
    (void)caps;
    (void)n;
    deps_ctx *c = payload;
    if (st->type != POND_ENTRY_FILE_SERIES)
        return 0;
    return (c->rc = check_one(c->fs, path)) < 0 ? 1 : 0;
}

int pond_derive_remove(pond_fs *fs, const pond_wd *wd, const char *path, bool recursive, bool force)
{
    POND_ASSERT_ARG(fs && path);
    pond_stat st;
    char *abs = NULL;
    int rc = 0;
    if (!force && pond_fs_lstat(&st, fs, wd, path) == 0 &&
        (rc = pond_path_normalize(&abs, NULL, wd ? pond_wd_path(wd) : NULL, path)) == 0) {
        if (st.type != POND_ENTRY_DIRECTORY) {
            rc = check_one(fs, abs);
        } else if (recursive) {
            pond_buf pat = POND_BUF_INIT;
            deps_ctx c = {fs, 0};
            rc = pond_buf_printf(&pat, "%s/**/*", strcmp(abs, "/") ? abs : "");
            if (rc == 0)
                rc = pond_fs_glob(fs, NULL, pat.ptr, check_fn, &c);
            pond_buf_dispose(&pat);
            rc = c.rc < 0 ? c.rc : rc < 0 ? rc : 0;
        }
    }
    pond_free(abs);
    return rc < 0 ? rc : pond_fs_remove(fs, wd, path, recursive);
}
