/* pushpull.c: PUSH/PULL over inproc, tcp and ipc. Fan-out from one PUSH to three PULL workers
 * is round-robin (exact shares once all are connected); fan-in from three PUSHes to one PULL is
 * fair-queued (interleaved, nothing lost, each sender's order kept); multipart messages are
 * atomic both ways; what a PUSH sent before closing is delivered; a PUSH connected before its
 * peer binds queues; PUSH cannot receive and PULL cannot send; large frames (1 MiB and more,
 * mixed with small ones, which over ipc also makes our sender grow its send buffer) arrive
 * intact and in order.
 *
 * Receives that expect a message block (with a receive timeout, so that a lost message fails
 * a check instead of hanging); "nothing more" is checked only where anything wrongly sent
 * would have arrived before the messages already received. */
// transports: inproc tcp ipc
#include "testutil.h"

static void *new_socket (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    int timeo = 10000;
    if (s != NULL)
        zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    return s;
}

static int send_str (void *s, const char *str, int flags)
{
    return zmq_send (s, str, strlen (str), flags);
}

static int recv_str (void *s, char *buf, size_t cap, int flags)
{
    int n = zmq_recv (s, buf, cap - 1, flags);
    if (n >= 0)
        buf[(size_t) n < cap - 1 ? (size_t) n : cap - 1] = '\0';
    return n;
}

static int rcvmore (void *s)
{
    int more = -1;
    size_t sz = sizeof more;
    if (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz) != 0)
        return -1;
    return more;
}

#define EXPECT_FRAME(s, want, more)                                            \
    do {                                                                       \
        char ef_buf_[256];                                                     \
        CHECK_RC (recv_str ((s), ef_buf_, sizeof ef_buf_, 0), (int) strlen (want)); \
        CHECK_STR (ef_buf_, (want));                                           \
        CHECK_RC (rcvmore (s), (more));                                        \
    } while (0)

#define EXPECT_NOTHING(s)                                                      \
    do {                                                                       \
        char en_buf_[256];                                                     \
        CHECK_ERRNO (zmq_recv ((s), en_buf_, sizeof en_buf_, ZMQ_DONTWAIT), EAGAIN); \
    } while (0)

/* The workers bind and the PUSH connects to each, so all three pipes exist before the first
 * send (zmq_connect creates the pipe at once on the connecting side, whatever the transport;
 * over tcp and ipc messages wait in it until the connection is up). */
static void test_fan_out (void *ctx)
{
    enum { WORKERS = 3, PER_WORKER = 20 };
    void *push = new_socket (ctx, ZMQ_PUSH);
    void *pulls[WORKERS];
    char name[64], ep[256];
    for (int w = 0; w < WORKERS; w++) {
        pulls[w] = new_socket (ctx, ZMQ_PULL);
        snprintf (name, sizeof name, "pp-fan-out-%d", w);
        CHECK_RC (tu_bind (pulls[w], name, ep, sizeof ep), 0);
        CHECK_RC (zmq_connect (push, ep), 0);
    }
    for (int i = 0; i < WORKERS * PER_WORKER; i++) {
        char msg[16];
        snprintf (msg, sizeof msg, "task %d", i);
        CHECK_RC (send_str (push, msg, 0), (int) strlen (msg));
    }
    /* Worker w gets tasks w, w+3, w+6, ... in order: round-robin in connection order. (A
     * worker given too many leaves another short, whose last receive then times out.) */
    int counts_ok = 1, order_ok = 1;
    for (int w = 0; w < WORKERS; w++) {
        int n = 0;
        char buf[32];
        while (n < PER_WORKER && recv_str (pulls[w], buf, sizeof buf, 0) >= 0) {
            char want[16];
            snprintf (want, sizeof want, "task %d", w + WORKERS * n);
            order_ok &= strcmp (buf, want) == 0;
            n++;
        }
        counts_ok &= n == PER_WORKER
                     && recv_str (pulls[w], buf, sizeof buf, ZMQ_DONTWAIT) == -1
                     && zmq_errno () == EAGAIN;
    }
    CHECK (counts_ok);
    CHECK (order_ok);

    /* Multipart messages go whole to one worker; the next message goes to the next worker. */
    for (int i = 0; i < WORKERS; i++) {
        char a[8], b[8];
        snprintf (a, sizeof a, "m%d.a", i);
        snprintf (b, sizeof b, "m%d.b", i);
        CHECK_RC (send_str (push, a, ZMQ_SNDMORE), 4);
        CHECK_RC (send_str (push, "", ZMQ_SNDMORE), 0);
        CHECK_RC (send_str (push, b, 0), 4);
    }
    for (int w = 0; w < WORKERS; w++) {
        char a[8], b[8];
        snprintf (a, sizeof a, "m%d.a", w);
        snprintf (b, sizeof b, "m%d.b", w);
        EXPECT_FRAME (pulls[w], a, 1);
        EXPECT_FRAME (pulls[w], "", 1);
        EXPECT_FRAME (pulls[w], b, 0);
        EXPECT_NOTHING (pulls[w]);
    }

    CHECK_RC (zmq_close (push), 0);
    for (int w = 0; w < WORKERS; w++)
        CHECK_RC (zmq_close (pulls[w]), 0);
}

