/* peer.c: one side of a wire-interop scenario (scripts/interop.sh drives it).
 *
 *   peer SCENARIO SIDE bind|connect ENDPOINT DIR
 *
 * Compiled once against Debian's zmq.h and linked with -lzmq; scripts/interop.sh runs the
 * same binary with LD_LIBRARY_PATH pointing at libzmq-rs or at Debian's libzmq, so each side
 * of a scenario may be either library. SIDE is `a` or `b` (the two socket roles of a
 * scenario; the restart scenario has `a1`, the first binding process, and `a2`, its
 * successor). A binding side writes its resolved endpoint (ZMQ_LAST_ENDPOINT) to DIR/endpoint
 * once bound. The two processes coordinate through files in DIR (post/await), never through
 * the libraries under test.
 *
 * Exit status 0 means the side saw exactly what the scenario expects; on failure it prints
 * the reason on stderr and exits 1. Every receive has a timeout, so nothing waits forever
 * (the driver also wraps each process in timeout(1)). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define RCV_TIMEOUT_MS 5000
#define LINGER_MS 3000
#define MAX_PARTS 16

static const char *g_scenario;
static const char *g_side;
static int g_bind;
static const char *g_endpoint;
static const char *g_dir;
static void *g_ctx;

static void fail (const char *fmt, ...)
{
    va_list ap;
    fprintf (stderr, "peer %s/%s (%s): ", g_scenario, g_side, g_bind ? "bind" : "connect");
    va_start (ap, fmt);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fputc ('\n', stderr);
    exit (1);
}

/* Z(call): the call must not return -1. */
#define Z(expr)                                                                \
    do {                                                                       \
        if ((expr) == -1)                                                      \
            fail ("line %d: %s: %s", __LINE__, #expr, zmq_strerror (zmq_errno ())); \
    } while (0)

static void sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR) {
    }
}

static int64_t now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- coordination through files in DIR ---- */

static void path_of (char *out, size_t n, const char *name)
{
    snprintf (out, n, "%s/%s", g_dir, name);
}

/* Writes DIR/name atomically (write a temporary file, then rename). */
static void post_content (const char *name, const char *content)
{
    char path[512], tmp[600];
    path_of (path, sizeof path, name);
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    FILE *f = fopen (tmp, "w");
    if (!f || fputs (content, f) < 0 || fclose (f) != 0)
        fail ("cannot write %s", tmp);
    if (rename (tmp, path) != 0)
        fail ("cannot rename %s", tmp);
}

static void post (const char *name)
{
    post_content (name, "");
}

static int posted (const char *name)
{
    char path[512];
    struct stat st;
    path_of (path, sizeof path, name);
    return stat (path, &st) == 0;
}

static void await_post (const char *name, int timeout_ms)
{
    int64_t end = now_ms () + timeout_ms;
    while (!posted (name)) {
        if (now_ms () > end)
            fail ("timed out waiting for '%s' to be posted", name);
        sleep_ms (2);
    }
}

/* ---- sockets ---- */

static void set_int (void *s, int opt, int v)
{
    Z (zmq_setsockopt (s, opt, &v, sizeof v));
}

static void *new_socket (int type)
{
    void *s = zmq_socket (g_ctx, type);
    if (!s)
        fail ("zmq_socket(%d): %s", type, zmq_strerror (zmq_errno ()));
    set_int (s, ZMQ_LINGER, LINGER_MS);
    set_int (s, ZMQ_RCVTIMEO, RCV_TIMEOUT_MS);
    set_int (s, ZMQ_SNDTIMEO, RCV_TIMEOUT_MS);
    return s;
}

/* Binds or connects as the command line says; a binder publishes DIR/endpoint. */
static void attach (void *s)
{
    if (g_bind) {
        Z (zmq_bind (s, g_endpoint));
        char ep[256];
        size_t n = sizeof ep;
        Z (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &n));
        post_content ("endpoint", ep);
    } else {
        Z (zmq_connect (s, g_endpoint));
    }
}

static void *open_socket (int type)
{
    void *s = new_socket (type);
    attach (s);
    return s;
}

static void close_socket (void *s)
{
    Z (zmq_close (s));
}

/* ---- messages ---- */

typedef struct {
    int n;
    zmq_msg_t part[MAX_PARTS];
} parts_t;

static void parts_close (parts_t *m)
{
    for (int i = 0; i < m->n; i++)
        zmq_msg_close (&m->part[i]);
    m->n = 0;
}

/* Receives one whole message. Returns 0, or -1 with EAGAIN when may_time_out and nothing came
 * within the receive timeout; any other failure is fatal. */
static int recv_parts_ex (void *s, parts_t *m, int may_time_out)
{
    m->n = 0;
    for (;;) {
        if (m->n == MAX_PARTS)
            fail ("message with more than %d frames", MAX_PARTS);
        zmq_msg_t *p = &m->part[m->n];
        zmq_msg_init (p);
        if (zmq_msg_recv (p, s, 0) == -1) {
            int e = zmq_errno ();
            zmq_msg_close (p);
            if (e == EAGAIN && m->n == 0 && may_time_out)
                return -1;
            fail ("zmq_msg_recv: %s (after %d frames)", zmq_strerror (e), m->n);
        }
        m->n++;
        if (!zmq_msg_more (p))
            return 0;
    }
}

static void recv_parts (void *s, parts_t *m)
{
    recv_parts_ex (s, m, 0);
}

static int part_is (zmq_msg_t *p, const void *data, size_t size)
{
    return zmq_msg_size (p) == size && (size == 0 || memcmp (zmq_msg_data (p), data, size) == 0);
}

static int parts_are (parts_t *m, int n, const char *const *want)
{
    if (m->n != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (!part_is (&m->part[i], want[i], strlen (want[i])))
            return 0;
    return 1;
}

static void describe (parts_t *m, char *out, size_t n)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < m->n && used + 8 < n; i++) {
        size_t sz = zmq_msg_size (&m->part[i]);
        const unsigned char *d = zmq_msg_data (&m->part[i]);
        used += snprintf (out + used, n - used, "%s[", i ? " " : "");
        for (size_t j = 0; j < sz && j < 24 && used + 6 < n; j++)
            used += snprintf (out + used, n - used, d[j] >= 32 && d[j] < 127 ? "%c" : "\\x%02x", d[j]);
        if (sz > 24 && used + 24 < n)
            used += snprintf (out + used, n - used, "...(%zu bytes)", sz);
        if (used + 2 < n)
            used += snprintf (out + used, n - used, "]");
    }
}

