/* mtserver.c: the zguide's multithreaded server over inproc, tcp and ipc. The main thread runs
 * zmq_device (ZMQ_QUEUE, ...) between a ROUTER frontend and a DEALER backend; WORKERS threads
 * each serve requests on a REP socket connected to the backend; CLIENTS threads send multipart
 * requests from REQ sockets and check every reply. When the clients are done a supervisor
 * thread calls zmq_ctx_shutdown: the device in the main thread and the blocked workers return
 * ETERM at once, everyone closes their sockets, and zmq_ctx_term completes. */
// transports: inproc tcp ipc
#include "testutil.h"

#include <pthread.h>

#define CLIENTS 6
#define WORKERS 5
#define REQUESTS 30 /* per client */

static void *ctx;
static char clients_ep[256], workers_ep[256]; /* where the device's sockets are bound */

static int rcvmore (void *s)
{
    int more = -1;
    size_t sz = sizeof more;
    zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz);
    return more;
}

/* ---- workers: request [op][n] -> reply [result][worker id] -------------------------------- */

struct worker
{
    int id;
    void *sock;
    long handled;
    int bad_requests;
    int end_errno;
    pthread_t thread;
};

static void *worker_main (void *arg)
{
    struct worker *w = (struct worker *) arg;
    while (1) {
        zmq_msg_t op, arg_msg;
        zmq_msg_init (&op);
        zmq_msg_init (&arg_msg);
        int ok = zmq_msg_recv (&op, w->sock, 0) >= 0;
        if (ok && !zmq_msg_more (&op)) {
            w->bad_requests++;
            zmq_msg_close (&op);
            zmq_msg_close (&arg_msg);
            /* REP expects a reply before the next request. */
            if (zmq_send (w->sock, "?", 1, 0) < 0) {
                w->end_errno = zmq_errno ();
                break;
            }
            continue;
        }
        ok = ok && zmq_msg_recv (&arg_msg, w->sock, 0) >= 0;
        if (!ok) {
            w->end_errno = zmq_errno ();
            zmq_msg_close (&op);
            zmq_msg_close (&arg_msg);
            break;
        }
        char num[32];
        size_t n = zmq_msg_size (&arg_msg) < sizeof num - 1 ? zmq_msg_size (&arg_msg)
                                                            : sizeof num - 1;
        memcpy (num, zmq_msg_data (&arg_msg), n);
        num[n] = '\0';
        long v = atol (num);
        long result;
        if (zmq_msg_size (&op) == 6 && memcmp (zmq_msg_data (&op), "square", 6) == 0)
            result = v * v;
        else if (zmq_msg_size (&op) == 6 && memcmp (zmq_msg_data (&op), "negate", 6) == 0)
            result = -v;
        else {
            w->bad_requests++;
            result = 0;
        }
        zmq_msg_close (&op);
        zmq_msg_close (&arg_msg);

        char reply[32], who[32];
        snprintf (reply, sizeof reply, "%ld", result);
        snprintf (who, sizeof who, "worker %d", w->id);
        if (zmq_send (w->sock, reply, strlen (reply), ZMQ_SNDMORE) < 0
            || zmq_send (w->sock, who, strlen (who), 0) < 0) {
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
    long good;
    int errors;
    pthread_t thread;
};

static void *client_main (void *arg)
{
    struct client *c = (struct client *) arg;
    void *s = zmq_socket (ctx, ZMQ_REQ);
    if (!s || zmq_connect (s, clients_ep) != 0) {
        c->errors++;
        if (s)
            zmq_close (s);
        return NULL;
    }
    for (int i = 0; i < REQUESTS; i++) {
        long v = c->id * 1000 + i;
        int square = i % 2 == 0;
        char num[32], want[32], got[32], who[32];
        snprintf (num, sizeof num, "%ld", v);
        snprintf (want, sizeof want, "%ld", square ? v * v : -v);
        if (zmq_send (s, square ? "square" : "negate", 6, ZMQ_SNDMORE) < 0
            || zmq_send (s, num, strlen (num), 0) < 0) {
            c->errors++;
            break;
        }
        int n = zmq_recv (s, got, sizeof got - 1, 0);
        int more1 = rcvmore (s);
        int m = zmq_recv (s, who, sizeof who - 1, 0);
        int more2 = rcvmore (s);
        if (n < 0 || m < 0) {
            c->errors++;
            break;
        }
        got[n < (int) sizeof got - 1 ? n : (int) sizeof got - 1] = '\0';
        who[m < (int) sizeof who - 1 ? m : (int) sizeof who - 1] = '\0';
        if (strcmp (got, want) == 0 && more1 == 1 && more2 == 0
            && strncmp (who, "worker ", 7) == 0)
            c->good++;
    }
    zmq_close (s);
    return NULL;
}

/* ---- supervisor: waits for the clients, then shuts the context down ---------------------- */

struct supervisor
{
    struct client *clients;
    int shutdown_rc;
    pthread_t thread;
};

static void *supervisor_main (void *arg)
{
    struct supervisor *sv = (struct supervisor *) arg;
    for (int i = 0; i < CLIENTS; i++)
        pthread_join (sv->clients[i].thread, NULL);
    sv->shutdown_rc = zmq_ctx_shutdown (ctx);
    return NULL;
}

int main (void)
{
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *clients_sock = zmq_socket (ctx, ZMQ_ROUTER);
    void *workers_sock = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (clients_sock && workers_sock);
    CHECK_RC (tu_bind (clients_sock, "mtserver-clients", clients_ep, sizeof clients_ep), 0);
    CHECK_RC (tu_bind (workers_sock, "mtserver-workers", workers_ep, sizeof workers_ep), 0);

    struct worker workers[WORKERS];
    memset (workers, 0, sizeof workers);
    for (int i = 0; i < WORKERS; i++) {
        workers[i].id = i;
        workers[i].sock = zmq_socket (ctx, ZMQ_REP);
        CHECK_RC (zmq_connect (workers[i].sock, workers_ep), 0);
        CHECK_RC (pthread_create (&workers[i].thread, NULL, worker_main, &workers[i]), 0);
    }
    struct client clients[CLIENTS];
    memset (clients, 0, sizeof clients);
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].id = i;
        CHECK_RC (pthread_create (&clients[i].thread, NULL, client_main, &clients[i]), 0);
    }
    struct supervisor sv;
    memset (&sv, 0, sizeof sv);
    sv.clients = clients;
    CHECK_RC (pthread_create (&sv.thread, NULL, supervisor_main, &sv), 0);

    /* The device runs here until the supervisor shuts the context down. */
    CHECK_ERRNO (zmq_device (ZMQ_QUEUE, clients_sock, workers_sock), ETERM);
    CHECK_RC (pthread_join (sv.thread, NULL), 0);
    CHECK_RC (sv.shutdown_rc, 0);

    /* After the shutdown the device's sockets refuse work but still close. (A non-blocking
     * recv with nothing queued is where libzmq is sure to notice the shutdown.) */
    char buf[8];
    CHECK_ERRNO (zmq_recv (workers_sock, buf, sizeof buf, ZMQ_DONTWAIT), ETERM);
    CHECK_ERRNO (zmq_recv (clients_sock, buf, sizeof buf, ZMQ_DONTWAIT), ETERM);
    CHECK_RC (zmq_close (clients_sock), 0);
    CHECK_RC (zmq_close (workers_sock), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);

    long good = 0, handled = 0;
    int errors = 0, bad = 0, not_eterm = 0;
    for (int i = 0; i < CLIENTS; i++) {
        good += clients[i].good;
        errors += clients[i].errors;
    }
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC (pthread_join (workers[i].thread, NULL), 0);
        handled += workers[i].handled;
        bad += workers[i].bad_requests;
        not_eterm += workers[i].end_errno != ETERM;
    }
    CHECK_RC (good, CLIENTS * REQUESTS);
    CHECK_RC (errors, 0);
    CHECK_RC (handled, CLIENTS * REQUESTS);
    CHECK_RC (bad, 0);
    CHECK_RC (not_eterm, 0);
    return TEST_SUMMARY ("mtserver");
}
