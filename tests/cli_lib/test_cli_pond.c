/* Shared CLI helpers (src/cli/cli_pond.c): the one expansion of pond operands (paths and globs)
 * that copy-out and export use, --from/--to as every command reads them, --columns lists. */
#include "cli/cli_pond.h"

#include "pt.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Errors print to stderr; the tests check return codes and keep the log clean. */
static int saved_stderr = -1;
static void quiet(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 2);
    close(fd);
}
static void loud(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
}

typedef struct {
    char seen[8][64];
    bool glob[8];
    int n, skipped;
} taken;

/* Takes series and literal operands; passes over other glob matches. */
static int take_series(const char *path, const pond_stat *st, bool from_glob, void *payload)
{
    taken *t = payload;
    PT_ASSERT(from_glob == (st != NULL));
    if (from_glob && st->type != POND_ENTRY_FILE_SERIES) {
        t->skipped++;
        return CLI_SKIPPED;
    }
    PT_ASSERT(t->n < 8);
    snprintf(t->seen[t->n], sizeof t->seen[t->n], "%s", path);
    t->glob[t->n++] = from_glob;
    return !strcmp(path, "/stop") ? 7 : 0;
}

static void test_expand_operands(void)
{
    cli_pond p = {0};
    PT_ASSERT_OK(pond_backend_memory_new(&p.be));
    PT_ASSERT_OK(pond_fs_open(&p.fs, p.be, NULL));
    PT_ASSERT_OK(pond_fs_begin(p.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(p.fs, NULL, "/d/sub", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_create(p.fs, NULL, "/d/a", POND_ENTRY_FILE_SERIES));
    PT_ASSERT_OK(pond_fs_create(p.fs, NULL, "/d/b", POND_ENTRY_FILE_SERIES));
    PT_ASSERT_OK(pond_fs_create(p.fs, NULL, "/d/c.txt", POND_ENTRY_FILE_DATA));

    /* literals as given, globs by match in name order; other matches passed over */
    taken t = {0};
    bool globs = true;
    char *ops[] = {"/x", "/d/*"};
    PT_ASSERT_INT_EQ(
        cli_expand_operands(&globs, &p, ops, 1, "series", "other entries", take_series, &t), 0);
    PT_ASSERT(!globs);
    PT_ASSERT_INT_EQ(t.n, 1);
    PT_ASSERT_STR_EQ(t.seen[0], "/x");
    PT_ASSERT(!t.glob[0]);
    memset(&t, 0, sizeof t);
    PT_ASSERT_INT_EQ(
        cli_expand_operands(&globs, &p, ops, 2, "series", "other entries", take_series, &t), 0);
    PT_ASSERT(globs);
    PT_ASSERT_INT_EQ(t.n, 3);
    PT_ASSERT_STR_EQ(t.seen[1], "/d/a");
    PT_ASSERT_STR_EQ(t.seen[2], "/d/b");
    PT_ASSERT(t.glob[1] && t.glob[2]);
    PT_ASSERT_INT_EQ(t.skipped, 2); /* c.txt and sub */

    /* a glob that takes nothing is an error; so is one that matches nothing at all */
    char *none[] = {"/d/*.txt"}, *nothing[] = {"/nope/*"};
    quiet();
    int rc1 = cli_expand_operands(NULL, &p, none, 1, "series", "other entries", take_series, &t);
    int rc2 = cli_expand_operands(NULL, &p, nothing, 1, "series", "other entries", take_series, &t);
    loud();
    PT_ASSERT_INT_EQ(rc1, 1);
    PT_ASSERT_INT_EQ(rc2, 1);

    /* the callback's exit code stops the expansion */
    char *stop[] = {"/stop", "/d/*"};
    memset(&t, 0, sizeof t);
    PT_ASSERT_INT_EQ(
        cli_expand_operands(NULL, &p, stop, 2, "series", "other entries", take_series, &t), 7);
    PT_ASSERT_INT_EQ(t.n, 1);

    PT_ASSERT(cli_is_glob("/a/*") && cli_is_glob("/a?") && cli_is_glob("/[ab]"));
    PT_ASSERT(!cli_is_glob("/a/b.c"));
    pond_fs_free(p.fs);
    pond_backend_free(p.be);
}

static void test_time_range(void)
{
    const cli_spec spec = {.command = "demo", .operands = "PATH"};
    bool has;
    int64_t from, to;
    PT_ASSERT_INT_EQ(cli_time_range(&has, &from, &to, &spec, NULL, NULL, NULL), -1);
    PT_ASSERT(!has);
    /* pond cat's forms: a year, a month, an epoch with its unit */
    PT_ASSERT_INT_EQ(cli_time_range(&has, &from, &to, &spec, "2013", NULL, NULL), -1);
    PT_ASSERT(has);
    PT_ASSERT_INT_EQ(from, INT64_C(1356998400000000));
    PT_ASSERT_INT_EQ(to, INT64_MAX);
    PT_ASSERT_INT_EQ(cli_time_range(&has, &from, &to, &spec, NULL, "2013-06", NULL), -1);
    PT_ASSERT_INT_EQ(from, INT64_MIN);
    PT_ASSERT_INT_EQ(to, INT64_C(1370044800000000));
    PT_ASSERT_INT_EQ(
        cli_time_range(&has, &from, &to, &spec, "1706702400s", "1706702401000ms", NULL), -1);
    PT_ASSERT_INT_EQ(from, INT64_C(1706702400000000));
    PT_ASSERT_INT_EQ(to, INT64_C(1706702401000000));
    /* local time in a zone */
    pond_tz *ny = NULL;
    PT_ASSERT_OK(pond_tz_open(&ny, "America/New_York"));
    PT_ASSERT_INT_EQ(cli_time_range(&has, &from, &to, &spec, "2024-02-01", NULL, ny), -1);
    PT_ASSERT_INT_EQ(from, INT64_C(1706763600000000)); /* 05:00Z */
    pond_tz_free(ny);
    /* a bare integer has no unit: a usage error */
    quiet();
    int rc = cli_time_range(&has, &from, &to, &spec, "1706702400", NULL, NULL);
    loud();
    PT_ASSERT_INT_EQ(rc, CLI_EXIT_USAGE);
}

/* --columns as cat and export read it: the library's pond_table_columns_parse (what pond
 * serve's columns= reads too); an empty name is an error, not a column named "". */
static void test_split_columns(void)
{
    int n = 0;
    char **c = NULL;
    PT_ASSERT_OK(pond_table_columns_parse(&c, &n, "a,b c"));
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_STR_EQ(c[0], "a");
    PT_ASSERT_STR_EQ(c[1], "b c");
    PT_ASSERT(c[2] == NULL);
    pond_free(c);
    PT_ASSERT_ERR(pond_table_columns_parse(&c, &n, "a,,b c"), POND_EINVALID);
    PT_ASSERT_MSG_HAS("columns: an empty name in 'a,,b c'");
    PT_ASSERT(c == NULL);
    PT_ASSERT_ERR(pond_table_columns_parse(&c, &n, ""), POND_EINVALID);
}

PT_SUITE(cli_pond, PT_TEST(expand_operands), PT_TEST(time_range), PT_TEST(split_columns))
