/* Module reimbursements: "Mes remboursements". The fund's payment lines
 * (décomptes) of the member's insured person, listed with filters, keyset
 * pages and totals; one line with its arithmetic and status timeline; the
 * monthly statement as a PDF through the core's PDF service. Every query
 * goes through portail_member_* with {member} (lines belong to the insured
 * person; members.insured_id links the account), so that another member's
 * line is a 404. The arithmetic is the database's CHECK (sql/). */
#include <portail/account.h>
#include <portail/beneficiaries.h>
#include <portail/notify.h>
#include <portail/pdf.h>
#include <portail/portail.h>
#include <portail/validate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reimbursements.h"
#include <portail/texts.h>

#define PAGE_DEFAULT 20
/* The member sees at most this many months back. */
#define MONTHS_BACK 27
/* Annual caps of each kind of deduction, in cents. */
#define DEDUCTION_CAP_CENTS 5000

struct reimb_state {
    long long page_max;
};

static const portail_setting_t settings[] = {
    {.name = "page_max", .type = PORTAIL_SETTING_INT, .min = 1, .max = 500, .def_int = 100},
    {0},
};

static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_MEMBER,
     .label = TXT_REIMBURSEMENTS_MES_REMBOURSEMENTS,
     .href = "/reimbursements/",
     .text = TXT_REIMBURSEMENTS_DESCRIPTION_REMBOURSEMENTS,
     .order = 20},
    {.menu = PORTAIL_MENU_MEMBER,
     .label = TXT_REIMBURSEMENTS_MENU_FAIRE_UNE_DEMANDE,
     .href = "/reimbursements/demande.html",
     .text = TXT_REIMBURSEMENTS_DESCRIPTION_DEMANDE,
     .order = 21},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = TXT_REIMBURSEMENTS_MENU_DEMANDES,
     .href = "/reimbursements/bo-file.html",
     .text = TXT_REIMBURSEMENTS_DESCRIPTION_FILE,
     .permission = "reimbursements.process",
     .order = 30},
    {0},
};

static const portail_permission_t permissions[] = {
    {.name = "reimbursements.process",
     .description = TXT_REIMBURSEMENTS_PERMISSION_CLAIMS,
     .default_agent = 1},
    {0},
};

/* A multipart request: documents.max_request_bytes (20 MiB) and the
 * framing around up to 5 parts and the fields. */
#define UPLOAD_BODY_MAX (((size_t)20 << 20) + 64 * 1024)
#define BO "/api/v1/backoffice/reimbursements/claims"

static void list(portail_ctx_t *ctx);
static void detail(portail_ctx_t *ctx);
static void statements(portail_ctx_t *ctx);
static void statement_pdf(portail_ctx_t *ctx);
static void beneficiaries(portail_ctx_t *ctx);
static int summary(portail_ctx_t *ctx, void **card);

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements",
     .handler = list,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements/statements",
     .handler = statements,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements/statements/{month}",
     .handler = statement_pdf,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/reimbursements/claims",
     .handler = reimb_claim_create,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = UPLOAD_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements/claims",
     .handler = reimb_claims_list,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements/claims/{id}",
     .handler = reimb_claim_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements/claims/{id}/documents/{doc}",
     .handler = reimb_claim_document,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/reimbursements/claims/{id}/documents",
     .handler = reimb_claim_add_documents,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = UPLOAD_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/reimbursements/claims/{id}/withdraw",
     .handler = reimb_claim_withdraw,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = BO,
     .handler = reimb_bo_queue,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.claims.queue"},
    {.methods = PORTAIL_GET,
     .pattern = BO "/{id}",
     .handler = reimb_bo_claim,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.claim.read"},
    {.methods = PORTAIL_GET,
     .pattern = BO "/{id}/documents/{doc}",
     .handler = reimb_bo_document,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.claim.document"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/{id}/take",
     .handler = reimb_bo_take,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.claim.take"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/{id}/approve",
     .handler = reimb_bo_approve,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.claim.approve"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/{id}/reject",
     .handler = reimb_bo_reject,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.claim.reject"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/{id}/ask",
     .handler = reimb_bo_ask,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.claim.ask"},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/reimbursements/payments/{id}/correct",
     .handler = reimb_bo_correct,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "reimbursements.process",
     .audit = "reimbursements.payment.correct"},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements/beneficiaries",
     .handler = beneficiaries,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/reimbursements/{id}",
     .handler = detail,
     .auth = PORTAIL_AUTH_MEMBER},
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    struct reimb_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "reimbursements: out of memory");
        return -1;
    }
    st->page_max = portail_settings_int(s, "page_max");
    if (portail_notify_kind("reimbursements.claim", TXT_REIMBURSEMENTS_CARTE_SUIVI_DEMANDES) != 0) {
        free(st);
        snprintf(err, errlen, "reimbursements: notification kind refused");
        return -1;
    }
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

