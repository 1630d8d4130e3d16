/* local_lat: the echoing side of a latency test.
 *
 *   local_lat <bind-to> <message-size> <roundtrip-count>
 *
 * Binds a REP socket and sends each of <roundtrip-count> requests of
 * <message-size> bytes back unchanged; remote_lat does the timing.
 * PERF_HOLD_S keeps the socket open after the last reply (see perf.h). */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "local_lat";
    perf_hold_init ();
    perf_usage (argc, 3, 3, "<bind-to> <message-size> <roundtrip-count>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long n = perf_arg (argv[3], "roundtrip-count", 1);

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_REP));
    perf_security (s, 1);
    ZCK (zmq_bind (s, ep));

    zmq_msg_t msg;
    ZCK (zmq_msg_init (&msg));
    for (long i = 0; i < n; i++) {
        perf_recv (s, &msg, size);
        ZCK (zmq_msg_send (&msg, s, 0));
    }
    ZCK (zmq_msg_close (&msg));
    perf_hold ();
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));

    char tr[16];
    printf ("RESULT tool=local_lat transport=%s size=%ld roundtrips=%ld",
            perf_transport (ep, tr, sizeof tr), size, n);
    perf_result_end ();
    return 0;
}
