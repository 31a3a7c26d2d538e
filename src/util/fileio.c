#define _GNU_SOURCE /* sync_file_range: pond__writeback_hint */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int pond__open(int *fd_out, const char *path, int flags, mode_t mode, int domain)
{
    int fd;
    do {
        fd = pond__os_open(path, flags, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        *fd_out = -1;
        return pond_error_set_os(domain, "open '%s'", path);
    }
    *fd_out = fd;
    return 0;
}

int pond__open_regular(int *fd_out, struct stat *st, const char *path, const char *what, int domain)
{
    int fd, rc;
    if ((rc = pond__open(&fd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, domain)) < 0)
        return rc;
    if (pond__os_fstat(fd, st) < 0)
        rc = pond_error_set_os(domain, "stat '%s'", path);
    else if (!S_ISREG(st->st_mode))
        rc = pond_error_set(POND_EINVALID, domain, "'%s' is %s: %s must be a regular file", path,
                            pond__file_kind(st->st_mode), what);
    if (rc < 0) {
        pond__close(fd);
        *fd_out = -1;
        return rc;
    }
    *fd_out = fd;
    return 0;
}

void pond__close(int fd)
{
    if (fd >= 0)
        (void)pond__os_close(fd);
}

int pond__write_all(int fd, const void *buf, size_t len, const char *path, int domain)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pond__os_write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return pond_error_set_os(domain, "write '%s'", path);
        }
        if (n == 0)
            return pond_error_set(POND_EIO, domain, "write '%s': no progress", path);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int pond__pwrite_all(int fd, const void *buf, size_t len, int64_t off, const char *path, int domain)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pond__os_pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return pond_error_set_os(domain, "write '%s' at offset %lld", path, (long long)off);
        }
        if (n == 0)
            return pond_error_set(POND_EIO, domain, "write '%s': no progress", path);
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

int pond__pread_full(size_t *n_out, int fd, void *buf, size_t len, int64_t off, const char *path,
                     int domain)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pond__os_pread(fd, p + got, len - got, (off_t)(off + (int64_t)got));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *n_out = got;
            return pond_error_set_os(domain, "read '%s' at offset %lld", path,
                                     (long long)(off + (int64_t)got));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *n_out = got;
    return 0;
}

int pond__fsync(int fd, const char *path, int domain)
{
    /* Never retried: after a failed fsync the kernel may have dropped the dirty pages, so a
     * later successful fsync proves nothing about the data. */
    if (pond__os_fsync(fd) < 0)
        return pond_error_set_os(domain, "fsync '%s'", path);
    return 0;
}

void pond__writeback_hint(int fd, int64_t off, int64_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)off;
    (void)len;
#endif
}

void pond__pipe_hint(int fd, size_t bytes)
{
#ifdef F_SETPIPE_SZ
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && bytes <= INT_MAX)
        (void)fcntl(fd, F_SETPIPE_SZ, (int)bytes);
#else
    (void)fd;
    (void)bytes;
#endif
}

int pond__fsync_dir(const char *dir, int domain)
{
    int fd, rc;
    if ((rc = pond__open(&fd, dir, O_RDONLY | O_DIRECTORY, 0, domain)) < 0)
        return rc;
    rc = pond__fsync(fd, dir, domain);
    pond__close(fd);
    return rc;
}

int pond__syncfs(const char *path, int domain)
{
    int fd, rc;
    if ((rc = pond__open(&fd, path, O_RDONLY | O_DIRECTORY, 0, domain)) < 0)
        return rc;
    if (pond__os_syncfs(fd) < 0)
        rc = pond_error_set_os(domain, "sync the file system of '%s'", path);
    pond__close(fd);
    return rc;
}

int pond__fsync_parent(const char *path, int domain)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return pond__fsync_dir(".", domain);
    if (slash == path)
        return pond__fsync_dir("/", domain);
    char *dir = pond_strndup(path, (size_t)(slash - path));
    if (!dir)
        return POND_ENOMEM;
    int rc = pond__fsync_dir(dir, domain);
    pond_free(dir);
    return rc;
}