PORTAIL_MODULE_INIT(.name = "reimbursements", .version = "1.0.0", .settings = settings,
                    .init = init, .fini = fini, .routes = routes, .nav = nav,
                    .permissions = permissions, .summary = summary);

void reimb_fail(portail_ctx_t *ctx)
{
    if (!portail_responded(ctx))
        portail_problem(ctx, 500, NULL, NULL);
}

void reimb_not_found(portail_ctx_t *ctx, const char *detail)
{
    if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
        reimb_fail(ctx);
    else
        portail_problem(ctx, 404, NULL, detail);
}

int reimb_one_of(const char *s, const char *const *choices)
{
    for (; *choices; choices++)
        if (strcmp(s, *choices) == 0)
            return 1;
    return 0;
}

static const char *const KINDS[] = {"consultation", "specialist", "pharmacy", "dentist", "lab",
                                    "hospital",     "optical",    "other",    NULL};
int reimb_is_kind(const char *s)
{
    return s && reimb_one_of(s, KINDS);
}

static const char *const STATUSES[] = {"received", "processing", "paid", "rejected", NULL};

int reimb_beneficiary_parse(const char *s, int *set, long long *id)
{
    *set = 0;
    *id = 0;
    if (!s || !*s)
        return 0;
    *set = 1;
    if (strcmp(s, "me") == 0)
        return 0;
    char *end = NULL;
    long long v = strlen(s) <= 18 && s[0] >= '1' && s[0] <= '9' ? strtoll(s, &end, 10) : 0;
    if (v <= 0 || !end || *end)
        return -1;
    *id = v;
    return 0;
}

/* ---- GET /api/v1/reimbursements/beneficiaries -----------------------------
 * The choices of the claim form and of the list's filter: the member
 * ("moi", id null) then their beneficiaries (the core's service). */
static void beneficiaries(portail_ctx_t *ctx)
{
    json_t *rows = portail_beneficiaries_list(ctx, portail_principal(ctx)->id);
    if (!rows) {
        reimb_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "items", rows));
}

#define LINE_COLUMNS                                                                               \
    "p.id, p.beneficiary_id, "                                                                     \
    "COALESCE(CONCAT(b.first_name, ' ', b.last_name), CONCAT(i.first_name, ' ', i.last_name)) "    \
    "AS beneficiary, p.care_date, p.practitioner_name, p.practitioner_specialty, p.kind, "         \
    "p.act_code, p.act_label, p.charged_cents, p.base_cents, p.rate_pct, "                         \
    "p.participation_cents, p.franchise_cents, p.reimbursed_cents, p.paid_to, p.status, "          \
    "p.reject_reason, p.received_on, p.processing_on, p.paid_on, p.expected_payment_on "

/* A line with the name of the person cared for: the beneficiary's, or the
 * insured person's own when beneficiary_id is NULL. */
#define LINE_FROM                                                                                  \
    "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "                         \
    "JOIN insured i ON i.id = m.insured_id LEFT JOIN beneficiaries b ON b.id = p.beneficiary_id "
/* The filter, shared by the page and its totals: each condition is off when
 * its parameter is empty (or 0), so that one prepared statement serves them
 * all. The beneficiary: 0 = any, else the id (NULLIF 0: the member). */
#define FILTER_WHERE                                                                               \
    "WHERE m.id = {member} AND p.cancelled_by IS NULL "                                            \
    "AND p.care_date >= GREATEST(?, DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)) "                     \
    "AND p.care_date <= ? AND (? = 0 OR p.beneficiary_id <=> NULLIF(?, 0)) "                       \
    "AND (? = '' OR p.kind = ?) AND (? = '' OR p.status = ?) "
#define FILTER "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id " FILTER_WHERE

/* A page of lines: limit + 1 are asked, the last only to tell that a next
 * page exists; its cursor is the last line written's (care_date, id). */
