/* pond delta log|dump|checkpoint DIR: inspect a Delta table (any writer's), write a checkpoint. */
#include "cli/cmd.h"

#include <pond/delta.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char DELTA_ABOUT[] =
    "Inspect the Delta Lake table rooted at DIR (written by pond, Spark, delta-rs, ...).\n"
    "\n"
    "  log    print the snapshot: version, checkpoint, protocol, schema, partition columns\n"
    "         and live files (path, size, partition values, numRecords)\n"
    "  dump   print the rows of the snapshot in canonical form (canon-v1, sorted); checks\n"
    "         each file's rows against its stats (numRecords, integer/date bounds)\n"
    "  checkpoint  write a checkpoint of the latest version (<v>.checkpoint.parquet)\n";

typedef struct {
    const char *dir;
    int64_t version;
    bool verify, no_checkpoint;
} delta_args;

/* The options of each subcommand: log has all three, dump only --version, checkpoint none. */
static void delta_spec(cli_spec *spec, cli_opt opts[4], delta_args *a, const char *sub)
{
    a->dir = NULL;
    a->version = -1;
    a->verify = a->no_checkpoint = false;
    const cli_opt all[] = {
        {.name = "--version",
         .kind = CLI_OPT_INT,
         .dest = &a->version,
         .arg = "V",
         .help = "the snapshot version (default: latest)",
         .min = 0,
         .max = INT64_MAX},
        {.name = "--verify",
         .kind = CLI_OPT_FLAG,
         .dest = &a->verify,
         .help = "also check data files (existence, size, stats) and the .crc checksum"},
        {.name = "--no-checkpoint",
         .kind = CLI_OPT_FLAG,
         .dest = &a->no_checkpoint,
         .help = "replay every JSON commit from version 0 instead of using a checkpoint"},
    };
    int n = !strcmp(sub, "log") ? 3 : !strcmp(sub, "dump") ? 1 : 0;
    memset(opts, 0, 4 * sizeof *opts);
    memcpy(opts, all, (size_t)n * sizeof *opts);
    static char command[32];
    snprintf(command, sizeof command, "delta %s", sub);
    *spec = (cli_spec){.command = command,
                       .operands = "DIR",
                       .about = DELTA_ABOUT,
                       .opts = opts,
                       .missing = "missing table directory",
                       .min_operands = 1,
                       .max_operands = 1};
}

static int parse_args(delta_args *a, int argc, char **argv, const char *sub)
{
    cli_spec spec;
    cli_opt opts[4];
    delta_spec(&spec, opts, a, sub);
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc == CLI_EXIT_HELP ? -2 : rc;
    if (!strcmp(sub, "checkpoint") && a->version >= 0)
        return cli_usage(&spec, "a checkpoint is always of the latest version");
    a->dir = argv[0];
    return 0;
}

static int open_table(pond_delta_table **t, const delta_args *a)
{
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = a->version;
    o.ignore_checkpoints = a->no_checkpoint;
    if (pond_delta_table_open(t, a->dir, &o) < 0)
        return cli_error("%s: %s", a->dir, pond_error_last()->message);
    for (size_t i = 0; pond_delta_table_warning(*t, i); i++)
        cli_warning("%s: %s", a->dir, pond_delta_table_warning(*t, i));
    return 0;
}

static void print_type(const pond_delta_type *t)
{
    switch (t->kind) {
    case POND_DELTA_TYPE_PRIMITIVE:
        fputs(t->primitive, stdout);
        break;
    case POND_DELTA_TYPE_STRUCT:
        fputs("struct<", stdout);
        for (size_t i = 0; i < t->n_fields; i++) {
            printf("%s%s:", i ? "," : "", t->fields[i].name);
            print_type(t->fields[i].type);
        }
        fputc('>', stdout);
        break;
    case POND_DELTA_TYPE_ARRAY:
        fputs("array<", stdout);
        print_type(t->element);
        fputc('>', stdout);
        break;
    case POND_DELTA_TYPE_MAP:
        fputs("map<", stdout);
        print_type(t->key);
        fputc(',', stdout);
        print_type(t->value);
        fputc('>', stdout);
        break;
    }
}

static void print_features(const char *label, const char *const *v, size_t n)
{
    if (!v)
        return;
    printf(" %s=", label);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? "," : "", v[i]);
}

typedef struct {
    const pond_delta_file **v;
    size_t n;
} file_list;

static int collect_file(const pond_delta_file *f, void *payload)
{
    file_list *l = payload;
    l->v[l->n++] = f;
    return 0;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp((*(const pond_delta_file *const *)a)->path,
                  (*(const pond_delta_file *const *)b)->path);
}

