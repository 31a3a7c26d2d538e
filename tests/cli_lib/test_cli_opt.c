/* The option parser every command uses (src/cli/cli_opt.c). */
#include "cli/cli_opt.h"

#include "pt.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Usage errors print to stderr; the tests check return codes and keep the log clean. */
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
    bool flag;
    const char *str, *choice;
    int64_t num, size;
    bool num_given;
} vals;

static int parse(vals *v, int *n, char **argv, int argc)
{
    memset(v, 0, sizeof *v);
    v->num = -7;
    const cli_opt opts[] = {
        {.name = "-l", .alias = "--long", .kind = CLI_OPT_FLAG, .dest = &v->flag, .help = "f"},
        {.name = "--str", .kind = CLI_OPT_STRING, .dest = &v->str, .arg = "S", .help = "s"},
        {.name = "--num",
         .kind = CLI_OPT_INT,
         .dest = &v->num,
         .arg = "N",
         .help = "n",
         .min = 0,
         .max = INT64_MAX,
         .given = &v->num_given},
        {.name = "--size",
         .kind = CLI_OPT_SIZE,
         .dest = &v->size,
         .arg = "SIZE",
         .help = "z",
         .min = 1,
         .max = INT64_MAX},
        {.name = "--fmt",
         .kind = CLI_OPT_CHOICE,
         .dest = &v->choice,
         .arg = "F",
         .choices = "csv|json",
         .help = "c"},
        {0},
    };
    const cli_spec spec = {
        .command = "t", .operands = "A...", .opts = opts, .min_operands = 1, .max_operands = 3};
    quiet();
    int rc = cli_parse(n, &spec, argc, argv);
    loud();
    return rc;
}

static void test_int_values(void)
{
    int64_t v = 42;
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "", 0, INT64_MAX), -1);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "-", 0, INT64_MAX), -1);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "12x", 0, INT64_MAX), -1);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, " 1", 0, INT64_MAX), -1);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "0x10", 0, INT64_MAX), -1);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "-1", 0, INT64_MAX), -2);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "99999999999999999999", 0, INT64_MAX), -2);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "9223372036854775808", 0, INT64_MAX), -2);
    PT_ASSERT_INT_EQ(v, 42); /* untouched by failures */
    PT_ASSERT_OK(cli_parse_int(&v, "9223372036854775807", 0, INT64_MAX));
    PT_ASSERT_INT_EQ(v, INT64_MAX);
    PT_ASSERT_OK(cli_parse_int(&v, "-9223372036854775808", INT64_MIN, INT64_MAX));
    PT_ASSERT(v == INT64_MIN);
    PT_ASSERT_OK(cli_parse_int(&v, "+19", 1, 19));
    PT_ASSERT_INT_EQ(v, 19);
    PT_ASSERT_INT_EQ(cli_parse_int(&v, "20", 1, 19), -2);
    PT_ASSERT_INT_EQ(cli_parse_size("64KiB"), 65536);
    PT_ASSERT_INT_EQ(cli_parse_size("1.5K"), 1536);
    PT_ASSERT_INT_EQ(cli_parse_size("1M"), 1048576);
    PT_ASSERT_INT_EQ(cli_parse_size("nan"), -1);
    PT_ASSERT_INT_EQ(cli_parse_size("-1"), -1);
    PT_ASSERT_INT_EQ(cli_parse_size("1e3"), -1);
    PT_ASSERT_INT_EQ(cli_parse_size("0x10"), -1);
    PT_ASSERT_INT_EQ(cli_parse_size("99999999999G"), -1);
    PT_ASSERT_INT_EQ(cli_parse_size(""), -1);
}

static void test_forms(void)
{
    vals v;
    int n;
    char *a[] = {"t", "x", "--num=5", "--str", "-v", "y", "-l", "--fmt=json", "--size", "2K", NULL};
    PT_ASSERT_INT_EQ(parse(&v, &n, a, 10), -1);
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_STR_EQ(a[0], "x");
    PT_ASSERT_STR_EQ(a[1], "y");
    PT_ASSERT_INT_EQ(v.num, 5);
    PT_ASSERT(v.num_given);
    PT_ASSERT_STR_EQ(v.str, "-v"); /* a value may start with '-' */
    PT_ASSERT(v.flag);
    PT_ASSERT_STR_EQ(v.choice, "json");
    PT_ASSERT_INT_EQ(v.size, 2048);

    /* "--" ends the options; '-' alone is an operand; the alias works; last value wins */
    char *b[] = {"t", "--long", "--num", "1", "--num=2", "-", "--", "--num", NULL};
    PT_ASSERT_INT_EQ(parse(&v, &n, b, 8), -1);
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_STR_EQ(b[0], "-");
    PT_ASSERT_STR_EQ(b[1], "--num");
    PT_ASSERT_INT_EQ(v.num, 2);
    PT_ASSERT(v.flag);

    char *c[] = {"t", "--str=", "x", NULL};
    PT_ASSERT_INT_EQ(parse(&v, &n, c, 3), -1);
    PT_ASSERT_STR_EQ(v.str, "");
}

