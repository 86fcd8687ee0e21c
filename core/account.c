/* Account security: locks, failure counters and the member-visible
 * security events. Every lock and unlock is also a mail to the member,
 * because the owner of an account must learn of it even when the one
 * tripping the lock is someone else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "portail/texts.h"

#define KIND_MAX 50
#define DETAIL_MAX 500
#define IP_MAX 45
#define UA_MAX 512
#define BY_MAX 100
#define WHAT_MAX 200
#define VERIFY_TTL_S (48 * 3600)

static const char *const reason_names[] = {
    [PORTAIL_LOCK_NONE] = "none",
    [PORTAIL_LOCK_PASSWORD] = "password",
    [PORTAIL_LOCK_SECOND_FACTOR] = "second_factor",
    [PORTAIL_LOCK_SUSPICIOUS] = "suspicious",
    [PORTAIL_LOCK_PENDING_VERIFICATION] = "pending_verification",
    [PORTAIL_LOCK_AGENT] = "agent",
};

#define NREASONS (sizeof reason_names / sizeof reason_names[0])

static const char *const reason_texts[] = {
    [PORTAIL_LOCK_NONE] = TXT_ACCOUNT_COMPTE_PAS_BLOQUE,
    [PORTAIL_LOCK_PASSWORD] = TXT_ACCOUNT_MOTIF_MOT_DE_PASSE,
    [PORTAIL_LOCK_SECOND_FACTOR] = TXT_ACCOUNT_MOTIF_CODE_DE_SECURITE,
    [PORTAIL_LOCK_SUSPICIOUS] = TXT_ACCOUNT_MOTIF_ACTIVITE_INHABITUELLE,
    [PORTAIL_LOCK_PENDING_VERIFICATION] = TXT_ACCOUNT_MOTIF_VERIFICATION,
    [PORTAIL_LOCK_AGENT] = TXT_ACCOUNT_MOTIF_CONSEILLER,
};

/* The ways out of each lock, in the order to try them: the lock page, the
 * 423 of a sign-in, the answer of a password reset and the lock mail all
 * show these. A password reset lifts only the two locks caused by wrong
 * secrets: the others need the fund or the confirmation link. CALL and
 * CALL_CAP, in the texts as {appel} and {Appel} (texts/README.md), stand
 * for portail_call_fund(): the brand's phone is known at start only
 * (step_text). */
#define CALL "{appel}"
#define CALL_CAP "{Appel}"

static const portail_lock_step_t steps_secret[] = {
    {"reset_password", TXT_ACCOUNT_ETAPE_REINITIALISER_MOT_DE_PASSE},
    {"call_fund", TXT_ACCOUNT_ETAPE_APPELER_AUTRE_SOLUTION},
    {NULL, NULL},
};
static const portail_lock_step_t steps_suspicious[] = {
    {"call_fund", TXT_ACCOUNT_ETAPE_APPELER_OU_ECRIRE},
    {"wait_agent", TXT_ACCOUNT_ETAPE_ATTENDRE_VERIFICATION},
    {NULL, NULL},
};
static const portail_lock_step_t steps_agent[] = {
    {"call_fund", TXT_ACCOUNT_ETAPE_APPELER_MOTIF},
    {"wait_agent", TXT_ACCOUNT_ETAPE_SEUL_CONSEILLER},
    {NULL, NULL},
};
static const portail_lock_step_t steps_verification[] = {
    {"confirm_update", TXT_ACCOUNT_ETAPE_SUIVRE_LIEN_CONFIRMATION},
    {"call_fund", TXT_ACCOUNT_ETAPE_APPELER_LIEN_EXPIRE},
    {NULL, NULL},
};
static const portail_lock_step_t steps_none[] = {{NULL, NULL}};

static const portail_lock_step_t *const reason_steps[] = {
    [PORTAIL_LOCK_NONE] = steps_none,
    [PORTAIL_LOCK_PASSWORD] = steps_secret,
    [PORTAIL_LOCK_SECOND_FACTOR] = steps_secret,
    [PORTAIL_LOCK_SUSPICIOUS] = steps_suspicious,
    [PORTAIL_LOCK_PENDING_VERIFICATION] = steps_verification,
    [PORTAIL_LOCK_AGENT] = steps_agent,
};

