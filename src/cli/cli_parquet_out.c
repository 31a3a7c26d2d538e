/* Writing a table or series to a file descriptor, as `pond cat` and `pond copy` both do
 * (through pond_table_output, which `pond serve` uses too). */
#include "cli/cli_format.h"
#include "cli/cli_pond.h"

#include <pond/rows.h>
#include <pond/table.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fd_write(const void *data, size_t len, void *payload)
{
    cli_sink *s = payload;
    const char *p = data;
    while (len) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pond_error_set(POND_EIO, POND_DOM_CLI, "%s: %s", s->name, strerror(errno));
        p += n;
        len -= (size_t)n;
        s->written += n;
    }
    return 0;
}

int cli_table_write(cli_table_out *res, cli_sink *sink, pond_fs_node *node,
                    const pond_table_read_options *ro, const char *format)
{
    pond_output_format fmt = format && !strcmp(format, "parquet")
                                 ? POND_OUTPUT_PARQUET
                                 : (pond_output_format)cli_fmt_of(format);
    pond_output_result r;
    int rc = pond_table_node_output(&r, node, ro, fmt, cli_format_timezone(), fd_write, sink);
    res->rows = r.rows;
    res->versions = r.versions;
    res->bytes = r.bytes;
    return rc;
}
