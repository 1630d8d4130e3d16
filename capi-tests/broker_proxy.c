/* broker_proxy.c: the request-reply broker built from the library's own devices, over inproc,
 * tcp and ipc:
 *   - zmq_proxy between a ROUTER frontend and a DEALER backend, with a capture socket that must
 *     receive a copy of every frame (requests and replies, multipart structure kept);
 *   - the same broker with the legacy zmq_device (ZMQ_QUEUE, ...);
 *   - zmq_proxy_steerable between PULL and PUSH with PAUSE, RESUME, STATISTICS and TERMINATE on
 *     a PAIR control socket.
 * zmq_proxy and zmq_device run until the main thread terminates the context (then return -1
 * with ETERM); the steerable proxy returns 0 on TERMINATE.
 *
 * STATISTICS: libzmq 4.3.5 documents eight uint64 frames (frontend messages in, bytes in,
 * messages out, bytes out, then the same for the backend). Debian's 4.3.4 counts a multipart
 * message once and also copies control commands to the capture socket; 4.3.5 counts frames.
 * So the steerable part sends only single-frame messages and has no capture socket: there both
 * agree. A REP control socket is not used either: 4.3.4 does not answer PAUSE/RESUME on it.
 *
 * Over tcp and ipc the capture copies travel on their own connection, so they are waited for
 * (the capture reader has a receive timeout, as have the steerable proxy's peers). */
// transports: inproc tcp ipc
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>

#define CLIENTS 4
#define WORKERS 3
#define REQUESTS 25 /* per client */

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

static int rcvmore (void *s)
{
    int more = -1;
    size_t sz = sizeof more;
    zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz);
    return more;
}

/* ---- the device thread ------------------------------------------------------------------- */

enum device_kind { USE_PROXY, USE_DEVICE };

struct device
{
    enum device_kind kind;
    void *frontend, *backend, *capture;
    int rc, err;
    pthread_t thread;
};

static void *device_main (void *arg)
{
    struct device *d = (struct device *) arg;
    if (d->kind == USE_PROXY)
        d->rc = zmq_proxy (d->frontend, d->backend, d->capture);
    else
        d->rc = zmq_device (ZMQ_QUEUE, d->frontend, d->backend);
    d->err = zmq_errno ();
    zmq_close (d->frontend);
    zmq_close (d->backend);
    if (d->capture)
        zmq_close (d->capture);
    return NULL;
}

/* ---- workers and clients ----------------------------------------------------------------- */

