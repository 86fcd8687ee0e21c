/* Module login, shared inside the folder: the settings as read at init,
 * the handlers the route table of login.c points at, the helpers every
 * handler uses (login.c) and the SQL helpers (store.c). */
#ifndef LOGIN_H
#define LOGIN_H

#include <portail/nir.h>
#include <portail/jobs.h>
#include <portail/portail.h>
#include <stdint.h>

/* ---- settings (login.c) -------------------------------------------------- */
enum new_country_mode { NEW_COUNTRY_LOCK, NEW_COUNTRY_NOTIFY };

typedef struct login_state {
    int max_password_failures;        /* consecutive wrong passwords -> lock */
    int max_code_failures;            /* consecutive wrong TOTP / recovery codes -> lock */
    int max_failures_after_lock;      /* then the right password answers as a wrong one */
    int device_max_failures;          /* wrong passwords from a known device -> unknown again */
    int device_days;                  /* life of a device cookie */
    int max_password_change_failures; /* wrong current passwords in the window -> lock */
    int password_change_window_s;
    enum new_country_mode new_country;
    int country_memory_days;
    int ip_max_failures; /* failures per client address and window -> 429 */
    int ip_window_s;
    int register_ttl_s;
    int register_ip_max;         /* registrations per client address and hour */
    int register_mails_per_hour; /* registration mails per insured person and hour */
    int register_failures_max;   /* wrong data per NIR and window: nothing sent after */
    int register_failure_window_s;
    int register_code_ttl_s; /* life of a provisional code sent by post */
    int enrol_pending_s;     /* how long a shown TOTP secret may be activated */
} login_state_t;

/* ---- handlers (register.c, signin.c, enrol.c, sessions.c, password.c,
 * agent.c) ------------------------------------------------------------------ */
void login_register(portail_ctx_t *ctx);
void login_register_confirm(portail_ctx_t *ctx);
void login_register_check(portail_ctx_t *ctx);
void login_password_step(portail_ctx_t *ctx);
void login_totp_enroll_show(portail_ctx_t *ctx);
void login_totp_enroll_confirm(portail_ctx_t *ctx);
void login_totp_step(portail_ctx_t *ctx);
void login_recovery_step(portail_ctx_t *ctx);
void login_logout(portail_ctx_t *ctx);
void login_me(portail_ctx_t *ctx);
void login_sessions(portail_ctx_t *ctx);
void login_session_revoke(portail_ctx_t *ctx);
void login_sessions_revoke_others(portail_ctx_t *ctx);
void login_password_change(portail_ctx_t *ctx);
void login_totp_reset(portail_ctx_t *ctx);
/* account.c: the member's own data (activity, export, closing). */
void login_account_activity(portail_ctx_t *ctx);
void login_account_export(portail_ctx_t *ctx);
void login_account_close(portail_ctx_t *ctx);
void login_totp_reenrol(portail_ctx_t *ctx);
/* factor.c: a signed-in member changes phone (password, then a mailed link)
 * or renews the recovery codes (password). */
void login_recovery_codes_renew(portail_ctx_t *ctx);
void login_totp_change_request(portail_ctx_t *ctx);
void login_totp_change_start(portail_ctx_t *ctx);
void login_totp_change_confirm(portail_ctx_t *ctx);
/* Job: the letter with a provisional registration code, into the print
 * queue (register.c). */
#define LOGIN_LETTER_JOB "login.register_letter"
int login_register_letter_job(portail_job_t *job);

void login_agent_password_step(portail_ctx_t *ctx);
void login_agent_totp_step(portail_ctx_t *ctx);
void login_agent_enroll(portail_ctx_t *ctx);
void login_agent_enroll_totp(portail_ctx_t *ctx);
void login_agent_me(portail_ctx_t *ctx);

