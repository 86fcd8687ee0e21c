/* Core services that several modules share, so modules never depend on each
 * other: sessions, the mail outbox, account security (locks, counters,
 * security events), the audit log of agent actions, passwords, throttles,
 * one-time tokens and TOTP. */
#ifndef PORTAIL_SERVICES_H
#define PORTAIL_SERVICES_H

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
/* Revokes one of the current principal's sessions: 0 done, 1 not found, -1 error. */
int portail_session_revoke(portail_ctx_t *ctx, int64_t session_id);
/* Revokes every session of a principal but `except` (0: none). Count or -1. */
long long portail_sessions_revoke_all(portail_db_t *db, portail_principal_kind_t kind, int64_t id,
                                      int64_t except);

/* ---- Mail outbox (core/outbox.c) ----------------------------------------
 * Enqueued in the caller's transaction, delivered by the sender thread with
 * retries, so a rolled-back change sends nothing and a crash loses nothing.
 * Returns 0 or -1. */
int portail_mail_enqueue(portail_db_t *db, const char *to, const char *subject,
                         const char *body_text);

/* ---- Account security (core/account.c) ---------------------------------- */
typedef enum portail_lock_reason {
    PORTAIL_LOCK_NONE = 0,
    PORTAIL_LOCK_PASSWORD,             /* too many wrong passwords */
    PORTAIL_LOCK_SECOND_FACTOR,        /* too many wrong TOTP / recovery codes */
    PORTAIL_LOCK_SUSPICIOUS,           /* new country, repeated failed password changes */
    PORTAIL_LOCK_PENDING_VERIFICATION, /* account update awaiting confirmation */
    PORTAIL_LOCK_AGENT,                /* locked by an agent */
} portail_lock_reason_t;

typedef enum portail_counter {
    PORTAIL_COUNTER_PASSWORD = 0,
    PORTAIL_COUNTER_SECOND_FACTOR,
    PORTAIL_COUNTER_PASSWORD_CHANGE,
} portail_counter_t;

typedef struct portail_account_state {
    portail_lock_reason_t reason;
    const char *detail;    /* free text, arena */
    const char *locked_at; /* ISO 8601 UTC, NULL when not locked */
    const char *locked_by; /* "system" or "agent:<login>" */
    int password_failures;
    int second_factor_failures;
} portail_account_state_t;

const char *portail_lock_reason_name(portail_lock_reason_t r); /* "password", ... */
portail_lock_reason_t portail_lock_reason_parse(const char *name);
/* French sentence for members: why the account is locked. */
const char *portail_lock_reason_text(portail_lock_reason_t r);

/* An unknown member reads as not locked with zero counters. 0 or -1. */
int portail_account_state(portail_db_t *db, portail_arena_t *a, int64_t member_id,
                          portail_account_state_t *out);
/* Locks, records a security event, revokes the member's sessions and mails
 * the member why and how to unlock. Already locked: the reason in place is
 * kept unless the new one takes more to lift (password, second_factor <
 * pending_verification < suspicious, agent), which replaces it (event,
 * revocation and mail again); when kept nothing else happens (no event, no
 * mail, so repeated failures cannot flood the member). 0 or -1. */
int portail_account_lock(portail_ctx_t *ctx, int64_t member_id, portail_lock_reason_t reason,
                         const char *detail);
/* Lifts any lock and resets the counters; event + mail. `by` is "system",
 * "reset", "verification" or the agent ("agent:<login>"). 0, 1 when not
 * locked, -1 on error. With by "reset" (a new password) only password and
 * second_factor locks are lifted, with by "verification" (a confirmation
 * link) only pending_verification: for the others the counters are reset
 * and 1 is returned. `why` goes into the member-visible event: no internal
 * note there. */
int portail_account_unlock(portail_ctx_t *ctx, int64_t member_id, const char *by, const char *why);
/* After a change of contact or bank details: locks the account
 * (pending_verification, detail `what`), issues a "verify" one-time token
 * (48 h) and mails the member the link <origin>/compte/verification.html
 * ?token=...; `what` names the change in French ("adresse e-mail",
 * "coordonnées bancaires"), at most 200 bytes, and goes into the mail. The
 * unlock module's POST /api/v1/account/verify consumes the token. Joins the
 * caller's transaction when one is open. 0 or -1 (nothing done). */
int portail_account_request_verification(portail_ctx_t *ctx, int64_t member_id, const char *what);
/* Increments a counter and returns its new value (-1 on error). */
int portail_account_count(portail_db_t *db, int64_t member_id, portail_counter_t c);
int portail_account_reset_counter(portail_db_t *db, int64_t member_id, portail_counter_t c);
/* Event kinds that another module reads back: the back office lists a
 * member's last sign-ins (second factor done) by this kind. */
#define PORTAIL_EVENT_SIGN_IN "login_succeeded"
/* Security event with the client's IP, country and user agent. 0 or -1. */
int portail_security_event(portail_ctx_t *ctx, int64_t member_id, const char *kind,
                           const char *detail);