static void expect_strs (void *s, const char *const *want, int n)
{
    parts_t m;
    recv_parts (s, &m);
    if (!parts_are (&m, n, want)) {
        char got[512];
        describe (&m, got, sizeof got);
        fail ("expected a %d-frame message starting \"%s\", got %d frames: %s", n, want[0], m.n, got);
    }
    parts_close (&m);
}

static void send_strs (void *s, const char *const *parts, int n)
{
    for (int i = 0; i < n; i++)
        if (zmq_send (s, parts[i], strlen (parts[i]), i + 1 < n ? ZMQ_SNDMORE : 0) == -1)
            fail ("zmq_send(\"%s\"): %s", parts[i], zmq_strerror (zmq_errno ()));
}

#define STRS(...) ((const char *const[]){__VA_ARGS__})
#define NSTRS(...) ((int) (sizeof STRS (__VA_ARGS__) / sizeof (const char *)))
/* SEND(s, "a", "b"): a two-frame message; EXPECT(s, "a", "b"): the next message is exactly it. */
#define SEND(s, ...) send_strs ((s), STRS (__VA_ARGS__), NSTRS (__VA_ARGS__))
#define EXPECT(s, ...) expect_strs ((s), STRS (__VA_ARGS__), NSTRS (__VA_ARGS__))

static void send_bytes (void *s, const void *data, size_t n, int flags)
{
    if (zmq_send (s, data, n, flags) == -1)
        fail ("zmq_send(%zu bytes): %s", n, zmq_strerror (zmq_errno ()));
}

static void expect_bytes (void *s, const void *data, size_t n)
{
    parts_t m;
    recv_parts (s, &m);
    if (m.n != 1 || !part_is (&m.part[0], data, n)) {
        char got[512];
        describe (&m, got, sizeof got);
        fail ("expected a %zu-byte frame, got %d frames: %s", n, m.n, got);
    }
    parts_close (&m);
}

/* Nothing may arrive within ms milliseconds. */
static void expect_nothing (void *s, int ms)
{
    set_int (s, ZMQ_RCVTIMEO, ms);
    parts_t m;
    if (recv_parts_ex (s, &m, 1) == 0) {
        char got[512];
        describe (&m, got, sizeof got);
        fail ("expected nothing, got %s", got);
    }
    set_int (s, ZMQ_RCVTIMEO, RCV_TIMEOUT_MS);
}

/* The next message's frame metadata property `name` must be `want`. */
static void expect_property (parts_t *m, const char *name, const char *want)
{
    const char *got = zmq_msg_gets (&m->part[0], name);
    if (!got || strcmp (got, want) != 0)
        fail ("metadata %s is \"%s\", expected \"%s\"", name, got ? got : "(null)", want);
}

/* ---- monitors (inproc, inside this process) ---- */

static void *monitor_open (void *s, const char *name)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://%s", name);
    Z (zmq_socket_monitor (s, ep, ZMQ_EVENT_ALL));
    void *m = zmq_socket (g_ctx, ZMQ_PAIR);
    if (!m)
        fail ("monitor socket: %s", zmq_strerror (zmq_errno ()));
    set_int (m, ZMQ_LINGER, 0);
    Z (zmq_connect (m, ep));
    return m;
}

/* The next event within timeout_ms (its number), or -1. */
static int monitor_next (void *m, int timeout_ms)
{
    set_int (m, ZMQ_RCVTIMEO, timeout_ms);
    parts_t e;
    if (recv_parts_ex (m, &e, 1) == -1)
        return -1;
    if (e.n != 2 || zmq_msg_size (&e.part[0]) != 6)
        fail ("malformed monitor event (%d frames)", e.n);
    uint16_t ev;
    memcpy (&ev, zmq_msg_data (&e.part[0]), 2);
    parts_close (&e);
    return ev;
}

/* Waits for event `want` (skipping others) for at most timeout_ms. */
static void monitor_await (void *m, int want, int timeout_ms)
{
    int64_t end = now_ms () + timeout_ms;
    for (;;) {
        int left = (int) (end - now_ms ());
        if (left <= 0)
            fail ("monitor: event 0x%x did not come within %d ms", want, timeout_ms);
        int ev = monitor_next (m, left);
        if (ev == want)
            return;
    }
}

/* Counts the queued events equal to `which`. */
static int monitor_count (void *m, int which)
{
    int n = 0, ev;
    while ((ev = monitor_next (m, 50)) != -1)
        n += ev == which;
    return n;
}

static void monitor_close (void *s, void *m)
{
    Z (zmq_socket_monitor (s, NULL, 0));
    close_socket (m);
}

/* ---- scenarios ---- */

/* The echo client: pipelined messages (single and multipart, empty frames), then "end". */
static void echo_client (void *s)
{
    char buf[32];
    for (int i = 0; i < 20; i++) {
        snprintf (buf, sizeof buf, "msg-%d", i);
        SEND (s, buf);
    }
    SEND (s, "part1", "", "part3");
    SEND (s, "");
    for (int i = 0; i < 20; i++) {
        snprintf (buf, sizeof buf, "msg-%d", i);
        EXPECT (s, buf);
    }
    EXPECT (s, "part1", "", "part3");
    EXPECT (s, "");
    SEND (s, "end");
    EXPECT (s, "end");
}

/* The echo server: sends every message back until it has echoed "end". */
static void echo_server (void *s)
{
    for (;;) {
        parts_t m;
        recv_parts (s, &m);
        int end = parts_are (&m, 1, STRS ("end"));
        for (int i = 0; i < m.n; i++)
            if (zmq_msg_send (&m.part[i], s, i + 1 < m.n ? ZMQ_SNDMORE : 0) == -1)
                fail ("echo send: %s", zmq_strerror (zmq_errno ()));
        /* zmq_msg_send took the frames; closing them again is harmless (they are empty). */
        parts_close (&m);
        if (end)
            return;
    }
}

static void sc_echo (const char *side, int type_a, int type_b)
{
    void *s = open_socket (side[0] == 'a' ? type_a : type_b);
    if (side[0] == 'a')
        echo_client (s);
    else
        echo_server (s);
    close_socket (s);
}

static void sc_pair (const char *side) { sc_echo (side, ZMQ_PAIR, ZMQ_PAIR); }
static void sc_dealer_dealer (const char *side) { sc_echo (side, ZMQ_DEALER, ZMQ_DEALER); }

