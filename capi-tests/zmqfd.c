/* zmqfd.c: ZMQ_FD and ZMQ_EVENTS driven by poll(2), the way event loops (pyzmq's asyncio
 * integration, CZMQ's zloop, libuv wrappers) use them. The contract: ZMQ_FD is an edge signal
 * "ZMQ_EVENTS may have changed"; reading ZMQ_EVENTS resets it; so after ZMQ_EVENTS reports
 * POLLIN the application must read until EAGAIN before it waits on the fd again.
 *   - the fd becomes readable after a peer sends, and is quiet once ZMQ_EVENTS was read;
 *   - several queued messages: one edge; all are read with DONTWAIT until EAGAIN;
 *   - no lost wake-up: 10000 messages from another thread, read using only poll(2) on the
 *     fd, ZMQ_EVENTS and non-blocking receives;
 *   - POLLOUT: a PUSH whose peer's queue is full loses POLLOUT, and gets it back (with its fd
 *     signalled) after the peer reads.
 *
 * Over inproc, tcp and ipc alike, with these differences: over tcp and ipc the
 * bound PAIR is waited for (monitor) until it has its peer; several messages sent at once may
 * arrive apart, so "one edge for three messages" is an inproc check, while the read loop
 * (DONTWAIT until EAGAIN, then wait on the fd) must get all three everywhere; and a full queue
 * is that of a PUSH whose peer has not bound yet (exactly SNDHWM messages: a connected peer's
 * capacity depends on the kernel's buffers), which the peer binds to once it reads. */
// transports: inproc tcp ipc
#include "testutil.h"

#include <poll.h>
#include <pthread.h>

#define FLOOD 10000
#define WAIT_MS 5000 /* the longest any wait should take: a lost wake-up fails, never hangs */

static int get_fd (void *s)
{
    int fd = -1;
    size_t sz = sizeof fd;
    if (zmq_getsockopt (s, ZMQ_FD, &fd, &sz) != 0)
        return -1;
    return fd;
}

static int get_events (void *s)
{
    int ev = 0;
    size_t sz = sizeof ev;
    if (zmq_getsockopt (s, ZMQ_EVENTS, &ev, &sz) != 0)
        return -1;
    return ev;
}

