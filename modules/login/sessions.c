/* Module login: a signed-in member's session and account view: logout,
 * GET /api/v1/me, the list of open sessions and the revocation of one or of
 * all but the current one. */
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include <portail/texts.h>

/* ---- POST /api/v1/logout ---------------------------------------------------------------- */

void login_logout(portail_ctx_t *ctx)
{
    if (portail_session_end(ctx) != 0)
        return;
    portail_respond_empty(ctx, 204);
}

/* ---- GET /api/v1/me ---------------------------------------------------------------------- */
/* Every page of the member's space asks for it: one statement (the member
 * and the sign-in before this session's, a one-row derived table), written
 * straight from the row (portail_db_rows_json). */
static int me_member(portail_jw_t *w, portail_dbrow_t *row, void *arg)
{
    (void)arg;
    static const char *const later[] = {"totp_enabled", "recovery_codes_left", "at", "ip",
                                        "country",      "user_agent",          NULL};
    if (portail_jw_open(w, '{') != 0 || portail_dbrow_fields(w, row, later) != 0 ||
        portail_jw_key(w, "totp_enabled") != 0 ||
        portail_jw_bool(w, portail_dbrow_int(row, "totp_enabled", 0) == 1) != 0 ||
        portail_dbrow_field(w, row, "recovery_codes_left", "recovery_codes_left") != 0 ||
        portail_jw_key(w, "last_sign_in") != 0)
        return -1;
    /* The current sign-in is not news: the member sees when and from what
     * their account was opened before it. */
    if (portail_dbrow_null(row, "at"))
        return portail_jw_null(w);
    if (portail_jw_open(w, '{') != 0 || portail_dbrow_field(w, row, "at", "at") != 0 ||
        portail_dbrow_field(w, row, "ip", "ip") != 0 ||
        portail_dbrow_field(w, row, "country", "country") != 0 ||
        portail_dbrow_field(w, row, "user_agent", "user_agent") != 0)
        return -1;
    return portail_jw_close(w, '}');
}

void login_me(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const portail_principal_t *p = portail_principal(ctx);
    portail_jw_t *w = portail_jw_new(portail_arena(ctx));
    long long n = portail_db_rows_json(
        db, w, me_member, NULL,
        "SELECT m.id, i.nir, i.first_name, i.last_name, i.birth_date, m.email, i.fund, "
        "m.totp_enabled_at IS NOT NULL AS totp_enabled, "
        "(SELECT COUNT(*) FROM member_recovery_codes r WHERE r.member_id = m.id "
        "AND r.used_at IS NULL) AS recovery_codes_left, l.at, l.ip, l.country, l.user_agent "
        "FROM members m JOIN insured i ON i.id = m.insured_id "
        "LEFT JOIN (SELECT e.created_at AS at, e.ip, e.country, e.user_agent "
        "FROM security_events e WHERE e.member_id = ? AND e.kind = ? AND e.created_at < "
        "(SELECT s.created_at FROM sessions s WHERE s.id = ?) ORDER BY e.id DESC LIMIT 1) l "
        "ON TRUE WHERE m.id = ?",
        "lsll", (long long)p->id, PORTAIL_EVENT_SIGN_IN, (long long)p->session_id,
        (long long)p->id);
    if (n != 1) {
        login_internal(ctx, n < 0 ? "me: query failed" : "me: member not found");
        return;
    }
    portail_jw_close(w, '}');
    portail_respond_jw(ctx, 200, w);
}

/* ---- GET /api/v1/sessions, DELETE /api/v1/sessions/{id}, POST .../revoke-others ---------- */

void login_sessions(portail_ctx_t *ctx)
{
    json_t *list = portail_sessions_list(ctx);
    if (!list) {
        if (!portail_responded(ctx))
            login_internal(ctx, "sessions list failed");
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "sessions", list));
}

void login_session_revoke(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    int64_t member = portail_principal(ctx)->id;
    int rc = portail_session_revoke(ctx, id);
    if (rc < 0) {
        if (!portail_responded(ctx))
            login_internal(ctx, "session revoke failed");
        return;
    }
    if (rc == 1) {
        portail_problem(ctx, 404, NULL, TXT_LOGIN_SESSION_INCONNUE);
        return;
    }
    if (portail_security_event(ctx, member, "session_revoked", NULL) != 0)
        portail_log_error(ctx, "login: event not recorded");
    portail_respond_empty(ctx, 204);
}

/* Every other device signed out at once (a lost phone, a shared computer):
 * the current session stays, each other device is told why at its next
 * request, and the member's activity shows one event with the count. */
void login_sessions_revoke_others(portail_ctx_t *ctx)
{
    int64_t member = portail_principal(ctx)->id;
    long long n = portail_sessions_revoke_others(ctx);
    if (n < 0) {
        if (!portail_responded(ctx))
            login_internal(ctx, "sessions revoke-others failed");
        return;
    }
    if (portail_security_event(ctx, member, "sessions_revoked_others",
                               portail_sprintf(portail_arena(ctx), "%lld", n)) != 0)
        portail_log_error(ctx, "login: event not recorded");
    portail_respond_json(ctx, 200, json_pack("{s:I}", "revoked", (json_int_t)n));
}
