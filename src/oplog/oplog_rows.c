/* The row format of oplog data files: Arrow schema, encoding of node versions into a record
 * batch and decoding back. */
#include "oplog/oplog_internal.h"

#include <stdio.h>
#include <string.h>

/* The schemaString up to the fields of an entry, then format 1's and format 2's ends. */
#define SCHEMA_HEAD                                                                                \
    "{\"type\":\"struct\",\"fields\":["                                                            \
    "{\"name\":\"part_id\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}},"               \
    "{\"name\":\"node_id\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}},"               \
    "{\"name\":\"file_type\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}},"             \
    "{\"name\":\"version\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"                 \
    "{\"name\":\"txn_seq\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"                 \
    "{\"name\":\"timestamp\",\"type\":\"timestamp\",\"nullable\":false,\"metadata\":{}},"          \
    "{\"name\":\"size\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"                    \
    "{\"name\":\"sha256\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"                 \
    "{\"name\":\"content\",\"type\":\"binary\",\"nullable\":true,\"metadata\":{}},"                \
    "{\"name\":\"blob_root\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"              \
    "{\"name\":\"symlink_target\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"         \
    "{\"name\":\"min_event_time\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"           \
    "{\"name\":\"max_event_time\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"           \
    "{\"name\":\"extended_attributes\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"    \
    "{\"name\":\"entries\",\"type\":{\"type\":\"array\",\"elementType\":{\"type\":\"struct\","     \
    "\"fields\":["                                                                                 \
    "{\"name\":\"name\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}},"                  \
    "{\"name\":\"node_id\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}},"               \
    "{\"name\":\"file_type\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}}"
#define SCHEMA_TAIL "]},\"containsNull\":false},\"nullable\":true,\"metadata\":{}}]}"
#define SCHEMA_PART_ID                                                                             \
    ",{\"name\":\"part_id\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}"

static const char SCHEMA_1[] = SCHEMA_HEAD SCHEMA_TAIL;
static const char SCHEMA_2[] = SCHEMA_HEAD SCHEMA_PART_ID SCHEMA_TAIL;

const char *pond_oplog__schema_string(int format) { return format >= 2 ? SCHEMA_2 : SCHEMA_1; }

static const struct {
    const char *name;
    const char *format;
    bool nullable;
} COLS[OL_NCOLS] = {
    {"node_id", "u", false},
    {"file_type", "u", false},
    {"version", "l", false},
    {"txn_seq", "l", false},
    {"timestamp", "tsu:UTC", false},
    {"size", "l", false},
    {"sha256", "u", true},
    {"content", "z", true},
    {"blob_root", "u", true},
    {"symlink_target", "u", true},
    {"min_event_time", "l", true},
    {"max_event_time", "l", true},
    {"extended_attributes", "u", true},
    {"entries", "+l", true},
};

/* Fields of a listing entry; format 2 appended part_id (nullable). */
enum { EF_NAME, EF_NODE_ID, EF_FILE_TYPE, EF_PART_ID, EF_N };
static const char *const ENTRY_FIELDS[EF_N] = {"name", "node_id", "file_type", "part_id"};

static int entry_fields(int format) { return format >= 2 ? EF_N : EF_PART_ID; }

int pond_oplog__arrow_schema(struct ArrowSchema *out, int format)
{
    int nf = entry_fields(format);
    int rc = pond_arrow_schema_init(out, "+s", "", 0, OL_NCOLS);
    if (rc < 0)
        return rc;
    for (int i = 0; i < OL_NCOLS && rc == 0; i++) {
        struct ArrowSchema *c = out->children[i];
        rc = pond_arrow_schema_init(c, COLS[i].format, COLS[i].name,
                                    COLS[i].nullable ? ARROW_FLAG_NULLABLE : 0,
                                    i == OL_ENTRIES ? 1 : 0);
        if (rc == 0 && i == OL_ENTRIES) {
            struct ArrowSchema *s = c->children[0];
            rc = pond_arrow_schema_init(s, "+s", "element", 0, nf);
            for (int k = 0; k < nf && rc == 0; k++)
                rc = pond_arrow_schema_init(s->children[k], "u", ENTRY_FIELDS[k],
                                            k == EF_PART_ID ? ARROW_FLAG_NULLABLE : 0, 0);
        }
    }
    if (rc < 0)
        pond_arrow_schema_release(out);
    return rc;
}

/* ---- encoding ------------------------------------------------------------------------------ */

