/* Module unlock, back office: what an agent sees of a member's account and
 * the two actions on it (lock, unlock), each with a reason that goes into
 * the audit log; supervisors read that log. Routes are in unlock.c, all
 * with PORTAIL_AUTH_AGENT (the core refuses member sessions). No health
 * data here: identity, contact, lock state, counters, security events.
 *
 * Order: handlers, then input helpers, then SQL helpers. */
#include <stdlib.h>
#include <string.h>

#include "unlock.h"

#define REASON_MIN_CHARS 10
#define REASON_MAX_CHARS 500
#define SIGN_INS_SHOWN 5
#define PAGE_DEFAULT 20
#define LOGIN_MAX 64

static int64_t path_member(portail_ctx_t *ctx, portail_db_t *db);
static const char *body_reason(portail_ctx_t *ctx);
static int query_date(portail_ctx_t *ctx, const char *name, const char **out);
static int query_page(portail_ctx_t *ctx, long long *cursor, long long *limit);
static json_t *next_cursor(json_t *rows, long long limit);
static json_t *member_by_nir(portail_db_t *db, const char *nir);
static json_t *last_sign_ins(portail_db_t *db, int64_t member_id);
static json_t *member_events(portail_db_t *db, int64_t member_id, long long cursor,
                             long long limit);
static const char *agent_login(portail_ctx_t *ctx, portail_db_t *db);
static json_t *audit_entries(portail_db_t *db, const char *login, long long member,
                             const char *from, const char *to, long long cursor, long long limit);

/* ---- GET /api/v1/backoffice/members?nir= ---------------------------------- */
void bo_member_find(portail_ctx_t *ctx)
{
    const char *msg = NULL;
    const char *nir = portail_valid_nir(portail_arena(ctx), portail_req_query(ctx, "nir"), &msg);
    if (!nir) {
        json_t *errors = NULL;
        portail_field_error(&errors, "nir", msg);
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *m = member_by_nir(db, nir);
    if (!m) {
        if (portail_db_failed(db))
            unlock_fail(ctx);
        else
            portail_problem(ctx, 404, NULL,
                            "Aucun compte n'est ouvert pour ce numéro de sécurité sociale.");
        return;
    }
    int64_t id = portail_row_int(m, "id", 0);
    portail_account_state_t st;
    json_t *sign_ins = last_sign_ins(db, id);
    if (!sign_ins || portail_account_state(db, portail_arena(ctx), id, &st) != 0) {
        unlock_fail(ctx);
        return;
    }
    portail_audit_subject(ctx, id); /* audited by the core (route audit "member_view") */
    json_t *lock = json_null();
    if (st.reason != PORTAIL_LOCK_NONE)
        lock =
            json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "reason", portail_lock_reason_name(st.reason),
                      "reason_text", portail_lock_reason_text(st.reason), "since", st.locked_at,
                      "by", st.locked_by, "detail", st.detail);
    json_t *out =
        json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:{s:i, s:i}, s:O}", "id",
                  (json_int_t)id, "nir", portail_row_str(m, "nir"), "first_name",
                  portail_row_str(m, "first_name"), "last_name", portail_row_str(m, "last_name"),
                  "birth_date", portail_row_str(m, "birth_date"), "email",
                  portail_row_str(m, "email"), "fund", portail_row_str(m, "fund"), "lock", lock,
                  "counters", "password_failures", st.password_failures, "second_factor_failures",
                  st.second_factor_failures, "last_sign_ins", sign_ins);
    portail_respond_json(ctx, 200, out);
}

/* ---- GET /api/v1/backoffice/members/{id}/events?cursor=&limit= --------------
 * Newest first; cursor is the next_cursor of the page before. */
