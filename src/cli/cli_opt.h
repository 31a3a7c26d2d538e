/* Command-line options: one parser for every command.
 *
 * A command describes its options in a table (cli_opt) and its usage in a cli_spec; cli_parse
 * reads argv, validates every value (numbers, sizes, choices) and collects the operands, and
 * the usage line and --help text are generated from the same table, so they always list every
 * option. Options may come before, between or after operands; `--` ends them. An option that
 * takes a value accepts `--opt value` and `--opt=value`; a flag refuses `--flag=value`. A
 * repeated option keeps its last value (a CLI_OPT_FN may keep them all). Bad input is a usage error (exit 2) that names the
 * option and says what it takes. */
#ifndef POND_CLI_OPT_H
#define POND_CLI_OPT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    CLI_OPT_FLAG,   /* bool *dest = true */
    CLI_OPT_STRING, /* const char **dest = the value (borrowed from argv) */
    CLI_OPT_INT,    /* int64_t *dest = a decimal integer in [min, max] */
    CLI_OPT_SIZE,   /* int64_t *dest = bytes ("64KiB", "1M", "4096") in [min, max] */
    CLI_OPT_CHOICE, /* const char **dest = one of the '|'-separated words in choices */
    CLI_OPT_FN,     /* fn(dest, value): returns < 0 with the pond error message set; may
                       collect repeated values (copy --time-format) */
} cli_opt_kind;

typedef struct {
    const char *name;  /* "--format" or "-l"; NULL ends a table */
    const char *alias; /* a second spelling ("-R" for "-r"), or NULL */
    cli_opt_kind kind;
    void *dest;
    const char *arg;     /* the value's name in usage and help ("N", "F"); NULL for a flag */
    const char *help;    /* --help text; '\n' separates lines */
    int64_t min, max;    /* CLI_OPT_INT and CLI_OPT_SIZE */
    const char *choices; /* CLI_OPT_CHOICE: "csv|json" */
    int (*fn)(void *dest, const char *value); /* CLI_OPT_FN */
    bool *given;                              /* optional: set when the option appears */
} cli_opt;

typedef struct {
    const char *command;  /* "cat", "delta log" */
    const char *operands; /* usage text after the options: "PATH", "SRC... DEST", "" */
    const char *about;    /* --help: what the command does (ends with '\n') */
    const cli_opt *opts;  /* ends with an entry whose name is NULL; NULL for none */
    const char *footer;   /* --help: text after the option list, or NULL */
    const char *missing;  /* the error when operands are missing (default "missing <operands>") */
    int min_operands;
    int max_operands; /* -1: any number */
} cli_spec;

/* cli_parse results besides 0 (parsed: operands in argv[0..*n_out-1] of the array given). */
#define CLI_EXIT_HELP 0  /* --help was printed: the command exits 0 */
#define CLI_EXIT_USAGE 2 /* a usage error was printed: the command exits 2 */

/* Parses argv[1..argc-1] (argv[0] is the command name). On success returns -1 and moves the
 * operands, in order, to argv[0..*n_out-1]; the argv array is rearranged, the strings are not
 * touched. Otherwise returns the exit code: CLI_EXIT_HELP after printing help to stdout, or
 * CLI_EXIT_USAGE after printing the error and the usage line to stderr. */
int cli_parse(int *n_out, const cli_spec *spec, int argc, char **argv);

/* Prints the usage line(s) of spec, wrapped at 80 columns, starting with "usage: pond ". */
void cli_print_usage(FILE *f, const cli_spec *spec);
/* The same with another prefix ("   or: " for a second form). */
void cli_print_usage_as(FILE *f, const cli_spec *spec, const char *prefix);
/* Prints the option list of --help (with_help adds -h, --help). */
void cli_print_options(FILE *f, const cli_opt *opts, bool with_help);
/* Prints the whole --help text of spec. */
void cli_print_help(FILE *f, const cli_spec *spec);

/* Prints prefix ("pond: ", "pond: warning: ") and the formatted line to stderr, after what
 * stdout holds so far: every CLI message goes out this way. */
void cli_vmessage(const char *prefix, const char *fmt, va_list ap);
/* Prints "pond: <formatted>" and the usage of spec (or of pond itself when spec is NULL) to
 * stderr and returns CLI_EXIT_USAGE. */
int cli_usage(const cli_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A decimal integer, optionally signed, without spaces or a unit. 0 on success; -1 when s is
 * not a whole number, -2 when it is one outside [min, max] (including overflow). */
int cli_parse_int(int64_t *out, const char *s, int64_t min, int64_t max);
/* "64KiB", "1MiB", "1048576", "2G": bytes; -1 when s is not a size. */
int64_t cli_parse_size(const char *s);
/* "in range" text for messages: "0 or more", "1 to 19". out needs 64 bytes. */
void cli_range_text(char out[64], int64_t min, int64_t max);

/* CLI_OPT_FN for durations: "30d", "12h", "90m", "10s", "1.5h" (no unit: seconds) into an
 * int64_t of microseconds; at most 1000 years. */
int cli_opt_duration(void *dest, const char *s);

#endif