static int append_str(pond_arrow_builder *b, const char *s)
{
    return s ? pond_arrow_builder_append_bytes(b, s, strlen(s)) : pond_arrow_builder_append_null(b);
}

static int append_hash(pond_arrow_builder *b, const pond_hash *h)
{
    char hex[65];
    pond_hash_hex(hex, h);
    return pond_arrow_builder_append_bytes(b, hex, 64);
}

static int append_id(pond_arrow_builder *b, const pond_node_id *id)
{
    char s[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(s, id);
    return pond_arrow_builder_append_bytes(b, s, POND_NODE_ID_STRLEN);
}

/* Inline content: read the whole (small) blob into the builder. */
static int append_content(pond_arrow_builder *b, pond_blob *blob)
{
    int64_t size = pond_blob_size(blob);
    char *buf = pond_malloc(size > 0 ? (size_t)size : 1);
    if (!buf)
        return POND_ENOMEM;
    size_t n = 0;
    int rc = size > 0 ? pond_blob_pread(blob, buf, (size_t)size, 0, &n) : 0;
    if (rc == 0 && (int64_t)n != size)
        rc = pond_error_set(POND_EIO, POND_DOM_OPLOG, "content shorter than its size");
    if (rc == 0)
        rc = pond_arrow_builder_append_bytes(b, buf, n);
    pond_free(buf);
    return rc;
}

/* The entries column: list<struct<name, node_id, file_type[, part_id]>>, assembled by hand.
 * part_id is null unless the child's home partition is elsewhere (docs/format.md); format 1
 * has no such field, and a listing that needs it cannot be written in format 1. */
static int encode_entries(struct ArrowArray *out, const oplog_row *rows, size_t n, int format)
{
    pond_arrow_builder *kb[EF_N] = {NULL, NULL, NULL, NULL};
    int nf = entry_fields(format);
    int rc = 0;
    size_t total = 0, nulls = 0;
    for (size_t i = 0; i < n; i++) {
        const pond_node_rec *r = rows[i].rec;
        if (r->type != POND_ENTRY_DIRECTORY) {
            nulls++;
            continue;
        }
        total += r->n_entries;
        /* a damaged listing read back (or a bug) is never written back */
        if ((rc = pond_dir_entries_check(r, NULL, NULL)) < 0) {
            char id[POND_NODE_ID_STRLEN + 1];
            pond_node_id_format(id, &r->id);
            if (rc != POND_ENOMEM)
                pond_error_prefix("refusing to write the damaged listing of directory %s "
                                  "version %lld",
                                  id, (long long)r->version);
            return rc;
        }
    }
    if (total > INT32_MAX)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_OPLOG, "directory listing too large");
    if ((rc = pond_arrow_array_init(out, (int64_t)n, (int64_t)nulls, 2, 1)) < 0)
        return rc;
    uint8_t *valid = pond_arrow_array_alloc_buffer(out, 0, (n + 7) / 8);
    int32_t *offs = pond_arrow_array_alloc_buffer(out, 1, (n + 1) * sizeof(int32_t));
    if (!valid || !offs) {
        rc = POND_ENOMEM;
        goto fail;
    }
    for (int k = 0; k < nf && rc == 0; k++)
        rc = pond_arrow_builder_new(&kb[k], "u");
    int32_t pos = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const pond_node_rec *r = rows[i].rec;
        offs[i] = pos;
        if (r->type != POND_ENTRY_DIRECTORY)
            continue;
        valid[i / 8] |= (uint8_t)(1u << (i % 8));
        for (size_t e = 0; e < r->n_entries && rc == 0; e++) {
            const pond_dir_entry *de = &r->entries[e];
            pond_node_id home = pond_dir_entry_home(r, de);
            bool away = de->type != POND_ENTRY_DIRECTORY && !pond_node_id_equal(&home, &r->id);
            rc = append_str(kb[EF_NAME], de->name);
            if (rc == 0)
                rc = append_id(kb[EF_NODE_ID], &de->id);
            if (rc == 0)
                rc = append_str(kb[EF_FILE_TYPE], pond_entry_type_name(de->type));
            if (rc == 0 && nf > EF_PART_ID)
                rc = away ? append_id(kb[EF_PART_ID], &home)
                          : pond_arrow_builder_append_null(kb[EF_PART_ID]);
            else if (rc == 0 && away)
                rc = pond_error_set(POND_EUNSUPPORTED, POND_DOM_OPLOG,
                                    "entry '%s' lives in another partition: pond format 1 cannot "
                                    "record that",
                                    de->name);
            pos++;
        }
    }
    offs[n] = pos;
    if (rc < 0)
        goto fail;
    struct ArrowArray *st = out->children[0];
    if ((rc = pond_arrow_array_init(st, (int64_t)total, 0, 1, nf)) < 0)
        goto fail;
    for (int k = 0; k < nf && rc == 0; k++)
        rc = pond_arrow_builder_finish(st->children[k], kb[k]);
    if (rc < 0)
        goto fail;
    for (int k = 0; k < EF_N; k++)
        pond_arrow_builder_free(kb[k]);
    return 0;
