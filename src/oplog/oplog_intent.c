/* The push intent: a receiving pond links a batch of commits after one sync instead of one per
 * commit, so a power cut can keep a later commit's name and lose an earlier one's. The batch
 * is named in `_host/push-intent` and made durable before its first link; while it is there,
 * a gap among the versions it names is the cut's, not damage: pond reads the log as ending
 * before the gap, and the next writer (under the writer lock) removes the batch's commits above
 * it, then the intent (docs/replication.md, "Batches and power cuts"; docs/format.md). */
#include "oplog/oplog_intent.h"

#include <pond/delta.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_OPLOG
#define HEADER "pond push-intent 1\n"
#define MAX_VERSION 99999999999999999LL

/* ---- the text ------------------------------------------------------------------------------ */

int pond_oplog__intent_format(pond_buf *out, const pond_push_entry *v, size_t n)
{
    int rc = pond_buf_puts(out, HEADER);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char hex[65];
        pond_hash_hex(hex, &v[i].sha256);
        rc = pond_buf_printf(out, "%s %020" PRId64 " %" PRId64 " %s\n",
                             v[i].checkpoint ? "checkpoint" : "commit", v[i].version, v[i].size,
                             hex);
    }
    pond_hash sum;
    char hex[65];
    if (rc == 0)
        rc = pond_sha256_buf(&sum, out->ptr, out->size);
    if (rc == 0) {
        pond_hash_hex(hex, &sum);
        rc = pond_buf_printf(out, "end %zu %s\n", n, hex);
    }
    return rc;
}

void pond_oplog__intent_dispose(oplog_intent *in)
{
    pond_free(in->v);
    in->v = NULL;
    in->n = 0;
}

static int bad(const char *path, size_t line, const char *why)
{
    return pond_error_set(POND_ECORRUPT, D, "%s, line %zu: %s", path, line, why);
}

/* A decimal at *p, then one space or the end of the line: exactly 20 digits (a version, as in
 * log file names) or, with width 0, without leading zeros (one text per value). */
static bool number(int64_t *out, const char **p, const char *end, int64_t max, int width)
{
    const char *s = *p;
    int64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9' && s - *p < 20) {
        int d = *s++ - '0';
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (s == *p || (s < end && *s != ' '))
        return false;
    if (width ? s - *p != width : (s - *p > 1 && **p == '0'))
        return false;
    *out = v;
    *p = s < end ? s + 1 : s;
    return true;
}

static bool hex64(pond_hash *out, const char *s, const char *end)
{
    char hex[65];
    if (end - s != 64)
        return false;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        hex[i] = c;
    }
    hex[64] = '\0';
    return pond_hash_from_hex(out, hex) == 0;
}

bool pond_oplog__intent_follows(const pond_push_entry *v, size_t n, const pond_push_entry *e)
{
    /* a start from a checkpoint stages the checkpoint before its version's commit */
    if (n == 0 || e->version > v[n - 1].version)
        return true;
    return e->version == v[n - 1].version && e->checkpoint != v[n - 1].checkpoint &&
           (n < 2 || v[n - 2].version != e->version);
}