static void sc_push_pull (const char *side)
{
    char buf[32];
    if (side[0] == 'a') {
        void *s = open_socket (ZMQ_PUSH);
        for (int i = 0; i < 100; i++) {
            snprintf (buf, sizeof buf, "m%d", i);
            SEND (s, buf);
        }
        SEND (s, "x", "y", "");
        SEND (s, "end");
        close_socket (s);
    } else {
        void *s = open_socket (ZMQ_PULL);
        parts_t m;
        recv_parts (s, &m);
        if (!parts_are (&m, 1, STRS ("m0")))
            fail ("first message is not m0");
        expect_property (&m, "Socket-Type", "PUSH");
        parts_close (&m);
        for (int i = 1; i < 100; i++) {
            snprintf (buf, sizeof buf, "m%d", i);
            EXPECT (s, buf);
        }
        EXPECT (s, "x", "y", "");
        EXPECT (s, "end");
        close_socket (s);
    }
}

static void sc_req_rep (const char *side)
{
    char buf[32];
    if (side[0] == 'a') {
        void *s = open_socket (ZMQ_REQ);
        for (int i = 0; i < 10; i++) {
            snprintf (buf, sizeof buf, "%d", i);
            SEND (s, "req", buf);
            EXPECT (s, "rep", buf);
        }
        close_socket (s);
    } else {
        void *s = open_socket (ZMQ_REP);
        for (int i = 0; i < 10; i++) {
            snprintf (buf, sizeof buf, "%d", i);
            EXPECT (s, "req", buf);
            SEND (s, "rep", buf);
        }
        close_socket (s);
    }
}

static void sc_req_router (const char *side)
{
    char q[32], r[32];
    if (side[0] == 'a') {
        void *s = new_socket (ZMQ_REQ);
        Z (zmq_setsockopt (s, ZMQ_ROUTING_ID, "req-id-1", 8));
        attach (s);
        for (int i = 0; i < 5; i++) {
            snprintf (q, sizeof q, "hello %d", i);
            snprintf (r, sizeof r, "world %d", i);
            SEND (s, q);
            EXPECT (s, r);
        }
        close_socket (s);
    } else {
        void *s = open_socket (ZMQ_ROUTER);
        for (int i = 0; i < 5; i++) {
            snprintf (q, sizeof q, "hello %d", i);
            snprintf (r, sizeof r, "world %d", i);
            EXPECT (s, "req-id-1", "", q);
            SEND (s, "req-id-1", "", r);
        }
        close_socket (s);
    }
}

static void sc_dealer_rep (const char *side)
{
    char q[32], r[32];
    if (side[0] == 'a') {
        void *s = open_socket (ZMQ_DEALER);
        for (int i = 0; i < 5; i++) {
            snprintf (q, sizeof q, "q%d", i);
            SEND (s, "", q, "tail");
        }
        for (int i = 0; i < 5; i++) {
            snprintf (r, sizeof r, "r%d", i);
            EXPECT (s, "", r);
        }
        close_socket (s);
    } else {
        void *s = open_socket (ZMQ_REP);
        for (int i = 0; i < 5; i++) {
            snprintf (q, sizeof q, "q%d", i);
            snprintf (r, sizeof r, "r%d", i);
            EXPECT (s, q, "tail");
            SEND (s, r);
        }
        close_socket (s);
    }
}

static void sc_dealer_router (const char *side)
{
    char q[32], r[32];
    if (side[0] == 'a') {
        void *s = new_socket (ZMQ_DEALER);
        Z (zmq_setsockopt (s, ZMQ_ROUTING_ID, "dealer-A", 8));
        attach (s);
        for (int i = 0; i < 5; i++) {
            snprintf (q, sizeof q, "d%d", i);
            SEND (s, q, "more");
        }
        for (int i = 0; i < 5; i++) {
            snprintf (r, sizeof r, "r%d", i);
            EXPECT (s, r);
        }
        EXPECT (s, "unsolicited", "", "x");
        SEND (s, "end");
        close_socket (s);
    } else {
        void *s = open_socket (ZMQ_ROUTER);
        for (int i = 0; i < 5; i++) {
            snprintf (q, sizeof q, "d%d", i);
            parts_t m;
            recv_parts (s, &m);
            if (!parts_are (&m, 3, STRS ("dealer-A", q, "more"))) {
                char got[512];
                describe (&m, got, sizeof got);
                fail ("expected [dealer-A][%s][more], got %s", q, got);
            }
            expect_property (&m, "Socket-Type", "DEALER");
            expect_property (&m, "Identity", "dealer-A");
            parts_close (&m);
        }
        for (int i = 0; i < 5; i++) {
            snprintf (r, sizeof r, "r%d", i);
            SEND (s, "dealer-A", r);
        }
        SEND (s, "dealer-A", "unsolicited", "", "x");
        EXPECT (s, "dealer-A", "end");
        close_socket (s);
    }
}

