/* pond serve: what the server reads from a request itself (src/serve/serve_params.c): routes,
 * query parameters as libmicrohttpd hands them over (decoded, with their lengths), the listen
 * address and the token. */
#include "serve/serve_params.h"

#include "pt.h"

#include <netinet/in.h>
#include <stdlib.h>

/* kv pairs from "k=v" strings (no '=': a bare key, value NULL) */
static serve_kv g_kv[16];
static char g_text[16][9000];

static size_t kvs(const char *const *items)
{
    size_t n = 0;
    for (; items[n]; n++) {
        snprintf(g_text[n], sizeof g_text[n], "%s", items[n]);
        char *eq = strchr(g_text[n], '=');
        if (eq)
            *eq = '\0';
        g_kv[n] =
            (serve_kv){g_text[n], eq ? eq + 1 : NULL, strlen(g_text[n]), eq ? strlen(eq + 1) : 0};
    }
    return n;
}

static int parse(serve_params *p, serve_route r, const char *const *items)
{
    size_t n = kvs(items);
    return serve_params_parse(p, r, g_kv, n);
}

#define ITEMS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_400(serve_route r, const char *const *items, const char *needle)
{
    serve_params p;
    PT_ASSERT_ERR(parse(&p, r, items), POND_EINVALID);
    PT_ASSERT_MSG_HAS(needle);
    serve_params_dispose(&p);
}

static void test_routes(void)
{
    serve_route r;
    const char *names[] = {"list", "describe", "read", "buckets", "query", "log"};
    for (int i = 0; i < 6; i++) {
        PT_ASSERT_OK(serve_route_parse(&r, names[i]));
        PT_ASSERT_STR_EQ(serve_route_name(r), names[i]);
    }
    PT_ASSERT_ERR(serve_route_parse(&r, "read/../list"), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("no such API: /api/read/../list");
    PT_ASSERT_ERR(serve_route_parse(&r, ""), POND_ENOTFOUND);
    PT_ASSERT_ERR(serve_route_parse(&r, "READ"), POND_ENOTFOUND);
}

static void test_read_defaults_and_values(void)
{
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_READ, ITEMS("path=/s/a")));
    PT_ASSERT_STR_EQ(p.path, "/s/a");
    PT_ASSERT(!p.format && !p.has_from && !p.has_to && !p.columns && !p.tz);
    PT_ASSERT_INT_EQ(p.limit, -1);
    PT_ASSERT_INT_EQ(p.offset, 0);
    PT_ASSERT_INT_EQ(p.version, 0);
    serve_params_dispose(&p);
    PT_ASSERT_OK(
        parse(&p, SERVE_API_READ,
              ITEMS("path=/s/a", "format=csv", "from=2013", "to=2013-06-15T12:00Z",
                    "columns=w,timestamp", "limit=0", "offset=7", "version=3", "token=whatever")));
    PT_ASSERT_STR_EQ(p.format, "csv");
    PT_ASSERT(p.has_from && p.has_to);
    PT_ASSERT_INT_EQ(p.from_us, 1356998400LL * 1000000);
    PT_ASSERT_INT_EQ(p.to_us, 1371297600LL * 1000000);
    PT_ASSERT_INT_EQ(p.n_columns, 2);
    PT_ASSERT_STR_EQ(p.columns[0], "w");
    PT_ASSERT_STR_EQ(p.columns[1], "timestamp");
    PT_ASSERT(p.columns[2] == NULL);
    PT_ASSERT_INT_EQ(p.limit, 0);
    PT_ASSERT_INT_EQ(p.offset, 7);
    PT_ASSERT_INT_EQ(p.version, 3);
    serve_params_dispose(&p);
    /* a form without a zone is read in timezone= */
    PT_ASSERT_OK(parse(&p, SERVE_API_READ,
                       ITEMS("path=/s", "from=2024-01-01T00:00", "timezone=Europe/Paris")));
    PT_ASSERT_INT_EQ(p.from_us, (1704067200LL - 3600) * 1000000);
    PT_ASSERT(p.tz != NULL);
    serve_params_dispose(&p);
    /* seconds since the epoch with their unit, as the CLI reads them */
    PT_ASSERT_OK(parse(&p, SERVE_API_BUCKETS, ITEMS("path=/s", "from=1706702400s", "n=1")));
    PT_ASSERT_INT_EQ(p.from_us, 1706702400LL * 1000000);
    PT_ASSERT_INT_EQ(p.n, 1);
    serve_params_dispose(&p);
}

