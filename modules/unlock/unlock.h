/* Module unlock: what its two files share. unlock.c holds the route table,
 * the settings and the member routes; backoffice.c the agents' routes. */
#ifndef PORTAIL_UNLOCK_H
#define PORTAIL_UNLOCK_H

#include <portail/portail.h>

/* Lasting state, read from the settings at init. */
struct unlock_state {
    int forgot_ip_max;
    int forgot_ip_window_s;
    int forgot_account_max;
    int forgot_account_window_s;
    int reset_link_ttl_s;
    int page_max;
};

/* 500 unless a problem (e.g. the 503 of portail_db) is already set. */
void unlock_fail(portail_ctx_t *ctx);

/* Back office (backoffice.c), agent sessions only. */
void bo_member_find(portail_ctx_t *ctx);
void bo_member_events(portail_ctx_t *ctx);
void bo_member_unlock(portail_ctx_t *ctx);
void bo_member_lock(portail_ctx_t *ctx);
void bo_audit(portail_ctx_t *ctx);
void bo_audit_export(portail_ctx_t *ctx);
void bo_insured_search(portail_ctx_t *ctx);
void bo_member_history(portail_ctx_t *ctx);

#endif
