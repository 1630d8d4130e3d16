/* tcp_ipc.c: the tcp and ipc transports through the C API: REQ/REP over tcp://127.0.0.1:*,
 * PUSH/PULL over ipc (a path and the ipc wildcard), ZMQ_LAST_ENDPOINT formats, peer metadata,
 * zmq_unbind and zmq_disconnect on live endpoints, EADDRINUSE (tcp) and the takeover of a
 * bound ipc path, bad endpoints, zmq_has("ipc"),
 * delivery when a connecting socket closes at once, ZMQ_LINGER set after connecting, and a raw
 * tcp peer sending a large frame in parts (or closing in its middle).
 * Prints nothing that depends on ports, paths or timing. */
#include "testutil.h"

#include <ctype.h>
#include <sys/stat.h>
#include <unistd.h>

static void *ctx;
static char tmpdir[64];

static void *new_socket (int type)
{
    void *s = zmq_socket (ctx, type);
    CHECK (s != NULL);
    int timeo = 2000, linger = 1000;
    CHECK_RC (zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_SNDTIMEO, &timeo, sizeof timeo), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger), 0);
    return s;
}

static void set_int (void *s, int option, int value)
{
    CHECK_RC (zmq_setsockopt (s, option, &value, sizeof value), 0);
}

static void last_endpoint (void *s, char *buf, size_t n)
{
    size_t len = n;
    buf[0] = 0;
    CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &len), 0);
    CHECK (len == strlen (buf) + 1);
}

static void send_str (void *s, const char *str, int flags)
{
    CHECK_RC (zmq_send (s, str, strlen (str), flags), (int) strlen (str));
}

/* Receives one frame; it must be `want`, with `more` as its RCVMORE. */
static void recv_str (void *s, const char *want, int more)
{
    char buf[256];
    int n = zmq_recv (s, buf, sizeof buf - 1, 0);
    CHECK_RC (n, (int) strlen (want));
    if (n < 0)
        return;
    buf[n] = 0;
    CHECK_STR (buf, want);
    int rcvmore = -1;
    size_t len = sizeof rcvmore;
    CHECK_RC (zmq_getsockopt (s, ZMQ_RCVMORE, &rcvmore, &len), 0);
    CHECK_RC (rcvmore, more);
}

static void expect_nothing (void *s, int ms)
{
    char buf[16];
    set_int (s, ZMQ_RCVTIMEO, ms);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), EAGAIN);
    set_int (s, ZMQ_RCVTIMEO, 2000);
}

/* True if `ep` is tcp://127.0.0.1:PORT with PORT a decimal number in 1..65535. */
static int is_loopback_tcp (const char *ep)
{
    const char *prefix = "tcp://127.0.0.1:";
    if (strncmp (ep, prefix, strlen (prefix)) != 0)
        return 0;
    const char *p = ep + strlen (prefix);
    if (!*p || *p == '0')
        return 0;
    for (const char *q = p; *q; q++)
        if (!isdigit ((unsigned char) *q))
            return 0;
    long port = strtol (p, NULL, 10);
    return port >= 1 && port <= 65535;
}

static int path_exists (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0;
}

static void test_has (void)
{
    CHECK_RC (zmq_has ("ipc"), 1);
    printf ("zmq_has(\"ipc\"): %d\n", zmq_has ("ipc"));
}

static void test_tcp_req_rep (void)
{
    void *rep = new_socket (ZMQ_REP);
    void *req = new_socket (ZMQ_REQ);
    char ep[256];
    CHECK_RC (zmq_bind (rep, "tcp://127.0.0.1:*"), 0);
    last_endpoint (rep, ep, sizeof ep);
    CHECK (is_loopback_tcp (ep));
    printf ("tcp wildcard bind: ZMQ_LAST_ENDPOINT is tcp://127.0.0.1:<port>\n");
    CHECK_RC (zmq_connect (req, ep), 0);

    for (int i = 0; i < 3; i++) {
        send_str (req, "hello", ZMQ_SNDMORE);
        send_str (req, "", ZMQ_SNDMORE);
        send_str (req, "world", 0);
        zmq_msg_t m;
        zmq_msg_init (&m);
        CHECK_RC (zmq_msg_recv (&m, rep, 0), 5);
        CHECK (zmq_msg_more (&m));
        CHECK_STR (zmq_msg_gets (&m, "Socket-Type"), "REQ");
        CHECK_STR (zmq_msg_gets (&m, "Peer-Address"), "127.0.0.1");
        zmq_msg_close (&m);
        recv_str (rep, "", 1);
        recv_str (rep, "world", 0);
        send_str (rep, "reply", 0);
        recv_str (req, "reply", 0);
    }
    printf ("tcp REQ/REP: 3 round trips of 3-frame requests\n");
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (rep), 0);
}