/* Said in the lock mail only, after the steps. */
static const char *const reason_mail_note[NREASONS] = {
    [PORTAIL_LOCK_SECOND_FACTOR] = TXT_ACCOUNT_MAIL_MOT_DE_PASSE_CONNU,
};

/* What it takes to lift a lock: a new password (1), the confirmation link
 * (2), the fund (3). A lock is never weakened: a reset link must not lift a
 * lock that an agent or a suspicious sign-in put on a password lock. */
static int lock_rank(portail_lock_reason_t r)
{
    switch (r) {
    case PORTAIL_LOCK_PASSWORD:
    case PORTAIL_LOCK_SECOND_FACTOR:
        return 1;
    case PORTAIL_LOCK_PENDING_VERIFICATION:
        return 2;
    case PORTAIL_LOCK_SUSPICIOUS:
    case PORTAIL_LOCK_AGENT:
        return 3;
    case PORTAIL_LOCK_NONE:
        break;
    }
    return 0;
}

const char *portail_lock_reason_name(portail_lock_reason_t r)
{
    return (unsigned)r < NREASONS ? reason_names[r] : reason_names[PORTAIL_LOCK_NONE];
}

portail_lock_reason_t portail_lock_reason_parse(const char *name)
{
    if (!name)
        return PORTAIL_LOCK_NONE;
    for (unsigned i = 1; i < NREASONS; i++)
        if (strcmp(name, reason_names[i]) == 0)
            return (portail_lock_reason_t)i;
    return PORTAIL_LOCK_NONE;
}

const char *portail_lock_reason_text(portail_lock_reason_t r)
{
    return (unsigned)r < NREASONS ? reason_texts[r] : reason_texts[PORTAIL_LOCK_NONE];
}

static const portail_lock_step_t *lock_reason_steps(portail_lock_reason_t r)
{
    return (unsigned)r < NREASONS ? reason_steps[r] : steps_none;
}

/* A step's text with its CALL or CALL_CAP (at most one) said. */
static void step_text(char *buf, size_t len, const char *t)
{
    const char *m = strchr(t, '{');
    if (m && (strncmp(m, CALL, strlen(CALL)) == 0 || strncmp(m, CALL_CAP, strlen(CALL_CAP)) == 0))
        snprintf(buf, len, "%.*s%s%s", (int)(m - t), t, portail_call_fund(m[1] == 'A'),
                 m + strlen(CALL));
    else
        snprintf(buf, len, "%s", t);
}

/* [{kind, text}]; a call to the fund also carries the number to dial
 * (phone as written, tel for a tel: link) when the brand has one. */
static json_t *steps_json(const portail_lock_step_t *s)
{
    json_t *steps = json_array();
    char text[512];
    const char *tel;
    const char *phone = portail_brand_phone(&tel);
    for (; steps && s->kind; s++) {
        step_text(text, sizeof text, s->text);
        json_t *step = json_pack("{s:s, s:s}", "kind", s->kind, "text", text);
        if (step && *phone && strcmp(s->kind, "call_fund") == 0) {
            json_object_set_new(step, "phone", json_string(phone));
            json_object_set_new(step, "tel", json_string(tel));
        }
        json_array_append_new(steps, step);
    }
    return steps;
}

json_t *portail_lock_reason_steps_json(portail_lock_reason_t r)
{
    return steps_json(lock_reason_steps(r));
}

/* The steps as the lines of a mail: "- step" each. */
static const char *steps_text(portail_arena_t *a, portail_lock_reason_t r)
{
    const char *out = "";
    char text[512];
    for (const portail_lock_step_t *s = lock_reason_steps(r); s->kind; s++) {
        step_text(text, sizeof text, s->text);
        out = portail_sprintf(a, "%s%s- %s", out, *out ? "\n" : "", text);
    }
    return out;
}

/* Where each kind of principal keeps its lock and counters, and how its
 * events are named. Table and column names come from here only, never from
 * a caller. Members' events are their own history (security_events);
 * agents' go to the audit log, where supervisors read them. */
typedef struct principal_tables {
    const char *name; /* for the log */
    const char *locks, *counters, *id;
    const char *ev_locked, *ev_unlocked;
    int mails; /* members are told of every lock and unlock */
} principal_tables_t;

