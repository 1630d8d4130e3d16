/* errors.c: error numbers and strings, zmq_errno, zmq_version, zmq_has, and the layout of the
 * public structs. Prints and asserts only what Debian's libzmq 4.3.4 and libzmq-rs 4.3.5 share:
 * never the patch version, and no capability on which the two builds may differ. */
#include "testutil.h"

#include <stdalign.h>
#include <stddef.h>

_Static_assert (sizeof (zmq_msg_t) == 64, "zmq_msg_t is 64 bytes");
_Static_assert (alignof (zmq_msg_t) >= sizeof (void *), "zmq_msg_t is pointer-aligned");

static void test_errno_values (void)
{
    CHECK_RC (ZMQ_HAUSNUMERO, 156384712);
    CHECK_RC (EFSM, 156384712 + 51);
    CHECK_RC (ENOCOMPATPROTO, 156384712 + 52);
    CHECK_RC (ETERM, 156384712 + 53);
    CHECK_RC (EMTHREAD, 156384712 + 54);
    /* On Linux the POSIX codes come from <errno.h>, not from zmq.h's fallbacks. */
    CHECK (ENOTSUP != ZMQ_HAUSNUMERO + 1);
    CHECK (EPROTONOSUPPORT != ZMQ_HAUSNUMERO + 2);
    CHECK (EHOSTUNREACH != ZMQ_HAUSNUMERO + 17);
    CHECK (ENOTSOCK != ZMQ_HAUSNUMERO + 12);
    CHECK (EMSGSIZE != ZMQ_HAUSNUMERO + 10);
}

static void test_strerror (void)
{
    CHECK_STR (zmq_strerror (EFSM),
               "Operation cannot be accomplished in current state");
    CHECK_STR (zmq_strerror (ENOCOMPATPROTO),
               "The protocol is not compatible with the socket type");
    CHECK_STR (zmq_strerror (ETERM), "Context was terminated");
    CHECK_STR (zmq_strerror (EMTHREAD), "No thread available");
    printf ("EFSM: %s\n", zmq_strerror (EFSM));
    printf ("ENOCOMPATPROTO: %s\n", zmq_strerror (ENOCOMPATPROTO));
    printf ("ETERM: %s\n", zmq_strerror (ETERM));
    printf ("EMTHREAD: %s\n", zmq_strerror (EMTHREAD));

    /* libzmq words EHOSTUNREACH itself on every platform. */
    CHECK_STR (zmq_strerror (EHOSTUNREACH), "Host unreachable");

    /* Everything else is the system's message. */
    const int sys[] = {EINVAL, EAGAIN, EFAULT, EINTR, ENOTSUP, EPROTONOSUPPORT,
                       ENOTSOCK, EMSGSIZE, ENOMEM, EADDRINUSE, ECONNREFUSED};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        char expected[256];
        snprintf (expected, sizeof expected, "%s", strerror (sys[i]));
        const char *got = zmq_strerror (sys[i]);
        CHECK (got != NULL);
        CHECK_STR (got, expected);
    }
    printf ("EINVAL: %s\n", zmq_strerror (EINVAL));
}

static void test_zmq_errno (void)
{
    zmq_msg_t m;
    CHECK_RC (zmq_msg_init (&m), 0);
    errno = 0;
    CHECK_RC (zmq_msg_set (&m, ZMQ_MORE, 1), -1);
    CHECK_RC (zmq_errno (), EINVAL);
    CHECK (errno == EINVAL);
    errno = 0;
    CHECK_RC (zmq_msg_get (&m, 9999), -1);
    CHECK_RC (zmq_errno (), EINVAL);
    CHECK_RC (zmq_msg_close (&m), 0);
    errno = 0;
    CHECK_RC (zmq_msg_close (&m), -1);
    CHECK_RC (zmq_errno (), EFAULT);
    /* zmq_errno reflects whatever errno holds. */
    errno = EAGAIN;
    CHECK_RC (zmq_errno (), EAGAIN);
    errno = ETERM;
    CHECK_RC (zmq_errno (), ETERM);
}

static void test_version (void)
{
    int major = -1, minor = -1, patch = -1;
    zmq_version (&major, &minor, &patch);
    CHECK_RC (major, 4);
    CHECK_RC (minor, 3);
    CHECK (patch >= 0); /* 4 in Debian's build, 5 in ours: never printed */
    CHECK_RC (major, ZMQ_VERSION_MAJOR);
    CHECK_RC (minor, ZMQ_VERSION_MINOR);
    printf ("version %d.%d\n", major, minor);

    CHECK_RC (ZMQ_MAKE_VERSION (4, 3, 5), 40305);
    CHECK_RC (ZMQ_MAKE_VERSION (1, 2, 3), 10203);
    CHECK_RC (ZMQ_VERSION, ZMQ_MAKE_VERSION (ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
                                             ZMQ_VERSION_PATCH));
    CHECK (ZMQ_VERSION >= ZMQ_MAKE_VERSION (4, 3, 4));
    CHECK (ZMQ_VERSION < ZMQ_MAKE_VERSION (4, 4, 0));
#if ZMQ_VERSION < ZMQ_MAKE_VERSION(4, 3, 0)
#error "ZMQ_VERSION must be usable in #if"
#endif
}

static void test_has (void)
{
    CHECK_RC (zmq_has ("nonexistent"), 0);
    CHECK_RC (zmq_has (""), 0);
    CHECK_RC (zmq_has ("IPC"), 0); /* names are case-sensitive */
    const char *names[] = {"ipc", "pgm", "tipc", "norm", "curve", "gssapi", "draft"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int r = zmq_has (names[i]);
        CHECK (r == 0 || r == 1);
    }
}

static void test_layouts (void)
{
    zmq_msg_t m;
    CHECK (sizeof (zmq_msg_t) == 64);
    CHECK (sizeof (m._) == 64); /* the member is called `_` in libzmq's header */
    CHECK (alignof (zmq_msg_t) == sizeof (void *));
    printf ("zmq_msg_t: size %zu, align %zu\n", sizeof (zmq_msg_t), alignof (zmq_msg_t));

    zmq_pollitem_t item;
    CHECK (offsetof (zmq_pollitem_t, socket) == 0);
    CHECK (offsetof (zmq_pollitem_t, fd) == sizeof (void *));
    CHECK (sizeof (item.fd) == sizeof (int));
    CHECK (offsetof (zmq_pollitem_t, events) == sizeof (void *) + sizeof (int));
    CHECK (sizeof (item.events) == sizeof (short));
    CHECK (offsetof (zmq_pollitem_t, revents)
           == sizeof (void *) + sizeof (int) + sizeof (short));
    CHECK (sizeof (item.revents) == sizeof (short));
    CHECK (sizeof (zmq_pollitem_t) == 2 * sizeof (void *));
    printf ("zmq_pollitem_t: size %zu, fd at %zu, events at %zu, revents at %zu\n",
            sizeof (zmq_pollitem_t), offsetof (zmq_pollitem_t, fd),
            offsetof (zmq_pollitem_t, events), offsetof (zmq_pollitem_t, revents));
    CHECK_RC (ZMQ_POLLIN, 1);
    CHECK_RC (ZMQ_POLLOUT, 2);
    CHECK_RC (ZMQ_POLLERR, 4);
    CHECK_RC (ZMQ_POLLPRI, 8);
}

int main (void)
{
    test_errno_values ();
    test_strerror ();
    test_zmq_errno ();
    test_version ();
    test_has ();
    test_layouts ();
    return TEST_SUMMARY ("errors");
}
