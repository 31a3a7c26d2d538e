/* Fuzz target: the streaming CSV reader, with a small buffer and field limit so that refills and
 * limits are exercised. */
#include <pond/csv.h>
#include <pond/errors.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    o.buffer_size = size % 7 + 1;
    o.max_field = 1024;
    o.max_fields = 64;
    pond_csv_reader *r = NULL;
    if (pond_csv_reader_open_mem(&r, data, size, &o) < 0)
        return 0;
    size_t total = 0;
    while (pond_csv_reader_next(r) == 0) {
        for (size_t i = 0; i < pond_csv_reader_nfields(r); i++) {
            size_t len;
            const char *f = pond_csv_reader_field(r, i, &len, NULL);
            if (f && len)
                total += (unsigned char)f[len - 1];
        }
    }
    (void)total;
    pond_csv_reader_free(r);
    return 0;
}
