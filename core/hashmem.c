/* The Argon2id memory of the hashing slots, kept mapped between hashes.
 *
 * libsodium maps 64 MiB at every crypto_pwhash_str_verify (MAP_POPULATE:
 * the kernel faults every page in at once) and unmaps it at the end: the
 * page faults, their zeroing and the unmap took
 * 38 % of a verification's CPU here (docs/performance.md, "Sign-in under a
 * flood: where the CPU goes"), and libsodium has no allocator hook. So this
 * file defines mmap and munmap (exported by core/portail.dynlist, so that
 * libsodium's calls land here): in a thread that holds a region and is inside
 * a hash, the 64 MiB anonymous mapping the hash asks for is the region, and
 * its munmap wipes the region (sodium_memzero: the blocks derive from the
 * password) and keeps it mapped. Every other call goes on to the C library
 * unchanged. A region unused for PORTAIL_HASHMEM_IDLE_MS is unmapped by a
 * thread of its own, so that an idle portaild gives the memory back. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, MAP_ANONYMOUS, MAP_POPULATE; bench/hash_time builds it alone */
#endif
#include "hashmem.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* server.hash_slots' maximum: never more hashes at once than regions. */
#define REGIONS 256

struct portail_hashmem {
    void *base;           /* PORTAIL_HASHMEM_BYTES mapped, or NULL */
    int taken;            /* by a hash, or by the reaper while it unmaps */
    int lent;             /* between the hash's mmap and its munmap */
    struct timespec last; /* given back (CLOCK_MONOTONIC) */
};

static struct portail_hashmem regions[REGIONS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t given;
static pthread_once_t reaper_once = PTHREAD_ONCE_INIT;
static pthread_once_t next_once = PTHREAD_ONCE_INIT;
static _Thread_local struct portail_hashmem *current;

static void *(*next_mmap)(void *, size_t, int, int, int, off_t);
static int (*next_munmap)(void *, size_t);

/* The C library's (or a sanitizer's, under --enable-sanitizers). */
static void find_next(void)
{
    next_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    next_munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
}

static void *system_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    pthread_once(&next_once, find_next);
    if (next_mmap)
        return next_mmap(addr, len, prot, flags, fd, off);
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int system_munmap(void *addr, size_t len)
{
    pthread_once(&next_once, find_next);
    if (next_munmap)
        return next_munmap(addr, len);
    return (int)syscall(SYS_munmap, addr, len);
}

/* Argon2 reads each block's reference at a data-dependent place anywhere in
 * the 64 MiB: with 4 KiB pages almost every such read misses the TLB and
 * walks the page tables. In 2 MiB pages the region is 32 TLB entries, and a
 * verification took about 8 % less time (bench/hash_time, one alone and two
 * at once; docs/performance.md, session 12). So the region starts on a 2 MiB
 * boundary and asks for huge pages (MADV_HUGEPAGE: transparent huge pages in
 * "madvise" or "always" mode) before it is faulted in, as MAP_POPULATE
 * would; where the kernel has none to give, it is 4 KiB pages as before. The
 * price is the first hash after an idle spell: the kernel may compact memory
 * to find the pages (up to about 0.2 s measured). */
static void *map_region(int prot, int flags)
{
    const size_t huge = (size_t)2 << 20, len = PORTAIL_HASHMEM_BYTES;
    char *q = system_mmap(NULL, len + huge, prot, flags & ~MAP_POPULATE, -1, 0);
    if (q == MAP_FAILED)
        return q;
    char *a = (char *)(((uintptr_t)q + huge - 1) & ~(uintptr_t)(huge - 1));
    if (a > q)
        system_munmap(q, (size_t)(a - q));
    system_munmap(a + len, (size_t)(q + huge - a));
    (void)madvise(a, len, MADV_HUGEPAGE);
    for (size_t i = 0; i < len; i += 4096)
        ((volatile char *)a)[i] = 0;
    return a;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    struct portail_hashmem *r = current;
    if (r && !r->lent && !addr && len == PORTAIL_HASHMEM_BYTES &&
        prot == (PROT_READ | PROT_WRITE) &&
        (flags & ~MAP_POPULATE) == (MAP_PRIVATE | MAP_ANONYMOUS) && fd == -1 && off == 0) {
        if (!r->base) {
            void *p = map_region(prot, flags);
            if (p == MAP_FAILED)
                return p;
            r->base = p;
        }
        r->lent = 1;
        return r->base;
    }
    return system_mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
    struct portail_hashmem *r = current;
    if (r && r->lent && addr == r->base && len == PORTAIL_HASHMEM_BYTES) {
        sodium_memzero(addr, len);
        r->lent = 0;
        return 0;
    }
    return system_munmap(addr, len);
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void *reaper_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        struct timespec now, wake = {0, 0};
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct portail_hashmem *idle = NULL;
        int waiting = 0;
        for (int i = 0; i < REGIONS && !idle; i++) {
            struct portail_hashmem *r = &regions[i];
            if (!r->base || r->taken)
                continue;
            if (ms_between(&r->last, &now) >= PORTAIL_HASHMEM_IDLE_MS) {
                idle = r;
            } else {
                struct timespec due = r->last;
                due.tv_sec += PORTAIL_HASHMEM_IDLE_MS / 1000;
                due.tv_nsec += (PORTAIL_HASHMEM_IDLE_MS % 1000) * 1000000L;
                if (due.tv_nsec >= 1000000000L) {
                    due.tv_sec++;
                    due.tv_nsec -= 1000000000L;
                }
                if (!waiting || ms_between(&due, &wake) > 0)
                    wake = due;
                waiting = 1;
            }
        }
        if (idle) {
            /* Wiped at its last munmap; unmapped outside the lock (it takes
             * milliseconds), taken meanwhile so that no hash gets it. */
            void *base = idle->base;
            idle->taken = 1;
            pthread_mutex_unlock(&mu);
            system_munmap(base, PORTAIL_HASHMEM_BYTES);
            pthread_mutex_lock(&mu);
            idle->base = NULL;
            idle->taken = 0;
        } else if (waiting) {
            pthread_cond_timedwait(&given, &mu, &wake);
        } else {
            pthread_cond_wait(&given, &mu);
        }
    }
    return NULL;
}

