/* Fuzz target: the time parsers (docs/time.md). The first byte picks the parser when it is
 * below 8, else the whole input is a --from/--to argument:
 *   1: "FORMAT\nVALUE" through a --time-format reader, in UTC and in a rule-only zone;
 *   2: a TZif file (RFC 8536);
 *   3: a POSIX TZ rule string (the footer of a TZif file).
 * Whatever parses must format and parse back to the same instant. */
#include <pond/errors.h>
#include <pond/timefmt.h>

#include "util/time_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIN_US (-62135596800000000LL + 2 * 86400000000LL) /* 0001-01-03: room for offsets */
#define MAX_US (253402300799000000LL - 2 * 86400000000LL)

/* A TZif v2 file with no transitions and rule as its footer. */
static size_t rule_tzif(uint8_t *buf, size_t cap, const uint8_t *rule, size_t len)
{
    size_t n = 0;
    if (cap < 2 * 54 + len + 2)
        return 0;
    for (int part = 0; part < 2; part++) {
        memset(buf + n, 0, 44);
        memcpy(buf + n, "TZif2", 5);
        buf[n + 39] = 1; /* one local time type */
        buf[n + 43] = 4; /* four bytes of names */
        n += 44;
        memset(buf + n, 0, 6);
        n += 6;
        memcpy(buf + n, "UTC", 4);
        n += 4;
    }
    buf[n++] = '\n';
    memcpy(buf + n, rule, len);
    n += len;
    buf[n++] = '\n';
    return n;
}

static void check_zone(const pond_tz *tz)
{
    static const int64_t probes[] = {
        -4102444800LL, 0, 951782400LL, 1711846800LL, 1729990800LL, 4102444800LL, 32503680000LL};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int32_t off = pond_tz_offset(tz, probes[i]);
        if (off < -93599 || off > 93599)
            abort();
        int64_t utc;
        if (pond_tz_to_utc(&utc, tz, probes[i]) == 0 && pond_tz_offset(tz, utc) != probes[i] - utc)
            abort();
        if (off % 60 || off <= -86400 || off >= 86400)
            continue; /* local mean time (+00:53:28) and POSIX rules past 23:59 print, but
                         ISO-8601 offsets read only whole minutes within a day */
        char out[40];
        size_t n = pond_time_format_iso_tz(out, probes[i] * 1000000, tz);
        int64_t back;
        if (pond_time_parse_arg(&back, out, n, NULL) != 0 || back != probes[i] * 1000000)
            abort();
    }
}

static void read_value(const char *fmt, const char *value, size_t vlen, const pond_tz *tz)
{
    pond_time_reader *r = NULL;
    const char *f[] = {fmt};
    if (pond_time_reader_new(&r, f, 1, tz) < 0)
        return;
    for (unsigned flags = 0; flags < 8; flags++) {
        int64_t us;
        if (pond_time_reader_parse(&us, r, value, vlen, flags) != 0 || (flags & POND_TIME_SYNTAX))
            continue;
        if (us < MIN_US || us > MAX_US)
            continue;
        int32_t off = pond_tz_offset(tz, us / 1000000 - (us % 1000000 < 0));
        if (off % 60 || off <= -86400 || off >= 86400)
            continue;
        char out[40];
        size_t n = pond_time_format_iso_tz(out, us, tz);
        int64_t back;
        if (pond_time_parse_arg(&back, out, n, NULL) != 0 || back != us)
            abort();
    }
    pond_time_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] < 8) {
        uint8_t mode = data[0];
        data++;
        size--;
        if (mode == 1) {
            const uint8_t *nl = memchr(data, '\n', size);
            if (!nl || (size_t)(nl - data) > 200)
                return 0;
            char fmt[201];
            memcpy(fmt, data, (size_t)(nl - data));
            fmt[nl - data] = '\0';
            const char *value = (const char *)nl + 1;
            size_t vlen = size - (size_t)(nl - data) - 1;
            read_value(fmt, value, vlen, NULL);
            static const char rule[] = "CET-1CEST,M3.5.0,M10.5.0/3";
            uint8_t buf[256];
            size_t n = rule_tzif(buf, sizeof buf, (const uint8_t *)rule, sizeof rule - 1);
            pond_tz *tz = NULL;
            if (pond_tz_from_tzif(&tz, "fuzz", buf, n) != 0)
                abort();
            read_value(fmt, value, vlen, tz);
            pond_tz_free(tz);
        } else if (mode == 2 || mode == 3) {
            pond_tz *tz = NULL;
            int rc;
            if (mode == 2) {
                rc = pond_tz_from_tzif(&tz, "fuzz", data, size);
            } else {
                uint8_t buf[512];
                size_t n = memchr(data, '\n', size) ? 0 : rule_tzif(buf, sizeof buf, data, size);
                rc = n ? pond_tz_from_tzif(&tz, "fuzz", buf, n) : -1;
            }
            if (rc == 0)
                check_zone(tz);
            pond_tz_free(tz);
        }
        return 0;
    }
    int64_t us, ref;
    /* the fixed-shape fast path of the ISO reader against its general reader */
    int fast = pond_time_parse_iso(&us, (const char *)data, size);
    int general = pond__time_parse_iso_general(&ref, (const char *)data, size);
    if (fast != general || (fast == 0 && us != ref))
        abort();
    if (pond_time_parse(&us, (const char *)data, size) == 0 && us > -62135596800000000LL &&
        us < 253402300799000000LL) {
        char out[40];
        size_t n = pond_time_format_iso(out, us);
        int64_t back;
        if (pond_time_parse_iso(&back, out, n) != 0 || back != us)
            abort();
    }
    return 0;
}
