/* ours/swap.c: ZMQ_SWAP (3) and ZMQ_SWAP_DIR (1001), the 2.x swap-to-disk queues libzmq-rs
 * brings back, over tcp, ipc and inproc (the scenarios 4 and 6, and the store's
 * contract):
 *   - ZMQ_SWAP_DIR: a missing directory is ENOENT, a file ENOTDIR; the default is $TMPDIR or
 *     /tmp, an empty string restores it; ZMQ_SWAP takes a 4- or 8-byte int, never negative.
 *   - 0-byte and 16 MiB frames and multipart messages survive a swap round trip, in order,
 *     with their MORE flags.
 *   - Scenario 4: PUSH (ZMQ_SNDHWM = 10, swap) to a slow PULL: no send waits until the swap
 *     budget is used up, then sends block (ZMQ_SNDTIMEO runs out); every message arrives
 *     exactly once, in order.
 *   - Scenario 6: a socket closed with a non-empty swap leaves no file behind; a context
 *     terminated from another thread while a socket is swapping returns cleanly.
 *   - A swap directory that disappears after setsockopt: the pipe falls back to the HWM
 *     policy (the message that cannot be stored is refused with EAGAIN, not accepted and
 *     lost), and the socket goes on working.
 * Every test uses a private ZMQ_SWAP_DIR and lists it. */
#include "testutil.h"
#include "ours/swaputil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#define BIG (16 << 20)

static void *ctx;

static const char *const transports[] = {"tcp", "ipc", "inproc"};

static int set_swap (void *s, int64_t budget, const char *dir)
{
    if (zmq_setsockopt (s, ZMQ_SWAP, &budget, sizeof budget) != 0)
        return -1;
    return zmq_setsockopt (s, ZMQ_SWAP_DIR, dir, strlen (dir));
}

static int set_int (void *s, int option, int v)
{
    return zmq_setsockopt (s, option, &v, sizeof v);
}

/* An endpoint for `transport` that nothing listens on yet (tcp: a port just released). */
static char ipc_dir[256]; /* ipc files live apart from the swap directories */

