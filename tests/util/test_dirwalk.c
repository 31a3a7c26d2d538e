/* The directory walk of a pond's own directories (src/util/dirwalk.c): links are never
 * followed, only regular files are ever removed, FIFOs never block, and removals go through the
 * OS shim (counted, faultable, traced by absolute path). */
#include "pt.h"

#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp(const char *name) { return pond__path_join(PT_TMPDIR(), name); }

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    PT_ASSERT(f);
    fputs(text, f);
    fclose(f);
}

/* <tmp>/d holds: f (file), sub/ (dir), out -> ../victim (link to a dir), lf -> ../victim/v
 * (link to a file), p (FIFO). <tmp>/victim holds v. */
static void build(void)
{
    char *d = tmp("d"), *sub = tmp("d/sub"), *victim = tmp("victim");
    PT_ASSERT_INT_EQ(mkdir(d, 0777), 0);
    PT_ASSERT_INT_EQ(mkdir(sub, 0777), 0);
    PT_ASSERT_INT_EQ(mkdir(victim, 0777), 0);
    char *f = tmp("d/f"), *v = tmp("victim/v"), *out = tmp("d/out"), *lf = tmp("d/lf"),
         *p = tmp("d/p");
    write_text(f, "pond");
    write_text(v, "victim");
    PT_ASSERT_INT_EQ(symlink("../victim", out), 0);
    PT_ASSERT_INT_EQ(symlink("../victim/v", lf), 0);
    PT_ASSERT_INT_EQ(mkfifo(p, 0644), 0);
    pond_free(d), pond_free(sub), pond_free(victim), pond_free(f), pond_free(v);
    pond_free(out), pond_free(lf), pond_free(p);
}

