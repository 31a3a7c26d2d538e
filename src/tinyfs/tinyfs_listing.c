/* Directory listings read back from storage: the rules every listing obeys, and the walk that
 * notices a directory reached twice. A backend decodes listings from files a user may have
 * damaged or crafted; a listing that breaks the rules would break the binary search of
 * lookups, and two entries pointing back at their own directory make every walk of the tree
 * exponential (docs/tinyfs.md, "Damaged listings"). */
#include "tinyfs/tinyfs_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The id fields of an entry; a new id field is one more line here. A required field must be
 * present (not the nil id). An optional one is the nil id when absent (null on disk), so a
 * decoder must itself refuse a stored value that reads as the nil id, which would otherwise
 * pass as absent; file_only: only a file or symlink entry may have one. Stored ids are node ids
 * in their 36-character form (the decoder's parse). */
static const struct {
    const char *what;
    size_t offset;
    bool optional;
    bool file_only;
} ID_FIELDS[] = {
    {"node id", offsetof(pond_dir_entry, id), false, false},
    /* format 2: the home partition of a file or symlink moved here from another directory; a
     * directory is its own partition. A value equal to this directory is the default (a
     * decoder may read it as absent). */
    {"part_id", offsetof(pond_dir_entry, part_id), true, true},
};

static bool type_known(pond_entry_type t)
{
    switch (t) {
    case POND_ENTRY_DIRECTORY:
    case POND_ENTRY_SYMLINK:
    case POND_ENTRY_FILE_DATA:
    case POND_ENTRY_FILE_TABLE:
    case POND_ENTRY_FILE_SERIES:
        return true;
    default:
        return false;
    }
}

typedef struct {
    pond_dir_problem_fn fn;
    void *payload;
    int count;
} problems;

/* Reports one violation of entry i; false when the check must stop (no callback). */
static bool report(problems *p, const pond_node_rec *dir, size_t i, const char *why)
{
    char q[300], msg[512];
    const char *name = dir->entries[i].name ? dir->entries[i].name : "";
    pond_tinyfs__quote(q, sizeof q, name, POND_MIN(strlen(name), (size_t)80));
    snprintf(msg, sizeof msg, "entry %zu '%s': %s", i, q, why);
    p->count++;
    if (p->fn) {
        p->fn(msg, p->payload);
        return true;
    }
    pond_error_set(POND_ECORRUPT, POND_DOM_TINYFS, "%s", msg);
    return false;
}

int pond_dir_entries_check(const pond_node_rec *dir, pond_dir_problem_fn fn, void *payload)
{
    POND_ASSERT_ARG(dir);
    problems p = {fn, payload, 0};
    pond_node_id root = pond_node_id_root();
    for (size_t i = 0; i < dir->n_entries; i++) {
        const pond_dir_entry *e = &dir->entries[i];
        char buf[64], why[160];
        const char *bad =
            e->name ? pond_tinyfs__name_problem(e->name, strlen(e->name), buf) : "no name";
        if (bad && !report(&p, dir, i, bad))
            return POND_ECORRUPT;
        if (i > 0 && e->name && dir->entries[i - 1].name) {
            int c = strcmp(dir->entries[i - 1].name, e->name);
            if (c == 0 && !report(&p, dir, i, "the same name as the entry before it"))
                return POND_ECORRUPT;
            if (c > 0 && !report(&p, dir, i, "out of order: listings are sorted by name"))
                return POND_ECORRUPT;
        }
        for (size_t k = 0; k < POND_ARRAY_LEN(ID_FIELDS); k++) {
            const pond_node_id *id =
                (const pond_node_id *)(const void *)((const char *)e + ID_FIELDS[k].offset);
            if (pond_node_id_is_nil(id)) {
                snprintf(why, sizeof why, "no %s", ID_FIELDS[k].what);
                if (!ID_FIELDS[k].optional && !report(&p, dir, i, why))
                    return POND_ECORRUPT;
            } else if (ID_FIELDS[k].file_only && e->type == POND_ENTRY_DIRECTORY) {
                snprintf(why, sizeof why,
                         "a directory entry has a %s (a directory is its own partition)",
                         ID_FIELDS[k].what);
                if (!report(&p, dir, i, why))
                    return POND_ECORRUPT;
            }
        }
        if (pond_node_id_equal(&e->id, &dir->id) &&
            !report(&p, dir, i, "refers to the directory itself (a cycle)"))
            return POND_ECORRUPT;
        if (pond_node_id_equal(&e->id, &root) && !pond_node_id_equal(&dir->id, &root) &&
            !report(&p, dir, i, "refers to the root directory (a cycle)"))
            return POND_ECORRUPT;
        if (!type_known(e->type) && !report(&p, dir, i, "unknown entry type"))
            return POND_ECORRUPT;
    }
    return p.count;
}

/* ---- walks ------------------------------------------------------------------------------- */

typedef struct {
    pond_node_id parent;
    char *name;
    char *path;
} walk_edge;

struct pond_dir_walk {
    pond__idmap edges; /* directory id -> the walk_edge it was first reached through */
};

int pond_dir_walk_new(pond_dir_walk **out)
{
    POND_ASSERT_ARG(out);
    *out = pond_calloc(1, sizeof **out);
    return *out ? 0 : POND_ENOMEM;
}

void pond_dir_walk_free(pond_dir_walk *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < pond__idmap_slots(&w->edges); i++) {
        walk_edge *e = pond__idmap_at(&w->edges, i, NULL);
        if (!e)
            continue;
        pond_free(e->name);
        pond_free(e->path);
        pond_free(e);
    }
    pond__idmap_dispose(&w->edges);
    pond_free(w);
}

static int tree_corrupt(const char *path, const char *first, const pond_node_id *child)
{
    char id[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(id, child);
    if (!first)
        return pond_error_set(POND_ECORRUPT, POND_DOM_TINYFS,
                              "'%s' is the root directory again: the directory tree is corrupt "
                              "(a cycle; pond fsck reports every damaged listing)",
                              path);
    return pond_error_set(POND_ECORRUPT, POND_DOM_TINYFS,
                          "'%s' is directory %s, already reached as '%s': the directory tree is "
                          "corrupt (a cycle or a directory listed twice; pond fsck reports every "
                          "damaged listing)",
                          path, id, first);
}

int pond_dir_walk_enter(pond_dir_walk *w, const pond_node_id *parent, const char *name,
                        const pond_node_id *child, const char *path)
{
    POND_ASSERT_ARG(w && parent && name && child && path);
    pond_node_id root = pond_node_id_root();
    if (pond_node_id_equal(child, &root))
        return tree_corrupt(path, NULL, child);
    walk_edge *seen = pond__idmap_get(&w->edges, child);
    if (seen) {
        if (pond_node_id_equal(&seen->parent, parent) && !strcmp(seen->name, name))
            return 1;
        return tree_corrupt(path, seen->path, child);
    }
    walk_edge *e = pond_calloc(1, sizeof *e);
    if (!e)
        return POND_ENOMEM;
    e->parent = *parent;
    if (!(e->name = pond_strdup(name)) || !(e->path = pond_strdup(path)) ||
        pond__idmap_put(&w->edges, child, e, NULL) < 0) {
        pond_free(e->name);
        pond_free(e->path);
        pond_free(e);
        return POND_ENOMEM;
    }
    return 0;
}
