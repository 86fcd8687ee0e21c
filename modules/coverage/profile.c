/* "Mon profil": contact details and bank details. A phone or postal address
 * change applies at once; a change of e-mail or IBAN is stored as pending,
 * the account goes into pending_verification through the core
 * (portail_account_request_verification_to: lock, one-time link mailed, to
 * the new address for an e-mail change, the old one getting a notice), the
 * old value stays in use, and the link (unlock "by verification") applies
 * it through the ACCOUNT_UNLOCKED hook. */
#include <ctype.h>
#include <portail/account.h>
#include <portail/mail.h>
#include <string.h>

#include "coverage.h"
#include <portail/texts.h>

/* ---- GET /api/v1/profile ---------------------------------------------------- */
void coverage_profile_get(portail_ctx_t *ctx)
{
    json_t *p = portail_member_row(
        ctx,
        "SELECT m.email, i.last_name, i.first_name, i.nir, i.birth_date, i.address_line, "
        "i.postal_code, i.city, i.iban, p.phone, p.bic, p.holder "
        "FROM members m JOIN insured i ON i.id = m.insured_id "
        "LEFT JOIN coverage_profile p ON p.member_id = m.id WHERE m.id = {member}",
        "");
    if (!p) {
        coverage_fail(ctx);
        return;
    }
    json_t *pending =
        portail_member_rows(ctx,
                            "SELECT id, kind, email, iban, bic, holder, created_at "
                            "FROM coverage_profile_changes WHERE member_id = {member} "
                            "AND status = 'pending' ORDER BY id LIMIT 10",
                            "");
    if (!pending) {
        coverage_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O, s:O}", "profile", p, "pending", pending));
}

/* Stores the pending change (replacing an earlier pending one of the same
 * kind) and locks the account until the link is followed; inside the
 * caller's transaction. */
static int request_change(portail_ctx_t *ctx, const char *kind, const char *email, const char *iban,
                          const char *bic, const char *holder, const char *what,
                          const char *old_email)
{
    portail_db_t *db = portail_db(ctx);
    if (portail_member_exec(ctx,
                            "UPDATE coverage_profile_changes SET status = 'replaced', decided_at = "
                            "UTC_TIMESTAMP() WHERE member_id = {member} AND kind = ? "
                            "AND status = 'pending'",
                            "s", kind) < 0 ||
        portail_member_exec(ctx,
                            "INSERT INTO coverage_profile_changes (member_id, kind, email, iban, "
                            "bic, holder) VALUES ({member}, ?, ?, ?, ?, ?)",
                            "sssss", kind, email, iban, bic, holder) != 1 ||
        portail_account_request_verification_to(ctx, portail_principal(ctx)->id, what, email) != 0)
        return -1;
    if (old_email &&
        portail_mail_template(db, portail_arena(ctx), old_email, "coverage_email_change_notice",
                              (const char *const[]){"new_email", email, NULL}) != 0)
        return -1;
    return 0;
}

/* One transaction: the new e-mail's request fails, nothing changes. The
 * link goes to the new address, which proves it is the member's; the
 * address on file is told, in case the change is not theirs. Rerun whole on
 * a 1213/1205 (portail_tx_retry): on a Galera cluster a write through
 * another node to the same rows aborts it at COMMIT, a 500 for the member
 * otherwise; the mails are queued in the transaction (outbox), so a rerun
 * sends them once. */
typedef struct contact_tx {
    const char *email, *phone, *address, *postcode, *city, *old;
    int same;
} contact_tx_t;

static int contact_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    (void)db;
    const contact_tx_t *t = arg;
    if (portail_member_exec(ctx,
                            "UPDATE insured SET address_line = ?, postal_code = ?, city = ? "
                            "WHERE id = " COVERAGE_INSURED,
                            "sss", t->address, t->postcode, t->city) < 0 ||
        portail_member_exec(ctx,
                            "INSERT INTO coverage_profile (member_id, phone) VALUES "
                            "({member}, ?) ON DUPLICATE KEY UPDATE phone = "
                            "VALUES(phone)",
                            "s", t->phone) < 0 ||
        (!t->same &&
         request_change(ctx, "email", t->email, NULL, NULL, NULL, "adresse e-mail", t->old) != 0))
        return -1;
    return 0;
}

