/* sockopt.c: zmq_setsockopt / zmq_getsockopt rules across socket types, as libzmq 4.3 applies
 * them: defaults per type, exact value sizes (int options need sizeof(int), ZMQ_AFFINITY and
 * ZMQ_MAXMSGSIZE 8 bytes; a few read-only ints accept a larger buffer), string and binary
 * options (ZMQ_LAST_ENDPOINT, ZMQ_ROUTING_ID), write-only options, options a type does not
 * have, value ranges, ZMQ_FD, and bad socket handles and types. Every expected value was read
 * from Debian's libzmq first. ZMQ_LAST_ENDPOINT is checked with inproc, tcp and ipc endpoints
 * (the rest does not depend on the transport). */
// transports: inproc tcp ipc
#include "testutil.h"

#include <fcntl.h>
#include <stdint.h>

static const int all_types[] = {ZMQ_PAIR, ZMQ_PUB,    ZMQ_SUB,  ZMQ_REQ,  ZMQ_REP, ZMQ_DEALER,
                                ZMQ_ROUTER, ZMQ_PULL, ZMQ_PUSH, ZMQ_XPUB, ZMQ_XSUB};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static int get_int (void *s, int option, int *value)
{
    size_t sz = sizeof *value;
    int rc = zmq_getsockopt (s, option, value, &sz);
    if (rc == 0 && sz != sizeof *value)
        return -2;
    return rc;
}

static int set_int (void *s, int option, int value)
{
    return zmq_setsockopt (s, option, &value, sizeof value);
}

/* Checks one int option's value through CHECK_RC, naming the option and type in the output. */
#define CHECK_INT(s, option, want)                                             \
    do {                                                                       \
        int ci_v_ = -12345;                                                    \
        CHECK_RC (get_int ((s), (option), &ci_v_), 0);                         \
        if (ci_v_ != (want))                                                   \
            printf ("     option %s on type %d\n", #option, type);            \
        CHECK_RC (ci_v_, (want));                                              \
    } while (0)

static void test_defaults (void *ctx)
{
    for (size_t i = 0; i < N_TYPES; i++) {
        int type = all_types[i];
        void *s = zmq_socket (ctx, type);
        CHECK (s != NULL);
        CHECK_INT (s, ZMQ_TYPE, type);
        CHECK_INT (s, ZMQ_SNDHWM, 1000);
        CHECK_INT (s, ZMQ_RCVHWM, 1000);
        CHECK_INT (s, ZMQ_LINGER, (type == ZMQ_SUB || type == ZMQ_XSUB) ? 0 : -1);
        CHECK_INT (s, ZMQ_RCVTIMEO, -1);
        CHECK_INT (s, ZMQ_SNDTIMEO, -1);
        CHECK_INT (s, ZMQ_RCVMORE, 0);
        CHECK_INT (s, ZMQ_IMMEDIATE, 0);
        CHECK_INT (s, ZMQ_RECONNECT_IVL, 100);
        CHECK_INT (s, ZMQ_BACKLOG, 100);
        CHECK_INT (s, ZMQ_IPV6, 0);
        CHECK_INT (s, ZMQ_CONFLATE, 0);
        CHECK_INT (s, ZMQ_INVERT_MATCHING, 0);
        CHECK_INT (s, ZMQ_THREAD_SAFE, 0);
        /* Unconnected: the types that can always send (dropping) are writable. */
        int writable = type == ZMQ_PUB || type == ZMQ_XPUB || type == ZMQ_ROUTER
                       || type == ZMQ_XSUB;
        CHECK_INT (s, ZMQ_EVENTS, writable ? ZMQ_POLLOUT : 0);

        int64_t v64 = -1;
        size_t sz = sizeof v64;
        CHECK_RC (zmq_getsockopt (s, ZMQ_AFFINITY, &v64, &sz), 0);
        CHECK (sz == 8 && v64 == 0);
        sz = sizeof v64;
        CHECK_RC (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, &v64, &sz), 0);
        CHECK (sz == 8 && v64 == -1);

        char buf[256];
        memset (buf, 'x', sizeof buf);
        sz = sizeof buf;
        CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
        CHECK_RC (sz, 1);
        CHECK_RC (buf[0], 0);
        sz = sizeof buf;
        CHECK_RC (zmq_getsockopt (s, ZMQ_ROUTING_ID, buf, &sz), 0);
        CHECK_RC (sz, 0);
        CHECK_RC (zmq_close (s), 0);
    }
}

