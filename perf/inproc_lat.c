/* inproc_lat: request/reply latency between two threads over inproc://.
 *
 *   inproc_lat <message-size> <roundtrip-count>
 *
 * A worker thread binds a REP socket and echoes; the main thread connects a
 * REQ socket in the same context and times the round trips as remote_lat
 * does (the first tenth, at most 100, warm up untimed). */
#include "perf.h"
#include <pthread.h>

#define ENDPOINT "inproc://inproc_lat"

struct worker {
    void *s;
    long size, n;
};

static void *echo (void *arg)
{
    struct worker *w = arg;
    zmq_msg_t msg;
    ZCK (zmq_msg_init (&msg));
    for (long i = 0; i < w->n; i++) {
        perf_recv (w->s, &msg, w->size);
        ZCK (zmq_msg_send (&msg, w->s, 0));
    }
    ZCK (zmq_msg_close (&msg));
    ZCK (zmq_close (w->s));
    return NULL;
}

int main (int argc, char **argv)
{
    perf_tool = "inproc_lat";
    perf_usage (argc, 2, 2, "<message-size> <roundtrip-count>");
    long size = perf_arg (argv[1], "message-size", 0);
    long total = perf_arg (argv[2], "roundtrip-count", 1);
    long warm = perf_lat_warmup (total), n = total - warm;

    void *ctx = ZCKP (zmq_ctx_new ());
    /* Bound here, then used by the worker thread only (pthread_create is a
     * full memory barrier), so the REQ socket can connect at once. */
    void *rep = ZCKP (zmq_socket (ctx, ZMQ_REP));
    ZCK (zmq_bind (rep, ENDPOINT));
    struct worker w = {rep, size, total};
    pthread_t th;
    if (pthread_create (&th, NULL, echo, &w) != 0)
        perf_die ("pthread_create failed");

    void *s = ZCKP (zmq_socket (ctx, ZMQ_REQ));
    ZCK (zmq_connect (s, ENDPOINT));
    uint64_t *rtt = malloc ((size_t) n * sizeof *rtt);
    if (!rtt)
        perf_die ("out of memory");
    zmq_msg_t msg;
    ZCK (zmq_msg_init_size (&msg, (size_t) size));
    memset (zmq_msg_data (&msg), 'l', (size_t) size);
    for (long i = 0; i < warm; i++) {
        ZCK (zmq_msg_send (&msg, s, 0));
        perf_recv (s, &msg, size);
    }
    uint64_t t0 = perf_now_ns (), prev = t0;
    for (long i = 0; i < n; i++) {
        ZCK (zmq_msg_send (&msg, s, 0));
        perf_recv (s, &msg, size);
        uint64_t t = perf_now_ns ();
        rtt[i] = t - prev;
        prev = t;
    }
    ZCK (zmq_msg_close (&msg));
    pthread_join (th, NULL);

    perf_print_lat (size, n, prev - t0, rtt);
    printf (" transport=inproc");
    free (rtt);
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));
    perf_result_end ();
    return 0;
}