struct worker
{
    void *sock;
    long handled;
    int end_errno;
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

struct client
{
    void *ctx;
    const char *endpoint;
    int id;
    long good;
    int errors;
    pthread_t thread;
};

static void *client_main (void *arg)
{
    struct client *c = (struct client *) arg;
    void *s = zmq_socket (c->ctx, ZMQ_REQ);
    if (!s || zmq_connect (s, c->endpoint) != 0) {
        c->errors++;
        if (s)
            zmq_close (s);
        return NULL;
    }
    char req[64], want[96], got[96];
    for (int i = 0; i < REQUESTS; i++) {
        snprintf (req, sizeof req, "client %d request %d", c->id, i);
        snprintf (want, sizeof want, "reply to %s", req);
        if (send_str (s, req, 0) < 0 || recv_str (s, got, sizeof got, 0) < 0) {
            c->errors++;
            break;
        }
        if (strcmp (got, want) == 0 && rcvmore (s) == 0)
            c->good++;
    }
    zmq_close (s);
    return NULL;
}

/* Counts the capture copies: each is [routing id][empty][body], as the proxy saw it. */
static void check_capture (void *cap, long want_requests, long want_replies)
{
    long requests = 0, replies = 0, malformed = 0;
    char id[256], delim[8], body[128];
    for (long i = 0; i < want_requests + want_replies; i++) {
        int n_id = zmq_recv (cap, id, sizeof id, 0);
        int more_id = rcvmore (cap);
        int n_delim = zmq_recv (cap, delim, sizeof delim, 0);
        int more_delim = rcvmore (cap);
        int n_body = recv_str (cap, body, sizeof body, 0);
        int more_body = rcvmore (cap);
        if (n_id != 5 || id[0] != 0 || more_id != 1 || n_delim != 0 || more_delim != 1
            || n_body < 0 || more_body != 0) {
            malformed++;
            continue;
        }
        if (strncmp (body, "client ", 7) == 0)
            requests++;
        else if (strncmp (body, "reply to client ", 16) == 0)
            replies++;
        else
            malformed++;
    }
    CHECK_RC (requests, want_requests);
    CHECK_RC (replies, want_replies);
    CHECK_RC (malformed, 0);
    /* Nothing more: the capture saw every frame exactly once. */
    CHECK_ERRNO (zmq_recv (cap, body, sizeof body, ZMQ_DONTWAIT), EAGAIN);
}

/* One broker run: the device in a thread, WORKERS REP workers, CLIENTS REQ clients. */
static void run_broker (enum device_kind kind, int with_capture)
{
    static int run;
    char front_name[32], back_name[32], capture_name[32];
    run++;
    snprintf (front_name, sizeof front_name, "front-%d", run);
    snprintf (back_name, sizeof back_name, "back-%d", run);
    snprintf (capture_name, sizeof capture_name, "capture-%d", run);
    char front_ep[256], back_ep[256], capture_ep[256];
    int timeout = 10000;
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    struct device d;
    memset (&d, 0, sizeof d);
    d.kind = kind;
    d.frontend = zmq_socket (ctx, ZMQ_ROUTER);
    d.backend = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (d.frontend && d.backend);
    CHECK_RC (tu_bind (d.frontend, front_name, front_ep, sizeof front_ep), 0);
    CHECK_RC (tu_bind (d.backend, back_name, back_ep, sizeof back_ep), 0);
    void *cap_reader = NULL;
    if (with_capture) {
        d.capture = zmq_socket (ctx, ZMQ_PUSH);
        CHECK_RC (tu_bind (d.capture, capture_name, capture_ep, sizeof capture_ep), 0);
        cap_reader = zmq_socket (ctx, ZMQ_PULL);
        CHECK_RC (zmq_setsockopt (cap_reader, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
        CHECK_RC (zmq_connect (cap_reader, capture_ep), 0);
    }

    struct worker workers[WORKERS];
    memset (workers, 0, sizeof workers);
    for (int i = 0; i < WORKERS; i++) {
        workers[i].sock = zmq_socket (ctx, ZMQ_REP);
        CHECK_RC (zmq_connect (workers[i].sock, back_ep), 0);
        CHECK_RC (pthread_create (&workers[i].thread, NULL, worker_main, &workers[i]), 0);
    }
    CHECK_RC (pthread_create (&d.thread, NULL, device_main, &d), 0);

    struct client clients[CLIENTS];
    memset (clients, 0, sizeof clients);
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].ctx = ctx;
        clients[i].endpoint = front_ep;
        clients[i].id = i;
        CHECK_RC (pthread_create (&clients[i].thread, NULL, client_main, &clients[i]), 0);
    }
    long good = 0;
    int errors = 0;
    for (int i = 0; i < CLIENTS; i++) {
        CHECK_RC (pthread_join (clients[i].thread, NULL), 0);
        good += clients[i].good;
        errors += clients[i].errors;
    }
    CHECK_RC (good, CLIENTS * REQUESTS);
    CHECK_RC (errors, 0);

    /* Each copy was sent to the capture before its original went on: all are there now
     * (over inproc; over tcp and ipc they are sent, and arrive in their own time). */
    if (with_capture) {
        check_capture (cap_reader, CLIENTS * REQUESTS, CLIENTS * REQUESTS);
        CHECK_RC (zmq_close (cap_reader), 0);
    }

    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (pthread_join (d.thread, NULL), 0);
    CHECK_RC (d.rc, -1);
    CHECK_RC (d.err, ETERM);
    long handled = 0;
    int not_eterm = 0;
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC (pthread_join (workers[i].thread, NULL), 0);
        handled += workers[i].handled;
        not_eterm += workers[i].end_errno != ETERM;
    }
    CHECK_RC (handled, CLIENTS * REQUESTS);
    CHECK_RC (not_eterm, 0);
}

