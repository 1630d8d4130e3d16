/* local_thr: the receiving, measuring side of a throughput test.
 *
 *   local_thr <bind-to> <message-size> <message-count>
 *
 * Binds a PULL socket and receives <message-count> messages of exactly
 * <message-size> bytes from remote_thr (PUSH). The clock starts when the
 * first message arrives, so connection set-up is not timed: the rate is
 * (count - 1) messages over the time from the first message to the last.
 * Prints libzmq's local_thr lines and a RESULT line (see perf.h). */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "local_thr";
    perf_usage (argc, 3, 3, "<bind-to> <message-size> <message-count>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long count = perf_arg (argv[3], "message-count", 2);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_PULL));
    perf_security (s, 1);
    ZCK (zmq_bind (s, ep));

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
    printf ("RESULT tool=local_thr transport=%s", perf_transport (ep, tr, sizeof tr));
    perf_result_thr (size, count - 1, t1 - t0);
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));
    perf_result_end ();
    return 0;
}
