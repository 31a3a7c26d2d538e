/* pond: Parquet files, read and written.
 *
 * Callbacks take their `void *payload` last (STYLE.md).
 *
 * Reading. A reader reads from a random-access source (read-at-offset callbacks), so a large file is
 * never loaded whole: the footer first, then one row group's column chunks at a time. Rows
 * come out as Arrow C Data Interface struct arrays, one per row group (never more than one
 * row group's decoded columns are held). Every length, count and offset from the file is
 * checked before use; corrupt input gives POND_ECORRUPT with a message naming the offset or
 * column, valid files using features outside our scope give POND_EUNSUPPORTED (encryption,
 * LZO, external column chunks, a chunk or page larger than max_alloc). */
#ifndef POND_PARQUET_H
#define POND_PARQUET_H

#include "arrow.h"
#include "buf.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A random-access byte source. read_at reads up to len bytes at offset into buf and sets
 *  *n_out (short only at the end of the source); returns 0 or a negative pond code. */
typedef int (*pond_parquet_read_fn)(int64_t offset, void *buf, size_t len, size_t *n_out,
                                    void *payload);
/** Takes all of len bytes or fails with a negative pond code (message set). */
typedef int (*pond_parquet_write_fn)(const void *data, size_t len, void *payload);

typedef struct {
    pond_parquet_read_fn read_at;
    int64_t size; /* total bytes */
    void *payload;
} pond_parquet_source;

typedef struct {
    unsigned version;
    /** Cap on one column chunk, one page and one chunk's decoded values (0 = 1 GiB). Larger
     *  ones fail with POND_EUNSUPPORTED instead of allocating without bound. */
    size_t max_alloc;
    /** Do not verify page CRCs (they are verified when present by default). */
    bool skip_crc;
    /** Projection: top-level field indices (NULL = all), or names (NULL = all). */
    const int *columns;
    int n_columns;
    const char *const *column_names;
    int n_column_names;
    /** INT96 timestamps come out as microseconds ("tsu:", Spark's resolution, covering
     *  years 1..9999 and beyond) unless this asks for nanoseconds ("tsn:", which wrap outside
     *  1677..2262). */
    bool int96_ns;
    /** Split row groups into batches of at most this many rows (0 = one batch per row
     *  group). Slices share the row group's buffers (zero copy); it is freed when the last
     *  slice is released, so memory stays one row group. */
    int64_t max_batch_rows;
    /** Do not use the column/offset index to skip pages (row-group pruning still applies). */
    bool no_page_index;
    /** Threads decoding the projected columns of a row group (the caller's thread is one of
     *  them): 0 = the default (2), 1 = decode on the caller's thread only. Used only with a
     *  source whose read_at may run on several threads at once (open_file and open_memory;
     *  for pond_parquet_reader_open, say so with source_concurrent) and for row groups of at
     *  least 512 KiB; batches are identical whatever the count. */
    int threads;
    /** pond_parquet_reader_open: the source's read_at is safe to call concurrently. */
    bool source_concurrent;
    /** column_names the file does not have are left out of the projection instead of being
     *  an error (a series version written before a column existed). */
    bool skip_missing_names;
    /** Do not verify the page CRCs of a file whose created_by starts with this prefix (NULL:
     *  verify them as skip_crc says). For a caller that verifies every byte it reads against a
     *  stronger hash taken as that writer wrote the file (pond's own versions): the writer
     *  computed each CRC from the bytes the hash covers, so checking it again finds nothing. */
    const char *skip_crc_created_by;
} pond_parquet_read_options;

#define POND_PARQUET_READ_OPTIONS_VERSION 1
/** How pond's writer begins the created_by of every file it writes (then its version). */
#define POND_PARQUET_CREATED_BY_PREFIX "pond version "
#define POND_PARQUET_READ_OPTIONS_INIT                                                             \
    {                                                                                              \
        POND_PARQUET_READ_OPTIONS_VERSION, 0, false, NULL, 0, NULL, 0, false, 0, false, 0, false,  \
            false, NULL                                                                            \
    }

typedef struct pond_parquet_reader pond_parquet_reader;

/** Open over a source (borrowed: it must outlive the reader). Reads and checks the footer
 *  and schema. opts may be NULL. */
POND_API int pond_parquet_reader_open(pond_parquet_reader **out, const pond_parquet_source *src,
                                      const pond_parquet_read_options *opts);
/** Open a host file (through the pond OS shim); the reader owns the descriptor. Anything but
 *  a regular file (a FIFO, a device) is POND_EINVALID at once, never a blocked open. */
POND_API int pond_parquet_reader_open_file(pond_parquet_reader **out, const char *path,
                                           const pond_parquet_read_options *opts);
