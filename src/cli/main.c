#include "cli/cmd.h"

#include <pond/sql.h>
#include <pond/sys/os.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_help(void)
{
    printf(
        "usage: pond [--pond DIR] [--at N] [--threads N] [--sql-timeout MS] COMMAND [ARGS...]\n"
        "\n"
        "pond keeps files, tables and time series in one local directory that is a Delta Lake\n"
        "table: every change is one atomic transaction and every file keeps its versions.\n"
        "\n"
        "global options:\n"
        "  --pond DIR   the pond to use (default: $POND)\n"
        "  --at N       read commands see the pond as of transaction N (0 or more; pond log)\n"
        "  --threads N  threads parsing CSV and encoding and decoding Parquet for tables and\n"
        "               series, 1 to 64 (default 2); what is stored and read is the same for\n"
        "               any N\n"
        "  --sql-timeout MS  time limit of each evaluation of a sql recipe (pond derive sql), in\n"
        "               milliseconds, 1 to 86400000 (default 600000: 10 minutes)\n"
        "  --version    print the version and exit\n"
        "  -h, --help   print this help (COMMAND --help for a command's help)\n"
        "\n"
        "commands:\n");
    for (const pond_cmd *c = pond_commands; c->name; c++)
        if (c->summary)
            printf("  %-10s %s\n", c->name, c->summary);
}

/* ---- reliability hooks (docs/reliability.md): build/pond-test only ------------------------- */

/* The shipped CLI never reads POND_FAULT or POND_TRACE: a variable left in a user's environment
 * must not fail or trace their commands. build/pond-test (POND_TEST_CLI) is the crash
 * harness's binary. */
#ifdef POND_TEST_CLI
#include <pond/sys/testing.h>

/* POND_FAULT=kind:call:n[:errno][:persist]  kind: errno|short|eintr|crash; call: a shim call
 * name (write, fsync, rename, ...) or "any" (any mutating call); errno: a number or EIO, ENOSPC,
 * EACCES, EROFS, EDQUOT; persist: 1 = every matching call from the nth on. */
static int install_fault(const char *spec)
{
    char buf[128];
    if (strlen(spec) >= sizeof buf)
        return -1;
    strcpy(buf, spec);
    char *parts[5] = {0};
    int np = 0;
    for (char *save = NULL, *t = strtok_r(buf, ":", &save); t && np < 5;
         t = strtok_r(NULL, ":", &save))
        parts[np++] = t;
    if (np < 3)
        return -1;
    pond_fault_kind kind;
    if (!strcmp(parts[0], "errno"))
        kind = POND_FAULT_ERRNO;
    else if (!strcmp(parts[0], "short"))
        kind = POND_FAULT_SHORT;
    else if (!strcmp(parts[0], "eintr"))
        kind = POND_FAULT_EINTR;
    else if (!strcmp(parts[0], "crash"))
        kind = POND_FAULT_CRASH;
    else
        return -1;
    int call = -1;
    for (int c = 0; c <= POND_OS__COUNT; c++)
        if (!strcmp(parts[1], pond_os_call_name((pond_os_call)c)))
            call = c;
    char *end = NULL;
    unsigned long long n = strtoull(parts[2], &end, 10);
    if (call < 0 || *end || n == 0)
        return -1;
    int err = EIO;
    if (np > 3) {
        static const struct {
            const char *name;
            int value;
        } names[] = {{"EIO", EIO},
                     {"ENOSPC", ENOSPC},
                     {"EACCES", EACCES},
                     {"EROFS", EROFS},
                     {"EDQUOT", EDQUOT}};
        err = 0;
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (!strcmp(parts[3], names[k].name))
                err = names[k].value;
        if (!err && (err = (int)strtol(parts[3], &end, 10)) <= 0)
            return -1;
    }
    bool persist = np > 4 && !strcmp(parts[4], "1");
    pond_os_fault_at((pond_os_call)call, n, kind, err, persist);
    return 0;
}

/* POND_TRACE=FILE appends one line per mutating call:
 *   <pid> <seq> <call> <path|-> <path2|-> <fd> <rc> <errno|0> [<open flags>] [<off> <len>]
 * open (with O_CREAT) adds its flags; write, pwrite and ftruncate add the file offset written at
 * (the new length for ftruncate) and the byte count (0 for ftruncate); offset -1 when a write
 * failed.
 * fd-based calls name the file through /proc/self/fd. "fault" marks where the injected fault
 * fired (the failed call itself never reaches the trace). Written with write(2), unbuffered,
 * so it survives _exit. */
static int g_trace_fd = -1;
static uint64_t g_trace_seq;
static bool g_trace_fault_seen;

