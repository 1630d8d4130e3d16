/* sockopt_values.c: the value rules of zmq_setsockopt that differ between options, as libzmq
 * 4.3 applies them (every expectation was read from Debian's libzmq first):
 *   - booleans of three kinds: exactly 0 or 1 (ZMQ_IPV6, ZMQ_IPV4ONLY, ZMQ_IMMEDIATE,
 *     ZMQ_CONFLATE, ZMQ_STREAM_NOTIFY); any non-negative int (ZMQ_ROUTER_MANDATORY,
 *     ZMQ_XPUB_VERBOSE, ...); any int at all (ZMQ_INVERT_MATCHING);
 *   - ZMQ_HEARTBEAT_TTL is kept in deciseconds rounded toward zero (-99 passes as 0, -100 and
 *     6553600 do not pass, 250 reads back as 200); ZMQ_HEARTBEAT_TIMEOUT takes no negative
 *     value (not even its default -1);
 *   - options a NULL value of length 0 clears, where a non-NULL empty value is EINVAL:
 *     ZMQ_TCP_ACCEPT_FILTER, ZMQ_SOCKS_PROXY, ZMQ_BINDTODEVICE, ZMQ_IPC_FILTER_PID/UID/GID;
 *   - ZMQ_BINDTODEVICE takes at most 16 bytes, kept as given;
 *   - the ipc filters take exactly a pid_t / uid_t / gid_t and cannot be read back. */
#include "testutil.h"

#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

static int set_int (void *s, int option, int value)
{
    return zmq_setsockopt (s, option, &value, sizeof value);
}

static int get_int (void *s, int option)
{
    int v = -12345;
    size_t sz = sizeof v;
    if (zmq_getsockopt (s, option, &v, &sz) != 0)
        return -12345;
    return v;
}

/* Checks set_int(option, value) against want (0, or an errno), naming the case on failure. */
#define CHECK_SET(s, option, value, want)                                      \
    do {                                                                       \
        if ((want) == 0)                                                       \
            CHECK_RC (set_int ((s), (option), (value)), 0);                    \
        else                                                                   \
            CHECK_ERRNO (set_int ((s), (option), (value)), (want));            \
    } while (0)

static void test_booleans (void *ctx)
{
    void *pair = zmq_socket (ctx, ZMQ_PAIR);
    void *stream = zmq_socket (ctx, ZMQ_STREAM);
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *xpub = zmq_socket (ctx, ZMQ_XPUB);
    CHECK (pair && stream && router && xpub);

    /* Exactly 0 or 1. */
    const int strict[] = {ZMQ_IPV6, ZMQ_IPV4ONLY, ZMQ_IMMEDIATE, ZMQ_CONFLATE};
    for (size_t i = 0; i < sizeof strict / sizeof strict[0]; i++) {
        CHECK_SET (pair, strict[i], 1, 0);
        CHECK_SET (pair, strict[i], 0, 0);
        CHECK_SET (pair, strict[i], 2, EINVAL);
        CHECK_SET (pair, strict[i], 1000, EINVAL);
        CHECK_SET (pair, strict[i], -1, EINVAL);
    }
    /* A rejected value leaves the option as it was. */
    CHECK_SET (pair, ZMQ_IMMEDIATE, 1, 0);
    CHECK_SET (pair, ZMQ_IMMEDIATE, 2, EINVAL);
    CHECK_RC (get_int (pair, ZMQ_IMMEDIATE), 1);
    CHECK_SET (stream, ZMQ_STREAM_NOTIFY, 0, 0);
    CHECK_SET (stream, ZMQ_STREAM_NOTIFY, 2, EINVAL);
    CHECK_SET (stream, ZMQ_STREAM_NOTIFY, -1, EINVAL);

    /* Any non-negative int. */
    CHECK_SET (router, ZMQ_ROUTER_MANDATORY, 1000, 0);
    CHECK_SET (router, ZMQ_ROUTER_MANDATORY, -1, EINVAL);
    CHECK_SET (xpub, ZMQ_XPUB_VERBOSE, 2, 0);
    CHECK_SET (xpub, ZMQ_XPUB_VERBOSE, -2, EINVAL);

    /* Any int: a negative one is true. */
    CHECK_SET (pair, ZMQ_INVERT_MATCHING, -1, 0);
    CHECK_RC (get_int (pair, ZMQ_INVERT_MATCHING), 1);
    CHECK_SET (pair, ZMQ_INVERT_MATCHING, 0, 0);
    CHECK_RC (get_int (pair, ZMQ_INVERT_MATCHING), 0);
    CHECK_SET (pair, ZMQ_INVERT_MATCHING, -2, 0);
    CHECK_RC (get_int (pair, ZMQ_INVERT_MATCHING), 1);

    void *all[] = {pair, stream, router, xpub};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        CHECK_RC (zmq_close (all[i]), 0);
}

/* A PUB with a negative ZMQ_INVERT_MATCHING inverts its matching, as with 1. */
static void test_negative_invert_matching_inverts (void *ctx)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    CHECK_SET (pub, ZMQ_INVERT_MATCHING, -1, 0);
    CHECK_SET (sub, ZMQ_INVERT_MATCHING, -1, 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "skip", 4), 0);
    CHECK_RC (zmq_bind (pub, "inproc://sockopt-values-invert"), 0);
    CHECK_RC (zmq_connect (sub, "inproc://sockopt-values-invert"), 0);
    int timeo = 5000;
    CHECK_RC (zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeo, sizeof timeo), 0);
    char buf[16];
    /* The subscription reaches the PUB asynchronously: send until something arrives. */
    int got = -1;
    for (int i = 0; i < 500 && got < 0; i++) {
        CHECK_RC (zmq_send (pub, "skip-me", 7, 0), 7);
        CHECK_RC (zmq_send (pub, "take-me", 7, 0), 7);
        got = zmq_recv (sub, buf, sizeof buf, ZMQ_DONTWAIT);
        if (got < 0)
            usleep (1000);
    }
    CHECK_RC (got, 7);
    CHECK (memcmp (buf, "take-me", 7) == 0);
    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

