/* ours/ipc_side.c: between two libzmq-rs sockets over ipc, frames of 32 KiB and more travel
 * through a shared-memory ring the sender passes to the receiver (the side channel; libzmq
 * peers never see it). Checked here: both ends announce it (the X-ZmqRs-Shm property), the
 * ring appears in the process only once a large frame is sent, and frames of every size keep
 * their content, order and MORE flags through it: mixed with small ones, larger than the
 * ring (they go in pieces), in multipart messages, through ROUTER/DEALER, from PUB to a filtering SUB, and when
 * the receiver reads nothing until the sender has closed (the sender then holds frames for
 * room in the ring, and its linger must deliver them all); that a receiver which reads
 * nothing leaves frames in the ring rather than copying them out; and no ring outlives its
 * connections. */
#include "../testutil.h"

#include <unistd.h>

/* True when this process maps a side-channel ring (its memfd is named "zmq-ring"). */
static int ring_mapped (void)
{
    FILE *f = fopen ("/proc/self/maps", "r");
    if (!f)
        return -1;
    char line[512];
    int found = 0;
    while (fgets (line, sizeof line, f))
        if (strstr (line, "memfd:zmq-ring"))
            found = 1;
    fclose (f);
    return found;
}

/* The byte at offset i of frame n. */
static unsigned char pattern (int n, size_t i)
{
    return (unsigned char) ((i * 13u + (size_t) n * 101u) ^ (i >> 10));
}

static void send_frame (void *s, int n, size_t size, int flags)
{
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init_size (&m, size), 0);
    unsigned char *d = zmq_msg_data (&m);
    for (size_t i = 0; i < size; i++)
        d[i] = pattern (n, i);
    CHECK_RC (zmq_msg_send (&m, s, flags), (int) size);
}

/* Receives frame n of `size` octets, checks its content and MORE flag; returns the message's
 * X-ZmqRs-Shm property (or NULL) while the message is open, copied to `prop`. */
static void expect_frame (void *s, int n, size_t size, int more, char *prop, size_t prop_len)
{
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init (&m), 0);
    CHECK_RC (zmq_msg_recv (&m, s, 0), (int) size);
    const unsigned char *d = zmq_msg_data (&m);
    size_t bad = size;
    for (size_t i = 0; i < zmq_msg_size (&m) && bad == size; i++)
        if (d[i] != pattern (n, i))
            bad = i;
    if (bad != size)
        printf ("frame %d (%zu octets) differs at offset %zu\n", n, size, bad);
    CHECK (bad == size);
    CHECK_RC (zmq_msg_more (&m), more);
    if (prop) {
        const char *v = zmq_msg_gets (&m, "X-ZmqRs-Shm");
        snprintf (prop, prop_len, "%s", v ? v : "(none)");
    }
    CHECK_RC (zmq_msg_close (&m), 0);
}

static void *pull_socket (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_PULL);
    int timeo = 10000;
    CHECK_RC (zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    return s;
}

