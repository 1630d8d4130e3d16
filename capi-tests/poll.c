/* poll.c: zmq_poll over sockets and plain file descriptors.
 *   - sockets and a pipe(2) fd in one call; revents always rewritten (cleared when nothing);
 *   - timeouts: 0 returns at once, a positive timeout waits at least about that long (only a
 *     loose lower bound is asserted), -1 waits for an event made by another thread;
 *   - POLLOUT on sockets (PUSH with and without a peer, REQ/REP lock-step, a full queue that
 *     drains in another thread);
 *   - an item with no events is ignored (and does not make zmq_poll spin);
 *   - no items; bad arguments (EFAULT, EINVAL, ENOTSOCK, POLLERR for a bad fd); EINTR.
 *
 * The sockets talk over inproc, tcp or ipc. Over tcp and ipc a message takes its time to
 * arrive, so where the test needs it there it first waits for it (zmq_poll on that socket
 * alone); a full queue is that of a PUSH whose peer has not bound yet (exactly SNDHWM
 * messages: a connected peer's capacity depends on the kernel's buffers), and the draining
 * thread binds the peer before reading. */
// transports: inproc tcp ipc
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define JUNK 0x7ff /* what revents holds before each call */

static void msleep (long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR) {
    }
}

static long now_ms (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_sockets_and_fds (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    char ep[256];
    CHECK_RC (tu_bind (pull, "poll-mixed", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    int fds[2];
    CHECK_RC (pipe (fds), 0);

    zmq_pollitem_t items[] = {{pull, 0, ZMQ_POLLIN, JUNK}, {NULL, fds[0], ZMQ_POLLIN, JUNK}};
    /* Nothing ready: 0, and both revents cleared. */
    CHECK_RC (zmq_poll (items, 2, 0), 0);
    CHECK_RC (items[0].revents, 0);
    CHECK_RC (items[1].revents, 0);

    /* The pipe only. */
    CHECK_RC (write (fds[1], "p", 1), 1);
    items[0].revents = items[1].revents = JUNK;
    CHECK_RC (zmq_poll (items, 2, 0), 1);
    CHECK_RC (items[0].revents, 0);
    CHECK_RC (items[1].revents, ZMQ_POLLIN);

    /* Both. */
    CHECK_RC (zmq_send (push, "s", 1, 0), 1);
    CHECK_RC (zmq_poll (items, 1, 10000), 1); /* arrived (at once over inproc) */
    items[0].revents = items[1].revents = JUNK;
    CHECK_RC (zmq_poll (items, 2, 0), 2);
    CHECK_RC (items[0].revents, ZMQ_POLLIN);
    CHECK_RC (items[1].revents, ZMQ_POLLIN);
    /* Polling does not consume anything: the same answer again, with a timeout. */
    CHECK_RC (zmq_poll (items, 2, 1000), 2);

    /* The socket only. */
    char c;
    CHECK_RC (read (fds[0], &c, 1), 1);
    items[0].revents = items[1].revents = JUNK;
    CHECK_RC (zmq_poll (items, 2, -1), 1);
    CHECK_RC (items[0].revents, ZMQ_POLLIN);
    CHECK_RC (items[1].revents, 0);

    /* Drained: nothing again. */
    char buf[4];
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, 0), 1);
    items[0].revents = items[1].revents = JUNK;
    CHECK_RC (zmq_poll (items, 2, 0), 0);
    CHECK_RC (items[0].revents, 0);
    CHECK_RC (items[1].revents, 0);

    /* POLLOUT on a plain fd (the pipe's write end) and on the PUSH. */
    zmq_pollitem_t out[] = {{NULL, fds[1], ZMQ_POLLOUT, JUNK}, {push, 0, ZMQ_POLLOUT, JUNK}};
    CHECK_RC (zmq_poll (out, 2, 0), 2);
    CHECK_RC (out[0].revents, ZMQ_POLLOUT);
    CHECK_RC (out[1].revents, ZMQ_POLLOUT);

    /* Asking for POLLIN and POLLOUT gets the subset that holds. */
    zmq_pollitem_t both = {push, 0, ZMQ_POLLIN | ZMQ_POLLOUT, JUNK};
    CHECK_RC (zmq_poll (&both, 1, 0), 1);
    CHECK_RC (both.revents, ZMQ_POLLOUT);

    /* A bad fd is reported with POLLERR. */
    zmq_pollitem_t bad = {NULL, 12345, ZMQ_POLLIN, JUNK};
    CHECK_RC (zmq_poll (&bad, 1, 0), 1);
    CHECK_RC (bad.revents, ZMQ_POLLERR);

    close (fds[0]);
    close (fds[1]);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

static void test_timeouts (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    char ep[256];
    CHECK_RC (tu_bind (pull, "poll-timeouts", ep, sizeof ep), 0);
    int fds[2];
    CHECK_RC (pipe (fds), 0);
    zmq_pollitem_t items[] = {{pull, 0, ZMQ_POLLIN, JUNK}, {NULL, fds[0], ZMQ_POLLIN, JUNK}};

    CHECK_RC (zmq_poll (items, 2, 0), 0);

    long t0 = now_ms (CLOCK_MONOTONIC);
    CHECK_RC (zmq_poll (items, 2, 150), 0);
    long waited = now_ms (CLOCK_MONOTONIC) - t0;
    CHECK (waited >= 100);
    CHECK_RC (items[0].revents, 0);
    CHECK_RC (items[1].revents, 0);

    /* The same with sockets only and with fds only. */
    t0 = now_ms (CLOCK_MONOTONIC);
    CHECK_RC (zmq_poll (items, 1, 100), 0);
    CHECK (now_ms (CLOCK_MONOTONIC) - t0 >= 60);
    t0 = now_ms (CLOCK_MONOTONIC);
    CHECK_RC (zmq_poll (items + 1, 1, 100), 0);
    CHECK (now_ms (CLOCK_MONOTONIC) - t0 >= 60);

    /* No items: 0 at once, or after sleeping for the timeout. */
    CHECK_RC (zmq_poll (NULL, 0, 0), 0);
    CHECK_RC (zmq_poll (items, 0, 0), 0);
    t0 = now_ms (CLOCK_MONOTONIC);
    CHECK_RC (zmq_poll (NULL, 0, 100), 0);
    CHECK (now_ms (CLOCK_MONOTONIC) - t0 >= 60);

    close (fds[0]);
    close (fds[1]);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ---- events made by another thread ------------------------------------------------------- */

struct poker
{
    void *sock; /* send one message on it, or */
    int fd;     /* write one byte to it */
    long delay_ms;
    int rc;
    pthread_t thread;
};

static void *poker_main (void *arg)
{
    struct poker *p = (struct poker *) arg;
    msleep (p->delay_ms); /* so that the main thread is (most likely) blocked by then */
    if (p->sock) {
        p->rc = zmq_send (p->sock, "wake", 4, 0);
        zmq_close (p->sock);
    } else
        p->rc = (int) write (p->fd, "w", 1);
    return NULL;
}

static void test_infinite_with_other_thread (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    char ep[256];
    CHECK_RC (tu_bind (pull, "poll-wake", ep, sizeof ep), 0);
    int fds[2];
    CHECK_RC (pipe (fds), 0);
    zmq_pollitem_t items[] = {{pull, 0, ZMQ_POLLIN, JUNK}, {NULL, fds[0], ZMQ_POLLIN, JUNK}};

    /* A message from another thread ends an infinite wait. */
    struct poker p;
    memset (&p, 0, sizeof p);
    p.sock = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_connect (p.sock, ep), 0);
    p.delay_ms = 50;
    CHECK_RC (pthread_create (&p.thread, NULL, poker_main, &p), 0);
    CHECK_RC (zmq_poll (items, 2, -1), 1);
    CHECK_RC (items[0].revents, ZMQ_POLLIN);
    CHECK_RC (items[1].revents, 0);
    CHECK_RC (pthread_join (p.thread, NULL), 0);
    CHECK_RC (p.rc, 4);
    char buf[8];
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, 0), 4);

    /* So does a byte written to the pipe by another thread. */
    memset (&p, 0, sizeof p);
    p.fd = fds[1];
    p.delay_ms = 50;
    CHECK_RC (pthread_create (&p.thread, NULL, poker_main, &p), 0);
    CHECK_RC (zmq_poll (items, 2, -1), 1);
    CHECK_RC (items[0].revents, 0);
    CHECK_RC (items[1].revents, ZMQ_POLLIN);
    CHECK_RC (pthread_join (p.thread, NULL), 0);
    CHECK_RC (p.rc, 1);

    close (fds[0]);
    close (fds[1]);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ---- POLLOUT ----------------------------------------------------------------------------- */

struct drainer
{
    void *pull;
    const char *endpoint; /* over tcp and ipc: bound first */
    int want;             /* over tcp and ipc: read (waiting for each) */
    int got, extra;
    pthread_t thread;
};

static void *drainer_main (void *arg)
{
    struct drainer *d = (struct drainer *) arg;
    char buf[8];
    msleep (50);
    if (d->endpoint == NULL) {
        while (zmq_recv (d->pull, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
            d->got++;
        return NULL;
    }
    int timeo = 10000;
    if (zmq_setsockopt (d->pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo) != 0
        || tu_bind_endpoint (d->pull, d->endpoint) != 0)
        return NULL;
    while (d->got < d->want && zmq_recv (d->pull, buf, sizeof buf, 0) >= 0)
        d->got++;
    d->extra = zmq_recv (d->pull, buf, sizeof buf, ZMQ_DONTWAIT) >= 0;
    return NULL;
}

static void test_pollout (void)
{
    void *ctx = zmq_ctx_new ();

    /* A PUSH without a peer cannot send; with one it can. */
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    zmq_pollitem_t item = {push, 0, ZMQ_POLLOUT, JUNK};
    CHECK_RC (zmq_poll (&item, 1, 0), 0);
    CHECK_RC (item.revents, 0);
    struct drainer d;
    memset (&d, 0, sizeof d);
    d.pull = zmq_socket (ctx, ZMQ_PULL);
    int hwm = 3;
    CHECK_RC (zmq_setsockopt (push, ZMQ_SNDHWM, &hwm, sizeof hwm), 0);
    CHECK_RC (zmq_setsockopt (d.pull, ZMQ_RCVHWM, &hwm, sizeof hwm), 0);
    char ep[256];
    CHECK_RC (tu_endpoint ("poll-out", ep, sizeof ep), 0);
    if (tu_transport () == TU_INPROC)
        CHECK_RC (tu_bind_endpoint (d.pull, ep), 0);
    else
        d.endpoint = ep;
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_poll (&item, 1, 0), 1);
    CHECK_RC (item.revents, ZMQ_POLLOUT);

    /* Full: no POLLOUT; it comes back when another thread drains the queue. */
    int sent = 0;
    while (sent < 1000 && zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    CHECK (sent < 1000);
    if (tu_transport () != TU_INPROC)
        CHECK_RC (sent, hwm);
    d.want = sent;
    item.revents = JUNK;
    CHECK_RC (zmq_poll (&item, 1, 0), 0);
    CHECK_RC (item.revents, 0);
    CHECK_RC (pthread_create (&d.thread, NULL, drainer_main, &d), 0);
    CHECK_RC (zmq_poll (&item, 1, 10000), 1);
    CHECK_RC (item.revents, ZMQ_POLLOUT);
    CHECK_RC (pthread_join (d.thread, NULL), 0);
    CHECK_RC (d.got, sent);
    CHECK_RC (d.extra, 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (d.pull), 0);

    /* REQ/REP lock-step: POLLOUT and POLLIN follow the state machine. */
    void *req = zmq_socket (ctx, ZMQ_REQ);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    char ep2[256];
    CHECK_RC (tu_bind (rep, "poll-reqrep", ep2, sizeof ep2), 0);
    CHECK_RC (zmq_connect (req, ep2), 0);
    zmq_pollitem_t rr[] = {{req, 0, ZMQ_POLLIN | ZMQ_POLLOUT, JUNK},
                           {rep, 0, ZMQ_POLLIN | ZMQ_POLLOUT, JUNK}};
    CHECK_RC (zmq_poll (rr, 2, 0), 1);
    CHECK_RC (rr[0].revents, ZMQ_POLLOUT); /* REQ may send a request */
    CHECK_RC (rr[1].revents, 0);           /* REP has nothing to do yet */
    CHECK_RC (zmq_send (req, "q", 1, 0), 1);
    CHECK_RC (zmq_poll (rr, 2, 10000), 1);
    CHECK_RC (rr[0].revents, 0);           /* REQ waits for the reply */
    CHECK_RC (rr[1].revents, ZMQ_POLLIN);  /* REP has a request */
    char buf[4];
    CHECK_RC (zmq_recv (rep, buf, sizeof buf, 0), 1);
    CHECK_RC (zmq_poll (rr, 2, 0), 1);
    CHECK_RC (rr[0].revents, 0);
    CHECK_RC (rr[1].revents, ZMQ_POLLOUT); /* REP must reply */
    CHECK_RC (zmq_send (rep, "a", 1, 0), 1);
    CHECK_RC (zmq_poll (rr, 2, 10000), 1);
    CHECK_RC (rr[0].revents, ZMQ_POLLIN);  /* the reply is there */
    CHECK_RC (rr[1].revents, 0);
    CHECK_RC (zmq_recv (req, buf, sizeof buf, 0), 1);
    CHECK_RC (zmq_poll (rr, 2, 0), 1);
    CHECK_RC (rr[0].revents, ZMQ_POLLOUT);
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_close (rep), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ---- items without events ---------------------------------------------------------------- */

static void test_no_events (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    char ep[256];
    CHECK_RC (tu_bind (pull, "poll-none", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "m", 1, 0), 1);
    int fds[2];
    CHECK_RC (pipe (fds), 0);
    CHECK_RC (write (fds[1], "p", 1), 1);

    /* A readable socket and a readable fd, but no events asked for: nothing reported. */
    zmq_pollitem_t items[] = {{pull, 0, 0, JUNK}, {NULL, fds[0], 0, JUNK}};
    CHECK_RC (zmq_poll (items, 2, 0), 0);
    CHECK_RC (items[0].revents, 0);
    CHECK_RC (items[1].revents, 0);

    /* And zmq_poll sleeps through the timeout instead of spinning on what is ready. The
     * socket has unprocessed work queued (a new connection): that must not wake the poll. */
    void *push2 = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_connect (push2, ep), 0);
    long cpu0 = now_ms (CLOCK_THREAD_CPUTIME_ID);
    long t0 = now_ms (CLOCK_MONOTONIC);
    CHECK_RC (zmq_poll (items, 2, 300), 0);
    long cpu = now_ms (CLOCK_THREAD_CPUTIME_ID) - cpu0;
    CHECK (now_ms (CLOCK_MONOTONIC) - t0 >= 200);
    CHECK (cpu < 150);
    if (cpu >= 150)
        printf ("     zmq_poll used %ld ms of CPU in a 300 ms wait\n", cpu);

    close (fds[0]);
    close (fds[1]);
    CHECK_RC (zmq_close (push2), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ---- bad arguments, EINTR, ETERM --------------------------------------------------------- */

static void test_errors (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    zmq_pollitem_t item = {pull, 0, ZMQ_POLLIN, 0};
    CHECK_ERRNO (zmq_poll (NULL, 1, 0), EFAULT);
    CHECK_ERRNO (zmq_poll (&item, -1, 0), EINVAL);
    static long long not_a_socket[16]; /* zeroed, aligned: no valid tag */
    zmq_pollitem_t junk = {not_a_socket, 0, ZMQ_POLLIN, 0};
    CHECK_ERRNO (zmq_poll (&junk, 1, 0), ENOTSOCK);

    /* A terminated context: ETERM, also for a socket polled for nothing. */
    CHECK_RC (zmq_ctx_shutdown (ctx), 0);
    CHECK_ERRNO (zmq_poll (&item, 1, 0), ETERM);
    CHECK_ERRNO (zmq_poll (&item, 1, 1000), ETERM);
    item.events = 0;
    CHECK_ERRNO (zmq_poll (&item, 1, 0), ETERM);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

static void on_signal (int sig)
{
    (void) sig;
}

struct signaller
{
    pthread_t target;
    int stop;
    pthread_t thread;
};

static void *signaller_main (void *arg)
{
    struct signaller *s = (struct signaller *) arg;
    /* Signals that arrive outside zmq_poll do nothing: keep sending until one lands inside. */
    while (!__atomic_load_n (&s->stop, __ATOMIC_SEQ_CST)) {
        pthread_kill (s->target, SIGUSR1);
        msleep (20);
    }
    return NULL;
}

static void test_eintr (void)
{
    struct sigaction sa, old;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset (&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    CHECK_RC (sigaction (SIGUSR1, &sa, &old), 0);

    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    char ep[256];
    CHECK_RC (tu_bind (pull, "poll-eintr", ep, sizeof ep), 0);
    zmq_pollitem_t item = {pull, 0, ZMQ_POLLIN, 0};
    struct signaller s;
    memset (&s, 0, sizeof s);
    s.target = pthread_self ();
    CHECK_RC (pthread_create (&s.thread, NULL, signaller_main, &s), 0);
    CHECK_ERRNO (zmq_poll (&item, 1, 10000), EINTR);
    __atomic_store_n (&s.stop, 1, __ATOMIC_SEQ_CST);
    CHECK_RC (pthread_join (s.thread, NULL), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (sigaction (SIGUSR1, &old, NULL), 0);
}

int main (void)
{
    test_sockets_and_fds ();
    test_timeouts ();
    test_infinite_with_other_thread ();
    test_pollout ();
    test_no_events ();
    test_errors ();
    test_eintr ();
    return TEST_SUMMARY ("poll");
}