int pond_oplog__intent_parse(oplog_intent *out, const char *text, size_t len, const char *path)
{
    memset(out, 0, sizeof *out);
    size_t hl = strlen(HEADER);
    if (len < hl || memcmp(text, HEADER, hl))
        return bad(path, 1, "not a push intent (it must begin 'pond push-intent 1')");
    size_t pos = hl, line = 1, cap = 0;
    int rc = 0;
    for (;;) {
        line++;
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        if (!nl) {
            rc = bad(path, line, "the intent ends without its 'end' line (cut short)");
            break;
        }
        const char *p = s;
        if (nl - s >= 4 && !memcmp(s, "end ", 4)) {
            int64_t n;
            pond_hash want, got;
            p += 4;
            if (!number(&n, &p, nl, OPLOG_INTENT_MAX_ENTRIES, 0) || !hex64(&want, p, nl)) {
                rc = bad(path, line, "the 'end' line is not 'end <count> <sha256>'");
            } else if ((size_t)n != out->n) {
                rc = bad(path, line, "the 'end' line counts other entries than the intent has");
            } else if ((rc = pond_sha256_buf(&got, text, pos)) == 0 &&
                       !pond_hash_equal(&got, &want)) {
                rc = bad(path, line, "the SHA-256 of the intent does not match its 'end' line");
            } else if (rc == 0 && (size_t)(nl + 1 - text) != len) {
                rc = bad(path, line + 1, "text after the 'end' line");
            }
            break;
        }
        pond_push_entry e = {0};
        if (nl - s > 7 && !memcmp(s, "commit ", 7)) {
            p += 7;
        } else if (nl - s > 11 && !memcmp(s, "checkpoint ", 11)) {
            p += 11;
            e.checkpoint = true;
        } else {
            rc = bad(path, line, "expected 'commit', 'checkpoint' or 'end'");
            break;
        }
        const char *sp = memchr(p, ' ', (size_t)(nl - p));
        const char *sp2 = sp ? memchr(sp + 1, ' ', (size_t)(nl - sp - 1)) : NULL;
        if (!sp2 || !number(&e.version, &p, nl, MAX_VERSION, 20) || p != sp + 1 ||
            !number(&e.size, &p, nl, INT64_MAX, 0) || p != sp2 + 1 || !hex64(&e.sha256, p, nl)) {
            rc = bad(path, line, "expected '<kind> <version> <size> <sha256>'");
            break;
        }
        if (!pond_oplog__intent_follows(out->v, out->n, &e)) {
            rc = bad(path, line,
                     "versions must ascend (a version's commit and checkpoint once "
                     "each)");
            break;
        }
        if (out->n == OPLOG_INTENT_MAX_ENTRIES) {
            rc = bad(path, line, "more than 4096 entries");
            break;
        }
        if (POND_GROW(out->v, out->n, cap) < 0) {
            rc = POND_ENOMEM;
            break;
        }
        out->v[out->n++] = e;
        pos = (size_t)(nl + 1 - text);
    }
    if (rc < 0)
        pond_oplog__intent_dispose(out);
    return rc;
}

/* ---- what an intent on disk means ---------------------------------------------------------- */

typedef struct {
    bool present; /* `_host/push-intent` exists (as anything) */
    bool valid;   /* a regular file that parsed and whose SHA-256 matched */
    oplog_intent in;
    int64_t gap;    /* the version of the first log file it names that is missing and needed
                       (a commit; a checkpoint named before its version's commit, where a start
                       from a checkpoint began); -1 none */
    bool gap_cp;    /* the gap is a checkpoint's */
    int64_t below;  /* the newest commit or checkpoint below the gap: where the log ends */
    int64_t above;  /* log files at or above the gap */
    bool explained; /* each of them is one the intent names, with its size and SHA-256 */
    char why[512];  /* !valid: what is wrong with it; !explained: the file it does not explain */
} intent_state;

static void examine_dispose(intent_state *st) { pond_oplog__intent_dispose(&st->in); }

static const pond_push_entry *find_entry(const oplog_intent *in, int64_t version, bool cp)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->v[i].version == version && in->v[i].checkpoint == cp)
            return &in->v[i];
    return NULL;
}

static void log_name(char out[64], const pond_push_entry *e)
{
    snprintf(out, 64, "%020" PRId64 ".%s", e->version,
             e->checkpoint ? "checkpoint.parquet" : "json");
}

