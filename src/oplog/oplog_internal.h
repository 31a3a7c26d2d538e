/* oplog internals shared by its files. */
#ifndef POND_OPLOG_INTERNAL_H
#define POND_OPLOG_INTERNAL_H

#include <pond/arrow.h>
#include <pond/cas.h>
#include <pond/delta.h>
#include <pond/hash.h>
#include <pond/oplog.h>
#include <pond/parquet.h>
#include <pond/sys/backend.h>

#include "util/util.h"

/* A decoded row: the node version plus what only the oplog knows about it. */
typedef struct {
    pond_node_rec *rec;
    bool in_store;  /* content in the CAS */
    pond_hash root; /* CAS chunk root, when in_store */
    /* Directory listings are decoded lazily: a partition loads every row without the
     * `entries` column, then the listings of the latest directory versions only. An older
     * version's listing is read from its file (file_idx) when it is asked for. */
    bool entries_pending;
    /* Inline content is loaded lazily too: a partition load leaves the `content` column out
     * (it is most of a series' bytes), and a version's bytes are read from its file (file_idx)
     * when it is opened, carried or rewritten (pond_oplog__row_content). */
    bool content_pending;
    int file_idx;
    /* the row's position in that file (-1: unknown), so its content can be read from the one
     * row group holding it (oplog_content.c) */
    int64_t file_row;
    bool gc_drop; /* set by retention's decision pass (oplog_retain.c), meaningless elsewhere */
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

/* Pond formats (pond.format in the Delta metaData configuration, docs/format.md): 1, and 2 (a
 * listing entry may name its child's home partition). New ponds are written in the newest; a
 * format-1 pond is upgraded by the first commit that needs format 2. */
#define OPLOG_FORMAT_MIN 1
#define OPLOG_FORMAT 2
/* The Delta schemaString of the oplog in a format (part_id first). Static storage. */
const char *pond_oplog__schema_string(int format);
/* The Arrow schema of a data file in a format. */
int pond_oplog__arrow_schema(struct ArrowSchema *out, int format);
/* Encodes rows (all of one partition) as one record batch in a format. Inline content is read
 * from each rec's content blob; rows with in_store carry root instead. A listing entry whose
 * child lives in another partition is POND_EUNSUPPORTED in format 1. */
int pond_oplog__encode(struct ArrowArray *out, const oplog_row *rows, size_t n, int format);
/* Decodes a batch read from a data file of partition part into rows appended to *rows. A batch
 * without the entries or the content column (projected away) leaves those pending. */
int pond_oplog__decode(oplog_row **rows, size_t *n, size_t *cap, const struct ArrowSchema *schema,
                       const struct ArrowArray *batch, const pond_node_id *part, const char *file);
/* Fills the pending inline content of rows from a batch with the node_id, version and content
 * columns: lookup names the row a batch row belongs to (NULL: not wanted). With verified (the
 * whole file's SHA-256 was checked against its add action) a row's content is not hashed again;
 * without, it must match the row's sha256. *filled counts the rows filled. */
typedef oplog_row *(*oplog_row_lookup_fn)(const pond_node_id *id, int64_t version, void *payload);
int pond_oplog__decode_content(size_t *filled, const struct ArrowSchema *schema,
                               const struct ArrowArray *batch, const char *file, bool verified,
                               oplog_row_lookup_fn lookup, void *payload);
/* Fills rec->entries of the directory row (node, version) from a batch that has the node_id,
 * version and entries columns; returns 1 when the row was found in the batch, 0 if not. */
int pond_oplog__decode_entries_for(pond_node_rec *rec, const struct ArrowSchema *schema,
                                   const struct ArrowArray *batch, const char *file);
void pond_oplog__row_dispose(oplog_row *row);
/* Every directory listing of a batch read from data file `file`, checked against the listing
 * rules (pond_dir_entries_check, plus NUL bytes inside names): fn gets one message per broken
 * rule, naming the file, row, directory and entry; *n_out counts them. Decoding a row fails on
 * its first broken rule instead (docs/tinyfs.md: fsck reports every one). */
typedef void (*oplog_listing_fn)(const char *problem, void *payload);
int pond_oplog__check_listings(int *n_out, const struct ArrowSchema *schema,
                               const struct ArrowArray *batch, const char *file,
                               oplog_listing_fn fn, void *payload);

/* One data file of a partition. Packed (no padding between the flags): a pond may hold
 * hundreds of thousands of partitions of one file each, so every byte here is a byte per
 * partition (tests/hostile/bigcommit.sh bounds the RSS of such a log). */
typedef struct {
    char *path;   /* relative to the pond dir */
    int64_t txn;  /* the newest transaction in it (from its name) */
    int64_t size; /* from the add action; -1 unknown */
    /* Every row of the file has an event-time range, inside [et_min, et_max] (the add action's
     * OPLOG_TAG_EVENT_TIME, has_et). Without: its rows may hold any event time, or none. */
    int64_t et_min, et_max;
    /* The versions of its rows (of any node) lie in [v_min, v_max] (OPLOG_TAG_VERSIONS,
     * has_vr). Without: unknown. */
    int64_t v_min, v_max;
    int level; /* merge level (from its name): 0 = written by a commit */
    /* rows in it, once it was loaded (0: not known; INT32_MAX: at least that many): only a
     * file of more rows than OL_CONTENT_GROUP_ROWS is worth opening for one row group */
    int32_t n_rows;
    /* Its row groups are verified one by one (OPLOG_TAG_FOOTER, has_footer): footer_sha is the
     * first OL_FOOTER_SHA_BYTES bytes of the SHA-256 of its last footer_len bytes, whose
     * Parquet footer holds each row group's range and SHA-256 (OPLOG_KV_GROUPS). Without: the
     * file is only ever read and hashed whole. 128 bits in memory (the tag keeps all 256):
     * whoever changes the file without the log would need a second preimage of them. */
    int32_t footer_len;
    bool has_sha; /* the add action's tags carry the file's SHA-256 */
    bool has_et;
    bool has_vr;
    bool has_footer;
    pond_hash sha;
    uint8_t footer_sha[16];
} ol_file;
#define OL_FOOTER_SHA_BYTES 16
_Static_assert(sizeof(ol_file) <= 120, "ol_file grew: one per partition (bigcommit.sh's RSS)");
/* n_rows of a file of n rows */
#define OL_FILE_ROWS(n) ((int32_t)((n) < INT32_MAX ? (n) : INT32_MAX))

/* All versions of one node, oldest first. */
typedef struct {
    oplog_row *rows;
    size_t n, cap;
} ol_node;

typedef struct {
    pond_node_id id;
    ol_file *files;
    size_t n_files, cap_files;
    /* Rows are loaded for a suffix of the files, newest first: all of them (loaded), files
     * loaded_from.. (partial), or none. A node's rows in a suffix of the files are a suffix of
     * its versions (files are ordered by transaction and part_put_row refuses a version that
     * does not follow), so its newest version, and any version at or after the oldest one
     * loaded, is answered without the rest (docs/decisions.md, "Partial loads"). */
    bool loaded;
    bool partial;
    size_t loaded_from;
    pond__idmap nodes; /* node id -> ol_node* (rows of this partition) */
    /* One older file's rows read apart (to answer for an old version without loading every
     * file after it), kept for the next question: file side_file, its rows in side->nodes
     * (side->files is p's, borrowed). NULL when none; dropped with the loaded rows and
     * whenever the file list changes other than by an append. */
    struct ol_side *side;
} ol_part;

typedef struct oplog_be {
    pond_backend parent; /* must be first */
    char *dir;
    pond_cas *cas;
    int64_t last_txn;
    int64_t as_of; /* -1 = live */
    int64_t threshold_data, threshold_table;
    char *table_id;
    pond__idmap parts;     /* part id -> ol_part* */
    pond__idmap node_part; /* node id -> ol_part* (learned from directory listings) */
    int lock_fd;
    int64_t checkpoint_interval; /* from pond.checkpoint_interval; 0 = default */
    char *warnings[4];           /* from the first read of the log (pond_oplog_warning) */
    bool warned;
    int64_t snapshot_version; /* the Delta version indexed (the newest when opened) */
    int64_t row_max_txn;      /* -1, or a past view: rows of later transactions are skipped */
    int64_t oldest_complete;  /* OPLOG_CFG_OLDEST_COMPLETE (0 when retention never ran) */
    int64_t dropped_at;       /* OPLOG_CFG_DROPPED_AT, or -1 */
    int format;               /* pond.format of the snapshot: OPLOG_FORMAT_MIN..OPLOG_FORMAT */
    /* The work after a commit (oplog_checkpoint.c): a checkpoint that was due and is missing
     * (it failed, here or in an earlier process) is written at the next commit; the failure of
     * the last commit's merges or checkpoint, for pond_oplog_maintenance_error. */
    bool checkpoint_due;
    char *maint_error;
} oplog_be;

/* The checked downcast every public oplog function starts with: POND_EINVALID, naming fn, when
 * be is not an oplog backend (a memory one, NULL). */
int pond_oplog__of(oplog_be **out, const pond_backend *be, const char *fn);

/* Retention records in metaData.configuration (docs/format.md, "Retention"): the oldest
 * transaction whose state is complete (every node version live then is still kept), and the
 * transaction of the gc that set it. --at an older transaction is refused with both. */
#define OPLOG_CFG_OLDEST_COMPLETE "pond.history.oldest_complete"
#define OPLOG_CFG_DROPPED_AT "pond.history.dropped_at"
/* The pond format (OPLOG_FORMAT_MIN..OPLOG_FORMAT), a decimal string. */
#define OPLOG_CFG_FORMAT "pond.format"

/* The pond format a commit writes: the pond's, or format 2 when the pond is older and the
 * commit records something only format 2 can say, which a format-1 reader would misread
 * (docs/format.md): a listing naming a child's home in another partition (a move across
 * directories), a series' dedup rule or compaction (its rows would be read twice), or the
 * retention keys (retention: history it dropped would read as missing files). Such a commit
 * carries the upgrade: format-2 data files and a metaData action saying format 2. The one
 * place that decides, for ordinary commits (recs) and gc's retention commit. */
int pond_oplog__commit_format(const oplog_be *ob, pond_node_rec *const *recs, size_t n,
                              bool retention);

typedef struct commit_part {
    pond_node_id part;
    oplog_row *rows;
    size_t n, cap;
    char *path; /* relative data file path */
    int64_t size;
    bool written;
    int level;     /* merge level of the file to write (0 for a commit's own file) */
    pond_hash sha; /* SHA-256 of the file written (recorded in the add action's tags) */
    bool unsynced; /* written without fsync: fd is still open (pond_oplog__sync_part_file) */
    int fd;
    int format; /* the pond format to write; 0 = the pond's (ob->format) */
    /* a file of several row groups: its footer's length and SHA-256 (OPLOG_TAG_FOOTER) */
    bool has_footer;
    int64_t footer_len;
    pond_hash footer_sha;
} commit_part;

/* Loads every file of p (what needs a node's whole history: listing versions, retention,
 * rewrites, fsck, time travel). */
int pond_oplog__part_load(oplog_be *ob, ol_part *p);
/* Loads the files from.. of p (at least; more when more are loaded already): a merge of the
 * newest files needs no older ones. */
int pond_oplog__part_load_from(oplog_be *ob, ol_part *p, size_t from);
/* The first file of p whose rows are loaded: 0 when loaded whole, n_files when none. */
size_t pond_oplog__part_start(const ol_part *p);
/* Appends a data file (path copied) to a partition's file list; its level is read from the
 * name. */
int pond_oplog__part_add_file(ol_part *p, const char *path, int64_t txn, int64_t size,
                              const pond_hash *sha, const int64_t *event_time);
/* The add-action tag holding the event-time range of every row of a data file, "<min>,<max>"
 * in µs (docs/format.md): written only when every row has one (series versions with a
 * timestamp column), so a file without it may hold anything. */
#define OPLOG_TAG_EVENT_TIME "pond.event_time"
/* The add-action tag holding the version range of a data file's rows, "<min>,<max>"
 * (docs/format.md): which older file may hold version N of a node. */
#define OPLOG_TAG_VERSIONS "pond.versions"
/* Sets f's footer tag (OPLOG_TAG_FOOTER) from the file cp wrote. */
void pond_oplog__file_set_footer(ol_file *f, const struct commit_part *cp);
/* Sets f's version range from the rows written to it. */
void pond_oplog__file_set_versions(ol_file *f, const oplog_row *rows, size_t n);
/* Drops p's side file (a no-op without one): its file indexes are about to change. */
void pond_oplog__part_drop_side(ol_part *p);
/* The range every one of rows has an event time in (et[0], et[1]); false when one has none. */
bool pond_oplog__rows_event_time(int64_t et[2], const oplog_row *rows, size_t n);
/* The add-action tag holding a data file's SHA-256 (lowercase hex). Every data file pond writes
 * has it; reads and fsck check it, so a flipped bit anywhere in the file is an error, never
 * wrong data (docs/format.md). */
#define OPLOG_TAG_SHA256 "pond.sha256"
/* Reads data file f of a partition whole, checks its size and SHA-256 against the add action,
 * and opens a reader over the bytes (*mem owns them: dispose after freeing the reader). */
int pond_oplog__open_data_file(pond_parquet_reader **out, pond_buf *mem, oplog_be *ob,
                               const ol_file *f, const pond_parquet_read_options *po);
/* The merge level a data file name records: `<txn>-<hex>.parquet` is 0 (a commit's own file),
 * `<txn>-<hex>-l<N>.parquet` is N (a merge of POND_MERGE_FANIN files of level N-1). */
int pond_oplog__file_level(const char *path);
/* Loads the pending listings of the directory rows that live in files from_file.. of p. Each
 * row loaded is appended to *loaded (when not NULL) so the caller can drop it again. */
int pond_oplog__part_load_entries_from(oplog_be *ob, ol_part *p, size_t from_file,
                                       oplog_row ***loaded, size_t *n_loaded);
/* Loads the pending listings of every directory row of the partition (before rewriting it). */
int pond_oplog__part_load_all_entries(oplog_be *ob, ol_part *p);
/* Loads the pending inline content of a row of partition p (a no-op when it is loaded). */
int pond_oplog__row_content(oplog_be *ob, ol_part *p, oplog_row *row);
/* Merged data files have row groups of this many rows, so one row's content is read without
 * the rest of the file (docs/format.md, "Data files"). */
#define OL_CONTENT_GROUP_ROWS 64

/* ---- row groups verified one by one (oplog_groups.c, docs/format.md "Row-group hashes") ---- */

/* The add-action tag of a data file of several row groups: "<bytes>,<sha256 hex>", the
 * SHA-256 of the file's last <bytes> bytes (everything after its last row group: the Parquet
 * footer, its length and the magic). */
#define OPLOG_TAG_FOOTER "pond.footer"
/* The footer's key-value entry listing the row groups: "1;" then per group, in file order,
 * "<offset>,<length>,<version min>,<version max>,<event-time min>,<event-time max>,<sha256>;"
 * (event times "-" when a row has none). The groups' ranges tile the file from offset 4 (after
 * the magic) to the footer. */
#define OPLOG_KV_GROUPS "pond.row_groups"

typedef struct {
    int64_t off, len;
    int64_t v_min, v_max;
    bool has_et;
    int64_t et_min, et_max;
    pond_hash sha;
} ol_group;

/* Formats the OPLOG_KV_GROUPS value of groups (appended to out). */
int pond_oplog__groups_format(pond_buf *out, const ol_group *groups, size_t n);
/* Parses an OPLOG_KV_GROUPS value v of a file with n_rg row groups (groups has room for n_rg)
 * whose footer starts at foot_off: 0 and *n_out == n_rg when it parses and its ranges tile
 * [4, foot_off); -1 and *why (what is wrong, for a message) otherwise. */
int pond_oplog__groups_parse(ol_group *groups, size_t n_rg, size_t *n_out, const char *v,
                             int64_t foot_off, const char **why);

/* A data file read by row groups: the footer verified against the add action's tag, each row
 * group's bytes read and verified against the footer the first time the reader touches them;
 * a read of any other byte fails (ECORRUPT naming the file). */
typedef struct ol_gfile ol_gfile;
/* Opens f (which must have has_footer) with reader options po. */
int pond_oplog__gfile_open(ol_gfile **out, oplog_be *ob, const ol_file *f,
                           const pond_parquet_read_options *po);
void pond_oplog__gfile_free(ol_gfile *g);
pond_parquet_reader *pond_oplog__gfile_reader(ol_gfile *g);
size_t pond_oplog__gfile_n_groups(const ol_gfile *g);
const ol_group *pond_oplog__gfile_group(const ol_gfile *g, size_t i);
/* Reads data file file_idx of p by its row groups, each verified against its footer and each
 * row against its group's entry (a no-op for a file without OPLOG_TAG_FOOTER): fsck. */
int pond_oplog__check_file_groups(oplog_be *ob, ol_part *p, int file_idx);
/* Loads the pending inline content of row (and of the other pending rows of p in the same row
 * group) from the one row group of its file holding it, each checked against its own SHA-256.
 * 0 with the row still pending when the file has one row group or its position is unknown:
 * the caller then reads the file whole. */
int pond_oplog__row_content_group(oplog_be *ob, ol_part *p, oplog_row *row);
oplog_row *pond_oplog__node_version(ol_node *n, int64_t version);
/* Loads the pending inline content of every row of p in files from_file.. (before rewriting
 * them), each file read once; each row loaded is appended to *loaded (when not NULL). With
 * check_each every row's content is hashed against its sha256 even in a file whose SHA-256 was
 * checked (fsck). */
int pond_oplog__part_load_content_from(oplog_be *ob, ol_part *p, size_t from_file, bool check_each,
                                       oplog_row ***loaded, size_t *n_loaded);
void pond_oplog__part_unload(ol_part *p);
/* The node's versions, loading its partition; *out NULL when not found. */
int pond_oplog__find_node(ol_node **out, ol_part **part_out, oplog_be *ob, const pond_node_id *id);
/* Writes cp's rows as a new data file named for txn (cp->path, cp->size, cp->sha set). With
 * sync false the file is left open and unsynced (and its directory entry not yet synced): the
 * caller must call pond_oplog__sync_part_file before publishing a commit that refers to it. */
int pond_oplog__write_part_file(oplog_be *ob, commit_part *cp, int64_t txn, bool sync);
/* fsyncs and closes a file written with sync false, then fsyncs its directory. */
int pond_oplog__sync_part_file(oplog_be *ob, commit_part *cp);
int pond_oplog__stats_json(pond_buf *out, const commit_part *cp);
/* The add-action tag recording cp's SHA-256 (hex is its storage). */
void pond_oplog__sha_tag(char hex[65], pond_delta_kv *tag, const commit_part *cp);
/* The add action of cp's written data file (its partition, statistics and SHA-256 tag) at
 * time_ms; stats is the caller's scratch buffer. */
int pond_oplog__add_part_file(pond_delta_actions *acts, const commit_part *cp, int64_t time_ms,
                              bool data_change, pond_buf *stats);
/* The remove action of data file path ("part_id=<uuid>/...": the partition is read from it),
 * deleted at time_ms. */
int pond_oplog__remove_part_file(pond_delta_actions *acts, const char *path, int64_t time_ms,
                                 bool data_change);
/* After commit `version`: writes a checkpoint when the interval says so, or when an earlier one
 * is missing (checkpoint_due). 0 or the error (the commit is durable either way). */
#define POND_CHECKPOINT_INTERVAL 20
int pond_oplog__maybe_checkpoint(oplog_be *ob, int64_t version);
/* Opens the log at version and writes its classic checkpoint; rewrite: over a damaged one (which
 * the open reads around), else POND_EEXISTS when one is there. */
int pond_oplog__checkpoint_at(const oplog_be *ob, int64_t version, bool rewrite);
/* After a durable commit: merges due and the checkpoint due. Never fails the commit: a
 * failure is kept for pond_oplog_maintenance_error and the work is retried at the next commit
 * (a missed checkpoint is noticed again when a pond is opened). */
void pond_oplog__after_commit(oplog_be *ob, int64_t version);
/* Whether the snapshot's newest checkpoint (-1: none) is a whole interval or more behind. */
bool pond_oplog__checkpoint_missed(const oplog_be *ob, int64_t version, int64_t checkpoint_version);
/* One partition's part of a merge: its files from_file.. (the newest ones) become one file of
 * the given level. */
typedef struct {
    pond_node_id part;
    size_t from_file;
    int level;
} oplog_merge;
/* Rewrites partitions in one commit (oplog_maint.c). With a plan (gc passes NULL): merges the
 * files each entry names, nothing else. Without: drops the versions the retention policy does
 * not keep (opts may be NULL: keep all) and merges all files of every partition that has at
 * least min_files files or lost versions. */
int pond_oplog__rewrite(pond_gc_report *out, oplog_be *ob, const pond_gc_options *opts,
                        const oplog_merge *plan, size_t n_plan, size_t min_files);
/* Tiered merging: when the newest POND_MERGE_FANIN data files of a partition have the same
 * level N, they are merged into one file of level N+1 (and so on up). A partition holds at
 * most FANIN-1 files per level, and every row is rewritten once per level: log(history)
 * times, not once per merge (docs/decisions.md). */
#define POND_MERGE_FANIN 8
/* The large-file write path (oplog_sink.c). The vtable's open_sink: a sink streaming new
 * content into the pond's store. And, at commit, the store reference for a row's large content:
 * a blob this pond's sink stored is checked (and refreshed when old), anything else is streamed
 * into the store. */
/* The large-file store's directory inside a pond. */
#define OPLOG_STORE_NAME "_large_files"

int pond_oplog__open_sink(pond_content_sink **out, pond_backend *be, pond_entry_type type);
int pond_oplog__store_content(pond_cas_ref *ref, oplog_be *ob, const pond_node_rec *r);
/* fsck's check of every file of _delta_log on its own (oplog_repair.c): one "corrupt" line per
 * problem through fn, with what to do about it. */
int pond_oplog__fsck_log(int64_t *problems_out, oplog_be *ob, pond_fsck_fn fn, void *payload);
/* One fsck problem line of kind through fn (NULL: nothing), formatted as printf does. */
void pond_oplog__fsck_say(pond_fsck_fn fn, void *payload, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define FOREACH_PART(ob, p)                                                                        \
    for (size_t pi_ = 0; pi_ < pond__idmap_slots(&(ob)->parts); pi_++)                             \
        for (ol_part *p = pond__idmap_at(&(ob)->parts, pi_, NULL); p; p = NULL)

#define FOREACH_NODE(part, nd)                                                                     \
    for (size_t ni_ = 0; ni_ < pond__idmap_slots(&(part)->nodes); ni_++)                           \
        for (ol_node *nd = pond__idmap_at(&(part)->nodes, ni_, NULL); nd; nd = NULL)

/* A set of strings (oplog_maint.c): add copies; has sorts once, then bisects. */
typedef struct {
    char **v;
    size_t n, cap;
    bool sorted;
} oplog_strs;
int pond_oplog__strs_add(oplog_strs *s, const char *str);
bool pond_oplog__strs_has(oplog_strs *s, const char *str);
void pond_oplog__strs_dispose(oplog_strs *s);

/* Paths of the nodes in the current tree (node id -> "/a/b", pond_malloc strings). A directory
 * reached a second time (a damaged listing that names it twice, or inside its own subtree) is
 * never walked again: with corrupt (fsck) it is one line through corrupt and a partition that
 * cannot be read is skipped (fsck reports it on its own); without (gc, retention) either stops
 * the walk with its error, since a decision on a damaged tree could drop what a read needs. */
typedef void (*oplog_tree_problem_fn)(const char *message, void *payload);
int pond_oplog__tree_paths(pond__idmap *paths, oplog_be *ob, oplog_tree_problem_fn corrupt,
                           void *payload);
void pond_oplog__paths_dispose(pond__idmap *paths);
/* Where the listings of the current tree say each reachable node's versions live (node id ->
 * ol_part*, or OPLOG_NO_PART when the index has no such partition; the root is not in it).
 * Versions of a reachable node in another partition were stranded by a format-1 move. A node
 * listed twice counts where it was first reached (and is walked once). tolerant (fsck): a
 * partition that cannot be read is skipped, not an error. */
extern char pond_oplog__no_part;
#define OPLOG_NO_PART ((void *)&pond_oplog__no_part)
int pond_oplog__tree_homes(pond__idmap *homes, oplog_be *ob, bool tolerant);
/* Retention (oplog_retain.c): drops the versions opts' policy does not keep, in one commit
 * that rewrites only the data files holding dropped rows and records the oldest complete
 * transaction in metaData.configuration; reloads the index. Sets versions_dropped,
 * partitions_rewritten, commit_version and oldest_complete in out. */
int pond_oplog__retain(pond_gc_report *out, oplog_be *ob, const pond_gc_options *opts);

/* The walk of the pond's own directories (oplog_walk.c) for fsck and gc: `_delta_log/`,
 * `part_id=*`, `_host/` and the top level (the store has pond_cas_foreach). Never follows a
 * link. */
typedef enum {
    OPLOG_WALK_DATA,      /* part_id=<id>/<data file name>, a regular file */
    OPLOG_WALK_LOG_TEMP,  /* _delta_log/.tmp-*, a regular file (a writer's or a crashed one's) */
    OPLOG_WALK_HOST_TEMP, /* _host/incoming/<name>, a regular file (a transfer's temp file) */
    OPLOG_WALK_FOREIGN,   /* anything else, never removed */
    OPLOG_WALK_PART_END   /* part_id=<id>/ itself, after its entries (gc removes it if empty) */
} oplog_walk_kind;
typedef struct {
    oplog_walk_kind kind;
    const char *rel;       /* relative to the pond */
    const struct stat *st; /* the entry itself (lstat) */
    bool misplaced;        /* FOREIGN: at a place where pond keeps its own file or directory */
    bool expect_dir;       /* misplaced: pond keeps a directory there */
    pond_dir *dir;         /* the directory holding it (removal goes through it) */
    const char *name;      /* its name in dir */
} oplog_walk_entry;
typedef int (*oplog_walk_fn)(const oplog_walk_entry *e, void *payload);
/* A non-zero return of fn stops the walk and is returned. */
int pond_oplog__walk(oplog_be *ob, oplog_walk_fn fn, void *payload);
/* A pond data file name: <txn:020>-<8 hex>.parquet or ...-l<N>.parquet. */
bool pond_oplog__is_data_file_name(const char *name);
/* One line for fsck and gc: what the foreign entry is and that pond leaves it alone. */
void pond_oplog__describe_foreign(char *out, size_t cap, const oplog_walk_entry *e);
/* Re-reads the Delta log at at_version (-1 latest) and rebuilds the partition index. */
int pond_oplog__load_index(oplog_be *ob, int64_t at_version);
/* pond_oplog_create in a given pond format: OPLOG_FORMAT for every pond pond creates; tests
 * create format-1 ponds with it to check reading and upgrading them. */
int pond_oplog__create(const char *dir, const pond_oplog_create_options *opts, int format);

/* Leases (oplog_repl.c): calls blob(sha, NULL) and file(NULL, path) for every blob and data
 * file a version at or after the oldest live lease refers to, so gc keeps them. */
typedef int (*oplog_lease_keep_fn)(const pond_hash *sha, const char *path, void *payload);
int pond_oplog__lease_keep(oplog_be *ob, oplog_lease_keep_fn blob, oplog_lease_keep_fn file,
                           void *payload);

#endif
