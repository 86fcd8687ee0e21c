/* portailctl's account commands: agents (add, reset: a one-time enrolment
 * link) and the demo accounts of script/server. They run the same core
 * services as portaild (password hashing, TOTP sealing, tokens, locks)
 * through a request context of their own. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "portailctl_accounts.h"
#include "seed.h"

#define AGENT_ENROL_TTL_S (24 * 3600)
#define LOGIN_MIN 2
#define LOGIN_MAX 64
#define NAME_MAX_BYTES 200

#define DEMO_NIR "285033306300182"
#define DEMO_EMAIL "marie.dupont@example.fr"
#define DEMO_AGENT "demo.superviseur"
#define DEMO_AGENT_NAME "Claire Bernard (superviseure de démonstration)"
/* Generated passwords: four groups of five, without the characters that
 * read alike (0/O, 1/l/I): about 113 bits. */
#define DEMO_PW_ALPHABET "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#define DEMO_PW_GROUPS 4
#define DEMO_PW_GROUP 5

/* A context like a request's, for the core services that take one. */
static void ctl_ctx(portail_ctx_t *ctx, portail_host_t *h, portail_db_t *db, portail_arena_t *a)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->arena = a;
    ctx->host = h;
    ctx->db = db;
    ctx->method = "CLI";
    ctx->path = "/portailctl";
    snprintf(ctx->request_id, sizeof ctx->request_id, "portailctl");
    ctx->client.ip = "";
    ctx->client.country = "";
    ctx->client.user_agent = "portailctl";
    ctx->principal.level = PORTAIL_AUTH_PUBLIC;
}

/* The detail of a problem a core service set on the context, if any. */
static const char *why(const portail_ctx_t *ctx)
{
    const char *d =
        ctx->problem ? json_string_value(json_object_get(ctx->problem, "detail")) : NULL;
    return d ? d : "see the log";
}

static int login_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < LOGIN_MIN || n > LOGIN_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
              *p == '_'))
            return 0;
    return 1;
}

static int fail(const char *msg)
{
    fprintf(stderr, "portailctl: %s\n", msg);
    return 1;
}

/* Issues the enrolment link of an agent and prints it. In the caller's
 * transaction. */
static int print_enrol_link(portail_ctx_t *ctx, long long agent_id, const char *login)
{
    const char *token = NULL;
    if (portail_token_issue(ctx->db, ctx->arena, "agent-enrol", agent_id, NULL, AGENT_ENROL_TTL_S,
                            &token) != 0)
        return -1;
    /* The agent's own trail says who got a link and when. */
    if (portail_db_exec(ctx->db,
                        "INSERT INTO audit_log (agent_id, action, reason) "
                        "VALUES (?, 'enrolment_link', 'portailctl')",
                        "l", agent_id) != 1)
        return -1;
    printf("Lien d’enrôlement de %s (valable 24 h, une seule fois) :\n"
           "  %s/backoffice/enrolement.html?token=%s\n",
           login, ctx->host->conf->origin, token);
    return 0;
}

/* agent and supervisor always exist; other roles are those the config's
 * `roles` group names (core/permission.c maps them to permissions). */
static int role_known(const portail_ctx_t *ctx, const char *role)
{
    if (!role)
        return 0;
    if (strcmp(role, "agent") == 0 || strcmp(role, "supervisor") == 0)
        return 1;
    const config_setting_t *roles = config_lookup(&ctx->host->conf->cfg, "roles");
    return roles && config_setting_is_group(roles) && strlen(role) <= 20 &&
           config_setting_get_member(roles, role) != NULL;
}

