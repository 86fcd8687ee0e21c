/* Module login: signing in. The password step and the second-factor step
 * are written once here, for members and agents alike (agent.c calls them
 * with its own lookups): a wrong secret counts against the account in the
 * core's account-security service, and a lock at the threshold answers
 * 423. Then the members' routes: POST /api/v1/login, /login/totp and
 * /login/recovery. */
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include <portail/texts.h>

static const char WRONG_CODE[] = TXT_LOGIN_CODE_INCORRECT_OU_UTILISE;

/* ---- what both sign-ins share ---------------------------------------------------- */

/* A wrong password: the address's count, and a known account's count,
 * event and lock at the threshold, rerun together when the database aborts
 * them (the lock is what a guesser must not escape by a conflict). */
static int password_failed_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const signin_who_t *who = arg;
    const login_state_t *st = login_settings(ctx);
    int known = who->id > 0 && who->password_hash;
    login_ip_failure(ctx, db);
    if (known && who->device_id) {
        if (device_failure(ctx, db, who->id, who->device_id, who->email) != 0 ||
            portail_principal_event(ctx, who->kind, who->id, "login_failed",
                                    TXT_LOGIN_MOTIF_MOT_DE_PASSE_INCORRECT_APPAREIL_CONNU) != 0) {
            login_internal(ctx, "device failure not recorded");
            return -1;
        }
    } else if (known) {
        int n = portail_principal_count(db, who->kind, who->id, PORTAIL_COUNTER_PASSWORD);
        if (n < 0) {
            login_internal(ctx, "password counter failed");
            return -1;
        }
        if (portail_principal_event(ctx, who->kind, who->id, "login_failed",
                                    TXT_LOGIN_MOTIF_MOT_DE_PASSE_INCORRECT) != 0) {
            login_internal(ctx, "event not recorded");
            return -1;
        }
        if (n >= st->max_password_failures &&
            portail_principal_lock(
                ctx, who->kind, who->id, PORTAIL_LOCK_PASSWORD,
                portail_sprintf(portail_arena(ctx), "%d mots de passe incorrects de suite", n)) !=
                0) {
            login_internal(ctx, "lock failed");
            return -1;
        }
    }
    return 0;
}

/* The password step, after the caller's lookup. Unknown account or no
 * password yet: the dummy hash, for the same time and the same 401. A
 * wrong password for a known account counts, is recorded, and locks at the
 * threshold. 1 the password is right; 0 or -1 answered. */
int signin_password(portail_ctx_t *ctx, portail_db_t *db, const signin_who_t *who,
                    const char *password)
{
    const login_state_t *st = login_settings(ctx);
    int known = who->id > 0 && who->password_hash;
    int ok = portail_password_verify(ctx, known ? who->password_hash : NULL, password);
    if (ok < 0)
        return -1; /* 500 or 503 set */
    /* A locked account still answering the right password apart from a
     * wrong one lets guessing go on at the throttle's pace (NIST 800-63B:
     * at most 100 guesses). A few failures after the lock (a member who
     * mistyped can still see the lock page), then the password no longer
     * matters: the right one goes the wrong one's way, same work, same
     * 401, and the way out is the mailed reset link. Read on both branches
     * so that they do the same work. */
    if (known) {
        portail_account_state_t as;
        if (portail_principal_state(db, portail_arena(ctx), who->kind, who->id, &as) != 0) {
            login_internal(ctx, "account state failed");
            return -1;
        }
        if (as.reason != PORTAIL_LOCK_NONE && !who->device_id &&
            as.password_failures >= st->max_password_failures + st->max_failures_after_lock)
            ok = 0;
    }
    if (ok)
        return 1;
    /* One transaction, one commit, known account or not: a known one's
     * failure used to commit twice (the address's count, then the
     * account's), some 3 ms that told who is a member. */
    if (portail_tx_retry(ctx, password_failed_tx, (void *)who) != 0) {
        return -1;
    }
    portail_log_info(ctx, "login: wrong credentials");
    portail_problem(ctx, 401, TXT_LOGIN_IDENTIFIANTS_INCORRECTS, who->wrong_credentials);
    return 0;
}