struct line_page {
    long long limit;
    char last_date[11];
    long long last_id;
};

static int line_item(portail_jw_t *w, portail_dbrow_t *row, void *arg)
{
    struct line_page *page = arg;
    long long i = (long long)portail_dbrow_index(row);
    if (i >= page->limit)
        return 0;
    if (i == page->limit - 1) {
        const char *date = portail_dbrow_str(row, "care_date");
        snprintf(page->last_date, sizeof page->last_date, "%s", date ? date : "");
        page->last_id = portail_dbrow_int(row, "id", 0);
    }
    return portail_dbrow_object(w, row, NULL);
}

/* ---- GET /api/v1/reimbursements?from=&to=&beneficiary=&kind=&status=&limit=&cursor= ----
 * Newest care first, then newest line: the cursor is the last line's
 * (care_date, id), so lines arriving meanwhile never shift a page. */
static void list(portail_ctx_t *ctx)
{
    const struct reimb_state *st = portail_module_state(ctx);
    portail_arena_t *a = portail_arena(ctx);
    json_t *errors = NULL;
    const char *from = portail_req_query(ctx, "from");
    const char *to = portail_req_query(ctx, "to");
    const char *who = portail_req_query(ctx, "beneficiary");
    const char *kind = portail_req_query(ctx, "kind");
    const char *status = portail_req_query(ctx, "status");
    const char *cursor = portail_req_query(ctx, "cursor");
    const char *msg = NULL;
    if (from && *from && !portail_valid_date(a, from, &msg))
        portail_field_error(&errors, "from", msg);
    if (to && *to && !portail_valid_date(a, to, &msg))
        portail_field_error(&errors, "to", msg);
    int who_set = 0;
    long long who_id = 0;
    if (reimb_beneficiary_parse(who, &who_set, &who_id) != 0)
        portail_field_error(&errors, "beneficiary", TXT_REIMBURSEMENTS_BENEFICIAIRE_INCONNU);
    if (kind && *kind && !reimb_one_of(kind, KINDS))
        portail_field_error(&errors, "kind", TXT_REIMBURSEMENTS_TYPE_DE_SOIN_INCONNU);
    if (status && *status && !reimb_one_of(status, STATUSES))
        portail_field_error(&errors, "status", TXT_REIMBURSEMENTS_STATUT_INCONNU);
    long long limit = portail_req_query_int(ctx, "limit", 1, st->page_max, PAGE_DEFAULT, &errors);
    char cur_date[11] = "9999-12-31";
    long long cur_id = 0;
    if (cursor && *cursor) {
        char *end = NULL;
        if (strlen(cursor) < 12 || strlen(cursor) > 32 || cursor[10] != '.' ||
            (memcpy(cur_date, cursor, 10), !portail_valid_date(a, cur_date, &msg)) ||
            (cur_id = strtoll(cursor + 11, &end, 10)) <= 0 || *end)
            portail_field_error(&errors, "cursor", TXT_REIMBURSEMENTS_CURSEUR_INVALIDE);
    }
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (portail_beneficiary_check(ctx, who_id) != 0)
        return;
    from = from && *from ? from : "1900-01-01";
    to = to && *to ? to : "9999-12-31";
    kind = kind ? kind : "";
    status = status ? status : "";
    /* Written as the rows come (portail_member_rows_json): the same bytes
     * as jansson objects would give, without one per line. */
    portail_jw_t *w = portail_jw_new(a);
    portail_jw_open(w, '{');
    portail_jw_key(w, "items");
    portail_jw_open(w, '[');
    struct line_page page = {.limit = limit};
    long long n =
        portail_member_rows_json(ctx, w, line_item, &page,
                                 "SELECT " LINE_COLUMNS LINE_FROM FILTER_WHERE
                                 "AND (? = 0 OR p.care_date < ? OR (p.care_date = ? AND p.id < ?)) "
                                 "ORDER BY p.care_date DESC, p.id DESC LIMIT ?",
                                 "ssilssssissll", from, to, who_set, who_id, kind, kind, status,
                                 status, (int)(cur_id > 0), cur_date, cur_date, cur_id, limit + 1);
    portail_jw_close(w, ']');
    portail_jw_key(w, "totals");
    /* SUM gives DECIMAL (a real in JSON): cast back to integer cents. */
    long long totals = n >= 0
                           ? portail_member_rows_json(
                                 ctx, w, NULL, NULL,
                                 "SELECT COUNT(*) AS count, "
                                 "CAST(COALESCE(SUM(p.reimbursed_cents), 0) AS SIGNED) "
                                 "AS reimbursed_cents, "
                                 "CAST(COALESCE(SUM(p.participation_cents), 0) AS SIGNED) "
                                 "AS participation_cents, "
                                 "CAST(COALESCE(SUM(p.franchise_cents), 0) AS SIGNED) "
                                 "AS franchise_cents, "
                                 "CAST(COALESCE(SUM(p.charged_cents), 0) AS SIGNED) "
                                 "AS charged_cents, "
                                 "CAST(COALESCE(SUM(p.participation_cents + p.franchise_cents), "
                                 "0) AS SIGNED) AS deductions_cents " FILTER,
                                 "ssilssss", from, to, who_set, who_id, kind, kind, status, status)
                           : -1;
    if (n < 0 || totals != 1) {
        reimb_fail(ctx);
        return;
    }
    portail_jw_key(w, "next_cursor");
    if (n > limit)
        portail_jw_str(w, portail_sprintf(a, "%s.%lld", page.last_date, page.last_id));
    else
        portail_jw_null(w);
    portail_jw_close(w, '}');
    portail_respond_jw(ctx, 200, w);
}

