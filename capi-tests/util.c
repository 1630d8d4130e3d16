/*
 * util.c: the utility API of zmq.h (Z85, atomic counters, threads, stopwatch, zmq_sleep,
 * timers), checked against what libzmq documents for it. Standalone: needs only zmq.h and
 * libc, so it runs unchanged against libzmq itself and against libzmq-rs.
 *
 * Prints one line per failed check and ends with "util: N passed, M failed"; exits non-zero
 * on any failure. CURVE is not exercised here (it differs until it lands in libzmq-rs).
 */
#define _POSIX_C_SOURCE 200809L

#include <zmq.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int passed, failed;

static void check(int ok, const char *what, int line)
{
    if (ok)
        passed++;
    else {
        failed++;
        printf("FAIL util.c:%d: %s\n", line, what);
    }
}

#define CHECK(cond) check((cond) != 0, #cond, __LINE__)

/* The call returned the failure value and set errno to `err`. */
#define CHECK_ERR(call, failure, err)                                                             \
    do {                                                                                          \
        errno = 0;                                                                                \
        int ok_ = (call) == (failure);                                                            \
        int errno_ = errno;                                                                       \
        check(ok_ && errno_ == (err), #call " fails with " #err, __LINE__);                       \
    } while (0)

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Z85 */

static void test_z85(void)
{
    /* The test vector of ZeroMQ RFC 32. */
    const uint8_t hello[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
    char text[16];
    memset(text, '*', sizeof text);
    CHECK(zmq_z85_encode(text, hello, 8) == text);
    CHECK(strcmp(text, "HelloWorld") == 0);
    CHECK(text[11] == '*'); /* exactly size * 5 / 4 + 1 bytes written */

    uint8_t bytes[64];
    memset(bytes, 0xAA, sizeof bytes);
    CHECK(zmq_z85_decode(bytes, "HelloWorld") == bytes);
    CHECK(memcmp(bytes, hello, 8) == 0);
    CHECK(bytes[8] == 0xAA); /* exactly strlen * 4 / 5 bytes written */

    /* A CURVE key round trip (the key from zmq_z85_decode's manual page). */
    const char *key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    char again[41];
    CHECK(zmq_z85_decode(bytes, key) == bytes);
    CHECK(zmq_z85_encode(again, bytes, 32) == again);
    CHECK(strlen(again) == 40 && strcmp(again, key) == 0);

    /* Every byte value round trips. */
    uint8_t all[256], back[256];
    char all_text[321];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    CHECK(zmq_z85_encode(all_text, all, 256) == all_text);
    CHECK(strlen(all_text) == 320);
    CHECK(zmq_z85_decode(back, all_text) == back);
    CHECK(memcmp(all, back, 256) == 0);

    /* The largest group is 0xFFFFFFFF. */
    CHECK(zmq_z85_decode(bytes, "%nSc0") == bytes);
    CHECK(bytes[0] == 0xFF && bytes[1] == 0xFF && bytes[2] == 0xFF && bytes[3] == 0xFF);

    /* Zero bytes encode to the empty string. */
    text[0] = '*';
    CHECK(zmq_z85_encode(text, hello, 0) == text);
    CHECK(text[0] == '\0');

    /* Sizes that are not a multiple of 4. */
    CHECK_ERR(zmq_z85_encode(text, hello, 1), NULL, EINVAL);
    CHECK_ERR(zmq_z85_encode(text, hello, 3), NULL, EINVAL);
    CHECK_ERR(zmq_z85_encode(text, hello, 7), NULL, EINVAL);

    /* Lengths that are not a multiple of 5. */
    CHECK_ERR(zmq_z85_decode(bytes, "abc"), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "HelloWorld0"), NULL, EINVAL);

    /* Characters outside the alphabet. */
    CHECK_ERR(zmq_z85_decode(bytes, "Hell "), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "Hell~"), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "Hel\"o"), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "He,lo"), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "Hello\x7f\x7f\x7f\x7f\x7f"), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "Hello\xc3\xa9xyz"), NULL, EINVAL);

    /* Groups above 0xFFFFFFFF. */
    CHECK_ERR(zmq_z85_decode(bytes, "%nSc1"), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "%%%%%"), NULL, EINVAL);
    CHECK_ERR(zmq_z85_decode(bytes, "HelloWorld#####"), NULL, EINVAL);
}

/* ------------------------------------------------------------------------------------------ */
/* Atomic counters and threads */