static void test_heartbeat_ranges (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK_SET (s, ZMQ_HEARTBEAT_TTL, -1, 0);
    CHECK_RC (get_int (s, ZMQ_HEARTBEAT_TTL), 0);
    CHECK_SET (s, ZMQ_HEARTBEAT_TTL, -99, 0);
    CHECK_SET (s, ZMQ_HEARTBEAT_TTL, -100, EINVAL);
    CHECK_SET (s, ZMQ_HEARTBEAT_TTL, 250, 0);
    CHECK_RC (get_int (s, ZMQ_HEARTBEAT_TTL), 200);
    CHECK_SET (s, ZMQ_HEARTBEAT_TTL, 6553599, 0);
    CHECK_RC (get_int (s, ZMQ_HEARTBEAT_TTL), 6553500);
    CHECK_SET (s, ZMQ_HEARTBEAT_TTL, 6553600, EINVAL);
    CHECK_RC (get_int (s, ZMQ_HEARTBEAT_TIMEOUT), -1);
    CHECK_SET (s, ZMQ_HEARTBEAT_TIMEOUT, -1, EINVAL);
    CHECK_SET (s, ZMQ_HEARTBEAT_TIMEOUT, 0, 0);
    CHECK_SET (s, ZMQ_HEARTBEAT_TIMEOUT, 2, 0);
    CHECK_RC (get_int (s, ZMQ_HEARTBEAT_TIMEOUT), 2);
    CHECK_RC (zmq_close (s), 0);
}

static void test_null_clears (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    char buf[64];
    size_t sz;

    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_TCP_ACCEPT_FILTER, "", 0), EINVAL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_TCP_ACCEPT_FILTER, "127.0.0.1", 9), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_TCP_ACCEPT_FILTER, NULL, 0), 0);
    char long_filter[300];
    memset (long_filter, '1', sizeof long_filter);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_TCP_ACCEPT_FILTER, long_filter, 255), EINVAL);

    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_SOCKS_PROXY, "", 0), EINVAL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_SOCKS_PROXY, "127.0.0.1:1080", 14), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SOCKS_PROXY, buf, &sz), 0);
    CHECK_STR (buf, "127.0.0.1:1080");
    CHECK_RC (zmq_setsockopt (s, ZMQ_SOCKS_PROXY, NULL, 0), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_SOCKS_PROXY, buf, &sz), 0);
    CHECK_STR (buf, "");

    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_BINDTODEVICE, "", 0), EINVAL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_BINDTODEVICE, "lo", 2), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_BINDTODEVICE, buf, &sz), 0);
    CHECK_STR (buf, "lo");
    /* At most 16 bytes, kept as given (an embedded NUL too). */
    CHECK_RC (zmq_setsockopt (s, ZMQ_BINDTODEVICE, "0123456789abcdef", 16), 0);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_BINDTODEVICE, "0123456789abcdefg", 17), EINVAL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_BINDTODEVICE, "a\0b", 3), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_BINDTODEVICE, buf, &sz), 0);
    CHECK_RC (sz, 4);
    CHECK (memcmp (buf, "a\0b", 4) == 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_BINDTODEVICE, NULL, 0), 0);
    sz = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_BINDTODEVICE, buf, &sz), 0);
    CHECK_STR (buf, "");
    CHECK_RC (zmq_close (s), 0);
}

static void test_ipc_filter_values (void *ctx)
{
    void *s = zmq_socket (ctx, ZMQ_PULL);
    const int opts[] = {ZMQ_IPC_FILTER_PID, ZMQ_IPC_FILTER_UID, ZMQ_IPC_FILTER_GID};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        uint32_t id = 4242;
        uint64_t wide = 4242;
        CHECK_RC (zmq_setsockopt (s, opts[i], &id, sizeof id), 0);
        CHECK_RC (zmq_setsockopt (s, opts[i], &id, sizeof id), 0);
        CHECK_ERRNO (zmq_setsockopt (s, opts[i], &wide, sizeof wide), EINVAL);
        CHECK_ERRNO (zmq_setsockopt (s, opts[i], "", 0), EINVAL);
        CHECK_RC (zmq_setsockopt (s, opts[i], NULL, 0), 0);
        char buf[16];
        size_t sz = sizeof buf;
        CHECK_ERRNO (zmq_getsockopt (s, opts[i], buf, &sz), EINVAL);
    }
    pid_t pid = getpid ();
    uid_t uid = getuid ();
    gid_t gid = getgid ();
    CHECK_RC (zmq_setsockopt (s, ZMQ_IPC_FILTER_PID, &pid, sizeof pid), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_IPC_FILTER_UID, &uid, sizeof uid), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_IPC_FILTER_GID, &gid, sizeof gid), 0);
    CHECK_RC (zmq_close (s), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_booleans (ctx);
    test_negative_invert_matching_inverts (ctx);
    test_heartbeat_ranges (ctx);
    test_null_clears (ctx);
    test_ipc_filter_values (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("sockopt_values");
}
