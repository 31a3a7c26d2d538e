/* Checking every file of a `_delta_log` on its own (pond fsck): a damaged checkpoint does not
 * stop a read (the JSON commits stand in for it), so only a check of each file finds it; a
 * damaged old commit that a newer checkpoint covers is only met by a read of an old version. */
#include "delta/delta_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    pond_delta_log_problem_fn fn;
    void *payload;
    int n;
} reporter;

static void report(reporter *r, const char *file, pond_delta_log_file_kind kind, int64_t version,
                   const char *problem)
{
    pond_delta_log_problem p = {file, kind, version, problem};
    r->n++;
    if (r->fn)
        r->fn(&p, r->payload);
}

/* Reports a file that failed its check with the message of its error. ENOMEM stops. */
static int failed(reporter *r, int rc, const char *file, pond_delta_log_file_kind kind,
                  int64_t version)
{
    if (rc == POND_ENOMEM)
        return rc;
    char why[1024];
    snprintf(why, sizeof why, "%s", pond_error_last()->message);
    report(r, file, kind, version, why);
    pond_error_clear();
    return 0;
}

static int check_last_checkpoint(reporter *r, const char *log_dir, const delta_log_list *l)
{
    char *p = pond__path_join(log_dir, "_last_checkpoint");
    if (!p)
        return POND_ENOMEM;
    struct stat st;
    if (pond__os_lstat(p, &st) != 0) {
        pond_free(p);
        return 0; /* absent: a hint that is not there misleads nobody */
    }
    pond_buf b = POND_BUF_INIT;
    json_t *j = NULL;
    int rc = pond__read_file(&b, p, DELTA_MAX_LAST_CHECKPOINT_BYTES, POND_DOM_DELTA);
    if (rc == 0 && !b.size)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "it is empty");
    if (rc == 0 && !(j = pond__json_parse(b.ptr, b.size, 0, "_last_checkpoint", POND_DOM_DELTA)))
        rc = pond_error_last()->code;
    int64_t v = -1;
    if (rc == 0 && (!pond__json_int(&v, j, "version") || v < 0))
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "no valid \"version\"");
    if (rc == 0) {
        bool found = false;
        for (size_t i = 0; i < l->n && !found; i++)
            found = l->v[i].version == v && l->v[i].kind != DELTA_LOG_COMMIT;
        if (!found)
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "it names checkpoint %" PRId64 ", which does not exist", v);
    }
    if (rc < 0)
        rc = failed(r, rc, "_last_checkpoint", POND_DELTA_LOG_LAST_CHECKPOINT, v);
    json_decref(j);
    pond_buf_dispose(&b);
    pond_free(p);
    return rc;
}

int pond_delta_log_check(int *n_out, const char *dir, pond_delta_log_problem_fn fn, void *payload)
{
    POND_ASSERT_ARG(n_out && dir);
    *n_out = 0;
    reporter r = {fn, payload, 0};
    char *log_dir = pond__path_join(dir, "_delta_log");
    if (!log_dir)
        return POND_ENOMEM;
    delta_log_list l = {0};
    int rc = pond_delta__log_list(&l, log_dir);
    /* A hole in the commits below a checkpoint that reads is no damage: a reader starts at the
     * newest checkpoint (the Delta protocol), and a log that a transfer started from a
     * checkpoint (docs/replication.md) has exactly such a hole. Above the newest readable
     * checkpoint a hole makes the log unreadable. So the checkpoints are checked first. */
    int64_t good_cp = -1;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const delta_log_entry *e = &l.v[i];
        if (e->kind == DELTA_LOG_COMMIT || (e->kind == DELTA_LOG_CP_MULTI && e->part != 1))
            continue;
        uint32_t parts = e->kind == DELTA_LOG_CP_MULTI ? e->parts : 1;
        /* a multi-part set must have parts 1..n in order after its first */
        uint32_t have = 1;
        while (e->kind == DELTA_LOG_CP_MULTI && i + have < l.n && have < parts &&
               l.v[i + have].kind == DELTA_LOG_CP_MULTI && l.v[i + have].parts == parts &&
               l.v[i + have].part == have + 1)
            have++;
        int crc = have == parts
                      ? pond_delta__check_checkpoint(log_dir, e, parts)
                      : pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                       "multi-part checkpoint has %u of its %u parts", have, parts);
        if (crc < 0)
            rc = failed(&r, crc, e->name, POND_DELTA_LOG_CHECKPOINT, e->version);
        else if (e->version > good_cp)
            good_cp = e->version;
    }
    int64_t prev = -1;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const delta_log_entry *e = &l.v[i];
        if (e->kind != DELTA_LOG_COMMIT)
            continue;
        char *p = pond__path_join(log_dir, e->name);
        if (!p) {
            rc = POND_ENOMEM;
            break;
        }
        /* a hole between the oldest and the newest commit (a cleanup removes a prefix) that
         * no readable checkpoint stands for */
        for (int64_t v = prev + 1 > good_cp + 1 ? prev + 1 : good_cp + 1;
             prev >= 0 && v < e->version; v++) {
            char name[40], why[160];
            snprintf(name, sizeof name, "%020" PRId64 ".json", v);
            snprintf(why, sizeof why, "missing (versions %" PRId64 " and %" PRId64 " exist)", prev,
                     e->version);
            report(&r, name, POND_DELTA_LOG_COMMIT, v, why);
        }
        prev = e->version;
        int crc = pond_delta__check_commit(p, e->version);
        if (crc < 0)
            rc = failed(&r, crc, e->name, POND_DELTA_LOG_COMMIT, e->version);
        pond_free(p);
    }
    if (rc == 0)
        rc = check_last_checkpoint(&r, log_dir, &l);
    pond_delta__log_list_dispose(&l);
    pond_free(log_dir);
    *n_out = r.n;
    return rc;
}
