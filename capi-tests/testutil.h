/* testutil.h: the small self-checking helpers our C API tests share (ours, not libzmq's).
 *
 * A test is one program: it runs CHECKs, prints only deterministic text on stdout (the runner
 * compares the stdout of the same binary run against Debian's libzmq and against ours), and
 * ends with `return TEST_SUMMARY("name");`, which prints the closing line
 * `name: N passed, N failed` and yields the exit code (0 only when nothing failed).
 *
 *   CHECK(cond)                  cond must be true
 *   CHECK_RC(expr, want)         the int expression must equal want (prints what it got)
 *   CHECK_ERRNO(expr, err)       the int expression must return -1 with zmq_errno() == err
 *   CHECK_NULL_ERRNO(expr, err)  the pointer expression must return NULL with zmq_errno() == err
 *   CHECK_STR(a, b)              two C strings must be equal (NULL never equals anything)
 *
 * Transports. A pattern test that runs over inproc, tcp and ipc (one source, three runs) says
 * so with a line `// transports: inproc tcp ipc` (the runner reads it and sets
 * ZMQ_TEST_TRANSPORT for each run) and names its endpoints logically:
 *
 *   tu_transport ()              TU_INPROC, TU_TCP or TU_IPC, from ZMQ_TEST_TRANSPORT (unset
 *                                means inproc; anything else ends the program with status 2)
 *   tu_bind (s, name, ep, cap)   binds s to inproc://name, tcp://127.0.0.1:* or ipc://DIR/name
 *                                (DIR: a fresh directory of this process) and writes to ep the
 *                                endpoint peers connect to: ZMQ_LAST_ENDPOINT, so for tcp the
 *                                port the kernel chose. Returns zmq_bind's result.
 *   tu_endpoint (name, ep, cap)  an endpoint to connect to before anything is bound there, and
 *   tu_bind_endpoint (s, ep)     then to bind: inproc://name, ipc://DIR/name, or for tcp a
 *                                127.0.0.1 port this process holds (bound, not listening, so
 *                                connects are refused and retried) until tu_bind_endpoint
 *                                hands it over to s. tu_endpoint returns 0, or -1.
 *   tu_monitor (ctx, s, &m)      before s binds or connects: counts its completed connections
 *   tu_wait_connections (&m, n)  waits until n connections of s have completed their handshake
 *                                (tcp, ipc) and makes s take in its new peers (it reads
 *                                ZMQ_EVENTS, which processes pending commands, so every peer's
 *                                pipe is attached when it returns); 1 on success, 0 after 10 s
 *   tu_monitor_stop (&m)         stops the monitor (before s is closed)
 *
 * Over tcp and ipc delivery is asynchronous: a test waits for what it expects (blocking
 * receives, zmq_poll) and never sleeps for things to settle. TEST_SUMMARY of a test that asked
 * for its transport prints `name@transport: ...` (and under ipc removes DIR).
 *
 * Compiles with -Wall -Wextra -Werror against Debian's zmq.h and ours. Not thread-safe:
 * call the CHECK macros from the main thread only (the transport helpers are thread-safe). */
#ifndef LIBZMQ_RS_TESTUTIL_H
#define LIBZMQ_RS_TESTUTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int tu_passed_;
static int tu_failed_;

static inline void tu_record_ (int ok, const char *file, int line, const char *what)
{
    if (ok) {
        tu_passed_++;
    } else {
        tu_failed_++;
        printf ("FAIL %s:%d: %s\n", file, line, what);
        fflush (stdout);
    }
}

