/* ours/proxy_steerable.c: zmq_proxy_steerable as libzmq 4.3.5 documents it, where Debian's
 * 4.3.4 differs (so this runs against libzmq-rs only):
 *   - a REP control socket gets an empty reply to PAUSE, RESUME and TERMINATE (4.3.4 sends
 *     nothing, so its REP control socket cannot take a second command);
 *   - STATISTICS counts frames (4.3.4 counts a multipart message once);
 *   - control commands are not copied to the capture socket (4.3.4 copies them).
 * Over inproc, tcp and ipc (the capture reader waits for its copies). */
// transports: inproc tcp ipc
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>

struct steer
{
    void *frontend, *backend, *capture, *control;
    int rc;
    pthread_t thread;
};

static void *steer_main (void *arg)
{
    struct steer *s = (struct steer *) arg;
    s->rc = zmq_proxy_steerable (s->frontend, s->backend, s->capture, s->control);
    zmq_close (s->frontend);
    zmq_close (s->backend);
    zmq_close (s->capture);
    zmq_close (s->control);
    return NULL;
}

static int send_str (void *s, const char *str, int flags)
{
    return zmq_send (s, str, strlen (str), flags);
}

static int rcvmore (void *s)
{
    int more = -1;
    size_t sz = sizeof more;
    zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz);
    return more;
}

/* Sends a command on a REQ control socket and expects an empty reply. */
static void command (void *req, const char *cmd)
{
    char buf[8];
    CHECK_RC (send_str (req, cmd, 0), (int) strlen (cmd));
    CHECK_RC (zmq_recv (req, buf, sizeof buf, 0), 0);
    CHECK_RC (rcvmore (req), 0);
}

static void check_stats (void *req, const uint64_t want[8])
{
    CHECK_RC (send_str (req, "STATISTICS", 0), 10);
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        uint64_t v = 0;
        bad += zmq_recv (req, &v, sizeof v, 0) != (int) sizeof v;
        bad += rcvmore (req) != (i < 7);
        if (v != want[i]) {
            bad++;
            printf ("     statistics frame %d: got %llu, want %llu\n", i,
                    (unsigned long long) v, (unsigned long long) want[i]);
        }
    }
    CHECK_RC (bad, 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    struct steer st;
    memset (&st, 0, sizeof st);
    st.frontend = zmq_socket (ctx, ZMQ_PULL);
    st.backend = zmq_socket (ctx, ZMQ_PUSH);
    st.capture = zmq_socket (ctx, ZMQ_PUSH);
    st.control = zmq_socket (ctx, ZMQ_REP);
    char ep[256];
    CHECK_RC (tu_bind (st.frontend, "in", ep, sizeof ep), 0);
    char ep2[256];
    CHECK_RC (tu_bind (st.backend, "out", ep2, sizeof ep2), 0);
    char ep3[256];
    CHECK_RC (tu_bind (st.capture, "capture", ep3, sizeof ep3), 0);
    char ep4[256];
    CHECK_RC (tu_bind (st.control, "control", ep4, sizeof ep4), 0);
    void *in = zmq_socket (ctx, ZMQ_PUSH);
    void *out = zmq_socket (ctx, ZMQ_PULL);
    void *cap = zmq_socket (ctx, ZMQ_PULL);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    CHECK_RC (zmq_connect (in, ep), 0);
    CHECK_RC (zmq_connect (out, ep2), 0);
    CHECK_RC (zmq_connect (cap, ep3), 0);
    CHECK_RC (zmq_connect (req, ep4), 0);
    int timeout = 5000;
    CHECK_RC (zmq_setsockopt (req, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (zmq_setsockopt (out, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (zmq_setsockopt (cap, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (pthread_create (&st.thread, NULL, steer_main, &st), 0);

    /* A two-frame message counts as two. */
    char buf[16];
    CHECK_RC (send_str (in, "ab", ZMQ_SNDMORE), 2);
    CHECK_RC (send_str (in, "cde", 0), 3);
    CHECK_RC (zmq_recv (out, buf, sizeof buf, 0), 2);
    CHECK_RC (zmq_recv (out, buf, sizeof buf, 0), 3);
    const uint64_t two[8] = {2, 5, 0, 0, 0, 0, 2, 5};
    check_stats (req, two);

    /* Commands over REP, one after the other. */
    command (req, "PAUSE");
    CHECK_RC (send_str (in, "held", 0), 4);
    check_stats (req, two);
    CHECK_ERRNO (zmq_recv (out, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    command (req, "RESUME");
    CHECK_RC (zmq_recv (out, buf, sizeof buf, 0), 4);
    command (req, "NOSUCHCOMMAND"); /* ignored, but answered */

    /* The capture saw the data frames only, not the commands. */
    CHECK_RC (zmq_recv (cap, buf, sizeof buf, 0), 2);
    CHECK_RC (zmq_recv (cap, buf, sizeof buf, 0), 3);
    CHECK_RC (zmq_recv (cap, buf, sizeof buf, 0), 4);
    CHECK (memcmp (buf, "held", 4) == 0);
    CHECK_ERRNO (zmq_recv (cap, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);

    command (req, "TERMINATE");
    CHECK_RC (pthread_join (st.thread, NULL), 0);
    CHECK_RC (st.rc, 0);

    CHECK_RC (zmq_close (in), 0);
    CHECK_RC (zmq_close (out), 0);
    CHECK_RC (zmq_close (cap), 0);
    CHECK_RC (zmq_close (req), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("proxy_steerable");
}
