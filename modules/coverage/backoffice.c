/* Back office of coverage: cancel a carte Vitale report made by mistake,
 * confirm or refuse a member's pending profile change. Permission and audit
 * row are the core's (route table); handlers name the member and the
 * reason, which is required for both actions. */
#include <portail/account.h>
#include <string.h>

#include "coverage.h"
#include <portail/texts.h>

static const char *reason_of(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *why = portail_json_str(portail_req_json(ctx), "reason", 5, 500, &errors);
    if (!why)
        portail_problem_fields(ctx, errors);
    return why;
}

static const char *agent_login(portail_ctx_t *ctx, portail_db_t *db)
{
    json_t *row = portail_db_row(db, "SELECT login FROM agents WHERE id = ?", "l",
                                 (long long)portail_principal(ctx)->id);
    const char *login = row ? portail_row_str(row, "login") : NULL;
    return portail_sprintf(portail_arena(ctx), "agent:%s", login ? login : "?");
}

/* The card and its member's row locked, as an order locks it: the card
 * comes back only if no replacement is active or on its way. Rerun whole
 * on a 1213/1205 (portail_tx_retry): on a Galera cluster a write through
 * another node to the same rows aborts it at COMMIT, a 500 for the agent
 * otherwise. */
typedef struct cancel_tx {
    int64_t id;
    int64_t member; /* out: the card's member, 0 when none */
} cancel_tx_t;

static int cancel_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    cancel_tx_t *t = arg;
    json_t *card = portail_db_row(db,
                                  "SELECT v.id, v.insured_id, v.beneficiary_id, v.status, "
                                  "v.reported_at, m.id AS member_id FROM coverage_vitale v "
                                  "LEFT JOIN members m ON m.insured_id = v.insured_id "
                                  "WHERE v.id = ? FOR UPDATE",
                                  "l", (long long)t->id);
    const char *st = card ? portail_row_str(card, "status") : NULL;
    json_t *other =
        !card
            ? NULL
            : portail_db_row(db,
                             "SELECT id FROM coverage_vitale WHERE insured_id = ? AND "
                             "beneficiary_id <=> NULLIF(?, 0) AND id <> ? AND status IN ('active', "
                             "'ordered', 'in_production', 'sent') LIMIT 1",
                             "lll", portail_row_int(card, "insured_id", 0),
                             portail_row_int(card, "beneficiary_id", 0), (long long)t->id);
    if (portail_db_failed(db))
        coverage_fail(ctx);
    else if (!card)
        portail_problem(ctx, 404, NULL, TXT_COVERAGE_CARTE_INCONNUE);
    else if (!portail_row_str(card, "reported_at") || !st ||
             (strcmp(st, "lost") != 0 && strcmp(st, "stolen") != 0 && strcmp(st, "defective") != 0))
        portail_problem(ctx, 409, NULL, TXT_COVERAGE_PAS_DE_SIGNALEMENT);
    else if (other)
        portail_problem(ctx, 409, NULL, TXT_COVERAGE_AUTRE_CARTE_ACTIVE);
    if (portail_responded(ctx))
        return -1;
    t->member = portail_row_int(card, "member_id", 0);
    if (portail_db_exec(db,
                        "UPDATE coverage_vitale SET status = 'active', reported_at = NULL, "
                        "status_since = UTC_TIMESTAMP() WHERE id = ? AND reported_at IS NOT NULL",
                        "l", (long long)t->id) != 1 ||
        (t->member > 0 &&
         portail_notify(db, t->member, "coverage.vitale", TXT_COVERAGE_NOTIFICATION_REACTIVEE_TITRE,
                        TXT_COVERAGE_NOTIFICATION_REACTIVEE_TEXTE, "/coverage/vitale.html") != 0))
        return -1;
    return 0;
}

/* ---- POST /api/v1/backoffice/coverage/cards/{id}/cancel-report {reason} ------- */
void coverage_bo_cancel_report(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    const char *why = reason_of(ctx);
    if (!why)
        return;
    cancel_tx_t t = {.id = id};
    if (portail_tx_retry(ctx, cancel_tx, &t) != 0)
        return;
    if (t.member > 0)
        portail_audit_subject(ctx, t.member);
    portail_audit_reason(ctx, why);
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "active"));
}

/* The change applied or refused and the lock lifted together, rerun whole
 * on a 1213/1205 as cancel_tx (the unlock's mail is queued in the
 * transaction: sent once). */
typedef struct decide_tx {
    int64_t id;
    long long member;
    int confirm;
    const char *by;
} decide_tx_t;

static int decide_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const decide_tx_t *t = arg;
    long long n = t->confirm ? coverage_apply_changes(db, t->member, (long long)t->id)
                             : portail_db_exec(db,
                                               "UPDATE coverage_profile_changes SET status = "
                                               "'refused', decided_at = UTC_TIMESTAMP() "
                                               "WHERE id = ? AND status = 'pending'",
                                               "l", (long long)t->id);
    if (n != 1 || portail_account_unlock(ctx, t->member, t->by,
                                         t->confirm ? TXT_COVERAGE_MOTIF_MODIFICATION_CONFIRMEE
                                                    : TXT_COVERAGE_MOTIF_MODIFICATION_REFUSEE) < 0)
        return -1;
    return 0;
}

/* ---- POST /api/v1/backoffice/coverage/profile-changes/{id} {decision, reason}
 * confirm: the change applies and the lock is lifted; refuse: the old values
 * stay and the lock is lifted. Either way the member is mailed (the core's
 * unlock by an agent). */
void coverage_bo_decide_change(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *errors = NULL;
    const char *decision = portail_json_str(portail_req_json(ctx), "decision", 6, 7, &errors);
    if (decision && strcmp(decision, "confirm") != 0 && strcmp(decision, "refuse") != 0) {
        portail_field_error(&errors, "decision", TXT_COVERAGE_CHOISISSEZ_DECISION);
        decision = NULL;
    }
    if (!decision) {
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *why = reason_of(ctx);
    if (!why)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *ch = portail_db_row(db,
                                "SELECT member_id, status FROM coverage_profile_changes "
                                "WHERE id = ?",
                                "l", (long long)id);
    if (coverage_missing(ctx, ch, TXT_COVERAGE_MODIFICATION_INCONNUE))
        return;
    if (strcmp(portail_row_str(ch, "status"), "pending") != 0) {
        portail_problem(ctx, 409, NULL, TXT_COVERAGE_MODIFICATION_DEJA_TRAITEE);
        return;
    }
    decide_tx_t t = {.id = id,
                     .member = portail_row_int(ch, "member_id", 0),
                     .confirm = strcmp(decision, "confirm") == 0,
                     .by = agent_login(ctx, db)};
    if (portail_tx_retry(ctx, decide_tx, &t) != 0)
        return;
    portail_audit_subject(ctx, t.member);
    portail_audit_reason(ctx, why);
    portail_respond_json(
        ctx, 200,
        json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", t.confirm ? "applied" : "refused"));
}
