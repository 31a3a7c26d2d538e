/* Walking a pond's own directories without ever leaving them: every directory below a walk's
 * start is opened relative to its parent's descriptor with O_NOFOLLOW, every entry is examined
 * with fstatat(AT_SYMLINK_NOFOLLOW) and removed with unlinkat from the same descriptor. A
 * symbolic link (or anything but a directory) where a walk expects a directory is reported,
 * never entered, so a link planted in a pond cannot lead gc or fsck into another tree. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct pond_dir {
    DIR *dir;   /* owns the descriptor */
    int fd;     /* dirfd(dir) */
    char *path; /* for messages */
};

const char *pond__file_kind(mode_t m)
{
    if (S_ISREG(m))
        return "a regular file";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISLNK(m))
        return "a symbolic link";
    return "not a regular file";
}

/* The error for a directory open that failed: a clear "is a symbolic link" (or FIFO, file...)
 * when something else sits where pond keeps a directory, else the OS error. */
static int dir_open_error(int dirfd, const char *name, const char *path, int domain)
{
    int e = errno;
    struct stat st;
    if ((e == ELOOP || e == ENOTDIR) &&
        pond__os_fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
        return pond_error_set(POND_ECORRUPT, domain,
                              "'%s' is %s: a pond directory must be a real directory", path,
                              pond__file_kind(st.st_mode));
    errno = e;
    return pond_error_set_os(domain, "open directory '%s'", path);
}

static int dir_wrap(pond_dir **out, int fd, const char *path)
{
    pond_dir *d = pond_calloc(1, sizeof *d);
    if (d && !(d->path = pond_strdup(path))) {
        pond_free(d);
        d = NULL;
    }
    if (!d) {
        pond__close(fd);
        return POND_ENOMEM;
    }
    if (!(d->dir = fdopendir(fd))) {
        int rc = pond_error_set_os(POND_DOM_UTIL, "open directory '%s'", path);
        pond__close(fd);
        pond_free(d->path);
        pond_free(d);
        return rc;
    }
    d->fd = fd;
    *out = d;
    return 0;
}

int pond__dir_open(pond_dir **out, const char *path, bool follow, int domain)
{
    *out = NULL;
    int flags = O_RDONLY | O_DIRECTORY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
    int fd;
    do {
        fd = pond__os_open(path, flags, 0);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return dir_open_error(AT_FDCWD, path, path, domain);
    return dir_wrap(out, fd, path);
}

int pond__dir_open_at(pond_dir **out, pond_dir *parent, const char *name, int domain)
{
    *out = NULL;
    char *path = pond__path_join(parent->path, name);
    if (!path)
        return POND_ENOMEM;
    int fd, rc;
    do {
        fd = pond__os_openat(parent->fd, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_NOFOLLOW, 0);
    } while (fd < 0 && errno == EINTR);
    rc = fd < 0 ? dir_open_error(parent->fd, name, path, domain) : dir_wrap(out, fd, path);
    pond_free(path);
    return rc;
}

void pond__dir_close(pond_dir *d)
{
    if (!d)
        return;
    closedir(d->dir); /* releases d->fd */
    pond_free(d->path);
    pond_free(d);
}

const char *pond__dir_path(const pond_dir *d) { return d->path; }

int pond__dir_next(pond_dirent *out, pond_dir *d, int domain)
{
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d->dir);
        if (!e) {
            if (errno)
                return pond_error_set_os(domain, "read directory '%s'", d->path);
            return POND_ITEROVER;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (pond__os_fstatat(d->fd, e->d_name, &out->st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* removed since it was listed */
            return pond_error_set_os(domain, "stat '%s/%s'", d->path, e->d_name);
        }
        out->name = e->d_name;
        return 0;
    }
}

int pond__dir_stat(struct stat *out, pond_dir *d, const char *name, int domain)
{
    if (pond__os_fstatat(d->fd, name, out, AT_SYMLINK_NOFOLLOW) < 0)
        return pond_error_set_os(domain, "stat '%s/%s'", d->path, name);
    return 0;
}

int pond__dir_remove_file(pond_dir *d, const char *name, int domain)
{
    struct stat st;
    int rc = pond__dir_stat(&st, d, name, domain);
    if (rc < 0)
        return rc;
    if (!S_ISREG(st.st_mode))
        return pond_error_set(POND_ECORRUPT, domain,
                              "'%s/%s' is %s: pond removes only its own regular files", d->path,
                              name, pond__file_kind(st.st_mode));
    if (pond__os_unlinkat(d->fd, name, 0) < 0)
        return pond_error_set_os(domain, "remove '%s/%s'", d->path, name);
    return 0;
}

int pond__dir_remove_empty(pond_dir *d, const char *name, int domain)
{
    if (pond__os_unlinkat(d->fd, name, AT_REMOVEDIR) == 0)
        return 0;
    if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT)
        return 1;
    return pond_error_set_os(domain, "remove the empty directory '%s/%s'", d->path, name);
}

int pond__dir_fsync(pond_dir *d, int domain) { return pond__fsync(d->fd, d->path, domain); }

/* fd was opened O_NONBLOCK | O_NOFOLLOW: keep it only if it is a regular file. */
static int check_regular(int *fd_out, int fd, const char *path, int domain)
{
    struct stat st;
    int rc;
    if (pond__os_fstat(fd, &st) < 0) {
        rc = pond_error_set_os(domain, "stat '%s'", path);
        pond__close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pond_error_set(POND_ECORRUPT, domain, "'%s' is %s: a pond file must be a regular file",
                            path, pond__file_kind(st.st_mode));
        pond__close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

static int file_open_error(const char *path, int domain)
{
    if (errno == ELOOP)
        return pond_error_set(POND_ECORRUPT, domain,
                              "'%s' is a symbolic link: a pond file must be a regular file", path);
    return pond_error_set_os(domain, "open '%s'", path);
}

int pond__dir_open_file(int *fd_out, pond_dir *d, const char *name, int domain)
{
    *fd_out = -1;
    char *path = pond__path_join(d->path, name);
    if (!path)
        return POND_ENOMEM;
    int fd, rc;
    do {
        fd = pond__os_openat(d->fd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW, 0);
    } while (fd < 0 && errno == EINTR);
    rc = fd < 0 ? file_open_error(path, domain) : check_regular(fd_out, fd, path, domain);
    pond_free(path);
    return rc;
}

int pond__open_pond_file(int *fd_out, const char *path, int domain)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: a pond's own files
     * are never symbolic links (a link could point anywhere outside the pond). */
    int fd;
    *fd_out = -1;
    do {
        fd = pond__os_open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW, 0);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return file_open_error(path, domain);
    return check_regular(fd_out, fd, path, domain);
}

int pond__open_pond_file_in(int *fd_out, const char *root, const char *rel, int domain)
{
    *fd_out = -1;
    char *full = pond__path_join(root, rel);
    if (!full)
        return POND_ENOMEM;
    /* rel is a name from a pond (a log entry, a hash): never absolute, never `.` or `..`,
     * so it cannot climb out of root whatever it says */
    int rc = 0;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            rc = pond_error_set(POND_ECORRUPT, domain, "'%s' is not a path inside the pond", full);
            goto done;
        }
        if (!slash)
            break;
        p = slash + 1;
    }
    pond_dir *d = NULL;
    if ((rc = pond__dir_open(&d, root, true, domain)) < 0)
        goto done;
    char comp[256];
    for (p = rel;;) {
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        size_t n = (size_t)(slash - p);
        if (n >= sizeof comp) {
            rc = pond_error_set(POND_ECORRUPT, domain, "'%s': a name is too long", full);
            break;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        pond_dir *sub = NULL;
        rc = pond__dir_open_at(&sub, d, comp, domain);
        pond__dir_close(d);
        d = sub;
        if (rc < 0)
            break;
        p = slash + 1;
    }
    if (rc == 0)
        rc = pond__dir_open_file(fd_out, d, p, domain);
    pond__dir_close(d);
done:
    pond_free(full);
    return rc;
}

int pond__open_lock_file(int *fd_out, const char *path, int domain)
{
    int fd;
    *fd_out = -1;
    do {
        fd = pond__os_open(path, O_RDWR | O_CREAT | O_NONBLOCK | O_NOFOLLOW, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return file_open_error(path, domain);
    return check_regular(fd_out, fd, path, domain);
}
