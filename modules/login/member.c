/* Module login: the member handlers, in the order of a member's life:
 * register, confirm, sign in (password, then TOTP or a recovery code),
 * enrol TOTP, then what a signed-in member does (me, sessions, password
 * change, TOTP reset, logout). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"

#define NIR_INPUT_MAX 64
#define TOKEN_MAX 64
#define CODE_INPUT_MAX 32
#define RECOVERY_INPUT_MAX 64
#define RECOVERY_CHARS 10
#define SESSION_ID_MAX 19

/* Without I, O, 0 and 1, which read alike. 32 symbols: 50 bits a code. */
static const char RECOVERY_ALPHABET[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

static const char WRONG_CREDENTIALS[] =
    "Le numéro de sécurité sociale ou le mot de passe est incorrect.";
static const char WRONG_CODE[] = "Le code saisi est incorrect ou a déjà été utilisé.";

/* ---- small checks ------------------------------------------------------------ */

/* Normalises and checks the NIR (and, when birth is a valid date, that it
 * agrees with it), adding field errors. 0 when nir15 is usable. */
static int nir_field(const char *in, const char *birth, char nir15[16], json_t **errors)
{
    const char *msg = NULL;
    if (!in)
        return -1;
    if (portail_nir_normalize(in, nir15) != 0 || portail_nir_check(nir15, NULL, &msg) != 0) {
        if (!msg)
            portail_nir_check("", NULL, &msg);
        portail_field_error(errors, "nir", msg);
        return -1;
    }
    if (birth && portail_nir_check(nir15, birth, &msg) != 0) {
        portail_field_error(errors, "birth_date", msg);
        return -1;
    }
    return 0;
}

/* "2 85 03 ** *** *** 82" shape, for the authenticator app's label: enough
 * for the member to recognise the account, not the whole number. */
static const char *masked_nir(portail_ctx_t *ctx, const char *nir)
{
    if (!nir || strlen(nir) != 15)
        return "assure";
    return portail_sprintf(portail_arena(ctx), "%c%c%c**********%c%c", nir[0], nir[1], nir[2],
                           nir[13], nir[14]);
}

static json_t *body(portail_ctx_t *ctx)
{
    json_t *b = portail_req_json(ctx);
    return json_is_object(b) ? b : NULL;
}

static const login_state_t *settings_of(portail_ctx_t *ctx)
{
    return portail_module_state(ctx);
}

/* The member behind a partial or member session; 401 set when gone. */
static int current_member(portail_ctx_t *ctx, portail_db_t *db, member_rec_t *m)
{
    const portail_principal_t *p = portail_principal(ctx);
    int rc =
        store_member_by_id(db, portail_arena(ctx), p->id, settings_of(ctx)->enrol_pending_s, m);
    if (rc < 0) {
        login_internal(ctx, "member lookup failed");
        return -1;
    }
    if (rc == 0 || !m->password_hash) {
        portail_session_end(ctx);
        portail_problem(ctx, 401, NULL, "Votre session a expiré. Veuillez vous reconnecter.");
        return -1;
    }
    return 0;
}

/* 0 not locked; 1 locked (423 set); -1 error (500 set). */
static int refuse_if_locked(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id)
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

/* The mail of template (mail/<template>.txt) to the member. */
static int mail(portail_ctx_t *ctx, portail_db_t *db, const char *to, const char *template,
                const char *const *vars)
{
    if (portail_mail_template(db, portail_arena(ctx), to, template, vars) == 0)
        return 0;
    login_internal(ctx, "mail not queued");
    return -1;
}

/* "depuis l'adresse 203.0.113.7 (FR)" for mails about an attempt. */
static const char *where(portail_ctx_t *ctx)
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

static int event(portail_ctx_t *ctx, int64_t member_id, const char *kind, const char *detail)
{
    if (portail_security_event(ctx, member_id, kind, detail) == 0)
        return 0;
    login_internal(ctx, "security event not recorded");
    return -1;
}

/* ---- POST /api/v1/register ----------------------------------------------------- */

static void registered(portail_ctx_t *ctx)
{
    portail_respond_json(ctx, 202, json_pack("{s:s}", "status", "pending"));
}

void login_register(portail_ctx_t *ctx)
{
    const login_state_t *st = settings_of(ctx);
    json_t *b = body(ctx), *errors = NULL;
    const char *nir_in = portail_json_str(b, "nir", 1, NIR_INPUT_MAX, &errors);
    portail_arena_t *a = portail_arena(ctx);
    const char *birth =
        portail_json_valid(a, b, "birth_date", 1, portail_valid_birth_date, &errors);
    const char *email = portail_json_valid(a, b, "email", 1, portail_valid_email, &errors);
    char nir[16];
    nir_field(nir_in, birth, nir, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;

    /* Per client address, so that one source cannot mail-bomb people. The
     * answer says nothing about the person. */
    const char *ipkey = login_key(ctx, "register-ip", portail_client(ctx)->ip);
    int wait = portail_throttle_check(db, ipkey, 3600, st->register_ip_max);
    if (wait > 0) {
        portail_problem_retry(ctx, 429, wait, NULL,
                              "Trop de demandes d'inscription depuis votre adresse. Réessayez "
                              "plus tard.");
        return;
    }
    if (wait < 0 || portail_throttle_hit(db, ipkey, 3600, st->register_ip_max) < 0) {
        login_internal(ctx, "register throttle failed");
        return;
    }

    json_t *row =
        portail_db_row(db,
                       "SELECT i.id AS insured_id, i.birth_date, m.id AS member_id, "
                       "m.email AS member_email, m.password_hash IS NOT NULL AS has_account "
                       "FROM insured i LEFT JOIN members m ON m.insured_id = i.id "
                       "WHERE i.nir = ?",
                       "s", nir);
    if (!row && portail_db_failed(db)) {
        login_internal(ctx, "insured lookup failed");
        return;
    }
    const char *born = row ? portail_row_str(row, "birth_date") : NULL;
    if (!row || !born || strcmp(born, birth) != 0) {
        portail_log_info(ctx, "register: no insured person matches");
        registered(ctx);
        return;
    }
    long long insured_id = portail_row_int(row, "insured_id", 0);
    long long member_id = portail_row_int(row, "member_id", 0);
    const char *member_email = portail_row_str(row, "member_email");
    int has_account = portail_row_int(row, "has_account", 0) == 1;

    /* A few mails an hour per person at most, whoever asks. */
    const char *pkey =
        login_key(ctx, "register-person", portail_sprintf(portail_arena(ctx), "%lld", insured_id));
    wait = portail_throttle_check(db, pkey, 3600, st->register_mails_per_hour);
    if (wait != 0) {
        if (wait < 0)
            login_internal(ctx, "register throttle failed");
        else {
            portail_log_info(ctx, "register: mail budget of this person spent, nothing sent");
            registered(ctx);
        }
        return;
    }
    if (login_begin(ctx, db) != 0)
        return;
    if (portail_throttle_hit(db, pkey, 3600, st->register_mails_per_hour) < 0) {
        login_internal(ctx, "register throttle failed");
        return;
    }
    if (has_account && member_email) {
        /* To the account's own address, never the one given: whoever typed
         * this must not learn that an account exists. */
        if (event(ctx, member_id, "register_existing", NULL) != 0 ||
            mail(ctx, db, member_email, "register_existing",
                 (const char *const[]){"where", where(ctx), NULL}) != 0)
            return;
    } else {
        json_t *data = portail_arena_json(portail_arena(ctx), json_pack("{s:s}", "email", email));
        char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
        const char *token = NULL;
        int rc = text ? portail_token_issue(db, portail_arena(ctx), "register", insured_id, text,
                                            st->register_ttl_s, &token)
                      : -1;
        free(text);
        if (rc != 0) {
            login_internal(ctx, "register token not issued");
            return;
        }
        int minutes = st->register_ttl_s / 60;
        if (mail(ctx, db, email, "register_confirm",
                 (const char *const[]){
                     "minutes", portail_sprintf(portail_arena(ctx), "%d", minutes), "link",
                     login_link(ctx, "/inscription/confirmation.html", token), NULL}) != 0)
            return;
    }
    if (login_commit(ctx, db) != 0)
        return;
    registered(ctx);
}

/* ---- POST /api/v1/register/confirm ---------------------------------------------- */

static void link_gone(portail_ctx_t *ctx)
{
    portail_problem(ctx, 410, NULL,
                    "Ce lien n'est plus valide (il a expiré ou a déjà servi). Recommencez votre "
                    "inscription pour en recevoir un nouveau.");
}

void login_register_confirm(portail_ctx_t *ctx)
{
    json_t *b = body(ctx), *errors = NULL;
    const char *token = portail_json_str(b, "token", 1, TOKEN_MAX, &errors);
    const char *password = portail_json_str(b, "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    portail_arena_t *a = portail_arena(ctx);
    int64_t insured_id = 0;
    const char *data = NULL;
    int rc = portail_token_peek(db, a, "register", token, &insured_id, &data);
    if (rc < 0) {
        login_internal(ctx, "token lookup failed");
        return;
    }
    if (rc != PORTAIL_TOKEN_OK) {
        link_gone(ctx);
        return;
    }
    json_t *d = data ? portail_arena_json(a, json_loads(data, 0, NULL)) : NULL;
    const char *email = json_string_value(json_object_get(d, "email"));
    json_t *person = portail_db_row(db,
                                    "SELECT nir, first_name, last_name, birth_date FROM insured "
                                    "WHERE id = ?",
                                    "l", (long long)insured_id);
    if (!person || !email) {
        login_internal(ctx, "registration link without its person");
        return;
    }
    const char *context[] = {portail_row_str(person, "nir"), portail_row_str(person, "birth_date"),
                             portail_row_str(person, "first_name"),
                             portail_row_str(person, "last_name"), NULL};
    const char *weak = portail_password_problem(ctx, password, context);
    if (weak) {
        portail_field_error(&errors, "password", weak);
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *hash = NULL;
    if (portail_password_hash(ctx, password, &hash) != 0)
        return;

    if (login_begin(ctx, db) != 0)
        return;
    rc = portail_token_consume(db, a, "register", token, NULL, NULL);
    if (rc != PORTAIL_TOKEN_OK) {
        if (rc < 0)
            login_internal(ctx, "token consume failed");
        else
            link_gone(ctx);
        return;
    }
    json_t *row =
        portail_db_row(db,
                       "SELECT id, password_hash IS NOT NULL AS has_password FROM members "
                       "WHERE insured_id = ? FOR UPDATE",
                       "l", (long long)insured_id);
    if (!row && portail_db_failed(db)) {
        login_internal(ctx, "member lookup failed");
        return;
    }
    long long member_id;
    if (row && portail_row_int(row, "has_password", 0) == 1) {
        link_gone(ctx); /* created meanwhile through another link */
        return;
    }
    if (row) {
        member_id = portail_row_int(row, "id", 0);
        if (portail_db_exec(db,
                            "UPDATE members SET email = ?, password_hash = ?, "
                            "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                            "ssl", email, hash, member_id) != 1) {
            login_internal(ctx, "member update failed");
            return;
        }
    } else {
        if (portail_db_exec(db,
                            "INSERT INTO members (insured_id, email, password_hash) "
                            "VALUES (?, ?, ?)",
                            "lss", (long long)insured_id, email, hash) != 1) {
            login_internal(ctx, "member insert failed");
            return;
        }
        member_id = (long long)portail_db_insert_id(db);
    }
    if (event(ctx, member_id, "account_created", NULL) != 0 ||
        mail(ctx, db, email, "register_done", NULL) != 0)
        return;
    if (login_commit(ctx, db) != 0)
        return;
    portail_log_info(ctx, "member %lld: account created", member_id);
    portail_respond_json(ctx, 201, json_pack("{s:s}", "status", "created"));
}

/* ---- POST /api/v1/login ------------------------------------------------------------ */

static void wrong_credentials(portail_ctx_t *ctx)
{
    portail_problem(ctx, 401, "Identifiants incorrects", WRONG_CREDENTIALS);
}

/* A wrong password for a known account: its consecutive counter, the event,
 * and the lock at the threshold. The answer is the unknown NIR's. */
static void password_failed(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m)
{
    const login_state_t *st = settings_of(ctx);
    login_ip_failure(ctx, db);
    if (m) {
        if (login_begin(ctx, db) != 0)
            return;
        int n = portail_account_count(db, m->id, PORTAIL_COUNTER_PASSWORD);
        if (n < 0) {
            login_internal(ctx, "password counter failed");
            return;
        }
        if (event(ctx, m->id, "login_failed", "mot de passe incorrect") != 0)
            return;
        if (n >= st->max_password_failures &&
            portail_account_lock(ctx, m->id, PORTAIL_LOCK_PASSWORD,
                                 portail_sprintf(portail_arena(ctx),
                                                 "%d mots de passe incorrects de suite", n)) != 0) {
            login_internal(ctx, "lock failed");
            return;
        }
        if (login_commit(ctx, db) != 0)
            return;
    }
    portail_log_info(ctx, "login: wrong credentials");
    wrong_credentials(ctx);
}

/* The new-country rule, inside the caller's transaction: 0 go on, 1 the
 * account is now locked, -1 error (500 set). */
static int country_rule(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m)
{
    const login_state_t *st = settings_of(ctx);
    const char *cc = portail_client(ctx)->country;
    if (!cc || strlen(cc) != 2)
        return 0; /* unknown country (private address, no GeoIP): nothing to compare */
    int any = 0;
    int seen = store_country_seen(db, m->id, cc, st->country_memory_days, &any);
    if (seen < 0) {
        login_internal(ctx, "country lookup failed");
        return -1;
    }
    /* The first sign-in (or the first after a long absence) only records:
     * there is nothing to compare with. */
    int is_new = !seen && any;
    if (store_country_record(db, m->id, cc) != 0) {
        login_internal(ctx, "country not recorded");
        return -1;
    }
    if (!is_new)
        return 0;
    if (event(ctx, m->id, "new_country", cc) != 0)
        return -1;
    if (st->new_country == NEW_COUNTRY_LOCK) {
        if (portail_account_lock(
                ctx, m->id, PORTAIL_LOCK_SUSPICIOUS,
                portail_sprintf(portail_arena(ctx), "connexion depuis un nouveau pays (%s)", cc)) !=
            0) {
            login_internal(ctx, "lock failed");
            return -1;
        }
        return 1;
    }
    return mail(ctx, db, m->email, "signin_new_country",
                (const char *const[]){"where", where(ctx), NULL});
}

/* The right password on a locked account: the reason and the way out, and
 * a partial session so that the page can ask GET /api/v1/unlock/status. */
static void locked_signin(portail_ctx_t *ctx, const member_rec_t *m, portail_lock_reason_t r)
{
    if (portail_security_event(ctx, m->id, "login_locked", portail_lock_reason_name(r)) != 0)
        portail_log_error(ctx, "login: event not recorded");
    if (portail_session_start(ctx, PORTAIL_PRINCIPAL_MEMBER, m->id, PORTAIL_AUTH_PARTIAL, NULL) !=
        0)
        return;
    login_respond_locked(ctx, r);
}

void login_password_step(portail_ctx_t *ctx)
{
    const login_state_t *st = settings_of(ctx);
    json_t *b = body(ctx), *errors = NULL;
    const char *nir_in = portail_json_str(b, "nir", 1, NIR_INPUT_MAX, &errors);
    const char *password = portail_json_str(b, "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    char nir[16];
    nir_field(nir_in, NULL, nir, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    if (portail_password_busy(ctx))
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db || login_ip_blocked(ctx, db) != 0)
        return;
    member_rec_t m;
    int found = store_member_by_nir(db, portail_arena(ctx), nir, st->enrol_pending_s, &m);
    if (found < 0) {
        login_internal(ctx, "member lookup failed");
        return;
    }
    int known = found == 1 && m.password_hash;
    /* Unknown NIR or no password yet: the dummy hash, for the same time. */
    int ok = portail_password_verify(ctx, known ? m.password_hash : NULL, password);
    if (ok < 0)
        return; /* 500 or 503 set */
    if (!ok) {
        password_failed(ctx, db, known ? &m : NULL);
        return;
    }

    portail_account_state_t as;
    if (portail_account_state(db, portail_arena(ctx), m.id, &as) != 0) {
        login_internal(ctx, "account state failed");
        return;
    }
    if (as.reason != PORTAIL_LOCK_NONE) {
        locked_signin(ctx, &m, as.reason);
        return;
    }
    if (login_begin(ctx, db) != 0)
        return;
    int rc = country_rule(ctx, db, &m);
    if (rc < 0)
        return;
    if (portail_account_reset_counter(db, m.id, PORTAIL_COUNTER_PASSWORD) != 0 ||
        portail_throttle_clear(
            db, login_key(ctx, "password-recheck",
                          portail_sprintf(portail_arena(ctx), "%lld", (long long)m.id))) != 0) {
        login_internal(ctx, "counter reset failed");
        return;
    }
    if (rc == 0 && event(ctx, m.id, "login_password_ok", NULL) != 0)
        return;
    if (login_commit(ctx, db) != 0)
        return;
    if (rc == 1) {
        locked_signin(ctx, &m, PORTAIL_LOCK_SUSPICIOUS);
        return;
    }
    if (portail_session_start(ctx, PORTAIL_PRINCIPAL_MEMBER, m.id, PORTAIL_AUTH_PARTIAL, NULL) != 0)
        return;
    portail_respond_json(ctx, 200,
                         json_pack("{s:s}", "next", m.totp_secret ? "totp" : "totp_enroll"));
}

/* ---- second factor: POST /api/v1/login/totp and /login/recovery -------------------- */

/* Both factors passed: counters back to zero, the event, the member level. */
static int signed_in(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id, const char *how)
{
    if (portail_account_reset_counter(db, member_id, PORTAIL_COUNTER_PASSWORD) != 0 ||
        portail_account_reset_counter(db, member_id, PORTAIL_COUNTER_SECOND_FACTOR) != 0) {
        login_internal(ctx, "counter reset failed");
        return -1;
    }
    /* A member session enrolling again (after a TOTP reset) is signed in
     * already: no new sign-in to record. */
    if (portail_principal(ctx)->level != PORTAIL_AUTH_PARTIAL)
        return 0;
    if (event(ctx, member_id, PORTAIL_EVENT_SIGN_IN, how) != 0)
        return -1;
    return portail_session_elevate(ctx, PORTAIL_AUTH_MEMBER) != 0 ? -1 : 0;
}

/* A wrong (or replayed) code: counted apart from passwords; at the
 * threshold the account is locked, which ends the partial session. */
static void code_failed(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m,
                        const char *kind)
{
    const login_state_t *st = settings_of(ctx);
    login_ip_failure(ctx, db);
    if (login_begin(ctx, db) != 0)
        return;
    int n = portail_account_count(db, m->id, PORTAIL_COUNTER_SECOND_FACTOR);
    if (n < 0) {
        login_internal(ctx, "second-factor counter failed");
        return;
    }
    if (event(ctx, m->id, kind, NULL) != 0)
        return;
    if (strcmp(kind, "totp_replayed") == 0 &&
        mail(ctx, db, m->email, "totp_replayed",
             (const char *const[]){"where", where(ctx), NULL}) != 0)
        return;
    int locked = n >= st->max_code_failures;
    if (locked && portail_account_lock(ctx, m->id, PORTAIL_LOCK_SECOND_FACTOR,
                                       portail_sprintf(portail_arena(ctx),
                                                       "%d codes incorrects de suite", n)) != 0) {
        login_internal(ctx, "lock failed");
        return;
    }
    if (login_commit(ctx, db) != 0)
        return;
    portail_log_info(ctx, "login: %s", kind);
    if (locked) {
        portail_session_end(ctx); /* the row went with the lock; the cookie goes now */
        login_respond_locked(ctx, PORTAIL_LOCK_SECOND_FACTOR);
        return;
    }
    portail_problem(ctx, 401, "Code incorrect", WRONG_CODE);
}

/* What both second-factor routes check first. 0 go on, -1 answered. */
static int second_factor_start(portail_ctx_t *ctx, portail_db_t **db, member_rec_t *m)
{
    *db = portail_db(ctx);
    if (!*db || login_ip_blocked(ctx, *db) != 0 || current_member(ctx, *db, m) != 0 ||
        refuse_if_locked(ctx, *db, m->id) != 0)
        return -1;
    if (!m->totp_secret) {
        portail_problem(ctx, 409, NULL,
                        "La double authentification n'est pas encore activée sur ce compte.");
        portail_problem_extra(ctx, "next", json_string("totp_enroll"));
        return -1;
    }
    return 0;
}

void login_totp_step(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *code = portail_json_str(body(ctx), "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db;
    member_rec_t m;
    if (second_factor_start(ctx, &db, &m) != 0)
        return;
    long long step = -1;
    int rc =
        portail_totp_verify(ctx, m.totp_secret, m.totp_secret_len, m.totp_last_step, code, &step);
    if (rc < 0)
        return;
    if (rc == PORTAIL_TOTP_OK) {
        if (login_begin(ctx, db) != 0)
            return;
        int fresh = store_member_totp_step(db, m.id, step);
        if (fresh < 0) {
            login_internal(ctx, "totp step not recorded");
            return;
        }
        if (fresh) {
            if (signed_in(ctx, db, m.id, "totp") != 0 || login_commit(ctx, db) != 0)
                return;
            portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "ok"));
            return;
        }
        /* The same step was accepted meanwhile (two uses of one code). */
        portail_db_rollback(db);
        rc = PORTAIL_TOTP_REPLAY;
    }
    code_failed(ctx, db, &m, rc == PORTAIL_TOTP_REPLAY ? "totp_replayed" : "totp_failed");
}

/* "abcde-fghjk" -> "ABCDEFGHJK"; 0 when the result has the shape of a code. */
static int recovery_normalize(const char *in, char out[RECOVERY_CHARS + 1])
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

void login_recovery_step(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *code = portail_json_str(body(ctx), "code", 1, RECOVERY_INPUT_MAX, &errors);
    char norm[RECOVERY_CHARS + 1];
    if (code && recovery_normalize(code, norm) != 0)
        portail_field_error(&errors, "code",
                            "Un code de secours comporte 10 caractères (lettres et chiffres), "
                            "par exemple ABCDE-FGH23.");
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db;
    member_rec_t m;
    if (second_factor_start(ctx, &db, &m) != 0)
        return;
    unsigned char digest[PORTAIL_DIGEST_BYTES];
    if (portail_secret_digest(ctx, norm, digest) != 0)
        return;
    if (login_begin(ctx, db) != 0)
        return;
    long long n = portail_db_exec(db,
                                  "UPDATE member_recovery_codes SET used_at = UTC_TIMESTAMP() "
                                  "WHERE member_id = ? AND code_hash = ? AND used_at IS NULL",
                                  "lb", (long long)m.id, digest, sizeof digest);
    if (n < 0) {
        login_internal(ctx, "recovery code lookup failed");
        return;
    }
    if (n == 0) {
        portail_db_rollback(db);
        code_failed(ctx, db, &m, "recovery_code_failed");
        return;
    }
    json_t *left = portail_db_row(db,
                                  "SELECT COUNT(*) AS n FROM member_recovery_codes "
                                  "WHERE member_id = ? AND used_at IS NULL",
                                  "l", (long long)m.id);
    long long remaining = left ? portail_row_int(left, "n", 0) : 0;
    if (event(ctx, m.id, "recovery_code_used",
              portail_sprintf(portail_arena(ctx), "%lld restants", remaining)) != 0 ||
        mail(ctx, db, m.email, "recovery_code_used",
             (const char *const[]){"where", where(ctx), "remaining",
                                   portail_sprintf(portail_arena(ctx), "%lld", remaining), NULL}) !=
            0)
        return;
    if (signed_in(ctx, db, m.id, "recovery_code") != 0 || login_commit(ctx, db) != 0)
        return;
    portail_respond_json(
        ctx, 200,
        json_pack("{s:s, s:I}", "status", "ok", "recovery_codes_left", (json_int_t)remaining));
}

/* ---- TOTP enrolment: GET and POST /api/v1/totp/enroll ---------------------------------- */

/* Partial (password given) or member session, of a member without TOTP. */
static int enrolment_start(portail_ctx_t *ctx, portail_db_t **db, member_rec_t *m)
{
    const portail_principal_t *p = portail_principal(ctx);
    if (p->kind != PORTAIL_PRINCIPAL_MEMBER) {
        if (p->kind == PORTAIL_PRINCIPAL_NONE)
            portail_problem(ctx, 401, NULL, "Veuillez vous connecter pour accéder à ce service.");
        else
            portail_problem(ctx, 403, NULL, "Votre session ne donne pas accès à ce service.");
        return -1;
    }
    *db = portail_db(ctx);
    if (!*db || current_member(ctx, *db, m) != 0 || refuse_if_locked(ctx, *db, m->id) != 0)
        return -1;
    if (m->totp_secret) {
        /* Replacing an active factor takes the member level and the
         * password again (POST /api/v1/totp/reset), never a partial session. */
        portail_problem(ctx, 409, NULL,
                        "La double authentification est déjà activée sur ce compte.");
        return -1;
    }
    return 0;
}

void login_totp_enroll_show(portail_ctx_t *ctx)
{
    portail_db_t *db;
    member_rec_t m;
    if (enrolment_start(ctx, &db, &m) != 0)
        return;
    portail_totp_secret_t s;
    if (portail_totp_new(ctx, &s) != 0)
        return;
    if (portail_db_exec(db,
                        "UPDATE members SET totp_pending = ?, totp_pending_at = UTC_TIMESTAMP() "
                        "WHERE id = ? AND totp_secret IS NULL",
                        "bl", s.sealed, s.sealed_len, (long long)m.id) != 1) {
        login_internal(ctx, "pending secret not stored");
        return;
    }
    json_t *out = login_enrolment_body(ctx, masked_nir(ctx, m.nir), s.base32);
    if (out)
        portail_respond_json(ctx, 200, out);
}

/* Ten new codes: shown once (codes[]), stored as keyed digests. */
static int new_recovery_codes(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id,
                              json_t *codes)
{
    if (portail_db_exec(db, "DELETE FROM member_recovery_codes WHERE member_id = ?", "l",
                        (long long)member_id) < 0) {
        login_internal(ctx, "old recovery codes not deleted");
        return -1;
    }
    for (int i = 0; i < LOGIN_RECOVERY_CODES; i++) {
        char raw[RECOVERY_CHARS + 1], shown[RECOVERY_CHARS + 2];
        for (int k = 0; k < RECOVERY_CHARS; k++)
            raw[k] = RECOVERY_ALPHABET[randombytes_uniform(sizeof RECOVERY_ALPHABET - 1)];
        raw[RECOVERY_CHARS] = '\0';
        snprintf(shown, sizeof shown, "%.5s-%.5s", raw, raw + 5);
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

void login_totp_enroll_confirm(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *code = portail_json_str(body(ctx), "code", 1, CODE_INPUT_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0 || login_code_format(ctx, code) != 0)
        return;
    portail_db_t *db;
    member_rec_t m;
    if (enrolment_start(ctx, &db, &m) != 0)
        return;
    if (!m.totp_pending) {
        portail_problem(ctx, 409, NULL,
                        "Aucune activation en cours, ou elle a expiré : affichez de nouveau le "
                        "code QR.");
        return;
    }
    long long step = -1;
    if (login_check_enrolment_code(ctx, m.totp_pending, m.totp_pending_len, code, &step) != 0)
        return;
    if (login_begin(ctx, db) != 0)
        return;
    long long n = portail_db_exec(db,
                                  "UPDATE members SET totp_secret = totp_pending, "
                                  "totp_enabled_at = UTC_TIMESTAMP(), totp_last_step = ?, "
                                  "totp_pending = NULL, totp_pending_at = NULL, "
                                  "updated_at = UTC_TIMESTAMP() "
                                  "WHERE id = ? AND totp_secret IS NULL AND totp_pending = ?",
                                  "llb", step, (long long)m.id, m.totp_pending, m.totp_pending_len);
    if (n != 1) {
        if (n < 0)
            login_internal(ctx, "totp activation failed");
        else
            portail_problem(ctx, 409, NULL,
                            "La double authentification a été activée entre-temps.");
        return;
    }
    json_t *codes = portail_arena_json(portail_arena(ctx), json_array());
    if (new_recovery_codes(ctx, db, m.id, codes) != 0 ||
        event(ctx, m.id, "totp_enabled", NULL) != 0 ||
        mail(ctx, db, m.email, "totp_enabled", (const char *const[]){"where", where(ctx), NULL}) !=
            0)
        return;
    if (signed_in(ctx, db, m.id, "totp_enrolment") != 0 || login_commit(ctx, db) != 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:O}", "recovery_codes", codes));
}

/* ---- POST /api/v1/logout ---------------------------------------------------------------- */

void login_logout(portail_ctx_t *ctx)
{
    if (portail_session_end(ctx) != 0)
        return;
    portail_respond_empty(ctx, 204);
}

/* ---- GET /api/v1/me ---------------------------------------------------------------------- */

void login_me(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *row = portail_db_row(
        db,
        "SELECT m.id, i.nir, i.first_name, i.last_name, i.birth_date, m.email, i.fund, "
        "m.totp_enabled_at IS NOT NULL AS totp_enabled, "
        "(SELECT COUNT(*) FROM member_recovery_codes r WHERE r.member_id = m.id "
        "AND r.used_at IS NULL) AS recovery_codes_left "
        "FROM members m JOIN insured i ON i.id = m.insured_id WHERE m.id = ?",
        "l", (long long)portail_principal(ctx)->id);
    if (!row) {
        login_internal(ctx, "me: member not found");
        return;
    }
    json_object_set_new(row, "totp_enabled",
                        json_boolean(portail_row_int(row, "totp_enabled", 0) == 1));
    portail_respond_json(ctx, 200, json_incref(row));
}

/* ---- GET /api/v1/sessions, DELETE /api/v1/sessions/{id} ---------------------------------- */

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
    const char *id = portail_req_param(ctx, "id");
    size_t n = id ? strlen(id) : 0;
    int digits = n > 0 && n <= SESSION_ID_MAX;
    for (size_t i = 0; digits && i < n; i++)
        digits = id[i] >= '0' && id[i] <= '9';
    if (!digits) {
        portail_problem(ctx, 404, NULL, "Cette session n'existe pas ou n'est plus active.");
        return;
    }
    int64_t member = portail_principal(ctx)->id;
    int rc = portail_session_revoke(ctx, (int64_t)strtoll(id, NULL, 10));
    if (rc < 0) {
        if (!portail_responded(ctx))
            login_internal(ctx, "session revoke failed");
        return;
    }
    if (rc == 1) {
        portail_problem(ctx, 404, NULL, "Cette session n'existe pas ou n'est plus active.");
        return;
    }
    if (portail_security_event(ctx, member, "session_revoked", NULL) != 0)
        portail_log_error(ctx, "login: event not recorded");
    portail_respond_empty(ctx, 204);
}

/* ---- POST /api/v1/password/change and /api/v1/totp/reset -------------------------------- */

/* Re-checks the member's password. 1 right; 0 wrong (answered: 401, or 423
 * when this failure makes too many in the window); -1 answered (error). */
static int password_recheck(portail_ctx_t *ctx, portail_db_t *db, const member_rec_t *m,
                            const char *password, const char *what)
{
    const login_state_t *st = settings_of(ctx);
    int ok = portail_password_verify(ctx, m->password_hash, password);
    if (ok < 0)
        return -1;
    if (ok)
        return 1;
    const char *key = login_key(ctx, "password-recheck",
                                portail_sprintf(portail_arena(ctx), "%lld", (long long)m->id));
    if (login_begin(ctx, db) != 0)
        return -1;
    int wait = portail_throttle_hit(db, key, st->password_change_window_s,
                                    st->max_password_change_failures);
    if (wait < 0) {
        login_internal(ctx, "recheck throttle failed");
        return -1;
    }
    if (event(ctx, m->id, what, "mot de passe actuel incorrect") != 0)
        return -1;
    if (wait > 0 && portail_account_lock(ctx, m->id, PORTAIL_LOCK_SUSPICIOUS,
                                         "mots de passe actuels incorrects répétés") != 0) {
        login_internal(ctx, "lock failed");
        return -1;
    }
    if (login_commit(ctx, db) != 0)
        return -1;
    if (wait > 0) {
        portail_session_end(ctx);
        login_respond_locked(ctx, PORTAIL_LOCK_SUSPICIOUS);
        return 0;
    }
    portail_problem(ctx, 401, "Mot de passe incorrect", "Le mot de passe actuel est incorrect.");
    return 0;
}

void login_password_change(portail_ctx_t *ctx)
{
    json_t *b = body(ctx), *errors = NULL;
    const char *current = portail_json_str(b, "current", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    const char *fresh = portail_json_str(b, "new", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || current_member(ctx, db, &m) != 0)
        return;
    if (password_recheck(ctx, db, &m, current, "password_change_failed") != 1)
        return;
    const char *context[] = {m.nir, m.birth_date, m.first_name, m.last_name, NULL};
    const char *weak = portail_password_problem(ctx, fresh, context);
    if (weak) {
        portail_field_error(&errors, "new", weak);
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *hash = NULL;
    if (portail_password_hash(ctx, fresh, &hash) != 0)
        return;
    if (login_begin(ctx, db) != 0)
        return;
    if (portail_db_exec(db,
                        "UPDATE members SET password_hash = ?, updated_at = UTC_TIMESTAMP() "
                        "WHERE id = ?",
                        "sl", hash, (long long)m.id) != 1 ||
        portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_MEMBER, m.id,
                                    portail_principal(ctx)->session_id) < 0) {
        login_internal(ctx, "password change failed");
        return;
    }
    if (event(ctx, m.id, "password_changed", NULL) != 0 ||
        mail(ctx, db, m.email, "password_changed",
             (const char *const[]){"where", where(ctx), NULL}) != 0)
        return;
    if (login_commit(ctx, db) != 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "changed"));
}

void login_totp_reset(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *password =
        portail_json_str(body(ctx), "password", 1, LOGIN_PASSWORD_MAX_BYTES, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    member_rec_t m;
    if (!db || current_member(ctx, db, &m) != 0)
        return;
    if (password_recheck(ctx, db, &m, password, "totp_reset_failed") != 1)
        return;
    if (login_begin(ctx, db) != 0)
        return;
    if (portail_db_exec(db,
                        "UPDATE members SET totp_secret = NULL, totp_enabled_at = NULL, "
                        "totp_last_step = NULL, totp_pending = NULL, totp_pending_at = NULL, "
                        "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        "l", (long long)m.id) != 1 ||
        portail_db_exec(db, "DELETE FROM member_recovery_codes WHERE member_id = ?", "l",
                        (long long)m.id) < 0 ||
        portail_sessions_revoke_all(db, PORTAIL_PRINCIPAL_MEMBER, m.id,
                                    portail_principal(ctx)->session_id) < 0) {
        login_internal(ctx, "totp reset failed");
        return;
    }
    if (event(ctx, m.id, "totp_reset", NULL) != 0 ||
        mail(ctx, db, m.email, "totp_disabled", (const char *const[]){"where", where(ctx), NULL}) !=
            0)
        return;
    if (login_commit(ctx, db) != 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:s}", "next", "totp_enroll"));
}
