/* Module login: what a signed-in member changes with the current password
 * again: the password itself, and the second factor (TOTP reset). Wrong
 * current passwords are counted in a window and end in a "suspicious"
 * lock. */

#include "login.h"
#include <portail/texts.h>

/* ---- POST /api/v1/password/change and /api/v1/totp/reset -------------------------------- */

typedef struct recheck_tx {
    const member_rec_t *m;
    const char *what, *key;
    int wait;
} recheck_tx_t;

/* A wrong current password: counted in the window, recorded, and the
 * "suspicious" lock at the threshold, rerun together on a 1213/1205. */
static int recheck_failed_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    recheck_tx_t *t = arg;
    const login_state_t *st = login_settings(ctx);
    t->wait = portail_throttle_hit(db, t->key, st->password_change_window_s,
                                   st->max_password_change_failures);
    if (t->wait < 0) {
        login_internal(ctx, "recheck throttle failed");
        return -1;
    }
    if (member_event(ctx, t->m->id, t->what, TXT_LOGIN_MOTIF_MOT_DE_PASSE_ACTUEL_INCORRECT) != 0)
        return -1;
    if (t->wait > 0 && portail_account_lock(ctx, t->m->id, PORTAIL_LOCK_SUSPICIOUS,
                                            TXT_LOGIN_MOTIF_MOTS_DE_PASSE_ACTUELS_REPETES) != 0) {
        login_internal(ctx, "lock failed");
        return -1;
    }
    return 0;
}

/* Re-checks the member's password (also account.c). 1 right; 0 wrong (answered: 401, or 423
 * when this failure makes too many in the window); -1 answered (error). */
int login_password_recheck(portail_ctx_t *ctx, const member_rec_t *m, const char *password,
                           const char *what)
{
    int ok = portail_password_verify(ctx, m->password_hash, password);
    if (ok < 0)
        return -1;
    if (ok)
        return 1;
    recheck_tx_t t = {.m = m,
                      .what = what,
                      .key =
                          login_key(ctx, "password-recheck",
                                    portail_sprintf(portail_arena(ctx), "%lld", (long long)m->id))};
    if (portail_tx_retry(ctx, recheck_failed_tx, &t) != 0) {
        return -1;
    }
    if (t.wait > 0) {
        portail_session_end(ctx);
        login_respond_locked(ctx, PORTAIL_LOCK_SUSPICIOUS);
        return 0;
    }
    portail_problem(ctx, 401, TXT_LOGIN_MOT_DE_PASSE_INCORRECT_TITRE,
                    TXT_LOGIN_MOT_DE_PASSE_ACTUEL_INCORRECT);
    return 0;
}

typedef struct pwchange_tx {
    portail_ctx_t *ctx;
    const member_rec_t *m;
    const char *hash;
} pwchange_tx_t;

static int pwchange_tx(portail_db_t *db, void *arg)
{
    const pwchange_tx_t *t = arg;
    portail_ctx_t *ctx = t->ctx;
    if (portail_db_exec(db,
                        "UPDATE members SET password_hash = ?, updated_at = UTC_TIMESTAMP() "
                        "WHERE id = ?",
                        "sl", t->hash, (long long)t->m->id) != 1 ||
        /* The other devices are told why at their next request. */
        portail_sessions_revoke_all_why(ctx, db, PORTAIL_PRINCIPAL_MEMBER, t->m->id,
                                        portail_principal(ctx)->session_id, "other_device") < 0 ||
        portail_security_event(ctx, t->m->id, "password_changed", NULL) != 0 ||
        portail_mail_template(db, portail_arena(ctx), t->m->email, "password_changed",
                              (const char *const[]){"where", login_where(ctx), NULL}) != 0)
        return -1;
    return 0;
}

void login_password_change(portail_ctx_t *ctx)
{
    json_t *b = login_body(ctx), *errors = NULL;
    const char *current = portail_json_str(b, "current", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    const char *fresh = portail_json_str(b, "new", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || member_current(ctx, db, &m) != 0)
        return;
    if (login_password_recheck(ctx, &m, current, "password_change_failed") != 1)
        return;
    const char *context[] = {m.nir, m.birth_date, m.first_name, m.last_name, NULL};
    const char *weak = portail_password_problem(ctx, fresh, context);
    if (weak) {
        portail_field_error(&errors, "new", weak);
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *hash = NULL;
    if (portail_password_hash(ctx, fresh, &hash) != 0)
        return;
    pwchange_tx_t t = {ctx, &m, hash};
    /* Everything below is rows only (the mail is queued in the outbox), so a
     * deadlock or a Galera certification conflict just runs it again. */
    if (portail_db_tx_retry(db, pwchange_tx, &t, NULL) != 0) {
        login_internal(ctx, "password change failed");
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "changed"));
}

/* The second factor off, the other sessions out, the re-enrolment link
 * issued and mailed: together, rerun on a 1213/1205. */
static int totp_reset_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const member_rec_t *m = arg;
    /* The password alone must not put a new authenticator on the account:
     * enrolment waits for the link mailed to the address on file. */
    if (portail_db_exec(db,
                        "UPDATE members SET totp_secret = NULL, totp_enabled_at = NULL, "
                        "totp_last_step = NULL, totp_pending = NULL, totp_pending_at = NULL, "
                        "totp_reenrol_required_at = UTC_TIMESTAMP(), "
                        "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        "l", (long long)m->id) != 1 ||
        portail_db_exec(db, "DELETE FROM member_recovery_codes WHERE member_id = ?", "l",
                        (long long)m->id) < 0 ||
        portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_MEMBER, m->id,
                                    portail_principal(ctx)->session_id) < 0) {
        login_internal(ctx, "totp reset failed");
        return -1;
    }
    const char *token = NULL;
    if (portail_token_issue(db, portail_arena(ctx), LOGIN_REENROL_PURPOSE, m->id, NULL,
                            LOGIN_REENROL_TTL_S, &token) != 0) {
        login_internal(ctx, "re-enrolment token not issued");
        return -1;
    }
    if (member_event(ctx, m->id, "totp_reset", NULL) != 0 ||
        member_mail(ctx, db, m->email, "totp_disabled",
                    (const char *const[]){
                        "where", login_where(ctx), "hours",
                        portail_sprintf(portail_arena(ctx), "%d", LOGIN_REENROL_TTL_S / 3600),
                        "link", login_link(ctx, "/double-authentification.html", token), NULL}) !=
            0)
        return -1;
    return 0;
}

void login_totp_reset(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *password =
        portail_json_str(login_body(ctx), "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || member_current(ctx, db, &m) != 0)
        return;
    if (login_password_recheck(ctx, &m, password, "totp_reset_failed") != 1)
        return;
    if (portail_tx_retry(ctx, totp_reset_tx, &m) != 0) {
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:s}", "next", "totp_enroll"));
}