static void test_ipc_push_pull (void)
{
    void *pull = new_socket (ZMQ_PULL);
    void *push = new_socket (ZMQ_PUSH);
    char path[128], given[160], ep[256];
    snprintf (path, sizeof path, "%s/pp.ipc", tmpdir);
    snprintf (given, sizeof given, "ipc://%s", path);
    CHECK_RC (zmq_bind (pull, given), 0);
    last_endpoint (pull, ep, sizeof ep);
    CHECK_STR (ep, given);
    CHECK (path_exists (path));
    printf ("ipc path bind: ZMQ_LAST_ENDPOINT is the endpoint given\n");

    CHECK_RC (zmq_connect (push, ep), 0);
    char buf[16];
    for (int i = 0; i < 10; i++) {
        snprintf (buf, sizeof buf, "m%d", i);
        send_str (push, buf, 0);
    }
    send_str (push, "a", ZMQ_SNDMORE);
    send_str (push, "", ZMQ_SNDMORE);
    send_str (push, "c", 0);
    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_RC (zmq_msg_recv (&m, pull, 0), 2);
    CHECK_STR (zmq_msg_gets (&m, "Socket-Type"), "PUSH");
    zmq_msg_close (&m);
    for (int i = 1; i < 10; i++) {
        snprintf (buf, sizeof buf, "m%d", i);
        recv_str (pull, buf, 0);
    }
    recv_str (pull, "a", 1);
    recv_str (pull, "", 1);
    recv_str (pull, "c", 0);
    printf ("ipc PUSH/PULL: 10 messages and a 3-frame one\n");

    /* (libzmq leaves the file of an explicit path behind; libzmq-rs removes it.) */
    CHECK_RC (zmq_unbind (pull, ep), 0);
    CHECK_ERRNO (zmq_unbind (pull, ep), ENOENT);
    CHECK_RC (zmq_close (push), 0);

    /* The ipc wildcard makes a fresh path under TMPDIR. */
    char prefix[96];
    snprintf (prefix, sizeof prefix, "ipc://%s/", tmpdir);
    setenv ("TMPDIR", tmpdir, 1);
    CHECK_RC (zmq_bind (pull, "ipc://*"), 0);
    unsetenv ("TMPDIR");
    last_endpoint (pull, ep, sizeof ep);
    CHECK (strncmp (ep, prefix, strlen (prefix)) == 0 && strlen (ep) > strlen (prefix));
    printf ("ipc wildcard bind: ZMQ_LAST_ENDPOINT is ipc://$TMPDIR/<name>\n");
    CHECK_ERRNO (zmq_unbind (pull, "ipc://*"), ENOENT);
    push = new_socket (ZMQ_PUSH);
    CHECK_RC (zmq_connect (push, ep), 0);
    send_str (push, "via wildcard", 0);
    recv_str (pull, "via wildcard", 0);
    CHECK_RC (zmq_unbind (pull, ep), 0);
    printf ("ipc unbind: ENOENT for the wildcard form, then for the unbound endpoint\n");
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

/* ipc: binding a path another socket is bound to takes the path over (zmq_ipc(7): the
 * earlier binding is overridden); a peer connecting after that reaches the second socket. */
static void test_ipc_takeover (void)
{
    void *first = new_socket (ZMQ_PULL);
    void *second = new_socket (ZMQ_PULL);
    void *push = new_socket (ZMQ_PUSH);
    char ep[160];
    snprintf (ep, sizeof ep, "ipc://%s/taken.ipc", tmpdir);
    CHECK_RC (zmq_bind (first, ep), 0);
    CHECK_RC (zmq_bind (second, ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    send_str (push, "to the second", 0);
    recv_str (second, "to the second", 0);
    char buf[16];
    CHECK_ERRNO (zmq_recv (first, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    printf ("ipc: a second bind to a bound path takes it over\n");
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (first), 0);
    CHECK_RC (zmq_close (second), 0);
}

static void test_unbind_live (void)
{
    void *pull = new_socket (ZMQ_PULL);
    void *push = new_socket (ZMQ_PUSH);
    char ep[256];
    CHECK_RC (zmq_bind (pull, "tcp://127.0.0.1:*"), 0);
    last_endpoint (pull, ep, sizeof ep);
    CHECK_RC (zmq_connect (push, ep), 0);
    send_str (push, "1", 0);
    recv_str (pull, "1", 0);

    /* Only the resolved endpoint names the bind. */
    CHECK_ERRNO (zmq_unbind (pull, "tcp://127.0.0.1:*"), ENOENT);
    CHECK_RC (zmq_unbind (pull, ep), 0);
    CHECK_ERRNO (zmq_unbind (pull, ep), ENOENT);
    /* The connections the listener accepted close with it. */
    usleep (100000);
    zmq_send (push, "2", 1, ZMQ_DONTWAIT);
    expect_nothing (pull, 300);
    printf ("tcp unbind: ENOENT for the wildcard form and twice; accepted connections close\n");

    /* The port is free again (the listener closes asynchronously). */
    void *again = new_socket (ZMQ_PULL);
    int rc = -1, other_errno = 0;
    for (int i = 0; i < 100 && rc != 0; i++) {
        rc = zmq_bind (again, ep);
        if (rc != 0) {
            if (zmq_errno () != EADDRINUSE)
                other_errno = zmq_errno ();
            usleep (10000);
        }
    }
    CHECK_RC (rc, 0);
    CHECK_RC (other_errno, 0);
    printf ("tcp unbind: the endpoint can be bound again\n");
    set_int (push, ZMQ_LINGER, 0);
    CHECK_RC (zmq_close (again), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

static void test_disconnect_live (void)
{
    void *pull = new_socket (ZMQ_PULL);
    void *push = new_socket (ZMQ_PUSH);
    char ep[256];
    CHECK_RC (zmq_bind (pull, "tcp://127.0.0.1:*"), 0);
    last_endpoint (pull, ep, sizeof ep);
    CHECK_RC (zmq_connect (push, ep), 0);
    send_str (push, "a", 0);
    recv_str (pull, "a", 0);
    CHECK_RC (zmq_disconnect (push, ep), 0);
    CHECK_ERRNO (zmq_send (push, "b", 1, ZMQ_DONTWAIT), EAGAIN);
    expect_nothing (pull, 300);
    CHECK_ERRNO (zmq_disconnect (push, ep), ENOENT);
    CHECK_ERRNO (zmq_disconnect (push, "tcp://127.0.0.1:1"), ENOENT);
    printf ("tcp disconnect: the PUSH has no peer left; ENOENT twice and for unknown\n");
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

static void test_bad_endpoints (void)
{
    void *a = new_socket (ZMQ_PULL);
    void *b = new_socket (ZMQ_PULL);
    char ep[256];
    CHECK_RC (zmq_bind (a, "tcp://127.0.0.1:*"), 0);
    last_endpoint (a, ep, sizeof ep);
    CHECK_ERRNO (zmq_bind (b, ep), EADDRINUSE);
    CHECK_ERRNO (zmq_bind (a, ep), EADDRINUSE);
    printf ("tcp: EADDRINUSE binding a bound endpoint (other socket, same socket)\n");

    const char *invalid_bind[] = {"tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:",
                                  "tcp://127.0.0.1:abc", "ipc://", "inproc://",
                                  "tcp:/x", "tcp//x", ""};
    for (size_t i = 0; i < sizeof invalid_bind / sizeof invalid_bind[0]; i++)
        CHECK_ERRNO (zmq_bind (b, invalid_bind[i]), EINVAL);
    const char *invalid_connect[] = {"tcp://", "tcp://127.0.0.1", "tcp://*:5555",
                                     "tcp://127.0.0.1:*", "ipc://"};
    for (size_t i = 0; i < sizeof invalid_connect / sizeof invalid_connect[0]; i++)
        CHECK_ERRNO (zmq_connect (b, invalid_connect[i]), EINVAL);
    CHECK_ERRNO (zmq_bind (b, "foo://x"), EPROTONOSUPPORT);
    CHECK_ERRNO (zmq_connect (b, "foo://x"), EPROTONOSUPPORT);
    CHECK_ERRNO (zmq_bind (b, "tcp://no-such-interface:5555"), ENODEV);
    printf ("bad endpoints: EINVAL, EPROTONOSUPPORT, ENODEV\n");
    CHECK_RC (zmq_close (b), 0);
    CHECK_RC (zmq_close (a), 0);
}

/* Messages sent right after zmq_connect are delivered although the socket closes before the
 * connection is up: the session lingers (ZMQ_LINGER 1000), connecting and reconnecting, until
 * they are written. Over tcp the PULL is bound first; over ipc only after the PUSH closed. */
static void test_close_before_connected (const char *bind_ep)
{
    int tcp = strncmp (bind_ep, "tcp", 3) == 0;
    void *pull = new_socket (ZMQ_PULL);
    void *push = new_socket (ZMQ_PUSH);
    char ep[256];
    if (tcp) {
        CHECK_RC (zmq_bind (pull, bind_ep), 0);
        last_endpoint (pull, ep, sizeof ep);
    } else {
        snprintf (ep, sizeof ep, "%s", bind_ep);
    }
    CHECK_RC (zmq_connect (push, ep), 0);
    send_str (push, "x", 0);
    send_str (push, "y", ZMQ_SNDMORE);
    send_str (push, "z", 0);
    CHECK_RC (zmq_close (push), 0);
    if (!tcp)
        CHECK_RC (zmq_bind (pull, bind_ep), 0);
    recv_str (pull, "x", 0);
    recv_str (pull, "y", 1);
    recv_str (pull, "z", 0);
    printf ("%.3s: a socket closed right after sending still delivers (%s)\n", bind_ep,
            tcp ? "bound before" : "bound after the close");
    CHECK_RC (zmq_close (pull), 0);
}

/* ZMQ_LINGER is taken at close time: 0 set after connecting lets zmq_ctx_term return at once
 * although the connect never succeeded and a message waits. */
static void test_linger_set_after_connect (void)
{
    void *c = zmq_ctx_new ();
    CHECK (c != NULL);
    void *push = zmq_socket (c, ZMQ_PUSH);
    CHECK (push != NULL);
    set_int (push, ZMQ_LINGER, 3000);
    char ep[160];
    snprintf (ep, sizeof ep, "ipc://%s/nobody.ipc", tmpdir);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "queued", 6, ZMQ_DONTWAIT), 6);
    set_int (push, ZMQ_LINGER, 0);
    void *watch = zmq_stopwatch_start ();
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_ctx_term (c), 0);
    unsigned long us = zmq_stopwatch_stop (watch);
    CHECK (us < 1000000);
    printf ("ZMQ_LINGER 0 set after connect: zmq_ctx_term does not wait\n");
}

/* ipc in Linux's abstract namespace (ipc://@name): bind, connect, one message across. */
static void test_ipc_abstract (void)
{
    void *pull = new_socket (ZMQ_PULL);
    void *push = new_socket (ZMQ_PUSH);
    CHECK_RC (zmq_bind (pull, "ipc://@zmq-tcp-ipc-abstract-test"), 0);
    CHECK_RC (zmq_connect (push, "ipc://@zmq-tcp-ipc-abstract-test"), 0);
    send_str (push, "abstract", 0);
    recv_str (pull, "abstract", 0);
    printf ("ipc abstract namespace: one message across\n");
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

/* Sends `n` raw octets to the STREAM socket's peer `id`. */
static void raw_send (void *stream, const char *id, const void *data, size_t n)
{
    CHECK_RC (zmq_send (stream, id, strlen (id), ZMQ_SNDMORE), (int) strlen (id));
    CHECK_RC (zmq_send (stream, data, n, 0), (int) n);
}

/* The ZMTP 3.0 header of a long frame of `len` octets (no MORE flag). */
static void long_frame_header (unsigned char *h, uint64_t len)
{
    h[0] = 0x02;
    for (int i = 0; i < 8; i++)
        h[1 + i] = (unsigned char) (len >> (56 - 8 * i));
}

/* A peer that writes frames in parts with pauses, through a STREAM socket speaking ZMTP 3.0 as a
 * PUSH: a large frame is delivered whole once its last part arrives (not before), a small frame
 * after it still arrives on its own, and a peer that closes in the middle of a large frame is
 * seen to disconnect, the partial frame dropped. */
static void test_large_frame_in_parts (void)
{
    void *pull = new_socket (ZMQ_PULL);
    char ep[256];
    CHECK_RC (zmq_bind (pull, "tcp://127.0.0.1:*"), 0);
    last_endpoint (pull, ep, sizeof ep);
    CHECK_RC (zmq_socket_monitor (pull, "inproc://parts-monitor", ZMQ_EVENT_DISCONNECTED), 0);
    void *events = new_socket (ZMQ_PAIR);
    CHECK_RC (zmq_connect (events, "inproc://parts-monitor"), 0);

    void *raw = new_socket (ZMQ_STREAM);
    const char *id = "raw-peer";
    CHECK_RC (zmq_setsockopt (raw, ZMQ_CONNECT_ROUTING_ID, id, strlen (id)), 0);
    CHECK_RC (zmq_connect (raw, ep), 0);
    char buf[64];
    CHECK_RC (zmq_recv (raw, buf, sizeof buf, 0), (int) strlen (id)); /* connect notice */
    CHECK_RC (zmq_recv (raw, buf, sizeof buf, 0), 0);

    unsigned char greeting[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0, 'N', 'U', 'L', 'L'};
    raw_send (raw, id, greeting, sizeof greeting);
    const unsigned char ready[] = {0x04, 26,  5,   'R', 'E', 'A', 'D', 'Y', 11,  'S',
                                   'o',  'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e',
                                   0,    0,   0,   4,   'P', 'U', 'S', 'H'};
    raw_send (raw, id, ready, sizeof ready);

    const size_t size = 1 << 20, first = 600000;
    unsigned char *frame = malloc (9 + size);
    CHECK (frame != NULL);
    long_frame_header (frame, size);
    for (size_t i = 0; i < size; i++)
        frame[9 + i] = (unsigned char) (i * 7 + i / 4096);
    raw_send (raw, id, frame, 9 + first);
    expect_nothing (pull, 200);
    raw_send (raw, id, frame + 9 + first, size - first);
    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_RC (zmq_msg_recv (&m, pull, 0), (int) size);
    CHECK (zmq_msg_size (&m) == size && memcmp (zmq_msg_data (&m), frame + 9, size) == 0);
    zmq_msg_close (&m);

    expect_nothing (pull, 100);
    const unsigned char small[] = {0x00, 5, 'h', 'e', 'l', 'l', 'o'};
    raw_send (raw, id, small, sizeof small);
    recv_str (pull, "hello", 0);

    raw_send (raw, id, frame, 9 + 300000);
    expect_nothing (pull, 100);
    CHECK_RC (zmq_close (raw), 0); /* its linger lets the part out first */
    CHECK_RC (tu_read_event (events, NULL), ZMQ_EVENT_DISCONNECTED);
    expect_nothing (pull, 100);
    printf ("tcp: a 1 MiB frame sent in two parts arrives whole, a small one after it alone; a "
            "peer closing in a frame's middle disconnects\n");

    free (frame);
    CHECK_RC (zmq_socket_monitor (pull, NULL, 0), 0);
    CHECK_RC (zmq_close (events), 0);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    snprintf (tmpdir, sizeof tmpdir, "/tmp/zmq-tcp-ipc-XXXXXX");
    if (!mkdtemp (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);

    test_has ();
    test_tcp_req_rep ();
    test_ipc_push_pull ();
    test_ipc_takeover ();
    test_unbind_live ();
    test_disconnect_live ();
    test_bad_endpoints ();
    test_close_before_connected ("tcp://127.0.0.1:*");
    char ipc[160];
    snprintf (ipc, sizeof ipc, "ipc://%s/close.ipc", tmpdir);
    test_close_before_connected (ipc);
    test_linger_set_after_connect ();
    test_large_frame_in_parts ();
    test_ipc_abstract ();

    CHECK_RC (zmq_ctx_term (ctx), 0);
    /* Everything bound under tmpdir is gone once the sockets are closed. */
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK_RC (system (cmd), 0);
    return TEST_SUMMARY ("tcp_ipc");
}