/* ---- GET /api/v1/reimbursements/{id} ------------------------------------- */
static void detail(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *row = portail_member_row(ctx,
                                     "SELECT " LINE_COLUMNS ", p.cancelled_by " LINE_FROM
                                     "WHERE p.id = ? AND m.id = {member}",
                                     "l", (long long)id);
    if (!row) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_REMBOURSEMENT_INCONNU);
        return;
    }
    long long base = portail_row_int(row, "base_cents", 0);
    long long rate = portail_row_int(row, "rate_pct", 0);
    long long part = portail_row_int(row, "participation_cents", 0);
    long long fr = portail_row_int(row, "franchise_cents", 0);
    json_t *deductions = json_array();
    if (part > 0)
        json_array_append_new(deductions,
                              json_pack("{s:s, s:s, s:I}", "kind", "participation_forfaitaire",
                                        "label", TXT_REIMBURSEMENTS_PARTICIPATION_FORFAITAIRE,
                                        "amount_cents", (json_int_t)part));
    if (fr > 0)
        json_array_append_new(deductions, json_pack("{s:s, s:s, s:I}", "kind", "franchise_medicale",
                                                    "label", TXT_REIMBURSEMENTS_FRANCHISE_MEDICALE,
                                                    "amount_cents", (json_int_t)fr));
    const char *status = portail_row_str(row, "status");
    int rejected = status && strcmp(status, "rejected") == 0;
    json_object_set_new(row, "deductions", deductions);
    json_object_set_new(row, "arithmetic",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "base_cents", (json_int_t)base,
                                  "rate_pct", (json_int_t)rate, "gross_cents",
                                  (json_int_t)(rejected ? 0 : base * rate / 100),
                                  "deductions_cents", (json_int_t)(part + fr), "reimbursed_cents",
                                  (json_int_t)portail_row_int(row, "reimbursed_cents", 0)));
    /* received -> processing -> paid (or rejected): each step with its date,
     * null while it has not happened. */
    json_t *timeline = json_array();
    json_array_append_new(timeline, json_pack("{s:s, s:O}", "status", "received", "date",
                                              json_object_get(row, "received_on")));
    json_array_append_new(timeline, json_pack("{s:s, s:O}", "status", "processing", "date",
                                              json_object_get(row, "processing_on")));
    if (rejected)
        json_array_append_new(timeline, json_pack("{s:s, s:O}", "status", "rejected", "date",
                                                  json_object_get(row, "processing_on")));
    else
        json_array_append_new(timeline, json_pack("{s:s, s:O, s:O}", "status", "paid", "date",
                                                  json_object_get(row, "paid_on"), "expected",
                                                  json_object_get(row, "expected_payment_on")));
    json_object_set_new(row, "timeline", timeline);
    portail_respond_json(ctx, 200, json_incref(row));
}

/* ---- GET /api/v1/reimbursements/statements --------------------------------
 * The months (YYYY-MM) that have a line, newest first, within the window. */
