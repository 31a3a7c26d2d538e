#include "cli/cli_pond.h"

#include <pond/input.h>
#include <pond/parquet.h>
#include <pond/table.h>
#include <pond/timefmt.h>

#include "cli/cli_format.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char HELP[] =
    "usage: pond copy [--type data|table|series|auto] [--timestamp-column NAME] [--format F]\n"
    "                 [import options] SRC... DEST\n"
    "\n"
    "Copy files into the pond or out of it, in one transaction. Host paths are written\n"
    "host:PATH (host:data.csv, host:/abs/dir/, host:///abs/dir/file); pond paths are plain\n"
    "(/sensors/temp). Sources may be globs. With several sources, or a DEST that ends in '/'\n"
    "or is a directory, each source keeps its base name; a pond DEST ending in '/' is created\n"
    "if missing. Copying onto an existing pond file adds a version.\n"
    "\n"
    "  --type T        entry type for files copied in: data (default), table, series, or\n"
    "                  auto (each Parquet source becomes a table, anything else data).\n"
    "                  A Parquet source is checked and stored as it is; a CSV source for\n"
    "                  table/series is converted to Parquet with type inference.\n"
    "  --timestamp-column NAME   the event-time column of a series (default: the one the\n"
    "                  series records, else detected: the only timestamp or date column,\n"
    "                  else one named like timestamp, time, date, ts, datetime)\n"
    "  --time-format F how CSV times are written, strptime-style (%Y %m %d %H %M %S %f %y\n"
    "                  %b %j %q %s %z ...; docs/time.md); may be given several times, the\n"
    "                  first that matches a value wins; ISO-8601 is always read. %Y reads\n"
    "                  integer years, %Y%m%d dates like 19580329, %YQ%q quarters like 1974Q1\n"
    "  --timezone TZ   IANA zone (Europe/Berlin) for times without a zone, in CSV values and\n"
    "                  Parquet timestamps not adjusted to UTC (default UTC); a series records\n"
    "                  it, its time formats and its timestamp column for later copies\n"
    "  --schema name:type,...    CSV column types instead of inferred ones (int64, double,\n"
    "                  bool, string, timestamp)\n"
    "  --zstd-level N  compression of converted CSV (default 1: fast; 3 is ~15% smaller)\n"
    "  --allow-duplicate  add a series version even when its content is identical to an\n"
    "                  existing version's (default: such a copy prints 'skipped: identical\n"
    "                  to version N' and adds nothing)\n"
    "  --format F      copying in as a table or series: csv, json (an array of objects) or\n"
    "                  ndjson (one object per line); default: detected from the content.\n"
    "                  Copying out a table or series: parquet (default) or csv\n"
    "\n"
    "Import options (CSV and JSON sources of a table or series; docs/import.md). Sources may be\n"
    "gzip, zstd, bzip2 or xz compressed (detected by content); host:- reads standard input.\n"
    "  --delimiter C   , tab ; | space (runs of blanks), or auto (default: sniffed from the\n"
    "                  first 64 KiB; an ambiguous file is refused and asks for this option)\n"
    "  --quote C       the quote character (default \", or ' when the header is single-quoted)\n"
    "  --comment C     skip lines starting with C (e.g. '#')\n"
    "  --skip-rows N   skip N lines before the header\n"
    "  --no-header     the first line is data; columns are named column1, column2, ...\n"
    "  --null-values LIST  comma-separated values read as null (unquoted, every column);\n"
    "                  default: an empty field, and NA N/A n/a #N/A NULL null None nil - ?\n"
    "                  in columns of numbers, booleans or timestamps\n"
    "  --allow-ragged  pad rows with fewer fields than the header with nulls\n"
    "  --encoding E    utf-8 (default; checked), latin1, cp1252, utf-16 (byte-order mark, else\n"
    "                  little-endian), utf-16le, utf-16be\n";

static const char USAGE[] = "pond copy [--type data|table|series] SRC... DEST";

#define MAX_TIME_FORMATS 16

typedef struct {
    cli_pond *p;
    pond_entry_type type;
    const char *schema;
    const char *ts_column;
    const char *timezone;
    const char *time_formats[MAX_TIME_FORMATS];
    size_t n_time_formats;
    const char *format;
    int zstd_level;
    cli_progress prog;
    pond_csv_import_options imp; /* the import options given */
    bool allow_duplicate;
    int written, skipped;     /* versions written, identical ones skipped */
    pond_fs_node **series;    /* series written (for their automatic compaction policy) */
    size_t n_series;
} copy_ctx;

