/* term.c: context termination and context options.
 *   - zmq_ctx_term wakes a thread blocked in zmq_recv (or zmq_send, or zmq_poll) with ETERM,
 *     then blocks until every socket is closed;
 *   - zmq_ctx_shutdown wakes blocked calls with ETERM without waiting for anything; afterwards
 *     zmq_socket fails with ETERM, every socket call but zmq_close fails with ETERM, and
 *     zmq_close still works;
 *   - the legacy zmq_init/zmq_term/zmq_ctx_destroy;
 *   - zmq_ctx_set/zmq_ctx_get: defaults, round trips, invalid options and values, NULL;
 *   - the I/O thread options take effect: ZMQ_THREAD_NAME_PREFIX names the thread
 *     "<prefix>/ZMQbg/IO/0", ZMQ_THREAD_SCHED_POLICY sets its policy and
 *     ZMQ_THREAD_AFFINITY_CPU_ADD/_REMOVE its CPUs (read back from /proc/self/task).
 *
 * After a shutdown, libzmq notices it on a socket only when that socket next processes its
 * commands: a blocking call, a non-blocking zmq_recv that finds nothing, zmq_bind/zmq_connect
 * or ZMQ_EVENTS; from then on every call sees ETERM. The tests follow that order.
 *
 * The sockets' endpoints are inproc, tcp or ipc (the context tests are the same in every run).
 * Over tcp and ipc what a socket sent before zmq_close reaches its peer through the default
 * infinite ZMQ_LINGER: the close-after-send cases wait for it (receive timeout 5 s). */
// transports: inproc tcp ipc
#define _GNU_SOURCE /* SCHED_IDLE */
#include "testutil.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void msleep (long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A flag shared with another thread. */
static int load_flag (int *p)
{
    return __atomic_load_n (p, __ATOMIC_SEQ_CST);
}
static void store_flag (int *p, int v)
{
    __atomic_store_n (p, v, __ATOMIC_SEQ_CST);
}

/* ---- a thread blocked in a call on its own socket ---------------------------------------- */

enum op { OP_RECV, OP_SEND, OP_POLL };

struct blocked
{
    void *sock;
    enum op op;
    int started;      /* set just before the blocking call */
    int rc, err;      /* what the call returned */
    int closing;      /* set just before zmq_close */
    int close_rc;
    int wait_for_go;  /* close only once `go` is set */
    int go;
    long linger_ms;   /* pause between the ETERM and the close */
    pthread_t thread;
};

static void *blocked_main (void *arg)
{
    struct blocked *b = (struct blocked *) arg;
    char buf[16];
    store_flag (&b->started, 1);
    switch (b->op) {
        case OP_RECV:
            b->rc = zmq_recv (b->sock, buf, sizeof buf, 0);
            break;
        case OP_SEND:
            b->rc = zmq_send (b->sock, "x", 1, 0);
            break;
        case OP_POLL: {
            zmq_pollitem_t item = {b->sock, 0, ZMQ_POLLIN, 0};
            b->rc = zmq_poll (&item, 1, -1);
            break;
        }
    }
    b->err = zmq_errno ();
    while (b->wait_for_go && !load_flag (&b->go))
        msleep (1);
    if (b->linger_ms)
        msleep (b->linger_ms);
    store_flag (&b->closing, 1);
    b->close_rc = zmq_close (b->sock);
    return NULL;
}

static void start_blocked (struct blocked *b, void *sock, enum op op, long linger_ms,
                           int wait_for_go)
{
    memset (b, 0, sizeof *b);
    b->sock = sock;
    b->op = op;
    b->linger_ms = linger_ms;
    b->wait_for_go = wait_for_go;
    CHECK_RC (pthread_create (&b->thread, NULL, blocked_main, b), 0);
    /* Give the thread a moment to be inside the call. Either way the call must end with ETERM:
     * a call made after the termination fails with ETERM at once. */
    while (!load_flag (&b->started))
        msleep (1);
    msleep (20);
}

