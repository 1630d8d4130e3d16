/* security.c: NULL, PLAIN and CURVE with ZAP (RFC 27) over tcp and ipc, in one process.
 *
 * A ZAP handler thread (REP at inproc://zeromq.zap.01) records every request and answers by
 * the request's ZAP domain ("refuse" 400, "temp" 300, "error" 500, "bad-*" a malformed reply)
 * or else by its credentials (PLAIN admin/password, the one CURVE client key it knows, any
 * NULL peer) with 200, a User-Id and a "Hello: World" metadata property. Each scenario binds
 * a PULL (the server, a fresh routing id, which the ZAP request carries as its identity) and
 * connects a PUSH, both monitored, and checks what libzmq does:
 *   - 200: the message arrives with User-Id, Hello, Socket-Type and Peer-Address properties;
 *   - 400 and 500: nothing arrives; both monitors see HANDSHAKE_FAILED_AUTH with the status
 *     (the server refuses with an ERROR command carrying it), and a PLAIN or CURVE client
 *     takes that as final: it does not reconnect;
 *   - 300: nothing arrives; the server sees HANDSHAKE_FAILED_AUTH 300 but sends no ERROR, so
 *     the client sees no AUTH event (whether the server then closes varies);
 *   - a malformed ZAP reply: HANDSHAKE_FAILED_PROTOCOL with the ZAP_* code on the server;
 *   - a CURVE client with the wrong server key: the server cannot open the HELLO box
 *     (HANDSHAKE_FAILED_PROTOCOL ZMTP_CRYPTOGRAPHIC), ZAP is never asked, nothing arrives;
 *   - without a handler (another context): CURVE and NULL with a domain accept, a PLAIN server
 *     fails with HANDSHAKE_FAILED_NO_DETAIL EFAULT, and so does NULL under ZAP_ENFORCE_DOMAIN.
 * Also the key API (zmq_curve_keypair, zmq_curve_public, zmq_has) and the security options
 * (ZMQ_MECHANISM, keys as 32 bytes or Z85 read back both ways).
 *
 * Only what is the same on every run is printed or counted: how often a refused client
 * reconnects (and so how often the handler is asked) and the events in between vary, so
 * events are awaited, skipping others, and request counts are compared with zero. */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

/* Draft options (declared by zmq.h under ZMQ_BUILD_DRAFT_API only); both libraries have them. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define WAIT_MS 5000 /* anything expected must happen within this (valgrind is slow) */
#define QUIET_MS 300 /* nothing may arrive within this when nothing is expected */

static void *ctx;
static char tmpdir[64];

/* ---- the ZAP handler ---- */

#define MAX_FRAMES 10
#define MAX_REQUESTS 1024

typedef struct {
    int n;                           /* frames, -1 for more than MAX_FRAMES */
    size_t size[MAX_FRAMES];
    unsigned char data[MAX_FRAMES][64]; /* the first 64 bytes of each frame */
} request_t;

static pthread_mutex_t zap_lock = PTHREAD_MUTEX_INITIALIZER;
static request_t zap_log[MAX_REQUESTS]; /* a ring: request i is at i % MAX_REQUESTS */
static int zap_count;
static unsigned char known_client_key[32]; /* the CURVE client key the handler accepts */

static int frame_is (const request_t *r, int i, const void *data, size_t size)
{
    return i < r->n && r->size[i] == size && memcmp (r->data[i], data, size < 64 ? size : 64) == 0;
}

static int frame_is_str (const request_t *r, int i, const char *s)
{
    return frame_is (r, i, s, strlen (s));
}

static void send_str (void *s, const char *str, int more)
{
    zmq_send (s, str, strlen (str), more ? ZMQ_SNDMORE : 0);
}