static void fresh_endpoint (const char *transport, const char *tag, char *out, size_t cap)
{
    static int seq;
    if (strcmp (transport, "tcp") == 0) {
        /* A plain socket closes at once (a ZMQ listener closes on its I/O thread). */
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset (&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        int port = 0;
        if (fd >= 0 && bind (fd, (struct sockaddr *) &a, sizeof a) == 0
            && getsockname (fd, (struct sockaddr *) &a, &len) == 0)
            port = ntohs (a.sin_port);
        if (fd >= 0)
            close (fd);
        snprintf (out, cap, "tcp://127.0.0.1:%d", port);
    } else if (strcmp (transport, "ipc") == 0) {
        snprintf (out, cap, "ipc://%s/%s-%d.ipc", ipc_dir, tag, seq++);
    } else {
        snprintf (out, cap, "inproc://swap-%s-%d", tag, seq++);
    }
}

static void test_options (void)
{
    char dir[256], file[300], missing[300];
    CHECK_RC (su_mkdtemp (dir, sizeof dir, "swapopt"), 0);
    snprintf (file, sizeof file, "%s/a-file", dir);
    snprintf (missing, sizeof missing, "%s/missing", dir);
    FILE *f = fopen (file, "w");
    CHECK (f != NULL);
    if (f)
        fclose (f);

    void *s = zmq_socket (ctx, ZMQ_PUSH);
    char got[512];
    size_t sz = sizeof got;
    const char *tmp = getenv ("TMPDIR");
    const char *def = tmp && tmp[0] == '/' ? tmp : "/tmp";
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP_DIR, got, &sz), 0);
    CHECK_STR (got, def);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SWAP_DIR, missing, strlen (missing)), ENOENT);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SWAP_DIR, file, strlen (file)), ENOTDIR);
    CHECK_RC (zmq_setsockopt (s, ZMQ_SWAP_DIR, dir, strlen (dir)), 0);
    sz = sizeof got;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP_DIR, got, &sz), 0);
    CHECK_STR (got, dir);
    /* A failed setsockopt leaves the directory as it was. */
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SWAP_DIR, missing, strlen (missing)), ENOENT);
    sz = sizeof got;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP_DIR, got, &sz), 0);
    CHECK_STR (got, dir);
    CHECK_RC (zmq_setsockopt (s, ZMQ_SWAP_DIR, "", 0), 0);
    sz = sizeof got;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP_DIR, got, &sz), 0);
    CHECK_STR (got, def);
    /* Checking the directory leaves nothing in it. */
    CHECK_RC (su_count_files (dir, NULL), 1);

    int64_t v64 = -1;
    sz = sizeof v64;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP, &v64, &sz), 0);
    CHECK_RC (v64, 0);
    int v = 25000000;
    CHECK_RC (zmq_setsockopt (s, ZMQ_SWAP, &v, sizeof v), 0);
    sz = sizeof v64;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP, &v64, &sz), 0);
    CHECK_RC (v64, 25000000);
    v = 0;
    sz = sizeof v;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP, &v, &sz), 0); /* an int too, when it fits */
    CHECK_RC (v, 25000000);
    CHECK_RC (sz, sizeof v);
    v64 = (int64_t) 5 << 32;
    CHECK_RC (zmq_setsockopt (s, ZMQ_SWAP, &v64, sizeof v64), 0);
    v64 = 0;
    sz = sizeof v64;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SWAP, &v64, &sz), 0);
    CHECK (v64 == (int64_t) 5 << 32);
    sz = sizeof v;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_SWAP, &v, &sz), EINVAL);
    v64 = -1;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SWAP, &v64, sizeof v64), EINVAL);
    v = -1;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SWAP, &v, sizeof v), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SWAP, &v, 2), EINVAL);
    CHECK_RC (zmq_close (s), 0);
    su_rmdir (dir);
}

/* ------------------------------------------------------------------- round trip */

static int send_frame (void *s, size_t size, unsigned char fill, int more)
{
    zmq_msg_t m;
    if (zmq_msg_init_size (&m, size) != 0)
        return -1;
    if (size)
        memset (zmq_msg_data (&m), fill, size);
    if (size > 1)
        ((unsigned char *) zmq_msg_data (&m))[size - 1] = (unsigned char) (fill ^ 0xff);
    int rc = zmq_msg_send (&m, s, more ? ZMQ_SNDMORE : 0);
    if (rc < 0)
        zmq_msg_close (&m);
    return rc < 0 ? -1 : 0;
}

/* 1 if the next frame has this size, fill and MORE flag. */
static int recv_frame (void *s, size_t size, unsigned char fill, int more)
{
    zmq_msg_t m;
    zmq_msg_init (&m);
    int rc = zmq_msg_recv (&m, s, 0);
    int ok = rc == (int) size && zmq_msg_more (&m) == more;
    const unsigned char *d = (const unsigned char *) zmq_msg_data (&m);
    if (ok && size > 1)
        ok = d[0] == fill && d[size / 2] == fill && d[size - 2] == fill
             && d[size - 1] == (unsigned char) (fill ^ 0xff);
    else if (ok && size == 1)
        ok = d[0] == fill;
    if (!ok)
        printf ("     got a frame of %d bytes (more %d), want %zu bytes fill %u (more %d)\n", rc,
                zmq_msg_more (&m), size, fill, more);
    zmq_msg_close (&m);
    return ok;
}

struct frame
{
    size_t size;
    unsigned char fill;
    int more;
};

static void test_round_trip (const char *transport)
{
    printf ("-- round trip through swap over %s\n", transport);
    char dir[256], ep[512];
    CHECK_RC (su_mkdtemp (dir, sizeof dir, "swaprt"), 0);
    fresh_endpoint (transport, "rt", ep, sizeof ep);

    /* The sender connects first: with nobody there yet, all but the first message (the HWM)
     * go to the swap. */
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 1), 0);
    CHECK_RC (set_swap (push, 128 << 20, dir), 0);
    CHECK_RC (zmq_connect (push, ep), 0);

    struct frame frames[400];
    int n = 0;
#define ADD(sz, fl, mo) (frames[n].size = (sz), frames[n].fill = (fl), frames[n].more = (mo), n++)
    ADD (5, 'a', 0);
    ADD (0, 0, 0);
    ADD (BIG, 'b', 0);
    ADD (5, 'c', 1);
    ADD (0, 0, 1);
    ADD (BIG, 'd', 1);
    ADD (7, 'e', 0);
    for (int i = 0; i < 100; i++) {
        if (i % 3 == 0) {
            ADD (1, (unsigned char) i, 1);
            ADD (0, 0, 1);
            ADD (300, (unsigned char) i, 0);
        } else {
            ADD ((size_t) (i * 10), (unsigned char) i, 0);
        }
    }
    ADD (0, 0, 1);
    ADD (0, 0, 0);
    ADD (3, 'z', 0);
#undef ADD
    int sent = 0;
    for (int i = 0; i < n; i++)
        sent += send_frame (push, frames[i].size, frames[i].fill, frames[i].more) == 0;
    CHECK_RC (sent, n);
    long long bytes = 0;
    CHECK (su_count_files (dir, &bytes) >= 1);

    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 20000), 0);
    CHECK_RC (zmq_bind (pull, ep), 0);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int r = recv_frame (pull, frames[i].size, frames[i].fill, frames[i].more);
        ok += r;
        if (!r) {
            printf ("     at frame %d of %d\n", i, n);
            break;
        }
    }
    CHECK_RC (ok, n);
    char buf[8];
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 100), 0);
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, 0), EAGAIN);
    /* Drained: the segments are gone. */
    CHECK_RC (su_wait_empty (dir, 2000), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    su_rmdir (dir);
}

/* ------------------------------------------------------------------- scenario 4 */

#define MSG 1024

struct sender
{
    void *push;
    uint64_t from, to; /* sends [from, to) */
    int errors;
    pthread_t thread;
};

static void fill_msg (char *m, uint64_t seq)
{
    memset (m, (unsigned char) seq, MSG);
    memcpy (m, &seq, sizeof seq);
}

static void *sender_main (void *arg)
{
    struct sender *s = (struct sender *) arg;
    char m[MSG];
    for (uint64_t i = s->from; i < s->to; i++) {
        fill_msg (m, i);
        if (zmq_send (s->push, m, MSG, 0) != MSG) {
            s->errors++;
            break;
        }
    }
    return NULL;
}

