#include "cli/cli_pond.h"

#include <string.h>

static const char HELP[] =
    "usage: pond fsck [-q]\n"
    "\n"
    "Verify the whole pond: every data file of the log is present with its logged size and\n"
    "decodes; every inline content and every blob in _large_files/ is re-hashed against the\n"
    "recorded SHA-256 and chunk hashes. Reports missing and corrupt content (exit 1), and\n"
    "unreferenced blobs, orphan and replaced data files and stale temp files (which gc\n"
    "removes), temp files younger than an hour (a writer at work: size and age), and foreign\n"
    "entries: anything in the pond's own directories that is not pond's. A symbolic link, a\n"
    "FIFO or a device where pond keeps its own file or directory fails fsck (exit 1); pond never\n"
    "follows or removes it. History that gc's retention dropped is gone by policy, not damage:\n"
    "it is not checked.\n"
    "  -q   print only problems and the summary line\n";

typedef struct {
    bool quiet;
    cli_progress prog;
} fsck_ctx;

static void on_problem(const char *kind, const char *msg, void *payload)
{
    fsck_ctx *c = payload;
    cli_progress_end(&c->prog);
    printf("%-12s %s\n", kind, msg);
}

static void on_progress(int64_t done, int64_t total, void *payload)
{
    fsck_ctx *c = payload;
    if (!c->prog.active && total > 0 && c->prog.total == 0)
        cli_progress_start(&c->prog, "fsck", total);
    cli_progress_add(&c->prog, done - c->prog.done);
}

int cmd_fsck(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    fsck_ctx c = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-q"))
            c.quiet = true;
        else
            return cli_usage("pond fsck [-q]", "unknown argument '%s'", argv[i]);
    }
    cli_pond p;
    if (cli_pond_open(&p, cli, false))
        return 1;
    pond_fsck_report r;
    int rc = pond_oplog_fsck(&r, p.be, on_problem, on_progress, &c);
    cli_progress_end(&c.prog);
    if (rc < 0 && rc != POND_ECORRUPT) {
        cli_pond_close(&p);
        return cli_fail();
    }
    char hashed[32];
    cli_human_size(hashed, r.bytes_hashed);
    if (!c.quiet)
        printf("checked %lld versions in %lld data files: %lld inline contents, %lld blobs "
               "(%s hashed)\n",
               (long long)r.rows, (long long)r.data_files, (long long)r.inline_checked,
               (long long)r.blobs_checked, hashed);
    char young[32];
    cli_human_size(young, r.young_temp_bytes);
    printf("%lld missing, %lld corrupt, %lld unreferenced blobs, %lld orphan data files, %lld "
           "stale temp files, %lld young temp files (%s), %lld replaced data files, %lld foreign "
           "entries (%lld misplaced)\n",
           (long long)r.missing, (long long)r.corrupt, (long long)r.unreferenced_blobs,
           (long long)r.orphan_files, (long long)r.stale_temps, (long long)r.young_temps, young,
           (long long)r.replaced_files, (long long)r.foreign, (long long)r.misplaced);
    cli_pond_close(&p);
    if (rc == POND_ECORRUPT)
        return cli_error("fsck: %s", pond_error_last()->message);
    return 0;
}