static void test_unknown_and_repeated_keys(void)
{
    expect_400(SERVE_API_READ, ITEMS("path=/s", "colums=v"), "takes no parameter 'colums'");
    expect_400(SERVE_API_LIST, ITEMS("path=/", "format=csv"), "/api/list takes no parameter");
    expect_400(SERVE_API_READ, ITEMS("path=/a", "path=/b"), "path: given twice");
    expect_400(SERVE_API_READ, ITEMS("path=/a", "limit=1", "limit=2"), "limit: given twice");
    expect_400(SERVE_API_QUERY, ITEMS("sql=SELECT 1", "src=t=/a", "src=t=/b"),
               "the name 't' is given twice");
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_QUERY, ITEMS("sql=SELECT 1", "src=a=/x", "src=b=/y@2")));
    PT_ASSERT_INT_EQ(p.n_srcs, 2);
    PT_ASSERT_STR_EQ(p.srcs[1].name, "b");
    PT_ASSERT_STR_EQ(p.srcs[1].path, "/y");
    PT_ASSERT_INT_EQ(p.srcs[1].version, 2);
    serve_params_dispose(&p);
    /* a bare key (no '=') is an empty value */
    expect_400(SERVE_API_READ, ITEMS("path"), "the 'path' parameter is missing");
    PT_ASSERT_OK(parse(&p, SERVE_API_LIST, ITEMS("path")));
    PT_ASSERT(p.path == NULL); /* the root */
    serve_params_dispose(&p);
}

static void test_nul_bytes(void)
{
    serve_params p;
    /* %00 decodes to a NUL: the value's length says more than its C string */
    serve_kv kv[] = {{"path", "/s/a\0/../../etc/passwd", 4, 22}};
    PT_ASSERT_ERR(serve_params_parse(&p, SERVE_API_READ, kv, 1), POND_EINVALID);
    PT_ASSERT_MSG_HAS("path: the value holds a NUL byte");
    serve_params_dispose(&p);
    serve_kv kk[] = {{"path\0x", "/s", 6, 2}};
    PT_ASSERT_ERR(serve_params_parse(&p, SERVE_API_READ, kk, 1), POND_EINVALID);
    PT_ASSERT_MSG_HAS("a parameter name holds a NUL byte");
    serve_params_dispose(&p);
}

static void test_numbers(void)
{
    const char *bad[] = {"-1",
                         "+1",
                         " 1",
                         "1 ",
                         "1e3",
                         "0x10",
                         "",
                         "1.5",
                         "99999999999999999999",
                         "9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char item[64];
        snprintf(item, sizeof item, "limit=%s", bad[i]);
        expect_400(SERVE_API_READ, ITEMS("path=/s", item), "limit: '");
    }
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_READ, ITEMS("path=/s", "limit=9223372036854775807")));
    PT_ASSERT_INT_EQ(p.limit, INT64_MAX);
    serve_params_dispose(&p);
    expect_400(SERVE_API_READ, ITEMS("path=/s", "version=0"), "from 1 to");
    expect_400(SERVE_API_BUCKETS, ITEMS("path=/s", "n=0"),
               "n: '0' is not a whole number from 1 to 100000");
    expect_400(SERVE_API_BUCKETS, ITEMS("path=/s", "n=100001"), "from 1 to 100000");
    PT_ASSERT_OK(parse(&p, SERVE_API_BUCKETS, ITEMS("path=/s", "n=100000")));
    PT_ASSERT_INT_EQ(p.n, 100000);
    serve_params_dispose(&p);
    expect_400(SERVE_API_LOG, ITEMS("limit=1001"), "from 0 to 1000");
    PT_ASSERT_OK(parse(&p, SERVE_API_LOG, ITEMS("before=5", "limit=2")));
    PT_ASSERT_INT_EQ(p.before, 5);
    PT_ASSERT_INT_EQ(p.limit, 2);
    serve_params_dispose(&p);
}