/** Open over a descriptor the caller opened for reading (a regular file); the reader owns fd
 *  from now on (closed on failure too). path is for messages. */
POND_API int pond_parquet_reader_open_fd(pond_parquet_reader **out, int fd, const char *path,
                                         const pond_parquet_read_options *opts);
/** Open over a memory buffer (borrowed: it must outlive the reader). */
POND_API int pond_parquet_reader_open_memory(pond_parquet_reader **out, const void *buf, size_t len,
                                             const pond_parquet_read_options *opts);
POND_API void pond_parquet_reader_free(pond_parquet_reader *r); /* NULL is fine */

/** The Arrow schema of the batches (a "+s" struct of the projected top-level fields). */
POND_API int pond_parquet_reader_schema(pond_parquet_reader *r, struct ArrowSchema *out);
/** The next batch: a struct array holding the next (unpruned) row group, or the next slice
 *  of it (max_batch_rows). POND_ITEROVER at the end (out is then left released). */
POND_API int pond_parquet_reader_next(pond_parquet_reader *r, struct ArrowArray *out);
/** Start decoding ahead now (a reader with threads > 1 and at least two selected row groups
 *  large enough to pay for it; otherwise nothing): its workers begin on the first selected
 *  row groups before the first pond_parquet_reader_next, while the caller is still busy with
 *  another reader. Call after the prune calls. Optional: next() starts it anyway. */
POND_API int pond_parquet_reader_prefetch(pond_parquet_reader *r);
/** Whether the reader's workers have no row group left to start: every selected one is
 *  delivered, decoded or being decoded (for a reader that decodes alone: none is left to
 *  deliver after the next). The time to open and prefetch the next file. */
POND_API bool pond_parquet_reader_draining(const pond_parquet_reader *r);
/** Read row group i directly (ignores pruning and the iteration position). */
POND_API int pond_parquet_reader_read_row_group(pond_parquet_reader *r, int i,
                                                struct ArrowArray *out);
/** Hand the reader to an ArrowArrayStream (the stream owns and frees it). */
POND_API int pond_parquet_reader_stream(struct ArrowArrayStream *out, pond_parquet_reader *r);

/* ---------------------------------------------------------------- metadata */
POND_API int64_t pond_parquet_reader_num_rows(const pond_parquet_reader *r);
POND_API int pond_parquet_reader_num_row_groups(const pond_parquet_reader *r);
POND_API int64_t pond_parquet_reader_row_group_rows(const pond_parquet_reader *r, int i);
/** Number of leaf columns (column chunks per row group). */
POND_API int pond_parquet_reader_num_leaves(const pond_parquet_reader *r);
/** created_by, or NULL; valid while the reader lives. */
POND_API const char *pond_parquet_reader_created_by(const pond_parquet_reader *r);
/** Key/value metadata of the file: count, and entry i (value NULL when absent); borrowed. */
POND_API int pond_parquet_reader_kv_count(const pond_parquet_reader *r);
POND_API int pond_parquet_reader_kv(const pond_parquet_reader *r, int i, const char **key,
                                    const char **value);
/** Warnings about the file that did not stop the reader. Today these are footer fields whose
 *  wire type differs from the one the Parquet schema gives, where decoding does not depend on
 *  them (statistics, key-value metadata, index offsets and lengths, bloom filter fields,
 *  field ids, sorting columns, column orders, created_by): as Thrift does for such a field,
 *  the reader skips it, so the file reads as if it were absent. A mistyped required field, or
 *  one decoding depends on, is an error instead (POND_ECORRUPT naming the field).
 *  One warning per kind of skipped field (struct, field, wire type), giving its count and the
 *  file offset of the first: "footer: column metadata field 'statistics' (12) has wire type
 *  list, expected struct; skipped at offset 1234". At most 25 lines (24 kinds, then one
 *  line counting the rest). count: how many; warning(i): line i, or NULL when i is out of
 *  range. Borrowed: valid while the reader lives. */
POND_API int pond_parquet_reader_warning_count(const pond_parquet_reader *r);
POND_API const char *pond_parquet_reader_warning(const pond_parquet_reader *r, int i);
/** A readable description: warnings, schema, row groups, column chunks (encodings, codec,
 *  sizes, statistics). */
POND_API int pond_parquet_reader_describe(pond_buf *out, pond_parquet_reader *r);

/* ---------------------------------------------------------------- pruning */

