/* Snapshot rows in the canonical text form (canon-v1, ../shared/tools/oracle/README.md):
 * columns in table-schema order, partition values from the log, deletion vectors applied, lines
 * sorted bytewise. Data cells come from the Parquet reader's canonical printer. */
#include "delta/delta_table.h"

#include <pond/parquet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ partition values */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" -> days; *end after the date. */
static bool parse_date(int64_t *days, const char *s, const char **end)
{
    char *e;
    errno = 0;
    long long y = strtoll(s, &e, 10);
    if (errno || e == s || *e != '-')
        return false;
    long m = strtol(e + 1, &e, 10);
    if (*e != '-' || m < 1 || m > 12)
        return false;
    long d = strtol(e + 1, &e, 10);
    if (d < 1 || d > 31)
        return false;
    *days = days_from_civil(y, m, d);
    *end = e;
    return true;
}

/* "YYYY-MM-DD[ T]HH:MM[:SS[.fffffffff]][Z|+HH:MM|-HHMM]" -> ns since epoch (UTC unless an
 * offset is given, as Spark writes partition values). */
static bool parse_timestamp(int64_t *ns, const char *s)
{
    int64_t days;
    const char *p;
    while (isspace((unsigned char)*s))
        s++;
    if (!parse_date(&days, s, &p))
        return false;
    int64_t secs = 0, frac = 0;
    if (*p == ' ' || *p == 'T') {
        int hh, mi, ss = 0, n = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &hh, &mi, &n) != 2)
            return false;
        p += 1 + n;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &ss, &n) != 1)
                return false;
            p += 1 + n;
            if (*p == '.') {
                int digits = 0;
                for (p++; isdigit((unsigned char)*p); p++, digits++)
                    if (digits < 9)
                        frac = frac * 10 + (*p - '0');
                for (; digits < 9; digits++)
                    frac *= 10;
            }
        }
        secs = (int64_t)hh * 3600 + mi * 60 + ss;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0, n = 0;
        if (sscanf(p + 1, "%2d%n", &oh, &n) != 1)
            return false;
        p += 1 + n;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && sscanf(p, "%2d%n", &om, &n) == 1)
            p += n;
        secs -= sign * ((int64_t)oh * 3600 + om * 60);
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return false;
    *ns = (days * 86400 + secs) * 1000000000 + frac;
    return true;
}

/* Exact decimal text at `scale` fraction digits: "d-1.50". */
static bool put_decimal(pond_buf *out, const char *s, int scale)
{
    char digits[128];
    size_t nd = 0;
    bool neg = false, any = false;
    int frac = 0, exp = 0;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    for (bool dot = false; *s; s++) {
        if (*s == '.' && !dot) {
            dot = true;
        } else if (isdigit((unsigned char)*s)) {
            if (nd + 1 >= sizeof digits)
                return false;
            digits[nd++] = *s;
            any = true;
            frac += dot;
        } else if (*s == 'e' || *s == 'E') {
            char *e;
            exp = (int)strtol(s + 1, &e, 10);
            s = e - 1;
            if (*e)
                return false;
        } else {
            return false;
        }
    }
    if (!any || scale < 0 || scale > 76)
        return false;
    /* value = digits * 10^(exp - frac); we need digits * 10^(exp - frac + scale) integral */
    int shift = exp - frac + scale;
    if (shift > 0) {
        if (nd + (size_t)shift >= sizeof digits)
            return false;
        memset(digits + nd, '0', (size_t)shift);
        nd += (size_t)shift;
    } else {
        for (; shift < 0; shift++) {
            if (!nd || digits[nd - 1] != '0')
                return false; /* would lose digits */
            nd--;
        }
    }
    digits[nd] = '\0';
    const char *u = digits;
    while (*u == '0' && u[1])
        u++;
    size_t ul = strlen(u);
    if (!strcmp(u, "0"))
        neg = false;
    int rc = pond_buf_printf(out, "d%s", neg ? "-" : "");
    if (rc == 0 && scale > 0 && ul <= (size_t)scale)
        rc = pond_buf_printf(out, "0.%0*d%s", scale - (int)ul, 0, u);
    else if (rc == 0 && scale > 0)
        rc = pond_buf_printf(out, "%.*s.%s", (int)(ul - (size_t)scale), u, u + ul - scale);
    else if (rc == 0)
        rc = pond_buf_puts(out, u);
    return rc == 0;
}

