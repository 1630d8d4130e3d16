/* pubsub.c: PUB/SUB and XPUB/XSUB over inproc, tcp and ipc. Prefix filtering (several topics,
 * the empty topic, unsubscribe, counted subscriptions), multipart envelopes, several
 * subscribers, subscription messages seen by XPUB (\x01topic / \x00topic), raw subscriptions
 * from XSUB, ZMQ_XPUB_VERBOSE / _VERBOSER, ZMQ_XPUB_WELCOME_MSG, ZMQ_INVERT_MATCHING, an
 * XPUB -> XSUB -> XPUB -> SUB forwarding chain driven by hand, and ENOTSUP for the directions
 * a type does not have.
 *
 * Synchronisation: a PUB applies a subscription when it gets round to reading its pipe, so
 * after (un)subscribing, a SUB subscribes a fresh probe topic and the PUB sends probes until
 * one arrives (subscriptions travel in order on one pipe, so everything before the probe topic
 * is in effect too); then one last probe is sent and read up to, so that no probe is left
 * behind (and nothing else may arrive before it: that also makes it a fence for "nothing
 * else came"). An XPUB shows the subscription arriving. Messages travel in order on their
 * connection, so "nothing more" after receiving the last message sent is conclusive over every
 * transport; where something wrongly sent later could still be on its way over tcp or ipc, a
 * fence message the subscriber must receive next follows. Sockets have a receive timeout: a
 * lost message fails a check instead of hanging. */
// transports: inproc tcp ipc
#include "testutil.h"

static void *new_socket (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    int timeo = 10000;
    if (s != NULL)
        zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeo, sizeof timeo);
    return s;
}

static int send_str (void *s, const char *str, int flags)
{
    return zmq_send (s, str, strlen (str), flags);
}

static int send_bin (void *s, const void *data, size_t len, int flags)
{
    return zmq_send (s, data, len, flags);
}

static int recv_str (void *s, char *buf, size_t cap, int flags)
{
    int n = zmq_recv (s, buf, cap - 1, flags);
    if (n >= 0)
        buf[(size_t) n < cap - 1 ? (size_t) n : cap - 1] = '\0';
    return n;
}

static int rcvmore (void *s)
{
    int more = -1;
    size_t sz = sizeof more;
    if (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz) != 0)
        return -1;
    return more;
}

static int subscribe (void *s, const char *topic)
{
    return zmq_setsockopt (s, ZMQ_SUBSCRIBE, topic, strlen (topic));
}

static int unsubscribe (void *s, const char *topic)
{
    return zmq_setsockopt (s, ZMQ_UNSUBSCRIBE, topic, strlen (topic));
}

#define EXPECT_FRAME(s, want, more)                                            \
    do {                                                                       \
        char ef_buf_[256];                                                     \
        CHECK_RC (recv_str ((s), ef_buf_, sizeof ef_buf_, 0), (int) strlen (want)); \
        CHECK_STR (ef_buf_, (want));                                           \
        CHECK_RC (rcvmore (s), (more));                                        \
    } while (0)

/* Binary-safe variant for subscription messages (which start with \x00 or \x01). */
#define EXPECT_BIN(s, data, len, more)                                         \
    do {                                                                       \
        char eb_buf_[256];                                                     \
        int eb_n_ = zmq_recv ((s), eb_buf_, sizeof eb_buf_, 0);                \
        CHECK_RC (eb_n_, (int) (len));                                         \
        CHECK (eb_n_ == (int) (len) && memcmp (eb_buf_, (data), (len)) == 0); \
        CHECK_RC (rcvmore (s), (more));                                        \
    } while (0)

#define EXPECT_NOTHING(s)                                                      \
    do {                                                                       \
        char en_buf_[256];                                                     \
        CHECK_ERRNO (zmq_recv ((s), en_buf_, sizeof en_buf_, ZMQ_DONTWAIT), EAGAIN); \
    } while (0)

/* Subscribes each of `subs` to the probe topic `probe` and publishes it on `pub` (every 10 ms)
 * until every one has received a probe; then publishes `probe`.last and reads each subscriber
 * up to it, so that no probe is left behind. Anything but a probe arriving fails. Returns 1 on
 * success. */
static int sync_subs (void *pub, void **subs, int n, const char *probe)
{
    int got[8] = {0};
    int pending = n;
    char buf[64], last[64];
    for (int i = 0; i < n; i++)
        if (subscribe (subs[i], probe) != 0)
            return 0;
    for (int iter = 0; pending > 0 && iter < 1000; iter++) {
        if (send_str (pub, probe, 0) != (int) strlen (probe))
            return 0;
        zmq_pollitem_t items[8];
        for (int i = 0; i < n; i++) {
            zmq_pollitem_t it = {subs[i], 0, got[i] ? 0 : ZMQ_POLLIN, 0};
            items[i] = it;
        }
        if (zmq_poll (items, n, 10) < 0)
            return 0;
        for (int i = 0; i < n; i++) {
            if (got[i] || !(items[i].revents & ZMQ_POLLIN))
                continue;
            if (recv_str (subs[i], buf, sizeof buf, ZMQ_DONTWAIT) < 0 || strcmp (buf, probe) != 0)
                return 0; /* only probes may flow before the sync */
            got[i] = 1;
            pending--;
        }
    }
    if (pending > 0)
        return 0;
    snprintf (last, sizeof last, "%s.last", probe);
    if (send_str (pub, last, 0) != (int) strlen (last))
        return 0;
    for (int i = 0; i < n; i++)
        for (;;) {
            if (recv_str (subs[i], buf, sizeof buf, 0) < 0)
                return 0;
            if (strcmp (buf, last) == 0)
                break;
            if (strcmp (buf, probe) != 0)
                return 0;
        }
    return 1;
}