/** Skip row groups whose statistics prove no value of top-level column `column` lies in
 *  [lo, hi] (an INT32/INT64-based column: ints, dates, times, timestamps in their stored
 *  unit). Calls accumulate (AND). Row groups without statistics are kept. POND_ENOTFOUND for
 *  an unknown column, POND_EINVALID for a non-integer one. Call before the first
 *  pond_parquet_reader_next (row groups may already be decoded ahead after it).
 *
 *  Page pruning: when the file has a column index and offset index for `column`, pond_parquet_
 *  reader_next also drops the pages of that column whose min/max cannot meet the range (and
 *  all-null pages) and returns only the rows of the remaining pages, reading and decoding only
 *  the pages of each projected column that hold those rows (plus dictionary pages). Batches
 *  are then a superset of the matching rows, in file order, which the caller filters, as with
 *  row-group pruning. Applies when every projected column is flat (no lists or maps); files
 *  or chunks without a usable page index read whole row groups. Up to 8 predicates take part
 *  in page pruning (later ones still prune row groups). */
POND_API int pond_parquet_reader_prune_int(pond_parquet_reader *r, const char *column, int64_t lo,
                                           int64_t hi);
/** The same for FLOAT/DOUBLE columns (NaN bounds keep the row group). */
POND_API int pond_parquet_reader_prune_double(pond_parquet_reader *r, const char *column, double lo,
                                              double hi);
/** Whether row group i will be read by pond_parquet_reader_next. */
POND_API bool pond_parquet_reader_row_group_selected(const pond_parquet_reader *r, int i);

/* ---------------------------------------------------------------- canonical dump */

/** Write every row in the canonical text form (canon-v1) through `write`, one batch at a
 *  time; *rows_out gets the row count (may be NULL). */
POND_API int pond_parquet_dump(pond_parquet_reader *r, pond_parquet_write_fn write, void *payload,
                               int64_t *rows_out);

/* ---------------------------------------------------------------- writer */

/* The Parquet writer: Arrow C Data record batches in, one Parquet file out through a sink.
 *
 *   pond_parquet_writer *w;
 *   pond_parquet_writer_options opts = POND_PARQUET_WRITER_OPTIONS_INIT;
 *   pond_parquet_writer_new(&w, &sink, schema, &opts);     // schema: a struct ("+s") schema
 *   pond_parquet_writer_write(w, batch);                   // any number of times
 *   pond_parquet_writer_finish(w);                         // footer + sink sync
 *   pond_parquet_writer_free(w);
 *
 * Memory stays bounded by one row group of encoded (compressed) pages plus one page per
 * column. Errors are sticky: after a failed call every later call returns the same code. */

/** Where the bytes go. `write` must write all of len or fail (negative pond code, message
 *  set); `sync` (may be NULL) makes what was written durable and runs once, at finish. */
/** The threads a Parquet writer (and pond's reads of a version's file) use when their options
 *  say 0; the pond CLI's `--threads` default. */
#define POND_PARQUET_THREADS_DEFAULT 2

typedef struct pond_parquet_sink {
    pond_parquet_write_fn write;
    int (*sync)(void *payload);
    void *payload;
} pond_parquet_sink;

/** A sink writing a host file (created or truncated, mode 0644) through the pond OS shim;
 *  `sync` fsyncs the file. Close it with pond_parquet_file_sink_close (also after errors). */
POND_API int pond_parquet_file_sink_open(pond_parquet_sink *out, const char *path);
/** Closes the file and frees the payload; the sink is zeroed. Fine on a zeroed sink. */
POND_API int pond_parquet_file_sink_close(pond_parquet_sink *sink);

/** Compression codecs the writer supports (values are Parquet's CompressionCodec). */
typedef enum {
    POND_PARQUET_COMPRESS_NONE = 0,
    POND_PARQUET_COMPRESS_SNAPPY = 1,
    POND_PARQUET_COMPRESS_GZIP = 2,
    POND_PARQUET_COMPRESS_ZSTD = 6,
    POND_PARQUET_COMPRESS_LZ4_RAW = 7
} pond_parquet_compression;

