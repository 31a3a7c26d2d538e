#include "cli/cli_copy.h"
#include "cli/cli_format.h"

#include <pond/parquet.h>
#include <pond/table.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char ABOUT[] =
    "Copy files into the pond or out of it, in one transaction. Host paths are written\n"
    "host:PATH (host:data.csv, host:/abs/dir/, host:///abs/dir/file); pond paths are plain\n"
    "(/sensors/temp). Sources may be globs, on either side ('/vega/*', 'host:in/*.csv'). With\n"
    "several sources, or a DEST that ends in '/' or is a directory, each source keeps its base\n"
    "name; a DEST ending in '/' is created if missing. Copying onto an existing pond file adds\n"
    "a version. The last line says what was copied: files, versions, rows, bytes.\n"
    "\n"
    "Copying out, a table or series becomes one file in the format written, and its host name\n"
    "says so: /t imported from t.csv is copied into a directory as t.parquet (t.csv with\n"
    "--format csv); a series of several versions is one Parquet file, the bytes of\n"
    "'pond cat --format parquet'. To a named file, the name's extension (.csv, .json,\n"
    ".parquet) picks the format unless --format does. Data files are copied as their bytes.\n"
    "\n"
    "Host files are written safely: a new file appears whole or not at all; an existing file\n"
    "is replaced atomically keeping its mode, owner and group (or, when pond cannot keep\n"
    "them, or it has other hard links or extended attributes, rewritten in place after the\n"
    "new content is complete); a device or FIFO is written into as a stream, never replaced;\n"
    "a symbolic link or socket at the destination is refused. Permissions never loosen.\n";

typedef struct {
    cli_pond *p;
    cli_copy_tally tally;
    pond_entry_type type;
    const char *schema;
    const char *ts_column;
    int zstd_level;
    cli_progress prog;
} copy_ctx;

/* A Parquet file must at least open, and every row group must decode. */
static int validate_parquet(int64_t *rows, const char *host)
{
    pond_parquet_reader *r = NULL;
    struct ArrowArray b = {0};
    int rc = pond_parquet_reader_open_file(&r, host, NULL);
    *rows = 0;
    while (rc == 0 && (rc = pond_parquet_reader_next(r, &b)) == 0) {
        *rows += b.length;
        pond_arrow_array_release(&b);
    }
    pond_parquet_reader_free(r);
    if (rc == POND_ITEROVER)
        return 0;
    pond_error_prefix("'%s' is not a valid Parquet file", host);
    return rc;
}

/* "name:type,..." for the columns of the latest version of dest that CSV import can produce. */
static void existing_types(pond_buf *out, copy_ctx *c, const char *dest)
{
    pond_stat st;
    if (pond_fs_stat(&st, c->p->fs, NULL, dest) < 0 || st.type != c->type || st.size == 0)
        return;
    struct ArrowArrayStream s;
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.file_version = st.version;
    if (pond_table_read_stream(&s, c->p->fs, NULL, dest, &o) < 0)
        return;
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) == 0) {
        for (int64_t k = 0; k < sc.n_children; k++) {
            const char *f = sc.children[k]->format, *t = NULL;
            if (!strcmp(f, "l"))
                t = "int64";
            else if (!strcmp(f, "g"))
                t = "double";
            else if (!strcmp(f, "b"))
                t = "bool";
            else if (!strcmp(f, "u"))
                t = "string";
            else if (!strncmp(f, "tsu:", 4))
                t = "timestamp";
            if (t && !strchr(sc.children[k]->name, ',') && !strchr(sc.children[k]->name, ':'))
                pond_buf_printf(out, "%s%s:%s", out->size ? "," : "", sc.children[k]->name, t);
        }
        sc.release(&sc);
    }
    s.release(&s);
}

static bool looks_parquet(int fd)
{
    char m[4];
    return pread(fd, m, 4, 0) == 4 && !memcmp(m, "PAR1", 4);
}

static int copy_in_typed(copy_ctx *c, const char *host, const char *dest, int fd,
                         const struct stat *stp);

