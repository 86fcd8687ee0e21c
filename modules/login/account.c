/* Module login: the member's own data (issue 14): the account's activity
 * (their security events, labelled in French), the download of everything
 * held about them (RGPD articles 15 and 20) and the closing of the online
 * account with the password and a code. Every query is bound to the
 * session's member; the insured record stays when the account closes: it
 * is the fund's. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "login.h"
#include <portail/texts.h>

#define ACTIVITY_DEFAULT 20
#define ACTIVITY_MAX 100

static const struct {
    const char *kind, *label;
} LABELS[] = {
    {"account_created", TXT_LOGIN_EVENEMENT_ACCOUNT_CREATED},
    {"login_password_ok", TXT_LOGIN_EVENEMENT_LOGIN_PASSWORD_OK},
    {"login_succeeded", TXT_LOGIN_EVENEMENT_LOGIN_SUCCEEDED},
    {"login_failed", TXT_LOGIN_EVENEMENT_LOGIN_FAILED},
    {"login_locked", TXT_LOGIN_EVENEMENT_LOGIN_LOCKED},
    {"new_country", TXT_LOGIN_EVENEMENT_NEW_COUNTRY},
    {"account_locked", TXT_LOGIN_EVENEMENT_ACCOUNT_LOCKED},
    {"account_unlocked", TXT_LOGIN_EVENEMENT_ACCOUNT_UNLOCKED},
    {"account_unlocked_agent", TXT_LOGIN_EVENEMENT_ACCOUNT_UNLOCKED_AGENT},
    {"account_unlocked_reset", TXT_LOGIN_EVENEMENT_ACCOUNT_UNLOCKED_RESET},
    {"account_unlocked_verification", TXT_LOGIN_EVENEMENT_ACCOUNT_UNLOCKED_VERIFICATION},
    {"account_update_confirmed", TXT_LOGIN_EVENEMENT_ACCOUNT_UPDATE_CONFIRMED},
    {"password_changed", TXT_LOGIN_EVENEMENT_PASSWORD_CHANGED},
    {"password_change_failed", TXT_LOGIN_EVENEMENT_PASSWORD_CHANGE_FAILED},
    {"password_reset_requested", TXT_LOGIN_EVENEMENT_PASSWORD_RESET_REQUESTED},
    {"password_reset", TXT_LOGIN_EVENEMENT_PASSWORD_RESET},
    {"totp_enabled", TXT_LOGIN_EVENEMENT_TOTP_ENABLED},
    {"totp_reset", TXT_LOGIN_EVENEMENT_TOTP_RESET},
    {"totp_reset_failed", TXT_LOGIN_EVENEMENT_TOTP_RESET_FAILED},
    {"totp_change_requested", TXT_LOGIN_EVENEMENT_TOTP_CHANGE_REQUESTED},
    {"totp_change_failed", TXT_LOGIN_EVENEMENT_TOTP_CHANGE_FAILED},
    {"totp_changed", TXT_LOGIN_EVENEMENT_TOTP_CHANGED},
    {"recovery_codes_renewed", TXT_LOGIN_EVENEMENT_RECOVERY_CODES_RENEWED},
    {"recovery_codes_failed", TXT_LOGIN_EVENEMENT_RECOVERY_CODES_FAILED},
    {"totp_failed", TXT_LOGIN_EVENEMENT_TOTP_FAILED},
    {"totp_replayed", TXT_LOGIN_EVENEMENT_TOTP_REPLAYED},
    {"recovery_code_used", TXT_LOGIN_EVENEMENT_RECOVERY_CODE_USED},
    {"recovery_code_failed", TXT_LOGIN_EVENEMENT_RECOVERY_CODE_FAILED},
    {"session_revoked", TXT_LOGIN_EVENEMENT_SESSION_REVOKED},
    {"sessions_revoked_others", TXT_LOGIN_EVENEMENT_SESSIONS_REVOKED_OTHERS},
    {"register_existing", TXT_LOGIN_EVENEMENT_REGISTER_EXISTING},
    {"data_exported", TXT_LOGIN_EVENEMENT_DATA_EXPORTED},
    {"account_close_failed", TXT_LOGIN_EVENEMENT_ACCOUNT_CLOSE_FAILED},
};

static const char *label_of(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof(LABELS) / sizeof(LABELS[0]); i++)
        if (strcmp(kind, LABELS[i].kind) == 0)
            return LABELS[i].label;
    return TXT_LOGIN_EVENEMENT_INCONNU;
}

/* ---- GET /api/v1/account/activity?limit=&cursor= ---------------------------------------- */