typedef struct {
    unsigned version;                     /* POND_PARQUET_WRITER_OPTIONS_VERSION */
    pond_parquet_compression compression; /* default ZSTD */
    int compression_level;                /* 0 = codec default (zstd 3, gzip 6) */
    int64_t row_group_rows;               /* max rows per row group (default 131,072) */
    size_t row_group_bytes;               /* max encoded bytes per row group (default 128 MiB) */
    size_t page_bytes;                    /* target uncompressed page size (default 1 MiB) */
    size_t dictionary_bytes;              /* dictionary size limit before falling back to
                                             plain; 0 disables dictionaries (default 1 MiB) */
    bool page_crc;                        /* write CRC-32 of each page (default true) */
    bool statistics;                      /* min/max/null count per chunk (default true) */
    bool page_index;                      /* column index + offset index (default true) */
    size_t max_statistics_bytes;          /* longer binary min/max are omitted (default 4096) */
    /* key-value metadata written to the footer (copied at writer_new) */
    const char *const *kv_keys;
    const char *const *kv_values; /* entries may be NULL (no value) */
    int n_kv;
    /* threads encoding and compressing column chunks, the caller's among them: 0 = the
     * default (POND_PARQUET_THREADS_DEFAULT), 1 = the caller's thread only, at most 64. Columns are encoded in parallel
     * for each batch slice of at least 256 KiB of input, and the file is byte-identical
     * whatever the count. */
    int threads;
    /* version 2. Values a dictionary does not hold (the dictionary did not pay for itself,
     * filled up, or is disabled) are written PLAIN unless these choose another encoding. */
    /* INT32/INT64 columns (timestamps, dates, times, decimals stored as integers):
     * DELTA_BINARY_PACKED (default true; false = PLAIN). Every current Parquet reader
     * decodes it (docs/parquet.md) and it is smaller and faster to decompress. */
    bool delta_ints;
    /* FLOAT/DOUBLE columns: BYTE_STREAM_SPLIT (default false = PLAIN). Smaller and much
     * faster to read under zstd, but Spark's vectorized reader does not read it
     * (docs/decisions.md), so it is asked for explicitly. */
    bool split_floats;
    /* version 3. A column chunk whose codec shrinks its first data pages (those until their
     * bodies reach 192 KiB, or the whole chunk when smaller) by less than 1/8 is stored
     * UNCOMPRESSED, and the rest of the chunk is not compressed either
     * (ColumnMetaData.codec is per chunk, and every Parquet reader takes a file mixing codecs;
     * docs/parquet-writer.md). Default true; false writes every chunk with `compression`. */
    bool adaptive_codec;
} pond_parquet_writer_options;

/* A version-1 struct ends before delta_ints, a version-2 one before adaptive_codec; they get
 * those fields' defaults (true). */
#define POND_PARQUET_WRITER_OPTIONS_VERSION 3
#define POND_PARQUET_WRITER_OPTIONS_INIT                                                           \
    {                                                                                              \
        POND_PARQUET_WRITER_OPTIONS_VERSION, POND_PARQUET_COMPRESS_ZSTD, 0, 131072,                \
            (size_t)128 << 20, (size_t)1 << 20, (size_t)1 << 20, true, true, true, 4096, NULL,     \
            NULL, 0, 0, true, false, true                                                          \
    }

typedef struct pond_parquet_writer pond_parquet_writer;

/** Start a file. `schema` must be a struct ("+s") whose children are the columns; it is
 *  copied (the caller keeps ownership). `sink` is copied; its payload must outlive the writer.
 *  Supported column types: bool, int8..64, uint8..64, float16/32/64, utf8, large utf8, binary,
 *  large binary, fixed-size binary, decimal128, date32, time32/64, timestamp (any unit, with or
 *  without timezone), and struct / list / large list / map of these, to any depth (<= 32).
 *  Others are POND_EUNSUPPORTED naming the column. The magic "PAR1" is written here. */
POND_API int pond_parquet_writer_new(pond_parquet_writer **out, const pond_parquet_sink *sink,
                                     const struct ArrowSchema *schema,
                                     const pond_parquet_writer_options *opts);
/** Append one record batch (a struct array matching the schema). The batch is only read: the
 *  caller still owns and releases it. POND_EINVALID/POND_ECORRUPT if it does not validate. */
POND_API int pond_parquet_writer_write(pond_parquet_writer *w, const struct ArrowArray *batch);
/** End the current row group now (nothing buffered: a no-op). The next rows start a new one;
 *  what was written so far, up to the writer's position, is every row group's bytes. */
POND_API int pond_parquet_writer_flush(pond_parquet_writer *w);
/** Row groups written so far (flushed). */
POND_API int pond_parquet_writer_num_row_groups(const pond_parquet_writer *w);
/** Adds one key-value pair to the footer (key and value copied; value may be NULL), after
 *  those of the options; before finish. */
POND_API int pond_parquet_writer_add_kv(pond_parquet_writer *w, const char *key, const char *value);
/** Flush the last row group, write page indexes and the footer, then sync the sink. */
POND_API int pond_parquet_writer_finish(pond_parquet_writer *w);
/** Rows written so far (including buffered rows). */
POND_API int64_t pond_parquet_writer_rows(const pond_parquet_writer *w);
/** Free the writer (an unfinished file is left incomplete in the sink). NULL is fine. */
POND_API void pond_parquet_writer_free(pond_parquet_writer *w);

/** Convenience: write batches to a host file, fsynced; on failure the file is removed
 *  (atomic publish, e.g. write to a temp name then rename, is the caller's). */
POND_API int pond_parquet_write_file(const char *path, const struct ArrowSchema *schema,
                                     const struct ArrowArray *const *batches, size_t n_batches,
                                     const pond_parquet_writer_options *opts);

#ifdef __cplusplus
}
#endif

#endif