static int agent_add(portail_ctx_t *ctx, int argc, char **argv)
{
    static const char *const opts[] = {"--name", "--role", "--email", NULL};
    const char *v[3] = {NULL, NULL, NULL};
    if (argc < 1 || portailctl_options(argc - 1, argv + 1, opts, v) < 0)
        return PORTAILCTL_USAGE;
    const char *login = argv[0], *name = v[0], *role = v[1], *email = v[2];
    portail_db_t *db = ctx->db;
    if (!login_ok(login))
        return fail("agent login: 2 to 64 characters among a-z 0-9 . - _");
    if (!name || !*name || strlen(name) > NAME_MAX_BYTES || !portail_utf8_valid(name, strlen(name)))
        return fail("--name: 1 to 200 bytes of UTF-8 required");
    if (!role_known(ctx, role))
        return fail("--role: agent, supervisor or a role of the config's roles group");
    const char *email_why = NULL;
    if (email && !(email = portail_valid_email(ctx->arena, email, &email_why)))
        return fail("--email: not a plain e-mail address");
    if (portail_db_begin(db) != 0)
        return fail("database error");
    if (portail_db_exec(db,
                        "INSERT INTO agents (login, display_name, role, email) VALUES (?, ?, ?, ?)",
                        "ssss", login, name, role, email) != 1) {
        int dup = portail_db_errno(db) == 1062;
        portail_db_rollback(db);
        return fail(dup ? "this login exists already (a new link: agent reset LOGIN)"
                        : "database error");
    }
    long long id = (long long)portail_db_insert_id(db);
    if (print_enrol_link(ctx, id, login) != 0 || portail_db_commit(db) != 0) {
        portail_db_rollback(db);
        return fail("enrolment link not issued");
    }
    printf("Agent %s créé (id %lld, rôle %s).\n", login, id, role);
    return 0;
}

/* Lost phone, forgotten password or locked out: back to enrolment. */
static int agent_reset(portail_ctx_t *ctx, int argc, char **argv)
{
    if (argc != 1)
        return PORTAILCTL_USAGE;
    portail_db_t *db = ctx->db;
    const char *login = argv[0];
    if (portail_db_begin(db) != 0)
        return fail("database error");
    json_t *row = portail_db_row(db,
                                 "SELECT id FROM agents WHERE login = ? AND disabled_at IS NULL "
                                 "FOR UPDATE",
                                 "s", login);
    if (!row) {
        portail_db_rollback(db);
        return fail("no enabled agent with this login");
    }
    long long id = portail_row_int(row, "id", 0);
    if (portail_db_exec(db,
                        "UPDATE agents SET password_hash = NULL, totp_secret = NULL, "
                        "totp_enabled_at = NULL, totp_last_step = NULL, totp_pending = NULL, "
                        "totp_pending_at = NULL, pending_password_hash = NULL WHERE id = ?",
                        "l", id) != 1 ||
        portail_principal_unlock(ctx, PORTAIL_PRINCIPAL_AGENT, id, "system",
                                 "portailctl agent reset") < 0 ||
        portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_AGENT, id, 0) < 0 ||
        print_enrol_link(ctx, id, login) != 0 || portail_db_commit(db) != 0) {
        portail_db_rollback(db);
        return fail("agent not reset");
    }
    printf("Accès de %s réinitialisé : mot de passe et TOTP à choisir de nouveau.\n", login);
    return 0;
}

/* disable / enable / role: take effect at the agent's next request, since
 * the session load reads the agents row (core/session.c); disabling also
 * ends the open sessions now, so that none is left to find. */
