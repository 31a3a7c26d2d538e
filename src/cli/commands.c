/* The command table: one line per command, in the order `pond --help` lists them. */
#include "cli/cmd.h"

const pond_cmd pond_commands[] = {
    {"version", cmd_version, "print the version"},
    {NULL, NULL, NULL},
};
