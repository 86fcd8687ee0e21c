/* Module coverage: the member's rights (CSS, ALD), beneficiaries (ayants
 * droit), médecin traitant (read through the core's directory of
 * practitioners), cartes Vitale, and the attestation de droits as a PDF
 * whose code anyone can check on a public page. Every member query goes
 * through portail_member_* with {member}: another member's beneficiary or
 * card is simply not found (404). The member's account points at an insured
 * person (members.insured_id); the tables are keyed by the insured person
 * so that the seed covers people without an account too. */
#include "coverage.h"
#include <portail/texts.h>
#include <portail/practitioners.h>
#include <portail/throttle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define INSURED COVERAGE_INSURED
#define CODE_LEN 20
/* Two files of 5 MiB at most, and the multipart framing. */
#define VITALE_FILE_MAX ((size_t)5 << 20)
#define VITALE_BODY_MAX (2 * VITALE_FILE_MAX + 64 * 1024)

struct coverage_state {
    const char *verify_url;
    long long verify_per_hour;
    long long doctor_confirm_seconds;
    /* Delay before each step of vitale_steps (production, sending,
     * activation). */
    long long vitale_delay[3];
};

static const portail_setting_t settings[] = {
    {.name = "verify_url",
     .type = PORTAIL_SETTING_STRING,
     .min = 8,
     .max = 300,
     .def_str = "https://portail.example/coverage/verifier.html"},
    {.name = "doctor_confirm_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 0,
     .max = 2592000,
     .def_int = 86400},
    {.name = "vitale_production_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 0,
     .max = 2592000,
     .def_int = 172800},
    {.name = "vitale_send_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 0,
     .max = 2592000,
     .def_int = 432000},
    {.name = "vitale_activate_seconds",
     .type = PORTAIL_SETTING_INT,
     .min = 0,
     .max = 2592000,
     .def_int = 259200},
    {.name = "verify_per_hour",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 100000,
     .def_int = 60},
    {0},
};

static const portail_permission_t permissions[] = {
    {.name = "coverage.write", .description = TXT_COVERAGE_PERMISSION_WRITE, .default_agent = 1},
    {.name = "coverage.read", .description = TXT_COVERAGE_PERMISSION_READ, .default_agent = 1},
    {0},
};

static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_MEMBER,
     .label = TXT_COVERAGE_MES_DROITS,
     .href = "/coverage/",
     .text = TXT_COVERAGE_DESCRIPTION_DROITS,
     .order = 20},
    {.menu = PORTAIL_MENU_MEMBER,
     .label = TXT_COVERAGE_MENU_ATTESTATION,
     .href = "/coverage/attestation.html",
     .text = TXT_COVERAGE_DESCRIPTION_ATTESTATION,
     .order = 21},
    {.menu = PORTAIL_MENU_MEMBER,
     .label = "Carte Vitale",
     .href = "/coverage/vitale.html",
     .text = TXT_COVERAGE_DESCRIPTION_VITALE,
     .order = 22},
    {.menu = PORTAIL_MENU_MEMBER,
     .label = TXT_COVERAGE_MENU_PROFIL,
     .href = "/coverage/profil.html",
     .text = TXT_COVERAGE_DESCRIPTION_PROFIL,
     .order = 23},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = TXT_COVERAGE_MENU_AGENT,
     .href = "/coverage/backoffice.html",
     .permission = "coverage.read",
     .order = 20},
    {0},
};

static void coverage_get(portail_ctx_t *ctx);
static void beneficiary_get(portail_ctx_t *ctx);
static void attestation_pdf(portail_ctx_t *ctx);
static void attestation_verify(portail_ctx_t *ctx);
static void vitale_list(portail_ctx_t *ctx);
static void vitale_report(portail_ctx_t *ctx);
static void vitale_order(portail_ctx_t *ctx);
static void practitioners_search(portail_ctx_t *ctx);
static void doctor_declare(portail_ctx_t *ctx);
static void bo_coverage(portail_ctx_t *ctx);
static int summary(portail_ctx_t *ctx, void **card);

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/coverage",
     .handler = coverage_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/coverage/beneficiaries/{id}",
     .handler = beneficiary_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/coverage/attestation.pdf",
     .handler = attestation_pdf,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/coverage/attestations/verify/{code}",
     .handler = attestation_verify,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/coverage/vitale",
     .handler = vitale_list,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/coverage/vitale/{person}/report",
     .handler = vitale_report,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = 1024},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/coverage/vitale/{person}/order",
     .handler = vitale_order,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = VITALE_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/coverage/practitioners",
     .handler = practitioners_search,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/coverage/doctor",
     .handler = doctor_declare,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = 1024},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/profile",
     .handler = coverage_profile_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_PUT,
     .pattern = "/api/v1/profile/contact",
     .handler = coverage_profile_contact,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = 4096},
    {.methods = PORTAIL_PUT,
     .pattern = "/api/v1/profile/bank",
     .handler = coverage_profile_bank,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = 4096},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/coverage/cards/{id}/cancel-report",
     .handler = coverage_bo_cancel_report,
     .auth = PORTAIL_AUTH_AGENT,
     .body_max = 2048,
     .permission = "coverage.write",
     .audit = "coverage.card_report_cancelled"},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/coverage/profile-changes/{id}",
     .handler = coverage_bo_decide_change,
     .auth = PORTAIL_AUTH_AGENT,
     .body_max = 2048,
     .permission = "coverage.write",
     .audit = "coverage.profile_change_decided"},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/coverage/members/{id}",
     .handler = bo_coverage,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "coverage.read",
     .audit = "coverage.read"},
    {0},
};

/* The steps of an ordered card, each a run of coverage.vitale_advance
 * (payload {card, to}) after its delay (coverage_state.vitale_delay). */