static void test_counter_sequence(void)
{
    void *counter = zmq_atomic_counter_new();
    CHECK(counter != NULL);
    CHECK(zmq_atomic_counter_value(counter) == 0);
    CHECK(zmq_atomic_counter_inc(counter) == 0);
    CHECK(zmq_atomic_counter_inc(counter) == 1);
    CHECK(zmq_atomic_counter_inc(counter) == 2);
    CHECK(zmq_atomic_counter_value(counter) == 3);
    CHECK(zmq_atomic_counter_dec(counter) == 1);
    CHECK(zmq_atomic_counter_dec(counter) == 1);
    CHECK(zmq_atomic_counter_dec(counter) == 0);
    CHECK(zmq_atomic_counter_value(counter) == 0);
    zmq_atomic_counter_set(counter, 2);
    CHECK(zmq_atomic_counter_value(counter) == 2);
    CHECK(zmq_atomic_counter_dec(counter) == 1);
    CHECK(zmq_atomic_counter_dec(counter) == 0);
    zmq_atomic_counter_set(counter, 1000);
    CHECK(zmq_atomic_counter_inc(counter) == 1000);
    zmq_atomic_counter_destroy(&counter);
    CHECK(counter == NULL);
}

#define ROUNDS 100000

struct worker {
    void *counter;
    int zeros; /* how many decrements this worker saw reach zero */
};

static void incrementer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < ROUNDS; i++)
        zmq_atomic_counter_inc(w->counter);
}

static void decrementer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < ROUNDS; i++)
        if (zmq_atomic_counter_dec(w->counter) == 0)
            w->zeros++;
}

static void set_flag(void *arg)
{
    msleep(20);
    *(int *)arg = 1;
}

