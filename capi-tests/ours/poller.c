/* The draft poller API (zmq_poller_*): libzmq-rs builds it in; Debian's libzmq5 does not
 * export it, so this test runs on ours only. Over inproc, tcp and ipc. */
// transports: inproc tcp ipc
#define ZMQ_BUILD_DRAFT_API
#include "../testutil.h"

#include <unistd.h>

int main (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    char ep[256];
    CHECK_RC (tu_bind (pull, "poller", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);

    void *poller = zmq_poller_new ();
    CHECK (poller != NULL);
    int tag = 7;
    CHECK_RC (zmq_poller_add (poller, pull, &tag, ZMQ_POLLIN), 0);
    CHECK_ERRNO (zmq_poller_add (poller, pull, NULL, ZMQ_POLLIN), EINVAL);
    CHECK (zmq_poller_size (poller) == 1);

    zmq_poller_event_t ev;
    CHECK_ERRNO (zmq_poller_wait (poller, &ev, 0), EAGAIN);
    CHECK (zmq_send (push, "hi", 2, 0) == 2);
    CHECK (zmq_poller_wait (poller, &ev, 10000) == 0);
    CHECK (ev.socket == pull && ev.user_data == &tag && ev.events == ZMQ_POLLIN);

    int fds[2];
    CHECK (pipe (fds) == 0);
    CHECK_RC (zmq_poller_add_fd (poller, fds[0], NULL, ZMQ_POLLIN), 0);
    CHECK (write (fds[1], "x", 1) == 1);
    zmq_poller_event_t evs[4];
    int n = zmq_poller_wait_all (poller, evs, 4, 1000);
    CHECK (n == 2);
    CHECK_RC (zmq_poller_modify (poller, pull, 0), 0);
    n = zmq_poller_wait_all (poller, evs, 4, 0);
    CHECK (n == 1 && evs[0].socket == NULL && evs[0].fd == fds[0]);
    CHECK_RC (zmq_poller_remove_fd (poller, fds[0]), 0);
    CHECK_RC (zmq_poller_remove (poller, pull), 0);
    CHECK_ERRNO (zmq_poller_remove (poller, pull), EINVAL);
    CHECK (zmq_poller_size (poller) == 0);
    zmq_fd_t fd;
    CHECK_ERRNO (zmq_poller_fd (poller, &fd), EINVAL);
    CHECK_RC (zmq_poller_destroy (&poller), 0);
    CHECK (poller == NULL);
    CHECK_ERRNO (zmq_poller_destroy (&poller), EFAULT);

    close (fds[0]);
    close (fds[1]);
    char buf[4];
    CHECK (zmq_recv (pull, buf, sizeof buf, 0) == 2);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("poller");
}
