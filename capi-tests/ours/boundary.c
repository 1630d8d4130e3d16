/* ours/boundary.c: libzmq-rs's C boundary. A panic inside the library comes back as -1 with
 * errno EFAULT (not an abort) and the process keeps working; invalid message pointers give
 * EFAULT instead of a crash. Debian's libzmq crashes or asserts on most of these, so this file
 * runs against libzmq-rs only. */
#include "testutil.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>

/* Hidden test-only export, deliberately not declared in zmq.h. */
extern int zmq_rs_selftest_panic (void);

static void *panic_in_thread (void *arg)
{
    int *out = (int *) arg;
    errno = 0;
    out[0] = zmq_rs_selftest_panic ();
    out[1] = zmq_errno ();
    return NULL;
}

static void test_panic_boundary (void)
{
    CHECK_ERRNO (zmq_rs_selftest_panic (), EFAULT);
    /* Again: the boundary is reusable and the library still works. */
    CHECK_ERRNO (zmq_rs_selftest_panic (), EFAULT);
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init_size (&m, 100), 0);
    CHECK_RC (zmq_msg_size (&m), 100);
    CHECK_RC (zmq_msg_close (&m), 0);

    /* errno is per thread: a panic on another thread does not touch this thread's errno. */
    int res[2] = {0, 0};
    pthread_t t;
    errno = EAGAIN;
    CHECK_RC (pthread_create (&t, NULL, panic_in_thread, res), 0);
    CHECK_RC (pthread_join (t, NULL), 0);
    CHECK_RC (res[0], -1);
    CHECK_RC (res[1], EFAULT);
    CHECK_RC (zmq_errno (), EAGAIN);

    int major = 0, minor = 0, patch = 0;
    zmq_version (&major, &minor, &patch);
    CHECK (major == 4 && minor == 3 && patch == 5);
}

static void test_null_and_garbage (void)
{
    CHECK_ERRNO (zmq_msg_init (NULL), EFAULT);
    CHECK_ERRNO (zmq_msg_init_size (NULL, 10), EFAULT);
    CHECK_ERRNO (zmq_msg_close (NULL), EFAULT);
    CHECK_ERRNO (zmq_msg_more (NULL), EFAULT);
    CHECK_ERRNO (zmq_msg_get (NULL, ZMQ_MORE), EFAULT);
    CHECK_ERRNO (zmq_msg_set (NULL, ZMQ_MORE, 0), EFAULT);
    CHECK_NULL_ERRNO (zmq_msg_data (NULL), EFAULT);
    CHECK_NULL_ERRNO (zmq_msg_gets (NULL, "Socket-Type"), EFAULT);
    errno = 0;
    CHECK_RC (zmq_msg_size (NULL), 0);
    CHECK_RC (zmq_errno (), EFAULT);

    zmq_msg_t ok;
    CHECK_RC (zmq_msg_init (&ok), 0);
    CHECK_ERRNO (zmq_msg_move (NULL, &ok), EFAULT);
    CHECK_ERRNO (zmq_msg_move (&ok, NULL), EFAULT);
    CHECK_ERRNO (zmq_msg_copy (NULL, &ok), EFAULT);
    CHECK_ERRNO (zmq_msg_copy (&ok, NULL), EFAULT);
    CHECK_RC (zmq_msg_close (&ok), 0);

    /* An uninitialised but zeroed zmq_msg_t, and one full of garbage. */
    zmq_msg_t zero;
    memset (&zero, 0, sizeof zero);
    CHECK_NULL_ERRNO (zmq_msg_data (&zero), EFAULT);
    errno = 0;
    CHECK_RC (zmq_msg_size (&zero), 0);
    CHECK_RC (zmq_errno (), EFAULT);
    CHECK_ERRNO (zmq_msg_close (&zero), EFAULT);
    CHECK_ERRNO (zmq_msg_more (&zero), EFAULT);

    zmq_msg_t junk;
    memset (&junk, 0xa5, sizeof junk);
    CHECK_NULL_ERRNO (zmq_msg_data (&junk), EFAULT);
    CHECK_ERRNO (zmq_msg_close (&junk), EFAULT);
    CHECK_ERRNO (zmq_msg_get (&junk, ZMQ_MORE), EFAULT);

    /* A misaligned pointer is refused before it is dereferenced. */
    alignas (8) unsigned char raw[sizeof (zmq_msg_t) + 8];
    memset (raw, 0, sizeof raw);
    zmq_msg_t *odd = (zmq_msg_t *) (void *) (raw + 1);
    CHECK_ERRNO (zmq_msg_init (odd), EFAULT);
}

static void test_use_after_close (void)
{
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init_size (&m, 1000), 0);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK_ERRNO (zmq_msg_close (&m), EFAULT);
    CHECK_NULL_ERRNO (zmq_msg_data (&m), EFAULT);
    errno = 0;
    CHECK_RC (zmq_msg_size (&m), 0);
    CHECK_RC (zmq_errno (), EFAULT);
    CHECK_ERRNO (zmq_msg_more (&m), EFAULT);

    zmq_msg_t d;
    CHECK_RC (zmq_msg_init (&d), 0);
    CHECK_ERRNO (zmq_msg_copy (&d, &m), EFAULT);
    CHECK_ERRNO (zmq_msg_move (&d, &m), EFAULT);
    CHECK_RC (zmq_msg_close (&d), 0);
}

static void test_init_data_null (void)
{
    /* libzmq asserts on NULL data with a non-zero size; libzmq-rs refuses it. */
    zmq_msg_t m;
    CHECK_ERRNO (zmq_msg_init_data (&m, NULL, 5, NULL, NULL), EINVAL);
    /* NULL data with size 0 is an empty message. */
    CHECK_RC (zmq_msg_init_data (&m, NULL, 0, NULL, NULL), 0);
    CHECK_RC (zmq_msg_size (&m), 0);
    CHECK_RC (zmq_msg_close (&m), 0);
}

int main (void)
{
    test_panic_boundary ();
    test_null_and_garbage ();
    test_use_after_close ();
    test_init_data_null ();
    return TEST_SUMMARY ("boundary");
}
