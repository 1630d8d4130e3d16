/* ours/durable.c: durable identities (libzmq-rs brings back 2.x durable sockets), the issue's
 * multi-process seed scenarios, over tcp and ipc. The test process is the publisher; each
 * subscriber is this same program run again (`durable sub ...`) in a child process, whose
 * stdout the publisher reads line by line, and which it kills with SIGKILL.
 *
 *   1. Durable subscriber: after a sync message from the subscriber (identity "Hello"), the
 *      publisher sends "Update 0".."Update 9" then "END", one per 100 ms. The subscriber is
 *      killed twice, each time right after it printed the update just sent (so it has printed
 *      everything it received), and restarted after two more updates. Across its three lives
 *      it prints every update exactly once, in order, then END; the publisher's memory stays
 *      flat.
 *   2. The same with ZMQ_HWM = 1 and no swap: of the two updates sent while the subscriber is
 *      away the publisher keeps one (the first, as PUB drops what does not fit), the other is
 *      lost; no send blocks.
 *   3. The same with ZMQ_HWM = 1 and ZMQ_SWAP = 25,000,000: nothing is lost (the second update
 *      of each absence waits in a swap file). Then the publisher's resident memory with a
 *      200 MB backlog of 1 KiB messages for an absent subscriber stays within 32 MB of the
 *      idle figure, and the restarted subscriber gets the whole backlog in order.
 *   5. Duplicate identity: a second subscriber with the identity of an attached one is refused
 *      (handshake-failed event on the publisher, no message for it), the first one keeps
 *      receiving everything, and both processes exit normally.
 * And, in this process: ZMQ_DURABLE_IVL expires a detached subscriber (what was queued for it
 * is gone, a reconnect starts afresh) and keeps one that returns in time; ZMQ_DURABLE = 1 on
 * a ROUTER keeps a named DEALER's pipe (ZMQ_ROUTER_MANDATORY sends to it succeed while it is
 * away and reach it when it returns) until its ZMQ_DURABLE_IVL runs out (EHOSTUNREACH); a
 * monitor selecting ZMQ_EVENT_EXTENSIONS sees a durable peer detach and reattach and its swap
 * start, fill up and stop, and the refused duplicate is invisible to it.
 *
 * The sync: until the subscriber sends its sync (PUSH to the publisher's PULL), the publisher
 * publishes "WELCOME" every 20 ms; the subscriber sends the sync when the first WELCOME
 * arrives, which proves its subscription is in effect. WELCOMEs are never printed.
 *
 * Under valgrind and AddressSanitizer (the publisher only: children are not traced) the
 * backlog is 4 MB and resident memory is not checked. */
#include "testutil.h"
#include "ours/swaputil.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#define UPDATES 10
#define LINE_MAX_ 256
#define MAX_LINES 64

static char self_exe[4096];

/* ---------------------------------------------------------------- the subscriber process */

/* durable sub ENDPOINT SYNC-ENDPOINT IDENTITY MODE
 *   print  prints every message but WELCOME (sync on the first WELCOME) until END
 *   count  checks 1 KiB messages numbered 0, 1, ... until END, prints "COUNT n OK|BAD ..."
 *   idle   prints what it receives until END or 3 s of silence (then "IDLE") */
static int sub_main (int argc, char **argv)
{
    if (argc != 6)
        return 2;
    const char *ep = argv[2], *sync_ep = argv[3], *id = argv[4], *mode = argv[5];
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    alarm (60);
    setvbuf (stdout, NULL, _IOLBF, 0);
    void *ctx = zmq_ctx_new ();
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    void *sync = zmq_socket (ctx, ZMQ_PUSH);
    int zero = 0;
    zmq_setsockopt (sync, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (sub, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_setsockopt (sub, ZMQ_ROUTING_ID, id, strlen (id)) != 0
        || zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0) != 0 || zmq_connect (sub, ep) != 0
        || zmq_connect (sync, sync_ep) != 0)
        return 3;
    int idle = strcmp (mode, "idle") == 0;
    int count = strcmp (mode, "count") == 0;
    if (idle) {
        int t = 3000;
        zmq_setsockopt (sub, ZMQ_RCVTIMEO, &t, sizeof t);
    }
    int synced = 0;
    uint64_t next = 0;
    int bad = 0;
    static char buf[2048];
    while (1) {
        int n = zmq_recv (sub, buf, sizeof buf - 1, 0);
        if (n < 0) {
            if (idle && zmq_errno () == EAGAIN) {
                printf ("IDLE\n");
                break;
            }
            printf ("ERROR recv %s\n", zmq_strerror (zmq_errno ()));
            return 4;
        }
        if (n > (int) sizeof buf - 1)
            n = sizeof buf - 1;
        buf[n] = 0;
        if (n == 7 && memcmp (buf, "WELCOME", 7) == 0) {
            if (!synced && !idle)
                zmq_send (sync, "sync", 4, 0);
            synced = 1;
            continue;
        }
        if (count) {
            if (n == 3 && memcmp (buf, "END", 3) == 0) {
                printf ("COUNT %llu %s\n", (unsigned long long) next, bad ? "BAD" : "OK");
                break;
            }
            uint64_t seq;
            memcpy (&seq, buf, sizeof seq);
            if (n != 1024 || seq != next || (unsigned char) buf[1023] != (unsigned char) seq) {
                if (!bad)
                    printf ("BAD message %llu: size %d, seq %llu\n", (unsigned long long) next,
                            n, (unsigned long long) seq);
                bad = 1;
            }
            next++;
            continue;
        }
        printf ("%s\n", buf);
        if (strcmp (buf, "END") == 0)
            break;
    }
    zmq_close (sub);
    zmq_close (sync);
    zmq_ctx_term (ctx);
    return 0;
}

