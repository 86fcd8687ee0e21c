/* The audit trail of agent actions: who, what, on whom, why, when, from
 * where. The agent is always the session's, never a parameter, so a module
 * cannot record an action under someone else's name. */
#include <string.h>

#include "internal.h"

#define ACTION_MAX 50
#define REASON_MAX 500
#define IP_MAX 45

int portail_audit(portail_ctx_t *ctx, int64_t member_id, const char *action, const char *reason)
{
    const portail_principal_t *p = &ctx->principal;
    if (p->kind != PORTAIL_PRINCIPAL_AGENT || p->level != PORTAIL_AUTH_AGENT || p->id <= 0) {
        portail_log_error(ctx, "audit refused: %s by a non-agent session",
                          action ? action : "(no action)");
        return -1;
    }
    if (!action || !*action) {
        portail_log_error(ctx, "audit refused: no action");
        return -1;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    const portail_client_t *cl = portail_client(ctx);
    long long n =
        portail_db_exec(db,
                        "INSERT INTO audit_log (agent_id, member_id, action, reason, ip) "
                        "VALUES (?, NULLIF(?, 0), ?, ?, ?)",
                        "llsss", (long long)p->id, (long long)(member_id > 0 ? member_id : 0),
                        portail_clip_utf8(ctx->arena, action, ACTION_MAX),
                        reason && *reason ? portail_clip_utf8(ctx->arena, reason, REASON_MAX) : "",
                        portail_clip_utf8(ctx->arena, cl->ip, IP_MAX));
    return n == 1 ? 0 : -1;
}

void portail_audit_subject(portail_ctx_t *ctx, int64_t member_id)
{
    ctx->audit_member = member_id > 0 ? member_id : 0;
}

void portail_audit_reason(portail_ctx_t *ctx, const char *reason)
{
    ctx->audit_reason = reason ? portail_clip_utf8(ctx->arena, reason, REASON_MAX) : NULL;
}