static void test_slow_pull (const char *transport)
{
    printf ("-- PUSH with SNDHWM 10 and swap to a slow PULL over %s\n", transport);
    const int64_t budget = 2 << 20;
    char dir[256], ep[512];
    CHECK_RC (su_mkdtemp (dir, sizeof dir, "swap4"), 0);
    fresh_endpoint (transport, "slow", ep, sizeof ep);

    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (pull, ZMQ_RCVHWM, 10), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 20000), 0);
    CHECK_RC (zmq_bind (pull, ep), 0);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 10), 0);
    CHECK_RC (set_swap (push, budget, dir), 0);
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 300), 0);
    CHECK_RC (zmq_connect (push, ep), 0);

    /* Connected: one message through. */
    char m[MSG], r[MSG + 1];
    uint64_t next_send = 0, next_recv = 0;
    fill_msg (m, next_send++);
    CHECK_RC (zmq_send (push, m, MSG, 0), MSG);
    CHECK_RC (zmq_recv (pull, r, sizeof r, 0), MSG);
    next_recv++;

    /* The PULL reads nothing for now. Every send returns at once until the swap is full;
     * the first one that does not waits for ZMQ_SNDTIMEO. */
    long slowest = 0, blocked_ms = -1;
    int64_t t0 = su_now_ms ();
    while (next_send < 1000000) {
        fill_msg (m, next_send);
        int64_t a = su_now_ms ();
        int rc = zmq_send (push, m, MSG, 0);
        long took = (long) (su_now_ms () - a);
        if (rc != MSG) {
            CHECK_RC (zmq_errno (), EAGAIN);
            blocked_ms = took;
            break;
        }
        if (took > slowest)
            slowest = took;
        next_send++;
    }
    long long bytes = 0;
    long files = su_count_files (dir, &bytes);
    printf ("   (%llu messages accepted in %lld ms before a send blocked; swap: %ld files)\n",
            (unsigned long long) next_send, (long long) (su_now_ms () - t0), files);
    /* The budget, the HWM and what is in flight were all used. */
    CHECK (next_send >= (uint64_t) (budget / (MSG + 9)) + 10);
    CHECK (files >= 1);
    CHECK (slowest < 250);
    CHECK (blocked_ms >= 250);
    /* Non-blocking: EAGAIN at once. */
    CHECK_ERRNO (zmq_send (push, m, MSG, ZMQ_DONTWAIT), EAGAIN);

    /* Now a sender thread goes on with 3000 more (blocking when it must), while this thread
     * reads slowly at first, then at full speed. */
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 30000), 0);
    struct sender s = {push, next_send, next_send + 3000, 0, 0};
    CHECK_RC (pthread_create (&s.thread, NULL, sender_main, &s), 0);
    uint64_t bad = 0;
    while (next_recv < s.to) {
        int rc = zmq_recv (pull, r, sizeof r, 0);
        uint64_t seq = UINT64_MAX;
        if (rc == MSG)
            memcpy (&seq, r, sizeof seq);
        if (rc != MSG || seq != next_recv || (unsigned char) r[MSG - 1] != (unsigned char) seq) {
            if (!bad)
                printf ("     message %llu: got %d bytes, seq %llu\n",
                        (unsigned long long) next_recv, rc, (unsigned long long) seq);
            bad++;
            if (rc < 0)
                break;
        }
        next_recv++;
        if (next_recv < 200)
            su_sleep_ms (1);
    }
    pthread_join (s.thread, NULL);
    CHECK_RC (s.errors, 0);
    CHECK_RC (bad, 0);
    CHECK (next_recv == s.to);
    /* Exactly once: nothing more. */
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 200), 0);
    CHECK_ERRNO (zmq_recv (pull, r, sizeof r, 0), EAGAIN);
    CHECK_RC (su_wait_empty (dir, 2000), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    su_rmdir (dir);
}

/* ------------------------------------------------------------------- scenario 6 */

/* Fills a swap: sends 1 KiB messages without waiting until EAGAIN or `max`. */
static int fill_swap (void *push, int max)
{
    char m[MSG];
    int i;
    for (i = 0; i < max; i++) {
        fill_msg (m, (uint64_t) i);
        if (zmq_send (push, m, MSG, ZMQ_DONTWAIT) != MSG)
            break;
    }
    return i;
}

