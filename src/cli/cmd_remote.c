/* Replication commands (docs/replication.md): remote, push, pull, clone, verify --remote,
 * status, and the hidden server end of the wire protocol (wire-server). */
#include "cli/cli_pond.h"

#include <pond/repl.h>

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char REMOTE_HELP[] =
    "usage: pond remote add NAME URL [--exec PATH]\n"
    "       pond remote list\n"
    "       pond remote remove NAME\n"
    "\n"
    "Remotes are other ponds this one pushes to and pulls from. They are stored in the pond's\n"
    "host-side state (_host/remotes), which is never pushed.\n"
    "URL: a directory (/mnt/usb/backup.pond), file:///path, or ssh://[user@]host[:port]/path\n"
    "(the system's ssh runs `pond wire-server PATH` there; $POND_SSH_COMMAND replaces \"ssh\").\n"
    "  --exec PATH   the pond program on the other end of an ssh remote (default: pond)\n";

static const char PUSH_HELP[] =
    "usage: pond push [NAME]\n"
    "\n"
    "Send the remote what it lacks: commits, checkpoints, data files and blobs, each checked\n"
    "against its SHA-256 on arrival. The remote's log advances only after everything it refers\n"
    "to is durable there, so an interrupted push leaves it at a transaction of this pond and the\n"
    "next push resumes. The first push creates the remote (under a temporary name, renamed into\n"
    "place). Fast-forward only: a remote that is ahead or has diverged is refused, unchanged.\n"
    "NAME may be left out when the pond has one remote.\n";

static const char PULL_HELP[] =
    "usage: pond pull [NAME]\n"
    "\n"
    "Fetch what this pond lacks from the remote (fast-forward only; every byte is checked\n"
    "against its SHA-256 on arrival, corrupt bytes are refused). NAME may be left out when the\n"
    "pond has one remote.\n";

static const char CLONE_HELP[] =
    "usage: pond clone URL DIR [--exec PATH]\n"
    "\n"
    "Create the pond DIR (missing or empty) as a copy of the pond at URL, built under a\n"
    "temporary name and renamed into place; URL becomes its remote \"origin\". An interrupted\n"
    "clone resumes when run again.\n"
    "  --exec PATH   the pond program on the other end of an ssh URL (default: pond)\n";

static const char VERIFY_HELP[] =
    "usage: pond verify --remote NAME\n"
    "\n"
    "Re-hash everything the remote holds (its fsck, run where the remote is) and compare its log\n"
    "with this pond's. Prints what is missing, corrupt or different; exit 1 if anything is.\n"
    "  --remote NAME   the remote to verify\n";

static const char STATUS_HELP[] =
    "usage: pond status [--offline]\n"
    "\n"
    "For each remote: where it is against this pond (up to date, N transactions behind, ahead,\n"
    "diverged), asking each remote. Exit 1 if a remote cannot be reached.\n"
    "  --offline   show only what the last push or pull recorded, without asking the remotes\n";

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

int cmd_remote(pond_cli *cli, int argc, char **argv)
{
    static const char USAGE[] = "pond remote add NAME URL [--exec PATH] | list | remove NAME";
    if (cli_wants_help(argc, argv, REMOTE_HELP))
        return 0;
    if (argc < 2)
        return cli_usage(USAGE, "remote needs a subcommand");
    const char *dir = need_pond(cli);
    if (!dir)
        return 1;
    if (!strcmp(argv[1], "add")) {
        const char *pos[2] = {NULL, NULL}, *exec = NULL;
        int np = 0;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--exec") && i + 1 < argc)
                exec = argv[++i];
            else if (argv[i][0] == '-' && argv[i][1])
                return cli_usage(USAGE, "unknown option '%s'", argv[i]);
            else if (np < 2)
                pos[np++] = argv[i];
            else
                return cli_usage(USAGE, "too many arguments");
        }
        if (np != 2)
            return cli_usage(USAGE, "remote add needs NAME and URL");
        if (!pond_oplog_is_pond(dir))
            return cli_error("'%s' is not a pond", dir);
        if (pond_remote_add(dir, pos[0], pos[1], exec) < 0)
            return cli_fail();
        return 0;
    }
    if (!strcmp(argv[1], "list")) {
        if (argc != 2)
            return cli_usage(USAGE, "remote list takes no arguments");
        pond_remote *v = NULL;
        size_t n = 0;
        if (pond_remote_list(&v, &n, dir) < 0)
            return cli_fail();
        for (size_t i = 0; i < n; i++) {
            printf("%s\t%s", v[i].name, v[i].url);
            if (v[i].exec[0])
                printf("\t(exec %s)", v[i].exec);
            printf("\n");
        }
        pond_free(v);
        return 0;
    }
    if (!strcmp(argv[1], "remove")) {
        if (argc != 3)
            return cli_usage(USAGE, "remote remove needs NAME");
        return pond_remote_remove(dir, argv[2]) < 0 ? cli_fail() : 0;
    }
    return cli_usage(USAGE, "unknown subcommand '%s'", argv[1]);
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

