#include "cli/cli_pond.h"

#include <pond/timefmt.h>

#include <string.h>

typedef struct {
    cli_pond *p;
    bool longfmt, json;
    int count;
    pond_buf out;
} list_ctx;

static int emit(list_ctx *c, const char *path, const pond_stat *st)
{
    char *target = NULL;
    if (st->type == POND_ENTRY_SYMLINK && (c->longfmt || c->json) &&
        pond_fs_readlink(&target, c->p->fs, NULL, path) < 0)
        return -1;
    char when[40];
    if (c->json)
        pond_time_format_iso(when, st->mtime_us);
    else
        cli_time_seconds(when, st->mtime_us);
    /* a series is all its versions: its size is theirs together */
    int64_t size = st->size;
    if (st->type == POND_ENTRY_FILE_SERIES && (c->longfmt || c->json)) {
        pond_stat *vs = NULL;
        size_t nv = 0;
        if (pond_fs_versions(&vs, &nv, c->p->fs, NULL, path) < 0) {
            pond_free(target);
            return -1;
        }
        size = 0;
        for (size_t i = 0; i < nv; i++)
            size += vs[i].size;
        pond_free(vs);
    }
    int rc = 0;
    if (c->json) {
        rc = pond_buf_puts(&c->out, c->count ? ",\n {\"path\":" : "[\n {\"path\":");
        if (rc == 0)
            rc = cli_json_str(&c->out, path);
        if (rc == 0)
            rc = pond_buf_printf(&c->out,
                                 ",\"type\":\"%s\",\"size\":%lld,\"version\":%lld,"
                                 "\"txn\":%lld,\"time\":\"%s\"",
                                 pond_entry_type_name(st->type), (long long)size,
                                 (long long)st->version, (long long)st->txn_seq, when);
        if (rc == 0 && target) {
            rc = pond_buf_puts(&c->out, ",\"target\":");
            if (rc == 0)
                rc = cli_json_str(&c->out, target);
        }
        if (rc == 0)
            rc = pond_buf_putc(&c->out, '}');
    } else if (c->longfmt) {
        rc =
            pond_buf_printf(&c->out, "%-11s %12lld %5lld  %s  %s%s%s\n",
                            pond_entry_type_name(st->type), (long long)size, (long long)st->version,
                            when, path, target ? " -> " : "", target ? target : "");
    } else {
        rc = pond_buf_printf(&c->out, "%s\n", path);
    }
    pond_free(target);
    c->count++;
    if (rc == 0 && c->out.size > 1 << 16) {
        fwrite(c->out.ptr, 1, c->out.size, stdout);
        pond_buf_clear(&c->out);
    }
    return rc;
}

static int on_match(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                    void *payload)
{
    (void)caps, (void)n;
    return emit(payload, path, st) < 0 ? -1 : 0;
}

int cmd_list(pond_cli *cli, int argc, char **argv)
{
    list_ctx c = {0};
    const cli_opt opts[] = {
        {.name = "-l",
         .kind = CLI_OPT_FLAG,
         .dest = &c.longfmt,
         .help = "long format: type, size, version, time (UTC), path (-> symlink target);\n"
                 "the size of a series is the sum of its versions"},
        {.name = "--json",
         .kind = CLI_OPT_FLAG,
         .dest = &c.json,
         .help = "one JSON array of objects (path, type, size, version, txn, time, target)"},
        {0},
    };
    const cli_spec spec = {
        .command = "list",
        .operands = "[PATTERN...]",
        .about = "List pond entries. With no pattern, everything, recursively. '/dir' lists the\n"
                 "entry itself, '/dir/' lists its contents, and patterns with * ? [...] or **\n"
                 "(any depth, including none) match as globs: quote them so the shell leaves\n"
                 "them alone.\n",
        .opts = opts,
        .max_operands = -1,
    };
    int first = 0, argn;
    int prc = cli_parse(&argn, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    argc = argn;
    cli_pond p;
    if (cli_pond_open(&p, cli, false))
        return 1;
    c.p = &p;
    int rc = 0;
    if (first >= argc) {
        if (pond_fs_glob(p.fs, NULL, "/**/*", on_match, &c) < 0)
            rc = cli_fail();
    }
    for (int i = first; i < argc && rc == 0; i++) {
        const char *pat = argv[i];
        size_t len = strlen(pat);
        int before = c.count;
        if (cli_is_glob(pat)) {
            if (pond_fs_glob(p.fs, NULL, pat, on_match, &c) < 0)
                rc = cli_fail();
            else if (c.count == before)
                rc = cli_error("no match for '%s'", pat);
        } else if (len > 0 && pat[len - 1] == '/') {
            pond_fs_dirent *ents;
            size_t n;
            if (pond_fs_readdir(&ents, &n, p.fs, NULL, pat) < 0) {
                rc = cli_fail();
                break;
            }
            char *base = NULL;
            bool dir;
            if (pond_path_normalize(&base, &dir, NULL, pat) < 0)
                rc = cli_fail();
            for (size_t k = 0; k < n && rc == 0; k++) {
                pond_buf full = POND_BUF_INIT;
                pond_buf_printf(&full, "%s/%s", strcmp(base, "/") ? base : "", ents[k].name);
                pond_stat st;
                if (pond_fs_lstat(&st, p.fs, NULL, full.ptr) < 0 || emit(&c, full.ptr, &st) < 0)
                    rc = cli_fail();
                pond_buf_dispose(&full);
            }
            pond_free(base);
            pond_fs_dirents_free(ents, n);
        } else {
            pond_stat st;
            char *norm = NULL;
            if (pond_path_normalize(&norm, NULL, NULL, pat) < 0 ||
                pond_fs_lstat(&st, p.fs, NULL, pat) < 0 || emit(&c, norm, &st) < 0)
                rc = cli_fail();
            pond_free(norm);
        }
    }
    if (rc == 0 && c.json)
        pond_buf_puts(&c.out, c.count ? "\n]\n" : "[]\n");
    if (c.out.size)
        fwrite(c.out.ptr, 1, c.out.size, stdout);
    pond_buf_dispose(&c.out);
    cli_pond_close(&p);
    return rc;
}
