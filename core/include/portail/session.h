#ifndef PORTAIL_SESSION_H
#define PORTAIL_SESSION_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- Sessions (core/session.c) ------------------------------------------
 * Cookie __Host-portail_session, HttpOnly; Secure; SameSite=Strict; Path=/.
 * Only the BLAKE2b-256 hash (crypto_generichash) of the 32-byte token is
 * stored. Starting or elevating a session also sends the new CSRF token in
 * the X-CSRF-Token response header. */

/* Starts a session for the principal and sets the cookie; any session the
 * request carried is revoked first (rotation). Returns 0, or -1 with a
 * problem already set on ctx. */
int portail_session_start(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                          portail_auth_t level, const char *role);
/* Level change (partial -> member): new token, old session revoked. */
int portail_session_elevate(portail_ctx_t *ctx, portail_auth_t level);
/* Logout: revokes the current session and clears the cookie. */
int portail_session_end(portail_ctx_t *ctx);
/* The current principal's sessions: [{id, created_at, last_seen_at, ip,
 * country, user_agent, current}], newest first; owned by the arena (incref
 * to hand it to portail_respond_json); NULL on error. */
json_t *portail_sessions_list(portail_ctx_t *ctx);
/* Revokes one of the current principal's sessions: 0 done, 1 not found,
 * -1 error. Another device's session is told why at its next request (a
 * 401 with "signed_out": "other_device"). */
int portail_session_revoke(portail_ctx_t *ctx, int64_t session_id);
/* Revokes every session of the current principal but the current one, each
 * device told why as above. Count or -1. */
long long portail_sessions_revoke_others(portail_ctx_t *ctx);
/* Revokes every session of a principal but `except` (0: none), each device
 * told `why` ("other_device" or "agent") at its next request: a 401 with
 * "signed_out" set to it, for as long as the session could have lasted.
 * Count or -1. */
long long portail_sessions_revoke_all_why(portail_ctx_t *ctx, portail_db_t *db,
                                          portail_principal_kind_t kind, int64_t id, int64_t except,
                                          const char *why);
/* Revokes every session of a principal but `except` (0: none), silently
 * (sign-in elsewhere, closed account...). Count or -1. */
long long portail_sessions_revoke_all(portail_db_t *db, portail_principal_kind_t kind, int64_t id,
                                      int64_t except);

#endif
