/* Hooks: core events that modules react to in the emitter's transaction,
 * so that a module's rows change with the core's or not at all (a hook that
 * fails makes the emitter roll back). Also the one emitter of
 * MEMBER_DELETED: deleting a member account. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *event_name(portail_hook_event_t ev)
{
    switch (ev) {
    case PORTAIL_HOOK_ACCOUNT_LOCKED:
        return "account_locked";
    case PORTAIL_HOOK_ACCOUNT_UNLOCKED:
        return "account_unlocked";
    case PORTAIL_HOOK_EMAIL_CHANGED:
        return "email_changed";
    case PORTAIL_HOOK_MEMBER_DELETED:
        return "member_deleted";
    }
    return "unknown";
}

int portail_hooks_emit(portail_db_t *db, portail_hook_event_t ev, int64_t member_id,
                       const char *detail)
{
    const portail_host_t *h = portail_the_host;
    if (!db)
        return -1;
    if (!h)
        return 0; /* a tool without modules: nobody listens */
    portail_hook_args_t args = {.event = ev, .member_id = member_id, .detail = detail};
    for (size_t i = 0; i < h->nmodules; i++) {
        const portail_loaded_module_t *m = &h->modules[i];
        if (!m->enabled || !m->desc->hooks)
            continue;
        for (const portail_hook_t *k = m->desc->hooks; k->event || k->handler; k++) {
            if (k->event != ev || !k->handler)
                continue;
            if (k->handler(db, &args, m->state) != 0) {
                portail_logf("warn", NULL, "hook %s of module %s failed for member %lld",
                             event_name(ev), m->desc->name, (long long)member_id);
                return -1;
            }
        }
    }
    return 0;
}

int portail_member_delete(portail_db_t *db, int64_t member_id)
{
    if (!db || member_id <= 0)
        return -1;
    json_t *r = portail_db_row(db, "SELECT @@in_transaction AS t", "");
    if (!r)
        return -1;
    int own = portail_row_int(r, "t", 1) == 0;
    if (own && portail_db_begin(db) != 0)
        return -1;
    int rc = -1;
    json_t *row = portail_db_row(db, "SELECT id FROM members WHERE id = ? FOR UPDATE", "l",
                                 (long long)member_id);
    if (!row) {
        rc = portail_db_failed(db) ? -1 : 0;
        goto out;
    }
    /* Modules first: their rows may point at the member. */
    if (portail_hooks_emit(db, PORTAIL_HOOK_MEMBER_DELETED, member_id, NULL) != 0)
        goto out;
    /* Rows with no foreign key to members (sessions and the core's member
     * tokens name their subject by kind or purpose); the others cascade. */
    if (portail_db_exec(db, "DELETE FROM sessions WHERE kind = 'member' AND principal_id = ?", "l",
                        (long long)member_id) < 0 ||
        portail_db_exec(db,
                        "DELETE FROM one_time_tokens WHERE subject_id = ? AND purpose IN "
                        "('reset', 'verify')",
                        "l", (long long)member_id) < 0 ||
        portail_db_exec(db, "DELETE FROM members WHERE id = ?", "l", (long long)member_id) != 1)
        goto out;
    rc = 1;
out:
    if (own) {
        if (rc >= 0 && portail_db_commit(db) != 0)
            rc = -1;
        if (rc < 0)
            portail_db_rollback(db);
    }
    if (rc == 1)
        portail_logf("info", NULL, "member %lld deleted", (long long)member_id);
    return rc;
}
