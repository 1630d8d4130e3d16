/* sub_thr: one subscriber of a PUB -> N SUB fan-out test.
 *
 *   sub_thr <connect-to> <message-size> <message-count>
 *
 * Connects a SUB socket subscribed to everything to pub_thr and receives
 * <message-count> messages, timed from the first to the last. The RESULT
 * line also gives the absolute CLOCK_MONOTONIC times of the first and last
 * message (t0_ns, t1_ns), so that a script can combine the subscribers of one
 * run: the fan-out rate is (count - 1) / (latest t1 - earliest t0). */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "sub_thr";
    perf_usage (argc, 3, 3, "<connect-to> <message-size> <message-count>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long count = perf_arg (argv[3], "message-count", 2);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_SUB));
    ZCK (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "", 0));
    ZCK (zmq_connect (s, ep));

    zmq_msg_t msg;
    ZCK (zmq_msg_init (&msg));
    perf_recv (s, &msg, size);
    uint64_t t0 = perf_now_ns ();
    for (long i = 1; i < count; i++)
        perf_recv (s, &msg, size);
    uint64_t t1 = perf_now_ns ();
    ZCK (zmq_msg_close (&msg));

    perf_print_thr_human (size, count, count - 1, t1 - t0);
    char tr[16];
    printf ("RESULT tool=sub_thr transport=%s", perf_transport (ep, tr, sizeof tr));
    perf_result_thr (size, count - 1, t1 - t0);
    printf (" t0_ns=%" PRIu64 " t1_ns=%" PRIu64, t0, t1);
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));
    perf_result_end ();
    return 0;
}
