/* Module login: the back office. Agents sign in with login, password and a
 * mandatory TOTP code; they get their first password and their TOTP secret
 * through a one-time enrolment link printed by `portailctl agent add`. An
 * agent's failures and lock live on the agents row (the account security
 * service is the members'), and the events go to the audit log. */
#include <string.h>

#include "login.h"

#define LOGIN_MAX 64
#define TOKEN_MAX 64
#define CODE_INPUT_MAX 32

static const char WRONG_CREDENTIALS[] = "L'identifiant ou le mot de passe est incorrect.";

static json_t *body(portail_ctx_t *ctx)
{
    json_t *b = portail_req_json(ctx);
    return json_is_object(b) ? b : NULL;
}

static const login_state_t *settings_of(portail_ctx_t *ctx)
{
    return portail_module_state(ctx);
}

static int audit(portail_ctx_t *ctx, portail_db_t *db, int64_t agent_id, const char *action,
                 const char *reason)
{
    if (store_agent_audit(ctx, db, agent_id, action, reason) == 0)
        return 0;
    login_internal(ctx, "agent audit not recorded");
    return -1;
}

static void respond_agent_locked(portail_ctx_t *ctx, const char *reason)
{
    int code = reason && strcmp(reason, "second_factor") == 0;
    const char *text = code ? "Votre accès a été bloqué après plusieurs codes de sécurité "
                              "incorrects."
                            : "Votre accès a été bloqué après plusieurs mots de passe "
                              "incorrects.";
    portail_problem(ctx, 423, NULL, text);
    portail_problem_extra(ctx, "reason", json_string(code ? "second_factor" : "password"));
    portail_problem_extra(ctx, "reason_text", json_string(text));
    portail_problem_extra(
        ctx, "steps",
        json_pack("[{s:s, s:s}]", "kind", "wait_agent", "text",
                  "Demandez à un superviseur de réinitialiser votre accès : vous recevrez un "
                  "nouveau lien d'enrôlement."));
}

/* ---- POST /api/v1/backoffice/login ------------------------------------------------------ */

