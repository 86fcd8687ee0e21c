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
    {"password_change_failed", "Mot de passe actuel incorrect lors d’un changement"},
    {"password_reset_requested", "Réinitialisation du mot de passe demandée"},
    {"password_reset", "Mot de passe réinitialisé"},
    {"totp_enabled", "Double authentification activée"},
    {"totp_reset", "Double authentification réinitialisée"},
    {"totp_reset_failed", "Mot de passe incorrect lors d’une réinitialisation de la double "
                          "authentification"},
    {"totp_change_requested", "Changement de téléphone demandé (lien envoyé par e-mail)"},
    {"totp_change_failed", "Mot de passe incorrect lors d’un changement de téléphone"},
    {"totp_changed", "Double authentification déplacée sur un nouveau téléphone"},
    {"recovery_codes_renewed", "Nouveaux codes de secours générés"},
    {"recovery_codes_failed", "Mot de passe incorrect lors d’une demande de nouveaux codes de "
                              "secours"},
    {"totp_failed", "Code de sécurité incorrect"},
    {"totp_replayed", "Code de sécurité déjà utilisé"},
    {"recovery_code_used", "Code de secours utilisé"},
    {"recovery_code_failed", "Code de secours incorrect"},
    {"session_revoked", "Session fermée à distance"},
    {"sessions_revoked_others", "Tous les autres appareils déconnectés"},
    {"register_existing", "Nouvelle demande d’inscription sur un compte existant"},
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
    json_object_set_new(out, "about",
                        json_string("Données détenues sur vous par le portail (RGPD, articles 15 "
                                    "et 20). Les documents sont listés sans leur contenu : "
                                    "chacun se télécharge depuis le service qui l’a reçu."));
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
    if (login_begin(ctx, db) != 0 || member_event(ctx, id, "data_exported", NULL) != 0 ||
        member_mail(ctx, db, portail_row_str(account, "email"), "account_data_exported",
                    (const char *const[]){"where", login_where(ctx), NULL}) != 0 ||
        login_commit(ctx, db) != 0)
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
