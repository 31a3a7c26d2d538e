/* Replication commands (docs/replication.md): remote, push, pull, clone, verify --remote,
 * status, and the hidden server end of the wire protocol (wire-server). */
#include "cli/cli_pond.h"

#include <pond/repl.h>

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char REMOTE_ABOUT[] =
    "Remotes are other ponds this one pushes to and pulls from. They are stored in the pond's\n"
    "host-side state (_host/remotes), which is never pushed.\n"
    "URL: a directory (/mnt/usb/backup.pond), file:///path, or ssh://[user@]host[:port]/path\n"
    "(the system's ssh runs `pond wire-server PATH` there; $POND_SSH_COMMAND replaces \"ssh\").\n"
    "\n"
    "  add     record the remote NAME at URL\n"
    "  list    print each remote: name, URL (and the program on its end)\n"
    "  remove  forget the remote NAME (the remote pond itself is not touched)\n";

static const char EXEC_HELP[] = "the pond program on the other end of an ssh URL (default: pond)";

static void print_note(const char *msg, void *payload)
{
    (void)payload;
    fflush(stdout);
    fprintf(stderr, "pond: %s\n", msg);
}

static pond_repl_options options(const char *exec)
{
    pond_repl_options o = POND_REPL_OPTIONS_INIT;
    o.exec = exec && *exec ? exec : NULL;
    o.note = print_note;
    /* a remote that goes away must be an error, not a signal */
    signal(SIGPIPE, SIG_IGN);
    return o;
}

static const char *need_pond(pond_cli *cli)
{
    if (!cli->pond_dir)
        cli_error("no pond: give --pond DIR or set POND");
    return cli->pond_dir;
}

/* The remote NAME, or the only one when name is NULL. */
static int pick_remote(pond_remote *out, const char *dir, const char *name)
{
    if (name)
        return pond_remote_get(out, dir, name) < 0 ? cli_fail() : 0;
    pond_remote *v = NULL;
    size_t n = 0;
    if (pond_remote_list(&v, &n, dir) < 0)
        return cli_fail();
    if (n == 1)
        *out = v[0];
    pond_free(v);
    if (n == 1)
        return 0;
    return n == 0 ? cli_error("no remotes: add one with pond remote add NAME URL")
                  : cli_error("this pond has %zu remotes: name one (pond remote list)", n);
}

/* The options and operands of `remote SUB`: add has --exec, list and remove none. */
static void remote_spec(cli_spec *spec, cli_opt opts[2], const char **exec, const char *sub)
{
    memset(opts, 0, 2 * sizeof *opts);
    if (!strcmp(sub, "add"))
        opts[0] = (cli_opt){.name = "--exec",
                            .kind = CLI_OPT_STRING,
                            .dest = exec,
                            .arg = "PATH",
                            .help = EXEC_HELP};
    static char command[32];
    snprintf(command, sizeof command, "remote %s", sub);
    bool add = !strcmp(sub, "add"), rm = !strcmp(sub, "remove");
    *spec = (cli_spec){.command = command,
                       .operands = add  ? "NAME URL"
                                   : rm ? "NAME"
                                        : "",
                       .about = REMOTE_ABOUT,
                       .opts = opts,
                       .min_operands = add  ? 2
                                       : rm ? 1
                                            : 0,
                       .max_operands = add  ? 2
                                       : rm ? 1
                                            : 0};
}

static void remote_help(FILE *f)
{
    static const char *subs[] = {"add", "list", "remove"};
    const char *exec = NULL;
    cli_spec spec;
    cli_opt opts[2];
    for (size_t i = 0; i < 3; i++) {
        remote_spec(&spec, opts, &exec, subs[i]);
        cli_print_usage_as(f, &spec, i ? "   or: " : "usage: ");
    }
    fprintf(f, "\n%s\noptions:\n", REMOTE_ABOUT);
    remote_spec(&spec, opts, &exec, "add");
    cli_print_options(f, opts, true);
}

int cmd_remote(pond_cli *cli, int argc, char **argv)
{
    static const cli_spec top = {.command = "remote", .operands = "add|list|remove ..."};
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        if (argc < 2)
            return cli_usage(&top, "missing subcommand");
        remote_help(stdout);
        return 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "remove"))
        return cli_usage(&top, "unknown subcommand '%s'", sub);
    const char *exec = NULL;
    cli_spec spec;
    cli_opt opts[2];
    remote_spec(&spec, opts, &exec, sub);
    int n, prc = cli_parse(&n, &spec, argc - 1, argv + 1);
    if (prc >= 0)
        return prc;
    char **ops = argv + 1;
    const char *dir = need_pond(cli);
    if (!dir)
        return 1;
    if (!strcmp(sub, "add")) {
        if (!pond_oplog_is_pond(dir))
            return cli_error("'%s' is not a pond", dir);
        if (pond_remote_add(dir, ops[0], ops[1], exec) < 0)
            return cli_fail();
        return 0;
    }
    if (!strcmp(sub, "list")) {
        pond_remote *v = NULL;
        size_t nr = 0;
        if (pond_remote_list(&v, &nr, dir) < 0)
            return cli_fail();
        for (size_t i = 0; i < nr; i++) {
            printf("%s\t%s", v[i].name, v[i].url);
            if (v[i].exec[0])
                printf("\t(exec %s)", v[i].exec);
            printf("\n");
        }
        pond_free(v);
        return 0;
    }
    return pond_remote_remove(dir, ops[0]) < 0 ? cli_fail() : 0;
}

