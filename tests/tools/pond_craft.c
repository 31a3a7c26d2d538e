/* pond_craft: builds damaged ponds for the hostile-pond suite (tests/hostile/). Test-only: it
 * writes what pond itself refuses to write.
 *
 *   pond_craft id POND PATH                      print the node id of PATH
 *   pond_craft listing [--format 1] POND DIR_ID [NAME ID TYPE[@PART]]...
 *        commit a new version of directory DIR_ID (or "root") whose listing is exactly the
 *        entries given, in that order, in pond format 2 (entries with a part_id: PART, the
 *        stored text, when the type ends in @PART, else null) or with --format 1 in format 1
 *        (no part_id field); NAME may hold \xNN escapes (\x00 for a NUL byte), ID and PART
 *        may be "root". */
#include "../oplog/craft.h"

#include <pond/errors.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ROOT[] = "00000000-0000-7000-8000-000000000000";

static size_t unescape(char *out, const char *in)
{
    size_t o = 0;
    for (size_t i = 0; in[i]; i++) {
        if (in[i] == '\\' && in[i + 1] == 'x' && in[i + 2] && in[i + 3]) {
            char hex[3] = {in[i + 2], in[i + 3], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 3;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return o;
}

static int print_id(const char *pond, const char *path)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    pond_stat st;
    int rc = pond_oplog_open(&be, pond, NULL);
    if (rc == 0)
        rc = pond_fs_open(&fs, be, NULL);
    if (rc == 0)
        rc = pond_fs_lstat(&st, fs, NULL, path);
    if (rc == 0) {
        char id[POND_NODE_ID_STRLEN + 1];
        pond_node_id_format(id, &st.id);
        printf("%s\n", id);
    }
    pond_fs_free(fs);
    pond_backend_free(be);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 4 && !strcmp(argv[1], "id")) {
        rc = print_id(argv[2], argv[3]);
    } else if (argc >= 4 && !strcmp(argv[1], "listing")) {
        int format = 2, a = 2;
        if (!strcmp(argv[a], "--format") && a + 1 < argc) {
            format = atoi(argv[a + 1]);
            a += 2;
        }
        if (argc - a < 2 || (argc - a - 2) % 3 != 0)
            goto usage;
        size_t n = (size_t)(argc - a - 2) / 3;
        craft_entry *e = calloc(n ? n : 1, sizeof *e);
        char **names = calloc(n ? n : 1, sizeof *names);
        char **types = calloc(n ? n : 1, sizeof *types);
        for (size_t i = 0; i < n; i++) {
            const char *nm = argv[a + 2 + 3 * i], *id = argv[a + 3 + 3 * i];
            names[i] = malloc(strlen(nm) + 1);
            e[i].name_len = unescape(names[i], nm);
            e[i].name = names[i];
            e[i].id = strcmp(id, "root") ? id : ROOT;
            types[i] = strdup(argv[a + 4 + 3 * i]);
            char *at = strchr(types[i], '@');
            if (at) {
                *at = '\0';
                e[i].part_id = strcmp(at + 1, "root") ? at + 1 : ROOT;
            }
            e[i].type = types[i];
        }
        const char *dir = argv[a + 1];
        rc = craft_listing_format(argv[a], format, strcmp(dir, "root") ? dir : ROOT, e, n);
        for (size_t i = 0; i < n; i++) {
            free(names[i]);
            free(types[i]);
        }
        free(types);
        free(names);
        free(e);
    } else {
    usage:
        fprintf(stderr, "usage: pond_craft id POND PATH\n"
                        "       pond_craft listing [--format 1] POND DIR_ID "
                        "[NAME ID TYPE[@PART]]...\n");
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "pond_craft: %s\n", pond_error_last()->message);
        return 1;
    }
    return 0;
}
