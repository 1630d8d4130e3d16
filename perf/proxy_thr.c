/* proxy_thr: throughput through zmq_proxy.
 *
 *   proxy_thr <message-size> <message-count> [tcp|ipc|inproc]
 *
 * Three threads: a producer PUSH -> the proxy's frontend PULL; zmq_proxy
 * forwards to its backend PUSH -> a consumer PULL, which times the messages
 * from the first to the last as local_thr does. Over tcp (the default, on
 * 127.0.0.1 with ports chosen by the system) and ipc each role has a context
 * of its own, as separate processes would; over inproc they share one. The
 * proxy is stopped with zmq_ctx_shutdown once everything has arrived; the
 * producer closes its socket only then. */
#include "perf.h"
#include <pthread.h>
#include <unistd.h>

struct producer {
    void *ctx;
    const char *ep;
    long size, count;
    /* Set by the consumer once it has everything: only then does the
     * producer close its socket (see PERF_HOLD_S in perf.h for why). */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
};

static void *produce (void *arg)
{
    struct producer *p = arg;
    void *s = ZCKP (zmq_socket (p->ctx, ZMQ_PUSH));
    ZCK (zmq_connect (s, p->ep));
    for (long i = 0; i < p->count; i++)
        perf_send_new (s, p->size, 0);
    pthread_mutex_lock (&p->lock);
    while (!p->done)
        pthread_cond_wait (&p->cond, &p->lock);
    pthread_mutex_unlock (&p->lock);
    ZCK (zmq_close (s));
    return NULL;
}

struct proxy {
    void *front, *back;
    int rc, err;
};

static void *run_proxy (void *arg)
{
    struct proxy *p = arg;
    p->rc = zmq_proxy (p->front, p->back, NULL);
    p->err = zmq_errno ();
    ZCK (zmq_close (p->front));
    ZCK (zmq_close (p->back));
    return NULL;
}

/* Bind s to an endpoint of the transport; the endpoint actually bound is
 * written to buf. */
static void bind_any (void *s, const char *transport, const char *role, char *buf,
                      size_t len)
{
    if (strcmp (transport, "tcp") == 0)
        snprintf (buf, len, "tcp://127.0.0.1:*");
    else if (strcmp (transport, "ipc") == 0)
        snprintf (buf, len, "ipc:///tmp/proxy_thr-%ld-%s.ipc", (long) getpid (), role);
    else
        snprintf (buf, len, "inproc://proxy_thr-%s", role);
    ZCK (zmq_bind (s, buf));
    size_t n = len;
    ZCK (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &n));
}

int main (int argc, char **argv)
{
    perf_tool = "proxy_thr";
    perf_usage (argc, 2, 3, "<message-size> <message-count> [tcp|ipc|inproc]");
    long size = perf_arg (argv[1], "message-size", 0);
    long count = perf_arg (argv[2], "message-count", 2);
    const char *transport = argc > 3 ? argv[3] : "tcp";
    if (strcmp (transport, "tcp") && strcmp (transport, "ipc") && strcmp (transport, "inproc")) {
        fprintf (stderr, "proxy_thr: transport must be tcp, ipc or inproc\n");
        return 2;
    }
    int shared = strcmp (transport, "inproc") == 0;

    void *pctx = ZCKP (zmq_ctx_new ());
    void *prod_ctx = shared ? pctx : ZCKP (zmq_ctx_new ());
    void *cons_ctx = shared ? pctx : ZCKP (zmq_ctx_new ());

    struct proxy px = {ZCKP (zmq_socket (pctx, ZMQ_PULL)), ZCKP (zmq_socket (pctx, ZMQ_PUSH)), 0, 0};
    int zero = 0;
    ZCK (zmq_setsockopt (px.front, ZMQ_LINGER, &zero, sizeof zero));
    ZCK (zmq_setsockopt (px.back, ZMQ_LINGER, &zero, sizeof zero));
    char front_ep[256], back_ep[256];
    bind_any (px.front, transport, "front", front_ep, sizeof front_ep);
    bind_any (px.back, transport, "back", back_ep, sizeof back_ep);
    pthread_t proxy_th, prod_th;
    if (pthread_create (&proxy_th, NULL, run_proxy, &px) != 0)
        perf_die ("pthread_create failed");

    void *s = ZCKP (zmq_socket (cons_ctx, ZMQ_PULL));
    ZCK (zmq_connect (s, back_ep));
    struct producer pr = {prod_ctx, front_ep, size, count, PTHREAD_MUTEX_INITIALIZER,
                          PTHREAD_COND_INITIALIZER, 0};
    if (pthread_create (&prod_th, NULL, produce, &pr) != 0)
        perf_die ("pthread_create failed");

    zmq_msg_t msg;
    ZCK (zmq_msg_init (&msg));
    perf_recv (s, &msg, size);
    uint64_t t0 = perf_now_ns ();
    for (long i = 1; i < count; i++)
        perf_recv (s, &msg, size);
    uint64_t t1 = perf_now_ns ();
    ZCK (zmq_msg_close (&msg));
    pthread_mutex_lock (&pr.lock);
    pr.done = 1;
    pthread_cond_signal (&pr.cond);
    pthread_mutex_unlock (&pr.lock);
    pthread_join (prod_th, NULL);

    /* Everything has arrived: stop the proxy (zmq_proxy returns -1, ETERM). */
    ZCK (zmq_ctx_shutdown (pctx));
    pthread_join (proxy_th, NULL);
    if (px.rc != -1 || px.err != ETERM)
        perf_die ("zmq_proxy returned %d (%s), expected -1 (ETERM)", px.rc,
                  zmq_strerror (px.err));

    perf_print_thr_human (size, count, count - 1, t1 - t0);
    printf ("RESULT tool=proxy_thr transport=%s", transport);
    perf_result_thr (size, count - 1, t1 - t0);
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (pctx));
    if (!shared) {
        ZCK (zmq_ctx_term (prod_ctx));
        ZCK (zmq_ctx_term (cons_ctx));
    }
    /* The socket file of an ipc endpoint whose socket is closed after
     * zmq_ctx_shutdown is not always removed (libzmq 4.3.4 leaves it): do not
     * leave them in /tmp. */
    if (strcmp (transport, "ipc") == 0) {
        unlink (front_ep + strlen ("ipc://"));
        unlink (back_ep + strlen ("ipc://"));
    }
    perf_result_end ();
    return 0;
}