fail:
    for (int k = 0; k < EF_N; k++)
        pond_arrow_builder_free(kb[k]);
    pond_arrow_array_release(out);
    return rc;
}

int pond_oplog__encode(struct ArrowArray *out, const oplog_row *rows, size_t n, int format)
{
    pond_arrow_builder *b[OL_NCOLS] = {0};
    int rc = pond_arrow_array_init(out, (int64_t)n, 0, 1, OL_NCOLS);
    if (rc < 0)
        return rc;
    for (int i = 0; i < OL_ENTRIES && rc == 0; i++)
        rc = pond_arrow_builder_new(&b[i], COLS[i].format);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const oplog_row *row = &rows[i];
        const pond_node_rec *r = row->rec;
        bool is_file = pond_entry_type_is_file(r->type);
        if (is_file && !row->in_store && (row->content_pending || !r->content)) {
            /* a rewrite loads pending content first: writing the row without it would lose
             * the version's bytes */
            char id[POND_NODE_ID_STRLEN + 1];
            pond_node_id_format(id, &r->id);
            rc = pond_error_set(POND_ERROR, POND_DOM_OPLOG,
                                "node %s version %lld: its inline content was not loaded before "
                                "rewriting it",
                                id, (long long)r->version);
            break;
        }
        rc = append_id(b[OL_NODE_ID], &r->id);
        if (rc == 0)
            rc = append_str(b[OL_FILE_TYPE], pond_entry_type_name(r->type));
        if (rc == 0)
            rc = pond_arrow_builder_append_int(b[OL_VERSION], r->version);
        if (rc == 0)
            rc = pond_arrow_builder_append_int(b[OL_TXN_SEQ], r->txn_seq);
        if (rc == 0)
            rc = pond_arrow_builder_append_int(b[OL_TIMESTAMP], r->timestamp_us);
        if (rc == 0)
            rc = pond_arrow_builder_append_int(b[OL_SIZE], r->size);
        if (rc == 0)
            rc = is_file ? append_hash(b[OL_SHA256], &r->sha256)
                         : pond_arrow_builder_append_null(b[OL_SHA256]);
        if (rc == 0)
            rc = is_file && !row->in_store ? append_content(b[OL_CONTENT], r->content)
                                           : pond_arrow_builder_append_null(b[OL_CONTENT]);
        if (rc == 0)
            rc = is_file && row->in_store ? append_hash(b[OL_BLOB_ROOT], &row->root)
                                          : pond_arrow_builder_append_null(b[OL_BLOB_ROOT]);
        if (rc == 0)
            rc = append_str(b[OL_SYMLINK_TARGET],
                            r->type == POND_ENTRY_SYMLINK ? r->symlink_target : NULL);
        if (rc == 0)
            rc = r->has_event_time
                     ? pond_arrow_builder_append_int(b[OL_MIN_EVENT_TIME], r->min_event_time_us)
                     : pond_arrow_builder_append_null(b[OL_MIN_EVENT_TIME]);
        if (rc == 0)
            rc = r->has_event_time
                     ? pond_arrow_builder_append_int(b[OL_MAX_EVENT_TIME], r->max_event_time_us)
                     : pond_arrow_builder_append_null(b[OL_MAX_EVENT_TIME]);
        if (rc == 0)
            rc = append_str(b[OL_XATTRS], r->xattrs_json);
    }
    for (int i = 0; i < OL_ENTRIES && rc == 0; i++)
        rc = pond_arrow_builder_finish(out->children[i], b[i]);
    if (rc == 0)
        rc = encode_entries(out->children[OL_ENTRIES], rows, n, format);
    for (int i = 0; i < OL_NCOLS; i++)
        pond_arrow_builder_free(b[i]);
    if (rc < 0)
        pond_arrow_array_release(out);
    return rc;
}

/* ---- decoding ------------------------------------------------------------------------------ */

typedef struct {
    const struct ArrowArray *a;
    pond_arrow_format f;
} col;