/* ---- helpers (login.c) --------------------------------------------------- */
#define LOGIN_PASSWORD_MAX_BYTES 512 /* 128 characters of up to 4 bytes */
#define LOGIN_RECOVERY_CODES 10
/* The link a TOTP reset mails (password.c, enrol.c). */
#define LOGIN_REENROL_PURPOSE "totp_reenrol"
#define LOGIN_REENROL_TTL_S (24 * 3600)
#define TOKEN_MAX 64
#define CODE_INPUT_MAX 32
#define RECOVERY_INPUT_MAX 64
#define RECOVERY_CHARS 10
/* Recovery codes: without I, O, 0 and 1, which read alike. 32 symbols:
 * 50 bits a code. */
#define RECOVERY_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

/* A new code of RECOVERY_CHARS symbols of RECOVERY_ALPHABET (recovery
 * codes, the provisional registration code): raw for its keyed digest,
 * shown as "ABCDE-FGH23" for the person. */
void login_code_new(char raw[RECOVERY_CHARS + 1], char shown[RECOVERY_CHARS + 2]);
/* Such a code as typed ("abcde-fgh23", spaces and hyphens dropped, any
 * case) into raw form: 0, or -1 when it has not the shape of one. */
int login_code_normalize(const char *in, char out[RECOVERY_CHARS + 1]);

/* The JSON body when it is an object, else NULL. */
json_t *login_body(portail_ctx_t *ctx);
/* The module's settings as read at init. */
const login_state_t *login_settings(portail_ctx_t *ctx);

/* 422 with the field errors when there are any: returns -1 then. */
int login_fields_done(portail_ctx_t *ctx, json_t *errors);
/* 500 with a generic French message, and a log line. */
void login_internal(portail_ctx_t *ctx, const char *what);
/* Spends the mailed link `token` of `purpose` in the caller's transaction:
 * 0, or -1 answered (500 on error; 410 with the detail `gone` when used,
 * expired or unknown: the link's page says so in its own words). */
int login_link_spend(portail_ctx_t *ctx, portail_db_t *db, const char *purpose, const char *token,
                     const char *gone);
/* Per client address: 1 when the address is over its failure budget (429
 * with Retry-After set), 0 when it may try, -1 on error (500 set). */
int login_ip_blocked(portail_ctx_t *ctx, portail_db_t *db);
/* Counts one failure (password or code) for the client address. */
void login_ip_failure(portail_ctx_t *ctx, portail_db_t *db);
/* The 423 problem of a member's lock: reason, reason_text, steps. */
void login_respond_locked(portail_ctx_t *ctx, portail_lock_reason_t reason);
/* 422 unless code is six digits; returns -1 then. */
int login_code_format(portail_ctx_t *ctx, const char *code);
/* Checks the first code of a TOTP enrolment against the pending secret:
 * 0 with the step, or -1 with the problem set (422 on the code field). */
int login_check_enrolment_code(portail_ctx_t *ctx, const unsigned char *sealed, size_t len,
                               const char *code, long long *step);
/* Ten new recovery codes of the member in place of the old ones (enrol.c),
 * stored as keyed digests and appended to codes (shown once). 0 or -1
 * (500 set). */
int login_recovery_codes_new(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id,
                             json_t *codes);
/* {secret_base32, otpauth_uri, qr_svg} for an authenticator app. */
json_t *login_enrolment_body(portail_ctx_t *ctx, const char *label, const char *base32);
/* <origin><path>?token=<token>, arena. */
const char *login_link(portail_ctx_t *ctx, const char *path, const char *token);
/* "login-ip:<address>" and the like, arena. */
const char *login_key(portail_ctx_t *ctx, const char *prefix, const char *suffix);
/* "<prefix>:<keyed digest of secret>" (portail_secret_digest, 128 bits in
 * hex), so that the throttle table holds no NIR; NULL with a 500 set. */
const char *login_secret_key(portail_ctx_t *ctx, const char *prefix, const char *secret);

