/* reqrep.c: REQ, REP and their raw counterparts over inproc, tcp and ipc. Round trips with
 * single and multipart messages; the lock-step state machine (EFSM); ZMQ_REQ_RELAXED and
 * ZMQ_REQ_CORRELATE; REQ load-balancing across REPs; REP serving several REQs fairly; REP
 * driven by a DEALER with a hand-made envelope; a ROUTER serving a REQ sees [identity, empty,
 * body]. Single-threaded: every exchange waits for what it expects (sockets have a receive
 * timeout, so a lost message fails a check instead of hanging), and replies travel in order
 * on their connection. */
// transports: inproc tcp ipc
#include "testutil.h"

#include <stdint.h>

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

/* Receives one frame as a C string; returns its size (-1 on error). */
static int recv_str (void *s, char *buf, size_t cap)
{
    int n = zmq_recv (s, buf, cap - 1, 0);
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

/* Expects the next frame to be `want` with RCVMORE == more. */
#define EXPECT_FRAME(s, want, more)                                            \
    do {                                                                       \
        char ef_buf_[256];                                                     \
        CHECK_RC (recv_str ((s), ef_buf_, sizeof ef_buf_), (int) strlen (want)); \
        CHECK_STR (ef_buf_, (want));                                           \
        CHECK_RC (rcvmore (s), (more));                                        \
    } while (0)

static void test_roundtrip (void *ctx)
{
    void *rep = new_socket (ctx, ZMQ_REP);
    void *req = new_socket (ctx, ZMQ_REQ);
    char ep[256];
    CHECK_RC (tu_bind (rep, "rr-basic", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (req, ep), 0);

    for (int i = 0; i < 5; i++) {
        char q[32], a[32];
        snprintf (q, sizeof q, "request %d", i);
        snprintf (a, sizeof a, "reply %d", i);
        CHECK_RC (send_str (req, q, 0), (int) strlen (q));
        EXPECT_FRAME (rep, q, 0);
        CHECK_RC (send_str (rep, a, 0), (int) strlen (a));
        EXPECT_FRAME (req, a, 0);
    }

    /* Multipart request and reply, empty frames included. */
    CHECK_RC (send_str (req, "part1", ZMQ_SNDMORE), 5);
    CHECK_RC (send_str (req, "", ZMQ_SNDMORE), 0);
    CHECK_RC (send_str (req, "part3", 0), 5);
    EXPECT_FRAME (rep, "part1", 1);
    EXPECT_FRAME (rep, "", 1);
    EXPECT_FRAME (rep, "part3", 0);
    CHECK_RC (send_str (rep, "r1", ZMQ_SNDMORE), 2);
    CHECK_RC (send_str (rep, "r2", ZMQ_SNDMORE), 2);
    CHECK_RC (send_str (rep, "", 0), 0);
    EXPECT_FRAME (req, "r1", 1);
    EXPECT_FRAME (req, "r2", 1);
    EXPECT_FRAME (req, "", 0);

    /* zmq_msg_send / zmq_msg_recv work the same. */
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init_size (&m, 3), 0);
    memcpy (zmq_msg_data (&m), "abc", 3);
    CHECK_RC (zmq_msg_send (&m, req, 0), 3);
    CHECK_RC (zmq_msg_close (&m), 0);
    CHECK_RC (zmq_msg_init (&m), 0);
    CHECK_RC (zmq_msg_recv (&m, rep, 0), 3);
    CHECK (memcmp (zmq_msg_data (&m), "abc", 3) == 0);
    CHECK_RC (zmq_msg_more (&m), 0);
    CHECK_RC (zmq_msg_send (&m, rep, 0), 3); /* echo it back */
    CHECK_RC (zmq_msg_recv (&m, req, 0), 3);
    CHECK (memcmp (zmq_msg_data (&m), "abc", 3) == 0);
    CHECK_RC (zmq_msg_close (&m), 0);

    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (rep), 0);
}