static void test_topics (void *ctx)
{
    void *pub = new_socket (ctx, ZMQ_PUB);
    void *sub = new_socket (ctx, ZMQ_SUB);
    char ep[256];
    CHECK_RC (tu_bind (pub, "ps-topics", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (sub, ep), 0);

    /* Nothing subscribed yet: nothing arrives, and publishing never fails. */
    CHECK_RC (send_str (pub, "weather.early", 0), 13);
    EXPECT_NOTHING (sub);

    CHECK_RC (subscribe (sub, "weather."), 0);
    CHECK_RC (subscribe (sub, "sports."), 0);
    CHECK (sync_subs (pub, &sub, 1, "~probe1~"));

    const char *sent[] = {"weather.london", "news.world", "sports.f1", "weatherX",
                          "sports.", "weather", "", "Sports.f1", "sports.end"};
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        CHECK_RC (send_str (pub, sent[i], 0), (int) strlen (sent[i]));
    EXPECT_FRAME (sub, "weather.london", 0);
    EXPECT_FRAME (sub, "sports.f1", 0);
    EXPECT_FRAME (sub, "sports.", 0);
    EXPECT_FRAME (sub, "sports.end", 0);
    EXPECT_NOTHING (sub);

    /* Unsubscribe one topic; the other keeps flowing. */
    CHECK_RC (unsubscribe (sub, "sports."), 0);
    CHECK (sync_subs (pub, &sub, 1, "~probe2~"));
    CHECK_RC (send_str (pub, "sports.tennis", 0), 13);
    CHECK_RC (send_str (pub, "weather.paris", 0), 13);
    CHECK_RC (send_str (pub, "sports.golf", 0), 11);
    CHECK_RC (send_str (pub, "weather.end", 0), 11);
    EXPECT_FRAME (sub, "weather.paris", 0);
    EXPECT_FRAME (sub, "weather.end", 0);
    EXPECT_NOTHING (sub);

    /* Unsubscribing something never subscribed is accepted and changes nothing. */
    CHECK_RC (unsubscribe (sub, "never"), 0);

    /* Subscriptions are counted: two subscribes need two unsubscribes. */
    CHECK_RC (subscribe (sub, "dup"), 0);
    CHECK_RC (subscribe (sub, "dup"), 0);
    CHECK_RC (unsubscribe (sub, "dup"), 0);
    CHECK (sync_subs (pub, &sub, 1, "~probe3~"));
    CHECK_RC (send_str (pub, "dup.1", 0), 5);
    EXPECT_FRAME (sub, "dup.1", 0);
    CHECK_RC (unsubscribe (sub, "dup"), 0);
    CHECK (sync_subs (pub, &sub, 1, "~probe4~"));
    CHECK_RC (send_str (pub, "dup.2", 0), 5);
    CHECK_RC (send_str (pub, "weather.last", 0), 12);
    EXPECT_FRAME (sub, "weather.last", 0);
    EXPECT_NOTHING (sub);

    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

static void test_empty_topic (void *ctx)
{
    void *pub = new_socket (ctx, ZMQ_PUB);
    void *sub = new_socket (ctx, ZMQ_SUB);
    char ep[256];
    CHECK_RC (tu_bind (pub, "ps-all", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (sub, ep), 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, NULL, 0), 0);
    CHECK (sync_subs (pub, &sub, 1, "~probe~"));

    CHECK_RC (send_str (pub, "anything", 0), 8);
    CHECK_RC (send_str (pub, "", 0), 0);
    CHECK_RC (send_bin (pub, "\0\1\2", 3, 0), 3);
    CHECK_RC (send_str (pub, "last", 0), 4);
    EXPECT_FRAME (sub, "anything", 0);
    EXPECT_FRAME (sub, "", 0);
    EXPECT_BIN (sub, "\0\1\2", 3, 0);
    EXPECT_FRAME (sub, "last", 0);
    EXPECT_NOTHING (sub);

    /* Dropping the empty topic stops everything (the probe topic aside). */
    CHECK_RC (zmq_setsockopt (sub, ZMQ_UNSUBSCRIBE, "", 0), 0);
    CHECK (sync_subs (pub, &sub, 1, "~probe2~"));
    CHECK_RC (send_str (pub, "anything", 0), 8);
    EXPECT_NOTHING (sub);
    CHECK (sync_subs (pub, &sub, 1, "~fence~")); /* "anything" is not on its way either */

    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

static void test_multipart (void *ctx)
{
    void *pub = new_socket (ctx, ZMQ_PUB);
    void *sub = new_socket (ctx, ZMQ_SUB);
    char ep[256];
    CHECK_RC (tu_bind (pub, "ps-multipart", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (sub, ep), 0);
    CHECK_RC (subscribe (sub, "env."), 0);
    CHECK (sync_subs (pub, &sub, 1, "~probe~"));

    /* Only the first frame is matched; matching messages arrive whole. */
    CHECK_RC (send_str (pub, "env.a", ZMQ_SNDMORE), 5);
    CHECK_RC (send_str (pub, "body1", ZMQ_SNDMORE), 5);
    CHECK_RC (send_str (pub, "body2", 0), 5);
    CHECK_RC (send_str (pub, "other", ZMQ_SNDMORE), 5);
    CHECK_RC (send_str (pub, "env.not-a-topic", 0), 15);
    CHECK_RC (send_str (pub, "env.b", ZMQ_SNDMORE), 5);
    CHECK_RC (send_str (pub, "", 0), 0);
    CHECK_RC (send_str (pub, "env.c", 0), 5);

    EXPECT_FRAME (sub, "env.a", 1);
    EXPECT_FRAME (sub, "body1", 1);
    EXPECT_FRAME (sub, "body2", 0);
    EXPECT_FRAME (sub, "env.b", 1);
    EXPECT_FRAME (sub, "", 0);
    EXPECT_FRAME (sub, "env.c", 0);
    EXPECT_NOTHING (sub);

    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

static void test_several_subs (void *ctx)
{
    void *pub = new_socket (ctx, ZMQ_PUB);
    void *subs[3];
    char ep[256];
    CHECK_RC (tu_bind (pub, "ps-several", ep, sizeof ep), 0);
    for (int i = 0; i < 3; i++) {
        subs[i] = new_socket (ctx, ZMQ_SUB);
        CHECK_RC (zmq_connect (subs[i], ep), 0);
    }
    CHECK_RC (subscribe (subs[0], "A"), 0);
    CHECK_RC (subscribe (subs[1], "B"), 0);
    CHECK_RC (subscribe (subs[2], ""), 0);
    CHECK (sync_subs (pub, subs, 3, "~probe~"));

    const char *sent[] = {"A1", "B1", "C1", "AB", "B2", "BA"};
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        CHECK_RC (send_str (pub, sent[i], 0), 2);
    EXPECT_FRAME (subs[0], "A1", 0);
    EXPECT_FRAME (subs[0], "AB", 0);
    EXPECT_NOTHING (subs[0]);
    EXPECT_FRAME (subs[1], "B1", 0);
    EXPECT_FRAME (subs[1], "B2", 0);
    EXPECT_FRAME (subs[1], "BA", 0);
    EXPECT_NOTHING (subs[1]);
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        EXPECT_FRAME (subs[2], sent[i], 0);
    EXPECT_NOTHING (subs[2]);
    CHECK (sync_subs (pub, subs, 3, "~fence~")); /* nor is anything on its way */

    for (int i = 0; i < 3; i++)
        CHECK_RC (zmq_close (subs[i]), 0);
    CHECK_RC (zmq_close (pub), 0);
}

/* XPUB hands unique subscriptions and cancellations to the application. */
static void test_xpub_sees_subscriptions (void *ctx)
{
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    void *sub1 = new_socket (ctx, ZMQ_SUB);
    void *sub2 = new_socket (ctx, ZMQ_SUB);
    char ep[256];
    CHECK_RC (tu_bind (xpub, "ps-xpub", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (sub1, ep), 0);
    CHECK_RC (zmq_connect (sub2, ep), 0);

    CHECK_RC (subscribe (sub1, "topic"), 0);
    EXPECT_BIN (xpub, "\1topic", 6, 0);
    /* The subscription is in effect once XPUB has reported it. */
    CHECK_RC (send_str (xpub, "topic.1", 0), 7);
    CHECK_RC (send_str (xpub, "other.1", 0), 7);
    EXPECT_FRAME (sub1, "topic.1", 0);
    EXPECT_NOTHING (sub1);
    EXPECT_NOTHING (sub2);

    /* A duplicate from another subscriber is not reported; the next new topic is. */
    CHECK_RC (subscribe (sub2, "topic"), 0);
    CHECK_RC (subscribe (sub2, "other"), 0);
    EXPECT_BIN (xpub, "\1other", 6, 0);
    CHECK_RC (send_str (xpub, "topic.2", 0), 7);
    CHECK_RC (send_str (xpub, "other.2", 0), 7);
    EXPECT_FRAME (sub1, "topic.2", 0);
    EXPECT_NOTHING (sub1);
    EXPECT_FRAME (sub2, "topic.2", 0);
    EXPECT_FRAME (sub2, "other.2", 0);
    EXPECT_NOTHING (sub2);
    /* A fence for sub1: "other.2" must not be on its way either. */
    CHECK_RC (send_str (xpub, "topic.fence", 0), 11);
    EXPECT_FRAME (sub1, "topic.fence", 0);
    EXPECT_FRAME (sub2, "topic.fence", 0);

    /* Cancelling a topic someone else still holds is not reported; the last one is. */
    CHECK_RC (unsubscribe (sub1, "topic"), 0);
    CHECK_RC (subscribe (sub1, "mark"), 0);
    EXPECT_BIN (xpub, "\1mark", 5, 0);
    CHECK_RC (unsubscribe (sub2, "topic"), 0);
    EXPECT_BIN (xpub, "\0topic", 6, 0);
    EXPECT_NOTHING (xpub);

    /* A subscriber going away cancels the topics only it held. */
    CHECK_RC (zmq_close (sub1), 0);
    EXPECT_BIN (xpub, "\0mark", 5, 0);
    CHECK_RC (zmq_close (sub2), 0);
    EXPECT_BIN (xpub, "\0other", 6, 0);
    EXPECT_NOTHING (xpub);

    CHECK_RC (zmq_close (xpub), 0);
}

/* XSUB sends subscriptions as plain messages, and other messages go upstream as they are. */
static void test_xsub_raw (void *ctx)
{
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    void *xsub = new_socket (ctx, ZMQ_XSUB);
    char ep[256];
    CHECK_RC (tu_bind (xpub, "ps-xsub", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (xsub, ep), 0);

    CHECK_RC (send_bin (xsub, "\1news", 5, 0), 5);
    EXPECT_BIN (xpub, "\1news", 5, 0);
    CHECK_RC (send_str (xpub, "news.1", 0), 6);
    CHECK_RC (send_str (xpub, "sport.1", 0), 7);
    CHECK_RC (send_str (xpub, "news.2", ZMQ_SNDMORE), 6);
    CHECK_RC (send_str (xpub, "tail", 0), 4);
    /* XSUB does no filtering of its own: what XPUB sent is what arrives. */
    EXPECT_FRAME (xsub, "news.1", 0);
    EXPECT_FRAME (xsub, "news.2", 1);
    EXPECT_FRAME (xsub, "tail", 0);
    EXPECT_NOTHING (xsub);

    /* An ordinary message goes upstream to the XPUB application. */
    CHECK_RC (send_str (xsub, "hello upstream", 0), 14);
    EXPECT_FRAME (xpub, "hello upstream", 0);

    CHECK_RC (send_bin (xsub, "\0news", 5, 0), 5);
    EXPECT_BIN (xpub, "\0news", 5, 0);
    CHECK_RC (send_bin (xsub, "\1end", 4, 0), 4);
    EXPECT_BIN (xpub, "\1end", 4, 0);
    CHECK_RC (send_str (xpub, "news.3", 0), 6);
    CHECK_RC (send_str (xpub, "end", 0), 3);
    EXPECT_FRAME (xsub, "end", 0);
    EXPECT_NOTHING (xsub);

    CHECK_RC (zmq_close (xsub), 0);
    CHECK_RC (zmq_close (xpub), 0);
}

static void test_xpub_verbose (void *ctx)
{
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    void *sub1 = new_socket (ctx, ZMQ_SUB);
    void *sub2 = new_socket (ctx, ZMQ_SUB);
    int one = 1;
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_XPUB_VERBOSE, &one, sizeof one), 0);
    char ep[256];
    CHECK_RC (tu_bind (xpub, "ps-verbose", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (sub1, ep), 0);
    CHECK_RC (zmq_connect (sub2, ep), 0);

    /* Every subscription is reported, duplicates included... */
    CHECK_RC (subscribe (sub1, "dup"), 0);
    EXPECT_BIN (xpub, "\1dup", 4, 0);
    CHECK_RC (subscribe (sub2, "dup"), 0);
    EXPECT_BIN (xpub, "\1dup", 4, 0);
    CHECK_RC (subscribe (sub1, "dup"), 0);
    EXPECT_BIN (xpub, "\1dup", 4, 0);
    /* ...but only the last cancellation (ZMQ_XPUB_VERBOSE covers subscriptions only). */
    CHECK_RC (unsubscribe (sub2, "dup"), 0);
    CHECK_RC (subscribe (sub2, "mark"), 0);
    EXPECT_BIN (xpub, "\1mark", 5, 0);
    EXPECT_NOTHING (xpub);

    CHECK_RC (zmq_close (sub1), 0);
    CHECK_RC (zmq_close (sub2), 0);
    CHECK_RC (zmq_close (xpub), 0);

    /* ZMQ_XPUB_VERBOSER reports every cancellation too. */
    xpub = new_socket (ctx, ZMQ_XPUB);
    sub1 = new_socket (ctx, ZMQ_SUB);
    sub2 = new_socket (ctx, ZMQ_SUB);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_XPUB_VERBOSER, &one, sizeof one), 0);
    char ep2[256];
    CHECK_RC (tu_bind (xpub, "ps-verboser", ep2, sizeof ep2), 0);
    CHECK_RC (zmq_connect (sub1, ep2), 0);
    CHECK_RC (zmq_connect (sub2, ep2), 0);
    CHECK_RC (subscribe (sub1, "dup"), 0);
    EXPECT_BIN (xpub, "\1dup", 4, 0);
    CHECK_RC (subscribe (sub2, "dup"), 0);
    EXPECT_BIN (xpub, "\1dup", 4, 0);
    CHECK_RC (unsubscribe (sub1, "dup"), 0);
    EXPECT_BIN (xpub, "\0dup", 4, 0);
    CHECK_RC (unsubscribe (sub2, "dup"), 0);
    EXPECT_BIN (xpub, "\0dup", 4, 0);
    EXPECT_NOTHING (xpub);
    /* A SUB counts its own subscriptions and cancels upstream only when the last goes. */
    CHECK_RC (subscribe (sub1, "twice"), 0);
    CHECK_RC (subscribe (sub1, "twice"), 0);
    EXPECT_BIN (xpub, "\1twice", 6, 0);
    EXPECT_BIN (xpub, "\1twice", 6, 0);
    CHECK_RC (unsubscribe (sub1, "twice"), 0);
    CHECK_RC (subscribe (sub1, "mark"), 0);
    EXPECT_BIN (xpub, "\1mark", 5, 0);
    CHECK_RC (unsubscribe (sub1, "twice"), 0);
    EXPECT_BIN (xpub, "\0twice", 6, 0);
    EXPECT_NOTHING (xpub);
    CHECK_RC (zmq_close (sub1), 0);
    CHECK_RC (zmq_close (sub2), 0);
    CHECK_RC (zmq_close (xpub), 0);
}

static void test_welcome (void *ctx)
{
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    void *sub = new_socket (ctx, ZMQ_SUB);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, "W", 1), 0);
    char ep[256];
    CHECK_RC (tu_bind (xpub, "ps-welcome", ep, sizeof ep), 0);
    CHECK_RC (subscribe (sub, "W"), 0);
    CHECK_RC (zmq_connect (sub, ep), 0);
    EXPECT_BIN (xpub, "\1W", 2, 0);
    EXPECT_FRAME (sub, "W", 0);
    EXPECT_NOTHING (sub);

    /* Each new subscriber gets its own welcome; an empty value turns it off. */
    void *sub2 = new_socket (ctx, ZMQ_SUB);
    CHECK_RC (subscribe (sub2, ""), 0);
    CHECK_RC (zmq_connect (sub2, ep), 0);
    EXPECT_BIN (xpub, "\1", 1, 0);
    EXPECT_FRAME (sub2, "W", 0);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, NULL, 0), 0);
    void *sub3 = new_socket (ctx, ZMQ_SUB);
    CHECK_RC (subscribe (sub3, "W"), 0);
    CHECK_RC (zmq_connect (sub3, ep), 0);
    /* sub3's "W" duplicates sub's: not reported. A new topic shows sub3 is attached. */
    CHECK_RC (subscribe (sub3, "X"), 0);
    EXPECT_BIN (xpub, "\1X", 2, 0);
    CHECK_RC (send_str (xpub, "X-end", 0), 5);
    EXPECT_FRAME (sub3, "X-end", 0);
    EXPECT_NOTHING (sub3);

    CHECK_RC (zmq_close (sub3), 0);
    CHECK_RC (zmq_close (sub2), 0);
    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (xpub), 0);
}

