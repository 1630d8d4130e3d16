/* socks.c: ZMQ_SOCKS_PROXY (zmq_setsockopt(3)): a tcp connect goes through the SOCKS5 proxy
 * the option names. A minimal proxy runs in a thread here: it takes the greeting (the client
 * must offer "no authentication"), records the CONNECT request, connects to the target and
 * relays bytes both ways. Checked: the message crosses, and the proxy was asked for the
 * endpoint's address and port (an IP literal as an IPv4 address, a host name as a name for the
 * proxy to resolve). A proxy that refuses the target is not tried here: Debian's libzmq 4.3.4
 * aborts then ("Bad file descriptor", src/epoll.cpp:113); the unit tests of the exchange cover
 * the refusal. */
// transports: tcp
#include "testutil.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int listener;
    int offered_no_auth; /* the greeting offered method 0 */
    int atyp;            /* the request's address type */
    char host[256];      /* the request's address, as text */
    int port;
} proxy_t;

static int read_full (int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read (fd, (char *) buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t) r;
    }
    return 0;
}

/* Copies bytes between a and b until either side closes. */
static void relay (int a, int b)
{
    char buf[4096];
    for (;;) {
        struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        if (poll (p, 2, 10000) <= 0)
            return;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read (p[i].fd, buf, sizeof buf);
            if (n <= 0 || write (p[1 - i].fd, buf, (size_t) n) != n)
                return;
        }
    }
}

static void *proxy_main (void *arg)
{
    proxy_t *p = arg;
    int c = accept (p->listener, NULL, NULL);
    if (c < 0)
        return NULL;
    unsigned char head[2], methods[255], req[4], addr[256], port[2];
    if (read_full (c, head, 2) || head[0] != 5 || read_full (c, methods, head[1]))
        goto done;
    for (int i = 0; i < head[1]; i++)
        if (methods[i] == 0)
            p->offered_no_auth = 1;
    if (write (c, "\x05\x00", 2) != 2 || read_full (c, req, 4) || req[1] != 1)
        goto done;
    p->atyp = req[3];
    if (req[3] == 1) {
        if (read_full (c, addr, 4))
            goto done;
        snprintf (p->host, sizeof p->host, "%d.%d.%d.%d", addr[0], addr[1], addr[2], addr[3]);
    } else if (req[3] == 3) {
        unsigned char len;
        if (read_full (c, &len, 1) || read_full (c, addr, len))
            goto done;
        memcpy (p->host, addr, len);
        p->host[len] = 0;
    } else
        goto done;
    if (read_full (c, port, 2))
        goto done;
    p->port = port[0] << 8 | port[1];
    /* Both targets used here are this host. */
    struct sockaddr_in t;
    memset (&t, 0, sizeof t);
    t.sin_family = AF_INET;
    t.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    t.sin_port = htons ((uint16_t) p->port);
    int s = socket (AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect (s, (struct sockaddr *) &t, sizeof t) != 0) {
        if (s >= 0)
            close (s);
        goto done;
    }
    if (write (c, "\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00", 10) == 10)
        relay (c, s);
    close (s);
done:
    close (c);
    return NULL;
}

/* Starts a proxy on 127.0.0.1; its "host:port" goes to addr. */
static pthread_t start_proxy (proxy_t *p, char *addr, size_t cap)
{
    memset (p, 0, sizeof *p);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    p->listener = socket (AF_INET, SOCK_STREAM, 0);
    CHECK_RC (bind (p->listener, (struct sockaddr *) &a, sizeof a), 0);
    CHECK_RC (getsockname (p->listener, (struct sockaddr *) &a, &len), 0);
    CHECK_RC (listen (p->listener, 4), 0);
    snprintf (addr, cap, "127.0.0.1:%d", ntohs (a.sin_port));
    pthread_t t;
    pthread_create (&t, NULL, proxy_main, p);
    return t;
}

/* Sends one message from a PUSH connected to target (a format with the PULL's port) through a
 * new proxy; answers whether it arrived within 3 s. */
static int through_proxy (void *ctx, proxy_t *p, const char *target_fmt)
{
    char proxy_addr[64], ep[256], target[256];
    pthread_t t = start_proxy (p, proxy_addr, sizeof proxy_addr);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int zero = 0, timeo = 3000;
    zmq_setsockopt (pull, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (push, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    CHECK_RC (tu_bind (pull, "socks", ep, sizeof ep), 0);
    const int port = atoi (ep + strlen ("tcp://127.0.0.1:"));
    snprintf (target, sizeof target, target_fmt, port);
    CHECK_RC (zmq_setsockopt (push, ZMQ_SOCKS_PROXY, proxy_addr, strlen (proxy_addr)), 0);
    CHECK_RC (zmq_connect (push, target), 0);
    CHECK_RC (zmq_send (push, "proxied", 7, 0), 7);
    char buf[16];
    const int got = zmq_recv (pull, buf, sizeof buf, 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    shutdown (p->listener, SHUT_RDWR);
    pthread_join (t, NULL);
    close (p->listener);
    CHECK (p->offered_no_auth);
    CHECK_RC (p->port, port);
    return got == 7 && memcmp (buf, "proxied", 7) == 0;
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    proxy_t p;

    CHECK (through_proxy (ctx, &p, "tcp://127.0.0.1:%d"));
    CHECK_RC (p.atyp, 1);
    CHECK_STR (p.host, "127.0.0.1");

    CHECK (through_proxy (ctx, &p, "tcp://localhost:%d"));
    CHECK_RC (p.atyp, 3);
    CHECK_STR (p.host, "localhost");

    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("socks");
}
