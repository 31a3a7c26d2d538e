/* pond: hooks for tests, fault injection and tracing. Not for applications: they change what
 * every pond call in the process does (they are process-wide and not thread-safe against
 * running calls). The unit tests, the crash harness's CLI (build/pond-test: POND_FAULT,
 * POND_TRACE, docs/reliability.md) and benchmarks use them; the shipped CLI does not. */
#ifndef POND_SYS_TESTING_H
#define POND_SYS_TESTING_H

#include "../common.h"
#include "os.h"

/* ---- allocation ----------------------------------------------------------------------------- */

/** Make the nth allocation through pond_malloc and friends from now fail (1 = the next one);
 *  0 disables. When persistent, every allocation from the nth on fails. */
POND_API void pond_alloc_fail_at(uint64_t n, bool persistent);
/** True if an injected allocation failure has fired since the last fail_at. */
POND_API bool pond_alloc_fail_fired(void);

/* ---- OS calls ------------------------------------------------------------------------------- */

/* Fault injection built into the shim (a test may also install its own table). */
typedef enum {
    POND_FAULT_ERRNO, /* the call fails with the given errno */
    POND_FAULT_SHORT, /* write/read transfers fewer bytes (half, at least 1) */
    POND_FAULT_EINTR, /* the call fails with EINTR */
    POND_FAULT_CRASH  /* _exit(77) before the call runs */
} pond_fault_kind;

/** Fail the nth call (1 = next) of `call` (POND_OS__COUNT = any mutating call) from now.
 *  persistent: every matching call from the nth on fails. n = 0 clears. */
POND_API void pond_os_fault_at(pond_os_call call, uint64_t n, pond_fault_kind kind, int err,
                               bool persistent);
POND_API void pond_os_fault_clear(void);
POND_API bool pond_os_fault_fired(void);
/** Count of calls of each kind made through the shim since the last reset. */
POND_API uint64_t pond_os_calls(pond_os_call call);
POND_API void pond_os_calls_reset(void);

/** Trace hook: called after every mutating call with its outcome (for power-loss replay). */
typedef void (*pond_os_trace_fn)(pond_os_call call, const char *path, const char *path2, int fd,
                                 int64_t off, const void *data, size_t len, long rc, void *payload);
POND_API void pond_os_set_trace(pond_os_trace_fn fn, void *payload);

#endif
