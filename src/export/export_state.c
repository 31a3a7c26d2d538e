/* The export state and journal files: one line per record, fields separated by one space,
 * strings percent-encoded (docs/export.md has the grammar). Written whole by temp + rename;
 * the last line counts the records, so a file cut short is refused, never half-read. */
#include "export/export_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX ((size_t)256 << 20)
#define MAGIC "pond-export 1"

void pond_ex_state_init(ex_state *s)
{
    memset(s, 0, sizeof *s);
    s->delta_version = -1;
}

static void file_dispose(ex_file *f)
{
    pond_free(f->name);
    pond_free(f->key);
    pond_free(f->tmp);
}

void pond_ex_state_dispose(ex_state *s)
{
    pond_free(s->source);
    pond_free(s->node);
    pond_free(s->kind);
    pond_free(s->options);
    pond_free(s->schema);
    pond_free(s->settings);
    pond_free(s->delta_id);
    for (size_t i = 0; i < pond_ex_state_nvers(s); i++)
        pond_free(pond_ex_state_ver(s, i)->parts);
    for (size_t i = 0; i < pond_ex_state_nfiles(s); i++)
        file_dispose(pond_ex_state_file(s, i));
    for (size_t i = 0; i < pond_ex_state_nremoved(s); i++)
        file_dispose(pond_ex_state_removed(s, i));
    pond_buf_dispose(&s->vers);
    pond_buf_dispose(&s->files);
    pond_buf_dispose(&s->removed);
    pond_ex_state_init(s);
}

size_t pond_ex_state_nvers(const ex_state *s) { return s->vers.size / sizeof(ex_ver); }
ex_ver *pond_ex_state_ver(const ex_state *s, size_t i) { return (ex_ver *)s->vers.ptr + i; }
size_t pond_ex_state_nfiles(const ex_state *s) { return s->files.size / sizeof(ex_file); }
ex_file *pond_ex_state_file(const ex_state *s, size_t i) { return (ex_file *)s->files.ptr + i; }
size_t pond_ex_state_nremoved(const ex_state *s) { return s->removed.size / sizeof(ex_file); }
ex_file *pond_ex_state_removed(const ex_state *s, size_t i)
{
    return (ex_file *)s->removed.ptr + i;
}

static char *dup_or_null(const char *s, int *rc)
{
    if (!s || *rc < 0)
        return NULL;
    char *d = pond_strdup(s);
    if (!d)
        *rc = POND_ENOMEM;
    return d;
}

int pond_ex_state_add_ver(ex_state *s, const ex_ver *v)
{
    ex_ver c = *v;
    int rc = 0;
    c.parts = dup_or_null(v->parts ? v->parts : "", &rc);
    if (rc == 0 && (rc = pond_buf_put(&s->vers, &c, sizeof c)) < 0)
        pond_free(c.parts);
    return rc;
}

static int add_file_to(pond_buf *b, const ex_file *f)
{
    ex_file c = *f;
    int rc = 0;
    c.name = dup_or_null(f->name, &rc);
    c.key = dup_or_null(f->key ? f->key : "", &rc);
    c.tmp = dup_or_null(f->tmp, &rc);
    if (rc == 0)
        rc = pond_buf_put(b, &c, sizeof c);
    if (rc < 0)
        file_dispose(&c);
    return rc;
}

int pond_ex_state_add_file(ex_state *s, const ex_file *f) { return add_file_to(&s->files, f); }
int pond_ex_state_add_removed(ex_state *s, const ex_file *f) { return add_file_to(&s->removed, f); }

/* ---- writing ---- */

static int put_str(pond_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && rc == 0; p++) {
        if (*p <= 0x20 || *p == '%' || *p == 0x7f) {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = pond_buf_put(b, e, 3);
        } else {
            rc = pond_buf_putc(b, (char)*p);
        }
    }
    return rc;
}

static int put_field(pond_buf *b, const char *s)
{
    int rc = pond_buf_putc(b, ' ');
    return rc ? rc : put_str(b, s);
}

static int put_file(pond_buf *b, char tag, const ex_file *f)
{
    int rc = pond_buf_printf(b, "%c", tag);
    if (rc == 0)
        rc = put_field(b, f->name);
    if (rc == 0)
        rc = put_field(b, f->key);
    if (rc == 0)
        rc = pond_buf_printf(b, " %" PRId64 " %" PRId64 " ", f->rows, f->bytes);
    if (rc == 0)
        rc = put_str(b, f->tmp ? f->tmp : "");
    return rc ? rc : pond_buf_putc(b, '\n');
}