static void test_invert_matching (void *ctx)
{
    int one = 1;
    /* Publisher side: an inverted XPUB sends to pipes whose subscriptions do NOT match. */
    void *xpub = new_socket (ctx, ZMQ_XPUB);
    void *xsub = new_socket (ctx, ZMQ_XSUB);
    CHECK_RC (zmq_setsockopt (xpub, ZMQ_INVERT_MATCHING, &one, sizeof one), 0);
    char ep[256];
    CHECK_RC (tu_bind (xpub, "ps-invert-x", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (xsub, ep), 0);
    CHECK_RC (send_bin (xsub, "\1prefix", 7, 0), 7);
    EXPECT_BIN (xpub, "\1prefix", 7, 0);
    CHECK_RC (send_str (xpub, "prefix-message", 0), 14);
    CHECK_RC (send_str (xpub, "p-message", 0), 9);
    EXPECT_FRAME (xsub, "p-message", 0);
    EXPECT_NOTHING (xsub);
    CHECK_RC (zmq_close (xsub), 0);
    CHECK_RC (zmq_close (xpub), 0);

    /* Both ends inverted: the SUB gets everything but its topic. */
    void *pub = new_socket (ctx, ZMQ_PUB);
    void *sub = new_socket (ctx, ZMQ_SUB);
    CHECK_RC (zmq_setsockopt (pub, ZMQ_INVERT_MATCHING, &one, sizeof one), 0);
    CHECK_RC (zmq_setsockopt (sub, ZMQ_INVERT_MATCHING, &one, sizeof one), 0);
    tu_monitor_t mon;
    CHECK_RC (tu_monitor (ctx, pub, &mon), 0);
    char ep2[256];
    CHECK_RC (tu_bind (pub, "ps-invert", ep2, sizeof ep2), 0);
    CHECK_RC (zmq_connect (sub, ep2), 0);
    CHECK_RC (subscribe (sub, "prefix"), 0);
    /* The PUB must know its subscriber (over tcp and ipc: once connected). Whether the
     * subscription has reached it yet makes no difference here: an inverted PUB sends a
     * subscriber everything its subscriptions do not match, and the inverted SUB drops the
     * rest itself. */
    CHECK (tu_wait_connections (&mon, 1));
    CHECK_RC (tu_monitor_stop (&mon), 0);
    CHECK_RC (send_str (pub, "prefix-message", 0), 14);
    CHECK_RC (send_str (pub, "p-message", 0), 9);
    CHECK_RC (send_str (pub, "prefix", 0), 6);
    CHECK_RC (send_str (pub, "other", 0), 5);
    EXPECT_FRAME (sub, "p-message", 0);
    EXPECT_FRAME (sub, "other", 0);
    EXPECT_NOTHING (sub);
    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

/* Forwards everything readable from `from` to `to`, frame by frame; returns frames moved. */
static int forward (void *from, void *to)
{
    int moved = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, from, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            return moved;
        }
        int more = zmq_msg_more (&m);
        if (zmq_msg_send (&m, to, more ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close (&m);
            return -1;
        }
        moved++;
    }
}

/* Forwards exactly `n` frames from `from` to `to`, waiting (up to 10 s) for each; returns how
 * many were moved. */
static int forward_n (void *from, void *to, int n)
{
    int moved = 0;
    while (moved < n) {
        zmq_pollitem_t it = {from, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&it, 1, 10000) != 1)
            return moved;
        zmq_msg_t m;
        zmq_msg_init (&m);
        if (zmq_msg_recv (&m, from, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&m);
            return moved;
        }
        if (zmq_msg_send (&m, to, zmq_msg_more (&m) ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close (&m);
            return moved;
        }
        moved++;
    }
    return moved;
}

/* publisher (XPUB) -> [XSUB -> XPUB] hand-driven proxy -> subscriber (SUB). */
static void test_forwarding_chain (void *ctx)
{
    void *publisher = new_socket (ctx, ZMQ_XPUB);
    void *front = new_socket (ctx, ZMQ_XSUB);
    void *back = new_socket (ctx, ZMQ_XPUB);
    void *subscriber = new_socket (ctx, ZMQ_SUB);
    char ep[256];
    CHECK_RC (tu_bind (publisher, "ps-chain-front", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (front, ep), 0);
    char ep2[256];
    CHECK_RC (tu_bind (back, "ps-chain-back", ep2, sizeof ep2), 0);
    CHECK_RC (zmq_connect (subscriber, ep2), 0);

    /* The subscription travels upstream through the proxy. */
    CHECK_RC (subscribe (subscriber, "news"), 0);
    CHECK_RC (forward_n (back, front, 1), 1);
    CHECK_RC (forward (back, front), 0);
    EXPECT_BIN (publisher, "\1news", 5, 0);

    /* Messages travel downstream, multipart intact. */
    CHECK_RC (send_str (publisher, "news.1", 0), 6);
    CHECK_RC (send_str (publisher, "weather.1", 0), 9);
    CHECK_RC (send_str (publisher, "news.2", ZMQ_SNDMORE), 6);
    CHECK_RC (send_str (publisher, "part2", 0), 5);
    CHECK_RC (forward_n (front, back, 3), 3);
    EXPECT_FRAME (subscriber, "news.1", 0);
    EXPECT_FRAME (subscriber, "news.2", 1);
    EXPECT_FRAME (subscriber, "part2", 0);
    EXPECT_NOTHING (subscriber);

    /* And the cancellation travels upstream too. */
    CHECK_RC (unsubscribe (subscriber, "news"), 0);
    CHECK_RC (forward_n (back, front, 1), 1);
    EXPECT_BIN (publisher, "\0news", 5, 0);
    CHECK_RC (send_str (publisher, "news.3", 0), 6);
    CHECK_RC (forward (front, back), 0);
    EXPECT_NOTHING (subscriber);
    /* A fence: a new topic, through the chain; "news.3" must not come before it. */
    CHECK_RC (subscribe (subscriber, "fence"), 0);
    CHECK_RC (forward_n (back, front, 1), 1);
    EXPECT_BIN (publisher, "\1fence", 6, 0);
    CHECK_RC (send_str (publisher, "fence", 0), 5);
    CHECK_RC (forward_n (front, back, 1), 1);
    EXPECT_FRAME (subscriber, "fence", 0);
    EXPECT_NOTHING (subscriber);

    CHECK_RC (zmq_close (subscriber), 0);
    CHECK_RC (zmq_close (back), 0);
    CHECK_RC (zmq_close (front), 0);
    CHECK_RC (zmq_close (publisher), 0);
}

static void test_wrong_direction (void *ctx)
{
    void *pub = new_socket (ctx, ZMQ_PUB);
    void *sub = new_socket (ctx, ZMQ_SUB);
    char ep[256];
    CHECK_RC (tu_bind (pub, "ps-dir", ep, sizeof ep), 0);
    CHECK_RC (zmq_connect (sub, ep), 0);
    char buf[8];
    CHECK_ERRNO (zmq_recv (pub, buf, sizeof buf, 0), ENOTSUP);
    CHECK_ERRNO (zmq_recv (pub, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    CHECK_ERRNO (zmq_send (sub, "x", 1, 0), ENOTSUP);
    CHECK_ERRNO (zmq_send (sub, "x", 1, ZMQ_DONTWAIT), ENOTSUP);
    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_ERRNO (zmq_msg_recv (&m, pub, 0), ENOTSUP);
    CHECK_ERRNO (zmq_msg_send (&m, sub, 0), ENOTSUP);
    zmq_msg_close (&m);
    /* PUB polls writable, never readable; SUB never writable. */
    zmq_pollitem_t items[2] = {{pub, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0},
                               {sub, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0}};
    CHECK_RC (zmq_poll (items, 2, 0), 1);
    CHECK_RC (items[0].revents, ZMQ_POLLOUT);
    CHECK_RC (items[1].revents, 0);
    CHECK_RC (zmq_close (sub), 0);
    CHECK_RC (zmq_close (pub), 0);
}

int main (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx != NULL);
    test_topics (ctx);
    test_empty_topic (ctx);
    test_multipart (ctx);
    test_several_subs (ctx);
    test_xpub_sees_subscriptions (ctx);
    test_xsub_raw (ctx);
    test_xpub_verbose (ctx);
    test_welcome (ctx);
    test_invert_matching (ctx);
    test_forwarding_chain (ctx);
    test_wrong_direction (ctx);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("pubsub");
}
