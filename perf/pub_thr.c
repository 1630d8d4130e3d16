/* pub_thr: the publishing side of a PUB -> N SUB fan-out test.
 *
 *   pub_thr <bind-to> <message-size> <message-count> <subscriber-count>
 *
 * Binds an XPUB socket (a PUB that shows the application its subscriptions)
 * with ZMQ_XPUB_VERBOSE, waits until <subscriber-count> subscriptions have
 * arrived, then publishes <message-count> messages of <message-size> bytes.
 * ZMQ_XPUB_NODROP makes a send wait while a subscriber's queue is full
 * instead of dropping, so the test is lossless and runs at the pace of the
 * slowest subscriber. sub_thr does the timing on each subscriber.
 * PERF_HOLD_S keeps the socket open after the last message (see perf.h). */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "pub_thr";
    perf_hold_init ();
    perf_usage (argc, 4, 4,
                "<bind-to> <message-size> <message-count> <subscriber-count>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long count = perf_arg (argv[3], "message-count", 1);
    long subs = perf_arg (argv[4], "subscriber-count", 1);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_XPUB));
    int one = 1;
    ZCK (zmq_setsockopt (s, ZMQ_XPUB_VERBOSE, &one, sizeof one));
    ZCK (zmq_setsockopt (s, ZMQ_XPUB_NODROP, &one, sizeof one));
    ZCK (zmq_bind (s, ep));

    zmq_msg_t msg;
    ZCK (zmq_msg_init (&msg));
    for (long got = 0; got < subs;) {
        perf_recv (s, &msg, -1);
        if (zmq_msg_size (&msg) >= 1 && *(unsigned char *) zmq_msg_data (&msg) == 1)
            got++;
    }
    ZCK (zmq_msg_close (&msg));

    uint64_t t0 = perf_now_ns ();
    for (long i = 0; i < count; i++)
        perf_send_new (s, size, 0);
    uint64_t t1 = perf_now_ns ();
    perf_hold ();
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));

    char tr[16];
    printf ("RESULT tool=pub_thr transport=%s subscribers=%ld",
            perf_transport (ep, tr, sizeof tr), subs);
    perf_result_thr (size, count, t1 - t0);
    perf_result_end ();
    return 0;
}
