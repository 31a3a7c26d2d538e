#include "cli/cli_opt.h"

#include <pond/errors.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define USAGE_WIDTH 80
#define HELP_LABEL_MAX 20

static const char POND_USAGE[] =
    "usage: pond [--pond DIR] [--at N] [--threads N] COMMAND [ARGS...]\n";

int cli_parse_int(int64_t *out, const char *s, int64_t min, int64_t max)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return -1;
    uint64_t m = 0;
    bool overflow = false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (m > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            m = m * 10 + d;
    }
    /* every digit is read first: "99999999999999999999x" is not a number, not out of range */
    if (overflow || (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX))
        return -2;
    int64_t v = neg ? (int64_t)(0 - m) : (int64_t)m;
    if (v < min || v > max)
        return -2;
    *out = v;
    return 0;
}

void cli_range_text(char out[64], int64_t min, int64_t max)
{
    if (max == INT64_MAX)
        snprintf(out, 64, "%lld or more", (long long)min);
    else
        snprintf(out, 64, "%lld to %lld", (long long)min, (long long)max);
}

/* ---- usage and help ------------------------------------------------------------------- */

typedef struct {
    FILE *f;
    size_t col, indent;
} wrap;

/* Each token goes after a space, or on a new line indented under the first one. */
static void wrap_token(wrap *w, const char *tok)
{
    size_t n = strlen(tok);
    if (w->col > w->indent && w->col + 1 + n > USAGE_WIDTH) {
        fprintf(w->f, "\n%*s", (int)w->indent, "");
        w->col = w->indent;
    } else {
        fputc(' ', w->f);
        w->col++;
    }
    fputs(tok, w->f);
    w->col += n;
}

void cli_print_usage_as(FILE *f, const cli_spec *spec, const char *prefix)
{
    wrap w = {f, 0, 0};
    w.col = (size_t)fprintf(f, "%spond %s", prefix, spec->command);
    w.indent = w.col + 1;
    for (const cli_opt *o = spec->opts; o && o->name; o++) {
        char tok[128];
        snprintf(tok, sizeof tok, "[%s%s%s]", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        wrap_token(&w, tok);
    }
    /* operands are one token each, so "SRC... DEST" may wrap between them */
    char ops[256];
    snprintf(ops, sizeof ops, "%s", spec->operands ? spec->operands : "");
    for (char *save = NULL, *t = strtok_r(ops, " ", &save); t; t = strtok_r(NULL, " ", &save))
        wrap_token(&w, t);
    fputc('\n', f);
}

void cli_print_usage(FILE *f, const cli_spec *spec) { cli_print_usage_as(f, spec, "usage: "); }

static void opt_label(char *out, size_t cap, const cli_opt *o)
{
    snprintf(out, cap, "%s%s%s%s%s", o->name, o->alias ? ", " : "", o->alias ? o->alias : "",
             o->arg ? " " : "", o->arg ? o->arg : "");
}

static void print_help_text(FILE *f, const char *text, size_t indent)
{
    for (const char *s = text; *s;) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        fprintf(f, "%.*s\n", (int)n, s);
        s += n + (e != NULL);
        if (*s)
            fprintf(f, "%*s", (int)indent, "");
    }
}

/* The option list of --help: labels in one column, their help beside them. */
void cli_print_options(FILE *f, const cli_opt *opts, bool with_help)
{
    size_t width = with_help ? strlen("-h, --help") : 0;
    char label[160];
    for (const cli_opt *o = opts; o && o->name; o++) {
        opt_label(label, sizeof label, o);
        size_t n = strlen(label);
        if (n <= HELP_LABEL_MAX && n > width)
            width = n;
    }
    size_t indent = 2 + width + 2;
    for (const cli_opt *o = opts; o && o->name; o++) {
        opt_label(label, sizeof label, o);
        if (strlen(label) > width)
            fprintf(f, "  %s\n%*s", label, (int)indent, "");
        else
            fprintf(f, "  %-*s  ", (int)width, label);
        print_help_text(f, o->help ? o->help : "", indent);
    }
    if (with_help)
        fprintf(f, "  %-*s  print this help\n", (int)width, "-h, --help");
}

