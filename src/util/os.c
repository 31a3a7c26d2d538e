#define _GNU_SOURCE /* syncfs */
#include "util/util.h"

#include <pond/sys/testing.h>

#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <unistd.h>

static int real_open(const char *p, int f, mode_t m) { return open(p, f | O_CLOEXEC, m); }
static int real_openat(int d, const char *p, int f, mode_t m)
{
    return openat(d, p, f | O_CLOEXEC, m);
}

static const pond_os g_real = {
    .open = real_open,
    .close = close,
    .read = read,
    .pread = pread,
    .write = write,
    .pwrite = pwrite,
    .fsync = fsync,
    .ftruncate = ftruncate,
    .rename = rename,
    .link = link,
    .unlink = unlink,
    .mkdir = mkdir,
    .rmdir = rmdir,
    .fstat = fstat,
    .stat = stat,
    .lstat = lstat,
    .opendir = opendir,
    .flock = flock,
    .openat = real_openat,
    .fstatat = fstatat,
    .unlinkat = unlinkat,
    .syncfs = syncfs,
};

static const pond_os *g_os = &g_real;

const pond_os *pond_os_real(void) { return &g_real; }
const pond_os *pond_os_get(void) { return g_os; }
void pond_os_set(const pond_os *os) { g_os = os ? os : &g_real; }

const char *pond_os_call_name(pond_os_call c)
{
    static const char *const names[POND_OS__COUNT + 1] = {
        "open",    "close", "read",   "pread",   "write",    "pwrite", "fsync", "ftruncate",
        "rename",  "link",  "unlink", "mkdir",   "rmdir",    "fstat",  "stat",  "lstat",
        "opendir", "flock", "openat", "fstatat", "unlinkat", "syncfs", "any"};
    return (unsigned)c <= POND_OS__COUNT ? names[c] : "?";
}

/* Fault state. Tests drive it from one thread; the counters are atomic so that
 * multi-threaded tests that do not inject faults still count correctly. */
static _Atomic uint64_t g_calls[POND_OS__COUNT];
static struct {
    pond_os_call call;
    uint64_t remaining; /* 0 = off */
    pond_fault_kind kind;
    int err;
    bool persistent;
    bool fired;
} g_fault;
static pond_os_trace_fn g_trace;
static void *g_trace_payload;

void pond_os_fault_at(pond_os_call call, uint64_t n, pond_fault_kind kind, int err, bool persistent)
{
    g_fault.call = call;
    g_fault.remaining = n;
    g_fault.kind = kind;
    g_fault.err = err;
    g_fault.persistent = persistent;
    g_fault.fired = false;
}

void pond_os_fault_clear(void) { g_fault.remaining = 0; }
bool pond_os_fault_fired(void) { return g_fault.fired; }
uint64_t pond_os_calls(pond_os_call call) { return call < POND_OS__COUNT ? g_calls[call] : 0; }
void pond_os_calls_reset(void)
{
    for (int i = 0; i < POND_OS__COUNT; i++)
        g_calls[i] = 0;
}
void pond_os_set_trace(pond_os_trace_fn fn, void *payload)
{
    g_trace = fn;
    g_trace_payload = payload;
}

static bool is_mutating(pond_os_call c)
{
    switch (c) {
    case POND_OS_WRITE:
    case POND_OS_PWRITE:
    case POND_OS_FSYNC:
    case POND_OS_FTRUNCATE:
    case POND_OS_RENAME:
    case POND_OS_LINK:
    case POND_OS_UNLINK:
    case POND_OS_MKDIR:
    case POND_OS_RMDIR:
    case POND_OS_UNLINKAT:
    case POND_OS_SYNCFS:
        return true;
    default:
        return false;
    }
}

/* Returns the fault to apply to this call, or -1 for none. */
static int take_fault(pond_os_call c)
{
    atomic_fetch_add(&g_calls[c], 1);
    if (g_fault.remaining == 0)
        return -1;
    bool match = g_fault.call == c || (g_fault.call == POND_OS__COUNT && is_mutating(c));
    if (!match)
        return -1;
    if (g_fault.remaining > 1) {
        g_fault.remaining--;
        return -1;
    }
    if (!g_fault.persistent)
        g_fault.remaining = 0;
    g_fault.fired = true;
    if (g_fault.kind == POND_FAULT_CRASH)
        _exit(77);
    return (int)g_fault.kind;
}

static void trace(pond_os_call c, const char *p, const char *p2, int fd, int64_t off,
                  const void *data, size_t len, long rc)
{
    if (g_trace)
        g_trace(c, p, p2, fd, off, data, len, rc, g_trace_payload);
}

#define FAIL_ERRNO(f)                                                                              \
    do {                                                                                           \
        errno = (f) == POND_FAULT_EINTR ? EINTR : g_fault.err;                                     \
        return -1;                                                                                 \
    } while (0)

int pond__os_open(const char *path, int flags, mode_t mode)
{
    int f = take_fault(POND_OS_OPEN);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    int fd = g_os->open(path, flags, mode);
    if (flags & O_CREAT)
        trace(POND_OS_OPEN, path, NULL, fd, flags, NULL, 0, fd);
    return fd;
}

int pond__os_close(int fd)
{
    (void)take_fault(POND_OS_CLOSE); /* close is never failed: a failed close leaks the fd */
    return g_os->close(fd);
}

static size_t shorten(size_t n) { return n > 1 ? n / 2 : n; }

ssize_t pond__os_read(int fd, void *buf, size_t n)
{
    int f = take_fault(POND_OS_READ);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    return g_os->read(fd, buf, f == POND_FAULT_SHORT ? shorten(n) : n);
}