static const struct vitale_step {
    const char *from, *to, *title, *text;
} vitale_steps[] = {
    {"ordered", "in_production", "Carte Vitale en fabrication",
     TXT_COVERAGE_NOTIFICATION_FABRICATION},
    {"in_production", "sent", TXT_COVERAGE_NOTIFICATION_ENVOYEE_TITRE,
     TXT_COVERAGE_NOTIFICATION_ENVOYEE_TEXTE},
    {"sent", "active", "Carte Vitale active", TXT_COVERAGE_NOTIFICATION_ACTIVE_TEXTE},
};
#define VITALE_STEPS (sizeof(vitale_steps) / sizeof(vitale_steps[0]))

/* The practitioner's side confirming a declaration: in this system, a job
 * after doctor_confirm_seconds. */
static int job_doctor_confirm(portail_job_t *job);
/* The card maker's side of an order: ordered → in_production → sent →
 * active (the card works once the post has had time to deliver it; a card
 * that never arrives is then reported lost like any other, whereas waiting
 * for the member's confirmation would leave it "sent" for ever and block
 * any new order). */
static int job_vitale_advance(portail_job_t *job);

static const portail_job_kind_t jobs[] = {
    {.name = "coverage.doctor_confirm",
     .handler = job_doctor_confirm,
     .max_attempts = 5,
     .lease_seconds = 30},
    {.name = "coverage.vitale_advance",
     .handler = job_vitale_advance,
     .max_attempts = 5,
     .lease_seconds = 30},
    {0},
};

static const portail_hook_t hooks[] = {
    {.event = PORTAIL_HOOK_ACCOUNT_UNLOCKED, .handler = coverage_on_unlocked},
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    struct coverage_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "coverage: out of memory");
        return -1;
    }
    st->verify_url = portail_settings_str(s, "verify_url");
    st->verify_per_hour = portail_settings_int(s, "verify_per_hour");
    st->doctor_confirm_seconds = portail_settings_int(s, "doctor_confirm_seconds");
    st->vitale_delay[0] = portail_settings_int(s, "vitale_production_seconds");
    st->vitale_delay[1] = portail_settings_int(s, "vitale_send_seconds");
    st->vitale_delay[2] = portail_settings_int(s, "vitale_activate_seconds");
    if (portail_notify_kind("coverage.vitale", "Carte Vitale") != 0) {
        snprintf(err, errlen, "coverage: notification kind refused");
        free(st);
        return -1;
    }
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

PORTAIL_MODULE_INIT(.name = "coverage", .version = "1.0.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes, .permissions = permissions, .nav = nav,
                    .hooks = hooks, .jobs = jobs, .summary = summary);

void coverage_fail(portail_ctx_t *ctx)
{
    if (!portail_responded(ctx))
        portail_problem(ctx, 500, NULL, NULL);
}

int coverage_missing(portail_ctx_t *ctx, const json_t *row, const char *detail)
{
    if (row)
        return 0;
    if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
        coverage_fail(ctx);
    else
        portail_problem(ctx, 404, NULL, detail);
    return -1;
}

/* ---- SQL helpers (member scope) -------------------------------------------- */

static json_t *my_rights(portail_ctx_t *ctx)
{
    return portail_member_row(
        ctx,
        "SELECT i.last_name, i.first_name, i.nir, i.birth_date, r.regime, r.fund, r.open_from, "
        "r.open_to, r.css, r.css_from, r.css_to, r.ald_label, r.ald_from, r.ald_to "
        "FROM insured i JOIN coverage_rights r ON r.insured_id = i.id "
        "WHERE i.id = " INSURED,
        "");
}

#define BENEFICIARY_COLUMNS                                                                        \
    "b.id, b.relation, b.nir, b.temp_number, b.last_name, b.first_name, b.birth_date, b.sex, "     \
    "b.rights_from, b.rights_to, b.css"

static json_t *my_beneficiaries(portail_ctx_t *ctx)
{
    return portail_member_rows(ctx,
                               "SELECT " BENEFICIARY_COLUMNS " FROM coverage_beneficiaries b "
                               "WHERE b.insured_id = " INSURED " ORDER BY b.birth_date LIMIT 50",
                               "");
}

static json_t *my_beneficiary(portail_ctx_t *ctx, int64_t id)
{
    return portail_member_row(ctx,
                              "SELECT " BENEFICIARY_COLUMNS " FROM coverage_beneficiaries b "
                              "WHERE b.id = ? AND b.insured_id = " INSURED,
                              "l", (long long)id);
}

/* The current and pending declarations of the holder, with the practitioner
 * read through the core's directory. */
static json_t *my_doctor(portail_ctx_t *ctx, const char *status)
{
    json_t *row =
        portail_member_row(ctx,
                           "SELECT id, practitioner_id, status, declared_on, "
                           "confirmed_on FROM coverage_doctors WHERE insured_id = " INSURED
                           " AND beneficiary_id IS NULL AND status = ? "
                           "ORDER BY id DESC LIMIT 1",
                           "s", status);
    if (!row)
        return NULL;
    json_t *p =
        portail_practitioner_get(portail_db(ctx), portail_row_int(row, "practitioner_id", 0));
    if (p)
        json_object_set(row, "practitioner", p);
    return row;
}

static json_t *my_cards(portail_ctx_t *ctx)
{
    return portail_member_rows(
        ctx,
        "SELECT v.id, v.beneficiary_id, v.serial, v.status, v.issued_on, v.status_since, "
        "v.reported_at, COALESCE(b.first_name, i.first_name) AS first_name, "
        "COALESCE(b.last_name, i.last_name) AS last_name "
        "FROM coverage_vitale v JOIN insured i ON i.id = v.insured_id "
        "LEFT JOIN coverage_beneficiaries b ON b.id = v.beneficiary_id "
        "WHERE v.insured_id = " INSURED " ORDER BY v.beneficiary_id IS NOT NULL, "
        "v.beneficiary_id, v.id DESC LIMIT 100",
        "");
}

