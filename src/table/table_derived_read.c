/* Reads of a stale manual derived node (docs/derived.md): a `--refresh manual` node whose
 * sources changed since its last refresh is computed from its sources for each read, into a
 * scratch in-memory pond (its content spills to an unlinked temporary file past 1 MiB, so
 * memory stays bounded), and read from there with the caller's options, so ranges, columns
 * and the node's dedup rule apply exactly as to the stored rows. Nothing is written to the
 * node's pond: read-only commands never write. */
#include "table/table_internal.h"

#include <errno.h>
#include <string.h>

#define D POND_DOM_TABLE

typedef struct {
    struct ArrowArrayStream in;
    pond_backend *be;
    pond_fs *fs;
    pond_fs_node *node;
} scratch_read;

static void scratch_free(scratch_read *r)
{
    if (r->in.release)
        r->in.release(&r->in);
    pond_fs_node_free(r->node);
    pond_fs_free(r->fs); /* the open transaction is dropped */
    pond_backend_free(r->be);
    pond_free(r);
}

static int sr_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    scratch_read *r = s->private_data;
    return r->in.get_schema(&r->in, out);
}

static int sr_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    scratch_read *r = s->private_data;
    return r->in.get_next(&r->in, out);
}

static const char *sr_error(struct ArrowArrayStream *s)
{
    scratch_read *r = s->private_data;
    return r->in.get_last_error ? r->in.get_last_error(&r->in) : NULL;
}

static void sr_release(struct ArrowArrayStream *s)
{
    scratch_free(s->private_data);
    s->release = NULL;
}

/* A stale node over a stale node is computed in turn: bounded like a refresh chain. */
static _Thread_local int stale_depth;

int pond_table__derived_read_stale(struct ArrowArrayStream *out, bool *computed, pond_fs_node *node,
                                   const pond_table_read_options *ro)
{
    *computed = false;
    bool stale = false;
    pond_stat st;
    int rc = pond_fs_node_stat(&st, node);
    if (rc < 0 || st.type != POND_ENTRY_FILE_SERIES || (ro && ro->file_version))
        return rc == POND_ENOTFOUND ? 0 : rc; /* the read says what is missing */
    if ((rc = pond_derive_stale(&stale, node)) < 0 || !stale)
        return rc;
    if (stale_depth >= 32)
        return pond_error_set(POND_ECORRUPT, D,
                              "%s: stale derived nodes depend on each other in a cycle or a "
                              "chain longer than 32",
                              pond_fs_node_path(node));
    scratch_read *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    stale_depth++;
    rc = pond_backend_memory_new(&r->be);
    if (rc == 0)
        rc = pond_fs_open(&r->fs, r->be, NULL);
    if (rc == 0)
        rc = pond_fs_begin(r->fs, NULL);
    if (rc == 0)
        rc = pond_fs_node_open(&r->node, r->fs, NULL, "/derived", 0);
    if (rc == 0)
        rc = pond_table__derived_compute_into(r->node, node);
    if (rc == 0)
        rc = pond_table__read_open(&r->in, r->node, ro, 0, 0);
    stale_depth--;
    if (rc < 0) {
        scratch_free(r);
        return rc;
    }
    memset(out, 0, sizeof *out);
    out->get_schema = sr_schema;
    out->get_next = sr_next;
    out->get_last_error = sr_error;
    out->release = sr_release;
    out->private_data = r;
    *computed = true;
    return 0;
}
