/* inproc_thr: throughput between two threads of one process over inproc://.
 *
 *   inproc_thr <message-size> <message-count>
 *
 * A worker thread connects a PUSH socket and sends <message-count> messages
 * of <message-size> bytes; the main thread binds a PULL socket in the same
 * context and times them from the first message to the last, as local_thr.
 * The RESULT line's cpu_s and rss_kb cover both threads. */
#include "perf.h"
#include <pthread.h>

#define ENDPOINT "inproc://inproc_thr"

struct worker {
    void *ctx;
    long size, count;
};

static void *sender (void *arg)
{
    struct worker *w = arg;
    void *s = ZCKP (zmq_socket (w->ctx, ZMQ_PUSH));
    ZCK (zmq_connect (s, ENDPOINT));
    for (long i = 0; i < w->count; i++)
        perf_send_new (s, w->size, 0);
    ZCK (zmq_close (s));
    return NULL;
}

int main (int argc, char **argv)
{
    perf_tool = "inproc_thr";
    perf_usage (argc, 2, 2, "<message-size> <message-count>");
    long size = perf_arg (argv[1], "message-size", 0);
    long count = perf_arg (argv[2], "message-count", 2);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_PULL));
    ZCK (zmq_bind (s, ENDPOINT));

    struct worker w = {ctx, size, count};
    pthread_t th;
    if (pthread_create (&th, NULL, sender, &w) != 0)
        perf_die ("pthread_create failed");

    zmq_msg_t msg;
    ZCK (zmq_msg_init (&msg));
    perf_recv (s, &msg, size);
    uint64_t t0 = perf_now_ns ();
    for (long i = 1; i < count; i++)
        perf_recv (s, &msg, size);
    uint64_t t1 = perf_now_ns ();
    ZCK (zmq_msg_close (&msg));
    pthread_join (th, NULL);

    perf_print_thr_human (size, count, count - 1, t1 - t0);
    printf ("RESULT tool=inproc_thr transport=inproc");
    perf_result_thr (size, count - 1, t1 - t0);
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));
    perf_result_end ();
    return 0;
}
