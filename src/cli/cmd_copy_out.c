/* pond copy from the pond to the host: pond-side globs, one file per source (a series of
 * several versions as one Parquet file, the bytes `pond cat --format parquet` gives), host
 * names that say the format written, and host writes by the rule of cli_host.h. */
#include "cli/cli_copy.h"
#include "cli/cli_format.h"
#include "cli/cli_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *path;         /* pond path */
    pond_fs_node *node; /* walked once: the stat, then the read */
    pond_stat st;       /* what it is (symlinks followed) */
    char *target;       /* host path */
    const char *format;
} out_file;

typedef struct {
    out_file *v;
    size_t n, cap;
    cli_pond *p;
} out_list;

char *cli_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    char *s = malloc(dl + strlen(name) + 2);
    if (s)
        sprintf(s, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
    return s;
}

const char *cli_base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *s = path + n;
    while (s > path && s[-1] != '/')
        s--;
    return s;
}

void cli_copy_summary(const cli_copy_tally *t, const char *where)
{
    char size[32];
    cli_human_size(size, t->bytes);
    printf("copied %lld file%s %s: %lld version%s", (long long)t->files, t->files == 1 ? "" : "s",
           where, (long long)t->versions, t->versions == 1 ? "" : "s");
    if (t->tabular)
        printf(", %lld row%s", (long long)t->rows, t->rows == 1 ? "" : "s");
    printf(", %s", size);
    if (t->skipped)
        printf("; %lld identical skipped", (long long)t->skipped);
    printf("\n");
}

/* A directory named as a source is an error; one a glob matched is skipped with a note. */
static int add(const char *path, const pond_stat *gst, bool from_glob, void *payload)
{
    (void)gst;
    out_list *l = payload;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        out_file *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return cli_error("out of memory");
        l->v = v;
        l->cap = cap;
    }
    out_file *f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    /* symlinks in the pond are followed: their target is what is copied */
    if (pond_fs_node_open(&f->node, l->p->fs, NULL, path, 0) < 0 ||
        pond_fs_node_stat(&f->st, f->node) < 0) {
        pond_fs_node_free(f->node);
        f->node = NULL;
        return cli_fail();
    }
    const char *dir = strcmp(path, "/") ? path : "";
    if (f->st.type == POND_ENTRY_DIRECTORY) {
        pond_fs_node_free(f->node);
        f->node = NULL;
        if (!from_glob)
            return cli_error("%s: is a directory (copy its files with a glob, e.g. '%s/*')", path,
                             dir);
        fprintf(stderr, "pond: skipped %s: a directory (its files: '%s/*')\n", path, dir);
        return CLI_SKIPPED;
    }
    if (!(f->path = strdup(path))) {
        pond_fs_node_free(f->node);
        f->node = NULL;
        return cli_error("out of memory");
    }
    l->n++;
    return 0;
}

/* The format a host name asks for by its extension, or NULL. */
static const char *format_of_name(const char *name)
{
    const char *dot = strrchr(cli_base_name(name), '.');
    if (!dot)
        return NULL;
    static const struct {
        const char *ext, *format;
    } known[] = {{".csv", "csv"},    {".json", "json"},       {".ndjson", "json"},
                 {".jsonl", "json"}, {".parquet", "parquet"}, {".pq", "parquet"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(dot, known[i].ext))
            return known[i].format;
    return NULL;
}

/* Where the extension of base[0..len) starts when it names a data format, else len. */
static size_t data_ext_at(const char *base, size_t len)
{
    static const char *const exts[] = {".csv",   ".tsv",     ".json", ".ndjson",
                                       ".jsonl", ".parquet", ".pq"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t k = strlen(exts[i]);
        if (len >= k && !strncmp(base + len - k, exts[i], k))
            return len - k;
    }
    return len;
}

/* The host name of a table or series copied into a directory: its pond name with the
 * extension of the format written ("temps.csv" as Parquet is "temps.parquet", "x.csv.gz"
 * too, "s" is "s.parquet"). */
static char *name_for(const char *base, const char *format)
{
    size_t n = strlen(base), stem = data_ext_at(base, n);
    static const char *const compressed[] = {".gz", ".zst", ".bz2", ".xz", ".lz4"};
    for (size_t i = 0; i < sizeof compressed / sizeof compressed[0] && stem == n; i++) {
        size_t k = strlen(compressed[i]);
        if (n > k && !strcmp(base + n - k, compressed[i]) && data_ext_at(base, n - k) < n - k)
            stem = data_ext_at(base, n - k);
    }
    size_t cap = stem + strlen(format) + 2;
    char *out = malloc(cap);
    if (out)
        snprintf(out, cap, "%.*s.%s", (int)stem, base, format);
    return out;
}

/* mkdir -p for a host destination directory named with a trailing '/'. */
static int make_dirs(const char *dir)
{
    char *d = strdup(dir);
    if (!d)
        return cli_error("out of memory");
    int rc = 0;
    for (char *s = d + 1; rc == 0; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST)
            rc = cli_error("%s: %s", d, strerror(errno));
        *s = c;
        if (!c)
            break;
    }
    free(d);
    return rc;
}

