/* ours/swaputil.h: helpers shared by the ZMQ_SWAP and durable-identity tests (ours/swap.c,
 * ours/durable.c): private directories, counting the files in them, the process's resident
 * memory, a monotonic clock, and whether we run under valgrind or a sanitizer (where resident
 * memory says nothing about the library and big transfers take too long). */
#ifndef LIBZMQ_RS_SWAPUTIL_H
#define LIBZMQ_RS_SWAPUTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

/* True under valgrind, AddressSanitizer or a -DSWAPUTIL_SLOW build. */
static inline int su_instrumented (void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(SWAPUTIL_SLOW)
    return 1;
#elif defined(RUNNING_ON_VALGRIND)
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    const char *pre = getenv ("LD_PRELOAD");
    return pre != NULL && strstr (pre, "vgpreload") != NULL;
#endif
}

static inline int64_t su_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void su_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0) {
    }
}

/* VmRSS of this process in KiB, or -1. */
static inline long su_vmrss_kib (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets (line, sizeof line, f)) {
        if (strncmp (line, "VmRSS:", 6) == 0) {
            kib = strtol (line + 6, NULL, 10);
            break;
        }
    }
    fclose (f);
    return kib;
}

/* A fresh private directory under $TMPDIR (or /tmp); the path goes into out. */
static inline int su_mkdtemp (char *out, size_t cap, const char *tag)
{
    const char *base = getenv ("TMPDIR");
    if (!base || base[0] != '/')
        base = "/tmp";
    if (snprintf (out, cap, "%s/zmq-%s.XXXXXX", base, tag) >= (int) cap)
        return -1;
    return mkdtemp (out) ? 0 : -1;
}

/* Number of entries in dir (not . and ..), or -1; their total size goes to *bytes if given. */
static inline long su_count_files (const char *dir, long long *bytes)
{
    DIR *d = opendir (dir);
    if (!d)
        return -1;
    long n = 0;
    long long total = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
            continue;
        n++;
        char path[4096];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat (path, &st) == 0)
            total += st.st_size;
    }
    closedir (d);
    if (bytes)
        *bytes = total;
    return n;
}

/* Waits up to timeout_ms for dir to become empty; returns the number of entries left. */
static inline long su_wait_empty (const char *dir, int timeout_ms)
{
    int64_t end = su_now_ms () + timeout_ms;
    long n;
    while ((n = su_count_files (dir, NULL)) > 0 && su_now_ms () < end)
        su_sleep_ms (10);
    return n;
}

/* Removes dir and whatever is left in it (one level deep). */
static inline void su_rmdir (const char *dir)
{
    DIR *d = opendir (dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir (d)) != NULL) {
            if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
                continue;
            char path[4096];
            snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
            unlink (path);
        }
        closedir (d);
    }
    rmdir (dir);
}

#endif
