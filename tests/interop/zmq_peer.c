/* A libzmq peer for tests/curve_interop.rs, built against the system's libzmq (-lzmq).
 *
 *   zmq_peer server NULL|PLAIN|CURVE [server_secret_z85]
 *       binds a DEALER to tcp://127.0.0.1:*, prints "ENDPOINT <endpoint>", and for PLAIN and
 *       CURVE runs a ZAP handler (PLAIN: admin/secret only; CURVE: any key) that names the user
 *       "interop-user". Receives one multipart message, prints "RECV <part>|<part>..." and
 *       "USER-ID <id>", answers "reply" + the first part, then exits 0.
 *   zmq_peer client NULL|PLAIN|CURVE endpoint [server_public_z85]
 *       connects a DEALER (PLAIN: admin/secret; CURVE: a fresh key pair, printed as
 *       "CLIENT-KEY <z85>"), sends "hello" + "from libzmq", prints the reply as "RECV ...",
 *       then exits 0. If the handshake fails instead, prints the monitor event as
 *       "AUTH <status>" (exit 3) or "PROTOCOL <code>" (exit 4).
 * Every wait is bounded (10 s); a timeout or error exits 1 with a message on stderr. */
#include <zmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

static void die (const char *what)
{
    fprintf (stderr, "zmq_peer: %s: %s\n", what, zmq_strerror (zmq_errno ()));
    exit (1);
}

static void set (void *s, int opt, const void *v, size_t n, const char *what)
{
    if (zmq_setsockopt (s, opt, v, n) != 0)
        die (what);
}

/* Serves ZAP on `arg`, a REP socket the main thread bound before any connection could
 * arrive (so no handshake can find the handler missing). */
static void *zap_handler (void *arg)
{
    void *zap = arg;
    for (;;) {
        char f[10][256];
        int n[10], count = 0, more = 1;
        while (more && count < 10) {
            n[count] = zmq_recv (zap, f[count], sizeof f[count] - 1, 0);
            if (n[count] < 0) {
                zmq_close (zap);
                return NULL; /* ETERM: the context is closing */
            }
            f[count][n[count] < 255 ? n[count] : 255] = 0;
            size_t ml = sizeof more;
            zmq_getsockopt (zap, ZMQ_RCVMORE, &more, &ml);
            count++;
        }
        /* version, request id, domain, address, identity, mechanism, credentials... */
        const char *status = "200";
        if (count >= 8 && strcmp (f[5], "PLAIN") == 0)
            status = (strcmp (f[6], "admin") == 0 && strcmp (f[7], "secret") == 0) ? "200" : "400";
        printf ("ZAP %s %s\n", f[5], status);
        fflush (stdout);
        zmq_send (zap, "1.0", 3, ZMQ_SNDMORE);
        zmq_send (zap, f[1], n[1], ZMQ_SNDMORE);
        zmq_send (zap, status, 3, ZMQ_SNDMORE);
        zmq_send (zap, "OK", 2, ZMQ_SNDMORE);
        zmq_send (zap, "interop-user", 12, ZMQ_SNDMORE);
        zmq_send (zap, "", 0, 0);
    }
}

/* Receives one multipart message, prints it ("RECV a|b" and, if ZAP named the peer,
 * "USER-ID <id>"), and returns its first part. */
static char *recv_all (void *s)
{
    static char first[256];
    char line[4096] = "";
    char uid[256] = "";
    int more = 1, i = 0;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, s, 0) < 0)
            die ("recv");
        int len = (int) (zmq_msg_size (&m) < 255 ? zmq_msg_size (&m) : 255);
        if (i == 0) {
            memcpy (first, zmq_msg_data (&m), (size_t) len);
            first[len] = 0;
            const char *u = zmq_msg_gets (&m, "User-Id");
            if (u)
                snprintf (uid, sizeof uid, "%s", u);
        }
        size_t used = strlen (line);
        snprintf (line + used, sizeof line - used, "%s%.*s", i ? "|" : "", len,
                  (char *) zmq_msg_data (&m));
        more = zmq_msg_more (&m);
        zmq_msg_close (&m);
        i++;
    }
    printf ("RECV %s\n", line);
    if (uid[0])
        printf ("USER-ID %s\n", uid);
    fflush (stdout);
    return first;
}