static int write_data(cli_sink *sink, const out_file *f)
{
    pond_reader *r = NULL;
    if (pond_fs_node_open_reader(&r, f->node, 0) < 0)
        return -1;
    char *buf = malloc(1 << 20);
    int rc = buf ? 0 : pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
    cli_progress prog;
    cli_progress_start(&prog, cli_base_name(f->path), pond_reader_size(r));
    while (rc == 0) {
        size_t n;
        if ((rc = pond_reader_read(r, buf, 1 << 20, &n)) < 0 || n == 0)
            break;
        for (size_t off = 0; off < n && rc == 0;) {
            ssize_t k = write(sink->fd, buf + off, n - off);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                rc = pond_error_set(POND_EIO, POND_DOM_CLI, "%s: %s", sink->name, strerror(errno));
            else
                off += (size_t)k;
        }
        sink->written += (int64_t)n;
        cli_progress_add(&prog, (int64_t)n);
    }
    cli_progress_end(&prog);
    free(buf);
    pond_reader_free(r);
    return rc;
}

static int copy_one(cli_copy_tally *t, const cli_pond *p, const out_file *f)
{
    cli_host_out h;
    if (cli_host_out_open(&h, f->target) < 0)
        return cli_fail();
    cli_sink sink = {h.fd, f->target, 0};
    int rc;
    bool tabular = f->st.type == POND_ENTRY_FILE_TABLE || f->st.type == POND_ENTRY_FILE_SERIES;
    cli_table_out res = {0, 1, 0};
    if (tabular) {
        pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
        ro.threads = p->threads;
        bool stale = false;
        if (pond_derive_stale(&stale, f->node) == 0 && stale)
            cli_note_stale(f->path);
        rc = cli_table_write(&res, &sink, f->node, &ro, f->format);
    } else {
        rc = write_data(&sink, f);
    }
    if (rc < 0) {
        cli_host_out_abort(&h);
        return cli_fail();
    }
    if (cli_host_out_finish(&h) < 0)
        return cli_fail();
    t->files++;
    t->versions += res.versions;
    t->rows += res.rows;
    t->bytes += sink.written;
    t->tabular |= tabular;
    return 0;
}

int cli_copy_out(cli_copy_tally *t, cli_pond *p, char **srcs, int n_srcs, const char *dest,
                 const char *format)
{
    out_list l = {.p = p};
    int rc = cli_expand_operands(NULL, p, srcs, n_srcs, "file", "directories", add, &l);
    size_t dl = strlen(dest);
    struct stat hst;
    bool trailing = dl && dest[dl - 1] == '/';
    bool dest_dir = trailing || (stat(dest, &hst) == 0 && S_ISDIR(hst.st_mode));
    if (rc == 0 && l.n > 1 && !dest_dir)
        rc = cli_error("%s: not a directory (%zu files to copy need a directory destination, "
                       "e.g. host:%s/)",
                       dest, l.n, dest);
    const char *named = dest_dir ? NULL : format_of_name(dest);
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        out_file *f = &l.v[i];
        bool tabular = f->st.type == POND_ENTRY_FILE_TABLE || f->st.type == POND_ENTRY_FILE_SERIES;
        if (!tabular && format) {
            rc = cli_error("%s: --format %s is for tables and series; this is %s (copied as "
                           "its bytes without --format)",
                           f->path, format, pond_entry_type_name(f->st.type));
            break;
        }
        if (tabular && format && named && strcmp(format, named)) {
            rc = cli_error("%s: the name says %s but --format says %s: name the file .%s or "
                           "leave out --format",
                           dest, named, format, format);
            break;
        }
        f->format = !tabular ? NULL : format ? format : named ? named : "parquet";
        char *name = tabular && dest_dir ? name_for(cli_base_name(f->path), f->format)
                                         : strdup(cli_base_name(f->path));
        f->target = !name ? NULL : dest_dir ? cli_path_join(dest, name) : strdup(dest);
        free(name);
        if (!f->target)
            rc = cli_error("out of memory");
        for (size_t k = 0; k < i && rc == 0; k++)
            if (!strcmp(l.v[k].target, f->target))
                rc = cli_error("%s and %s would both be copied to %s", l.v[k].path, f->path,
                               f->target);
    }
    if (rc == 0 && trailing && stat(dest, &hst) != 0)
        rc = make_dirs(dest);
    int64_t done = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        rc = copy_one(t, p, &l.v[i]);
        done += rc == 0;
    }
    if (rc && done)
        fprintf(stderr, "pond: %lld of %zu files were copied before that error\n", (long long)done,
                l.n);
    for (size_t i = 0; i < l.n; i++) {
        pond_fs_node_free(l.v[i].node);
        free(l.v[i].path);
        free(l.v[i].target);
    }
    free(l.v);
    return rc;
}