static void start_reaper(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&given, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t t;
    if (pthread_create(&t, NULL, reaper_main, NULL) == 0)
        pthread_detach(t);
}

portail_hashmem_t *portail_hashmem_take(void)
{
    pthread_once(&reaper_once, start_reaper);
    struct portail_hashmem *r = NULL;
    pthread_mutex_lock(&mu);
    /* A mapped one first: its pages are already there. */
    for (int i = 0; i < REGIONS; i++) {
        if (regions[i].taken)
            continue;
        if (!r || (regions[i].base && !r->base))
            r = &regions[i];
        if (r->base)
            break;
    }
    if (r)
        r->taken = 1;
    pthread_mutex_unlock(&mu);
    current = r;
    return r;
}

void portail_hashmem_give(portail_hashmem_t *r)
{
    current = NULL;
    if (!r)
        return;
    /* A hash that failed between its mmap and its munmap. */
    if (r->lent) {
        sodium_memzero(r->base, PORTAIL_HASHMEM_BYTES);
        r->lent = 0;
    }
    pthread_mutex_lock(&mu);
    clock_gettime(CLOCK_MONOTONIC, &r->last);
    r->taken = 0;
    pthread_cond_signal(&given);
    pthread_mutex_unlock(&mu);
}

const unsigned char *portail_hashmem_base(const portail_hashmem_t *r)
{
    return r ? r->base : NULL;
}

int portail_hashmem_is_zero(const portail_hashmem_t *r)
{
    if (!r || !r->base)
        return 1;
    const unsigned char *p = r->base;
    unsigned char acc = 0;
    for (size_t i = 0; i < PORTAIL_HASHMEM_BYTES; i++)
        acc |= p[i];
    return acc == 0;
}

int portail_hashmem_mapped(void)
{
    int n = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < REGIONS; i++)
        n += regions[i].base != NULL;
    pthread_mutex_unlock(&mu);
    return n;
}
