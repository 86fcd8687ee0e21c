/* Module login: what the member handlers share. The handlers follow a
 * member's life, one file each: register.c (register, confirm), signin.c
 * (password, then TOTP or a recovery code), enrol.c (TOTP enrolment),
 * sessions.c (logout, me, sessions), password.c (password change, TOTP
 * reset). */
#include <string.h>

#include "login.h"
#include <portail/texts.h>

/* ---- checks and lookups ------------------------------------------------------ */

/* The core's NIR validator (portail_valid_nir) on the body's "nir", then,
 * when birth is a valid date, that the two agree. */
const char *member_nir_field(portail_ctx_t *ctx, json_t *body, const char *birth, json_t **errors)
{
    const char *nir =
        portail_json_valid(portail_arena(ctx), body, "nir", 1, portail_valid_nir, errors);
    const char *msg = NULL;
    if (nir && birth && portail_nir_check(nir, birth, &msg) != 0) {
        portail_field_error(errors, "birth_date", msg);
        return NULL;
    }
    return nir;
}

/* "2 85 03 ** *** *** 82" shape, for the authenticator app's label: enough
 * for the member to recognise the account, not the whole number. */
const char *member_masked_nir(portail_ctx_t *ctx, const char *nir)
{
    if (!nir || strlen(nir) != 15)
        return "assure";
    return portail_sprintf(portail_arena(ctx), "%c%c%c**********%c%c", nir[0], nir[1], nir[2],
                           nir[13], nir[14]);
}

/* The member behind a partial or member session; 401 set when gone. */
int member_current(portail_ctx_t *ctx, portail_db_t *db, member_rec_t *m)
{
    const portail_principal_t *p = portail_principal(ctx);
    int rc =
        store_member_by_id(db, portail_arena(ctx), p->id, login_settings(ctx)->enrol_pending_s, m);
    if (rc < 0) {
        login_internal(ctx, "member lookup failed");
        return -1;
    }
    if (rc == 0 || !m->password_hash) {
        portail_session_end(ctx);
        portail_problem(ctx, 401, NULL, TXT_SESSION_SESSION_EXPIREE);
        return -1;
    }
    return 0;
}

/* 0 not locked; 1 locked (423 set); -1 error (500 set). */
int member_refuse_if_locked(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id)
{
    portail_account_state_t as;
    if (portail_account_state(db, portail_arena(ctx), member_id, &as) != 0) {
        login_internal(ctx, "account state failed");
        return -1;
    }
    if (as.reason == PORTAIL_LOCK_NONE)
        return 0;
    login_respond_locked(ctx, as.reason);
    return 1;
}

int member_totp_active(portail_ctx_t *ctx, const member_rec_t *m)
{
    if (m->totp_secret)
        return 0;
    portail_problem(ctx, 409, NULL, TXT_LOGIN_DOUBLE_AUTHENTIFICATION_PAS_ACTIVEE);
    portail_problem_extra(ctx, "next", json_string("totp_enroll"));
    return -1;
}

/* The mail of template (mail/<template>.txt) to the member. */
int member_mail(portail_ctx_t *ctx, portail_db_t *db, const char *to, const char *template,
                const char *const *vars)
{
    if (portail_mail_template(db, portail_arena(ctx), to, template, vars) == 0)
        return 0;
    login_internal(ctx, "mail not queued");
    return -1;
}

/* "depuis l'adresse 203.0.113.7 (FR)" for mails about an attempt. */
const char *login_where(portail_ctx_t *ctx)
{
    const portail_client_t *cl = portail_client(ctx);
    portail_arena_t *a = portail_arena(ctx);
    const char *ip = portail_clip_utf8(a, cl->ip, 45);
    if (!ip)
        return "";
    if (cl->country && *cl->country)
        return portail_sprintf(a, " depuis l'adresse %s (pays : %s)", ip, cl->country);
    return portail_sprintf(a, " depuis l'adresse %s", ip);
}

int member_event(portail_ctx_t *ctx, int64_t member_id, const char *kind, const char *detail)
{
    if (portail_security_event(ctx, member_id, kind, detail) == 0)
        return 0;
    login_internal(ctx, "security event not recorded");
    return -1;
}
