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
    /* Directory listings are decoded lazily: a partition loads every row without the
     * `entries` column, then the listings of the latest directory versions only. An older
     * version's listing is read from its file (file_idx) when it is asked for. */
    bool entries_pending;
    int file_idx;
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
/* Fills rec->entries of the directory row (node, version) from a batch that has the node_id,
 * version and entries columns; returns 1 when the row was found in the batch, 0 if not. */
int oplog__decode_entries_for(pond_node_rec *rec, const struct ArrowSchema *schema,
                              const struct ArrowArray *batch, const char *file);
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

/* One data file of a partition. */
typedef struct {
    char *path;      /* relative to the pond dir */
    int64_t txn;     /* the commit that added it */
} ol_file;

/* All versions of one node, oldest first. */
typedef struct {
    oplog_row *rows;
    size_t n, cap;
} ol_node;

typedef struct {
    pond_node_id id;
    ol_file *files;
    size_t n_files, cap_files;
    bool loaded;
    oplog_idmap nodes; /* node id -> ol_node* (rows of this partition) */
} ol_part;

typedef struct oplog_be {
    pond_backend parent; /* must be first */
    char *dir;
    pond_cas *cas;
    int64_t last_txn;
    int64_t as_of;       /* -1 = live */
    int64_t threshold_data, threshold_table;
    char *table_id;
    oplog_idmap parts;   /* part id -> ol_part* */
    oplog_idmap node_part; /* node id -> ol_part* (learned from directory listings) */
    int lock_fd;
    int64_t checkpoint_interval; /* from pond.checkpoint_interval; 0 = default */
} oplog_be;


typedef struct {
    pond_node_id part;
    oplog_row *rows;
    size_t n, cap;
    char *path;        /* relative data file path */
    int64_t size;
    bool written;
} commit_part;

int oplog__part_load(oplog_be *ob, ol_part *p);
/* Appends a data file (path copied) to a partition's file list. */
int oplog__part_add_file(ol_part *p, const char *path, int64_t txn);
/* Loads the pending listings of every directory row of the partition (before rewriting it). */
int oplog__part_load_all_entries(oplog_be *ob, ol_part *p);
void oplog__part_unload(ol_part *p);
/* The node's versions, loading its partition; *out NULL when not found. */
int oplog__find_node(ol_node **out, ol_part **part_out, oplog_be *ob, const pond_node_id *id);
/* Writes cp's rows as a new data file named for txn (cp->path, cp->size set). */
int oplog__write_part_file(oplog_be *ob, commit_part *cp, int64_t txn);
int oplog__stats_json(pond_buf *out, const commit_part *cp);
/* After commit `version`: writes a checkpoint when the interval says so. The commit is durable
 * either way; a failed checkpoint only costs replay time at the next open. */
#define POND_CHECKPOINT_INTERVAL 20
int oplog__maybe_checkpoint(oplog_be *ob, int64_t version);
/* After a commit: merges partitions that reached POND_COMPACT_FILES data files, then writes a
 * checkpoint when due. Failures only cost read time later: they are not reported. */
void oplog__after_commit(oplog_be *ob, int64_t version);
/* Rewrites partitions in one commit (oplog_maint.c): retention (opts may be NULL: keep all),
 * and merging of data files for partitions (only `only`, when given) with >= min_files files. */
int oplog__rewrite(pond_gc_report *out, oplog_be *ob, const pond_gc_options *opts,
                   const pond_node_id *only, size_t min_files);
/* A partition with this many data files is merged into one right after a commit. */
#define POND_COMPACT_FILES 64
/* Re-reads the Delta log at at_version (-1 latest) and rebuilds the partition index. */
int oplog__load_index(oplog_be *ob, int64_t at_version);

#endif