static bool is_null(const col *c, int64_t i)
{
    const uint8_t *v = c->a->buffers[0];
    if (!v || c->a->null_count == 0)
        return false;
    int64_t j = i + c->a->offset;
    return !(v[j / 8] & (1u << (j % 8)));
}

static int64_t get_i64(const col *c, int64_t i)
{
    int64_t j = i + c->a->offset;
    if (c->f.type == POND_ARROW_INT32)
        return ((const int32_t *)c->a->buffers[1])[j];
    return ((const int64_t *)c->a->buffers[1])[j];
}

static const char *get_bytes(const col *c, int64_t i, size_t *len)
{
    int64_t j = i + c->a->offset;
    if (c->f.type == POND_ARROW_LARGE_STRING || c->f.type == POND_ARROW_LARGE_BINARY) {
        const int64_t *o = c->a->buffers[1];
        *len = (size_t)(o[j + 1] - o[j]);
        return (const char *)c->a->buffers[2] + o[j];
    }
    const int32_t *o = c->a->buffers[1];
    *len = (size_t)(o[j + 1] - o[j]);
    return (const char *)c->a->buffers[2] + o[j];
}

static bool is_bytes(const pond_arrow_format *f)
{
    return f->type == POND_ARROW_STRING || f->type == POND_ARROW_BINARY ||
           f->type == POND_ARROW_LARGE_STRING || f->type == POND_ARROW_LARGE_BINARY;
}

static bool is_int(const pond_arrow_format *f)
{
    return f->type == POND_ARROW_INT64 || f->type == POND_ARROW_INT32 ||
           f->type == POND_ARROW_TIMESTAMP;
}

static int bad(const char *file, int64_t row, const char *what)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "data file '%s' row %lld: %s", file,
                          (long long)row, what);
}

static int parse_id(pond_node_id *out, const char *s, size_t len)
{
    char tmp[POND_NODE_ID_STRLEN + 1];
    if (len != POND_NODE_ID_STRLEN)
        return POND_ECORRUPT;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return pond_node_id_parse(out, tmp) < 0 ? POND_ECORRUPT : 0;
}

static int parse_hash(pond_hash *out, const char *s, size_t len)
{
    char tmp[65];
    if (len != 64)
        return POND_ECORRUPT;
    memcpy(tmp, s, 64);
    tmp[64] = '\0';
    return pond_hash_from_hex(out, tmp) < 0 ? POND_ECORRUPT : 0;
}

static int parse_type(pond_entry_type *out, const char *s, size_t len)
{
    char tmp[32];
    if (len >= sizeof tmp)
        return POND_ECORRUPT;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return pond_entry_type_parse(out, tmp) < 0 ? POND_ECORRUPT : 0;
}

/* Where a listing came from, for messages: "data file 'F' row R: listing of directory D
 * version V". */
