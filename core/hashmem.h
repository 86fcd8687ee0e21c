/* The Argon2id memory of the hashing slots, kept mapped between hashes
 * (core/hashmem.c). Its own header, without internal.h, so that
 * bench/hash_time.c measures the same hashing as portaild. */
#ifndef PORTAIL_HASHMEM_H
#define PORTAIL_HASHMEM_H

#include <stddef.h>

/* libsodium's interactive limit: the one size this keeps. */
#define PORTAIL_HASHMEM_BYTES ((size_t)64 << 20)
/* A region unused this long goes back to the system. */
#define PORTAIL_HASHMEM_IDLE_MS 2000

typedef struct portail_hashmem portail_hashmem_t;

/* Around one crypto_pwhash_str or crypto_pwhash_str_verify call, in the
 * thread that makes it, while it holds a hashing slot. take never fails:
 * without a region the hash maps its own memory as libsodium does. */
portail_hashmem_t *portail_hashmem_take(void);
void portail_hashmem_give(portail_hashmem_t *r);
/* For the unit test: the region's memory (NULL when not mapped) and whether
 * every byte of it is zero. */
const unsigned char *portail_hashmem_base(const portail_hashmem_t *r);
int portail_hashmem_is_zero(const portail_hashmem_t *r);
/* Regions mapped now (the unit test of the idle release). */
int portail_hashmem_mapped(void);

#endif