/* Whether log file `name` (version >= gap) is the intent's; sets st->why when not. */
static int check_above(intent_state *st, const char *dir, const char *name, int64_t size)
{
    int64_t v = 0;
    const char *p = name;
    (void)number(&v, &p, p + 20, MAX_VERSION, 20);
    bool cp = !strcmp(name + 20, ".checkpoint.parquet");
    const pond_push_entry *e = NULL;
    if (cp || !strcmp(name + 20, ".json"))
        e = find_entry(&st->in, v, cp);
    bool same = e && e->size == size;
    if (same) {
        char rel[300];
        pond_buf b = POND_BUF_INIT;
        pond_hash h;
        snprintf(rel, sizeof rel, "_delta_log/%s", name);
        int rc = pond__read_file_in(&b, dir, rel, (size_t)size + 1, D);
        if (rc == 0)
            rc = pond_sha256_buf(&h, b.ptr ? b.ptr : "", b.size);
        pond_buf_dispose(&b);
        if (rc == POND_ENOMEM)
            return rc;
        same = rc == 0 && pond_hash_equal(&h, &e->sha256);
        pond_error_clear();
    }
    if (!same) {
        st->explained = false;
        snprintf(st->why, sizeof st->why, "_delta_log/%.200s is not a log file it names", name);
    }
    return 0;
}

/* Reads the intent and what the log holds of the versions it names; the log is listed only when
 * a gap is found (after a power cut), otherwise one stat per named commit. */
static int examine(intent_state *st, const char *dir)
{
    memset(st, 0, sizeof *st);
    st->gap = st->below = -1;
    st->explained = true;
    pond_buf b = POND_BUF_INIT;
    char *path = pond__path_join(dir, OPLOG_INTENT_NAME);
    if (!path)
        return POND_ENOMEM;
    int rc = pond__read_file_in(&b, dir, OPLOG_INTENT_NAME, OPLOG_INTENT_MAX_BYTES, D);
    if (rc == POND_ENOTFOUND) {
        struct stat sb;
        /* a dangling link is still something there */
        st->present = pond__os_lstat(path, &sb) == 0;
        if (st->present)
            snprintf(st->why, sizeof st->why, "%s", pond_error_last()->message);
        rc = 0;
        pond_error_clear();
        goto done;
    }
    st->present = true;
    if (rc == 0)
        rc = pond_oplog__intent_parse(&st->in, b.ptr ? b.ptr : "", b.size, path);
    if (rc == POND_ECORRUPT || rc == POND_EINVALID) {
        snprintf(st->why, sizeof st->why, "%s", pond_error_last()->message);
        pond_error_clear();
        rc = 0;
        goto done;
    }
    if (rc < 0)
        goto done;
    st->valid = true;
    for (size_t i = 0; i < st->in.n && st->gap < 0; i++) {
        const pond_push_entry *e = &st->in.v[i];
        if (e->checkpoint && i > 0 && !st->in.v[i - 1].checkpoint &&
            st->in.v[i - 1].version == e->version)
            continue; /* a checkpoint after its commit: the log does not need it */
        char name[64];
        log_name(name, &st->in.v[i]);
        struct stat sb;
        char *p = pond__path_join(dir, "_delta_log");
        if (!p) {
            rc = POND_ENOMEM;
            goto done;
        }
        char *full = pond__path_join(p, name);
        pond_free(p);
        if (!full) {
            rc = POND_ENOMEM;
            goto done;
        }
        if (pond__os_lstat(full, &sb) != 0) {
            if (errno == ENOENT) {
                st->gap = e->version;
                st->gap_cp = e->checkpoint;
            } else {
                rc = pond_error_set_os(D, "stat '%s'", full);
            }
        }
        pond_free(full);
        if (rc < 0)
            goto done;
    }
    if (st->gap < 0)
        goto done;
    pond_dir *root = NULL, *log = NULL;
    if ((rc = pond__dir_open(&root, dir, true, D)) == 0)
        rc = pond__dir_open_at(&log, root, "_delta_log", D);
    pond__dir_close(root);
    pond_dirent de;
    while (rc == 0 && (rc = pond__dir_next(&de, log, D)) == 0) {
        int64_t v;
        const char *p = de.name;
        if (strlen(de.name) < 21 || de.name[20] != '.' ||
            !number(&v, &p, de.name + 20, MAX_VERSION, 20) || p != de.name + 20)
            continue;
        if (v < st->gap) {
            bool log_file =
                !strcmp(de.name + 20, ".json") || !strcmp(de.name + 20, ".checkpoint.parquet");
            if (log_file && v > st->below)
                st->below = v;
            continue;
        }
        st->above++;
        if (st->explained)
            rc =
                check_above(st, dir, de.name, S_ISREG(de.st.st_mode) ? (int64_t)de.st.st_size : -1);
    }
    pond__dir_close(log);
    if (rc == POND_ITEROVER)
        rc = 0;
done:
    pond_buf_dispose(&b);
    pond_free(path);
    if (rc < 0)
        examine_dispose(st);
    return rc;
}