static void test_size_rules (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    int64_t v64 = 5;
    int v = 5;
    size_t sz;

    /* int options: exactly sizeof (int), both ways. */
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SNDHWM, &v64, sizeof v64), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SNDHWM, &v, 2), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SNDHWM, &v, 0), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_LINGER, &v64, sizeof v64), EINVAL);
    sz = sizeof v64;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_SNDHWM, &v64, &sz), EINVAL);
    sz = 2;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_SNDHWM, &v64, &sz), EINVAL);
    sz = sizeof v64;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_TYPE, &v64, &sz), EINVAL);
    sz = sizeof v64;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_LINGER, &v64, &sz), EINVAL);
    sz = 3;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_EVENTS, &v, &sz), EINVAL);
    sz = 3;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_RCVMORE, &v, &sz), EINVAL);

    /* A few read-only ints accept a larger buffer, report 4 bytes and zero the rest. */
    const int roomy[] = {ZMQ_FD, ZMQ_EVENTS, ZMQ_RCVMORE, ZMQ_THREAD_SAFE};
    for (size_t i = 0; i < sizeof roomy / sizeof roomy[0]; i++) {
        unsigned char big[8];
        memset (big, 0xee, sizeof big);
        sz = sizeof big;
        CHECK_RC (zmq_getsockopt (s, roomy[i], big, &sz), 0);
        CHECK_RC (sz, sizeof (int));
        CHECK (memcmp (big + 4, "\0\0\0\0", 4) == 0);
    }

    /* 64-bit options: exactly 8 bytes, both ways. */
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_AFFINITY, &v, sizeof v), EINVAL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_AFFINITY, &v64, sizeof v64), 0);
    sz = sizeof v;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_AFFINITY, &v, &sz), EINVAL);
    v64 = 0;
    sz = sizeof v64;
    CHECK_RC (zmq_getsockopt (s, ZMQ_AFFINITY, &v64, &sz), 0);
    CHECK (sz == 8 && v64 == 5);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &v, sizeof v), EINVAL);
    v64 = 1000;
    CHECK_RC (zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &v64, sizeof v64), 0);
    sz = sizeof v;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, &v, &sz), EINVAL);
    char wide[16];
    sz = sizeof wide;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, wide, &sz), EINVAL);
    v64 = 0;
    sz = sizeof v64;
    CHECK_RC (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, &v64, &sz), 0);
    CHECK (sz == 8 && v64 == 1000);

    /* Round trips of a few int options. */
    CHECK_RC (set_int (s, ZMQ_SNDHWM, 0), 0);
    CHECK_RC (set_int (s, ZMQ_RCVHWM, 7), 0);
    CHECK_RC (set_int (s, ZMQ_LINGER, 0), 0);
    CHECK_RC (set_int (s, ZMQ_RCVTIMEO, 250), 0);
    CHECK_RC (set_int (s, ZMQ_SNDTIMEO, 0), 0);
    int type = ZMQ_DEALER;
    CHECK_INT (s, ZMQ_SNDHWM, 0);
    CHECK_INT (s, ZMQ_RCVHWM, 7);
    CHECK_INT (s, ZMQ_LINGER, 0);
    CHECK_INT (s, ZMQ_RCVTIMEO, 250);
    CHECK_INT (s, ZMQ_SNDTIMEO, 0);
    CHECK_RC (set_int (s, ZMQ_LINGER, -1), 0);
    CHECK_INT (s, ZMQ_LINGER, -1);

    CHECK_RC (zmq_close (s), 0);
}

static void test_ranges (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_ERRNO (set_int (s, ZMQ_SNDHWM, -1), EINVAL);
    CHECK_ERRNO (set_int (s, ZMQ_SNDHWM, -5), EINVAL);
    CHECK_ERRNO (set_int (s, ZMQ_RCVHWM, -1), EINVAL);
    CHECK_ERRNO (set_int (s, ZMQ_LINGER, -2), EINVAL);
    CHECK_ERRNO (set_int (s, ZMQ_RCVTIMEO, -2), EINVAL);
    CHECK_ERRNO (set_int (s, ZMQ_SNDTIMEO, -5), EINVAL);
    /* A failed set leaves the old value. */
    int type = ZMQ_PUSH;
    CHECK_INT (s, ZMQ_SNDHWM, 1000);
    CHECK_INT (s, ZMQ_LINGER, -1);

    /* Unknown options. */
    CHECK_ERRNO (set_int (s, 9999, 1), EINVAL);
    CHECK_ERRNO (set_int (s, -1, 1), EINVAL);
    int v;
    CHECK_ERRNO (get_int (s, 9999, &v), EINVAL);
    CHECK_ERRNO (get_int (s, -1, &v), EINVAL);

    /* Read-only options cannot be set. */
    const int ro[] = {ZMQ_TYPE, ZMQ_RCVMORE, ZMQ_EVENTS, ZMQ_FD, ZMQ_THREAD_SAFE};
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
        CHECK_ERRNO (set_int (s, ro[i], 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_LAST_ENDPOINT, "x", 1), EINVAL);
    CHECK_RC (zmq_close (s), 0);
}

