/* cas internals shared by the files of src/cas (not installed). */
#ifndef POND_CAS_INTERNAL_H
#define POND_CAS_INTERNAL_H

#include <pond/cas.h>

#include "util/util.h"

#define POND_CAS__TRAILER_SIZE 64
#define POND_CAS__MAGIC "PONDCHK1"
#define POND_CAS__FORMAT_VERSION 1u
/* The reader refuses a group-hash list larger than this (2^21 groups: 512 TiB by default). */
#define POND_CAS__MAX_GROUP_LIST (64u * 1024u * 1024u)

struct pond_cas {
    char *dir;       /* the store directory */
    char *tmp_dir;   /* <dir>/tmp */
    char *lock_path; /* <dir>/.lock */
    char *parent;    /* the directory holding the store, and the store's name in it: reads open */
    char *base;      /* <base>/<ab>/<hex> from <parent> without following any link */
    uint32_t chunk_size;
    uint32_t fanout;
    bool threaded;
};

/* The decoded chunk-table trailer, plus the counts derived from it. */
typedef struct {
    uint32_t chunk_size;
    uint32_t fanout;
    int64_t size;
    pond_hash sha256;
    uint64_t nchunks; /* ceil(size / chunk_size) */
    uint64_t ngroups; /* ceil(nchunks / fanout) */
} pond_cas__trailer;

/* Fills nchunks and ngroups from size, chunk_size and fanout (which must be valid). */
void pond_cas__trailer_counts(pond_cas__trailer *t);
void pond_cas__trailer_encode(uint8_t out[POND_CAS__TRAILER_SIZE], const pond_cas__trailer *t);
/* Decodes and validates a trailer read from the end of a table file of table_size bytes: magic,
 * version, chunk size and fanout ranges, and table_size == 32 * (nchunks + ngroups) + 64.
 * POND_ECORRUPT naming `what` otherwise. */
int pond_cas__trailer_decode(pond_cas__trailer *out, const uint8_t in[POND_CAS__TRAILER_SIZE],
                             uint64_t table_size, const char *what);
/* Validates a whole chunk-table image in memory (every group hash against its chunk hashes) and
 * computes its root. Used by fsck paths and the fuzz target. */
int pond_cas__table_check(pond_hash *root_out, pond_cas__trailer *t_out, const uint8_t *img,
                          size_t len, const char *what);
/* Builds the table image of `data` in memory (the fuzz round trip; tests). */
int pond_cas__table_build(pond_buf *out, pond_hash *root_out, const uint8_t *data, size_t len,
                          uint32_t chunk_size, uint32_t fanout);
/* Offsets inside a table file. */
static inline uint64_t pond_cas__groups_offset(const pond_cas__trailer *t)
{
    return 32u * t->nchunks;
}

/* `<dir>/<ab>/<hex>` and `<dir>/<ab>/<hex>.chunks`, and the fan-out dir `<dir>/<ab>`; any output
 * may be NULL. Fresh strings (pond_free). */
int pond_cas__paths(char **blob_out, char **chunks_out, char **fan_out, const pond_cas *cas,
                    const pond_hash *sha256);
/* Opens blob `hex` (suffix "") or its table (".chunks") for reading: no component below the
 * store's parent may be a link, the file must be regular (never blocks on a FIFO). */
int pond_cas__open_file(int *fd_out, const pond_cas *cas, const char *hex, const char *suffix);
/* tmp/ names a writer uses: <pid>-<n>-<hex>.data|.chunks. Only those are ever removed. */
bool pond_cas__is_temp_name(const char *name);
/* Exclusive flock on <dir>/.lock (created if missing). */
int pond_cas__lock(int *fd_out, pond_cas *cas);
void pond_cas__unlock(int fd);
/* Creates <dir> and <dir>/tmp if missing, fsyncing the parents of what it created. */
int pond_cas__ensure_dirs(pond_cas *cas);
/* mkdir(path) if missing, fsyncing its parent when created. */
int pond_cas__mkdir_durable(const char *path);
/* A unique temp-file stem `<dir>/tmp/<pid>-<n>-<µs>` (the caller appends .data / .chunks). */
int pond_cas__temp_stem(pond_buf *out, const pond_cas *cas);
/* mtime in µs from a stat. */
int64_t pond_cas__mtime_us(const struct stat *st);

#endif