/* poll(2) on one fd for readability: 1 readable, 0 timeout, -1 error. */
static int fd_readable (int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc;
    do
        rc = poll (&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -1 : rc > 0 && (p.revents & POLLIN) ? 1 : 0;
}

static void test_basic_edge (void)
{
    void *ctx = zmq_ctx_new ();
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    tu_monitor_t mon;
    CHECK_RC (tu_monitor (ctx, b, &mon), 0);
    char ep[256];
    CHECK_RC (tu_bind (b, "fd-basic", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (a, ep), 0);
    CHECK (tu_wait_connections (&mon, 1)); /* b has its peer (and can send) */
    CHECK_RC (tu_monitor_stop (&mon), 0);
    int fd = get_fd (b);
    CHECK (fd >= 0);
    size_t sz = sizeof (int);
    int fd2 = -1;
    CHECK_RC (zmq_getsockopt (b, ZMQ_FD, &fd2, &sz), 0);
    CHECK_RC (fd2, fd); /* the same fd every time */

    /* Nothing to read: ZMQ_EVENTS says so, and once it has been read the fd is quiet. */
    CHECK_RC (get_events (b), ZMQ_POLLOUT);
    CHECK_RC (fd_readable (fd, 0), 0);

    /* A peer sends: the fd becomes readable, ZMQ_EVENTS has POLLIN, the message is there. */
    CHECK_RC (zmq_send (a, "one", 3, 0), 3);
    CHECK_RC (fd_readable (fd, WAIT_MS), 1);
    CHECK_RC (get_events (b), ZMQ_POLLIN | ZMQ_POLLOUT);
    char buf[16];
    CHECK_RC (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), 3);
    CHECK (memcmp (buf, "one", 3) == 0);
    CHECK_ERRNO (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_RC (get_events (b), ZMQ_POLLOUT);

    /* Three messages: one edge. After ZMQ_EVENTS the fd is quiet although all three are still
     * queued: waiting on it now would hang, which is why the application reads until EAGAIN.
     * (Over tcp and ipc the three may arrive apart: there the loop below, which waits on the fd
     * only after EAGAIN, must still get all three.) */
    CHECK_RC (zmq_send (a, "m1", 2, 0), 2);
    CHECK_RC (zmq_send (a, "m2", 2, 0), 2);
    CHECK_RC (zmq_send (a, "m3", 2, 0), 2);
    CHECK_RC (fd_readable (fd, WAIT_MS), 1);
    CHECK (get_events (b) & ZMQ_POLLIN);
    CHECK_RC (fd_readable (fd, 0), 0);
    int n = 0, waits = 0;
    if (tu_transport () == TU_INPROC) {
        while (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT) == 2)
            n++;
        CHECK_RC (zmq_errno (), EAGAIN);
    } else {
        while (n < 3 && waits < 3) {
            while (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT) == 2)
                n++;
            if (n == 3 || zmq_errno () != EAGAIN)
                break;
            if (!(get_events (b) & ZMQ_POLLIN) && fd_readable (fd, WAIT_MS) != 1)
                waits = 3; /* a lost wake-up */
            waits++;
        }
        CHECK_ERRNO (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    }
    CHECK_RC (n, 3);
    CHECK_RC (get_events (b) & ZMQ_POLLIN, 0);

    /* Once drained, the next message signals the fd again. */
    CHECK_RC (zmq_send (a, "m4", 2, 0), 2);
    CHECK_RC (fd_readable (fd, WAIT_MS), 1);
    CHECK (get_events (b) & ZMQ_POLLIN);
    CHECK_RC (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), 2);

    /* The sending side: POLLOUT, no POLLIN. */
    CHECK_RC (get_events (a), ZMQ_POLLOUT);

    CHECK_RC (zmq_close (a), 0);
    CHECK_RC (zmq_close (b), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ---- no lost wake-up ---------------------------------------------------------------------- */

struct sender
{
    void *sock;
    int errors;
    pthread_t thread;
};

static void *sender_main (void *arg)
{
    struct sender *s = (struct sender *) arg;
    for (int i = 0; i < FLOOD; i++) {
        char buf[16];
        int n = snprintf (buf, sizeof buf, "%d", i);
        /* Blocks whenever the reader falls HWM messages behind. */
        if (zmq_send (s->sock, buf, (size_t) n, 0) != n) {
            s->errors++;
            break;
        }
    }
    /* Over tcp and ipc the main thread closes it once all has arrived: closed right away, its
     * lingering last messages over ipc sometimes stop short on Debian's libzmq 4.3.4 (and this
     * test is about the reader's wake-ups, not the writer's linger). */
    if (tu_transport () == TU_INPROC)
        zmq_close (s->sock);
    return NULL;
}

static void test_no_lost_wakeup (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    char ep[256];
    CHECK_RC (tu_bind (pull, "fd-flood", ep, sizeof ep), 0);
    struct sender s;
    memset (&s, 0, sizeof s);
    s.sock = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_connect (s.sock, ep), 0);
    int fd = get_fd (pull);
    CHECK (fd >= 0);
    CHECK_RC (pthread_create (&s.thread, NULL, sender_main, &s), 0);

    /* The event loop: only poll(2) on the fd, ZMQ_EVENTS and non-blocking receives. */
    int received = 0, out_of_order = 0, lost_wakeups = 0, event_errors = 0;
    while (received < FLOOD) {
        int ev = get_events (pull);
        if (ev < 0) {
            event_errors++;
            break;
        }
        if (ev & ZMQ_POLLIN) {
            char buf[16];
            int n;
            while ((n = zmq_recv (pull, buf, sizeof buf - 1, ZMQ_DONTWAIT)) >= 0) {
                buf[n] = '\0';
                if (atoi (buf) != received)
                    out_of_order++;
                received++;
            }
            if (zmq_errno () != EAGAIN) {
                event_errors++;
                break;
            }
            continue;
        }
        if (fd_readable (fd, WAIT_MS) != 1) {
            lost_wakeups++;
            break;
        }
    }
    CHECK_RC (received, FLOOD);
    CHECK_RC (out_of_order, 0);
    CHECK_RC (lost_wakeups, 0);
    CHECK_RC (event_errors, 0);
    if (received < FLOOD)
        zmq_ctx_shutdown (ctx); /* release a sender blocked on a full queue */
    CHECK_RC (pthread_join (s.thread, NULL), 0);
    CHECK_RC (s.errors, 0);
    if (tu_transport () != TU_INPROC)
        CHECK_RC (zmq_close (s.sock), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ---- POLLOUT ------------------------------------------------------------------------------ */

static void test_pollout (void)
{
    void *ctx = zmq_ctx_new ();
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    int hwm = 4;
    CHECK_RC (zmq_setsockopt (push, ZMQ_SNDHWM, &hwm, sizeof hwm), 0);
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVHWM, &hwm, sizeof hwm), 0);
    int timeo = WAIT_MS;
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    const int inproc = tu_transport () == TU_INPROC;
    char ep[256];
    CHECK_RC (tu_endpoint ("fd-pollout", ep, sizeof ep), 0);
    if (inproc)
        CHECK_RC (tu_bind_endpoint (pull, ep), 0);

    /* Without a peer a PUSH cannot send. */
    CHECK_RC (get_events (push), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (get_events (push), ZMQ_POLLOUT);
    int fd = get_fd (push);
    CHECK (fd >= 0);

    /* Fill the peer's queue. */
    int sent = 0;
    while (sent < 1000 && zmq_send (push, "fill", 4, ZMQ_DONTWAIT) == 4)
        sent++;
    CHECK_RC (zmq_errno (), EAGAIN);
    if (inproc)
        CHECK (sent >= hwm && sent < 1000);
    else
        CHECK_RC (sent, hwm);
    CHECK_RC (get_events (push), 0); /* full: no POLLOUT */
    CHECK_RC (fd_readable (fd, 0), 0);

    /* The peer reads everything: the PUSH's fd is signalled and POLLOUT is back. */
    char buf[8];
    int got = 0;
    if (inproc) {
        while (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT) == 4)
            got++;
    } else {
        CHECK_RC (tu_bind_endpoint (pull, ep), 0);
        while (got < sent && zmq_recv (pull, buf, sizeof buf, 0) == 4)
            got++;
        CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    }
    CHECK_RC (got, sent);
    CHECK_RC (fd_readable (fd, WAIT_MS), 1);
    CHECK_RC (get_events (push), ZMQ_POLLOUT);
    CHECK_RC (zmq_send (push, "more", 4, ZMQ_DONTWAIT), 4);
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, inproc ? ZMQ_DONTWAIT : 0), 4);

    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* The same from another thread: the writer waits on its fd while a reader drains the peer
 * (over tcp and ipc: binds, then reads the `want` messages). */
