#include "cli/cli_pond.h"

#include <string.h>

typedef struct {
    pond_fs *fs;
    int rc;
} deps_ctx;

/* A source that derived nodes depend on is kept unless --force (docs/derived.md): the
 * derived nodes would keep their rows but could never be refreshed again. */
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
        rc = pond_error_set(POND_EINVALID, POND_DOM_CLI,
                            "%s is a source of %s: remove %s first, or use --force (%s then "
                            "keeps its rows but is never refreshed again)",
                            pond_fs_node_path(h), b.ptr, n > 1 ? "them" : "it",
                            n > 1 ? "each" : "it");
        pond_buf_dispose(&b);
    }
    for (size_t k = 0; k < n; k++)
        pond_free(deps[k]);
    pond_free(deps);
    pond_fs_node_free(h);
    return rc == POND_ENOTFOUND ? 0 : rc; /* rm itself says what is missing */
}

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

static int check_sources(pond_fs *fs, const char *path, bool recursive)
{
    pond_stat st;
    if (pond_fs_lstat(&st, fs, NULL, path) < 0)
        return 0;
    if (st.type != POND_ENTRY_DIRECTORY)
        return check_one(fs, path);
    if (!recursive)
        return 0;
    pond_buf pat = POND_BUF_INIT;
    deps_ctx c = {fs, 0};
    int rc = pond_buf_printf(&pat, "%s/**/*", path);
    if (rc == 0)
        rc = pond_fs_glob(fs, NULL, pat.ptr, check_fn, &c);
    pond_buf_dispose(&pat);
    return c.rc < 0 ? c.rc : rc < 0 ? rc : 0;
}

int cmd_rm(pond_cli *cli, int argc, char **argv)
{
    bool recursive = false, force = false;
    const cli_opt opts[] = {
        {.name = "-r",
         .alias = "-R",
         .kind = CLI_OPT_FLAG,
         .dest = &recursive,
         .help = "remove directories and everything under them"},
        {.name = "--force",
         .kind = CLI_OPT_FLAG,
         .dest = &force,
         .help = "remove a source of derived nodes too (they keep their last rows and say\n"
                 "their source is gone)"},
        {0},
    };
    const cli_spec spec = {
        .command = "rm",
        .operands = "PATH...",
        .about = "Remove files, symlinks or empty directories, in one transaction.\n"
                 "Their versions stay readable with --at until gc drops them. A series that\n"
                 "derived nodes are computed from is refused without --force.\n",
        .opts = opts,
        .missing = "no path given",
        .min_operands = 1,
        .max_operands = -1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    rc = cli_pond_begin(&p, cli);
    for (int i = 0; i < n && rc == 0 && !force; i++)
        if (check_sources(p.fs, argv[i], recursive) < 0)
            rc = cli_fail();
    for (int i = 0; i < n && rc == 0; i++)
        if (pond_fs_remove(p.fs, NULL, argv[i], recursive) < 0)
            rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
