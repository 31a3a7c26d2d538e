#include "cli/cli_pond.h"

#include <pond/parquet.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

int cli_write_parquet_fd(int fd, struct ArrowArrayStream *st);

static int fd_write(const void *data, size_t len, void *payload)
{
    int fd = *(int *)payload;
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pond_error_set(POND_EIO, POND_DOM_CLI, "write: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes a stream as one Parquet file to fd (zstd; the stream is consumed, not released). */
int cli_write_parquet_fd(int fd, struct ArrowArrayStream *st)
{
    struct ArrowSchema s = {0};
    int e = st->get_schema(st, &s);
    if (e != 0)
        return pond_error_set(POND_EIO, POND_DOM_CLI, "%s",
                              st->get_last_error(st) ? st->get_last_error(st) : strerror(e));
    pond_parquet_sink sink = {fd_write, NULL, &fd};
    pond_parquet_writer *w = NULL;
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    int rc = pond_parquet_writer_new(&w, &sink, &s, &o);
    while (rc == 0) {
        struct ArrowArray b;
        if ((e = st->get_next(st, &b)) != 0) {
            rc = pond_error_set(POND_EIO, POND_DOM_CLI, "%s",
                                st->get_last_error(st) ? st->get_last_error(st) : strerror(e));
            break;
        }
        if (!b.release)
            break;
        rc = pond_parquet_writer_write(w, &b);
        b.release(&b);
    }
    if (rc == 0)
        rc = pond_parquet_writer_finish(w);
    pond_parquet_writer_free(w);
    s.release(&s);
    return rc;
}
