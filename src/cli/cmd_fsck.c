#include "cli/cli_pond.h"

#include <string.h>

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
    fsck_ctx c = {0};
    bool repair = false;
    const cli_opt opts[] = {
        {.name = "-q",
         .kind = CLI_OPT_FLAG,
         .dest = &c.quiet,
         .help = "print only problems and the summary line"},
        {.name = "--repair",
         .kind = CLI_OPT_FLAG,
         .dest = &repair,
         .help = "first rewrite what the log can rebuild: damaged checkpoints\n"
                 "and _last_checkpoint, from the JSON commits (atomically; a\n"
                 "commit is never changed or removed); takes the pond's lock.\n"
                 "Then verify as above"},
        {0},
    };
    const cli_spec spec = {
        .command = "fsck",
        .operands = "",
        .about = "Verify the whole pond: every file of _delta_log reads on its own (commits,\n"
                 "checkpoints, _last_checkpoint); every data file of the log is present with its\n"
                 "logged size and decodes, and every directory listing in it obeys the listing\n"
                 "rules; every inline content and every blob in _large_files/ is re-hashed\n"
                 "against the recorded SHA-256 and chunk hashes. Reports missing and corrupt\n"
                 "content and directories reached twice (exit 1); unreferenced blobs, orphan and\n"
                 "replaced data files and stale temp files (which gc removes); temp files younger\n"
                 "than an hour (a writer at work: size and age); foreign entries: anything in the\n"
                 "pond's own directories that is not pond's. A symbolic link, a FIFO or a device\n"
                 "where pond keeps its own file or directory fails fsck (exit 1); pond never\n"
                 "follows or removes it. Versions that a move in a pond written before format 2\n"
                 "left outside their node's partition are reported as stranded (kept, not read).\n"
                 "History that gc's retention dropped is gone by policy, not damage: it is not\n"
                 "checked.\n",
        .opts = opts,
        .max_operands = 0,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    cli_pond p;
    if (cli_pond_open(&p, cli, repair))
        return 1;
    if (repair) {
        pond_repair_report rr;
        if (pond_oplog_repair(&rr, p.be, on_problem, &c) < 0) {
            cli_pond_close(&p);
            return cli_fail();
        }
    }
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
           "entries (%lld misplaced)",
           (long long)r.missing, (long long)r.corrupt, (long long)r.unreferenced_blobs,
           (long long)r.orphan_files, (long long)r.stale_temps, (long long)r.young_temps, young,
           (long long)r.replaced_files, (long long)r.foreign, (long long)r.misplaced);
    if (r.stranded) /* only ponds moved in by pond before format 2 have any */
        printf(", %lld stranded versions", (long long)r.stranded);
    printf("\n");
    cli_pond_close(&p);
    if (rc == POND_ECORRUPT)
        return cli_error("fsck: %s", pond_error_last()->message);
    return 0;
}
