/* Online reimbursement requests: the member sends one with 1 to 5
 * supporting documents (the core's document service judges and stores
 * them), lists, reads and withdraws it; agents with
 * reimbursements.process take it from the queue, read its documents,
 * approve it (a payment line is made, the arithmetic checked by the
 * database), reject it with a reason, or ask for a document. Every agent
 * route is audited by the core; every decision notifies the member. */
#include <portail/beneficiaries.h>
#include <portail/documents.h>
#include <portail/notify.h>
#include <portail/validate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reimbursements.h"
#include <portail/texts.h>

#define COMMENT_MAX 1000
#define AMOUNT_MAX_CENTS 10000000LL
#define REASON_MIN 10
#define REASON_MAX 500
#define PROCESSING_DAYS 15

/* Up to 5 files, stored in the claim's transaction. */
static const portail_doc_rules_t DOC_RULES = {.max_files = 5};

#define BO_CLAIMS "/api/v1/backoffice/reimbursements/claims"

/* A claim with the name of the person cared for (NULL beneficiary_id: the
 * member). */
#define CLAIM_FROM                                                                                 \
    "FROM reimb_claims c JOIN members cm ON cm.id = c.member_id "                                  \
    "JOIN insured ci ON ci.id = cm.insured_id LEFT JOIN beneficiaries cb ON cb.id = "              \
    "c.beneficiary_id "

#define CLAIM_COLUMNS                                                                              \
    "c.id, c.kind, c.care_date, c.amount_paid_cents, c.beneficiary_id, "                           \
    "COALESCE(CONCAT(cb.first_name, ' ', cb.last_name), CONCAT(ci.first_name, ' ', "               \
    "ci.last_name)) "                                                                              \
    "AS beneficiary, c.comment, c.status, "                                                        \
    "c.decision_reason, c.payment_id, c.expected_by, c.created_at, c.updated_at "

/* Positive integer cents from a form field: -1 when malformed. */
static long long cents_of(const char *s)
{
    if (!s || !*s || strlen(s) > 12)
        return -1;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    return *end || v <= 0 || v > AMOUNT_MAX_CENTS ? -1 : v;
}

/* The claim's rows naming the member's documents docs (as
 * portail_documents_insert lists them), in the caller's transaction. */
static int link_documents(portail_ctx_t *ctx, long long claim, json_t *docs)
{
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        if (portail_member_exec(ctx,
                                "INSERT INTO reimb_claim_documents (claim_id, document_id) "
                                "SELECT ?, id FROM documents WHERE id = ? AND member_id = {member}",
                                "ll", claim, (long long)portail_row_int(d, "id", 0)) != 1)
            return -1;
    }
    return 0;
}

/* The claim and its files in one transaction, so that a claim that cannot
 * be recorded leaves none of them behind; rerun whole on a 1213/1205
 * (portail_tx_retry): on a Galera cluster a write through another node
 * aborts it at COMMIT, a 500 for the member otherwise. */
struct claim_new {
    const char *kind, *date, *comment;
    long long cents, who;
    portail_doc_batch_t *files;
    long long id; /* out */
    json_t *docs; /* out, the arena's */
};

static int claim_new_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    struct claim_new *t = arg;
    if (portail_documents_insert(ctx, t->files, &t->docs) != 0 ||
        portail_member_exec(
            ctx,
            "INSERT INTO reimb_claims (member_id, kind, care_date, amount_paid_cents, "
            "beneficiary_id, comment, expected_by) VALUES ({member}, ?, ?, ?, NULLIF(?, 0), ?, "
            "DATE_ADD(UTC_DATE(), INTERVAL 15 DAY))",
            "sslls", t->kind, t->date, t->cents, t->who, t->comment) != 1)
        return -1;
    t->id = (long long)portail_db_insert_id(db);
    return link_documents(ctx, t->id, t->docs);
}

/* ---- POST /api/v1/reimbursements/claims (multipart) -----------------------
 * Fields: kind, care_date, amount_cents, beneficiary (absent, "" or "me":
 * the member; else the id of one of their beneficiaries, the core's, a 404
 * otherwise), comment; files: 1-5 documents. The fields are checked before
 * any file is stored. */
