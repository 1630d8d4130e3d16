/* tcp_socket_options.c: the kernel options a tcp connection gets from zmq_setsockopt, read
 * back with getsockopt(2) on both ends: ZMQ_TOS (IP_TOS), ZMQ_TCP_KEEPALIVE and its _IDLE,
 * _INTVL and _CNT (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT), ZMQ_TCP_MAXRT
 * (TCP_USER_TIMEOUT), and TCP_NODELAY, which libzmq always sets. The accepted connection's fd
 * comes from ZMQ_SRCFD, the connecting one's from the CONNECTED event. */
// transports: tcp
#include "testutil.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>

static int get_kernel_opt (int fd, int level, int name)
{
    int v = -7;
    socklen_t len = sizeof v;
    return getsockopt (fd, level, name, &v, &len) == 0 ? v : -99;
}

static void set_options (void *s)
{
    const int tos = 0x28, keepalive = 1, idle = 77, intvl = 11, cnt = 5, maxrt = 4321;
    CHECK_RC (zmq_setsockopt (s, ZMQ_TOS, &tos, sizeof tos), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_TCP_KEEPALIVE, &keepalive, sizeof keepalive), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_TCP_KEEPALIVE_IDLE, &idle, sizeof idle), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_TCP_KEEPALIVE_INTVL, &intvl, sizeof intvl), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_TCP_KEEPALIVE_CNT, &cnt, sizeof cnt), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_TCP_MAXRT, &maxrt, sizeof maxrt), 0);
}

static void check_fd (int fd, const char *side)
{
    printf ("-- %s\n", side);
    CHECK_RC (get_kernel_opt (fd, IPPROTO_IP, IP_TOS), 0x28);
    CHECK_RC (get_kernel_opt (fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    CHECK_RC (get_kernel_opt (fd, IPPROTO_TCP, TCP_KEEPIDLE), 77);
    CHECK_RC (get_kernel_opt (fd, IPPROTO_TCP, TCP_KEEPINTVL), 11);
    CHECK_RC (get_kernel_opt (fd, IPPROTO_TCP, TCP_KEEPCNT), 5);
    CHECK_RC (get_kernel_opt (fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 4321);
    CHECK_RC (get_kernel_opt (fd, IPPROTO_TCP, TCP_NODELAY), 1);
}

/* Connects a PUSH to a PULL with the options on `which` (0: the binding PULL, 1: the
 * connecting PUSH) and checks that side's connection. */
static void run (void *ctx, int which)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    set_options (which == 0 ? pull : push);
    char ep[256];
    CHECK_RC (tu_bind (pull, which == 0 ? "opts-accepted" : "opts-connecting", ep, sizeof ep),
              0);
    const char *mon_ep = which == 0 ? "inproc://tcp-opts-mon-0" : "inproc://tcp-opts-mon-1";
    CHECK_RC (zmq_socket_monitor (push, mon_ep, ZMQ_EVENT_CONNECTED), 0);
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    int timeo = 5000;
    zmq_setsockopt (mon, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    CHECK_RC (zmq_connect (mon, mon_ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "x", 1, 0), 1);

    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_RC (zmq_msg_recv (&m, pull, 0), 1);
    uint32_t connected_fd = 0;
    CHECK_RC (tu_read_event (mon, &connected_fd), ZMQ_EVENT_CONNECTED);
    if (which == 0)
        check_fd (zmq_msg_get (&m, ZMQ_SRCFD), "accepted");
    else
        check_fd ((int) connected_fd, "connecting");
    zmq_msg_close (&m);

    CHECK_RC (zmq_socket_monitor (push, NULL, 0), 0);
    int zero = 0;
    zmq_setsockopt (push, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (mon, ZMQ_LINGER, &zero, sizeof zero);
    CHECK_RC (zmq_close (mon), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    run (ctx, 0);
    run (ctx, 1);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("tcp_socket_options");
}
