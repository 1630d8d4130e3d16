/* ours/hwm_legacy.c: the 2.x ZMQ_HWM option (1) that libzmq-rs brings back. Setting it takes a
 * 4-byte int or an 8-byte int64 and sets both ZMQ_SNDHWM and ZMQ_RCVHWM; reading it returns
 * the send HWM; any other size, or a negative or out-of-range value, is EINVAL. It sizes
 * connections exactly as the two 3.x options do. Debian's libzmq has no ZMQ_HWM. */
#include "testutil.h"

#include <stdint.h>

static int get_int (void *s, int option)
{
    int v = -12345;
    size_t sz = sizeof v;
    if (zmq_getsockopt (s, option, &v, &sz) != 0 || sz != sizeof v)
        return -12345;
    return v;
}

static void test_set_and_get (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK_RC (get_int (s, ZMQ_HWM), 1000);

    int v = 7;
    CHECK_RC (zmq_setsockopt (s, ZMQ_HWM, &v, sizeof v), 0);
    CHECK_RC (get_int (s, ZMQ_SNDHWM), 7);
    CHECK_RC (get_int (s, ZMQ_RCVHWM), 7);
    CHECK_RC (get_int (s, ZMQ_HWM), 7);

    int64_t v64 = 9;
    CHECK_RC (zmq_setsockopt (s, ZMQ_HWM, &v64, sizeof v64), 0);
    CHECK_RC (get_int (s, ZMQ_SNDHWM), 9);
    CHECK_RC (get_int (s, ZMQ_RCVHWM), 9);
    uint64_t u64 = 11; /* 2.x declared it uint64_t */
    CHECK_RC (zmq_setsockopt (s, ZMQ_HWM, &u64, sizeof u64), 0);
    CHECK_RC (get_int (s, ZMQ_SNDHWM), 11);
    CHECK_RC (get_int (s, ZMQ_RCVHWM), 11);

    /* Reading ZMQ_HWM gives the send HWM when the two differ. */
    int snd = 3, rcv = 5;
    CHECK_RC (zmq_setsockopt (s, ZMQ_SNDHWM, &snd, sizeof snd), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_RCVHWM, &rcv, sizeof rcv), 0);
    CHECK_RC (get_int (s, ZMQ_HWM), 3);

    /* 0 (unbounded) is allowed. */
    v = 0;
    CHECK_RC (zmq_setsockopt (s, ZMQ_HWM, &v, sizeof v), 0);
    CHECK_RC (get_int (s, ZMQ_SNDHWM), 0);
    CHECK_RC (get_int (s, ZMQ_RCVHWM), 0);

    /* Wrong sizes and values leave both HWMs as they were. */
    v = 4;
    CHECK_RC (zmq_setsockopt (s, ZMQ_HWM, &v, sizeof v), 0);
    unsigned char buf[16] = {0};
    const size_t bad_sizes[] = {0, 1, 2, 3, 5, 7, 16};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
        CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HWM, buf, bad_sizes[i]), EINVAL);
    v = -1;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HWM, &v, sizeof v), EINVAL);
    v64 = -1;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HWM, &v64, sizeof v64), EINVAL);
    v64 = (int64_t) INT32_MAX + 1;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_HWM, &v64, sizeof v64), EINVAL);
    CHECK_RC (get_int (s, ZMQ_SNDHWM), 4);
    CHECK_RC (get_int (s, ZMQ_RCVHWM), 4);
    size_t sz = 2;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_HWM, buf, &sz), EINVAL);

    CHECK_RC (zmq_close (s), 0);
}

/* ZMQ_HWM sizes an inproc connection like SNDHWM + RCVHWM would. */
static void test_effect (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    int v = 2;
    CHECK_RC (zmq_setsockopt (push, ZMQ_HWM, &v, sizeof v), 0);
    int64_t v64 = 3;
    CHECK_RC (zmq_setsockopt (pull, ZMQ_HWM, &v64, sizeof v64), 0);
    CHECK_RC (zmq_bind (pull, "inproc://hwm-legacy"), 0);
    CHECK_RC (zmq_connect (push, "inproc://hwm-legacy"), 0);
    int n = 0;
    while (zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1)
        n++;
    CHECK_RC (n, 2 + 3);
    CHECK_RC (zmq_errno (), EAGAIN);
    char buf[4];
    for (int i = 0; i < n; i++)
        CHECK_RC (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), 1);
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);

    /* ZMQ_HWM 0 on the sender: unbounded. */
    push = zmq_socket (ctx, ZMQ_PUSH);
    pull = zmq_socket (ctx, ZMQ_PULL);
    v = 0;
    CHECK_RC (zmq_setsockopt (push, ZMQ_HWM, &v, sizeof v), 0);
    CHECK_RC (zmq_bind (pull, "inproc://hwm-legacy-0"), 0);
    CHECK_RC (zmq_connect (push, "inproc://hwm-legacy-0"), 0);
    n = 0;
    for (int i = 0; i < 5000; i++)
        n += zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1;
    CHECK_RC (n, 5000);
    int got = 0;
    while (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT) == 1)
        got++;
    CHECK_RC (got, 5000);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_set_and_get (ctx);
    test_effect (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("hwm_legacy");
}
