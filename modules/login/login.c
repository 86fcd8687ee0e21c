/* Module login: member registration, sign-in with password then TOTP (or a
 * recovery code), sessions, password and TOTP changes, and the agents'
 * sign-in and enrolment. The rules (docs/api.md, README "Module login"):
 *
 * - no enumeration: unknown NIR and wrong password give the same 401 after
 *   the same Argon2id work; registration always answers 202 alike;
 * - a lock reason is shown only after the right password;
 * - thresholds are settings: consecutive wrong passwords and wrong codes
 *   lock the account (counted apart), a right password from a country not
 *   seen lately locks it (or only notifies), repeated wrong passwords in
 *   password/change lock it, and a client address over its failure budget
 *   gets 429 before any account counter moves;
 * - every outcome is a security event; every change the member must know
 *   of is a mail, queued in the transaction of the change.
 *
 * Files: login.c (routes, settings, shared helpers), then a member's life:
 * register.c, signin.c (the password and code steps, shared with agents),
 * enrol.c, sessions.c, password.c, with member.c (what they share);
 * agent.c (back-office handlers), store.c (SQL helpers). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include <portail/texts.h>

#define BODY_MAX 4096

/* ---- routes ---------------------------------------------------------------- */

static const portail_route_t routes[] = {
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/register",
     .handler = login_register,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/register/confirm",
     .handler = login_register_confirm,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/register/confirm/check",
     .handler = login_register_check,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/login",
     .handler = login_password_step,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    /* Partial or member session without TOTP: the handlers check. */
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/totp/enroll",
     .handler = login_totp_enroll_show,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/totp/enroll",
     .handler = login_totp_enroll_confirm,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/login/totp",
     .handler = login_totp_step,
     .auth = PORTAIL_AUTH_PARTIAL,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/login/recovery",
     .handler = login_recovery_step,
     .auth = PORTAIL_AUTH_PARTIAL,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/logout",
     .handler = login_logout,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/me",
     .handler = login_me,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/sessions",
     .handler = login_sessions,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/sessions/revoke-others",
     .handler = login_sessions_revoke_others,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_DELETE,
     .pattern = "/api/v1/sessions/{id}",
     .handler = login_session_revoke,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/password/change",
     .handler = login_password_change,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/totp/reset",
     .handler = login_totp_reset,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/account/activity",
     .handler = login_account_activity,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/account/export",
     .handler = login_account_export,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/account/close",
     .handler = login_account_close,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    /* Partial or member session: the handler checks. */
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/totp/reenrol",
     .handler = login_totp_reenrol,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/totp/recovery-codes",
     .handler = login_recovery_codes_renew,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/totp/change",
     .handler = login_totp_change_request,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/totp/change/start",
     .handler = login_totp_change_start,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/totp/change/confirm",
     .handler = login_totp_change_confirm,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/login",
     .handler = login_agent_password_step,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    /* A partial agent session reaches only public routes: the handler
     * checks the principal itself. */
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/login/totp",
     .handler = login_agent_totp_step,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/enroll",
     .handler = login_agent_enroll,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/enroll/totp",
     .handler = login_agent_enroll_totp,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_MAX},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/me",
     .handler = login_agent_me,
     .auth = PORTAIL_AUTH_AGENT,
     .body_max = BODY_MAX},
    {0},
};

/* ---- settings ---------------------------------------------------------------- */

static const char *const country_modes[] = {"lock", "notify", NULL};

