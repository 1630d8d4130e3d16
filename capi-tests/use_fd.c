/* use_fd.c: ZMQ_USE_FD (zmq_setsockopt(3)): a socket the application created, bound and made
 * listen (as systemd socket activation hands over) is used by zmq_bind instead of a new one.
 * Peers reach it at its own address; over tcp ZMQ_LAST_ENDPOINT is that address, over ipc the
 * endpoint given to zmq_bind. The library owns the fd from then on and closes it with the
 * socket; an ipc socket's file stays (it is the application's to remove). */
// transports: tcp ipc
#include "testutil.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A listening socket of the test's transport; its zmq endpoint goes to ep. */
static int listening_socket (char *ep, size_t cap, char *path, size_t path_cap)
{
    int fd;
    if (tu_transport () == TU_TCP) {
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        memset (&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        fd = socket (AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) != 0
            || getsockname (fd, (struct sockaddr *) &a, &len) != 0)
            return -1;
        snprintf (ep, cap, "tcp://127.0.0.1:%d", ntohs (a.sin_port));
        path[0] = 0;
    } else {
        if (tu_endpoint ("use-fd", ep, cap) != 0)
            return -1;
        snprintf (path, path_cap, "%s", ep + strlen ("ipc://"));
        struct sockaddr_un a;
        memset (&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        snprintf (a.sun_path, sizeof a.sun_path, "%s", path);
        fd = socket (AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) != 0)
            return -1;
    }
    return listen (fd, 16) == 0 ? fd : -1;
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    char ep[256], path[256], last[256];
    const int fd = listening_socket (ep, sizeof ep, path, sizeof path);
    CHECK (fd >= 0);

    void *pull = zmq_socket (ctx, ZMQ_PULL);
    int v = -2;
    size_t sz = sizeof v;
    CHECK_RC (zmq_getsockopt (pull, ZMQ_USE_FD, &v, &sz), 0);
    CHECK_RC (v, -1);
    CHECK_RC (zmq_setsockopt (pull, ZMQ_USE_FD, &fd, sizeof fd), 0);
    sz = sizeof v;
    CHECK_RC (zmq_getsockopt (pull, ZMQ_USE_FD, &v, &sz), 0);
    CHECK_RC (v, fd);
    /* Over tcp the endpoint given is not used: the fd's own address is. */
    CHECK_RC (zmq_bind (pull, tu_transport () == TU_TCP ? "tcp://127.0.0.1:*" : ep), 0);
    sz = sizeof last;
    CHECK_RC (zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, last, &sz), 0);
    CHECK_STR (last, ep);

    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "activated", 9, 0), 9);
    char buf[16];
    int timeo = 5000;
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, 0), 9);
    CHECK (memcmp (buf, "activated", 9) == 0);

    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    /* The library closed the fd with the socket; the ipc file is still there. */
    CHECK_ERRNO (fcntl (fd, F_GETFD), EBADF);
    if (path[0]) {
        CHECK_RC (access (path, F_OK), 0);
        unlink (path);
    }
    return TEST_SUMMARY ("use_fd");
}