void bo_member_events(portail_ctx_t *ctx)
{
    long long cursor, limit;
    if (query_page(ctx, &cursor, &limit) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int64_t id = path_member(ctx, db);
    if (!id)
        return;
    portail_audit_subject(ctx, id); /* audited by the core (route audit "member_events") */
    json_t *rows = member_events(db, id, cursor, limit + 1);
    if (!rows) {
        unlock_fail(ctx);
        return;
    }
    json_t *next = next_cursor(rows, limit);
    portail_respond_json(ctx, 200, json_pack("{s:O, s:o}", "events", rows, "next_cursor", next));
}

/* ---- POST /api/v1/backoffice/members/{id}/unlock {reason} --------------------
 * Lifts any lock and resets the counters (core), audited with the reason,
 * mailed by the core ("débloqué par un conseiller"). The reason stays in
 * the audit log: the member's events only say which agent. */
void bo_member_unlock(portail_ctx_t *ctx)
{
    const char *reason = body_reason(ctx);
    if (!reason)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int64_t id = path_member(ctx, db);
    if (!id)
        return;
    const char *login = agent_login(ctx, db);
    if (!login || portail_db_begin(db) != 0) {
        unlock_fail(ctx);
        return;
    }
    int rc = portail_account_unlock(ctx, id, portail_sprintf(portail_arena(ctx), "agent:%s", login),
                                    NULL);
    if (rc == 1) {
        portail_problem(ctx, 409, NULL, "Ce compte n'est pas bloqué.");
        return; /* rolled back at release: the counters stay as they were */
    }
    if (rc < 0 || portail_audit(ctx, id, "unlock", reason) != 0 || portail_db_commit(db) != 0) {
        unlock_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "unlocked"));
}

/* ---- POST /api/v1/backoffice/members/{id}/lock {reason} ----------------------
 * An agent lock replaces a lock that a reset or a link could lift (core
 * rule); one already needing the fund (suspicious, agent) stays as it is.
 * The reason is the lock's detail, never shown to the member. */
void bo_member_lock(portail_ctx_t *ctx)
{
    const char *reason = body_reason(ctx);
    if (!reason)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int64_t id = path_member(ctx, db);
    if (!id)
        return;
    portail_account_state_t st;
    if (portail_db_begin(db) != 0 ||
        portail_account_lock(ctx, id, PORTAIL_LOCK_AGENT, reason) != 0 ||
        portail_audit(ctx, id, "lock", reason) != 0 ||
        portail_account_state(db, portail_arena(ctx), id, &st) != 0 || portail_db_commit(db) != 0) {
        unlock_fail(ctx);
        return;
    }
    portail_respond_json(
        ctx, 200,
        json_pack("{s:s, s:s}", "status", "locked", "reason", portail_lock_reason_name(st.reason)));
}

/* ---- GET /api/v1/backoffice/audit?agent=&member=&from=&to=&cursor=&limit= ---
 * Permission audit.read (supervisors by default). from/to are days (YYYY-MM-DD, UTC), both
 * included. */
void bo_audit(portail_ctx_t *ctx)
{
    const char *login = portail_req_query(ctx, "agent");
    if (login && !*login)
        login = NULL;
    if (login && strlen(login) > LOGIN_MAX) {
        portail_problem(ctx, 400, NULL, "Le paramètre « agent » est trop long.");
        return;
    }
    long long member, cursor, limit;
    const char *from, *to;
    if (portail_query_int(ctx, "member", 1, INT64_MAX, 0, &member) != 0 ||
        query_date(ctx, "from", &from) != 0 || query_date(ctx, "to", &to) != 0 ||
        query_page(ctx, &cursor, &limit) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *rows = audit_entries(db, login, member, from, to, cursor, limit + 1);
    if (!rows) {
        unlock_fail(ctx);
        return;
    }
    json_t *next = next_cursor(rows, limit);
    portail_respond_json(ctx, 200, json_pack("{s:O, s:o}", "entries", rows, "next_cursor", next));
}

/* ---- input helpers ----------------------------------------------------------- */

/* The member of the path's {id}; 0 with a 404 (or 500) set. */
static int64_t path_member(portail_ctx_t *ctx, portail_db_t *db)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return 0;
    json_t *row = portail_db_row(db, "SELECT id FROM members WHERE id = ?", "l", (long long)id);
    if (row)
        return id;
    if (portail_db_failed(db))
        unlock_fail(ctx);
    else
        portail_problem(ctx, 404, NULL, "Compte introuvable.");
    return 0;
}

/* The body's reason, trimmed, 10 to 500 characters; NULL with a 422 set. */
static const char *body_reason(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *raw =
        portail_json_str(portail_req_json(ctx), "reason", 1, 4 * REASON_MAX_CHARS, &errors);
    if (raw) {
        while (*raw == ' ' || *raw == '\t' || *raw == '\n' || *raw == '\r')
            raw++;
        size_t n = strlen(raw);
        while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t' || raw[n - 1] == '\n' ||
                         raw[n - 1] == '\r'))
            n--;
        size_t chars = 0;
        for (size_t i = 0; i < n; i++)
            chars += ((unsigned char)raw[i] & 0xC0) != 0x80;
        if (chars < REASON_MIN_CHARS || chars > REASON_MAX_CHARS)
            portail_field_error(&errors, "reason",
                                "Le motif doit comporter entre 10 et 500 caractères.");
        else
            return portail_strndup(portail_arena(ctx), raw, n);
    }
    portail_problem_fields(ctx, errors);
    return NULL;
}