static void test_efsm (void *ctx)
{
    void *rep = new_socket (ctx, ZMQ_REP);
    void *req = new_socket (ctx, ZMQ_REQ);
    char buf[32];
    /* Before any connection: the state machine is checked first. */
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, 0), EFSM);
    CHECK_ERRNO (zmq_send (rep, "x", 1, 0), EFSM);
    CHECK_ERRNO (zmq_send (rep, "x", 1, ZMQ_DONTWAIT), EFSM);

    char ep[256];
    CHECK_RC (tu_bind (rep, "rr-efsm", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (req, ep), 0);
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    CHECK_RC (send_str (req, "q", 0), 1);
    /* REQ: a second request before the reply. */
    CHECK_ERRNO (send_str (req, "q2", 0), EFSM);
    CHECK_ERRNO (send_str (req, "q2", ZMQ_DONTWAIT), EFSM);
    /* REP: send before recv was checked above; recv twice is EFSM too. */
    EXPECT_FRAME (rep, "q", 0);
    CHECK_ERRNO (zmq_recv (rep, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    CHECK_RC (send_str (rep, "a", 0), 1);
    CHECK_ERRNO (zmq_send (rep, "b", 1, 0), EFSM);
    EXPECT_FRAME (req, "a", 0);
    /* REQ after its reply: recv is EFSM again, send works. */
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);

    /* A multipart request in progress: more frames are fine, recv is not. */
    CHECK_RC (send_str (req, "m1", ZMQ_SNDMORE), 2);
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    CHECK_RC (send_str (req, "m2", 0), 2);
    EXPECT_FRAME (rep, "m1", 1);
    EXPECT_FRAME (rep, "m2", 0);
    /* REP in the middle of a multipart reply: more frames, then recv. */
    CHECK_RC (send_str (rep, "x1", ZMQ_SNDMORE), 2);
    CHECK_ERRNO (zmq_recv (rep, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    CHECK_RC (send_str (rep, "x2", 0), 2);
    EXPECT_FRAME (req, "x1", 1);
    EXPECT_FRAME (req, "x2", 0);

    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (rep), 0);
}

/* Polls `s` for POLLIN, waiting as long as it takes (bounded by a generous timeout). */
static int wait_in (void *s)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    return zmq_poll (&it, 1, 10000) == 1 && (it.revents & ZMQ_POLLIN);
}

static void test_relaxed (void *ctx)
{
    void *rep = new_socket (ctx, ZMQ_REP);
    void *req = new_socket (ctx, ZMQ_REQ);
    int one = 1;
    CHECK_RC (zmq_setsockopt (req, ZMQ_REQ_RELAXED, &one, sizeof one), 0);
    char ep[256];
    CHECK_RC (tu_bind (rep, "rr-relaxed", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (req, ep), 0);

    /* Still no recv before the first send. */
    char buf[32];
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);

    /* A second send is allowed; the reply to the first, already arrived, is discarded. */
    CHECK_RC (send_str (req, "first", 0), 5);
    EXPECT_FRAME (rep, "first", 0);
    CHECK_RC (send_str (rep, "reply to first", 0), 14);
    CHECK (wait_in (req));
    CHECK_RC (send_str (req, "second", 0), 6);
    EXPECT_FRAME (rep, "second", 0);
    CHECK_RC (send_str (rep, "reply to second", 0), 15);
    EXPECT_FRAME (req, "reply to second", 0);
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);

    /* Without ZMQ_REQ_CORRELATE, REQ cannot tell replies apart: two requests in flight, and
     * the first reply to arrive is the one returned. */
    if (tu_transport () != TU_INPROC) {
        /* What follows needs "reply to fourth" to be queued at the REQ when "fifth" goes out
         * (a new request drops the replies queued so far); over tcp and ipc it may still be on
         * its way, and then it would be taken for the reply to "fifth". So stop after the
         * first reply, the part that holds everywhere. */
        CHECK_RC (send_str (req, "third", 0), 5);
        CHECK_RC (send_str (req, "fourth", 0), 6);
        EXPECT_FRAME (rep, "third", 0);
        CHECK_RC (send_str (rep, "reply to third", 0), 14);
        EXPECT_FRAME (rep, "fourth", 0);
        CHECK_RC (send_str (rep, "reply to fourth", 0), 15);
        EXPECT_FRAME (req, "reply to third", 0);
        CHECK_RC (zmq_close (req), 0);
        CHECK_RC (zmq_close (rep), 0);
        return;
    }
    CHECK_RC (send_str (req, "third", 0), 5);
    CHECK_RC (send_str (req, "fourth", 0), 6);
    EXPECT_FRAME (rep, "third", 0);
    CHECK_RC (send_str (rep, "reply to third", 0), 14);
    EXPECT_FRAME (rep, "fourth", 0);
    CHECK_RC (send_str (rep, "reply to fourth", 0), 15);
    EXPECT_FRAME (req, "reply to third", 0);

    /* The stale "reply to fourth" is dropped when the next request goes out. */
    CHECK_RC (send_str (req, "fifth", 0), 5);
    EXPECT_FRAME (rep, "fifth", 0);
    CHECK_RC (send_str (rep, "reply to fifth", 0), 14);
    EXPECT_FRAME (req, "reply to fifth", 0);

    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (rep), 0);
}