/* The reply to one request, by the policy described at the top. */
static void zap_reply (void *zap, const request_t *r)
{
    static const unsigned char hello_world[] = {5, 'H', 'e', 'l', 'l', 'o', 0, 0, 0, 5,
                                                'W', 'o', 'r', 'l', 'd'};
    static const unsigned char bad_metadata[] = {10, 'H', 'e', 'l', 'l', 'o'}; /* name cut short */
    const char *status = "400", *user = "", *version = "1.0";
    const void *meta = hello_world;
    size_t meta_size = sizeof hello_world;
    int short_reply = 0, bad_id = 0;

    if (frame_is_str (r, 2, "refuse"))
        status = "400";
    else if (frame_is_str (r, 2, "temp"))
        status = "300";
    else if (frame_is_str (r, 2, "error"))
        status = "500";
    else if (frame_is_str (r, 2, "bad-version"))
        status = "200", version = "2.0";
    else if (frame_is_str (r, 2, "bad-id"))
        status = "200", bad_id = 1;
    else if (frame_is_str (r, 2, "bad-code"))
        status = "201";
    else if (frame_is_str (r, 2, "bad-metadata"))
        status = "200", meta = bad_metadata, meta_size = sizeof bad_metadata;
    else if (frame_is_str (r, 2, "bad-short"))
        status = "200", short_reply = 1;
    else if (r->n == 6 && frame_is_str (r, 5, "NULL"))
        status = "200", user = "anonymous";
    else if (r->n == 8 && frame_is_str (r, 5, "PLAIN")) {
        if (frame_is_str (r, 6, "admin") && frame_is_str (r, 7, "password"))
            status = "200", user = "admin";
    } else if (r->n == 7 && frame_is_str (r, 5, "CURVE")) {
        pthread_mutex_lock (&zap_lock);
        int known = frame_is (r, 6, known_client_key, 32);
        pthread_mutex_unlock (&zap_lock);
        if (known)
            status = "200", user = "curve-user";
    }

    send_str (zap, version, 1);
    if (bad_id)
        send_str (zap, "not-the-id", 1);
    else
        zmq_send (zap, r->n > 1 ? r->data[1] : (const unsigned char *) "", r->n > 1 ? r->size[1] : 0,
                  ZMQ_SNDMORE);
    send_str (zap, status, 1);
    send_str (zap, strcmp (status, "200") == 0 ? "OK" : "NO", short_reply ? 0 : 1);
    if (short_reply)
        return;
    send_str (zap, user, 1);
    zmq_send (zap, meta, meta_size, 0);
}

/* Serves requests until the context is terminated. */
static void *zap_handler (void *zap)
{
    for (;;) {
        request_t r;
        memset (&r, 0, sizeof r);
        int more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, zap, 0) == -1) {
                zmq_msg_close (&part);
                zmq_close (zap);
                return NULL;
            }
            if (r.n >= 0 && r.n < MAX_FRAMES) {
                size_t n = zmq_msg_size (&part);
                r.size[r.n] = n;
                memcpy (r.data[r.n], zmq_msg_data (&part), n < 64 ? n : 64);
                r.n++;
            } else {
                r.n = -1;
            }
            more = zmq_msg_more (&part);
            zmq_msg_close (&part);
        }
        pthread_mutex_lock (&zap_lock);
        zap_log[zap_count % MAX_REQUESTS] = r;
        zap_count++;
        pthread_mutex_unlock (&zap_lock);
        zap_reply (zap, &r);
    }
}

/* How many requests named `identity`; the latest one is copied to *last. */
static int zap_requests (const char *identity, request_t *last)
{
    int n = 0;
    pthread_mutex_lock (&zap_lock);
    int first = zap_count > MAX_REQUESTS ? zap_count - MAX_REQUESTS : 0;
    for (int i = zap_count - 1; i >= first; i--) {
        const request_t *r = &zap_log[i % MAX_REQUESTS];
        if (frame_is_str (r, 4, identity)) {
            if (n == 0 && last)
                *last = *r;
            n++;
        }
    }
    pthread_mutex_unlock (&zap_lock);
    return n;
}

/* ---- sockets and monitors ---- */

typedef struct {
    int event;
    uint32_t value;
} event_t;

static int monitors;

static void set_int (void *s, int option, int value)
{
    CHECK_RC (zmq_setsockopt (s, option, &value, sizeof value), 0);
}

static void *new_socket (void *c, int type)
{
    void *s = zmq_socket (c, type);
    CHECK (s != NULL);
    set_int (s, ZMQ_LINGER, 0);
    set_int (s, ZMQ_RCVTIMEO, WAIT_MS);
    return s;
}