/* ---------------------------------------------------------------- the publisher's side */

struct child
{
    pid_t pid;
    int fd;
    char buf[4096];
    size_t len;
};

static int spawn (struct child *c, const char *mode, const char *ep, const char *sync_ep,
                  const char *id)
{
    int p[2];
    if (pipe (p) != 0)
        return -1;
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2 (p[1], 1);
        close (p[0]);
        close (p[1]);
        char *args[] = {self_exe,    (char *) "sub", (char *) ep, (char *) sync_ep,
                        (char *) id, (char *) mode,  NULL};
        execv (self_exe, args);
        _exit (127);
    }
    close (p[1]);
    fcntl (p[0], F_SETFD, FD_CLOEXEC);
    c->pid = pid;
    c->fd = p[0];
    c->len = 0;
    return 0;
}

/* Reads one line (without its newline) into out: 1, or 0 at EOF, or -1 on timeout. */
static int read_line (struct child *c, char *out, size_t cap, int timeout_ms)
{
    int64_t end = su_now_ms () + timeout_ms;
    while (1) {
        char *nl = memchr (c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t) (nl - c->buf);
            size_t k = n < cap - 1 ? n : cap - 1;
            memcpy (out, c->buf, k);
            out[k] = 0;
            memmove (c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return 1;
        }
        int64_t left = end - su_now_ms ();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll (&pfd, 1, (int) left) <= 0)
            continue;
        if (c->len == sizeof c->buf)
            c->len = 0; /* a runaway line: drop it */
        ssize_t r = read (c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (r <= 0)
            return 0;
        c->len += (size_t) r;
    }
}

/* Kills the child with SIGKILL and reaps it. */
static void kill_child (struct child *c)
{
    kill (c->pid, SIGKILL);
    waitpid (c->pid, NULL, 0);
    close (c->fd);
    c->pid = 0;
}

/* Waits for the child to exit (SIGKILL after timeout_ms); its exit code, or -1 if it did not
 * exit normally. */
static int wait_child (struct child *c, int timeout_ms)
{
    int64_t end = su_now_ms () + timeout_ms;
    int st = 0;
    while (waitpid (c->pid, &st, WNOHANG) == 0) {
        if (su_now_ms () > end) {
            kill (c->pid, SIGKILL);
            waitpid (c->pid, &st, 0);
            break;
        }
        su_sleep_ms (5);
    }
    close (c->fd);
    c->pid = 0;
    return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

/* The lines all lives of the subscriber printed. */
struct transcript
{
    char lines[MAX_LINES][LINE_MAX_];
    int n;
};

static int take_line (struct transcript *t, struct child *c, int timeout_ms)
{
    char line[LINE_MAX_];
    int r = read_line (c, line, sizeof line, timeout_ms);
    if (r == 1 && t->n < MAX_LINES)
        snprintf (t->lines[t->n++], LINE_MAX_, "%s", line);
    return r;
}

/* Reads lines until `want` (1) or EOF/timeout (0). */
static int take_until (struct transcript *t, struct child *c, const char *want, int timeout_ms)
{
    int64_t end = su_now_ms () + timeout_ms;
    while (1) {
        int64_t left = end - su_now_ms ();
        if (left <= 0 || take_line (t, c, (int) left) != 1)
            return 0;
        if (strcmp (t->lines[t->n - 1], want) == 0)
            return 1;
    }
}

struct endpoints
{
    char dir[256]; /* private directory: ipc files and swap files */
    char pub[512];
    char sync[512];
};

static int bind_endpoints (struct endpoints *e, const char *transport, void *pub, void *sync)
{
    size_t sz;
    if (strcmp (transport, "tcp") == 0) {
        if (zmq_bind (pub, "tcp://127.0.0.1:*") != 0 || zmq_bind (sync, "tcp://127.0.0.1:*") != 0)
            return -1;
        sz = sizeof e->pub;
        zmq_getsockopt (pub, ZMQ_LAST_ENDPOINT, e->pub, &sz);
        sz = sizeof e->sync;
        zmq_getsockopt (sync, ZMQ_LAST_ENDPOINT, e->sync, &sz);
        return 0;
    }
    snprintf (e->pub, sizeof e->pub, "ipc://%s/pub.ipc", e->dir);
    snprintf (e->sync, sizeof e->sync, "ipc://%s/sync.ipc", e->dir);
    return zmq_bind (pub, e->pub) == 0 && zmq_bind (sync, e->sync) == 0 ? 0 : -1;
}

/* Publishes WELCOME every 20 ms until the subscriber's sync arrives (1), or 0 after 10 s. */
static int welcome (void *pub, void *sync)
{
    int64_t end = su_now_ms () + 10000;
    while (su_now_ms () < end) {
        zmq_send (pub, "WELCOME", 7, ZMQ_DONTWAIT);
        zmq_pollitem_t it = {sync, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&it, 1, 20) == 1) {
            char buf[16];
            return zmq_recv (sync, buf, sizeof buf, 0) == 4;
        }
    }
    return 0;
}