static int put_canon_string(pond_buf *out, const char *s)
{
    int rc = pond_buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        switch (*p) {
        case '"':
            rc = pond_buf_puts(out, "\\\"");
            break;
        case '\\':
            rc = pond_buf_puts(out, "\\\\");
            break;
        case '\b':
            rc = pond_buf_puts(out, "\\b");
            break;
        case '\f':
            rc = pond_buf_puts(out, "\\f");
            break;
        case '\n':
            rc = pond_buf_puts(out, "\\n");
            break;
        case '\r':
            rc = pond_buf_puts(out, "\\r");
            break;
        case '\t':
            rc = pond_buf_puts(out, "\\t");
            break;
        default:
            rc = *p < 0x20 ? pond_buf_printf(out, "\\u%04x", *p) : pond_buf_putc(out, (char)*p);
        }
    }
    return rc < 0 ? rc : pond_buf_putc(out, '"');
}

/* The canonical cell of a serialized partition value of Delta primitive type `type`. */
static int partition_cell(pond_buf *out, const char *type, const char *v, const char *col)
{
    if (!v || !*v || !strcmp(type, "void"))
        return pond_buf_putc(out, 'N');
    char *end;
    int scale = 0, prec = 0;
    if (!strcmp(type, "string"))
        return put_canon_string(out, v);
    if (!strcmp(type, "long") || !strcmp(type, "integer") || !strcmp(type, "short") ||
        !strcmp(type, "byte")) {
        errno = 0;
        long long n = strtoll(v, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (!errno && end != v && !*end)
            return pond_buf_printf(out, "i%lld", n);
    } else if (!strcmp(type, "double") || !strcmp(type, "float")) {
        double d = strtod(v, &end);
        if (end != v && !*end) {
            char s[32];
            pond_arrow_format_double(s, d);
            return pond_buf_printf(out, "f%s", s);
        }
    } else if (!strcmp(type, "boolean")) {
        if (!strcmp(v, "true"))
            return pond_buf_putc(out, 'T');
        if (!strcmp(v, "false"))
            return pond_buf_putc(out, 'F');
    } else if (!strcmp(type, "date")) {
        int64_t days;
        const char *e;
        if (parse_date(&days, v, &e) && !*e)
            return pond_buf_printf(out, "D%" PRId64, days);
    } else if (!strcmp(type, "timestamp") || !strcmp(type, "timestamp_ntz")) {
        int64_t ns;
        if (parse_timestamp(&ns, v))
            return pond_buf_printf(out, "t%" PRId64, ns);
    } else if (sscanf(type, "decimal(%d,%d)", &prec, &scale) == 2) {
        if (put_decimal(out, v, scale))
            return 0;
    } else if (!strcmp(type, "binary")) {
        int rc = pond_buf_putc(out, 'x');
        for (const unsigned char *p = (const unsigned char *)v; rc == 0 && *p; p++)
            rc = pond_buf_printf(out, "%02x", *p);
        return rc;
    } else {
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                              "partition column '%s' has unsupported type %s", col, type);
    }
    return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                          "partition value '%s' for column '%s' is not a valid %s", v, col, type);
}

/* ------------------------------------------------------------------ column mapping */

/* A view of a file's Arrow schema with nested struct fields renamed from physical to logical
 * names (canon-v1 prints struct keys; column mapping stores physical names in the file). The
 * nodes live in the arena and are never released. */
