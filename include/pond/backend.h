/* pond: a backend, the store a pond_fs keeps its node versions in (for users of one).
 *
 * A backend comes from pond_oplog_open (<pond/oplog.h>: a pond directory on disk) or
 * pond_backend_memory_new (below); a pond_fs borrows it (pond_fs_open), so free the fs first.
 * Writing a backend of your own is <pond/sys/backend.h>. */
#ifndef POND_BACKEND_H
#define POND_BACKEND_H

#include "common.h"

typedef struct pond_backend pond_backend;

/** A fresh, empty in-memory backend (supports every op including time travel). Content of
 *  spilled writers stays in its (already unlinked) temporary file, held open until the last
 *  reference goes: large files never sit on the heap. Free with pond_backend_free. */
POND_API int pond_backend_memory_new(pond_backend **out);
/** Frees any backend (its vtable's free). NULL is fine. */
POND_API void pond_backend_free(pond_backend *be);

#endif