/* Lock and unlock write several rows that stand or fall together: one
 * transaction, the caller's when it opened one (it keeps its rollback),
 * otherwise one of their own, rerun when the database aborts it (1213 or
 * 1205: a Galera certification conflict, e.g. a lock placed through one
 * node while an agent lifts it through another). */
typedef struct lock_tx {
    portail_ctx_t *ctx;
    const principal_tables_t *t;
    portail_principal_kind_t kind;
    int64_t id;
    portail_lock_reason_t reason;
    const char *detail;
    const char *by;
    const char *why;
    const char *sql; /* the lock's upsert */
    int result;      /* lock: 1 placed or replaced, 0 kept; unlock: 0 lifted, 1 nothing to lift */
    portail_lock_reason_t was;
} lock_tx_t;

static const principal_tables_t tables[] = {
    [PORTAIL_PRINCIPAL_MEMBER] = {"member", "account_locks", "account_counters", "member_id",
                                  "account_locked", "account_unlocked", 1},
    [PORTAIL_PRINCIPAL_AGENT] = {"agent", "agent_locks", "agent_counters", "agent_id", "locked",
                                 "unlocked", 0},
};

static const principal_tables_t *tables_of(portail_principal_kind_t kind)
{
    if (kind != PORTAIL_PRINCIPAL_MEMBER && kind != PORTAIL_PRINCIPAL_AGENT)
        return NULL;
    return &tables[kind];
}

#define SQL_MAX 512

static int insert_event(portail_ctx_t *ctx, portail_db_t *db, portail_principal_kind_t kind,
                        int64_t id, const char *event, const char *detail)
{
    const portail_client_t *cl = portail_client(ctx);
    portail_arena_t *a = ctx->arena;
    long long n;
    if (kind == PORTAIL_PRINCIPAL_AGENT)
        n = portail_db_exec(db,
                            "INSERT INTO audit_log (agent_id, member_id, action, reason, ip) "
                            "VALUES (?, NULL, ?, ?, ?)",
                            "lsss", (long long)id, portail_clip_utf8(a, event, KIND_MAX),
                            detail && *detail ? portail_clip_utf8(a, detail, DETAIL_MAX) : "",
                            portail_clip_utf8(a, cl->ip, IP_MAX));
    else
        n = portail_db_exec(
            db,
            "INSERT INTO security_events (member_id, kind, detail, ip, "
            "country, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
            "lsssss", (long long)id, portail_clip_utf8(a, event, KIND_MAX),
            portail_clip_utf8(a, detail, DETAIL_MAX), portail_clip_utf8(a, cl->ip, IP_MAX),
            portail_clip_utf8(a, cl->country, 2), portail_clip_utf8(a, cl->user_agent, UA_MAX));
    return n == 1 ? 0 : -1;
}

int portail_principal_event(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                            const char *event, const char *detail)
{
    if (!tables_of(kind) || id <= 0 || !event || !*event)
        return -1;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    return insert_event(ctx, db, kind, id, event, detail);
}

int portail_security_event(portail_ctx_t *ctx, int64_t member_id, const char *kind,
                           const char *detail)
{
    return portail_principal_event(ctx, PORTAIL_PRINCIPAL_MEMBER, member_id, kind, detail);
}

/* A lost mail must not undo the lock it reports: the lock protects the
 * account, the mail only informs. So a mail failure is logged, not
 * returned. */
static void mail_member(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id,
                        const char *template, const char *const *vars)
{
    json_t *row =
        portail_db_row(db, "SELECT email FROM members WHERE id = ?", "l", (long long)member_id);
    const char *to = row ? portail_row_str(row, "email") : NULL;
    if (!to || portail_mail_template(db, ctx->arena, to, template, vars) != 0)
        portail_log_error(ctx, "member %lld: account mail not queued", (long long)member_id);
}

/* "system", or "agent:<login>" when an agent session makes the call. */
static const char *acting(portail_ctx_t *ctx, portail_db_t *db)
{
    const portail_principal_t *p = &ctx->principal;
    if (p->kind != PORTAIL_PRINCIPAL_AGENT || p->id <= 0)
        return "system";
    json_t *row =
        portail_db_row(db, "SELECT login FROM agents WHERE id = ?", "l", (long long)p->id);
    const char *login = row ? portail_row_str(row, "login") : NULL;
    return portail_clip_utf8(ctx->arena,
                             login ? portail_sprintf(ctx->arena, "agent:%s", login)
                                   : portail_sprintf(ctx->arena, "agent:#%lld", (long long)p->id),
                             BY_MAX);
}

