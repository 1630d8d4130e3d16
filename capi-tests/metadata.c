/* Application metadata (ZMQ_METADATA, a draft option both libraries implement) travels in the
 * handshake and is read back with zmq_msg_gets; names must start with "X-". */
#include "testutil.h"

#define OPT_METADATA 95 /* ZMQ_METADATA, declared only under ZMQ_BUILD_DRAFT_API */

int main (void)
{
    void *ctx = zmq_ctx_new ();
    void *a = zmq_socket (ctx, ZMQ_DEALER);
    void *b = zmq_socket (ctx, ZMQ_DEALER);
    CHECK_RC (zmq_setsockopt (a, OPT_METADATA, "X-color:blue", 12), 0);
    CHECK_RC (zmq_setsockopt (a, OPT_METADATA, "X-size:42", 9), 0);
    CHECK_ERRNO (zmq_setsockopt (a, OPT_METADATA, "color:blue", 10), EINVAL);
    CHECK_ERRNO (zmq_setsockopt (a, OPT_METADATA, "X-nocolon", 9), EINVAL);
    CHECK_RC (zmq_bind (a, "tcp://127.0.0.1:*"), 0);
    char ep[256];
    size_t len = sizeof ep;
    CHECK_RC (zmq_getsockopt (a, ZMQ_LAST_ENDPOINT, ep, &len), 0);
    CHECK_RC (zmq_connect (b, ep), 0);
    CHECK_RC (zmq_send (a, "hi", 2, 0), 2);
    zmq_msg_t m;
    zmq_msg_init (&m);
    CHECK_RC (zmq_msg_recv (&m, b, 0), 2);
    const char *color = zmq_msg_gets (&m, "X-color");
    const char *size = zmq_msg_gets (&m, "X-size");
    CHECK (color != NULL && strcmp (color, "blue") == 0);
    CHECK (size != NULL && strcmp (size, "42") == 0);
    CHECK (zmq_msg_gets (&m, "X-missing") == NULL);
    zmq_msg_close (&m);
    int zero = 0;
    zmq_setsockopt (a, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (b, ZMQ_LINGER, &zero, sizeof zero);
    CHECK_RC (zmq_close (a), 0);
    CHECK_RC (zmq_close (b), 0);
    CHECK_RC (zmq_ctx_term (ctx), 0);
    return TEST_SUMMARY ("metadata");
}
