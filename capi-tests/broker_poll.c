/* broker_poll.c: a request-reply broker driven by zmq_poll (the zguide's rrbroker) over
 * inproc, tcp and ipc. A ROUTER frontend faces REQ clients, a DEALER backend faces REP workers, and a
 * broker thread shuttles whole multipart messages between them from a zmq_poll loop. Every
 * request must be answered exactly once, with its own reply. The broker and the workers stop
 * when the main thread terminates the context: their blocking calls return ETERM, they close
 * their sockets, and only then does zmq_ctx_term return. Over tcp and ipc the workers that
 * are connected when requests come get them (the DEALER spreads requests over the peers it
 * has); the totals are the same. */
// transports: inproc tcp ipc
#include "testutil.h"

#include <pthread.h>

#define CLIENTS 5
#define WORKERS 4
#define REQUESTS 40 /* per client */

static void *ctx;
static char front_ep[256], back_ep[256]; /* where the broker's sockets are bound */

/* Receives one frame as a C string (truncated to cap - 1 bytes); returns its size or -1. */
static int recv_str (void *s, char *buf, size_t cap, int flags)
{
    int n = zmq_recv (s, buf, cap - 1, flags);
    if (n >= 0)
        buf[(size_t) n < cap - 1 ? (size_t) n : cap - 1] = '\0';
    return n;
}

static int send_str (void *s, const char *str, int flags)
{
    return zmq_send (s, str, strlen (str), flags);
}

/* ---- broker ------------------------------------------------------------------------------ */

struct broker
{
    void *frontend, *backend;
    int poll_rc, poll_errno; /* how the loop ended */
    int forward_errors;
    long requests, replies; /* whole messages forwarded each way */
    pthread_t thread;
};

/* Moves one whole message; 0 on success, -1 (errno set) on failure. */
static int forward (void *from, void *to)
{
    while (1) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, from, 0) < 0) {
            zmq_msg_close (&m);
            return -1;
        }
        int more = zmq_msg_more (&m);
        if (zmq_msg_send (&m, to, more ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close (&m);
            return -1;
        }
        if (!more)
            return 0;
    }
}

static void *broker_main (void *arg)
{
    struct broker *b = (struct broker *) arg;
    while (1) {
        zmq_pollitem_t items[] = {{b->frontend, 0, ZMQ_POLLIN, 0},
                                  {b->backend, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll (items, 2, -1);
        if (rc < 0) {
            b->poll_rc = rc;
            b->poll_errno = zmq_errno ();
            break;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            if (forward (b->frontend, b->backend) == 0)
                b->requests++;
            else if (zmq_errno () != ETERM)
                b->forward_errors++;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            if (forward (b->backend, b->frontend) == 0)
                b->replies++;
            else if (zmq_errno () != ETERM)
                b->forward_errors++;
        }
    }
    zmq_close (b->frontend);
    zmq_close (b->backend);
    return NULL;
}

/* ---- workers ----------------------------------------------------------------------------- */

struct worker
{
    int id;
    void *sock;
    long handled;
    int errors;
    int end_errno; /* errno of the call that ended the loop */
    pthread_t thread;
};

static void *worker_main (void *arg)
{
    struct worker *w = (struct worker *) arg;
    char req[64], rep[96];
    while (1) {
        if (recv_str (w->sock, req, sizeof req, 0) < 0) {
            w->end_errno = zmq_errno ();
            break;
        }
        snprintf (rep, sizeof rep, "reply to %s", req);
        if (send_str (w->sock, rep, 0) < 0) {
            w->end_errno = zmq_errno ();
            break;
        }
        w->handled++;
    }
    zmq_close (w->sock);
    return NULL;
}

/* ---- clients ----------------------------------------------------------------------------- */

struct client
{
    int id;
    long good; /* replies that matched their request */
    int errors;
    pthread_t thread;
};

static void *client_main (void *arg)
{
    struct client *c = (struct client *) arg;
    void *s = zmq_socket (ctx, ZMQ_REQ);
    if (!s || zmq_connect (s, front_ep) != 0) {
        c->errors++;
        if (s)
            zmq_close (s);
        return NULL;
    }
    char req[64], want[96], got[96];
    for (int i = 0; i < REQUESTS; i++) {
        snprintf (req, sizeof req, "client %d request %d", c->id, i);
        snprintf (want, sizeof want, "reply to %s", req);
        int more = 0;
        size_t sz = sizeof more;
        if (send_str (s, req, 0) < 0 || recv_str (s, got, sizeof got, 0) < 0
            || zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz) != 0) {
            c->errors++;
            break;
        }
        if (strcmp (got, want) == 0 && !more)
            c->good++;
    }
    zmq_close (s);
    return NULL;
}

int main (void)
{
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);

    struct broker b;
    memset (&b, 0, sizeof b);
    b.frontend = zmq_socket (ctx, ZMQ_ROUTER);
    b.backend = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (b.frontend && b.backend);
    CHECK_RC (tu_bind (b.frontend, "broker-poll-front", front_ep, sizeof front_ep), 0);
    CHECK_RC (tu_bind (b.backend, "broker-poll-back", back_ep, sizeof back_ep), 0);

    /* Workers connect before the broker runs: the DEALER spreads requests over them. */
    struct worker workers[WORKERS];
    memset (workers, 0, sizeof workers);
    for (int i = 0; i < WORKERS; i++) {
        workers[i].id = i;
        workers[i].sock = zmq_socket (ctx, ZMQ_REP);
        CHECK (workers[i].sock != NULL);
        CHECK_RC (zmq_connect (workers[i].sock, back_ep), 0);
        CHECK_RC (pthread_create (&workers[i].thread, NULL, worker_main, &workers[i]), 0);
    }
    CHECK_RC (pthread_create (&b.thread, NULL, broker_main, &b), 0);

    struct client clients[CLIENTS];
    memset (clients, 0, sizeof clients);
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].id = i;
        CHECK_RC (pthread_create (&clients[i].thread, NULL, client_main, &clients[i]), 0);
    }
    long good = 0;
    int client_errors = 0;
    for (int i = 0; i < CLIENTS; i++) {
        CHECK_RC (pthread_join (clients[i].thread, NULL), 0);
        good += clients[i].good;
        client_errors += clients[i].errors;
    }
    CHECK_RC (good, CLIENTS * REQUESTS);
    CHECK_RC (client_errors, 0);

    /* Every client has its replies: terminate. zmq_ctx_term returns once the broker and the
     * workers, woken with ETERM, have closed their sockets. */
    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (pthread_join (b.thread, NULL), 0);
    long handled = 0;
    int end_not_eterm = 0;
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC (pthread_join (workers[i].thread, NULL), 0);
        handled += workers[i].handled;
        end_not_eterm += workers[i].end_errno != ETERM;
    }
    CHECK_RC (handled, CLIENTS * REQUESTS); /* exactly once: no request handled twice */
    CHECK_RC (end_not_eterm, 0);
    CHECK_RC (b.poll_rc, -1);
    CHECK_RC (b.poll_errno, ETERM);
    CHECK_RC (b.forward_errors, 0);
    CHECK_RC (b.requests, CLIENTS * REQUESTS);
    CHECK_RC (b.replies, CLIENTS * REQUESTS);
    return TEST_SUMMARY ("broker_poll");
}