static void listing_where(char *out, size_t cap, const char *file, int64_t row,
                          const pond_node_rec *r)
{
    char id[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(id, &r->id);
    snprintf(out, cap, "data file '%s' row %lld: listing of directory %s version %lld", file,
             (long long)row, id, (long long)r->version);
}

/* Reports a listing problem: with a callback (fsck) it is one more line and decoding goes on;
 * without one it is the decode error. */
typedef struct {
    oplog_listing_fn fn;
    void *payload;
    const char *where;
} listing_report;

static void listing_problem(const char *problem, void *payload)
{
    listing_report *lr = payload;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s", lr->where, problem);
    lr->fn(msg, lr->payload);
}

static int decode_entries(pond_node_rec *r, const struct ArrowSchema *schema,
                          const struct ArrowArray *list, int64_t i, const char *file,
                          oplog_listing_fn fn, void *payload)
{
    if (schema->n_children != 1 || list->n_children != 1)
        return bad(file, i, "entries is not a list");
    const struct ArrowSchema *ss = schema->children[0];
    const struct ArrowArray *st = list->children[0];
    if (ss->n_children != st->n_children)
        return bad(file, i, "entries element is not a struct");
    /* fields by name: format 1 has no part_id; fields a later format adds are skipped */
    col k[EF_N];
    int at[EF_N] = {-1, -1, -1, -1};
    for (int64_t c = 0; c < ss->n_children; c++)
        for (int f = 0; f < EF_N; f++)
            if (ss->children[c]->name && !strcmp(ss->children[c]->name, ENTRY_FIELDS[f]))
                at[f] = (int)c;
    for (int f = 0; f < EF_N; f++) {
        if (at[f] < 0 && f == EF_PART_ID)
            continue;
        if (at[f] < 0)
            return bad(file, i, "entries element has no name, node_id or file_type");
        k[f].a = st->children[at[f]];
        if (pond_arrow_format_parse(&k[f].f, ss->children[at[f]]->format) < 0 || !is_bytes(&k[f].f))
            return bad(file, i, "entries field has the wrong type");
    }
    bool has_part = at[EF_PART_ID] >= 0;
    pond_arrow_format lf;
    if (pond_arrow_format_parse(&lf, schema->format) < 0)
        return bad(file, i, "entries has a bad format");
    int64_t j = i + list->offset, lo, hi;
    if (lf.type == POND_ARROW_LARGE_LIST) {
        lo = ((const int64_t *)list->buffers[1])[j];
        hi = ((const int64_t *)list->buffers[1])[j + 1];
    } else if (lf.type == POND_ARROW_LIST) {
        lo = ((const int32_t *)list->buffers[1])[j];
        hi = ((const int32_t *)list->buffers[1])[j + 1];
    } else {
        return bad(file, i, "entries is not a list");
    }
    if (hi < lo || hi - lo > 100000000)
        return bad(file, i, "entries offsets are invalid");
    char where[256];
    listing_where(where, sizeof where, file, i, r);
    listing_report lr = {fn, payload, where};
    /* n_entries only once entries exists: the record is freed by walking entries[n_entries] */
    r->entries = pond_calloc(hi > lo ? (size_t)(hi - lo) : 1, sizeof *r->entries);
    if (!r->entries)
        return POND_ENOMEM;
    r->n_entries = (size_t)(hi - lo);
    for (int64_t e = lo; e < hi; e++) {
        pond_dir_entry *de = &r->entries[e - lo];
        size_t len;
        const char *s;
        if (is_null(&k[EF_NAME], e) || is_null(&k[EF_NODE_ID], e) || is_null(&k[EF_FILE_TYPE], e))
            return bad(file, i, "null field in a directory entry");
        s = get_bytes(&k[EF_NAME], e, &len);
        if (!(de->name = pond_strndup(s, len)))
            return POND_ENOMEM;
        if (memchr(s, '\0', len)) {
            /* the copy ends at the NUL: only the stored length shows it */
            char msg[64];
            snprintf(msg, sizeof msg, "entry %lld: name contains a NUL byte", (long long)(e - lo));
            if (!fn)
                return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "%s: %s", where, msg);
            listing_problem(msg, &lr);
        }
        s = get_bytes(&k[EF_NODE_ID], e, &len);
        if (parse_id(&de->id, s, len) < 0)
            return bad(file, i, "bad node id in a directory entry");
        s = get_bytes(&k[EF_FILE_TYPE], e, &len);
        if (parse_type(&de->type, s, len) < 0)
            return bad(file, i, "bad entry type in a directory entry");
        if (has_part && !is_null(&k[EF_PART_ID], e)) {
            s = get_bytes(&k[EF_PART_ID], e, &len);
            if (parse_id(&de->part_id, s, len) < 0)
                return bad(file, i, "bad part_id in a directory entry");
            if (pond_node_id_is_nil(&de->part_id)) {
                /* it would read as no part_id: only the stored value shows it (the listing
                 * rules, pond_dir_entries_check, cover the rest of this field) */
                char msg[64];
                snprintf(msg, sizeof msg, "entry %lld: part_id is the nil id", (long long)(e - lo));
                if (!fn)
                    return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "%s: %s", where, msg);
                listing_problem(msg, &lr);
            }
        }
    }
    int rc = pond_dir_entries_check(r, fn ? listing_problem : NULL, &lr);
    if (rc < 0 && rc != POND_ENOMEM)
        pond_error_prefix("%s", where);
    if (rc < 0)
        return rc;
    /* a home equal to this directory is the default: read it as none (docs/format.md) */
    for (size_t e = 0; e < r->n_entries; e++)
        if (pond_node_id_equal(&r->entries[e].part_id, &r->id))
            memset(&r->entries[e].part_id, 0, sizeof r->entries[e].part_id);
    return 0;
}

void pond_oplog__row_dispose(oplog_row *row)
{
    pond_node_rec_unref(row->rec);
    row->rec = NULL;
}

/* A column by name, so that columns added by a later format version do not break older
 * readers; -1 when absent. The last of a repeated name wins. */
static int column_index(const struct ArrowSchema *schema, const char *name)
{
    for (int64_t k = schema->n_children - 1; k >= 0; k--)
        if (schema->children[k]->name && !strcmp(schema->children[k]->name, name))
            return (int)k;
    return -1;
}

