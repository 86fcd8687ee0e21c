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

#define ACTIVITY_DEFAULT 20
#define ACTIVITY_MAX 100

static const struct {
    const char *kind, *label;
} LABELS[] = {
    {"account_created", "Compte créé"},
    {"login_password_ok", "Mot de passe correct (code de sécurité attendu)"},
    {"login_succeeded", "Connexion réussie"},
    {"login_failed", "Mot de passe incorrect à la connexion"},
    {"login_locked", "Tentative de connexion sur un compte bloqué"},
    {"new_country", "Connexion depuis un nouveau pays"},
    {"account_locked", "Compte bloqué"},
    {"account_unlocked", "Compte débloqué"},
    {"account_unlocked_agent", "Compte débloqué par votre caisse"},
    {"account_unlocked_reset", "Compte débloqué par réinitialisation du mot de passe"},
    {"account_unlocked_verification", "Compte débloqué après vérification par e-mail"},
    {"account_update_confirmed", "Adresse e-mail confirmée"},
    {"password_changed", "Mot de passe modifié"},
    {"password_change_failed", "Mot de passe actuel incorrect lors d'un changement"},
    {"password_reset_requested", "Réinitialisation du mot de passe demandée"},
    {"password_reset", "Mot de passe réinitialisé"},
    {"totp_enabled", "Double authentification activée"},
    {"totp_reset", "Double authentification réinitialisée"},
    {"totp_reset_failed", "Mot de passe incorrect lors d'une réinitialisation de la double "
                          "authentification"},
    {"totp_failed", "Code de sécurité incorrect"},
    {"totp_replayed", "Code de sécurité déjà utilisé"},
    {"recovery_code_used", "Code de secours utilisé"},
    {"recovery_code_failed", "Code de secours incorrect"},
    {"session_revoked", "Session fermée à distance"},
    {"register_existing", "Nouvelle demande d'inscription sur un compte existant"},
    {"data_exported", "Données téléchargées"},
    {"account_close_failed", "Fermeture du compte refusée"},
};

static const char *label_of(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof(LABELS) / sizeof(LABELS[0]); i++)
        if (strcmp(kind, LABELS[i].kind) == 0)
            return LABELS[i].label;
    return "Événement de sécurité";
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

/* Tables of other modules that hold a member's rows, exported when present. */
static const char *const MODULE_TABLES[] = {"notifications", "documents", NULL};

static int table_has_member_column(portail_db_t *db, const char *table)
{
    json_t *row = portail_db_row(db,
                                 "SELECT COUNT(*) AS n FROM information_schema.columns "
                                 "WHERE table_schema = DATABASE() AND table_name = ? "
                                 "AND column_name = 'member_id'",
                                 "s", table);
    return row && portail_row_int(row, "n", 0) > 0;
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
    json_t *sessions = portail_db_rows(db,
                                       "SELECT id, level, created_at, last_seen_at, expires_at, "
                                       "ip, country, user_agent FROM sessions "
                                       "WHERE kind = 'member' AND principal_id = ? ORDER BY id",
                                       "l", id);
    json_t *events = portail_db_rows(db,
                                     "SELECT id, kind, detail, ip, country, user_agent, "
                                     "created_at FROM security_events WHERE member_id = ? "
                                     "ORDER BY id",
                                     "l", id);
    json_t *locks = portail_db_rows(
        db, "SELECT reason, detail, locked_at FROM account_locks WHERE member_id = ?", "l", id);
    json_t *countries = portail_db_rows(
        db, "SELECT country, last_seen_at FROM member_countries WHERE member_id = ?", "l", id);
    if (!identity || !account || !sessions || !events) {
        login_internal(ctx, "export: query failed");
        return;
    }
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    json_t *out = json_pack(
        "{s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:O}", "about",
        "Données détenues sur vous par le portail (RGPD, articles 15 et 20).", "exported_at", now,
        "identity", identity, "account", account, "sessions", sessions, "security_events", events,
        "locks", locks ? locks : json_null(), "countries", countries ? countries : json_null());
    for (const char *const *tb = MODULE_TABLES; *tb; tb++) {
        if (!table_has_member_column(db, *tb))
            continue;
        /* The name comes from the fixed list above, never from the request. */
        json_t *rows = portail_db_rows(
            db, portail_sprintf(portail_arena(ctx), "SELECT * FROM %s WHERE member_id = ?", *tb),
            "l", id);
        if (rows)
            json_object_set(out, *tb, rows);
    }
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(out);
    if (!text) {
        login_internal(ctx, "export: dump failed");
        return;
    }
    const char *copy = portail_strdup(portail_arena(ctx), text);
    free(text);
    if (login_begin(ctx, db) != 0 || member_event(ctx, id, "data_exported", NULL) != 0 ||
        member_mail(ctx, db, portail_row_str(account, "email"), "account_data_exported",
                    (const char *const[]){"where", login_where(ctx), NULL}) != 0 ||
        login_commit(ctx, db) != 0)
        return;
    portail_respond_file(ctx, 200, "application/json; charset=utf-8", copy, strlen(copy),
                         "mes-donnees-portail.json");
}

/* ---- POST /api/v1/account/close {password, code} ------------------------------------------- */

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
        login_password_recheck(ctx, db, &m, password, "account_close_failed") != 1)
        return;
    /* The sign-in's code step; 1: right code, its step recorded in the open
     * transaction. */
    signin_who_t who = member_who(&m, 1);
    if (signin_totp(ctx, db, &who, code) != 1)
        return;
    if (portail_member_delete(db, m.id) != 1) {
        login_internal(ctx, "account close: delete failed");
        return;
    }
    if (member_mail(ctx, db, m.email, "account_closed",
                    (const char *const[]){"where", login_where(ctx), NULL}) != 0)
        return;
    if (login_commit(ctx, db) != 0)
        return;
    /* The session rows are gone with the member; this clears the cookie. */
    portail_session_end(ctx);
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "closed"));
}
