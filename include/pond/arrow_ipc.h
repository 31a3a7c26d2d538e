/* pond: the Arrow IPC streaming format (the Arrow columnar format's "encapsulated message"
 * stream: a Schema message, RecordBatch messages, an end-of-stream marker), written from an
 * ArrowArrayStream. What `pond serve` sends for format=arrow; any Arrow library reads it
 * (apache-arrow's RecordBatchReader, pyarrow.ipc.open_stream). Little-endian, metadata V5, no
 * compression, no dictionaries. */
#ifndef POND_ARROW_IPC_H
#define POND_ARROW_IPC_H

#include "arrow.h"
#include "common.h"

/** Where the bytes go: all of data or a negative pond error. */
typedef int (*pond_arrow_ipc_sink_fn)(const void *data, size_t len, void *payload);

/** Writes every batch of st as one IPC stream; st is consumed (released on success and on
 *  failure: docs/api.md, "Streams"). Supports every type of
 *  <pond/arrow.h> but dictionary-encoded ones; a sliced array (offset) is written as its
 *  slice. rows_out (may be NULL): the rows written. A stream error is POND_EIO with the
 *  stream's message; a type IPC cannot carry is POND_EUNSUPPORTED naming the column. */
POND_API int pond_arrow_ipc_write_stream(int64_t *rows_out, struct ArrowArrayStream *st,
                                         pond_arrow_ipc_sink_fn sink, void *payload);

#endif