void reimb_claim_create(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    json_t *errors = NULL;
    const char *kind = portail_req_form(ctx, "kind");
    const char *date = portail_req_form(ctx, "care_date");
    const char *amount = portail_req_form(ctx, "amount_cents");
    const char *who = portail_req_form(ctx, "beneficiary");
    const char *comment = portail_req_form(ctx, "comment");
    const char *msg = NULL;
    if (!kind || !reimb_is_kind(kind))
        portail_field_error(&errors, "kind", TXT_REIMBURSEMENTS_CHOISISSEZ_TYPE_DE_SOIN);
    if (!date || !portail_valid_date(a, date, &msg))
        portail_field_error(&errors, "care_date",
                            msg ? msg : TXT_REIMBURSEMENTS_INDIQUEZ_DATE_SOINS);
    long long cents = cents_of(amount);
    if (cents < 0)
        portail_field_error(&errors, "amount_cents", TXT_REIMBURSEMENTS_INDIQUEZ_MONTANT);
    int who_set = 0;
    long long who_id = 0;
    if (reimb_beneficiary_parse(who, &who_set, &who_id) != 0)
        portail_field_error(&errors, "beneficiary", TXT_REIMBURSEMENTS_CHOISISSEZ_BENEFICIAIRE);
    if (comment && (strlen(comment) > COMMENT_MAX || !portail_utf8_valid(comment, strlen(comment))))
        portail_field_error(&errors, "comment", TXT_REIMBURSEMENTS_COMMENTAIRE_TROP_LONG);
    if (!errors && date) {
        /* Same shape, so the text order is the date order; two years back
         * as DATE_SUB(UTC_DATE(), INTERVAL 2 YEAR) (29 February gives the 28th). */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char today[32], oldest[32];
        strftime(today, sizeof today, "%Y-%m-%d", &tm);
        snprintf(oldest, sizeof oldest, "%04d-%02d-%02d", tm.tm_year + 1900 - 2, tm.tm_mon + 1,
                 tm.tm_mon == 1 && tm.tm_mday == 29 ? 28 : tm.tm_mday);
        if (strcmp(date, today) > 0)
            portail_field_error(&errors, "care_date", TXT_REIMBURSEMENTS_DATE_SOINS_FUTURE);
        else if (strcmp(date, oldest) < 0)
            portail_field_error(&errors, "care_date", TXT_REIMBURSEMENTS_SOINS_TROP_ANCIENS);
    }
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (portail_beneficiary_check(ctx, who_id) != 0)
        return;
    /* No file: a 422. */
    struct claim_new t = {.kind = kind,
                          .date = date,
                          .comment = comment ? comment : "",
                          .cents = cents,
                          .who = who_id,
                          .files = portail_documents_check(ctx, &DOC_RULES)};
    if (!t.files || portail_tx_retry(ctx, claim_new_tx, &t) != 0)
        return;
    long long id = t.id;
    json_t *docs = t.docs;
    json_t *claim = portail_member_row(
        ctx, "SELECT " CLAIM_COLUMNS CLAIM_FROM "WHERE c.id = ? AND c.member_id = {member}", "l",
        id);
    if (!claim) {
        reimb_fail(ctx);
        return;
    }
    json_object_set(claim, "documents", docs);
    portail_respond_json(ctx, 201, json_incref(claim));
}

/* ---- GET /api/v1/reimbursements/claims?limit=&cursor= --------------------- */
void reimb_claims_list(portail_ctx_t *ctx)
{
    long long limit, cursor;
    if (portail_query_int(ctx, "limit", 1, 100, 20, &limit) != 0 ||
        portail_query_int(ctx, "cursor", 1, INT64_MAX, INT64_MAX, &cursor) != 0)
        return;
    json_t *rows = portail_member_rows(ctx,
                                       "SELECT " CLAIM_COLUMNS CLAIM_FROM
                                       "WHERE c.member_id = {member} AND c.id < ? "
                                       "ORDER BY c.id DESC LIMIT ?",
                                       "ll", cursor, limit + 1);
    if (!rows) {
        reimb_fail(ctx);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        next = json_integer(portail_row_int(json_array_get(rows, (size_t)limit - 1), "id", 0));
    }
    portail_respond_json(ctx, 200, json_pack("{s:O, s:o}", "items", rows, "next_cursor", next));
}

/* The documents of claim id, each with its download href under base; the
 * member's own only when member is set. NULL with the answer set. */
static json_t *claim_documents(portail_ctx_t *ctx, long long id, const char *base, int member)
{
#define DOCS_OF_CLAIM                                                                              \
    "SELECT d.id, d.name, d.size, d.type, d.created_at FROM reimb_claim_documents cd "             \
    "JOIN documents d ON d.id = cd.document_id WHERE cd.claim_id = ? "
    json_t *docs =
        member ? portail_member_rows(ctx, DOCS_OF_CLAIM "AND d.member_id = {member} ORDER BY d.id",
                                     "l", id)
               : portail_db_rows(portail_db(ctx), DOCS_OF_CLAIM "ORDER BY d.id", "l", id);
#undef DOCS_OF_CLAIM
    if (!docs) {
        reimb_fail(ctx);
        return NULL;
    }
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        json_object_set_new(
            d, "href",
            json_string(portail_sprintf(portail_arena(ctx), "%s/%lld/documents/%lld", base, id,
                                        portail_row_int(d, "id", 0))));
    }
    return docs;
}

/* ---- GET /api/v1/reimbursements/claims/{id} ------------------------------- */
void reimb_claim_get(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *claim = portail_member_row(
        ctx, "SELECT " CLAIM_COLUMNS CLAIM_FROM "WHERE c.id = ? AND c.member_id = {member}", "l",
        (long long)id);
    if (!claim) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_DEMANDE_INCONNUE);
        return;
    }
    json_t *docs = claim_documents(ctx, id, "/api/v1/reimbursements/claims", 1);
    if (!docs)
        return;
    json_object_set(claim, "documents", docs);
    portail_respond_json(ctx, 200, json_incref(claim));
}

/* ---- GET /api/v1/reimbursements/claims/{id}/documents/{doc} --------------- */
void reimb_claim_document(portail_ctx_t *ctx)
{
    int64_t id, doc;
    if (portail_req_param_i64(ctx, "id", &id) != 0 || portail_req_param_i64(ctx, "doc", &doc) != 0)
        return;
    json_t *link = portail_member_row(ctx,
                                      "SELECT cd.document_id FROM reimb_claim_documents cd "
                                      "JOIN reimb_claims c ON c.id = cd.claim_id "
                                      "WHERE cd.claim_id = ? AND cd.document_id = ? "
                                      "AND c.member_id = {member}",
                                      "ll", (long long)id, (long long)doc);
    if (!link) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_DEMANDE_INCONNUE);
        return;
    }
    portail_document_send(ctx, doc, PORTAIL_ATTACHMENT);
}

/* ---- POST /api/v1/reimbursements/claims/{id}/withdraw ---------------------
 * Only before an agent takes it (submitted, or waiting for a document). */
void reimb_claim_withdraw(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    long long n = portail_member_exec(ctx,
                                      "UPDATE reimb_claims SET status = 'withdrawn', "
                                      "updated_at = UTC_TIMESTAMP() WHERE id = ? "
                                      "AND member_id = {member} "
                                      "AND status IN ('submitted', 'needs_document')",
                                      "l", (long long)id);
    if (n < 0) {
        reimb_fail(ctx);
        return;
    }
    json_t *claim = portail_member_row(
        ctx, "SELECT " CLAIM_COLUMNS CLAIM_FROM "WHERE c.id = ? AND c.member_id = {member}", "l",
        (long long)id);
    if (!claim) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_DEMANDE_INCONNUE);
        return;
    }
    if (n == 0) {
        portail_problem(ctx, 409, NULL, TXT_REIMBURSEMENTS_DEMANDE_NON_RETIRABLE);
        return;
    }
    portail_respond_json(ctx, 200, json_incref(claim));
}