static void sc_router_router (const char *side)
{
    const char *me = side[0] == 'a' ? "router-a" : "router-b";
    const char *peer = side[0] == 'a' ? "router-b" : "router-a";
    const char *mine = side[0] == 'a' ? "from-a" : "from-b";
    const char *theirs = side[0] == 'a' ? "from-b" : "from-a";
    void *s = new_socket (ZMQ_ROUTER);
    Z (zmq_setsockopt (s, ZMQ_ROUTING_ID, me, strlen (me)));
    set_int (s, ZMQ_ROUTER_MANDATORY, 1);
    attach (s);
    /* The peer is routable once its handshake is done: retry until then. */
    int64_t end = now_ms () + RCV_TIMEOUT_MS;
    for (;;) {
        if (zmq_send (s, peer, strlen (peer), ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1) {
            if (zmq_send (s, mine, strlen (mine), ZMQ_SNDMORE) == -1)
                fail ("send: %s", zmq_strerror (zmq_errno ()));
            SEND (s, "", "last");
            break;
        }
        if (zmq_errno () != EHOSTUNREACH)
            fail ("send to %s: %s", peer, zmq_strerror (zmq_errno ()));
        if (now_ms () > end)
            fail ("peer %s never became routable (last: %s)", peer, zmq_strerror (zmq_errno ()));
        sleep_ms (5);
    }
    EXPECT (s, peer, theirs, "", "last");
    close_socket (s);
}

/* A SUB sees only the topics it subscribed, and nothing more of a topic it unsubscribed.
 * Syncs: the PUB repeats a sync topic until the SUB, which subscribed it after everything else,
 * has seen it; subscriptions travel in order, so the earlier ones are in place by then. */
static void sub_await_sync (void *s, const char *sync, const char *post_name)
{
    parts_t m;
    for (;;) {
        recv_parts (s, &m);
        if (parts_are (&m, 1, STRS (sync)))
            break;
        char got[512];
        describe (&m, got, sizeof got);
        fail ("waiting for sync %s, got %s", sync, got);
    }
    parts_close (&m);
    post (post_name);
}

/* The next message that is not the sync topic must be `want` (one frame). */
static void sub_expect (void *s, const char *sync, const char *const *want, int n)
{
    for (;;) {
        parts_t m;
        recv_parts (s, &m);
        if (parts_are (&m, 1, STRS (sync))) {
            parts_close (&m);
            continue;
        }
        if (!parts_are (&m, n, want)) {
            char got[512];
            describe (&m, got, sizeof got);
            fail ("expected %s, got %s", want[0], got);
        }
        parts_close (&m);
        return;
    }
}
#define SUB_EXPECT(s, sync, ...) sub_expect ((s), (sync), STRS (__VA_ARGS__), NSTRS (__VA_ARGS__))

static void pub_sync (void *s, const char *sync, const char *until)
{
    int64_t end = now_ms () + RCV_TIMEOUT_MS;
    while (!posted (until)) {
        if (now_ms () > end)
            fail ("subscriber never saw sync %s", sync);
        SEND (s, sync);
        sleep_ms (10);
    }
}

static void sc_pub_sub (const char *side)
{
    if (side[0] == 'a') {
        void *s = open_socket (ZMQ_PUB);
        pub_sync (s, "S1", "ready1");
        SEND (s, "C-nope");
        SEND (s, "A1");
        SEND (s, "B1");
        SEND (s, "A-multi", "p2", "");
        SEND (s, "A-end1");
        pub_sync (s, "S2", "ready2");
        SEND (s, "B2");
        SEND (s, "S1");
        SEND (s, "A2");
        SEND (s, "A-end2");
        await_post ("done", RCV_TIMEOUT_MS);
        close_socket (s);
    } else {
        void *s = new_socket (ZMQ_SUB);
        Z (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "A", 1));
        Z (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "B", 1));
        Z (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "S1", 2));
        attach (s);
        sub_await_sync (s, "S1", "ready1");
        SUB_EXPECT (s, "S1", "A1");
        SUB_EXPECT (s, "S1", "B1");
        SUB_EXPECT (s, "S1", "A-multi", "p2", "");
        SUB_EXPECT (s, "S1", "A-end1");
        Z (zmq_setsockopt (s, ZMQ_UNSUBSCRIBE, "B", 1));
        Z (zmq_setsockopt (s, ZMQ_UNSUBSCRIBE, "S1", 2));
        Z (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "S2", 2));
        sub_await_sync (s, "S2", "ready2");
        SUB_EXPECT (s, "S2", "A2");
        SUB_EXPECT (s, "S2", "A-end2");
        post ("done");
        close_socket (s);
    }
}

static void expect_subscription (void *s, int subscribe, const char *topic)
{
    char buf[64];
    buf[0] = (char) subscribe;
    memcpy (buf + 1, topic, strlen (topic));
    expect_bytes (s, buf, strlen (topic) + 1);
}

static void send_subscription (void *s, int subscribe, const char *topic)
{
    char buf[64];
    buf[0] = (char) subscribe;
    memcpy (buf + 1, topic, strlen (topic));
    send_bytes (s, buf, strlen (topic) + 1, 0);
}

/* XPUB sees \x01/\x00 from an XSUB (or SUB: with_sub) and filters by them. */
static void sc_xpub (const char *side, int with_sub)
{
    if (side[0] == 'a') {
        void *s = open_socket (ZMQ_XPUB);
        expect_subscription (s, 1, "A");
        SEND (s, "B-x");
        SEND (s, "A1");
        SEND (s, "A-m", "2");
        SEND (s, "A-end");
        expect_subscription (s, 1, "Z");
        expect_subscription (s, 0, "A");
        SEND (s, "A-after");
        SEND (s, "Z-end");
        if (!with_sub)
            EXPECT (s, "hello-up");
        await_post ("done", RCV_TIMEOUT_MS);
        close_socket (s);
    } else {
        void *s = open_socket (with_sub ? ZMQ_SUB : ZMQ_XSUB);
        if (with_sub)
            Z (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "A", 1));
        else
            send_subscription (s, 1, "A");
        EXPECT (s, "A1");
        EXPECT (s, "A-m", "2");
        EXPECT (s, "A-end");
        if (with_sub) {
            Z (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "Z", 1));
            Z (zmq_setsockopt (s, ZMQ_UNSUBSCRIBE, "A", 1));
        } else {
            send_subscription (s, 1, "Z");
            send_subscription (s, 0, "A");
        }
        EXPECT (s, "Z-end");
        if (!with_sub)
            SEND (s, "hello-up");
        post ("done");
        close_socket (s);
    }
}

static void sc_xpub_xsub (const char *side) { sc_xpub (side, 0); }
static void sc_xpub_sub (const char *side) { sc_xpub (side, 1); }

/* Frames of 0 B .. 16 MiB, with content, both ways, single and in one multipart message. */
static const size_t k_sizes[] = {0, 1, 255, 256, 65536, 16u << 20};
#define N_SIZES (sizeof k_sizes / sizeof k_sizes[0])

static unsigned char *pattern_buf (size_t n, unsigned seed)
{
    unsigned char *b = malloc (n ? n : 1);
    if (!b)
        fail ("out of memory");
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char) ((i * 131u + seed * 7u + (i >> 8)) & 0xff);
    return b;
}

static void check_sized (zmq_msg_t *p, size_t n, unsigned seed)
{
    if (zmq_msg_size (p) != n)
        fail ("frame of %zu bytes, expected %zu", zmq_msg_size (p), n);
    unsigned char *want = pattern_buf (n, seed);
    if (n && memcmp (zmq_msg_data (p), want, n) != 0)
        fail ("content of the %zu-byte frame differs", n);
    free (want);
}

/* Side a sends every size alone, then all in one multipart message; side b checks and echoes
 * each with a new seed; a checks the echoes. */
