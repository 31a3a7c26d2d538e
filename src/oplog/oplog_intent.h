/* The push intent (`_host/push-intent`, docs/format.md): what a receiving pond is about to link
 * in one batch, so that a power cut inside the batch never shows a gap (docs/replication.md,
 * "Batches and power cuts"). The parser is fuzzed (fuzz/fuzz_intent.c). */
#ifndef POND_OPLOG_INTENT_H
#define POND_OPLOG_INTENT_H

#include <pond/oplog.h>

#include "util/util.h"

#define OPLOG_INTENT_NAME POND_HOST_DIR "/push-intent"
#define OPLOG_INTENT_MAX_BYTES ((size_t)1 << 20)
#define OPLOG_INTENT_MAX_ENTRIES 4096

typedef struct {
    pond_push_entry *v;
    size_t n;
} oplog_intent;

/* Whether e may follow v[0..n-1] in an intent: versions ascend, a version's commit and
 * checkpoint at most once each, in either order. */
bool pond_oplog__intent_follows(const pond_push_entry *v, size_t n, const pond_push_entry *e);
/* Parses an intent's text: the header line, one line per log file in link order
 * (pond_oplog__intent_follows), and the `end` line with the count and the SHA-256 of everything
 * before it. POND_ECORRUPT names path and line. */
int pond_oplog__intent_parse(oplog_intent *out, const char *text, size_t len, const char *path);
void pond_oplog__intent_dispose(oplog_intent *in);
/* The text pond_oplog__intent_parse reads back. */
int pond_oplog__intent_format(pond_buf *out, const pond_push_entry *v, size_t n);
/* fsck: an unfinished push through fn (kind "unfinished"; not a problem of the pond's
 * content: the next push or write finishes it). */
int pond_oplog__intent_report(const char *dir, pond_fsck_fn fn, void *payload);

#endif
