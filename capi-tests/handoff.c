/* handoff.c: a socket moves between threads, as zmq_socket(3) allows with a full memory
 * barrier between the threads (here pthread_create and pthread_join).
 *   - sockets created and set up in the main thread are used by a worker, then by the main
 *     thread again, and closed there: every message arrives, in order, intact;
 *   - a socket created in a worker is used and closed by the main thread;
 *   - after the handoffs, the main thread still reads and writes options.
 * The worker makes no CHECKs itself (testutil's counters belong to the main thread): it
 * records what it saw, and the main thread checks that after joining it. */
// transports: inproc tcp ipc
#include "testutil.h"

#define COUNT 2000

struct job {
    void *ctx;
    void *sock;    /* the socket to use (or, for make_socket, the one made) */
    int sent;      /* messages sent without error */
    int received;  /* messages received intact and in order */
    int first_bad; /* index of the first wrong message, -1 if none */
};

/* The body of message i: its index in decimal, so order and content are both checked. */
static int body (int i, char *buf, size_t cap)
{
    return snprintf (buf, cap, "message %d", i);
}

static void *send_all (void *arg)
{
    struct job *j = arg;
    char buf[32];
    for (int i = 0; i < COUNT; i++) {
        int n = body (i, buf, sizeof buf);
        if (zmq_send (j->sock, buf, (size_t) n, 0) == n)
            j->sent++;
    }
    return NULL;
}

static void *recv_all (void *arg)
{
    struct job *j = arg;
    j->first_bad = -1;
    char want[32], got[32];
    for (int i = 0; i < COUNT; i++) {
        int n = body (i, want, sizeof want);
        int r = zmq_recv (j->sock, got, sizeof got, 0);
        if (r == n && memcmp (want, got, (size_t) n) == 0)
            j->received++;
        else if (j->first_bad < 0)
            j->first_bad = i;
    }
    return NULL;
}

static void *make_socket (void *arg)
{
    struct job *j = arg;
    j->sock = zmq_socket (j->ctx, ZMQ_PULL);
    if (j->sock) {
        int timeout = 5000;
        zmq_setsockopt (j->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    }
    return NULL;
}

/* Runs fn(job) in a new thread and waits for it. */
static int in_worker (void *(*fn) (void *), struct job *j)
{
    pthread_t t;
    if (pthread_create (&t, NULL, fn, j) != 0)
        return -1;
    return pthread_join (t, NULL);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK (push != NULL && pull != NULL);
    int timeout = 5000;
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    int hwm = 0; /* unbounded: the sender never waits for the receiver */
    CHECK_RC (zmq_setsockopt (push, ZMQ_SNDHWM, &hwm, sizeof hwm), 0);
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVHWM, &hwm, sizeof hwm), 0);
    char ep[256];
    CHECK_RC (tu_bind (pull, "handoff", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);

    /* The worker sends on the main thread's socket; the main thread receives. */
    struct job sender = {ctx, push, 0, 0, -1};
    CHECK_RC (in_worker (send_all, &sender), 0);
    CHECK_RC (sender.sent, COUNT);
    struct job here = {ctx, pull, 0, 0, -1};
    recv_all (&here);
    CHECK_RC (here.received, COUNT);
    CHECK_RC (here.first_bad, -1);

    /* Back again: the main thread sends, a worker receives. */
    struct job back = {ctx, push, 0, 0, -1};
    send_all (&back);
    CHECK_RC (back.sent, COUNT);
    struct job receiver = {ctx, pull, 0, 0, -1};
    CHECK_RC (in_worker (recv_all, &receiver), 0);
    CHECK_RC (receiver.received, COUNT);
    CHECK_RC (receiver.first_bad, -1);

    /* Options still read and write from the main thread after the moves. */
    int linger = 0;
    CHECK_RC (zmq_setsockopt (push, ZMQ_LINGER, &linger, sizeof linger), 0);
    int got = -2;
    size_t len = sizeof got;
    CHECK_RC (zmq_getsockopt (push, ZMQ_LINGER, &got, &len), 0);
    CHECK_RC (got, 0);

    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_close (push), 0);

    /* A socket made in a worker, used and closed by the main thread. */
    struct job made = {ctx, NULL, 0, 0, -1};
    CHECK_RC (in_worker (make_socket, &made), 0);
    CHECK (made.sock != NULL);
    char ep2[256];
    CHECK_RC (tu_bind (made.sock, "handoff-made", ep2, sizeof ep2), 0);
    void *push2 = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (push2 != NULL);
    CHECK_RC (zmq_connect (push2, ep2), 0);
    CHECK_RC (zmq_send (push2, "to the new one", 14, 0), 14);
    char buf[32];
    CHECK_RC (zmq_recv (made.sock, buf, sizeof buf, 0), 14);
    CHECK (memcmp (buf, "to the new one", 14) == 0);
    CHECK_RC (zmq_close (made.sock), 0);
    CHECK_RC (zmq_close (push2), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("handoff");
}