/* ---- PUT /api/v1/profile/contact {email, phone, address_line, postal_code, city} */
void coverage_profile_contact(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    const char *email = portail_json_valid(a, body, "email", 1, portail_valid_email, &errors);
    const char *phone = portail_json_valid(a, body, "phone", 0, portail_valid_phone, &errors);
    const char *address = portail_json_str(body, "address_line", 3, 200, &errors);
    const char *postcode =
        portail_json_valid(a, body, "postal_code", 1, portail_valid_postcode, &errors);
    const char *city = portail_json_str(body, "city", 1, 100, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    json_t *cur = portail_member_row(ctx, "SELECT email FROM members WHERE id = {member}", "");
    if (!cur) {
        coverage_fail(ctx);
        return;
    }
    contact_tx_t t = {.email = email,
                      .phone = phone,
                      .address = address,
                      .postcode = postcode,
                      .city = city,
                      .old = portail_row_str(cur, "email")};
    t.same = t.old && strcasecmp(t.old, email) == 0;
    if (portail_tx_retry(ctx, contact_tx, &t) != 0)
        return;
    portail_respond_json(ctx, t.same ? 200 : 202,
                         json_pack("{s:s}", "status", t.same ? "updated" : "pending_verification"));
}

/* A BIC (ISO 9362): 6 letters, then 2 or 5 letters or digits; any case,
 * comes back in upper case (a portail_validator_t). */
static const char *valid_bic(portail_arena_t *a, const char *in, const char **msg)
{
    size_t n = strlen(in);
    char *up = portail_strdup(a, in);
    int ok = up && (n == 8 || n == 11);
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)toupper((unsigned char)in[i]);
        up[i] = (char)c;
        ok = i < 6 ? isupper(c) : isupper(c) || isdigit(c);
    }
    if (!ok)
        *msg = TXT_COVERAGE_BIC_INVALIDE;
    return ok ? up : NULL;
}

/* Rerun whole on a 1213/1205, as contact_tx. */
typedef struct bank_tx {
    const char *iban, *bic, *holder;
} bank_tx_t;

static int bank_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    (void)db;
    const bank_tx_t *t = arg;
    return request_change(ctx, "bank", NULL, t->iban, t->bic, t->holder,
                          TXT_COVERAGE_COORDONNEES_BANCAIRES, NULL);
}

/* ---- PUT /api/v1/profile/bank {iban, bic, holder} ------------------------------ */
void coverage_profile_bank(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    const char *iban = portail_json_valid(a, body, "iban", 1, portail_valid_iban, &errors);
    const char *bic = portail_json_valid(a, body, "bic", 1, valid_bic, &errors);
    const char *holder = portail_json_str(body, "holder", 2, 100, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    bank_tx_t t = {.iban = iban, .bic = bic, .holder = holder};
    if (portail_tx_retry(ctx, bank_tx, &t) != 0)
        return;
    portail_respond_json(ctx, 202, json_pack("{s:s}", "status", "pending_verification"));
}

long long coverage_apply_changes(portail_db_t *db, long long member, long long id)
{
    if (portail_db_exec(db,
                        "UPDATE insured i JOIN members m ON m.insured_id = i.id "
                        "JOIN coverage_profile_changes c ON c.member_id = m.id "
                        "AND c.kind = 'bank' AND c.status = 'pending' AND (? = 0 OR c.id = ?) "
                        "SET i.iban = c.iban WHERE m.id = ?",
                        "lll", id, id, member) < 0 ||
        portail_db_exec(db,
                        "INSERT INTO coverage_profile (member_id, bic, holder) "
                        "SELECT member_id, bic, holder FROM coverage_profile_changes "
                        "WHERE member_id = ? AND kind = 'bank' AND status = 'pending' "
                        "AND (? = 0 OR id = ?) "
                        "ON DUPLICATE KEY UPDATE bic = VALUES(bic), holder = VALUES(holder)",
                        "lll", member, id, id) < 0 ||
        portail_db_exec(db,
                        "UPDATE members m JOIN coverage_profile_changes c ON c.member_id = m.id "
                        "AND c.kind = 'email' AND c.status = 'pending' AND (? = 0 OR c.id = ?) "
                        "SET m.email = c.email, m.updated_at = UTC_TIMESTAMP() WHERE m.id = ?",
                        "lll", id, id, member) < 0)
        return -1;
    return portail_db_exec(db,
                           "UPDATE coverage_profile_changes SET status = 'applied', decided_at = "
                           "UTC_TIMESTAMP() WHERE member_id = ? AND status = 'pending' "
                           "AND (? = 0 OR id = ?)",
                           "lll", member, id, id);
}

/* Only the confirmation link applies a change ("verification"); an agent's
 * or a password reset's unlock leaves it pending. */
int coverage_on_unlocked(portail_db_t *db, const portail_hook_args_t *args, void *state)
{
    (void)state;
    if (!args->detail || strcmp(args->detail, "verification") != 0)
        return 0;
    return coverage_apply_changes(db, (long long)args->member_id, 0) < 0 ? -1 : 0;
}