static const struct ArrowSchema *logical_view(delta_arena *arena, const struct ArrowSchema *src,
                                              const pond_delta_type *dt, const char *name,
                                              int depth)
{
    if (depth > DELTA_MAX_SCHEMA_DEPTH)
        return src;
    struct ArrowSchema *n = pond__arena_alloc(arena, sizeof *n, 16);
    struct ArrowSchema **kids =
        src->n_children ? pond__arena_alloc(arena, (size_t)src->n_children * sizeof *kids, 16)
                        : NULL;
    if (!n || (src->n_children && !kids))
        return NULL;
    *n = *src;
    n->name = name ? name : src->name;
    n->release = NULL;
    n->private_data = NULL;
    n->children = kids;
    for (int64_t c = 0; c < src->n_children; c++) {
        const struct ArrowSchema *cs = src->children[c];
        const pond_delta_type *ct = NULL;
        const char *cname = NULL;
        if (dt && dt->kind == POND_DELTA_TYPE_STRUCT && !strcmp(src->format, "+s")) {
            for (size_t k = 0; k < dt->n_fields && !ct; k++) {
                if (cs->name && !strcmp(dt->fields[k].physical_name, cs->name)) {
                    ct = dt->fields[k].type;
                    cname = dt->fields[k].name;
                }
            }
        } else if (dt && dt->kind == POND_DELTA_TYPE_ARRAY) {
            ct = dt->element;
        } else if (dt && dt->kind == POND_DELTA_TYPE_MAP && !strcmp(src->format, "+m")) {
            /* the entries struct: key and value */
            pond_delta_type *entries = pond__arena_alloc(arena, sizeof *entries, 16);
            pond_delta_field *ef = pond__arena_alloc(arena, 2 * sizeof *ef, 16);
            if (!entries || !ef)
                return NULL;
            memset(entries, 0, sizeof *entries);
            memset(ef, 0, 2 * sizeof *ef);
            entries->kind = POND_DELTA_TYPE_STRUCT;
            entries->fields = ef;
            entries->n_fields = cs->n_children == 2 ? 2 : 0;
            if (cs->n_children == 2) {
                ef[0].name = ef[0].physical_name = cs->children[0]->name;
                ef[0].type = dt->key;
                ef[1].name = ef[1].physical_name = cs->children[1]->name;
                ef[1].type = dt->value;
            }
            ct = entries;
        }
        if (!(kids[c] = (struct ArrowSchema *)logical_view(arena, cs, ct, cname, depth + 1)))
            return NULL;
    }
    return n;
}

/* ------------------------------------------------------------------ rows */

typedef struct {
    pond_buf text; /* LF-terminated lines */
    int64_t rows;
} dump_state;

static int64_t stats_rows(const pond_delta_file *f)
{
    int64_t n;
    return f->stats && pond_delta_file_num_records(&n, f) == 0 ? n : -1;
}

/* Min/max tracking of integer and date columns, to check a file's stats bounds. */
typedef struct {
    int kind; /* 0 = not checked, 1 = integer, 2 = date */
    bool seen;
    int64_t min, max;
} bound;

static int stat_kind(const pond_delta_type *t)
{
    if (t->kind != POND_DELTA_TYPE_PRIMITIVE)
        return 0;
    const char *p = t->primitive;
    if (!strcmp(p, "long") || !strcmp(p, "integer") || !strcmp(p, "short") || !strcmp(p, "byte"))
        return 1;
    return !strcmp(p, "date") ? 2 : 0;
}

static bool stat_value(int64_t *out, int kind, const json_t *v)
{
    if (kind == 1 && json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    const char *e;
    return kind == 2 && json_is_string(v) && parse_date(out, json_string_value(v), &e) && !*e;
}

/* Stats bounds must hold the data: minValues <= the real minimum, maxValues >= the maximum.
 * Only exact ("tight") bounds of files without deletion vectors are checked. */
static int check_bounds(const pond_delta_table *t, const pond_delta_file *f, const bound *b)
{
    if (!f->stats || f->deletion_vector)
        return 0;
    json_t *j = pond__json_parse(f->stats, strlen(f->stats), 0, "stats", POND_DOM_DELTA);
    if (!j) /* e.g. decimal bounds beyond 64 bits: nothing we check here */
        return pond_error_last()->code == POND_ENOMEM ? POND_ENOMEM : (pond_error_clear(), 0);
    int rc = 0;
    const json_t *tight = json_object_get(j, "tightBounds");
    const json_t *mins = json_object_get(j, "minValues"), *maxs = json_object_get(j, "maxValues");
    const pond_delta_type *schema = t->metadata.schema;
    for (size_t i = 0; rc == 0 && !json_is_false(tight) && i < schema->n_fields; i++) {
        if (!b[i].kind || !b[i].seen)
            continue;
        const char *pn = schema->fields[i].physical_name;
        int64_t v;
        if (stat_value(&v, b[i].kind, json_object_get(mins, pn)) && v > b[i].min)
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "file %s: stats.minValues.%s=%" PRId64 " > actual minimum %" PRId64,
                                f->path, pn, v, b[i].min);
        else if (stat_value(&v, b[i].kind, json_object_get(maxs, pn)) && v < b[i].max)
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "file %s: stats.maxValues.%s=%" PRId64 " < actual maximum %" PRId64,
                                f->path, pn, v, b[i].max);
    }
    json_decref(j);
    return rc;
}