static void test_formats(void)
{
    expect_400(SERVE_API_READ, ITEMS("path=/s", "format=xml"),
               "format: 'xml' is not one of json, csv, parquet, arrow, raw");
    expect_400(SERVE_API_DESCRIBE, ITEMS("path=/s", "format=csv"), "one of json, text");
    expect_400(SERVE_API_QUERY, ITEMS("sql=SELECT 1", "format=arrow"), "one of json, csv");
    expect_400(SERVE_API_READ, ITEMS("path=/s", "format=JSON"), "'JSON'");
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_DESCRIBE, ITEMS("path=/s", "format=text")));
    PT_ASSERT_STR_EQ(p.format, "text");
    serve_params_dispose(&p);
}

static void test_times(void)
{
    expect_400(SERVE_API_READ, ITEMS("path=/s", "from=yesterday"), "from: ");
    expect_400(SERVE_API_READ, ITEMS("path=/s", "to=1706702400"), "to: ");
    expect_400(SERVE_API_READ, ITEMS("path=/s", "from=2020", "to=2020"), "to must be after from");
    expect_400(SERVE_API_BUCKETS, ITEMS("path=/s", "from=2021", "to=2020"),
               "to must be after from");
    expect_400(SERVE_API_READ, ITEMS("path=/s", "timezone=Mars/Olympus"), "timezone: ");
    /* an empty from= or to= is not given */
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_READ, ITEMS("path=/s", "from=", "to=")));
    PT_ASSERT(!p.has_from && !p.has_to);
    serve_params_dispose(&p);
}

static void test_columns(void)
{
    expect_400(SERVE_API_READ, ITEMS("path=/s", "columns="), "columns: no column named");
    expect_400(SERVE_API_READ, ITEMS("path=/s", "columns=a,,b"),
               "columns: an empty name in 'a,,b'");
    expect_400(SERVE_API_BUCKETS, ITEMS("path=/s", "columns=a,"), "an empty name");
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_BUCKETS, ITEMS("path=/s", "columns=a b,ü,\"q\"")));
    PT_ASSERT_INT_EQ(p.n_columns, 3);
    PT_ASSERT_STR_EQ(p.columns[0], "a b");
    PT_ASSERT_STR_EQ(p.columns[1], "ü");
    PT_ASSERT_STR_EQ(p.columns[2], "\"q\"");
    serve_params_dispose(&p);
}

static void test_src_bindings(void)
{
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_QUERY, ITEMS("sql=x", "src=t=/a@b", "src=u=/v@12")));
    PT_ASSERT_STR_EQ(p.srcs[0].path, "/a@b"); /* '@' not followed by digits: part of the path */
    PT_ASSERT_INT_EQ(p.srcs[0].version, 0);
    PT_ASSERT_STR_EQ(p.srcs[1].path, "/v");
    PT_ASSERT_INT_EQ(p.srcs[1].version, 12);
    serve_params_dispose(&p);
    expect_400(SERVE_API_QUERY, ITEMS("sql=x", "src=t"), "src: 't': expected NAME=PATH");
    expect_400(SERVE_API_QUERY, ITEMS("sql=x", "src==/a"), "expected NAME=PATH");
    expect_400(SERVE_API_QUERY, ITEMS("sql=x", "src=t="), "expected NAME=PATH");
    expect_400(SERVE_API_QUERY, ITEMS("sql=x", "src=t=/s@0"), "versions start at 1");
    expect_400(SERVE_API_QUERY, ITEMS("sql=x", "src=t=@3"), "the path is empty");
    expect_400(SERVE_API_QUERY, ITEMS("sql=x", "src=t=/s@99999999999999999999"), "too large");
    expect_400(SERVE_API_QUERY, ITEMS("src=t=/s"), "the 'sql' parameter is missing");
    /* long names and paths are kept whole, never cut to a buffer */
    char item[8200] = "src=";
    memset(item + 4, 'n', 300);
    item[304] = '=';
    item[305] = '/';
    memset(item + 306, 'p', 7000);
    item[7306] = '\0';
    PT_ASSERT_OK(parse(&p, SERVE_API_QUERY, ITEMS("sql=x", item)));
    PT_ASSERT_INT_EQ(strlen(p.srcs[0].name), 300);
    PT_ASSERT_INT_EQ(strlen(p.srcs[0].path), 7001);
    serve_params_dispose(&p);
    /* a bounded number of tables */
    static char many[SERVE_MAX_SRCS + 2][32];
    serve_kv kv[SERVE_MAX_SRCS + 2];
    for (int i = 0; i < SERVE_MAX_SRCS + 1; i++) {
        snprintf(many[i], sizeof many[i], "t%d=/s", i);
        kv[i] = (serve_kv){"src", many[i], 3, strlen(many[i])};
    }
    kv[SERVE_MAX_SRCS + 1] = (serve_kv){"sql", "x", 3, 1};
    PT_ASSERT_ERR(serve_params_parse(&p, SERVE_API_QUERY, kv, SERVE_MAX_SRCS + 2), POND_EINVALID);
    PT_ASSERT_MSG_HAS("more than 64 tables");
    serve_params_dispose(&p);
}