/* ---- SQL helpers (store.c) ----------------------------------------------- */
typedef struct member_rec {
    int64_t id;
    int64_t insured_id;
    const char *nir, *first_name, *last_name, *birth_date, *email, *fund;
    const char *password_hash; /* NULL: no password chosen yet */
    const unsigned char *totp_secret;
    size_t totp_secret_len;   /* totp_secret NULL: TOTP not enabled */
    long long totp_last_step; /* -1: none */
    const unsigned char *totp_pending;
    size_t totp_pending_len; /* NULL: none shown, or shown too long ago */
    int reenrol_required;    /* after a TOTP reset, until the mailed link is opened */
} member_rec_t;

/* A new pending TOTP secret for m and the enrolment body (enrol.c);
 * replacing: m keeps its active secret until a code of the new one is
 * right (change of phone). */
void login_pending_secret_respond(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m,
                                  int replacing);
/* The pending secret made active with its first code's step (enrol.c): 0,
 * or -1 answered (500, or 409 when it changed meanwhile). */
int login_pending_secret_activate(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m,
                                  long long step, int replacing);

/* 1 found, 0 not found, -1 database error. pending_s: how old a pending
 * TOTP secret may be. */
int store_member_by_nir(portail_db_t *db, portail_arena_t *a, const char *nir, int pending_s,
                        member_rec_t *out);
int store_member_by_id(portail_db_t *db, portail_arena_t *a, int64_t id, int pending_s,
                       member_rec_t *out);
/* Records the step of an accepted code unless that step (or a later one)
 * was accepted already: 1 recorded, 0 replay, -1 error. */
int store_member_totp_step(portail_db_t *db, int64_t member_id, long long step);
/* The country rule's memory: 1 seen within days, 0 not, -1 error; *any
 * tells whether any country at all was seen within days. */
int store_country_seen(portail_db_t *db, int64_t member_id, const char *country, int days,
                       int *any);
int store_country_record(portail_db_t *db, int64_t member_id, const char *country);

/* ---- what the member handlers share (member.c, signin.c) ------------------ */
/* The body's "nir" normalised and checked (and agreeing with birth, when
 * given), or NULL with a field error added. Arena. */
const char *member_nir_field(portail_ctx_t *ctx, json_t *body, const char *birth, json_t **errors);
/* "285**********82": the authenticator app's label. */
const char *member_masked_nir(portail_ctx_t *ctx, const char *nir);
/* The member behind a partial or member session; -1 with 401 (session
 * ended) when gone or without password, 500 on error. */
int member_current(portail_ctx_t *ctx, portail_db_t *db, member_rec_t *m);
/* 0 when the member has an active TOTP; -1 with a 409 (next: totp_enroll)
 * when not, as after a TOTP reset: a code step then has nothing to check. */
int member_totp_active(portail_ctx_t *ctx, const member_rec_t *m);
/* 0 not locked; 1 locked (423 set); -1 error (500 set). */
int member_refuse_if_locked(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id);
/* The mail of template (mail/<template>.txt) to the member; 500 on failure. */
int member_mail(portail_ctx_t *ctx, portail_db_t *db, const char *to, const char *template,
                const char *const *vars);
/* A security event of the member; 500 on failure. 0 or -1. */
int member_event(portail_ctx_t *ctx, int64_t member_id, const char *kind, const char *detail);
/* " depuis l'adresse 203.0.113.7 (pays : FR)" for mails about an attempt. */
const char *login_where(portail_ctx_t *ctx);
/* Both factors passed: counters back to zero, the sign-in event, the member
 * level (signin.c). 0 or -1 (answered). */
int member_signed_in(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id, const char *how);

/* Re-checks a signed-in member's password (password.c): 1 right; 0 wrong
 * (answered: 401, or 423 when too many in the window, event `what`); -1
 * answered (error). */
int login_password_recheck(portail_ctx_t *ctx, const member_rec_t *m, const char *password,
                           const char *what);

