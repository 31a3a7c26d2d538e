/* Fixtures the layers' tests share; see pt_pond.h. */
#include "pt_pond.h"

#include "pt.h"

#include <pond/parquet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pt_pond_memory(pt_pond *p)
{
    memset(p, 0, sizeof *p);
    PT_ASSERT_OK(pond_backend_memory_new(&p->be));
    PT_ASSERT_OK(pond_fs_open(&p->fs, p->be, NULL));
}

void pt_pond_disk(pt_pond *p, const pond_oplog_create_options *co)
{
    static int seq;
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "%s/pt-pond%d", PT_TMPDIR(), seq++);
    PT_ASSERT_OK(pond_oplog_create(p->dir, co));
    pt_pond_open(p);
}

void pt_pond_open(pt_pond *p)
{
    PT_ASSERT_OK(pond_oplog_open(&p->be, p->dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&p->fs, p->be, NULL));
}

void pt_pond_close(pt_pond *p)
{
    pond_fs_free(p->fs);
    pond_backend_free(p->be);
    p->fs = NULL;
    p->be = NULL;
}

void pt_lines_stream(pt_lines *l, struct ArrowArrayStream *st)
{
    struct ArrowSchema s;
    PT_ASSERT_INT_EQ(st->get_schema(st, &s), 0);
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT_INT_EQ(st->get_next(st, &b), 0);
        if (!b.release)
            break;
        PT_ASSERT_OK(pond_arrow_canon_batch(&l->text, &s, &b));
        b.release(&b);
    }
    s.release(&s);
    st->release(st);
}

void pt_lines_file(pt_lines *l, const char *file)
{
    pond_parquet_reader *r;
    struct ArrowArrayStream st;
    if (pond_parquet_reader_open_file(&r, file, NULL) < 0)
        pt_fail(__FILE__, __LINE__, "%s: %s", file, pond_error_last()->message);
    PT_ASSERT_OK(pond_parquet_reader_stream(&st, r));
    pt_lines_stream(l, &st);
}

void pt_lines_split(pt_lines *l)
{
    free(l->v);
    l->n = 0;
    for (size_t i = 0; i < l->text.size; i++)
        l->n += l->text.ptr[i] == '\n';
    l->v = calloc(l->n + 1, sizeof *l->v);
    PT_ASSERT(l->v != NULL);
    char *p = l->text.ptr;
    for (size_t k = 0; k < l->n; k++) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        l->v[k] = p;
        p = nl + 1;
    }
}

int pt_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void pt_lines_sort(pt_lines *l)
{
    pt_lines_split(l);
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, pt_cmp_str);
}

void pt_lines_free(pt_lines *l)
{
    free(l->v);
    pond_buf_dispose(&l->text);
    memset(l, 0, sizeof *l);
}

const char *pt_tmp_file(const char *name, const void *data, size_t len)
{
    static char path[4400];
    snprintf(path, sizeof path, "%s/%s", PT_TMPDIR(), name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        pt_fail(__FILE__, __LINE__, "cannot write %s", path);
    return path;
}

bool pt_arrow_valid(const struct ArrowArray *a, int64_t i)
{
    const uint8_t *v = a->buffers[0];
    return !v || (v[(a->offset + i) / 8] >> ((a->offset + i) % 8)) & 1;
}

int pt_derive_create(pond_fs *fs, const char *dest, const pond_derive_options *o)
{
    pond_fs_node *h = NULL;
    int rc = pond_fs_begin(fs, NULL);
    if (rc == 0)
        rc = pond_fs_node_open(&h, fs, NULL, dest, 0);
    if (rc == 0)
        rc = pond_derive_create(NULL, h, o);
    pond_fs_node_free(h);
    if (rc == 0)
        rc = pond_fs_commit(NULL, fs);
    else
        pond_fs_abort(fs);
    return rc;
}
