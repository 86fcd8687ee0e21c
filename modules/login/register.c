/* Module login: registration. An insured person asks for an account with
 * NIR, birth date, the postcode on file and the last 7 characters of the
 * IBAN the fund pays into (what the fund knows and a stranger who guessed
 * the birth day does not), plus an e-mail address used only when none is
 * on file. The answer never tells whether the person exists, has an
 * account or gave right data: always 202, the same body. A link by mail
 * (to the address on file when there is one) lets the person choose a
 * password (POST /api/v1/register/confirm), which creates the account. */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include <portail/texts.h>

#define IBAN_END 7

/* ---- POST /api/v1/register ----------------------------------------------------- */

/* What proves the person beyond birth date and postcode, decided once from
 * the fields: the IBAN's end wins over a code, a code over asking for one
 * by post (by_post: true, when the fund has no IBAN). */
enum proof { PROOF_IBAN, PROOF_CODE, PROOF_LETTER };

/* The last 7 characters of an IBAN as typed: spaces dropped, upper case. */
static const char *iban_end_field(portail_arena_t *a, const char *in, const char **msg)
{
    char out[IBAN_END + 1];
    size_t n = 0;
    *msg = TXT_LOGIN_SAISISSEZ_FIN_IBAN;
    for (const char *p = in; *p; p++) {
        if (*p == ' ')
            continue;
        if (!isalnum((unsigned char)*p) || n >= IBAN_END)
            return NULL;
        out[n++] = (char)toupper((unsigned char)*p);
    }
    if (n != IBAN_END)
        return NULL;
    out[n] = '\0';
    return portail_strdup(a, out);
}

/* A provisional code as typed from the letter (login_code_normalize). */
static const char *code_field(portail_arena_t *a, const char *in, const char **msg)
{
    char out[RECOVERY_CHARS + 1];
    *msg = TXT_LOGIN_SAISISSEZ_CODE_PROVISOIRE;
    return login_code_normalize(in, out) == 0 ? portail_strdup(a, out) : NULL;
}

/* The birth date and the postcode on file, then the proof: the IBAN's end,
 * or the code by post (code_ok, checked by the caller), or, for a letter,
 * that no IBAN is on file. The comparisons run in full whatever fails
 * first. */
static int proof_matches(json_t *row, const char *birth, const char *postcode, enum proof proof,
                         const char *iban_end, int code_ok)
{
    const char *born = portail_row_str(row, "birth_date");
    const char *postal = portail_row_str(row, "postal_code");
    const char *iban = portail_row_str(row, "iban");
    int ok = born && strcmp(born, birth) == 0;
    ok &= postal && strcmp(postal, postcode) == 0;
    size_t len = iban ? strlen(iban) : 0;
    if (proof == PROOF_IBAN)
        ok &= len >= IBAN_END && sodium_memcmp(iban + len - IBAN_END, iban_end, IBAN_END) == 0;
    else if (proof == PROOF_LETTER)
        ok &= len == 0;
    else
        ok &= code_ok;
    return ok;
}

/* 1 when code is the person's live provisional code (then spent), 0 not,
 * -1 error (500 set). In the caller's transaction. */
static int code_spend(portail_ctx_t *ctx, portail_db_t *db, long long insured_id, const char *code)
{
    unsigned char digest[PORTAIL_DIGEST_BYTES];
    if (portail_secret_digest(ctx, code, digest) != 0)
        return -1;
    long long n = portail_db_exec(db,
                                  "DELETE FROM register_codes WHERE insured_id = ? AND "
                                  "code_hash = ? AND expires_at > UTC_TIMESTAMP()",
                                  "lb", insured_id, digest, sizeof digest);
    if (n < 0)
        login_internal(ctx, "register code check failed");
    return n < 0 ? -1 : n > 0;
}

/* A new provisional code for the person (replacing any earlier one) and the
 * job that writes the letter, in the caller's transaction. 0 or -1. */
