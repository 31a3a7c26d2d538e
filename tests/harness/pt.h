/* pt: pond's tiny in-process test harness.
 *
 * A test is a static void function; a failed assertion prints
 *   FAIL suite::case  file:line: expr (got vs want)
 * and longjmps back to the runner. Suites register themselves with PT_SUITE (a constructor),
 * so adding a test file needs no edit anywhere else. The last line of every run is
 * "N passed, N failed". */
#ifndef PT_H
#define PT_H

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/sys/os.h>
#include <pond/sys/testing.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} pt_test;

#define PT_TEST(name)                                                                              \
    {                                                                                              \
#name, test_##name                                                                         \
    }
#define PT_END                                                                                     \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

void pt_register(const char *suite, const pt_test *tests);
#define PT_SUITE(suite, ...)                                                                       \
    static const pt_test pt_suite_##suite[] = {__VA_ARGS__, PT_END};                               \
    __attribute__((constructor)) static void pt_register_##suite(void)                             \
    {                                                                                              \
        pt_register(#suite, pt_suite_##suite);                                                     \
    }

_Noreturn void pt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A fresh empty directory for the running test (removed after it passes). */
const char *pt_tmpdir(void);
#define PT_TMPDIR() pt_tmpdir()
/* The source tree root (for fixtures) and ../shared/corpus (NULL when absent). */
const char *pt_source_dir(void);
const char *pt_corpus_dir(void);
/* Marks the running test as skipped with a reason (counted, printed; not a pass). */
_Noreturn void pt_skip(const char *why);
/* One checksum over every path, type, mode, size, link target and file content below dir,
 * without following links (FIFOs are never opened): equal sums before and after a command show
 * that nothing in that tree changed. 0 when dir is missing. */
uint64_t pt_tree_sum(const char *dir);
/* Scale factor for heavy tests: 1 normally; smaller under valgrind (POND_TEST_LIGHT=1). */
bool pt_light(void);

#define PT_ASSERT(expr)                                                                            \
    do {                                                                                           \
        if (!(expr))                                                                               \
            pt_fail(__FILE__, __LINE__, "%s", #expr);                                              \
    } while (0)

#define PT_ASSERT_OK(expr)                                                                         \
    do {                                                                                           \
        int pt_rc_ = (expr);                                                                       \
        if (pt_rc_ < 0)                                                                            \
            pt_fail(__FILE__, __LINE__, "%s returned %d (%s): %s", #expr, pt_rc_,                  \
                    pond_error_name(pt_rc_), pond_error_last()->message);                          \
    } while (0)

/* Expects exactly the error code `code`; the message is printed on mismatch. */
#define PT_ASSERT_ERR(expr, code)                                                                  \
    do {                                                                                           \
        int pt_rc_ = (expr);                                                                       \
        if (pt_rc_ != (code))                                                                      \
            pt_fail(__FILE__, __LINE__, "%s returned %d (%s), want %d (%s); message: %s", #expr,   \
                    pt_rc_, pond_error_name(pt_rc_), (int)(code), pond_error_name(code),           \
                    pt_rc_ < 0 ? pond_error_last()->message : "");                                 \
    } while (0)

#define PT_ASSERT_INT_EQ(a, b)                                                                     \
    do {                                                                                           \
        long long pt_a_ = (long long)(a), pt_b_ = (long long)(b);                                  \
        if (pt_a_ != pt_b_)                                                                        \
            pt_fail(__FILE__, __LINE__, "%s == %s (got %lld vs want %lld)", #a, #b, pt_a_, pt_b_); \
    } while (0)

#define PT_ASSERT_STR_EQ(a, b)                                                                     \
    do {                                                                                           \
        const char *pt_a_ = (a), *pt_b_ = (b);                                                     \
        if (!pt_a_ || !pt_b_ || strcmp(pt_a_, pt_b_) != 0)                                         \
            pt_fail(__FILE__, __LINE__, "%s == %s (got \"%s\" vs want \"%s\")", #a, #b,            \
                    pt_a_ ? pt_a_ : "(null)", pt_b_ ? pt_b_ : "(null)");                           \
    } while (0)

#define PT_ASSERT_MEM_EQ(a, b, n)                                                                  \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            pt_fail(__FILE__, __LINE__, "memcmp(%s, %s, %s) != 0", #a, #b, #n);                    \
    } while (0)

/* The error message of the last failure must contain `needle`. */
#define PT_ASSERT_MSG_HAS(needle)                                                                  \
    do {                                                                                           \
        const char *pt_m_ = pond_error_last()->message;                                            \
        if (!strstr(pt_m_, (needle)))                                                              \
            pt_fail(__FILE__, __LINE__, "error message \"%s\" lacks \"%s\"", pt_m_, (needle));     \
    } while (0)

/* Fault loops: run body with allocation n failing, n = 1, 2, ... until the body succeeds
 * without the fault firing. The body must return int (0 ok, <0 error) and clean up fully.
 * PT_ALLOC_FAULT_LOOP_STRIDE fails every stride-th allocation only (1, 1 + stride, ...): for a
 * loop of thousands of steps in light runs (valgrind), when the other runs take every step. */
#define PT_ALLOC_FAULT_LOOP(steps_out, body_fn, arg)                                               \
    PT_ALLOC_FAULT_LOOP_STRIDE(steps_out, 1, body_fn, arg)
#define PT_ALLOC_FAULT_LOOP_STRIDE(steps_out, stride, body_fn, arg)                                \
    do {                                                                                           \
        uint64_t pt_n_;                                                                            \
        for (pt_n_ = 1;; pt_n_ += (uint64_t)(stride)) {                                            \
            pond_alloc_fail_at(pt_n_, false);                                                      \
            int pt_rc_ = body_fn(arg);                                                             \
            bool pt_fired_ = pond_alloc_fail_fired();                                              \
            pond_alloc_fail_at(0, false);                                                          \
            if (!pt_fired_) {                                                                      \
                if (pt_rc_ < 0)                                                                    \
                    pt_fail(__FILE__, __LINE__,                                                    \
                            "fault loop step %" PRIu64 " failed without a "                        \
                            "fault: %s",                                                           \
                            pt_n_, pond_error_last()->message);                                    \
                break;                                                                             \
            }                                                                                      \
            if (pt_rc_ == 0)                                                                       \
                pt_fail(__FILE__, __LINE__, "allocation %" PRIu64 " failed but %s succeeded",      \
                        pt_n_, #body_fn);                                                          \
        }                                                                                          \
        (steps_out) = pt_n_;                                                                       \
    } while (0)

#endif
