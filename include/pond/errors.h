/* pond: error codes and the thread-local last-error message.
 *
 * Every fallible function returns 0 on success or a negative POND_E* code, and sets a
 * one-line message (lowercase, with context such as the path or offset) retrievable with
 * pond_error_last() on the same thread until the next failing call. */
#ifndef POND_ERRORS_H
#define POND_ERRORS_H

#include "common.h"

typedef enum {
    POND_OK = 0,
    POND_ERROR = -1,        /* generic failure */
    POND_ENOTFOUND = -3,    /* path, node, version or key does not exist */
    POND_EEXISTS = -4,      /* it already exists */
    POND_EBUSY = -5,        /* a writer holds the file, or a lock is held */
    POND_ECONFLICT = -6,    /* another writer won the commit */
    POND_ECORRUPT = -7,     /* stored or input data fails validation */
    POND_EINVALID = -8,     /* bad argument, bad name, misuse */
    POND_EUNSUPPORTED = -9, /* a valid feature we do not implement */
    POND_EIO = -10,         /* operating system I/O failure */
    POND_ENOMEM = -11,      /* allocation failed */
    POND_EEOF = -12,        /* data ended early */
    POND_ENOTDIR = -13,     /* a path component is not a directory */
    POND_EISDIR = -14,      /* a directory where a file was required */
    POND_ENOTEMPTY = -15,   /* directory not empty */
    POND_ELOOP = -16,       /* too many symlinks */
    POND_ETXN = -17,        /* no transaction, or the wrong one */
    POND_ITEROVER = -31     /* iteration finished (not an error) */
} pond_error_code;

typedef enum {
    POND_DOM_NONE = 0,
    POND_DOM_OS,
    POND_DOM_UTIL,
    POND_DOM_ARROW,
    POND_DOM_PARQUET,
    POND_DOM_CAS,
    POND_DOM_TINYFS,
    POND_DOM_DELTA,
    POND_DOM_OPLOG,
    POND_DOM_TABLE,
    POND_DOM_SQL,
    POND_DOM_CLI,
    POND_DOM_REPL,
    POND_DOM_EXPORT
} pond_error_domain;

typedef struct {
    int code;            /* a pond_error_code */
    int domain;          /* a pond_error_domain */
    const char *message; /* never NULL; thread-local storage */
} pond_error;

/** The last error set on this thread. Never NULL. Meaningful only right after a call
 *  returned a negative code; the message lives until the next error on this thread. */
POND_API const pond_error *pond_error_last(void);

/** A short constant name for a code ("not found", "corrupt", ...). */
POND_API const char *pond_error_name(int code);

/** Set the thread's last error; returns code so callers can `return pond_error_set(...)`. */
POND_API int pond_error_set(int code, int domain, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Like pond_error_set with POND_EIO (or a code mapped from errno: ENOENT -> POND_ENOTFOUND,
 *  EEXIST -> POND_EEXISTS, ENOMEM -> POND_ENOMEM ...) and ": strerror(errno)" appended. */
POND_API int pond_error_set_os(int domain, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Prefix the current message with "<prefix>: " (for adding a path at a higher level). */
POND_API void pond_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Clear the thread's last error. */
POND_API void pond_error_clear(void);

#endif
