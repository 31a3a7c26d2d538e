/* pond: the replaceable table of operating-system calls.
 *
 * Every on-disk operation in pond goes through this table, so tests can fail the Nth
 * write/fsync/rename/link, simulate short writes and EINTR, trace mutating calls for
 * power-loss replay, or kill the process at a chosen call (the hooks built in for that are
 * in <pond/sys/testing.h>). */
#ifndef POND_SYS_OS_H
#define POND_SYS_OS_H

#include "../common.h"
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>

typedef enum {
    POND_OS_OPEN,
    POND_OS_CLOSE,
    POND_OS_READ,
    POND_OS_PREAD,
    POND_OS_WRITE,
    POND_OS_PWRITE,
    POND_OS_FSYNC,
    POND_OS_FTRUNCATE,
    POND_OS_RENAME,
    POND_OS_LINK,
    POND_OS_UNLINK,
    POND_OS_MKDIR,
    POND_OS_RMDIR,
    POND_OS_FSTAT,
    POND_OS_STAT,
    POND_OS_LSTAT,
    POND_OS_OPENDIR,
    POND_OS_FLOCK,
    POND_OS_OPENAT, /* relative to a directory descriptor (walks of a pond's directories) */
    POND_OS_FSTATAT,
    POND_OS_UNLINKAT,
    POND_OS_SYNCFS, /* every file and directory of the file system holding fd durable */
    POND_OS__COUNT
} pond_os_call;

typedef struct pond_os {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*read)(int fd, void *buf, size_t n);
    ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
    int (*fsync)(int fd);
    int (*ftruncate)(int fd, off_t len);
    int (*rename)(const char *from, const char *to);
    int (*link)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
    int (*rmdir)(const char *path);
    int (*fstat)(int fd, struct stat *st);
    int (*stat)(const char *path, struct stat *st);
    int (*lstat)(const char *path, struct stat *st);
    DIR *(*opendir)(const char *path);
    int (*flock)(int fd, int op);
    /* Appended in session 4: the *at calls that walks of a pond's own directories use, so a
     * walk never leaves a directory through a symbolic link (docs/decisions.md). */
    int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
    int (*fstatat)(int dirfd, const char *path, struct stat *st, int flags);
    int (*unlinkat)(int dirfd, const char *path, int flags);
    /* Appended for replication batches (docs/replication.md): one sync for a batch of files
     * instead of an fsync each. NULL in a table: the real syncfs(2). */
    int (*syncfs)(int fd);
} pond_os;

/** The table in force (never NULL). */
POND_API const pond_os *pond_os_get(void);
/** Replace the table (NULL restores the real one). Not thread-safe against running calls. */
POND_API void pond_os_set(const pond_os *os);
/** The real system calls. */
POND_API const pond_os *pond_os_real(void);
POND_API const char *pond_os_call_name(pond_os_call c);

#endif
