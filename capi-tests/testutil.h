/* testutil.h: the small self-checking helpers our C API tests share (ours, not libzmq's).
 *
 * A test is one program: it runs CHECKs, prints only deterministic text on stdout (the runner
 * compares the stdout of the same binary run against Debian's libzmq and against ours), and
 * ends with `return TEST_SUMMARY("name");`, which prints the closing line
 * `name: N passed, N failed` and yields the exit code (0 only when nothing failed).
 *
 *   CHECK(cond)                  cond must be true
 *   CHECK_RC(expr, want)         the int expression must equal want (prints what it got)
 *   CHECK_ERRNO(expr, err)       the int expression must return -1 with zmq_errno() == err
 *   CHECK_NULL_ERRNO(expr, err)  the pointer expression must return NULL with zmq_errno() == err
 *   CHECK_STR(a, b)              two C strings must be equal (NULL never equals anything)
 *
 * Compiles with -Wall -Wextra -Werror against Debian's zmq.h and ours. Not thread-safe:
 * call the macros from the main thread only. */
#ifndef LIBZMQ_RS_TESTUTIL_H
#define LIBZMQ_RS_TESTUTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static int tu_passed_;
static int tu_failed_;

static inline void tu_record_ (int ok, const char *file, int line, const char *what)
{
    if (ok) {
        tu_passed_++;
    } else {
        tu_failed_++;
        printf ("FAIL %s:%d: %s\n", file, line, what);
        fflush (stdout);
    }
}

#define CHECK(cond) tu_record_ ((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_RC(expr, want)                                                   \
    do {                                                                       \
        long tu_rc_ = (long) (expr);                                           \
        int tu_errno_ = zmq_errno ();                                          \
        tu_record_ (tu_rc_ == (long) (want), __FILE__, __LINE__,               \
                    #expr " == " #want);                                       \
        if (tu_rc_ != (long) (want))                                           \
            printf ("     got %ld (errno %d: %s)\n", tu_rc_, tu_errno_,        \
                    zmq_strerror (tu_errno_));                                 \
    } while (0)

#define CHECK_ERRNO(expr, err)                                                 \
    do {                                                                       \
        errno = 0;                                                             \
        long tu_rc_ = (long) (expr);                                           \
        int tu_errno_ = zmq_errno ();                                          \
        int tu_ok_ = tu_rc_ == -1 && tu_errno_ == (err);                       \
        tu_record_ (tu_ok_, __FILE__, __LINE__,                                \
                    #expr " fails with " #err);                                \
        if (!tu_ok_)                                                           \
            printf ("     got %ld (errno %d: %s)\n", tu_rc_, tu_errno_,        \
                    zmq_strerror (tu_errno_));                                 \
    } while (0)

#define CHECK_NULL_ERRNO(expr, err)                                            \
    do {                                                                       \
        errno = 0;                                                             \
        const void *tu_p_ = (const void *) (expr);                             \
        int tu_errno_ = zmq_errno ();                                          \
        int tu_ok_ = tu_p_ == NULL && tu_errno_ == (err);                      \
        tu_record_ (tu_ok_, __FILE__, __LINE__,                                \
                    #expr " is NULL with " #err);                              \
        if (!tu_ok_)                                                           \
            printf ("     got %s (errno %d: %s)\n",                           \
                    tu_p_ ? "non-NULL" : "NULL", tu_errno_,                    \
                    zmq_strerror (tu_errno_));                                 \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *tu_a_ = (a);                                               \
        const char *tu_b_ = (b);                                               \
        int tu_ok_ = tu_a_ != NULL && tu_b_ != NULL && strcmp (tu_a_, tu_b_) == 0; \
        tu_record_ (tu_ok_, __FILE__, __LINE__, #a " equals " #b);             \
        if (!tu_ok_)                                                           \
            printf ("     got \"%s\" and \"%s\"\n", tu_a_ ? tu_a_ : "(null)",  \
                    tu_b_ ? tu_b_ : "(null)");                                 \
    } while (0)

/* Prints `name: N passed, N failed` and evaluates to the exit code. */
static inline int tu_summary_ (const char *name)
{
    printf ("%s: %d passed, %d failed\n", name, tu_passed_, tu_failed_);
    fflush (stdout);
    return tu_failed_ == 0 && tu_passed_ > 0 ? 0 : 1;
}
#define TEST_SUMMARY(name) tu_summary_ (name)

#endif
