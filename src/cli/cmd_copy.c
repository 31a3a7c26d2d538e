#include "cli/cli_pond.h"

#include <pond/parquet.h>
#include <pond/table.h>

#include "cli/cli_format.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char HELP[] =
    "usage: pond copy [--type data|table|series] [--timestamp-column NAME] [--format parquet|csv]\n"
    "                 SRC... DEST\n"
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
    "  --timestamp-column NAME   the event-time column of a series (default: detected)\n"
    "  --schema name:type,...    CSV column types instead of inferred ones (int64, double,\n"
    "                  bool, string, timestamp)\n"
    "  --zstd-level N  compression of converted CSV (default 1: fast; 3 is ~15% smaller)\n"
    "  --format F      copying out a table or series: parquet (default) or csv\n";

static const char USAGE[] = "pond copy [--type data|table|series] SRC... DEST";

typedef struct {
    cli_pond *p;
    pond_entry_type type;
    const char *schema;
    const char *ts_column;
    const char *format;
    int zstd_level;
    cli_progress prog;
} copy_ctx;

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

/* A Parquet file must at least open, and every row group must decode. What the reader
 * skipped to read it is said on standard error as it enters the pond. */
static int validate_parquet(const char *host)
{
    pond_parquet_reader *r = NULL;
    struct ArrowArray b = {0};
    int rc = pond_parquet_reader_open_file(&r, host, NULL);
    for (int k = 0; rc == 0 && k < pond_parquet_reader_warning_count(r); k++)
        fprintf(stderr, "pond: warning: %s: %s\n", host, pond_parquet_reader_warning(r, k));
    while (rc == 0 && (rc = pond_parquet_reader_next(r, &b)) == 0)
        pond_arrow_array_release(&b);
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
        if (pond_table_write_stream(NULL, c->p->fs, NULL, dest, c->type, &pre, &wo) < 0)
            return cli_fail();
        return 0;
    }
    if (c->type != POND_ENTRY_FILE_DATA) {
        if (validate_parquet(host) < 0) {
            close(fd);
            return cli_fail();
        }
    }
    pond_writer *w = NULL;
    if (pond_fs_open_writer(&w, c->p->fs, NULL, dest, c->type) < 0) {
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
            if (strcmp(format, "parquet") && strcmp(format, "csv"))
                return cli_usage(USAGE, "unknown format '%s' (parquet or csv)", format);
        } else if (!strcmp(a, "--timestamp-column") && first + 1 < argc) {
            c.ts_column = argv[++first];
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
        int copied = 0;
        for (int i = first; i < argc - 1 && rc == 0; i++) {
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
                char *target = dest_dir ? join(dest, base_name(src)) : strdup(dest);
                rc = target ? copy_in_one(&c, src, target) : cli_error("out of memory");
                free(target);
                copied++;
            }
            if (globbed)
                globfree(&g);
        }
        if (rc == 0)
            rc = cli_pond_commit(&p);
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
    cli_pond_close(&p);
    return rc;
}
