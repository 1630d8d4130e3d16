/* hwm.c: high-water marks and timeouts over inproc, tcp and ipc.
 *
 * inproc: a connection's queue holds the sender's SNDHWM plus the receiver's RCVHWM messages
 * (libzmq adds the two; 0 on either side means unbounded), whichever side binds first. A full
 * PUSH fails with EAGAIN under ZMQ_DONTWAIT, or after ZMQ_SNDTIMEO, and resumes once the
 * reader has drained to the low-water mark (half the queue); a PUB never blocks and drops what
 * does not fit.
 *
 * tcp and ipc: a connection has two queues, the sender's (SNDHWM) and the receiver's (RCVHWM),
 * with the kernel's socket buffers between them, so how much a connected peer that does not
 * read can hold is up to the kernel. What is exact is a PUSH connected to an endpoint nobody is
 * bound to yet: it queues exactly SNDHWM messages (a multipart message counts once), then
 * fails with EAGAIN under ZMQ_DONTWAIT or after ZMQ_SNDTIMEO, or blocks; once the peer binds,
 * all of it arrives in order and a blocked sender is released. A PUB never blocks: with
 * messages far larger than the buffers it drops most of a burst to a subscriber that does not
 * read, what does arrive is in order from the first on, and delivery resumes once the
 * subscriber has caught up.
 *
 * Everywhere: large multipart messages to a receiver that reads late all arrive, whole and in
 * order, and receive timeouts (ZMQ_DONTWAIT, ZMQ_RCVTIMEO 0 and > 0). */
// transports: inproc tcp ipc
#include "testutil.h"

#include <pthread.h>
#include <time.h>

static long now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_int (void *s, int option, int value)
{
    return zmq_setsockopt (s, option, &value, sizeof value);
}

/* Sends numbered messages with ZMQ_DONTWAIT from `first` on until one fails; returns how many
 * went out. */
static int fill (void *s, int first)
{
    int n = 0;
    for (;;) {
        char buf[16];
        int len = snprintf (buf, sizeof buf, "%d", first + n);
        if (zmq_send (s, buf, (size_t) len, ZMQ_DONTWAIT) != len)
            return n;
        n++;
    }
}

/* Receives `count` messages and checks they are numbered from `first` on, in order. */
static int drain_in_order (void *s, int first, int count, int flags)
{
    for (int i = 0; i < count; i++) {
        char buf[16];
        int n = zmq_recv (s, buf, sizeof buf - 1, flags);
        if (n < 0)
            return 0;
        buf[n] = '\0';
        if (atoi (buf) != first + i)
            return 0;
    }
    return 1;
}