static int lock_tx(portail_db_t *db, void *arg)
{
    lock_tx_t *a = arg;
    portail_ctx_t *ctx = a->ctx;
    const principal_tables_t *t = a->t;
    int rk = lock_rank(a->reason);
    const char *name = reason_names[a->reason];
    long long n = portail_db_exec(db, a->sql, "lsssiiii", (long long)a->id, name, a->detail, a->by,
                                  rk, rk, rk, rk);
    if (n < 0)
        return -1;
    a->result = n > 0;
    if (n == 0)
        return 0;

    /* Only the reason: events are shown to the member, and the detail may
     * be an agent's internal note (it stays in the lock row). */
    if (insert_event(ctx, db, a->kind, a->id, t->ev_locked, name) != 0 ||
        (a->kind == PORTAIL_PRINCIPAL_MEMBER &&
         portail_hooks_emit(db, PORTAIL_HOOK_ACCOUNT_LOCKED, a->id, name) != 0))
        return -1;
    /* A lock shuts the account, including for whoever is already signed
     * in: an intruder behind a "suspicious" lock must not keep his session. */
    if ((a->kind == PORTAIL_PRINCIPAL_MEMBER && a->reason == PORTAIL_LOCK_AGENT
             ? portail_sessions_revoke_all_why(ctx, db, a->kind, a->id, 0, "agent")
             : portail_sessions_revoke_all(db, a->kind, a->id, 0)) < 0)
        return -1;
    if (t->mails) {
        const char *note = reason_mail_note[a->reason];
        const char *const vars[] = {
            "reason_text", reason_texts[a->reason],
            "steps",       steps_text(ctx->arena, a->reason),
            "note",        note ? portail_sprintf(ctx->arena, "\n\n%s", note) : "",
            NULL};
        mail_member(ctx, db, a->id, "account_locked", vars);
    }
    return 0;
}

