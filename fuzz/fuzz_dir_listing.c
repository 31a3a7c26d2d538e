/* Fuzz target: the directory listing rules and the tree walk (a backend's defence against a
 * damaged or crafted listing). The input is a listing of entries separated by '\n', each
 * "<id byte><type byte><name bytes>"; the id byte's low four bits pick one of 16 node ids (0:
 * the nil id, 1: the root, 2: the directory itself), its high four bits the part_id the same
 * way (0: none). Invariants: reporting every violation and stopping at the first agree on
 * whether the listing is valid; a valid listing has strictly increasing names each of which
 * pond_name_validate accepts, no self or root entry and no directory entry with a part_id; a
 * walk that enters
 * every directory entry (as the child of the directory, then of each of its children) ends
 * and reports a cycle when an id comes back through another entry. */
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_cb(const char *msg, void *payload)
{
    (void)msg;
    (*(int *)payload)++;
}

static pond_node_id pick(uint8_t b)
{
    pond_node_id id;
    memset(&id, 0, sizeof id);
    if ((b & 15) == 1)
        return pond_node_id_root();
    if ((b & 15) == 0)
        return id;
    id.bytes[0] = 0x01;
    id.bytes[15] = (uint8_t)(b & 15);
    return id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    pond_node_rec *dir = NULL;
    if (pond_node_rec_new(&dir) < 0)
        return 0;
    dir->id = pick(2);
    dir->type = POND_ENTRY_DIRECTORY;
    size_t cap = 1;
    for (size_t i = 0; i < size; i++)
        cap += data[i] == '\n';
    dir->entries = pond_calloc(cap, sizeof *dir->entries);
    if (!dir->entries) {
        pond_node_rec_unref(dir);
        return 0;
    }
    const char *s = (const char *)data, *end = s + size;
    while (s < end && dir->n_entries < cap) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (len >= 2) {
            pond_dir_entry *e = &dir->entries[dir->n_entries];
            e->id = pick((uint8_t)s[0]);
            e->part_id = pick((uint8_t)((uint8_t)s[0] >> 4));
            e->type = (pond_entry_type)((uint8_t)s[1] % 7);
            /* the decoder stores names up to a NUL: the same here */
            if (!(e->name = pond_strndup(s + 2, len - 2)))
                break;
            dir->n_entries++;
        }
        s = nl ? nl + 1 : end;
    }
    int n = 0;
    int all = pond_dir_entries_check(dir, count_cb, &n);
    int first = pond_dir_entries_check(dir, NULL, NULL);
    if (all != n || (all == 0) != (first == 0) || (first != 0 && first != POND_ECORRUPT))
        __builtin_trap();
    pond_node_id root = pond_node_id_root();
    for (size_t i = 0; all == 0 && i < dir->n_entries; i++) {
        const pond_dir_entry *e = &dir->entries[i];
        if (pond_name_validate(e->name, strlen(e->name)) < 0 ||
            (i && strcmp(dir->entries[i - 1].name, e->name) >= 0) ||
            pond_node_id_equal(&e->id, &dir->id) || pond_node_id_equal(&e->id, &root) ||
            (e->type == POND_ENTRY_DIRECTORY && !pond_node_id_is_nil(&e->part_id)))
            __builtin_trap();
    }
    /* the walk: the directory under the root, each directory entry under it, and each of
     * those again under every other (ids repeat: cycles and double listings are everywhere) */
    pond_dir_walk *w = NULL;
    if (pond_dir_walk_new(&w) == 0) {
        char path[64];
        int rc = pond_dir_walk_enter(w, &root, "d", &dir->id, "/d");
        for (size_t i = 0; rc >= 0 && i < dir->n_entries; i++) {
            snprintf(path, sizeof path, "/d/%zu", i);
            rc = pond_dir_walk_enter(w, &dir->id, dir->entries[i].name, &dir->entries[i].id, path);
            if (rc == POND_ECORRUPT)
                rc = 0; /* reported; a walk would stop, the fuzzer goes on */
            for (size_t k = 0; rc >= 0 && k < dir->n_entries && k < 8; k++) {
                snprintf(path, sizeof path, "/d/%zu/%zu", i, k);
                rc = pond_dir_walk_enter(w, &dir->entries[i].id, dir->entries[k].name,
                                         &dir->entries[k].id, path);
                if (rc == POND_ECORRUPT)
                    rc = 0;
            }
        }
        pond_dir_walk_free(w);
    }
    pond_node_rec_unref(dir);
    return 0;
}
