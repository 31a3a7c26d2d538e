/* The wire protocol, version 1 (docs/replication.md, "Wire protocol"): framed messages on a
 * byte stream (ssh's stdin/stdout). Every frame is checked before use: its length against the
 * bound, its type against the table, each field against its own bound, and the whole payload
 * consumed exactly. */
#ifndef POND_REPL_WIRE_H
#define POND_REPL_WIRE_H

#include "repl/repl_internal.h"

/* The versions this build speaks: 2 allows DATA frames of up to 1 MiB (version 1: 256 KiB).
 * The client offers the range in HELLO, the server picks the highest both speak. */
#define WIRE_VERSION 2
#define WIRE_VERSION_MIN 1
#define WIRE_MAGIC "pond-wire"
#define WIRE_MAX_DATA ((size_t)1 << 20)      /* a DATA payload, version 2 */
#define WIRE_MAX_DATA_V1 ((size_t)256 << 10) /* version 1 */
#define WIRE_MAX_FRAME (WIRE_MAX_DATA + 1)   /* type byte + payload */
#define WIRE_MAX_STR 1024
#define WIRE_MAX_ITEMS 1024

typedef enum {
    /* client -> server */
    W_HELLO = 1,
    W_OPEN = 2,
    W_HOLD = 3,
    W_LIST_LOG = 4,
    W_HASH_LOG = 5,
    W_HAVE = 6,
    W_MISSING_BLOBS = 7,
    W_GET = 8,
    W_LIVE_FILES = 9,
    W_PUT = 10,
    W_DATA = 11, /* both ways */
    W_END = 12,  /* both ways */
    W_SYNC = 13,
    W_FINISH = 14,
    W_VERIFY = 15,
    W_BYE = 16,
    /* server -> client */
    W_HELLO_OK = 32,
    W_INFO = 33,
    W_DONE = 34,
    W_ERROR = 35,
    W_LOG = 36,
    W_HASHES = 37,
    W_HAVES = 38,
    W_BLOBS = 39,
    W_OBJS = 40,
    W_PROBLEM = 41,
    W_REPORT = 42
} wire_type;

/* A decoded frame. Lists are allocated (pond_wire_msg_dispose); data points into the frame. */
typedef struct {
    wire_type type;
    int64_t i[12]; /* scalars, per type (docs/replication.md message table) */
    char s1[WIRE_MAX_STR + 1], s2[WIRE_MAX_STR + 1];
    repl_obj obj;         /* GET, PUT */
    repl_obj *objs;       /* HASH_LOG, HAVE, MISSING_BLOBS, OBJS */
    pond_hash *hashes;    /* HASHES */
    bool *flags;          /* HASHES (present), HAVES */
    repl_blob_ref *blobs; /* BLOBS */
    repl_log_entry *logs; /* LOG */
    size_t n;
    const uint8_t *data; /* DATA */
    size_t data_len;
} wire_msg;

/* Decodes one frame body (type byte + payload). POND_ECORRUPT names what is wrong. */
int pond_wire_decode(wire_msg *out, const uint8_t *frame, size_t len);
void pond_wire_msg_dispose(wire_msg *m);

/* Encoding: append to a frame body being built (the first byte is the type). */
void pond_wire_begin(pond_buf *b, wire_type t);
void pond_wire_u8(pond_buf *b, uint8_t v);
void pond_wire_u32(pond_buf *b, uint32_t v);
void pond_wire_i64(pond_buf *b, int64_t v);
void pond_wire_str(pond_buf *b, const char *s);
void pond_wire_hash(pond_buf *b, const pond_hash *h);
void pond_wire_obj(pond_buf *b, const repl_obj *o);

/* A framed, buffered connection over two file descriptors. */
typedef struct {
    int in_fd, out_fd;
    uint8_t *rbuf;
    size_t rpos, rlen;
    pond_buf frame; /* the last frame received */
    uint8_t *wbuf;
    size_t wlen;
    const char *peer; /* for messages */
    unsigned version; /* negotiated (WIRE_VERSION_MIN until HELLO is answered) */
    size_t max_data;  /* the bound on a DATA payload at that version, both ways */
    size_t data_left; /* payload bytes of the DATA frame pond_wire_read_data is in */
} wire_conn;

int pond_wire_conn_init(wire_conn *c, int in_fd, int out_fd, const char *peer);
void pond_wire_conn_dispose(wire_conn *c);
/* Queues a frame (body = type + payload); written when the buffer fills or on flush. */
int pond_wire_send(wire_conn *c, const pond_buf *body);
int pond_wire_send_data(wire_conn *c, wire_type t, const void *data, size_t len);
int pond_wire_flush(wire_conn *c);
/* Receives and decodes the next frame. POND_EEOF at a clean end of stream. */
int pond_wire_recv(wire_conn *c, wire_msg *out);
/* Sets the version HELLO agreed on (and with it the DATA bound). */
void pond_wire_set_version(wire_conn *c, unsigned version);
/* An object's content as a stream: reads up to cap (> 0) bytes of DATA frames' payloads straight
 * into buf (no frame buffer, no copy for large reads); *n_out == 0 once END was read. Any other
 * frame, or a DATA frame over the negotiated bound, is POND_ECORRUPT ("wire: ..."): the stream
 * cannot be resynchronised. Between objects, pond_wire_recv reads the next message. */
int pond_wire_read_data(wire_conn *c, void *buf, size_t cap, size_t *n_out);

#endif
