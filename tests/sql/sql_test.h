/* Fixtures shared by the SQL tests: a pond (memory or on-disk backend) with a SQL handle, the
 * xorshift generator and the time base of the generated series. */
#ifndef POND_TESTS_SQL_TEST_H
#define POND_TESTS_SQL_TEST_H

#include "harness/pt.h"

#include <pond/oplog.h>
#include <pond/sql.h> /* also table.h (whose CSV tail sits outside its include guard) */
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define T0 INT64_C(1704067200000000) /* 2024-01-01T00:00:00Z */
#define STEP INT64_C(1000000)

typedef struct {
    pond_backend *be;
    pond_fs *fs;
    pond_sql *q;
    char dir[4200];
} env;

static inline void env_open(env *e, bool disk)
{
    memset(e, 0, sizeof *e);
    if (disk) {
        static int n; /* several ponds in one test */
        snprintf(e->dir, sizeof e->dir, "%s/pond%d", PT_TMPDIR(), n++);
        PT_ASSERT_OK(pond_oplog_create(e->dir, NULL));
        PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, NULL));
    } else {
        PT_ASSERT_OK(pond_backend_memory_new(&e->be));
    }
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
    PT_ASSERT_OK(pond_sql_open(&e->q, e->fs));
}

static inline void env_close(env *e)
{
    pond_sql_free(e->q);
    pond_fs_free(e->fs);
    pond_backend_free(e->be);
}

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif
