/* bench/swap.c: throughput of a swap-backed pipe (ZMQ_SWAP), for scripts/bench-swap.sh.
 *
 *   swap TRANSPORT MB MSG_SIZE [SWAP_DIR]
 *
 * A PUSH with ZMQ_SNDHWM 10 and a ZMQ_SWAP budget of MB + 64 MiB connects to an endpoint
 * nobody listens on yet and sends MB MiB of MSG_SIZE-byte messages: all but the first ten go
 * to the swap files (fill rate). Then a PULL binds and reads everything (drain rate: from the
 * files, through the pipe and the transport, to the application). For comparison, the same
 * amount then streams through a plain PUSH/PULL pair (no swap, default HWM) on the same
 * transport, the receiver in a thread. Prints one line per phase in MB/s (MiB/s, 2^20 bytes), plus the sender's VmRSS.
 * Not a test: it checks only that every message arrives, in order. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static double now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long vmrss_kib (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kib = strtol (line + 6, NULL, 10);
    if (f)
        fclose (f);
    return kib;
}

static void die (const char *what)
{
    fprintf (stderr, "bench-swap: %s: %s\n", what, zmq_strerror (zmq_errno ()));
    exit (1);
}

static void send_all (void *push, uint64_t n, size_t size)
{
    zmq_msg_t m;
    for (uint64_t i = 0; i < n; i++) {
        if (zmq_msg_init_size (&m, size) != 0)
            die ("zmq_msg_init_size");
        memcpy (zmq_msg_data (&m), &i, sizeof i);
        if (zmq_msg_send (&m, push, 0) < 0)
            die ("zmq_msg_send");
    }
}

static void recv_all (void *pull, uint64_t n, size_t size)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    for (uint64_t i = 0; i < n; i++) {
        if (zmq_msg_recv (&m, pull, 0) != (int) size)
            die ("zmq_msg_recv");
        uint64_t seq;
        memcpy (&seq, zmq_msg_data (&m), sizeof seq);
        if (seq != i) {
            fprintf (stderr, "bench-swap: message %llu arrived as %llu\n", (unsigned long long) i,
                     (unsigned long long) seq);
            exit (1);
        }
    }
    zmq_msg_close (&m);
}

struct receiver
{
    void *pull;
    uint64_t n;
    size_t size;
};

static void *receiver_main (void *arg)
{
    struct receiver *r = (struct receiver *) arg;
    recv_all (r->pull, r->n, r->size);
    return NULL;
}

static void endpoint (const char *transport, const char *dir, const char *tag, char *out, size_t cap)
{
    if (strcmp (transport, "tcp") == 0) {
        /* A port found by binding and unbinding a probe socket. */
        void *ctx = zmq_ctx_new ();
        void *s = zmq_socket (ctx, ZMQ_PULL);
        size_t sz = cap;
        if (zmq_bind (s, "tcp://127.0.0.1:*") != 0)
            die ("zmq_bind probe");
        zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, out, &sz);
        zmq_close (s);
        zmq_ctx_term (ctx); /* the listener is closed when this returns */
    } else if (strcmp (transport, "ipc") == 0) {
        snprintf (out, cap, "ipc://%s/%s.ipc", dir, tag);
    } else {
        snprintf (out, cap, "inproc://bench-%s", tag);
    }
}

int main (int argc, char **argv)
{
    if (argc < 4) {
        fprintf (stderr, "usage: %s tcp|ipc|inproc MB MSG_SIZE [SWAP_DIR]\n", argv[0]);
        return 2;
    }
    const char *transport = argv[1];
    const uint64_t mib = strtoull (argv[2], NULL, 10);
    const size_t size = strtoul (argv[3], NULL, 10);
    if (size < 8 || mib == 0)
        return 2;
    const uint64_t n = (mib << 20) / size;
    const double total_mib = (double) n * (double) size / (1 << 20);
    char dir[512];
    const char *base = getenv ("TMPDIR");
    snprintf (dir, sizeof dir, "%s/zmq-bench-swap.XXXXXX", base && base[0] == '/' ? base : "/tmp");
    if (!mkdtemp (dir))
        die ("mkdtemp");
    char swap_dir[600];
    snprintf (swap_dir, sizeof swap_dir, "%s", argc > 4 ? argv[4] : dir);

    void *ctx = zmq_ctx_new ();
    char ep[700];
    endpoint (transport, dir, "swap", ep, sizeof ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int hwm = 10;
    int64_t budget = (int64_t) ((mib + 64) << 20);
    if (zmq_setsockopt (push, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0
        || zmq_setsockopt (push, ZMQ_SWAP, &budget, sizeof budget) != 0
        || zmq_setsockopt (push, ZMQ_SWAP_DIR, swap_dir, strlen (swap_dir)) != 0)
        die ("zmq_setsockopt");
    if (zmq_connect (push, ep) != 0)
        die ("zmq_connect");
    long rss0 = vmrss_kib ();
    double t0 = now_s ();
    send_all (push, n, size);
    double fill = now_s () - t0;
    long rss1 = vmrss_kib ();

    void *pull = zmq_socket (ctx, ZMQ_PULL);
    if (zmq_bind (pull, ep) != 0)
        die ("zmq_bind");
    t0 = now_s ();
    recv_all (pull, n, size);
    double drain = now_s () - t0;
    zmq_close (push);
    zmq_close (pull);

    /* The same without swap, the receiver in a thread running alongside (default HWM). */
    endpoint (transport, dir, "plain", ep, sizeof ep);
    pull = zmq_socket (ctx, ZMQ_PULL);
    push = zmq_socket (ctx, ZMQ_PUSH);
    if (zmq_bind (pull, ep) != 0 || zmq_connect (push, ep) != 0)
        die ("plain bind/connect");
    struct receiver r = {pull, n, size};
    pthread_t th;
    t0 = now_s ();
    pthread_create (&th, NULL, receiver_main, &r);
    send_all (push, n, size);
    pthread_join (th, NULL);
    double plain = now_s () - t0;
    zmq_close (push);
    zmq_close (pull);
    zmq_ctx_term (ctx);
    rmdir (dir);

    printf ("%-6s %6zu-byte messages, %.0f MiB: fill %7.0f MB/s (%.2f s)  drain %7.0f MB/s "
            "(%.2f s)  no swap, streaming %7.0f MB/s  VmRSS %ld -> %ld KiB\n",
            transport, size, total_mib, total_mib / fill, fill, total_mib / drain, drain,
            total_mib / plain, rss0, rss1);
    return 0;
}
