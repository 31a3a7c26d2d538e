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
    const cli_opt opts[] = {
        {.name = "-q", .kind = CLI_OPT_FLAG, .dest = &c.quiet,
         .help = "print only problems and the summary line"},
        {0},
    };
    const cli_spec spec = {
        .command = "fsck",
        .operands = "",
        .about = "Verify the whole pond: every data file of the log is present with its logged\n"
                 "size and decodes; every inline content and every blob in _large_files/ is\n"
                 "re-hashed against the recorded SHA-256 and chunk hashes. Reports missing and\n"
                 "corrupt content (exit 1); unreferenced blobs, orphan and replaced data files and\n"
                 "stale temp files (which gc removes); temp files younger than an hour (a writer\n"
                 "at work: size and age); foreign entries: anything in the pond's own directories\n"
                 "that is not pond's. A symbolic link, a FIFO or a device where pond keeps its own\n"
                 "file or directory fails fsck (exit 1); pond never follows or removes it. Versions\n"
                 "that a move in a pond written before format 2 left outside their node's\n"
                 "partition are reported as stranded (kept, not read). History that gc's\n"
                 "retention dropped is gone by policy, not damage: it is not checked.\n",
        .opts = opts,
        .max_operands = 0,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
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