static void test_last_endpoint (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    void *peer = zmq_socket (ctx, ZMQ_DEALER);
    char buf[256];
    size_t sz = 0;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), EINVAL);

    /* What it says is what peers connect to: for tcp the port the kernel chose. */
    char ep[256];
    CHECK_RC (tu_bind (s, "sockopt-last", ep, sizeof ep), 0);
    if (tu_transport () == TU_TCP)
        CHECK (strncmp (ep, "tcp://127.0.0.1:", 16) == 0 && atoi (ep + 16) > 0);
    else
        CHECK_RC (strncmp (ep, tu_transport () == TU_INPROC ? "inproc://" : "ipc:///", 6), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
    CHECK_STR (buf, ep);
    CHECK_RC (sz, strlen (ep) + 1);
    /* The buffer must hold the terminating NUL; exactly that much is fine. */
    sz = strlen (ep);
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), EINVAL);
    sz = strlen (ep) + 1;
    CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
    /* A larger buffer is zeroed past the terminator. */
    memset (buf, 'x', sizeof buf);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
    CHECK (buf[sizeof buf - 1] == 0);

    /* A failed bind leaves it alone. (Not over ipc: there a bind to a path another socket is
     * bound to succeeds and takes the path over, as zmq_ipc(7) documents.) */
    char taken[256];
    CHECK_RC (tu_bind (peer, "sockopt-taken", taken, sizeof taken), 0);
    if (tu_transport () != TU_IPC) {
        CHECK_ERRNO (zmq_bind (s, taken), EADDRINUSE);
        sz = sizeof buf;
        CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
        CHECK_STR (buf, ep);
    }

    /* A connect sets it too. */
    CHECK_RC (zmq_connect (s, taken), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
    CHECK_STR (buf, taken);
    char later[256];
    CHECK_RC (tu_endpoint ("sockopt-not-yet-bound", later, sizeof later), 0);
    CHECK_RC (zmq_connect (s, later), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
    CHECK_STR (buf, later);

    int linger = 0; /* the connection to nowhere must not hold up zmq_ctx_term */
    CHECK_RC (zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger), 0);
    CHECK_RC (zmq_close (peer), 0);
    CHECK_RC (zmq_close (s), 0);
}

static void test_routing_id (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    unsigned char id[300];
    memset (id, 'i', sizeof id);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_ROUTING_ID, id, 0), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_ROUTING_ID, id, 256), EINVAL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_ROUTING_ID, id, 255), 0);
    size_t sz = sizeof id;
    CHECK_RC (zmq_getsockopt (s, ZMQ_ROUTING_ID, id, &sz), 0);
    CHECK_RC (sz, 255);
    /* Binary, not a string: an embedded NUL is kept; the rest of the buffer is zeroed. */
    CHECK_RC (zmq_setsockopt (s, ZMQ_ROUTING_ID, "\0abc", 4), 0);
    memset (id, 'x', sizeof id);
    sz = 10;
    CHECK_RC (zmq_getsockopt (s, ZMQ_ROUTING_ID, id, &sz), 0);
    CHECK_RC (sz, 4);
    CHECK (memcmp (id, "\0abc\0\0\0\0\0\0xx", 12) == 0);
    sz = 3;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_ROUTING_ID, id, &sz), EINVAL);
    CHECK_RC (zmq_close (s), 0);
}