static void test_close_cleans_up (const char *transport)
{
    printf ("-- closing sockets with a non-empty swap over %s\n", transport);
    char dir[256], ep[512];
    CHECK_RC (su_mkdtemp (dir, sizeof dir, "swapclose"), 0);

    /* (a) Nobody to send to (inproc: a peer that never binds). */
    fresh_endpoint (transport, "nobody", ep, sizeof ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 1), 0);
    CHECK_RC (set_swap (push, 4 << 20, dir), 0);
    CHECK_RC (set_int (push, ZMQ_LINGER, 0), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (fill_swap (push, 1000), 1000);
    CHECK (su_count_files (dir, NULL) >= 1);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (su_wait_empty (dir, 2000), 0);

    /* (b) A connected peer that reads nothing; the sender closes, then the receiver. */
    fresh_endpoint (transport, "deaf", ep, sizeof ep);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (pull, ZMQ_RCVHWM, 1), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVBUF, 16384), 0); /* little in flight */
    CHECK_RC (zmq_bind (pull, ep), 0);
    push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 1), 0);
    CHECK_RC (set_int (push, ZMQ_SNDBUF, 16384), 0);
    CHECK_RC (set_swap (push, 4 << 20, dir), 0);
    CHECK_RC (set_int (push, ZMQ_LINGER, 0), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    char m[MSG];
    fill_msg (m, 0);
    CHECK_RC (zmq_send (push, m, MSG, 0), MSG);
    CHECK_RC (zmq_recv (pull, m, sizeof m, 0), MSG);
    CHECK (fill_swap (push, 100000) > 1000);
    CHECK (su_count_files (dir, NULL) >= 1);
    CHECK_RC (zmq_close (push), 0);
    if (strcmp (transport, "inproc") == 0) {
        /* inproc: what was sent stays readable by the peer until it closes. */
        CHECK_RC (zmq_recv (pull, m, sizeof m, ZMQ_DONTWAIT), MSG);
    } else {
        CHECK_RC (su_wait_empty (dir, 2000), 0);
    }
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (su_wait_empty (dir, 2000), 0);

    /* (c) Sender and receiver both open at zmq_ctx_term (the receiver's linger does not
     * matter; the sender's is 100 ms). */
    void *ctx2 = zmq_ctx_new ();
    fresh_endpoint (transport, "term", ep, sizeof ep);
    pull = zmq_socket (ctx2, ZMQ_PULL);
    CHECK_RC (set_int (pull, ZMQ_RCVHWM, 1), 0);
    CHECK_RC (set_int (pull, ZMQ_RCVBUF, 16384), 0); /* little in flight */
    CHECK_RC (zmq_bind (pull, ep), 0);
    push = zmq_socket (ctx2, ZMQ_PUSH);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 1), 0);
    CHECK_RC (set_int (push, ZMQ_SNDBUF, 16384), 0);
    CHECK_RC (set_swap (push, 4 << 20, dir), 0);
    CHECK_RC (set_int (push, ZMQ_LINGER, 100), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK (fill_swap (push, 100000) > 1000);
    CHECK (su_count_files (dir, NULL) >= 1);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx2), 0);
    CHECK_RC (su_count_files (dir, NULL), 0);
    su_rmdir (dir);
}

struct worker
{
    void *ctx;
    const char *ep;
    const char *dir;
    int is_sender;
    long count;
    int last_errno;
    pthread_t thread;
};

static void *worker_main (void *arg)
{
    struct worker *w = (struct worker *) arg;
    void *s = zmq_socket (w->ctx, w->is_sender ? ZMQ_PUSH : ZMQ_PULL);
    int zero = 0, one = 1;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    char m[MSG];
    if (w->is_sender) {
        zmq_setsockopt (s, ZMQ_SNDHWM, &one, sizeof one);
        set_int (s, ZMQ_SNDBUF, 16384); /* little in flight: the swap fills soon */
        set_swap (s, 8 << 20, w->dir);
        zmq_connect (s, w->ep);
        while (1) {
            fill_msg (m, (uint64_t) w->count);
            if (zmq_send (s, m, MSG, 0) != MSG)
                break;
            w->count++;
        }
    } else {
        zmq_setsockopt (s, ZMQ_RCVHWM, &one, sizeof one);
        set_int (s, ZMQ_RCVBUF, 16384);
        zmq_bind (s, w->ep);
        while (zmq_recv (s, m, sizeof m, 0) >= 0) {
            w->count++;
            su_sleep_ms (1);
        }
    }
    w->last_errno = zmq_errno ();
    zmq_close (s);
    return NULL;
}

