/* Module login: a member's TOTP enrolment (GET and POST
 * /api/v1/totp/enroll): the secret is shown as a QR code, activated by a
 * first code, and ten recovery codes are handed out once. */
#include <sodium.h>

#include "login.h"
#include <portail/texts.h>

/* ---- TOTP enrolment: GET and POST /api/v1/totp/enroll ---------------------------------- */

/* Partial (password given) or member session, of a member without TOTP. */
static int enrolment_start(portail_ctx_t *ctx, portail_db_t **db, member_rec_t *m)
{
    const portail_principal_t *p = portail_principal(ctx);
    if (p->kind != PORTAIL_PRINCIPAL_MEMBER) {
        if (p->kind == PORTAIL_PRINCIPAL_NONE)
            portail_problem(ctx, 401, NULL, TXT_HOST_CONNECTEZ_VOUS);
        else
            portail_problem(ctx, 403, NULL, TXT_HOST_SESSION_DONNE_ACCES_SERVICE);
        return -1;
    }
    *db = portail_db(ctx);
    if (!*db || member_current(ctx, *db, m) != 0 || member_refuse_if_locked(ctx, *db, m->id) != 0)
        return -1;
    if (m->totp_secret) {
        /* Replacing an active factor takes the member level and the
         * password again (POST /api/v1/totp/reset), never a partial session. */
        portail_problem(ctx, 409, NULL, TXT_LOGIN_DOUBLE_AUTHENTIFICATION_DEJA_ACTIVEE);
        return -1;
    }
    if (m->reenrol_required) {
        portail_problem(ctx, 403, NULL, TXT_LOGIN_DOUBLE_AUTHENTIFICATION_REINITIALISEE);
        return -1;
    }
    return 0;
}

/* ---- POST /api/v1/totp/reenrol: the link a TOTP reset mailed ---------------------- */

typedef struct reenrol_tx {
    const member_rec_t *m;
    const char *token;
} reenrol_tx_t;

/* The link spent, the enrolment allowed again and the event: together,
 * rerun on a 1213/1205 (on a Galera cluster a write through another node
 * to the member's row aborts it at COMMIT, a 500 otherwise). */
static int reenrol_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const reenrol_tx_t *t = arg;
    if (login_link_spend(ctx, db, LOGIN_REENROL_PURPOSE, t->token,
                         TXT_LOGIN_LIEN_ENROLEMENT_MEMBRE_INVALIDE) != 0)
        return -1;
    if (portail_db_exec(db,
                        "UPDATE members SET totp_reenrol_required_at = NULL, "
                        "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        "l", (long long)t->m->id) < 0) {
        login_internal(ctx, "re-enrolment not allowed");
        return -1;
    }
    return member_event(ctx, t->m->id, "totp_reenrol_link", NULL);
}

