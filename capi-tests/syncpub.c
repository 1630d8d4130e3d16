/* syncpub.c: the zguide's synchronised publisher over inproc, tcp and ipc. SUBSCRIBERS threads subscribe,
 * then tell the publisher (the main thread) they are ready through REQ/REP; once all are, it
 * publishes MESSAGES messages and END, and every subscriber must receive exactly what its
 * subscription selects, in order. Half the subscribers take everything, the other half only
 * the "even" messages (and END).
 *
 * Why the publisher reads ZMQ_EVENTS on its PUB socket before publishing: a subscription
 * reaches the publisher as a command to its socket, and libzmq's zmq_send processes pending
 * commands only if it has not done so in the last millisecond or so. ZMQ_EVENTS always processes
 * them, so after it every subscription announced before the "ready" request is in effect.
 *
 * Over tcp and ipc the subscription and the "ready" request travel on different connections,
 * and either may arrive first: there the publisher also sends "~sync" messages (every 10 ms,
 * while waiting for "ready") and a subscriber, which subscribes to "~sync" after its real
 * topics, says "ready" only once one has arrived, i.e. once all its subscriptions are in
 * effect (they travel in order on its connection). The "~sync" messages still queued come
 * before the data and are skipped; one after the data is out of order. And there the PUB's
 * queue to a subscriber is its SNDHWM alone (the subscriber's RCVHWM is a second queue at the
 * other end), which the "~sync" messages go through too: it is unbounded, so that a slow
 * subscriber makes none of the messages drop. */
// transports: inproc tcp ipc
#include "testutil.h"

#include <pthread.h>

#define SUBSCRIBERS 6
#define MESSAGES 1000 /* below the default inproc HWM of 1000 + 1000: none may be dropped */

static void *ctx;
static char pub_ep[256], sync_ep[256]; /* where the publisher's sockets are bound */

struct subscriber
{
    int id;
    int all;       /* subscribed to everything, else to "even" and "END" */
    long received; /* data messages, END excluded */
    long out_of_order;
    int got_end;
    int errors;
    pthread_t thread;
};

static void *subscriber_main (void *arg)
{
    struct subscriber *s = (struct subscriber *) arg;
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    void *sync = zmq_socket (ctx, ZMQ_REQ);
    if (!sub || !sync) {
        s->errors++;
        goto out;
    }
    int timeo = 10000;
    zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    if (zmq_connect (sub, pub_ep) != 0) {
        s->errors++;
        goto out;
    }
    if (s->all) {
        if (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0) != 0)
            s->errors++;
    } else {
        if (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "even", 4) != 0
            || zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "END", 3) != 0)
            s->errors++;
    }
    char buf[64];
    const int probed = tu_transport () != TU_INPROC;
    if (probed
        && (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "~sync", 5) != 0
            || zmq_recv (sub, buf, sizeof buf, 0) != 5 || memcmp (buf, "~sync", 5) != 0)) {
        s->errors++;
        goto out;
    }
    if (zmq_connect (sync, sync_ep) != 0 || zmq_send (sync, "ready", 5, 0) != 5
        || zmq_recv (sync, buf, sizeof buf, 0) < 0) {
        s->errors++;
        goto out;
    }
    long next = 0; /* the index expected next */
    int data_seen = 0;
    while (1) {
        int n = zmq_recv (sub, buf, sizeof buf - 1, 0);
        if (n < 0) {
            s->errors++;
            break;
        }
        buf[n < (int) sizeof buf - 1 ? n : (int) sizeof buf - 1] = '\0';
        if (probed && strcmp (buf, "~sync") == 0) {
            s->out_of_order += data_seen; /* only before the data */
            continue;
        }
        data_seen = 1;
        if (strcmp (buf, "END") == 0) {
            s->got_end = 1;
            break;
        }
        long i = -1;
        if (strncmp (buf, "even ", 5) == 0)
            i = atol (buf + 5);
        else if (strncmp (buf, "odd ", 4) == 0)
            i = atol (buf + 4);
        if (i != next || (strncmp (buf, "odd", 3) == 0) != (i % 2 == 1))
            s->out_of_order++;
        s->received++;
        next = (i < 0 ? next : i) + (s->all ? 1 : 2);
    }
