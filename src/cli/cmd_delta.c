/* pond delta log|dump|checkpoint DIR: inspect a Delta table (any writer's), write a checkpoint. */
#include "cli/cmd.h"

#include <pond/delta.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char DELTA_HELP[] =
    "usage: pond delta log DIR [--version V] [--verify] [--no-checkpoint]\n"
    "       pond delta dump DIR [--version V]\n"
    "       pond delta checkpoint DIR\n"
    "\n"
    "Inspect the Delta Lake table rooted at DIR (written by pond, Spark, delta-rs, ...).\n"
    "\n"
    "  log    print the snapshot: version, checkpoint, protocol, schema, partition columns\n"
    "         and live files (path, size, partition values, numRecords)\n"
    "  dump   print the rows of the snapshot in canonical form (canon-v1, sorted); checks\n"
    "         each file's rows against its stats (numRecords, integer/date bounds)\n"
    "  checkpoint  write a checkpoint of the latest version (<v>.checkpoint.parquet)\n"
    "\n"
    "options:\n"
    "  --version V      the snapshot version (default: latest)\n"
    "  --verify         also check data files (existence, size, stats) and the .crc checksum\n"
    "  --no-checkpoint  replay every JSON commit from version 0 instead of using a checkpoint\n";

typedef struct {
    const char *dir;
    int64_t version;
    bool verify, no_checkpoint;
} delta_args;

static int parse_args(delta_args *a, int argc, char **argv, const char *usage, bool log_opts)
{
    a->dir = NULL;
    a->version = -1;
    a->verify = a->no_checkpoint = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--version") || !strncmp(s, "--version=", 10)) {
            const char *v = s[9] == '=' ? s + 10 : (i + 1 < argc ? argv[++i] : NULL);
            char *end;
            if (!v)
                return cli_usage(usage, "--version needs a number");
            errno = 0;
            long long n = strtoll(v, &end, 10);
            if (errno || *end || end == v || n < 0)
                return cli_usage(usage, "bad version '%s'", v);
            a->version = n;
        } else if (log_opts && !strcmp(s, "--verify")) {
            a->verify = true;
        } else if (log_opts && !strcmp(s, "--no-checkpoint")) {
            a->no_checkpoint = true;
        } else if (s[0] == '-' && s[1]) {
            return cli_usage(usage, "unknown option '%s'", s);
        } else if (!a->dir) {
            a->dir = s;
        } else {
            return cli_usage(usage, "unexpected argument '%s'", s);
        }
    }
    if (!a->dir)
        return cli_usage(usage, "missing table directory");
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
        fprintf(stderr, "pond: warning: %s: %s\n", a->dir, pond_delta_table_warning(*t, i));
    return 0;
}

static void print_type(const pond_delta_type *t)
{
    switch (t->kind) {
    case POND_DELTA_TYPE_PRIMITIVE: fputs(t->primitive, stdout); break;
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
    static const char usage[] = "pond delta log DIR [--version V] [--verify] [--no-checkpoint]";
    delta_args a;
    int rc = parse_args(&a, argc, argv, usage, true);
    if (rc)
        return rc;
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

static int write_stdout(void *payload, const void *buf, size_t len)
{
    (void)payload;
    if (fwrite(buf, 1, len, stdout) != len)
        return pond_error_set(POND_EIO, POND_DOM_CLI, "write to stdout failed");
    return 0;
}

static int delta_dump(int argc, char **argv)
{
    static const char usage[] = "pond delta dump DIR [--version V]";
    delta_args a;
    int rc = parse_args(&a, argc, argv, usage, false);
    if (rc)
        return rc;
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
    static const char usage[] = "pond delta checkpoint DIR";
    delta_args a;
    int rc = parse_args(&a, argc, argv, usage, false);
    if (rc)
        return rc;
    if (a.version >= 0)
        return cli_usage(usage, "a checkpoint is always of the latest version");
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

int cmd_delta(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (cli_wants_help(argc, argv, DELTA_HELP))
        return 0;
    if (argc < 2)
        return cli_usage("pond delta log|dump|checkpoint DIR", "missing subcommand");
    if (!strcmp(argv[1], "log"))
        return delta_log(argc - 1, argv + 1);
    if (!strcmp(argv[1], "dump"))
        return delta_dump(argc - 1, argv + 1);
    if (!strcmp(argv[1], "checkpoint"))
        return delta_checkpoint(argc - 1, argv + 1);
    return cli_usage("pond delta log|dump|checkpoint DIR", "unknown subcommand '%s'", argv[1]);
}