/* An optional YYYY-MM-DD query parameter (portail_valid_date); -1 with a
 * 400 set when malformed. */
static int query_date(portail_ctx_t *ctx, const char *name, const char **out)
{
    const char *s = portail_req_query(ctx, name), *msg;
    *out = NULL;
    if (!s || !*s)
        return 0;
    if (!portail_valid_date(portail_arena(ctx), s, &msg)) {
        portail_problem(
            ctx, 400, NULL,
            portail_sprintf(portail_arena(ctx),
                            "Le paramètre « %s » doit être une date au format AAAA-MM-JJ.", name));
        return -1;
    }
    *out = s;
    return 0;
}

static int query_page(portail_ctx_t *ctx, long long *cursor, long long *limit)
{
    const struct unlock_state *st = portail_module_state(ctx);
    if (portail_query_int(ctx, "cursor", 1, INT64_MAX, 0, cursor) != 0)
        return -1;
    return portail_query_int(ctx, "limit", 1, st->page_max, PAGE_DEFAULT, limit);
}

/* rows were fetched with limit + 1: the extra one (dropped) says there is a
 * next page, which starts below the last id kept. */
static json_t *next_cursor(json_t *rows, long long limit)
{
    if ((long long)json_array_size(rows) <= limit)
        return json_null();
    json_array_remove(rows, (size_t)limit);
    return json_integer(portail_row_int(json_array_get(rows, (size_t)limit - 1), "id", 0));
}

/* ---- SQL helpers --------------------------------------------------------------- */

static json_t *member_by_nir(portail_db_t *db, const char *nir)
{
    return portail_db_row(db,
                          "SELECT m.id, i.nir, i.first_name, i.last_name, i.birth_date, m.email, "
                          "i.fund FROM members m JOIN insured i ON i.id = m.insured_id "
                          "WHERE i.nir = ?",
                          "s", nir);
}

static json_t *last_sign_ins(portail_db_t *db, int64_t member_id)
{
    return portail_db_rows(db,
                           "SELECT created_at AS at, ip, country FROM security_events "
                           "WHERE member_id = ? AND kind = ? ORDER BY id DESC LIMIT ?",
                           "lsi", (long long)member_id, PORTAIL_EVENT_SIGN_IN, SIGN_INS_SHOWN);
}

static json_t *member_events(portail_db_t *db, int64_t member_id, long long cursor, long long limit)
{
    return portail_db_rows(db,
                           "SELECT id, kind, detail, ip, country, user_agent, created_at "
                           "FROM security_events WHERE member_id = ? AND (? = 0 OR id < ?) "
                           "ORDER BY id DESC LIMIT ?",
                           "llll", (long long)member_id, cursor, cursor, limit);
}

static const char *agent_login(portail_ctx_t *ctx, portail_db_t *db)
{
    json_t *row = portail_db_row(db, "SELECT login FROM agents WHERE id = ?", "l",
                                 (long long)portail_principal(ctx)->id);
    return row ? portail_row_str(row, "login") : NULL;
}

/* Filters left NULL (or 0) match everything; the prepared statement is the
 * same whatever is given. */
static json_t *audit_entries(portail_db_t *db, const char *login, long long member,
                             const char *from, const char *to, long long cursor, long long limit)
{
    return portail_db_rows(db,
                           "SELECT l.id, a.login AS agent_login, l.member_id, l.action, l.reason, "
                           "l.ip, l.created_at FROM audit_log l JOIN agents a ON a.id = l.agent_id "
                           "WHERE (? IS NULL OR a.login = ?) AND (? = 0 OR l.member_id = ?) "
                           "AND (? IS NULL OR l.created_at >= CAST(? AS DATE)) "
                           "AND (? IS NULL OR l.created_at < CAST(? AS DATE) + INTERVAL 1 DAY) "
                           "AND (? = 0 OR l.id < ?) ORDER BY l.id DESC LIMIT ?",
                           "ssllsssslll", login, login, member, member, from, from, to, to, cursor,
                           cursor, limit);
}