static void *monitor (void *c, void *s)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://security-monitor-%d", monitors++);
    CHECK_RC (zmq_socket_monitor (s, ep, ZMQ_EVENT_ALL), 0);
    void *m = new_socket (c, ZMQ_PAIR);
    CHECK_RC (zmq_connect (m, ep), 0);
    return m;
}

/* The next event within the monitor's receive timeout: 0, or -1 when none came. */
static int next_event (void *mon, event_t *ev)
{
    uint32_t value = 0;
    const int e = tu_read_event (mon, &value);
    if (e < 0)
        return -1;
    ev->event = e;
    ev->value = value;
    return 0;
}

/* Skips events until `want` comes (returns 1 and its value) or WAIT_MS pass (returns 0). */
static int await_event (void *mon, int want, uint32_t *value)
{
    event_t ev;
    while (next_event (mon, &ev) == 0) {
        if (ev.event == want) {
            *value = ev.value;
            return 1;
        }
    }
    return 0;
}

static const char *event_name (int e)
{
    switch (e) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "HANDSHAKE_SUCCEEDED";
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return "HANDSHAKE_FAILED_NO_DETAIL";
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return "HANDSHAKE_FAILED_PROTOCOL";
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return "HANDSHAKE_FAILED_AUTH";
        case ZMQ_EVENT_DISCONNECTED: return "DISCONNECTED";
        default: return "?";
    }
}

/* `who`'s monitor must see `event` with `value`; prints `who: EVENT value`. */
static void expect_event (void *mon, const char *who, int event, uint32_t value)
{
    uint32_t got = 0;
    int found = await_event (mon, event, &got);
    if (found != 1)
        printf ("FAIL %s: no %s within %d ms\n", who, event_name (event), WAIT_MS);
    CHECK (found == 1);
    if (found == 1 && got != value)
        printf ("     %s: %s value 0x%x, expected 0x%x\n", who, event_name (event), got, value);
    CHECK (found == 1 && got == value);
    printf ("%s: %s 0x%x\n", who, event_name (event), value);
}

/* One server (PULL) and one client (PUSH) over a transport, with their monitors. */
typedef struct {
    void *ctx;
    void *server, *client, *smon, *cmon;
    char identity[32];   /* the server's routing id, the ZAP request's identity */
    char endpoint[256];  /* where the server is bound */
    char address[64];    /* the client's address as the server sees it */
    int sent;            /* what sending "hello" returned */
} conn_t;

static int servers;

/* Creates the sockets; the caller sets the security options, then calls start(). */
static void open_conn (conn_t *c, void *context)
{
    memset (c, 0, sizeof *c);
    c->ctx = context;
    c->server = new_socket (context, ZMQ_PULL);
    c->client = new_socket (context, ZMQ_PUSH);
    snprintf (c->identity, sizeof c->identity, "server-%d", servers++);
    CHECK_RC (zmq_setsockopt (c->server, ZMQ_ROUTING_ID, c->identity, strlen (c->identity)), 0);
}

static void start (conn_t *c, const char *transport)
{
    c->smon = monitor (c->ctx, c->server);
    c->cmon = monitor (c->ctx, c->client);
    char ep[160];
    if (strcmp (transport, "tcp") == 0) {
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:*");
        snprintf (c->address, sizeof c->address, "127.0.0.1");
    } else {
        snprintf (ep, sizeof ep, "ipc://%s/%s.ipc", tmpdir, c->identity);
        /* libzmq: getnameinfo's name for a unix socket, then the peer's SO_PEERCRED. */
        snprintf (c->address, sizeof c->address, "localhost:%d:%d:%d", (int) getuid (),
                  (int) getgid (), (int) getpid ());
    }
    CHECK_RC (zmq_bind (c->server, ep), 0);
    size_t len = sizeof c->endpoint;
    CHECK_RC (zmq_getsockopt (c->server, ZMQ_LAST_ENDPOINT, c->endpoint, &len), 0);
    CHECK_RC (zmq_connect (c->client, c->endpoint), 0);
    /* A refused client's session may already be gone (taking its pipe): no wait. */
    c->sent = zmq_send (c->client, "hello", 5, ZMQ_DONTWAIT);
}

