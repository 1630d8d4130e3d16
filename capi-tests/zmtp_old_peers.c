/* zmtp_old_peers.c: a plain TCP socket speaks ZMTP 2.0 (RFC 15, libzmq 3.x) and ZMTP 1.0
 * (RFC 13, libzmq 2.x) by hand to zmq sockets, as libzmq 4.3 lets such peers do: the greeting
 * downgrade, identity frames (a ROUTER's routing id), multipart and long frames both ways,
 * subscriptions as messages, a PUB's subscription-to-everything for a 1.0 peer, and the
 * refusal of old peers when a security mechanism or a ZAP domain is set. */
#include "testutil.h"

#include <poll.h>
#include <sys/time.h>

static void *ctx;

/* Connects a plain TCP socket to the tcp endpoint s is bound to (2 s receive timeout). */
static int raw_connect (void *s)
{
    char ep[256];
    size_t len = sizeof ep;
    if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        return -1;
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons ((uint16_t) atoi (strrchr (ep, ':') + 1));
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    const int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};
    if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0
        || connect (fd, (struct sockaddr *) &a, sizeof a) != 0)
        return -1;
    return fd;
}

static int send_all (int fd, const void *buf, size_t n)
{
    return send (fd, buf, n, MSG_NOSIGNAL) == (ssize_t) n ? 0 : -1;
}

/* Reads exactly n octets; 0 on success. */
static int recv_exact (int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        const ssize_t r = recv (fd, (char *) buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t) r;
    }
    return 0;
}

/* True if the peer closes the connection (read returns 0 or fails with a reset). */
static int closed_by_peer (int fd)
{
    unsigned char b[64];
    for (;;) {
        const ssize_t r = recv (fd, b, sizeof b, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return 1;
        if (r < 0)
            return 0; /* timed out: still open */
    }
}

/* Appends one frame in ZMTP 2.0 (v == 2) or 1.0 (v == 1) framing; returns the new length. */
static size_t put_frame (unsigned char *out, size_t at, int v, int more, const void *body,
                         size_t n)
{
    if (v == 2) {
        if (n > 255) {
            out[at++] = (unsigned char) (more | 2);
            for (int i = 7; i >= 0; i--)
                out[at++] = (unsigned char) ((uint64_t) n >> (8 * i));
        } else {
            out[at++] = (unsigned char) more;
            out[at++] = (unsigned char) n;
        }
    } else {
        if (n + 1 < 255) {
            out[at++] = (unsigned char) (n + 1);
        } else {
            out[at++] = 0xff;
            for (int i = 7; i >= 0; i--)
                out[at++] = (unsigned char) ((uint64_t) (n + 1) >> (8 * i));
        }
        out[at++] = (unsigned char) more;
    }
    memcpy (out + at, body, n);
    return at + n;
}

/* Reads one frame in framing v into body (cap octets); returns its size, or -1. */
static long get_frame (int fd, int v, int *more, unsigned char *body, size_t cap)
{
    unsigned char h[9];
    uint64_t size = 0;
    if (v == 2) {
        if (recv_exact (fd, h, 1) != 0)
            return -1;
        *more = h[0] & 1;
        if (h[0] & 2) {
            unsigned char l[8];
            if (recv_exact (fd, l, 8) != 0)
                return -1;
            for (int i = 0; i < 8; i++)
                size = size << 8 | l[i];
        } else {
            unsigned char l;
            if (recv_exact (fd, &l, 1) != 0)
                return -1;
            size = l;
        }
    } else {
        if (recv_exact (fd, h, 1) != 0)
            return -1;
        if (h[0] == 0xff) {
            unsigned char l[8];
            if (recv_exact (fd, l, 8) != 0)
                return -1;
            for (int i = 0; i < 8; i++)
                size = size << 8 | l[i];
        } else {
            size = h[0];
        }
        unsigned char flags;
        if (size == 0 || recv_exact (fd, &flags, 1) != 0)
            return -1;
        *more = flags & 1;
        size -= 1;
    }
    if (size > cap || recv_exact (fd, body, (size_t) size) != 0)
        return -1;
    return (long) size;
}

/* Checks that the next frame read is `want` with MORE as `more`. */
static void expect_frame (int fd, int v, const char *want, size_t n, int more)
{
    static unsigned char body[4096];
    int m = -1;
    const long got = get_frame (fd, v, &m, body, sizeof body);
    CHECK_RC (got, (long) n);
    CHECK (got == (long) n && memcmp (body, want, n) == 0);
    CHECK_RC (m, more);
}

/* Waits until fd has input, making s process its commands meanwhile (a socket takes in a
 * new peer, and a SUB sends it its subscriptions, when the application calls into it);
 * 1 if input came within 2 s. */
static int wait_input (int fd, void *s)
{
    for (int i = 0; i < 200; i++) {
        int events;
        size_t len = sizeof events;
        zmq_getsockopt (s, ZMQ_EVENTS, &events, &len);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, 10) == 1)
            return 1;
    }
    return 0;
}