static void sizes_exchange (void *s, const char *side)
{
    if (side[0] == 'a') {
        for (size_t i = 0; i < N_SIZES; i++) {
            unsigned char *b = pattern_buf (k_sizes[i], (unsigned) i);
            send_bytes (s, b, k_sizes[i], 0);
            free (b);
        }
        for (size_t i = 0; i < N_SIZES; i++) {
            unsigned char *b = pattern_buf (k_sizes[i], (unsigned) i + 100);
            send_bytes (s, b, k_sizes[i], i + 1 < N_SIZES ? ZMQ_SNDMORE : 0);
            free (b);
        }
    }
    for (size_t i = 0; i <= N_SIZES; i++) {
        parts_t m;
        recv_parts (s, &m);
        int multi = i == N_SIZES;
        if (m.n != (multi ? (int) N_SIZES : 1))
            fail ("message %zu has %d frames", i, m.n);
        for (int j = 0; j < m.n; j++) {
            size_t k = multi ? (size_t) j : i;
            unsigned seed = (unsigned) k + (multi ? 100 : 0) + (side[0] == 'a' ? 1000 : 0);
            check_sized (&m.part[j], k_sizes[k], seed);
        }
        if (side[0] == 'b') {
            for (int j = 0; j < m.n; j++) {
                size_t k = multi ? (size_t) j : i;
                unsigned char *b =
                  pattern_buf (k_sizes[k], (unsigned) k + (multi ? 100 : 0) + 1000);
                send_bytes (s, b, k_sizes[k], j + 1 < m.n ? ZMQ_SNDMORE : 0);
                free (b);
            }
        }
        parts_close (&m);
    }
    if (side[0] == 'a')
        SEND (s, "end");
    else
        EXPECT (s, "end");
}

static void sc_sizes (const char *side)
{
    void *s = open_socket (ZMQ_PAIR);
    sizes_exchange (s, side);
    close_socket (s);
}

/* Heartbeats on side a (interval 100 ms, timeout 400 ms, TTL 500 ms): the connection stays
 * up through 1.2 s of silence on both sides and messages still flow; neither side's monitor
 * sees a disconnect. */
static void sc_heartbeat (const char *side)
{
    void *s = new_socket (ZMQ_DEALER);
    if (side[0] == 'a') {
        set_int (s, ZMQ_HEARTBEAT_IVL, 100);
        set_int (s, ZMQ_HEARTBEAT_TIMEOUT, 400);
        set_int (s, ZMQ_HEARTBEAT_TTL, 500);
    }
    void *mon = monitor_open (s, "hb");
    attach (s);
    if (side[0] == 'a') {
        SEND (s, "hb1");
        EXPECT (s, "hb1");
        sleep_ms (1200);
        SEND (s, "hb2");
        EXPECT (s, "hb2");
        if (monitor_count (mon, ZMQ_EVENT_DISCONNECTED) != 0)
            fail ("the connection dropped while idle");
        SEND (s, "end");
        EXPECT (s, "end");
    } else {
        EXPECT (s, "hb1");
        SEND (s, "hb1");
        EXPECT (s, "hb2");
        SEND (s, "hb2");
        EXPECT (s, "end");
        if (monitor_count (mon, ZMQ_EVENT_DISCONNECTED) != 0)
            fail ("the connection dropped while idle");
        SEND (s, "end");
    }
    monitor_close (s, mon);
    close_socket (s);
}

/* A frozen peer (SIGSTOP: its connection stays open, but it answers nothing) is detected by
 * heartbeats: in heartbeat-timeout, side a pings (interval 100 ms, timeout 300 ms) and must
 * drop the connection to a frozen b; in heartbeat-ttl, side a pings with a TTL of 500 ms, then
 * freezes, and b, which has no heartbeat options, must drop the connection once the TTL has
 * passed without traffic. The side that saw the disconnect resumes the frozen one (SIGCONT),
 * and both exit. */
static void heartbeat_frozen (const char *side, int a_freezes)
{
    int freezes = (side[0] == 'a') == a_freezes;
    void *s = new_socket (ZMQ_DEALER);
    set_int (s, ZMQ_LINGER, 0);
    if (side[0] == 'a') {
        set_int (s, ZMQ_HEARTBEAT_IVL, 100);
        if (a_freezes)
            set_int (s, ZMQ_HEARTBEAT_TTL, 500);
        else
            set_int (s, ZMQ_HEARTBEAT_TIMEOUT, 300);
    }
    void *mon = monitor_open (s, "hb");
    attach (s);
    if (side[0] == 'a') {
        SEND (s, "ping");
        EXPECT (s, "pong");
    } else {
        EXPECT (s, "ping");
        SEND (s, "pong");
    }
    if (freezes) {
        /* Let at least one PING (with its TTL) go out first. */
        sleep_ms (300);
        char pid[32];
        snprintf (pid, sizeof pid, "%d", (int) getpid ());
        post_content ("frozen.pid", pid);
        kill (getpid (), SIGSTOP);
        /* Resumed by the peer once it dropped the connection. */
    } else {
        await_post ("frozen.pid", RCV_TIMEOUT_MS);
        int64_t t0 = now_ms (), end = t0 + 3000, took = -1;
        for (int left; took < 0 && (left = (int) (end - now_ms ())) > 0;)
            if (monitor_next (mon, left) == ZMQ_EVENT_DISCONNECTED)
                took = now_ms () - t0;
        char path[512];
        path_of (path, sizeof path, "frozen.pid");
        FILE *f = fopen (path, "r");
        int pid = 0;
        if (!f || fscanf (f, "%d", &pid) != 1 || pid <= 0)
            fail ("cannot read %s", path);
        fclose (f);
        kill (pid, SIGCONT);
        if (took < 0)
            fail ("the connection to the frozen peer was not dropped within 3000 ms");
        if (took > 2500)
            fail ("the frozen peer was dropped only after %d ms", (int) took);
    }
    monitor_close (s, mon);
    close_socket (s);
}

static void sc_heartbeat_timeout (const char *side) { heartbeat_frozen (side, 0); }
static void sc_heartbeat_ttl (const char *side) { heartbeat_frozen (side, 1); }

/* Peer restart: a1 (PULL, binds) gets one message and is killed by the driver; b (PUSH,
 * connects) sees the disconnect, queues messages, and once a2 has bound the same endpoint
 * sends more; a2 gets the queued ones and the later ones, in order. */