static void test_correlate (void *ctx)
{
    /* RELAXED + CORRELATE with a REP: only the reply to the latest request is returned. */
    void *rep = new_socket (ctx, ZMQ_REP);
    void *req = new_socket (ctx, ZMQ_REQ);
    int one = 1;
    CHECK_RC (zmq_setsockopt (req, ZMQ_REQ_RELAXED, &one, sizeof one), 0);
    CHECK_RC (zmq_setsockopt (req, ZMQ_REQ_CORRELATE, &one, sizeof one), 0);
    char ep[256];
    CHECK_RC (tu_bind (rep, "rr-correlate", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (req, ep), 0);

    CHECK_RC (send_str (req, "old", 0), 3);
    CHECK_RC (send_str (req, "new", 0), 3);
    EXPECT_FRAME (rep, "old", 0);
    CHECK_RC (send_str (rep, "reply to old", 0), 12);
    EXPECT_FRAME (rep, "new", 0);
    CHECK_RC (send_str (rep, "reply to new", 0), 12);
    EXPECT_FRAME (req, "reply to new", 0);
    char buf[32];
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (rep), 0);

    /* With a ROUTER: the request carries a 4-byte request id before the empty delimiter; a
     * reply with another id is dropped, the echo of the right one is delivered. */
    void *router = new_socket (ctx, ZMQ_ROUTER);
    req = new_socket (ctx, ZMQ_REQ);
    CHECK_RC (zmq_setsockopt (req, ZMQ_REQ_CORRELATE, &one, sizeof one), 0);
    CHECK_RC (zmq_setsockopt (req, ZMQ_ROUTING_ID, "corr", 4), 0);
    char ep2[256];
    CHECK_RC (tu_bind (router, "rr-correlate-router", ep2, sizeof ep2), 0);
    CHECK_RC (zmq_connect (req, ep2), 0);

    for (int round = 0; round < 2; round++) {
        CHECK_RC (send_str (req, "body", 0), 4);
        unsigned char id[8];
        CHECK_RC (zmq_recv (router, id, sizeof id, 0), 4);
        CHECK (memcmp (id, "corr", 4) == 0);
        CHECK_RC (rcvmore (router), 1);
        unsigned char reqid[8];
        CHECK_RC (zmq_recv (router, reqid, sizeof reqid, 0), 4);
        CHECK_RC (rcvmore (router), 1);
        EXPECT_FRAME (router, "", 1);
        EXPECT_FRAME (router, "body", 0);

        unsigned char wrong[4];
        memcpy (wrong, reqid, 4);
        wrong[3] ^= 0x5a;
        /* Wrong id: dropped. */
        CHECK_RC (zmq_send (router, "corr", 4, ZMQ_SNDMORE), 4);
        CHECK_RC (zmq_send (router, wrong, 4, ZMQ_SNDMORE), 4);
        CHECK_RC (zmq_send (router, "", 0, ZMQ_SNDMORE), 0);
        CHECK_RC (send_str (router, "forged", 0), 6);
        /* No request id at all: dropped. */
        CHECK_RC (zmq_send (router, "corr", 4, ZMQ_SNDMORE), 4);
        CHECK_RC (zmq_send (router, "", 0, ZMQ_SNDMORE), 0);
        CHECK_RC (send_str (router, "no id", 0), 5);
        /* The right id. */
        CHECK_RC (zmq_send (router, "corr", 4, ZMQ_SNDMORE), 4);
        CHECK_RC (zmq_send (router, reqid, 4, ZMQ_SNDMORE), 4);
        CHECK_RC (zmq_send (router, "", 0, ZMQ_SNDMORE), 0);
        CHECK_RC (send_str (router, "genuine", 0), 7);
        EXPECT_FRAME (req, "genuine", 0);
    }
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (router), 0);
}

