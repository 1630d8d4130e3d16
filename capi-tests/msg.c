/* msg.c: the message API as libzmq documents it (zmq_msg_init, zmq_msg_init_size,
 * zmq_msg_init_data, zmq_msg_close, zmq_msg_move, zmq_msg_copy, zmq_msg_data, zmq_msg_size,
 * zmq_msg_more, zmq_msg_get, zmq_msg_set, zmq_msg_gets), and what a failed zmq_msg_recv does
 * to the message. Only behaviour both Debian's libzmq
 * and libzmq-rs show identically is asserted here; libzmq-rs-only behaviour lives in ours/. */
#include "testutil.h"

#include <stdint.h>

static int free_calls;
static void *freed_data;
static void *freed_hint;

static void count_free (void *data, void *hint)
{
    free_calls++;
    freed_data = data;
    freed_hint = hint;
    free (data);
}

static void test_init_empty (void)
{
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init (&m), 0);
    CHECK_RC (zmq_msg_size (&m), 0);
    CHECK_RC (zmq_msg_more (&m), 0);
    CHECK_RC (zmq_msg_get (&m, ZMQ_MORE), 0);
    CHECK_RC (zmq_msg_get (&m, ZMQ_SHARED), 0);
    CHECK_ERRNO (zmq_msg_get (&m, ZMQ_SRCFD), EINVAL);
    CHECK_RC (zmq_msg_close (&m), 0);
}

static void test_init_size (void)
{
    const size_t sizes[] = {0, 1, 33, 34, 1000, (size_t) 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        zmq_msg_t m;
        CHECK_RC (zmq_msg_init_size (&m, n), 0);
        CHECK (zmq_msg_size (&m) == n);
        unsigned char *p = (unsigned char *) zmq_msg_data (&m);
        CHECK (n == 0 || p != NULL);
        for (size_t j = 0; j < n; j++)
            p[j] = (unsigned char) (j * 7 + n);
        const unsigned char *q = (const unsigned char *) zmq_msg_data (&m);
        int same = q == p;
        for (size_t j = 0; same && j < n; j++)
            same = q[j] == (unsigned char) (j * 7 + n);
        CHECK (same);
        CHECK_RC (zmq_msg_more (&m), 0);
        CHECK_RC (zmq_msg_close (&m), 0);
    }
}

static void test_init_data (void)
{
    /* The free function runs exactly once, when the message is closed, with data and hint. */
    char *buf = (char *) malloc (100);
    memset (buf, 'x', 100);
    int hint_target = 0;
    zmq_msg_t m;
    free_calls = 0;
    CHECK_RC (zmq_msg_init_data (&m, buf, 100, count_free, &hint_target), 0);
    CHECK (zmq_msg_data (&m) == buf); /* zero-copy */
    CHECK_RC (zmq_msg_size (&m), 100);
    CHECK_RC (zmq_msg_get (&m, ZMQ_SHARED), 0);
    CHECK_RC (free_calls, 0);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK_RC (free_calls, 1);
    CHECK (freed_data == buf);
    CHECK (freed_hint == &hint_target);

    /* With copies, the free happens only after both are closed. */
    buf = (char *) malloc (100);
    memcpy (buf, "hello", 6);
    free_calls = 0;
    zmq_msg_t a, b;
    CHECK_RC (zmq_msg_init_data (&a, buf, 100, count_free, NULL), 0);
    CHECK_RC (zmq_msg_init (&b), 0);
    CHECK_RC (zmq_msg_copy (&b, &a), 0);
    CHECK (zmq_msg_data (&b) == buf);
    CHECK_RC (zmq_msg_size (&b), 100);
    CHECK_RC (zmq_msg_close (&a), 0);
    CHECK_RC (free_calls, 0);
    CHECK (strcmp ((const char *) zmq_msg_data (&b), "hello") == 0);
    CHECK_RC (zmq_msg_close (&b), 0);
    CHECK_RC (free_calls, 1);
    CHECK (freed_data == buf);
    CHECK (freed_hint == NULL);

    /* A moved message's buffer is freed once, when the destination is closed. */
    buf = (char *) malloc (64);
    free_calls = 0;
    CHECK_RC (zmq_msg_init_data (&a, buf, 64, count_free, NULL), 0);
    CHECK_RC (zmq_msg_init (&b), 0);
    CHECK_RC (zmq_msg_move (&b, &a), 0);
    CHECK_RC (zmq_msg_close (&a), 0);
    CHECK_RC (free_calls, 0);
    CHECK (zmq_msg_data (&b) == buf);
    CHECK_RC (zmq_msg_close (&b), 0);
    CHECK_RC (free_calls, 1);

    /* Without a free function the buffer stays the caller's. */
    static char constant[] = "constant data";
    CHECK_RC (zmq_msg_init_data (&m, constant, sizeof constant, NULL, NULL), 0);
    CHECK (zmq_msg_data (&m) == constant);
    CHECK_RC (zmq_msg_size (&m), sizeof constant);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK (strcmp (constant, "constant data") == 0);
}

