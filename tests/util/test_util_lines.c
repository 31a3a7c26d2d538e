/* pond__lines: a pond file read line by line in bounded memory; pond__strmap. */
#include "pt.h"

#include <pond/alloc.h>

#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POND_TEST_LIGHT_N(full, light) (getenv("POND_TEST_LIGHT") ? (light) : (full))

static char *write_file(const char *name, const char *data, size_t len)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", PT_TMPDIR(), name);
    FILE *f = fopen(path, "wb");
    PT_ASSERT(f);
    PT_ASSERT(fwrite(data, 1, len, f) == len);
    fclose(f);
    return path;
}

/* All lines of r joined with '|' (the LF removed, everything else kept). */
static void collect(pond__lines *r, char *out, size_t cap)
{
    const char *s;
    size_t n;
    int rc;
    out[0] = '\0';
    while ((rc = pond__lines_next(r, &s, &n)) == 0) {
        size_t o = strlen(out);
        PT_ASSERT(o + n + 2 < cap);
        memcpy(out + o, s, n);
        out[o + n] = '|';
        out[o + n + 1] = '\0';
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
}

static void test_lines_file_and_memory(void)
{
    const char text[] = "a\nbb\r\n\nlast";
    char got[256];
    pond__lines r;
    const char *path = write_file("t", text, sizeof text - 1);
    PT_ASSERT_OK(pond__lines_open(&r, path, 64, POND_DOM_UTIL));
    collect(&r, got, sizeof got);
    PT_ASSERT_STR_EQ(got, "a|bb\r||last|");
    PT_ASSERT_INT_EQ(r.lineno, 5); /* the call that found the end counted too */
    /* a second pass reads the same */
    pond__lines_rewind(&r);
    collect(&r, got, sizeof got);
    PT_ASSERT_STR_EQ(got, "a|bb\r||last|");
    pond__lines_close(&r);
    pond__lines_mem(&r, text, sizeof text - 1, "mem", 64, POND_DOM_UTIL);
    collect(&r, got, sizeof got);
    PT_ASSERT_STR_EQ(got, "a|bb\r||last|");
    pond__lines_close(&r);
    /* empty */
    path = write_file("e", "", 0);
    PT_ASSERT_OK(pond__lines_open(&r, path, 64, POND_DOM_UTIL));
    collect(&r, got, sizeof got);
    PT_ASSERT_STR_EQ(got, "");
    pond__lines_close(&r);
    pond__lines_mem(&r, NULL, 0, "mem", 64, POND_DOM_UTIL);
    collect(&r, got, sizeof got);
    PT_ASSERT_STR_EQ(got, "");
    pond__lines_close(&r);
}

/* Lines longer than the bound are refused by line number; exactly the bound is fine; a file
 * far bigger than the bound is read in bounded memory, across read chunks. */
static void test_lines_bound(void)
{
    size_t big = (size_t)1 << 20, line = 1000;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (i + 1) % line == 0 ? '\n' : (char)('a' + i % 26);
    const char *path = write_file("big", data, big);
    pond__lines r;
    size_t base = pond_alloc_current();
    pond_alloc_reset_peak();
    PT_ASSERT_OK(pond__lines_open(&r, path, line - 1, POND_DOM_UTIL));
    const char *s;
    size_t n, count = 0;
    int rc;
    while ((rc = pond__lines_next(&r, &s, &n)) == 0) {
        PT_ASSERT(n == line - 1 || n == big % line);
        PT_ASSERT(!memchr(s, '\n', n));
        count++;
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT_INT_EQ(count, big / line + 1);
    PT_ASSERT(pond_alloc_peak() - base < 8 * line + 16);
    pond__lines_close(&r);
    /* one byte less of room: line 1 is refused, naming the file */
    PT_ASSERT_OK(pond__lines_open(&r, path, line - 2, POND_DOM_UTIL));
    PT_ASSERT_ERR(pond__lines_next(&r, &s, &n), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("line 1 is longer than 998 bytes");
    PT_ASSERT_MSG_HAS("/big'");
    pond__lines_close(&r);
    /* a long line without any newline (bigger than one read chunk), from a file and memory */
    memset(data, 'x', big);
    path = write_file("one", data, big);
    PT_ASSERT_OK(pond__lines_open(&r, path, 200000, POND_DOM_UTIL));
    PT_ASSERT_ERR(pond__lines_next(&r, &s, &n), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("line 1 is longer than 200000 bytes");
    pond__lines_close(&r);
    pond__lines_mem(&r, data, big, "mem", 200000, POND_DOM_UTIL);
    PT_ASSERT_ERR(pond__lines_next(&r, &s, &n), POND_ECORRUPT);
    pond__lines_close(&r);
    PT_ASSERT_OK(pond__lines_open(&r, path, big, POND_DOM_UTIL));
    PT_ASSERT_OK(pond__lines_next(&r, &s, &n));
    PT_ASSERT_INT_EQ(n, big);
    PT_ASSERT_ERR(pond__lines_next(&r, &s, &n), POND_ITEROVER);
    pond__lines_close(&r);
    free(data);
}

static void test_lines_refuses_non_regular(void)
{
    pond__lines r;
    PT_ASSERT_ERR(pond__lines_open(&r, PT_TMPDIR(), 64, POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("is a directory");
    pond__lines_close(&r);
    char path[4200];
    snprintf(path, sizeof path, "%s/none", PT_TMPDIR());
    PT_ASSERT_ERR(pond__lines_open(&r, path, 64, POND_DOM_UTIL), POND_ENOTFOUND);
    pond__lines_close(&r);
}

/* The name map of wide schemas: every key found, the first value kept, misses are -1. */
static void test_strmap(void)
{
    int n = POND_TEST_LIGHT_N(100000, 5000);
    char **keys = malloc((size_t)n * sizeof *keys);
    pond__strmap m = {0};
    for (int i = 0; i < n; i++) {
        keys[i] = malloc(16);
        snprintf(keys[i], 16, "c%d", i);
        PT_ASSERT_INT_EQ(pond__strmap_put(&m, keys[i], i), 0);
    }
    PT_ASSERT_INT_EQ(pond__strmap_put(&m, "c7", 99), 1); /* already there: unchanged */
    for (int i = 0; i < n; i++)
        PT_ASSERT_INT_EQ(pond__strmap_get(&m, keys[i]), i);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, "c7"), 7);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, "nope"), -1);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, NULL), -1);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, ""), -1);
    PT_ASSERT_INT_EQ(m.m.n, (size_t)n);
    pond__strmap_dispose(&m);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, "c1"), -1);
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* The readers' in-memory source: the bytes in order, in reads of at most cap, then 0 for ever;
 * the data is not copied or written. */