/* One REQ connected to two REPs: requests alternate between them. */
static void test_req_load_balance (void *ctx)
{
    void *reps[2];
    reps[0] = new_socket (ctx, ZMQ_REP);
    reps[1] = new_socket (ctx, ZMQ_REP);
    void *req = new_socket (ctx, ZMQ_REQ);
    char ep[256];
    CHECK_RC (tu_bind (reps[0], "rr-lb-0", ep, sizeof ep), 0);
    char ep2[256];
    CHECK_RC (tu_bind (reps[1], "rr-lb-1", ep2, sizeof ep2), 0);
    CHECK_RC (zmq_connect (req, ep), 0);
    CHECK_RC (zmq_connect (req, ep2), 0);

    int served[2] = {0, 0};
    int prev = -1, first = -1, alternates = 1;
    for (int i = 0; i < 6; i++) {
        char q[16], a[16];
        snprintf (q, sizeof q, "lb %d", i);
        CHECK_RC (send_str (req, q, 0), (int) strlen (q));
        zmq_pollitem_t items[2] = {{reps[0], 0, ZMQ_POLLIN, 0}, {reps[1], 0, ZMQ_POLLIN, 0}};
        CHECK_RC (zmq_poll (items, 2, 10000), 1);
        int who = (items[0].revents & ZMQ_POLLIN) ? 0 : 1;
        served[who]++;
        if (i == 0)
            first = who;
        if (i > 0 && who == prev)
            alternates = 0;
        prev = who;
        EXPECT_FRAME (reps[who], q, 0);
        snprintf (a, sizeof a, "from %d", who);
        CHECK_RC (send_str (reps[who], a, 0), (int) strlen (a));
        EXPECT_FRAME (req, a, 0);
    }
    CHECK (alternates);
    CHECK_RC (served[0], 3);
    CHECK_RC (served[1], 3);
    /* The first connected REP gets the first request. */
    CHECK_RC (first, 0);

    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (reps[0]), 0);
    CHECK_RC (zmq_close (reps[1]), 0);
}

/* One REP, three REQ clients with requests all pending: each is served once per round, and
 * each reply goes back to the client that asked. */