/* ---- back office ------------------------------------------------------------ */

/* GET /api/v1/backoffice/reimbursements/claims?status=&kind=&min_age_days=&limit=&cursor=
 * Oldest first (the queue), with who holds each; min_age_days keeps the
 * claims sent at least that many days ago (age_days >= it). */
void reimb_bo_queue(portail_ctx_t *ctx)
{
    const char *status = portail_req_query(ctx, "status");
    const char *kind = portail_req_query(ctx, "kind");
    static const char *const statuses[] = {
        "submitted", "in_review", "needs_document", "approved", "rejected", "withdrawn", NULL};
    if ((status && *status && !reimb_one_of(status, statuses)) ||
        (kind && *kind && !reimb_is_kind(kind))) {
        portail_problem(ctx, 400, NULL, TXT_REIMBURSEMENTS_FILTRE_INCONNU);
        return;
    }
    long long limit, cursor, min_age;
    if (portail_query_int(ctx, "limit", 1, 100, 50, &limit) != 0 ||
        portail_query_int(ctx, "cursor", 0, INT64_MAX, 0, &cursor) != 0 ||
        portail_query_int(ctx, "min_age_days", 0, 3650, 0, &min_age) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *rows =
        portail_db_rows(db,
                        "SELECT " CLAIM_COLUMNS ", c.member_id, a.login AS assigned_to, "
                        "TIMESTAMPDIFF(DAY, c.created_at, UTC_TIMESTAMP()) AS age_days " CLAIM_FROM
                        "LEFT JOIN agents a ON a.id = c.assigned_agent_id "
                        "WHERE (? = '' AND c.status IN ('submitted', 'in_review') OR c.status = ?) "
                        "AND (? = '' OR c.kind = ?) "
                        "AND c.created_at <= DATE_SUB(UTC_TIMESTAMP(), INTERVAL ? DAY) "
                        "AND c.id > ? ORDER BY c.id LIMIT ?",
                        "sssslll", status ? status : "", status ? status : "", kind ? kind : "",
                        kind ? kind : "", min_age, cursor, limit + 1);
    if (!rows) {
        reimb_fail(ctx);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        next = json_integer(portail_row_int(json_array_get(rows, (size_t)limit - 1), "id", 0));
    }
    portail_respond_json(ctx, 200, json_pack("{s:O, s:o}", "items", rows, "next_cursor", next));
}

static json_t *bo_claim_row(portail_ctx_t *ctx, portail_db_t *db, long long id)
{
    json_t *c = portail_db_row(db,
                               "SELECT " CLAIM_COLUMNS ", c.member_id, c.assigned_agent_id, "
                               "a.login AS assigned_to " CLAIM_FROM
                               "LEFT JOIN agents a ON a.id = c.assigned_agent_id WHERE c.id = ?",
                               "l", id);
    if (!c) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_DEMANDE_INCONNUE);
    }
    return c;
}

/* Answers the claim after an agent's change: 200 with bo_claim_row. */
static void bo_claim_answer(portail_ctx_t *ctx, long long id)
{
    json_t *out = bo_claim_row(ctx, portail_db(ctx), id);
    if (out)
        portail_respond_json(ctx, 200, json_incref(out));
}

/* GET /api/v1/backoffice/reimbursements/claims/{id}: audited, subject the member. */
void reimb_bo_claim(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *c = bo_claim_row(ctx, db, id);
    if (!c)
        return;
    json_t *docs = claim_documents(ctx, id, BO_CLAIMS, 0);
    if (!docs)
        return;
    json_object_set(c, "documents", docs);
    portail_audit_subject(ctx, portail_row_int(c, "member_id", 0));
    portail_respond_json(ctx, 200, json_incref(c));
}