static int code_by_post(portail_ctx_t *ctx, portail_db_t *db, long long insured_id, int ttl_s)
{
    char raw[RECOVERY_CHARS + 1], shown[RECOVERY_CHARS + 2];
    login_code_new(raw, shown);
    unsigned char digest[PORTAIL_DIGEST_BYTES];
    int rc = portail_secret_digest(ctx, raw, digest);
    sodium_memzero(raw, sizeof raw);
    if (rc != 0)
        return -1;
    if (portail_db_exec(db,
                        "INSERT INTO register_codes (insured_id, code_hash, expires_at) "
                        "VALUES (?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND) "
                        "ON DUPLICATE KEY UPDATE code_hash = VALUES(code_hash), "
                        "created_at = UTC_TIMESTAMP(), expires_at = VALUES(expires_at)",
                        "lbi", insured_id, digest, sizeof digest, ttl_s) < 0) {
        login_internal(ctx, "register code not stored");
        return -1;
    }
    /* The clear code rides in the job's payload to the letter, where it has
     * to be printed; a job run twice writes its letter once
     * (letters.job_id). */
    json_t *payload =
        portail_arena_json(portail_arena(ctx), json_pack("{s:I,s:s,s:i}", "insured_id", insured_id,
                                                         "code", shown, "days", ttl_s / 86400));
    sodium_memzero(shown, sizeof shown);
    if (!payload || portail_job_enqueue(db, LOGIN_LETTER_JOB, payload, 0, NULL) != 0) {
        login_internal(ctx, "letter job not queued");
        return -1;
    }
    return 0;
}

/* ---- job login.register_letter: the letter with the provisional code -------------- */

/* The letter as a PDF through the core's PDF service (the fund's header,
 * page numbers): one paragraph per blank-line-separated block of `text`.
 * NULL (the print queue then keeps the text only) when it cannot be made. */
static const void *letter_pdf(portail_job_t *job, const char *text, size_t *len)
{
    portail_arena_t *a = portail_job_arena(job);
    const portail_pdf_meta_t meta = {.title = TXT_LOGIN_LETTRE_TITRE,
                                     .footer = TXT_LOGIN_LETTRE_A_CONSERVER};
    portail_pdf_t *pdf = portail_pdf_new(a, &meta);
    *len = 0;
    if (!pdf)
        return NULL;
    for (const char *p = text; *p;) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && portail_pdf_paragraph(pdf, portail_strndup(a, p, n)) != 0)
            return NULL;
        p += n;
        while (*p == '\n')
            p++;
    }
    const unsigned char *bytes = NULL;
    if (portail_pdf_render(pdf, &bytes, len) != 0) {
        portail_job_log_warn(job, "letter PDF not rendered; the print queue keeps the text");
        *len = 0;
        return NULL;
    }
    return bytes;
}

int login_register_letter_job(portail_job_t *job)
{
    json_t *p = portail_job_payload(job);
    long long insured_id = (long long)json_integer_value(json_object_get(p, "insured_id"));
    const char *code = json_string_value(json_object_get(p, "code"));
    long long days = (long long)json_integer_value(json_object_get(p, "days"));
    portail_db_t *db = portail_job_db(job);
    if (!db || !code || insured_id <= 0)
        return -1;
    json_t *who = portail_db_row(db,
                                 "SELECT nir, sex, first_name, last_name, address_line, "
                                 "postal_code, city, fund FROM insured WHERE id = ?",
                                 "l", insured_id);
    if (!who) {
        portail_job_set_error(job, "insured person not found");
        return -1;
    }
    portail_arena_t *a = portail_job_arena(job);
    const char *fund = portail_row_str(who, "fund");
    const char *addr = portail_row_str(who, "address_line");
    const char *postal = portail_row_str(who, "postal_code");
    const char *city = portail_row_str(who, "city");
    const char *title =
        portail_row_int(who, "sex", 1) == 2 ? TXT_LOGIN_LETTRE_MADAME : TXT_LOGIN_LETTRE_MONSIEUR;
    const char *text = portail_sprintf(
        a, TXT_LOGIN_LETTRE_CODE_PROVISOIRE, title, portail_row_str(who, "first_name"),
        portail_row_str(who, "last_name"), addr ? addr : "", postal ? postal : "", city ? city : "",
        title, fund ? fund : "l’Assurance Maladie", code, days, days >= 2 ? "s" : "");
    json_t *data = portail_arena_json(
        a, json_pack("{s:s,s:s}", "nir", portail_row_str(who, "nir"), "purpose", "register_code"));
    char *data_text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    size_t pdf_len = 0;
    const void *pdf = letter_pdf(job, text, &pdf_len);
    long long n = data_text
                      ? portail_db_exec(db,
                                        "INSERT IGNORE INTO letters (job_id, kind, "
                                        "insured_id, body, data, pdf) "
                                        "VALUES (?, ?, ?, ?, ?, ?)",
                                        "lslssb", (long long)portail_job_id(job), LOGIN_LETTER_JOB,
                                        insured_id, text, data_text, pdf, pdf_len)
                      : -1;
    portail_json_free(data_text);
    if (n < 0) {
        portail_job_set_error(job, "letter not queued for printing");
        return -1;
    }
    portail_job_log_info(job, "registration letter queued for insured %lld", insured_id);
    return 0;
}