static void test_dirwalk_kinds_without_following(void)
{
    build();
    char *d = tmp("d");
    pond_dir *dir = NULL;
    PT_ASSERT_OK(pond__dir_open(&dir, d, false, POND_DOM_UTIL));
    pond_dirent e;
    int rc, n = 0, seen = 0;
    while ((rc = pond__dir_next(&e, dir, POND_DOM_UTIL)) == 0) {
        n++;
        if (!strcmp(e.name, "f"))
            seen |= S_ISREG(e.st.st_mode) ? 1 : 0;
        else if (!strcmp(e.name, "sub"))
            seen |= S_ISDIR(e.st.st_mode) ? 2 : 0;
        else if (!strcmp(e.name, "out"))
            seen |= S_ISLNK(e.st.st_mode) ? 4 : 0; /* the link itself, not the directory */
        else if (!strcmp(e.name, "lf"))
            seen |= S_ISLNK(e.st.st_mode) ? 8 : 0;
        else if (!strcmp(e.name, "p"))
            seen |= S_ISFIFO(e.st.st_mode) ? 16 : 0;
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT_INT_EQ(n, 5);
    PT_ASSERT_INT_EQ(seen, 31);
    /* a link where a directory is expected is refused by name, never entered */
    pond_dir *sub = NULL;
    PT_ASSERT_ERR(pond__dir_open_at(&sub, dir, "out", POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("/d/out' is a symbolic link");
    PT_ASSERT(sub == NULL);
    PT_ASSERT_ERR(pond__dir_open_at(&sub, dir, "p", POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("is a FIFO");
    PT_ASSERT_ERR(pond__dir_open_at(&sub, dir, "f", POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("is a regular file");
    PT_ASSERT_ERR(pond__dir_open_at(&sub, dir, "none", POND_DOM_UTIL), POND_ENOTFOUND);
    PT_ASSERT_OK(pond__dir_open_at(&sub, dir, "sub", POND_DOM_UTIL));
    PT_ASSERT(strstr(pond__dir_path(sub), "/d/sub") != NULL);
    pond__dir_close(sub);
    pond__dir_close(dir);
    /* the start itself: a link is refused unless the caller allows it (a user's pond path) */
    char *ln = tmp("dlink");
    PT_ASSERT_INT_EQ(symlink("d", ln), 0);
    PT_ASSERT_ERR(pond__dir_open(&dir, ln, false, POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_OK(pond__dir_open(&dir, ln, true, POND_DOM_UTIL));
    pond__dir_close(dir);
    pond_free(ln);
    pond_free(d);
}

static void test_dirwalk_removes_only_regular_files(void)
{
    build();
    char *d = tmp("d"), *v = tmp("victim/v"), *victim = tmp("victim");
    pond_dir *dir = NULL;
    PT_ASSERT_OK(pond__dir_open(&dir, d, false, POND_DOM_UTIL));
    struct stat st;
    const char *refused[] = {"out", "lf", "p", "sub"};
    for (size_t i = 0; i < 4; i++) {
        PT_ASSERT_ERR(pond__dir_remove_file(dir, refused[i], POND_DOM_UTIL), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("pond removes only its own regular files");
        PT_ASSERT_OK(pond__dir_stat(&st, dir, refused[i], POND_DOM_UTIL)); /* still there */
    }
    PT_ASSERT(stat(v, &st) == 0 && st.st_size == 6); /* the link's target is untouched */
    PT_ASSERT(stat(victim, &st) == 0 && S_ISDIR(st.st_mode));
    /* a regular file goes, through the shim's unlinkat */
    uint64_t before = pond_os_calls(POND_OS_UNLINKAT);
    PT_ASSERT_OK(pond__dir_remove_file(dir, "f", POND_DOM_UTIL));
    PT_ASSERT_INT_EQ(pond_os_calls(POND_OS_UNLINKAT), before + 1);
    PT_ASSERT_ERR(pond__dir_stat(&st, dir, "f", POND_DOM_UTIL), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond__dir_remove_file(dir, "f", POND_DOM_UTIL), POND_ENOTFOUND);
    PT_ASSERT_OK(pond__dir_fsync(dir, POND_DOM_UTIL));
    pond__dir_close(dir);
    pond_free(d), pond_free(v), pond_free(victim);
}

typedef struct {
    char path[4200];
    int calls;
} trace_seen;

static void on_trace(pond_os_call call, const char *path, const char *path2, int fd, int64_t off,
                     const void *data, size_t len, long rc, void *payload)
{
    (void)path2, (void)fd, (void)off, (void)data, (void)len, (void)rc;
    trace_seen *t = payload;
    if (call == POND_OS_UNLINKAT) {
        snprintf(t->path, sizeof t->path, "%s", path);
        t->calls++;
    }
}

static void test_dirwalk_remove_fault_and_trace(void)
{
    char *d = tmp("d"), *f = tmp("d/f"), *g = tmp("d/g");
    PT_ASSERT_INT_EQ(mkdir(d, 0777), 0);
    write_text(f, "x");
    write_text(g, "y");
    pond_dir *dir = NULL;
    PT_ASSERT_OK(pond__dir_open(&dir, d, false, POND_DOM_UTIL));
    /* an injected failure is reported with the path, and the file stays */
    pond_os_fault_at(POND_OS_UNLINKAT, 1, POND_FAULT_ERRNO, EIO, false);
    PT_ASSERT_ERR(pond__dir_remove_file(dir, "f", POND_DOM_UTIL), POND_EIO);
    PT_ASSERT_MSG_HAS("/d/f");
    PT_ASSERT(pond_os_fault_fired());
    struct stat st;
    PT_ASSERT(stat(f, &st) == 0);
    /* "any mutating call" faults include unlinkat (the crash harness counts on it) */
    pond_os_fault_at(POND_OS__COUNT, 1, POND_FAULT_ERRNO, ENOSPC, false);
    PT_ASSERT(pond__dir_remove_file(dir, "f", POND_DOM_UTIL) < 0);
    PT_ASSERT(pond_os_fault_fired());
    pond_os_fault_clear();
    /* the trace names the removed file by its absolute path (the power-loss model needs it) */
    trace_seen t = {{0}, 0};
    pond_os_set_trace(on_trace, &t);
    PT_ASSERT_OK(pond__dir_remove_file(dir, "g", POND_DOM_UTIL));
    pond_os_set_trace(NULL, NULL);
    PT_ASSERT_INT_EQ(t.calls, 1);
    char real[4200];
    PT_ASSERT(realpath(d, real) != NULL);
    strcat(real, "/g");
    PT_ASSERT_STR_EQ(t.path, real);
    pond__dir_close(dir);
    pond_free(d), pond_free(f), pond_free(g);
}

static void test_open_pond_file_in(void)
{
    build();
    char *root = tmp("d");
    char *deep = tmp("d/sub/x");
    write_text(deep, "inside");
    int fd = -1;
    PT_ASSERT_OK(pond__open_pond_file_in(&fd, root, "sub/x", POND_DOM_UTIL));
    pond__close(fd);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file_in(&b, root, "sub/x", 100, POND_DOM_UTIL));
    PT_ASSERT_STR_EQ(b.ptr, "inside");
    /* a link at any component, the last one included, is refused by name */
    PT_ASSERT_ERR(pond__open_pond_file_in(&fd, root, "out/v", POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("/d/out' is a symbolic link");
    PT_ASSERT_ERR(pond__open_pond_file_in(&fd, root, "lf", POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("/d/lf' is a symbolic link");
    /* a FIFO is refused at once instead of blocking the open */
    PT_ASSERT_ERR(pond__read_file_in(&b, root, "p", 100, POND_DOM_UTIL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("/d/p' is a FIFO");
    /* names that would climb out of the pond */
    const char *bad[] = {"../victim/v", "sub/../../victim/v", "/etc/passwd", "sub//x", "./f", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PT_ASSERT_ERR(pond__open_pond_file_in(&fd, root, bad[i], POND_DOM_UTIL), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("is not a path inside the pond");
    }
    PT_ASSERT_ERR(pond__open_pond_file_in(&fd, root, "none/x", POND_DOM_UTIL), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond__open_pond_file_in(&fd, root, "sub/none", POND_DOM_UTIL), POND_ENOTFOUND);
    /* the root itself may be a link: it is the user's path to the pond */
    char *ln = tmp("dlink");
    PT_ASSERT_INT_EQ(symlink("d", ln), 0);
    PT_ASSERT_OK(pond__read_file_in(&b, ln, "sub/x", 100, POND_DOM_UTIL));
    pond_buf_dispose(&b);
    pond_free(ln), pond_free(root), pond_free(deep);
}

PT_SUITE(util_dirwalk, PT_TEST(dirwalk_kinds_without_following),
         PT_TEST(dirwalk_removes_only_regular_files), PT_TEST(dirwalk_remove_fault_and_trace),
         PT_TEST(open_pond_file_in))