struct drainer
{
    void *pull;
    const char *endpoint; /* to bind first, or NULL */
    int want;
    int got, extra;
    pthread_t thread;
};

static void *drainer_main (void *arg)
{
    struct drainer *d = (struct drainer *) arg;
    char buf[8];
    if (d->endpoint == NULL) {
        while (zmq_recv (d->pull, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
            d->got++;
        return NULL;
    }
    int timeo = WAIT_MS;
    if (zmq_setsockopt (d->pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo) != 0
        || tu_bind_endpoint (d->pull, d->endpoint) != 0)
        return NULL;
    while (d->got < d->want && zmq_recv (d->pull, buf, sizeof buf, 0) >= 0)
        d->got++;
    d->extra = zmq_recv (d->pull, buf, sizeof buf, ZMQ_DONTWAIT) >= 0;
    return NULL;
}

static void test_pollout_across_threads (void)
{
    void *ctx = zmq_ctx_new ();
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    struct drainer d;
    memset (&d, 0, sizeof d);
    d.pull = zmq_socket (ctx, ZMQ_PULL);
    int hwm = 2;
    CHECK_RC (zmq_setsockopt (push, ZMQ_SNDHWM, &hwm, sizeof hwm), 0);
    CHECK_RC (zmq_setsockopt (d.pull, ZMQ_RCVHWM, &hwm, sizeof hwm), 0);
    char ep[256];
    CHECK_RC (tu_endpoint ("fd-pollout-mt", ep, sizeof ep), 0);
    if (tu_transport () == TU_INPROC)
        CHECK_RC (tu_bind_endpoint (d.pull, ep), 0);
    else
        d.endpoint = ep; /* the drainer binds: until then the queue is full at SNDHWM */
    CHECK_RC (zmq_connect (push, ep), 0);
    int fd = get_fd (push);
    int sent = 0;
    while (sent < 1000 && zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    if (tu_transport () != TU_INPROC)
        CHECK_RC (sent, hwm);
    d.want = sent;
    CHECK_RC (get_events (push), 0);
    /* Started only now that the queue is full. */
    CHECK_RC (pthread_create (&d.thread, NULL, drainer_main, &d), 0);

    /* The event loop of the writer: wait on the fd until ZMQ_EVENTS reports POLLOUT. */
    int pollout = 0, timeouts = 0;
    while (!pollout) {
        int ev = get_events (push);
        if (ev & ZMQ_POLLOUT) {
            pollout = 1;
            break;
        }
        if (fd_readable (fd, WAIT_MS) != 1) {
            timeouts++;
            break;
        }
    }
    CHECK_RC (pollout, 1);
    CHECK_RC (timeouts, 0);
    CHECK_RC (pthread_join (d.thread, NULL), 0);
    CHECK_RC (d.got, sent);
    CHECK_RC (d.extra, 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (d.pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

int main (void)
{
    test_basic_edge ();
    test_no_lost_wakeup ();
    test_pollout ();
    test_pollout_across_threads ();
    return TEST_SUMMARY ("zmqfd");
}