int portail_principal_lock(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                           portail_lock_reason_t reason, const char *detail)
{
    const principal_tables_t *t = tables_of(kind);
    if (!t || id <= 0 || reason <= PORTAIL_LOCK_NONE || (unsigned)reason >= NREASONS) {
        portail_log_error(ctx, "account_lock: bad arguments (kind %d, id %lld, reason %d)",
                          (int)kind, (long long)id, (int)reason);
        return -1;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    const char *name = reason_names[reason];

    /* One upsert, so that a lock placed in a race is decided on the row as
     * committed (the statement waits for a concurrent insert and then
     * updates it), never on an older read. The reason in place is kept
     * unless the new one takes more to lift (lock_rank): each reason has
     * its own way out, and an easier one must not open a lock that needs
     * the fund. Affected rows: 1 placed, 2 replaced, 0 kept. */
    char rank[400];
    size_t off = (size_t)snprintf(rank, sizeof rank, "(CASE reason");
    for (unsigned r = PORTAIL_LOCK_NONE + 1; r < NREASONS && off < sizeof rank; r++)
        off += (size_t)snprintf(rank + off, sizeof rank - off, " WHEN '%s' THEN %d",
                                reason_names[r], lock_rank((portail_lock_reason_t)r));
    if (off >= sizeof rank - 12)
        return -1;
    snprintf(rank + off, sizeof rank - off, " ELSE 0 END)");
    char upsert[2048];
    int len = snprintf(upsert, sizeof upsert,
                       "INSERT INTO %s (%s, reason, detail, locked_by) VALUES (?, ?, ?, ?) "
                       "ON DUPLICATE KEY UPDATE "
                       "detail = IF(? > %s, VALUES(detail), detail), "
                       "locked_by = IF(? > %s, VALUES(locked_by), locked_by), "
                       "locked_at = IF(? > %s, UTC_TIMESTAMP(), locked_at), "
                       "reason = IF(? > %s, VALUES(reason), reason)",
                       t->locks, t->id, rank, rank, rank, rank);
    if (len < 0 || (size_t)len >= sizeof upsert)
        return -1;
    const char *clipped = portail_clip_utf8(ctx->arena, detail, DETAIL_MAX);
    lock_tx_t a = {.ctx = ctx,
                   .t = t,
                   .kind = kind,
                   .id = id,
                   .reason = reason,
                   .detail = clipped ? clipped : "",
                   .by = acting(ctx, db),
                   .sql = upsert};
    if (portail_db_tx_retry(db, lock_tx, &a, NULL) != 0)
        return -1;
    if (!a.result)
        portail_log_info(ctx, "%s %lld already locked for a reason as strong: %s not placed",
                         t->name, (long long)id, name);
    else
        portail_log_info(ctx, "%s %lld locked (%s) by %s", t->name, (long long)id, name, a.by);
    return 0;
}

int portail_account_lock(portail_ctx_t *ctx, int64_t member_id, portail_lock_reason_t reason,
                         const char *detail)
{
    return portail_principal_lock(ctx, PORTAIL_PRINCIPAL_MEMBER, member_id, reason, detail);
}

static int unlock_tx(portail_db_t *db, void *arg)
{
    lock_tx_t *a = arg;
    portail_ctx_t *ctx = a->ctx;
    const principal_tables_t *t = a->t;
    const char *by = a->by;
    char sql[SQL_MAX];
    a->result = 1;
    snprintf(sql, sizeof sql, "SELECT reason FROM %s WHERE %s = ? FOR UPDATE", t->locks, t->id);
    json_t *row = portail_db_row(db, sql, "l", (long long)a->id);
    if (!row && portail_db_failed(db))
        return -1;
    snprintf(sql, sizeof sql,
             "UPDATE %s SET password_failures = 0, second_factor_failures = 0, "
             "password_change_failures = 0, updated_at = UTC_TIMESTAMP() WHERE %s = ?",
             t->counters, t->id);
    if (portail_db_exec(db, sql, "l", (long long)a->id) < 0)
        return -1;
    if (!row)
        return 0;

    portail_lock_reason_t reason = portail_lock_reason_parse(portail_row_str(row, "reason"));
    /* The mail of those locks promised that a new password is not enough:
     * keep the promise here rather than in every caller. */
    if (strcmp(by, "reset") == 0 && reason != PORTAIL_LOCK_PASSWORD &&
        reason != PORTAIL_LOCK_SECOND_FACTOR)
        return 0;
    /* A confirmation link answers the update it was sent for, nothing else. */
    if (strcmp(by, "verification") == 0 && reason != PORTAIL_LOCK_PENDING_VERIFICATION)
        return 0;

    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?", t->locks, t->id);
    if (portail_db_exec(db, sql, "l", (long long)a->id) < 0)
        return -1;
    const char *detail = a->why && *a->why ? portail_sprintf(ctx->arena, "%s: %s", by, a->why) : by;
    if (insert_event(ctx, db, a->kind, a->id, t->ev_unlocked, detail) != 0 ||
        (a->kind == PORTAIL_PRINCIPAL_MEMBER &&
         portail_hooks_emit(db, PORTAIL_HOOK_ACCOUNT_UNLOCKED, a->id, by) != 0))
        return -1;

    if (t->mails) {
        /* One mail per way out, so that each says in its own words what
         * happened. */
        const char *template = strncmp(by, "agent", 5) == 0      ? "account_unlocked_agent"
                               : strcmp(by, "reset") == 0        ? "account_unlocked_reset"
                               : strcmp(by, "verification") == 0 ? "account_unlocked_verification"
                                                                 : "account_unlocked";
        mail_member(ctx, db, a->id, template, NULL);
    }
    a->was = reason;
    a->result = 0;
    return 0;
}

int portail_principal_unlock(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                             const char *by, const char *why)
{
    const principal_tables_t *t = tables_of(kind);
    if (!t || id <= 0 || !by || !*by) {
        portail_log_error(ctx, "account_unlock: bad arguments");
        return -1;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    lock_tx_t a = {.ctx = ctx, .t = t, .kind = kind, .id = id, .by = by, .why = why};
    if (portail_db_tx_retry(db, unlock_tx, &a, NULL) != 0)
        return -1;
    if (a.result == 0)
        portail_log_info(ctx, "%s %lld unlocked (was %s) by %s", t->name, (long long)id,
                         reason_names[a.was], by);
    return a.result;
}

int portail_account_unlock(portail_ctx_t *ctx, int64_t member_id, const char *by, const char *why)
{
    return portail_principal_unlock(ctx, PORTAIL_PRINCIPAL_MEMBER, member_id, by, why);
}

typedef struct verify_tx {
    portail_ctx_t *ctx;
    int64_t member_id;
    const char *what, *data, *to_address;
} verify_tx_t;

/* The lock, the link and its mail: without the mail the member has no way
 * out but the phone, so a failure of any undoes all. */
static int verify_tx(portail_db_t *db, void *arg)
{
    const verify_tx_t *v = arg;
    portail_ctx_t *ctx = v->ctx;
    json_t *row =
        portail_db_row(db, "SELECT email FROM members WHERE id = ?", "l", (long long)v->member_id);
    const char *to = row ? portail_row_str(row, "email") : NULL;
    if (to && v->to_address && *v->to_address)
        to = v->to_address;
    if (!to)
        return -1;
    if (portail_account_lock(ctx, v->member_id, PORTAIL_LOCK_PENDING_VERIFICATION, v->what) != 0)
        return -1;
    const char *token = NULL;
    if (portail_token_issue(db, ctx->arena, "verify", v->member_id, v->data, VERIFY_TTL_S,
                            &token) != 0)
        return -1;
    const char *const vars[] = {"what", v->what, "link",
                                portail_sprintf(ctx->arena, "%s/compte/verification.html?token=%s",
                                                ctx->host->conf->origin, token),
                                NULL};
    return portail_mail_template(db, ctx->arena, to, "account_verify", vars) != 0 ? -1 : 0;
}

int portail_account_request_verification(portail_ctx_t *ctx, int64_t member_id, const char *what)
{
    return portail_account_request_verification_to(ctx, member_id, what, NULL);
}

int portail_account_request_verification_to(portail_ctx_t *ctx, int64_t member_id, const char *what,
                                            const char *to_address)
{
    if (member_id <= 0 || !what || !*what) {
        portail_log_error(ctx, "account_request_verification: bad arguments");
        return -1;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    const char *clipped = portail_clip_utf8(ctx->arena, what, WHAT_MAX);
    json_t *data = portail_arena_json(ctx->arena, json_pack("{s:s}", "what", clipped));
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    if (!text)
        return -1;
    const char *data_text = portail_strdup(ctx->arena, text);
    portail_json_free(text);

    verify_tx_t v = {.ctx = ctx,
                     .member_id = member_id,
                     .what = clipped,
                     .data = data_text,
                     .to_address = to_address};
    if (portail_db_tx_retry(db, verify_tx, &v, NULL) != 0)
        return -1;
    portail_log_info(ctx, "member %lld: verification requested", (long long)member_id);
    return 0;
}

/* The counter columns, from this table only, never from a caller. */
static const char *const counter_columns[] = {
    [PORTAIL_COUNTER_PASSWORD] = "password_failures",
    [PORTAIL_COUNTER_SECOND_FACTOR] = "second_factor_failures",
    [PORTAIL_COUNTER_PASSWORD_CHANGE] = "password_change_failures",
};

#define NCOUNTERS (sizeof counter_columns / sizeof counter_columns[0])

int portail_principal_count(portail_db_t *db, portail_principal_kind_t kind, int64_t id,
                            portail_counter_t c)
{
    const principal_tables_t *t = tables_of(kind);
    if (!db || !t || id <= 0 || (unsigned)c >= NCOUNTERS)
        return -1;
    /* LAST_INSERT_ID(expr) hands the new value back on this connection, so
     * two concurrent failures read 1 and 2, never 2 and 2: a threshold
     * cannot be skipped over, and no transaction is needed for it. */
    const char *col = counter_columns[c];
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (%s, %s) VALUES (?, LAST_INSERT_ID(1)) ON DUPLICATE KEY UPDATE "
             "%s = LAST_INSERT_ID(%s + 1), updated_at = UTC_TIMESTAMP()",
             t->counters, t->id, col, col, col);
    if (portail_db_exec(db, sql, "l", (long long)id) < 0)
        return -1;
    json_t *row = portail_db_row(db, "SELECT LAST_INSERT_ID() AS n", "");
    if (!row)
        return -1;
    long long n = portail_row_int(row, "n", -1);
    return n < 0 || n > 0x7FFFFFFF ? -1 : (int)n;
}

int portail_principal_reset_counter(portail_db_t *db, portail_principal_kind_t kind, int64_t id,
                                    portail_counter_t c)
{
    const principal_tables_t *t = tables_of(kind);
    if (!db || !t || id <= 0 || (unsigned)c >= NCOUNTERS)
        return -1;
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = 0, updated_at = UTC_TIMESTAMP() WHERE %s = ?",
             t->counters, counter_columns[c], t->id);
    return portail_db_exec(db, sql, "l", (long long)id) < 0 ? -1 : 0;
}

int portail_account_count(portail_db_t *db, int64_t member_id, portail_counter_t c)
{
    return portail_principal_count(db, PORTAIL_PRINCIPAL_MEMBER, member_id, c);
}

int portail_account_reset_counter(portail_db_t *db, int64_t member_id, portail_counter_t c)
{
    return portail_principal_reset_counter(db, PORTAIL_PRINCIPAL_MEMBER, member_id, c);
}

int portail_principal_state(portail_db_t *db, portail_arena_t *a, portail_principal_kind_t kind,
                            int64_t id, portail_account_state_t *out)
{
    memset(out, 0, sizeof *out);
    out->reason = PORTAIL_LOCK_NONE;
    const principal_tables_t *t = tables_of(kind);
    if (!db || !a || !t || id <= 0)
        return -1;
    /* One row whatever exists: no lock and no counters read as zeros. */
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT l.reason, l.detail, l.locked_at, l.locked_by, "
             "c.password_failures, c.second_factor_failures "
             "FROM (SELECT 1) AS one "
             "LEFT JOIN %s l ON l.%s = ? "
             "LEFT JOIN %s c ON c.%s = ?",
             t->locks, t->id, t->counters, t->id);
    json_t *row = portail_db_row(db, sql, "ll", (long long)id, (long long)id);
    if (!row)
        return -1;
    const char *reason = portail_row_str(row, "reason");
    if (reason) {
        out->reason = portail_lock_reason_parse(reason);
        const char *s = portail_row_str(row, "detail");
        out->detail = portail_strdup(a, s ? s : "");
        s = portail_row_str(row, "locked_at");
        out->locked_at = s ? portail_strdup(a, s) : NULL;
        s = portail_row_str(row, "locked_by");
        out->locked_by = portail_strdup(a, s ? s : "system");
    }
    out->password_failures = (int)portail_row_int(row, "password_failures", 0);
    out->second_factor_failures = (int)portail_row_int(row, "second_factor_failures", 0);
    return 0;
}

