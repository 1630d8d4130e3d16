/* pair_relay.c: PAIR sockets over inproc, tcp and ipc. A three-step relay across threads (the
 * ZeroMQ guide's mtrelay pattern: step1 -> step2 -> step3, each step signalling the next over
 * its own PAIR connection), plain PAIR exchanges (both directions, multipart), connect before
 * bind, and PAIR's exclusivity: a bound PAIR keeps its first peer and never delivers what a
 * second connected PAIR sends. Receives wait for what they expect (with a receive timeout, so
 * that a lost message fails a check instead of hanging). */
// transports: inproc tcp ipc
#include "testutil.h"

#include <pthread.h>

/* Threads report failures through these (CHECK is main-thread only). */
struct step_args {
    void *ctx;
    const char *endpoint; /* step1 connects to it (step2's is its own) */
    int rc;               /* 0 on success, else the line that failed */
};

static void *new_socket (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    int timeo = 10000;
    if (s != NULL)
        zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    return s;
}

#define STEP_REQUIRE(args, cond)                                               \
    do {                                                                       \
        if (!(cond)) {                                                         \
            (args)->rc = __LINE__;                                             \
            goto out;                                                          \
        }                                                                      \
    } while (0)

static int recv_str (void *s, char *buf, size_t cap)
{
    int n = zmq_recv (s, buf, cap - 1, 0);
    if (n < 0)
        return n;
    buf[(size_t) n < cap - 1 ? (size_t) n : cap - 1] = '\0';
    return n;
}

static int send_str (void *s, const char *str, int flags)
{
    return zmq_send (s, str, strlen (str), flags);
}

/* step1: connects to step2 and says it is ready. */
static void *step1 (void *arg)
{
    struct step_args *a = (struct step_args *) arg;
    void *xmitter = new_socket (a->ctx, ZMQ_PAIR);
    STEP_REQUIRE (a, xmitter != NULL);
    STEP_REQUIRE (a, zmq_connect (xmitter, a->endpoint) == 0);
    STEP_REQUIRE (a, send_str (xmitter, "READY from step1", 0) == 16);
out:
    if (xmitter)
        zmq_close (xmitter);
    return NULL;
}

/* step2: binds for step1, starts it, waits for its signal, then signals step3 (at
 * a->endpoint). */
static void *step2 (void *arg)
{
    struct step_args *a = (struct step_args *) arg;
    char ep[256];
    struct step_args a1 = {a->ctx, ep, 0};
    pthread_t t1;
    int started = 0;
    char buf[64];
    void *xmitter = NULL;
    void *receiver = new_socket (a->ctx, ZMQ_PAIR);
    STEP_REQUIRE (a, receiver != NULL);
    STEP_REQUIRE (a, tu_bind (receiver, "relay-step2", ep, sizeof ep) == 0);
    STEP_REQUIRE (a, pthread_create (&t1, NULL, step1, &a1) == 0);
    started = 1;
    STEP_REQUIRE (a, recv_str (receiver, buf, sizeof buf) == 16);
    STEP_REQUIRE (a, strcmp (buf, "READY from step1") == 0);

    xmitter = new_socket (a->ctx, ZMQ_PAIR);
    STEP_REQUIRE (a, xmitter != NULL);
    STEP_REQUIRE (a, zmq_connect (xmitter, a->endpoint) == 0);
    /* A multipart signal: both frames arrive together. */
    STEP_REQUIRE (a, send_str (xmitter, "READY from step2", ZMQ_SNDMORE) == 16);
    STEP_REQUIRE (a, send_str (xmitter, "step1 ok", 0) == 8);
out:
    if (started) {
        pthread_join (t1, NULL);
        if (a->rc == 0 && a1.rc != 0)
            a->rc = 100000 + a1.rc;
    }
    if (xmitter)
        zmq_close (xmitter);
    if (receiver)
        zmq_close (receiver);
    return NULL;
}