/* inproc: SNDHWM + RCVHWM. */
static void test_push_hwm_is_the_sum (void *ctx)
{
    /* Bind first, connect second; then the other way round: same capacity. */
    for (int connect_first = 0; connect_first < 2; connect_first++) {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        void *pull = zmq_socket (ctx, ZMQ_PULL);
        CHECK_RC (set_int (push, ZMQ_SNDHWM, 5), 0);
        CHECK_RC (set_int (pull, ZMQ_RCVHWM, 7), 0);
        const char *ep = connect_first ? "inproc://hwm-sum-late" : "inproc://hwm-sum";
        if (connect_first) {
            CHECK_RC (zmq_connect (push, ep), 0);
            CHECK_RC (zmq_bind (pull, ep), 0);
        } else {
            CHECK_RC (zmq_bind (pull, ep), 0);
            CHECK_RC (zmq_connect (push, ep), 0);
        }
        CHECK_RC (fill (push, 0), 12);
        CHECK_ERRNO (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
        CHECK (drain_in_order (pull, 0, 12, ZMQ_DONTWAIT));
        char buf[8];
        CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
        CHECK_RC (set_int (push, ZMQ_LINGER, 0), 0);
        CHECK_RC (zmq_close (push), 0);
        CHECK_RC (zmq_close (pull), 0);
    }

    /* Equal and asymmetric settings, and a multipart message counts once. */
    const int cases[][2] = {{1, 1}, {10, 3}, {1000, 1000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        void *pull = zmq_socket (ctx, ZMQ_PULL);
        CHECK_RC (set_int (push, ZMQ_SNDHWM, cases[c][0]), 0);
        CHECK_RC (set_int (pull, ZMQ_RCVHWM, cases[c][1]), 0);
        char ep[64];
        snprintf (ep, sizeof ep, "inproc://hwm-case-%zu", c);
        CHECK_RC (zmq_bind (pull, ep), 0);
        CHECK_RC (zmq_connect (push, ep), 0);
        int n = 0;
        while (zmq_send (push, "a", 1, ZMQ_DONTWAIT | ZMQ_SNDMORE) == 1) {
            if (zmq_send (push, "b", 1, ZMQ_DONTWAIT) != 1)
                break;
            n++;
        }
        CHECK_RC (n, cases[c][0] + cases[c][1]);
        CHECK_RC (set_int (push, ZMQ_LINGER, 0), 0);
        CHECK_RC (zmq_close (push), 0);
        CHECK_RC (zmq_close (pull), 0);
    }
}

/* tcp and ipc: a PUSH whose peer has not bound yet queues exactly SNDHWM messages. */
static void test_push_hwm_unconnected (void *ctx)
{
    const int cases[][2] = {{5, 7}, {1, 1}, {10, 3}, {1000, 1000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        void *pull = zmq_socket (ctx, ZMQ_PULL);
        CHECK_RC (set_int (push, ZMQ_SNDHWM, cases[c][0]), 0);
        CHECK_RC (set_int (pull, ZMQ_RCVHWM, cases[c][1]), 0);
        CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 10000), 0);
        char name[32], ep[256];
        snprintf (name, sizeof name, "hwm-unconnected-%zu", c);
        CHECK_RC (tu_endpoint (name, ep, sizeof ep), 0);
        CHECK_RC (zmq_connect (push, ep), 0);
        /* Two-part messages: each counts once. */
        int n = 0;
        for (;;) {
            char buf[16];
            int len = snprintf (buf, sizeof buf, "%d", n);
            if (zmq_send (push, buf, (size_t) len, ZMQ_DONTWAIT | ZMQ_SNDMORE) != len)
                break;
            if (zmq_send (push, "b", 1, ZMQ_DONTWAIT) != 1)
                break;
            n++;
        }
        CHECK_RC (n, cases[c][0]);
        CHECK_ERRNO (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
        /* The peer binds: everything queued arrives, whole and in order. */
        CHECK_RC (tu_bind_endpoint (pull, ep), 0);
        int in_order = 1;
        for (int i = 0; i < n; i++) {
            char buf[16];
            int len = zmq_recv (pull, buf, sizeof buf - 1, 0);
            in_order &= len >= 0 && (buf[len] = '\0', atoi (buf) == i);
            in_order &= zmq_recv (pull, buf, sizeof buf, 0) == 1 && buf[0] == 'b';
        }
        CHECK (in_order);
        char buf[8];
        CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
        CHECK_RC (zmq_close (push), 0);
        CHECK_RC (zmq_close (pull), 0);
    }
}

struct sender_args {
    void *push;
    int first, count, sent;
};

static void *blocking_sender (void *arg)
{
    struct sender_args *a = (struct sender_args *) arg;
    for (int i = 0; i < a->count; i++) {
        char buf[16];
        int len = snprintf (buf, sizeof buf, "%d", a->first + i);
        if (zmq_send (a->push, buf, (size_t) len, 0) != len)
            break;
        a->sent++;
    }
    return NULL;
}

/* inproc: the queue is full at SNDHWM + RCVHWM, and exactly the low-water mark's worth is let
 * in after a partial read. */
static void test_push_blocks (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 5), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVHWM, 7), 0);
    CHECK_RC (zmq_bind (pull, "inproc://hwm-block"), 0);
    CHECK_RC (zmq_connect (push, "inproc://hwm-block"), 0);
    CHECK_RC (fill (push, 0), 12);

    /* ZMQ_SNDTIMEO 0 is like ZMQ_DONTWAIT; > 0 waits that long, then EAGAIN. */
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 0), 0);
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 100), 0);
    long t0 = now_ms ();
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    long waited = now_ms () - t0;
    CHECK (waited >= 80);
    CHECK (waited < 5000);

    /* Reading half the queue (the low-water mark) lets exactly that many more in. */
    CHECK (drain_in_order (pull, 0, 6, 0));
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 10000), 0);
    CHECK_RC (zmq_send (push, "12", 2, 0), 2);
    CHECK_RC (fill (push, 13), 5);
    CHECK_ERRNO (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);

    /* A sender blocked without a timeout, in another thread, is released by the reader. */
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, -1), 0);
    struct sender_args a = {push, 18, 30, 0};
    pthread_t t;
    CHECK_RC (pthread_create (&t, NULL, blocking_sender, &a), 0);
    CHECK (drain_in_order (pull, 6, 42, 0));
    CHECK_RC (pthread_join (t, NULL), 0);
    CHECK_RC (a.sent, 30);
    char buf[8];
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

