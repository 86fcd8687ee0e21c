#ifndef PORTAIL_ACCOUNT_H
#define PORTAIL_ACCOUNT_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

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
/* A way out of a lock: kind ("reset_password", "call_fund",
 * "confirm_update", "wait_agent") and a French sentence. */
typedef struct portail_lock_step {
    const char *kind;
    const char *text;
} portail_lock_step_t;
/* The ways out of a member's lock, in order, as [{kind, text}], a new
 * reference ([] when not locked). */
json_t *portail_lock_reason_steps_json(portail_lock_reason_t r);
/* "appelez votre caisse au 36 46 (service gratuit + prix d’un appel)": the
 * phone and its note from the config's brand group; "contactez votre
 * caisse" when brand.phone is empty. capital: "Appelez …", to open a
 * sentence. Every message that sends a member to the fund says it so. */
const char *portail_call_fund(int capital);

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
/* The same, with the link mailed to to_address instead of the address on
 * file (a new e-mail address proves itself by the link); NULL or "" is
 * the address on file. */
int portail_account_request_verification_to(portail_ctx_t *ctx, int64_t member_id, const char *what,
                                            const char *to_address);
/* Increments a counter and returns its new value (-1 on error). */
int portail_account_count(portail_db_t *db, int64_t member_id, portail_counter_t c);
int portail_account_reset_counter(portail_db_t *db, int64_t member_id, portail_counter_t c);
/* Event kinds that another module reads back: the back office lists a
 * member's last sign-ins (second factor done) by this kind. */
#define PORTAIL_EVENT_SIGN_IN "login_succeeded"
/* Security event with the client's IP, country and user agent. 0 or -1. */
int portail_security_event(portail_ctx_t *ctx, int64_t member_id, const char *kind,
                           const char *detail);

/* ---- The same service for any principal ---------------------------------
 * The functions above are these with PORTAIL_PRINCIPAL_MEMBER. With
 * PORTAIL_PRINCIPAL_AGENT the lock and counters live in agent_locks and
 * agent_counters, the events go to the audit log (action = the event kind,
 * lock and unlock are "locked" and "unlocked") and nothing is mailed. Same
 * returns as the member functions; -1 for any other kind. */
int portail_principal_state(portail_db_t *db, portail_arena_t *a, portail_principal_kind_t kind,
                            int64_t id, portail_account_state_t *out);
int portail_principal_lock(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                           portail_lock_reason_t reason, const char *detail);
int portail_principal_unlock(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                             const char *by, const char *why);
int portail_principal_count(portail_db_t *db, portail_principal_kind_t kind, int64_t id,
                            portail_counter_t c);
int portail_principal_reset_counter(portail_db_t *db, portail_principal_kind_t kind, int64_t id,
                                    portail_counter_t c);
int portail_principal_event(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                            const char *event, const char *detail);
/* The 423 problem of a lock: detail and reason_text the reason's sentence,
 * reason, steps [{kind, text}] (for agents: their own sentence and the one
 * way out, a supervisor's reset). */
void portail_lock_respond(portail_ctx_t *ctx, portail_principal_kind_t kind,
                          portail_lock_reason_t reason);

#endif