static void print_report(const char *verb, const char *name, const pond_repl_report *r)
{
    char bytes[32];
    cli_human_size(bytes, r->bytes);
    if (r->commits == 0 && r->data_files == 0 && r->blobs == 0 && !r->created) {
        printf("%s: '%s' is up to date at transaction %" PRId64 "\n", verb, name, r->to_version);
        return;
    }
    printf("%s: %s transaction %" PRId64 " -> %" PRId64 ": %" PRId64 " commits, %" PRId64
           " checkpoints, %" PRId64 " data files, %" PRId64 " blobs, %s",
           verb, name, r->from_version, r->to_version, r->commits, r->checkpoints, r->data_files,
           r->blobs, bytes);
    if (r->already)
        printf(" (%" PRId64 " already there)", r->already);
    if (r->created)
        printf(" (created)");
    printf("\n");
}

/* push and pull: [NAME] and no options. Returns -1 to go on (*name NULL: the only remote). */
static int parse_name(const char **name, int argc, char **argv, const char *command,
                      const char *about)
{
    const cli_spec spec = {
        .command = command, .operands = "[NAME]", .about = about, .opts = NULL, .max_operands = 1};
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    *name = n ? argv[0] : NULL;
    return -1;
}

/* push and pull: the same steps in either direction. */
typedef int (*sync_fn)(pond_repl_report *out, const char *dir, const char *url,
                       const pond_repl_options *o);

static int sync_cmd(pond_cli *cli, int argc, char **argv, const char *command, const char *help,
                    sync_fn fn)
{
    const char *name, *dir;
    int prc = parse_name(&name, argc, argv, command, help);
    if (prc >= 0)
        return prc;
    if (!(dir = need_pond(cli)))
        return 1;
    if (!pond_oplog_is_pond(dir))
        return cli_error("'%s' is not a pond", dir);
    pond_remote r;
    if (pick_remote(&r, dir, name))
        return 1;
    pond_repl_options o = options(r.exec);
    pond_repl_report rep;
    if (fn(&rep, dir, r.url, &o) < 0)
        return cli_fail();
    if (pond_remote_set_version(dir, r.name, rep.to_version) < 0)
        return cli_fail();
    print_report(command, r.name, &rep);
    return 0;
}

int cmd_push(pond_cli *cli, int argc, char **argv)
{
    return sync_cmd(
        cli, argc, argv, "push",
        "Send the remote what it lacks: commits, checkpoints, data files and blobs, each checked\n"
        "against its SHA-256 on arrival. The remote's log advances only after everything it\n"
        "refers to is durable there, so an interrupted push leaves it at a transaction of this\n"
        "pond and the next push resumes. The first push creates the remote (under a temporary\n"
        "name, renamed into place). Fast-forward only: a remote that is ahead or has diverged\n"
        "is refused, unchanged. NAME may be left out when the pond has one remote.\n",
        pond_repl_push);
}

int cmd_pull(pond_cli *cli, int argc, char **argv)
{
    return sync_cmd(
        cli, argc, argv, "pull",
        "Fetch what this pond lacks from the remote (fast-forward only; every byte is checked\n"
        "against its SHA-256 on arrival, corrupt bytes are refused). NAME may be left out when\n"
        "the pond has one remote.\n",
        pond_repl_pull);
}