/* ---- steerable proxy --------------------------------------------------------------------- */

struct steer
{
    void *frontend, *backend, *control;
    int rc, err;
    pthread_t thread;
};

static void *steer_main (void *arg)
{
    struct steer *s = (struct steer *) arg;
    s->rc = zmq_proxy_steerable (s->frontend, s->backend, NULL, s->control);
    s->err = zmq_errno ();
    zmq_close (s->frontend);
    zmq_close (s->backend);
    if (s->control)
        zmq_close (s->control);
    return NULL;
}

/* Asks for STATISTICS; checks the eight uint64 frames against want[]. */
static void check_stats (void *control, const uint64_t want[8])
{
    CHECK_RC (send_str (control, "STATISTICS", 0), 10);
    int bad_size = 0, bad_more = 0, mismatches = 0;
    for (int i = 0; i < 8; i++) {
        uint64_t v = 0;
        int n = zmq_recv (control, &v, sizeof v, 0);
        bad_size += n != (int) sizeof v;
        bad_more += rcvmore (control) != (i < 7);
        if (v != want[i]) {
            mismatches++;
            printf ("     statistics frame %d: got %llu, want %llu\n", i,
                    (unsigned long long) v, (unsigned long long) want[i]);
        }
    }
    CHECK_RC (bad_size, 0);
    CHECK_RC (bad_more, 0);
    CHECK_RC (mismatches, 0);
}