/* The right password on a locked account: recorded, and the 423 with the
 * reason and the ways out. Members also get a partial session, so that
 * their lock page can ask GET /api/v1/unlock/status (agents have no such
 * page: their way out is a supervisor). */
static void locked_signin(portail_ctx_t *ctx, const signin_who_t *who, portail_lock_reason_t r)
{
    if (portail_principal_event(ctx, who->kind, who->id, "login_locked",
                                portail_lock_reason_name(r)) != 0)
        portail_log_error(ctx, "login: event not recorded");
    if (who->kind == PORTAIL_PRINCIPAL_MEMBER &&
        portail_session_start(ctx, who->kind, who->id, PORTAIL_AUTH_PARTIAL, NULL) != 0)
        return;
    portail_lock_respond(ctx, who->kind, r);
}

int signin_refuse_if_locked(portail_ctx_t *ctx, portail_db_t *db, const signin_who_t *who)
{
    portail_account_state_t as;
    if (portail_principal_state(db, portail_arena(ctx), who->kind, who->id, &as) != 0) {
        login_internal(ctx, "account state failed");
        return -1;
    }
    if (as.reason == PORTAIL_LOCK_NONE)
        return 0;
    /* Guessing from unknown devices locks them out, not the member's own
     * known devices (which have their own budget). */
    if (who->device_id && as.reason == PORTAIL_LOCK_PASSWORD)
        return 2;
    locked_signin(ctx, who, as.reason);
    return 1;
}

int signin_complete(portail_ctx_t *ctx, portail_db_t *db, const signin_who_t *who,
                    const char *event, const char *detail, portail_auth_t level)
{
    if (!who->keep_counters &&
        (portail_principal_reset_counter(db, who->kind, who->id, PORTAIL_COUNTER_PASSWORD) != 0 ||
         portail_principal_reset_counter(db, who->kind, who->id, PORTAIL_COUNTER_SECOND_FACTOR) !=
             0)) {
        login_internal(ctx, "counter reset failed");
        return -1;
    }
    /* A member session enrolling again (after a TOTP reset) is signed in
     * already: no new sign-in to record. */
    if (portail_principal(ctx)->level != PORTAIL_AUTH_PARTIAL)
        return 0;
    if (portail_principal_event(ctx, who->kind, who->id, event, detail) != 0) {
        login_internal(ctx, "event not recorded");
        return -1;
    }
    return portail_session_elevate(ctx, level) != 0 ? -1 : 0;
}

typedef struct code_failed_tx {
    const signin_who_t *who;
    const char *event;
    int locked;
} code_failed_tx_t;

static int code_failed_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    code_failed_tx_t *t = arg;
    const signin_who_t *who = t->who;
    login_ip_failure(ctx, db);
    int n = portail_principal_count(db, who->kind, who->id, PORTAIL_COUNTER_SECOND_FACTOR);
    if (n < 0) {
        login_internal(ctx, "second-factor counter failed");
        return -1;
    }
    if (portail_principal_event(ctx, who->kind, who->id, t->event, NULL) != 0) {
        login_internal(ctx, "event not recorded");
        return -1;
    }
    /* A replayed code means someone saw one: the owner hears of it. */
    if (strcmp(t->event, "totp_replayed") == 0 && who->email && who->replay_mail &&
        portail_mail_template(db, portail_arena(ctx), who->email, who->replay_mail,
                              (const char *const[]){"where", login_where(ctx), NULL}) != 0) {
        login_internal(ctx, "mail not queued");
        return -1;
    }
    t->locked = n >= login_settings(ctx)->max_code_failures;
    if (t->locked &&
        portail_principal_lock(
            ctx, who->kind, who->id, PORTAIL_LOCK_SECOND_FACTOR,
            portail_sprintf(portail_arena(ctx), "%d codes incorrects de suite", n)) != 0) {
        login_internal(ctx, "lock failed");
        return -1;
    }
    return 0;
}