static int one_name_arg(const char **name, int argc, char **argv, const char *usage)
{
    *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            return cli_usage(usage, "unknown option '%s'", argv[i]);
        if (*name)
            return cli_usage(usage, "too many arguments");
        *name = argv[i];
    }
    return 0;
}

int cmd_push(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, PUSH_HELP))
        return 0;
    const char *name, *dir;
    int rc = one_name_arg(&name, argc, argv, "pond push [NAME]");
    if (rc)
        return rc;
    if (!(dir = need_pond(cli)))
        return 1;
    if (!pond_oplog_is_pond(dir))
        return cli_error("'%s' is not a pond", dir);
    pond_remote r;
    if (pick_remote(&r, dir, name))
        return 1;
    pond_repl_options o = options(r.exec);
    pond_repl_report rep;
    if (pond_repl_push(&rep, dir, r.url, &o) < 0)
        return cli_fail();
    if (pond_remote_set_version(dir, r.name, rep.to_version) < 0)
        return cli_fail();
    print_report("push", r.name, &rep);
    return 0;
}

int cmd_pull(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, PULL_HELP))
        return 0;
    const char *name, *dir;
    int rc = one_name_arg(&name, argc, argv, "pond pull [NAME]");
    if (rc)
        return rc;
    if (!(dir = need_pond(cli)))
        return 1;
    if (!pond_oplog_is_pond(dir))
        return cli_error("'%s' is not a pond", dir);
    pond_remote r;
    if (pick_remote(&r, dir, name))
        return 1;
    pond_repl_options o = options(r.exec);
    pond_repl_report rep;
    if (pond_repl_pull(&rep, dir, r.url, &o) < 0)
        return cli_fail();
    if (pond_remote_set_version(dir, r.name, rep.to_version) < 0)
        return cli_fail();
    print_report("pull", r.name, &rep);
    return 0;
}

int cmd_clone(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    static const char USAGE[] = "pond clone URL DIR [--exec PATH]";
    if (cli_wants_help(argc, argv, CLONE_HELP))
        return 0;
    const char *pos[2] = {NULL, NULL}, *exec = NULL;
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--exec") && i + 1 < argc)
            exec = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage(USAGE, "unknown option '%s'", argv[i]);
        else if (np < 2)
            pos[np++] = argv[i];
        else
            return cli_usage(USAGE, "too many arguments");
    }
    if (np != 2)
        return cli_usage(USAGE, "clone needs URL and DIR");
    pond_repl_options o = options(exec);
    pond_repl_report rep;
    if (pond_repl_clone(&rep, pos[0], pos[1], &o) < 0)
        return cli_fail();
    print_report("clone", pos[0], &rep);
    return 0;
}

static void on_problem(const char *kind, const char *msg, void *payload)
{
    (void)payload;
    printf("%-12s %s\n", kind, msg);
}

int cmd_verify(pond_cli *cli, int argc, char **argv)
{
    static const char USAGE[] = "pond verify --remote NAME";
    if (cli_wants_help(argc, argv, VERIFY_HELP))
        return 0;
    const char *name = NULL, *dir;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--remote") && i + 1 < argc)
            name = argv[++i];
        else
            return cli_usage(USAGE, "unknown argument '%s'", argv[i]);
    }
    if (!name)
        return cli_usage(USAGE, "verify needs --remote NAME (pond fsck checks this pond)");
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
           r.name, rep.commits_compared, rep.fsck.rows, rep.fsck.data_files,
           rep.fsck.blobs_checked, hashed);
    printf("%" PRId64 " missing, %" PRId64 " corrupt, %" PRId64 " log files differ\n",
           rep.fsck.missing, rep.fsck.corrupt, rep.log_differs);
    return rc == POND_ECORRUPT ? cli_fail() : 0;
}

int cmd_status(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, STATUS_HELP))
        return 0;
    bool offline = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--offline"))
            offline = true;
        else
            return cli_usage("pond status [--offline]", "unknown argument '%s'", argv[i]);
    }
    const char *dir = need_pond(cli);
    if (!dir)
        return 1;
    int64_t head = -1;
    if (pond_delta_latest_version(&head, dir) < 0)
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
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage("pond wire-server DIR", "wire-server needs the pond directory");
    signal(SIGPIPE, SIG_IGN);
    int rc = pond_repl_serve(STDIN_FILENO, STDOUT_FILENO, argv[1]);
    return rc < 0 ? cli_fail() : 0;
}
