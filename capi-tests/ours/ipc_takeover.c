/* ours/ipc_takeover.c: libzmq-rs removes an ipc listener's socket file when the listener
 * closes (libzmq leaves a named path's file behind), but only while the file is still that
 * listener's own: a path taken over by a second bind stays with the second socket when the
 * first one closes or unbinds, and goes when the second one closes. The first socket lives in
 * a context of its own, so that zmq_ctx_term tells when its listener is really gone. */
#include "../testutil.h"

#include <sys/stat.h>
#include <unistd.h>

static void check_second_keeps_the_path (const char *dir, int by_unbind)
{
    char path[160], ep[192];
    snprintf (path, sizeof path, "%s/taken-%d.ipc", dir, by_unbind);
    snprintf (ep, sizeof ep, "ipc://%s", path);
    void *ctx_first = zmq_ctx_new ();
    void *ctx = zmq_ctx_new ();
    void *first = zmq_socket (ctx_first, ZMQ_PULL);
    void *second = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int timeo = 5000;
    CHECK_RC (zmq_setsockopt (second, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    CHECK_RC (zmq_bind (first, ep), 0);
    CHECK_RC (zmq_bind (second, ep), 0);
    if (by_unbind)
        CHECK_RC (zmq_unbind (first, ep), 0);
    CHECK_RC (zmq_close (first), 0);
    CHECK_RC (zmq_ctx_term (ctx_first), 0);

    struct stat st;
    CHECK_RC (stat (path, &st), 0);
    CHECK (S_ISSOCK (st.st_mode));
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "still here", 10, 0), 10);
    char buf[16];
    CHECK_RC (zmq_recv (second, buf, sizeof buf, 0), 10);
    CHECK (memcmp (buf, "still here", 10) == 0);

    int linger = 0;
    CHECK_RC (zmq_setsockopt (push, ZMQ_LINGER, &linger, sizeof linger), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (second), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    /* The last owner's close removes the file. */
    CHECK (stat (path, &st) != 0);
}

int main (void)
{
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/zmq-ipc-takeover-XXXXXX");
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return 1;
    }
    check_second_keeps_the_path (dir, 0);
    check_second_keeps_the_path (dir, 1);
    CHECK_RC (rmdir (dir), 0);
    return TEST_SUMMARY ("ipc_takeover");
}
