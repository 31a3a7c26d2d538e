#include "cli/cli_pond.h"

#include <pond/describe.h>

#include <stdio.h>

static int describe_one(cli_pond *p, const char *path)
{
    pond_describe d;
    pond_buf text = POND_BUF_INIT;
    int rc = pond_describe_get(&d, p->fs, p->be, path);
    if (rc == 0)
        rc = pond_describe_text(&text, &d);
    if (rc == 0)
        fwrite(text.ptr, 1, text.size, stdout);
    pond_buf_dispose(&text);
    pond_describe_dispose(&d);
    return rc < 0 ? cli_fail() : 0;
}

int cmd_describe(pond_cli *cli, int argc, char **argv)
{
    const cli_spec spec = {
        .command = "describe",
        .operands = "PATH...",
        .about = "Describe entries: type, versions with sizes, storage (inline in the pond's\n"
                 "table or a blob in _large_files/), and for tables and series the schema, row\n"
                 "counts, the timestamp column, the time zone its times without a zone are\n"
                 "read in, its time formats, and each version's event-time range (UTC). A\n"
                 "series shows its read rule (dedup), its compaction policy and the columns of\n"
                 "all its versions, from its index; a compacted version says which versions it\n"
                 "replaces, and each replaced version by which one it was replaced (reads skip\n"
                 "it).\n",
        .missing = "no path given",
        .min_operands = 1,
        .max_operands = -1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    cli_pond p;
    if (cli_pond_open(&p, cli, false))
        return 1;
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = describe_one(&p, argv[i]);
    cli_pond_close(&p);
    return rc;
}