/* Sends a string; returns how long zmq_send took in ms, or -1 if it failed. */
static long timed_send (void *s, const char *str)
{
    int64_t t0 = su_now_ms ();
    if (zmq_send (s, str, strlen (str), ZMQ_DONTWAIT) != (int) strlen (str))
        return -1;
    return (long) (su_now_ms () - t0);
}

enum flavour
{
    PLAIN, /* scenario 1 */
    HWM1,  /* scenario 2 */
    SWAP   /* scenario 3 */
};

/* Scenarios 1, 2, 3 (the three-lives part). */
static void test_three_lives (const char *transport, enum flavour fl)
{
    static const char *names[] = {"durable", "hwm=1", "hwm=1+swap"};
    printf ("-- %s subscriber over %s\n", names[fl], transport);
    struct endpoints e;
    CHECK_RC (su_mkdtemp (e.dir, sizeof e.dir, "durable"), 0);
    char swap_dir[300];
    snprintf (swap_dir, sizeof swap_dir, "%s/swap", e.dir);
    CHECK_RC (mkdir (swap_dir, 0700), 0);

    void *ctx = zmq_ctx_new ();
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sync = zmq_socket (ctx, ZMQ_PULL);
    if (fl != PLAIN) {
        int hwm = 1;
        CHECK_RC (zmq_setsockopt (pub, ZMQ_HWM, &hwm, sizeof hwm), 0);
    }
    if (fl == SWAP) {
        int64_t swap = 25000000;
        CHECK_RC (zmq_setsockopt (pub, ZMQ_SWAP, &swap, sizeof swap), 0);
        CHECK_RC (zmq_setsockopt (pub, ZMQ_SWAP_DIR, swap_dir, strlen (swap_dir)), 0);
    }
    CHECK_RC (bind_endpoints (&e, transport, pub, sync), 0);

    struct transcript t;
    t.n = 0;
    struct child c;
    CHECK_RC (spawn (&c, "print", e.pub, e.sync, "Hello"), 0);
    CHECK_RC (welcome (pub, sync), 1);
    long rss0 = su_vmrss_kib ();

    long slowest = 0;
    int failures = 0;
    int swapped_while_away = 0;
    for (int i = 0; i < UPDATES; i++) {
        char msg[32];
        snprintf (msg, sizeof msg, "Update %d", i);
        long took = timed_send (pub, msg);
        if (took < 0)
            failures++;
        else if (took > slowest)
            slowest = took;
        if (i == 2 || i == 6) {
            /* It printed what was just sent, hence everything: kill it now. */
            CHECK_RC (take_until (&t, &c, msg, 10000), 1);
            kill_child (&c);
        }
        su_sleep_ms (100);
        if (i == 4 || i == 8) {
            /* Two updates went out while it was away. */
            if (fl == SWAP && su_count_files (swap_dir, NULL) > 0)
                swapped_while_away++;
            CHECK_RC (spawn (&c, "print", e.pub, e.sync, "Hello"), 0);
            /* Its first line shows it is attached again. */
            CHECK_RC (take_line (&t, &c, 10000), 1);
        }
    }
    long took = timed_send (pub, "END");
    if (took < 0)
        failures++;
    CHECK_RC (take_until (&t, &c, "END", 10000), 1);
    CHECK_RC (wait_child (&c, 10000), 0);
    CHECK_RC (failures, 0);
    CHECK (slowest < 1000); /* nothing blocks (PUB never does; this is generous) */

    /* What the three lives printed, together. */
    const char *want_all[] = {"Update 0", "Update 1", "Update 2", "Update 3",
                              "Update 4", "Update 5", "Update 6", "Update 7",
                              "Update 8", "Update 9", "END"};
    /* HWM = 1: of 3, 4 (and 7, 8), sent while it was away, the first is kept. */
    const char *want_hwm[] = {"Update 0", "Update 1", "Update 2", "Update 3", "Update 5",
                              "Update 6", "Update 7", "Update 9", "END"};
    const char **want = fl == HWM1 ? want_hwm : want_all;
    int nwant = fl == HWM1 ? 9 : 11;
    int same = t.n == nwant;
    for (int i = 0; same && i < nwant; i++)
        same = strcmp (t.lines[i], want[i]) == 0;
    CHECK (same);
    if (!same) {
        printf ("     the subscriber printed:");
        for (int i = 0; i < t.n; i++)
            printf (" [%s]", t.lines[i]);
        printf ("\n");
    }
    if (fl == SWAP)
        CHECK_RC (swapped_while_away, 2);

    long rss1 = su_vmrss_kib ();
    if (!su_instrumented ()) {
        printf ("   (publisher VmRSS %ld KiB after the sync, %ld KiB at the end)\n", rss0, rss1);
        CHECK (rss0 > 0 && rss1 < rss0 + 8 * 1024);
    }

    CHECK_RC (zmq_close (pub), 0);
    CHECK_RC (zmq_close (sync), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (su_count_files (swap_dir, NULL), 0);
    su_rmdir (swap_dir);
    su_rmdir (e.dir);
}

/* Scenario 3, the memory part: a 200 MB backlog of 1 KiB messages for an absent durable
 * subscriber lives in swap files, not in memory, and all of it arrives when it comes back. */
static void test_backlog_rss (const char *transport)
{
    int instrumented = su_instrumented ();
    const uint64_t n = instrumented ? 4096 : 200 * 1024; /* 4 MB or 200 MB */
    printf ("-- %llu MB backlog in swap over %s\n", (unsigned long long) (n >> 10), transport);
    struct endpoints e;
    CHECK_RC (su_mkdtemp (e.dir, sizeof e.dir, "durable"), 0);
    char swap_dir[300];
    snprintf (swap_dir, sizeof swap_dir, "%s/swap", e.dir);
    CHECK_RC (mkdir (swap_dir, 0700), 0);

    void *ctx = zmq_ctx_new ();
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sync = zmq_socket (ctx, ZMQ_PULL);
    int hwm = 1;
    CHECK_RC (zmq_setsockopt (pub, ZMQ_HWM, &hwm, sizeof hwm), 0);
    int64_t swap = 256 << 20;
    CHECK_RC (zmq_setsockopt (pub, ZMQ_SWAP, &swap, sizeof swap), 0);
    CHECK_RC (zmq_setsockopt (pub, ZMQ_SWAP_DIR, swap_dir, strlen (swap_dir)), 0);
    CHECK_RC (bind_endpoints (&e, transport, pub, sync), 0);

    struct child c;
    CHECK_RC (spawn (&c, "count", e.pub, e.sync, "Hello"), 0);
    CHECK_RC (welcome (pub, sync), 1);
    kill_child (&c);
    su_sleep_ms (200);

    static char msg[1024];
    memset (msg, 0, sizeof msg);
    long idle = su_vmrss_kib ();
    int failures = 0;
    int64_t t0 = su_now_ms ();
    for (uint64_t i = 0; i < n; i++) {
        memcpy (msg, &i, sizeof i);
        msg[1023] = (char) (unsigned char) i;
        if (zmq_send (pub, msg, sizeof msg, ZMQ_DONTWAIT) != (int) sizeof msg)
            failures++;
    }
    int64_t fill_ms = su_now_ms () - t0;
    CHECK_RC (failures, 0);
    long full = su_vmrss_kib ();
    long long bytes = 0;
    long files = su_count_files (swap_dir, &bytes);
    CHECK (files > 0);
    /* The backlog is on disk, but for the message the pipe holds (the HWM) and what the
     * store has not written yet (it writes in blocks of 1 MiB). */
    CHECK (bytes >= (long long) n * 1024 - (2 << 20));
    if (!instrumented) {
        printf ("   (publisher VmRSS %ld KiB idle, %ld KiB with the backlog: %+ld KiB; "
                "%ld swap files, %lld bytes; filled in %lld ms)\n",
                idle, full, full - idle, files, bytes, (long long) fill_ms);
        CHECK (idle > 0 && full < idle + 32 * 1024);
    }

    CHECK_RC (timed_send (pub, "END") >= 0, 1);
    CHECK_RC (spawn (&c, "count", e.pub, e.sync, "Hello"), 0);
    char line[LINE_MAX_];
    CHECK_RC (read_line (&c, line, sizeof line, 60000), 1);
    char want[64];
    snprintf (want, sizeof want, "COUNT %llu OK", (unsigned long long) n);
    CHECK_STR (line, want);
    CHECK_RC (wait_child (&c, 10000), 0);
    /* Read segments are deleted as the subscriber drains them. */
    CHECK_RC (su_wait_empty (swap_dir, 2000), 0);
    if (!instrumented)
        printf ("   (publisher VmRSS %ld KiB after the drain)\n", su_vmrss_kib ());

    CHECK_RC (zmq_close (pub), 0);
    CHECK_RC (zmq_close (sync), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (su_count_files (swap_dir, NULL), 0);
    su_rmdir (swap_dir);
    su_rmdir (e.dir);
}

/* Scenario 5: a second subscriber with the identity of an attached one. */
static void test_duplicate (const char *transport)
{
    printf ("-- duplicate identity over %s\n", transport);
    struct endpoints e;
    CHECK_RC (su_mkdtemp (e.dir, sizeof e.dir, "durable"), 0);
    void *ctx = zmq_ctx_new ();
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sync = zmq_socket (ctx, ZMQ_PULL);
    CHECK_RC (zmq_socket_monitor (pub, "inproc://durable-monitor",
                                  ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL),
              0);
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    CHECK_RC (zmq_connect (mon, "inproc://durable-monitor"), 0);
    CHECK_RC (bind_endpoints (&e, transport, pub, sync), 0);

    struct child a, b;
    CHECK_RC (spawn (&a, "print", e.pub, e.sync, "Hello"), 0);
    CHECK_RC (welcome (pub, sync), 1);
    CHECK_RC (spawn (&b, "idle", e.pub, e.sync, "Hello"), 0);

    /* The publisher refuses b's connection. */
    int t = 10000;
    CHECK_RC (zmq_setsockopt (mon, ZMQ_RCVTIMEO, &t, sizeof t), 0);
    zmq_msg_t ev;
    zmq_msg_init (&ev);
    int got = zmq_msg_recv (&ev, mon, 0);
    CHECK (got >= 6);
    if (got >= 6) {
        uint16_t event;
        memcpy (&event, zmq_msg_data (&ev), 2);
        CHECK_RC (event, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
        CHECK (zmq_msg_more (&ev));
        zmq_msg_recv (&ev, mon, 0); /* the endpoint */
    }
    zmq_msg_close (&ev);

    for (int i = 0; i < UPDATES; i++) {
        char msg[32];
        snprintf (msg, sizeof msg, "Update %d", i);
        CHECK_RC (timed_send (pub, msg) >= 0, 1);
        su_sleep_ms (50);
    }
    CHECK_RC (timed_send (pub, "END") >= 0, 1);

    struct transcript ta, tb;
    ta.n = tb.n = 0;
    CHECK_RC (take_until (&ta, &a, "END", 10000), 1);
    CHECK_RC (ta.n, UPDATES + 1);
    for (int i = 0; i < ta.n && i < UPDATES; i++) {
        char want[32];
        snprintf (want, sizeof want, "Update %d", i);
        CHECK_STR (ta.lines[i], want);
    }
    CHECK_RC (wait_child (&a, 10000), 0);
    /* b got nothing while a was attached, and ends normally after 3 s of silence. */
    CHECK_RC (take_until (&tb, &b, "IDLE", 15000), 1);
    CHECK_RC (tb.n, 1);
    CHECK_RC (wait_child (&b, 10000), 0);

    zmq_socket_monitor (pub, NULL, 0);
    CHECK_RC (zmq_close (mon), 0);
    CHECK_RC (zmq_close (pub), 0);
    CHECK_RC (zmq_close (sync), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    su_rmdir (e.dir);
}

static void *named_socket (void *ctx, int type, const char *id, const char *ep)
{
    void *s = zmq_socket (ctx, type);
    int t = 5000, zero = 0;
    zmq_setsockopt (s, ZMQ_ROUTING_ID, id, strlen (id));
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &t, sizeof t);
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    if (type == ZMQ_SUB)
        zmq_setsockopt (s, ZMQ_SUBSCRIBE, "", 0);
    zmq_connect (s, ep);
    return s;
}

/* Publishes "P" until sub receives it: sub is attached (with its subscription). Returns 1 if
 * everything sub received meanwhile was "P". */
static int attach_sub (void *pub, void *sub)
{
    char buf[64];
    int64_t end = su_now_ms () + 10000;
    while (su_now_ms () < end) {
        zmq_send (pub, "P", 1, ZMQ_DONTWAIT);
        int n = zmq_recv (sub, buf, sizeof buf, ZMQ_DONTWAIT);
        if (n >= 0)
            return n == 1 && buf[0] == 'P';
        su_sleep_ms (20);
    }
    return 0;
}

/* Reads until `want`; 1 if it came and nothing but "P" came before it. */
static int recv_until (void *s, const char *want)
{
    char buf[64];
    while (1) {
        int n = zmq_recv (s, buf, sizeof buf - 1, 0);
        if (n < 0)
            return 0;
        buf[n < (int) sizeof buf - 1 ? n : (int) sizeof buf - 1] = 0;
        if (strcmp (buf, want) == 0)
            return 1;
        if (strcmp (buf, "P") != 0) {
            printf ("     got [%s] while waiting for [%s]\n", buf, want);
            return 0;
        }
    }
}

static void test_durable_ivl (const char *transport)
{
    printf ("-- ZMQ_DURABLE_IVL over %s\n", transport);
    struct endpoints e;
    CHECK_RC (su_mkdtemp (e.dir, sizeof e.dir, "durable"), 0);
    void *ctx = zmq_ctx_new ();
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sync = zmq_socket (ctx, ZMQ_PULL);
    int ivl = 200;
    CHECK_RC (zmq_setsockopt (pub, ZMQ_DURABLE_IVL, &ivl, sizeof ivl), 0);
    size_t sz = sizeof ivl;
    ivl = 0;
    CHECK_RC (zmq_getsockopt (pub, ZMQ_DURABLE_IVL, &ivl, &sz), 0);
    CHECK_RC (ivl, 200);
    CHECK_RC (bind_endpoints (&e, transport, pub, sync), 0);

    /* Away longer than 200 ms: what was queued is gone. */
    void *sub = named_socket (ctx, ZMQ_SUB, "Hello", e.pub);
    CHECK_RC (attach_sub (pub, sub), 1);
    CHECK_RC (zmq_close (sub), 0);
    su_sleep_ms (50);
    CHECK_RC (timed_send (pub, "queued, then expired") >= 0, 1);
    su_sleep_ms (1000);
    CHECK_RC (timed_send (pub, "nobody there") >= 0, 1);
    sub = named_socket (ctx, ZMQ_SUB, "Hello", e.pub);
    CHECK_RC (attach_sub (pub, sub), 1);
    CHECK_RC (timed_send (pub, "live") >= 0, 1);
    CHECK_RC (recv_until (sub, "live"), 1);
    CHECK_RC (zmq_close (sub), 0);

    /* Back in time (ZMQ_DURABLE_IVL 5 s on another publisher): the backlog is there. */
    void *pub2 = zmq_socket (ctx, ZMQ_PUB);
    ivl = 5000;
    CHECK_RC (zmq_setsockopt (pub2, ZMQ_DURABLE_IVL, &ivl, sizeof ivl), 0);
    char ep2[600];
    if (strcmp (transport, "tcp") == 0) {
        CHECK_RC (zmq_bind (pub2, "tcp://127.0.0.1:*"), 0);
        sz = sizeof ep2;
        zmq_getsockopt (pub2, ZMQ_LAST_ENDPOINT, ep2, &sz);
    } else {
        snprintf (ep2, sizeof ep2, "ipc://%s/pub2.ipc", e.dir);
        CHECK_RC (zmq_bind (pub2, ep2), 0);
    }
    sub = named_socket (ctx, ZMQ_SUB, "Hello", ep2);
    CHECK_RC (attach_sub (pub2, sub), 1);
    CHECK_RC (zmq_close (sub), 0);
    su_sleep_ms (50);
    CHECK_RC (timed_send (pub2, "kept") >= 0, 1);
    sub = named_socket (ctx, ZMQ_SUB, "Hello", ep2);
    CHECK_RC (recv_until (sub, "kept"), 1);
    CHECK_RC (zmq_close (sub), 0);

    CHECK_RC (zmq_close (pub2), 0);
    CHECK_RC (zmq_close (pub), 0);
    CHECK_RC (zmq_close (sync), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    su_rmdir (e.dir);
}

/* ZMQ_DURABLE on a socket type that is not durable by default. */
static void test_router_durable (const char *transport)
{
    printf ("-- ROUTER with ZMQ_DURABLE over %s\n", transport);
    struct endpoints e;
    CHECK_RC (su_mkdtemp (e.dir, sizeof e.dir, "durable"), 0);
    void *ctx = zmq_ctx_new ();
    void *router = zmq_socket (ctx, ZMQ_ROUTER);
    void *unused = zmq_socket (ctx, ZMQ_PULL);
    int one = 1, ivl = 1000, t = 5000;
    int v = -1;
    size_t sz = sizeof v;
    CHECK_RC (zmq_getsockopt (router, ZMQ_DURABLE, &v, &sz), 0);
    CHECK_RC (v, 0);
    CHECK_RC (zmq_setsockopt (router, ZMQ_DURABLE, &one, sizeof one), 0);
    CHECK_RC (zmq_setsockopt (router, ZMQ_DURABLE_IVL, &ivl, sizeof ivl), 0);
    CHECK_RC (zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &one, sizeof one), 0);
    CHECK_RC (zmq_setsockopt (router, ZMQ_RCVTIMEO, &t, sizeof t), 0);
    CHECK_RC (bind_endpoints (&e, transport, router, unused), 0);

    char buf[64];
    void *dealer = named_socket (ctx, ZMQ_DEALER, "D", e.pub);
    CHECK_RC (zmq_send (dealer, "hi", 2, 0), 2);
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 1);
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 2);
    CHECK_RC (zmq_close (dealer), 0);
    su_sleep_ms (100);
    /* Away, but its pipe is kept: the send succeeds and waits for it. */
    CHECK_RC (zmq_send (router, "D", 1, ZMQ_SNDMORE), 1);
    CHECK_RC (zmq_send (router, "while away", 10, 0), 10);
    dealer = named_socket (ctx, ZMQ_DEALER, "D", e.pub);
    CHECK_RC (zmq_recv (dealer, buf, sizeof buf, 0), 10);
    CHECK (memcmp (buf, "while away", 10) == 0);
    CHECK_RC (zmq_send (dealer, "back", 4, 0), 4);
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 1);
    CHECK (buf[0] == 'D');
    CHECK_RC (zmq_recv (router, buf, sizeof buf, 0), 4);
    CHECK_RC (zmq_close (dealer), 0);
    /* Away longer than ZMQ_DURABLE_IVL: gone. */
    int64_t end = su_now_ms () + 10000;
    int rc;
    do {
        su_sleep_ms (100);
        rc = zmq_send (router, "D", 1, ZMQ_SNDMORE);
        if (rc == 1)
            zmq_send (router, "x", 1, 0);
    } while (rc == 1 && su_now_ms () < end);
    CHECK_ERRNO (zmq_send (router, "D", 1, ZMQ_SNDMORE), EHOSTUNREACH);

    CHECK_RC (zmq_close (router), 0);
    CHECK_RC (zmq_close (unused), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    su_rmdir (e.dir);
}

/* Extension monitor events seen so far, by number - 0x8000 (their marker bit). */
#define EXT_EVENT_BASE 0x8000
struct ext_events
{
    void *mon;
    void *sock; /* the monitored socket: polled so that it reports its pipes' swap states */
    int seen[16];
    int other;
};

/* Waits up to 10 s until `event` has been seen (1), reading and recording the events. */
static int wait_ext (struct ext_events *x, int event)
{
    int64_t end = su_now_ms () + 10000;
    while (!x->seen[event - EXT_EVENT_BASE] && su_now_ms () < end) {
        int ev;
        size_t sz = sizeof ev;
        zmq_getsockopt (x->sock, ZMQ_EVENTS, &ev, &sz);
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, x->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            su_sleep_ms (10);
            continue;
        }
        uint16_t num = 0;
        if (zmq_msg_size (&m) >= 2)
            memcpy (&num, zmq_msg_data (&m), 2);
        int more = zmq_msg_more (&m);
        zmq_msg_close (&m);
        if (more) { /* the endpoint frame */
            zmq_msg_init (&m);
            zmq_msg_recv (&m, x->mon, 0);
            zmq_msg_close (&m);
        }
        if (num > EXT_EVENT_BASE && num < EXT_EVENT_BASE + 16)
            x->seen[num - EXT_EVENT_BASE]++;
        else
            x->other++;
    }
    return x->seen[event - EXT_EVENT_BASE] > 0;
}

