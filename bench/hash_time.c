/* The time of one Argon2id verification at libsodium's interactive limits,
 * which is what a sign-in costs portaild (core/password.c), for bench/signin:
 * the same call, its memory kept between verifications by core/hashmem.c as
 * in portaild (built with it and core/portail.dynlist, see bench/signin).
 *
 *   hash_time N            the mean over N verifications in milliseconds,
 *                          wall clock then CPU time (the CPU time holds on a
 *                          machine shared with other work; the wall time does not)
 *   hash_time N THREADS    N verifications in each of THREADS threads at once
 *                          (one per hashing slot, as portaild runs them): per
 *                          verification, wall ms as one thread sees it, CPU ms,
 *                          of it user and system ms, minor page faults,
 *                          voluntary and involuntary context switches */
#include <pthread.h>

#include "hashmem.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static const char pw[] = "Tournesol-Violon-Pirogue-19";
static char hash[crypto_pwhash_STRBYTES];
static int n;
static volatile int failed;

static void *verify_n(void *arg)
{
    (void)arg;
    for (int i = 0; i < n; i++) {
        portail_hashmem_t *mem = portail_hashmem_take();
        if (crypto_pwhash_str_verify(hash, pw, sizeof pw - 1) != 0)
            failed = 1;
        portail_hashmem_give(mem);
    }
    return NULL;
}

/* Maps the regions the timed hashes will use before the clock starts, as a
 * portaild under load has them: the first hash after an idle spell maps its
 * region, which with huge pages can wait for the kernel to compact memory
 * (40 to 180 ms here), and is not what a sign-in costs under load. */
static void warm_up(int regions)
{
    portail_hashmem_t *r[64];
    for (int i = 0; i < regions; i++) {
        r[i] = portail_hashmem_take();
        if (crypto_pwhash_str_verify(hash, pw, sizeof pw - 1) != 0)
            failed = 1;
    }
    for (int i = 0; i < regions; i++)
        portail_hashmem_give(r[i]);
}

static double ms(struct timeval t)
{
    return (double)t.tv_sec * 1e3 + (double)t.tv_usec / 1e3;
}

int main(int argc, char **argv)
{
    n = argc > 1 ? atoi(argv[1]) : 10;
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    if (sodium_init() < 0 || n < 1 || n > 1000 || threads < 0 || threads > 64 ||
        crypto_pwhash_str(hash, pw, sizeof pw - 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return 1;
    struct timespec a, b, ca, cb;
    struct rusage ra, rb;
    pthread_t t[64];
    warm_up(threads ? threads : 1);
    getrusage(RUSAGE_SELF, &ra);
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
    if (threads == 0) {
        verify_n(NULL);
    } else {
        for (int i = 0; i < threads; i++)
            if (pthread_create(&t[i], NULL, verify_n, NULL) != 0)
                return 1;
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
    getrusage(RUSAGE_SELF, &rb);
    if (failed)
        return 1;
    double wall = ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6) / n;
    double total = (double)n * (threads ? threads : 1);
    double cpu = ((double)(cb.tv_sec - ca.tv_sec) * 1e3 + (double)(cb.tv_nsec - ca.tv_nsec) / 1e6);
    if (threads == 0) {
        printf("%.1f %.1f\n", wall, cpu / total);
        return 0;
    }
    printf("%.1f %.1f %.1f %.1f %.0f %.1f %.1f\n", wall, cpu / total,
           (ms(rb.ru_utime) - ms(ra.ru_utime)) / total, (ms(rb.ru_stime) - ms(ra.ru_stime)) / total,
           (double)(rb.ru_minflt - ra.ru_minflt) / total,
           (double)(rb.ru_nvcsw - ra.ru_nvcsw) / total,
           (double)(rb.ru_nivcsw - ra.ru_nivcsw) / total);
    return 0;
}