/* GET .../claims/{id}/documents/{doc}: always as an attachment. */
void reimb_bo_document(portail_ctx_t *ctx)
{
    int64_t id, doc;
    if (portail_req_param_i64(ctx, "id", &id) != 0 || portail_req_param_i64(ctx, "doc", &doc) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *r = portail_db_row(db,
                               "SELECT c.member_id FROM reimb_claim_documents cd "
                               "JOIN reimb_claims c ON c.id = cd.claim_id "
                               "WHERE cd.claim_id = ? AND cd.document_id = ?",
                               "ll", (long long)id, (long long)doc);
    if (!r) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_DOCUMENT_INCONNU);
        return;
    }
    portail_audit_subject(ctx, portail_row_int(r, "member_id", 0));
    portail_document_send(ctx, doc, PORTAIL_ATTACHMENT);
}

/* Locks claim id in the state change's transaction: the claim row, or NULL
 * with the answer set (404, 500). Each state change below runs through
 * portail_tx_retry: on a Galera cluster a write through another node to the
 * same claim aborts it at COMMIT (1213), rerun whole rather than a 500 for
 * the agent. */
static json_t *lock_claim(portail_ctx_t *ctx, long long id)
{
    json_t *c = portail_db_row(portail_db(ctx),
                               "SELECT c.id, c.member_id, c.status, c.kind, c.care_date, "
                               "c.beneficiary_id, c.amount_paid_cents, c.assigned_agent_id "
                               "FROM reimb_claims c WHERE c.id = ? FOR UPDATE",
                               "l", id);
    if (!c) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_DEMANDE_INCONNUE);
    }
    return c;
}

static int status_is(json_t *c, const char *s)
{
    const char *v = portail_row_str(c, "status");
    return v && strcmp(v, s) == 0;
}

static void conflict(portail_ctx_t *ctx, const char *text)
{
    portail_problem(ctx, 409, NULL, text);
}

/* POST .../claims/{id}/take: assigned to the agent; others see who has it. */
static int take_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const long long id = *(const int64_t *)arg;
    json_t *c = lock_claim(ctx, id);
    if (!c)
        return -1;
    long long me = (long long)portail_principal(ctx)->id;
    long long holder = portail_row_int(c, "assigned_agent_id", 0);
    if (!status_is(c, "submitted") && !(status_is(c, "in_review") && holder == me)) {
        conflict(ctx, status_is(c, "in_review") ? TXT_REIMBURSEMENTS_DEMANDE_PRISE_AILLEURS
                                                : TXT_REIMBURSEMENTS_DEMANDE_HORS_FILE);
        return -1;
    }
    /* Taking again what one holds changes nothing: within the same second
     * the UPDATE would match the row but change no column, and MariaDB
     * reports 0 rows (found by sqlmap: a double click answered 500). */
    if (!status_is(c, "in_review") &&
        portail_db_exec(db,
                        "UPDATE reimb_claims SET status = 'in_review', assigned_agent_id = ?, "
                        "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        "ll", me, id) != 1)
        return -1;
    portail_audit_subject(ctx, portail_row_int(c, "member_id", 0));
    return 0;
}

void reimb_bo_take(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0 || portail_tx_retry(ctx, take_tx, &id) != 0)
        return;
    bo_claim_answer(ctx, id);
}

/* The claim in review by this agent, locked; NULL with the answer set. */
static json_t *my_review(portail_ctx_t *ctx, int64_t id)
{
    json_t *c = lock_claim(ctx, id);
    if (!c)
        return NULL;
    if (!status_is(c, "in_review") ||
        portail_row_int(c, "assigned_agent_id", 0) != (long long)portail_principal(ctx)->id) {
        conflict(ctx, TXT_REIMBURSEMENTS_PRENEZ_D_ABORD);
        return NULL;
    }
    return c;
}

