#ifndef PORTAIL_AUDIT_H
#define PORTAIL_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- Audit of agent actions (core/audit.c) ------------------------------
 * Who (the ctx's agent), what, on whom, why, when. 0 or -1. */
int portail_audit(portail_ctx_t *ctx, int64_t member_id, const char *action, const char *reason);

/* For a route with `audit` (module.h): the member the request concerns and
 * an optional reason, written by the core in the audit row it adds once the
 * handler answered below 400. The last call wins; reason is copied. */
void portail_audit_subject(portail_ctx_t *ctx, int64_t member_id);
void portail_audit_reason(portail_ctx_t *ctx, const char *reason);

#endif
