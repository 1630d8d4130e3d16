/* remote_lat: the measuring side of a latency test.
 *
 *   remote_lat <connect-to> <message-size> <roundtrip-count>
 *
 * Connects a REQ socket to local_lat and makes <roundtrip-count> request/reply
 * round trips of <message-size> bytes. The first tenth of them (at most 100)
 * warm up and are not timed; the rest are timed one by one. One-way latency
 * is half a round trip: the mean (libzmq's "average latency"), the median and
 * the 99th percentile are printed. */
#include "perf.h"

int main (int argc, char **argv)
{
    perf_tool = "remote_lat";
    perf_usage (argc, 3, 3, "<connect-to> <message-size> <roundtrip-count>");
    const char *ep = argv[1];
    long size = perf_arg (argv[2], "message-size", 0);
    long total = perf_arg (argv[3], "roundtrip-count", 1);
    long warm = perf_lat_warmup (total), n = total - warm;

    void *ctx = ZCKP (zmq_ctx_new ());
    void *s = ZCKP (zmq_socket (ctx, ZMQ_REQ));
    perf_security (s, 0);
    ZCK (zmq_connect (s, ep));

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

    char tr[16];
    perf_print_lat (size, n, prev - t0, rtt);
    printf (" transport=%s", perf_transport (ep, tr, sizeof tr));
    free (rtt);
    ZCK (zmq_close (s));
    ZCK (zmq_ctx_term (ctx));
    perf_result_end ();
    return 0;
}