/* zmq_ctx_term wakes blocked calls with ETERM and returns only after their sockets are closed. */
static void test_term_wakes_and_waits (void)
{
    void *ctx = zmq_ctx_new ();
    void *r = zmq_socket (ctx, ZMQ_PAIR);
    char ep[256];
    CHECK_RC (tu_bind (r, "term-recv", ep, sizeof ep), 0);
    void *p = zmq_socket (ctx, ZMQ_PULL);
    char ep2[256];
    CHECK_RC (tu_bind (p, "term-poll", ep2, sizeof ep2), 0);
    void *push = zmq_socket (ctx, ZMQ_PUSH); /* no peer: a send blocks */

    struct blocked br, bp, bs;
    /* The receiver pauses before closing: a zmq_ctx_term that did not wait would return then. */
    start_blocked (&br, r, OP_RECV, 100, 0);
    start_blocked (&bp, p, OP_POLL, 0, 0);
    start_blocked (&bs, push, OP_SEND, 0, 0);

    CHECK_RC (zmq_ctx_term (ctx), 0);
    /* Each thread sets `closing` before zmq_close: all are set once zmq_ctx_term returns. */
    CHECK_RC (load_flag (&br.closing), 1);
    CHECK_RC (load_flag (&bp.closing), 1);
    CHECK_RC (load_flag (&bs.closing), 1);

    struct blocked *all[] = {&br, &bp, &bs};
    for (int i = 0; i < 3; i++) {
        CHECK_RC (pthread_join (all[i]->thread, NULL), 0);
        CHECK_RC (all[i]->rc, -1);
        CHECK_RC (all[i]->err, ETERM);
        CHECK_RC (all[i]->close_rc, 0);
    }
}