int pond_ex_state_save(const ex_state *s, const char *dir, const char *name)
{
    pond_buf b = POND_BUF_INIT;
    char *path = pond__path_join(dir, name), *tmp = NULL;
    int rc = path ? 0 : POND_ENOMEM;
    if (rc == 0 && !(tmp = pond_malloc(strlen(path) + 8)))
        rc = POND_ENOMEM;
    if (rc == 0) {
        sprintf(tmp, "%s.tmp", path);
        rc = pond_buf_printf(&b, MAGIC "\nformat %s\n",
                             s->format == POND_EXPORT_DELTA ? "delta" : "parquet");
    }
    const char *keys[] = {"source", "node", "kind", "options", "schema", "settings"};
    const char *vals[] = {s->source, s->node, s->kind, s->options, s->schema, s->settings};
    for (size_t i = 0; i < POND_ARRAY_LEN(keys) && rc == 0; i++) {
        rc = pond_buf_puts(&b, keys[i]);
        if (rc == 0)
            rc = put_field(&b, vals[i]);
        if (rc == 0)
            rc = pond_buf_putc(&b, '\n');
    }
    if (rc == 0)
        rc = pond_buf_printf(&b, "position %" PRId64 "\nrun %" PRId64 "\ndelta %" PRId64 " %d %d",
                             s->position, s->run, s->delta_version, s->protocol_reader,
                             s->protocol_writer);
    if (rc == 0)
        rc = put_field(&b, s->delta_id);
    if (rc == 0)
        rc = pond_buf_putc(&b, '\n');
    for (size_t i = 0; i < pond_ex_state_nvers(s) && rc == 0; i++) {
        const ex_ver *v = pond_ex_state_ver(s, i);
        char hex[65];
        pond_hash_hex(hex, &v->sha);
        rc = pond_buf_printf(&b,
                             "v %" PRId64 " %s %" PRId64 " %" PRId64 " %016" PRIx64 " %016" PRIx64,
                             v->version, hex, v->txn_seq, v->rows, v->s1, v->s2);
        if (rc == 0)
            rc = put_field(&b, v->parts);
        if (rc == 0)
            rc = pond_buf_putc(&b, '\n');
    }
    for (size_t i = 0; i < pond_ex_state_nfiles(s) && rc == 0; i++)
        rc = put_file(&b, 'f', pond_ex_state_file(s, i));
    for (size_t i = 0; i < pond_ex_state_nremoved(s) && rc == 0; i++)
        rc = put_file(&b, 'r', pond_ex_state_removed(s, i));
    if (rc == 0)
        rc = pond_buf_printf(&b, "end %zu\n",
                             pond_ex_state_nvers(s) + pond_ex_state_nfiles(s) +
                                 pond_ex_state_nremoved(s));
    if (rc == 0)
        rc = pond__replace_file(path, tmp, b.ptr, b.size, EX_D);
    pond_buf_dispose(&b);
    pond_free(path);
    pond_free(tmp);
    return rc;
}

/* ---- reading ---- */

typedef struct {
    const char *path;
    int line;
} rdctx;

static int bad(const rdctx *c, const char *why)
{
    return pond_error_set(POND_ECORRUPT, EX_D, "%s: line %d: %s", c->path, c->line, why);
}

/* Splits line (modified in place) into at most cap fields at single spaces. */
static int split(char **f, int cap, char *line)
{
    int n = 0;
    for (char *p = line;;) {
        if (n == cap)
            return -1;
        f[n++] = p;
        char *sp = strchr(p, ' ');
        if (!sp)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    return n;
}

static int decode(char **out, const rdctx *c, const char *s)
{
    size_t n = strlen(s);
    char *d = pond_malloc(n + 1), *o = d;
    if (!d)
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 2 < n ? pond__hexval(s[i + 1]) : -1,
            lo = hi >= 0 ? pond__hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            pond_free(d);
            return bad(c, "bad escape");
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    *out = d;
    return 0;
}

static int num(int64_t *out, const rdctx *c, const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return bad(c, "bad number");
    *out = v;
    return 0;
}

static int hex64(uint64_t *out, const rdctx *c, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 16);
    if (strlen(s) != 16 || *end || errno)
        return bad(c, "bad digest");
    *out = v;
    return 0;
}

static int parse_file(ex_state *s, bool removed, const rdctx *c, char **f, int n)
{
    if (n != 6)
        return bad(c, "bad file record");
    ex_file fl = {0};
    int rc = decode(&fl.name, c, f[1]);
    if (rc == 0)
        rc = decode(&fl.key, c, f[2]);
    if (rc == 0)
        rc = num(&fl.rows, c, f[3]);
    if (rc == 0)
        rc = num(&fl.bytes, c, f[4]);
    if (rc == 0 && *f[5])
        rc = decode(&fl.tmp, c, f[5]);
    /* a name from the state is joined to the export directory: it must stay inside it */
    if (rc == 0 && (!*fl.name || fl.name[0] == '/' || strstr(fl.name, "..") ||
                    (fl.tmp && (strchr(fl.tmp, '/') || fl.tmp[0] == '.'))))
        rc = bad(c, "file name outside the export directory");
    if (rc == 0)
        rc = pond_buf_put(removed ? &s->removed : &s->files, &fl, sizeof fl);
    if (rc < 0)
        file_dispose(&fl);
    return rc;
}

