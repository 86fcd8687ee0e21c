/* Module login: a signed-in member changes phone or renews the recovery
 * codes (issue 15). Both take the password again (the same counter as
 * password/change and totp/reset). Changing phone also takes a single-use
 * link mailed to the address on file: the new authenticator is shown from
 * that link, and replaces the old one only once a code from it is right;
 * until then the old one still signs in. */
#include "login.h"
#include <portail/texts.h>

/* The link of a phone change (token purpose, life, page). */
#define CHANGE_PURPOSE "totp_change"
#define CHANGE_TTL_S (30 * 60)
#define CHANGE_PAGE "/compte/changer-de-telephone.html"

/* ---- POST /api/v1/totp/recovery-codes {password} ------------------------------------------ */

typedef struct renew_tx {
    const member_rec_t *m;
    json_t *codes; /* of the attempt that committed */
} renew_tx_t;

/* The new codes, the event and the mail: together, rerun on a 1213/1205
 * (each attempt draws its own codes: only the committed ones are shown). */
static int renew_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    renew_tx_t *t = arg;
    t->codes = portail_arena_json(portail_arena(ctx), json_array());
    if (login_recovery_codes_new(ctx, db, t->m->id, t->codes) != 0 ||
        member_event(ctx, t->m->id, "recovery_codes_renewed", NULL) != 0 ||
        member_mail(ctx, db, t->m->email, "recovery_codes_renewed",
                    (const char *const[]){"where", login_where(ctx), NULL}) != 0)
        return -1;
    return 0;
}

void login_recovery_codes_renew(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *password =
        portail_json_str(login_body(ctx), "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || member_current(ctx, db, &m) != 0 || member_totp_active(ctx, &m) != 0 ||
        login_password_recheck(ctx, &m, password, "recovery_codes_failed") != 1)
        return;
    renew_tx_t t = {.m = &m};
    if (portail_tx_retry(ctx, renew_tx, &t) != 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:O}", "recovery_codes", t.codes));
}

/* ---- POST /api/v1/totp/change {password}: the link by mail ---------------------------------- */

/* The link, the event and its mail: together, rerun on a 1213/1205 (each
 * attempt issues its own link: only the committed one is mailed). */
static int change_request_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const member_rec_t *m = arg;
    const char *token = NULL;
    if (portail_token_issue(db, portail_arena(ctx), CHANGE_PURPOSE, m->id, NULL, CHANGE_TTL_S,
                            &token) != 0) {
        login_internal(ctx, "phone change token not issued");
        return -1;
    }
    if (member_event(ctx, m->id, "totp_change_requested", NULL) != 0 ||
        member_mail(
            ctx, db, m->email, "totp_change_link",
            (const char *const[]){"where", login_where(ctx), "minutes",
                                  portail_sprintf(portail_arena(ctx), "%d", CHANGE_TTL_S / 60),
                                  "link", login_link(ctx, CHANGE_PAGE, token), NULL}) != 0)
        return -1;
    return 0;
}

void login_totp_change_request(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *password =
        portail_json_str(login_body(ctx), "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || member_current(ctx, db, &m) != 0 || member_totp_active(ctx, &m) != 0 ||
        login_password_recheck(ctx, &m, password, "totp_change_failed") != 1)
        return;
    if (portail_tx_retry(ctx, change_request_tx, &m) != 0)
        return;
    portail_respond_json(ctx, 202, json_pack("{s:s}", "status", "sent"));
}

/* The signed-in member with an active TOTP, and the link of the body is
 * theirs and live (peeked, not spent): 0; else -1 answered (410 for a
 * forged, used, expired or another member's link: the same answer). */
static int change_start(portail_ctx_t *ctx, portail_db_t **db, member_rec_t *m, const char **token,
                        const char **code)
{
    json_t *b = login_body(ctx), *errors = NULL;
    *token = portail_json_str(b, "token", 1, TOKEN_MAX, &errors);
    if (code)
        *code = portail_json_str(b, "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || (code && login_code_format(ctx, *code) != 0))
        return -1;
    *db = portail_db(ctx);
    if (!*db || member_current(ctx, *db, m) != 0 || member_refuse_if_locked(ctx, *db, m->id) != 0 ||
        member_totp_active(ctx, m) != 0)
        return -1;
    int64_t subject = 0;
    int rc = portail_token_peek(*db, portail_arena(ctx), CHANGE_PURPOSE, *token, &subject, NULL);
    if (rc < 0) {
        login_internal(ctx, "token lookup failed");
        return -1;
    }
    if (rc == PORTAIL_TOKEN_OK && subject == m->id)
        return 0;
    portail_problem(ctx, 410, NULL, TXT_LOGIN_LIEN_CHANGEMENT_TELEPHONE_INVALIDE);
    return -1;
}

/* ---- POST /api/v1/totp/change/start {token}: the new secret --------------------------------- */

void login_totp_change_start(portail_ctx_t *ctx)
{
    portail_db_t *db;
    member_rec_t m;
    const char *token;
    if (change_start(ctx, &db, &m, &token, NULL) != 0)
        return;
    login_pending_secret_respond(ctx, db, &m, 1);
}

/* ---- POST /api/v1/totp/change/confirm {token, code} ----------------------------------------- */

typedef struct change_tx {
    const member_rec_t *m;
    const char *token;
    long long step;
} change_tx_t;

/* The link spent, the new secret active, the other sessions out, the event
 * and the mail: together, rerun on a 1213/1205. */
static int change_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const change_tx_t *t = arg;
    const member_rec_t *m = t->m;
    if (login_link_spend(ctx, db, CHANGE_PURPOSE, t->token, TXT_LOGIN_LIEN_VIENT_DE_SERVIR) != 0)
        return -1;
    if (login_pending_secret_activate(ctx, db, m, t->step, 1) != 0)
        return -1;
    /* The old phone no longer signs in: nor do the sessions opened with it. */
    if (portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_MEMBER, m->id,
                                    portail_principal(ctx)->session_id) < 0) {
        login_internal(ctx, "sessions not ended");
        return -1;
    }
    return member_event(ctx, m->id, "totp_changed", NULL) != 0 ||
                   member_mail(ctx, db, m->email, "totp_changed",
                               (const char *const[]){"where", login_where(ctx), NULL}) != 0
               ? -1
               : 0;
}

void login_totp_change_confirm(portail_ctx_t *ctx)
{
    portail_db_t *db;
    member_rec_t m;
    const char *token, *code;
    if (change_start(ctx, &db, &m, &token, &code) != 0)
        return;
    if (!m.totp_pending) {
        portail_problem(ctx, 409, NULL, TXT_LOGIN_AUCUN_CHANGEMENT_EN_COURS);
        return;
    }
    long long step = -1;
    if (login_check_enrolment_code(ctx, m.totp_pending, m.totp_pending_len, code, &step) != 0)
        return;
    change_tx_t t = {.m = &m, .token = token, .step = step};
    if (portail_tx_retry(ctx, change_tx, &t) != 0) {
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "changed"));
}