int portail_account_state(portail_db_t *db, portail_arena_t *a, int64_t member_id,
                          portail_account_state_t *out)
{
    return portail_principal_state(db, a, PORTAIL_PRINCIPAL_MEMBER, member_id, out);
}

/* Agents are not members: their lock says "access", and the one way out
 * is a supervisor's reset (a new enrolment link). */
static const portail_lock_step_t steps_agent_access[] = {
    {"wait_agent", TXT_ACCOUNT_AGENT_DEMANDER_SUPERVISEUR},
    {NULL, NULL},
};

static const char *agent_reason_text(portail_lock_reason_t r)
{
    switch (r) {
    case PORTAIL_LOCK_PASSWORD:
        return TXT_ACCOUNT_AGENT_MOTIF_MOT_DE_PASSE;
    case PORTAIL_LOCK_SECOND_FACTOR:
        return TXT_ACCOUNT_AGENT_MOTIF_CODE;
    default:
        return TXT_ACCOUNT_AGENT_BLOQUE;
    }
}

void portail_lock_respond(portail_ctx_t *ctx, portail_principal_kind_t kind,
                          portail_lock_reason_t reason)
{
    int agent = kind == PORTAIL_PRINCIPAL_AGENT;
    const char *text = agent ? agent_reason_text(reason) : portail_lock_reason_text(reason);
    json_t *steps = steps_json(agent ? steps_agent_access : lock_reason_steps(reason));
    portail_problem(ctx, 423, NULL, text);
    portail_problem_extra(ctx, "reason", json_string(portail_lock_reason_name(reason)));
    portail_problem_extra(ctx, "reason_text", json_string(text));
    portail_problem_extra(ctx, "steps", steps);
}