/* ---- GET /api/v1/coverage ---------------------------------------------------- */
static void coverage_get(portail_ctx_t *ctx)
{
    json_t *rights = my_rights(ctx);
    if (coverage_missing(ctx, rights, TXT_COVERAGE_AUCUN_DROIT))
        return;
    json_t *bens = my_beneficiaries(ctx);
    if (!bens) {
        coverage_fail(ctx);
        return;
    }
    json_t *doctor = my_doctor(ctx, "current");
    json_t *pending = portail_db_failed(portail_db(ctx)) ? NULL : my_doctor(ctx, "pending");
    if (portail_db_failed(portail_db(ctx))) {
        coverage_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200,
                         json_pack("{s:O, s:O, s:O, s:O}", "rights", rights, "beneficiaries", bens,
                                   "doctor", doctor ? doctor : json_null(), "doctor_pending",
                                   pending ? pending : json_null()));
}

/* ---- GET /api/v1/coverage/beneficiaries/{id} ------------------------------- */
static void beneficiary_get(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *b = my_beneficiary(ctx, id);
    if (coverage_missing(ctx, b, TXT_COVERAGE_AYANT_DROIT_INCONNU))
        return;
    portail_respond_json(ctx, 200, json_incref(b));
}

/* ---- attestation ------------------------------------------------------------ */

static const char *css_label(const char *css)
{
    if (css && strcmp(css, "free") == 0)
        return TXT_COVERAGE_CSS_SANS_PARTICIPATION;
    if (css && strcmp(css, "participation") == 0)
        return TXT_COVERAGE_CSS_AVEC_PARTICIPATION;
    return TXT_COVERAGE_CSS_AUCUNE;
}

static const char *str(const json_t *row, const char *key)
{
    const char *s = portail_row_str(row, key);
    return s ? s : "";
}

/* The first character of a name (UTF-8: É is two bytes), "?" when none. */
static const char *initial(portail_arena_t *a, const char *name)
{
    unsigned char c = (unsigned char)name[0];
    size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    const char *s = portail_clip_utf8(a, name, n);
    return s ? s : "?";
}

/* A code of CODE_LEN characters from a 32-letter alphabet (100 bits):
 * unguessable, and read aloud or typed without ambiguity (no 0/O, 1/I). */
static int new_code(char out[CODE_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char raw[CODE_LEN];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return -1;
    for (int i = 0; i < CODE_LEN; i++)
        out[i] = alphabet[raw[i] & 31];
    out[CODE_LEN] = '\0';
    return 0;
}

/* The new attestation supersedes the person's earlier ones: a checker
 * learns that a newer paper exists. Both in one transaction, rerun whole on
 * a 1213/1205 (portail_tx_retry): on a Galera cluster a write through
 * another node to the same rows aborts it at COMMIT, a 500 for the member
 * otherwise. */
typedef struct attestation_tx {
    const char *code, *initials, *from, *to;
    long long ben;
    int birth_year;
} attestation_tx_t;

static int attestation_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    (void)db;
    const attestation_tx_t *t = arg;
    if (portail_member_exec(ctx,
                            "UPDATE coverage_attestations SET superseded_at = "
                            "UTC_TIMESTAMP() WHERE insured_id = " INSURED
                            " AND beneficiary_id <=> NULLIF(?, 0) AND superseded_at IS NULL",
                            "l", t->ben) < 0 ||
        portail_member_exec(
            ctx,
            "INSERT INTO coverage_attestations (code_hash, insured_id, "
            "beneficiary_id, initials, birth_year, valid_from, "
            "valid_to) VALUES (UNHEX(SHA2(?, 256)), " INSURED ", NULLIF(?, 0), ?, ?, ?, ?)",
            "slsiss", t->code, t->ben, t->initials, t->birth_year, t->from, t->to) != 1)
        return -1;
    return 0;
}