/* A socket of `type` bound to a tcp port (routing id `id` unless NULL: set before the bind,
 * since accepted connections take the options of the bind). */
static void *bound_as (int type, const char *id)
{
    void *s = zmq_socket (ctx, type);
    if (id)
        CHECK_RC (zmq_setsockopt (s, ZMQ_ROUTING_ID, id, strlen (id)), 0);
    int linger = 0, timeo = 2000;
    zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    zmq_setsockopt (s, ZMQ_SNDTIMEO, &timeo, sizeof timeo);
    CHECK_RC (zmq_bind (s, "tcp://127.0.0.1:*"), 0);
    return s;
}

static void *bound (int type)
{
    return bound_as (type, NULL);
}

/* Receives one frame from s and checks it. */
static void expect_msg (void *s, const char *want, size_t n, int more)
{
    char buf[4096];
    const int got = zmq_recv (s, buf, sizeof buf, 0);
    CHECK_RC (got, (int) n);
    CHECK (got == (int) n && memcmp (buf, want, n) == 0);
    int m = 0;
    size_t len = sizeof m;
    zmq_getsockopt (s, ZMQ_RCVMORE, &m, &len);
    CHECK_RC (m, more);
}

/* A ZMTP 2.0 (or versioned 1.0: revision 0) peer named "old-2" talks to a ROUTER named
 * "rtr": its identity becomes its routing id, and frames flow both ways. */
static void test_router_versioned (int revision)
{
    const int v = revision == 1 ? 2 : 1;
    printf ("-- ROUTER and a versioned peer, revision %d\n", revision);
    void *router = bound_as (ZMQ_ROUTER, "rtr");
    const int fd = raw_connect (router);
    CHECK (fd >= 0);
    /* Our signature, then the ROUTER's, whose padding holds its identity's length + 1. */
    unsigned char sig[10] = {0xff, 0, 0, 0, 0, 0, 0, 0, 6, 0x7f};
    CHECK_RC (send_all (fd, sig, 10), 0);
    unsigned char g[12];
    CHECK_RC (recv_exact (fd, g, 11), 0);
    const unsigned char want_sig[11] = {0xff, 0, 0, 0, 0, 0, 0, 0, 4, 0x7f, 3};
    CHECK (memcmp (g, want_sig, 11) == 0);
    /* Our revision and socket type (DEALER); the ROUTER answers with its type. */
    unsigned char rev[2] = {(unsigned char) revision, ZMQ_DEALER};
    CHECK_RC (send_all (fd, rev, 2), 0);
    CHECK_RC (recv_exact (fd, g + 11, 1), 0);
    CHECK_RC (g[11], ZMQ_ROUTER);
    expect_frame (fd, v, "rtr", 3, 0);
    /* Our identity frame, then a three-part message with an empty and a long frame. */
    static unsigned char out[2048];
    char long_body[300];
    memset (long_body, 'L', sizeof long_body);
    size_t n = put_frame (out, 0, v, 0, "old-2", 5);
    n = put_frame (out, n, v, 1, "a", 1);
    n = put_frame (out, n, v, 1, "", 0);
    n = put_frame (out, n, v, 0, long_body, sizeof long_body);
    CHECK_RC (send_all (fd, out, n), 0);
    expect_msg (router, "old-2", 5, 1);
    expect_msg (router, "a", 1, 1);
    expect_msg (router, "", 0, 1);
    expect_msg (router, long_body, sizeof long_body, 0);
    /* Replies reach it by that routing id. */
    CHECK_RC (zmq_send (router, "old-2", 5, ZMQ_SNDMORE), 5);
    CHECK_RC (zmq_send (router, "r", 1, ZMQ_SNDMORE), 1);
    CHECK_RC (zmq_send (router, long_body, sizeof long_body, 0), (int) sizeof long_body);
    expect_frame (fd, v, "r", 1, 1);
    expect_frame (fd, v, long_body, sizeof long_body, 0);
    close (fd);
    CHECK_RC (zmq_close (router), 0);
}

/* A ZMTP 1.0 peer (no greeting: its first octets are its identity frame) talks to a ROUTER;
 * the ROUTER's signature is the header of its identity frame, whose body follows. */
