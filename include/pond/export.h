/* pond: export of tables and series to a host directory, for other engines (docs/export.md).
 *
 * An export writes one source (a table or series of the pond) into one host directory, as a
 * Hive-partitioned Parquet dataset (DIR/year=2024/month=1/part-....parquet; the partition
 * columns live only in the directory names) or as a standard Delta table (protocol 1/2 unless
 * a column type needs a feature; partition columns, per-file stats, a checkpoint every 10
 * commits). Series are partitioned by event time (UTC) of their timestamp column; tables are
 * never partitioned.
 *
 * Incremental: the directory keeps pond's own state (`_pond_export.state`, written by temp +
 * rename) naming every source version it exported (number, SHA-256 of its content, row count,
 * a row digest, the partitions it touched) and every file it wrote. Exporting again reads only
 * versions that are new and writes them as new files; versions that disappeared or changed
 * (a table's new version, a rewritten series) replace the files of the partitions they touched,
 * unless the new versions hold exactly the rows of the old ones (same row digest: a compaction),
 * which rewrites nothing. An export with nothing new writes no file at all. Export reads the
 * pond and never writes to it; in DIR it removes only files its own state lists as written by
 * it, and temporary files in its own `_pond_tmp/` directory.
 *
 * Crash safety: files appear by rename (temporary files live in DIR/_pond_tmp/ and never end
 * in .parquet); a Parquet export publishes through a redo journal (`_pond_export.journal`),
 * removing replaced files before renaming new ones in, so readers never see a row twice or a
 * torn file and the next export completes a killed one; a Delta export is atomic for readers
 * (the commit comes last) and the next export adopts or discards what a killed one left.
 *
 * Errors: negative POND_E* codes with a message naming the source or the host path. */
#ifndef POND_EXPORT_H
#define POND_EXPORT_H

#include "common.h"
#include "tinyfs.h"

typedef enum {
    POND_EXPORT_PARQUET = 0, /* a Hive-partitioned Parquet dataset */
    POND_EXPORT_DELTA = 1    /* a Delta table */
} pond_export_format;

typedef enum {
    POND_EXPORT_PARTITION_DEFAULT = 0, /* year,month for a series; none for a table */
    POND_EXPORT_PARTITION_NONE,
    POND_EXPORT_PARTITION_YEAR,
    POND_EXPORT_PARTITION_MONTH, /* year, month */
    POND_EXPORT_PARTITION_DAY    /* year, month, day */
} pond_export_partition;

/** Parses "none", "year", "year,month" or "year,month,day"; POND_EINVALID otherwise. */
POND_API int pond_export_partition_parse(pond_export_partition *out, const char *text);

typedef struct {
    unsigned version; /* POND_EXPORT_OPTIONS_VERSION */
    pond_export_format format;
    pond_export_partition partition;
    bool has_range; /* series: only rows with event time in [from_us, to_us) */
    int64_t from_us, to_us;
    const char *const *columns; /* projection by name (NULL = all) */
    int n_columns;
    int64_t target_file_bytes; /* a file is closed once it reaches this size (0: 128 MiB) */
    int64_t row_group_rows;    /* rows per Parquet row group (0: 131072) */
    /* called now and then while rows are written (rows and bytes so far for this source);
       may be NULL */
    void (*progress)(const char *source, int64_t rows, int64_t bytes, void *payload);
    /* called with a one-line note when a documented rule applies (a table is not partitioned,
       a file of an earlier export is missing, ...); may be NULL */
    void (*note)(const char *message, void *payload);
    void *payload;
} pond_export_options;
#define POND_EXPORT_OPTIONS_VERSION 1
#define POND_EXPORT_OPTIONS_INIT                                                                   \
    {                                                                                              \
        POND_EXPORT_OPTIONS_VERSION, POND_EXPORT_PARQUET, POND_EXPORT_PARTITION_DEFAULT, false, 0, \
            0, NULL, 0, 0, 0, NULL, NULL, NULL                                                     \
    }

typedef struct {
    bool unchanged;        /* nothing new: no file was written */
    bool full;             /* every earlier file was replaced (first export, changed options,
                                schema or settings) */
    int64_t versions_read; /* source versions read */
    int64_t versions_kept; /* versions already exported (or recognised as the same rows) */
    int64_t rows;          /* rows written */
    int64_t files_written, bytes_written;
    int64_t files_removed; /* files of earlier exports replaced (Delta: remove actions) */
    int64_t files_total;   /* files of this source in DIR afterwards */
    int64_t delta_version; /* the Delta commit written, or -1 */
} pond_export_result;

/** Exports the table or series at path (relative to wd; NULL = root) into the host directory
 *  dir (created with its parents if missing). The fs is only read. Takes an exclusive lock on
 *  dir/_pond_export.lock for the duration (POND_EBUSY when another export holds it). A dir
 *  holding another source's export, or another format, is POND_EINVALID naming both. */
POND_API int pond_export_source(pond_export_result *out, pond_fs *fs, const pond_wd *wd,
                                const char *path, const char *dir, const pond_export_options *opts);

/** The directory a source exports into when several are exported at once: dir joined with the
 *  source's absolute pond path (dir + "/plant/s1"). POND_EINVALID (naming the path) for a
 *  path component an engine would skip as hidden (starting with '_' or '.') or one that looks
 *  like a partition directory (containing '='). Free *out with pond_free. */
POND_API int pond_export_subdir(char **out, const char *dir, const char *pond_path);

#endif
