#include "cli/cli_copy.h"
#include "cli/cli_format.h"

#include <pond/csv_import.h>
#include <pond/input.h>
#include <pond/parquet.h>
#include <pond/table.h>
#include <pond/timefmt.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char ABOUT[] =
    "Copy files into the pond or out of it, in one transaction. Host paths are written\n"
    "host:PATH (host:data.csv, host:/abs/dir/, host:///abs/dir/file), and host:- is standard\n"
    "input; pond paths are plain (/sensors/temp). Sources may be globs, on either side\n"
    "('/vega/*', 'host:in/*.csv'). With several sources, or a DEST that ends in '/' or is a\n"
    "directory, each source keeps its base name; a DEST ending in '/' is created if missing.\n"
    "Copying onto an existing pond file adds a version. The last line says what was copied:\n"
    "files, versions, rows, bytes.\n"
    "\n"
    "Copying in as a table or series, a Parquet source is checked and stored as it is; a CSV,\n"
    "JSON or NDJSON source (detected, or named by --format) is converted to Parquet with type\n"
    "inference. Sources may be gzip, zstd, bzip2 or xz compressed (detected by content). The\n"
    "import options below (--delimiter to --encoding) read CSV dialects; docs/import.md has\n"
    "every rule, docs/time.md the time rules.\n"
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

#define MAX_TIME_FORMATS 16

typedef struct {
    const char *v[MAX_TIME_FORMATS];
    size_t n;
} time_formats;

typedef struct {
    cli_pond *p;
    cli_copy_tally tally;
    pond_entry_type type;
    const char *schema;
    const char *ts_column;
    const char *timezone;
    time_formats formats;
    int zstd_level;
    cli_progress prog;
    pond_csv_import_options imp; /* the import options given */
    bool allow_duplicate;
    pond_fs_node **series; /* series written (for their automatic compaction policy) */
    size_t n_series;
} copy_ctx;

static void print_note(const char *msg, void *payload)
{
    (void)payload;
    fprintf(stderr, "pond: note: %s\n", msg);
}

/* What the Parquet reader skipped to read a source is said as the file enters the pond. */
static void print_parquet_warning(const char *msg, void *payload)
{
    cli_warning("%s: %s", (const char *)payload, msg);
}

/* ---- option values (CLI_OPT_FN: a message without the option's name) ---- */

static int bad_value(const char *what, const char *value)
{
    return pond_error_set(POND_EINVALID, POND_DOM_CLI, "'%s' is not %s", value, what);
}

static int opt_delimiter(void *dest, const char *d)
{
    char *c = dest;
    if (!strcmp(d, "tab") || !strcmp(d, "\\t") || !strcmp(d, "\t"))
        *c = '\t';
    else if (!strcmp(d, "space") || !strcmp(d, " "))
        *c = ' ';
    else if (!strcmp(d, "auto"))
        *c = 0;
    else if (strlen(d) == 1 && d[0] != '\n' && d[0] != '\r' && d[0] != '"')
        *c = d[0];
    else
        return bad_value("one character, tab, space or auto", d);
    return 0;
}

static int opt_char(void *dest, const char *q)
{
    if (strlen(q) != 1 || q[0] == '\n' || q[0] == '\r')
        return bad_value("one character", q);
    *(char *)dest = q[0];
    return 0;
}

static int opt_encoding(void *dest, const char *name)
{
    pond_input_encoding e;
    int rc = pond_input_encoding_parse(&e, name);
    if (rc == 0)
        *(int *)dest = (int)e;
    return rc;
}

/* Repeatable: each --time-format adds one, the first that matches a value wins. */
static int opt_time_format(void *dest, const char *f)
{
    time_formats *tf = dest;
    if (tf->n == MAX_TIME_FORMATS)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI, "at most %d formats", MAX_TIME_FORMATS);
    pond_time_reader *r = NULL;
    int rc = pond_time_reader_new(&r, &f, 1, NULL);
    pond_time_reader_free(r);
    if (rc == 0)
        tf->v[tf->n++] = f;
    return rc;
}

/* ---- host -> pond ---- */

/* "name:type,..." for the columns of dest (a series: of all its versions, from its index)
 * that CSV import can produce. */