ssize_t pond__os_pread(int fd, void *buf, size_t n, off_t off)
{
    int f = take_fault(POND_OS_PREAD);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    return g_os->pread(fd, buf, f == POND_FAULT_SHORT ? shorten(n) : n, off);
}

ssize_t pond__os_write(int fd, const void *buf, size_t n)
{
    int f = take_fault(POND_OS_WRITE);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    ssize_t rc = g_os->write(fd, buf, f == POND_FAULT_SHORT ? shorten(n) : n);
    trace(POND_OS_WRITE, NULL, NULL, fd, -1, buf, rc > 0 ? (size_t)rc : 0, rc);
    return rc;
}

ssize_t pond__os_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    int f = take_fault(POND_OS_PWRITE);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    ssize_t rc = g_os->pwrite(fd, buf, f == POND_FAULT_SHORT ? shorten(n) : n, off);
    trace(POND_OS_PWRITE, NULL, NULL, fd, off, buf, rc > 0 ? (size_t)rc : 0, rc);
    return rc;
}

int pond__os_fsync(int fd)
{
    int f = take_fault(POND_OS_FSYNC);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    int rc = g_os->fsync(fd);
    trace(POND_OS_FSYNC, NULL, NULL, fd, -1, NULL, 0, rc);
    return rc;
}

int pond__os_syncfs(int fd)
{
    int f = take_fault(POND_OS_SYNCFS);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    int rc = g_os->syncfs ? g_os->syncfs(fd) : syncfs(fd);
    trace(POND_OS_SYNCFS, NULL, NULL, fd, -1, NULL, 0, rc);
    return rc;
}

int pond__os_ftruncate(int fd, off_t len)
{
    int f = take_fault(POND_OS_FTRUNCATE);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    int rc = g_os->ftruncate(fd, len);
    trace(POND_OS_FTRUNCATE, NULL, NULL, fd, len, NULL, 0, rc);
    return rc;
}

#define PATH_CALL(name, CALL, ...)                                                                 \
    int f = take_fault(CALL);                                                                      \
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)                                            \
        FAIL_ERRNO(f);                                                                             \
    int rc = g_os->name(__VA_ARGS__);

int pond__os_rename(const char *from, const char *to)
{
    PATH_CALL(rename, POND_OS_RENAME, from, to)
    trace(POND_OS_RENAME, from, to, -1, -1, NULL, 0, rc);
    return rc;
}

int pond__os_link(const char *from, const char *to)
{
    PATH_CALL(link, POND_OS_LINK, from, to)
    trace(POND_OS_LINK, from, to, -1, -1, NULL, 0, rc);
    return rc;
}

int pond__os_unlink(const char *path)
{
    PATH_CALL(unlink, POND_OS_UNLINK, path)
    trace(POND_OS_UNLINK, path, NULL, -1, -1, NULL, 0, rc);
    return rc;
}

int pond__os_mkdir(const char *path, mode_t mode)
{
    PATH_CALL(mkdir, POND_OS_MKDIR, path, mode)
    trace(POND_OS_MKDIR, path, NULL, -1, -1, NULL, 0, rc);
    return rc;
}

int pond__os_rmdir(const char *path)
{
    PATH_CALL(rmdir, POND_OS_RMDIR, path)
    trace(POND_OS_RMDIR, path, NULL, -1, -1, NULL, 0, rc);
    return rc;
}

int pond__os_fstat(int fd, struct stat *st)
{
    int f = take_fault(POND_OS_FSTAT);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    return g_os->fstat(fd, st);
}

int pond__os_stat(const char *path, struct stat *st)
{
    PATH_CALL(stat, POND_OS_STAT, path, st)
    return rc;
}

int pond__os_lstat(const char *path, struct stat *st)
{
    PATH_CALL(lstat, POND_OS_LSTAT, path, st)
    return rc;
}

DIR *pond__os_opendir(const char *path)
{
    int f = take_fault(POND_OS_OPENDIR);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR) {
        errno = f == POND_FAULT_EINTR ? EINTR : g_fault.err;
        return NULL;
    }
    return g_os->opendir(path);
}

int pond__os_flock(int fd, int op)
{
    int f = take_fault(POND_OS_FLOCK);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    return g_os->flock(fd, op);
}

int pond__os_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    int f = take_fault(POND_OS_OPENAT);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    return g_os->openat(dirfd, path, flags, mode);
}

int pond__os_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    int f = take_fault(POND_OS_FSTATAT);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    return g_os->fstatat(dirfd, path, st, flags);
}

int pond__os_unlinkat(int dirfd, const char *path, int flags)
{
    int f = take_fault(POND_OS_UNLINKAT);
    if (f == POND_FAULT_ERRNO || f == POND_FAULT_EINTR)
        FAIL_ERRNO(f);
    /* the trace names files by absolute path (the power-loss model replays directory entries
     * by name): resolve the directory descriptor before the entry goes */
    char full[4200];
    full[0] = '\0';
    if (g_trace && dirfd != AT_FDCWD) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t k = readlink(link, full, sizeof full - 1);
        full[k > 0 ? (size_t)k : 0] = '\0';
        if (k > 0 && (size_t)k + 1 + strlen(path) < sizeof full) {
            full[k] = '/';
            strcpy(full + k + 1, path);
        } else {
            snprintf(full, sizeof full, "?/%s", path);
        }
    }
    int rc = g_os->unlinkat(dirfd, path, flags);
    trace(POND_OS_UNLINKAT, full[0] ? full : path, NULL, -1, -1, NULL, 0, rc);
    return rc;
}