static void statements(portail_ctx_t *ctx)
{
    json_t *rows =
        portail_member_rows(ctx,
                            "SELECT DATE_FORMAT(p.care_date, '%Y-%m') AS month, COUNT(*) AS count, "
                            "CAST(SUM(p.reimbursed_cents) AS SIGNED) AS reimbursed_cents "
                            "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "
                            "WHERE m.id = {member} AND p.cancelled_by IS NULL "
                            "AND p.care_date >= DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH) "
                            "GROUP BY month ORDER BY month DESC LIMIT 40",
                            "");
    if (!rows) {
        reimb_fail(ctx);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_object_set_new(r, "href",
                            json_string(portail_sprintf(portail_arena(ctx),
                                                        "/api/v1/reimbursements/statements/%s.pdf",
                                                        portail_row_str(r, "month"))));
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "items", rows));
}

static const char *euros(portail_arena_t *a, long long cents)
{
    const char *sign = cents < 0 ? "-" : "";
    long long v = cents < 0 ? -cents : cents;
    return portail_sprintf(a, "%s%lld,%02lld €", sign, v / 100, v % 100);
}

static const char *const MONTHS_FR[] = {"janvier",   "février", "mars",     "avril",
                                        "mai",       "juin",    "juillet",  "août",
                                        "septembre", "octobre", "novembre", "décembre"};

/* ---- GET /api/v1/reimbursements/statements/{yyyy-mm}.pdf -------------------
 * The relevé mensuel: the member, the month's lines per beneficiary, the
 * totals, and the deductions of the year so far against their caps. */