static const portail_setting_t settings[] = {
    {.name = "max_password_failures",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 100,
     .def_int = 5,
     .on_pages = 1},
    {.name = "max_code_failures",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 100,
     .def_int = 5,
     .on_pages = 1},
    {.name = "max_failures_after_lock",
     .type = PORTAIL_SETTING_INT,
     .min = 0,
     .max = 20,
     .def_int = 3},
    {.name = "device_max_failures", .type = PORTAIL_SETTING_INT, .min = 1, .max = 20, .def_int = 5},
    {.name = "device_days", .type = PORTAIL_SETTING_INT, .min = 1, .max = 400, .def_int = 180},
    {.name = "max_password_change_failures",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 100,
     .def_int = 3,
     .on_pages = 1},
    {.name = "password_change_window_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 60,
     .max = 7 * 86400,
     .def_int = 3600},
    {.name = "new_country",
     .type = PORTAIL_SETTING_STRING,
     .min = 4,
     .max = 6,
     .def_str = "lock",
     .choices = country_modes},
    {.name = "country_memory_days",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 3650,
     .def_int = 90},
    {.name = "ip_max_failures",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 1000000,
     .def_int = 20},
    {.name = "ip_window_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 86400,
     .def_int = 600},
    {.name = "register_ttl_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 60,
     .max = 86400,
     .def_int = 1800},
    {.name = "register_ip_max",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 1000000,
     .def_int = 30},
    {.name = "register_mails_per_hour",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 100,
     .def_int = 3},
    {.name = "register_failures_max",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 1000,
     .def_int = 5},
    {.name = "register_failure_window_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 60,
     .max = 604800,
     .def_int = 86400},
    {.name = "register_code_days", .type = PORTAIL_SETTING_INT, .min = 1, .max = 90, .def_int = 30},
    {.name = "enrol_pending_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 60,
     .max = 86400,
     .def_int = 900},
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    login_state_t *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "login: out of memory");
        return -1;
    }
    st->max_password_failures = (int)portail_settings_int(s, "max_password_failures");
    st->max_code_failures = (int)portail_settings_int(s, "max_code_failures");
    st->max_failures_after_lock = (int)portail_settings_int(s, "max_failures_after_lock");
    st->device_max_failures = (int)portail_settings_int(s, "device_max_failures");
    st->device_days = (int)portail_settings_int(s, "device_days");
    st->max_password_change_failures = (int)portail_settings_int(s, "max_password_change_failures");
    st->password_change_window_s = (int)portail_settings_int(s, "password_change_window_seconds");
    st->new_country = strcmp(portail_settings_str(s, "new_country"), "notify") == 0
                          ? NEW_COUNTRY_NOTIFY
                          : NEW_COUNTRY_LOCK;
    st->country_memory_days = (int)portail_settings_int(s, "country_memory_days");
    st->ip_max_failures = (int)portail_settings_int(s, "ip_max_failures");
    st->ip_window_s = (int)portail_settings_int(s, "ip_window_seconds");
    st->register_ttl_s = (int)portail_settings_int(s, "register_ttl_seconds");
    st->register_ip_max = (int)portail_settings_int(s, "register_ip_max");
    st->register_mails_per_hour = (int)portail_settings_int(s, "register_mails_per_hour");
    st->register_failures_max = (int)portail_settings_int(s, "register_failures_max");
    st->register_failure_window_s = (int)portail_settings_int(s, "register_failure_window_seconds");
    st->register_code_ttl_s = (int)portail_settings_int(s, "register_code_days") * 86400;
    st->enrol_pending_s = (int)portail_settings_int(s, "enrol_pending_seconds");
    if (sodium_init() < 0) {
        free(st);
        snprintf(err, errlen, "login: libsodium initialisation failed");
        return -1;
    }
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

static const portail_job_kind_t jobs[] = {
    {.name = LOGIN_LETTER_JOB, .handler = login_register_letter_job},
    {0},
};