static void test_relay (void *ctx)
{
    void *receiver = new_socket (ctx, ZMQ_PAIR);
    CHECK (receiver != NULL);
    char ep[256];
    CHECK_RC (tu_bind (receiver, "relay-step3", ep, sizeof ep), 0);

    struct step_args a2 = {ctx, ep, 0};
    pthread_t t2;
    CHECK_RC (pthread_create (&t2, NULL, step2, &a2), 0);

    char buf[64];
    CHECK_RC (recv_str (receiver, buf, sizeof buf), 16);
    CHECK_STR (buf, "READY from step2");
    int more = 0;
    size_t sz = sizeof more;
    CHECK_RC (zmq_getsockopt (receiver, ZMQ_RCVMORE, &more, &sz), 0);
    CHECK_RC (more, 1);
    CHECK_RC (recv_str (receiver, buf, sizeof buf), 8);
    CHECK_STR (buf, "step1 ok");
    CHECK_RC (zmq_getsockopt (receiver, ZMQ_RCVMORE, &more, &sz), 0);
    CHECK_RC (more, 0);

    CHECK_RC (pthread_join (t2, NULL), 0);
    CHECK_RC (a2.rc, 0); /* the failing line in step2 (or 100000 + line in step1) */
    printf ("relay: step1 -> step2 -> step3 done\n");
    CHECK_RC (zmq_close (receiver), 0);
}