static void existing_types(pond_buf *out, copy_ctx *c, pond_fs_node *dest)
{
    pond_stat st;
    if (pond_fs_node_stat(&st, dest) < 0 || st.type != c->type)
        return;
    struct ArrowSchema sc;
    if (pond_table_node_schema(&sc, dest) < 0)
        return;
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

static bool looks_parquet(int fd)
{
    char m[4];
    return pread(fd, m, 4, 0) == 4 && !memcmp(m, "PAR1", 4);
}

static int copy_in_typed(int64_t *bytes, copy_ctx *c, const char *host, pond_fs_node *dest, int fd,
                         const struct stat *stp);

static int copy_in_one(copy_ctx *c, const char *host, pond_fs_node *dest)
{
    struct stat st;
    pond_entry_type asked = c->type;
    int fd;
    if (!strcmp(host, "-")) { /* standard input: streamed, never checked for Parquet */
        if (fstat(0, &st) != 0)
            return cli_error("stdin: %s", strerror(errno));
        if (asked == POND_ENTRY_NONE)
            c->type = POND_ENTRY_FILE_DATA;
        fd = dup(0);
    } else {
        if (stat(host, &st) != 0)
            return cli_error("%s: %s", host, strerror(errno));
        if (S_ISDIR(st.st_mode))
            return cli_error("%s: is a directory (copy its files with a glob, e.g. 'host:%s/*')",
                             host, host);
        if (!S_ISREG(st.st_mode))
            return cli_error("%s: not a regular file (FIFOs and devices are not copied; "
                             "host:- reads standard input)",
                             host);
        fd = open(host, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return cli_error("%s: %s", host, strerror(errno));
        if (asked == POND_ENTRY_NONE) /* --type auto: a Parquet file becomes a table */
            c->type = looks_parquet(fd) ? POND_ENTRY_FILE_TABLE : POND_ENTRY_FILE_DATA;
    }
    int64_t bytes = 0;
    int64_t skipped = c->tally.skipped;
    int rc = copy_in_typed(&bytes, c, host, dest, fd, &st);
    if (rc == 0 && c->tally.skipped == skipped) {
        c->tally.files++;
        c->tally.versions++;
        c->tally.bytes += bytes;
        c->tally.tabular |= c->type != POND_ENTRY_FILE_DATA;
    }
    c->type = asked;
    return rc;
}

/* The time settings of this copy: given ones, else those the series records. */
static int time_setup(copy_ctx *c, pond_fs_node *dest, pond_series_settings *eff, pond_tz **tz,
                      pond_time_reader **reader)
{
    *tz = NULL;
    *reader = NULL;
    if (c->type == POND_ENTRY_FILE_SERIES) {
        if (pond_series_node_settings_resolve(eff, dest, c->ts_column, c->timezone, c->formats.v,
                                              c->formats.n) < 0)
            return cli_fail();
    } else { /* a table records nothing: only what this copy gives */
        eff->timezone = c->timezone ? strdup(c->timezone) : NULL;
        eff->time_formats = (char **)c->formats.v; /* borrowed; see time_dispose */
        eff->n_time_formats = c->formats.n;
    }
    if (eff->timezone && pond_tz_open(tz, eff->timezone) < 0)
        return cli_fail();
    if (pond_time_reader_new(reader, (const char *const *)eff->time_formats, eff->n_time_formats,
                             *tz) < 0)
        return cli_fail();
    return 0;
}

static void time_dispose(copy_ctx *c, pond_series_settings *eff, pond_tz *tz,
                         pond_time_reader *reader)
{
    pond_time_reader_free(reader);
    pond_tz_free(tz);
    if (c->type == POND_ENTRY_FILE_SERIES) {
        pond_series_settings_dispose(eff);
    } else {
        free(eff->timezone);
        memset(eff, 0, sizeof *eff);
    }
}

/* What a table or series write did: a version skipped as identical is said (and nothing is
 * committed when every source was skipped); a series written is remembered for its automatic
 * compaction. */
static int note_write(copy_ctx *c, pond_fs_node *dest, const pond_table_write_result *res)
{
    if (res->identical_to) {
        printf("%s: skipped: identical to version %lld\n", pond_fs_node_path(dest),
               (long long)res->identical_to);
        c->tally.skipped++;
        c->tally.tabular = true;
        return 0;
    }
    c->tally.rows += res->rows;
    if (c->type != POND_ENTRY_FILE_SERIES)
        return 0;
    for (size_t i = 0; i < c->n_series; i++)
        if (!strcmp(pond_fs_node_path(c->series[i]), pond_fs_node_path(dest)))
            return 0;
    pond_fs_node **ns = realloc(c->series, (c->n_series + 1) * sizeof *ns);
    if (!ns)
        return cli_error("out of memory");
    c->series = ns;
    if (pond_fs_node_dup(&ns[c->n_series], dest) < 0)
        return cli_fail();
    c->n_series++;
    return 0;
}

/* CSV, JSON or NDJSON (a file or standard input): converted to Parquet while streaming. */
static int import_text(copy_ctx *c, const char *host, pond_fs_node *dest,
                       const pond_table_write_options *wo)
{
    struct ArrowArrayStream in;
    pond_csv_import_options io = c->imp;
    pond_series_settings eff = {0};
    pond_tz *tz = NULL;
    pond_time_reader *reader = NULL;
    if (time_setup(c, dest, &eff, &tz, &reader) != 0) {
        time_dispose(c, &eff, tz, reader);
        return 1;
    }
    /* a new version of an existing table or series keeps the column types it has: the
     * CSV of a later version may look like ints where the first had doubles */
    pond_buf hint = POND_BUF_INIT;
    existing_types(&hint, c, dest);
    io.schema_hint = hint.size ? hint.ptr : NULL;
    io.schema = c->schema;
    io.time_reader = reader;
    io.timestamp_column = eff.timestamp_column;
    io.detect_timestamp = c->type == POND_ENTRY_FILE_SERIES;
    io.threads = c->p->threads ? c->p->threads : POND_PARQUET_THREADS_DEFAULT;
    int rc = 0;
    if (pond_csv_import_stream(&in, host, &io) < 0)
        rc = cli_fail();
    pond_buf_dispose(&hint);
    /* parse (on its threads) while the writer encodes and compresses */
    struct ArrowArrayStream pre;
    if (rc == 0 && pond_arrow_stream_prefetch(&pre, &in) < 0) /* consumes in */
        rc = cli_fail();
    pond_table_write_result res = {0};
    if (rc == 0 && pond_table_node_write_stream(&res, dest, c->type, &pre, wo) < 0)
        rc = cli_fail();
    if (rc == 0)
        rc = note_write(c, dest, &res);
    time_dispose(c, &eff, tz, reader);
    return rc;
}

/* *bytes: the host bytes read. fd is closed. */
static int copy_in_typed(int64_t *bytes, copy_ctx *c, const char *host, pond_fs_node *dest, int fd,
                         const struct stat *stp)
{
    bool is_stdin = !strcmp(host, "-");
    if (fd < 0)
        return cli_error("%s: %s", is_stdin ? "stdin" : host, strerror(errno));
    *bytes = (int64_t)stp->st_size;
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timestamp_column = c->ts_column;
    wo.compression_level = c->zstd_level;
    wo.timezone = c->timezone;
    wo.time_formats = c->formats.v;
    wo.n_time_formats = c->formats.n;
    wo.skip_identical = c->type == POND_ENTRY_FILE_SERIES && !c->allow_duplicate;
    wo.threads = c->p->threads;
    if (c->type != POND_ENTRY_FILE_DATA && (is_stdin || !looks_parquet(fd))) {
        close(fd);
        int rc = import_text(c, host, dest, &wo);
        /* a pipe has no size: what it gave is what the pond now holds */
        pond_stat st;
        if (rc == 0 && is_stdin && !S_ISREG(stp->st_mode) && pond_fs_node_stat(&st, dest) == 0)
            *bytes = st.size;
        return rc;
    }
    if (c->type != POND_ENTRY_FILE_DATA) {
        /* Parquet: checked (every row group decodes), for a series its timestamp column found
         * and its event-time range recorded; stored as it is */
        close(fd);
        pond_table_write_result res = {0};
        wo.warn = print_parquet_warning;
        wo.warn_payload = (void *)host;
        if (pond_table_node_write_parquet_file(&res, dest, c->type, host, &wo) < 0)
            return cli_fail();
        return note_write(c, dest, &res);
    }
    pond_writer *w = NULL;
    if (pond_fs_node_open_writer(&w, dest, c->type) < 0) {
        close(fd);
        return cli_fail();
    }
    char *buf = malloc(1 << 20);
    int rc = buf ? 0 : cli_error("out of memory");
    *bytes = 0;
    cli_progress_start(&c->prog, is_stdin ? "stdin" : cli_base_name(host),
                       is_stdin ? 0 : (int64_t)stp->st_size);
    while (rc == 0) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = cli_error("%s: %s", is_stdin ? "stdin" : host, strerror(errno));
        if (n <= 0)
            break;
        if (pond_writer_write(w, buf, (size_t)n) < 0)
            rc = cli_fail();
        *bytes += n;
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

/* The series this copy wrote whose policy asks for it (pond set PATH compact=N) are compacted,
 * each in a transaction after the copy's (like the oplog's automatic merges). */
static int auto_compact(copy_ctx *c)
{
    int rc = 0;
    for (size_t i = 0; i < c->n_series && rc == 0; i++) {
        pond_fs_node *h = c->series[i]; /* the copy's own handle: no path walked again */
        pond_series_settings set = {0};
        pond_series_version_info *vi = NULL;
        size_t nv = 0;
        if (pond_series_node_settings_get(&set, h) < 0 ||
            (set.compact_after > 0 && pond_series_node_versions(&vi, &nv, h) < 0)) {
            rc = cli_fail();
        } else if (set.compact_after > 0) {
            /* versions with rows after the newest compacted one */
            int64_t due = 0;
            for (size_t k = 0; k < nv; k++) {
                if (vi[k].replaces_lo > 0)
                    due = 0;
                else if (vi[k].size > 0 && !vi[k].replaced_by)
                    due++;
            }
            pond_series_compact_result res;
            if (due >= set.compact_after) {
                /* the log shows what it was: the command that would do the same */
                pond_buf meta = POND_BUF_INIT;
                if (pond_buf_puts(&meta,
                                  "{\"pondCommand\":[\"pond\",\"gc\",\"--compact-series\",") < 0 ||
                    cli_json_str(&meta, pond_fs_node_path(h)) < 0 ||
                    pond_buf_puts(&meta, "],\"pondAutomatic\":true}") < 0)
                    rc = cli_error("out of memory");
                else if (pond_fs_begin(c->p->fs, meta.ptr) < 0)
                    rc = cli_fail();
                pond_buf_dispose(&meta);
                if (rc == 0) {
                    pond_series_compact_options co = POND_SERIES_COMPACT_OPTIONS_INIT;
                    co.threads = c->p->threads; /* --threads */
                    if (pond_series_compact(&res, h, &co) < 0) {
                        pond_fs_abort(c->p->fs);
                        rc = cli_fail();
                    } else {
                        rc = cli_pond_commit(c->p);
                    }
                }
            }
        }
        pond_free(vi);
        pond_series_settings_dispose(&set);
    }
    return rc;
}

static bool host_has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

int cmd_copy(pond_cli *cli, int argc, char **argv)
{
    copy_ctx c = {0};
    c.imp = (pond_csv_import_options)POND_CSV_IMPORT_OPTIONS_INIT;
    c.imp.note = print_note;
    const char *type = "data", *format = NULL;
    int64_t zstd_level = 0;
    /* which options were given: all but --type and --format are about converting a table or
     * series copied in */
    bool given[16] = {0};
    const cli_opt opts[] = {
        {.name = "--type",
         .kind = CLI_OPT_CHOICE,
         .dest = &type,
         .arg = "T",
         .choices = "data|table|series|auto",
         .given = &given[0],
         .help = "entry type for files copied in: data (default), table, series, or\n"
                 "auto (each Parquet source becomes a table, anything else data).\n"
                 "A Parquet source is checked and stored as it is; a CSV or JSON source\n"
                 "for table/series is converted to Parquet with type inference."},
        {.name = "--timestamp-column",
         .kind = CLI_OPT_STRING,
         .dest = &c.ts_column,
         .arg = "NAME",
         .given = &given[1],
         .help = "the event-time column of a series (default: the one the series\n"
                 "records, else detected: the only timestamp or date column, else one\n"
                 "named like timestamp, time, date, ts, datetime)"},
        {.name = "--time-format",
         .kind = CLI_OPT_FN,
         .dest = &c.formats,
         .arg = "F",
         .fn = opt_time_format,
         .given = &given[2],
         .help = "how CSV times are written, strptime-style (%Y %m %d %H %M %S %f %y\n"
                 "%b %j %q %s %z ...; docs/time.md); may be given several times, the\n"
                 "first that matches a value wins; ISO-8601 is always read. %Y reads\n"
                 "integer years, %Y%m%d dates like 19580329, %YQ%q quarters like 1974Q1"},
        {.name = "--timezone",
         .kind = CLI_OPT_FN,
         .dest = &c.timezone,
         .arg = "TZ",
         .fn = cli_parse_timezone_name,
         .given = &given[3],
         .help = "IANA zone (Europe/Berlin) for times without a zone, in CSV values and\n"
                 "Parquet timestamps not adjusted to UTC (default UTC); a series records\n"
                 "it, its time formats and its timestamp column for later copies"},
        {.name = "--schema",
         .kind = CLI_OPT_STRING,
         .dest = &c.schema,
         .arg = "name:type,...",
         .given = &given[4],
         .help = "CSV column types instead of inferred ones (int64, double,\n"
                 "bool, string, timestamp)"},
        {.name = "--zstd-level",
         .kind = CLI_OPT_INT,
         .dest = &zstd_level,
         .arg = "N",
         .given = &given[5],
         .help = "compression of converted CSV (default 1: fast; 3 is ~15% smaller)",
         .min = 1,
         .max = 19},
        {.name = "--allow-duplicate",
         .kind = CLI_OPT_FLAG,
         .dest = &c.allow_duplicate,
         .given = &given[15],
         .help = "add a series version even when its content is identical to an\n"
                 "existing version's (default: such a copy prints 'skipped: identical\n"
                 "to version N' and adds nothing)"},
        {.name = "--format",
         .kind = CLI_OPT_CHOICE,
         .dest = &format,
         .arg = "F",
         .choices = "parquet|csv|json|ndjson",
         .given = &given[14],
         .help = "copying in as a table or series: csv, json (an array of objects) or\n"
                 "ndjson (one object per line); default: detected from the content.\n"
                 "Copying out tables and series: parquet (the default, or what the\n"
                 "destination's extension says), csv, or json (one object per line)"},
        {.name = "--delimiter",
         .kind = CLI_OPT_FN,
         .dest = &c.imp.delimiter,
         .arg = "C",
         .fn = opt_delimiter,
         .given = &given[6],
         .help = ", tab ; | space (runs of blanks), or auto (default: sniffed from the\n"
                 "first 64 KiB; an ambiguous file is refused and asks for this option)"},
        {.name = "--quote",
         .kind = CLI_OPT_FN,
         .dest = &c.imp.quote,
         .arg = "C",
         .fn = opt_char,
         .given = &given[7],
         .help = "the quote character (default \", or ' when the header is single-quoted)"},
        {.name = "--comment",
         .kind = CLI_OPT_FN,
         .dest = &c.imp.comment,
         .arg = "C",
         .fn = opt_char,
         .given = &given[8],
         .help = "skip lines starting with C (e.g. '#')"},
        {.name = "--skip-rows",
         .kind = CLI_OPT_INT,
         .dest = &c.imp.skip_rows,
         .arg = "N",
         .given = &given[9],
         .help = "skip N lines before the header",
         .min = 0,
         .max = INT64_MAX},
        {.name = "--no-header",
         .kind = CLI_OPT_FLAG,
         .dest = &c.imp.no_header,
         .given = &given[10],
         .help = "the first line is data; columns are named column1, column2, ..."},
        {.name = "--null-values",
         .kind = CLI_OPT_STRING,
         .dest = &c.imp.null_values,
         .arg = "LIST",
         .given = &given[11],
         .help = "comma-separated values read as null (unquoted, every column);\n"
                 "default: an empty field, and NA N/A n/a #N/A NULL null None nil - ?\n"
                 "in columns of numbers, booleans or timestamps"},
        {.name = "--allow-ragged",
         .kind = CLI_OPT_FLAG,
         .dest = &c.imp.allow_ragged,
         .given = &given[12],
         .help = "pad rows with fewer fields than the header with nulls"},
        {.name = "--encoding",
         .kind = CLI_OPT_FN,
         .dest = &c.imp.encoding,
         .arg = "E",
         .fn = opt_encoding,
         .given = &given[13],
         .help = "utf-8 (default; checked), latin1, cp1252, utf-16 (byte-order mark,\n"
                 "else little-endian), utf-16le, utf-16be"},
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
    c.type = !strcmp(type, "data")     ? POND_ENTRY_FILE_DATA
             : !strcmp(type, "table")  ? POND_ENTRY_FILE_TABLE
             : !strcmp(type, "series") ? POND_ENTRY_FILE_SERIES
                                       : POND_ENTRY_NONE; /* auto: per source */
    c.zstd_level = (int)zstd_level;
    int nsrc = argn - 1; /* operands are argv[0..argn-1]: the sources, then DEST */
    const char *dest = argv[nsrc];
    const char *dest_host = cli_host_path(dest);
    for (int i = 0; i < nsrc; i++)
        if ((cli_host_path(argv[i]) != NULL) == (dest_host != NULL))
            return cli_usage(&spec,
                             "'%s' and '%s': copy goes from host to pond or from pond "
                             "to host (host paths start with host:)",
                             argv[i], dest);
    for (const cli_opt *o = opts; dest_host && o->name; o++)
        if (*o->given && o->dest != &format)
            return cli_usage(&spec, "%s is for copying into the pond", o->name);
    for (const cli_opt *o = opts; !dest_host && c.type == POND_ENTRY_FILE_DATA && o->name; o++)
        if (*o->given && o->dest != &type)
            return cli_usage(&spec,
                             "%s is for tables and series (--type table, series or auto); "
                             "a data file is copied as its bytes",
                             o->name);
    if (!dest_host && format) { /* --format names the sources' format */
        if (!strcmp(format, "parquet"))
            return cli_usage(&spec, "--format parquet is for copying out (a Parquet source is "
                                    "detected; name csv, json or ndjson)");
        c.imp.format = !strcmp(format, "json")     ? POND_IMPORT_JSON
                       : !strcmp(format, "ndjson") ? POND_IMPORT_NDJSON
                                                   : POND_IMPORT_CSV;
    }
    if (dest_host && format && !strcmp(format, "ndjson"))
        return cli_usage(&spec, "--format ndjson is for copying in (json copies out one object "
                                "per line)");
    cli_pond p;
    if (cli_pond_open(&p, cli, dest_host == NULL))
        return 1;
    c.p = &p;
    int rc = 0;
    if (!dest_host) { /* host -> pond */
        rc = cli_pond_begin(&p, cli);
        pond_stat dst;
        bool trailing = dest[strlen(dest) - 1] == '/';
        /* the destination's path is walked once: a copy into one file uses this handle for
         * everything it reads and writes there (and each file copied into a directory gets
         * one handle of its own) */
        pond_fs_node *dn = NULL;
        bool exists = false;
        if (rc == 0 && !trailing) {
            if (pond_fs_node_open(&dn, p.fs, NULL, dest, 0) < 0)
                rc = cli_fail();
            else
                exists = pond_fs_node_stat(&dst, dn) == 0;
        }
        bool dest_dir = trailing || (exists && dst.type == POND_ENTRY_DIRECTORY);
        /* "DEST/" names a directory: created (with parents) when missing */
        if (rc == 0 && trailing && pond_fs_mkdir(p.fs, NULL, dest, POND_FS_MKDIR_PARENTS) < 0)
            rc = cli_fail();
        for (int i = 0; i < nsrc && rc == 0; i++) {
            const char *h = cli_host_path(argv[i]);
            glob_t g = {0};
            bool is_stdin = !strcmp(h, "-");
            bool globbed = !is_stdin && host_has_glob(h);
            if (is_stdin && dest_dir) {
                rc = cli_error("%s: standard input needs a file name as the destination", dest);
                break;
            }
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
                if (!dest_dir) {
                    rc = copy_in_one(&c, src, dn);
                    continue;
                }
                char *target = cli_path_join(dest, cli_base_name(src));
                pond_fs_node *tn = NULL;
                if (!target)
                    rc = cli_error("out of memory");
                else if (pond_fs_node_open(&tn, p.fs, NULL, target, 0) < 0)
                    rc = cli_fail();
                else
                    rc = copy_in_one(&c, src, tn);
                pond_fs_node_free(tn);
                free(target);
            }
            if (globbed)
                globfree(&g);
        }
        pond_fs_node_free(dn);
        /* every source identical to a version already there: nothing to commit */
        if (rc == 0 && c.tally.skipped && !pond_fs_txn_changes(p.fs))
            pond_fs_abort(p.fs);
        else if (rc == 0)
            rc = cli_pond_commit(&p);
        if (rc == 0)
            cli_copy_summary(&c.tally, "into the pond");
        if (rc == 0)
            rc = auto_compact(&c);
    } else { /* pond -> host */
        rc = cli_copy_out(&c.tally, &p, argv, nsrc, dest_host, format);
        if (rc == 0)
            cli_copy_summary(&c.tally, "to the host");
    }
    for (size_t i = 0; i < c.n_series; i++)
        pond_fs_node_free(c.series[i]);
    free(c.series);
    cli_pond_close(&p);
    return rc;
}