static void test_sizes_and_order (void *ctx, const char *dir)
{
    /* The ring is sized for the first large frame (40 KiB: 512 KiB): frames larger than half
     * of it (300000 octets, 1 MiB, 2 MiB) go through it in pieces of 256 KiB. */
    static const size_t sizes[] = {100,     40960, 5,       300000, 1048576, 65536, 0,
                                   2097152, 32768, 32767,   250000, 40960,   7,     131072};
    enum { N = sizeof sizes / sizeof sizes[0] };
    char ep[192];
    snprintf (ep, sizeof ep, "ipc://%s/order.ipc", dir);
    void *pull = pull_socket (ctx);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_bind (pull, ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    send_frame (push, 100, 10, 0);
    char prop[32];
    expect_frame (pull, 100, 10, 0, prop, sizeof prop);
    CHECK_STR (prop, "2");
    CHECK_RC (ring_mapped (), 0);
    for (int round = 0; round < 3; round++)
        for (int n = 0; n < N; n++)
            send_frame (push, n, sizes[n], 0);
    for (int round = 0; round < 3; round++)
        for (int n = 0; n < N; n++)
            expect_frame (pull, n, sizes[n], 0, NULL, 0);
    CHECK_RC (ring_mapped (), 1);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

static void test_multipart_router_dealer (void *ctx, const char *dir)
{
    char ep[192];
    snprintf (ep, sizeof ep, "ipc://%s/rd.ipc", dir);
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int timeo = 10000;
    CHECK_RC (zmq_setsockopt (router, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    CHECK_RC (zmq_setsockopt (dealer, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    CHECK_RC (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "D1", 2), 0);
    CHECK_RC (zmq_bind (router, ep), 0);
    CHECK_RC (zmq_connect (dealer, ep), 0);
    for (int i = 0; i < 20; i++) {
        send_frame (dealer, 1, 3, ZMQ_SNDMORE);
        send_frame (dealer, 2, 100000, ZMQ_SNDMORE);
        send_frame (dealer, 3, 70000, 0);
    }
    for (int i = 0; i < 20; i++) {
        char id[8];
        CHECK_RC (zmq_recv (router, id, sizeof id, 0), 2);
        CHECK (memcmp (id, "D1", 2) == 0);
        expect_frame (router, 1, 3, 1, NULL, 0);
        expect_frame (router, 2, 100000, 1, NULL, 0);
        expect_frame (router, 3, 70000, 0, NULL, 0);
        /* The reply goes back through the router's own ring. */
        CHECK_RC (zmq_send (router, "D1", 2, ZMQ_SNDMORE), 2);
        send_frame (router, 4, 90000, 0);
    }
    for (int i = 0; i < 20; i++)
        expect_frame (dealer, 4, 90000, 0, NULL, 0);
    CHECK_RC (zmq_close (router), 0);
    CHECK_RC (zmq_close (dealer), 0);
}

/* PUB -> SUB: large frames through the publisher's ring, the subscription filter applied. */
static void test_pub_sub (void *ctx, const char *dir)
{
    char ep[192];
    snprintf (ep, sizeof ep, "ipc://%s/ps.ipc", dir);
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int timeo = 10000;
    CHECK_RC (zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    /* The topic is the first octet of pattern 7's frames (707 mod 256 = 0xc3); pattern 5's
     * start with 0xf9 and are filtered out. */
    const unsigned char topic = pattern (7, 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, &topic, 1), 0);
    CHECK_RC (zmq_bind (pub, ep), 0);
    CHECK_RC (zmq_connect (sub, ep), 0);
    /* Until the subscription has arrived, what the publisher sends is dropped. */
    int got = 0;
    for (int tries = 0; tries < 100 && !got; tries++) {
        send_frame (pub, 7, 100, 0);
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 50) == 1)
            got = 1;
    }
    CHECK (got);
    zmq_msg_t drain;
    zmq_msg_init (&drain);
    int timeo_short = 200;
    CHECK_RC (zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeo_short, sizeof timeo_short), 0);
    while (zmq_msg_recv (&drain, sub, 0) >= 0)
        ;
    zmq_msg_close (&drain);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    for (int i = 0; i < 30; i++) {
        send_frame (pub, 5, 80000, 0); /* filtered out */
        send_frame (pub, 7, 80000 + (size_t) i, 0);
    }
    for (int i = 0; i < 30; i++)
        expect_frame (sub, 7, 80000 + (size_t) i, 0, NULL, 0);
    CHECK_RC (zmq_close (pub), 0);
    CHECK_RC (zmq_close (sub), 0);
}

/* The receiver reads nothing until the sender has closed: the ring (two 200 KiB frames) fills,
 * the sender holds the next frame for room, and its linger must deliver every frame. */
static void test_linger_delivers_held_frames (const char *dir)
{
    enum { N = 60 };
    const size_t size = 200000;
    char ep[192];
    snprintf (ep, sizeof ep, "ipc://%s/linger.ipc", dir);
    void *rctx = zmq_ctx_new ();
    void *sctx = zmq_ctx_new ();
    void *pull = pull_socket (rctx);
    void *push = zmq_socket (sctx, ZMQ_PUSH);
    int rcvhwm = 2;
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm), 0);
    int linger = 20000;
    CHECK_RC (zmq_setsockopt (push, ZMQ_LINGER, &linger, sizeof linger), 0);
    CHECK_RC (zmq_bind (pull, ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    for (int n = 0; n < N; n++)
        send_frame (push, n, size, 0);
    usleep (200 * 1000);
    CHECK_RC (zmq_close (push), 0);
    for (int n = 0; n < N; n++)
        expect_frame (pull, n, size, 0, NULL, 0);
    /* The sender's context ends once its linger has delivered everything. */
    CHECK_RC (zmq_ctx_term (sctx), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (rctx), 0);
}

/* A receiver that reads nothing holds few of the frames sent to it: a frame stays in the
 * sender's ring until the receiving socket's queue has room for it (RCVHWM 1 here), so the
 * sender, SNDHWM 1, soon refuses more. Counted once the link is quiet; then all arrive. */
static void test_unread_frames_stay_in_the_ring (void *ctx, const char *dir)
{
    const size_t size = 200000;
    char ep[192];
    snprintf (ep, sizeof ep, "ipc://%s/unread.ipc", dir);
    void *pull = pull_socket (ctx);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int one = 1;
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVHWM, &one, sizeof one), 0);
    CHECK_RC (zmq_setsockopt (push, ZMQ_SNDHWM, &one, sizeof one), 0);
    CHECK_RC (zmq_bind (pull, ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    /* The first large frame sets the ring up (512 KiB: two of these frames). */
    send_frame (push, 0, size, 0);
    expect_frame (pull, 0, size, 0, NULL, 0);
    usleep (100 * 1000);
    int sent = 0, refused = 0;
    while (sent < 50 && refused < 10) {
        zmq_msg_t m;
        CHECK_RC (zmq_msg_init_size (&m, size), 0);
        unsigned char *d = zmq_msg_data (&m);
        for (size_t i = 0; i < size; i++)
            d[i] = pattern (sent + 1, i);
        if (zmq_msg_send (&m, push, ZMQ_DONTWAIT) == (int) size) {
            sent++;
            refused = 0;
        } else {
            CHECK_RC (zmq_errno (), EAGAIN);
            CHECK_RC (zmq_msg_close (&m), 0);
            refused++;
            usleep (50 * 1000);
        }
    }
    /* Two in the ring, one in each socket's queue, one held by the sender's connection. */
    printf ("unread: the sender took %d frames of %zu octets\n", sent, size);
    CHECK (sent >= 3 && sent <= 5);
    for (int n = 1; n <= sent; n++)
        expect_frame (pull, n, size, 0, NULL, 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/zmq-ipc-side-XXXXXX");
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return 1;
    }
    void *ctx = zmq_ctx_new ();
    test_sizes_and_order (ctx, dir);
    test_multipart_router_dealer (ctx, dir);
    test_pub_sub (ctx, dir);
    test_unread_frames_stay_in_the_ring (ctx, dir);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    test_linger_delivers_held_frames (dir);
    /* Every ring is unmapped once its connections are gone. */
    CHECK_RC (ring_mapped (), 0);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_RC (system (cmd), 0);
    return TEST_SUMMARY ("ipc_side");
}
