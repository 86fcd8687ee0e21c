/* Module unlock: every way out of an account lock.
 *
 * Members: "forgot password" (NIR + birth date + e-mail, a reset link by
 * mail), the reset itself, the confirmation link of an account update, and
 * the lock page's status. Agents (backoffice.c): find a member by NIR, read
 * the security events, lock and unlock with a reason, and for supervisors
 * the audit log. Locks, counters, events, tokens, throttles and mails are
 * core services; this module only decides who may use which way out.
 *
 * Order: settings and routes, init, member handlers, then the SQL helpers. */
#include <portail/nir.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unlock.h"
#include <portail/texts.h>

static const portail_setting_t settings[] = {
    /* "forgot password" requests per client address and window */
    {.name = "forgot_ip_max", .type = PORTAIL_SETTING_INT, .min = 1, .max = 10000, .def_int = 20},
    {.name = "forgot_ip_window_s",
     .type = PORTAIL_SETTING_INT,
     .min = 60,
     .max = 86400,
     .def_int = 3600},
    /* per NIR, matching an account or not (so the 429 tells nothing) */
    {.name = "forgot_account_max", .type = PORTAIL_SETTING_INT, .min = 1, .max = 100, .def_int = 3},
    {.name = "forgot_account_window_s",
     .type = PORTAIL_SETTING_INT,
     .min = 60,
     .max = 86400,
     .def_int = 3600},
    {.name = "reset_link_ttl_s",
     .type = PORTAIL_SETTING_INT,
     .min = 300,
     .max = 86400,
     .def_int = 1800},
    /* largest ?limit= of the back office's lists */
    {.name = "page_max", .type = PORTAIL_SETTING_INT, .min = 10, .max = 500, .def_int = 100},
    {0},
};

static void forgot_password(portail_ctx_t *ctx);
static void reset_password(portail_ctx_t *ctx);
static void verify_account(portail_ctx_t *ctx);
static void check_reset(portail_ctx_t *ctx);
static void check_verify(portail_ctx_t *ctx);
static void unlock_status(portail_ctx_t *ctx);

#define BODY_SMALL ((size_t)4096)

static const portail_route_t routes[] = {
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/password/forgot",
     .handler = forgot_password,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_SMALL},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/password/reset",
     .handler = reset_password,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_SMALL},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/password/reset/check",
     .handler = check_reset,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_SMALL},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/account/verify",
     .handler = verify_account,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_SMALL},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/account/verify/check",
     .handler = check_verify,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = BODY_SMALL},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/unlock/status",
     .handler = unlock_status,
     .auth = PORTAIL_AUTH_PARTIAL},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/members",
     .handler = bo_member_find,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "members.read",
     .audit = "member_view"},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/members/{id}/events",
     .handler = bo_member_events,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "members.read",
     .audit = "member_events"},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/members/{id}/unlock",
     .handler = bo_member_unlock,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "members.lock",
     .body_max = BODY_SMALL},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/members/{id}/lock",
     .handler = bo_member_lock,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "members.lock",
     .body_max = BODY_SMALL},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/audit",
     .handler = bo_audit,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "audit.read"},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/audit/export",
     .handler = bo_audit_export,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "audit.read",
     .audit = "audit_export"},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/insured",
     .handler = bo_insured_search,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "members.read",
     .audit = "member_search"},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/members/{id}/history",
     .handler = bo_member_history,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "members.read",
     .audit = "member_history"},
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    struct unlock_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "unlock: out of memory");
        return -1;
    }
    st->forgot_ip_max = (int)portail_settings_int(s, "forgot_ip_max");
    st->forgot_ip_window_s = (int)portail_settings_int(s, "forgot_ip_window_s");
    st->forgot_account_max = (int)portail_settings_int(s, "forgot_account_max");
    st->forgot_account_window_s = (int)portail_settings_int(s, "forgot_account_window_s");
    st->reset_link_ttl_s = (int)portail_settings_int(s, "reset_link_ttl_s");
    st->page_max = (int)portail_settings_int(s, "page_max");
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

/* The back office's menu (GET /api/v1/portal): each page behind the
 * permission its routes require, so an agent never sees a link it cannot use. */
