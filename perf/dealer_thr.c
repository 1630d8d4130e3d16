/* dealer_thr: one client of a DEALER -> ROUTER request/reply test.
 *
 *   dealer_thr <connect-to> <message-size> <request-count> <window>
 *
 * Connects a DEALER socket to router_thr, makes one untimed warm-up request,
 * then <request-count> requests of <message-size> bytes with up to <window>
 * of them in flight (1: strict request/reply; more: pipelined), and waits for
 * every reply. Prints the client's request rate and, for combining the
 * clients of one run, the absolute CLOCK_MONOTONIC start and end (t0_ns,
 * t1_ns): the server's rate is all requests / (latest t1 - earliest t0). */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "dealer_thr";
    perf_usage (argc, 4, 4, "<connect-to> <message-size> <request-count> <window>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long count = perf_arg (argv[3], "request-count", 1);
    long window = perf_arg (argv[4], "window", 1);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_DEALER));
    ZCK (zmq_connect (s, ep));

    zmq_msg_t msg;
    ZCK (zmq_msg_init (&msg));
    perf_send_new (s, size, 0);
    perf_recv (s, &msg, size);

    uint64_t t0 = perf_now_ns ();
    long sent = 0, got = 0;
    for (; sent < count && sent < window; sent++)
        perf_send_new (s, size, 0);
    while (got < count) {
        if (perf_recv (s, &msg, size))
            perf_die ("a reply of more than one frame");
        got++;
        if (sent < count) {
            perf_send_new (s, size, 0);
            sent++;
        }
    }
    uint64_t t1 = perf_now_ns ();
    ZCK (zmq_msg_close (&msg));

    perf_print_thr_human (size, count, count, t1 - t0);
    char tr[16];
    printf ("RESULT tool=dealer_thr transport=%s window=%ld",
            perf_transport (ep, tr, sizeof tr), window);
    perf_result_thr (size, count, t1 - t0);
    printf (" t0_ns=%" PRIu64 " t1_ns=%" PRIu64, t0, t1);
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));
    perf_result_end ();
    return 0;
}