/* What the registration's transaction needs of the request, and what it
 * did (said: the log line of its outcome, written once it committed). */
typedef struct register_tx {
    const login_state_t *st;
    json_t *row; /* the person, or NULL when the NIR is nobody's */
    enum proof proof;
    const char *birth, *postcode, *iban_end, *code, *email;
    const char *fkey; /* the wrong tries of this NIR */
    int person_wait;  /* > 0: too many of them, the data is not looked at */
    const char *said;
} register_tx_t;

/* The proof checked and counted, then the code by post, the notice to an
 * existing account or the link: together, rerun on a 1213/1205 (on a
 * Galera cluster two requests for one person through two hosts meet at
 * the COMMIT). Every outcome, right data or not, commits: the caller's
 * one answer follows. */
static int register_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    register_tx_t *t = arg;
    const login_state_t *st = t->st;
    json_t *row = t->row;
    int code_ok = 0;
    t->said = NULL; /* a rerun may end otherwise */
    if (row && t->proof == PROOF_CODE && t->person_wait == 0) {
        code_ok = code_spend(ctx, db, portail_row_int(row, "insured_id", 0), t->code);
        if (code_ok < 0)
            return -1;
    }
    int match = row ? proof_matches(row, t->birth, t->postcode, t->proof, t->iban_end, code_ok) : 0;
    if (!match || t->person_wait > 0) {
        /* The same work as a right answer's: a transaction with a write. */
        if (!match && portail_throttle_hit(db, t->fkey, st->register_failure_window_s,
                                           st->register_failures_max) < 0) {
            login_internal(ctx, "register throttle failed");
            return -1;
        }
        t->said = t->person_wait > 0 ? "register: too many wrong tries for this NIR"
                                     : "register: no insured person matches";
        return 0;
    }
    long long insured_id = portail_row_int(row, "insured_id", 0);
    long long member_id = portail_row_int(row, "member_id", 0);
    const char *member_email = portail_row_str(row, "member_email");
    const char *on_file = portail_row_str(row, "insured_email");
    int has_account = portail_row_int(row, "has_account", 0) == 1;

    /* A few mails an hour per person at most, whoever asks. */
    const char *pkey =
        login_key(ctx, "register-person", portail_sprintf(portail_arena(ctx), "%lld", insured_id));
    int wait = portail_throttle_check(db, pkey, 3600, st->register_mails_per_hour);
    if (wait != 0) {
        if (wait < 0) {
            login_internal(ctx, "register throttle failed");
            return -1;
        }
        t->said = "register: mail budget of this person spent, nothing sent";
        return 0;
    }
    /* Asking for a letter proves too little to wipe the wrong tries. */
    if (portail_throttle_hit(db, pkey, 3600, st->register_mails_per_hour) < 0 ||
        (t->proof != PROOF_LETTER && portail_throttle_clear(db, t->fkey) < 0)) {
        login_internal(ctx, "register throttle failed");
        return -1;
    }
    if (t->proof == PROOF_LETTER) {
        if (code_by_post(ctx, db, insured_id, st->register_code_ttl_s) != 0)
            return -1;
        t->said = "register: provisional code sent by post";
        return 0;
    }
    if (has_account && member_email) {
        /* To the account's own address, never the one given: whoever typed
         * this must not learn that an account exists. */
        if (member_event(ctx, member_id, "register_existing", NULL) != 0 ||
            member_mail(ctx, db, member_email, "register_existing",
                        (const char *const[]){"where", login_where(ctx), NULL}) != 0)
            return -1;
        return 0;
    }
    /* The address on file wins: a typed one is used only when the fund
     * has none, and then the link itself confirms it (as an e-mail
     * change is confirmed by a link to the new address). A member can
     * change it later through the confirmed e-mail change. */
    const char *to = on_file && *on_file ? on_file : t->email;
    json_t *data = portail_arena_json(portail_arena(ctx), json_pack("{s:s}", "email", to));
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    const char *token = NULL;
    int rc = text ? portail_token_issue(db, portail_arena(ctx), "register", insured_id, text,
                                        st->register_ttl_s, &token)
                  : -1;
    portail_json_free(text);
    if (rc != 0) {
        login_internal(ctx, "register token not issued");
        return -1;
    }
    int minutes = st->register_ttl_s / 60;
    return member_mail(
        ctx, db, to, "register_confirm",
        (const char *const[]){"minutes", portail_sprintf(portail_arena(ctx), "%d", minutes), "link",
                              login_link(ctx, "/inscription/confirmation.html", token), NULL});
}

