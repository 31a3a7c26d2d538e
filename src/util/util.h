/* pond internal utilities shared by every layer (not installed). */
#ifndef POND_UTIL_UTIL_H
#define POND_UTIL_UTIL_H

#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/errors.h>
#include <pond/sys/os.h>

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Misuse of the API by a caller: an error in release builds, never undefined behaviour. */
#define POND_ASSERT_ARG(expr)                                                                      \
    do {                                                                                           \
        if (!(expr))                                                                               \
            return pond_error_set(POND_EINVALID, POND_DOM_NONE, "invalid argument: %s (%s)",       \
                                  #expr, __func__);                                                \
    } while (0)

#define POND_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define POND_MIN(a, b) ((a) < (b) ? (a) : (b))
#define POND_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Raw shim calls: same contract as the POSIX calls (return -1 + errno). Every on-disk call in
 * pond goes through these so tests can inject faults and trace mutations. */
int pond__os_open(const char *path, int flags, mode_t mode);
int pond__os_close(int fd);
ssize_t pond__os_read(int fd, void *buf, size_t n);
ssize_t pond__os_pread(int fd, void *buf, size_t n, off_t off);
ssize_t pond__os_write(int fd, const void *buf, size_t n);
ssize_t pond__os_pwrite(int fd, const void *buf, size_t n, off_t off);
int pond__os_fsync(int fd);
int pond__os_syncfs(int fd);
int pond__os_ftruncate(int fd, off_t len);
int pond__os_rename(const char *from, const char *to);
int pond__os_link(const char *from, const char *to);
int pond__os_unlink(const char *path);
int pond__os_mkdir(const char *path, mode_t mode);
int pond__os_rmdir(const char *path);
int pond__os_fstat(int fd, struct stat *st);
int pond__os_stat(const char *path, struct stat *st);
int pond__os_lstat(const char *path, struct stat *st);
DIR *pond__os_opendir(const char *path);
int pond__os_flock(int fd, int op);
int pond__os_openat(int dirfd, const char *path, int flags, mode_t mode);
int pond__os_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int pond__os_unlinkat(int dirfd, const char *path, int flags);

/* Checked helpers: return 0 or a negative pond code with a message naming `path`.
 * Short transfers and EINTR are retried; a failed fsync is never retried. */
int pond__open(int *fd_out, const char *path, int flags, mode_t mode, int domain);
/* Opens a host file for reading that must be a regular file (what: "a Parquet file", for the
 * message): O_NONBLOCK, so a FIFO never blocks the open; anything else is POND_EINVALID naming
 * the path and what it is. *st: its stat at the open. */
int pond__open_regular(int *fd_out, struct stat *st, const char *path, const char *what,
                       int domain);
void pond__close(int fd);
int pond__write_all(int fd, const void *buf, size_t len, const char *path, int domain);
int pond__pwrite_all(int fd, const void *buf, size_t len, int64_t off, const char *path,
                     int domain);
/* Reads up to len bytes at off; *n_out < len only at end of file. */
int pond__pread_full(size_t *n_out, int fd, void *buf, size_t len, int64_t off, const char *path,
                     int domain);
int pond__fsync(int fd, const char *path, int domain);
/* Starts writing fd's dirty pages in [off, off + len) to disk (len 0: to the end) without
 * waiting, so a later fsync or syncfs finds them written while the caller went on producing.
 * Only a hint: no error, no durability (that is the fsync's). */
void pond__writeback_hint(int fd, int64_t off, int64_t len);
/* Asks for a pipe of `bytes` (F_SETPIPE_SZ; Linux allows up to /proc/sys/fs/pipe-max-size, 1 MiB
 * by default) when fd is one, so a writer goes on while its reader is busy. Only a hint: nothing
 * happens for other files or when the kernel refuses. */
void pond__pipe_hint(int fd, size_t bytes);
int pond__fsync_dir(const char *dir, int domain);
/* fsync the directory that contains path. */
int pond__fsync_parent(const char *path, int domain);
/* Makes every file and directory entry of the file system that holds path durable (syncfs(2),
 * which reports writeback errors since Linux 5.8): one sync where a batch of new files would
 * need an fsync each. Never retried, as pond__fsync. */
int pond__syncfs(const char *path, int domain);
int pond__mkdir(const char *path, bool exist_ok, int domain);
int pond__mkdir_p(const char *path, int domain);
/* A directory of a pond's own below the pond (`_host`, `_host/leases`, a partition): made if
 * missing (*created_out true, when not NULL); an existing one must be a real directory, never a
 * link (POND_ECORRUPT naming what it is), so nothing written into it lands outside the pond. */
int pond__mkdir_own(const char *path, bool *created_out, int domain);
/* Opens one of a pond's own files for reading: never blocks (a FIFO is refused, not waited
 * on), never follows a symbolic link in the last component, and refuses anything fstat does
 * not call a regular file (POND_ECORRUPT, naming the path and what it is). */
int pond__open_pond_file(int *fd_out, const char *path, int domain);
/* The same for root/rel where rel names a file inside a pond ("part_id=<id>/<name>"): root
 * (the user's path to the pond) may be reached through links, but no component of rel may be
 * a link, `.`, `..` or anything but a real directory (POND_ECORRUPT naming it). */
int pond__open_pond_file_in(int *fd_out, const char *root, const char *rel, int domain);
/* Reads a whole pond file (opened as pond__open_pond_file does), at most max_size bytes. */
int pond__read_file(pond_buf *out, const char *path, size_t max_size, int domain);
/* Reads root/rel whole, opened as pond__open_pond_file_in does. */
int pond__read_file_in(pond_buf *out, const char *root, const char *rel, size_t max_size,
                       int domain);
/* Opens (creating if missing) a pond's lock file for flock: never through a link, never
 * blocking, and only if it is a regular file. */
int pond__open_lock_file(int *fd_out, const char *path, int domain);
/* "a FIFO", "a symbolic link", "a directory", ... for messages. */
const char *pond__file_kind(mode_t mode);

/* Walking a pond's own directories (dirwalk.c). A pond_dir is an open directory reached
 * without following a symbolic link (except, when asked, for the start: the user's path to a
 * pond may be a link). Entries are examined with fstatat(AT_SYMLINK_NOFOLLOW) and opened and
 * removed relative to the directory's descriptor, so a walk never leaves the tree it started
 * in. Every walk of a pond's directories (gc, fsck) uses these; removals go through the OS
 * shim (unlinkat), so fault injection and the crash harness see them. */
typedef struct pond_dir pond_dir;
typedef struct {
    const char *name; /* valid until the next pond__dir_next */
    struct stat st;   /* the entry itself, never what a link points to */
} pond_dirent;
/* Opens a directory. A missing one is POND_ENOTFOUND; a link (unless follow) or anything but
 * a directory is POND_ECORRUPT "'<path>' is a symbolic link: a pond directory must be a real
 * directory". */
int pond__dir_open(pond_dir **out, const char *path, bool follow, int domain);
/* Opens entry `name` of parent as a directory, never following a link. */
int pond__dir_open_at(pond_dir **out, pond_dir *parent, const char *name, int domain);
void pond__dir_close(pond_dir *d); /* NULL is fine */
const char *pond__dir_path(const pond_dir *d);
/* The next entry other than `.` and `..`; POND_ITEROVER at the end. Entries that vanish
 * between the listing and their stat are skipped. */
int pond__dir_next(pond_dirent *out, pond_dir *d, int domain);
/* lstat of entry `name` (relative to d). */
int pond__dir_stat(struct stat *out, pond_dir *d, const char *name, int domain);
/* Removes entry `name` of d only if it is a regular file: anything else (a link, a FIFO, a
 * directory) is POND_ECORRUPT and stays. A vanished entry is POND_ENOTFOUND. */
int pond__dir_remove_file(pond_dir *d, const char *name, int domain);
/* Removes the directory name in d only if it is empty (never through a link): 0 removed, 1 not
 * empty or gone, <0 an error naming it. */
int pond__dir_remove_empty(pond_dir *d, const char *name, int domain);
int pond__dir_fsync(pond_dir *d, int domain);
/* Opens entry `name` of d for reading as pond__open_pond_file does. */
int pond__dir_open_file(int *fd_out, pond_dir *d, const char *name, int domain);
int pond__file_size(int64_t *size_out, int fd, const char *path, int domain);

/* A pond file read line by line (LF-separated; a CR before the LF stays in the line) through a
 * buffer that never holds more than one line of at most max_line bytes (plus one read chunk):
 * memory is bounded whatever the file size. Or the same over text in memory (not copied). */
typedef struct {
    int fd;
    const char *path; /* borrowed: names the file in messages */
    int domain;
    size_t max_line;
    char *buf;
    size_t cap, start, end; /* buf[start, end) holds what is read and not yet returned */
    int64_t file_off;       /* of buf[end] */
    bool eof, in_mem;
    const char *mem;
    size_t mem_len;
    int64_t lineno; /* of the line last returned, from 1 */
} pond__lines;
/* Opens path as pond__open_pond_file does (no FIFO, no symlink). */
int pond__lines_open(pond__lines *r, const char *path, size_t max_line, int domain);
void pond__lines_mem(pond__lines *r, const char *text, size_t len, const char *name,
                     size_t max_line, int domain);
/* The next line without its LF (*line valid until the next call): 0, POND_ITEROVER at the
 * end, POND_ECORRUPT "'<path>' line N is longer than M bytes ..." for a longer line, or a read
 * error naming the path. */
int pond__lines_next(pond__lines *r, const char **line, size_t *len);
/* Back to the first line (a second pass). */
void pond__lines_rewind(pond__lines *r);
void pond__lines_close(pond__lines *r);

/* Replaces the file `path` with data: written to `tmp` (created or truncated), fsynced, renamed
 * over path, then path's directory fsynced. tmp must be in the same directory; it is removed on
 * failure. */
int pond__replace_file(const char *path, const char *tmp, const void *data, size_t len, int domain);

/* Join dir and name with one '/', into a fresh pond_malloc string (NULL on OOM, error set). */
char *pond__path_join(const char *dir, const char *name);

/* pond's hash map: byte strings (copied) to int64 values. Zero-initialised (or _init) is
 * empty; memory grows with the keys and is freed by _dispose. */
typedef struct {
    void *slots;
    size_t cap, n;
    pond_buf keys;
} pond__bytemap;
void pond__bytemap_init(pond__bytemap *m);
void pond__bytemap_dispose(pond__bytemap *m);
/* Sets key to val, inserting it or replacing its value. */
int pond__bytemap_put(pond__bytemap *m, const void *key, size_t len, int64_t val);
/* True (and *val) when key is in the map. */
bool pond__bytemap_get(const pond__bytemap *m, const void *key, size_t len, int64_t *val);
/* Slot i of [0, cap): true (and the key, borrowed until the next put, its length and value)
 * when it holds an entry. Walks meet every entry once, in hash order (never rely on it). */
bool pond__bytemap_at(const pond__bytemap *m, size_t i, const void **key, size_t *len,
                      int64_t *val);

/* A typed face of the map (src/util/bytemap.c) and the id map (src/util/idmap.c: ids stored in
 * the slots, for memory); zero-initialised is empty. */
/* Strings to integers, for name lookups over wide schemas (a loop per name is quadratic in
 * columns). Keys are copied. put: 0 when added, 1 when key was there already (its value
 * unchanged), POND_ENOMEM. get: the value of key, or -1 (also for a NULL key). */
typedef struct {
    pond__bytemap m;
} pond__strmap;
int pond__strmap_put(pond__strmap *m, const char *key, int64_t val);
int64_t pond__strmap_get(const pond__strmap *m, const char *key);
void pond__strmap_dispose(pond__strmap *m);
/* 16-byte ids (node ids) to non-NULL pointers. put inserts or replaces (*old_out, when not
 * NULL, gets the replaced value or NULL): 0 or POND_ENOMEM with the map unchanged. Walk the
 * entries with i in [0, pond__idmap_slots): pond__idmap_at gives slot i's value (NULL when
 * empty) and its id in *key_out (when not NULL). */
typedef struct {
    unsigned char bytes[16];
} pond__key16;
typedef struct {
    pond__key16 *keys;
    void **vals;
    size_t cap, n; /* cap: a power of two, or 0 */
} pond__idmap;
void *pond__idmap_get(const pond__idmap *m, const void *key);
int pond__idmap_put(pond__idmap *m, const void *key, void *val, void **old_out);
size_t pond__idmap_slots(const pond__idmap *m);
void *pond__idmap_at(const pond__idmap *m, size_t i, pond__key16 *key_out);
void pond__idmap_dispose(pond__idmap *m);

/* Arrays that grow (src/util/grow.c): the one growth rule, doubling from 8, overflow-checked.
 * ptr is an lvalue of any object pointer type (NULL at first), cap a size_t lvalue counting
 * elements. POND_RESERVE makes room for need elements; POND_GROW for one more after the n in
 * use (`if ((rc = POND_GROW(v, n, cap)) < 0) ...; v[n++] = x;`). 0, or POND_ENOMEM with the
 * array unchanged. New elements are not initialised. */
int pond__grow(void *ptr_addr, size_t *cap, size_t need, size_t elem);
#define POND_RESERVE(ptr, need, cap) pond__grow(&(ptr), &(cap), (need), sizeof *(ptr))
#define POND_GROW(ptr, n, cap) ((n) < (cap) ? 0 : POND_RESERVE(ptr, (size_t)(n) + 1, cap))

/* The one bump arena (src/util/grow.c): memory handed out in 16 KiB blocks (one block of its
 * own for a larger request) and freed all at once; `{0}` is an empty arena. Used for what
 * lives exactly as long as one parse result (a Delta snapshot, a Parquet footer). */
typedef struct pond__arena_block pond__arena_block;
typedef struct {
    pond__arena_block *head;
} pond__arena;
/* n bytes (at least 1) aligned to align (a power of two up to 16); NULL when out of memory. */
void *pond__arena_alloc(pond__arena *a, size_t n, size_t align);
/* n zeroed bytes, 16-aligned. */
void *pond__arena_zalloc(pond__arena *a, size_t n);
char *pond__arena_strdup(pond__arena *a, const char *s);
void pond__arena_dispose(pond__arena *a);

/* The one hash function of pond's hash maps (src/util/bytemap.c): 64 bits, never 0. Not for
 * anything stored: its values may change between versions. */
uint64_t pond__hash_bytes(const void *p, size_t n);

/* Appends s (n bytes) as a JSON string literal (src/util/buf.c; pond_buf_put_json_string is
 * js = false). js = false: `"` `\` \n \t escaped as such, other control characters as \u00XX,
 * other bytes as they are. js = true: as JavaScript's JSON.stringify of the string UTF-8 s
 * decodes to (\b \f \r short too; invalid UTF-8 becomes U+FFFD). */
int pond__json_escape(pond_buf *out, const void *s, size_t n, bool js);

/* Hexadecimal (src/util/hex.c). hexval: the value of one digit (either case), -1 for anything
 * else. hexdigit: the lowercase digit of v & 15. encode writes 2n lowercase digits and a NUL
 * (out holds 2n + 1). decode reads exactly 2n digits into n bytes: -1 (nothing set) when one
 * is not a digit, including a string shorter than 2n. */
int pond__hexval(int c);
char pond__hexdigit(unsigned v);
void pond__hex_encode(char *out, const void *data, size_t n);
int pond__hex_decode(void *out, const char *hex, size_t n);

/* The errno value an Arrow C stream callback returns for pond error code rc (the Arrow C
 * interface speaks errno): ENOMEM, EINVAL, ENOENT, ENOTSUP for their pond codes, EIO for the
 * rest (corrupt data, I/O, any other failure). */
int pond__errno_of(int rc);

/* The errno behind the thread's last error when pond_error_set_os set it (0 otherwise): lets a
 * caller tell "no space left" from other failures without parsing the message. */
int pond__error_os_errno(void);

/* What pond__time_reader_parse_memo keeps of the last ISO-8601 value it read: its first 16
 * characters (YYYY-MM-DDTHH:MM) and the local seconds of that minute. A value whose first 16
 * characters are the same has the same date, hour and minute, so only the rest (seconds,
 * fraction, zone) is read; the zone or offset is applied to each value as always, so the
 * result is exactly pond_time_reader_parse's. Zeroed: empty. One per column and thread. */
typedef struct {
    char head[16];
    int64_t local_s;
    bool ok;
} pond__time_memo;
struct pond_time_reader;
/* pond_time_reader_parse keeping memo (NULL: none). */
int pond__time_reader_parse_memo(int64_t *us_out, const struct pond_time_reader *r, const char *s,
                                 size_t len, unsigned flags, pond__time_memo *memo);

/* Wall-clock time in microseconds since the Unix epoch (UTC). */
int64_t pond__now_us(void);

/* The input window of the streaming text readers (CSV, JSON; src/util/lines.c): keeps
 * in[keep, *len) (moved to the front), doubles the buffer up to max bytes when that fills it
 * (one byte more is allocated, for a NUL), then reads once after the data. *got is what the
 * read gave, and *eof is set when it gave nothing. Returns 0, 1 when max bytes are kept and
 * more are needed (the caller names the record that is too long), POND_ENOMEM or the read's
 * error. */
typedef int (*pond__read_fn)(void *buf, size_t cap, size_t *n_out, void *payload);
int pond__window_refill(char **in, size_t *cap, size_t *len, size_t keep, size_t max,
                        pond__read_fn read, void *payload, size_t *got, bool *eof);

/* Bytes in memory as a pond__read_fn source (the readers' open_mem): pond__mem_read, given a
 * pond__mem_source as its payload, hands out data[pos, len) in order. data stays the
 * caller's. */
typedef struct {
    const char *data;
    size_t len, pos;
} pond__mem_source;
int pond__mem_read(void *buf, size_t cap, size_t *n_out, void *payload);

/* Decimal text (an optional sign, digits with an optional point, an optional exponent; or
 * strtod's inf/infinity/nan) to the double strtod gives, bit for bit (src/util/numparse.c).
 * False for anything else: hex, blanks, other bytes, and a number strtod can only make
 * infinite or zero (1e400, 1e-400; *v then holds that). */
bool pond__parse_double(double *v, const char *s, size_t len);
/* strtod itself on the same text (at most 64 bytes; no hex, no blanks): 1 with *v, 0 when s is
 * not a number, -1 when it is one strtod can only make infinite or zero (1e400, 1e-400: too
 * large or too small for a double; *v holds what strtod gave). */
int pond__strtod_decimal(double *v, const char *s, size_t len);

/* A small fork-join thread pool (src/util/pool.c). threads counts the caller: pond__pool_new
 * starts up to threads - 1 workers (at most 64; fewer, even none, if the system refuses, and
 * the pool then runs everything on the caller). POND_ENOMEM or POND_ERROR only.
 * pond__pool_run calls fn(payload, task, slot) for every task in [0, n) and returns when all
 * have returned; slot 0 is the caller's thread, 1.. the workers, and a slot runs one task at
 * a time, so per-slot scratch needs no lock. Tasks start in increasing order. fn reports its
 * own errors (the message is thread-local: copy it out). One run at a time per pool. */
typedef struct pond_pool pond_pool;
int pond__pool_new(pond_pool **out, int threads);
int pond__pool_threads(const pond_pool *p); /* workers + 1; 1 for NULL */
void pond__pool_run(pond_pool *p, int n, void (*fn)(void *payload, int task, int slot),
                    void *payload);
void pond__pool_free(pond_pool *p); /* joins the workers; NULL is fine */

/* A set of 1 to 64 interchangeable handles (say, readers of one file, each usable by one
 * thread at a time) shared by threads: take returns a free one, waiting while all are taken;
 * give puts it back. The set does not own the handles. */
typedef struct pond_hset pond_hset;
int pond__hset_new(pond_hset **out, void *const *handles, int n);
void *pond__hset_take(pond_hset *s);
void pond__hset_give(pond_hset *s, void *handle);
void pond__hset_free(pond_hset *s); /* every handle given back; NULL is fine */

/* A cache of large buffers (64 KiB and more) freed by one reader's batches, for the next
 * ones: a scan decodes every row group into fresh value buffers, and memory malloc gives back
 * to the system between row groups faults its pages in again each time (most of what a
 * second decoding thread cost). Thread-safe and reference-counted: each batch holding a
 * buffer from it holds a reference, so buffers may be given back after the owner is done.
 * The owner's pond__bufcache_close frees what is kept and stops keeping (its reference goes
 * too); later gives just free. It keeps at most max_bytes (and 32 buffers).
 * take returns a kept buffer of at least need bytes (at most twice that) or a new one of
 * need bytes (NULL only when out of memory), its capacity in *cap_out; c may be NULL
 * (plain pond_malloc / pond_free). give keeps or frees buf (NULL is fine). */
typedef struct pond_bufcache pond_bufcache;
int pond__bufcache_new(pond_bufcache **out, size_t max_bytes);
pond_bufcache *pond__bufcache_ref(pond_bufcache *c); /* NULL is fine */
void pond__bufcache_unref(pond_bufcache *c);         /* NULL is fine */
void pond__bufcache_close(pond_bufcache *c);         /* NULL is fine */
void *pond__bufcache_take(pond_bufcache *c, size_t need, size_t *cap_out);
void pond__bufcache_give(pond_bufcache *c, void *buf, size_t cap);

/* Time buckets (src/util/timebucket.c, docs/derived.md): a fixed width dividing a day,
 * aligned on the Unix epoch (UTC), or a calendar day, week (from Monday) or month beginning
 * at local midnight in tz (NULL: UTC). */
typedef enum {
    POND__BUCKET_FIXED = 0,
    POND__BUCKET_DAY,
    POND__BUCKET_WEEK,
    POND__BUCKET_MONTH
} pond__bucket_cal;
typedef struct {
    int64_t width_us; /* fixed widths; 0 for calendar buckets */
    pond__bucket_cal cal;
    const struct pond_tz *tz; /* borrowed; calendar buckets only */
} pond__bucket;
/* "15m", "1h", "1d", "1w", "1mo": POND_EINVALID naming spec otherwise (tz is left NULL). */
int pond__bucket_parse(pond__bucket *out, const char *spec);
/* The start of the bucket holding us, and the start of the bucket after the one starting at
 * start_us. */
int64_t pond__bucket_floor(const pond__bucket *b, int64_t us);
int64_t pond__bucket_next(const pond__bucket *b, int64_t start_us);

/* Length of the valid UTF-8 sequence at p (n > 0 bytes available): > 0 valid, 0 incomplete
 * (more bytes needed), -1 invalid (overlong forms, surrogates and code points above U+10FFFF
 * are invalid). */
int pond__utf8_seq(const uint8_t *p, size_t n);

#endif