static int agent_set(portail_ctx_t *ctx, const char *what, int argc, char **argv)
{
    portail_db_t *db = ctx->db;
    const char *login = argc >= 1 ? argv[0] : NULL;
    const char *role = NULL;
    if (strcmp(what, "role") == 0) {
        if (argc != 2)
            return PORTAILCTL_USAGE;
        role = argv[1];
        if (!role_known(ctx, role))
            return fail("role: agent, supervisor or a role of the config's roles group");
    } else if (argc != 1) {
        return PORTAILCTL_USAGE;
    }
    if (portail_db_begin(db) != 0)
        return fail("database error");
    json_t *row = portail_db_row(
        db, "SELECT id, disabled_at IS NOT NULL AS disabled FROM agents WHERE login = ? FOR UPDATE",
        "s", login);
    if (!row) {
        portail_db_rollback(db);
        return fail("no agent with this login");
    }
    long long id = portail_row_int(row, "id", 0);
    long long n;
    const char *done;
    if (strcmp(what, "disable") == 0) {
        n = portail_db_exec(db,
                            "UPDATE agents SET disabled_at = COALESCE(disabled_at, "
                            "UTC_TIMESTAMP()) WHERE id = ?",
                            "l", id);
        if (n >= 0 && portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_AGENT, id, 0) < 0)
            n = -1;
        done = "désactivé (sessions fermées)";
    } else if (strcmp(what, "enable") == 0) {
        n = portail_db_exec(db, "UPDATE agents SET disabled_at = NULL WHERE id = ?", "l", id);
        done = "réactivé";
    } else {
        n = portail_db_exec(db, "UPDATE agents SET role = ? WHERE id = ?", "sl", role, id);
        done = portail_sprintf(ctx->arena, "désormais %s", role);
    }
    if (n < 0 || portail_db_commit(db) != 0) {
        portail_db_rollback(db);
        return fail("agent not changed");
    }
    printf("Agent %s : %s.\n", login, done);
    return 0;
}

int portailctl_agent(portail_host_t *h, portail_db_t *db, portail_arena_t *a, int argc, char **argv)
{
    portail_ctx_t ctx;
    ctl_ctx(&ctx, h, db, a);
    if (argc >= 1 && strcmp(argv[0], "add") == 0)
        return agent_add(&ctx, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "reset") == 0)
        return agent_reset(&ctx, argc - 1, argv + 1);
    if (argc >= 1 && (strcmp(argv[0], "disable") == 0 || strcmp(argv[0], "enable") == 0 ||
                      strcmp(argv[0], "role") == 0))
        return agent_set(&ctx, argv[0], argc - 1, argv + 1);
    return PORTAILCTL_USAGE;
}

/* ---- demo ------------------------------------------------------------------- */

/* A new random password the policy accepts, arena. NULL on error. */
static const char *demo_password(portail_ctx_t *ctx, const char *const *context)
{
    char pw[DEMO_PW_GROUPS * (DEMO_PW_GROUP + 1)];
    for (int attempt = 0; attempt < 20; attempt++) {
        size_t n = 0;
        for (int g = 0; g < DEMO_PW_GROUPS; g++) {
            if (g)
                pw[n++] = '-';
            for (int k = 0; k < DEMO_PW_GROUP; k++)
                pw[n++] = DEMO_PW_ALPHABET[randombytes_uniform(sizeof DEMO_PW_ALPHABET - 1)];
        }
        pw[n] = '\0';
        if (!portail_password_problem(ctx, pw, context)) {
            const char *out = portail_strdup(ctx->arena, pw);
            sodium_memzero(pw, sizeof pw);
            return out;
        }
    }
    sodium_memzero(pw, sizeof pw);
    fprintf(stderr, "portailctl: demo: no generated password passed the policy\n");
    return NULL;
}

/* A new password (hashed into *hash) and TOTP secret (sealed into
 * *sealed) at every run: nothing of them is in the binary, and whoever
 * saw an earlier run's output cannot use it any more. */
static int demo_credentials(portail_ctx_t *ctx, const char *const *context, const char **pw,
                            const char **hash, portail_totp_secret_t *s)
{
    *pw = demo_password(ctx, context);
    *hash = NULL;
    if (!*pw || portail_password_hash(ctx, *pw, hash) != 0 || !*hash)
        return -1;
    return portail_totp_new(ctx, s) == 0 ? 0 : -1;
}

/* 1 when the database is marked as a demo one (portailctl seed), 0 not, -1
 * error. */