/* The version the log ends at, when an unfinished push hides what is above a gap. */
static int64_t hidden_end(const intent_state *st)
{
    return st->valid && st->gap >= 0 && st->above > 0 && st->explained ? st->below : -1;
}

/* ---- the API ------------------------------------------------------------------------------- */

int pond_oplog_intent_end(int64_t *end_out, const char *dir)
{
    POND_ASSERT_ARG(end_out && dir);
    *end_out = -1;
    intent_state st;
    int rc = examine(&st, dir);
    if (rc == 0)
        *end_out = hidden_end(&st);
    examine_dispose(&st);
    return rc;
}

int pond_oplog_head(int64_t *version_out, const char *dir)
{
    POND_ASSERT_ARG(version_out && dir);
    int64_t end = -1;
    int rc = pond_oplog_intent_end(&end, dir);
    if (rc == 0 && end < 0)
        rc = pond_delta_latest_version(&end, dir);
    if (rc == 0)
        *version_out = end;
    return rc;
}

int pond_oplog_intent_write(const char *dir, const pond_push_entry *v, size_t n)
{
    POND_ASSERT_ARG(dir && (v || n == 0) && n <= OPLOG_INTENT_MAX_ENTRIES);
    for (size_t i = 0; i < n; i++)
        if (!pond_oplog__intent_follows(v, i, &v[i]) || v[i].version < 0 || v[i].size < 0)
            return pond_error_set(POND_EINVALID, D,
                                  "push intent for '%s': log file %zu (version %" PRId64
                                  ") is out of order",
                                  dir, i, v[i].version);
    pond_buf b = POND_BUF_INIT;
    char *host = pond__path_join(dir, POND_HOST_DIR);
    char *path = pond__path_join(dir, OPLOG_INTENT_NAME);
    int fd = -1, rc = host && path ? pond_oplog__intent_format(&b, v, n) : POND_ENOMEM;
    if (rc == 0)
        rc = pond__mkdir_own(host, NULL, D);
    /* never one left over: the writer lock's holder removed it (pond_oplog_intent_finish) */
    if (rc == 0)
        rc = pond__open(&fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644, D);
    if (rc == 0)
        rc = pond__write_all(fd, b.ptr, b.size, path, D);
    pond__close(fd);
    if (rc < 0 && fd >= 0)
        (void)pond__os_unlink(path);
    pond_buf_dispose(&b);
    pond_free(host);
    pond_free(path);
    return rc;
}

/* Removes the intent (only a regular file: anything else there is not pond's) and makes that
 * durable: an intent that came back after a power cut could later name commits a log cleanup
 * removed, and read as a gap. */
static int remove_intent(const char *dir)
{
    pond_dir *root = NULL, *host = NULL;
    int rc = pond__dir_open(&root, dir, true, D);
    if (rc == 0)
        rc = pond__dir_open_at(&host, root, POND_HOST_DIR, D);
    pond__dir_close(root);
    if (rc == 0)
        rc = pond__dir_remove_file(host, "push-intent", D);
    if (rc == POND_ENOTFOUND) {
        pond_error_clear();
        rc = 0;
    }
    if (rc == 0)
        rc = pond__dir_fsync(host, D);
    pond__dir_close(host);
    return rc;
}

