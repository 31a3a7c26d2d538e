/* Writing a file on the host (copy-out): the one rule every host-side write of pond follows
 * (docs/cli.md, "The host-write rule"; docs/decisions.md).
 *
 * - A missing destination is written to a temporary file beside it (mode 0600 while written),
 *   given mode 0666 minus the umask, fsynced and linked into place: never a partial file, and
 *   never over a file that appeared meanwhile.
 * - An existing regular file is replaced atomically (temporary file, rename) keeping its mode
 *   (without set-user/group-ID), owner and group. When pond cannot keep owner and group, or the
 *   file has extended attributes (ACLs, labels) or more than one hard link, or its directory is
 *   not writable, the new content is first written completely to a temporary file and then
 *   copied into the existing file in place, so its inode, links, owner, mode and attributes
 *   stay.
 * - A character or block device or a FIFO is written into as a stream, as cp does; a FIFO
 *   without a reader is an error, never a hang. Nothing non-regular is ever replaced.
 * - A symbolic link at the destination is refused (pond never writes through or over one);
 *   a socket is refused.
 * Permissions are never loosened. */
#ifndef POND_CLI_HOST_H
#define POND_CLI_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

typedef enum {
    CLI_HOST_NEW,     /* no file there: temp + link */
    CLI_HOST_REPLACE, /* a regular file: temp + rename, mode/owner/group kept */
    CLI_HOST_INPLACE, /* a regular file: temp, then copied into the file */
    CLI_HOST_STREAM,  /* a device or FIFO: written directly */
} cli_host_mode;

typedef struct {
    char *path;
    char *tmp;   /* the temporary file (NEW, REPLACE, INPLACE) */
    int fd;      /* what the caller writes to */
    int dest_fd; /* INPLACE: the destination, opened before anything is written */
    cli_host_mode mode;
    struct stat st; /* the destination as found */
} cli_host_out;

/* Opens path for writing by the rule above. Returns 0, or a pond error with the message set
 * (naming the path and the reason); nothing on the host changed then. */
int cli_host_out_open(cli_host_out *h, const char *path);
/* Publishes what was written (fsync, link/rename/copy). Always releases h. */
int cli_host_out_finish(cli_host_out *h);
/* Drops what was written (the temporary file); the destination stays as it was, except a
 * stream, which has what was already written. NULL-safe on a released h. */
void cli_host_out_abort(cli_host_out *h);

#endif