/* tcp and ipc: a full queue (the peer not bound yet) makes sends wait for ZMQ_SNDTIMEO, or
 * block until the peer is there and reads. */
static void test_push_blocks_unconnected (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 5), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVHWM, 7), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 10000), 0);
    char ep[256];
    CHECK_RC (tu_endpoint ("hwm-block", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (fill (push, 0), 5);

    /* ZMQ_SNDTIMEO 0 is like ZMQ_DONTWAIT; > 0 waits that long, then EAGAIN. */
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 0), 0);
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 100), 0);
    long t0 = now_ms ();
    CHECK_ERRNO (zmq_send (push, "x", 1, 0), EAGAIN);
    long waited = now_ms () - t0;
    CHECK (waited >= 80);
    CHECK (waited < 5000);

    /* A sender blocked without a timeout, in another thread, is released once the peer has
     * bound and reads. */
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, -1), 0);
    struct sender_args a = {push, 5, 30, 0};
    pthread_t t;
    CHECK_RC (pthread_create (&t, NULL, blocking_sender, &a), 0);
    CHECK_RC (tu_bind_endpoint (pull, ep), 0);
    CHECK (drain_in_order (pull, 0, 35, 0));
    CHECK_RC (pthread_join (t, NULL), 0);
    CHECK_RC (a.sent, 30);
    char buf[8];
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