void signin_code_failed(portail_ctx_t *ctx, const signin_who_t *who, const char *event)
{
    code_failed_tx_t t = {.who = who, .event = event};
    if (portail_tx_retry(ctx, code_failed_tx, &t) != 0) {
        return;
    }
    portail_log_info(ctx, "login: %s", event);
    if (t.locked) {
        portail_session_end(ctx); /* the row went with the lock; the cookie goes now */
        portail_lock_respond(ctx, who->kind, PORTAIL_LOCK_SECOND_FACTOR);
        return;
    }
    portail_problem(ctx, 401, TXT_LOGIN_CODE_INCORRECT, WRONG_CODE);
}

typedef struct totp_tx {
    const signin_who_t *who;
    long long step;
    portail_tx_fn then;
    void *arg;
    int fresh;
} totp_tx_t;

static int totp_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    totp_tx_t *t = arg;
    t->fresh = t->who->record_step(db, t->who->id, t->step);
    if (t->fresh < 0) {
        login_internal(ctx, "totp step not recorded");
        return -1;
    }
    /* Not fresh: the same step was accepted meanwhile (two uses of one
     * code); nothing was written. */
    return t->fresh ? t->then(ctx, db, t->arg) : 0;
}

int signin_totp(portail_ctx_t *ctx, const signin_who_t *who, const char *code, portail_tx_fn then,
                void *arg)
{
    long long step = -1;
    int rc = portail_totp_verify(ctx, who->totp_secret, who->totp_secret_len, who->totp_last_step,
                                 code, &step);
    if (rc < 0)
        return -1;
    if (rc == PORTAIL_TOTP_OK) {
        /* The step's record (anti-replay) and what the code opens stand
         * together, rerun when the database aborts them: on a Galera
         * cluster the same code sent through two nodes conflicts at
         * commit, and the rerun sees the step taken (a replay). */
        totp_tx_t t = {.who = who, .step = step, .then = then, .arg = arg};
        if (portail_tx_retry(ctx, totp_tx, &t) != 0) {
            return -1;
        }
        if (t.fresh)
            return 1;
        rc = PORTAIL_TOTP_REPLAY;
    }
    signin_code_failed(ctx, who, rc == PORTAIL_TOTP_REPLAY ? "totp_replayed" : "totp_failed");
    return 0;
}

/* ---- POST /api/v1/login ------------------------------------------------------------ */

static const char WRONG_CREDENTIALS[] = TXT_LOGIN_NIR_OU_MOT_DE_PASSE_INCORRECT;

signin_who_t member_who(const member_rec_t *m, int found)
{
    return (signin_who_t){.kind = PORTAIL_PRINCIPAL_MEMBER,
                          .id = found == 1 ? m->id : 0,
                          .password_hash = found == 1 ? m->password_hash : NULL,
                          .totp_secret = found == 1 ? m->totp_secret : NULL,
                          .totp_secret_len = found == 1 ? m->totp_secret_len : 0,
                          .totp_last_step = found == 1 ? m->totp_last_step : -1,
                          .email = found == 1 ? m->email : NULL,
                          .replay_mail = "totp_replayed",
                          .wrong_credentials = WRONG_CREDENTIALS,
                          .record_step = store_member_totp_step};
}

/* The new-country rule, inside the caller's transaction: 0 go on, 1 the
 * account is now locked, -1 error (500 set). */
static int country_rule(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m)
{
    const login_state_t *st = login_settings(ctx);
    const char *cc = portail_client(ctx)->country;
    if (!cc || strlen(cc) != 2)
        return 0; /* unknown country (private address, no GeoIP): nothing to compare */
    int any = 0;
    int seen = store_country_seen(db, m->id, cc, st->country_memory_days, &any);
    if (seen < 0) {
        login_internal(ctx, "country lookup failed");
        return -1;
    }
    /* The first sign-in (or the first after a long absence) only records:
     * there is nothing to compare with. */
    int is_new = !seen && any;
    if (store_country_record(db, m->id, cc) != 0) {
        login_internal(ctx, "country not recorded");
        return -1;
    }
    if (!is_new)
        return 0;
    if (member_event(ctx, m->id, "new_country", cc) != 0)
        return -1;
    if (st->new_country == NEW_COUNTRY_LOCK) {
        if (portail_account_lock(
                ctx, m->id, PORTAIL_LOCK_SUSPICIOUS,
                portail_sprintf(portail_arena(ctx), TXT_LOGIN_MOTIF_NOUVEAU_PAYS, cc)) != 0) {
            login_internal(ctx, "lock failed");
            return -1;
        }
        return 1;
    }
    return member_mail(ctx, db, m->email, "signin_new_country",
                       (const char *const[]){"where", login_where(ctx), NULL});
}

