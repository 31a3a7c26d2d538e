#define _GNU_SOURCE /* fallocate(FALLOC_FL_KEEP_SIZE) */
#include "cli/cli_host.h"

#include <pond/errors.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

#define D POND_DOM_CLI

static int os_fail(const char *path, const char *what)
{
    return pond_error_set(POND_ERROR, D, "%s: %s%s%s", path, what, *what ? ": " : "",
                          strerror(errno));
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int fsync_dir(const char *path)
{
    char *dir = dir_of(path);
    if (!dir)
        return pond_error_set(POND_ENOMEM, D, "out of memory");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || fsync(fd) != 0)
        rc = os_fail(dir, "syncing the directory");
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* True when the process can give a file this owner and group. */
static bool can_keep_owner(const struct stat *st)
{
    if (geteuid() == 0)
        return true;
    if (st->st_uid != geteuid())
        return false;
    if (st->st_gid == getegid())
        return true;
    gid_t groups[256];
    int n = getgroups(256, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == st->st_gid)
            return true;
    return false;
}

/* ACLs, security labels, capabilities: a replacement file would not carry them. */
static bool has_xattrs(const char *path)
{
    ssize_t n = llistxattr(path, NULL, 0);
    return n > 0 || (n < 0 && errno != ENOTSUP && errno != ENOSYS);
}

/* A new file beside path, mode 0600 while it is written. Falls back to an unnamed file in
 * $TMPDIR for in-place writes into a directory pond cannot write. */
static int make_temp(cli_host_out *h, bool may_be_elsewhere)
{
    char *dir = dir_of(h->path);
    const char *base = strrchr(h->path, '/') ? strrchr(h->path, '/') + 1 : h->path;
    size_t cap = strlen(h->path) + 64;
    if (!dir || !(h->tmp = malloc(cap))) {
        free(dir);
        return pond_error_set(POND_ENOMEM, D, "out of memory");
    }
    for (int k = 0; k < 1000; k++) {
        snprintf(h->tmp, cap, "%s/.%s.pond-tmp-%d-%d", dir, base, (int)getpid(), k);
        h->fd = open(h->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (h->fd >= 0 || errno != EEXIST)
            break;
    }
    int rc = 0;
    if (h->fd < 0 && may_be_elsewhere && (errno == EACCES || errno == EPERM || errno == EROFS)) {
        const char *t = getenv("TMPDIR");
        h->fd = open(t && *t ? t : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        free(h->tmp);
        h->tmp = NULL;
    }
    int e = errno; /* the caller looks at why */
    if (h->fd < 0 && e == ENOENT)
        rc = pond_error_set(POND_ENOTFOUND, D, "%s: no directory %s", h->path, dir);
    else if (h->fd < 0)
        rc = pond_error_set(POND_ERROR, D, "%s: cannot write a temporary file in %s: %s", h->path,
                            dir, strerror(e));
    free(dir);
    errno = e;
    return rc;
}

static int open_stream(cli_host_out *h)
{
    bool fifo = S_ISFIFO(h->st.st_mode);
    /* O_NONBLOCK: a FIFO nobody reads is an error after a short, bounded wait for its reader
     * (a reader started just before pond, `cat fifo & pond copy ...`, may not have opened it
     * yet), never a wait forever */
    const int wait_ms = 5000, step_ms = 20;
    for (int waited = 0;; waited += step_ms) {
        h->fd = open(h->path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (h->fd >= 0 || !fifo || errno != ENXIO)
            break;
        if (waited >= wait_ms)
            return pond_error_set(POND_ERROR, D,
                                  "%s is a FIFO with no reader (waited %d s): start the reader "
                                  "first",
                                  h->path, wait_ms / 1000);
        struct timespec ts = {0, step_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (h->fd < 0)
        return os_fail(h->path, "");
    struct stat now;
    if (fstat(h->fd, &now) != 0 || (now.st_mode & S_IFMT) != (h->st.st_mode & S_IFMT) ||
        now.st_ino != h->st.st_ino || now.st_dev != h->st.st_dev)
        return pond_error_set(POND_ERROR, D, "%s changed while pond opened it", h->path);
    int fl = fcntl(h->fd, F_GETFL);
    if (fl < 0 || fcntl(h->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        return os_fail(h->path, "");
    h->mode = CLI_HOST_STREAM;
    return 0;
}

/* The destination of an in-place write, opened before anything is written so that a file
 * pond may not write fails first. */
static int open_dest(cli_host_out *h)
{
    h->dest_fd = open(h->path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (h->dest_fd < 0)
        return os_fail(h->path, "");
    struct stat now;
    if (fstat(h->dest_fd, &now) != 0 || !S_ISREG(now.st_mode) || now.st_ino != h->st.st_ino ||
        now.st_dev != h->st.st_dev)
        return pond_error_set(POND_ERROR, D, "%s changed while pond opened it", h->path);
    h->mode = CLI_HOST_INPLACE;
    return 0;
}

int cli_host_out_open(cli_host_out *h, const char *path)
{
    memset(h, 0, sizeof *h);
    h->fd = h->dest_fd = -1;
    if (!(h->path = strdup(path)))
        return pond_error_set(POND_ENOMEM, D, "out of memory");
    int rc = 0;
    if (lstat(path, &h->st) != 0) {
        if (errno != ENOENT)
            rc = os_fail(path, "");
        else if ((rc = make_temp(h, false)) == 0)
            h->mode = CLI_HOST_NEW;
    } else if (S_ISLNK(h->st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        rc = pond_error_set(POND_EINVALID, D,
                            "%s is a symbolic link (to %s): pond does not write through or over "
                            "a link; copy to the target's path, or remove the link",
                            path, target);
    } else if (S_ISDIR(h->st.st_mode)) {
        rc = pond_error_set(POND_EISDIR, D, "%s is a directory", path);
    } else if (S_ISSOCK(h->st.st_mode)) {
        rc = pond_error_set(POND_EINVALID, D,
                            "%s is a socket: pond writes to files, devices and FIFOs", path);
    } else if (!S_ISREG(h->st.st_mode)) {
        rc = open_stream(h);
    } else {
        bool in_place = h->st.st_nlink > 1 || has_xattrs(path) || !can_keep_owner(&h->st);
        h->mode = CLI_HOST_REPLACE;
        if (!in_place && (rc = make_temp(h, false)) < 0 &&
            (errno == EACCES || errno == EPERM || errno == EROFS)) {
            /* a writable file in a directory pond cannot write: in place, as cp would */
            free(h->tmp);
            h->tmp = NULL;
            in_place = true;
            rc = 0;
        }
        if (rc == 0 && in_place && (rc = open_dest(h)) == 0)
            rc = make_temp(h, true);
    }
    if (rc < 0)
        cli_host_out_abort(h);
    return rc;
}

static void release(cli_host_out *h)
{
    if (h->fd >= 0)
        close(h->fd);
    if (h->dest_fd >= 0)
        close(h->dest_fd);
    free(h->tmp);
    free(h->path);
    memset(h, 0, sizeof *h);
    h->fd = h->dest_fd = -1;
}

void cli_host_out_abort(cli_host_out *h)
{
    if (h->tmp)
        unlink(h->tmp);
    release(h);
}

/* Copies the finished temporary file into the destination: space first, reserved without
 * changing the file (a full disk fails before a byte of the old content changes), then the
 * bytes, then the length. */
static int copy_in_place(cli_host_out *h)
{
    off_t size = lseek(h->fd, 0, SEEK_END);
    if (size < 0)
        return os_fail(h->path, "");
    if (size > h->st.st_size && fallocate(h->dest_fd, FALLOC_FL_KEEP_SIZE, 0, size) != 0 &&
        errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
        return os_fail(h->path, "no room for the new content (the file is unchanged)");
    static char buf[1 << 16];
    for (off_t off = 0; off < size;) {
        ssize_t n = pread(h->fd, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return os_fail(h->path, "reading the temporary copy");
        for (ssize_t done = 0; done < n;) {
            ssize_t k = pwrite(h->dest_fd, buf + done, (size_t)(n - done), off + done);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                return os_fail(h->path, "");
            done += k;
        }
        off += n;
    }
    if (ftruncate(h->dest_fd, size) != 0)
        return os_fail(h->path, "");
    /* new content never keeps set-user/group-ID (as a replaced file does not) */
    if ((h->st.st_mode & (S_ISUID | S_ISGID)) && fchmod(h->dest_fd, h->st.st_mode & 0777) != 0)
        return os_fail(h->path, "setting the mode");
    if (fsync(h->dest_fd) != 0)
        return os_fail(h->path, "");
    return 0;
}

int cli_host_out_finish(cli_host_out *h)
{
    int rc = 0;
    if (h->mode == CLI_HOST_STREAM) {
        int fd = h->fd;
        h->fd = -1;
        if (close(fd) != 0 && errno != EINTR)
            rc = os_fail(h->path, "");
        release(h);
        return rc;
    }
    if (h->mode == CLI_HOST_REPLACE && h->dest_fd < 0) {
        struct stat t;
        /* owner and group first (a chown clears set-ID bits), then the mode; when the owner
         * cannot be kept the content goes in place instead */
        if (fstat(h->fd, &t) != 0)
            rc = os_fail(h->tmp, "");
        else if ((t.st_uid != h->st.st_uid || t.st_gid != h->st.st_gid) &&
                 fchown(h->fd, h->st.st_uid, h->st.st_gid) != 0)
            rc = open_dest(h);
        if (rc == 0 && h->mode == CLI_HOST_REPLACE && fchmod(h->fd, h->st.st_mode & 0777) != 0)
            rc = os_fail(h->path, "setting the mode");
    } else if (h->mode == CLI_HOST_NEW) {
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(h->fd, 0666 & ~mask) != 0)
            rc = os_fail(h->path, "setting the mode");
    }
    if (rc == 0 && h->mode == CLI_HOST_INPLACE)
        rc = copy_in_place(h);
    else if (rc == 0 && fsync(h->fd) != 0)
        rc = os_fail(h->path, "");
    if (rc == 0 && h->mode != CLI_HOST_INPLACE) {
        int fd = h->fd;
        h->fd = -1;
        if (close(fd) != 0)
            rc = os_fail(h->path, "");
    }
    if (rc == 0 && h->mode == CLI_HOST_NEW) {
        /* link, not rename: a file that appeared meanwhile is never replaced */
        if (link(h->tmp, h->path) != 0)
            rc = errno == EEXIST ? pond_error_set(POND_EEXISTS, D,
                                                  "%s appeared while pond was writing it; left "
                                                  "as it is",
                                                  h->path)
                                 : os_fail(h->path, "");
        else if (unlink(h->tmp) == 0) {
            free(h->tmp);
            h->tmp = NULL;
        }
    } else if (rc == 0 && h->mode == CLI_HOST_REPLACE) {
        if (rename(h->tmp, h->path) != 0)
            rc = os_fail(h->path, "");
        else {
            free(h->tmp);
            h->tmp = NULL;
        }
    }
    if (rc == 0 && h->mode != CLI_HOST_INPLACE)
        rc = fsync_dir(h->path);
    cli_host_out_abort(h); /* the temporary name (a link to the new file, or a copy) goes */
    return rc;
}