out:
    if (sub)
        zmq_close (sub);
    if (sync)
        zmq_close (sync);
    return NULL;
}

int main (void)
{
    ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sync = zmq_socket (ctx, ZMQ_REP);
    CHECK (pub && sync);
    if (tu_transport () != TU_INPROC) {
        int unbounded = 0;
        CHECK_RC (zmq_setsockopt (pub, ZMQ_SNDHWM, &unbounded, sizeof unbounded), 0);
    }
    CHECK_RC (tu_bind (pub, "syncpub", pub_ep, sizeof pub_ep), 0);
    CHECK_RC (tu_bind (sync, "syncpub-sync", sync_ep, sizeof sync_ep), 0);

    struct subscriber subs[SUBSCRIBERS];
    memset (subs, 0, sizeof subs);
    for (int i = 0; i < SUBSCRIBERS; i++) {
        subs[i].id = i;
        subs[i].all = i % 2 == 0;
        CHECK_RC (pthread_create (&subs[i].thread, NULL, subscriber_main, &subs[i]), 0);
    }

    /* Wait for every subscriber's "ready" (over tcp and ipc sending "~sync" meanwhile). */
    int ready = 0, answered = 0, sync_errors = 0;
    for (int iter = 0; answered < SUBSCRIBERS && iter < 2000; iter++) {
        if (tu_transport () != TU_INPROC) {
            sync_errors += zmq_send (pub, "~sync", 5, 0) != 5;
            zmq_pollitem_t it = {sync, 0, ZMQ_POLLIN, 0};
            if (zmq_poll (&it, 1, 10) != 1)
                continue;
        }
        char buf[16];
        if (zmq_recv (sync, buf, sizeof buf, 0) == 5 && memcmp (buf, "ready", 5) == 0)
            ready++;
        if (zmq_send (sync, "go", 2, 0) != 2)
            break;
        answered++;
    }
    CHECK_RC (ready, SUBSCRIBERS);
    CHECK_RC (sync_errors, 0);

    int events = 0;
    size_t sz = sizeof events;
    CHECK_RC (zmq_getsockopt (pub, ZMQ_EVENTS, &events, &sz), 0);
    CHECK (events & ZMQ_POLLOUT); /* a PUB can always send */

    int send_errors = 0;
    for (int i = 0; i < MESSAGES; i++) {
        char buf[32];
        snprintf (buf, sizeof buf, "%s %d", i % 2 == 0 ? "even" : "odd", i);
        send_errors += zmq_send (pub, buf, strlen (buf), 0) != (int) strlen (buf);
    }
    CHECK_RC (zmq_send (pub, "END", 3, 0), 3);
    CHECK_RC (send_errors, 0);

    long all_ok = 0, even_ok = 0, disorder = 0;
    int ends = 0, errors = 0;
    for (int i = 0; i < SUBSCRIBERS; i++) {
        CHECK_RC (pthread_join (subs[i].thread, NULL), 0);
        if (subs[i].all && subs[i].received == MESSAGES)
            all_ok++;
        if (!subs[i].all && subs[i].received == MESSAGES / 2)
            even_ok++;
        disorder += subs[i].out_of_order;
        ends += subs[i].got_end;
        errors += subs[i].errors;
    }
    CHECK_RC (all_ok, SUBSCRIBERS / 2);
    CHECK_RC (even_ok, SUBSCRIBERS / 2);
    CHECK_RC (disorder, 0);
    CHECK_RC (ends, SUBSCRIBERS);
    CHECK_RC (errors, 0);

    CHECK_RC (zmq_close (pub), 0);
    CHECK_RC (zmq_close (sync), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("syncpub");
}
