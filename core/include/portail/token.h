#ifndef PORTAIL_TOKEN_H
#define PORTAIL_TOKEN_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- One-time tokens (core/token.c) --------------------------------------
 * Links sent by mail (registration, password reset, account verification,
 * agent enrolment): 32 random bytes, base64url in the link, only the hash
 * stored, single use, with an expiry. */

/* Issues a token for purpose ("register", "reset", ...) and subject (an id),
 * with optional data (JSON text, at most 4 KiB). *token is arena memory.
 * Earlier unused tokens of the same purpose and subject are revoked. 0 or -1. */
int portail_token_issue(portail_db_t *db, portail_arena_t *a, const char *purpose, int64_t subject,
                        const char *data, int ttl_s, const char **token);
enum { PORTAIL_TOKEN_OK = 0, PORTAIL_TOKEN_UNKNOWN = 1, PORTAIL_TOKEN_SPENT = 2 };
/* Marks the token used and gives its subject and data (arena). Returns
 * PORTAIL_TOKEN_OK, _UNKNOWN (never issued, or wrong purpose), _SPENT
 * (expired or already used), or -1 on database error. */
int portail_token_consume(portail_db_t *db, portail_arena_t *a, const char *purpose,
                          const char *token, int64_t *subject, const char **data);
/* Same checks without using it up (to show a form before the final POST). */
int portail_token_peek(portail_db_t *db, portail_arena_t *a, const char *purpose, const char *token,
                       int64_t *subject, const char **data);

#endif