static void test_move (void)
{
    zmq_msg_t src, dst;
    CHECK_RC (zmq_msg_init_size (&src, 1000), 0);
    memset (zmq_msg_data (&src), 'm', 1000);
    void *p = zmq_msg_data (&src);
    CHECK_RC (zmq_msg_init (&dst), 0);
    CHECK_RC (zmq_msg_move (&dst, &src), 0);
    CHECK_RC (zmq_msg_size (&dst), 1000);
    CHECK (zmq_msg_data (&dst) == p);
    CHECK (((const char *) zmq_msg_data (&dst))[999] == 'm');
    CHECK_RC (zmq_msg_size (&src), 0); /* src is an empty message now */
    CHECK_RC (zmq_msg_more (&src), 0);
    CHECK_RC (zmq_msg_close (&src), 0);

    /* Moving into a live message releases what it held. */
    char *buf = (char *) malloc (50);
    free_calls = 0;
    zmq_msg_t held;
    CHECK_RC (zmq_msg_init_data (&held, buf, 50, count_free, NULL), 0);
    CHECK_RC (zmq_msg_move (&held, &dst), 0);
    CHECK_RC (free_calls, 1);
    CHECK_RC (zmq_msg_size (&held), 1000);
    CHECK_RC (zmq_msg_size (&dst), 0);
    CHECK_RC (zmq_msg_close (&dst), 0);
    CHECK_RC (zmq_msg_close (&held), 0);

    /* Small messages move their bytes too. */
    CHECK_RC (zmq_msg_init_size (&src, 5), 0);
    memcpy (zmq_msg_data (&src), "small", 5);
    CHECK_RC (zmq_msg_init (&dst), 0);
    CHECK_RC (zmq_msg_move (&dst, &src), 0);
    CHECK_RC (zmq_msg_size (&dst), 5);
    CHECK (memcmp (zmq_msg_data (&dst), "small", 5) == 0);
    CHECK_RC (zmq_msg_size (&src), 0);
    CHECK_RC (zmq_msg_close (&src), 0);
    CHECK_RC (zmq_msg_close (&dst), 0);
}

static void test_copy (void)
{
    zmq_msg_t a, b;
    /* A large message: the copy shares the content, and both become ZMQ_SHARED. */
    CHECK_RC (zmq_msg_init_size (&a, 1000), 0);
    memset (zmq_msg_data (&a), 'c', 1000);
    CHECK_RC (zmq_msg_get (&a, ZMQ_SHARED), 0);
    CHECK_RC (zmq_msg_init (&b), 0);
    CHECK_RC (zmq_msg_copy (&b, &a), 0);
    CHECK (zmq_msg_data (&b) == zmq_msg_data (&a));
    CHECK_RC (zmq_msg_size (&b), 1000);
    CHECK_RC (zmq_msg_get (&a, ZMQ_SHARED), 1);
    CHECK_RC (zmq_msg_get (&b, ZMQ_SHARED), 1);
    CHECK_RC (zmq_msg_close (&a), 0);
    CHECK (((const char *) zmq_msg_data (&b))[500] == 'c');
    CHECK_RC (zmq_msg_close (&b), 0);

    /* A small message: the copy has the same bytes and size; the source is untouched. */
    CHECK_RC (zmq_msg_init_size (&a, 3), 0);
    memcpy (zmq_msg_data (&a), "abc", 3);
    CHECK_RC (zmq_msg_init (&b), 0);
    CHECK_RC (zmq_msg_copy (&b, &a), 0);
    CHECK_RC (zmq_msg_size (&b), 3);
    CHECK (memcmp (zmq_msg_data (&b), "abc", 3) == 0);
    CHECK_RC (zmq_msg_size (&a), 3);
    CHECK (memcmp (zmq_msg_data (&a), "abc", 3) == 0);
    CHECK_RC (zmq_msg_close (&a), 0);
    CHECK_RC (zmq_msg_close (&b), 0);

    /* Copying into a live message releases what it held. */
    char *buf = (char *) malloc (40);
    free_calls = 0;
    CHECK_RC (zmq_msg_init_data (&b, buf, 40, count_free, NULL), 0);
    CHECK_RC (zmq_msg_init_size (&a, 2000), 0);
    CHECK_RC (zmq_msg_copy (&b, &a), 0);
    CHECK_RC (free_calls, 1);
    CHECK_RC (zmq_msg_size (&b), 2000);
    CHECK_RC (zmq_msg_close (&a), 0);
    CHECK_RC (zmq_msg_close (&b), 0);
}

