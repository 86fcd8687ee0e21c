/* Module reimbursements: the handlers of claims.c, routed by reimbursements.c. */
#ifndef REIMBURSEMENTS_H
#define REIMBURSEMENTS_H

#include <portail/portail.h>

void reimb_claim_create(portail_ctx_t *ctx);
void reimb_claims_list(portail_ctx_t *ctx);
void reimb_claim_get(portail_ctx_t *ctx);
void reimb_claim_document(portail_ctx_t *ctx);
void reimb_claim_withdraw(portail_ctx_t *ctx);
void reimb_claim_add_documents(portail_ctx_t *ctx);
void reimb_bo_queue(portail_ctx_t *ctx);
void reimb_bo_claim(portail_ctx_t *ctx);
void reimb_bo_document(portail_ctx_t *ctx);
void reimb_bo_take(portail_ctx_t *ctx);
void reimb_bo_approve(portail_ctx_t *ctx);
void reimb_bo_reject(portail_ctx_t *ctx);
void reimb_bo_ask(portail_ctx_t *ctx);
void reimb_bo_correct(portail_ctx_t *ctx);
/* Nonzero when s is one of the NULL-terminated choices. */
int reimb_one_of(const char *s, const char *const *choices);
int reimb_is_kind(const char *s);
/* A beneficiary parameter: "" or NULL (*set 0: any), "me" (*set 1, *id 0:
 * the member) or a beneficiary's id (*set 1, *id > 0). 0, or -1 when
 * malformed. */
int reimb_beneficiary_parse(const char *s, int *set, long long *id);
/* A 500, unless an answer is already set (e.g. the pool's 503). */
void reimb_fail(portail_ctx_t *ctx);
/* No row: a 500 when the query failed, otherwise a 404 saying detail. */
void reimb_not_found(portail_ctx_t *ctx, const char *detail);

#endif