static int demo_database(portail_db_t *db)
{
    json_t *r =
        portail_db_row(db, "SELECT value FROM core_settings WHERE name = 'demo_database'", "");
    if (!r)
        return portail_db_failed(db) ? -1 : 0;
    return 1;
}

/* A seeded person without an account, with an IBAN and an address on
 * file: what registration asks, so that it can be tried. */
static int demo_trial(portail_ctx_t *ctx)
{
    json_t *t = portail_db_row(ctx->db,
                               "SELECT i.nir, i.first_name, i.last_name, i.birth_date, "
                               "i.postal_code, RIGHT(i.iban, 7) AS iban_end, i.email "
                               "FROM insured i LEFT JOIN members m ON m.insured_id = i.id "
                               "WHERE m.id IS NULL AND i.iban IS NOT NULL AND i.email IS NOT NULL "
                               "AND i.postal_code IS NOT NULL ORDER BY i.id LIMIT 1",
                               "");
    if (!t)
        return portail_db_failed(ctx->db) ? fail("database error") : 0;
    printf("\nAssuré·e sans compte, pour essayer l’inscription : %s %s\n"
           "  NIR               %s\n"
           "  date de naissance %s\n"
           "  code postal       %s\n"
           "  fin de l’IBAN     %s\n"
           "  e-mail enregistré %s (le lien y est envoyé)\n",
           portail_row_str(t, "first_name"), portail_row_str(t, "last_name"),
           portail_row_str(t, "nir"), portail_row_str(t, "birth_date"),
           portail_row_str(t, "postal_code"), portail_row_str(t, "iban_end"),
           portail_row_str(t, "email"));
    return 0;
}

/* A few notifications for the demo member, so that the bell and the
 * notifications page show something; written once (rows, no mail). Only
 * its own kinds count: a module's job may notify the member first. */