static void test_term_while_swapping (const char *transport)
{
    printf ("-- zmq_ctx_term from another thread while swapping over %s\n", transport);
    char dir[256], ep[512];
    CHECK_RC (su_mkdtemp (dir, sizeof dir, "swapterm"), 0);
    fresh_endpoint (transport, "busy", ep, sizeof ep);
    void *ctx2 = zmq_ctx_new ();
    struct worker rx = {ctx2, ep, dir, 0, 0, 0, 0};
    struct worker tx = {ctx2, ep, dir, 1, 0, 0, 0};
    CHECK_RC (pthread_create (&rx.thread, NULL, worker_main, &rx), 0);
    su_sleep_ms (50);
    CHECK_RC (pthread_create (&tx.thread, NULL, worker_main, &tx), 0);
    /* Wait until the sender swaps: segment files present for 200 ms on end (a store that
     * drains completely deletes its file, as it may at the start, before the socket buffers
     * are full). */
    int64_t end = su_now_ms () + 10000;
    int steady = 0;
    while (steady < 20 && su_now_ms () < end) {
        steady = su_count_files (dir, NULL) >= 1 ? steady + 1 : 0;
        su_sleep_ms (10);
    }
    CHECK_RC (steady, 20);
    int64_t t0 = su_now_ms ();
    CHECK_RC (zmq_ctx_term (ctx2), 0);
    long took = (long) (su_now_ms () - t0);
    pthread_join (tx.thread, NULL);
    pthread_join (rx.thread, NULL);
    CHECK_RC (tx.last_errno, ETERM);
    CHECK_RC (rx.last_errno, ETERM);
    CHECK (tx.count > rx.count);
    CHECK (took < 5000);
    CHECK_RC (su_count_files (dir, NULL), 0);
    su_rmdir (dir);
}

static void test_disk_error (const char *transport)
{
    printf ("-- swap directory removed under a socket over %s\n", transport);
    char dir[256], ep[512];
    CHECK_RC (su_mkdtemp (dir, sizeof dir, "swapgone"), 0);
    fresh_endpoint (transport, "gone", ep, sizeof ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (set_int (push, ZMQ_SNDHWM, 1), 0);
    CHECK_RC (set_swap (push, 1 << 20, dir), 0);
    CHECK_RC (rmdir (dir), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "kept", 4, ZMQ_DONTWAIT), 4);
    CHECK_ERRNO (zmq_send (push, "no room", 7, ZMQ_DONTWAIT), EAGAIN);
    CHECK_ERRNO (zmq_send (push, "no room", 7, ZMQ_DONTWAIT), EAGAIN);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 5000), 0);
    CHECK_RC (zmq_bind (pull, ep), 0);
    char buf[16];
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, 0), 4);
    CHECK (memcmp (buf, "kept", 4) == 0);
    CHECK_RC (set_int (push, ZMQ_SNDTIMEO, 5000), 0);
    CHECK_RC (zmq_send (push, "after", 5, 0), 5);
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, 0), 5);
    CHECK (memcmp (buf, "after", 5) == 0);
    CHECK_RC (set_int (pull, ZMQ_RCVTIMEO, 100), 0);
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, 0), EAGAIN);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    ctx = zmq_ctx_new ();
    if (su_mkdtemp (ipc_dir, sizeof ipc_dir, "swapipc") != 0)
        return 1;
    CHECK_RC (zmq_has ("swap"), 1);
    test_options ();
    for (int i = 0; i < 3; i++) {
        test_round_trip (transports[i]);
        test_slow_pull (transports[i]);
        test_close_cleans_up (transports[i]);
        test_term_while_swapping (transports[i]);
        test_disk_error (transports[i]);
    }
    CHECK_RC (zmq_ctx_term (ctx), 0);
    su_rmdir (ipc_dir);
    return TEST_SUMMARY ("swap");
}