/* The password step's rows (the country rule with its event, mail or
 * lock, the counters cleared, the event), rerun together on a 1213/1205:
 * on Galera two sign-ins of one member through two hosts meet on the
 * counters' row at the COMMIT's certification (tests/cluster saw the 500).
 * rc: country_rule's answer. */
typedef struct password_ok_tx {
    const member_rec_t *m;
    int locked, rc;
} password_ok_tx_t;

static int password_ok_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    password_ok_tx_t *t = arg;
    const member_rec_t *m = t->m;
    t->rc = country_rule(ctx, db, m);
    if (t->rc < 0)
        return -1;
    /* Through a lock from a known device: the account's count stays, so
     * that the lock goes on answering unknown devices as before. */
    if ((t->locked == 0 &&
         portail_account_reset_counter(db, m->id, PORTAIL_COUNTER_PASSWORD) != 0) ||
        portail_throttle_clear(
            db, login_key(ctx, "password-recheck",
                          portail_sprintf(portail_arena(ctx), "%lld", (long long)m->id))) != 0) {
        login_internal(ctx, "counter reset failed");
        return -1;
    }
    if (t->rc == 0 && member_event(ctx, m->id, "login_password_ok", NULL) != 0)
        return -1;
    return 0;
}

void login_password_step(portail_ctx_t *ctx)
{
    const login_state_t *st = login_settings(ctx);
    json_t *b = login_body(ctx), *errors = NULL;
    const char *nir = member_nir_field(ctx, b, NULL, &errors);
    const char *password = portail_json_str(b, "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    if (portail_password_busy(ctx))
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db || login_ip_blocked(ctx, db) != 0)
        return;
    member_rec_t m;
    int found = store_member_by_nir(db, portail_arena(ctx), nir, st->enrol_pending_s, &m);
    if (found < 0) {
        login_internal(ctx, "member lookup failed");
        return;
    }
    signin_who_t who = member_who(&m, found);
    if (found == 1 && (who.device_id = device_known(ctx, db, m.id)) < 0)
        return;
    if (signin_password(ctx, db, &who, password) != 1)
        return;
    password_ok_tx_t t = {.m = &m, .locked = signin_refuse_if_locked(ctx, db, &who)};
    if (t.locked != 0 && t.locked != 2)
        return;
    if (portail_tx_retry(ctx, password_ok_tx, &t) != 0)
        return;
    if (t.rc == 1) {
        locked_signin(ctx, &who, PORTAIL_LOCK_SUSPICIOUS);
        return;
    }
    if (portail_session_start(ctx, PORTAIL_PRINCIPAL_MEMBER, m.id, PORTAIL_AUTH_PARTIAL, NULL) != 0)
        return;
    portail_respond_json(ctx, 200,
                         json_pack("{s:s}", "next", m.totp_secret ? "totp" : "totp_enroll"));
}

/* ---- second factor: POST /api/v1/login/totp and /login/recovery -------------------- */

int member_signed_in(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id, const char *how)
{
    /* Through a lock from a known device the counters stay: the lock goes
     * on answering unknown devices as before (and goes quiet as before). */
    portail_account_state_t as;
    if (portail_account_state(db, portail_arena(ctx), member_id, &as) != 0) {
        login_internal(ctx, "account state failed");
        return -1;
    }
    const signin_who_t who = {.kind = PORTAIL_PRINCIPAL_MEMBER,
                              .id = member_id,
                              .keep_counters = as.reason != PORTAIL_LOCK_NONE};
    if (signin_complete(ctx, db, &who, PORTAIL_EVENT_SIGN_IN, how, PORTAIL_AUTH_MEMBER) != 0)
        return -1;
    return device_remember(ctx, db, member_id);
}