/* Options that only some types have, and write-only options. */
static void test_type_specific (void *ctx)
{
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    void *xsub = zmq_socket (ctx, ZMQ_XSUB);
    int v;

    /* ROUTER_MANDATORY: a boolean int, write-only; ROUTER and REP (a ROUTER inside) have it. */
    CHECK_RC (set_int (router, ZMQ_ROUTER_MANDATORY, 1), 0);
    CHECK_RC (set_int (router, ZMQ_ROUTER_MANDATORY, 2), 0);
    CHECK_RC (set_int (router, ZMQ_ROUTER_MANDATORY, 0), 0);
    CHECK_ERRNO (set_int (router, ZMQ_ROUTER_MANDATORY, -1), EINVAL);
    int64_t one64 = 1;
    CHECK_ERRNO (zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &one64, sizeof one64), EINVAL);
    CHECK_ERRNO (get_int (router, ZMQ_ROUTER_MANDATORY, &v), EINVAL);
    CHECK_ERRNO (get_int (router, ZMQ_ROUTER_HANDOVER, &v), EINVAL);
    CHECK_RC (set_int (router, ZMQ_ROUTER_HANDOVER, 1), 0);
    CHECK_RC (set_int (rep, ZMQ_ROUTER_MANDATORY, 1), 0);
    CHECK_RC (set_int (rep, ZMQ_PROBE_ROUTER, 1), 0);
    CHECK_ERRNO (set_int (dealer, ZMQ_ROUTER_MANDATORY, 1), EINVAL);

    /* PROBE_ROUTER: DEALER and REQ too; write-only. */
    CHECK_RC (set_int (dealer, ZMQ_PROBE_ROUTER, 1), 0);
    CHECK_RC (set_int (req, ZMQ_PROBE_ROUTER, 1), 0);
    CHECK_ERRNO (get_int (dealer, ZMQ_PROBE_ROUTER, &v), EINVAL);

    /* REQ_RELAXED / REQ_CORRELATE: REQ only; write-only. */
    CHECK_RC (set_int (req, ZMQ_REQ_RELAXED, 1), 0);
    CHECK_RC (set_int (req, ZMQ_REQ_CORRELATE, 2), 0);
    CHECK_ERRNO (set_int (req, ZMQ_REQ_CORRELATE, -1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (req, ZMQ_REQ_RELAXED, &one64, sizeof one64), EINVAL);
    CHECK_ERRNO (get_int (req, ZMQ_REQ_RELAXED, &v), EINVAL);
    CHECK_ERRNO (get_int (req, ZMQ_REQ_CORRELATE, &v), EINVAL);
    CHECK_ERRNO (set_int (dealer, ZMQ_REQ_CORRELATE, 1), EINVAL);
    CHECK_ERRNO (set_int (rep, ZMQ_REQ_RELAXED, 1), EINVAL);

    /* SUBSCRIBE / UNSUBSCRIBE: SUB only (XPUB in manual mode aside); write-only; any bytes. */
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "a", 1), 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, NULL, 0), 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "\0\xff", 2), 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_UNSUBSCRIBE, "never subscribed", 16), 0);
    char buf[64];
    size_t sz = sizeof buf;
    CHECK_ERRNO (zmq_getsockopt (sub, ZMQ_SUBSCRIBE, buf, &sz), EINVAL);
    sz = sizeof buf;
    CHECK_ERRNO (zmq_getsockopt (sub, ZMQ_UNSUBSCRIBE, buf, &sz), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (xsub, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (dealer, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (pub, ZMQ_SUBSCRIBE, "a", 1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "a", 1), EINVAL);

    /* XPUB_* options: XPUB and PUB (an XPUB inside); write-only; booleans. */
    CHECK_RC (set_int (xpub, ZMQ_XPUB_VERBOSE, 1), 0);
    CHECK_RC (set_int (xpub, ZMQ_XPUB_VERBOSE, 2), 0);
    CHECK_ERRNO (set_int (xpub, ZMQ_XPUB_VERBOSE, -1), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (xpub, ZMQ_XPUB_VERBOSE, &one64, sizeof one64), EINVAL);
    CHECK_ERRNO (get_int (xpub, ZMQ_XPUB_VERBOSE, &v), EINVAL);
    CHECK_ERRNO (get_int (xpub, ZMQ_XPUB_NODROP, &v), EINVAL);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, "hi", 2), 0);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, NULL, 0), 0);
    sz = sizeof buf;
    CHECK_ERRNO (zmq_getsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, buf, &sz), EINVAL);
    CHECK_RC (set_int (pub, ZMQ_XPUB_VERBOSE, 1), 0);
    CHECK_RC (set_int (pub, ZMQ_XPUB_VERBOSER, 1), 0);
    CHECK_RC (set_int (pub, ZMQ_XPUB_NODROP, 1), 0);
    CHECK_RC (zmq_setsockopt (pub, ZMQ_XPUB_WELCOME_MSG, "w", 1), 0);
    CHECK_ERRNO (set_int (sub, ZMQ_XPUB_VERBOSE, 1), EINVAL);
    CHECK_ERRNO (set_int (sub, ZMQ_XPUB_NODROP, 1), EINVAL);
    CHECK_ERRNO (set_int (dealer, ZMQ_XPUB_VERBOSE, 1), EINVAL);
    /* In manual mode, XPUB and PUB take SUBSCRIBE / UNSUBSCRIBE. */
    CHECK_RC (set_int (xpub, ZMQ_XPUB_MANUAL, 1), 0);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_SUBSCRIBE, "a", 1), 0);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_UNSUBSCRIBE, "a", 1), 0);
    CHECK_RC (set_int (pub, ZMQ_XPUB_MANUAL, 1), 0);
    CHECK_RC (zmq_setsockopt (pub, ZMQ_SUBSCRIBE, "a", 1), 0);

    /* INVERT_MATCHING is readable back. */
    CHECK_RC (set_int (pub, ZMQ_INVERT_MATCHING, 1), 0);
    CHECK_RC (get_int (pub, ZMQ_INVERT_MATCHING, &v), 0);
    CHECK_RC (v, 1);
    CHECK_RC (set_int (sub, ZMQ_INVERT_MATCHING, 1), 0);
    CHECK_RC (get_int (sub, ZMQ_INVERT_MATCHING, &v), 0);
    CHECK_RC (v, 1);

    void *all[] = {router, dealer, rep, req, pub, sub, xpub, xsub};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        CHECK_RC (zmq_close (all[i]), 0);
}

