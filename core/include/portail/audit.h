#ifndef PORTAIL_AUDIT_H
#define PORTAIL_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- Audit of agent actions (core/audit.c) ------------------------------
 * Who (the ctx's agent), what, on whom, why, when. 0 or -1. */
int portail_audit(portail_ctx_t *ctx, int64_t member_id, const char *action, const char *reason);

#endif
