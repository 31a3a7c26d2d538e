/* The command table: one line per command, in the order `pond --help` lists them. */
#include "cli/cmd.h"

const pond_cmd pond_commands[] = {
    {"init", cmd_init, "create a new pond"},
    {"mkdir", cmd_mkdir, "create directories"},
    {"copy", cmd_copy, "copy files into the pond or out of it"},
    {"list", cmd_list, "list entries (globs, long format, JSON)"},
    {"cat", cmd_cat, "print a file"},
    {"rm", cmd_rm, "remove entries"},
    {"mv", cmd_mv, "move or rename an entry"},
    {"ln", cmd_ln, "create a symbolic link"},
    {"set", cmd_set, "record a series' settings (dedup, compaction)"},
    {"describe", cmd_describe, "type, schema, versions, rows, time ranges, storage"},
    {"log", cmd_log, "list transactions"},
    {"fsck", cmd_fsck, "verify every data file, content and blob"},
    {"gc", cmd_gc, "remove unreferenced blobs and files; retention; compaction"},
    {"version", cmd_version, "print the version"},
    {"delta", cmd_delta, "inspect a Delta Lake table (log, dump, checkpoint)"},
    {"parquet", cmd_parquet, "inspect a Parquet file (meta, dump)"},
    {"query", cmd_query, "run SQL over tables and series (joins across files)"},
    {NULL, NULL, NULL},
};
