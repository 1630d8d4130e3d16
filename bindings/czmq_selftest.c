/*  Runs CZMQ self-tests exported by libczmq.so.4 (`void zxxx_test (bool verbose)`), by name:
        czmq_selftest zsock_test [zactor_test ...]
    Each named test is looked up with dlsym and run in this process, in order; a test that
    fails aborts (CZMQ's self-tests assert). Prints `ok NAME` after each one that returns.
    scripts/bindings.sh runs one test per process.  */
#define _GNU_SOURCE
#include <czmq.h>
#include <dlfcn.h>
#include <stdio.h>

typedef void (selftest_fn) (bool verbose);

int main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s NAME_test...\n", argv [0]);
        return 2;
    }
    /*  Any czmq call makes sure libczmq.so.4 is linked in (and so loaded first).  */
    zsys_set_logstream (stderr);
    for (int i = 1; i < argc; i++) {
        selftest_fn *fn;
        *(void **) (&fn) = dlsym (RTLD_DEFAULT, argv [i]);
        if (!fn) {
            fprintf (stderr, "%s: not exported by libczmq: %s\n", argv [i], dlerror ());
            return 2;
        }
        fn (false);
        printf ("ok %s\n", argv [i]);
        fflush (stdout);
    }
    return 0;
}