static int copy_in_one(copy_ctx *c, const char *host, const char *dest)
{
    struct stat st;
    if (stat(host, &st) != 0)
        return cli_error("%s: %s", host, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return cli_error("%s: is a directory (copy its files with a glob, e.g. 'host:%s/*')", host,
                         host);
    if (!S_ISREG(st.st_mode))
        return cli_error("%s: not a regular file (FIFOs and devices are not copied)", host);
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cli_error("%s: %s", host, strerror(errno));
    pond_entry_type asked = c->type;
    if (asked == POND_ENTRY_NONE) /* --type auto: a Parquet file becomes a table */
        c->type = looks_parquet(fd) ? POND_ENTRY_FILE_TABLE : POND_ENTRY_FILE_DATA;
    int rc_auto = copy_in_typed(c, host, dest, fd, &st);
    if (rc_auto == 0) {
        c->tally.files++;
        c->tally.versions++;
        c->tally.bytes += (int64_t)st.st_size;
        c->tally.tabular |= c->type != POND_ENTRY_FILE_DATA;
    }
    c->type = asked;
    return rc_auto;
}

static int copy_in_typed(copy_ctx *c, const char *host, const char *dest, int fd,
                         const struct stat *stp)
{
    struct stat st = *stp;
    if (c->type != POND_ENTRY_FILE_DATA && !looks_parquet(fd)) {
        /* CSV: converted to Parquet while streaming */
        close(fd);
        struct ArrowArrayStream in;
        pond_csv_import_options io = POND_CSV_IMPORT_OPTIONS_INIT;
        /* a new version of an existing table or series keeps the column types it has: the
         * CSV of a later version may look like ints where the first had doubles */
        pond_buf hint = POND_BUF_INIT;
        existing_types(&hint, c, dest);
        io.schema_hint = hint.size ? hint.ptr : NULL;
        io.schema = c->schema;
        int irc = pond_csv_import_stream(&in, host, &io);
        pond_buf_dispose(&hint);
        if (irc < 0)
            return cli_fail();
        pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
        wo.timestamp_column = c->ts_column;
        wo.compression_level = c->zstd_level;
        /* parse on one core while the other encodes and compresses */
        struct ArrowArrayStream pre;
        if (pond_arrow_stream_prefetch(&pre, &in) < 0) {
            in.release(&in);
            return cli_fail();
        }
        int64_t rows = 0;
        if (pond_table_write_stream(&rows, c->p->fs, NULL, dest, c->type, &pre, &wo) < 0)
            return cli_fail();
        c->tally.rows += rows;
        return 0;
    }
    if (c->type != POND_ENTRY_FILE_DATA) {
        int64_t rows = 0;
        if (validate_parquet(&rows, host) < 0) {
            close(fd);
            return cli_fail();
        }
        c->tally.rows += rows;
    }
    pond_writer *w = NULL;
    if (pond_fs_open_writer(&w, c->p->fs, NULL, dest, c->type) < 0) {
        close(fd);
        return cli_fail();
    }
    char *buf = malloc(1 << 20);
    int rc = buf ? 0 : cli_error("out of memory");
    cli_progress_start(&c->prog, cli_base_name(host), (int64_t)st.st_size);
    while (rc == 0) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = cli_error("%s: %s", host, strerror(errno));
        if (n <= 0)
            break;
        if (pond_writer_write(w, buf, (size_t)n) < 0)
            rc = cli_fail();
        cli_progress_add(&c->prog, n);
    }
    cli_progress_end(&c->prog);
    if (rc == 0 && pond_writer_finish(w) < 0)
        rc = cli_fail();
    pond_writer_free(w);
    free(buf);
    close(fd);
    return rc;
}

