/* router_thr: the server of a DEALER -> ROUTER request/reply test.
 *
 *   router_thr <bind-to> <message-size> <request-count> <client-count>
 *
 * Binds a ROUTER socket and echoes requests (routing id + one body frame of
 * <message-size> bytes) to the client that sent them, until each of
 * <client-count> dealer_thr clients has made its warm-up request and its
 * <request-count> timed ones. ZMQ_ROUTER_MANDATORY is set, so a reply the
 * ROUTER could not route fails loudly instead of vanishing. PERF_HOLD_S keeps
 * the socket open after the last reply (see perf.h). */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "router_thr";
    perf_hold_init ();
    perf_usage (argc, 4, 4, "<bind-to> <message-size> <request-count> <client-count>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long count = perf_arg (argv[3], "request-count", 1);
    long clients = perf_arg (argv[4], "client-count", 1);
    long total = clients * (count + 1);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_ROUTER));
    int one = 1;
    ZCK (zmq_setsockopt (s, ZMQ_ROUTER_MANDATORY, &one, sizeof one));
    ZCK (zmq_bind (s, ep));

    zmq_msg_t id, body;
    ZCK (zmq_msg_init (&id));
    ZCK (zmq_msg_init (&body));
    uint64_t t0 = 0;
    for (long i = 0; i < total; i++) {
        if (!perf_recv (s, &id, -1))
            perf_die ("a request without a routing id frame");
        if (i == 0)
            t0 = perf_now_ns ();
        if (perf_recv (s, &body, size))
            perf_die ("a request of more than one body frame");
        ZCK (zmq_msg_send (&id, s, ZMQ_SNDMORE));
        ZCK (zmq_msg_send (&body, s, 0));
    }
    uint64_t t1 = perf_now_ns ();
    ZCK (zmq_msg_close (&id));
    ZCK (zmq_msg_close (&body));
    perf_hold ();
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));

    char tr[16];
    printf ("RESULT tool=router_thr transport=%s clients=%ld",
            perf_transport (ep, tr, sizeof tr), clients);
    perf_result_thr (size, total - 1, t1 - t0);
    perf_result_end ();
    return 0;
}