static void test_path_required(void)
{
    expect_400(SERVE_API_READ, ITEMS("format=csv"), "the 'path' parameter is missing");
    expect_400(SERVE_API_DESCRIBE, ITEMS("path="), "the 'path' parameter is missing");
    expect_400(SERVE_API_BUCKETS, ITEMS("n=5"), "the 'path' parameter is missing");
    serve_params p;
    PT_ASSERT_OK(parse(&p, SERVE_API_LOG, ITEMS("token=x")));
    PT_ASSERT_INT_EQ(p.before, -1);
    serve_params_dispose(&p);
}

static void test_listen(void)
{
    struct sockaddr_storage ss;
    bool lo = false;
    PT_ASSERT_OK(serve_listen_parse(&ss, &lo, "127.0.0.1:0"));
    PT_ASSERT(lo && ss.ss_family == AF_INET);
    PT_ASSERT_OK(serve_listen_parse(&ss, &lo, "127.8.9.10:8080"));
    PT_ASSERT(lo);
    PT_ASSERT_INT_EQ(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
    PT_ASSERT_OK(serve_listen_parse(&ss, &lo, "localhost:65535"));
    PT_ASSERT(lo);
    PT_ASSERT_OK(serve_listen_parse(&ss, &lo, "[::1]:8080"));
    PT_ASSERT(lo && ss.ss_family == AF_INET6);
    PT_ASSERT_OK(serve_listen_parse(&ss, &lo, "0.0.0.0:80"));
    PT_ASSERT(!lo);
    PT_ASSERT_OK(serve_listen_parse(&ss, &lo, "[::]:80"));
    PT_ASSERT(!lo);
    PT_ASSERT_OK(serve_listen_parse(&ss, &lo, "[::ffff:10.0.0.1]:80"));
    PT_ASSERT(!lo);
    const char *bad[] = {"127.0.0.1",
                         "127.0.0.1:",
                         ":80",
                         "127.0.0.1:65536",
                         "127.0.0.1:-1",
                         "127.0.0.1:+1",
                         "127.0.0.1: 1",
                         "[::1]",
                         "[]:1",
                         "[:80",
                         "example.org:80",
                         "1.2.3:80",
                         "127.0.0.1:80x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = serve_listen_parse(&ss, &lo, bad[i]);
        if (rc != POND_EINVALID)
            pt_fail(__FILE__, __LINE__, "'%s' was taken (%d)", bad[i], rc);
        PT_ASSERT_MSG_HAS("--listen: '");
    }
}

static void test_token(void)
{
    const char *t = "correct-horse-battery-staple";
    PT_ASSERT(serve_token_equal(t, "correct-horse-battery-staple"));
    PT_ASSERT(!serve_token_equal(t, "correct-horse-battery-stapl"));
    PT_ASSERT(!serve_token_equal(t, "correct-horse-battery-staple!"));
    PT_ASSERT(!serve_token_equal(t, "Correct-horse-battery-staple"));
    PT_ASSERT(!serve_token_equal(t, ""));
    PT_ASSERT(!serve_token_equal(t, NULL));
    PT_ASSERT_STR_EQ(serve_bearer("Bearer abc"), "abc");
    PT_ASSERT(serve_bearer("bearer abc") == NULL);
    PT_ASSERT(serve_bearer("Basic abc") == NULL);
    PT_ASSERT(serve_bearer(NULL) == NULL);
}

PT_SUITE(serve_params, PT_TEST(routes), PT_TEST(read_defaults_and_values),
         PT_TEST(unknown_and_repeated_keys), PT_TEST(nul_bytes), PT_TEST(numbers), PT_TEST(formats),
         PT_TEST(times), PT_TEST(columns), PT_TEST(src_bindings), PT_TEST(path_required),
         PT_TEST(listen), PT_TEST(token))