static void statement_pdf(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    const char *p = portail_req_param(ctx, "month");
    if (!p || strlen(p) != 11 || strcmp(p + 7, ".pdf") != 0 || p[4] != '-') {
        portail_problem(ctx, 404, NULL, TXT_REIMBURSEMENTS_RELEVE_INCONNU);
        return;
    }
    char month[8];
    memcpy(month, p, 7);
    month[7] = '\0';
    char first[11];
    const char *msg = NULL;
    snprintf(first, sizeof first, "%s-01", month);
    if (!portail_valid_date(a, first, &msg)) {
        portail_problem(ctx, 404, NULL, TXT_REIMBURSEMENTS_RELEVE_INCONNU);
        return;
    }
    json_t *who =
        portail_member_row(ctx,
                           "SELECT i.first_name, i.last_name, i.nir, i.fund FROM members m "
                           "JOIN insured i ON i.id = m.insured_id WHERE m.id = {member}",
                           "");
    json_t *rows = who ? portail_member_rows(
                             ctx,
                             "SELECT " LINE_COLUMNS LINE_FROM
                             "WHERE m.id = {member} AND p.cancelled_by IS NULL "
                             "AND p.care_date >= ? AND p.care_date < DATE_ADD(?, INTERVAL 1 MONTH) "
                             "AND p.care_date >= DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH) "
                             "ORDER BY p.beneficiary_id IS NOT NULL, beneficiary, "
                             "p.beneficiary_id, p.care_date, p.id LIMIT 2000",
                             "ss", first, first)
                       : NULL;
    json_t *year =
        rows ? portail_member_row(
                   ctx,
                   "SELECT CAST(COALESCE(SUM(p.participation_cents), 0) AS SIGNED) AS pf, "
                   "CAST(COALESCE(SUM(p.franchise_cents), 0) AS SIGNED) AS fr "
                   "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "
                   "WHERE m.id = {member} AND p.cancelled_by IS NULL "
                   "AND p.care_date >= MAKEDATE(YEAR(?), 1) "
                   "AND p.care_date < DATE_ADD(?, INTERVAL 1 MONTH)",
                   "ss", first, first)
             : NULL;
    if (!who || !rows || !year) {
        if (!portail_responded(ctx) && !portail_db_failed(portail_db(ctx)) && !who)
            portail_problem(ctx, 404, NULL, TXT_REIMBURSEMENTS_RELEVE_INCONNU);
        else
            reimb_fail(ctx);
        return;
    }
    size_t n = json_array_size(rows);
    if (n == 0) {
        portail_problem(ctx, 404, NULL, TXT_REIMBURSEMENTS_RELEVE_VIDE);
        return;
    }
    int mnum = (month[5] - '0') * 10 + (month[6] - '0');
    const char *title =
        portail_sprintf(a, TXT_REIMBURSEMENTS_RELEVE_TITRE, MONTHS_FR[mnum - 1], month);
    const portail_pdf_meta_t meta = {.title = title, .footer = TXT_REIMBURSEMENTS_RELEVE_SOURCE};
    portail_pdf_t *pdf = portail_pdf_new(a, &meta);
    if (!pdf) {
        reimb_fail(ctx);
        return;
    }
    const char *fund = portail_row_str(who, "fund");
    int bad =
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_ASSURE,
                             portail_sprintf(a, "%s %s", portail_row_str(who, "first_name"),
                                             portail_row_str(who, "last_name"))) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_NIR, portail_row_str(who, "nir")) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_CAISSE,
                             fund ? fund : TXT_REIMBURSEMENTS_RELEVE_CAISSE_PRIMAIRE) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_PERIODE,
                             portail_sprintf(a, "%s %.4s", MONTHS_FR[mnum - 1], month));
    static const portail_pdf_column_t cols[] = {
        {.title = TXT_REIMBURSEMENTS_RELEVE_DATE, .width = 1.2},
        {.title = TXT_REIMBURSEMENTS_RELEVE_ACTE, .width = 3},
        {.title = TXT_REIMBURSEMENTS_RELEVE_PRATICIEN, .width = 2.2},
        {.title = TXT_REIMBURSEMENTS_RELEVE_PAYE, .width = 1.2, .align = PORTAIL_PDF_RIGHT},
        {.title = TXT_REIMBURSEMENTS_RELEVE_BASE, .width = 1.2, .align = PORTAIL_PDF_RIGHT},
        {.title = TXT_REIMBURSEMENTS_RELEVE_TAUX, .width = 0.7, .align = PORTAIL_PDF_RIGHT},
        {.title = TXT_REIMBURSEMENTS_RELEVE_DEDUCTIONS, .width = 1.2, .align = PORTAIL_PDF_RIGHT},
        {.title = TXT_REIMBURSEMENTS_RELEVE_REMBOURSE, .width = 1.3, .align = PORTAIL_PDF_RIGHT},
    };
    const size_t ncols = sizeof cols / sizeof *cols;
    long long tot_reimb = 0, tot_ded = 0, tot_charged = 0;
    /* One table per beneficiary, the member first then by name (rows are
     * ordered so; a group is one beneficiary_id, 0 the member). */
    size_t start = 0;
    while (!bad && start < n) {
        const char *ben = portail_row_str(json_array_get(rows, start), "beneficiary");
        long long ben_id = portail_row_int(json_array_get(rows, start), "beneficiary_id", 0);
        size_t end = start;
        while (end < n && portail_row_int(json_array_get(rows, end), "beneficiary_id", 0) == ben_id)
            end++;
        const char **cells = portail_alloc(a, sizeof(char *) * ncols * (end - start));
        if (!cells) {
            bad = 1;
            break;
        }
        long long sub = 0;
        for (size_t i = start; i < end; i++) {
            json_t *r = json_array_get(rows, i);
            const char **c = cells + (i - start) * ncols;
            long long ded = portail_row_int(r, "participation_cents", 0) +
                            portail_row_int(r, "franchise_cents", 0);
            long long reimb = portail_row_int(r, "reimbursed_cents", 0);
            const char *st = portail_row_str(r, "status");
            c[0] = portail_row_str(r, "care_date");
            c[1] = portail_row_str(r, "act_label");
            c[2] = portail_row_str(r, "practitioner_name");
            c[3] = euros(a, portail_row_int(r, "charged_cents", 0));
            c[4] = euros(a, portail_row_int(r, "base_cents", 0));
            c[5] = portail_sprintf(a, "%lld %%", portail_row_int(r, "rate_pct", 0));
            c[6] = euros(a, ded);
            c[7] = strcmp(st, "rejected") == 0 ? TXT_REIMBURSEMENTS_RELEVE_REJETE
                   : strcmp(st, "paid") == 0   ? euros(a, reimb)
                                             : portail_sprintf(a, "%s (en cours)", euros(a, reimb));
            sub += reimb;
            tot_reimb += reimb;
            tot_ded += ded;
            tot_charged += portail_row_int(r, "charged_cents", 0);
        }
        bad = portail_pdf_title(pdf,
                                portail_sprintf(a, TXT_REIMBURSEMENTS_RELEVE_BENEFICIAIRE, ben)) ||
              portail_pdf_table(pdf, cols, ncols, cells, end - start) ||
              portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_SOUS_TOTAL, euros(a, sub));
        start = end;
    }
    long long pf = portail_row_int(year, "pf", 0), fr = portail_row_int(year, "fr", 0);
    bad =
        bad || portail_pdf_title(pdf, TXT_REIMBURSEMENTS_RELEVE_TOTAUX) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_MONTANT_PAYE, euros(a, tot_charged)) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_TOTAL_DEDUCTIONS, euros(a, tot_ded)) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_TOTAL_REMBOURSE, euros(a, tot_reimb)) ||
        portail_pdf_title(pdf,
                          portail_sprintf(a, TXT_REIMBURSEMENTS_RELEVE_DEDUCTIONS_ANNEE, month)) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_PARTICIPATIONS,
                             portail_sprintf(a, TXT_REIMBURSEMENTS_RELEVE_PLAFOND, euros(a, pf),
                                             euros(a, DEDUCTION_CAP_CENTS))) ||
        portail_pdf_keyvalue(pdf, TXT_REIMBURSEMENTS_RELEVE_FRANCHISES,
                             portail_sprintf(a, TXT_REIMBURSEMENTS_RELEVE_PLAFOND, euros(a, fr),
                                             euros(a, DEDUCTION_CAP_CENTS)));
    const unsigned char *bytes = NULL;
    size_t len = 0;
    if (bad || portail_pdf_render(pdf, &bytes, &len) != 0) {
        reimb_fail(ctx);
        return;
    }
    portail_respond_bytes(ctx, 200, PORTAIL_FILE_PDF, PORTAIL_ATTACHMENT, bytes, len,
                          portail_sprintf(a, "releve-%s.pdf", month));
}