void login_account_activity(portail_ctx_t *ctx)
{
    long long cursor, limit;
    if (portail_query_int(ctx, "cursor", 1, INT64_MAX, 0, &cursor) != 0 ||
        portail_query_int(ctx, "limit", 1, ACTIVITY_MAX, ACTIVITY_DEFAULT, &limit) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *rows =
        portail_db_rows(db,
                        "SELECT id, kind, detail, ip, country, user_agent, "
                        "created_at AS at FROM security_events WHERE member_id = ? "
                        "AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
                        "llll", (long long)portail_principal(ctx)->id, cursor, cursor, limit + 1);
    if (!rows) {
        login_internal(ctx, "activity: query failed");
        return;
    }
    json_t *next = json_null();
    if ((long long)json_array_size(rows) > limit) {
        json_array_remove(rows, (size_t)limit);
        next = json_integer(portail_row_int(json_array_get(rows, (size_t)limit - 1), "id", 0));
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_object_set_new(row, "label", json_string(label_of(portail_row_str(row, "kind"))));
    }
    portail_respond_json(ctx, 200, json_pack("{s:O, s:o}", "events", rows, "next_cursor", next));
}

/* ---- GET /api/v1/account/export ----------------------------------------------------------- */

/* The lists of the export, each bound to the member by its one parameter.
 * Documents come without their content (each up to the documents limit,
 * hex in JSON): the member downloads them from the service that took them. */
static const struct {
    const char *key, *sql;
} EXPORT_LISTS[] = {
    {"sessions", "SELECT id, level, created_at, last_seen_at, expires_at, ip, country, user_agent "
                 "FROM sessions WHERE kind = 'member' AND principal_id = ? ORDER BY id"},
    {"security_events", "SELECT id, kind, detail, ip, country, user_agent, created_at "
                        "FROM security_events WHERE member_id = ? ORDER BY id"},
    {"locks", "SELECT reason, detail, locked_at FROM account_locks WHERE member_id = ?"},
    {"countries", "SELECT country, last_seen_at FROM member_countries WHERE member_id = ?"},
    {"notifications", "SELECT id, kind, title, body, link, created_at, read_at "
                      "FROM notifications WHERE member_id = ? ORDER BY id"},
    {"documents", "SELECT id, module, name, size, type, created_at "
                  "FROM documents WHERE member_id = ? ORDER BY id"},
};

typedef struct export_tx {
    long long id;
    const char *email;
} export_tx_t;

/* The export's event and its mail: together, rerun on a 1213/1205 (on a
 * Galera cluster another write to the member's rows aborts it at COMMIT,
 * a 500 otherwise). */
static int export_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const export_tx_t *t = arg;
    if (member_event(ctx, t->id, "data_exported", NULL) != 0 ||
        member_mail(ctx, db, t->email, "account_data_exported",
                    (const char *const[]){"where", login_where(ctx), NULL}) != 0)
        return -1;
    return 0;
}

void login_account_export(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    long long id = (long long)portail_principal(ctx)->id;
    json_t *identity =
        portail_db_row(db,
                       "SELECT i.nir, i.first_name, i.last_name, i.birth_date, i.fund "
                       "FROM members m JOIN insured i ON i.id = m.insured_id WHERE m.id = ?",
                       "l", id);
    json_t *account = portail_db_row(db,
                                     "SELECT id, email, created_at, updated_at, totp_enabled_at "
                                     "FROM members WHERE id = ?",
                                     "l", id);
    if (!identity || !account) {
        login_internal(ctx, "export: query failed");
        return;
    }
    json_t *out = portail_arena_json(portail_arena(ctx), json_object());
    if (!out) {
        login_internal(ctx, "export: out of memory");
        return;
    }
    for (size_t i = 0; i < sizeof EXPORT_LISTS / sizeof EXPORT_LISTS[0]; i++) {
        json_t *rows = portail_db_rows(db, EXPORT_LISTS[i].sql, "l", id);
        if (!rows) {
            login_internal(ctx, "export: query failed");
            return;
        }
        json_object_set(out, EXPORT_LISTS[i].key, rows);
    }
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    json_object_set_new(out, "about", json_string(TXT_LOGIN_EXPORT_RGPD_NOTE));
    json_object_set_new(out, "exported_at", json_string(now));
    json_object_set(out, "identity", identity);
    json_object_set(out, "account", account);
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        login_internal(ctx, "export: dump failed");
        return;
    }
    const char *copy = portail_strdup(portail_arena(ctx), text);
    portail_json_free(text);
    export_tx_t tx = {.id = id, .email = portail_row_str(account, "email")};
    if (portail_tx_retry(ctx, export_tx, &tx) != 0)
        return;
    portail_respond_file(ctx, 200, "application/json; charset=utf-8", copy, strlen(copy),
                         "mes-donnees-portail.json");
}

/* ---- POST /api/v1/account/close {password, code} ------------------------------------------- */

static int close_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const member_rec_t *m = arg;
    if (portail_member_delete(db, m->id) != 1) {
        login_internal(ctx, "account close: delete failed");
        return -1;
    }
    return member_mail(ctx, db, m->email, "account_closed",
                       (const char *const[]){"where", login_where(ctx), NULL});
}

void login_account_close(portail_ctx_t *ctx)
{
    json_t *b = login_body(ctx), *errors = NULL;
    const char *password = portail_json_str(b, "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    const char *code = portail_json_str(b, "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || member_current(ctx, db, &m) != 0)
        return;
    /* A malformed code, or no second factor to check it against, costs no
     * password attempt. */
    if (login_code_format(ctx, code) != 0 || member_totp_active(ctx, &m) != 0 ||
        login_password_recheck(ctx, &m, password, "account_close_failed") != 1)
        return;
    /* The sign-in's code step; 1: right code, its step recorded and the
     * account deleted in one transaction. */
    signin_who_t who = member_who(&m, 1);
    if (signin_totp(ctx, &who, code, close_tx, &m) != 1)
        return;
    /* The session rows are gone with the member; this clears the cookie. */
    portail_session_end(ctx);
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "closed"));
}