/* Three PUSHes each queue their messages before the PULL reads any. */
static void test_fan_in (void *ctx)
{
    enum { SENDERS = 3, PER_SENDER = 10 };
    void *pull = new_socket (ctx, ZMQ_PULL);
    char ep[256];
    CHECK_RC (tu_bind (pull, "pp-fan-in", ep, sizeof ep), 0);
    void *pushes[SENDERS];
    for (int s = 0; s < SENDERS; s++) {
        pushes[s] = new_socket (ctx, ZMQ_PUSH);
        CHECK_RC (zmq_connect (pushes[s], ep), 0);
    }
    for (int i = 0; i < PER_SENDER; i++)
        for (int s = SENDERS - 1; s >= 0; s--) {
            char msg[16];
            snprintf (msg, sizeof msg, "s%d-%d", s, i);
            CHECK_RC (send_str (pushes[s], msg, 0), (int) strlen (msg));
        }

    int next[SENDERS] = {0, 0, 0};
    int order_ok = 1, interleaved = 1, parsed_ok = 1;
    int window[SENDERS];
    for (int k = 0; k < SENDERS * PER_SENDER; k++) {
        char buf[32];
        int s = -1, i = -1;
        if (recv_str (pull, buf, sizeof buf, 0) < 0 || sscanf (buf, "s%d-%d", &s, &i) != 2
            || s < 0 || s >= SENDERS) {
            parsed_ok = 0;
            continue;
        }
        order_ok &= i == next[s];
        next[s]++;
        /* Fair queuing with every pipe busy: each run of SENDERS messages has one from each.
         * Over tcp and ipc each connection delivers into its pipe at its own pace, so which
         * pipes are busy when the PULL reads is a matter of timing: inproc only. */
        window[k % SENDERS] = s;
        if (k % SENDERS == SENDERS - 1)
            interleaved &= window[0] != window[1] && window[1] != window[2]
                           && window[0] != window[2];
    }
    CHECK (parsed_ok);
    CHECK (order_ok);
    if (tu_transport () == TU_INPROC)
        CHECK (interleaved);
    for (int s = 0; s < SENDERS; s++)
        CHECK_RC (next[s], PER_SENDER);
    EXPECT_NOTHING (pull);

    /* Frames of one sender's unfinished message never mix with another sender's message. */
    CHECK_RC (send_str (pushes[0], "long-1", ZMQ_SNDMORE), 6);
    CHECK_RC (send_str (pushes[1], "short", 0), 5);
    CHECK_RC (send_str (pushes[0], "long-2", ZMQ_SNDMORE), 6);
    EXPECT_FRAME (pull, "short", 0);
    EXPECT_NOTHING (pull);
    CHECK_RC (send_str (pushes[0], "long-3", 0), 6);
    EXPECT_FRAME (pull, "long-1", 1);
    EXPECT_FRAME (pull, "long-2", 1);
    EXPECT_FRAME (pull, "long-3", 0);
    EXPECT_NOTHING (pull);

    for (int s = 0; s < SENDERS; s++)
        CHECK_RC (zmq_close (pushes[s]), 0);
    CHECK_RC (zmq_close (pull), 0);
}

/* Messages a PUSH sent before closing are still delivered (inproc keeps them in the pipe; over
 * tcp and ipc the default infinite ZMQ_LINGER sends them). */