int pond_oplog__decode(oplog_row **rows, size_t *n, size_t *cap, const struct ArrowSchema *schema,
                       const struct ArrowArray *batch, const pond_node_id *part, const char *file)
{
    col c[OL_NCOLS];
    int idx[OL_NCOLS];
    for (int i = 0; i < OL_NCOLS; i++)
        idx[i] = column_index(schema, COLS[i].name);
    bool lazy_entries = idx[OL_ENTRIES] < 0; /* projected away: listings load later */
    bool lazy_content = idx[OL_CONTENT] < 0; /* likewise inline content */
    for (int i = 0; i < OL_NCOLS; i++) {
        if ((i == OL_ENTRIES && lazy_entries) || (i == OL_CONTENT && lazy_content))
            continue;
        if (idx[i] < 0)
            return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "data file '%s': no column '%s'",
                                  file, COLS[i].name);
        c[i].a = batch->children[idx[i]];
        if (pond_arrow_format_parse(&c[i].f, schema->children[idx[i]]->format) < 0)
            return POND_ECORRUPT;
        bool ok = i == OL_ENTRIES ? true
                  : (i == OL_VERSION || i == OL_TXN_SEQ || i == OL_TIMESTAMP || i == OL_SIZE ||
                     i == OL_MIN_EVENT_TIME || i == OL_MAX_EVENT_TIME)
                      ? is_int(&c[i].f)
                      : is_bytes(&c[i].f);
        if (!ok)
            return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG,
                                  "data file '%s': column '%s' has type '%s'", file, COLS[i].name,
                                  schema->children[idx[i]]->format);
    }
    const struct ArrowSchema *entries_schema =
        lazy_entries ? NULL : schema->children[idx[OL_ENTRIES]];
    for (int64_t i = 0; i < batch->length; i++) {
        if (POND_GROW(*rows, *n, *cap) < 0)
            return POND_ENOMEM;
        oplog_row *row = &(*rows)[*n];
        memset(row, 0, sizeof *row);
        int rc = pond_node_rec_new(&row->rec);
        if (rc < 0)
            return rc;
        (*n)++;
        pond_node_rec *r = row->rec;
        r->part_id = *part;
        size_t len;
        const char *s;
        for (int k = 0; k < OL_NCOLS; k++) {
            if ((k == OL_ENTRIES && lazy_entries) || (k == OL_CONTENT && lazy_content))
                continue;
            if (!COLS[k].nullable && is_null(&c[k], i))
                return bad(file, i, "a required column is null");
        }
        s = get_bytes(&c[OL_NODE_ID], i, &len);
        if (parse_id(&r->id, s, len) < 0)
            return bad(file, i, "bad node_id");
        s = get_bytes(&c[OL_FILE_TYPE], i, &len);
        if (parse_type(&r->type, s, len) < 0)
            return bad(file, i, "bad file_type");
        r->version = get_i64(&c[OL_VERSION], i);
        r->txn_seq = get_i64(&c[OL_TXN_SEQ], i);
        r->timestamp_us = get_i64(&c[OL_TIMESTAMP], i);
        r->size = get_i64(&c[OL_SIZE], i);
        if (r->version < 1 || r->txn_seq < 1 || r->size < 0)
            return bad(file, i, "version, txn_seq or size out of range");
        if (!is_null(&c[OL_XATTRS], i)) {
            s = get_bytes(&c[OL_XATTRS], i, &len);
            if (!(r->xattrs_json = pond_strndup(s, len)))
                return POND_ENOMEM;
        }
        if (!is_null(&c[OL_MIN_EVENT_TIME], i) && !is_null(&c[OL_MAX_EVENT_TIME], i)) {
            r->has_event_time = true;
            r->min_event_time_us = get_i64(&c[OL_MIN_EVENT_TIME], i);
            r->max_event_time_us = get_i64(&c[OL_MAX_EVENT_TIME], i);
        }
        if (r->type == POND_ENTRY_DIRECTORY && lazy_entries) {
            row->entries_pending = true;
        } else if (r->type == POND_ENTRY_DIRECTORY) {
            if (is_null(&c[OL_ENTRIES], i))
                return bad(file, i, "directory without entries");
            if ((rc = decode_entries(r, entries_schema, c[OL_ENTRIES].a, i, file, NULL, NULL)) < 0)
                return rc;
        } else if (r->type == POND_ENTRY_SYMLINK) {
            if (is_null(&c[OL_SYMLINK_TARGET], i))
                return bad(file, i, "symlink without target");
            s = get_bytes(&c[OL_SYMLINK_TARGET], i, &len);
            if (!(r->symlink_target = pond_strndup(s, len)))
                return POND_ENOMEM;
            /* a symlink's hash is that of its target text (tinyfs's definition) */
            if ((rc = pond_sha256_buf(&r->sha256, s, len)) < 0)
                return rc;
        } else {
            if (is_null(&c[OL_SHA256], i))
                return bad(file, i, "file without sha256");
            s = get_bytes(&c[OL_SHA256], i, &len);
            if (parse_hash(&r->sha256, s, len) < 0)
                return bad(file, i, "bad sha256");
            if (lazy_content && is_null(&c[OL_BLOB_ROOT], i)) {
                /* checked when it is loaded (pond_oplog__decode_content) */
                row->content_pending = true;
            } else if (!lazy_content && !is_null(&c[OL_CONTENT], i)) {
                s = get_bytes(&c[OL_CONTENT], i, &len);
                if ((int64_t)len != r->size)
                    return bad(file, i, "inline content length differs from size");
                if ((rc = pond_blob_from_buf(&r->content, s, len)) < 0)
                    return rc;
                /* inline content is verified here, once, against the recorded hash */
                if (!pond_hash_equal(pond_blob_sha256(r->content), &r->sha256))
                    return bad(file, i, "inline content does not match its sha256");
            } else if (!is_null(&c[OL_BLOB_ROOT], i)) {
                s = get_bytes(&c[OL_BLOB_ROOT], i, &len);
                if (parse_hash(&row->root, s, len) < 0)
                    return bad(file, i, "bad blob_root");
                row->in_store = true;
            } else {
                return bad(file, i, "file with neither content nor blob_root");
            }
        }
    }
    return 0;
}