static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = TXT_UNLOCK_MENU_RECHERCHER_ASSURE,
     .href = "/backoffice/recherche.html",
     .permission = "members.read",
     .order = 10},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = TXT_UNLOCK_MENU_JOURNAL_AUDIT,
     .href = "/backoffice/audit.html",
     .permission = "audit.read",
     .order = 90},
    {0},
};

PORTAIL_MODULE_INIT(.name = "unlock", .version = "1.0.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes, .nav = nav);

/* ---- texts ------------------------------------------------------------------ */

/* What the answer to a reset says when the new password is not enough. */
static const char *still_locked_text(portail_ctx_t *ctx, portail_lock_reason_t reason)
{
    if (reason == PORTAIL_LOCK_PENDING_VERIFICATION)
        return portail_sprintf(portail_arena(ctx),
                               TXT_UNLOCK_MOT_DE_PASSE_MODIFIE_COMPTE_BLOQUE_VERIFICATION,
                               portail_call_fund(0));
    return portail_sprintf(portail_arena(ctx), TXT_UNLOCK_MOT_DE_PASSE_MODIFIE_COMPTE_BLOQUE,
                           portail_call_fund(0));
}

void unlock_fail(portail_ctx_t *ctx)
{
    if (!portail_responded(ctx))
        portail_problem(ctx, 500, NULL, NULL);
}

/* ---- throttles --------------------------------------------------------------- */

/* 0 when every key is under its limit (each is then counted); otherwise the
 * 429 with Retry-After (or a 500) is set and nothing is counted. */
static int throttle_pass(portail_ctx_t *ctx, portail_db_t *db, const char *const keys[2],
                         const int windows[2], const int maxes[2])
{
    for (int i = 0; i < 2; i++) {
        int wait = portail_throttle_check(db, keys[i], windows[i], maxes[i]);
        if (wait < 0) {
            unlock_fail(ctx);
            return -1;
        }
        if (wait > 0) {
            portail_problem_retry(ctx, 429, wait, NULL, TXT_UNLOCK_TROP_DE_DEMANDES);
            return -1;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (portail_throttle_hit(db, keys[i], windows[i], maxes[i]) < 0) {
            unlock_fail(ctx);
            return -1;
        }
    }
    return 0;
}

/* The throttle key of a NIR: a hash, so that the table holds no NIR. */
static const char *nir_key(portail_arena_t *a, const char *nir)
{
    unsigned char h[16];
    char hex[2 * sizeof h + 1];
    crypto_generichash(h, sizeof h, (const unsigned char *)nir, strlen(nir), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return portail_sprintf(a, "forgot-nir:%s", hex);
}

/* ---- SQL helpers (bottom of the file) ---------------------------------------- */

static json_t *member_by_identity(portail_db_t *db, const char *nir, const char *birth_date,
                                  const char *email);
static json_t *member_context(portail_db_t *db, int64_t member_id);
static int set_password(portail_db_t *db, int64_t member_id, const char *hash);

/* ---- POST /api/v1/password/forgot {nir, birth_date, email} -------------------
 * Always the same 202 whether the three match an account or not; the link
 * goes by mail only when they do. Throttled per client address and per NIR
 * (matching or not: the 429 tells nothing either). */
static void send_reset_link(portail_ctx_t *ctx, portail_db_t *db, const json_t *member);

static void forgot_password(portail_ctx_t *ctx)
{
    const struct unlock_state *st = portail_module_state(ctx);
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    portail_arena_t *a = portail_arena(ctx);
    const char *nir = portail_json_valid(a, body, "nir", 1, portail_valid_nir, &errors);
    const char *birth =
        portail_json_valid(a, body, "birth_date", 1, portail_valid_birth_date, &errors);
    const char *email = portail_json_valid(a, body, "email", 1, portail_valid_email, &errors);
    const char *msg = NULL;
    if (nir && birth && portail_nir_check(nir, birth, &msg) != 0)
        portail_field_error(&errors, "nir", msg);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }

    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const char *ip = portail_clip_utf8(portail_arena(ctx), portail_client(ctx)->ip, 45);
    const char *keys[2] = {portail_sprintf(portail_arena(ctx), "forgot-ip:%s", ip ? ip : ""),
                           nir_key(portail_arena(ctx), nir)};
    const int windows[2] = {st->forgot_ip_window_s, st->forgot_account_window_s};
    const int maxes[2] = {st->forgot_ip_max, st->forgot_account_max};
    if (throttle_pass(ctx, db, keys, windows, maxes) != 0)
        return;

    json_t *member = member_by_identity(db, nir, birth, email);
    if (!member && portail_db_failed(db)) {
        unlock_fail(ctx);
        return;
    }
    if (member)
        send_reset_link(ctx, db, member);
    portail_respond_json(ctx, 202, json_pack("{s:s}", "status", "pending"));
}

typedef struct link_tx {
    portail_ctx_t *ctx;
    const json_t *member;
    int64_t id;
} link_tx_t;

/* The link, its mail and the event: together, rerun on a 1213/1205 (each
 * attempt issues its own link: only the committed one is mailed). Through
 * portail_db_tx_retry, not portail_tx_retry: a failure must not answer. */
static int link_tx(portail_db_t *db, void *arg)
{
    const link_tx_t *t = arg;
    portail_ctx_t *ctx = t->ctx;
    const struct unlock_state *st = portail_module_state(ctx);
    const char *token = NULL;
    if (portail_token_issue(db, portail_arena(ctx), "reset", t->id, NULL, st->reset_link_ttl_s,
                            &token) != 0)
        return -1;
    const char *const vars[] = {
        "minutes", portail_sprintf(portail_arena(ctx), "%d", st->reset_link_ttl_s / 60), "link",
        portail_sprintf(portail_arena(ctx), "%s/mot-de-passe/reinitialisation.html?token=%s",
                        portail_origin(ctx), token),
        NULL};
    if (portail_mail_template(db, portail_arena(ctx), portail_row_str(t->member, "email"),
                              "password_reset_link", vars) != 0 ||
        portail_security_event(ctx, t->id, "password_reset_requested", NULL) != 0)
        return -1;
    return 0;
}

/* A failure here is logged and the answer stays the 202: a 500 only for
 * the triples that match would tell who has an account. */
static void send_reset_link(portail_ctx_t *ctx, portail_db_t *db, const json_t *member)
{
    link_tx_t t = {.ctx = ctx, .member = member, .id = portail_row_int(member, "id", 0)};
    if (portail_db_tx_retry(db, link_tx, &t, NULL) != 0) {
        portail_log_error(ctx, "member %lld: reset link not sent", (long long)t.id);
        return;
    }
    portail_log_info(ctx, "member %lld: reset link sent", (long long)t.id);
}

/* ---- POST /api/v1/password/reset {token, password} ---------------------------
 * The link's token is only peeked at until the password passes the rules,
 * so a refused password does not spend the link. Lifts the password and
 * second-factor locks (core rule of portail_account_unlock "reset"), ends
 * every session, mails a confirmation; the other locks stay. */
static const char reset_gone[] = TXT_UNLOCK_LIEN_REINITIALISATION_INVALIDE;

typedef struct reset_tx {
    const char *token, *hash;
    json_t *member;
    int64_t id;
    portail_account_state_t after;
    const char *still; /* what the answer and the mail say of a lock left, or NULL */
} reset_tx_t;

/* The link spent, the password set, the lock lifted, the sessions ended and
 * the confirmation mailed: together, rerun on a 1213/1205 (a Galera
 * conflict with a sign-in counting a failure on the same account). */
static int reset_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    reset_tx_t *t = arg;
    int rc = portail_token_consume(db, portail_arena(ctx), "reset", t->token, &t->id, NULL);
    if (rc != PORTAIL_TOKEN_OK) { /* used meanwhile by a concurrent request */
        if (rc < 0)
            unlock_fail(ctx);
        else
            portail_problem(ctx, 410, NULL, reset_gone);
        return -1;
    }
    if (set_password(db, t->id, t->hash) != 0 ||
        portail_account_unlock(ctx, t->id, "reset", NULL) < 0 ||
        portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_MEMBER, t->id, 0) < 0 ||
        portail_security_event(ctx, t->id, "password_reset", NULL) != 0 ||
        portail_account_state(db, portail_arena(ctx), t->id, &t->after) != 0) {
        unlock_fail(ctx);
        return -1;
    }
    t->still =
        t->after.reason != PORTAIL_LOCK_NONE ? still_locked_text(ctx, t->after.reason) : NULL;
    const char *const vars[] = {
        "still_locked",
        t->still ? portail_sprintf(portail_arena(ctx), "%s\n%s\n\n",
                                   portail_lock_reason_text(t->after.reason), t->still)
                 : "",
        NULL};
    if (portail_mail_template(db, portail_arena(ctx), portail_row_str(t->member, "email"),
                              "password_reset_done", vars) != 0) {
        unlock_fail(ctx);
        return -1;
    }
    return 0;
}