static void test_threads(void)
{
    /* zmq_threadclose waits for the thread to finish. */
    int flag = 0;
    void *thread = zmq_threadstart(set_flag, &flag);
    CHECK(thread != NULL);
    zmq_threadclose(thread);
    CHECK(flag == 1);

    /* Two threads increment one counter concurrently: no increment is lost. */
    void *counter = zmq_atomic_counter_new();
    struct worker a = {counter, 0}, b = {counter, 0};
    void *ta = zmq_threadstart(incrementer, &a);
    void *tb = zmq_threadstart(incrementer, &b);
    CHECK(ta != NULL && tb != NULL);
    zmq_threadclose(ta);
    zmq_threadclose(tb);
    CHECK(zmq_atomic_counter_value(counter) == 2 * ROUNDS);

    /* Two threads decrement it back: exactly one decrement reaches zero. */
    ta = zmq_threadstart(decrementer, &a);
    tb = zmq_threadstart(decrementer, &b);
    CHECK(ta != NULL && tb != NULL);
    zmq_threadclose(ta);
    zmq_threadclose(tb);
    CHECK(zmq_atomic_counter_value(counter) == 0);
    CHECK(a.zeros + b.zeros == 1);
    zmq_atomic_counter_destroy(&counter);
    CHECK(counter == NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Stopwatch and zmq_sleep */

static void test_stopwatch(void)
{
    void *watch = zmq_stopwatch_start();
    CHECK(watch != NULL);
    unsigned long first = zmq_stopwatch_intermediate(watch);
    unsigned long second = zmq_stopwatch_intermediate(watch);
    CHECK(second >= first);
    msleep(20);
    unsigned long third = zmq_stopwatch_intermediate(watch);
    CHECK(third >= second);
    CHECK(third >= 20000);
    CHECK(third < 10000000);
    unsigned long total = zmq_stopwatch_stop(watch);
    CHECK(total >= third);

    watch = zmq_stopwatch_start();
    zmq_sleep(0);
    CHECK(zmq_stopwatch_stop(watch) < 500000);
}

/* ------------------------------------------------------------------------------------------ */
/* Timers */

static void count_handler(int timer_id, void *arg)
{
    (void)timer_id;
    (*(int *)arg)++;
}

struct canceller {
    void *timers;
    int victim; /* the timer to cancel; 0 means the firing timer itself */
    int fired;
};

static void cancel_handler(int timer_id, void *arg)
{
    struct canceller *c = arg;
    c->fired++;
    zmq_timers_cancel(c->timers, c->victim ? c->victim : timer_id);
}

/* Sleeps until the next timer is due and runs due handlers until *count reaches `target` or
   two seconds pass. */
static void run_until(void *timers, const int *count, int target)
{
    for (int spins = 0; *count < target && spins < 200; spins++) {
        long timeout = zmq_timers_timeout(timers);
        if (timeout < 0)
            return;
        msleep(timeout > 10 ? 10 : timeout);
        zmq_timers_execute(timers);
    }
}

static void test_timers_errors(void)
{
    void *timers = zmq_timers_new();
    CHECK(timers != NULL);
    int count = 0;

    CHECK(zmq_timers_timeout(timers) == -1); /* no timers */
    CHECK(zmq_timers_execute(timers) == 0);

    CHECK_ERR(zmq_timers_add(timers, 100, NULL, NULL), -1, EFAULT);
    CHECK_ERR(zmq_timers_add(NULL, 100, count_handler, &count), -1, EFAULT);
    CHECK_ERR(zmq_timers_cancel(NULL, 1), -1, EFAULT);
    CHECK_ERR(zmq_timers_set_interval(NULL, 1, 10), -1, EFAULT);
    CHECK_ERR(zmq_timers_reset(NULL, 1), -1, EFAULT);
    CHECK_ERR(zmq_timers_timeout(NULL), -1, EFAULT);
    CHECK_ERR(zmq_timers_execute(NULL), -1, EFAULT);

    CHECK_ERR(zmq_timers_cancel(timers, 12345), -1, EINVAL);
    CHECK_ERR(zmq_timers_set_interval(timers, 12345, 10), -1, EINVAL);
    CHECK_ERR(zmq_timers_reset(timers, 12345), -1, EINVAL);

    CHECK(zmq_timers_destroy(&timers) == 0);
    CHECK(timers == NULL);
    CHECK_ERR(zmq_timers_destroy(&timers), -1, EFAULT);
}

static void test_timers_firing(void)
{
    void *timers = zmq_timers_new();
    int count = 0;
    int id = zmq_timers_add(timers, 100, count_handler, &count);
    CHECK(id > 0);

    /* Not due yet. */
    CHECK(zmq_timers_execute(timers) == 0);
    CHECK(count == 0);
    long timeout = zmq_timers_timeout(timers);
    CHECK(timeout > 50 && timeout <= 100);

    /* reset restarts the interval from now. */
    msleep(40);
    timeout = zmq_timers_timeout(timers);
    CHECK(timeout >= 0 && timeout <= 60);
    CHECK(zmq_timers_reset(timers, id) == 0);
    timeout = zmq_timers_timeout(timers);
    CHECK(timeout > 70 && timeout <= 100);

    /* set_interval changes the interval and restarts it. */
    CHECK(zmq_timers_set_interval(timers, id, 500) == 0);
    timeout = zmq_timers_timeout(timers);
    CHECK(timeout > 400 && timeout <= 500);

    /* A short interval fires, and repeats. */
    CHECK(zmq_timers_set_interval(timers, id, 20) == 0);
    run_until(timers, &count, 1);
    CHECK(count == 1);
    timeout = zmq_timers_timeout(timers);
    CHECK(timeout >= 0 && timeout <= 20);
    run_until(timers, &count, 2);
    CHECK(count == 2);

    /* A cancelled timer stops firing; cancelling it again is EINVAL. */
    CHECK(zmq_timers_cancel(timers, id) == 0);
    CHECK_ERR(zmq_timers_cancel(timers, id), -1, EINVAL);
    CHECK(zmq_timers_timeout(timers) == -1);
    msleep(40);
    CHECK(zmq_timers_execute(timers) == 0);
    CHECK(count == 2);

    /* Ids are distinct. */
    int other = zmq_timers_add(timers, 100, count_handler, &count);
    CHECK(other > 0 && other != id);
    CHECK(zmq_timers_cancel(timers, other) == 0);

    CHECK(zmq_timers_destroy(&timers) == 0);
    CHECK(timers == NULL);
}

static void test_timers_cancel_from_handler(void)
{
    void *timers = zmq_timers_new();

    /* Both timers are due at once; the first one's handler cancels the second. */
    struct canceller first = {timers, 0, 0};
    int second_count = 0;
    int a = zmq_timers_add(timers, 10, cancel_handler, &first);
    int b = zmq_timers_add(timers, 10, count_handler, &second_count);
    CHECK(a > 0 && b > 0 && a != b);
    first.victim = b;
    msleep(30);
    CHECK(zmq_timers_execute(timers) == 0);
    CHECK(first.fired == 1);
    CHECK(second_count == 0);
    long timeout = zmq_timers_timeout(timers); /* only the first one is left */
    CHECK(timeout >= 0 && timeout <= 10);
    CHECK_ERR(zmq_timers_cancel(timers, b), -1, EINVAL);
    CHECK(zmq_timers_cancel(timers, a) == 0);
    CHECK(zmq_timers_timeout(timers) == -1);

    /* A handler cancels its own timer: it fires once. */
    struct canceller self = {timers, 0, 0};
    int c = zmq_timers_add(timers, 10, cancel_handler, &self);
    CHECK(c > 0);
    run_until(timers, &self.fired, 1);
    CHECK(self.fired == 1);
    CHECK(zmq_timers_timeout(timers) == -1);
    msleep(30);
    CHECK(zmq_timers_execute(timers) == 0);
    CHECK(self.fired == 1);

    CHECK(zmq_timers_destroy(&timers) == 0);
}

int main(void)
{
    test_z85();
    test_counter_sequence();
    test_threads();
    test_stopwatch();
    test_timers_errors();
    test_timers_firing();
    test_timers_cancel_from_handler();
    printf("util: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
