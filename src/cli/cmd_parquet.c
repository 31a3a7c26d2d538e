/* pond parquet meta|dump FILE: inspect any Parquet file on the host, without a pond. */
#include "cli/cmd.h"

#include <pond/parquet.h>

#include <stdio.h>
#include <string.h>

static const char ABOUT[] =
    "Inspect a Parquet file on the host (no pond needed).\n"
    "\n"
    "  meta   print the schema and metadata: row groups, column chunks, encodings,\n"
    "         codecs, statistics, and a 'warning:' line for each kind of footer field\n"
    "         the reader skipped (an optional field with another wire type than the\n"
    "         Parquet schema gives, which decoding does not need)\n"
    "  dump   print every row in the canonical text form canon-v1 (one line per row,\n"
    "         cells joined by TAB), so sha256sum matches the oracle digests; the\n"
    "         reader's warnings go to standard error\n"
    "\n"
    "No options besides --help.\n";

static int write_stdout(const void *buf, size_t len, void *payload)
{
    (void)payload;
    if (fwrite(buf, 1, len, stdout) != len)
        return pond_error_set(POND_EIO, POND_DOM_CLI, "writing standard output failed");
    return 0;
}

static int fail_file(const char *path)
{
    fprintf(stderr, "pond: %s: %s\n", path, pond_error_last()->message);
    return 1;
}

int cmd_parquet(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    static const cli_spec top = {.command = "parquet", .operands = "meta|dump FILE"};
    if (argc < 2)
        return cli_usage(&top, "missing subcommand");
    const char *sub = argv[1];
    bool meta = !strcmp(sub, "meta"), dump = !strcmp(sub, "dump");
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
        cli_print_usage(stdout, &(cli_spec){.command = "parquet meta", .operands = "FILE"});
        cli_print_usage_as(stdout, &(cli_spec){.command = "parquet dump", .operands = "FILE"},
                           "   or: ");
        printf("\n%s\noptions:\n", ABOUT);
        cli_print_options(stdout, NULL, true);
        return 0;
    }
    if (!meta && !dump)
        return cli_usage(&top, "unknown subcommand '%s'", sub);
    const cli_spec spec = {.command = meta ? "parquet meta" : "parquet dump",
                           .operands = "FILE",
                           .about = ABOUT,
                           .missing = "missing FILE",
                           .min_operands = 1,
                           .max_operands = 1};
    int n, prc = cli_parse(&n, &spec, argc - 1, argv + 1);
    if (prc >= 0)
        return prc;
    const char *path = argv[1];
    pond_parquet_reader *r = NULL;
    if (pond_parquet_reader_open_file(&r, path, NULL) < 0)
        return fail_file(path);
    int rc;
    if (meta) {
        pond_buf out = POND_BUF_INIT;
        rc = pond_parquet_reader_describe(&out, r);
        if (rc == 0)
            rc = write_stdout(out.ptr ? out.ptr : "", out.size, NULL);
        pond_buf_dispose(&out);
    } else {
        for (int k = 0; k < pond_parquet_reader_warning_count(r); k++)
            cli_warning("%s: %s", path, pond_parquet_reader_warning(r, k));
        static char iobuf[1 << 16];
        setvbuf(stdout, iobuf, _IOFBF, sizeof iobuf);
        rc = pond_parquet_dump(r, write_stdout, NULL, NULL);
    }
    if (rc == 0 && fflush(stdout) != 0)
        rc = pond_error_set(POND_EIO, POND_DOM_CLI, "writing standard output failed");
    int exit_code = rc < 0 ? fail_file(path) : 0;
    pond_parquet_reader_free(r);
    return exit_code;
}