/* ---- Audit of agent actions (core/audit.c) ------------------------------
 * Who (the ctx's agent), what, on whom, why, when. 0 or -1. */
int portail_audit(portail_ctx_t *ctx, int64_t member_id, const char *action, const char *reason);

/* ---- Passwords (core/password.c) -----------------------------------------
 * NIST SP 800-63B: length (12 to 128 characters, any Unicode), no
 * composition rules, refused when cracklib finds it weak (French and English
 * words, keyboard walks) or when it contains a word of the person's own
 * context (NIR, birth date, names). Hashes are Argon2id at libsodium's
 * interactive limits; at most server.hash_slots run at once and the excess
 * gets 503 + Retry-After instead of a queue that grows. */

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
/* 1 (with the 503 set) when every hashing slot is taken right now: a sign-in
 * flood is then refused before it costs any database work. A free slot may
 * still be gone by the time the hash starts (verify then answers -2). */
int portail_password_busy(portail_ctx_t *ctx);

/* ---- Throttle (core/throttle.c) ------------------------------------------
 * Fixed-window counters in MariaDB (shared by every portaild), keyed by a
 * caller-chosen string such as "login-ip:203.0.113.7". */

/* Seconds to wait when key has reached max events in its current window of
 * window_s seconds, 0 otherwise; -1 on database error. Counts nothing. */
int portail_throttle_check(portail_db_t *db, const char *key, int window_s, int max);
/* Counts one event; returns what portail_throttle_check would return after it. */
int portail_throttle_hit(portail_db_t *db, const char *key, int window_s, int max);
int portail_throttle_clear(portail_db_t *db, const char *key);

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

/* ---- TOTP (core/totp.c) --------------------------------------------------
 * RFC 6238 through liboath: HMAC-SHA1, 6 digits, 30-second steps, one step
 * of tolerance either way, each step accepted once per principal (the
 * caller stores the last accepted step). Secrets are 160 random bits, kept
 * in the database only sealed (crypto_secretbox, random nonce) under a
 * subkey of the 32-byte key in the file named by server.secret_key_file,
 * read once. Without a usable key file every call below that needs it
 * fails with a 500 set on ctx and a log line naming the file. */
#define PORTAIL_TOTP_SECRET_BYTES 20
#define PORTAIL_TOTP_SEALED_BYTES 60 /* nonce + MAC + secret */
#define PORTAIL_DIGEST_BYTES 32

typedef struct portail_totp_secret {
    const char *base32;          /* 32 characters, for the authenticator app (arena) */
    const unsigned char *sealed; /* PORTAIL_TOTP_SEALED_BYTES, for the database (arena) */
    size_t sealed_len;
} portail_totp_secret_t;

/* A new random secret. 0, or -1 (500 set). */
int portail_totp_new(portail_ctx_t *ctx, portail_totp_secret_t *out);
/* Seals a given base32 secret of 160 bits (demo accounts). 0 or -1. */
int portail_totp_seal_base32(portail_ctx_t *ctx, const char *base32, portail_totp_secret_t *out);
/* The base32 text of a sealed secret (arena), NULL (500 set) when it does
 * not open with the current key. */
const char *portail_totp_base32(portail_ctx_t *ctx, const unsigned char *sealed, size_t len);
/* 1 when code is six digits (spaces allowed), so a caller can refuse a
 * malformed code before counting it as a wrong one. */
int portail_totp_code_ok(const char *code);

enum { PORTAIL_TOTP_OK = 0, PORTAIL_TOTP_WRONG = 1, PORTAIL_TOTP_REPLAY = 2 };
/* Checks code at the current time against a sealed secret. last_step is
 * the last step accepted for this principal (-1: none). PORTAIL_TOTP_OK
 * with *step the code's step, which the caller records with a guard such
 * as "... WHERE last_step IS NULL OR last_step < ?" so that of two
 * concurrent uses one loses; _WRONG; _REPLAY: right code, but for a step at
 * or before last_step (*step set); -1 error (500 set). */
int portail_totp_verify(portail_ctx_t *ctx, const unsigned char *sealed, size_t sealed_len,
                        long long last_step, const char *code, long long *step);
/* otpauth://totp/Portail%20CPAM:<label>?secret=...&issuer=Portail%20CPAM&...
 * (label percent-encoded, at most 128 bytes of it), arena; NULL for NULL input. */
const char *portail_totp_uri(portail_arena_t *a, const char *label, const char *base32);
/* text (at most 1 KiB) as a QR code: a standalone SVG document, black
 * <rect>s on white, no external resource. Arena; NULL on failure. */
const char *portail_qr_svg(portail_arena_t *a, const char *text);
/* Keyed BLAKE2b-256 (another subkey of the same key file) of a short secret
 * kept in the database, such as a recovery code: without the key file a
 * copy of the table does not allow testing guesses offline. 0 or -1 (500). */
int portail_secret_digest(portail_ctx_t *ctx, const char *text,
                          unsigned char out[PORTAIL_DIGEST_BYTES]);

#endif