/* GET /api/v1/coverage/attestation.pdf?beneficiary= */
static void attestation_pdf(portail_ctx_t *ctx)
{
    const struct coverage_state *st = portail_module_state(ctx);
    portail_arena_t *a = portail_arena(ctx);
    long long ben_id = 0;
    if (portail_query_int(ctx, "beneficiary", 0, INT64_MAX, 0, &ben_id) != 0)
        return;
    json_t *rights = my_rights(ctx);
    if (coverage_missing(ctx, rights, TXT_COVERAGE_AUCUN_DROIT))
        return;
    json_t *ben = NULL;
    if (ben_id > 0) {
        ben = my_beneficiary(ctx, ben_id);
        if (coverage_missing(ctx, ben, TXT_COVERAGE_AYANT_DROIT_INCONNU))
            return;
    }
    /* The list of beneficiaries is printed on the holder's attestation only. */
    json_t *bens = ben ? NULL : my_beneficiaries(ctx);
    if (!ben && !bens) {
        coverage_fail(ctx);
        return;
    }
    const json_t *who = ben ? ben : rights;
    const char *first = str(who, "first_name"), *last = str(who, "last_name");
    const char *birth = str(who, "birth_date");
    const char *nir =
        ben ? (portail_row_str(ben, "nir") ? str(ben, "nir") : str(ben, "temp_number"))
            : str(rights, "nir");
    const char *from = ben ? str(ben, "rights_from") : str(rights, "open_from");
    const char *to = ben ? str(ben, "rights_to") : str(rights, "open_to");
    const char *initials = portail_sprintf(a, "%s.%s.", initial(a, first), initial(a, last));
    int birth_year = atoi(birth);

    char code[CODE_LEN + 1];
    if (new_code(code) != 0) {
        coverage_fail(ctx);
        return;
    }
    attestation_tx_t t = {.code = code,
                          .ben = ben ? ben_id : 0,
                          .initials = initials,
                          .birth_year = birth_year,
                          .from = from,
                          .to = to};
    if (portail_tx_retry(ctx, attestation_tx, &t) != 0)
        return;

    portail_pdf_meta_t meta = {.title = TXT_COVERAGE_PDF_TITRE,
                               .footer =
                                   portail_sprintf(a, TXT_COVERAGE_PDF_CODE_VERIFICATION, code)};
    portail_pdf_t *pdf = portail_pdf_new(a, &meta);
    int bad = !pdf;
    bad = bad || portail_pdf_paragraph(pdf, TXT_COVERAGE_PDF_CERTIFICATION) != 0;
    bad = bad || portail_pdf_title(pdf, TXT_COVERAGE_PDF_BENEFICIAIRE) != 0;
    bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_NOM,
                                      portail_sprintf(a, "%s %s", first, last)) != 0;
    bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_DATE_NAISSANCE, birth) != 0;
    bad = bad || portail_pdf_keyvalue(pdf,
                                      ben && !portail_row_str(ben, "nir")
                                          ? TXT_COVERAGE_PDF_NUMERO_PROVISOIRE
                                          : TXT_COVERAGE_PDF_NIR,
                                      nir) != 0;
    if (ben)
        bad = bad || portail_pdf_keyvalue(
                         pdf, TXT_COVERAGE_PDF_ASSURE_OUVRANT_DROIT,
                         portail_sprintf(a, "%s %s (%s)", str(rights, "first_name"),
                                         str(rights, "last_name"), str(rights, "nir"))) != 0;
    bad = bad || portail_pdf_title(pdf, TXT_COVERAGE_PDF_DROITS) != 0;
    bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_REGIME, str(rights, "regime")) != 0;
    bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_CAISSE, str(rights, "fund")) != 0;
    bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_DROITS_OUVERTS,
                                      portail_sprintf(a, TXT_COVERAGE_PDF_PERIODE, from, to)) != 0;
    const char *css = ben ? str(ben, "css") : str(rights, "css");
    bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_CSS, css_label(css)) != 0;
    if (!ben && portail_row_str(rights, "css_from"))
        bad = bad || portail_pdf_keyvalue(pdf, "CSS valable",
                                          portail_sprintf(a, TXT_COVERAGE_PDF_PERIODE,
                                                          str(rights, "css_from"),
                                                          str(rights, "css_to"))) != 0;
    if (!ben && portail_row_str(rights, "ald_label"))
        bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_ALD,
                                          portail_sprintf(a, TXT_COVERAGE_PDF_PERIODE,
                                                          str(rights, "ald_from"),
                                                          str(rights, "ald_to"))) != 0;
    size_t n = json_array_size(bens);
    if (!ben && n > 0) {
        static const portail_pdf_column_t cols[] = {
            {.title = TXT_COVERAGE_PDF_AYANT_DROIT, .width = 3},
            {.title = TXT_COVERAGE_PDF_NE_LE, .width = 2},
            {.title = TXT_COVERAGE_PDF_NUMERO, .width = 3},
            {.title = TXT_COVERAGE_PDF_DROITS_JUSQU_AU, .width = 2},
        };
        const char **cells = portail_alloc(a, n * 4 * sizeof(*cells));
        bad = bad || !cells;
        for (size_t i = 0; !bad && i < n; i++) {
            const json_t *b = json_array_get(bens, i);
            cells[i * 4] = portail_sprintf(a, "%s %s", str(b, "first_name"), str(b, "last_name"));
            cells[i * 4 + 1] = str(b, "birth_date");
            cells[i * 4 + 2] = portail_row_str(b, "nir") ? str(b, "nir") : str(b, "temp_number");
            cells[i * 4 + 3] = str(b, "rights_to");
        }
        bad = bad || portail_pdf_title(pdf, TXT_COVERAGE_PDF_AYANTS_DROIT) != 0;
        bad = bad || portail_pdf_table(pdf, cols, 4, cells, n) != 0;
    }
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    bad = bad || portail_pdf_keyvalue(pdf, TXT_COVERAGE_PDF_DATE_DELIVRANCE, today) != 0;
    bad = bad || portail_pdf_title(pdf, TXT_COVERAGE_PDF_VERIFICATION) != 0;
    bad = bad || portail_pdf_paragraph(pdf, portail_sprintf(a, TXT_COVERAGE_PDF_COMMENT_VERIFIER,
                                                            code, st->verify_url)) != 0;
    bad = bad || portail_pdf_qrcode(pdf, portail_sprintf(a, "%s?code=%s", st->verify_url, code),
                                    code) != 0;
    const unsigned char *bytes = NULL;
    size_t len = 0;
    if (bad || portail_pdf_render(pdf, &bytes, &len) != 0) {
        coverage_fail(ctx);
        return;
    }
    portail_respond_bytes(ctx, 200, PORTAIL_FILE_PDF, PORTAIL_ATTACHMENT, bytes, len,
                          "attestation-de-droits.pdf");
}

/* GET /api/v1/coverage/attestations/verify/{code}: public, throttled per IP
 * (a code is 100 bits, the throttle keeps the database from being mined). */
static void attestation_verify(portail_ctx_t *ctx)
{
    const struct coverage_state *st = portail_module_state(ctx);
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const portail_client_t *cl = portail_client(ctx);
    const char *key =
        portail_sprintf(portail_arena(ctx), "coverage-verify:%s", cl && cl->ip ? cl->ip : "");
    /* Checked before counting, so that verify_per_hour checks pass. */
    int wait = portail_throttle_check(db, key, 3600, (int)st->verify_per_hour);
    if (wait == 0 && portail_throttle_hit(db, key, 3600, (int)st->verify_per_hour) < 0)
        wait = -1;
    if (wait < 0) {
        coverage_fail(ctx);
        return;
    }
    if (wait > 0) {
        portail_problem_retry(ctx, 429, wait, NULL, TXT_COVERAGE_TROP_DE_VERIFICATIONS);
        return;
    }
    const char *code = portail_req_param(ctx, "code");
    size_t len = code ? strlen(code) : 0;
    json_t *row = NULL;
    if (len == CODE_LEN) {
        char up[CODE_LEN + 1];
        for (size_t i = 0; i < len; i++)
            up[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
        up[len] = '\0';
        row = portail_db_row(db,
                             "SELECT a.initials, a.birth_year, a.valid_from, a.valid_to, "
                             "a.issued_at, a.superseded_at, r.fund "
                             "FROM coverage_attestations a "
                             "LEFT JOIN coverage_rights r ON r.insured_id = a.insured_id "
                             "WHERE a.code_hash = UNHEX(SHA2(?, 256))",
                             "s", up);
    }
    if (coverage_missing(ctx, row, TXT_COVERAGE_ATTESTATION_INCONNUE))
        return;
    int superseded = portail_row_str(row, "superseded_at") != NULL;
    json_object_set_new(row, "valid", json_true());
    json_object_set_new(row, "superseded", json_boolean(superseded));
    portail_respond_json(ctx, 200, json_incref(row));
}

/* ---- carte Vitale ------------------------------------------------------------ */

static void vitale_list(portail_ctx_t *ctx)
{
    json_t *cards = my_cards(ctx);
    if (!cards) {
        coverage_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "cards", cards));
}