static void test_mem_source(void)
{
    static const char data[] = "abcdefghij";
    pond__mem_source m = {data, 10, 0};
    char buf[8], got[16] = {0};
    size_t n, at = 0;
    PT_ASSERT_OK(pond__mem_read(buf, 4, &n, &m));
    PT_ASSERT_INT_EQ(n, 4);
    memcpy(got + at, buf, n);
    at += n;
    PT_ASSERT_OK(pond__mem_read(buf, 8, &n, &m));
    PT_ASSERT_INT_EQ(n, 6);
    memcpy(got + at, buf, n);
    at += n;
    PT_ASSERT_STR_EQ(got, "abcdefghij");
    PT_ASSERT_OK(pond__mem_read(buf, 8, &n, &m));
    PT_ASSERT_INT_EQ(n, 0);
    PT_ASSERT_OK(pond__mem_read(buf, 8, &n, &m));
    PT_ASSERT_INT_EQ(n, 0);
    pond__mem_source e = {NULL, 0, 0};
    PT_ASSERT_OK(pond__mem_read(buf, 8, &n, &e));
    PT_ASSERT_INT_EQ(n, 0);
}

PT_SUITE(util_lines, PT_TEST(lines_file_and_memory), PT_TEST(lines_bound),
         PT_TEST(lines_refuses_non_regular), PT_TEST(strmap), PT_TEST(mem_source))