void login_totp_reenrol(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *token = portail_json_str(login_body(ctx), "token", 1, TOKEN_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    const portail_principal_t *p = portail_principal(ctx);
    if (p->kind != PORTAIL_PRINCIPAL_MEMBER) {
        portail_problem(ctx, 401, NULL, TXT_HOST_CONNECTEZ_VOUS);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || member_current(ctx, db, &m) != 0 || member_refuse_if_locked(ctx, db, m.id) != 0)
        return;
    /* Peeked first: another member's link is refused without being spent. */
    int64_t subject = 0;
    int rc =
        portail_token_peek(db, portail_arena(ctx), LOGIN_REENROL_PURPOSE, token, &subject, NULL);
    if (rc < 0) {
        login_internal(ctx, "token lookup failed");
        return;
    }
    if (rc != PORTAIL_TOKEN_OK || subject != m.id) {
        portail_problem(ctx, 410, NULL, TXT_LOGIN_LIEN_ENROLEMENT_MEMBRE_INVALIDE);
        return;
    }
    reenrol_tx_t t = {.m = &m, .token = token};
    if (portail_tx_retry(ctx, reenrol_tx, &t) != 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:s}", "next", "totp_enroll"));
}

/* A new secret, pending until a code of it is right, and the enrolment
 * page's body (QR, otpauth link, key). replacing: the member's active
 * secret stays until then (change of phone); otherwise there is none. */
void login_pending_secret_respond(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m,
                                  int replacing)
{
    portail_totp_secret_t s;
    if (portail_totp_new(ctx, &s) != 0)
        return;
    if (portail_db_exec(db,
                        "UPDATE members SET totp_pending = ?, totp_pending_at = UTC_TIMESTAMP() "
                        "WHERE id = ? AND (totp_secret IS NOT NULL) = ?",
                        "bli", s.sealed, s.sealed_len, (long long)m->id, replacing ? 1 : 0) != 1) {
        login_internal(ctx, "pending secret not stored");
        return;
    }
    json_t *out = login_enrolment_body(ctx, member_masked_nir(ctx, m->nir), s.base32);
    if (out)
        portail_respond_json(ctx, 200, out);
}

/* The pending secret made active, its first code's step recorded: 0, or -1
 * answered (500, or 409 when the pending secret changed meanwhile).
 * replacing: as for login_pending_secret_respond (change of phone). */
int login_pending_secret_activate(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m,
                                  long long step, int replacing)
{
    long long n = portail_db_exec(db,
                                  "UPDATE members SET totp_secret = totp_pending, "
                                  "totp_enabled_at = UTC_TIMESTAMP(), totp_last_step = ?, "
                                  "totp_pending = NULL, totp_pending_at = NULL, "
                                  "updated_at = UTC_TIMESTAMP() WHERE id = ? "
                                  "AND (totp_secret IS NOT NULL) = ? AND totp_pending = ?",
                                  "llib", step, (long long)m->id, replacing ? 1 : 0,
                                  m->totp_pending, m->totp_pending_len);
    if (n == 1)
        return 0;
    if (n < 0)
        login_internal(ctx, replacing ? "totp change failed" : "totp activation failed");
    else
        portail_problem(ctx, 409, NULL,
                        replacing ? TXT_LOGIN_CODE_QR_CHANGE
                                  : TXT_LOGIN_DOUBLE_AUTHENTIFICATION_ACTIVEE_ENTRE_TEMPS);
    return -1;
}

void login_totp_enroll_show(portail_ctx_t *ctx)
{
    portail_db_t *db;
    member_rec_t m;
    if (enrolment_start(ctx, &db, &m) != 0)
        return;
    login_pending_secret_respond(ctx, db, &m, 0);
}

/* Ten new codes: shown once (codes[]), stored as keyed digests (also
 * factor.c). */
int login_recovery_codes_new(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id, json_t *codes)
{
    if (portail_db_exec(db, "DELETE FROM member_recovery_codes WHERE member_id = ?", "l",
                        (long long)member_id) < 0) {
        login_internal(ctx, "old recovery codes not deleted");
        return -1;
    }
    for (int i = 0; i < LOGIN_RECOVERY_CODES; i++) {
        char raw[RECOVERY_CHARS + 1], shown[RECOVERY_CHARS + 2];
        login_code_new(raw, shown);
        unsigned char digest[PORTAIL_DIGEST_BYTES];
        if (portail_secret_digest(ctx, raw, digest) != 0)
            return -1;
        /* A collision among ten 50-bit codes would fail the unique key:
         * at that odds, a 500 is an acceptable answer. */
        if (portail_db_exec(db,
                            "INSERT INTO member_recovery_codes (member_id, code_hash) "
                            "VALUES (?, ?)",
                            "lb", (long long)member_id, digest, sizeof digest) != 1) {
            login_internal(ctx, "recovery code not stored");
            return -1;
        }
        json_array_append_new(codes, json_string(shown));
        sodium_memzero(raw, sizeof raw);
    }
    return 0;
}

typedef struct enrol_tx {
    const member_rec_t *m;
    long long step;
    json_t *codes; /* of the attempt that committed */
} enrol_tx_t;

/* The secret activated, its step recorded, new recovery codes, the event,
 * the mail and the sign-in: together, rerun on a 1213/1205 (each attempt
 * draws its own codes: only the committed ones are shown). */
static int enrol_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    enrol_tx_t *t = arg;
    const member_rec_t *m = t->m;
    if (login_pending_secret_activate(ctx, db, m, t->step, 0) != 0)
        return -1;
    t->codes = portail_arena_json(portail_arena(ctx), json_array());
    if (login_recovery_codes_new(ctx, db, m->id, t->codes) != 0 ||
        member_event(ctx, m->id, "totp_enabled", NULL) != 0 ||
        member_mail(ctx, db, m->email, "totp_enabled",
                    (const char *const[]){"where", login_where(ctx), NULL}) != 0)
        return -1;
    return member_signed_in(ctx, db, m->id, "totp_enrolment");
}

void login_totp_enroll_confirm(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *code = portail_json_str(login_body(ctx), "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db;
    member_rec_t m;
    if (enrolment_start(ctx, &db, &m) != 0)
        return;
    if (!m.totp_pending) {
        portail_problem(ctx, 409, NULL, TXT_LOGIN_AUCUNE_ACTIVATION_EN_COURS);
        return;
    }
    long long step = -1;
    if (login_check_enrolment_code(ctx, m.totp_pending, m.totp_pending_len, code, &step) != 0)
        return;
    enrol_tx_t t = {.m = &m, .step = step};
    if (portail_tx_retry(ctx, enrol_tx, &t) != 0) {
        return;
    }
    json_t *codes = t.codes;
    portail_respond_json(ctx, 200, json_pack("{s:O}", "recovery_codes", codes));
}