static void close_conn (conn_t *c)
{
    CHECK_RC (zmq_socket_monitor (c->server, NULL, 0), 0);
    CHECK_RC (zmq_socket_monitor (c->client, NULL, 0), 0);
    CHECK_RC (zmq_close (c->client), 0);
    CHECK_RC (zmq_close (c->server), 0);
    CHECK_RC (zmq_close (c->smon), 0);
    CHECK_RC (zmq_close (c->cmon), 0);
}

/* "hello" arrives, with these properties (user_id NULL: none). */
static void expect_delivery (conn_t *c, const char *user_id, int zap_metadata)
{
    CHECK_RC (c->sent, 5);
    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_RC (zmq_msg_recv (&m, c->server, 0), 5);
    CHECK (zmq_msg_size (&m) == 5 && memcmp (zmq_msg_data (&m), "hello", 5) == 0);
    CHECK_STR (zmq_msg_gets (&m, "Socket-Type"), "PUSH");
    CHECK_STR (zmq_msg_gets (&m, "Peer-Address"), c->address);
    if (user_id)
        CHECK_STR (zmq_msg_gets (&m, "User-Id"), user_id);
    else
        CHECK_NULL_ERRNO (zmq_msg_gets (&m, "User-Id"), EINVAL);
    if (zap_metadata)
        CHECK_STR (zmq_msg_gets (&m, "Hello"), "World");
    else
        CHECK_NULL_ERRNO (zmq_msg_gets (&m, "Hello"), EINVAL);
    zmq_msg_close (&m);
    printf ("delivered, User-Id %s\n", user_id ? user_id : "(none)");
    expect_event (c->smon, "server", ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
    expect_event (c->cmon, "client", ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
}

/* Nothing arrives within QUIET_MS. */
static void expect_no_delivery (conn_t *c)
{
    set_int (c->server, ZMQ_RCVTIMEO, QUIET_MS);
    char buf[8];
    CHECK_ERRNO (zmq_recv (c->server, buf, sizeof buf, 0), EAGAIN);
    set_int (c->server, ZMQ_RCVTIMEO, WAIT_MS);
    printf ("nothing delivered\n");
}

/* The handler was asked (at least once) with exactly these frames. */
static void expect_request (conn_t *c, const char *domain, const char *mechanism,
                            const void *cred1, size_t cred1_size, const char *cred2)
{
    request_t r;
    int n = zap_requests (c->identity, &r);
    CHECK (n > 0);
    if (n == 0)
        return;
    int frames = 6 + (cred1 != NULL) + (cred2 != NULL);
    CHECK_RC (r.n, frames);
    CHECK (frame_is_str (&r, 0, "1.0"));
    CHECK (frame_is_str (&r, 1, "1"));
    CHECK (frame_is_str (&r, 2, domain));
    CHECK (frame_is_str (&r, 3, c->address));
    CHECK (frame_is_str (&r, 4, c->identity));
    CHECK (frame_is_str (&r, 5, mechanism));
    if (cred1)
        CHECK (frame_is (&r, 6, cred1, cred1_size));
    if (cred2)
        CHECK (frame_is_str (&r, 7, cred2));
    printf ("ZAP request: %s, domain \"%s\", %d credential(s)\n", mechanism, domain, frames - 6);
}

/* The refused PLAIN or CURVE client took the ERROR as final: it did not try again (within the
 * quiet window, a few reconnect intervals). A NULL client may, on libzmq: its READY can still
 * be unsent when the ERROR comes, and the connection then ends as a plain disconnect. */
static void expect_no_retry (conn_t *c)
{
    CHECK_RC (zap_requests (c->identity, NULL), 1);
    printf ("client did not retry\n");
}

static void expect_no_request (conn_t *c)
{
    CHECK_RC (zap_requests (c->identity, NULL), 0);
    printf ("ZAP not asked\n");
}

/* A refusal with `status`: both monitors see AUTH `status`, except 300, where the server
 * sends no ERROR and the client's connection just drops. */
static void expect_refusal (conn_t *c, int status)
{
    expect_event (c->smon, "server", ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, (uint32_t) status);
    if (status == 300) {
        expect_no_delivery (c);
        /* Whether and when the server then drops the connection varies; it never says why. */
        set_int (c->cmon, ZMQ_RCVTIMEO, 0);
        event_t ev;
        int auth = 0;
        while (next_event (c->cmon, &ev) == 0)
            auth += ev.event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
        CHECK_RC (auth, 0);
        printf ("client: no HANDSHAKE_FAILED_AUTH\n");
    } else {
        expect_event (c->cmon, "client", ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, (uint32_t) status);
        expect_no_delivery (c);
    }
}

/* ---- security options ---- */

static void plain_server (void *s)
{
    set_int (s, ZMQ_PLAIN_SERVER, 1);
}

static void plain_client (void *s, const char *user, const char *password)
{
    CHECK_RC (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, user, strlen (user)), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_PLAIN_PASSWORD, password, strlen (password)), 0);
}