/* {person} of a carte Vitale route: "me" (0) or a beneficiary's id (the
 * queries scope it to the member). */
static int vitale_person(portail_ctx_t *ctx, int64_t *ben)
{
    const char *person = portail_req_param(ctx, "person");
    *ben = 0;
    return person && strcmp(person, "me") == 0 ? 0 : portail_req_param_i64(ctx, "person", ben);
}

/* The card stopped, its security event and notification, rerun whole on a
 * 1213/1205 as attestation_tx. */
typedef struct report_tx {
    const char *kind;
    long long card;
} report_tx_t;

static int report_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const report_tx_t *t = arg;
    int64_t member = portail_principal(ctx)->id;
    const char *what = strcmp(t->kind, "lost") == 0     ? TXT_COVERAGE_CARTE_PERDUE
                       : strcmp(t->kind, "stolen") == 0 ? TXT_COVERAGE_CARTE_VOLEE
                                                        : TXT_COVERAGE_CARTE_DEFECTUEUSE;
    long long n = portail_member_exec(
        ctx,
        "UPDATE coverage_vitale SET status = ?, status_since = UTC_TIMESTAMP(), "
        "reported_at = UTC_TIMESTAMP() WHERE id = ? AND status = 'active' "
        "AND insured_id = " INSURED,
        "sl", t->kind, t->card);
    if (n == 0) {
        portail_problem(ctx, 409, NULL, TXT_COVERAGE_CARTE_DEJA_SIGNALEE);
        return -1;
    }
    if (n < 0 ||
        portail_security_event(
            ctx, member, "vitale_reported",
            portail_sprintf(portail_arena(ctx), "%s (carte %lld)", t->kind, t->card)) != 0 ||
        portail_notify(
            db, member, "coverage.vitale", TXT_COVERAGE_NOTIFICATION_DESACTIVEE_TITRE,
            portail_sprintf(portail_arena(ctx), TXT_COVERAGE_NOTIFICATION_DESACTIVEE_TEXTE, what),
            "/coverage/vitale.html") != 0)
        return -1;
    return 0;
}

/* POST /api/v1/coverage/vitale/{person}/report {kind}: {person} is "me" or a
 * beneficiary's id. The card stops at once; a second report is a 409. */
static void vitale_report(portail_ctx_t *ctx)
{
    int64_t ben;
    if (vitale_person(ctx, &ben) != 0)
        return;
    json_t *errors = NULL;
    const char *kind = portail_json_str(portail_req_json(ctx), "kind", 1, 16, &errors);
    if (kind && strcmp(kind, "lost") != 0 && strcmp(kind, "stolen") != 0 &&
        strcmp(kind, "defective") != 0) {
        portail_field_error(&errors, "kind", TXT_COVERAGE_CHOISISSEZ_MOTIF_SIGNALEMENT);
        kind = NULL;
    }
    if (!kind) {
        portail_problem_fields(ctx, errors);
        return;
    }
    json_t *card =
        portail_member_row(ctx,
                           "SELECT id, status FROM coverage_vitale WHERE insured_id = " INSURED
                           " AND beneficiary_id <=> NULLIF(?, 0) ORDER BY id DESC LIMIT 1",
                           "l", (long long)ben);
    if (coverage_missing(ctx, card, TXT_COVERAGE_AUCUNE_CARTE))
        return;
    if (strcmp(str(card, "status"), "active") != 0) {
        portail_problem(ctx, 409, NULL, TXT_COVERAGE_CARTE_PAS_ACTIVE);
        return;
    }
    report_tx_t t = {.kind = kind, .card = portail_row_int(card, "id", 0)};
    if (portail_tx_retry(ctx, report_tx, &t) != 0)
        return;
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:s}", "id", (json_int_t)t.card, "status", kind));
}

/* 0 when {person} (0: the member) is the member's and has no card active
 * or on its way; otherwise the answer is set (404, 409 or 500) and -1. */
static int order_refused(portail_ctx_t *ctx, int64_t ben)
{
    json_t *who = portail_member_row(
        ctx,
        ben ? "SELECT b.id FROM coverage_beneficiaries b WHERE b.id = ? AND b.insured_id = " INSURED
            : "SELECT m.insured_id AS id FROM members m WHERE m.id = {member} AND ? = 0 "
              "AND m.insured_id IS NOT NULL",
        "l", (long long)ben);
    json_t *busy =
        !who ? NULL
             : portail_member_row(ctx,
                                  "SELECT id FROM coverage_vitale WHERE insured_id = " INSURED
                                  " AND beneficiary_id <=> NULLIF(?, 0) AND status IN "
                                  "('active', 'ordered', 'in_production', 'sent') LIMIT 1",
                                  "l", (long long)ben);
    if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
        coverage_fail(ctx);
    else if (!who)
        portail_problem(ctx, 404, NULL, TXT_COVERAGE_PERSONNE_INTROUVABLE);
    else if (busy)
        portail_problem(ctx, 409, NULL, TXT_COVERAGE_CARTE_DEJA_ACTIVE);
    else
        return 0;
    return -1;
}

/* The order's files by field: 0 with the photo (an image) and the identity
 * document, or -1 with the 422 answered. */
