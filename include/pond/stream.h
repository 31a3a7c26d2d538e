/* pond: byte streams — a seekable reader and a writer.
 *
 * Readers are obtained from a filesystem (pond_fs_open_reader) or, for backend authors, built
 * over any random-access source (pond_reader_new in <pond/sys/backend.h>). Writers come from
 * pond_fs_open_writer. A handle is used by one thread at a time; different handles may be used
 * from different threads at once. */
#ifndef POND_STREAM_H
#define POND_STREAM_H

#include "common.h"

typedef struct pond_reader pond_reader;
typedef struct pond_writer pond_writer;

/** Read up to cap bytes at the current position. Short reads are allowed; *n_out == 0 means
 *  end of stream. */
POND_API int pond_reader_read(pond_reader *r, void *buf, size_t cap, size_t *n_out);
/** Read exactly len bytes; POND_EEOF (position unchanged) if the stream ends early. */
POND_API int pond_reader_read_exact(pond_reader *r, void *buf, size_t len);
/** Read up to len bytes at offset off without moving the position; *n_out < len only at the end. */
POND_API int pond_reader_pread(pond_reader *r, void *buf, size_t len, int64_t off, size_t *n_out);
/** Move to an absolute offset in [0, size]; POND_EINVALID otherwise. */
POND_API int pond_reader_seek(pond_reader *r, int64_t off);
POND_API int64_t pond_reader_tell(const pond_reader *r);
/** Total size in bytes (fixed for the life of the reader). */
POND_API int64_t pond_reader_size(const pond_reader *r);
/** NULL is fine. A reader keeps its content alive on its own: it may outlive the fs. */
POND_API void pond_reader_free(pond_reader *r);

/** Append len bytes. All or error; after an error every later call returns the same error. */
POND_API int pond_writer_write(pond_writer *w, const void *buf, size_t len);
/** Publish the content atomically into the open transaction: the file gets its new version
 *  (visible to reads in that transaction, and to everyone once it commits) and the write
 *  protection is released. The writer must still be freed. */
POND_API int pond_writer_finish(pond_writer *w);
/** Drop everything written; the file stays exactly as before; protection is released. */
POND_API void pond_writer_abort(pond_writer *w);
/** Record the event-time range (µs UTC, min <= max) of the version this writer will create;
 *  only for file:series (POND_EINVALID otherwise). A version written without it has none. */
POND_API int pond_writer_set_event_time(pond_writer *w, int64_t min_us, int64_t max_us);
/** Bytes written so far. */
POND_API int64_t pond_writer_size(const pond_writer *w);
/** NULL is fine; an unfinished writer is aborted. */
POND_API void pond_writer_free(pond_writer *w);

#endif