/* The member's card: the last payment and how many since the last visit.
 * The last visit is the sign-in before the current one (the core's
 * security events): the newest login_succeeded is this session's own.
 * paid_on is a day, so a payment of the visit's day counts again rather
 * than being missed. Without an earlier sign-in: the last 30 days. */
static int summary(portail_ctx_t *ctx, void **card)
{
    portail_arena_t *a = portail_arena(ctx);
    json_t *row = portail_member_row(
        ctx,
        "SELECT DATE_FORMAT(v.last_visit, '%Y-%m-%dT%H:%i:%sZ') AS last_visit, (SELECT COUNT(*) "
        "FROM reimb_payments q "
        "WHERE q.insured_id = m.insured_id AND q.status = 'paid' AND q.paid_on >= "
        "COALESCE(DATE(v.last_visit), DATE_SUB(UTC_DATE(), INTERVAL 30 DAY))) AS recent, "
        "p.paid_on, p.reimbursed_cents, p.act_label FROM members m "
        "LEFT JOIN (SELECT (SELECT e.created_at FROM security_events e "
        "WHERE e.member_id = {member} AND e.kind = '" PORTAIL_EVENT_SIGN_IN "' "
        "ORDER BY e.id DESC LIMIT 1 OFFSET 1) AS last_visit) v ON 1 "
        "LEFT JOIN reimb_payments p ON p.id = (SELECT q.id FROM reimb_payments q "
        "WHERE q.insured_id = m.insured_id AND q.status = 'paid' "
        "ORDER BY q.paid_on DESC, q.id DESC LIMIT 1) WHERE m.id = {member}",
        "");
    if (!row)
        return -1;
    long long recent = portail_row_int(row, "recent", 0);
    const char *paid_on = portail_row_str(row, "paid_on");
    const char *visit = portail_row_str(row, "last_visit");
    const char *since = visit ? portail_sprintf(a, TXT_REIMBURSEMENTS_CARTE_DEPUIS_VISITE, visit)
                              : TXT_REIMBURSEMENTS_CARTE_30_DERNIERS_JOURS;
    const char *text = paid_on
                           ? portail_sprintf(a, TXT_REIMBURSEMENTS_CARTE_DERNIER_PAIEMENT,
                                             euros(a, portail_row_int(row, "reimbursed_cents", 0)),
                                             paid_on, portail_row_str(row, "act_label"), recent,
                                             recent > 1 ? "s" : "", since)
                           : TXT_REIMBURSEMENTS_CARTE_AUCUN_REMBOURSEMENT;
    *card = json_pack("{s:s, s:s, s:s, s:I, s:s?}", "title", TXT_REIMBURSEMENTS_MES_REMBOURSEMENTS,
                      "text", text, "href", "/reimbursements/", "count", (json_int_t)recent,
                      "since", visit);
    return *card ? 0 : -1;
}