static void reset_password(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    const char *token = portail_json_str(body, "token", 1, 128, &errors);
    const char *password = portail_json_str(body, "password", 1, 1024, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int64_t id = 0;
    int rc = portail_token_peek(db, portail_arena(ctx), "reset", token, &id, NULL);
    if (rc < 0) {
        unlock_fail(ctx);
        return;
    }
    json_t *member = rc == PORTAIL_TOKEN_OK ? member_context(db, id) : NULL;
    if (!member) {
        if (portail_db_failed(db))
            unlock_fail(ctx);
        else
            portail_problem(ctx, 410, NULL, reset_gone);
        return;
    }

    const char *context[] = {portail_row_str(member, "nir"), portail_row_str(member, "birth_date"),
                             portail_row_str(member, "first_name"),
                             portail_row_str(member, "last_name"), NULL};
    const char *problem = portail_password_problem(ctx, password, context);
    if (problem) {
        portail_field_error(&errors, "password", problem);
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *hash = NULL;
    if (portail_password_hash(ctx, password, &hash) != 0)
        return; /* 500 or 503 set */

    reset_tx_t t = {.token = token, .hash = hash, .member = member};
    if (portail_tx_retry(ctx, reset_tx, &t) != 0) {
        return;
    }
    id = t.id;
    portail_account_state_t after = t.after;
    int still = t.still != NULL;
    const char *detail = still ? t.still : TXT_UNLOCK_MOT_DE_PASSE_MODIFIE;
    portail_log_info(ctx, "member %lld: password reset (%s)", (long long)id,
                     still ? "still locked" : "not locked");
    portail_respond_json(ctx, 200,
                         json_pack("{s:s, s:b, s:s, s:s?, s:o}", "status", "reset", "still_locked",
                                   still, "detail", detail, "reason",
                                   still ? portail_lock_reason_name(after.reason) : NULL, "steps",
                                   portail_lock_reason_steps_json(after.reason)));
}

/* A spent or unknown verification link. */
static const char *verify_gone(portail_ctx_t *ctx)
{
    return portail_sprintf(portail_arena(ctx), TXT_UNLOCK_LIEN_CONFIRMATION_INVALIDE,
                           portail_call_fund(0));
}

typedef struct verify_tx {
    const char *token;
    portail_account_state_t after;
} verify_tx_t;

static int verify_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    verify_tx_t *t = arg;
    int64_t id = 0;
    const char *data = NULL;
    int rc = portail_token_consume(db, portail_arena(ctx), "verify", t->token, &id, &data);
    if (rc != PORTAIL_TOKEN_OK) {
        if (rc < 0)
            unlock_fail(ctx);
        else
            portail_problem(ctx, 410, NULL, verify_gone(ctx));
        return -1;
    }
    json_t *d = data ? portail_arena_json(portail_arena(ctx), json_loads(data, 0, NULL)) : NULL;
    const char *what = json_string_value(json_object_get(d, "what"));
    if (portail_account_unlock(ctx, id, "verification", what) < 0 ||
        portail_security_event(ctx, id, "account_update_confirmed", what) != 0 ||
        portail_account_state(db, portail_arena(ctx), id, &t->after) != 0) {
        unlock_fail(ctx);
        return -1;
    }
    return 0;
}

/* ---- POST /api/v1/account/verify {token} -------------------------------------
 * The link mailed by portail_account_request_verification: confirms the
 * update and lifts a pending_verification lock (and only that one). */
static void verify_account(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    const char *token = portail_json_str(body, "token", 1, 128, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    verify_tx_t t = {.token = token};
    if (portail_tx_retry(ctx, verify_tx, &t) != 0) {
        return;
    }
    portail_account_state_t after = t.after;
    int still = after.reason != PORTAIL_LOCK_NONE;
    portail_respond_json(ctx, 200,
                         json_pack("{s:s, s:b, s:s}", "status", "verified", "still_locked", still,
                                   "detail",
                                   still ? TXT_UNLOCK_MODIFICATION_CONFIRMEE_COMPTE_BLOQUE
                                         : TXT_UNLOCK_MODIFICATION_CONFIRMEE_COMPTE_DEBLOQUE));
}

/* ---- POST /api/v1/password/reset/check, /api/v1/account/verify/check {token} --
 * Whether a mailed link would still work, without spending it: what the
 * page says as soon as it opens. The same lookup as the spending routes
 * (the token's hash, by index: no timing on the secret) and nothing more
 * than they tell: 200 {status: "valid"}, or their 410 (expired, used,
 * unknown; for a reset, the member gone too). */
static void check_link(portail_ctx_t *ctx, const char *purpose, const char *gone)
{
    json_t *errors = NULL;
    const char *token = portail_json_str(portail_req_json(ctx), "token", 1, 128, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int64_t id = 0;
    int rc = portail_token_peek(db, portail_arena(ctx), purpose, token, &id, NULL);
    if (rc < 0) {
        unlock_fail(ctx);
        return;
    }
    if (rc == PORTAIL_TOKEN_OK && strcmp(purpose, "reset") == 0 && !member_context(db, id)) {
        if (portail_db_failed(db)) {
            unlock_fail(ctx);
            return;
        }
        rc = PORTAIL_TOKEN_UNKNOWN;
    }
    if (rc != PORTAIL_TOKEN_OK) {
        portail_problem(ctx, 410, NULL, gone);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "valid"));
}

static void check_reset(portail_ctx_t *ctx)
{
    check_link(ctx, "reset", reset_gone);
}

static void check_verify(portail_ctx_t *ctx)
{
    check_link(ctx, "verify", verify_gone(ctx));
}

/* ---- GET /api/v1/unlock/status (partial session) -----------------------------
 * The lock page: a partial session proves the right password, so the
 * reason may be shown. */
static void unlock_status(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    portail_account_state_t st;
    if (portail_account_state(db, portail_arena(ctx), portail_principal(ctx)->id, &st) != 0) {
        unlock_fail(ctx);
        return;
    }
    int locked = st.reason != PORTAIL_LOCK_NONE;
    portail_respond_json(ctx, 200,
                         json_pack("{s:b, s:s?, s:s, s:s?, s:o}", "locked", locked, "reason",
                                   locked ? portail_lock_reason_name(st.reason) : NULL,
                                   "reason_text", portail_lock_reason_text(st.reason), "since",
                                   st.locked_at, "steps",
                                   portail_lock_reason_steps_json(st.reason)));
}

/* ---- SQL helpers ------------------------------------------------------------- */

/* The member whose NIR, birth date and e-mail (case-insensitive) are these. */
static json_t *member_by_identity(portail_db_t *db, const char *nir, const char *birth_date,
                                  const char *email)
{
    return portail_db_row(db,
                          "SELECT m.id, m.email FROM members m "
                          "JOIN insured i ON i.id = m.insured_id "
                          "WHERE i.nir = ? AND i.birth_date = ? AND m.email = ?",
                          "sss", nir, birth_date, email);
}

/* E-mail and the words a password must not contain. */
static json_t *member_context(portail_db_t *db, int64_t member_id)
{
    return portail_db_row(db,
                          "SELECT m.email, i.nir, i.birth_date, i.first_name, i.last_name "
                          "FROM members m JOIN insured i ON i.id = m.insured_id WHERE m.id = ?",
                          "l", (long long)member_id);
}

static int set_password(portail_db_t *db, int64_t member_id, const char *hash)
{
    return portail_db_exec(db,
                           "UPDATE members SET password_hash = ?, updated_at = UTC_TIMESTAMP() "
                           "WHERE id = ?",
                           "sl", hash, (long long)member_id) == 1
               ? 0
               : -1;
}
