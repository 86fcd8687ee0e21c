/* Waits and durations on the monotonic clock: a step of the wall clock
 * (NTP, an operator) must neither stretch nor cut a wait for a connection,
 * a hash slot, a poll or a scanner. One place for the timespec arithmetic
 * that the pool, the password slots, the jobs, the outbox and the documents'
 * scanner all need. */
#include <pthread.h>
#include <time.h>

#include "internal.h"

void portail_deadline_in(struct timespec *deadline, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    if (ms < 0)
        ms = 0;
    deadline->tv_sec += ms / 1000;
    deadline->tv_nsec += (ms % 1000) * 1000000L;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
}

long portail_ms_until(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
           (long)(deadline->tv_nsec - now.tv_nsec) / 1000000;
}

unsigned long long portail_us_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us =
        (long long)(now.tv_sec - t0->tv_sec) * 1000000LL + (now.tv_nsec - t0->tv_nsec) / 1000;
    return us > 0 ? (unsigned long long)us : 0;
}

int portail_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int rc =
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 || pthread_cond_init(cv, &attr) != 0
            ? -1
            : 0;
    pthread_condattr_destroy(&attr);
    return rc;
}