static int order_files(portail_ctx_t *ctx, json_t *docs, json_int_t *photo, json_int_t *identity)
{
    json_t *errors = NULL;
    size_t i;
    json_t *d;
    *photo = *identity = 0;
    json_array_foreach(docs, i, d)
    {
        const char *field = json_string_value(json_object_get(d, "field"));
        const char *type = json_string_value(json_object_get(d, "type"));
        json_int_t id = json_integer_value(json_object_get(d, "id"));
        if (field && strcmp(field, "photo") == 0) {
            if (type && strcmp(type, "pdf") != 0)
                *photo = id;
            else
                portail_field_error(&errors, "photo", TXT_COVERAGE_PHOTO_TYPE_REFUSE);
        } else if (field && strcmp(field, "identity") == 0) {
            *identity = id;
        }
    }
    if (!*photo && !errors)
        portail_field_error(&errors, "photo", TXT_COVERAGE_JOIGNEZ_PHOTO);
    if (!*identity)
        portail_field_error(&errors, "identity", TXT_COVERAGE_JOIGNEZ_PIECE_IDENTITE);
    if (!errors)
        return 0;
    portail_problem_fields(ctx, errors);
    return -1;
}

/* The order's check again, with the member's row locked (one account per
 * insured person), so that the check and the insert are one step: a
 * simultaneous order waits here, then sees this one's card and gets the
 * 409. The lock is the transaction's first read and takes no snapshot (no
 * subquery): the check's reads come after it. The files are stored in the
 * same transaction, so that a refused order (409, 422) or a failed insert
 * keeps none of them: stored apart, each order that lost the race kept a
 * photo and an identity document that no card names. Rerun whole on a
 * 1213/1205 as attestation_tx. */
typedef struct order_tx {
    int64_t ben;
    const char *serial;
    const portail_doc_batch_t *files;
    json_int_t card; /* out */
} order_tx_t;

static int order_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    order_tx_t *t = arg;
    json_t *docs;
    json_int_t photo, identity;
    if (!portail_member_row(ctx, "SELECT id FROM members WHERE id = {member} FOR UPDATE", "") ||
        order_refused(ctx, t->ben) != 0 || portail_documents_insert(ctx, t->files, &docs) != 0 ||
        order_files(ctx, docs, &photo, &identity) != 0)
        return -1;
    if (portail_member_exec(ctx,
                            "INSERT INTO coverage_vitale (insured_id, beneficiary_id, serial, "
                            "status, photo_document_id, identity_document_id, ordered_at) "
                            "VALUES (" INSURED ", NULLIF(?, 0), ?, 'ordered', ?, ?, "
                            "UTC_TIMESTAMP())",
                            "lsll", (long long)t->ben, t->serial, (long long)photo,
                            (long long)identity) != 1)
        return -1;
    t->card = (json_int_t)portail_db_insert_id(db);
    const struct coverage_state *st = portail_module_state(ctx);
    json_t *payload = json_pack("{s:I, s:s}", "card", t->card, "to", vitale_steps[0].to);
    int queued = payload && portail_job_enqueue(db, "coverage.vitale_advance", payload,
                                                st->vitale_delay[0], NULL) == 0;
    json_decref(payload);
    if (!queued ||
        portail_notify(db, portail_principal(ctx)->id, "coverage.vitale",
                       TXT_COVERAGE_NOTIFICATION_COMMANDEE_TITRE,
                       TXT_COVERAGE_NOTIFICATION_COMMANDEE_TEXTE, "/coverage/vitale.html") != 0)
        return -1;
    return 0;
}

/* POST /api/v1/coverage/vitale/{person}/order (multipart: photo, identity):
 * a new card for a person without an active card or an order under way.
 * The files go to the core's documents (content checked, scanned). */
static void vitale_order(portail_ctx_t *ctx)
{
    int64_t ben;
    if (vitale_person(ctx, &ben) != 0)
        return;
    /* Before the files are scanned: a refused order costs no scan. */
    if (order_refused(ctx, ben) != 0)
        return;
    static const portail_doc_rules_t rules = {.types = PORTAIL_DOC_TYPE(PORTAIL_FILE_PDF) |
                                                       PORTAIL_DOC_TYPE(PORTAIL_FILE_JPEG) |
                                                       PORTAIL_DOC_TYPE(PORTAIL_FILE_PNG),
                                              .max_file_bytes = VITALE_FILE_MAX,
                                              .max_files = 2};
    order_tx_t t = {.ben = ben, .files = portail_documents_check(ctx, &rules)};
    if (!t.files)
        return;
    unsigned char rnd[19];
    char serial[21];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        coverage_fail(ctx);
        return;
    }
    serial[0] = 'V';
    for (size_t k = 0; k < sizeof rnd; k++)
        serial[k + 1] = (char)('0' + rnd[k] % 10);
    serial[20] = '\0';
    t.serial = serial;
    if (portail_tx_retry(ctx, order_tx, &t) != 0)
        return;
    portail_respond_json(
        ctx, 201,
        json_pack("{s:I, s:s, s:s}", "id", t.card, "status", "ordered", "serial", serial));
}

/* ---- médecin traitant -------------------------------------------------------- */

/* GET /api/v1/coverage/practitioners?place=&name=&after=&limit= */
static void practitioners_search(portail_ctx_t *ctx)
{
    long long limit = 20, after = 0;
    if (portail_query_int(ctx, "limit", 1, 100, 20, &limit) != 0 ||
        portail_query_int(ctx, "cursor", 0, INT64_MAX, 0, &after) != 0)
        return;
    json_t *rows =
        portail_practitioners_search(portail_db(ctx), portail_req_query(ctx, "place"),
                                     portail_req_query(ctx, "name"), 1, after, (int)limit);
    if (!rows) {
        coverage_fail(ctx);
        return;
    }
    size_t n = json_array_size(rows);
    json_t *next = (long long)n == limit
                       ? json_integer(portail_row_int(json_array_get(rows, n - 1), "id", 0))
                       : json_null();
    portail_respond_json(ctx, 200,
                         json_pack("{s:O, s:o}", "practitioners", rows, "next_cursor", next));
}