static void trace_line(pond_os_call call, const char *path, const char *path2, int fd, int64_t off,
                       const void *data, size_t len, long rc, void *payload)
{
    (void)data, (void)len, (void)payload;
    int saved = errno;
    char fdpath[600] = "-";
    if (!path && fd >= 0) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, fdpath, sizeof fdpath - 1);
        fdpath[k > 0 ? (size_t)k : 0] = '\0';
        if (k <= 0)
            strcpy(fdpath, "?");
    }
    char line[1400];
    int k = 0;
    if (!g_trace_fault_seen && pond_os_fault_fired()) {
        g_trace_fault_seen = true;
        k = snprintf(line, sizeof line, "%d %" PRIu64 " fault - - -1 -1 0\n", (int)getpid(),
                     ++g_trace_seq);
    }
    int m = snprintf(line + k, sizeof line - (size_t)k, "%d %" PRIu64 " %s %s %s %d %ld %d",
                     (int)getpid(), ++g_trace_seq, pond_os_call_name(call), path ? path : fdpath,
                     path2 ? path2 : "-", fd, rc, rc < 0 ? saved : 0);
    if (m > 0 && (size_t)(k + m) < sizeof line - 64) {
        k += m;
        if (call == POND_OS_OPEN)
            k += snprintf(line + k, sizeof line - (size_t)k, " %s%s%s",
                          (off & O_EXCL) ? "excl" : "noexcl", (off & O_TRUNC) ? ",trunc" : "",
                          (off & O_APPEND) ? ",append" : "");
        if (call == POND_OS_WRITE && rc > 0) /* write(2) moved the position past its bytes */
            off = (int64_t)lseek(fd, 0, SEEK_CUR) - rc;
        if (call == POND_OS_WRITE || call == POND_OS_PWRITE || call == POND_OS_FTRUNCATE)
            k += snprintf(line + k, sizeof line - (size_t)k, " %" PRId64 " %zu",
                          rc < 0 && call != POND_OS_FTRUNCATE ? (int64_t)-1 : off, len);
        line[k++] = '\n';
        ssize_t w = write(g_trace_fd, line, (size_t)k);
        (void)w;
    }
    errno = saved;
}

static void trace_exit(void)
{
    if (g_trace_fd >= 0) {
        char line[64];
        int k = snprintf(line, sizeof line, "%d %" PRIu64 " exit - - -1 0 0\n", (int)getpid(),
                         ++g_trace_seq);
        ssize_t w = write(g_trace_fd, line, (size_t)k);
        (void)w;
    }
}

static int install_hooks(void)
{
    const char *f = getenv("POND_FAULT");
    if (f && *f && install_fault(f) < 0) {
        fprintf(stderr, "pond: bad POND_FAULT '%s' (kind:call:n[:errno][:persist])\n", f);
        return -1;
    }
    const char *t = getenv("POND_TRACE");
    if (t && *t) {
        g_trace_fd = open(t, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (g_trace_fd < 0) {
            fprintf(stderr, "pond: POND_TRACE '%s': %s\n", t, strerror(errno));
            return -1;
        }
        pond_os_set_trace(trace_line, NULL);
        atexit(trace_exit);
    }
    return 0;
}
#else
static int install_hooks(void) { return 0; }
#endif

int main(int argc, char **argv)
{
    pond_cli cli = {.pond_dir = getenv("POND"),
                    .argv0 = argv[0],
                    .at_version = -1,
                    .cmdline_argc = argc,
                    .cmdline_argv = argv};
    if (cli.pond_dir && !*cli.pond_dir)
        cli.pond_dir = NULL;
    if (install_hooks() < 0)
        return 2;
    pond_sql_derive_register(); /* writes keep sql recipes current (docs/derived.md) */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        bool is_pond = nlen == 6 && !strncmp(a, "--pond", 6);
        bool is_at = nlen == 4 && !strncmp(a, "--at", 4);
        bool is_threads = nlen == 9 && !strncmp(a, "--threads", 9);
        bool is_sql_timeout = nlen == 13 && !strncmp(a, "--sql-timeout", 13);
        if (!strcmp(a, "--version")) {
            printf("pond %s\n", pond_version());
            return 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help();
            return 0;
        } else if (is_pond || is_at || is_threads || is_sql_timeout) {
            const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!v)
                return cli_usage(NULL, "%.*s needs a value", (int)nlen, a);
            if (is_pond) {
                if (!*v)
                    return cli_usage(NULL, "--pond: empty directory name");
                cli.pond_dir = v;
                continue;
            }
            if (is_sql_timeout) {
                int64_t ms;
                if (cli_parse_int(&ms, v, 1, 86400000) < 0)
                    return cli_usage(NULL,
                                     "--sql-timeout: '%s' is not a time limit in milliseconds "
                                     "(1 to 86400000)",
                                     v);
                pond_sql_derive_set_time_limit(ms);
                continue;
            }
            if (is_threads) {
                int64_t n;
                if (cli_parse_int(&n, v, 1, 64) < 0)
                    return cli_usage(NULL, "--threads: '%s' is not a thread count (1 to 64)", v);
                cli.threads = (int)n;
                continue;
            }
            int rc = cli_parse_int(&cli.at_version, v, 0, INT64_MAX);
            if (rc == -1)
                return cli_usage(NULL,
                                 "--at: '%s' is not a transaction number (0 or more; see "
                                 "pond log)",
                                 v);
            if (rc == -2)
                return cli_usage(NULL, "--at: %s is out of range (0 or more; see pond log)", v);
        } else {
            return cli_usage(NULL, "unknown option '%s'", a);
        }
    }
    if (i >= argc) {
        print_help();
        return 2;
    }
    for (const pond_cmd *c = pond_commands; c->name; c++) {
        if (strcmp(c->name, argv[i]))
            continue;
        /* commands reorder their argv (operands first); the command line recorded in the
         * commit keeps the order the user typed */
        int n = argc - i;
        char **args = malloc(((size_t)n + 1) * sizeof *args);
        if (!args)
            return cli_error("out of memory");
        memcpy(args, argv + i, (size_t)n * sizeof *args);
        args[n] = NULL;
        int rc = c->fn(&cli, n, args);
        free(args);
        return rc;
    }
    return cli_usage(NULL, "unknown command '%s' (pond --help lists them)", argv[i]);
}
