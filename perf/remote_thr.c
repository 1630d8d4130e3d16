/* remote_thr: the sending side of a throughput test.
 *
 *   remote_thr <connect-to> <message-size> <message-count>
 *
 * Connects a PUSH socket and sends <message-count> messages of
 * <message-size> bytes (zmq_msg_init_size + zmq_msg_send, as libzmq's
 * remote_thr), then closes the socket and terminates the context, which
 * waits (default ZMQ_LINGER -1) until everything has been handed to the
 * peer (PERF_HOLD_S: see perf.h). Its RESULT line gives the send-side view:
 * how fast the messages were queued, how long closing took (term_s), and
 * this process's CPU time and peak memory. */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "remote_thr";
    perf_hold_init ();
    perf_usage (argc, 3, 3, "<connect-to> <message-size> <message-count>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long count = perf_arg (argv[3], "message-count", 1);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_PUSH));
    perf_security (s, 0);
    ZCK (zmq_connect (s, ep));

    uint64_t t0 = perf_now_ns ();
    for (long i = 0; i < count; i++)
        perf_send_new (s, size, 0);
    uint64_t t1 = perf_now_ns ();
    perf_hold ();
    uint64_t t2 = perf_now_ns ();
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));
    uint64_t t3 = perf_now_ns ();

    char tr[16];
    printf ("RESULT tool=remote_thr transport=%s", perf_transport (ep, tr, sizeof tr));
    perf_result_thr (size, count, t1 - t0);
    printf (" term_s=%.6f", (double) (t3 - t2) / 1e9);
    perf_result_end ();
    return 0;
}