static void test_steerable (void)
{
    void *ctx = zmq_ctx_new ();
    struct steer st;
    memset (&st, 0, sizeof st);
    st.frontend = zmq_socket (ctx, ZMQ_PULL);
    st.backend = zmq_socket (ctx, ZMQ_PUSH);
    st.control = zmq_socket (ctx, ZMQ_PAIR);
    char in_ep[256], out_ep[256], control_ep[256];
    CHECK_RC (tu_bind (st.frontend, "steer-in", in_ep, sizeof in_ep), 0);
    CHECK_RC (tu_bind (st.backend, "steer-out", out_ep, sizeof out_ep), 0);
    CHECK_RC (tu_bind (st.control, "steer-control", control_ep, sizeof control_ep), 0);
    void *in = zmq_socket (ctx, ZMQ_PUSH);
    void *out = zmq_socket (ctx, ZMQ_PULL);
    void *control = zmq_socket (ctx, ZMQ_PAIR);
    CHECK_RC (zmq_connect (in, in_ep), 0);
    CHECK_RC (zmq_connect (out, out_ep), 0);
    CHECK_RC (zmq_connect (control, control_ep), 0);
    int timeout = 5000; /* a lost message fails the check instead of hanging the test */
    CHECK_RC (zmq_setsockopt (out, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (zmq_setsockopt (control, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (pthread_create (&st.thread, NULL, steer_main, &st), 0);

    /* Nothing has passed yet. */
    const uint64_t zero[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    check_stats (control, zero);

    /* Three messages of 1, 2 and 3 bytes pass through. */
    char buf[16];
    CHECK_RC (send_str (in, "a", 0), 1);
    CHECK_RC (send_str (in, "bb", 0), 2);
    CHECK_RC (send_str (in, "ccc", 0), 3);
    CHECK_RC (recv_str (out, buf, sizeof buf, 0), 1);
    CHECK_STR (buf, "a");
    CHECK_RC (recv_str (out, buf, sizeof buf, 0), 2);
    CHECK_STR (buf, "bb");
    CHECK_RC (recv_str (out, buf, sizeof buf, 0), 3);
    CHECK_STR (buf, "ccc");
    /* In on the frontend, out of the backend; nothing the other way. */
    const uint64_t after3[8] = {3, 6, 0, 0, 0, 0, 3, 6};
    check_stats (control, after3);

    /* PAUSE: the STATISTICS answer after it proves it was handled. A message sent meanwhile
     * stays queued; the statistics do not move. */
    CHECK_RC (send_str (control, "PAUSE", 0), 5);
    check_stats (control, after3);
    CHECK_RC (send_str (in, "dddd", 0), 4);
    check_stats (control, after3);
    CHECK_ERRNO (zmq_recv (out, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    /* RESUME: the queued message goes through. */
    CHECK_RC (send_str (control, "RESUME", 0), 6);
    CHECK_RC (recv_str (out, buf, sizeof buf, 0), 4);
    CHECK_STR (buf, "dddd");
    const uint64_t after4[8] = {4, 10, 0, 0, 0, 0, 4, 10};
    check_stats (control, after4);

    /* TERMINATE: the proxy returns 0. */
    CHECK_RC (send_str (control, "TERMINATE", 0), 9);
    CHECK_RC (pthread_join (st.thread, NULL), 0);
    CHECK_RC (st.rc, 0);

    CHECK_RC (zmq_close (in), 0);
    CHECK_RC (zmq_close (out), 0);
    CHECK_RC (zmq_close (control), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* A steerable proxy without a control socket is zmq_proxy: it ends with ETERM. */
static void test_steerable_without_control (void)
{
    void *ctx = zmq_ctx_new ();
    struct steer st;
    memset (&st, 0, sizeof st);
    st.frontend = zmq_socket (ctx, ZMQ_PULL);
    st.backend = zmq_socket (ctx, ZMQ_PUSH);
    char in_ep[256], out_ep[256];
    CHECK_RC (tu_bind (st.frontend, "in", in_ep, sizeof in_ep), 0);
    CHECK_RC (tu_bind (st.backend, "out", out_ep, sizeof out_ep), 0);
    void *in = zmq_socket (ctx, ZMQ_PUSH);
    void *out = zmq_socket (ctx, ZMQ_PULL);
    int timeout = 10000;
    CHECK_RC (zmq_setsockopt (out, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (zmq_connect (in, in_ep), 0);
    CHECK_RC (zmq_connect (out, out_ep), 0);
    CHECK_RC (pthread_create (&st.thread, NULL, steer_main, &st), 0);
    /* Multipart messages pass whole. */
    char buf[16];
    CHECK_RC (send_str (in, "part1", ZMQ_SNDMORE), 5);
    CHECK_RC (send_str (in, "part2", 0), 5);
    CHECK_RC (recv_str (out, buf, sizeof buf, 0), 5);
    CHECK_STR (buf, "part1");
    CHECK_RC (rcvmore (out), 1);
    CHECK_RC (recv_str (out, buf, sizeof buf, 0), 5);
    CHECK_STR (buf, "part2");
    CHECK_RC (rcvmore (out), 0);
    CHECK_RC (zmq_close (in), 0);
    CHECK_RC (zmq_close (out), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (pthread_join (st.thread, NULL), 0);
    CHECK_RC (st.rc, -1);
    CHECK_RC (st.err, ETERM);
}

/* A NULL frontend or backend is EFAULT, before anything else is looked at. */
static void test_null_sockets (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PULL);
    CHECK_ERRNO (zmq_proxy (NULL, s, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy (s, NULL, NULL), EFAULT);
    CHECK_ERRNO (zmq_proxy_steerable (NULL, NULL, NULL, NULL), EFAULT);
    CHECK_RC (zmq_close (s), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

int main (void)
{
    test_null_sockets ();
    run_broker (USE_PROXY, 1);
    run_broker (USE_PROXY, 0);
    run_broker (USE_DEVICE, 0);
    test_steerable ();
    test_steerable_without_control ();
    return TEST_SUMMARY ("broker_proxy");
}