static int parse_line(ex_state *s, const rdctx *c, char *line, size_t *records, bool *ended)
{
    char *f[10] = {0};
    int n = split(f, 10, line);
    if (n < 2 && !(n == 1 && !strcmp(f[0], "")))
        return bad(c, "unknown record");
    if (*ended)
        return bad(c, "text after the end");
    const char *k = f[0];
    int rc = 0;
    char **slot = !strcmp(k, "source")     ? &s->source
                  : !strcmp(k, "node")     ? &s->node
                  : !strcmp(k, "kind")     ? &s->kind
                  : !strcmp(k, "options")  ? &s->options
                  : !strcmp(k, "schema")   ? &s->schema
                  : !strcmp(k, "settings") ? &s->settings
                                           : NULL;
    if (slot) {
        if (n != 2 || *slot)
            return bad(c, "bad header record");
        return decode(slot, c, f[1]);
    }
    if (!strcmp(k, "format")) {
        if (n != 2 || (strcmp(f[1], "parquet") && strcmp(f[1], "delta")))
            return bad(c, "bad format");
        s->format = !strcmp(f[1], "delta") ? POND_EXPORT_DELTA : POND_EXPORT_PARQUET;
        return 0;
    }
    if (!strcmp(k, "position") || !strcmp(k, "run")) {
        if (n != 2)
            return bad(c, "bad header record");
        return num(k[0] == 'p' ? &s->position : &s->run, c, f[1]);
    }
    if (!strcmp(k, "delta")) {
        int64_t r, w;
        if (n != 5)
            return bad(c, "bad delta record");
        if ((rc = num(&s->delta_version, c, f[1])) < 0 || (rc = num(&r, c, f[2])) < 0 ||
            (rc = num(&w, c, f[3])) < 0)
            return rc;
        s->protocol_reader = (int)r;
        s->protocol_writer = (int)w;
        return *f[4] ? decode(&s->delta_id, c, f[4]) : 0;
    }
    if (!strcmp(k, "v")) {
        ex_ver v = {0};
        if (n != 8)
            return bad(c, "bad version record");
        if ((rc = num(&v.version, c, f[1])) < 0)
            return rc;
        if (pond_hash_from_hex(&v.sha, f[2]) < 0)
            return bad(c, "bad sha256");
        if ((rc = num(&v.txn_seq, c, f[3])) < 0 || (rc = num(&v.rows, c, f[4])) < 0 ||
            (rc = hex64(&v.s1, c, f[5])) < 0 || (rc = hex64(&v.s2, c, f[6])) < 0 ||
            (rc = decode(&v.parts, c, f[7])) < 0)
            return rc;
        if ((rc = pond_buf_put(&s->vers, &v, sizeof v)) < 0)
            pond_free(v.parts);
        ++*records;
        return rc;
    }
    if (!strcmp(k, "f") || !strcmp(k, "r")) {
        ++*records;
        return parse_file(s, k[0] == 'r', c, f, n);
    }
    if (!strcmp(k, "end")) {
        int64_t cnt;
        if (n != 2 || (rc = num(&cnt, c, f[1])) < 0)
            return rc < 0 ? rc : bad(c, "bad end record");
        if ((size_t)cnt != *records)
            return bad(c, "record count does not match (the file was cut short)");
        *ended = true;
        return 0;
    }
    return bad(c, "unknown record");
}

int pond_ex_state_parse(ex_state *s, char *text, size_t len, const char *path)
{
    pond_ex_state_init(s);
    rdctx c = {path, 1};
    size_t records = 0;
    bool ended = false;
    int rc = 0;
    char *p = text, *end = text + len;
    if (len < sizeof MAGIC || memcmp(p, MAGIC "\n", sizeof MAGIC) != 0) {
        rc = bad(&c, "not a pond export state (or a newer version of it)");
        goto done;
    }
    p += sizeof MAGIC;
    while (p < end && rc == 0) {
        c.line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            rc = bad(&c, "the last line is cut short");
            break;
        }
        *nl = '\0';
        if (memchr(p, '\0', (size_t)(nl - p))) {
            rc = bad(&c, "NUL byte");
            break;
        }
        rc = parse_line(s, &c, p, &records, &ended);
        p = nl + 1;
    }
    if (rc == 0 && !ended)
        rc = bad(&c, "no end record (the file was cut short)");
    if (rc == 0 &&
        (!s->source || !s->node || !s->kind || !s->options || !s->schema || !s->settings))
        rc = bad(&c, "a header record is missing");
done:
    if (rc < 0)
        pond_ex_state_dispose(s);
    return rc;
}

int pond_ex_state_load(ex_state *s, bool *found, const char *dir, const char *name)
{
    pond_buf b = POND_BUF_INIT;
    char *path = pond__path_join(dir, name);
    pond_ex_state_init(s);
    *found = false;
    if (!path)
        return POND_ENOMEM;
    struct stat st;
    int rc = 0;
    if (pond__os_lstat(path, &st) < 0) {
        if (errno != ENOENT)
            rc = pond_error_set_os(EX_D, "stat '%s'", path);
    } else if ((rc = pond__read_file(&b, path, STATE_MAX, EX_D)) == 0 &&
               (rc = pond_ex_state_parse(s, b.ptr, b.size, path)) == 0) {
        *found = true;
    }
    pond_buf_dispose(&b);
    pond_free(path);
    return rc;
}
