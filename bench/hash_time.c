/* The time of one Argon2id verification at libsodium's interactive limits,
 * which is what a sign-in costs portaild (core/password.c), for bench/signin:
 * prints the mean over N runs in milliseconds, wall clock then CPU time (the
 * CPU time holds on a machine shared with other work; the wall time does not). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    static const char pw[] = "Tournesol-Violon-Pirogue-19";
    char hash[crypto_pwhash_STRBYTES];
    if (sodium_init() < 0 || n < 1 || n > 1000 ||
        crypto_pwhash_str(hash, pw, sizeof pw - 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return 1;
    struct timespec a, b, ca, cb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
    for (int i = 0; i < n; i++)
        if (crypto_pwhash_str_verify(hash, pw, sizeof pw - 1) != 0)
            return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
    printf("%.1f %.1f\n",
           ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6) / n,
           ((double)(cb.tv_sec - ca.tv_sec) * 1e3 + (double)(cb.tv_nsec - ca.tv_nsec) / 1e6) / n);
    return 0;
}
