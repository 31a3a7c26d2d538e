#include "cli/cli_format.h"

#include <pond/errors.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const pond_tz *display_tz;

void cli_format_set_timezone(const pond_tz *tz) { display_tz = tz; }
const pond_tz *cli_format_timezone(void) { return display_tz; }

int cli_parse_timezone(void *dest, const char *value)
{
    pond_tz **tz = dest, *t = NULL;
    int rc = pond_tz_open(&t, value);
    if (rc < 0)
        return rc;
    pond_tz_free(*tz);
    *tz = t;
    return 0;
}

int cli_parse_timezone_name(void *dest, const char *value)
{
    pond_tz *tz = NULL;
    int rc = pond_tz_open(&tz, value);
    pond_tz_free(tz);
    if (rc == 0)
        *(const char **)dest = value;
    return rc;
}

int cli_file_sink(const void *data, size_t len, void *payload)
{
    if (fwrite(data, 1, len, payload) != len || fflush(payload) != 0)
        return pond_error_set(POND_EIO, POND_DOM_CLI, "writing the output: %s", strerror(errno));
    return 0;
}

cli_fmt cli_fmt_of(const char *name)
{
    if (!name)
        return isatty(fileno(stdout)) ? FMT_TABLE : FMT_CSV;
    return !strcmp(name, "table") ? FMT_TABLE : !strcmp(name, "json") ? FMT_JSON : FMT_CSV;
}
