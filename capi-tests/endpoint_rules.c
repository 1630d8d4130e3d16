/* endpoint_rules.c: how zmq_bind, zmq_connect and zmq_unbind read tcp and ipc endpoints, as
 * libzmq 4.3 reads them (every expectation was read from Debian's libzmq first):
 *   - a port is read like atoi and kept to 16 bits: "5555x" and " 5555" name 5555, "65536" and
 *     "abc" are EINVAL;
 *   - a bind takes "*", an IP literal (an IPv4-mapped IPv6 one as IPv4, the short IPv4 forms of
 *     inet_aton(3) too) or an interface name:
 *     a host name or an empty host is ENODEV, a "source;" part is EINVAL;
 *   - zmq_connect only checks the syntax (host characters, a port that starts with a digit):
 *     "tcp://127.0.0.1:0", "tcp://:5555" or "tcp://127.0.0.1:65536" are taken and then retried
 *     like an unreachable host, "tcp://h:*" or a trailing blank are EINVAL;
 *   - zmq_unbind finds a tcp bind by any spelling that resolves to its ZMQ_LAST_ENDPOINT;
 *   - with ZMQ_IPV6 on, an IPv4 address binds as its IPv4-mapped IPv6 address (so says
 *     ZMQ_LAST_ENDPOINT) and an interface name as the interface's IPv6 address;
 *   - "ipc://@" (an empty abstract name) is EINVAL. */
// transports: tcp
#include "testutil.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* A free tcp port on 127.0.0.1 (reserved by tu_endpoint, then released for the caller). */
static int free_port (void)
{
    char ep[64];
    if (tu_endpoint ("endpoint-rules", ep, sizeof ep) != 0)
        return -1;
    int port = atoi (ep + strlen ("tcp://127.0.0.1:"));
    tu_release_tcp_port_ (port);
    return port;
}

static void last_endpoint (void *s, char *buf, size_t cap)
{
    size_t sz = cap;
    buf[0] = 0;
    CHECK_RC (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz), 0);
}

static void test_bind_ports (void *ctx)
{
    char ep[64], want[64], got[64];
    const char *spellings[] = {"%dx", " %d", "%d/path", "000%d"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        void *s = zmq_socket (ctx, ZMQ_PULL);
        int port = free_port ();
        CHECK (port > 0);
        char fmt[32];
        snprintf (fmt, sizeof fmt, "tcp://127.0.0.1:%s", spellings[i]);
        snprintf (ep, sizeof ep, fmt, port);
        CHECK_RC (zmq_bind (s, ep), 0);
        snprintf (want, sizeof want, "tcp://127.0.0.1:%d", port);
        last_endpoint (s, got, sizeof got);
        CHECK_STR (got, want);
        /* The bind is found by its spelling too. */
        CHECK_RC (zmq_unbind (s, ep), 0);
        CHECK_ERRNO (zmq_unbind (s, want), ENOENT);
        CHECK_RC (zmq_close (s), 0);
    }
    void *s = zmq_socket (ctx, ZMQ_PULL);
    CHECK_ERRNO (zmq_bind (s, "tcp://127.0.0.1:65536"), EINVAL);
    CHECK_ERRNO (zmq_bind (s, "tcp://127.0.0.1:abc"), EINVAL);
    CHECK_ERRNO (zmq_bind (s, "tcp://127.0.0.1:"), EINVAL);
    CHECK_ERRNO (zmq_bind (s, "tcp://localhost:*"), ENODEV);
    CHECK_ERRNO (zmq_bind (s, "tcp://:*"), ENODEV);
    CHECK_ERRNO (zmq_bind (s, "tcp://127.0.0.1;127.0.0.1:*"), EINVAL);
    /* The short IPv4 forms inet_aton(3) reads: 127.1 is 127.0.0.1, 1.2.3 is 1.2.0.3. */
    CHECK_RC (zmq_bind (s, "tcp://127.1:*"), 0);
    last_endpoint (s, got, sizeof got);
    CHECK (strncmp (got, "tcp://127.0.0.1:", 16) == 0);
    CHECK_RC (zmq_unbind (s, got), 0);
    CHECK_ERRNO (zmq_bind (s, "tcp://1.2.3:*"), EADDRNOTAVAIL);
    CHECK_RC (zmq_bind (s, "tcp://[::ffff:127.0.0.1]:*"), 0);
    last_endpoint (s, got, sizeof got);
    CHECK (strncmp (got, "tcp://127.0.0.1:", 16) == 0);
    /* An unbind spelled with a leading zero finds it as well. */
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:0%s", got + 16);
    CHECK_RC (zmq_unbind (s, ep), 0);
    CHECK_RC (zmq_close (s), 0);
}

