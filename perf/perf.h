/* Helpers shared by the libzmq-rs perf tools in perf/.
 *
 * The tools use the public libzmq C API only, so the same binary measures any
 * libzmq.so.5 (choose it with LD_LIBRARY_PATH). Besides the human-readable
 * lines that libzmq's own perf tools print, every tool prints one line
 *
 *   RESULT tool=NAME key=value key=value ...
 *
 * for scripts (scripts/bench.sh reads it by key; keys may be added). Every
 * RESULT line carries:
 *   rss_kb   peak resident set size of the process (getrusage ru_maxrss)
 *   cpu_s    user + system CPU time of the whole process, all threads
 *            (libzmq's I/O threads included), taken after zmq_ctx_term
 *   zmq      the version the loaded library reports (zmq_version)
 *   lib      the file the zmq_* functions were loaded from (dladdr), so a
 *            script can check that it measured the library it meant to
 *   mech     the security mechanism asked for: null, or curve (PERF_CURVE)
 */
#ifndef LIBZMQ_RS_PERF_H
#define LIBZMQ_RS_PERF_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

/* Print "tool: message" to stderr and exit 1. */
static void perf_die (const char *fmt, ...) __attribute__ ((noreturn, format (printf, 1, 2)));
static const char *perf_tool = "perf";

static void perf_die (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "%s: ", perf_tool);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fputc ('\n', stderr);
    exit (1);
}

/* Check a zmq call that returns -1 on error. */
#define ZCK(call)                                                              \
    do {                                                                       \
        if ((call) == -1)                                                      \
            perf_die ("%s (line %d): %s", #call, __LINE__,                     \
                      zmq_strerror (zmq_errno ()));                            \
    } while (0)

/* Check a zmq call that returns NULL on error; yields the pointer. */
static inline void *zck_ptr (void *p, const char *what, int line)
{
    if (!p)
        perf_die ("%s (line %d): %s", what, line, zmq_strerror (zmq_errno ()));
    return p;
}
#define ZCKP(call) zck_ptr ((call), #call, __LINE__)

static inline uint64_t perf_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* A non-negative decimal argument, or exit 2 with the usage line. */
static inline long perf_arg (const char *s, const char *name, long min)
{
    char *end = NULL;
    errno = 0;
    long v = strtol (s, &end, 10);
    if (errno || end == s || *end || v < min) {
        fprintf (stderr, "%s: %s must be an integer >= %ld, not '%s'\n", perf_tool,
                 name, min, s);
        exit (2);
    }
    return v;
}

static inline void perf_usage (int argc, int want_min, int want_max, const char *usage)
{
    if (argc - 1 < want_min || argc - 1 > want_max) {
        fprintf (stderr, "usage: %s %s\n", perf_tool, usage);
        exit (2);
    }
}

/* Receive one frame into msg; it must be `size` bytes (size < 0: any size).
 * Returns the frame's MORE flag. */
static inline int perf_recv (void *s, zmq_msg_t *msg, long size)
{
    if (zmq_msg_recv (msg, s, 0) == -1)
        perf_die ("zmq_msg_recv: %s", zmq_strerror (zmq_errno ()));
    if (size >= 0 && zmq_msg_size (msg) != (size_t) size)
        perf_die ("received %zu bytes, expected %ld", zmq_msg_size (msg), size);
    return zmq_msg_more (msg);
}

/* Send one new message of `size` bytes (zero-copy hand-over of a
 * zmq_msg_init_size buffer, as libzmq's remote_thr does). */
static inline void perf_send_new (void *s, long size, int flags)
{
    zmq_msg_t msg;
    ZCK (zmq_msg_init_size (&msg, (size_t) size));
    if (size > 0)
        memset (zmq_msg_data (&msg), 0x5a, (size_t) (size < 64 ? size : 64));
    ZCK (zmq_msg_send (&msg, s, flags));
}

/* The transport of an endpoint ("tcp", "ipc", "inproc", ...), for RESULT. */
static inline const char *perf_transport (const char *ep, char *buf, size_t len)
{
    const char *sep = strstr (ep, "://");
    size_t n = sep ? (size_t) (sep - ep) : 0;
    if (n == 0 || n >= len)
        return "?";
    memcpy (buf, ep, n);
    buf[n] = 0;
    return buf;
}

/* Security for the tcp/ipc tools (local_thr/remote_thr, local_lat/remote_lat):
 *
 *   PERF_CURVE=1    the binding side is a CURVE server and the connecting side
 *                   a CURVE client, with the fixed key pairs below (the
 *                   examples of libzmq's zmq_curve(7)), so that two processes
 *                   started separately agree without exchanging keys
 *
 * Call perf_security (s, is_server) before zmq_bind / zmq_connect. The
 * RESULT line says mech=curve or mech=null. */
static inline int perf_curve (void)
{
    const char *v = getenv ("PERF_CURVE");
    return v && *v && strcmp (v, "0") != 0;
}

static inline void perf_security (void *s, int is_server)
{
    static const char server_public[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    static const char server_secret[] = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
    static const char client_public[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    static const char client_secret[] = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
    if (!perf_curve ())
        return;
    if (is_server) {
        int one = 1;
        ZCK (zmq_setsockopt (s, ZMQ_CURVE_SERVER, &one, sizeof one));
        ZCK (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, server_secret, 40));
    } else {
        ZCK (zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, server_public, 40));
        ZCK (zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, client_public, 40));
        ZCK (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, client_secret, 40));
    }
}

