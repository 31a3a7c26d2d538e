#include <pond/errors.h>

#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSG_CAP 1024

/* Fixed-size thread-local storage: no init, nothing to free, works when malloc fails. */
static _Thread_local char tl_msg[MSG_CAP];
static _Thread_local pond_error tl_err = {0, 0, NULL};
static _Thread_local int tl_os_errno; /* errno of the last error set by pond_error_set_os */

int pond__error_os_errno(void) { return tl_os_errno; }

const char *pond_version(void) { return POND_VERSION_STRING; }

const pond_error *pond_error_last(void)
{
    if (!tl_err.message) {
        tl_msg[0] = '\0';
        tl_err.message = tl_msg;
    }
    return &tl_err;
}

const char *pond_error_name(int code)
{
    switch (code) {
    case POND_OK:
        return "ok";
    case POND_ERROR:
        return "error";
    case POND_ENOTFOUND:
        return "not found";
    case POND_EEXISTS:
        return "exists";
    case POND_EBUSY:
        return "busy";
    case POND_ECONFLICT:
        return "conflict";
    case POND_ECORRUPT:
        return "corrupt";
    case POND_EINVALID:
        return "invalid";
    case POND_EUNSUPPORTED:
        return "unsupported";
    case POND_EIO:
        return "i/o error";
    case POND_ENOMEM:
        return "out of memory";
    case POND_EEOF:
        return "unexpected end of data";
    case POND_ENOTDIR:
        return "not a directory";
    case POND_EISDIR:
        return "is a directory";
    case POND_ENOTEMPTY:
        return "directory not empty";
    case POND_ELOOP:
        return "too many levels of symbolic links";
    case POND_ETXN:
        return "transaction required";
    case POND_ITEROVER:
        return "end of iteration";
    default:
        return "unknown error";
    }
}

__attribute__((format(printf, 3, 0))) static int vset(int code, int domain, const char *fmt,
                                                      va_list ap)
{
    vsnprintf(tl_msg, sizeof tl_msg, fmt, ap);
    tl_os_errno = 0;
    tl_err.code = code;
    tl_err.domain = domain;
    tl_err.message = tl_msg;
    return code;
}

int pond_error_set(int code, int domain, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(code, domain, fmt, ap);
    va_end(ap);
    return code;
}

int pond__errno_of(int rc)
{
    switch (rc) {
    case POND_ENOMEM:
        return ENOMEM;
    case POND_EINVALID:
        return EINVAL;
    case POND_ENOTFOUND:
        return ENOENT;
    case POND_EUNSUPPORTED:
        return ENOTSUP;
    default:
        return EIO;
    }
}

static int code_from_errno(int e)
{
    switch (e) {
    case ENOENT:
        return POND_ENOTFOUND;
    case EEXIST:
        return POND_EEXISTS;
    case ENOMEM:
        return POND_ENOMEM;
    case ENOTDIR:
        return POND_ENOTDIR;
    case EISDIR:
        return POND_EISDIR;
    case ENOTEMPTY:
        return POND_ENOTEMPTY;
    case ELOOP:
        return POND_ELOOP;
    case EWOULDBLOCK:
        return POND_EBUSY;
    case EINVAL:
        return POND_EINVALID;
    default:
        return POND_EIO;
    }
}

int pond_error_set_os(int domain, const char *fmt, ...)
{
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    vset(code_from_errno(e), domain, fmt, ap);
    va_end(ap);
    tl_os_errno = e;
    size_t len = strlen(tl_msg);
    if (len < sizeof tl_msg)
        snprintf(tl_msg + len, sizeof tl_msg - len, ": %s", strerror(e));
    errno = e;
    return tl_err.code;
}

void pond_error_prefix(const char *fmt, ...)
{
    char out[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, sizeof out, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
    const char sep[] = ": ";
    size_t old_len = strlen(tl_msg);
    if (len + 2 < sizeof out) {
        memcpy(out + len, sep, 2);
        len += 2;
        size_t take = old_len < sizeof out - 1 - len ? old_len : sizeof out - 1 - len;
        memcpy(out + len, tl_msg, take);
        len += take;
    }
    out[len] = '\0';
    memcpy(tl_msg, out, len + 1);
    tl_err.message = tl_msg;
}

void pond_error_clear(void)
{
    tl_msg[0] = '\0';
    tl_os_errno = 0;
    tl_err.code = 0;
    tl_err.domain = 0;
    tl_err.message = tl_msg;
}