int cmd_clone(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    const char *exec = NULL;
    const cli_opt opts[] = {
        {.name = "--exec", .kind = CLI_OPT_STRING, .dest = &exec, .arg = "PATH", .help = EXEC_HELP},
        {0},
    };
    const cli_spec spec = {
        .command = "clone",
        .operands = "URL DIR",
        .about =
            "Create the pond DIR (missing or empty) as a copy of the pond at URL, built under\n"
            "a temporary name and renamed into place; URL becomes its remote \"origin\". An\n"
            "interrupted clone resumes when run again.\n",
        .opts = opts,
        .missing = "clone needs URL and DIR",
        .min_operands = 2,
        .max_operands = 2,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    pond_repl_options o = options(exec);
    pond_repl_report rep;
    if (pond_repl_clone(&rep, argv[0], argv[1], &o) < 0)
        return cli_fail();
    print_report("clone", argv[0], &rep);
    return 0;
}

static void on_problem(const char *kind, const char *msg, void *payload)
{
    (void)payload;
    printf("%-12s %s\n", kind, msg);
}

int cmd_verify(pond_cli *cli, int argc, char **argv)
{
    const char *name = NULL, *dir;
    const cli_opt opts[] = {
        {.name = "--remote",
         .kind = CLI_OPT_STRING,
         .dest = &name,
         .arg = "NAME",
         .help = "the remote to verify"},
        {0},
    };
    const cli_spec spec = {
        .command = "verify",
        .operands = "",
        .about = "Re-hash everything the remote holds (its fsck, run where the remote is) and\n"
                 "compare its log with this pond's. Prints what is missing, corrupt or\n"
                 "different; exit 1 if anything is.\n",
        .opts = opts,
        .max_operands = 0,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    if (!name)
        return cli_usage(&spec, "verify needs --remote NAME (pond fsck checks this pond)");
    if (!(dir = need_pond(cli)))
        return 1;
    pond_remote r;
    if (pick_remote(&r, dir, name))
        return 1;
    pond_repl_options o = options(r.exec);
    pond_repl_verify_report rep;
    int rc = pond_repl_verify(&rep, dir, r.url, on_problem, NULL, &o);
    if (rc < 0 && rc != POND_ECORRUPT)
        return cli_fail();
    char hashed[32];
    cli_human_size(hashed, rep.fsck.bytes_hashed);
    printf("verified '%s': %" PRId64 " commits compared, %" PRId64 " versions in %" PRId64
           " data files, %" PRId64 " blobs (%s hashed)\n",
           r.name, rep.commits_compared, rep.fsck.rows, rep.fsck.data_files, rep.fsck.blobs_checked,
           hashed);
    printf("%" PRId64 " missing, %" PRId64 " corrupt, %" PRId64 " log files differ\n",
           rep.fsck.missing, rep.fsck.corrupt, rep.log_differs);
    return rc == POND_ECORRUPT ? cli_fail() : 0;
}

int cmd_status(pond_cli *cli, int argc, char **argv)
{
    bool offline = false;
    const cli_opt opts[] = {
        {.name = "--offline",
         .kind = CLI_OPT_FLAG,
         .dest = &offline,
         .help = "show only what the last push or pull recorded, without asking the\nremotes"},
        {0},
    };
    const cli_spec spec = {
        .command = "status",
        .operands = "",
        .about = "For each remote: where it is against this pond (up to date, N transactions\n"
                 "behind, ahead, diverged), asking each remote. Exit 1 if a remote cannot be\n"
                 "reached.\n",
        .opts = opts,
        .max_operands = 0,
    };
    int nops, prc = cli_parse(&nops, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    const char *dir = need_pond(cli);
    if (!dir)
        return 1;
    int64_t head = -1;
    if (pond_oplog_head(&head, dir) < 0) /* an unfinished push: its prefix */
        return cli_fail();
    pond_remote *v = NULL;
    size_t n = 0;
    if (pond_remote_list(&v, &n, dir) < 0)
        return cli_fail();
    printf("pond at transaction %" PRId64 "\n", head);
    if (n == 0)
        printf("no remotes (pond remote add NAME URL)\n");
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        printf("%s\t%s\t", v[i].name, v[i].url);
        if (offline) {
            if (v[i].version < 0)
                printf("never pushed or pulled\n");
            else
                printf("last agreed at transaction %" PRId64 " (%" PRId64 " behind since)\n",
                       v[i].version, head - v[i].version);
            continue;
        }
        pond_repl_options o = options(v[i].exec);
        o.note = NULL;
        pond_repl_status st;
        if (pond_repl_compare(&st, dir, v[i].url, &o) < 0) {
            printf("unreachable: %s\n", pond_error_last()->message);
            rc = 1;
            continue;
        }
        switch (st.relation) {
        case POND_REPL_SAME:
            printf("up to date\n");
            break;
        case POND_REPL_BEHIND:
            printf("%" PRId64 " transactions behind (at %" PRId64 ")\n",
                   st.local_head - st.remote_head, st.remote_head);
            break;
        case POND_REPL_AHEAD:
            printf("%" PRId64 " transactions ahead (at %" PRId64 "): pull\n",
                   st.remote_head - st.local_head, st.remote_head);
            break;
        case POND_REPL_DIVERGED:
            printf("diverged: last common transaction %" PRId64 ", remote at %" PRId64 "\n",
                   st.common, st.remote_head);
            break;
        case POND_REPL_MISSING:
            printf("no pond there yet (push creates it)\n");
            break;
        case POND_REPL_UNRELATED:
            printf("another pond (different table id)\n");
            break;
        }
    }
    pond_free(v);
    return rc;
}

/* The server end of the wire protocol, run by ssh on the remote host. Hidden from the command
 * list (it speaks the protocol on stdin/stdout, not to people); docs/replication.md. */
int cmd_wire_server(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    const cli_spec spec = {
        .command = "wire-server",
        .operands = "DIR",
        .about = "The server end of the wire protocol (docs/replication.md), run by ssh on the\n"
                 "remote's host: it speaks the protocol on stdin and stdout.\n",
        .missing = "wire-server needs the pond directory",
        .min_operands = 1,
        .max_operands = 1,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    signal(SIGPIPE, SIG_IGN);
    int rc = pond_repl_serve(STDIN_FILENO, STDOUT_FILENO, argv[0]);
    return rc < 0 ? cli_fail() : 0;
}