static void test_properties (void)
{
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init_size (&m, 10), 0);
    CHECK_RC (zmq_msg_more (&m), 0);
    CHECK_RC (zmq_msg_get (&m, ZMQ_MORE), 0);
    CHECK_ERRNO (zmq_msg_get (&m, 12345), EINVAL);
    CHECK_ERRNO (zmq_msg_get (&m, -1), EINVAL);
    CHECK_ERRNO (zmq_msg_set (&m, ZMQ_MORE, 1), EINVAL);
    CHECK_ERRNO (zmq_msg_set (&m, 12345, 0), EINVAL);
    CHECK_RC (zmq_msg_more (&m), 0);
    CHECK_NULL_ERRNO (zmq_msg_gets (&m, "Socket-Type"), EINVAL);
    CHECK_NULL_ERRNO (zmq_msg_gets (&m, "User-Id"), EINVAL);
    CHECK_NULL_ERRNO (zmq_msg_gets (&m, "no-such-property"), EINVAL);
    CHECK_RC (zmq_msg_close (&m), 0);
}

static void test_close_twice (void)
{
    /* Both libraries mark a closed message invalid and refuse a second close. */
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init_size (&m, 100), 0);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK_ERRNO (zmq_msg_close (&m), EFAULT);

    CHECK_RC (zmq_msg_init (&m), 0);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK_ERRNO (zmq_msg_close (&m), EFAULT);

    /* A closed message can be initialised again. */
    CHECK_RC (zmq_msg_init_size (&m, 7), 0);
    CHECK_RC (zmq_msg_size (&m), 7);
    CHECK_RC (zmq_msg_close (&m), 0);
}

static void test_many (void)
{
    /* Many live messages at once, of mixed kinds, closed in reverse order. */
    enum { N = 200 };
    static zmq_msg_t ms[N];
    int ok = 1;
    for (int i = 0; i < N; i++) {
        size_t n = (size_t) (i * 37 % 300);
        ok &= zmq_msg_init_size (&ms[i], n) == 0;
        if (n)
            memset (zmq_msg_data (&ms[i]), i & 0xff, n);
    }
    for (int i = N - 1; i >= 0; i--) {
        size_t n = (size_t) (i * 37 % 300);
        ok &= zmq_msg_size (&ms[i]) == n;
        if (n)
            ok &= ((unsigned char *) zmq_msg_data (&ms[i]))[n - 1] == (i & 0xff);
        ok &= zmq_msg_close (&ms[i]) == 0;
    }
    CHECK (ok);
}

/* Puts 100 octets of content in m (closing what it held). */
static void refill (zmq_msg_t *m)
{
    CHECK_RC (zmq_msg_close (m), 0);
    CHECK_RC (zmq_msg_init_size (m, 100), 0);
    memset (zmq_msg_data (m), 7, 100);
}

static void test_failed_receive (void)
{
    /* A receive that finds nothing (EAGAIN, at once or after ZMQ_RCVTIMEO) releases what the
     * message held and leaves it empty; one the socket refuses outright (EFSM, ENOTSUP)
     * leaves it as it was. The message stays valid either way. */
    void *ctx = zmq_ctx_new ();
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init (&m), 0);
    int count_before = free_calls;
    void *data = malloc (64);
    memset (data, 3, 64);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK_RC (zmq_msg_init_data (&m, data, 64, count_free, NULL), 0);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_ERRNO (zmq_msg_recv (&m, pull, ZMQ_DONTWAIT), EAGAIN);
    CHECK_RC (zmq_msg_size (&m), 0);
    CHECK_RC (free_calls, count_before + 1);
    refill (&m);
    int timeo = 10;
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    CHECK_ERRNO (zmq_msg_recv (&m, pull, 0), EAGAIN);
    CHECK_RC (zmq_msg_size (&m), 0);
    static const int types[] = {ZMQ_SUB, ZMQ_ROUTER, ZMQ_DEALER, ZMQ_REP, ZMQ_PAIR};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        void *s = zmq_socket (ctx, types[i]);
        refill (&m);
        CHECK_ERRNO (zmq_msg_recv (&m, s, ZMQ_DONTWAIT), EAGAIN);
        CHECK_RC (zmq_msg_size (&m), 0);
        CHECK_RC (zmq_close (s), 0);
    }
    void *req = zmq_socket (ctx, ZMQ_REQ);
    refill (&m);
    CHECK_ERRNO (zmq_msg_recv (&m, req, ZMQ_DONTWAIT), EFSM);
    CHECK_RC (zmq_msg_size (&m), 100);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_ERRNO (zmq_msg_recv (&m, push, ZMQ_DONTWAIT), ENOTSUP);
    CHECK_RC (zmq_msg_size (&m), 100);
    CHECK_RC (((unsigned char *) zmq_msg_data (&m))[99], 7);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

int main (void)
{
    test_init_empty ();
    test_init_size ();
    test_init_data ();
    test_move ();
    test_copy ();
    test_properties ();
    test_close_twice ();
    test_many ();
    test_failed_receive ();
    return TEST_SUMMARY ("msg");
}
