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

struct member_delete {
    int64_t id;
    int found;
};

static int member_delete_tx(portail_db_t *db, void *arg)
{
    struct member_delete *d = arg;
    d->found = 0;
    json_t *row =
        portail_db_row(db, "SELECT id FROM members WHERE id = ? FOR UPDATE", "l", (long long)d->id);
    if (!row)
        return portail_db_failed(db) ? -1 : 0;
    /* Modules first: their rows may point at the member. */
    if (portail_hooks_emit(db, PORTAIL_HOOK_MEMBER_DELETED, d->id, NULL) != 0)
        return -1;
    /* Rows with no foreign key to members (sessions and the core's member
     * tokens name their subject by kind or purpose); the others cascade. */
    if (portail_db_exec(db, "DELETE FROM sessions WHERE kind = 'member' AND principal_id = ?", "l",
                        (long long)d->id) < 0 ||
        portail_db_exec(db,
                        "DELETE FROM one_time_tokens WHERE subject_id = ? AND purpose IN "
                        "('reset', 'verify')",
                        "l", (long long)d->id) < 0 ||
        portail_db_exec(db, "DELETE FROM members WHERE id = ?", "l", (long long)d->id) != 1)
        return -1;
    d->found = 1;
    return 0;
}

/* In the caller's transaction (account closing) the caller reruns; alone
 * (portailctl) the deletion is rerun whole on a Galera conflict. */
int portail_member_delete(portail_db_t *db, int64_t member_id)
{
    if (!db || member_id <= 0)
        return -1;
    struct member_delete d = {.id = member_id};
    if (portail_db_tx_retry(db, member_delete_tx, &d, NULL) != 0)
        return -1;
    if (d.found)
        portail_logf("info", NULL, "member %lld deleted", (long long)member_id);
    return d.found;
}