static void zap_domain (void *s, const char *domain)
{
    CHECK_RC (zmq_setsockopt (s, ZMQ_ZAP_DOMAIN, domain, strlen (domain)), 0);
}

typedef struct {
    char server_public[41], server_secret[41];
    char client_public[41], client_secret[41];
    char other_public[41], other_secret[41]; /* a key pair no one knows */
} keys_t;

static keys_t keys;

static void curve_server (void *s)
{
    set_int (s, ZMQ_CURVE_SERVER, 1);
    CHECK_RC (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, keys.server_secret, 40), 0);
}

/* A CURVE client with its own key pair (Z85, with the NUL) and the server key as 32 bytes. */
static void curve_client (void *s, const char *server_public, const char *public_key,
                          const char *secret_key)
{
    uint8_t server_key[32];
    CHECK (zmq_z85_decode (server_key, server_public) != NULL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_CURVE_SERVERKEY, server_key, 32), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_CURVE_PUBLICKEY, public_key, 41), 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_CURVE_SECRETKEY, secret_key, 41), 0);
}

static void binary_key (uint8_t *out, const char *z85)
{
    CHECK (zmq_z85_decode (out, z85) != NULL);
}

/* ---- the scenarios ---- */

static void null_without_domain (const char *tr)
{
    printf ("-- %s: NULL, no ZAP domain\n", tr);
    conn_t c;
    open_conn (&c, ctx);
    start (&c, tr);
    expect_delivery (&c, NULL, 0);
    expect_no_request (&c);
    close_conn (&c);
}

static void null_with_domain (const char *tr)
{
    printf ("-- %s: NULL, ZAP domain accepted\n", tr);
    conn_t c;
    open_conn (&c, ctx);
    zap_domain (c.server, "global");
    start (&c, tr);
    expect_delivery (&c, "anonymous", 1);
    expect_request (&c, "global", "NULL", NULL, 0, NULL);
    close_conn (&c);
}

static void null_refused (const char *tr, const char *domain, int status)
{
    printf ("-- %s: NULL, ZAP domain \"%s\"\n", tr, domain);
    conn_t c;
    open_conn (&c, ctx);
    zap_domain (c.server, domain);
    start (&c, tr);
    expect_refusal (&c, status);
    expect_request (&c, domain, "NULL", NULL, 0, NULL);
    close_conn (&c);
}

static void plain_accepted (const char *tr)
{
    printf ("-- %s: PLAIN, right password\n", tr);
    conn_t c;
    open_conn (&c, ctx);
    plain_server (c.server);
    plain_client (c.client, "admin", "password");
    start (&c, tr);
    expect_delivery (&c, "admin", 1);
    expect_request (&c, "", "PLAIN", "admin", 5, "password");
    close_conn (&c);
}

static void plain_refused (const char *tr, const char *domain, int status)
{
    printf ("-- %s: PLAIN, %s\n", tr, domain ? domain : "wrong password");
    conn_t c;
    open_conn (&c, ctx);
    plain_server (c.server);
    if (domain)
        zap_domain (c.server, domain);
    plain_client (c.client, "admin", domain ? "password" : "wrong");
    start (&c, tr);
    expect_refusal (&c, status);
    expect_request (&c, domain ? domain : "", "PLAIN", "admin", 5, domain ? "password" : "wrong");
    if (status != 300)
        expect_no_retry (&c);
    close_conn (&c);
}