static void test_router_unversioned (void)
{
    printf ("-- ROUTER and a ZMTP 1.0 peer\n");
    void *router = bound_as (ZMQ_ROUTER, "rtr");
    const int fd = raw_connect (router);
    CHECK (fd >= 0);
    static unsigned char out[2048];
    char long_body[1000];
    memset (long_body, 'M', sizeof long_body);
    size_t n = put_frame (out, 0, 1, 0, "old-1", 5);
    n = put_frame (out, n, 1, 1, "x", 1);
    n = put_frame (out, n, 1, 0, long_body, sizeof long_body);
    CHECK_RC (send_all (fd, out, n), 0);
    /* 0xff, eight octets (3 + 1), flags 0x7f (MORE set), then "rtr". */
    expect_frame (fd, 1, "rtr", 3, 1);
    expect_msg (router, "old-1", 5, 1);
    expect_msg (router, "x", 1, 1);
    expect_msg (router, long_body, sizeof long_body, 0);
    CHECK_RC (zmq_send (router, "old-1", 5, ZMQ_SNDMORE), 5);
    CHECK_RC (zmq_send (router, long_body, 254, 0), 254);
    expect_frame (fd, 1, long_body, 254, 0);
    close (fd);
    CHECK_RC (zmq_close (router), 0);
}

/* A PUSH sends to a ZMTP 2.0 PULL peer, and a PULL receives from one. */
static void test_push_pull (void)
{
    printf ("-- PUSH and PULL with ZMTP 2.0 peers\n");
    void *push = bound (ZMQ_PUSH);
    int fd = raw_connect (push);
    CHECK (fd >= 0);
    unsigned char hello[14] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, ZMQ_PULL, 0, 0};
    CHECK_RC (send_all (fd, hello, sizeof hello), 0);
    unsigned char g[12];
    CHECK_RC (recv_exact (fd, g, 12), 0);
    CHECK_RC (g[11], ZMQ_PUSH);
    expect_frame (fd, 2, "", 0, 0);
    CHECK_RC (zmq_send (push, "p1", 2, ZMQ_SNDMORE), 2);
    CHECK_RC (zmq_send (push, "p2", 2, 0), 2);
    expect_frame (fd, 2, "p1", 2, 1);
    expect_frame (fd, 2, "p2", 2, 0);
    close (fd);
    CHECK_RC (zmq_close (push), 0);

    void *pull = bound (ZMQ_PULL);
    fd = raw_connect (pull);
    CHECK (fd >= 0);
    hello[11] = ZMQ_PUSH;
    static unsigned char out[64];
    memcpy (out, hello, sizeof hello);
    size_t n = put_frame (out, sizeof hello, 2, 0, "q", 1);
    CHECK_RC (send_all (fd, out, n), 0);
    expect_msg (pull, "q", 1, 0);
    close (fd);
    CHECK_RC (zmq_close (pull), 0);
}

/* A SUB's subscriptions reach a ZMTP 2.0 publisher as messages (0x01 + topic), and only
 * matching messages come back. */
static void test_sub (void)
{
    printf ("-- SUB and a ZMTP 2.0 publisher\n");
    void *sub = bound (ZMQ_SUB);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "A", 1), 0);
    const int fd = raw_connect (sub);
    CHECK (fd >= 0);
    unsigned char hello[14] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, ZMQ_PUB, 0, 0};
    CHECK_RC (send_all (fd, hello, sizeof hello), 0);
    unsigned char g[12];
    CHECK_RC (recv_exact (fd, g, 12), 0);
    CHECK_RC (g[11], ZMQ_SUB);
    expect_frame (fd, 2, "", 0, 0);
    CHECK (wait_input (fd, sub));
    expect_frame (fd, 2, "\x01" "A", 2, 0);
    unsigned char out[64];
    size_t n = put_frame (out, 0, 2, 0, "B-no", 4);
    n = put_frame (out, n, 2, 0, "A-yes", 5);
    CHECK_RC (send_all (fd, out, n), 0);
    expect_msg (sub, "A-yes", 5, 0);
    close (fd);
    CHECK_RC (zmq_close (sub), 0);
}

