/* Module login: the back office. Agents sign in with login, password and a
 * mandatory TOTP code; they get their first password and their TOTP secret
 * through a one-time enrolment link printed by `portailctl agent add`. The
 * password and code steps are the members' (signin.c) with the agent's
 * lookups: counters and locks are the core's account-security service
 * (PORTAIL_PRINCIPAL_AGENT), the events go to the audit log. */
#include <string.h>

#include "login.h"
#include <portail/texts.h>

#define LOGIN_MAX 64

static const char WRONG_CREDENTIALS[] = TXT_LOGIN_AGENT_IDENTIFIANT_INCORRECT;

static int audit(portail_ctx_t *ctx, int64_t agent_id, const char *action, const char *reason)
{
    if (portail_principal_event(ctx, PORTAIL_PRINCIPAL_AGENT, agent_id, action, reason) == 0)
        return 0;
    login_internal(ctx, "agent audit not recorded");
    return -1;
}

static signin_who_t agent_who(const agent_rec_t *ag, int found)
{
    return (signin_who_t){.kind = PORTAIL_PRINCIPAL_AGENT,
                          .id = found == 1 ? ag->id : 0,
                          .password_hash = found == 1 ? ag->password_hash : NULL,
                          .totp_secret = found == 1 ? ag->totp_secret : NULL,
                          .totp_secret_len = found == 1 ? ag->totp_secret_len : 0,
                          .totp_last_step = found == 1 ? ag->totp_last_step : -1,
                          .email = found == 1 ? ag->email : NULL,
                          .replay_mail = "agent_totp_replayed",
                          .wrong_credentials = WRONG_CREDENTIALS,
                          .record_step = store_agent_totp_step};
}

/* ---- POST /api/v1/backoffice/login ------------------------------------------------------ */

void login_agent_password_step(portail_ctx_t *ctx)
{
    const login_state_t *st = login_settings(ctx);
    json_t *b = login_body(ctx), *errors = NULL;
    const char *login = portail_json_str(b, "login", 1, LOGIN_MAX, &errors);
    const char *password = portail_json_str(b, "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    if (portail_password_busy(ctx))
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db || login_ip_blocked(ctx, db) != 0)
        return;
    agent_rec_t ag;
    int found = store_agent_by_login(db, portail_arena(ctx), login, st->enrol_pending_s, &ag);
    if (found < 0) {
        login_internal(ctx, "agent lookup failed");
        return;
    }
    signin_who_t who = agent_who(&ag, found);
    if (signin_password(ctx, db, &who, password) != 1 ||
        signin_refuse_if_locked(ctx, db, &who) != 0)
        return;
    if (portail_principal_reset_counter(db, PORTAIL_PRINCIPAL_AGENT, ag.id,
                                        PORTAIL_COUNTER_PASSWORD) != 0) {
        login_internal(ctx, "agent counter reset failed");
        return;
    }
    if (portail_session_start(ctx, PORTAIL_PRINCIPAL_AGENT, ag.id, PORTAIL_AUTH_PARTIAL, ag.role) !=
        0)
        return;
    portail_respond_json(ctx, 200,
                         json_pack("{s:s}", "next", ag.totp_secret ? "totp" : "totp_enroll"));
}

/* ---- POST /api/v1/backoffice/login/totp ---------------------------------------------------- */

static int agent_signed_in(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    return signin_complete(ctx, db, arg, "login", NULL, PORTAIL_AUTH_AGENT);
}

void login_agent_totp_step(portail_ctx_t *ctx)
{
    const portail_principal_t *p = portail_principal(ctx);
    if (p->kind != PORTAIL_PRINCIPAL_AGENT || p->level != PORTAIL_AUTH_PARTIAL) {
        portail_problem(ctx, 401, NULL, TXT_LOGIN_AGENT_IDENTIFIANT_D_ABORD);
        return;
    }
    json_t *errors = NULL;
    const char *code = portail_json_str(login_body(ctx), "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db || login_ip_blocked(ctx, db) != 0)
        return;
    agent_rec_t ag;
    int found =
        store_agent_by_id(db, portail_arena(ctx), p->id, login_settings(ctx)->enrol_pending_s, &ag);
    if (found <= 0) {
        if (found < 0) {
            login_internal(ctx, "agent lookup failed");
            return;
        }
        portail_session_end(ctx);
        portail_problem(ctx, 401, NULL, TXT_SESSION_SESSION_EXPIREE);
        return;
    }
    signin_who_t who = agent_who(&ag, found);
    int locked = signin_refuse_if_locked(ctx, db, &who);
    if (locked != 0) {
        if (locked == 1)
            portail_session_end(ctx);
        return;
    }
    if (!ag.totp_secret) {
        portail_problem(ctx, 409, NULL, TXT_LOGIN_AGENT_PAS_ENCORE_ENROLE);
        return;
    }
    if (signin_totp(ctx, &who, code, agent_signed_in, &who) != 1)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:s, s:s}", "status", "ok", "role", ag.role));
}

/* ---- enrolment: POST /api/v1/backoffice/enroll and /enroll/totp --------------------------- */

static void link_gone(portail_ctx_t *ctx)
{
    portail_problem(ctx, 410, NULL, TXT_LOGIN_AGENT_LIEN_ENROLEMENT_INVALIDE);
}