static void curve_accepted (const char *tr)
{
    printf ("-- %s: CURVE, known client\n", tr);
    conn_t c;
    open_conn (&c, ctx);
    curve_server (c.server);
    zap_domain (c.server, "curve");
    curve_client (c.client, keys.server_public, keys.client_public, keys.client_secret);
    start (&c, tr);
    expect_delivery (&c, "curve-user", 1);
    uint8_t key[32];
    binary_key (key, keys.client_public);
    expect_request (&c, "curve", "CURVE", key, 32, NULL);
    close_conn (&c);
}

static void curve_refused (const char *tr, const char *domain, int status)
{
    printf ("-- %s: CURVE, %s\n", tr, domain ? domain : "unknown client");
    conn_t c;
    open_conn (&c, ctx);
    curve_server (c.server);
    if (domain)
        zap_domain (c.server, domain);
    const char *pub = domain ? keys.client_public : keys.other_public;
    curve_client (c.client, keys.server_public, pub, domain ? keys.client_secret : keys.other_secret);
    start (&c, tr);
    expect_refusal (&c, status);
    uint8_t key[32];
    binary_key (key, pub);
    expect_request (&c, domain ? domain : "", "CURVE", key, 32, NULL);
    if (status != 300)
        expect_no_retry (&c);
    close_conn (&c);
}

/* The client has another server's public key: the server cannot open the HELLO box. */
static void curve_wrong_server_key (const char *tr)
{
    printf ("-- %s: CURVE, wrong server key\n", tr);
    conn_t c;
    open_conn (&c, ctx);
    curve_server (c.server);
    curve_client (c.client, keys.other_public, keys.client_public, keys.client_secret);
    start (&c, tr);
    expect_event (c.smon, "server", ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                  ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC);
    expect_no_delivery (&c);
    expect_no_request (&c);
    close_conn (&c);
}

/* The handler's reply is malformed: the server fails the handshake with a ZAP_* error. */
static void bad_reply (const char *tr, const char *domain, uint32_t code)
{
    printf ("-- %s: ZAP reply \"%s\"\n", tr, domain);
    conn_t c;
    open_conn (&c, ctx);
    zap_domain (c.server, domain);
    start (&c, tr);
    expect_event (c.smon, "server", ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, code);
    expect_no_delivery (&c);
    expect_request (&c, domain, "NULL", NULL, 0, NULL);
    close_conn (&c);
}

static void run_transport (const char *tr)
{
    null_without_domain (tr);
    null_with_domain (tr);
    null_refused (tr, "refuse", 400);
    null_refused (tr, "error", 500);
    null_refused (tr, "temp", 300);
    plain_accepted (tr);
    plain_refused (tr, NULL, 400);
    plain_refused (tr, "temp", 300);
    plain_refused (tr, "error", 500);
    curve_accepted (tr);
    curve_refused (tr, NULL, 400);
    curve_refused (tr, "temp", 300);
    curve_refused (tr, "error", 500);
    curve_wrong_server_key (tr);
    bad_reply (tr, "bad-version", ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION);
    bad_reply (tr, "bad-id", ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID);
    bad_reply (tr, "bad-code", ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE);
    bad_reply (tr, "bad-metadata", ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA);
    bad_reply (tr, "bad-short", ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY);
}

/* A context without a ZAP handler. */
static void without_handler (const char *tr)
{
    void *ctx2 = zmq_ctx_new ();
    CHECK (ctx2 != NULL);
    conn_t c;

    printf ("-- %s, no handler: CURVE accepts any client\n", tr);
    open_conn (&c, ctx2);
    curve_server (c.server);
    curve_client (c.client, keys.server_public, keys.other_public, keys.other_secret);
    start (&c, tr);
    expect_delivery (&c, NULL, 0);
    close_conn (&c);

    printf ("-- %s, no handler: NULL with a ZAP domain accepts\n", tr);
    open_conn (&c, ctx2);
    zap_domain (c.server, "global");
    start (&c, tr);
    expect_delivery (&c, NULL, 0);
    close_conn (&c);

    printf ("-- %s, no handler: PLAIN server fails\n", tr);
    open_conn (&c, ctx2);
    plain_server (c.server);
    plain_client (c.client, "admin", "password");
    start (&c, tr);
    expect_event (c.smon, "server", ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EFAULT);
    expect_no_delivery (&c);
    close_conn (&c);

    printf ("-- %s, no handler: NULL with ZAP_ENFORCE_DOMAIN fails\n", tr);
    open_conn (&c, ctx2);
    zap_domain (c.server, "global");
    set_int (c.server, ZMQ_ZAP_ENFORCE_DOMAIN, 1);
    start (&c, tr);
    expect_event (c.smon, "server", ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EFAULT);
    expect_no_delivery (&c);
    close_conn (&c);

    CHECK_RC (zmq_ctx_term (ctx2), 0);
}