/* Both directions, several messages, multipart, in order; nothing extra arrives. */
static void test_pair_exchange (void *ctx)
{
    void *a = new_socket (ctx, ZMQ_PAIR);
    void *b = new_socket (ctx, ZMQ_PAIR);
    char ep[256];
    CHECK_RC (tu_bind (a, "pair-exchange", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (b, ep), 0);

    char buf[32];
    for (int i = 0; i < 10; i++) {
        char msg[16];
        snprintf (msg, sizeof msg, "ping %d", i);
        CHECK_RC (send_str (b, msg, 0), (int) strlen (msg));
        snprintf (msg, sizeof msg, "pong %d", i);
        CHECK_RC (send_str (a, msg, 0), (int) strlen (msg));
    }
    int in_order = 1;
    for (int i = 0; i < 10; i++) {
        char want[16];
        snprintf (want, sizeof want, "ping %d", i);
        in_order &= recv_str (a, buf, sizeof buf) == (int) strlen (want) && strcmp (buf, want) == 0;
        snprintf (want, sizeof want, "pong %d", i);
        in_order &= recv_str (b, buf, sizeof buf) == (int) strlen (want) && strcmp (buf, want) == 0;
    }
    CHECK (in_order);
    CHECK_ERRNO (zmq_recv (a, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    /* Multipart, including empty frames. */
    CHECK_RC (send_str (a, "", ZMQ_SNDMORE), 0);
    CHECK_RC (send_str (a, "middle", ZMQ_SNDMORE), 6);
    CHECK_RC (send_str (a, "", 0), 0);
    int more;
    size_t sz = sizeof more;
    CHECK_RC (recv_str (b, buf, sizeof buf), 0);
    CHECK_RC (zmq_getsockopt (b, ZMQ_RCVMORE, &more, &sz), 0);
    CHECK_RC (more, 1);
    CHECK_RC (recv_str (b, buf, sizeof buf), 6);
    CHECK_STR (buf, "middle");
    CHECK_RC (zmq_getsockopt (b, ZMQ_RCVMORE, &more, &sz), 0);
    CHECK_RC (more, 1);
    CHECK_RC (recv_str (b, buf, sizeof buf), 0);
    CHECK_RC (zmq_getsockopt (b, ZMQ_RCVMORE, &more, &sz), 0);
    CHECK_RC (more, 0);

    /* Truncation: zmq_recv reports the full size. */
    CHECK_RC (send_str (b, "0123456789", 0), 10);
    char small[4];
    CHECK_RC (zmq_recv (a, small, sizeof small, 0), 10);
    CHECK (memcmp (small, "0123", 4) == 0);

    CHECK_RC (zmq_close (a), 0);
    CHECK_RC (zmq_close (b), 0);
}

/* Connect before bind works for PAIR too (over tcp and ipc the connecting side retries). */
static void test_pair_connect_first (void *ctx)
{
    void *a = new_socket (ctx, ZMQ_PAIR);
    void *b = new_socket (ctx, ZMQ_PAIR);
    char ep[256];
    CHECK_RC (tu_endpoint ("pair-late-bind", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (b, ep), 0);
    CHECK_RC (send_str (b, "early", 0), 5);
    CHECK_RC (tu_bind_endpoint (a, ep), 0);
    char buf[16];
    CHECK_RC (recv_str (a, buf, sizeof buf), 5);
    CHECK_STR (buf, "early");
    CHECK_RC (send_str (a, "reply", 0), 5);
    CHECK_RC (recv_str (b, buf, sizeof buf), 5);
    CHECK_STR (buf, "reply");
    CHECK_RC (zmq_close (a), 0);
    CHECK_RC (zmq_close (b), 0);
}

/* A bound PAIR accepts one peer: the second connecting PAIR is refused, what it sends never
 * arrives, and it receives nothing, while the first keeps working both ways. Over tcp and ipc
 * "first" is the first one only once the bound PAIR has taken it in: the second connects after
 * that. */
static void test_pair_exclusive (void *ctx)
{
    void *bound = new_socket (ctx, ZMQ_PAIR);
    void *first = new_socket (ctx, ZMQ_PAIR);
    void *second = new_socket (ctx, ZMQ_PAIR);
    tu_monitor_t mon;
    CHECK_RC (tu_monitor (ctx, bound, &mon), 0);
    char ep[256];
    CHECK_RC (tu_bind (bound, "pair-exclusive", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (first, ep), 0);
    CHECK (tu_wait_connections (&mon, 1));
    CHECK_RC (tu_monitor_stop (&mon), 0);
    if (tu_transport () != TU_INPROC) {
        /* The refused one's messages may wait for a peer that never takes them: do not let
         * them hold up zmq_ctx_term. */
        int linger = 0;
        CHECK_RC (zmq_setsockopt (second, ZMQ_LINGER, &linger, sizeof linger), 0);
    }
    CHECK_RC (zmq_connect (second, ep), 0);

    char buf[32];
    CHECK_RC (send_str (first, "first 1", 0), 7);
    /* The second one's send may be queued into a pipe that is then dropped, or refused;
     * either way it must not block and must never arrive. */
    for (int i = 0; i < 3; i++) {
        int rc = send_str (second, "second", ZMQ_DONTWAIT);
        CHECK (rc == 6 || (rc == -1 && zmq_errno () == EAGAIN));
    }
    CHECK_RC (send_str (first, "first 2", 0), 7);

    CHECK_RC (recv_str (bound, buf, sizeof buf), 7);
    CHECK_STR (buf, "first 1");
    CHECK_RC (recv_str (bound, buf, sizeof buf), 7);
    CHECK_STR (buf, "first 2");
    CHECK_ERRNO (zmq_recv (bound, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    /* Replies go to the first peer only. */
    CHECK_RC (send_str (bound, "to first", 0), 8);
    CHECK_RC (recv_str (first, buf, sizeof buf), 8);
    CHECK_STR (buf, "to first");
    CHECK_ERRNO (zmq_recv (second, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    /* Still exclusive after more traffic from the refused one. */
    int rc = send_str (second, "second again", ZMQ_DONTWAIT);
    CHECK (rc == 12 || (rc == -1 && zmq_errno () == EAGAIN));
    CHECK_RC (send_str (first, "first 3", 0), 7);
    CHECK_RC (recv_str (bound, buf, sizeof buf), 7);
    CHECK_STR (buf, "first 3");
    CHECK_ERRNO (zmq_recv (bound, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    CHECK_RC (zmq_close (second), 0);
    CHECK_RC (zmq_close (first), 0);
    CHECK_RC (zmq_close (bound), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_relay (ctx);
    test_pair_exchange (ctx);
    test_pair_connect_first (ctx);
    test_pair_exclusive (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("pair_relay");
}