static void test_sent_before_close (void *ctx)
{
    void *pull = new_socket (ctx, ZMQ_PULL);
    void *push = new_socket (ctx, ZMQ_PUSH);
    char ep[256];
    CHECK_RC (tu_bind (pull, "pp-close", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (send_str (push, "one", 0), 3);
    CHECK_RC (send_str (push, "two", ZMQ_SNDMORE), 3);
    CHECK_RC (send_str (push, "three", 0), 5);
    CHECK_RC (zmq_close (push), 0);
    EXPECT_FRAME (pull, "one", 0);
    EXPECT_FRAME (pull, "two", 1);
    EXPECT_FRAME (pull, "three", 0);
    EXPECT_NOTHING (pull);
    CHECK_RC (zmq_close (pull), 0);
}

/* Connect before bind: messages queue on the connecting side and flow once bound (over tcp
 * and ipc once the connecting side has retried). */
static void test_connect_before_bind (void *ctx)
{
    void *push = new_socket (ctx, ZMQ_PUSH);
    void *pull = new_socket (ctx, ZMQ_PULL);
    char ep[256];
    CHECK_RC (tu_endpoint ("pp-late", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (send_str (push, "queued 1", 0), 8);
    CHECK_RC (send_str (push, "queued 2", 0), 8);
    CHECK_RC (tu_bind_endpoint (pull, ep), 0);
    EXPECT_FRAME (pull, "queued 1", 0);
    EXPECT_FRAME (pull, "queued 2", 0);
    EXPECT_NOTHING (pull);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

/* The byte at offset i of large message n. */
static unsigned char large_byte (int n, size_t i)
{
    return (unsigned char) ((i * 31u + (size_t) n * 7u) ^ (i >> 12));
}

static void test_large_frames (void *ctx)
{
    static const size_t sizes[] = {1048576 + 1, 300000, 5, 4 * 1048576, 70000, 1048576};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *pull = new_socket (ctx, ZMQ_PULL);
    void *push = new_socket (ctx, ZMQ_PUSH);
    char ep[256];
    CHECK_RC (tu_bind (pull, "pp-large", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    for (int n = 0; n < N; n++) {
        zmq_msg_t m;
        CHECK_RC (zmq_msg_init_size (&m, sizes[n]), 0);
        unsigned char *d = zmq_msg_data (&m);
        for (size_t i = 0; i < sizes[n]; i++)
            d[i] = large_byte (n, i);
        CHECK_RC (zmq_msg_send (&m, push, 0), (int) sizes[n]);
    }
    for (int n = 0; n < N; n++) {
        zmq_msg_t m;
        CHECK_RC (zmq_msg_init (&m), 0);
        CHECK_RC (zmq_msg_recv (&m, pull, 0), (int) sizes[n]);
        const unsigned char *d = zmq_msg_data (&m);
        size_t bad = sizes[n];
        for (size_t i = 0; i < zmq_msg_size (&m) && bad == sizes[n]; i++)
            if (d[i] != large_byte (n, i))
                bad = i;
        if (bad != sizes[n])
            printf ("large message %d differs at offset %zu\n", n, bad);
        CHECK (bad == sizes[n]);
        CHECK_RC (zmq_msg_close (&m), 0);
    }
    EXPECT_NOTHING (pull);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

static void test_wrong_direction (void *ctx)
{
    void *push = new_socket (ctx, ZMQ_PUSH);
    void *pull = new_socket (ctx, ZMQ_PULL);
    char ep[256];
    CHECK_RC (tu_bind (pull, "pp-dir", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    char buf[8];
    CHECK_ERRNO (zmq_recv (push, buf, sizeof buf, 0), ENOTSUP);
    CHECK_ERRNO (zmq_recv (push, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    CHECK_ERRNO (zmq_send (pull, "x", 1, 0), ENOTSUP);
    CHECK_ERRNO (zmq_send (pull, "x", 1, ZMQ_DONTWAIT), ENOTSUP);
    /* A PUSH with no peer at all would block; DONTWAIT says EAGAIN. */
    void *lonely = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_ERRNO (zmq_send (lonely, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    CHECK_RC (zmq_close (lonely), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_fan_out (ctx);
    test_fan_in (ctx);
    test_sent_before_close (ctx);
    test_connect_before_bind (ctx);
    test_large_frames (ctx);
    test_wrong_direction (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("pushpull");
}