static void sc_restart (const char *side)
{
    char buf[32];
    if (strcmp (side, "a1") == 0) {
        void *s = open_socket (ZMQ_PULL);
        EXPECT (s, "before");
        char pid[32];
        snprintf (pid, sizeof pid, "%d", (int) getpid ());
        post_content ("a1.pid", pid);
        post ("got1");
        sleep_ms (30000); /* killed by the driver */
        fail ("not killed");
    } else if (strcmp (side, "a2") == 0) {
        void *s = open_socket (ZMQ_PULL);
        post ("restarted");
        for (int i = 0; i < 5; i++) {
            snprintf (buf, sizeof buf, "queued-%d", i);
            EXPECT (s, buf);
        }
        for (int i = 0; i < 3; i++) {
            snprintf (buf, sizeof buf, "after-%d", i);
            EXPECT (s, buf);
        }
        close_socket (s);
    } else {
        void *s = new_socket (ZMQ_PUSH);
        set_int (s, ZMQ_RECONNECT_IVL, 50);
        void *mon = monitor_open (s, "restart");
        attach (s);
        SEND (s, "before");
        await_post ("killed", 10000);
        monitor_await (mon, ZMQ_EVENT_DISCONNECTED, RCV_TIMEOUT_MS);
        for (int i = 0; i < 5; i++) {
            snprintf (buf, sizeof buf, "queued-%d", i);
            SEND (s, buf);
        }
        post ("queued");
        await_post ("restarted", 10000);
        for (int i = 0; i < 3; i++) {
            snprintf (buf, sizeof buf, "after-%d", i);
            SEND (s, buf);
        }
        monitor_await (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, RCV_TIMEOUT_MS);
        monitor_close (s, mon);
        close_socket (s);
    }
}

/* Incompatible socket types: the receiving side a gets nothing, the sending side b neither
 * crashes nor blocks; both exit cleanly. */
static void mismatch (const char *side, int type_a, int type_b)
{
    if (side[0] == 'a') {
        void *s = new_socket (type_a);
        if (type_a == ZMQ_SUB)
            Z (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "", 0));
        attach (s);
        expect_nothing (s, 700);
        post ("done");
        set_int (s, ZMQ_LINGER, 0);
        close_socket (s);
    } else {
        void *s = open_socket (type_b);
        set_int (s, ZMQ_LINGER, 0);
        for (int i = 0; i < 3; i++) {
            /* A connecting socket queues (0); a binding one has no peer (EAGAIN). */
            if (zmq_send (s, "x", 1, ZMQ_DONTWAIT) == -1 && zmq_errno () != EAGAIN)
                fail ("send: %s", zmq_strerror (zmq_errno ()));
            sleep_ms (50);
        }
        await_post ("done", 10000);
        close_socket (s);
    }
}

static void sc_mismatch_sub_push (const char *side) { mismatch (side, ZMQ_SUB, ZMQ_PUSH); }
static void sc_mismatch_pull_dealer (const char *side) { mismatch (side, ZMQ_PULL, ZMQ_DEALER); }
static void sc_mismatch_pub_push (const char *side)
{
    /* PUB never receives; this only checks that neither side crashes or hangs. */
    if (side[0] == 'a') {
        void *s = open_socket (ZMQ_PUB);
        set_int (s, ZMQ_LINGER, 0);
        for (int i = 0; i < 10; i++) {
            SEND (s, "x");
            sleep_ms (50);
        }
        post ("done");
        close_socket (s);
    } else {
        mismatch (side, 0, ZMQ_PUSH);
    }
}

/* ---- security: NULL with a ZAP domain, PLAIN and CURVE with a ZAP handler ---- */

/* The key pairs of libzmq's test_security_curve; the client's public key also serves as a
 * wrong server key. */