/* The declaration and its confirmation job, rerun whole on a 1213/1205 as
 * attestation_tx. */
static int doctor_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const int64_t practitioner = *(const int64_t *)arg;
    if (portail_member_exec(ctx,
                            "UPDATE coverage_doctors SET status = 'ended', ended_on = UTC_DATE() "
                            "WHERE insured_id = " INSURED
                            " AND beneficiary_id IS NULL AND status = 'pending'",
                            "") < 0 ||
        portail_member_exec(ctx,
                            "INSERT INTO coverage_doctors (insured_id, practitioner_id, status, "
                            "declared_on) VALUES (" INSURED ", ?, 'pending', UTC_DATE())",
                            "l", (long long)practitioner) != 1)
        return -1;
    const struct coverage_state *st = portail_module_state(ctx);
    json_t *payload = json_pack("{s:I}", "declaration", (json_int_t)portail_db_insert_id(db));
    int queued = payload && portail_job_enqueue(db, "coverage.doctor_confirm", payload,
                                                st->doctor_confirm_seconds, NULL) == 0;
    json_decref(payload);
    return queued ? 0 : -1;
}

/* POST /api/v1/coverage/doctor {practitioner}: pending until the
 * practitioner's side confirms; the earlier pending one is dropped. */
static void doctor_declare(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    json_t *v = body ? json_object_get(body, "practitioner") : NULL;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        json_t *errors = NULL;
        portail_field_error(&errors, "practitioner", TXT_COVERAGE_CHOISISSEZ_MEDECIN);
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *p = portail_practitioner_get(db, json_integer_value(v));
    if (coverage_missing(ctx, p, TXT_COVERAGE_MEDECIN_HORS_ANNUAIRE))
        return;
    if (strcmp(str(p, "specialty"), TXT_COVERAGE_MEDECINE_GENERALE) != 0 ||
        portail_row_int(p, "accepts_new_patients", 0) != 1) {
        portail_problem(ctx, 409, NULL, TXT_COVERAGE_MEDECIN_COMPLET);
        return;
    }
    int64_t practitioner = json_integer_value(v);
    if (portail_tx_retry(ctx, doctor_tx, &practitioner) != 0)
        return;
    portail_respond_json(ctx, 201, json_pack("{s:s, s:O}", "status", "pending", "practitioner", p));
}

/* ---- back office --------------------------------------------------------------- */

static void bo_coverage(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *rights = portail_db_row(
        db,
        "SELECT m.id AS member_id, i.last_name, i.first_name, i.nir, i.birth_date, r.regime, "
        "r.fund, r.open_from, r.open_to, r.css, r.css_from, r.css_to, r.ald_label, r.ald_from, "
        "r.ald_to FROM members m JOIN insured i ON i.id = m.insured_id "
        "LEFT JOIN coverage_rights r ON r.insured_id = i.id WHERE m.id = ?",
        "l", (long long)id);
    if (coverage_missing(ctx, rights, TXT_COVERAGE_COMPTE_INTROUVABLE))
        return;
    json_t *bens = portail_db_rows(db,
                                   "SELECT " BENEFICIARY_COLUMNS
                                   " FROM coverage_beneficiaries b JOIN members m "
                                   "ON m.insured_id = b.insured_id WHERE m.id = ? "
                                   "ORDER BY b.birth_date LIMIT 50",
                                   "l", (long long)id);
    json_t *cards = bens ? portail_db_rows(db,
                                           "SELECT v.id, v.beneficiary_id, v.serial, v.status, "
                                           "v.issued_on, v.status_since, v.reported_at "
                                           "FROM coverage_vitale v JOIN members m "
                                           "ON m.insured_id = v.insured_id WHERE m.id = ? "
                                           "ORDER BY v.id LIMIT 100",
                                           "l", (long long)id)
                         : NULL;
    json_t *changes = cards
                          ? portail_db_rows(db,
                                            "SELECT id, kind, email, iban, bic, holder, status, "
                                            "created_at, decided_at FROM coverage_profile_changes "
                                            "WHERE member_id = ? ORDER BY id DESC LIMIT 50",
                                            "l", (long long)id)
                          : NULL;
    if (!changes) {
        coverage_fail(ctx);
        return;
    }
    portail_audit_subject(ctx, id);
    const char *why = portail_req_query(ctx, "reason");
    if (why && *why)
        portail_audit_reason(ctx, why);
    portail_respond_json(ctx, 200,
                         json_pack("{s:O, s:O, s:O, s:O}", "rights", rights, "beneficiaries", bens,
                                   "cards", cards, "profile_changes", changes));
}

/* The dashboard card: rights open until …, carte Vitale status. */
static int summary(portail_ctx_t *ctx, void **card)
{
    json_t *r = portail_member_row(
        ctx,
        "SELECT r.open_to, (SELECT v.status FROM coverage_vitale v WHERE v.insured_id = "
        "r.insured_id AND v.beneficiary_id IS NULL ORDER BY v.id DESC LIMIT 1) AS vitale "
        "FROM coverage_rights r WHERE r.insured_id = " INSURED,
        "");
    if (!r) {
        if (portail_db_failed(portail_db(ctx)))
            return -1;
        *card = json_pack("{s:s, s:s, s:s}", "title", TXT_COVERAGE_MES_DROITS, "text",
                          TXT_COVERAGE_CARTE_AUCUN_DROIT, "href", "/coverage/");
        return *card ? 0 : -1;
    }
    const char *vitale = portail_row_str(r, "vitale");
    const char *vlabel = !vitale                            ? TXT_COVERAGE_VITALE_AUCUNE
                         : strcmp(vitale, "active") == 0    ? TXT_COVERAGE_VITALE_ACTIVE
                         : strcmp(vitale, "lost") == 0      ? TXT_COVERAGE_VITALE_PERDUE
                         : strcmp(vitale, "stolen") == 0    ? TXT_COVERAGE_VITALE_VOLEE
                         : strcmp(vitale, "defective") == 0 ? TXT_COVERAGE_CARTE_DEFECTUEUSE
                         : strcmp(vitale, "sent") == 0      ? TXT_COVERAGE_VITALE_ENVOYEE
                                                            : TXT_COVERAGE_VITALE_EN_FABRICATION;
    *card = json_pack("{s:s, s:s, s:s, s:s, s:s}", "title", TXT_COVERAGE_MES_DROITS, "text",
                      portail_sprintf(portail_arena(ctx), TXT_COVERAGE_CARTE_DROITS_OUVERTS,
                                      str(r, "open_to"), vlabel),
                      "href", "/coverage/", "open_to", str(r, "open_to"), "vitale",
                      vitale ? vitale : "none");
    return *card ? 0 : -1;
}