int pond_oplog_intent_clear(const char *dir)
{
    POND_ASSERT_ARG(dir);
    return remove_intent(dir);
}

int pond_oplog_intent_finish(const char *dir)
{
    POND_ASSERT_ARG(dir);
    intent_state st;
    int rc = examine(&st, dir);
    if (rc < 0 || !st.present) {
        examine_dispose(&st);
        return rc;
    }
    if (st.valid && st.gap >= 0 && st.above > 0 && !st.explained) {
        rc = pond_error_set(POND_ECORRUPT, D,
                            "pond '%s': %s %" PRId64 " is missing and %s (an unfinished push "
                            "named the batch in %s): nothing was removed; pond fsck tells more",
                            dir, st.gap_cp ? "checkpoint" : "commit", st.gap, st.why,
                            OPLOG_INTENT_NAME);
        examine_dispose(&st);
        return rc;
    }
    pond_dir *root = NULL, *log = NULL;
    if ((rc = pond__dir_open(&root, dir, true, D)) == 0)
        rc = pond__dir_open_at(&log, root, "_delta_log", D);
    pond__dir_close(root);
    if (rc == POND_ENOTFOUND && !st.valid) {
        pond_error_clear(); /* a torn intent of a first push that linked nothing */
        examine_dispose(&st);
        return remove_intent(dir);
    }
    /* the batch's files above the gap, newest first: each is the intent's (checked above) */
    bool remove = st.valid && st.gap >= 0 && st.above > 0; /* and explained: checked above */
    for (size_t i = st.in.n; rc == 0 && remove && i > 0; i--) {
        const pond_push_entry *e = &st.in.v[i - 1];
        char name[64];
        if (e->version < st.gap)
            break;
        log_name(name, e);
        rc = pond__dir_remove_file(log, name, D);
        if (rc == POND_ENOTFOUND) {
            pond_error_clear();
            rc = 0;
        }
    }
    /* what stays of the batch (and the removals) durable before the intent goes */
    if (rc == 0)
        rc = pond__dir_fsync(log, D);
    pond__dir_close(log);
    if (rc == 0)
        rc = remove_intent(dir);
    examine_dispose(&st);
    return rc;
}

int pond_oplog__intent_report(const char *dir, pond_fsck_fn fn, void *payload)
{
    intent_state st;
    int rc = examine(&st, dir);
    if (rc < 0 || !st.present || !fn) {
        examine_dispose(&st);
        return rc;
    }
    char msg[1024];
    int64_t first = st.in.n ? st.in.v[0].version : -1;
    int64_t last = st.in.n ? st.in.v[st.in.n - 1].version : -1;
    const char *kind = st.gap_cp ? "checkpoint" : "commit";
    if (!st.valid)
        snprintf(msg, sizeof msg,
                 "%s: an interrupted push left it before linking anything (%s); the next push "
                 "or write removes it",
                 OPLOG_INTENT_NAME, st.why);
    else if (hidden_end(&st) >= 0)
        snprintf(msg, sizeof msg,
                 "unfinished push of transactions %" PRId64 "..%" PRId64 " (%s): a power cut "
                 "lost %s %" PRId64 ", so the pond reads as transaction %" PRId64
                 "; the next push or write removes the %" PRId64 " log files above it",
                 first, last, OPLOG_INTENT_NAME, kind, st.gap, st.below, st.above);
    else if (st.gap >= 0 && st.above > 0)
        snprintf(msg, sizeof msg,
                 "unfinished push of transactions %" PRId64 "..%" PRId64 " (%s): %s %" PRId64
                 " is missing and %s",
                 first, last, OPLOG_INTENT_NAME, kind, st.gap, st.why);
    else
        snprintf(msg, sizeof msg,
                 "unfinished push of transactions %" PRId64 "..%" PRId64
                 " (%s): nothing is missing; the next push or write removes the intent",
                 first, last, OPLOG_INTENT_NAME);
    fn("unfinished", msg, payload);
    examine_dispose(&st);
    return 0;
}