/* Finish a RESULT line: the process-wide keys, then a newline. Call after
 * zmq_ctx_term so that cpu_s covers everything the library did. */
static inline void perf_result_end (void)
{
    struct rusage ru;
    long rss = -1;
    double cpu = -1;
    if (getrusage (RUSAGE_SELF, &ru) == 0) {
        rss = ru.ru_maxrss;
        cpu = (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
              + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
    }
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    Dl_info info;
    const char *lib = "?";
    if (dladdr ((void *) zmq_version, &info) && info.dli_fname)
        lib = info.dli_fname;
    printf (" mech=%s rss_kb=%ld cpu_s=%.4f zmq=%d.%d.%d lib=%s\n",
            perf_curve () ? "curve" : "null", rss, cpu, major, minor, patch, lib);
    fflush (stdout);
}

/* Throughput keys of a RESULT line: `msgs` messages in `ns` nanoseconds. */
static inline void perf_result_thr (long size, long msgs, uint64_t ns)
{
    double secs = ns ? (double) ns / 1e9 : 1e-9;
    double rate = (double) msgs / secs;
    printf (" size=%ld msgs=%ld secs=%.6f msgs_per_s=%.0f MB_per_s=%.3f", size, msgs,
            secs, rate, rate * (double) size / 1e6);
}

/* The human lines of libzmq's local_thr: `count` messages, of which `msgs`
 * were timed over `ns` nanoseconds. */
static inline void perf_print_thr_human (long size, long count, long msgs, uint64_t ns)
{
    double secs = ns ? (double) ns / 1e9 : 1e-9;
    double rate = (double) msgs / secs;
    printf ("message size: %ld [B]\n", size);
    printf ("message count: %ld\n", count);
    printf ("mean throughput: %.0f [msg/s]\n", rate);
    printf ("mean throughput: %.3f [Mb/s]\n", rate * (double) size * 8 / 1e6);
}

static int perf_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

/* Latency: `n` timed round trips with their durations in rtt[] (sorted here).
 * Prints libzmq's human lines and the RESULT keys (without the line end):
 * one-way latency = round trip / 2, as mean, median and 99th percentile. */
static inline void perf_print_lat (long size, long n, uint64_t total_ns, uint64_t *rtt)
{
    qsort (rtt, (size_t) n, sizeof *rtt, perf_cmp_u64);
    double mean = (double) total_ns / (double) n / 2000.0;
    double p50 = (double) rtt[n / 2] / 2000.0;
    double p99 = (double) rtt[(long) ((double) (n - 1) * 0.99)] / 2000.0;
    printf ("message size: %ld [B]\n", size);
    printf ("roundtrip count: %ld\n", n);
    printf ("average latency: %.3f [us]\n", mean);
    printf ("median latency: %.3f [us], 99th percentile: %.3f [us]\n", p50, p99);
    printf ("RESULT tool=%s size=%ld roundtrips=%ld secs=%.6f oneway_us=%.3f "
            "p50_us=%.3f p99_us=%.3f",
            perf_tool, size, n, (double) total_ns / 1e9, mean, p50, p99);
}

/* The serving side of a two-process test (remote_thr, local_lat, pub_thr,
 * router_thr) can be told to keep its socket open after its last message:
 *
 *   PERF_HOLD_S=N   after the last message, wait until SIGUSR1 arrives or N
 *                   seconds have passed, and only then close the socket
 *
 * A script sends SIGUSR1 once the measuring side has everything. The
 * measurement then does not depend on what the library does with messages
 * still queued when a socket is closed (ZMQ_LINGER): losing the tail there
 * is a bug that a test should catch, but it would turn a throughput run into
 * a timeout. Without PERF_HOLD_S the tools close at once, as libzmq's do.
 *
 * perf_hold_init blocks SIGUSR1 in the calling thread, so call it first in
 * main: the library's threads inherit the mask, and a SIGUSR1 that arrives
 * early stays pending until perf_hold takes it with sigtimedwait. */
static inline void perf_hold_init (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGUSR1);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
}

static inline void perf_hold (void)
{
    const char *v = getenv ("PERF_HOLD_S");
    double secs = v ? atof (v) : 0;
    if (secs <= 0)
        return;
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGUSR1);
    uint64_t end = perf_now_ns () + (uint64_t) (secs * 1e9);
    for (;;) {
        uint64_t now = perf_now_ns ();
        if (now >= end)
            return;
        struct timespec ts = {(time_t) ((end - now) / 1000000000u),
                              (long) ((end - now) % 1000000000u)};
        if (sigtimedwait (&set, NULL, &ts) == SIGUSR1)
            return;
        if (errno != EINTR)
            return; /* EAGAIN: the time is up */
    }
}

/* Round trips of a latency run that are not timed: the first ones set up the
 * connection and warm the caches. The peer echoes every round trip, so the
 * tools still pair with libzmq's own local_lat/remote_lat. */
static inline long perf_lat_warmup (long roundtrips)
{
    long w = roundtrips / 10;
    return w > 100 ? 100 : w;
}

#endif