static void print_note(void *payload, const char *msg)
{
    (void)payload;
    fprintf(stderr, "pond: note: %s\n", msg);
}

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *s = path + n;
    while (s > path && s[-1] != '/')
        s--;
    return s;
}

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

static int copy_in_typed(copy_ctx *c, const char *host, pond_fs_node *dest, int fd,
                         const struct stat *stp);

static int copy_in_one(copy_ctx *c, const char *host, pond_fs_node *dest)
{
    struct stat st;
    if (!strcmp(host, "-")) { /* standard input: streamed, never stat'ed or checked for Parquet */
        if (fstat(0, &st) != 0)
            return cli_error("stdin: %s", strerror(errno));
        if (c->type == POND_ENTRY_NONE)
            c->type = POND_ENTRY_FILE_DATA;
        pond_entry_type asked = c->type;
        int rc_in = copy_in_typed(c, host, dest, dup(0), &st);
        c->type = asked;
        return rc_in;
    }
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
    c->type = asked;
    return rc_auto;
}

/* The time settings of this copy: given ones, else those the series records. */
static int time_setup(copy_ctx *c, pond_fs_node *dest, pond_series_settings *eff, pond_tz **tz,
                      pond_time_reader **reader)
{
    *tz = NULL;
    *reader = NULL;
    if (c->type == POND_ENTRY_FILE_SERIES) {
        if (pond_series_node_settings_resolve(eff, dest, c->ts_column, c->timezone,
                                              c->time_formats, c->n_time_formats) < 0)
            return cli_fail();
    } else { /* a table records nothing: only what this copy gives */
        eff->timezone = c->timezone ? strdup(c->timezone) : NULL;
        eff->time_formats = (char **)c->time_formats; /* borrowed; see copy_in_typed */
        eff->n_time_formats = c->n_time_formats;
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

/* What a table or series write did: a version skipped as identical is said, and nothing is
 * committed when every source was skipped. */
static int note_write(copy_ctx *c, pond_fs_node *dest, const pond_table_write_result *res)
{
    if (res->identical_to) {
        printf("%s: skipped: identical to version %lld\n", pond_fs_node_path(dest),
               (long long)res->identical_to);
        c->skipped++;
        return 0;
    }
    c->written++;
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

static int copy_in_typed(copy_ctx *c, const char *host, pond_fs_node *dest, int fd,
                         const struct stat *stp)
{
    struct stat st = *stp;
    if (fd < 0)
        return cli_error("%s: %s", host, strerror(errno));
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timestamp_column = c->ts_column;
    wo.compression_level = c->zstd_level;
    wo.timezone = c->timezone;
    wo.time_formats = c->time_formats;
    wo.n_time_formats = c->n_time_formats;
    wo.skip_identical = c->type == POND_ENTRY_FILE_SERIES && !c->allow_duplicate;
    pond_table_write_result res = {0};
    if (c->type != POND_ENTRY_FILE_DATA && (!strcmp(host, "-") || !looks_parquet(fd))) {
        /* CSV or JSON: converted to Parquet while streaming */
        close(fd);
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
        int rc = 0;
        if (pond_csv_import_stream(&in, host, &io) < 0)
            rc = cli_fail();
        pond_buf_dispose(&hint);
        /* parse on one core while the other encodes and compresses */
        struct ArrowArrayStream pre;
        if (rc == 0 && pond_arrow_stream_prefetch(&pre, &in) < 0) {
            in.release(&in);
            rc = cli_fail();
        }
        if (rc == 0 && pond_table_node_write_stream(&res, dest, c->type, &pre, &wo) < 0)
            rc = cli_fail();
        if (rc == 0)
            rc = note_write(c, dest, &res);
        time_dispose(c, &eff, tz, reader);
        return rc;
    }
    if (c->type != POND_ENTRY_FILE_DATA) {
        /* Parquet: checked, and for a series its timestamp column found and its event-time
         * range recorded; stored as it is */
        close(fd);
        if (pond_table_node_write_parquet_file(&res, dest, c->type, host, &wo) < 0)
            return cli_fail();
        return note_write(c, dest, &res);
    }
    pond_writer *w = NULL;
    c->written++;
    if (pond_fs_node_open_writer(&w, dest, c->type) < 0) {
        close(fd);
        return cli_fail();
    }
    char *buf = malloc(1 << 20);
    int rc = buf ? 0 : cli_error("out of memory");
    cli_progress_start(&c->prog, base_name(host), (int64_t)st.st_size);
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

/* Writes a pond file to a host path: into a temp file beside it, then renamed over it, so a
 * failure never leaves a partial file and a symlink at the destination is replaced, never
 * followed. */
static int copy_out_csv(copy_ctx *c, const char *src, const char *host)
{
    struct ArrowArrayStream st;
    if (pond_table_read_stream(&st, c->p->fs, NULL, src, NULL) < 0)
        return cli_fail();
    size_t hl = strlen(host);
    char *tmp = malloc(hl + 32);
    if (!tmp) {
        st.release(&st);
        return cli_error("out of memory");
    }
    snprintf(tmp, hl + 32, "%s.pond-tmp-%d", host, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = 0;
    if (!f)
        rc = cli_error("%s: %s", host, strerror(errno));
    if (rc == 0 && cli_write_stream(f, &st, FMT_CSV, NULL) < 0)
        rc = cli_fail();
    if (f && (fflush(f) != 0 || fsync(fileno(f)) != 0) && rc == 0)
        rc = cli_error("%s: %s", host, strerror(errno));
    if (f && fclose(f) != 0 && rc == 0)
        rc = cli_error("%s: %s", host, strerror(errno));
    if (rc == 0 && rename(tmp, host) != 0)
        rc = cli_error("%s: %s", host, strerror(errno));
    if (rc != 0 && fd >= 0)
        unlink(tmp);
    free(tmp);
    st.release(&st);
    return rc;
}

static int copy_out_one(copy_ctx *c, const char *src, const char *host)
{
    pond_stat st;
    if (pond_fs_stat(&st, c->p->fs, NULL, src) < 0)
        return cli_fail();
    if (st.type == POND_ENTRY_DIRECTORY)
        return cli_error("%s: is a directory (copy its files with a glob, e.g. '%s/*')", src, src);
    if (!strcmp(c->format, "csv")) {
        if (st.type != POND_ENTRY_FILE_TABLE && st.type != POND_ENTRY_FILE_SERIES)
            return cli_error("%s: --format csv is for tables and series, this is %s", src,
                             pond_entry_type_name(st.type));
        return copy_out_csv(c, src, host);
    }
    if (st.type == POND_ENTRY_FILE_SERIES) {
        pond_stat *vs = NULL;
        size_t nv = 0;
        if (pond_fs_versions(&vs, &nv, c->p->fs, NULL, src) < 0)
            return cli_fail();
        pond_free(vs);
        if (nv > 1)
            return cli_error("%s: a series of %zu versions has no single Parquet file: use "
                             "--format csv, or 'pond cat --version N --format parquet'",
                             src, nv);
    }
    pond_reader *r = NULL;
    if (pond_fs_open_reader(&r, c->p->fs, NULL, src) < 0)
        return cli_fail();
    size_t hl = strlen(host);
    char *tmp = malloc(hl + 32);
    if (!tmp) {
        pond_reader_free(r);
        return cli_error("out of memory");
    }
    snprintf(tmp, hl + 32, "%s.pond-tmp-%d", host, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    int rc = 0;
    if (fd < 0)
        rc = cli_error("%s: %s", host, strerror(errno));
    char *buf = rc == 0 ? malloc(1 << 20) : NULL;
    if (rc == 0 && !buf)
        rc = cli_error("out of memory");
    cli_progress_start(&c->prog, base_name(src), pond_reader_size(r));
    while (rc == 0) {
        size_t n;
        if (pond_reader_read(r, buf, 1 << 20, &n) < 0) {
            rc = cli_fail();
            break;
        }
        if (n == 0)
            break;
        for (size_t off = 0; off < n && rc == 0;) {
            ssize_t k = write(fd, buf + off, n - off);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                rc = cli_error("%s: %s", host, strerror(errno));
            else
                off += (size_t)k;
        }
        cli_progress_add(&c->prog, (int64_t)n);
    }
    cli_progress_end(&c->prog);
    if (rc == 0 && fsync(fd) != 0)
        rc = cli_error("%s: %s", host, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = cli_error("%s: %s", host, strerror(errno));
    if (rc == 0 && rename(tmp, host) != 0)
        rc = cli_error("%s: %s", host, strerror(errno));
    if (rc != 0 && fd >= 0)
        unlink(tmp);
    free(buf);
    free(tmp);
    pond_reader_free(r);
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
                if (pond_buf_puts(&meta, "{\"pondCommand\":[\"pond\",\"gc\",\"--compact-series\",") < 0 ||
                    cli_json_str(&meta, pond_fs_node_path(h)) < 0 ||
                    pond_buf_puts(&meta, "],\"pondAutomatic\":true}") < 0)
                    rc = cli_error("out of memory");
                else if (pond_fs_begin(c->p->fs, meta.ptr) < 0)
                    rc = cli_fail();
                pond_buf_dispose(&meta);
                if (rc == 0) {
                    if (pond_series_compact(&res, h, NULL) < 0) {
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
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    copy_ctx c = {0};
    c.imp = (pond_csv_import_options)POND_CSV_IMPORT_OPTIONS_INIT;
    c.imp.note = print_note;
    c.type = POND_ENTRY_FILE_DATA;
    const char *format = "parquet";
    c.format = format;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if (!strcmp(a, "--type") && first + 1 < argc) {
            const char *t = argv[++first];
            if (!strcmp(t, "data"))
                c.type = POND_ENTRY_FILE_DATA;
            else if (!strcmp(t, "table"))
                c.type = POND_ENTRY_FILE_TABLE;
            else if (!strcmp(t, "series"))
                c.type = POND_ENTRY_FILE_SERIES;
            else if (!strcmp(t, "auto"))
                c.type = POND_ENTRY_NONE; /* per source: Parquet -> table, else data */
            else
                return cli_usage(USAGE, "unknown type '%s' (data, table, series or auto)", t);
        } else if (!strcmp(a, "--format") && first + 1 < argc) {
            format = argv[++first];
            if (strcmp(format, "parquet") && strcmp(format, "csv") && strcmp(format, "json") &&
                strcmp(format, "ndjson"))
                return cli_usage(USAGE, "unknown format '%s' (parquet, csv, json or ndjson)",
                                 format);
        } else if (!strcmp(a, "--delimiter") && first + 1 < argc) {
            const char *d = argv[++first];
            if (!strcmp(d, "tab") || !strcmp(d, "\\t") || !strcmp(d, "\t"))
                c.imp.delimiter = '\t';
            else if (!strcmp(d, "space") || !strcmp(d, " "))
                c.imp.delimiter = ' ';
            else if (!strcmp(d, "auto"))
                c.imp.delimiter = 0;
            else if (strlen(d) == 1 && d[0] != '\n' && d[0] != '\r' && d[0] != '"')
                c.imp.delimiter = d[0];
            else
                return cli_usage(USAGE, "--delimiter takes one character, tab, space or auto");
        } else if (!strcmp(a, "--quote") && first + 1 < argc) {
            const char *q = argv[++first];
            if (strlen(q) != 1 || q[0] == '\n' || q[0] == '\r')
                return cli_usage(USAGE, "--quote takes one character");
            c.imp.quote = q[0];
        } else if (!strcmp(a, "--comment") && first + 1 < argc) {
            const char *q = argv[++first];
            if (strlen(q) != 1 || q[0] == '\n' || q[0] == '\r')
                return cli_usage(USAGE, "--comment takes one character");
            c.imp.comment = q[0];
        } else if (!strcmp(a, "--skip-rows") && first + 1 < argc) {
            char *end;
            long long n = strtoll(argv[++first], &end, 10);
            if (*end || end == argv[first] || n < 0)
                return cli_usage(USAGE, "--skip-rows takes a number of lines");
            c.imp.skip_rows = n;
        } else if (!strcmp(a, "--no-header")) {
            c.imp.no_header = true;
        } else if (!strcmp(a, "--null-values") && first + 1 < argc) {
            c.imp.null_values = argv[++first];
        } else if (!strcmp(a, "--allow-ragged")) {
            c.imp.allow_ragged = true;
        } else if (!strcmp(a, "--encoding") && first + 1 < argc) {
            pond_input_encoding e;
            if (pond_input_encoding_parse(&e, argv[++first]) < 0)
                return cli_usage(USAGE, "%s", pond_error_last()->message);
            c.imp.encoding = (int)e;
        } else if (!strcmp(a, "--timestamp-column") && first + 1 < argc) {
            c.ts_column = argv[++first];
        } else if (!strcmp(a, "--timezone") && first + 1 < argc) {
            c.timezone = argv[++first];
            pond_tz *tz = NULL;
            if (pond_tz_open(&tz, c.timezone) < 0)
                return cli_usage(USAGE, "--timezone: %s", pond_error_last()->message);
            pond_tz_free(tz);
        } else if (!strcmp(a, "--time-format") && first + 1 < argc) {
            if (c.n_time_formats == MAX_TIME_FORMATS)
                return cli_usage(USAGE, "--time-format: at most %d formats", MAX_TIME_FORMATS);
            c.time_formats[c.n_time_formats++] = argv[++first];
            pond_time_reader *r = NULL;
            if (pond_time_reader_new(&r, c.time_formats + c.n_time_formats - 1, 1, NULL) < 0)
                return cli_usage(USAGE, "%s", pond_error_last()->message);
            pond_time_reader_free(r);
        } else if (!strcmp(a, "--allow-duplicate")) {
            c.allow_duplicate = true;
        } else if (!strcmp(a, "--zstd-level") && first + 1 < argc) {
            c.zstd_level = atoi(argv[++first]);
            if (c.zstd_level < 1 || c.zstd_level > 19)
                return cli_usage(USAGE, "--zstd-level takes 1 to 19");
        } else if (!strcmp(a, "--schema") && first + 1 < argc) {
            c.schema = argv[++first];
        } else {
            return cli_usage(USAGE, "unknown option '%s'", a);
        }
    }
    if (argc - first < 2)
        return cli_usage(USAGE, "need at least one source and a destination");
    const char *dest = argv[argc - 1];
    const char *dest_host = cli_host_path(dest);
    int nsrc = argc - 1 - first;
    for (int i = first; i < argc - 1; i++)
        if ((cli_host_path(argv[i]) != NULL) == (dest_host != NULL))
            return cli_usage(USAGE, "'%s' and '%s': copy goes from host to pond or from pond "
                                    "to host (host paths start with host:)",
                             argv[i], dest);
    if (!dest_host) { /* --format names the source's format when copying in */
        if (!strcmp(format, "json"))
            c.imp.format = POND_IMPORT_JSON;
        else if (!strcmp(format, "ndjson"))
            c.imp.format = POND_IMPORT_NDJSON;
        else if (!strcmp(format, "csv"))
            c.imp.format = POND_IMPORT_CSV;
    } else if (strcmp(format, "parquet") && strcmp(format, "csv")) {
        return cli_usage(USAGE, "--format %s is for copying in (copy out as parquet or csv)",
                         format);
    }
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
         * everything it reads and writes there */
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
        if (rc == 0 && trailing) {
            if (pond_fs_mkdir(p.fs, NULL, dest, POND_FS_MKDIR_PARENTS) < 0)
                rc = cli_fail();
        }
        int copied = 0;
        for (int i = first; i < argc - 1 && rc == 0; i++) {
            const char *h = cli_host_path(argv[i]);
            glob_t g = {0};
            bool globbed = strcmp(h, "-") && host_has_glob(h);
            if (!strcmp(h, "-") && dest_dir) {
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
                } else {
                    char *target = join(dest, base_name(src));
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
                copied++;
            }
            if (globbed)
                globfree(&g);
        }
        pond_fs_node_free(dn);
        /* every source identical to a version already there: nothing to commit */
        if (rc == 0 && c.skipped && !pond_fs_txn_changes(p.fs))
            pond_fs_abort(p.fs);
        else if (rc == 0)
            rc = cli_pond_commit(&p);
        if (rc == 0)
            rc = auto_compact(&c);
    } else { /* pond -> host */
        struct stat hst;
        bool dest_dir = dest_host[strlen(dest_host) - 1] == '/' ||
                        (stat(dest_host, &hst) == 0 && S_ISDIR(hst.st_mode));
        c.format = format;
        for (int i = first; i < argc - 1 && rc == 0; i++) {
            if (nsrc > 1 && !dest_dir) {
                rc = cli_error("%s: not a directory (several sources need a directory "
                               "destination)",
                               dest_host);
                break;
            }
            char *target = dest_dir ? join(dest_host, base_name(argv[i])) : strdup(dest_host);
            rc = target ? copy_out_one(&c, argv[i], target) : cli_error("out of memory");
            free(target);
        }
    }
    for (size_t i = 0; i < c.n_series; i++)
        pond_fs_node_free(c.series[i]);
    free(c.series);
    cli_pond_close(&p);
    return rc;
}