/* ---- signing in, for members and agents alike (signin.c) ------------------ */
/* The account at a sign-in step, and what differs between the kinds. */
typedef struct signin_who {
    portail_principal_kind_t kind;
    int64_t id;                /* 0: nobody (unknown NIR or login) */
    const char *password_hash; /* NULL: unknown or no password chosen yet */
    const unsigned char *totp_secret;
    size_t totp_secret_len;
    long long totp_last_step;
    const char *email;             /* where the alert of a replayed code goes; NULL: none */
    const char *replay_mail;       /* that alert's template */
    const char *wrong_credentials; /* detail of the 401 */
    /* Records an accepted step: 1 recorded, 0 replay, -1 error. */
    int (*record_step)(portail_db_t *db, int64_t id, long long step);
    int64_t device_id; /* a member's known device (device.c); 0 unknown */
    int keep_counters; /* signin_complete through a lock (known device): no reset */
} signin_who_t;

/* The member as signin.c's steps see them; found != 1: nobody (the dummy
 * hash, the same 401). */
signin_who_t member_who(const member_rec_t *m, int found);

/* ---- known devices (device.c) -------------------------------------------- */
/* The member_devices row of this request's device cookie when it is a
 * valid, unexpired, unrevoked device of member_id within its failure
 * budget; 0 when not (no cookie, forged, another member's...); -1 error
 * (500 set). */
int64_t device_known(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id);
/* After both factors: the device's budget restored and its life extended,
 * or a new device; sets the cookie. 0 or -1 (500 set). */
int device_remember(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id);
/* A wrong password from a known device, in the open transaction: counted
 * on the device; past device_max_failures it is revoked and the member
 * mailed. 0 or -1 (500 set). */
int device_failure(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id, int64_t device_id,
                   const char *email);

/* The password step after the caller's lookup: 1 right; 0 or -1 answered
 * (401 the same for an unknown account; a wrong one counts and locks at
 * max_password_failures). */
int signin_password(portail_ctx_t *ctx, portail_db_t *db, const signin_who_t *who,
                    const char *password);
/* 0 not locked; 1 locked (event, 423; members get a partial session for
 * their lock page); -1 error (500 set). */
int signin_refuse_if_locked(portail_ctx_t *ctx, portail_db_t *db, const signin_who_t *who);
/* The TOTP step: 1 a fresh right code, its step recorded and `then` (what
 * the code opens: the sign-in, a closing) run in the same transaction,
 * committed, rerun on a 1213/1205 (portail_tx_retry: `then` may answer an
 * error, not the success); 0 or -1 answered (a wrong or replayed code went
 * through signin_code_failed). */
int signin_totp(portail_ctx_t *ctx, const signin_who_t *who, const char *code, portail_tx_fn then,
                void *arg);
/* A wrong second factor (event: "totp_failed", "totp_replayed",
 * "recovery_code_failed"): counted, recorded, mailed when replayed, locked
 * at max_code_failures (session ended, 423), else 401. Always answers. */
void signin_code_failed(portail_ctx_t *ctx, const signin_who_t *who, const char *event);
/* Both factors passed: counters reset, the sign-in event, the session
 * elevated to level (nothing more when it is past partial already). */
int signin_complete(portail_ctx_t *ctx, portail_db_t *db, const signin_who_t *who,
                    const char *event, const char *detail, portail_auth_t level);

typedef struct agent_rec {
    int64_t id;
    const char *login, *display_name, *role, *email;
    const char *password_hash;
    const unsigned char *totp_secret;
    size_t totp_secret_len;
    long long totp_last_step;
    const unsigned char *totp_pending;
    size_t totp_pending_len;
    const char *pending_password_hash;
} agent_rec_t;

/* Enabled agents only. 1 found, 0 not found, -1 error. */
int store_agent_by_login(portail_db_t *db, portail_arena_t *a, const char *login, int pending_s,
                         agent_rec_t *out);
int store_agent_by_id(portail_db_t *db, portail_arena_t *a, int64_t id, int pending_s,
                      agent_rec_t *out);
int store_agent_totp_step(portail_db_t *db, int64_t agent_id, long long step);
#endif
