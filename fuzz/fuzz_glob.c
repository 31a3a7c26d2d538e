/* Fuzz target: glob patterns, alone and walked over a small tree.
 * Input: "<pattern>\n<name>"; the pattern is compiled as one name pattern and matched against
 * name, then used (up to its first NUL) as a tree pattern. */
#include <pond/alloc.h>
#include <pond/tinyfs.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_cb(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                    void *payload)
{
    size_t *count = payload;
    if (path[0] != '/' || (n && !caps[n - 1]) || !st)
        __builtin_trap();
    return ++*count > 1000;
}

static void walk_tree(const char *pattern)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    size_t count = 0;
    if (pond_backend_memory_new(&be) < 0 || pond_fs_open(&fs, be, NULL) < 0 ||
        pond_fs_begin(fs, NULL) < 0)
        goto done;
    if (pond_fs_mkdir(fs, NULL, "/a/b/c", POND_FS_MKDIR_PARENTS) < 0 ||
        pond_fs_mkdir(fs, NULL, "/x y/\xc3\xa9", POND_FS_MKDIR_PARENTS) < 0 ||
        pond_fs_write_all(fs, NULL, "/a/f.csv", POND_ENTRY_NONE, "1", 1) < 0 ||
        pond_fs_write_all(fs, NULL, "/a/b/g.csv", POND_ENTRY_NONE, "2", 1) < 0 ||
        pond_fs_write_all(fs, NULL, "/a/b/c/[h]", POND_ENTRY_NONE, "3", 1) < 0 ||
        pond_fs_symlink(fs, NULL, "/a", "/a/b/loop") < 0)
        goto done;
    (void)pond_fs_glob(fs, NULL, pattern, count_cb, &count);
done:
    pond_fs_free(fs);
    pond_backend_free(be);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    const char *name = nl ? (const char *)nl + 1 : "";
    size_t nlen = nl ? size - plen - 1 : 0;
    pond_glob_pat *p = NULL;
    if (pond_glob_pat_compile(&p, (const char *)data, plen) == 0) {
        size_t caps[16][2], n = 0;
        if (pond_glob_pat_match(p, name, nlen, caps, 16, &n) == 1) {
            for (size_t i = 0; i < n; i++)
                if (caps[i][0] > caps[i][1] || caps[i][1] > nlen ||
                    (i && caps[i][0] < caps[i - 1][1]))
                    __builtin_trap();
        }
        pond_glob_pat_free(p);
    }
    char *pattern = malloc(plen + 1);
    if (pattern) {
        memcpy(pattern, data, plen);
        pattern[plen] = '\0';
        walk_tree(pattern);
        free(pattern);
    }
    return 0;
}
