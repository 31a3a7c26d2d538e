/* Test-only crafting of damaged ponds: a commit whose data file holds one directory row with
 * exactly the listing given, written with pond's own Parquet writer but without the oplog's
 * listing check (which refuses such listings), in pond format 2 (entries of four fields: name,
 * node_id, file_type, part_id) or format 1 (three: no part_id). Used by the oplog unit tests
 * and by tests/tools/pond_craft.c for the hostile-pond suite. */
#ifndef POND_TEST_CRAFT_H
#define POND_TEST_CRAFT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name; /* stored bytes (may hold a NUL) */
    size_t name_len;
    const char *id;      /* 36-char node id text */
    const char *type;    /* "directory", "file:data", ... */
    const char *part_id; /* format 2: the stored part_id text, or NULL for null */
} craft_entry;

/* Commits a new version of directory dir_id (36-char text; its partition is its own id) whose
 * listing is exactly entries[0..n) in the order given, in pond format 2. The version is one
 * above the node's latest (1 if it has none). Returns 0 or a negative pond code (message
 * set). */
int craft_listing(const char *pond_path, const char *dir_id, const craft_entry *entries, size_t n);
/* The same in a given pond format (1: entries without part_id, which must then all be NULL;
 * 2: as craft_listing). */
int craft_listing_format(const char *pond_path, int format, const char *dir_id,
                         const craft_entry *entries, size_t n);

#endif