void cli_print_help(FILE *f, const cli_spec *spec)
{
    cli_print_usage(f, spec);
    if (spec->about)
        fprintf(f, "\n%s", spec->about);
    fprintf(f, "\noptions:\n");
    cli_print_options(f, spec->opts, true);
    if (spec->footer)
        fprintf(f, "\n%s", spec->footer);
}

void cli_vmessage(const char *prefix, const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage(const cli_spec *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vmessage("pond: ", fmt, ap);
    va_end(ap);
    if (spec)
        cli_print_usage(stderr, spec);
    else
        fputs(POND_USAGE, stderr);
    return CLI_EXIT_USAGE;
}

/* ---- parsing --------------------------------------------------------------------------- */

int64_t cli_parse_size(const char *s)
{
    /* digits with at most one '.', then a unit: no sign, exponent, hex, inf or nan */
    const char *p = s;
    bool digits = false, dot = false;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
        digits |= *p != '.';
        dot |= *p == '.';
    }
    if (!digits)
        return -1;
    double v = strtod(s, NULL);
    static const struct {
        const char *suffix;
        double mul;
    } units[] = {{"", 1},          {"B", 1},          {"k", 1e3},     {"K", 1024},
                 {"KB", 1e3},      {"KiB", 1024},     {"M", 1048576}, {"MB", 1e6},
                 {"MiB", 1048576}, {"G", 1073741824}, {"GB", 1e9},    {"GiB", 1073741824}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(p, units[i].suffix)) {
            double r = v * units[i].mul;
            return r >= 9.2e18 ? -1 : (int64_t)r;
        }
    return -1;
}

static int set_value(const cli_spec *spec, const cli_opt *o, const char *name, size_t nlen,
                     const char *value)
{
    char range[64];
    switch (o->kind) {
    case CLI_OPT_STRING:
        *(const char **)o->dest = value;
        return 0;
    case CLI_OPT_INT: {
        int64_t v = 0;
        int rc = cli_parse_int(&v, value, o->min, o->max);
        cli_range_text(range, o->min, o->max);
        if (rc == -1)
            return cli_usage(spec, "%.*s: '%s' is not a whole number (%s)", (int)nlen, name, value,
                             range);
        if (rc == -2)
            return cli_usage(spec, "%.*s: %s is out of range (%s)", (int)nlen, name, value, range);
        *(int64_t *)o->dest = v;
        return 0;
    }
    case CLI_OPT_SIZE: {
        int64_t v = cli_parse_size(value);
        if (v < 0)
            return cli_usage(spec,
                             "%.*s: '%s' is not a size (bytes, or a number with k, K, KiB, M, "
                             "MiB, G or GiB)",
                             (int)nlen, name, value);
        if (v < o->min || v > o->max) {
            cli_range_text(range, o->min, o->max);
            return cli_usage(spec, "%.*s: %s is out of range (%s bytes)", (int)nlen, name, value,
                             range);
        }
        *(int64_t *)o->dest = v;
        return 0;
    }
    case CLI_OPT_CHOICE: {
        size_t vl = strlen(value);
        for (const char *c = o->choices; c && *c;) {
            const char *e = strchr(c, '|');
            size_t cl = e ? (size_t)(e - c) : strlen(c);
            if (cl == vl && !strncmp(c, value, vl)) {
                *(const char **)o->dest = value;
                return 0;
            }
            c += cl + (e != NULL);
        }
        /* "a|b|c" becomes "a, b or c" */
        char list[256];
        size_t k = 0, n_bars = 0;
        for (const char *c = o->choices; *c; c++)
            n_bars += *c == '|';
        for (const char *c = o->choices; *c && k + 8 < sizeof list; c++) {
            if (*c != '|') {
                list[k++] = *c;
                continue;
            }
            const char *sep = --n_bars ? ", " : " or ";
            k += (size_t)snprintf(list + k, sizeof list - k, "%s", sep);
        }
        list[k] = '\0';
        return cli_usage(spec, "%.*s: unknown value '%s' (%s)", (int)nlen, name, value, list);
    }
    case CLI_OPT_FN:
        if (o->fn(o->dest, value) < 0) {
            /* a message that names the option already ("--time-format '%Q': ...") as it is */
            const char *msg = pond_error_last()->message;
            size_t ol = strlen(o->name);
            if (!strncmp(msg, o->name, ol) && (msg[ol] == ' ' || msg[ol] == ':'))
                return cli_usage(spec, "%s", msg);
            return cli_usage(spec, "%.*s: %s", (int)nlen, name, msg);
        }
        return 0;
    case CLI_OPT_FLAG:
        break;
    }
    return cli_usage(spec, "%.*s: bad option table", (int)nlen, name);
}