void login_agent_password_step(portail_ctx_t *ctx)
{
    const login_state_t *st = settings_of(ctx);
    json_t *b = body(ctx), *errors = NULL;
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
    int known = found == 1 && ag.password_hash;
    int ok = portail_password_verify(ctx, known ? ag.password_hash : NULL, password);
    if (ok < 0)
        return;
    if (!ok) {
        login_ip_failure(ctx, db);
        if (known) {
            if (login_begin(ctx, db) != 0)
                return;
            int n = store_agent_count(db, ag.id, 0);
            if (n < 0) {
                login_internal(ctx, "agent counter failed");
                return;
            }
            if (audit(ctx, db, ag.id, "login_failed", "mot de passe incorrect") != 0)
                return;
            if (n >= st->max_password_failures &&
                (store_agent_lock(db, ag.id, "password") != 0 ||
                 audit(ctx, db, ag.id, "locked", "mots de passe incorrects") != 0)) {
                login_internal(ctx, "agent lock failed");
                return;
            }
            if (login_commit(ctx, db) != 0)
                return;
        }
        portail_log_info(ctx, "backoffice login: wrong credentials");
        portail_problem(ctx, 401, "Identifiants incorrects", WRONG_CREDENTIALS);
        return;
    }
    if (ag.lock_reason) {
        respond_agent_locked(ctx, ag.lock_reason);
        return;
    }
    if (store_agent_reset_counters(db, ag.id, 0) != 0) {
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

static void agent_code_failed(portail_ctx_t *ctx, portail_db_t *db, const agent_rec_t *ag,
                              int replay)
{
    const login_state_t *st = settings_of(ctx);
    login_ip_failure(ctx, db);
    if (login_begin(ctx, db) != 0)
        return;
    int n = store_agent_count(db, ag->id, 1);
    if (n < 0) {
        login_internal(ctx, "agent counter failed");
        return;
    }
    if (audit(ctx, db, ag->id, replay ? "totp_replayed" : "totp_failed", NULL) != 0)
        return;
    if (replay && ag->email &&
        portail_mail_template(db, portail_arena(ctx), ag->email, "agent_totp_replayed", NULL) !=
            0) {
        login_internal(ctx, "mail not queued");
        return;
    }
    int locked = n >= st->max_code_failures;
    if (locked && (store_agent_lock(db, ag->id, "second_factor") != 0 ||
                   audit(ctx, db, ag->id, "locked", "codes incorrects") != 0 ||
                   portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_AGENT, ag->id, 0) < 0)) {
        login_internal(ctx, "agent lock failed");
        return;
    }
    if (login_commit(ctx, db) != 0)
        return;
    if (locked) {
        portail_session_end(ctx);
        respond_agent_locked(ctx, "second_factor");
        return;
    }
    portail_problem(ctx, 401, "Code incorrect",
                    "Le code saisi est incorrect ou a déjà été utilisé.");
}

void login_agent_totp_step(portail_ctx_t *ctx)
{
    const portail_principal_t *p = portail_principal(ctx);
    if (p->kind != PORTAIL_PRINCIPAL_AGENT || p->level != PORTAIL_AUTH_PARTIAL) {
        portail_problem(ctx, 401, NULL,
                        "Saisissez d'abord votre identifiant et votre mot de passe.");
        return;
    }
    json_t *errors = NULL;
    const char *code = portail_json_str(body(ctx), "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db || login_ip_blocked(ctx, db) != 0)
        return;
    agent_rec_t ag;
    int found =
        store_agent_by_id(db, portail_arena(ctx), p->id, settings_of(ctx)->enrol_pending_s, &ag);
    if (found <= 0) {
        if (found < 0) {
            login_internal(ctx, "agent lookup failed");
            return;
        }
        portail_session_end(ctx);
        portail_problem(ctx, 401, NULL, "Votre session a expiré. Veuillez vous reconnecter.");
        return;
    }
    if (ag.lock_reason) {
        portail_session_end(ctx);
        respond_agent_locked(ctx, ag.lock_reason);
        return;
    }
    if (!ag.totp_secret) {
        portail_problem(ctx, 409, NULL,
                        "Votre accès n'est pas encore enrôlé : suivez le lien d'enrôlement reçu.");
        return;
    }
    long long step = -1;
    int rc = portail_totp_verify(ctx, ag.totp_secret, ag.totp_secret_len, ag.totp_last_step, code,
                                 &step);
    if (rc < 0)
        return;
    if (rc == PORTAIL_TOTP_OK) {
        if (login_begin(ctx, db) != 0)
            return;
        int fresh = store_agent_totp_step(db, ag.id, step);
        if (fresh < 0) {
            login_internal(ctx, "totp step not recorded");
            return;
        }
        if (fresh) {
            if (store_agent_reset_counters(db, ag.id, 1) != 0) {
                login_internal(ctx, "agent counter reset failed");
                return;
            }
            if (audit(ctx, db, ag.id, "login", NULL) != 0 ||
                portail_session_elevate(ctx, PORTAIL_AUTH_AGENT) != 0 || login_commit(ctx, db) != 0)
                return;
            portail_respond_json(ctx, 200,
                                 json_pack("{s:s, s:s}", "status", "ok", "role", ag.role));
            return;
        }
        portail_db_rollback(db);
        rc = PORTAIL_TOTP_REPLAY;
    }
    agent_code_failed(ctx, db, &ag, rc == PORTAIL_TOTP_REPLAY);
}

/* ---- enrolment: POST /api/v1/backoffice/enroll and /enroll/totp --------------------------- */

static void link_gone(portail_ctx_t *ctx)
{
    portail_problem(ctx, 410, NULL,
                    "Ce lien d'enrôlement n'est plus valide (il a expiré ou a déjà servi). "
                    "Demandez-en un nouveau à un superviseur.");
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
                                                           settings_of(ctx)->enrol_pending_s, ag)
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
    json_t *b = body(ctx), *errors = NULL;
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

void login_agent_enroll_totp(portail_ctx_t *ctx)
{
    json_t *b = body(ctx), *errors = NULL;
    const char *token = portail_json_str(b, "token", 1, TOKEN_MAX, &errors);
    const char *code = portail_json_str(b, "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    agent_rec_t ag;
    if (!db || enrolment_agent(ctx, db, token, &ag) != 0)
        return;
    if (!ag.totp_pending || !ag.pending_password_hash) {
        portail_problem(ctx, 409, NULL,
                        "Choisissez d'abord votre mot de passe : l'étape précédente n'a pas été "
                        "faite ou a expiré.");
        return;
    }
    long long step = -1;
    if (login_check_enrolment_code(ctx, ag.totp_pending, ag.totp_pending_len, code, &step) != 0)
        return;
    if (login_begin(ctx, db) != 0)
        return;
    int rc = portail_token_consume(db, portail_arena(ctx), "agent-enrol", token, NULL, NULL);
    if (rc != PORTAIL_TOKEN_OK) {
        if (rc < 0)
            login_internal(ctx, "token consume failed");
        else
            link_gone(ctx);
        return;
    }
    long long n =
        portail_db_exec(db,
                        "UPDATE agents SET password_hash = pending_password_hash, "
                        "totp_secret = totp_pending, totp_enabled_at = UTC_TIMESTAMP(), "
                        "totp_last_step = ?, totp_pending = NULL, totp_pending_at = NULL, "
                        "pending_password_hash = NULL, password_failures = 0, "
                        "second_factor_failures = 0, lock_reason = NULL, locked_at = NULL "
                        "WHERE id = ? AND totp_pending = ?",
                        "llb", step, (long long)ag.id, ag.totp_pending, ag.totp_pending_len);
    if (n != 1) {
        if (n < 0)
            login_internal(ctx, "enrolment not stored");
        else
            portail_problem(ctx, 409, NULL, "L'enrôlement a changé entre-temps : recommencez.");
        return;
    }
    if (portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_AGENT, ag.id, 0) < 0) {
        login_internal(ctx, "agent sessions not revoked");
        return;
    }
    if (audit(ctx, db, ag.id, "enrolled", NULL) != 0 || login_commit(ctx, db) != 0)
        return;
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
        portail_problem(ctx, 403, NULL, "Ce compte d'agent est désactivé.");
        return;
    }
    portail_respond_json(ctx, 200, json_incref(row));
}