/* Waits up to 5 s for the monitor to report that event; 1 if it did. */
static int saw_event (void *mon, int event)
{
    int e;
    while ((e = tu_read_event (mon, NULL)) >= 0)
        if (e == event)
            return 1;
    return 0;
}

static void test_connect_checks_syntax_only (void *ctx)
{
    const char *taken[] = {"tcp://127.0.0.1:0", "tcp://:5555", "tcp://127.0.0.1:65536",
                           "tcp://127.0.0.1:5555;", "tcp://a.b-c_d:1"};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        void *s = zmq_socket (ctx, ZMQ_PUSH);
        int zero = 0;
        zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
        CHECK_RC (zmq_connect (s, taken[i]), 0);
        CHECK_RC (zmq_disconnect (s, taken[i]), 0);
        CHECK_RC (zmq_close (s), 0);
    }
    const char *refused[] = {"tcp://h:*", "tcp://127.0.0.1:5555 ", "tcp://a/b:1",
                             "tcp://127.0.0.1", "tcp://-h:1"};
    void *s = zmq_socket (ctx, ZMQ_PUSH);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        CHECK_ERRNO (zmq_connect (s, refused[i]), EINVAL);

    /* An address that cannot resolve is retried like an unreachable host. */
    CHECK_RC (zmq_socket_monitor (s, "inproc://endpoint-rules-mon", ZMQ_EVENT_CONNECT_RETRIED),
              0);
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    int zero = 0, timeo = 5000;
    zmq_setsockopt (mon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (mon, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    CHECK_RC (zmq_connect (mon, "inproc://endpoint-rules-mon"), 0);
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    CHECK_RC (zmq_connect (s, "tcp://:5555"), 0);
    CHECK (saw_event (mon, ZMQ_EVENT_CONNECT_RETRIED));
    CHECK_RC (zmq_socket_monitor (s, NULL, 0), 0);
    CHECK_RC (zmq_close (mon), 0);
    CHECK_RC (zmq_close (s), 0);
}

/* 1 if this host can bind ::1 (the IPv6 cases need it). */
static int have_ipv6_loopback (void)
{
    struct sockaddr_in6 a;
    memset (&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int fd = socket (AF_INET6, SOCK_STREAM, 0);
    int ok = fd >= 0 && bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
    if (fd >= 0)
        close (fd);
    return ok;
}

/* With ZMQ_IPV6 on, an IPv4 address binds its IPv4-mapped IPv6 address and ZMQ_LAST_ENDPOINT
 * says so; an interface binds its IPv6 address. Peers and zmq_unbind reach them by either
 * spelling. */
static void test_ipv6_binds (void *ctx)
{
    if (!have_ipv6_loopback ())
        return;
    char got[64], ep[64];
    int one = 1;
    void *s = zmq_socket (ctx, ZMQ_PULL);
    void *c = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_setsockopt (s, ZMQ_IPV6, &one, sizeof one), 0);
    CHECK_RC (zmq_bind (s, "tcp://127.0.0.1:*"), 0);
    last_endpoint (s, got, sizeof got);
    CHECK (strncmp (got, "tcp://[::ffff:127.0.0.1]:", 25) == 0);
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%s", strrchr (got, ':') + 1);
    CHECK_RC (zmq_connect (c, ep), 0);
    CHECK_RC (zmq_send (c, "v4", 2, 0), 2);
    char buf[4];
    int timeo = 5000;
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    CHECK_RC (zmq_recv (s, buf, sizeof buf, 0), 2);
    CHECK_RC (zmq_unbind (s, ep), 0);
    CHECK_RC (zmq_bind (s, "tcp://lo:*"), 0);
    last_endpoint (s, got, sizeof got);
    CHECK (strncmp (got, "tcp://[::1]:", 12) == 0);
    CHECK_RC (zmq_close (c), 0);
    CHECK_RC (zmq_close (s), 0);
}

static void test_empty_abstract_name (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK_ERRNO (zmq_bind (s, "ipc://@"), EINVAL);
    CHECK_ERRNO (zmq_connect (s, "ipc://@"), EINVAL);
    CHECK_RC (zmq_close (s), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_bind_ports (ctx);
    test_connect_checks_syntax_only (ctx);
    test_empty_abstract_name (ctx);
    test_ipv6_binds (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("endpoint_rules");
}
