/* srcfd.c: zmq_msg_get (ZMQ_SRCFD) (zmq_msg_get(3)): a frame read from a tcp or ipc
 * connection gives that connection's file descriptor (every part of the message and a copy of
 * it the same one: the accepted socket, whose local address is the bound endpoint); a frame
 * that came over inproc, or was made here, gives -1 with EINVAL. */
// transports: inproc tcp ipc
#include "testutil.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

/* 1 if fd's local address is the one ep names (tcp://127.0.0.1:PORT or ipc://PATH). */
static int fd_is_bound_to (int fd, const char *ep)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname (fd, (struct sockaddr *) &ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET && strncmp (ep, "tcp://127.0.0.1:", 16) == 0)
        return ntohs (((struct sockaddr_in *) &ss)->sin_port) == atoi (ep + 16);
    if (ss.ss_family == AF_UNIX && strncmp (ep, "ipc://", 6) == 0)
        return strcmp (((struct sockaddr_un *) &ss)->sun_path, ep + 6) == 0;
    return 0;
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    char ep[256];
    CHECK_RC (tu_bind (pull, "srcfd", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "head", 4, ZMQ_SNDMORE), 4);
    CHECK_RC (zmq_send (push, "tail", 4, 0), 4);

    zmq_msg_t head, tail, copy;
    zmq_msg_init (&head);
    zmq_msg_init (&tail);
    zmq_msg_init (&copy);
    CHECK_RC (zmq_msg_recv (&head, pull, 0), 4);
    CHECK_RC (zmq_msg_recv (&tail, pull, 0), 4);
    CHECK_RC (zmq_msg_copy (&copy, &head), 0);
    errno = 0;
    const int fd = zmq_msg_get (&head, ZMQ_SRCFD);
    if (tu_transport () == TU_INPROC) {
        CHECK_RC (fd, -1);
        CHECK_RC (errno, EINVAL);
        CHECK_ERRNO (zmq_msg_get (&tail, ZMQ_SRCFD), EINVAL);
    } else {
        CHECK (fd >= 0 && fcntl (fd, F_GETFD) != -1);
        CHECK (fd_is_bound_to (fd, ep));
        CHECK_RC (zmq_msg_get (&tail, ZMQ_SRCFD), fd);
        CHECK_RC (zmq_msg_get (&copy, ZMQ_SRCFD), fd);
    }
    /* A frame made here has none. */
    zmq_msg_t own;
    zmq_msg_init_size (&own, 8);
    CHECK_ERRNO (zmq_msg_get (&own, ZMQ_SRCFD), EINVAL);

    zmq_msg_close (&own);
    zmq_msg_close (&copy);
    zmq_msg_close (&tail);
    zmq_msg_close (&head);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("srcfd");
}
