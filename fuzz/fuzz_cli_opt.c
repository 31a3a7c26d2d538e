/* Fuzz target: the CLI's option parser (src/cli/cli_opt.c) on any argument vector (the input
 * split at NUL bytes), its number and size readers, and the promise of the output formatter
 * that a double's text reads back as the same double (src/cli/cli_format.c). Usage errors
 * print to stderr: run libFuzzer with -close_fd_mask=2 to keep the log small. */
#include "cli/cli_format.h"
#include "cli/cli_opt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    char *argv[66];
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 0;
    argv[argc++] = "fuzz";
    for (char *s = text; argc < 64 && s <= text + size; s += strlen(s) + 1)
        argv[argc++] = s;
    argv[argc] = NULL;

    bool flag = false;
    const char *str = NULL, *choice = NULL;
    int64_t num = 0, size_v = 0, fn_v = 0;
    bool given = false;
    const cli_opt opts[] = {
        {.name = "-f", .alias = "--flag", .kind = CLI_OPT_FLAG, .dest = &flag, .help = "f"},
        {.name = "--str", .kind = CLI_OPT_STRING, .dest = &str, .arg = "S", .help = "s"},
        {.name = "--num",
         .kind = CLI_OPT_INT,
         .dest = &num,
         .arg = "N",
         .help = "n\nmore",
         .min = -5,
         .max = 1000,
         .given = &given},
        {.name = "--size",
         .kind = CLI_OPT_SIZE,
         .dest = &size_v,
         .arg = "SIZE",
         .help = "z",
         .min = 1,
         .max = INT64_MAX},
        {.name = "--choice",
         .kind = CLI_OPT_CHOICE,
         .dest = &choice,
         .arg = "C",
         .choices = "a|bb|ccc",
         .help = "c"},
        {0},
    };
    const cli_spec spec = {.command = "fuzz",
                           .operands = "A... B",
                           .opts = opts,
                           .min_operands = 1,
                           .max_operands = 3};
    int n = 0;
    int rc = cli_parse(&n, &spec, argc, argv);
    if (rc == -1 && (n < 1 || n > 3 || num < -5 || num > 1000 || (size_v && size_v < 1)))
        abort();
    (void)fn_v;
    for (int i = 1; i < argc; i++) {
        int64_t v;
        if (cli_parse_int(&v, argv[i], INT64_MIN, INT64_MAX) == 0) {
            char back[32];
            snprintf(back, sizeof back, "%lld", (long long)v);
            const char *digits = argv[i] + (argv[i][0] == '+');
            if (strcmp(back, digits) && strtoll(digits, NULL, 10) != v)
                abort();
        }
        (void)cli_parse_size(argv[i]);
    }
    if (size >= 8) { /* the text of any double reads back as that double */
        double d;
        memcpy(&d, data, 8);
        char t[40];
        pond_format_double(t, d);
        double b = strtod(t, NULL);
        if (!isnan(d) && memcmp(&b, &d, 8) != 0)
            abort();
        if (isfinite(d) && !strpbrk(t, ".e"))
            abort();
        float f;
        memcpy(&f, data, 4);
        pond_format_float(t, f);
        float fb = strtof(t, NULL);
        if (!isnan(f) && memcmp(&fb, &f, 4) != 0)
            abort();
    }
    free(text);
    return 0;
}