int main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: zmq_peer server|client NULL|PLAIN|CURVE ...\n");
        return 2;
    }
    int server = strcmp (argv[1], "server") == 0;
    const char *mech = argv[2];
    int one = 1, timeout = 10000, linger = 2000;
    void *ctx = zmq_ctx_new ();
    pthread_t zap_thread;
    int have_zap = 0;
    if (server && strcmp (mech, "NULL") != 0) {
        void *zap = zmq_socket (ctx, ZMQ_REP);
        if (!zap || zmq_bind (zap, "inproc://zeromq.zap.01") != 0)
            die ("zap bind");
        if (pthread_create (&zap_thread, NULL, zap_handler, zap) != 0)
            die ("pthread_create");
        have_zap = 1;
    }
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    set (s, ZMQ_RCVTIMEO, &timeout, sizeof timeout, "rcvtimeo");
    set (s, ZMQ_SNDTIMEO, &timeout, sizeof timeout, "sndtimeo");
    set (s, ZMQ_LINGER, &linger, sizeof linger, "linger");
    if (server) {
        if (strcmp (mech, "PLAIN") == 0)
            set (s, ZMQ_PLAIN_SERVER, &one, sizeof one, "plain_server");
        if (strcmp (mech, "CURVE") == 0) {
            if (argc < 4)
                return 2;
            set (s, ZMQ_CURVE_SERVER, &one, sizeof one, "curve_server");
            set (s, ZMQ_CURVE_SECRETKEY, argv[3], 40, "curve_secretkey");
        }
        set (s, ZMQ_ZAP_DOMAIN, "interop", 7, "zap_domain");
        if (zmq_bind (s, "tcp://127.0.0.1:*") != 0)
            die ("bind");
        char endpoint[256];
        size_t len = sizeof endpoint;
        zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, endpoint, &len);
        printf ("ENDPOINT %s\n", endpoint);
        fflush (stdout);
        char *first = recv_all (s);
        if (zmq_send (s, "reply", 5, ZMQ_SNDMORE) < 0 || zmq_send (s, first, strlen (first), 0) < 0)
            die ("send");
    } else {
        if (argc < 4)
            return 2;
        if (strcmp (mech, "PLAIN") == 0) {
            set (s, ZMQ_PLAIN_USERNAME, "admin", 5, "plain_username");
            set (s, ZMQ_PLAIN_PASSWORD, "secret", 6, "plain_password");
        }
        if (strcmp (mech, "CURVE") == 0) {
            char pub[41], sec[41];
            if (argc < 5 || zmq_curve_keypair (pub, sec) != 0)
                die ("curve_keypair");
            printf ("CLIENT-KEY %s\n", pub);
            fflush (stdout);
            set (s, ZMQ_CURVE_SERVERKEY, argv[4], 40, "curve_serverkey");
            set (s, ZMQ_CURVE_PUBLICKEY, pub, 40, "curve_publickey");
            set (s, ZMQ_CURVE_SECRETKEY, sec, 40, "curve_secretkey");
        }
        if (zmq_socket_monitor (s, "inproc://monitor",
                                ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                                  | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            != 0)
            die ("monitor");
        void *mon = zmq_socket (ctx, ZMQ_PAIR);
        if (!mon || zmq_connect (mon, "inproc://monitor") != 0)
            die ("monitor connect");
        if (zmq_connect (s, argv[3]) != 0)
            die ("connect");
        if (zmq_send (s, "hello", 5, ZMQ_SNDMORE) < 0 || zmq_send (s, "from libzmq", 11, 0) < 0)
            die ("send");
        for (int waited = 0;; waited += 100) {
            zmq_pollitem_t items[] = {{s, 0, ZMQ_POLLIN, 0}, {mon, 0, ZMQ_POLLIN, 0}};
            if (waited > timeout || zmq_poll (items, 2, 100) < 0)
                die ("reply");
            if (items[1].revents & ZMQ_POLLIN) {
                unsigned char ev[6];
                char address[256];
                if (zmq_recv (mon, ev, sizeof ev, 0) != 6 || zmq_recv (mon, address, sizeof address, 0) < 0)
                    die ("monitor recv");
                unsigned short event = (unsigned short) (ev[0] | ev[1] << 8);
                unsigned value = ev[2] | ev[3] << 8 | ev[4] << 16 | (unsigned) ev[5] << 24;
                if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                    printf ("AUTH %u\n", value);
                else
                    printf ("PROTOCOL 0x%x\n", value);
                fflush (stdout);
                _exit (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? 3 : 4);
            }
            if (items[0].revents & ZMQ_POLLIN)
                break;
        }
        recv_all (s);
        zmq_socket_monitor (s, NULL, 0);
        zmq_close (mon);
    }
    zmq_close (s);
    zmq_ctx_term (ctx);
    if (have_zap)
        pthread_join (zap_thread, NULL);
    printf ("DONE\n");
    return 0;
}