static const cli_opt *find(const cli_spec *spec, const char *name, size_t n)
{
    for (const cli_opt *o = spec->opts; o && o->name; o++)
        if ((strlen(o->name) == n && !strncmp(o->name, name, n)) ||
            (o->alias && strlen(o->alias) == n && !strncmp(o->alias, name, n)))
            return o;
    return NULL;
}

int cli_parse(int *n_out, const cli_spec *spec, int argc, char **argv)
{
    *n_out = 0;
    /* --help anywhere before "--" wins over every other problem on the line */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            cli_print_help(stdout, spec);
            return CLI_EXIT_HELP;
        }
    int n = 0;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (opts_done || a[0] != '-' || !a[1]) {
            argv[n++] = a; /* n < i: that slot was read already */
            continue;
        }
        if (!strcmp(a, "--")) {
            opts_done = true;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = find(spec, a, nlen);
        if (!o)
            return cli_usage(spec, "unknown option '%.*s'", (int)nlen, a);
        if (o->kind == CLI_OPT_FLAG) {
            if (eq)
                return cli_usage(spec, "%.*s takes no value", (int)nlen, a);
            *(bool *)o->dest = true;
        } else {
            const char *value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!value)
                return cli_usage(spec, "%s needs a value (%s %s)", a, o->name, o->arg);
            int rc = set_value(spec, o, a, nlen, value);
            if (rc)
                return rc;
        }
        if (o->given)
            *o->given = true;
    }
    if (n < spec->min_operands)
        return cli_usage(spec, "%s%s", spec->missing ? "" : "missing ",
                         spec->missing ? spec->missing : spec->operands);
    if (spec->max_operands >= 0 && n > spec->max_operands)
        return cli_usage(spec, "unexpected argument '%s'", argv[spec->max_operands]);
    *n_out = n;
    return -1;
}

/* "30d", "12h", "90m", "10s", "0s", "1.5h": microseconds. Digits with at most one '.' and a
 * unit (none means seconds): no sign, exponent, nan or inf; at most 1000 years, beyond which
 * it is not a duration anyone means. */
int cli_opt_duration(void *dest, const char *s)
{
    const char *p = s;
    bool digits = false, dot = false;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
        digits |= *p != '.';
        dot |= *p == '.';
    }
    double mul = !strcmp(p, "s") || !*p ? 1
                 : !strcmp(p, "m")      ? 60
                 : !strcmp(p, "h")      ? 3600
                 : !strcmp(p, "d")      ? 86400
                                        : -1;
    double v = digits ? strtod(s, NULL) * mul : -1;
    if (!digits || mul < 0 || !(v <= 1000.0 * 366 * 86400))
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "'%s' is not a duration (a number with s, m, h or d: 30d, 12h, "
                              "0s; at most 1000 years)",
                              s);
    *(int64_t *)dest = (int64_t)(v * 1e6);
    return 0;
}