int pond__mkdir(const char *path, bool exist_ok, int domain)
{
    if (pond__os_mkdir(path, 0777) == 0)
        return 0;
    if (errno == EEXIST && exist_ok) {
        struct stat st;
        if (pond__os_stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    return pond_error_set_os(domain, "mkdir '%s'", path);
}

int pond__mkdir_own(const char *path, bool *created_out, int domain)
{
    if (created_out)
        *created_out = false;
    if (pond__os_mkdir(path, 0777) == 0) {
        if (created_out)
            *created_out = true;
        return 0;
    }
    if (errno != EEXIST)
        return pond_error_set_os(domain, "mkdir '%s'", path);
    struct stat st;
    if (pond__os_lstat(path, &st) != 0)
        return pond_error_set_os(domain, "stat '%s'", path);
    if (!S_ISDIR(st.st_mode))
        return pond_error_set(POND_ECORRUPT, domain,
                              "'%s' is %s: a pond directory must be a real directory", path,
                              pond__file_kind(st.st_mode));
    return 0;
}

int pond__mkdir_p(const char *path, int domain)
{
    char *p = pond_strdup(path);
    if (!p)
        return POND_ENOMEM;
    int rc = 0;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        rc = pond__mkdir(p, true, domain);
        *s = '/';
        if (rc < 0)
            goto done;
    }
    rc = pond__mkdir(p, true, domain);
done:
    pond_free(p);
    return rc;
}

int pond__file_size(int64_t *size_out, int fd, const char *path, int domain)
{
    struct stat st;
    if (pond__os_fstat(fd, &st) < 0)
        return pond_error_set_os(domain, "stat '%s'", path);
    *size_out = (int64_t)st.st_size;
    return 0;
}

/* Reads all of fd (at most max_size bytes) into out; closes fd. */
static int read_fd_all(pond_buf *out, int fd, const char *path, size_t max_size, int domain)
{
    int rc;
    int64_t size;
    if ((rc = pond__file_size(&size, fd, path, domain)) < 0)
        goto done;
    if ((uint64_t)size > max_size) {
        rc = pond_error_set(POND_EINVALID, domain, "'%s' is %lld bytes, over the %zu-byte limit",
                            path, (long long)size, max_size);
        goto done;
    }
    pond_buf_clear(out);
    if ((rc = pond_buf_grow(out, (size_t)size)) < 0)
        goto done;
    size_t n;
    if ((rc = pond__pread_full(&n, fd, out->ptr, (size_t)size, 0, path, domain)) < 0)
        goto done;
    out->size = n;
    out->ptr[n] = '\0';
done:
    pond__close(fd);
    return rc;
}

int pond__read_file(pond_buf *out, const char *path, size_t max_size, int domain)
{
    int fd, rc;
    if ((rc = pond__open_pond_file(&fd, path, domain)) < 0)
        return rc;
    return read_fd_all(out, fd, path, max_size, domain);
}

int pond__read_file_in(pond_buf *out, const char *root, const char *rel, size_t max_size,
                       int domain)
{
    int fd, rc;
    if ((rc = pond__open_pond_file_in(&fd, root, rel, domain)) < 0)
        return rc;
    char *path = pond__path_join(root, rel);
    if (!path) {
        pond__close(fd);
        return POND_ENOMEM;
    }
    rc = read_fd_all(out, fd, path, max_size, domain);
    pond_free(path);
    return rc;
}

int pond__replace_file(const char *path, const char *tmp, const void *data, size_t len, int domain)
{
    int fd = -1;
    int rc = pond__open(&fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644, domain);
    if (rc == 0)
        rc = pond__write_all(fd, data, len, tmp, domain);
    if (rc == 0)
        rc = pond__fsync(fd, tmp, domain);
    pond__close(fd);
    if (rc == 0 && pond__os_rename(tmp, path) < 0)
        rc = pond_error_set_os(domain, "rename '%s' to '%s'", tmp, path);
    if (rc < 0) {
        if (fd >= 0)
            (void)pond__os_unlink(tmp);
        return rc;
    }
    return pond__fsync_parent(path, domain);
}

char *pond__path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    char *p = pond_malloc(dl + 1 + nl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    size_t o = dl;
    if (!(dl == 1 && dir[0] == '/'))
        p[o++] = '/';
    memcpy(p + o, name, nl + 1);
    return p;
}

int64_t pond__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