static void test_rep_many_clients (void *ctx)
{
    enum { N = 3, ROUNDS = 3 };
    void *rep = new_socket (ctx, ZMQ_REP);
    char ep[256];
    CHECK_RC (tu_bind (rep, "rr-fair", ep, sizeof ep), 0);
    void *reqs[N];
    for (int c = 0; c < N; c++) {
        reqs[c] = new_socket (ctx, ZMQ_REQ);
        CHECK_RC (zmq_connect (reqs[c], ep), 0);
    }
    int fair = 1, replies_ok = 1;
    for (int r = 0; r < ROUNDS; r++) {
        for (int c = 0; c < N; c++) {
            char q[16];
            snprintf (q, sizeof q, "c%d r%d", c, r);
            CHECK_RC (send_str (reqs[c], q, 0), (int) strlen (q));
        }
        int seen[N] = {0, 0, 0};
        for (int k = 0; k < N; k++) {
            char buf[32];
            int n = recv_str (rep, buf, sizeof buf);
            int c = -1, rr = -1;
            if (n < 0 || sscanf (buf, "c%d r%d", &c, &rr) != 2 || c < 0 || c >= N || rr != r) {
                fair = 0;
                continue;
            }
            seen[c]++;
            char a[32];
            snprintf (a, sizeof a, "for c%d r%d", c, r);
            CHECK_RC (send_str (rep, a, 0), (int) strlen (a));
        }
        for (int c = 0; c < N; c++) {
            fair &= seen[c] == 1;
            char want[32], buf[32];
            snprintf (want, sizeof want, "for c%d r%d", c, r);
            replies_ok &= recv_str (reqs[c], buf, sizeof buf) == (int) strlen (want)
                          && strcmp (buf, want) == 0;
        }
    }
    CHECK (fair);
    CHECK (replies_ok);
    for (int c = 0; c < N; c++)
        CHECK_RC (zmq_close (reqs[c]), 0);
    CHECK_RC (zmq_close (rep), 0);
}

