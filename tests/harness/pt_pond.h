/* pt_pond: fixtures the layers' tests share (a pond on either backend, rows as sorted
 * canonical lines, a derived node created in its own transaction). Each helper fails the
 * running test on an unexpected error, as the PT_ASSERT macros do. */
#ifndef PT_POND_H
#define PT_POND_H

#include <pond/arrow.h>
#include <pond/backend.h>
#include <pond/buf.h>
#include <pond/oplog.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A pond: the backend and the tinyfs over it; dir is the oplog's directory (empty for the
 * memory backend). */
typedef struct {
    char dir[4200];
    pond_backend *be;
    pond_fs *fs;
} pt_pond;

/* A fresh pond on the memory backend. */
void pt_pond_memory(pt_pond *p);
/* A fresh oplog pond in a new directory under the test's temporary directory (co may be
 * NULL for the defaults). */
void pt_pond_disk(pt_pond *p, const pond_oplog_create_options *co);
/* Open (again) the oplog pond at p->dir. */
void pt_pond_open(pt_pond *p);
/* Free the tinyfs and the backend; p->dir stays, so the pond can be opened again. */
void pt_pond_close(pt_pond *p);

/* Rows as text: pond_arrow_canon_batch's lines, split and optionally sorted. */
typedef struct {
    pond_buf text;
    char **v; /* the n lines, after pt_lines_split or pt_lines_sort */
    size_t n;
} pt_lines;

/* Append every batch of st (released afterwards) to l->text. */
void pt_lines_stream(pt_lines *l, struct ArrowArrayStream *st);
/* Append the rows of a Parquet file read with pond's reader. */
void pt_lines_file(pt_lines *l, const char *file);
/* Split l->text into its lines (in order), or split and sort them. */
void pt_lines_split(pt_lines *l);
void pt_lines_sort(pt_lines *l);
void pt_lines_free(pt_lines *l);
/* qsort's comparison of two char * (by strcmp). */
int pt_cmp_str(const void *a, const void *b);

/* Writes len bytes to a file named name in the test's temporary directory; returns its path
 * (a static buffer, valid until the next call). */
const char *pt_tmp_file(const char *name, const void *data, size_t len);
/* Row i of an Arrow array is valid (not null). */
bool pt_arrow_valid(const struct ArrowArray *a, int64_t i);

/* pond_derive_create of dest in one transaction (aborted on failure); returns its result. */
int pt_derive_create(pond_fs *fs, const char *dest, const pond_derive_options *o);

#endif