static void test_extension_events (const char *transport)
{
    printf ("-- extension monitor events over %s\n", transport);
    struct endpoints e;
    CHECK_RC (su_mkdtemp (e.dir, sizeof e.dir, "durable"), 0);
    char swap_dir[300];
    snprintf (swap_dir, sizeof swap_dir, "%s/swap", e.dir);
    CHECK_RC (mkdir (swap_dir, 0700), 0);
    void *ctx = zmq_ctx_new ();
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sync = zmq_socket (ctx, ZMQ_PULL);
    int hwm = 1;
    int64_t swap = 256 << 10;
    CHECK_RC (zmq_setsockopt (pub, ZMQ_HWM, &hwm, sizeof hwm), 0);
    CHECK_RC (zmq_setsockopt (pub, ZMQ_SWAP, &swap, sizeof swap), 0);
    CHECK_RC (zmq_setsockopt (pub, ZMQ_SWAP_DIR, swap_dir, strlen (swap_dir)), 0);
    CHECK_RC (zmq_socket_monitor (pub, "inproc://ext-events", ZMQ_EVENT_EXTENSIONS), 0);
    struct ext_events x;
    memset (&x, 0, sizeof x);
    x.sock = pub;
    x.mon = zmq_socket (ctx, ZMQ_PAIR);
    CHECK_RC (zmq_connect (x.mon, "inproc://ext-events"), 0);
    CHECK_RC (bind_endpoints (&e, transport, pub, sync), 0);

    void *sub = named_socket (ctx, ZMQ_SUB, "Hello", e.pub);
    CHECK_RC (attach_sub (pub, sub), 1);
    /* A second "Hello" is refused: no extension event for that. */
    void *dup = named_socket (ctx, ZMQ_SUB, "Hello", e.pub);
    su_sleep_ms (200);
    CHECK_RC (zmq_close (dup), 0);
    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (wait_ext (&x, ZMQ_EVENT_DURABLE_DETACHED), 1);
    /* Away: the second message spills, and 1 KiB messages soon fill 256 KiB. */
    static char kib[1024];
    int sent = 0;
    for (int i = 0; i < 1000; i++)
        sent += zmq_send (pub, kib, sizeof kib, ZMQ_DONTWAIT) == (int) sizeof kib;
    CHECK_RC (sent, 1000);
    CHECK_RC (wait_ext (&x, ZMQ_EVENT_SWAP_STARTED), 1);
    CHECK_RC (wait_ext (&x, ZMQ_EVENT_SWAP_FULL), 1);
    CHECK_RC (x.seen[ZMQ_EVENT_SWAP_STOPPED - EXT_EVENT_BASE], 0);
    /* Back: it gets the backlog, and the swap drains. */
    sub = named_socket (ctx, ZMQ_SUB, "Hello", e.pub);
    CHECK_RC (wait_ext (&x, ZMQ_EVENT_DURABLE_REATTACHED), 1);
    char buf[2048];
    int got = 0;
    while (zmq_recv (sub, buf, sizeof buf, 0) == (int) sizeof kib) {
        got++;
        int t = 500;
        zmq_setsockopt (sub, ZMQ_RCVTIMEO, &t, sizeof t);
    }
    CHECK (got > 200);
    CHECK_RC (wait_ext (&x, ZMQ_EVENT_SWAP_STOPPED), 1);
    CHECK_RC (x.seen[ZMQ_EVENT_DURABLE_DETACHED - EXT_EVENT_BASE], 1);
    CHECK_RC (x.seen[ZMQ_EVENT_DURABLE_REATTACHED - EXT_EVENT_BASE], 1);
    CHECK_RC (x.seen[ZMQ_EVENT_SWAP_ERROR - EXT_EVENT_BASE], 0);
    CHECK_RC (x.other, 0); /* only what the mask selected */

    zmq_socket_monitor (pub, NULL, 0);
    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (x.mon), 0);
    CHECK_RC (zmq_close (pub), 0);
    CHECK_RC (zmq_close (sync), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (su_count_files (swap_dir, NULL), 0);
    su_rmdir (swap_dir);
    su_rmdir (e.dir);
}

int main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv[1], "sub") == 0)
        return sub_main (argc, argv);
    setvbuf (stdout, NULL, _IOLBF, 0);
    signal (SIGPIPE, SIG_IGN);
    ssize_t n = readlink ("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        return 1;
    self_exe[n] = 0;

    CHECK_RC (zmq_has ("durable"), 1);
    CHECK_RC (zmq_has ("swap"), 1);
    const char *transports[] = {"tcp", "ipc"};
    for (int i = 0; i < 2; i++) {
        test_three_lives (transports[i], PLAIN);
        test_three_lives (transports[i], HWM1);
        test_three_lives (transports[i], SWAP);
        test_backlog_rss (transports[i]);
        test_duplicate (transports[i]);
        test_durable_ivl (transports[i]);
        test_router_durable (transports[i]);
        test_extension_events (transports[i]);
    }
    return TEST_SUMMARY ("durable");
}