static int delta_log(int argc, char **argv)
{
    delta_args a;
    int rc = parse_args(&a, argc, argv, "log");
    if (rc)
        return rc == -2 ? 0 : rc;
    pond_delta_table *t;
    if ((rc = open_table(&t, &a)))
        return rc;
    if (a.verify && pond_delta_table_verify(t, POND_DELTA_VERIFY_ALL) < 0) {
        rc = cli_error("%s: %s", a.dir, pond_error_last()->message);
        pond_delta_table_free(t);
        return rc;
    }
    const pond_delta_protocol *p = pond_delta_table_protocol(t);
    const pond_delta_metadata *m = pond_delta_table_metadata(t);
    printf("version: %" PRId64 "\n", pond_delta_table_version(t));
    if (pond_delta_table_checkpoint_version(t) >= 0)
        printf("checkpoint: %s at version %" PRId64 "\n", pond_delta_table_checkpoint_kind(t),
               pond_delta_table_checkpoint_version(t));
    else
        printf("checkpoint: none\n");
    printf("protocol: minReaderVersion=%d minWriterVersion=%d", p->min_reader_version,
           p->min_writer_version);
    print_features("readerFeatures", p->reader_features, p->n_reader_features);
    print_features("writerFeatures", p->writer_features, p->n_writer_features);
    printf("\ntable id: %s\n", m->id);
    printf("schema:\n");
    for (size_t i = 0; i < m->schema->n_fields; i++) {
        const pond_delta_field *f = &m->schema->fields[i];
        printf("  %s: ", f->name);
        print_type(f->type);
        printf("%s", f->nullable ? "" : " not null");
        if (strcmp(f->physical_name, f->name) != 0)
            printf(" (physical name %s)", f->physical_name);
        printf("\n");
    }
    printf("partition columns:");
    for (size_t i = 0; i < m->n_partition_columns; i++)
        printf("%s%s", i ? "," : " ", m->partition_columns[i]);
    size_t n = pond_delta_table_file_count(t);
    printf("\nfiles: %zu\n", n);
    file_list l = {pond_malloc((n ? n : 1) * sizeof *l.v), 0};
    if (!l.v) {
        pond_delta_table_free(t);
        return cli_fail();
    }
    pond_delta_table_foreach_file(t, collect_file, &l);
    qsort(l.v, l.n, sizeof *l.v, cmp_file);
    for (size_t i = 0; i < l.n; i++) {
        const pond_delta_file *f = l.v[i];
        printf("  %s size=%" PRId64, f->decoded_path, f->size);
        for (size_t k = 0; k < m->n_partition_columns; k++) {
            const char *v;
            if (pond_delta_file_partition_value(&v, t, f, m->partition_columns[k]) == 0)
                printf(" %s=%s", m->partition_columns[k], v ? v : "(null)");
        }
        int64_t nr;
        if (pond_delta_file_num_records(&nr, f) == 0)
            printf(" numRecords=%" PRId64, nr);
        if (f->deletion_vector)
            printf(" deletionVector=%c,cardinality=%" PRId64, f->deletion_vector->storage_type,
                   f->deletion_vector->cardinality);
        printf("\n");
    }
    pond_free(l.v);
    pond_delta_table_free(t);
    return 0;
}

static int write_stdout(const void *buf, size_t len, void *payload)
{
    (void)payload;
    if (fwrite(buf, 1, len, stdout) != len)
        return pond_error_set(POND_EIO, POND_DOM_CLI, "write to stdout failed");
    return 0;
}

static int delta_dump(int argc, char **argv)
{
    delta_args a;
    int rc = parse_args(&a, argc, argv, "dump");
    if (rc)
        return rc == -2 ? 0 : rc;
    pond_delta_table *t;
    if ((rc = open_table(&t, &a)))
        return rc;
    if (pond_delta_table_dump(t, write_stdout, NULL, NULL) < 0)
        rc = cli_error("%s: %s", a.dir, pond_error_last()->message);
    pond_delta_table_free(t);
    return rc;
}

static int delta_checkpoint(int argc, char **argv)
{
    delta_args a;
    int rc = parse_args(&a, argc, argv, "checkpoint");
    if (rc)
        return rc == -2 ? 0 : rc;
    pond_delta_table *t;
    if ((rc = open_table(&t, &a)))
        return rc;
    if (pond_delta_checkpoint_write(t) < 0)
        rc = cli_error("%s: %s", a.dir, pond_error_last()->message);
    else
        printf("checkpoint written at version %" PRId64 "\n", pond_delta_table_version(t));
    pond_delta_table_free(t);
    return rc;
}

static void delta_help(FILE *f)
{
    static const char *subs[] = {"log", "dump", "checkpoint"};
    delta_args a;
    cli_spec spec;
    cli_opt opts[4];
    for (size_t i = 0; i < 3; i++) {
        delta_spec(&spec, opts, &a, subs[i]);
        cli_print_usage_as(f, &spec, i ? "   or: " : "usage: ");
    }
    fprintf(f, "\n%s\noptions:\n", DELTA_ABOUT);
    delta_spec(&spec, opts, &a, "log");
    cli_print_options(f, opts, true);
}

int cmd_delta(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    static const cli_spec top = {.command = "delta", .operands = "log|dump|checkpoint DIR"};
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        if (argc < 2)
            return cli_usage(&top, "missing subcommand");
        delta_help(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "log"))
        return delta_log(argc - 1, argv + 1);
    if (!strcmp(argv[1], "dump"))
        return delta_dump(argc - 1, argv + 1);
    if (!strcmp(argv[1], "checkpoint"))
        return delta_checkpoint(argc - 1, argv + 1);
    return cli_usage(&top, "unknown subcommand '%s'", argv[1]);
}
