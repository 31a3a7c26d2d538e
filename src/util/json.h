/* pond's one door to jansson (src/util/json.c): every layer includes this header, never
 * <jansson.h> (scripts/lint.sh checks). jansson keeps its own allocator (libc malloc): pond
 * never changes it, so an application embedding libpond and using jansson itself is not
 * affected; strings handed to pond code are copied into pond's allocator (pond__json_dump).
 * Text from outside is parsed only through pond__json_parse, which bounds nesting and the
 * estimated size of the tree before jansson sees the text. */
#ifndef POND_UTIL_JSON_H
#define POND_UTIL_JSON_H

#include "util/util.h"

#include <jansson.h>

/* Nesting accepted in one document (jansson recurses once per level). */
#define POND_JSON_MAX_DEPTH 64
/* Estimated jansson tree of one document: text can cost up to 90x its size once parsed. */
#define POND_JSON_MAX_TREE_BYTES (128u << 20)

/* Parses one JSON document of len bytes (need not be NUL-terminated; JSON_REJECT_DUPLICATES is
 * always added to flags). NULL on failure with POND_ECORRUPT "<where>: invalid JSON (<why> at
 * position N)", "... nesting deeper than 64 levels", "... JSON too large to parse ...", or
 * POND_ENOMEM; the error has the given domain. Free the result with json_decref. */
json_t *pond__json_parse(const char *text, size_t len, size_t flags, const char *where, int domain);
/* Serializes j (JSON_COMPACT | JSON_ENCODE_ANY | extra flags) into a fresh pond_malloc string
 * (free with pond_free); NULL with POND_ENOMEM set. */
char *pond__json_dump(const json_t *j, size_t flags);
/* Appends the same serialization to out. */
int pond__json_dump_buf(pond_buf *out, const json_t *j, size_t flags);
/* A JSON array of the n strings s[0..n) (copied); NULL when out of memory. */
json_t *pond__json_strings(const char *const *s, size_t n);
/* Integer member: true when present and a JSON integer. */
bool pond__json_int(int64_t *out, const json_t *obj, const char *key);
/* The integer value of member `key` (plain, no escapes) of the top-level object in text,
 * found without building a tree (a node's attributes can hold a compaction's list of
 * thousands of hashes; a stat needs one number of them). False when text does not start
 * with an object, the member is not at its top level, or its value is not an integer in
 * int64. Text that is not valid JSON may still give a value: for pond's own attributes,
 * written by jansson, it is the value jansson would read. */
bool pond__json_top_int(int64_t *out, const char *text, const char *key);

#endif