static void bounded_int(json_t *body, const char *key, long long min, long long max, long long *out,
                        json_t **errors, const char *msg)
{
    json_t *v = json_object_get(body, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        portail_field_error(errors, key, msg);
    else
        *out = json_integer_value(v);
}

/* The arithmetic of a payment line an agent gives (approve, correct). */
struct amounts {
    long long base, rate, part, fr, reimbursed;
};

/* Each field bounded, and the deductions within base x rate; field errors
 * added to *errors otherwise. */
static void read_amounts(json_t *body, struct amounts *m, json_t **errors)
{
    *m = (struct amounts){0};
    bounded_int(body, "base_cents", 0, AMOUNT_MAX_CENTS, &m->base, errors,
                TXT_REIMBURSEMENTS_BASE_ATTENDUE);
    bounded_int(body, "rate_pct", 0, 100, &m->rate, errors, TXT_REIMBURSEMENTS_TAUX_ENTRE_0_ET_100);
    bounded_int(body, "participation_cents", 0, 5000, &m->part, errors,
                TXT_REIMBURSEMENTS_PARTICIPATION_BORNES);
    bounded_int(body, "franchise_cents", 0, 5000, &m->fr, errors,
                TXT_REIMBURSEMENTS_FRANCHISE_BORNES);
    m->reimbursed = m->base * m->rate / 100 - m->part - m->fr;
    if (!*errors && m->reimbursed < 0)
        portail_field_error(errors, "base_cents", TXT_REIMBURSEMENTS_DEDUCTIONS_TROP_FORTES);
}

/* POST .../claims/{id}/approve {base_cents, rate_pct, participation_cents,
 * franchise_cents}: a payment line (processing, paid to the member, the
 * amount computed here and checked again by the database), the claim
 * approved, the member notified; one transaction. */
struct approve {
    int64_t id;
    struct amounts m;
};

static int approve_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const struct approve *t = arg;
    const struct amounts *m = &t->m;
    const long long id = (long long)t->id;
    json_t *c = my_review(ctx, t->id);
    if (!c)
        return -1;
    long long member = portail_row_int(c, "member_id", 0);
    long long n = portail_db_exec(
        db,
        "INSERT INTO reimb_payments (insured_id, beneficiary_id, care_date, practitioner_name, "
        "practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, rate_pct, "
        "participation_cents, franchise_cents, reimbursed_cents, paid_to, status, received_on, "
        "processing_on, expected_payment_on) "
        "SELECT m.insured_id, c.beneficiary_id, ?, 'Demande en ligne', 'Feuille de soins', ?, "
        "'DEM', "
        "'Demande de remboursement en ligne', ?, ?, ?, ?, ?, ?, 'member', 'processing', "
        "DATE(c.created_at), UTC_DATE(), DATE_ADD(UTC_DATE(), INTERVAL 5 DAY) "
        "FROM members m JOIN reimb_claims c ON c.id = ? WHERE m.id = ?",
        "ssllllllll", portail_row_str(c, "care_date"), portail_row_str(c, "kind"),
        portail_row_int(c, "amount_paid_cents", 0), m->base, m->rate, m->part, m->fr, m->reimbursed,
        id, member);
    if (n != 1)
        return -1;
    long long pay = (long long)portail_db_insert_id(db);
    const char *text =
        portail_sprintf(portail_arena(ctx), TXT_REIMBURSEMENTS_NOTIFICATION_ACCEPTEE_TEXTE, id,
                        m->reimbursed / 100, m->reimbursed % 100);
    if (portail_db_exec(db,
                        "UPDATE reimb_claims SET status = 'approved', payment_id = ?, "
                        "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        "ll", pay, id) != 1 ||
        portail_notify(db, member, "reimbursements.claim",
                       TXT_REIMBURSEMENTS_NOTIFICATION_ACCEPTEE_TITRE, text,
                       "/reimbursements/") != 0)
        return -1;
    portail_audit_subject(ctx, member);
    return 0;
}

void reimb_bo_approve(portail_ctx_t *ctx)
{
    struct approve t;
    if (portail_req_param_i64(ctx, "id", &t.id) != 0)
        return;
    json_t *errors = NULL;
    read_amounts(portail_req_json(ctx), &t.m, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (portail_tx_retry(ctx, approve_tx, &t) == 0)
        bo_claim_answer(ctx, (long long)t.id);
}

/* Reject (reason 10-500 characters) or ask for a document (message, same
 * bounds): the member is notified with the text. */
struct decision {
    int64_t id;
    int reject;
    const char *reason;
};

static int decide_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const struct decision *t = arg;
    json_t *c = my_review(ctx, t->id);
    if (!c)
        return -1;
    long long member = portail_row_int(c, "member_id", 0);
    const char *text =
        portail_sprintf(portail_arena(ctx),
                        t->reject ? TXT_REIMBURSEMENTS_NOTIFICATION_REFUSEE_TEXTE
                                  : TXT_REIMBURSEMENTS_NOTIFICATION_JUSTIFICATIF_TEXTE,
                        (long long)t->id, t->reason);
    if (portail_db_exec(db,
                        t->reject
                            ? "UPDATE reimb_claims SET status = 'rejected', decision_reason = ?, "
                              "updated_at = UTC_TIMESTAMP() WHERE id = ?"
                            : "UPDATE reimb_claims SET status = 'needs_document', "
                              "decision_reason = ?, assigned_agent_id = NULL, "
                              "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                        "sl", t->reason, (long long)t->id) != 1 ||
        portail_notify(db, member, "reimbursements.claim",
                       t->reject ? TXT_REIMBURSEMENTS_NOTIFICATION_REFUSEE_TITRE
                                 : TXT_REIMBURSEMENTS_NOTIFICATION_JUSTIFICATIF_TITRE,
                       text, "/reimbursements/") != 0)
        return -1;
    portail_audit_subject(ctx, member);
    return 0;
}

static void decide(portail_ctx_t *ctx, int reject)
{
    struct decision t = {.reject = reject};
    if (portail_req_param_i64(ctx, "id", &t.id) != 0)
        return;
    json_t *errors = NULL;
    t.reason = portail_json_str(portail_req_json(ctx), "reason", REASON_MIN, REASON_MAX, &errors);
    if (!t.reason) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (portail_tx_retry(ctx, decide_tx, &t) != 0)
        return;
    portail_audit_reason(ctx, t.reason);
    bo_claim_answer(ctx, (long long)t.id);
}

void reimb_bo_reject(portail_ctx_t *ctx)
{
    decide(ctx, 1);
}

void reimb_bo_ask(portail_ctx_t *ctx)
{
    decide(ctx, 0);
}

/* The claim goes back to the queue in the documents' transaction: a claim
 * that stopped waiting meanwhile (409) keeps none of them. Rerun whole on a
 * 1213/1205, as a new claim is. */
struct claim_files {
    long long id;
    portail_doc_batch_t *files;
};

static int claim_files_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    (void)db;
    const struct claim_files *t = arg;
    json_t *docs;
    if (portail_documents_insert(ctx, t->files, &docs) != 0)
        return -1;
    long long n = portail_member_exec(ctx,
                                      "UPDATE reimb_claims SET status = 'submitted', "
                                      "updated_at = UTC_TIMESTAMP() WHERE id = ? "
                                      "AND member_id = {member} AND status = 'needs_document'",
                                      "l", t->id);
    if (n == 0)
        portail_problem(ctx, 409, NULL, TXT_REIMBURSEMENTS_PAS_DE_JUSTIFICATIF_ATTENDU);
    return n == 1 ? link_documents(ctx, t->id, docs) : -1;
}

/* ---- POST /api/v1/reimbursements/claims/{id}/documents (multipart) --------
 * The document an agent asked for: only while the claim waits for one; the
 * claim then goes back to the queue. */
void reimb_claim_add_documents(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *claim = portail_member_row(ctx,
                                       "SELECT c.status FROM reimb_claims c "
                                       "WHERE c.id = ? AND c.member_id = {member}",
                                       "l", (long long)id);
    if (!claim) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_DEMANDE_INCONNUE);
        return;
    }
    if (!status_is(claim, "needs_document")) {
        portail_problem(ctx, 409, NULL, TXT_REIMBURSEMENTS_PAS_DE_JUSTIFICATIF_ATTENDU);
        return;
    }
    struct claim_files t = {.id = (long long)id, .files = portail_documents_check(ctx, &DOC_RULES)};
    if (!t.files || portail_tx_retry(ctx, claim_files_tx, &t) != 0)
        return;
    reimb_claim_get(ctx);
}