/* zmq_ctx_shutdown wakes blocked calls without waiting for any socket to close. */
static void test_shutdown (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PAIR); /* the main thread's own socket */
    char ep[256];
    CHECK_RC (tu_bind (s, "shutdown-main", ep, sizeof ep), 0);
    void *t = zmq_socket (ctx, ZMQ_PAIR);
    CHECK_RC (zmq_connect (t, ep), 0);

    struct blocked b;
    start_blocked (&b, t, OP_RECV, 0, 1); /* keeps its socket open until told */

    CHECK_RC (zmq_ctx_shutdown (ctx), 0); /* returns although two sockets are open */
    CHECK_RC (zmq_ctx_shutdown (ctx), 0); /* idempotent */

    /* No new sockets. */
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_PAIR), ETERM);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_ROUTER), ETERM);

    /* Every call on an existing socket fails with ETERM (see the note at the top on order). */
    char buf[16];
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), ETERM);
    CHECK_ERRNO (zmq_recv (s, buf, sizeof buf, 0), ETERM);
    CHECK_ERRNO (zmq_send (s, "x", 1, 0), ETERM);
    CHECK_ERRNO (zmq_send (s, "x", 1, ZMQ_DONTWAIT), ETERM);
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init_size (&m, 3), 0);
    CHECK_ERRNO (zmq_msg_send (&m, s, 0), ETERM);
    CHECK_ERRNO (zmq_msg_recv (&m, s, ZMQ_DONTWAIT), ETERM);
    CHECK_RC (zmq_msg_close (&m), 0);
    char other[256];
    CHECK_RC (tu_endpoint ("shutdown-other", other, sizeof other), 0);
    CHECK_ERRNO (zmq_bind (s, other), ETERM);
    CHECK_ERRNO (zmq_connect (s, other), ETERM);
    CHECK_ERRNO (zmq_unbind (s, ep), ETERM);
    int linger = 0;
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger), ETERM);
    int type = -1;
    size_t sz = sizeof type;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_TYPE, &type, &sz), ETERM);
    sz = sizeof type;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_EVENTS, &type, &sz), ETERM);
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    CHECK_ERRNO (zmq_poll (&item, 1, 0), ETERM);
    CHECK_ERRNO (zmq_poll (&item, 1, -1), ETERM);

    /* Closing still works, on this thread's socket and on the blocked thread's. */
    CHECK_RC (zmq_close (s), 0);
    store_flag (&b.go, 1);
    CHECK_RC (pthread_join (b.thread, NULL), 0);
    CHECK_RC (b.rc, -1);
    CHECK_RC (b.err, ETERM);
    CHECK_RC (b.close_rc, 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* zmq_ctx_term on a context whose sockets are all closed returns at once; so does a context
 * that never had one. */
static void test_term_simple (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    CHECK_RC (zmq_ctx_term (ctx), 0);

    ctx = zmq_ctx_new ();
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    char ep[256];
    CHECK_RC (tu_bind (a, "simple", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (b, ep), 0);
    CHECK_RC (zmq_send (b, "unread", 6, 0), 6); /* an unread message does not hold it up */
    zmq_pollitem_t it = {a, 0, ZMQ_POLLIN, 0};
    CHECK_RC (zmq_poll (&it, 1, 10000), 1); /* there, unread (over tcp and ipc: arrived) */
    CHECK_RC (zmq_close (a), 0);
    CHECK_RC (zmq_close (b), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* What a socket sent just before zmq_close still reaches its peer, with everything the peer
 * needs to handle it: a ROUTER still sees the sender's routing id, a REQ still takes the
 * reply of a REP that closed at once. */
static void test_close_after_send (void)
{
    void *ctx = zmq_ctx_new ();
    char buf[16];

    int timeout = 5000; /* a lost message fails the check instead of hanging */
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    char ep[256];
    CHECK_RC (tu_bind (pull, "close-push", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (push, ep), 0);
    CHECK_RC (zmq_send (push, "last", 4, ZMQ_SNDMORE), 4);
    CHECK_RC (zmq_send (push, "words", 5, 0), 5);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, 0), 4);
    CHECK_RC (zmq_recv (pull, buf, sizeof buf, 0), 5);
    CHECK_ERRNO (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    CHECK_RC (zmq_close (pull), 0);

    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    CHECK_RC (zmq_setsockopt (router, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "leaver", 6), 0);
    char ep2[256];
    CHECK_RC (tu_bind (router, "close-router", ep2, sizeof ep2), 0);
    CHECK_RC (zmq_connect (dealer, ep2), 0);
    CHECK_RC (zmq_send (dealer, "hello", 5, 0), 5);
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 6);
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 5);
    CHECK_RC (zmq_send (dealer, "bye", 3, 0), 3);
    CHECK_RC (zmq_close (dealer), 0);
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 6);
    CHECK (memcmp (buf, "leaver", 6) == 0);
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 3);
    CHECK (memcmp (buf, "bye", 3) == 0);
    CHECK_RC (zmq_close (router), 0);

    void *req = zmq_socket (ctx, ZMQ_REQ);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    CHECK_RC (zmq_setsockopt (req, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    CHECK_RC (zmq_setsockopt (rep, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    char ep3[256];
    CHECK_RC (tu_bind (rep, "close-rep", ep3, sizeof ep3), 0);
    CHECK_RC (zmq_connect (req, ep3), 0);
    CHECK_RC (zmq_send (req, "q", 1, 0), 1);
    CHECK_RC (zmq_recv (rep, buf, sizeof buf, 0), 1);
    CHECK_RC (zmq_send (rep, "answer", 6, 0), 6);
    CHECK_RC (zmq_close (rep), 0);
    CHECK_RC (zmq_recv (req, buf, sizeof buf, 0), 6);
    CHECK (memcmp (buf, "answer", 6) == 0);
    CHECK_RC (zmq_close (req), 0);

    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ZMQ_BLOCKY off: sockets created afterwards start with ZMQ_LINGER 0, so zmq_ctx_term does not
 * wait for a message that can never leave (those created before keep -1). */
static void test_not_blocky (void)
{
    void *ctx = zmq_ctx_new ();
    void *before = zmq_socket (ctx, ZMQ_PUSH);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_BLOCKY, 0), 0);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int linger = -2;
    size_t sz = sizeof linger;
    CHECK_RC (zmq_getsockopt (push, ZMQ_LINGER, &linger, &sz), 0);
    CHECK_RC (linger, 0);
    sz = sizeof linger;
    CHECK_RC (zmq_getsockopt (before, ZMQ_LINGER, &linger, &sz), 0);
    CHECK_RC (linger, -1);
    char nowhere[256];
    CHECK_RC (tu_endpoint ("blocky-nowhere", nowhere, sizeof nowhere), 0);
    CHECK_RC (zmq_connect (push, nowhere), 0);
    CHECK_RC (zmq_send (push, "stuck", 5, 0), 5);
    CHECK_RC (zmq_close (push), 0);
    CHECK_RC (zmq_close (before), 0);
    /* Returns at once (a hang here ends in the runner's timeout). */
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

static void test_legacy (void)
{
    void *ctx = zmq_init (1);
    CHECK (ctx != NULL);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 1);
    void *s = zmq_socket (ctx, ZMQ_REQ);
    CHECK (s != NULL);
    CHECK_RC (zmq_close (s), 0);
    CHECK_RC (zmq_term (ctx), 0);

    ctx = zmq_init (0);
    CHECK (ctx != NULL);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 0);
    CHECK_RC (zmq_ctx_destroy (ctx), 0);

    ctx = zmq_init (3);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 3);
    CHECK_RC (zmq_ctx_shutdown (ctx), 0);
    CHECK_RC (zmq_term (ctx), 0);

    CHECK_NULL_ERRNO (zmq_init (-1), EINVAL);
    CHECK_ERRNO (zmq_term (NULL), EFAULT);
    CHECK_ERRNO (zmq_ctx_destroy (NULL), EFAULT);
}

static void test_options (void)
{
    void *ctx = zmq_ctx_new ();
    /* Defaults. */
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 1);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 1023);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), ZMQ_MAX_SOCKETS_DFLT);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_SOCKET_LIMIT), 65535);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE), 64);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE), (int) sizeof (zmq_msg_t));
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IPV6), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_BLOCKY), 1);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), INT_MAX);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY), ZMQ_THREAD_SCHED_POLICY_DFLT);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_THREAD_NAME_PREFIX), 0);

    /* Round trips. */
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 2), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 2);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 200), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 200);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_IPV6, 1), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IPV6), 1);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_BLOCKY, 0), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_BLOCKY), 0);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_BLOCKY, 5), 0); /* a boolean */
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_BLOCKY), 1);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, 1000), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), 1000);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 42), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_THREAD_NAME_PREFIX), 42);
    /* Settable only: the thread options. */
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_PRIORITY, 10), 0);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 0), 0);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0), 0);
    /* Removing a CPU that is not in the set is an error. */
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0), EINVAL);
    /* ZMQ_SOCKET_LIMIT is ZMQ_THREAD_PRIORITY's number: setting it does not change the limit. */
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_SOCKET_LIMIT), 65535);

    /* Invalid options and values leave the values alone. */
    CHECK_ERRNO (zmq_ctx_get (ctx, 12345), EINVAL);
    CHECK_ERRNO (zmq_ctx_get (ctx, -1), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, 12345, 1), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_IO_THREADS, -1), EINVAL);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 2);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 0), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, -5), EINVAL);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 200);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_IPV6, -1), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, -1), EINVAL);
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_MSG_T_SIZE, 64), EINVAL); /* read-only */
    CHECK_ERRNO (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, -2), EINVAL);
    CHECK_ERRNO (zmq_ctx_get (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD), EINVAL); /* set-only */
    CHECK_RC (zmq_ctx_term (ctx), 0);

    /* NULL and foreign pointers. */
    CHECK_ERRNO (zmq_ctx_term (NULL), EFAULT);
    CHECK_ERRNO (zmq_ctx_shutdown (NULL), EFAULT);
    CHECK_ERRNO (zmq_ctx_get (NULL, ZMQ_IO_THREADS), EFAULT);
    CHECK_ERRNO (zmq_ctx_set (NULL, ZMQ_IO_THREADS, 1), EFAULT);
    CHECK_NULL_ERRNO (zmq_socket (NULL, ZMQ_PAIR), EFAULT);
    static long long not_a_context[16]; /* zeroed, aligned: no valid tag */
    CHECK_ERRNO (zmq_ctx_term (not_a_context), EFAULT);
    CHECK_ERRNO (zmq_ctx_get (not_a_context, ZMQ_IO_THREADS), EFAULT);
}