/* What both second-factor routes check first. 0 go on, -1 answered. */
static int second_factor_start(portail_ctx_t *ctx, portail_db_t **db, member_rec_t *m)
{
    *db = portail_db(ctx);
    if (!*db || login_ip_blocked(ctx, *db) != 0 || member_current(ctx, *db, m) != 0)
        return -1;
    /* A known device goes through a password lock, as at the password step. */
    int64_t device = device_known(ctx, *db, m->id);
    if (device < 0)
        return -1;
    portail_account_state_t as;
    if (device && portail_account_state(*db, portail_arena(ctx), m->id, &as) != 0) {
        login_internal(ctx, "account state failed");
        return -1;
    }
    if (!(device && as.reason == PORTAIL_LOCK_PASSWORD) &&
        member_refuse_if_locked(ctx, *db, m->id) != 0)
        return -1;
    return member_totp_active(ctx, m);
}

static int totp_signed_in(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    return member_signed_in(ctx, db, *(const int64_t *)arg, "totp");
}

void login_totp_step(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *code = portail_json_str(login_body(ctx), "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db;
    member_rec_t m;
    if (second_factor_start(ctx, &db, &m) != 0)
        return;
    signin_who_t who = member_who(&m, 1);
    if (signin_totp(ctx, &who, code, totp_signed_in, &m.id) != 1)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "ok"));
}

typedef struct recovery_tx {
    const member_rec_t *m;
    const unsigned char *digest;
    int used;
    long long remaining;
} recovery_tx_t;

/* The recovery code spent, the event, the mail and the sign-in: together,
 * rerun on a 1213/1205. A code that is not one (or already used) writes
 * nothing here: its failure is counted by signin_code_failed. */
static int recovery_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    recovery_tx_t *t = arg;
    const member_rec_t *m = t->m;
    long long n = portail_db_exec(db,
                                  "UPDATE member_recovery_codes SET used_at = UTC_TIMESTAMP() "
                                  "WHERE member_id = ? AND code_hash = ? AND used_at IS NULL",
                                  "lb", (long long)m->id, t->digest, (size_t)PORTAIL_DIGEST_BYTES);
    if (n < 0) {
        login_internal(ctx, "recovery code lookup failed");
        return -1;
    }
    t->used = n > 0;
    if (!t->used)
        return 0;
    json_t *left = portail_db_row(db,
                                  "SELECT COUNT(*) AS n FROM member_recovery_codes "
                                  "WHERE member_id = ? AND used_at IS NULL",
                                  "l", (long long)m->id);
    t->remaining = left ? portail_row_int(left, "n", 0) : 0;
    if (member_event(ctx, m->id, "recovery_code_used",
                     portail_sprintf(portail_arena(ctx), "%lld restants", t->remaining)) != 0 ||
        member_mail(ctx, db, m->email, "recovery_code_used",
                    (const char *const[]){"where", login_where(ctx), "remaining",
                                          portail_sprintf(portail_arena(ctx), "%lld", t->remaining),
                                          NULL}) != 0)
        return -1;
    return member_signed_in(ctx, db, m->id, "recovery_code");
}

void login_recovery_step(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *code = portail_json_str(login_body(ctx), "code", 1, RECOVERY_INPUT_MAX, &errors);
    char norm[RECOVERY_CHARS + 1];
    if (code && login_code_normalize(code, norm) != 0)
        portail_field_error(&errors, "code", TXT_LOGIN_CODE_DE_SECOURS_FORMAT);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db;
    member_rec_t m;
    if (second_factor_start(ctx, &db, &m) != 0)
        return;
    unsigned char digest[PORTAIL_DIGEST_BYTES];
    if (portail_secret_digest(ctx, norm, digest) != 0)
        return;
    recovery_tx_t t = {.m = &m, .digest = digest};
    if (portail_tx_retry(ctx, recovery_tx, &t) != 0) {
        return;
    }
    if (!t.used) {
        signin_code_failed(ctx, &(signin_who_t){.kind = PORTAIL_PRINCIPAL_MEMBER, .id = m.id},
                           "recovery_code_failed");
        return;
    }
    long long remaining = t.remaining;
    portail_respond_json(
        ctx, 200,
        json_pack("{s:s, s:I}", "status", "ok", "recovery_codes_left", (json_int_t)remaining));
}
