/* accept_filter.c: the filters a listener applies to the peers it accepts (zmq_setsockopt(3)):
 * ZMQ_TCP_ACCEPT_FILTER over tcp (address/mask), ZMQ_IPC_FILTER_PID / _UID / _GID over ipc
 * (deprecated, still documented: the peer's process, user or group id from SO_PEERCRED). With
 * no filter every peer is accepted; with filters, a matching peer is accepted and any other one
 * is closed before its handshake, so its messages never arrive, and the listening socket's
 * monitor reports ZMQ_EVENT_ACCEPT_FAILED (its value is 0 over ipc; over tcp libzmq leaves
 * whatever errno held, so only the event is checked). The filters in force are those set
 * before zmq_bind; a NULL value clears them. The peer here is this very process. */
// transports: tcp ipc
#include "testutil.h"

#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/* A PAIR reading the events of s selected by mask. */
static void *monitor (void *ctx, void *s, const char *what, const char *name, int mask)
{
    char ep[96];
    snprintf (ep, sizeof ep, "inproc://accept-filter-%s-%s", what, name);
    CHECK_RC (zmq_socket_monitor (s, ep, mask), 0);
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    int zero = 0, timeo = 5000;
    zmq_setsockopt (mon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (mon, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    CHECK_RC (zmq_connect (mon, ep), 0);
    return mon;
}

/* Binds a PULL after applying the filter (option, id) when option is non-zero, connects a PUSH
 * with a monitor of its disconnects, and answers 1 if a message went through, 0 if the PULL
 * closed the connection (a disconnect seen by the PUSH, an accept failure of value 0 reported
 * by the PULL, and nothing received), -1 otherwise. */
static int
try_peer (void *ctx, const char *name, int option, const void *val, size_t len, int clear_first)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int zero = 0;
    zmq_setsockopt (pull, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (push, ZMQ_LINGER, &zero, sizeof zero);
    if (option != 0) {
        CHECK_RC (zmq_setsockopt (pull, option, val, len), 0);
        if (clear_first)
            CHECK_RC (zmq_setsockopt (pull, option, NULL, 0), 0);
    }
    char ep[256];
    CHECK_RC (tu_bind (pull, name, ep, sizeof ep), 0);

    void *mon = monitor (ctx, push, "push", name, ZMQ_EVENT_DISCONNECTED);
    void *pull_mon = monitor (ctx, pull, "pull", name, ZMQ_EVENT_ACCEPT_FAILED);

    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "hello", 5, 0), 5);

    int result = -1;
    int short_wait = 200;
    zmq_setsockopt (pull, ZMQ_RCVTIMEO, &short_wait, sizeof short_wait);
    char buf[8];
    /* Either the message arrives (within 5 s), or the PUSH reports the PULL closing the
     * connection; the outcome is decided by whichever comes first. */
    for (int i = 0; i < 25; i++) {
        int n = zmq_recv (pull, buf, sizeof buf, 0);
        if (n == 5 && memcmp (buf, "hello", 5) == 0) {
            result = 1;
            break;
        }
        zmq_pollitem_t item = {mon, 0, ZMQ_POLLIN, 0};
        uint32_t value = 1;
        if (zmq_poll (&item, 1, 0) == 1 && tu_read_event (mon, &value) == ZMQ_EVENT_DISCONNECTED) {
            int nothing = zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT) < 0 && errno == EAGAIN;
            int reported = tu_read_event (pull_mon, &value) == ZMQ_EVENT_ACCEPT_FAILED
                           && (value == 0 || tu_transport () == TU_TCP);
            result = nothing && reported ? 0 : -1;
            break;
        }
    }
    CHECK_RC (zmq_socket_monitor (push, NULL, 0), 0);
    CHECK_RC (zmq_socket_monitor (pull, NULL, 0), 0);
    CHECK_RC (zmq_close (mon), 0);
    CHECK_RC (zmq_close (pull_mon), 0);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (pull), 0);
    return result;
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_RC (try_peer (ctx, "no-filter", 0, NULL, 0, 0), 1);
    if (tu_transport () == TU_TCP) {
        CHECK_RC (try_peer (ctx, "loopback", ZMQ_TCP_ACCEPT_FILTER, "127.0.0.1", 9, 0), 1);
        CHECK_RC (try_peer (ctx, "loopback-net", ZMQ_TCP_ACCEPT_FILTER, "127.0.0.0/8", 11, 0), 1);
        CHECK_RC (try_peer (ctx, "other-host", ZMQ_TCP_ACCEPT_FILTER, "10.1.2.3", 8, 0), 0);
        CHECK_RC (try_peer (ctx, "cleared", ZMQ_TCP_ACCEPT_FILTER, "10.1.2.3", 8, 1), 1);
    } else {
        unsigned int pid = (unsigned int) getpid ();
        unsigned int uid = (unsigned int) getuid ();
        unsigned int gid = (unsigned int) getgid ();
        unsigned int other_uid = uid + 1, other_pid = pid + 1, other_gid = gid + 12345;
        CHECK_RC (try_peer (ctx, "own-uid", ZMQ_IPC_FILTER_UID, &uid, 4, 0), 1);
        CHECK_RC (try_peer (ctx, "other-uid", ZMQ_IPC_FILTER_UID, &other_uid, 4, 0), 0);
        CHECK_RC (try_peer (ctx, "own-pid", ZMQ_IPC_FILTER_PID, &pid, 4, 0), 1);
        CHECK_RC (try_peer (ctx, "other-pid", ZMQ_IPC_FILTER_PID, &other_pid, 4, 0), 0);
        CHECK_RC (try_peer (ctx, "own-gid", ZMQ_IPC_FILTER_GID, &gid, 4, 0), 1);
        CHECK_RC (try_peer (ctx, "other-gid", ZMQ_IPC_FILTER_GID, &other_gid, 4, 0), 0);
        CHECK_RC (try_peer (ctx, "cleared", ZMQ_IPC_FILTER_UID, &other_uid, 4, 1), 1);
    }

    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("accept_filter");
}