static void test_fd (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    int fa = -1, fb = -1;
    CHECK_RC (get_int (a, ZMQ_FD, &fa), 0);
    CHECK_RC (get_int (b, ZMQ_FD, &fb), 0);
    CHECK (fa >= 0 && fcntl (fa, F_GETFD) != -1);
    CHECK (fb >= 0 && fcntl (fb, F_GETFD) != -1);
    CHECK (fa != fb);
    /* Stable across calls. */
    int again = -1;
    CHECK_RC (get_int (a, ZMQ_FD, &again), 0);
    CHECK_RC (again, fa);
    CHECK_RC (zmq_close (a), 0);
    CHECK_RC (zmq_close (b), 0);
}

static void test_bad_handles (void *ctx)
{
    int v = 0;
    size_t sz = sizeof v;
    char buf[8];
    CHECK_ERRNO (zmq_getsockopt (NULL, ZMQ_TYPE, &v, &sz), ENOTSOCK);
    CHECK_ERRNO (zmq_setsockopt (NULL, ZMQ_LINGER, &v, sizeof v), ENOTSOCK);
    CHECK_ERRNO (zmq_bind (NULL, "inproc://nowhere"), ENOTSOCK);
    CHECK_ERRNO (zmq_connect (NULL, "inproc://nowhere"), ENOTSOCK);
    CHECK_ERRNO (zmq_unbind (NULL, "inproc://nowhere"), ENOTSOCK);
    CHECK_ERRNO (zmq_disconnect (NULL, "inproc://nowhere"), ENOTSOCK);
    CHECK_ERRNO (zmq_send (NULL, "x", 1, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_recv (NULL, buf, sizeof buf, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_close (NULL), ENOTSOCK);
    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_ERRNO (zmq_msg_send (&m, NULL, 0), ENOTSOCK);
    CHECK_ERRNO (zmq_msg_recv (&m, NULL, 0), ENOTSOCK);
    zmq_msg_close (&m);

    CHECK_NULL_ERRNO (zmq_socket (ctx, -1), EINVAL);
    CHECK_NULL_ERRNO (zmq_socket (ctx, 12345), EINVAL);
    CHECK_NULL_ERRNO (zmq_socket (NULL, ZMQ_PAIR), EFAULT);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_defaults (ctx);
    test_size_rules (ctx);
    test_ranges (ctx);
    test_last_endpoint (ctx);
    test_routing_id (ctx);
    test_type_specific (ctx);
    test_fd (ctx);
    test_bad_handles (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("sockopt");
}