#define CHECK(cond) tu_record_ ((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_RC(expr, want)                                                   \
    do {                                                                       \
        long tu_rc_ = (long) (expr);                                           \
        int tu_errno_ = zmq_errno ();                                          \
        tu_record_ (tu_rc_ == (long) (want), __FILE__, __LINE__,               \
                    #expr " == " #want);                                       \
        if (tu_rc_ != (long) (want))                                           \
            printf ("     got %ld (errno %d: %s)\n", tu_rc_, tu_errno_,        \
                    zmq_strerror (tu_errno_));                                 \
    } while (0)

#define CHECK_ERRNO(expr, err)                                                 \
    do {                                                                       \
        errno = 0;                                                             \
        long tu_rc_ = (long) (expr);                                           \
        int tu_errno_ = zmq_errno ();                                          \
        int tu_ok_ = tu_rc_ == -1 && tu_errno_ == (err);                       \
        tu_record_ (tu_ok_, __FILE__, __LINE__,                                \
                    #expr " fails with " #err);                                \
        if (!tu_ok_)                                                           \
            printf ("     got %ld (errno %d: %s)\n", tu_rc_, tu_errno_,        \
                    zmq_strerror (tu_errno_));                                 \
    } while (0)

#define CHECK_NULL_ERRNO(expr, err)                                            \
    do {                                                                       \
        errno = 0;                                                             \
        const void *tu_p_ = (const void *) (expr);                             \
        int tu_errno_ = zmq_errno ();                                          \
        int tu_ok_ = tu_p_ == NULL && tu_errno_ == (err);                      \
        tu_record_ (tu_ok_, __FILE__, __LINE__,                                \
                    #expr " is NULL with " #err);                              \
        if (!tu_ok_)                                                           \
            printf ("     got %s (errno %d: %s)\n",                           \
                    tu_p_ ? "non-NULL" : "NULL", tu_errno_,                    \
                    zmq_strerror (tu_errno_));                                 \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *tu_a_ = (a);                                               \
        const char *tu_b_ = (b);                                               \
        int tu_ok_ = tu_a_ != NULL && tu_b_ != NULL && strcmp (tu_a_, tu_b_) == 0; \
        tu_record_ (tu_ok_, __FILE__, __LINE__, #a " equals " #b);             \
        if (!tu_ok_)                                                           \
            printf ("     got \"%s\" and \"%s\"\n", tu_a_ ? tu_a_ : "(null)",  \
                    tu_b_ ? tu_b_ : "(null)");                                 \
    } while (0)

/* ---- transports ---------------------------------------------------------------------- */

enum { TU_INPROC, TU_TCP, TU_IPC };

static pthread_once_t tu_once_ = PTHREAD_ONCE_INIT;
static int tu_transport_;
static int tu_transport_asked_;
static char tu_ipc_dir_[64];

static void tu_transport_init_ (void)
{
    const char *t = getenv ("ZMQ_TEST_TRANSPORT");
    if (t == NULL || strcmp (t, "inproc") == 0)
        tu_transport_ = TU_INPROC;
    else if (strcmp (t, "tcp") == 0)
        tu_transport_ = TU_TCP;
    else if (strcmp (t, "ipc") == 0)
        tu_transport_ = TU_IPC;
    else {
        fprintf (stderr, "ZMQ_TEST_TRANSPORT=%s: not inproc, tcp or ipc\n", t);
        exit (2);
    }
    if (tu_transport_ == TU_IPC) {
        strcpy (tu_ipc_dir_, "/tmp/zmq-test-XXXXXX");
        if (mkdtemp (tu_ipc_dir_) == NULL) {
            perror ("mkdtemp");
            exit (2);
        }
    }
    __atomic_store_n (&tu_transport_asked_, 1, __ATOMIC_SEQ_CST);
}

static inline int tu_transport (void)
{
    pthread_once (&tu_once_, tu_transport_init_);
    return tu_transport_;
}

static inline const char *tu_transport_name (void)
{
    const int t = tu_transport ();
    return t == TU_TCP ? "tcp" : t == TU_IPC ? "ipc" : "inproc";
}

/* tcp ports reserved by tu_endpoint: bound (not listening) plain sockets, so that nobody else
 * takes the port and a connect to it is refused (and retried) until tu_bind_endpoint. */
static pthread_mutex_t tu_reserved_lock_ = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int port, fd;
} tu_reserved_[64];

static inline int tu_reserve_tcp_port_ (void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    a.sin_port = 0;
    const int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) != 0
        || getsockname (fd, (struct sockaddr *) &a, &len) != 0) {
        close (fd);
        return -1;
    }
    int port = -1;
    pthread_mutex_lock (&tu_reserved_lock_);
    for (size_t i = 0; i < sizeof tu_reserved_ / sizeof tu_reserved_[0]; i++)
        if (tu_reserved_[i].port == 0) {
            tu_reserved_[i].port = port = ntohs (a.sin_port);
            tu_reserved_[i].fd = fd;
            break;
        }
    pthread_mutex_unlock (&tu_reserved_lock_);
    if (port < 0)
        close (fd);
    return port;
}

static inline void tu_release_tcp_port_ (int port)
{
    pthread_mutex_lock (&tu_reserved_lock_);
    for (size_t i = 0; i < sizeof tu_reserved_ / sizeof tu_reserved_[0]; i++)
        if (tu_reserved_[i].port == port) {
            close (tu_reserved_[i].fd);
            tu_reserved_[i].port = 0;
        }
    pthread_mutex_unlock (&tu_reserved_lock_);
}

static inline int tu_endpoint (const char *name, char *ep, size_t cap)
{
    int n = -1, port;
    switch (tu_transport ()) {
        case TU_INPROC: n = snprintf (ep, cap, "inproc://%s", name); break;
        case TU_IPC: n = snprintf (ep, cap, "ipc://%s/%s", tu_ipc_dir_, name); break;
        case TU_TCP:
            port = tu_reserve_tcp_port_ ();
            if (port < 0)
                return -1;
            n = snprintf (ep, cap, "tcp://127.0.0.1:%d", port);
            break;
    }
    if (n < 0 || (size_t) n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static inline int tu_bind_endpoint (void *s, const char *ep)
{
    if (strncmp (ep, "tcp://127.0.0.1:", 16) == 0)
        tu_release_tcp_port_ (atoi (ep + 16));
    return zmq_bind (s, ep);
}

static inline int tu_bind (void *s, const char *name, char *ep, size_t cap)
{
    char want[256];
    if (tu_transport () == TU_TCP)
        snprintf (want, sizeof want, "tcp://127.0.0.1:*");
    else if (tu_endpoint (name, want, sizeof want) != 0)
        return -1;
    const int rc = zmq_bind (s, want);
    if (rc != 0)
        return rc;
    size_t len = cap;
    if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        return -1;
    return 0;
}

/* ---- counting completed connections ---------------------------------------------------- */

typedef struct {
    void *sock; /* the monitored socket */
    void *pair; /* reads its events (NULL over inproc: no handshakes there) */
    int done;   /* handshakes seen so far */
} tu_monitor_t;

static inline int tu_monitor (void *ctx, void *s, tu_monitor_t *m)
{
    static int counter;
    m->sock = s;
    m->pair = NULL;
    m->done = 0;
    if (tu_transport () == TU_INPROC)
        return 0;
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://tu-monitor-%d",
              __atomic_add_fetch (&counter, 1, __ATOMIC_SEQ_CST));
    if (zmq_socket_monitor (s, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
        return -1;
    m->pair = zmq_socket (ctx, ZMQ_PAIR);
    int timeo = 10000, linger = 0;
    if (m->pair == NULL || zmq_setsockopt (m->pair, ZMQ_RCVTIMEO, &timeo, sizeof timeo) != 0
        || zmq_setsockopt (m->pair, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_connect (m->pair, ep) != 0)
        return -1;
    return 0;
}

/* Reads one monitor event (two frames); returns its number and stores its value in *value
 * (when value is not NULL), or returns -1 (nothing within the receive timeout, or not an
 * event). */
static inline int tu_read_event (void *pair, uint32_t *value)
{
    zmq_msg_t head, addr;
    zmq_msg_init (&head);
    zmq_msg_init (&addr);
    int ev = -1;
    if (zmq_msg_recv (&head, pair, 0) == 6 && zmq_msg_more (&head)
        && zmq_msg_recv (&addr, pair, 0) >= 0 && !zmq_msg_more (&addr)) {
        uint16_t e;
        memcpy (&e, zmq_msg_data (&head), 2);
        if (value != NULL)
            memcpy (value, (const char *) zmq_msg_data (&head) + 2, 4);
        ev = e;
    }
    zmq_msg_close (&head);
    zmq_msg_close (&addr);
    return ev;
}

static inline int tu_wait_connections (tu_monitor_t *m, int n)
{
    while (m->pair != NULL && m->done < n) {
        if (tu_read_event (m->pair, NULL) != ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            return 0;
        m->done++;
    }
    int events = 0;
    size_t sz = sizeof events;
    return zmq_getsockopt (m->sock, ZMQ_EVENTS, &events, &sz) == 0;
}

static inline int tu_monitor_stop (tu_monitor_t *m)
{
    int rc = 0;
    if (m->pair != NULL) {
        rc = zmq_socket_monitor (m->sock, NULL, 0);
        if (zmq_close (m->pair) != 0)
            rc = -1;
        m->pair = NULL;
    }
    return rc;
}

/* Under ipc: removes the test's directory and whatever is left in it. (libzmq removes the
 * socket file of an ipc listener on zmq_unbind, but not when the socket is closed.) */
static inline void tu_ipc_cleanup_ (void)
{
    if (tu_ipc_dir_[0] == 0)
        return;
    DIR *d = opendir (tu_ipc_dir_);
    if (d != NULL) {
        struct dirent *e;
        char path[512];
        while ((e = readdir (d)) != NULL) {
            if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
                continue;
            snprintf (path, sizeof path, "%s/%s", tu_ipc_dir_, e->d_name);
            unlink (path);
        }
        closedir (d);
    }
    rmdir (tu_ipc_dir_);
}

/* Prints `name: N passed, N failed` (name@transport for a test that asked for its transport)
 * and evaluates to the exit code. */
static inline int tu_summary_ (const char *name)
{
    if (__atomic_load_n (&tu_transport_asked_, __ATOMIC_SEQ_CST)) {
        tu_ipc_cleanup_ ();
        printf ("%s@%s: %d passed, %d failed\n", name, tu_transport_name (), tu_passed_,
                tu_failed_);
    } else
        printf ("%s: %d passed, %d failed\n", name, tu_passed_, tu_failed_);
    fflush (stdout);
    return tu_failed_ == 0 && tu_passed_ > 0 ? 0 : 1;
}
#define TEST_SUMMARY(name) tu_summary_ (name)

#endif
