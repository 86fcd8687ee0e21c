/* Module coverage: what coverage.c (rights, attestation, cards) and
 * profile.c ("Mon profil") share. */
#ifndef COVERAGE_H
#define COVERAGE_H

#include <portail/portail.h>

/* The member's insured person, inside {member}-scoped SQL. */
#define COVERAGE_INSURED "(SELECT insured_id FROM members WHERE id = {member})"

void coverage_fail(portail_ctx_t *ctx);
/* 0 when row was found; otherwise the answer is set (500 after a database
 * error, else 404 with detail) and -1. */
int coverage_missing(portail_ctx_t *ctx, const json_t *row, const char *detail);
void coverage_profile_get(portail_ctx_t *ctx);
void coverage_profile_contact(portail_ctx_t *ctx);
void coverage_profile_bank(portail_ctx_t *ctx);
void coverage_bo_cancel_report(portail_ctx_t *ctx);
void coverage_bo_decide_change(portail_ctx_t *ctx);
/* Applies the member's pending profile change id (0: all of them) and
 * marks it applied: the changes marked, or -1. */
long long coverage_apply_changes(portail_db_t *db, long long member, long long id);
/* Hook: the confirmation link lifted the lock; applies the pending changes. */
int coverage_on_unlocked(portail_db_t *db, const portail_hook_args_t *args, void *state);

#endif