/* inproc: PUB drops what does not fit (SNDHWM + RCVHWM), and publishing never blocks. */
static void test_pub_drops (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    CHECK_RC (set_int (pub, ZMQ_SNDHWM, 5), 0);
    CHECK_RC (set_int (sub, ZMQ_RCVHWM, 7), 0);
    CHECK_RC (zmq_bind (pub, "inproc://hwm-pub"), 0);
    CHECK_RC (zmq_connect (sub, "inproc://hwm-pub"), 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0), 0);
    /* The subscription is already in the pipe; reading ZMQ_EVENTS makes the PUB process its
     * pending commands, and so apply it, without sending anything through the pipe (probe
     * messages would use up queue space). */
    int events = 0;
    size_t sz = sizeof events;
    CHECK_RC (zmq_getsockopt (pub, ZMQ_EVENTS, &events, &sz), 0);
    CHECK_RC (events, ZMQ_POLLOUT);

    int all_sent = 1;
    for (int i = 0; i < 100; i++) {
        char buf[16];
        int len = snprintf (buf, sizeof buf, "%d", i);
        all_sent &= zmq_send (pub, buf, (size_t) len, i % 2 ? ZMQ_DONTWAIT : 0) == len;
    }
    CHECK (all_sent);
    /* The first 5 + 7 arrive, in order; the rest were dropped. */
    CHECK (drain_in_order (sub, 0, 12, ZMQ_DONTWAIT));
    char buf[16];
    CHECK_ERRNO (zmq_recv (sub, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    /* Once the subscriber has caught up (and the PUB has seen it), delivery resumes. */
    CHECK_RC (zmq_getsockopt (pub, ZMQ_EVENTS, &events, &sz), 0);
    for (int i = 100; i < 150; i++) {
        int len = snprintf (buf, sizeof buf, "%d", i);
        all_sent &= zmq_send (pub, buf, (size_t) len, 0) == len;
    }
    CHECK (all_sent);
    CHECK (drain_in_order (sub, 100, 12, ZMQ_DONTWAIT));
    CHECK_ERRNO (zmq_recv (sub, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

/* tcp and ipc: PUB drops most of a burst of messages far larger than the kernel's buffers to a
 * subscriber that does not read; what arrives is in order from the first on; once the
 * subscriber has caught up (and the PUB has seen it), delivery resumes. */
static void test_pub_drops_connected (void *ctx)
{
    enum { SIZE = 65536, BURST = 100 };
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    CHECK_RC (set_int (pub, ZMQ_SNDHWM, 5), 0);
    CHECK_RC (set_int (sub, ZMQ_RCVHWM, 7), 0);
    CHECK_RC (set_int (pub, ZMQ_SNDBUF, SIZE), 0);
    CHECK_RC (set_int (sub, ZMQ_RCVBUF, SIZE), 0);
    CHECK_RC (set_int (sub, ZMQ_RCVTIMEO, 10000), 0);
    char ep[256];
    CHECK_RC (tu_bind (pub, "hwm-pub", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (sub, ep), 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0), 0);

    /* The subscription is in effect once a probe arrives (sent every 10 ms); then one last
     * probe, read up to, leaves nothing behind. */
    /* (How many probes or "end"s it takes varies: their send errors are counted in one check,
     * so that the number of checks, which is printed, does not.) */
    char buf[32];
    int synced = 0, send_errors = 0;
    for (int i = 0; i < 1000 && !synced; i++) {
        send_errors += zmq_send (pub, "probe", 5, 0) != 5;
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        synced = zmq_poll (&it, 1, 10) == 1;
    }
    CHECK (synced);
    CHECK_RC (zmq_send (pub, "last probe", 10, 0), 10);
    int n;
    while ((n = zmq_recv (sub, buf, sizeof buf, 0)) == 5)
        ;
    CHECK_RC (n, 10);

    char *msg = calloc (1, SIZE);
    CHECK (msg != NULL);
    int all_sent = 1;
    for (int i = 0; i < BURST && msg; i++) {
        snprintf (msg, 16, "%d", i);
        all_sent &= zmq_send (pub, msg, SIZE, i % 2 ? ZMQ_DONTWAIT : 0) == SIZE;
    }
    CHECK (all_sent);
    /* Read what arrived, up to an "end" sent (every 10 ms: it may be dropped too) after it. */
    int got = 0, first = -1, last = -1, in_order = 1, ended = 0;
    for (int i = 0; i < 1000 && !ended; i++) {
        send_errors += zmq_send (pub, "end", 3, 0) != 3;
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        while (!ended && zmq_poll (&it, 1, 10) == 1) {
            n = zmq_recv (sub, buf, sizeof buf - 1, 0);
            if (n == 3 && memcmp (buf, "end", 3) == 0) {
                ended = 1;
                break;
            }
            buf[n >= 0 && n < (int) sizeof buf - 1 ? n : (int) sizeof buf - 1] = '\0';
            int v = atoi (buf);
            in_order &= n == SIZE && v > last;
            if (first < 0)
                first = v;
            last = v;
            got++;
        }
    }
    CHECK (ended);
    CHECK_RC (send_errors, 0);
    CHECK (in_order);
    CHECK_RC (first, 0);
    CHECK (got >= 1 && got < BURST);
    free (msg);

    /* Caught up: once the PUB has seen it (ZMQ_EVENTS), the next message goes through. Any
     * "end" still queued comes first. */
    int events = 0;
    size_t sz = sizeof events;
    CHECK_RC (zmq_getsockopt (pub, ZMQ_EVENTS, &events, &sz), 0);
    CHECK_RC (zmq_send (pub, "resumed", 7, 0), 7);
    while ((n = zmq_recv (sub, buf, sizeof buf, 0)) == 3 && memcmp (buf, "end", 3) == 0)
        ;
    CHECK_RC (n, 7);
    CHECK (memcmp (buf, "resumed", 7) == 0);
    CHECK_ERRNO (zmq_recv (sub, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

/* SNDHWM 0 means no limit (over tcp and ipc: the peer binds once all is queued). */
static void test_unbounded (void *ctx)
{
    enum { N = 100000 };
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 0), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 10000), 0);
    char ep[256];
    CHECK_RC (tu_endpoint ("hwm-unbounded", ep, sizeof ep), 0);
    if (tu_transport () == TU_INPROC)
        CHECK_RC (tu_bind_endpoint (pull, ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    int sent = 0;
    for (int i = 0; i < N; i++) {
        char buf[16];
        int len = snprintf (buf, sizeof buf, "%d", i);
        if (zmq_send (push, buf, (size_t) len, ZMQ_DONTWAIT) != len)
            break;
        sent++;
    }
    CHECK_RC (sent, N);
    if (tu_transport () != TU_INPROC)
        CHECK_RC (tu_bind_endpoint (pull, ep), 0);
    CHECK (drain_in_order (pull, 0, N, tu_transport () == TU_INPROC ? ZMQ_DONTWAIT : 0));
    char buf[8];
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

/* Large multipart messages to a receiver that reads only when the sender is stopped: all
 * arrive, whole and in order, with a RCVHWM and with RCVHWM 0. The sender sends with
 * ZMQ_DONTWAIT until the queues are full (EAGAIN, SNDHWM 2) and only then is one message
 * read, so the receiving side has stopped taking more (at its RCVHWM, or at its bound on what
 * it reads ahead) before each read and must resume after it. */
enum { BIG_FRAME = 200 * 1024, BIG_MSGS = 40 };

/* Frame `part` of message `i`: its number, its part, then a letter that depends on both. */
static void big_frame (char *buf, int i, int part)
{
    memset (buf, 'a' + (i + part) % 26, BIG_FRAME);
    buf[0] = (char) i;
    buf[1] = (char) part;
}

/* Receives message `i` and checks its three frames; 1 if it is whole and right. */
static int recv_big (void *pull, char *buf, int i)
{
    int ok = 1;
    for (int part = 0; part < 3; part++) {
        int n = zmq_recv (pull, buf, BIG_FRAME + 1, 0);
        int more = 0;
        size_t more_size = sizeof more;
        zmq_getsockopt (pull, ZMQ_RCVMORE, &more, &more_size);
        ok = ok && n == BIG_FRAME && buf[0] == (char) i && buf[1] == (char) part
             && buf[BIG_FRAME - 1] == (char) ('a' + (i + part) % 26) && more == (part < 2);
    }
    return ok;
}

static void test_large_messages_to_a_late_reader (void *ctx, int rcvhwm)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 2), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVHWM, rcvhwm), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 20000), 0);
    CHECK_RC (set_int (push, ZMQ_LINGER, 0), 0); /* a failed test still ends */
    char name[32], ep[256];
    snprintf (name, sizeof name, "hwm-large-%d", rcvhwm);
    CHECK_RC (tu_bind (pull, name, ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    char *out = (char *) malloc (BIG_FRAME);
    char *in = (char *) malloc (BIG_FRAME + 1);
    CHECK (out != NULL && in != NULL);
    int sent = 0, whole = 0;
    while (out && in && whole < BIG_MSGS) {
        if (sent < BIG_MSGS) {
            big_frame (out, sent, 0);
            if (zmq_send (push, out, BIG_FRAME, ZMQ_SNDMORE | ZMQ_DONTWAIT) == BIG_FRAME) {
                /* The rest of a started message is never refused. */
                big_frame (out, sent, 1);
                int ok = zmq_send (push, out, BIG_FRAME, ZMQ_SNDMORE) == BIG_FRAME;
                big_frame (out, sent, 2);
                ok = ok && zmq_send (push, out, BIG_FRAME, 0) == BIG_FRAME;
                if (!ok)
                    break;
                sent++;
                continue;
            }
            if (zmq_errno () != EAGAIN)
                break;
            if (whole == sent) {
                /* Everything sent was read, and the sender has not heard yet: wait for it. */
                zmq_pollitem_t it = {push, 0, ZMQ_POLLOUT, 0};
                if (zmq_poll (&it, 1, 20000) != 1)
                    break;
                continue;
            }
        }
        /* Full (or all sent): read one message. */
        if (!recv_big (pull, in, whole))
            break;
        whole++;
    }
    CHECK_RC (sent, BIG_MSGS);
    CHECK_RC (whole, BIG_MSGS);
    CHECK_ERRNO (zmq_recv (pull, in, 1, ZMQ_DONTWAIT), EAGAIN);
    free (out);
    free (in);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

static void test_recv_timeouts (void *ctx)
{
    const int types[] = {ZMQ_PULL, ZMQ_DEALER, ZMQ_SUB, ZMQ_PAIR};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        void *s = zmq_socket (ctx, types[i]);
        char buf[8];
        CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
        CHECK_RC (set_int (s, ZMQ_RCVTIMEO, 0), 0);
        CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), EAGAIN);
        CHECK_RC (zmq_close (s), 0);
    }
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    char ep[256];
    CHECK_RC (tu_bind (pull, "hwm-rcvtimeo", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 100), 0);
    char buf[8];
    long t0 = now_ms ();
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, 0), EAGAIN);
    long waited = now_ms () - t0;
    CHECK (waited >= 80);
    CHECK (waited < 5000);
    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_ERRNO (zmq_msg_recv (&m, pull, 0), EAGAIN);
    /* A message already there is returned at once despite the timeout. */
    CHECK_RC (zmq_send (push, "hi", 2, 0), 2);
    zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
    CHECK_RC (zmq_poll (&it, 1, 10000), 1); /* there (over tcp and ipc: arrived) */
    CHECK_RC (zmq_msg_recv (&m, pull, 0), 2);
    zmq_msg_close (&m);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    if (tu_transport () == TU_INPROC) {
        test_push_hwm_is_the_sum (ctx);
        test_push_blocks (ctx);
        test_pub_drops (ctx);
    } else {
        test_push_hwm_unconnected (ctx);
        test_push_blocks_unconnected (ctx);
        test_pub_drops_connected (ctx);
    }
    test_unbounded (ctx);
    test_large_messages_to_a_late_reader (ctx, 1000);
    test_large_messages_to_a_late_reader (ctx, 0);
    test_recv_timeouts (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("hwm");
}