static const char k_server_public[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char k_server_secret[] = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
static const char k_client_public[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char k_client_secret[] = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

#define ZAP_FRAMES 8
typedef struct {
    int n;
    size_t size[ZAP_FRAMES];
    unsigned char data[ZAP_FRAMES][64];
} zap_request_t;

static pthread_mutex_t g_zap_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_zap_count;
static zap_request_t g_zap_last;
static pthread_t g_zap_thread;

static int zap_frame_is (const zap_request_t *r, int i, const void *data, size_t size)
{
    return i < r->n && i < ZAP_FRAMES && r->size[i] == size
           && memcmp (r->data[i], data, size < 64 ? size : 64) == 0;
}

static int zap_frame_is_str (const zap_request_t *r, int i, const char *str)
{
    return zap_frame_is (r, i, str, strlen (str));
}

/* Accepts NULL in domain "global", PLAIN admin/password and the CURVE client key, with a
 * User-Id naming which; refuses (400) everything else. Ends when the context shuts down. */
static void *zap_handler (void *zap)
{
    uint8_t client_key[32];
    zmq_z85_decode (client_key, k_client_public);
    for (;;) {
        zap_request_t r;
        memset (&r, 0, sizeof r);
        for (int more = 1; more;) {
            zmq_msg_t p;
            zmq_msg_init (&p);
            if (zmq_msg_recv (&p, zap, 0) == -1) {
                zmq_msg_close (&p);
                zmq_close (zap);
                return NULL;
            }
            if (r.n < ZAP_FRAMES) {
                size_t n = zmq_msg_size (&p);
                r.size[r.n] = n;
                memcpy (r.data[r.n], zmq_msg_data (&p), n < 64 ? n : 64);
            }
            r.n++;
            more = zmq_msg_more (&p);
            zmq_msg_close (&p);
        }
        const char *status = "400", *user = "";
        if (r.n == 6 && zap_frame_is_str (&r, 2, "global") && zap_frame_is_str (&r, 5, "NULL"))
            status = "200", user = "anonymous";
        else if (r.n == 8 && zap_frame_is_str (&r, 5, "PLAIN") && zap_frame_is_str (&r, 6, "admin")
                 && zap_frame_is_str (&r, 7, "password"))
            status = "200", user = "admin";
        else if (r.n == 7 && zap_frame_is_str (&r, 5, "CURVE")
                 && zap_frame_is (&r, 6, client_key, 32))
            status = "200", user = "curve-user";
        pthread_mutex_lock (&g_zap_lock);
        g_zap_count++;
        g_zap_last = r;
        pthread_mutex_unlock (&g_zap_lock);
        const char *reply[] = {"1.0", r.n > 1 ? (const char *) r.data[1] : "", status, "", user, ""};
        size_t reply_size[] = {3, r.n > 1 ? r.size[1] : 0, 3, 0, strlen (user), 0};
        for (int i = 0; i < 6; i++)
            zmq_send (zap, reply[i], reply_size[i], i < 5 ? ZMQ_SNDMORE : 0);
    }
}

/* Binds the handler at inproc://zeromq.zap.01 and serves it on a thread. */
static void zap_start (void)
{
    void *zap = zmq_socket (g_ctx, ZMQ_REP);
    if (!zap)
        fail ("ZAP socket: %s", zmq_strerror (zmq_errno ()));
    set_int (zap, ZMQ_LINGER, 0);
    Z (zmq_bind (zap, "inproc://zeromq.zap.01"));
    if (pthread_create (&g_zap_thread, NULL, zap_handler, zap) != 0)
        fail ("pthread_create failed");
}

/* Stops the handler: call after closing the scenario's sockets. */
static void zap_stop (void)
{
    Z (zmq_ctx_shutdown (g_ctx));
    pthread_join (g_zap_thread, NULL);
}

static int zap_count (void)
{
    pthread_mutex_lock (&g_zap_lock);
    int n = g_zap_count;
    pthread_mutex_unlock (&g_zap_lock);
    return n;
}

/* The handler was asked, last with these frames (cred NULL: fewer credentials). The address
 * is the peer's: its IP over tcp, "localhost:uid:gid:pid" over ipc. */
static void expect_zap_request (const char *domain, const char *mechanism, const void *cred0,
                                size_t cred0_size, const char *cred1)
{
    pthread_mutex_lock (&g_zap_lock);
    zap_request_t r = g_zap_last;
    int count = g_zap_count;
    pthread_mutex_unlock (&g_zap_lock);
    int want = 6 + (cred0 != NULL) + (cred1 != NULL);
    int tcp = strncmp (g_endpoint, "tcp://", 6) == 0;
    if (count == 0)
        fail ("the ZAP handler was never asked");
    if (r.n != want)
        fail ("ZAP request of %d frames, expected %d", r.n, want);
    if (!zap_frame_is_str (&r, 0, "1.0") || !zap_frame_is_str (&r, 1, "1"))
        fail ("ZAP request: bad version or request id");
    if (!zap_frame_is_str (&r, 2, domain))
        fail ("ZAP request: domain is not \"%s\"", domain);
    if (tcp ? !zap_frame_is_str (&r, 3, "127.0.0.1")
            : r.size[3] <= 10 || memcmp (r.data[3], "localhost:", 10) != 0)
        fail ("ZAP request: address \"%.*s\"", (int) r.size[3], r.data[3]);
    if (!zap_frame_is_str (&r, 4, "server-id"))
        fail ("ZAP request: identity is not the server's routing id");
    if (!zap_frame_is_str (&r, 5, mechanism))
        fail ("ZAP request: mechanism is not %s", mechanism);
    if (cred0 && !zap_frame_is (&r, 6, cred0, cred0_size))
        fail ("ZAP request: wrong first credential");
    if (cred1 && !zap_frame_is_str (&r, 7, cred1))
        fail ("ZAP request: wrong second credential");
}

static void *security_server (int mechanism, const char *domain)
{
    void *s = new_socket (ZMQ_DEALER);
    Z (zmq_setsockopt (s, ZMQ_ROUTING_ID, "server-id", 9));
    if (domain)
        Z (zmq_setsockopt (s, ZMQ_ZAP_DOMAIN, domain, strlen (domain)));
    if (mechanism == ZMQ_PLAIN)
        set_int (s, ZMQ_PLAIN_SERVER, 1);
    if (mechanism == ZMQ_CURVE) {
        set_int (s, ZMQ_CURVE_SERVER, 1);
        Z (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, k_server_secret, 40));
    }
    return s;
}

static void *plain_client (const char *password)
{
    void *s = new_socket (ZMQ_DEALER);
    Z (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, "admin", 5));
    Z (zmq_setsockopt (s, ZMQ_PLAIN_PASSWORD, password, strlen (password)));
    return s;
}

/* The server key as 32 bytes, the client's keys as Z85 text. */
static void *curve_client (const char *server_public)
{
    void *s = new_socket (ZMQ_DEALER);
    uint8_t key[32];
    if (!zmq_z85_decode (key, server_public))
        fail ("bad Z85 key");
    Z (zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, key, 32));
    Z (zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, k_client_public, 40));
    Z (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, k_client_secret, 41));
    return s;
}

/* The echo server, checking the first message's User-Id (from the ZAP reply). */
static void echo_server_user (void *s, const char *user_id)
{
    parts_t m;
    recv_parts (s, &m);
    if (!parts_are (&m, 1, STRS ("msg-0")))
        fail ("the first message is not msg-0");
    expect_property (&m, "User-Id", user_id);
    if (zmq_msg_send (&m.part[0], s, 0) == -1)
        fail ("echo send: %s", zmq_strerror (zmq_errno ()));
    parts_close (&m);
    echo_server (s);
}

/* An accepted peer: the echo exchange, the server checking the ZAP request and User-Id. */
static void security_accepted (const char *side, int mechanism, const char *domain)
{
    uint8_t key[32];
    zmq_z85_decode (key, k_client_public);
    if (side[0] == 'a') {
        void *s = mechanism == ZMQ_PLAIN   ? plain_client ("password")
                  : mechanism == ZMQ_CURVE ? curve_client (k_server_public)
                                           : new_socket (ZMQ_DEALER);
        attach (s);
        echo_client (s);
        close_socket (s);
        return;
    }
    zap_start ();
    void *s = security_server (mechanism, domain);
    attach (s);
    if (mechanism == ZMQ_PLAIN) {
        echo_server_user (s, "admin");
        expect_zap_request ("", "PLAIN", "admin", 5, "password");
    } else if (mechanism == ZMQ_CURVE) {
        echo_server_user (s, "curve-user");
        expect_zap_request ("", "CURVE", key, 32, NULL);
    } else {
        echo_server_user (s, "anonymous");
        expect_zap_request (domain, "NULL", NULL, 0, NULL);
    }
    close_socket (s);
    zap_stop ();
}

/* The sizes exchange encrypted: a is a CURVE client, b a CURVE server without a ZAP handler
 * (any client key is accepted). Large boxes are decrypted apart from the receive buffer, which
 * is read past their end; the mixed sizes of the multipart message check that path. */
static void sc_curve_sizes (const char *side)
{
    void *s = side[0] == 'a' ? curve_client (k_server_public) : security_server (ZMQ_CURVE, NULL);
    attach (s);
    sizes_exchange (s, side);
    close_socket (s);
}