/* Inline content whose hash is known: the file it came from was checked whole. */
typedef struct {
    size_t len;
    char bytes[];
} mem_content;

static int mem_content_pread(void *impl, void *buf, size_t len, int64_t off, size_t *n_out)
{
    const mem_content *m = impl;
    size_t at = (size_t)off < m->len ? (size_t)off : m->len;
    size_t n = POND_MIN(len, m->len - at);
    memcpy(buf, m->bytes + at, n);
    *n_out = n;
    return 0;
}

static void mem_content_free(void *impl) { pond_free(impl); }

static const pond_reader_ops MEM_CONTENT_OPS = {mem_content_pread, mem_content_free};

int pond_oplog__decode_content(size_t *filled, const struct ArrowSchema *schema,
                               const struct ArrowArray *batch, const char *file, bool verified,
                               oplog_row_lookup_fn lookup, void *payload)
{
    int in = column_index(schema, "node_id"), iv = column_index(schema, "version"),
        ic = column_index(schema, "content");
    if (in < 0 || iv < 0 || ic < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG,
                              "data file '%s': no node_id, version or content column", file);
    col cn = {batch->children[in], {0}}, cv = {batch->children[iv], {0}},
        cc = {batch->children[ic], {0}};
    if (pond_arrow_format_parse(&cn.f, schema->children[in]->format) < 0 || !is_bytes(&cn.f) ||
        pond_arrow_format_parse(&cv.f, schema->children[iv]->format) < 0 || !is_int(&cv.f) ||
        pond_arrow_format_parse(&cc.f, schema->children[ic]->format) < 0 || !is_bytes(&cc.f))
        return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG,
                              "data file '%s': bad node_id, version or content column", file);
    for (int64_t i = 0; i < batch->length; i++) {
        size_t len;
        const char *s = get_bytes(&cn, i, &len);
        pond_node_id id;
        if (is_null(&cn, i) || is_null(&cv, i) || parse_id(&id, s, len) < 0)
            continue; /* the row decoder reports these */
        oplog_row *row = lookup(&id, get_i64(&cv, i), payload);
        if (!row || !row->content_pending)
            continue;
        pond_node_rec *r = row->rec;
        if (is_null(&cc, i))
            return bad(file, i, "file with neither content nor blob_root");
        s = get_bytes(&cc, i, &len);
        if ((int64_t)len != r->size)
            return bad(file, i, "inline content length differs from size");
        pond_blob *blob = NULL;
        int rc;
        if (verified) {
            mem_content *m = pond_malloc(sizeof *m + (len ? len : 1));
            if (!m)
                return POND_ENOMEM;
            m->len = len;
            if (len)
                memcpy(m->bytes, s, len);
            rc = pond_blob_from_source(&blob, (int64_t)len, &r->sha256, &MEM_CONTENT_OPS, m);
        } else if ((rc = pond_blob_from_buf(&blob, s, len)) == 0 &&
                   !pond_hash_equal(pond_blob_sha256(blob), &r->sha256)) {
            pond_blob_unref(blob);
            return bad(file, i, "inline content does not match its sha256");
        }
        if (rc < 0)
            return rc;
        pond_blob_unref(r->content);
        r->content = blob;
        row->content_pending = false;
        (*filled)++;
    }
    return 0;
}