static char *join(const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    char *s = malloc(dl + strlen(name) + 2);
    if (s)
        sprintf(s, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
    return s;
}

static bool host_has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

int cmd_copy(pond_cli *cli, int argc, char **argv)
{
    copy_ctx c = {0};
    const char *type = "data", *format = NULL;
    int64_t zstd_level = 0;
    bool type_given = false;
    const cli_opt opts[] = {
        {.name = "--type", .kind = CLI_OPT_CHOICE, .dest = &type, .arg = "T",
         .choices = "data|table|series|auto", .given = &type_given,
         .help = "entry type for files copied in: data (default), table, series, or\n"
                 "auto (each Parquet source becomes a table, anything else data).\n"
                 "A Parquet source is checked and stored as it is; a CSV source for\n"
                 "table/series is converted to Parquet with type inference."},
        {.name = "--timestamp-column", .kind = CLI_OPT_STRING, .dest = &c.ts_column,
         .arg = "NAME", .help = "the event-time column of a series (default: detected)"},
        {.name = "--schema", .kind = CLI_OPT_STRING, .dest = &c.schema, .arg = "name:type,...",
         .help = "CSV column types instead of inferred ones (int64, double,\n"
                 "bool, string, timestamp)"},
        {.name = "--zstd-level", .kind = CLI_OPT_INT, .dest = &zstd_level, .arg = "N",
         .help = "compression of converted CSV (default 1: fast; 3 is ~15% smaller)", .min = 1,
         .max = 19},
        {.name = "--format", .kind = CLI_OPT_CHOICE, .dest = &format, .arg = "F",
         .choices = "parquet|csv|json",
         .help = "copying out tables and series: parquet (the default, or what the\n"
                 "destination's extension says), csv, or json (one object per line)"},
        {0},
    };
    const cli_spec spec = {
        .command = "copy",
        .operands = "SRC... DEST",
        .about = ABOUT,
        .opts = opts,
        .missing = "need at least one source and a destination",
        .min_operands = 2,
        .max_operands = -1,
    };
    int argn, prc = cli_parse(&argn, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    c.type = !strcmp(type, "data")    ? POND_ENTRY_FILE_DATA
             : !strcmp(type, "table") ? POND_ENTRY_FILE_TABLE
             : !strcmp(type, "series") ? POND_ENTRY_FILE_SERIES
                                       : POND_ENTRY_NONE; /* auto: per source */
    c.zstd_level = (int)zstd_level;
    int nsrc = argn - 1; /* operands are argv[0..argn-1]: the sources, then DEST */
    const char *dest = argv[nsrc];
    const char *dest_host = cli_host_path(dest);
    for (int i = 0; i < nsrc; i++)
        if ((cli_host_path(argv[i]) != NULL) == (dest_host != NULL))
            return cli_usage(&spec, "'%s' and '%s': copy goes from host to pond or from pond "
                                    "to host (host paths start with host:)",
                             argv[i], dest);
    if (dest_host && (type_given || c.ts_column || c.schema || zstd_level))
        return cli_usage(&spec, "%s is for copying into the pond",
                         type_given ? "--type" : c.ts_column ? "--timestamp-column"
                                             : c.schema      ? "--schema"
                                                             : "--zstd-level");
    if (!dest_host && format)
        return cli_usage(&spec, "--format is for copying out of the pond (files copied in keep "
                                "their format)");
    cli_pond p;
    if (cli_pond_open(&p, cli, dest_host == NULL))
        return 1;
    c.p = &p;
    int rc = 0;
    if (!dest_host) { /* host -> pond */
        rc = cli_pond_begin(&p, cli);
        pond_stat dst;
        bool trailing = dest[strlen(dest) - 1] == '/';
        bool dest_dir = trailing || (pond_fs_stat(&dst, p.fs, NULL, dest) == 0 &&
                                     dst.type == POND_ENTRY_DIRECTORY);
        /* "DEST/" names a directory: created (with parents) when missing */
        if (rc == 0 && trailing && pond_fs_mkdir(p.fs, NULL, dest, POND_FS_MKDIR_PARENTS) < 0)
            rc = cli_fail();
        for (int i = 0; i < nsrc && rc == 0; i++) {
            const char *h = cli_host_path(argv[i]);
            glob_t g = {0};
            bool globbed = host_has_glob(h);
            if (globbed) {
                int gr = glob(h, 0, NULL, &g);
                if (gr == GLOB_NOMATCH) {
                    rc = cli_error("no match for '%s'", argv[i]);
                    break;
                }
                if (gr != 0) {
                    rc = cli_error("%s: cannot expand", argv[i]);
                    break;
                }
            }
            size_t nm = globbed ? g.gl_pathc : 1;
            if ((nm > 1 || nsrc > 1) && !dest_dir) {
                rc = cli_error("%s: not a directory (several sources need a directory "
                               "destination)",
                               dest);
            }
            for (size_t k = 0; k < nm && rc == 0; k++) {
                const char *src = globbed ? g.gl_pathv[k] : h;
                char *target = dest_dir ? join(dest, cli_base_name(src)) : strdup(dest);
                rc = target ? copy_in_one(&c, src, target) : cli_error("out of memory");
                free(target);
            }
            if (globbed)
                globfree(&g);
        }
        if (rc == 0)
            rc = cli_pond_commit(&p);
        if (rc == 0)
            cli_copy_summary(&c.tally, "into the pond");
    } else { /* pond -> host */
        rc = cli_copy_out(&c.tally, &p, argv, nsrc, dest_host, format);
        if (rc == 0)
            cli_copy_summary(&c.tally, "to the host");
    }
    cli_pond_close(&p);
    return rc;
}