/* The agent a live enrolment link names; 0 go on, -1 answered. */
static int enrolment_agent(portail_ctx_t *ctx, portail_db_t *db, const char *token, agent_rec_t *ag)
{
    int64_t id = 0;
    int rc = portail_token_peek(db, portail_arena(ctx), "agent-enrol", token, &id, NULL);
    if (rc < 0) {
        login_internal(ctx, "token lookup failed");
        return -1;
    }
    int found = rc == PORTAIL_TOKEN_OK ? store_agent_by_id(db, portail_arena(ctx), id,
                                                           login_settings(ctx)->enrol_pending_s, ag)
                                       : 0;
    if (found < 0) {
        login_internal(ctx, "agent lookup failed");
        return -1;
    }
    if (found == 0) {
        link_gone(ctx);
        return -1;
    }
    return 0;
}

void login_agent_enroll(portail_ctx_t *ctx)
{
    json_t *b = login_body(ctx), *errors = NULL;
    const char *token = portail_json_str(b, "token", 1, TOKEN_MAX, &errors);
    const char *password = portail_json_str(b, "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    agent_rec_t ag;
    if (!db || enrolment_agent(ctx, db, token, &ag) != 0)
        return;
    const char *context[] = {ag.login, ag.display_name, NULL};
    const char *weak = portail_password_problem(ctx, password, context);
    if (weak) {
        portail_field_error(&errors, "password", weak);
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *hash = NULL;
    if (portail_password_hash(ctx, password, &hash) != 0)
        return;
    portail_totp_secret_t s;
    if (portail_totp_new(ctx, &s) != 0)
        return;
    /* Nothing is active yet: the password and the secret wait for a code
     * proving the agent's app has the secret. */
    if (portail_db_exec(db,
                        "UPDATE agents SET pending_password_hash = ?, totp_pending = ?, "
                        "totp_pending_at = UTC_TIMESTAMP() WHERE id = ?",
                        "sbl", hash, s.sealed, s.sealed_len, (long long)ag.id) != 1) {
        login_internal(ctx, "pending enrolment not stored");
        return;
    }
    json_t *out = login_enrolment_body(ctx, ag.login, s.base32);
    if (out)
        portail_respond_json(ctx, 200, out);
}

typedef struct agent_enrol_tx {
    const agent_rec_t *ag;
    const char *token;
    long long step;
} agent_enrol_tx_t;

/* The link spent, password and secret active, the agent's lock lifted, its
 * sessions ended, the audit row: together, rerun on a 1213/1205. */
static int agent_enrol_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const agent_enrol_tx_t *t = arg;
    const agent_rec_t *ag = t->ag;
    if (login_link_spend(ctx, db, "agent-enrol", t->token,
                         TXT_LOGIN_AGENT_LIEN_ENROLEMENT_INVALIDE) != 0)
        return -1;
    long long n =
        portail_db_exec(db,
                        "UPDATE agents SET password_hash = pending_password_hash, "
                        "totp_secret = totp_pending, totp_enabled_at = UTC_TIMESTAMP(), "
                        "totp_last_step = ?, totp_pending = NULL, totp_pending_at = NULL, "
                        "pending_password_hash = NULL WHERE id = ? AND totp_pending = ?",
                        "llb", t->step, (long long)ag->id, ag->totp_pending, ag->totp_pending_len);
    if (n != 1) {
        if (n < 0)
            login_internal(ctx, "enrolment not stored");
        else
            portail_problem(ctx, 409, NULL, TXT_LOGIN_AGENT_ENROLEMENT_CHANGE);
        return -1;
    }
    /* A new enrolment is the way out of an agent's lock. */
    if (portail_principal_unlock(ctx, PORTAIL_PRINCIPAL_AGENT, ag->id, "system", "enrolment") < 0 ||
        portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_AGENT, ag->id, 0) < 0) {
        login_internal(ctx, "agent sessions not revoked");
        return -1;
    }
    return audit(ctx, ag->id, "enrolled", NULL) != 0 ? -1 : 0;
}

void login_agent_enroll_totp(portail_ctx_t *ctx)
{
    json_t *b = login_body(ctx), *errors = NULL;
    const char *token = portail_json_str(b, "token", 1, TOKEN_MAX, &errors);
    const char *code = portail_json_str(b, "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    agent_rec_t ag;
    if (!db || enrolment_agent(ctx, db, token, &ag) != 0)
        return;
    if (!ag.totp_pending || !ag.pending_password_hash) {
        portail_problem(ctx, 409, NULL, TXT_LOGIN_AGENT_MOT_DE_PASSE_D_ABORD);
        return;
    }
    long long step = -1;
    if (login_check_enrolment_code(ctx, ag.totp_pending, ag.totp_pending_len, code, &step) != 0)
        return;
    agent_enrol_tx_t t = {.ag = &ag, .token = token, .step = step};
    if (portail_tx_retry(ctx, agent_enrol_tx, &t) != 0) {
        return;
    }
    portail_log_info(ctx, "agent %lld enrolled", (long long)ag.id);
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "ok"));
}

/* ---- GET /api/v1/backoffice/me -------------------------------------------------------------- */

void login_agent_me(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *row = portail_db_row(db,
                                 "SELECT id, login, display_name, role FROM agents "
                                 "WHERE id = ? AND disabled_at IS NULL",
                                 "l", (long long)portail_principal(ctx)->id);
    if (!row) {
        if (portail_db_failed(db)) {
            login_internal(ctx, "agent lookup failed");
            return;
        }
        portail_problem(ctx, 403, NULL, TXT_LOGIN_AGENT_DESACTIVE);
        return;
    }
    portail_respond_json(ctx, 200, json_incref(row));
}