static int demo_notifications(portail_db_t *db, long long id)
{
    json_t *n = portail_db_row(
        db, "SELECT COUNT(*) AS n FROM notifications WHERE member_id = ? AND kind LIKE 'demo.%'",
        "l", id);
    if (!n)
        return -1;
    if (portail_row_int(n, "n", 0) > 0)
        return 0;
    static const char *const rows[][4] = {
        {"demo.bienvenue", "Bienvenue sur votre espace",
         "Retrouvez ici les nouvelles de vos démarches : remboursements, attestations, messages.",
         "/tableau-de-bord.html"},
        {"demo.securite", "Double authentification active",
         "Votre compte est protégé par un code à usage unique à chaque connexion.",
         "/compte/appareils.html"},
        {"demo.attestation", "Votre attestation de droits est disponible",
         "Vous pouvez la télécharger depuis votre espace.", NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (portail_db_exec(db,
                            "INSERT INTO notifications (member_id, kind, title, body, link, "
                            "created_at, read_at) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP() - "
                            "INTERVAL ? HOUR, IF(? = 0, UTC_TIMESTAMP(), NULL))",
                            "lssssii", id, rows[i][0], rows[i][1], rows[i][2], rows[i][3],
                            (int)(72 - 24 * i), (int)i) != 1)
            return -1;
    return 0;
}

/* A sign-in of the demo member two days ago from a phone, so that the
 * dashboard's "Dernière connexion" and the activity page show one from the
 * first sign-in on; written once (when the member has none). */
static int demo_sign_in(portail_db_t *db, long long id)
{
    json_t *n = portail_db_row(
        db, "SELECT COUNT(*) AS n FROM security_events WHERE member_id = ? AND kind = ?", "ls", id,
        PORTAIL_EVENT_SIGN_IN);
    if (!n)
        return -1;
    if (portail_row_int(n, "n", 0) > 0)
        return 0;
    return portail_db_exec(
               db,
               "INSERT INTO security_events (member_id, kind, detail, ip, country, user_agent, "
               "created_at) VALUES (?, ?, 'totp', '2.2.2.2', 'FR', ?, "
               "UTC_TIMESTAMP() - INTERVAL 2 DAY - INTERVAL 3 HOUR)",
               "lss", id, PORTAIL_EVENT_SIGN_IN,
               "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1") == 1
               ? 0
               : -1;
}

static int demo_member(portail_ctx_t *ctx)
{
    portail_db_t *db = ctx->db;
    char err[256];
    if (portail_seed(db, ctx->arena, 1, err, sizeof err) < 0)
        return fail(err);
    json_t *p = portail_db_row(db,
                               "SELECT i.id AS insured_id, i.first_name, i.last_name, "
                               "i.birth_date, i.email AS insured_email, m.id AS member_id, "
                               "m.password_hash, m.totp_secret "
                               "FROM insured i LEFT JOIN members m ON m.insured_id = i.id "
                               "WHERE i.nir = ?",
                               "s", DEMO_NIR);
    if (!p)
        return fail("the demo insured person is missing after seeding");
    const char *context[] = {DEMO_NIR, portail_row_str(p, "birth_date"),
                             portail_row_str(p, "first_name"), portail_row_str(p, "last_name"),
                             NULL};
    const char *pw = NULL, *hash = NULL;
    portail_totp_secret_t s;
    if (demo_credentials(ctx, context, &pw, &hash, &s) != 0)
        return fail(why(ctx));
    const unsigned char *sealed = s.sealed;
    size_t sealed_len = s.sealed_len;
    const char *b32 = s.base32;

    if (portail_db_begin(db) != 0)
        return fail("database error");
    long long id = portail_row_int(p, "member_id", 0);
    const char *email = portail_row_str(p, "insured_email");
    if (!id) {
        if (portail_db_exec(db, "INSERT INTO members (insured_id, email) VALUES (?, ?)", "ls",
                            portail_row_int(p, "insured_id", 0), email ? email : DEMO_EMAIL) != 1)
            goto failed;
        id = (long long)portail_db_insert_id(db);
    }
    if (portail_db_exec(db,
                        "UPDATE members SET password_hash = ?, updated_at = UTC_TIMESTAMP() "
                        "WHERE id = ?",
                        "sl", hash, id) < 0)
        goto failed;
    if (portail_db_exec(db,
                        "UPDATE members SET totp_secret = ?, totp_enabled_at = "
                        "UTC_TIMESTAMP(), totp_last_step = NULL, totp_pending = NULL, "
                        "totp_pending_at = NULL WHERE id = ?",
                        "bl", sealed, sealed_len, id) != 1)
        goto failed;
    /* Sessions opened with earlier credentials end with them. */
    if (portail_db_exec(db, "DELETE FROM sessions WHERE kind = 'member' AND principal_id = ?", "l",
                        id) < 0)
        goto failed;
    /* The demo must sign in: whatever locked it is lifted (event and mail
     * as for any unlock). */
    if (portail_account_unlock(ctx, id, "system", "portailctl demo") < 0)
        goto failed;
    if (demo_notifications(db, id) < 0 || demo_sign_in(db, id) < 0)
        goto failed;
    if (portail_db_commit(db) != 0)
        goto failed;
    printf("Assurée de démonstration : %s %s\n"
           "  NIR               %s\n"
           "  date de naissance %s\n"
           "  mot de passe      %s\n"
           "  secret TOTP       %s\n"
           "  code du moment    oathtool --totp -b %s\n",
           portail_row_str(p, "first_name"), portail_row_str(p, "last_name"), DEMO_NIR,
           portail_row_str(p, "birth_date"), pw, b32, b32);
    return demo_trial(ctx);
failed:
    portail_db_rollback(db);
    return fail("demo member not written");
}

static int demo_agent(portail_ctx_t *ctx)
{
    portail_db_t *db = ctx->db;
    if (portail_db_exec(db,
                        "INSERT IGNORE INTO agents (login, display_name, role) "
                        "VALUES (?, ?, 'supervisor')",
                        "ss", DEMO_AGENT, DEMO_AGENT_NAME) < 0)
        return fail("demo agent not written");
    json_t *a = portail_db_row(
        db, "SELECT id, password_hash, totp_secret FROM agents WHERE login = ?", "s", DEMO_AGENT);
    if (!a)
        return fail("demo agent not written");
    const char *context[] = {DEMO_AGENT, DEMO_AGENT_NAME, NULL};
    const char *pw = NULL, *hash = NULL;
    portail_totp_secret_t s;
    if (demo_credentials(ctx, context, &pw, &hash, &s) != 0)
        return fail(why(ctx));
    const unsigned char *sealed = s.sealed;
    size_t sealed_len = s.sealed_len;
    const char *b32 = s.base32;
    long long id = portail_row_int(a, "id", 0);
    if (portail_db_exec(db,
                        "UPDATE agents SET role = 'supervisor', disabled_at = NULL, "
                        "password_hash = ?, pending_password_hash = NULL WHERE id = ?",
                        "sl", hash, id) < 0 ||
        portail_principal_unlock(ctx, PORTAIL_PRINCIPAL_AGENT, id, "system", "portailctl demo") <
            0 ||
        portail_db_exec(db,
                        "UPDATE agents SET totp_secret = ?, totp_enabled_at = "
                        "UTC_TIMESTAMP(), totp_last_step = NULL, totp_pending = NULL, "
                        "totp_pending_at = NULL WHERE id = ?",
                        "bl", sealed, sealed_len, id) != 1 ||
        portail_db_exec(db, "DELETE FROM sessions WHERE kind = 'agent' AND principal_id = ?", "l",
                        id) < 0)
        return fail("demo agent not written");
    printf("Agent de démonstration (superviseur) : %s\n"
           "  identifiant       %s\n"
           "  mot de passe      %s\n"
           "  secret TOTP       %s\n"
           "  code du moment    oathtool --totp -b %s\n",
           DEMO_AGENT_NAME, DEMO_AGENT, pw, b32, b32);
    return 0;
}

/* What to try in the back office: the first insured person of the seed
 * without an online account (the agent must see them as insured). */
static int demo_backoffice_hint(portail_ctx_t *ctx)
{
    json_t *p = portail_db_row(ctx->db,
                               "SELECT i.first_name, i.last_name, i.birth_date, i.nir "
                               "FROM insured i LEFT JOIN members m ON m.insured_id = i.id "
                               "WHERE m.id IS NULL ORDER BY i.id LIMIT 1",
                               "");
    if (!p)
        return portail_db_failed(ctx->db) ? fail("database error") : 0;
    printf("\nÀ chercher dans l’espace agents, un assuré sans compte en ligne\xc2\xa0: %s %s\n"
           "  NIR               %s\n"
           "  date de naissance %s\n",
           portail_row_str(p, "first_name"), portail_row_str(p, "last_name"),
           portail_row_str(p, "nir"), portail_row_str(p, "birth_date"));
    return 0;
}

int portailctl_demo(portail_host_t *h, portail_db_t *db, portail_arena_t *a)
{
    portail_ctx_t ctx;
    ctl_ctx(&ctx, h, db, a);
    int demo = demo_database(db);
    if (demo < 0)
        return fail("database error");
    if (demo == 0) {
        fprintf(stderr, "portailctl: demo: cette base n’est pas marquée comme base de "
                        "démonstration (portailctl seed la marque) : aucun compte créé\n");
        return 1;
    }
    int rc = demo_member(&ctx);
    if (rc == 0) {
        printf("\n");
        rc = demo_agent(&ctx);
    }
    if (rc == 0)
        rc = demo_backoffice_hint(&ctx);
    /* The modules' demo data again, now that the demo member has an account:
     * a module seed that gives members (not insured persons) their
     * appointments or threads found none on the first start. */
    char err[512];
    if (rc == 0 && portail_seed_modules(db, h->conf, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "portailctl: demo: %s\n", err);
        rc = 1;
    }
    return rc;
}
