#include "pt.h"

#include <pond/buf.h>
#include <pond/hash.h>

#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static void test_error_message_and_code(void)
{
    int rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "footer: bad magic at offset %d", 42);
    PT_ASSERT_INT_EQ(rc, POND_ECORRUPT);
    PT_ASSERT_INT_EQ(pond_error_last()->code, POND_ECORRUPT);
    PT_ASSERT_INT_EQ(pond_error_last()->domain, POND_DOM_PARQUET);
    PT_ASSERT_STR_EQ(pond_error_last()->message, "footer: bad magic at offset 42");
    pond_error_prefix("reading '%s'", "/a/b");
    PT_ASSERT_STR_EQ(pond_error_last()->message, "reading '/a/b': footer: bad magic at offset 42");
}

static void test_error_os_maps_errno(void)
{
    errno = ENOENT;
    int rc = pond_error_set_os(POND_DOM_OS, "open '%s'", "/nope");
    PT_ASSERT_INT_EQ(rc, POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("open '/nope': No such file or directory");
}

/* One mapping at the Arrow stream boundary: the table read, join and rollup streams used three
 * (the join's and rollup's gave EINVAL for an I/O or unknown failure); a failure that is not the
 * caller's is EIO. */
static void test_errno_of_stream_codes(void)
{
    PT_ASSERT_INT_EQ(pond__errno_of(POND_ENOMEM), ENOMEM);
    PT_ASSERT_INT_EQ(pond__errno_of(POND_EINVALID), EINVAL);
    PT_ASSERT_INT_EQ(pond__errno_of(POND_ENOTFOUND), ENOENT);
    PT_ASSERT_INT_EQ(pond__errno_of(POND_EUNSUPPORTED), ENOTSUP);
    PT_ASSERT_INT_EQ(pond__errno_of(POND_ECORRUPT), EIO);
    PT_ASSERT_INT_EQ(pond__errno_of(POND_EIO), EIO);
    PT_ASSERT_INT_EQ(pond__errno_of(POND_ERROR), EIO);
}

static void test_distinct_codes(void)
{
    int codes[] = {POND_ENOTFOUND, POND_EEXISTS,  POND_EBUSY,        POND_ECONFLICT,
                   POND_ECORRUPT,  POND_EINVALID, POND_EUNSUPPORTED, POND_EIO};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        for (size_t j = i + 1; j < sizeof codes / sizeof codes[0]; j++)
            PT_ASSERT(codes[i] != codes[j] &&
                      strcmp(pond_error_name(codes[i]), pond_error_name(codes[j])) != 0);
}

static void test_alloc_accounting(void)
{
    size_t before = pond_alloc_current();
    pond_alloc_reset_peak();
    char *p = pond_malloc(1000);
    PT_ASSERT(p);
    PT_ASSERT_INT_EQ(pond_alloc_current(), before + 1000);
    p = pond_realloc(p, 5000);
    PT_ASSERT(p);
    PT_ASSERT_INT_EQ(pond_alloc_current(), before + 5000);
    PT_ASSERT(pond_alloc_peak() >= before + 5000);
    pond_free(p);
    PT_ASSERT_INT_EQ(pond_alloc_current(), before);
}

static void test_alloc_fail_nth(void)
{
    pond_alloc_fail_at(2, false);
    void *a = pond_malloc(8);
    void *b = pond_malloc(8);
    void *c = pond_malloc(8);
    PT_ASSERT(a && !b && c);
    PT_ASSERT(pond_alloc_fail_fired());
    PT_ASSERT_INT_EQ(pond_error_last()->code, POND_ENOMEM);
    pond_free(a);
    pond_free(c);
}

static int buf_body(void *arg)
{
    (void)arg;
    pond_buf b = POND_BUF_INIT;
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = pond_buf_printf(&b, "line %d\n", i);
    if (rc == 0 && b.size != 790)
        rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "wrong size %zu", b.size);
    pond_buf_dispose(&b);
    return rc;
}

static void test_buf_fault_loop(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, buf_body, NULL);
    PT_ASSERT(steps > 1);
}

static void test_sha256_known(void)
{
    pond_hash h;
    char hex[65];
    PT_ASSERT_OK(pond_sha256_buf(&h, "abc", 3));
    pond_hash_hex(hex, &h);
    PT_ASSERT_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    pond_sha256 *s;
    PT_ASSERT_OK(pond_sha256_new(&s));
    PT_ASSERT_OK(pond_sha256_update(s, "a", 1));
    PT_ASSERT_OK(pond_sha256_update(s, "bc", 2));
    pond_hash h2;
    PT_ASSERT_OK(pond_sha256_final(&h2, s));
    pond_sha256_free(s);
    PT_ASSERT(pond_hash_equal(&h, &h2));
    pond_hash h3;
    PT_ASSERT_OK(pond_hash_from_hex(&h3, hex));
    PT_ASSERT(pond_hash_equal(&h, &h3));
    PT_ASSERT_ERR(pond_hash_from_hex(&h3, "zz"), POND_EINVALID);
}

static void test_os_fault_injection(void)
{
    char *path = pond__path_join(PT_TMPDIR(), "f");
    int fd;
    PT_ASSERT_OK(pond__open(&fd, path, O_CREAT | O_WRONLY, 0644, POND_DOM_OS));
    /* short writes and EINTR are retried transparently with identical results */
    pond_os_fault_at(POND_OS_WRITE, 1, POND_FAULT_SHORT, 0, true);
    PT_ASSERT_OK(pond__write_all(fd, "hello world", 11, path, POND_DOM_OS));
    pond_os_fault_at(POND_OS_WRITE, 1, POND_FAULT_EINTR, 0, false);
    PT_ASSERT_OK(pond__write_all(fd, "!", 1, path, POND_DOM_OS));
    /* a failed fsync is reported, naming the path */
    pond_os_fault_at(POND_OS_FSYNC, 1, POND_FAULT_ERRNO, EIO, false);
    PT_ASSERT_ERR(pond__fsync(fd, path, POND_DOM_OS), POND_EIO);
    PT_ASSERT_MSG_HAS(path);
    PT_ASSERT(pond_os_fault_fired());
    pond__close(fd);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, path, 1 << 20, POND_DOM_OS));
    PT_ASSERT_STR_EQ(b.ptr, "hello world!");
    pond_buf_dispose(&b);
    /* the second rename fails with ENOSPC */
    char *p2 = pond__path_join(PT_TMPDIR(), "g");
    pond_os_fault_at(POND_OS_RENAME, 2, POND_FAULT_ERRNO, ENOSPC, false);
    PT_ASSERT_INT_EQ(pond__os_rename(path, p2), 0);
    PT_ASSERT_INT_EQ(pond__os_rename(p2, path), -1);
    PT_ASSERT_INT_EQ(errno, ENOSPC);
    pond_free(path);
    pond_free(p2);
}

static void test_mkdir_p(void)
{
    char *p = pond__path_join(PT_TMPDIR(), "a/b/c");
    PT_ASSERT_OK(pond__mkdir_p(p, POND_DOM_OS));
    PT_ASSERT_OK(pond__mkdir_p(p, POND_DOM_OS));
    struct stat st;
    PT_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    pond_free(p);
}

PT_SUITE(util, PT_TEST(error_message_and_code), PT_TEST(error_os_maps_errno),
         PT_TEST(errno_of_stream_codes), PT_TEST(distinct_codes), PT_TEST(alloc_accounting),
         PT_TEST(alloc_fail_nth), PT_TEST(buf_fault_loop), PT_TEST(sha256_known),
         PT_TEST(os_fault_injection), PT_TEST(mkdir_p))
