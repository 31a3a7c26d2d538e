/* The snapshot structure shared by delta_log.c (replay) and delta_verify.c (not installed). */
#ifndef POND_DELTA_TABLE_H
#define POND_DELTA_TABLE_H

#include "delta/delta_internal.h"

typedef struct {
    pond_delta_file pub; /* pub.deletion_vector stays after a remove (tombstones keep it) */
    const char *dv_key;  /* "" when the file has no deletion vector */
    bool live;
    int64_t added_in;   /* version (or checkpoint) of the last add seen for this path */
    int64_t removed_in; /* version of the last remove, -1 if none */
    int64_t deletion_timestamp;
} delta_file_entry;

typedef struct {
    const char *app_id;
    int64_t version;
} delta_txn;

struct pond_delta_table {
    char *dir;
    delta_arena arena;
    int64_t version;
    int64_t checkpoint_version;
    const char *checkpoint_kind;
    int64_t commits_replayed;

    /* the latest protocol and metaData actions seen during replay (owned references) */
    json_t *protocol_json;
    json_t *metadata_json;
    pond_delta_protocol protocol;
    pond_delta_metadata metadata;
    const char **partition_physical; /* physical name of each partition column */

    delta_file_entry *files;
    size_t n_files, cap_files;
    size_t *slots; /* open addressing over decoded paths: file index + 1, 0 = empty */
    size_t n_slots;
    size_t n_live;

    delta_txn *txns;
    size_t n_txns, cap_txns;

    bool skip_stats;
    bool cp_via_json;    /* Parquet checkpoint adds/removes through jansson values (test oracle) */
    const char *keys[8]; /* interned map keys, most recent first */
    /* problems met and worked around while building the snapshot (arena strings) */
    const char *warnings[4];
    size_t n_warnings;
};

#endif