/* ---- POST /api/v1/backoffice/reimbursements/payments/{id}/correct ---------
 * {base_cents, rate_pct, participation_cents, franchise_cents, reason}: a
 * line is never edited in place: the correction is a new line (processing)
 * and the old one is marked cancelled by it; both are kept. */
struct correction {
    int64_t id;
    struct amounts m;
    const char *reason;
    long long fresh; /* out */
};

static int correct_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    struct correction *t = arg;
    const struct amounts *m = &t->m;
    const long long id = (long long)t->id;
    json_t *old = portail_db_row(db,
                                 "SELECT p.id, p.status, p.cancelled_by, m.id AS member_id "
                                 "FROM reimb_payments p LEFT JOIN members m "
                                 "ON m.insured_id = p.insured_id WHERE p.id = ? FOR UPDATE",
                                 "l", id);
    if (!old) {
        reimb_not_found(ctx, TXT_REIMBURSEMENTS_PAIEMENT_INCONNU);
        return -1;
    }
    if (portail_row_int(old, "cancelled_by", 0) != 0) {
        conflict(ctx, TXT_REIMBURSEMENTS_PAIEMENT_DEJA_CORRIGE);
        return -1;
    }
    long long n = portail_db_exec(
        db,
        "INSERT INTO reimb_payments (insured_id, beneficiary_id, care_date, practitioner_name, "
        "practitioner_specialty, kind, act_code, act_label, charged_cents, base_cents, rate_pct, "
        "participation_cents, franchise_cents, reimbursed_cents, paid_to, status, received_on, "
        "processing_on, expected_payment_on) "
        "SELECT insured_id, beneficiary_id, care_date, practitioner_name, practitioner_specialty, "
        "kind, act_code, CONCAT('Correction : ', LEFT(act_label, 180)), charged_cents, ?, ?, ?, "
        "?, ?, paid_to, 'processing', UTC_DATE(), UTC_DATE(), "
        "DATE_ADD(UTC_DATE(), INTERVAL 5 DAY) FROM reimb_payments WHERE id = ?",
        "llllll", m->base, m->rate, m->part, m->fr, m->reimbursed, id);
    if (n != 1)
        return -1;
    t->fresh = (long long)portail_db_insert_id(db);
    long long member = portail_row_int(old, "member_id", 0);
    if (portail_db_exec(db, "UPDATE reimb_payments SET cancelled_by = ? WHERE id = ?", "ll",
                        t->fresh, id) != 1 ||
        (member > 0 &&
         portail_notify(
             db, member, "reimbursements.claim", TXT_REIMBURSEMENTS_NOTIFICATION_CORRECTION_TITRE,
             portail_sprintf(portail_arena(ctx), TXT_REIMBURSEMENTS_NOTIFICATION_CORRECTION_TEXTE,
                             t->reason),
             "/reimbursements/") != 0))
        return -1;
    if (member > 0)
        portail_audit_subject(ctx, member);
    return 0;
}

void reimb_bo_correct(portail_ctx_t *ctx)
{
    struct correction t = {0};
    if (portail_req_param_i64(ctx, "id", &t.id) != 0)
        return;
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    read_amounts(body, &t.m, &errors);
    t.reason = portail_json_str(body, "reason", REASON_MIN, REASON_MAX, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (portail_tx_retry(ctx, correct_tx, &t) != 0)
        return;
    portail_audit_reason(ctx, t.reason);
    portail_respond_json(ctx, 201,
                         json_pack("{s:I, s:I, s:I}", "id", (json_int_t)t.fresh, "cancels",
                                   (json_int_t)t.id, "reimbursed_cents",
                                   (json_int_t)t.m.reimbursed));
}