static void sc_null_zap (const char *side) { security_accepted (side, ZMQ_NULL, "global"); }
static void sc_plain (const char *side) { security_accepted (side, ZMQ_PLAIN, NULL); }
static void sc_curve (const char *side) { security_accepted (side, ZMQ_CURVE, NULL); }

/* The monitor's next `want` event within RCV_TIMEOUT_MS: its value. */
static uint32_t monitor_await_value (void *m, int want)
{
    int64_t end = now_ms () + RCV_TIMEOUT_MS;
    for (;;) {
        int left = (int) (end - now_ms ());
        if (left <= 0)
            fail ("monitor: event 0x%x did not come within %d ms", want, RCV_TIMEOUT_MS);
        set_int (m, ZMQ_RCVTIMEO, left);
        parts_t e;
        if (recv_parts_ex (m, &e, 1) == -1)
            continue;
        uint16_t ev = 0;
        uint32_t value = 0;
        if (e.n == 2 && zmq_msg_size (&e.part[0]) == 6) {
            memcpy (&ev, zmq_msg_data (&e.part[0]), 2);
            memcpy (&value, (const char *) zmq_msg_data (&e.part[0]) + 2, 4);
        }
        parts_close (&e);
        if (ev == want)
            return value;
    }
}

/* A refused or failing client: the server's monitor sees `server_event` with `server_value`
 * (and, when client_auth, the client's sees HANDSHAKE_FAILED_AUTH 400: the ERROR reached
 * it); nothing is delivered either way; neither side completes a handshake. */
static void security_refused (const char *side, void *client, int server_mechanism,
                              int server_event, uint32_t server_value, int client_auth)
{
    void *s = side[0] == 'a' ? client : security_server (server_mechanism, NULL);
    if (side[0] == 'a')
        set_int (s, ZMQ_LINGER, 0);
    else
        zap_start ();
    void *mon = monitor_open (s, "security");
    attach (s);
    /* The client's session may already be gone (taking its pipe): no wait. */
    if (side[0] == 'a' && zmq_send (s, "x", 1, ZMQ_DONTWAIT) == -1 && zmq_errno () != EAGAIN)
        fail ("send: %s", zmq_strerror (zmq_errno ()));
    if (side[0] == 'a') {
        if (client_auth && monitor_await_value (mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 400)
            fail ("the client's HANDSHAKE_FAILED_AUTH is not 400");
        expect_nothing (s, 300);
        await_post ("done", 10000);
    } else {
        uint32_t v = monitor_await_value (mon, server_event);
        if (v != server_value)
            fail ("the server's event 0x%x has value 0x%x, expected 0x%x", server_event, v,
                  server_value);
        expect_nothing (s, 300);
        if (server_mechanism == ZMQ_PLAIN)
            expect_zap_request ("", "PLAIN", "admin", 5, "wrong");
        else if (zap_count () != 0)
            fail ("the ZAP handler was asked (%d times)", zap_count ());
        post ("done");
    }
    if (monitor_count (mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
        fail ("a handshake succeeded");
    monitor_close (s, mon);
    close_socket (s);
    if (side[0] == 'b')
        zap_stop ();
}

static void sc_plain_refused (const char *side)
{
    security_refused (side, side[0] == 'a' ? plain_client ("wrong") : NULL, ZMQ_PLAIN,
                      ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, 1);
}

/* The client has the wrong server key: the server cannot open its HELLO and drops it without
 * asking ZAP; the client just sees the connection drop (and may retry). */
static void sc_curve_wrong_key (const char *side)
{
    security_refused (side, side[0] == 'a' ? curve_client (k_client_public) : NULL, ZMQ_CURVE,
                      ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, 0);
}

static const struct {
    const char *name;
    void (*run) (const char *side);
} k_scenarios[] = {
  {"pair", sc_pair},
  {"push-pull", sc_push_pull},
  {"req-rep", sc_req_rep},
  {"req-router", sc_req_router},
  {"dealer-rep", sc_dealer_rep},
  {"dealer-router", sc_dealer_router},
  {"dealer-dealer", sc_dealer_dealer},
  {"router-router", sc_router_router},
  {"pub-sub", sc_pub_sub},
  {"xpub-xsub", sc_xpub_xsub},
  {"xpub-sub", sc_xpub_sub},
  {"sizes", sc_sizes},
  {"heartbeat", sc_heartbeat},
  {"heartbeat-timeout", sc_heartbeat_timeout},
  {"heartbeat-ttl", sc_heartbeat_ttl},
  {"restart", sc_restart},
  {"mismatch-sub-push", sc_mismatch_sub_push},
  {"mismatch-pull-dealer", sc_mismatch_pull_dealer},
  {"mismatch-pub-push", sc_mismatch_pub_push},
  {"null-zap", sc_null_zap},
  {"plain", sc_plain},
  {"plain-refused", sc_plain_refused},
  {"curve", sc_curve},
  {"curve-wrong-key", sc_curve_wrong_key},
  {"curve-sizes", sc_curve_sizes},
};

int main (int argc, char **argv)
{
    if (argc == 2 && strcmp (argv[1], "list") == 0) {
        for (size_t i = 0; i < sizeof k_scenarios / sizeof k_scenarios[0]; i++)
            printf ("%s\n", k_scenarios[i].name);
        return 0;
    }
    if (argc != 6 || (strcmp (argv[3], "bind") != 0 && strcmp (argv[3], "connect") != 0)) {
        fprintf (stderr, "usage: %s SCENARIO a|b|a1|a2 bind|connect ENDPOINT DIR\n"
                         "       %s list\n", argv[0], argv[0]);
        return 2;
    }
    g_scenario = argv[1];
    g_side = argv[2];
    g_bind = strcmp (argv[3], "bind") == 0;
    g_endpoint = argv[4];
    g_dir = argv[5];
    setvbuf (stderr, NULL, _IONBF, 0);

    for (size_t i = 0; i < sizeof k_scenarios / sizeof k_scenarios[0]; i++) {
        if (strcmp (k_scenarios[i].name, g_scenario) != 0)
            continue;
        g_ctx = zmq_ctx_new ();
        if (!g_ctx)
            fail ("zmq_ctx_new: %s", zmq_strerror (zmq_errno ()));
        k_scenarios[i].run (g_side);
        Z (zmq_ctx_term (g_ctx));
        return 0;
    }
    fprintf (stderr, "unknown scenario %s\n", g_scenario);
    return 2;
}
