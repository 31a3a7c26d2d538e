#include "cli/cmd.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(void)
{
    fprintf(stderr, "pond: %s\n", pond_error_last()->message);
    return 1;
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("pond: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;
    fputs("pond: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", usage);
    return 2;
}

bool cli_wants_help(int argc, char **argv, const char *help)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(help, stdout);
            return true;
        }
    }
    return false;
}

static void print_help(void)
{
    printf("usage: pond [--pond DIR] COMMAND [ARGS...]\n"
           "\n"
           "pond keeps files, tables and time series in one local directory that is a Delta Lake\n"
           "table: every change is one atomic transaction and every file keeps its versions.\n"
           "\n"
           "global options:\n"
           "  --pond DIR   the pond to use (default: $POND)\n"
           "  --at N       read commands see the pond as of transaction N (pond log)\n"
           "  --version    print the version and exit\n"
           "  -h, --help   print this help (COMMAND --help for a command's help)\n"
           "\n"
           "commands:\n");
    for (const pond_cmd *c = pond_commands; c->name; c++)
        printf("  %-10s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
    pond_cli cli = {.pond_dir = getenv("POND"), .argv0 = argv[0], .at_version = -1,
                    .cmdline_argc = argc, .cmdline_argv = argv};
    if (cli.pond_dir && !*cli.pond_dir)
        cli.pond_dir = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("pond %s\n", pond_version());
            return 0;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            print_help();
            return 0;
        } else if (!strcmp(argv[i], "--pond")) {
            if (i + 1 >= argc)
                return cli_usage("pond --pond DIR COMMAND ...", "--pond needs a directory");
            cli.pond_dir = argv[++i];
        } else if (!strcmp(argv[i], "--at")) {
            char *end = NULL;
            if (i + 1 >= argc || (cli.at_version = strtoll(argv[i + 1], &end, 10)) < 0 || *end)
                return cli_usage("pond --at VERSION COMMAND ...",
                                 "--at needs a transaction number (see pond log)");
            i++;
        } else if (!strncmp(argv[i], "--pond=", 7)) {
            cli.pond_dir = argv[i] + 7;
        } else {
            return cli_usage("pond [--pond DIR] COMMAND [ARGS...]", "unknown option '%s'",
                             argv[i]);
        }
    }
    if (i >= argc) {
        print_help();
        return 2;
    }
    for (const pond_cmd *c = pond_commands; c->name; c++) {
        if (!strcmp(c->name, argv[i]))
            return c->fn(&cli, argc - i, argv + i);
    }
    return cli_usage("pond [--pond DIR] COMMAND [ARGS...]",
                     "unknown command '%s' (pond --help lists them)", argv[i]);
}