/* ---- keys and options, without a connection ---- */

static void test_keys (void)
{
    printf ("-- keys\n");
    CHECK_RC (zmq_has ("curve"), 1);
    CHECK_RC (zmq_curve_keypair (keys.server_public, keys.server_secret), 0);
    CHECK_RC (zmq_curve_keypair (keys.client_public, keys.client_secret), 0);
    CHECK_RC (zmq_curve_keypair (keys.other_public, keys.other_secret), 0);
    CHECK_RC (strlen (keys.server_public), 40);
    CHECK_RC (strlen (keys.server_secret), 40);
    CHECK (strcmp (keys.server_public, keys.client_public) != 0);
    CHECK (strcmp (keys.server_secret, keys.client_secret) != 0);
    char derived[41];
    CHECK_RC (zmq_curve_public (derived, keys.server_secret), 0);
    CHECK_STR (derived, keys.server_public);
    CHECK_RC (zmq_curve_public (derived, keys.client_secret), 0);
    CHECK_STR (derived, keys.client_public);
    /* The key pair of libzmq's test_security_curve. */
    CHECK_RC (zmq_curve_public (derived, "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"), 0);
    CHECK_STR (derived, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    CHECK_ERRNO (zmq_curve_public (derived, "not a key"), EINVAL);

    uint8_t key[32];
    binary_key (key, keys.client_public);
    pthread_mutex_lock (&zap_lock);
    memcpy (known_client_key, key, 32);
    pthread_mutex_unlock (&zap_lock);
}

static int get_int (void *s, int option)
{
    int v = -1;
    size_t n = sizeof v;
    CHECK_RC (zmq_getsockopt (s, option, &v, &n), 0);
    CHECK_RC (n, sizeof v);
    return v;
}

/* A key option set as 32 bytes, 40 chars and 41 (with the NUL) reads back in both forms. */
static void key_option (void *s, int option, const char *z85)
{
    uint8_t bin[32], got[32];
    char text[41], z85_copy[41];
    size_t n;
    binary_key (bin, z85);
    CHECK_RC (zmq_setsockopt (s, option, bin, 32), 0);
    n = 32;
    CHECK_RC (zmq_getsockopt (s, option, got, &n), 0);
    CHECK (n == 32 && memcmp (got, bin, 32) == 0);
    n = 41;
    CHECK_RC (zmq_getsockopt (s, option, text, &n), 0);
    CHECK_RC (n, 41);
    CHECK_STR (text, z85);

    CHECK_RC (zmq_setsockopt (s, option, keys.other_public, 40), 0); /* something else */
    CHECK_RC (zmq_setsockopt (s, option, z85, 40), 0);                /* Z85, no NUL */
    n = 32;
    CHECK_RC (zmq_getsockopt (s, option, got, &n), 0);
    CHECK (memcmp (got, bin, 32) == 0);
    CHECK_RC (zmq_setsockopt (s, option, keys.other_public, 41), 0);
    CHECK_RC (zmq_setsockopt (s, option, z85, 41), 0); /* Z85 with its NUL */
    n = 41;
    CHECK_RC (zmq_getsockopt (s, option, text, &n), 0);
    CHECK_STR (text, z85);

    /* Other sizes, and text that is not Z85, are refused and change nothing. */
    CHECK_ERRNO (zmq_setsockopt (s, option, z85, 39), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, option, bin, 33), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (s, option, "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", 40), EINVAL);
    memcpy (z85_copy, z85, 40);
    z85_copy[40] = 'x';
    CHECK_ERRNO (zmq_setsockopt (s, option, z85_copy, 41), EINVAL);
    n = 40;
    CHECK_ERRNO (zmq_getsockopt (s, option, text, &n), EINVAL);
    n = 41;
    CHECK_RC (zmq_getsockopt (s, option, text, &n), 0);
    CHECK_STR (text, z85);
}