PORTAIL_MODULE_INIT(.name = "login", .version = "1.0.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes, .jobs = jobs);

/* ---- helpers shared by the handlers ---------------------------------------- */

json_t *login_body(portail_ctx_t *ctx)
{
    json_t *b = portail_req_json(ctx);
    return json_is_object(b) ? b : NULL;
}

const login_state_t *login_settings(portail_ctx_t *ctx)
{
    return portail_module_state(ctx);
}

int login_fields_done(portail_ctx_t *ctx, json_t *errors)
{
    if (!errors)
        return 0;
    portail_problem_fields(ctx, errors);
    return -1;
}

void login_internal(portail_ctx_t *ctx, const char *what)
{
    if (what)
        portail_log_error(ctx, "login: %s", what);
    portail_problem(ctx, 500, NULL, TXT_LOGIN_ERREUR_SURVENUE);
}

int login_link_spend(portail_ctx_t *ctx, portail_db_t *db, const char *purpose, const char *token,
                     const char *gone)
{
    int rc = portail_token_consume(db, portail_arena(ctx), purpose, token, NULL, NULL);
    if (rc == PORTAIL_TOKEN_OK)
        return 0;
    if (rc < 0)
        login_internal(ctx, "token consume failed");
    else
        portail_problem(ctx, 410, NULL, gone);
    return -1;
}

const char *login_key(portail_ctx_t *ctx, const char *prefix, const char *suffix)
{
    return portail_sprintf(portail_arena(ctx), "%s:%.64s", prefix, suffix ? suffix : "");
}

const char *login_secret_key(portail_ctx_t *ctx, const char *prefix, const char *secret)
{
    unsigned char d[PORTAIL_DIGEST_BYTES];
    char hex[PORTAIL_DIGEST_BYTES + 1];
    if (portail_secret_digest(ctx, secret, d) != 0)
        return NULL;
    sodium_bin2hex(hex, sizeof hex, d, PORTAIL_DIGEST_BYTES / 2);
    return login_key(ctx, prefix, hex);
}

int login_ip_blocked(portail_ctx_t *ctx, portail_db_t *db)
{
    const login_state_t *st = portail_module_state(ctx);
    int wait = portail_throttle_check(db, login_key(ctx, "login-ip", portail_client(ctx)->ip),
                                      st->ip_window_s, st->ip_max_failures);
    if (wait < 0) {
        login_internal(ctx, "throttle check failed");
        return -1;
    }
    if (wait == 0)
        return 0;
    portail_log_warn(ctx, "login: client address over its failure budget");
    int minutes = (wait + 59) / 60;
    portail_problem_retry(ctx, 429, wait, NULL,
                          portail_sprintf(portail_arena(ctx), TXT_LOGIN_TROP_DE_TENTATIVES, minutes,
                                          minutes > 1 ? "s" : ""));
    return 1;
}

void login_ip_failure(portail_ctx_t *ctx, portail_db_t *db)
{
    const login_state_t *st = portail_module_state(ctx);
    if (portail_throttle_hit(db, login_key(ctx, "login-ip", portail_client(ctx)->ip),
                             st->ip_window_s, st->ip_max_failures) < 0)
        portail_log_error(ctx, "login: per-address failure not counted");
}

void login_respond_locked(portail_ctx_t *ctx, portail_lock_reason_t reason)
{
    portail_lock_respond(ctx, PORTAIL_PRINCIPAL_MEMBER, reason);
}

int login_code_format(portail_ctx_t *ctx, const char *code)
{
    if (portail_totp_code_ok(code))
        return 0;
    json_t *errors = NULL;
    portail_field_error(&errors, "code", TXT_LOGIN_CODE_6_CHIFFRES);
    portail_problem_fields(ctx, errors);
    return -1;
}

json_t *login_enrolment_body(portail_ctx_t *ctx, const char *label, const char *base32)
{
    portail_arena_t *a = portail_arena(ctx);
    const char *uri = portail_totp_uri(a, label, base32);
    const char *svg = uri ? portail_qr_svg(a, uri) : NULL;
    if (!svg) {
        login_internal(ctx, "QR code not drawn");
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s}", "secret_base32", base32, "otpauth_uri", uri, "qr_svg", svg);
}

const char *login_link(portail_ctx_t *ctx, const char *path, const char *token)
{
    return portail_sprintf(portail_arena(ctx), "%s%s?token=%s", portail_origin(ctx), path, token);
}

int login_check_enrolment_code(portail_ctx_t *ctx, const unsigned char *sealed, size_t len,
                               const char *code, long long *step)
{
    int rc = portail_totp_verify(ctx, sealed, len, -1, code, step);
    if (rc < 0)
        return -1;
    if (rc != PORTAIL_TOTP_OK) {
        json_t *errors = NULL;
        portail_field_error(&errors, "code", TXT_LOGIN_CODE_FAUX_VERIFIEZ_HEURE);
        portail_problem_fields(ctx, errors);
        return -1;
    }
    return 0;
}

void login_code_new(char raw[RECOVERY_CHARS + 1], char shown[RECOVERY_CHARS + 2])
{
    for (int k = 0; k < RECOVERY_CHARS; k++)
        raw[k] = RECOVERY_ALPHABET[randombytes_uniform(sizeof RECOVERY_ALPHABET - 1)];
    raw[RECOVERY_CHARS] = '\0';
    snprintf(shown, RECOVERY_CHARS + 2, "%.5s-%.5s", raw, raw + 5);
}

int login_code_normalize(const char *in, char out[RECOVERY_CHARS + 1])
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        if (n == RECOVERY_CHARS || !strchr(RECOVERY_ALPHABET, c))
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == RECOVERY_CHARS ? 0 : -1;
}
