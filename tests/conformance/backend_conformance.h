/* The backend conformance suite: one set of cases every tinyfs backend must pass.
 *
 * A layer's test file registers it once per backend, from a constructor:
 *
 *   static int mem_factory(pond_backend **out, void *payload) { return pond_backend_memory_new(out); }
 *   __attribute__((constructor)) static void reg(void)
 *   { conformance_register("tinyfs_conformance_mem", mem_factory, NULL, NULL); }
 *
 * factory makes a fresh, empty backend (an on-disk one may use PT_TMPDIR(), fresh per test).
 * reopen (may be NULL) frees *be and opens the same storage again, for durability cases; it is
 * called only after the previous backend's fs has been freed. Up to CONFORMANCE_MAX_SLOTS
 * registrations per binary. */
#ifndef POND_TESTS_BACKEND_CONFORMANCE_H
#define POND_TESTS_BACKEND_CONFORMANCE_H

#include <pond/sys/backend.h>

#define CONFORMANCE_MAX_SLOTS 4

typedef int (*conformance_factory_fn)(pond_backend **out, void *payload);
typedef int (*conformance_reopen_fn)(pond_backend **be, void *payload);

void conformance_register(const char *suite_name, conformance_factory_fn factory,
                          conformance_reopen_fn reopen, void *payload);

#endif
