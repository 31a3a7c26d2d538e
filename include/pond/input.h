/* pond: the input stack for text imports (CSV, JSON) from outside the pond.
 *
 * One reader turns a host file, standard input or a memory buffer into validated UTF-8 text:
 *
 *   source bytes -> decompression (by magic number: gzip, zstd, bzip2, xz; concatenated
 *   streams/members are read one after another) -> text decoding (UTF-8 validated, or
 *   Latin-1/CP1252/UTF-16 converted to UTF-8) -> a UTF-8 byte-order mark skipped.
 *
 * Memory is bounded (a few fixed buffers, about 1 MiB in all, whatever the input size) and
 * every byte is checked: invalid UTF-8, a byte CP1252 does not define, a NUL byte, an odd
 * UTF-16 tail or a truncated compressed stream is POND_ECORRUPT naming the input, the line
 * (1-based, counted in the decoded text) and the byte offset (0-based, in the decompressed
 * input), never text passed on as something it is not. */
#ifndef POND_INPUT_H
#define POND_INPUT_H

#include "common.h"

typedef struct pond_input pond_input;

typedef enum {
    POND_INPUT_AUTO = 0, /* UTF-8 (validated); a UTF-16 byte-order mark switches to UTF-16 */
    POND_INPUT_UTF8,     /* UTF-8 only (a UTF-16 byte-order mark is an error) */
    POND_INPUT_LATIN1,   /* ISO-8859-1: every byte is the code point of the same value */
    POND_INPUT_CP1252,   /* Windows-1252: 0x80-0x9F are the Windows characters; 5 are undefined */
    POND_INPUT_UTF16,    /* byte-order mark decides; without one, little-endian */
    POND_INPUT_UTF16LE,
    POND_INPUT_UTF16BE,
} pond_input_encoding;

/** Parses an --encoding name (utf-8, utf8, latin1, latin-1, iso-8859-1, cp1252,
 *  windows-1252, utf-16, utf-16le, utf-16be; any case). POND_EINVALID naming the choices. */
POND_API int pond_input_encoding_parse(pond_input_encoding *out, const char *name);

typedef enum {
    POND_INPUT_PLAIN = 0,
    POND_INPUT_GZIP,
    POND_INPUT_ZSTD,
    POND_INPUT_BZIP2,
    POND_INPUT_XZ,
} pond_input_compression;

/** "gzip", "zstd", "bzip2", "xz" or "plain". */
POND_API const char *pond_input_compression_name(pond_input_compression c);

typedef struct {
    unsigned version;             /* POND_INPUT_OPTIONS_VERSION */
    pond_input_encoding encoding; /* default AUTO */
    const char *name;             /* for messages (default: the path, or "stdin") */
} pond_input_options;
#define POND_INPUT_OPTIONS_VERSION 1
#define POND_INPUT_OPTIONS_INIT                                                                    \
    {                                                                                              \
        POND_INPUT_OPTIONS_VERSION, POND_INPUT_AUTO, NULL                                          \
    }

/** Opens a host file; path "-" is standard input (not closed by free). A directory is
 *  refused by name; a FIFO (a pipe, process substitution) is read like stdin. */
POND_API int pond_input_open_file(pond_input **out, const char *path, const pond_input_options *o);
/** Reads from fd (borrowed: not closed by free). */
POND_API int pond_input_open_fd(pond_input **out, int fd, const pond_input_options *o);
/** Reads a memory buffer (borrowed; must outlive the input). */
POND_API int pond_input_open_mem(pond_input **out, const void *data, size_t len,
                                 const pond_input_options *o);

/** Reads up to cap bytes of decoded UTF-8 text; *n_out = 0 means the end. A multi-byte
 *  character is never split across two reads. Errors stick: later reads repeat them. */
POND_API int pond_input_read(pond_input *in, void *buf, size_t cap, size_t *n_out);
/** The first decoded bytes without consuming them: fills up to want bytes (fewer at the end of
 *  the input) and points *data at them; valid until the next read or free. For sniffing. */
POND_API int pond_input_peek(pond_input *in, const char **data, size_t *len, size_t want);
/** What the source was compressed with (known once the first byte is read or peeked). */
POND_API pond_input_compression pond_input_compression_of(const pond_input *in);
/** The name used in messages. */
POND_API const char *pond_input_name(const pond_input *in);
POND_API void pond_input_free(pond_input *in);

#endif