int pond_oplog__decode_entries_for(pond_node_rec *rec, const struct ArrowSchema *schema,
                                   const struct ArrowArray *batch, const char *file)
{
    int in = column_index(schema, "node_id"), iv = column_index(schema, "version"),
        ie = column_index(schema, "entries");
    if (in < 0 || iv < 0 || ie < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG,
                              "data file '%s': no node_id, version or entries column", file);
    col cn = {batch->children[in], {0}}, cv = {batch->children[iv], {0}};
    if (pond_arrow_format_parse(&cn.f, schema->children[in]->format) < 0 || !is_bytes(&cn.f) ||
        pond_arrow_format_parse(&cv.f, schema->children[iv]->format) < 0 || !is_int(&cv.f))
        return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "data file '%s': bad key columns",
                              file);
    char want[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(want, &rec->id);
    for (int64_t i = 0; i < batch->length; i++) {
        size_t len;
        const char *s = get_bytes(&cn, i, &len);
        if (len != POND_NODE_ID_STRLEN || memcmp(s, want, len) != 0 ||
            get_i64(&cv, i) != rec->version)
            continue;
        col ce = {batch->children[ie], {0}};
        if (is_null(&ce, i))
            return bad(file, i, "directory without entries");
        int rc =
            decode_entries(rec, schema->children[ie], batch->children[ie], i, file, NULL, NULL);
        return rc < 0 ? rc : 1;
    }
    return 0;
}

typedef struct {
    oplog_listing_fn fn;
    void *payload;
    int n;
} counter;

static void count_problem(const char *problem, void *payload)
{
    counter *c = payload;
    c->n++;
    c->fn(problem, c->payload);
}

int pond_oplog__check_listings(int *n_out, const struct ArrowSchema *schema,
                               const struct ArrowArray *batch, const char *file,
                               oplog_listing_fn fn, void *payload)
{
    *n_out = 0;
    int in = column_index(schema, "node_id"), iv = column_index(schema, "version"),
        it = column_index(schema, "file_type"), ie = column_index(schema, "entries");
    if (in < 0 || iv < 0 || it < 0 || ie < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG,
                              "data file '%s': no node_id, version, file_type or entries column",
                              file);
    col cn = {batch->children[in], {0}}, cv = {batch->children[iv], {0}},
        ct = {batch->children[it], {0}}, ce = {batch->children[ie], {0}};
    if (pond_arrow_format_parse(&cn.f, schema->children[in]->format) < 0 || !is_bytes(&cn.f) ||
        pond_arrow_format_parse(&cv.f, schema->children[iv]->format) < 0 || !is_int(&cv.f) ||
        pond_arrow_format_parse(&ct.f, schema->children[it]->format) < 0 || !is_bytes(&ct.f))
        return pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "data file '%s': bad key columns",
                              file);
    int count = 0;
    for (int64_t i = 0; i < batch->length; i++) {
        size_t len;
        pond_entry_type type;
        const char *s = get_bytes(&ct, i, &len);
        if (is_null(&ct, i) || parse_type(&type, s, len) < 0 || type != POND_ENTRY_DIRECTORY ||
            is_null(&ce, i))
            continue; /* the row decoder reports these */
        pond_node_rec *rec = NULL;
        int rc = pond_node_rec_new(&rec);
        if (rc < 0)
            return rc;
        s = get_bytes(&cn, i, &len);
        rec->version = get_i64(&cv, i);
        if (parse_id(&rec->id, s, len) == 0) {
            counter c = {fn, payload, 0};
            rc = decode_entries(rec, schema->children[ie], batch->children[ie], i, file,
                                count_problem, &c);
            count += c.n;
            if (rc < 0 && rc != POND_ENOMEM) { /* the listing cannot even be decoded */
                fn(pond_error_last()->message, payload);
                count++;
                rc = 0;
            }
        }
        pond_node_rec_unref(rec);
        if (rc < 0)
            return rc;
    }
    *n_out = count;
    return 0;
}