/* The core's member_doctors row (portail/practitioners.h) follows the
 * insured person's own current declaration, for the modules that read the
 * médecin traitant (appointments). */
static int doctor_publish(portail_db_t *db, json_int_t id)
{
    json_t *d = portail_db_row(db,
                               "SELECT insured_id, practitioner_id FROM coverage_doctors "
                               "WHERE id = ? AND status = 'current' AND beneficiary_id IS NULL",
                               "l", (long long)id);
    if (!d)
        return portail_db_failed(db) ? -1 : 0;
    return portail_member_doctor_set(db, portail_row_int(d, "insured_id", 0),
                                     portail_row_int(d, "practitioner_id", 0));
}

/* Idempotent: a declaration no longer pending is left alone. The earlier
 * current one ends the day the new one starts. Rerun whole on a 1213/1205
 * (portail_db_tx_retry, a job has no request to answer) rather than after
 * the job's backoff. */
static int doctor_confirm_tx(portail_db_t *db, void *arg)
{
    const json_int_t id = *(const json_int_t *)arg;
    if (portail_db_exec(db,
                        "UPDATE coverage_doctors o JOIN coverage_doctors n "
                        "ON n.insured_id = o.insured_id AND n.beneficiary_id <=> "
                        "o.beneficiary_id SET o.status = 'ended', o.ended_on = UTC_DATE() "
                        "WHERE n.id = ? AND n.status = 'pending' AND o.status = 'current'",
                        "l", (long long)id) < 0 ||
        portail_db_exec(db,
                        "UPDATE coverage_doctors SET status = 'current', "
                        "confirmed_on = UTC_DATE() WHERE id = ? AND status = 'pending'",
                        "l", (long long)id) < 0 ||
        doctor_publish(db, id) != 0)
        return -1;
    return 0;
}

static int job_doctor_confirm(portail_job_t *job)
{
    json_int_t id = json_integer_value(json_object_get(portail_job_payload(job), "declaration"));
    portail_db_t *db = portail_job_db(job);
    if (id <= 0 || !db) {
        portail_job_set_error(job, "payload without a declaration, or no database");
        return -1;
    }
    if (portail_db_tx_retry(db, doctor_confirm_tx, &id, NULL) != 0) {
        portail_job_set_error(job, "declaration not confirmed");
        return -1;
    }
    return 0;
}

/* Idempotent: moves the card only from the state before `to` (the row
 * locked, so that the move and its notification happen once); the next
 * step is queued in the same transaction, rerun whole on a 1213/1205 as
 * doctor_confirm_tx. */
typedef struct advance_tx {
    json_int_t id;
    size_t k;
    const struct coverage_state *st;
} advance_tx_t;

static int advance_tx(portail_db_t *db, void *arg)
{
    const advance_tx_t *t = arg;
    const struct vitale_step *step = &vitale_steps[t->k];
    json_t *card = portail_db_row(db,
                                  "SELECT v.id, m.id AS member_id FROM coverage_vitale v "
                                  "LEFT JOIN members m ON m.insured_id = v.insured_id "
                                  "WHERE v.id = ? AND v.status = ? FOR UPDATE",
                                  "ls", (long long)t->id, step->from);
    if (!card)
        return portail_db_failed(db) ? -1 : 0;
    /* A person without an account (the seed's) has nobody to notify. */
    int64_t member = portail_row_int(card, "member_id", 0);
    json_t *next = t->k + 1 < VITALE_STEPS
                       ? json_pack("{s:I, s:s}", "card", t->id, "to", vitale_steps[t->k + 1].to)
                       : NULL;
    int bad = portail_db_exec(db,
                              "UPDATE coverage_vitale SET status = ?, status_since = "
                              "UTC_TIMESTAMP(), issued_on = IF(? = 'sent', UTC_DATE(), issued_on) "
                              "WHERE id = ?",
                              "ssl", step->to, step->to, (long long)t->id) != 1 ||
              (member > 0 && portail_notify(db, member, "coverage.vitale", step->title, step->text,
                                            "/coverage/vitale.html") != 0) ||
              (t->k + 1 < VITALE_STEPS &&
               (!next || portail_job_enqueue(db, "coverage.vitale_advance", next,
                                             t->st->vitale_delay[t->k + 1], NULL) != 0));
    json_decref(next);
    return bad ? -1 : 0;
}

static int job_vitale_advance(portail_job_t *job)
{
    json_t *p = portail_job_payload(job);
    const char *to = json_string_value(json_object_get(p, "to"));
    advance_tx_t t = {.id = json_integer_value(json_object_get(p, "card")),
                      .st = portail_job_state(job)};
    portail_db_t *db = portail_job_db(job);
    while (t.k < VITALE_STEPS && (!to || strcmp(to, vitale_steps[t.k].to) != 0))
        t.k++;
    if (t.id <= 0 || !db || t.k == VITALE_STEPS) {
        portail_job_set_error(job, "payload without a card or a state, or no database");
        return -1;
    }
    if (portail_db_tx_retry(db, advance_tx, &t, NULL) != 0) {
        portail_job_set_error(job, "card not advanced");
        return -1;
    }
    return 0;
}