static int dump_file(dump_state *st, const pond_delta_table *t, const pond_delta_file *f)
{
    const pond_delta_metadata *m = &t->metadata;
    const pond_delta_type *schema = m->schema;
    size_t nf = schema->n_fields;
    pond_parquet_reader *r = NULL;
    struct ArrowSchema as = {0};
    struct ArrowArray batch = {0};
    pond_buf pcells = POND_BUF_INIT;
    uint64_t *dv = NULL;
    size_t ndv = 0, dvi = 0;
    delta_arena arena = {0};
    int64_t *col = pond_calloc(nf ? nf : 1, sizeof *col); /* -1 partition, -2 missing */
    size_t *pstart = pond_calloc(nf ? nf : 1, sizeof *pstart);
    bound *bounds = pond_calloc(nf ? nf : 1, sizeof *bounds);
    char *path = pond__path_join(t->dir, f->decoded_path);
    int rc = col && pstart && bounds && path ? 0 : POND_ENOMEM;
    if (rc == 0 && f->deletion_vector)
        rc = pond_delta_dv_read(&dv, &ndv, t, f);
    if (rc == 0)
        rc = pond_parquet_reader_open_file(&r, path, NULL);
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &as);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < nf; i++) {
        const pond_delta_field *fd = &schema->fields[i];
        col[i] = -2;
        for (size_t k = 0; k < m->n_partition_columns; k++) {
            if (!strcmp(m->partition_columns[k], fd->name)) {
                const char *v = NULL;
                col[i] = -1;
                pstart[i] = pcells.size;
                if ((rc = pond_delta_file_partition_value(&v, t, f, fd->name)) < 0 ||
                    (rc = partition_cell(&pcells, fd->type->primitive, v, fd->name)) < 0 ||
                    (rc = pond_buf_putc(&pcells, '\0')) < 0)
                    goto done;
            }
        }
        bounds[i].kind = stat_kind(fd->type);
        if (col[i] == -1 ||
            (fd->type->kind == POND_DELTA_TYPE_PRIMITIVE && !strcmp(fd->type->primitive, "void")))
            continue;
        for (int64_t c = 0; c < as.n_children && col[i] == -2; c++) {
            const char *cn = as.children[c]->name ? as.children[c]->name : "";
            if (!strcmp(cn, fd->physical_name) ||
                (m->column_mapping == POND_DELTA_COLUMN_MAPPING_NONE &&
                 !strcasecmp(cn, fd->physical_name)))
                col[i] = c;
        }
    }
    /* with column mapping, cells are printed through views carrying logical nested names */
    const struct ArrowSchema **view = pond__arena_alloc(&arena, (nf ? nf : 1) * sizeof *view, 16);
    if (!view) {
        rc = POND_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        view[i] = NULL;
        if (col[i] < 0)
            continue;
        view[i] = as.children[col[i]];
        if (m->column_mapping != POND_DELTA_COLUMN_MAPPING_NONE &&
            !(view[i] =
                  logical_view(&arena, as.children[col[i]], schema->fields[i].type, NULL, 0))) {
            rc = pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory");
            goto done;
        }
    }
    int64_t row = 0;
    for (;;) {
        rc = pond_parquet_reader_next(r, &batch);
        if (rc == POND_ITEROVER) {
            rc = 0;
            break;
        }
        if (rc < 0 || (rc = pond_arrow_array_validate(&as, &batch)) < 0)
            goto done;
        for (int64_t b = 0; b < batch.length; b++, row++) {
            while (dvi < ndv && dv[dvi] < (uint64_t)row)
                dvi++;
            if (dvi < ndv && dv[dvi] == (uint64_t)row)
                continue;
            for (size_t i = 0; i < nf; i++) {
                if (i && (rc = pond_buf_putc(&st->text, '\t')) < 0)
                    goto done;
                size_t cell = st->text.size;
                if (col[i] == -1)
                    rc = pond_buf_puts(&st->text, pcells.ptr + pstart[i]);
                else if (col[i] == -2)
                    rc = pond_buf_putc(&st->text, 'N');
                else
                    rc = pond_arrow_canon_cell(&st->text, view[i], batch.children[col[i]],
                                               batch.offset + b);
                if (rc < 0)
                    goto done;
                char tag = st->text.ptr[cell];
                if (col[i] >= 0 &&
                    ((bounds[i].kind == 1 && tag == 'i') || (bounds[i].kind == 2 && tag == 'D'))) {
                    int64_t v = strtoll(st->text.ptr + cell + 1, NULL, 10);
                    bound *bd = &bounds[i];
                    bd->min = !bd->seen || v < bd->min ? v : bd->min;
                    bd->max = !bd->seen || v > bd->max ? v : bd->max;
                    bd->seen = true;
                }
            }
            if ((rc = pond_buf_putc(&st->text, '\n')) < 0)
                goto done;
            st->rows++;
        }
        batch.release(&batch);
    }
    int64_t want = stats_rows(f);
    if (want >= 0 && want != row)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "file %s: stats.numRecords=%" PRId64 " but file has %" PRId64 " rows",
                            f->path, want, row);
    if (rc == 0)
        rc = check_bounds(t, f, bounds);
    if (rc == 0 && ndv && dv[ndv - 1] >= (uint64_t)row)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "file %s: deletion vector deletes row %" PRIu64 " of %" PRId64, f->path,
                            dv[ndv - 1], row);