/* A DEALER talking to a REP supplies the envelope itself. */
static void test_rep_with_dealer (void *ctx)
{
    void *rep = new_socket (ctx, ZMQ_REP);
    void *dealer = new_socket (ctx, ZMQ_DEALER);
    char ep[256];
    CHECK_RC (tu_bind (rep, "rr-dealer", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (dealer, ep), 0);

    CHECK_RC (zmq_send (dealer, "", 0, ZMQ_SNDMORE), 0);
    CHECK_RC (send_str (dealer, "hello", 0), 5);
    EXPECT_FRAME (rep, "hello", 0);
    CHECK_RC (send_str (rep, "world", 0), 5);
    EXPECT_FRAME (dealer, "", 1);
    EXPECT_FRAME (dealer, "world", 0);

    /* A longer envelope (as through a proxy) comes back whole, in order. */
    CHECK_RC (send_str (dealer, "hop1", ZMQ_SNDMORE), 4);
    CHECK_RC (send_str (dealer, "hop2", ZMQ_SNDMORE), 4);
    CHECK_RC (zmq_send (dealer, "", 0, ZMQ_SNDMORE), 0);
    CHECK_RC (send_str (dealer, "q1", ZMQ_SNDMORE), 2);
    CHECK_RC (send_str (dealer, "q2", 0), 2);
    EXPECT_FRAME (rep, "q1", 1);
    EXPECT_FRAME (rep, "q2", 0);
    CHECK_RC (send_str (rep, "a", 0), 1);
    EXPECT_FRAME (dealer, "hop1", 1);
    EXPECT_FRAME (dealer, "hop2", 1);
    EXPECT_FRAME (dealer, "", 1);
    EXPECT_FRAME (dealer, "a", 0);

    /* Several requests queued by the DEALER are served one after the other. */
    for (int i = 0; i < 3; i++) {
        char q[8];
        snprintf (q, sizeof q, "n%d", i);
        CHECK_RC (zmq_send (dealer, "", 0, ZMQ_SNDMORE), 0);
        CHECK_RC (send_str (dealer, q, 0), 2);
    }
    for (int i = 0; i < 3; i++) {
        char q[8];
        snprintf (q, sizeof q, "n%d", i);
        EXPECT_FRAME (rep, q, 0);
        CHECK_RC (send_str (rep, q, 0), 2);
    }
    for (int i = 0; i < 3; i++) {
        char q[8];
        snprintf (q, sizeof q, "n%d", i);
        EXPECT_FRAME (dealer, "", 1);
        EXPECT_FRAME (dealer, q, 0);
    }

    CHECK_RC (zmq_close (dealer), 0);
    CHECK_RC (zmq_close (rep), 0);
}

/* A ROUTER serving REQ clients sees [identity, empty, body] and routes replies by identity. */
static void test_router_with_req (void *ctx)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    void *named = new_socket (ctx, ZMQ_REQ);
    void *anon = new_socket (ctx, ZMQ_REQ);
    CHECK_RC (zmq_setsockopt (named, ZMQ_ROUTING_ID, "client-A", 8), 0);
    char ep[256];
    CHECK_RC (tu_bind (router, "rr-router", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (named, ep), 0);
    CHECK_RC (zmq_connect (anon, ep), 0);

    CHECK_RC (send_str (named, "from A", 0), 6);
    EXPECT_FRAME (router, "client-A", 1);
    EXPECT_FRAME (router, "", 1);
    EXPECT_FRAME (router, "from A", 0);

    CHECK_RC (send_str (anon, "from anon", 0), 9);
    unsigned char anon_id[256];
    int idlen = zmq_recv (router, anon_id, sizeof anon_id, 0);
    /* A generated identity: 5 bytes, the first one zero. */
    CHECK_RC (idlen, 5);
    CHECK (idlen > 0 && anon_id[0] == 0);
    CHECK_RC (rcvmore (router), 1);
    EXPECT_FRAME (router, "", 1);
    EXPECT_FRAME (router, "from anon", 0);

    /* Replies, in the opposite order. */
    CHECK_RC (zmq_send (router, anon_id, (size_t) (idlen > 0 ? idlen : 0), ZMQ_SNDMORE), idlen);
    CHECK_RC (zmq_send (router, "", 0, ZMQ_SNDMORE), 0);
    CHECK_RC (send_str (router, "to anon", 0), 7);
    CHECK_RC (send_str (router, "client-A", ZMQ_SNDMORE), 8);
    CHECK_RC (zmq_send (router, "", 0, ZMQ_SNDMORE), 0);
    CHECK_RC (send_str (router, "to A", ZMQ_SNDMORE), 4);
    CHECK_RC (send_str (router, "more for A", 0), 10);
    EXPECT_FRAME (anon, "to anon", 0);
    EXPECT_FRAME (named, "to A", 1);
    EXPECT_FRAME (named, "more for A", 0);

    /* A multipart request keeps its frames after the envelope. */
    CHECK_RC (send_str (named, "x", ZMQ_SNDMORE), 1);
    CHECK_RC (send_str (named, "y", 0), 1);
    EXPECT_FRAME (router, "client-A", 1);
    EXPECT_FRAME (router, "", 1);
    EXPECT_FRAME (router, "x", 1);
    EXPECT_FRAME (router, "y", 0);

    CHECK_RC (zmq_close (anon), 0);
    CHECK_RC (zmq_close (named), 0);
    CHECK_RC (zmq_close (router), 0);
}

/* Waits for the next event on a monitor's PAIR; returns its number, or -1. */
static int next_event (void *mon)
{
    zmq_msg_t head, addr;
    zmq_msg_init (&head);
    zmq_msg_init (&addr);
    int ev = -1;
    if (zmq_msg_recv (&head, mon, 0) == 6 && zmq_msg_recv (&addr, mon, 0) >= 0) {
        uint16_t e;
        memcpy (&e, zmq_msg_data (&head), 2);
        ev = e;
    }
    zmq_msg_close (&head);
    zmq_msg_close (&addr);
    return ev;
}

/* Over tcp and ipc a REQ checks the envelope of each reply as it comes off the wire, and a
 * malformed one is a protocol error: the REQ drops that connection (a DISCONNECTED event) and
 * nothing of it reaches the application; a well-formed reply on another connection does. */
static void test_req_drops_malformed_connection (void *ctx, const char *name, int with_junk)
{
    void *router = new_socket (ctx, ZMQ_ROUTER);
    void *req = new_socket (ctx, ZMQ_REQ);
    CHECK_RC (zmq_setsockopt (req, ZMQ_ROUTING_ID, "R", 1), 0);
    char mon_ep[64];
    snprintf (mon_ep, sizeof mon_ep, "inproc://%s-monitor", name);
    CHECK_RC (zmq_socket_monitor (req, mon_ep, ZMQ_EVENT_DISCONNECTED), 0);
    void *mon = new_socket (ctx, ZMQ_PAIR);
    CHECK_RC (zmq_connect (mon, mon_ep), 0);
    char ep[256];
    CHECK_RC (tu_bind (router, name, ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (req, ep), 0);
    CHECK_RC (send_str (req, "q", 0), 1);
    EXPECT_FRAME (router, "R", 1);
    EXPECT_FRAME (router, "", 1);
    EXPECT_FRAME (router, "q", 0);
    CHECK_RC (send_str (router, "R", ZMQ_SNDMORE), 1);
    if (with_junk) /* a non-empty first frame */
        CHECK_RC (send_str (router, "junk", ZMQ_SNDMORE), 4);
    CHECK_RC (send_str (router, "bad", 0), 3); /* no delimiter */
    CHECK_RC (next_event (mon), ZMQ_EVENT_DISCONNECTED);
    char buf[16];
    CHECK_ERRNO (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_RC (zmq_socket_monitor (req, NULL, 0), 0);
    CHECK_RC (zmq_close (mon), 0);
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (router), 0);
}

/* REQ drops replies without the empty delimiter (sent by a ROUTER by hand). */
static void test_req_drops_malformed (void *ctx)
{
    if (tu_transport () != TU_INPROC) {
        test_req_drops_malformed_connection (ctx, "rr-malformed-1", 0);
        test_req_drops_malformed_connection (ctx, "rr-malformed-2", 1);
    }

    void *router = new_socket (ctx, ZMQ_ROUTER);
    void *req = new_socket (ctx, ZMQ_REQ);
    CHECK_RC (zmq_setsockopt (req, ZMQ_ROUTING_ID, "R", 1), 0);
    char ep[256];
    CHECK_RC (tu_bind (router, "rr-malformed", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (req, ep), 0);
    CHECK_RC (send_str (req, "q", 0), 1);
    EXPECT_FRAME (router, "R", 1);
    EXPECT_FRAME (router, "", 1);
    EXPECT_FRAME (router, "q", 0);
    if (tu_transport () != TU_INPROC) {
        /* A well-formed reply (the connection-level check above aside, there is nothing to
         * skip over tcp and ipc). */
        CHECK_RC (send_str (router, "R", ZMQ_SNDMORE), 1);
        CHECK_RC (zmq_send (router, "", 0, ZMQ_SNDMORE), 0);
        CHECK_RC (send_str (router, "good", 0), 4);
        EXPECT_FRAME (req, "good", 0);
        CHECK_RC (zmq_close (req), 0);
        CHECK_RC (zmq_close (router), 0);
        return;
    }
    /* No delimiter: dropped. */
    CHECK_RC (send_str (router, "R", ZMQ_SNDMORE), 1);
    CHECK_RC (send_str (router, "bad", 0), 3);
    /* Non-empty first frame: dropped. */
    CHECK_RC (send_str (router, "R", ZMQ_SNDMORE), 1);
    CHECK_RC (send_str (router, "junk", ZMQ_SNDMORE), 4);
    CHECK_RC (send_str (router, "bad too", 0), 7);
    CHECK_RC (send_str (router, "R", ZMQ_SNDMORE), 1);
    CHECK_RC (zmq_send (router, "", 0, ZMQ_SNDMORE), 0);
    CHECK_RC (send_str (router, "good", 0), 4);
    EXPECT_FRAME (req, "good", 0);
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (router), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_roundtrip (ctx);
    test_efsm (ctx);
    test_relaxed (ctx);
    test_correlate (ctx);
    test_req_load_balance (ctx);
    test_rep_many_clients (ctx);
    test_rep_with_dealer (ctx);
    test_router_with_req (ctx);
    test_req_drops_malformed (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("reqrep");
}