static void test_options (void)
{
    printf ("-- options\n");
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (s != NULL);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_NULL);
    CHECK_RC (get_int (s, ZMQ_PLAIN_SERVER), 0);
    CHECK_RC (get_int (s, ZMQ_CURVE_SERVER), 0);

    /* An unset key reads as zeros. */
    uint8_t bin[32], zeros[32] = {0};
    char text[41];
    size_t n = 32;
    CHECK_RC (zmq_getsockopt (s, ZMQ_CURVE_SERVERKEY, bin, &n), 0);
    CHECK (memcmp (bin, zeros, 32) == 0);
    n = 41;
    CHECK_RC (zmq_getsockopt (s, ZMQ_CURVE_PUBLICKEY, text, &n), 0);
    CHECK_STR (text, "0000000000000000000000000000000000000000");

    set_int (s, ZMQ_PLAIN_SERVER, 1);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_PLAIN);
    CHECK_RC (get_int (s, ZMQ_PLAIN_SERVER), 1);
    set_int (s, ZMQ_PLAIN_SERVER, 0);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_NULL);
    CHECK_ERRNO (zmq_setsockopt (s, ZMQ_PLAIN_SERVER, &(int){2}, sizeof (int)), EINVAL);
    CHECK_RC (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, "admin", 5), 0);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_PLAIN);
    CHECK_RC (get_int (s, ZMQ_PLAIN_SERVER), 0);
    char buf[64];
    n = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_PLAIN_USERNAME, buf, &n), 0);
    CHECK (n == 6 && strcmp (buf, "admin") == 0);
    CHECK_RC (zmq_setsockopt (s, ZMQ_PLAIN_USERNAME, NULL, 0), 0);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_NULL);

    set_int (s, ZMQ_CURVE_SERVER, 1);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_CURVE);
    CHECK_RC (get_int (s, ZMQ_CURVE_SERVER), 1);
    set_int (s, ZMQ_CURVE_SERVER, 0);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_NULL);

    /* Setting a server key makes a CURVE client. */
    key_option (s, ZMQ_CURVE_SERVERKEY, keys.server_public);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_CURVE);
    CHECK_RC (get_int (s, ZMQ_CURVE_SERVER), 0);
    key_option (s, ZMQ_CURVE_PUBLICKEY, keys.client_public);
    key_option (s, ZMQ_CURVE_SECRETKEY, keys.client_secret);
    CHECK_RC (get_int (s, ZMQ_MECHANISM), ZMQ_CURVE);

    zap_domain (s, "global");
    n = sizeof buf;
    CHECK_RC (zmq_getsockopt (s, ZMQ_ZAP_DOMAIN, buf, &n), 0);
    CHECK (n == 7 && strcmp (buf, "global") == 0);
    n = 3;
    CHECK_ERRNO (zmq_getsockopt (s, ZMQ_ZAP_DOMAIN, buf, &n), EINVAL);
    CHECK_RC (zmq_close (s), 0);
}

int main (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    snprintf (tmpdir, sizeof tmpdir, "/tmp/zmq-security-XXXXXX");
    if (!mkdtemp (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_keys ();
    test_options ();

    /* The handler is bound before it is handed to its thread. */
    void *zap = zmq_socket (ctx, ZMQ_REP);
    CHECK (zap != NULL);
    CHECK_RC (zmq_bind (zap, "inproc://zeromq.zap.01"), 0);
    pthread_t handler;
    CHECK_RC (pthread_create (&handler, NULL, zap_handler, zap), 0);

    run_transport ("tcp");
    run_transport ("ipc");
    without_handler ("tcp");
    without_handler ("ipc");

    CHECK_RC (zmq_ctx_term (ctx), 0);
    CHECK_RC (pthread_join (handler, NULL), 0);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK_RC (system (cmd), 0);
    return TEST_SUMMARY ("security");
}