void login_register(portail_ctx_t *ctx)
{
    const login_state_t *st = login_settings(ctx);
    json_t *b = login_body(ctx), *errors = NULL;
    portail_arena_t *a = portail_arena(ctx);
    const char *birth =
        portail_json_valid(a, b, "birth_date", 1, portail_valid_birth_date, &errors);
    const char *postcode =
        portail_json_valid(a, b, "postal_code", 1, portail_valid_postcode, &errors);
    int by_post = json_is_true(json_object_get(b, "by_post"));
    const char *code = portail_json_valid(a, b, "code", 0, code_field, &errors);
    const char *iban_end =
        portail_json_valid(a, b, "iban_end", !code && !by_post, iban_end_field, &errors);
    const char *email = portail_json_valid(a, b, "email", 1, portail_valid_email, &errors);
    const char *nir = member_nir_field(ctx, b, birth, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    enum proof proof = iban_end ? PROOF_IBAN : code ? PROOF_CODE : PROOF_LETTER;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;

    /* Per client address, so that one source cannot mail-bomb people. The
     * answer says nothing about the person. */
    const char *ipkey = login_key(ctx, "register-ip", portail_client(ctx)->ip);
    int wait = portail_throttle_check(db, ipkey, 3600, st->register_ip_max);
    if (wait > 0) {
        portail_problem_retry(ctx, 429, wait, NULL, TXT_LOGIN_TROP_DE_DEMANDES_INSCRIPTION);
        return;
    }
    if (wait < 0 || portail_throttle_hit(db, ipkey, 3600, st->register_ip_max) < 0) {
        login_internal(ctx, "register throttle failed");
        return;
    }

    /* Wrong data counts against the person (the NIR), whatever address it
     * comes from: many addresses cannot share the guessing. Known or not,
     * every NIR is counted alike so that the count tells nothing. */
    const char *fkey = login_secret_key(ctx, "register-fail", nir);
    if (!fkey)
        return;
    int person_wait =
        portail_throttle_check(db, fkey, st->register_failure_window_s, st->register_failures_max);
    if (person_wait < 0) {
        login_internal(ctx, "register throttle failed");
        return;
    }

    json_t *row = portail_db_row(db,
                                 "SELECT i.id AS insured_id, i.birth_date, i.postal_code, i.iban, "
                                 "i.email AS insured_email, m.id AS member_id, "
                                 "m.email AS member_email, "
                                 "m.password_hash IS NOT NULL AS has_account "
                                 "FROM insured i LEFT JOIN members m ON m.insured_id = i.id "
                                 "WHERE i.nir = ?",
                                 "s", nir);
    if (!row && portail_db_failed(db)) {
        login_internal(ctx, "insured lookup failed");
        return;
    }
    register_tx_t t = {.st = st,
                       .row = row,
                       .proof = proof,
                       .birth = birth,
                       .postcode = postcode,
                       .iban_end = iban_end,
                       .code = code,
                       .email = email,
                       .fkey = fkey,
                       .person_wait = person_wait};
    if (portail_tx_retry(ctx, register_tx, &t) != 0)
        return;
    if (t.said)
        portail_log_info(ctx, "%s", t.said);
    /* The one answer of every outcome, right data or not. */
    portail_respond_json(ctx, 202, json_pack("{s:s}", "status", "pending"));
}

/* ---- POST /api/v1/register/confirm ---------------------------------------------- */

static void link_gone(portail_ctx_t *ctx)
{
    portail_problem(ctx, 410, NULL, TXT_LOGIN_LIEN_INSCRIPTION_INVALIDE);
}

/* ---- POST /api/v1/register/confirm/check {token} ------------------------------
 * Whether the link would still work, without spending it: what the page
 * says as soon as it opens. The same lookup as confirm (the token's hash,
 * by index: no timing on the secret) and nothing more than confirm tells:
 * 200 {status: "valid"}, or its 410 (expired, used, unknown, or the
 * account created meanwhile). */
void login_register_check(portail_ctx_t *ctx)
{
    json_t *b = login_body(ctx), *errors = NULL;
    const char *token = portail_json_str(b, "token", 1, TOKEN_MAX, &errors);
    if (login_fields_done(ctx, errors) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int64_t insured_id = 0;
    int rc = portail_token_peek(db, portail_arena(ctx), "register", token, &insured_id, NULL);
    if (rc < 0) {
        login_internal(ctx, "token lookup failed");
        return;
    }
    if (rc != PORTAIL_TOKEN_OK) {
        link_gone(ctx);
        return;
    }
    json_t *row = portail_db_row(db,
                                 "SELECT password_hash IS NOT NULL AS has_password FROM members "
                                 "WHERE insured_id = ?",
                                 "l", (long long)insured_id);
    if (!row && portail_db_failed(db)) {
        login_internal(ctx, "member lookup failed");
        return;
    }
    if (row && portail_row_int(row, "has_password", 0) == 1) {
        link_gone(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "valid"));
}

typedef struct confirm_tx {
    const char *token, *email, *hash;
    int64_t insured_id;
    long long member_id; /* out */
} confirm_tx_t;

/* The link spent, the account's password and address set, the event and
 * the mail: together, rerun on a 1213/1205 (on a Galera cluster the same
 * link sent twice through two hosts meets at the COMMIT). */
static int confirm_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    confirm_tx_t *t = arg;
    if (login_link_spend(ctx, db, "register", t->token, TXT_LOGIN_LIEN_INSCRIPTION_INVALIDE) != 0)
        return -1;
    json_t *row =
        portail_db_row(db,
                       "SELECT id, password_hash IS NOT NULL AS has_password FROM members "
                       "WHERE insured_id = ? FOR UPDATE",
                       "l", (long long)t->insured_id);
    if (!row && portail_db_failed(db)) {
        login_internal(ctx, "member lookup failed");
        return -1;
    }
    if (row && portail_row_int(row, "has_password", 0) == 1) {
        link_gone(ctx); /* created meanwhile through another link */
        return -1;
    }
    if (row) {
        t->member_id = portail_row_int(row, "id", 0);
        if (portail_db_exec(db,
                            "UPDATE members SET email = ?, password_hash = ?, "
                            "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                            "ssl", t->email, t->hash, t->member_id) != 1) {
            login_internal(ctx, "member update failed");
            return -1;
        }
    } else {
        if (portail_db_exec(db,
                            "INSERT INTO members (insured_id, email, password_hash) "
                            "VALUES (?, ?, ?)",
                            "lss", (long long)t->insured_id, t->email, t->hash) != 1) {
            login_internal(ctx, "member insert failed");
            return -1;
        }
        t->member_id = (long long)portail_db_insert_id(db);
    }
    if (member_event(ctx, t->member_id, "account_created", NULL) != 0 ||
        member_mail(ctx, db, t->email, "register_done", NULL) != 0)
        return -1;
    return 0;
}

void login_register_confirm(portail_ctx_t *ctx)
{
    json_t *b = login_body(ctx), *errors = NULL;
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

    confirm_tx_t t = {.token = token, .email = email, .hash = hash, .insured_id = insured_id};
    if (portail_tx_retry(ctx, confirm_tx, &t) != 0)
        return;
    portail_log_info(ctx, "member %lld: account created", t.member_id);
    portail_respond_json(ctx, 201, json_pack("{s:s}", "status", "created"));
}
