#ifndef PORTAIL_PASSWORD_H
#define PORTAIL_PASSWORD_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- Passwords (core/password.c) -----------------------------------------
 * NIST SP 800-63B: length (12 to 128 characters, any Unicode), no
 * composition rules, refused when cracklib finds it weak (French and English
 * words, keyboard walks), when it is a common or breached password or the
 * service's or fund's name (after undoing case, l33t and the digits and
 * symbols added at either end; the list comes from zxcvbn-ts through
 * script/cracklib-dict) or when it contains a word of the person's own
 * context (NIR, birth date, names). Hashes are Argon2id at libsodium's
 * interactive limits; at most server.hash_slots run at once. A request
 * that finds them all taken waits for one, in arrival order, up to
 * server.hash_wait_ms, with at most server.hash_queue waiting; past the
 * deadline or the queue it gets 503 + Retry-After (a queue that cannot grow). */

/* NULL when acceptable, else a French message for the field. context: a
 * NULL-terminated list of strings (NIR, "1985-03-14", names...), may be NULL;
 * dates are also tried as DDMMYYYY, DDMMYY and YYYY. */
const char *portail_password_problem(portail_ctx_t *ctx, const char *password,
                                     const char *const *context);
/* 0 with *out (arena), -1 error (500 set), -2 every slot busy (503 set). */
int portail_password_hash(portail_ctx_t *ctx, const char *password, const char **out);
/* 1 match, 0 no match, -1 error (500 set), -2 busy (503 set). With hash NULL
 * it verifies against a fixed dummy hash and returns 0, so that an unknown
 * account costs the same time as a wrong password. */
int portail_password_verify(portail_ctx_t *ctx, const char *hash, const char *password);
/* 1 (with the 503 set) when a hash asked for now would be refused at once
 * (every slot taken and the queue full, or hash_wait_ms = 0): a sign-in flood
 * is then refused before it costs any database work. Room now may still be
 * gone by the time the hash starts (verify then answers -2). */
int portail_password_busy(portail_ctx_t *ctx);

#endif