done:
    if (rc < 0 && rc != POND_ENOMEM && !strstr(pond_error_last()->message, f->path))
        pond_error_prefix("file %s", f->path);
    if (batch.release)
        batch.release(&batch);
    if (as.release)
        as.release(&as);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&pcells);
    pond__arena_dispose(&arena);
    pond_free(dv);
    pond_free(col);
    pond_free(pstart);
    pond_free(bounds);
    pond_free(path);
    return rc;
}

static int cmp_line(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a,
                        *y = *(const unsigned char *const *)b;
    for (;; x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
        if (*x == '\n')
            return 0;
    }
}

int pond_delta_table_dump(const pond_delta_table *t,
                          int (*write)(const void *buf, size_t len, void *payload), void *payload,
                          int64_t *rows_out)
{
    POND_ASSERT_ARG(t && write);
    dump_state st = {POND_BUF_INIT, 0};
    char **lines = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < t->n_files; i++) {
        if (t->files[i].live)
            rc = dump_file(&st, t, &t->files[i].pub);
    }
    if (rc == 0 && st.rows) {
        lines = pond_malloc((size_t)st.rows * sizeof *lines);
        if (!lines)
            rc = POND_ENOMEM;
    }
    if (rc == 0 && st.rows) {
        size_t n = 0;
        for (char *p = st.text.ptr, *end = st.text.ptr + st.text.size; p < end;) {
            lines[n++] = p;
            p = (char *)memchr(p, '\n', (size_t)(end - p)) + 1;
        }
        qsort(lines, n, sizeof *lines, cmp_line);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const char *nl =
                memchr(lines[i], '\n', (size_t)(st.text.ptr + st.text.size - lines[i]));
            rc = write(lines[i], (size_t)(nl - lines[i]) + 1, payload);
        }
    }
    if (rc == 0 && rows_out)
        *rows_out = st.rows;
    pond_free(lines);
    pond_buf_dispose(&st.text);
    return rc;
}
