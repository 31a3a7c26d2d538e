/* Helpers shared by the tinyfs tests. */
#ifndef POND_TESTS_TINYFS_TEST_H
#define POND_TESTS_TINYFS_TEST_H

#include "harness/pt.h"

#include <pond/buf.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <dirent.h>

typedef struct {
    pond_backend *be;
    pond_fs *fs;
} tfs;

/* A memory backend and an fs spilling into the test's temporary directory. */
static inline tfs tfs_open(size_t spill_threshold)
{
    tfs t = {NULL, NULL};
    PT_ASSERT_OK(pond_backend_memory_new(&t.be));
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = spill_threshold;
    o.tmp_dir = PT_TMPDIR();
    PT_ASSERT_OK(pond_fs_open(&t.fs, t.be, &o));
    return t;
}

static inline void tfs_close(tfs *t)
{
    pond_fs_free(t->fs);
    pond_backend_free(t->be);
    t->fs = NULL;
    t->be = NULL;
}

/* Number of entries in the test's temporary directory (spill files would show up here). */
static inline int tmp_entries(void)
{
    DIR *d = opendir(PT_TMPDIR());
    int n = 0;
    struct dirent *e;
    PT_ASSERT(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* The whole content of path, NUL-terminated, in a pond_buf the caller disposes. */
static inline pond_buf read_str(pond_fs *fs, const pond_wd *wd, const char *path)
{
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, wd, path));
    PT_ASSERT_OK(pond_buf_putc(&b, '\0'));
    return b;
}

#define PT_ASSERT_CONTENT(fs, wd, path, want)                                                      \
    do {                                                                                           \
        pond_buf pt_b_ = read_str((fs), (wd), (path));                                             \
        int pt_same_ = strcmp(pt_b_.ptr, (want)) == 0;                                             \
        if (!pt_same_)                                                                             \
            printf("  content of %s: \"%s\"\n", (path), pt_b_.ptr);                                \
        pond_buf_dispose(&pt_b_);                                                                  \
        PT_ASSERT(pt_same_);                                                                       \
    } while (0)

#endif