/* A ZMTP 1.0 subscriber sends no subscriptions: a PUB subscribes it to everything. */
static void test_pub_unversioned (void)
{
    printf ("-- PUB and a ZMTP 1.0 subscriber\n");
    void *pub = bound (ZMQ_PUB);
    const int fd = raw_connect (pub);
    CHECK (fd >= 0);
    CHECK_RC (send_all (fd, "\x01\x00", 2), 0); /* an anonymous identity frame */
    expect_frame (fd, 1, "", 0, 1);
    /* The subscription takes effect once the PUB has taken in the peer: publish until a
     * message arrives. */
    int got = 0;
    for (int i = 0; i < 200 && !got; i++) {
        zmq_send (pub, "news", 4, 0);
        struct timeval tv = {0, 10000};
        setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        unsigned char h[2];
        if (recv (fd, h, 1, MSG_PEEK) == 1)
            got = 1;
    }
    struct timeval tv = {2, 0};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK (got);
    expect_frame (fd, 1, "news", 4, 0);
    close (fd);
    CHECK_RC (zmq_close (pub), 0);
}

/* Old peers cannot be authenticated: a PLAIN server and a NULL socket with a ZAP domain
 * close the connection as soon as the peer's version shows (sending at most the signature
 * and the major version); the
 * monitor reports no handshake failure, only the disconnection (as Debian's libzmq 4.3.4). */
static void test_refused (int plain, int unversioned)
{
    printf ("-- %s refuses a ZMTP %s peer\n", plain ? "PLAIN server" : "ZAP domain",
            unversioned ? "1.0" : "2.0");
    void *s = zmq_socket (ctx, ZMQ_PULL);
    int one = 1, linger = 0;
    zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger);
    if (plain)
        CHECK_RC (zmq_setsockopt (s, ZMQ_PLAIN_SERVER, &one, sizeof one), 0);
    else
        CHECK_RC (zmq_setsockopt (s, ZMQ_ZAP_DOMAIN, "global", 6), 0);
    char mon_ep[64];
    snprintf (mon_ep, sizeof mon_ep, "inproc://old-peers-mon-%d-%d", plain, unversioned);
    CHECK_RC (zmq_socket_monitor (s, mon_ep,
                                  ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                                    | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                    | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                    | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                                    | ZMQ_EVENT_DISCONNECTED),
              0);
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    int timeo = 2000;
    zmq_setsockopt (mon, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    zmq_setsockopt (mon, ZMQ_LINGER, &linger, sizeof linger);
    CHECK_RC (zmq_connect (mon, mon_ep), 0);
    CHECK_RC (zmq_bind (s, "tcp://127.0.0.1:*"), 0);
    const int fd = raw_connect (s);
    CHECK (fd >= 0);
    if (unversioned) {
        CHECK_RC (send_all (fd, "\x01\x00", 2), 0);
    } else {
        unsigned char hello[12] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, ZMQ_PUSH};
        CHECK_RC (send_all (fd, hello, sizeof hello), 0);
    }
    /* Closed at once (the signature and major version may be lost to the reset that closing
     * with our octets unread causes). */
    CHECK (closed_by_peer (fd));
    zmq_msg_t ev;
    zmq_msg_init (&ev);
    CHECK_RC (zmq_msg_recv (&ev, mon, 0), 6);
    uint16_t e = 0;
    memcpy (&e, zmq_msg_data (&ev), 2);
    CHECK_RC (e, ZMQ_EVENT_DISCONNECTED);
    CHECK_RC (zmq_msg_recv (&ev, mon, 0) >= 0, 1);
    zmq_msg_close (&ev);
    close (fd);
    CHECK_RC (zmq_socket_monitor (s, NULL, 0), 0);
    CHECK_RC (zmq_close (mon), 0);
    CHECK_RC (zmq_close (s), 0);
}

/* A ZMTP 2.0 peer whose socket type does not match (PUB to a PULL): libzmq 4.3 does not look
 * at the type octet (RFC 15 exchanges it so that such peers can be refused) and takes its
 * messages; so do we. */
static void test_type_not_checked (void)
{
    printf ("-- PULL and a ZMTP 2.0 peer announcing PUB\n");
    void *pull = bound (ZMQ_PULL);
    const int fd = raw_connect (pull);
    CHECK (fd >= 0);
    unsigned char out[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1, ZMQ_PUB, 0, 0};
    const size_t n = put_frame (out, 14, 2, 0, "t", 1);
    CHECK_RC (send_all (fd, out, n), 0);
    expect_msg (pull, "t", 1, 0);
    close (fd);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_router_versioned (1);
    test_router_versioned (0);
    test_router_unversioned ();
    test_push_pull ();
    test_sub ();
    test_pub_unversioned ();
    test_refused (1, 0);
    test_refused (1, 1);
    test_refused (0, 0);
    test_refused (0, 1);
    test_type_not_checked ();
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("zmtp_old_peers");
}
