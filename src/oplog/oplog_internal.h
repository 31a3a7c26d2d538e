/* oplog internals shared by its files. */
#ifndef POND_OPLOG_INTERNAL_H
#define POND_OPLOG_INTERNAL_H

#include <pond/arrow.h>
#include <pond/cas.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>

#include "util/util.h"

/* A decoded row: the node version plus what only the oplog knows about it. */
typedef struct {
    pond_node_rec *rec;
    bool in_store;   /* content in the CAS */
    pond_hash root;  /* CAS chunk root, when in_store */
} oplog_row;

/* Columns of a data file, in order (docs/format.md). part_id is the partition column and is
 * not stored in the files. */
enum {
    OL_NODE_ID,
    OL_FILE_TYPE,
    OL_VERSION,
    OL_TXN_SEQ,
    OL_TIMESTAMP,
    OL_SIZE,
    OL_SHA256,
    OL_CONTENT,
    OL_BLOB_ROOT,
    OL_SYMLINK_TARGET,
    OL_MIN_EVENT_TIME,
    OL_MAX_EVENT_TIME,
    OL_XATTRS,
    OL_ENTRIES,
    OL_NCOLS
};

/* The Delta schemaString of the oplog (part_id first). Static storage. */
const char *oplog__schema_string(void);
/* The Arrow schema of a data file. */
int oplog__arrow_schema(struct ArrowSchema *out);
/* Encodes rows (all of one partition) as one record batch. Inline content is read from each
 * rec's content blob; rows with in_store carry root instead. */
int oplog__encode(struct ArrowArray *out, const oplog_row *rows, size_t n);
/* Decodes a batch read from a data file of partition part into rows appended to *rows. */
int oplog__decode(oplog_row **rows, size_t *n, size_t *cap, const struct ArrowSchema *schema,
                  const struct ArrowArray *batch, const pond_node_id *part, const char *file);
void oplog__row_dispose(oplog_row *row);

/* A map from 16-byte node ids to pointers (open addressing). */
typedef struct {
    pond_node_id *keys;
    void **vals;
    size_t cap, n;
} oplog_idmap;
void *oplog__idmap_get(const oplog_idmap *m, const pond_node_id *id);
int oplog__idmap_put(oplog_idmap *m, const pond_node_id *id, void *val);
void oplog__idmap_dispose(oplog_idmap *m);

#endif