/* ZMQ_MAX_SOCKETS limits the open sockets (EMFILE past it). libzmq sizes its socket table when
 * the first socket is created: later changes are reported by zmq_ctx_get but not enforced. */
static void test_max_sockets (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 2), 0);
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PUB);
    CHECK (a != NULL && b != NULL);
    CHECK_NULL_ERRNO (zmq_socket (ctx, ZMQ_SUB), EMFILE);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 5), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 5);
    void *c = zmq_socket (ctx, ZMQ_SUB);
    int err = zmq_errno ();
    CHECK (c == NULL && err == EMFILE);
    if (c)
        zmq_close (c);
    CHECK_RC (zmq_close (a), 0);
    CHECK_RC (zmq_close (b), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);

    ctx = zmq_ctx_new ();
    a = zmq_socket (ctx, ZMQ_PAIR);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 1), 0);
    b = zmq_socket (ctx, ZMQ_PAIR); /* still within the default 1023 */
    CHECK (b != NULL);
    CHECK_RC (zmq_close (a), 0);
    if (b)
        CHECK_RC (zmq_close (b), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

/* ---- the I/O thread options --------------------------------------------------------------- */

/* The id of this process's thread named `name`, or -1. */
static long task_named (const char *name)
{
    DIR *d = opendir ("/proc/self/task");
    if (!d)
        return -1;
    long found = -1;
    struct dirent *e;
    while (found < 0 && (e = readdir (d)) != NULL) {
        char path[300], comm[64] = "";
        snprintf (path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        if (fgets (comm, sizeof comm, f)) {
            comm[strcspn (comm, "\n")] = 0;
            if (strcmp (comm, name) == 0)
                found = atol (e->d_name);
        }
        fclose (f);
    }
    closedir (d);
    return found;
}

/* A task's scheduling policy: field 41 of its stat line (fields after the command counted
 * from the closing parenthesis). -1 if unreadable. */
static int task_policy (long tid)
{
    char path[64], line[1024];
    snprintf (path, sizeof path, "/proc/self/task/%ld/stat", tid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    char *ok = fgets (line, sizeof line, f);
    fclose (f);
    char *p = ok ? strrchr (line, ')') : NULL;
    if (!p)
        return -1;
    /* After ") " comes field 3; the policy is field 41. */
    int field = 2;
    for (; *p && field < 41; p++)
        if (*p == ' ')
            field++;
    return atoi (p);
}

/* A task's allowed CPUs as the kernel prints them ("0", "0-1", ...), into out. */
static void task_cpus (long tid, char *out, size_t len)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/self/task/%ld/status", tid);
    out[0] = 0;
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    while (fgets (line, sizeof line, f)) {
        if (strncmp (line, "Cpus_allowed_list:", 18) == 0) {
            char *v = line + 18;
            v += strspn (v, " \t");
            v[strcspn (v, "\n")] = 0;
            snprintf (out, len, "%s", v);
        }
    }
    fclose (f);
}

static void test_io_thread_options (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 42), 0);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_IDLE), 0);
    CHECK_RC (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY), SCHED_IDLE);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 0), 0);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 1), 0);
    CHECK_RC (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 1), 0);
    /* A tcp endpoint needs the I/O thread, whenever a library starts it. */
    void *s = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (zmq_bind (s, "tcp://127.0.0.1:*"), 0);
    /* The thread names itself (and applies its settings) once running: give it time. */
    long tid = -1;
    for (int i = 0; i < 500 && tid < 0; i++) {
        tid = task_named ("42/ZMQbg/IO/0");
        if (tid < 0)
            msleep (10);
    }
    CHECK (tid > 0);
    if (tid > 0) {
        for (int i = 0; i < 200 && task_policy (tid) != SCHED_IDLE; i++)
            msleep (10);
        CHECK_RC (task_policy (tid), SCHED_IDLE);
        char cpus[64];
        task_cpus (tid, cpus, sizeof cpus);
        CHECK (strcmp (cpus, "0") == 0);
    }
    CHECK (task_named ("ZMQbg/IO/0") < 0);
    CHECK_RC (zmq_close (s), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
}

int main (void)
{
    test_term_simple ();
    test_close_after_send ();
    test_not_blocky ();
    test_term_wakes_and_waits ();
    test_shutdown ();
    test_legacy ();
    test_options ();
    test_max_sockets ();
    test_io_thread_options ();
    return TEST_SUMMARY ("term");
}
