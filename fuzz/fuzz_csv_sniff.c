/* Fuzz target: the CSV dialect sniffer, then the reader with the dialect it chose (the first
 * byte picks the options: quote given or not, a comment character, a cut sample). */
#include <pond/csv.h>
#include <pond/errors.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    pond_csv_dialect d;
    if (pond_csv_sniff(&d, text, len, !(flags & 1), (flags & 2) ? '\'' : 0, (flags & 2) != 0,
                       (flags & 4) ? '#' : 0, "fuzz") < 0)
        return 0;
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    o.delimiter = d.delimiter;
    o.space_aligned = d.space_aligned;
    o.quote = d.quote;
    o.comment = (flags & 4) ? '#' : 0;
    o.skip_lines = (flags >> 4) & 3;
    o.buffer_size = size % 5 + 1;
    o.max_field = 1024;
    o.max_fields = 64;
    pond_csv_reader *r = NULL;
    if (pond_csv_reader_open_mem(&r, text, len, &o) < 0)
        return 0;
    size_t total = 0;
    while (pond_csv_reader_next(r) == 0)
        total += pond_csv_reader_nfields(r);
    (void)total;
    pond_csv_reader_free(r);
    return 0;
}