static void test_usage_errors(void)
{
    vals v;
    int n;
    char *bad[][4] = {
        {"t", "x", "--num=", NULL},
        {"t", "x", "--num=-1", NULL},
        {"t", "x", "--num", "99999999999999999999"},
        {"t", "x", "--num", "1.5"},
        {"t", "x", "--num", NULL},
        {"t", "x", "-l=1", NULL},
        {"t", "x", "--long=yes", NULL},
        {"t", "x", "--nope", NULL},
        {"t", "x", "--fmt=xml", NULL},
        {"t", "x", "--size=0", NULL},
        {"t", "x", "--size=lots", NULL},
        {"t", "--num=1", NULL, NULL},
        {"t", "a", "b", "c"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int argc = 0;
        while (argc < 4 && bad[i][argc])
            argc++;
        char *copy[5] = {0};
        memcpy(copy, bad[i], sizeof bad[i]);
        if (i == 12) { /* four operands: one too many */
            char *four[] = {"t", "a", "b", "c", "d", NULL};
            PT_ASSERT_INT_EQ(parse(&v, &n, four, 5), CLI_EXIT_USAGE);
            continue;
        }
        int rc = parse(&v, &n, copy, argc);
        if (rc != CLI_EXIT_USAGE)
            pt_fail(__FILE__, __LINE__, "case %zu (%s %s %s) gave %d, want a usage error", i,
                    bad[i][1], bad[i][2] ? bad[i][2] : "", bad[i][3] ? bad[i][3] : "", rc);
    }
    /* --help wins over an error earlier on the line (prints to stdout) */
    char *h[] = {"t", "--nope", "--help", NULL};
    fflush(stdout);
    int saved = dup(1), fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    int rc = parse(&v, &n, h, 3);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(fd);
    PT_ASSERT_INT_EQ(rc, CLI_EXIT_HELP);
}

/* The usage line and --help list every option, and the usage wraps at 80 columns. */
static void test_help_lists_every_option(void)
{
    bool f = false;
    const char *s = NULL;
    int64_t i = 0;
    const cli_opt opts[] = {
        {.name = "--alpha-long-option",
         .kind = CLI_OPT_STRING,
         .dest = &s,
         .arg = "VALUE",
         .help = "first line\nsecond line"},
        {.name = "-q", .kind = CLI_OPT_FLAG, .dest = &f, .help = "quiet"},
        {.name = "--count",
         .kind = CLI_OPT_INT,
         .dest = &i,
         .arg = "N",
         .help = "how many",
         .min = 0,
         .max = 9},
        {.name = "--beta-long-option",
         .kind = CLI_OPT_STRING,
         .dest = &s,
         .arg = "VALUE",
         .help = "b"},
        {.name = "--gamma-long-option",
         .kind = CLI_OPT_STRING,
         .dest = &s,
         .arg = "VALUE",
         .help = "c"},
        {0},
    };
    const cli_spec spec = {.command = "demo",
                           .operands = "SRC... DEST",
                           .about = "About.\n",
                           .opts = opts,
                           .footer = "Footer.\n"};
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    cli_print_help(m, &spec);
    fclose(m);
    for (const cli_opt *o = opts; o->name; o++) {
        char tok[64];
        snprintf(tok, sizeof tok, "[%s%s%s]", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        PT_ASSERT(strstr(text, tok) != NULL);
        snprintf(tok, sizeof tok, "\n  %s", o->name);
        PT_ASSERT(strstr(text, tok) != NULL);
    }
    PT_ASSERT(strstr(text, " SRC...") != NULL && strstr(text, " DEST\n") != NULL);
    PT_ASSERT(strstr(text, "      second line\n") != NULL);
    PT_ASSERT(strstr(text, "\nFooter.\n") != NULL);
    size_t col = 0;
    bool in_usage = true;
    for (const char *p = text; *p && in_usage; p++) {
        if (*p == '\n') {
            in_usage = p[1] == ' ';
            col = 0;
        } else {
            PT_ASSERT(++col <= 80);
        }
    }
    free(text);
}

PT_SUITE(cli_opt, PT_TEST(int_values), PT_TEST(forms), PT_TEST(usage_errors),
         PT_TEST(help_lists_every_option))
