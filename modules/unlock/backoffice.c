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
#include <portail/texts.h>

#define REASON_MIN_CHARS 10
#define REASON_MAX_CHARS 500
#define SIGN_INS_SHOWN 5
#define PAGE_DEFAULT 20
#define LOGIN_MAX 64
#define NAME_MAX_BYTES 400 /* insured.last_name is VARCHAR(100) of utf8mb4 */
#define SEARCH_MAX 20      /* results of one search; more: truncated, narrow it */
#define HISTORY_MAX 100    /* lock changes shown in a member's file */
#define EXPORT_MAX 5000    /* rows of one CSV export of the audit log */

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
static json_t *audit_entries(portail_db_t *db, const char *login, long long member, const char *nir,
                             const char *from, const char *to, long long cursor, long long limit);
static int audit_filters(portail_ctx_t *ctx, const char **login, long long *member,
                         const char **nir, const char **from, const char **to);
static const char *query_text(portail_ctx_t *ctx, const char *name, size_t max, json_t **errors,
                              const char *what);
static json_t *insured_by_nir(portail_db_t *db, const char *nir);
static json_t *insured_by_name(portail_db_t *db, const char *last, const char *first,
                               const char *birth, const char *postal);
static json_t *member_history(portail_db_t *db, int64_t member_id);
static const char *agent_name(portail_db_t *db, const char *by);
static void csv_cell(portail_arena_t *a, char **buf, size_t *len, size_t *cap, const char *s,
                     int last);

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
            portail_problem(ctx, 404, NULL, TXT_UNLOCK_AUCUN_COMPTE_POUR_NIR);
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
        lock = json_pack(
            "{s:s, s:s, s:s?, s:s?, s:s?, s:s?}", "reason", portail_lock_reason_name(st.reason),
            "reason_text", portail_lock_reason_text(st.reason), "since", st.locked_at, "by",
            st.locked_by, "by_name", agent_name(db, st.locked_by), "detail", st.detail);
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

/* ---- GET /api/v1/backoffice/insured?nir= | ?last_name=&birth_date=[&first_name=][&postal_code=]
 * Every insured person, with an online account or not (member_id null): the
 * agent on the phone must never read "unknown" for someone insured without
 * an account. At most SEARCH_MAX results (truncated: narrow the search).
 * Audited as "member_search" by the core, with the kind of criteria and the
 * count only: the criteria themselves are identity data. */
void bo_insured_search(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    const char *msg = NULL, *kind;
    const char *nir_in = portail_req_query(ctx, "nir");
    json_t *rows;
    portail_db_t *db;
    if (nir_in && *nir_in) {
        const char *nir = portail_valid_nir(portail_arena(ctx), nir_in, &msg);
        if (!nir) {
            portail_field_error(&errors, "nir", msg);
            portail_problem_fields(ctx, errors);
            return;
        }
        if (!(db = portail_db(ctx)))
            return;
        kind = "NIR";
        rows = insured_by_nir(db, nir);
    } else {
        const char *last =
            query_text(ctx, "last_name", NAME_MAX_BYTES, &errors, TXT_UNLOCK_SAISISSEZ_NOM_ASSURE);
        const char *first = query_text(ctx, "first_name", NAME_MAX_BYTES, &errors, NULL);
        const char *birth_in = portail_req_query(ctx, "birth_date");
        const char *birth = NULL;
        if (!birth_in || !*birth_in)
            portail_field_error(&errors, "birth_date", TXT_UNLOCK_SAISISSEZ_DATE_NAISSANCE_ASSURE);
        else if (!(birth = portail_valid_birth_date(portail_arena(ctx), birth_in, &msg)))
            portail_field_error(&errors, "birth_date", msg);
        const char *postal_in = portail_req_query(ctx, "postal_code");
        const char *postal = NULL;
        if (postal_in && *postal_in &&
            !(postal = portail_valid_postcode(portail_arena(ctx), postal_in, &msg)))
            portail_field_error(&errors, "postal_code", msg);
        if (errors) {
            portail_problem_fields(ctx, errors);
            return;
        }
        if (!(db = portail_db(ctx)))
            return;
        kind = postal ? TXT_UNLOCK_CRITERE_NOM_DATE_CODE_POSTAL : TXT_UNLOCK_CRITERE_NOM_DATE;
        rows = insured_by_name(db, last, first, birth, postal);
    }
    if (!rows) {
        unlock_fail(ctx);
        return;
    }
    size_t n = json_array_size(rows);
    int truncated = n > SEARCH_MAX;
    if (truncated) {
        json_array_remove(rows, SEARCH_MAX);
        n = SEARCH_MAX;
    }
    if (n == 1)
        portail_audit_subject(ctx, portail_row_int(json_array_get(rows, 0), "member_id", 0));
    portail_audit_reason(ctx, portail_sprintf(portail_arena(ctx), TXT_UNLOCK_AUDIT_RECHERCHE, kind,
                                              n, truncated ? " premiers" : "", n > 1 ? "s" : ""));
    portail_respond_json(
        ctx, 200,
        json_pack("{s:O, s:b, s:i}", "results", rows, "truncated", truncated, "max", SEARCH_MAX));
}

/* ---- GET /api/v1/backoffice/members/{id}/history ------------------------------
 * The lock changes of the file, newest first, for every agent who opens it:
 * the agents' locks and unlocks with their motive and name (audit log),
 * the other locks and unlocks (system, reset, link) from the security
 * events. Audited as "member_history". */
void bo_member_history(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int64_t id = path_member(ctx, db);
    if (!id)
        return;
    portail_audit_subject(ctx, id);
    json_t *rows = member_history(db, id);
    if (!rows) {
        unlock_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "entries", rows));
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

/* An agent's lock or unlock and its audit row stand together, rerun on a
 * 1213/1205 (a Galera conflict with a sign-in counting on the account). */
typedef struct bo_lock_tx {
    int64_t id;
    const char *reason, *by;
    portail_account_state_t st;
} bo_lock_tx_t;

static int bo_unlock_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    (void)db;
    const bo_lock_tx_t *t = arg;
    int rc = portail_account_unlock(ctx, t->id, t->by, NULL);
    if (rc == 1) {
        /* Rolled back: the counters stay as they were. */
        portail_problem(ctx, 409, NULL, TXT_UNLOCK_COMPTE_PAS_BLOQUE);
        return -1;
    }
    return rc < 0 || portail_audit(ctx, t->id, "unlock", t->reason) != 0 ? -1 : 0;
}

static int bo_lock_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    bo_lock_tx_t *t = arg;
    return portail_account_lock(ctx, t->id, PORTAIL_LOCK_AGENT, t->reason) != 0 ||
                   portail_audit(ctx, t->id, "lock", t->reason) != 0 ||
                   portail_account_state(db, portail_arena(ctx), t->id, &t->st) != 0
               ? -1
               : 0;
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
    if (!login) {
        unlock_fail(ctx);
        return;
    }
    bo_lock_tx_t t = {
        .id = id, .reason = reason, .by = portail_sprintf(portail_arena(ctx), "agent:%s", login)};
    if (portail_tx_retry(ctx, bo_unlock_tx, &t) != 0) {
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
    bo_lock_tx_t t = {.id = id, .reason = reason};
    if (portail_tx_retry(ctx, bo_lock_tx, &t) != 0) {
        return;
    }
    portail_respond_json(ctx, 200,
                         json_pack("{s:s, s:s}", "status", "locked", "reason",
                                   portail_lock_reason_name(t.st.reason)));
}

/* ---- GET /api/v1/backoffice/audit?agent=&member=&nir=&from=&to=&cursor=&limit= ---
 * Permission audit.read (supervisors by default). from/to are days (YYYY-MM-DD, UTC), both
 * included; nir: the member's. Each entry names the agent and the member. */
void bo_audit(portail_ctx_t *ctx)
{
    const char *login, *nir, *from, *to;
    long long member, cursor, limit;
    if (audit_filters(ctx, &login, &member, &nir, &from, &to) != 0 ||
        query_page(ctx, &cursor, &limit) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *rows = audit_entries(db, login, member, nir, from, to, cursor, limit + 1);
    if (!rows) {
        unlock_fail(ctx);
        return;
    }
    json_t *next = next_cursor(rows, limit);
    portail_respond_json(ctx, 200, json_pack("{s:O, s:o}", "entries", rows, "next_cursor", next));
}

/* ---- GET /api/v1/backoffice/audit/export?agent=&member=&nir=&from=&to= ---------
 * The same filters, as a CSV file (semicolons, UTF-8 with a BOM, as a
 * French spreadsheet opens it), newest first, at most EXPORT_MAX rows (the
 * last line says when more were left out). A cell starting with = + - @
 * (or a tab or carriage return) gets a leading ' so that no spreadsheet
 * runs it as a formula. Audited as "audit_export" with the row count. */
void bo_audit_export(portail_ctx_t *ctx)
{
    const char *login, *nir, *from, *to;
    long long member;
    if (audit_filters(ctx, &login, &member, &nir, &from, &to) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *rows = audit_entries(db, login, member, nir, from, to, 0, EXPORT_MAX + 1);
    if (!rows) {
        unlock_fail(ctx);
        return;
    }
    size_t n = json_array_size(rows);
    int truncated = n > EXPORT_MAX;
    if (truncated)
        n = EXPORT_MAX;
    portail_arena_t *a = portail_arena(ctx);
    size_t len = 0, cap = 4096;
    char *buf = portail_alloc(a, cap);
    memcpy(buf, "\xEF\xBB\xBF", 3);
    len = 3;
    static const char *const head[] = {TXT_UNLOCK_CSV_DATE,
                                       TXT_UNLOCK_CSV_AGENT,
                                       TXT_UNLOCK_CSV_IDENTIFIANT_AGENT,
                                       TXT_UNLOCK_CSV_ASSURE,
                                       "NIR",
                                       TXT_UNLOCK_CSV_ACTION,
                                       TXT_UNLOCK_CSV_MOTIF,
                                       TXT_UNLOCK_CSV_ADRESSE_IP};
    for (size_t k = 0; k < 8; k++)
        csv_cell(a, &buf, &len, &cap, head[k], k == 7);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(rows, i);
        const char *first = portail_row_str(r, "member_first_name");
        const char *last = portail_row_str(r, "member_last_name");
        const char *cells[8] = {portail_row_str(r, "created_at"),
                                portail_row_str(r, "agent_name"),
                                portail_row_str(r, "agent_login"),
                                last ? portail_sprintf(a, "%s %s", first ? first : "", last) : "",
                                portail_row_str(r, "member_nir"),
                                portail_row_str(r, "action"),
                                portail_row_str(r, "reason"),
                                portail_row_str(r, "ip")};
        for (size_t k = 0; k < 8; k++)
            csv_cell(a, &buf, &len, &cap, cells[k], k == 7);
    }
    if (truncated)
        csv_cell(a, &buf, &len, &cap, portail_sprintf(a, TXT_UNLOCK_EXPORT_LIMITE, EXPORT_MAX), 1);
    portail_audit_reason(ctx, portail_sprintf(a, "export CSV : %zu ligne%s%s", n, n > 1 ? "s" : "",
                                              truncated ? " (limite atteinte)" : ""));
    portail_respond_bytes(ctx, 200, PORTAIL_FILE_CSV, PORTAIL_ATTACHMENT, buf, len,
                          "journal-audit.csv");
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
        portail_problem(ctx, 404, NULL, TXT_UNLOCK_COMPTE_INTROUVABLE);
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
            portail_field_error(&errors, "reason", TXT_UNLOCK_MOTIF_LONGUEUR);
        else
            return portail_strndup(portail_arena(ctx), raw, n);
    }
    portail_problem_fields(ctx, errors);
    return NULL;
}

/* The filters of the audit log and its export; -1 with a 400 set. */
static int audit_filters(portail_ctx_t *ctx, const char **login, long long *member,
                         const char **nir, const char **from, const char **to)
{
    *login = portail_req_query(ctx, "agent");
    if (*login && !**login)
        *login = NULL;
    if (*login && strlen(*login) > LOGIN_MAX) {
        portail_problem(ctx, 400, NULL, TXT_UNLOCK_PARAMETRE_AGENT_TROP_LONG);
        return -1;
    }
    const char *nir_in = portail_req_query(ctx, "nir"), *msg = NULL;
    *nir = NULL;
    if (nir_in && *nir_in && !(*nir = portail_valid_nir(portail_arena(ctx), nir_in, &msg))) {
        portail_problem(
            ctx, 400, NULL,
            portail_sprintf(portail_arena(ctx), TXT_UNLOCK_PARAMETRE_NIR_INVALIDE, msg));
        return -1;
    }
    if (portail_query_int(ctx, "member", 1, INT64_MAX, 0, member) != 0 ||
        query_date(ctx, "from", from) != 0 || query_date(ctx, "to", to) != 0)
        return -1;
    return 0;
}

/* An optional text query parameter, trimmed, at most max bytes of valid
 * UTF-8; NULL when absent (a field error added when required_msg says it
 * is required) or bad (a field error added). */
static const char *query_text(portail_ctx_t *ctx, const char *name, size_t max, json_t **errors,
                              const char *required_msg)
{
    const char *s = portail_req_query(ctx, name);
    if (s)
        while (*s == ' ' || *s == '\t')
            s++;
    size_t n = s ? strlen(s) : 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0) {
        if (required_msg)
            portail_field_error(errors, name, required_msg);
        return NULL;
    }
    if (n > max || !portail_utf8_valid(s, n)) {
        portail_field_error(errors, name, TXT_UNLOCK_CHAMP_INVALIDE);
        return NULL;
    }
    return portail_strndup(portail_arena(ctx), s, n);
}

/* One CSV cell (quoted, quotes doubled, formula starts defused) followed by
 * ';' or, for the last of its row, CRLF; the buffer grows in the arena. */
static void csv_cell(portail_arena_t *a, char **buf, size_t *len, size_t *cap, const char *s,
                     int last)
{
    if (!s)
        s = "";
    size_t need = *len + 2 * strlen(s) + 6;
    if (need > *cap) {
        size_t ncap = *cap;
        while (ncap < need)
            ncap *= 2;
        char *nb = portail_alloc(a, ncap);
        memcpy(nb, *buf, *len);
        *buf = nb;
        *cap = ncap;
    }
    char *p = *buf + *len;
    *p++ = '"';
    if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
        *p++ = '\'';
    for (; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    if (last) {
        *p++ = '\r';
        *p++ = '\n';
    } else {
        *p++ = ';';
    }
    *len = (size_t)(p - *buf);
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
            portail_sprintf(portail_arena(ctx), TXT_UNLOCK_PARAMETRE_DATE_INVALIDE, name));
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
                           "SELECT created_at AS at, ip, country, user_agent FROM security_events "
                           "WHERE member_id = ? AND kind = ? ORDER BY id DESC LIMIT ?",
                           "lsi", (long long)member_id, PORTAIL_EVENT_SIGN_IN, SIGN_INS_SHOWN);
}

/* agent_name: the display name of the agent named in the detail
 * ("agent:LOGIN" or "agent:LOGIN: why", as the core writes who unlocked). */
static json_t *member_events(portail_db_t *db, int64_t member_id, long long cursor, long long limit)
{
    return portail_db_rows(db,
                           "SELECT e.id, e.kind, e.detail, e.ip, e.country, e.user_agent, "
                           "e.created_at, a.display_name AS agent_name "
                           "FROM security_events e LEFT JOIN agents a ON e.detail LIKE 'agent:%' "
                           "AND a.login = SUBSTRING_INDEX(SUBSTRING(e.detail, 7), ':', 1) "
                           "WHERE e.member_id = ? AND (? = 0 OR e.id < ?) "
                           "ORDER BY e.id DESC LIMIT ?",
                           "llll", (long long)member_id, cursor, cursor, limit);
}

static json_t *insured_by_nir(portail_db_t *db, const char *nir)
{
    return portail_db_rows(db,
                           "SELECT i.id AS insured_id, i.nir, i.first_name, i.last_name, "
                           "i.birth_date, i.postal_code, i.city, i.fund, m.id AS member_id "
                           "FROM insured i LEFT JOIN members m ON m.insured_id = i.id "
                           "WHERE i.nir = ?",
                           "s", nir);
}

/* The collation (utf8mb4_unicode_ci) ignores case and accents: "helene"
 * finds "Hélène". Index: ix_insured_birth_name (sql/001). */
static json_t *insured_by_name(portail_db_t *db, const char *last, const char *first,
                               const char *birth, const char *postal)
{
    return portail_db_rows(db,
                           "SELECT i.id AS insured_id, i.nir, i.first_name, i.last_name, "
                           "i.birth_date, i.postal_code, i.city, i.fund, m.id AS member_id "
                           "FROM insured i LEFT JOIN members m ON m.insured_id = i.id "
                           "WHERE i.birth_date = ? AND i.last_name = ? "
                           "AND (? IS NULL OR i.first_name = ?) "
                           "AND (? IS NULL OR i.postal_code = ?) "
                           "ORDER BY i.last_name, i.first_name, i.id LIMIT ?",
                           "ssssssi", birth, last, first, first, postal, postal, SEARCH_MAX + 1);
}

/* Agents' locks and unlocks (audit log, with the motive and the agent's
 * name), then the other lock changes (security events) but those an agent
 * made through this module, already in the audit log: an agent lock's
 * event says "agent", an agent unlock's "agent:LOGIN" (with no ": why",
 * which other modules add). Times are to the second: within one second,
 * rows of the two tables have no common order. */
static json_t *member_history(portail_db_t *db, int64_t member_id)
{
    return portail_db_rows(
        db,
        "SELECT * FROM ("
        "SELECT l.created_at AS at, l.action, l.reason AS motive, a.display_name AS agent_name, "
        "a.login AS agent_login, NULL AS detail, l.id AS seq FROM audit_log l "
        "JOIN agents a ON a.id = l.agent_id WHERE l.member_id = ? AND l.action IN ('lock', "
        "'unlock') "
        "UNION ALL "
        "SELECT e.created_at, IF(e.kind = 'account_locked', 'lock', 'unlock'), NULL, "
        "a.display_name, a.login, e.detail, e.id FROM security_events e "
        "LEFT JOIN agents a ON e.detail LIKE 'agent:%' "
        "AND a.login = SUBSTRING_INDEX(SUBSTRING(e.detail, 7), ':', 1) "
        "WHERE e.member_id = ? AND e.kind IN ('account_locked', 'account_unlocked') "
        "AND NOT (e.kind = 'account_locked' AND e.detail = 'agent') "
        "AND NOT (e.kind = 'account_unlocked' AND e.detail LIKE 'agent:%' "
        "AND e.detail NOT LIKE 'agent:%: %')"
        ") h ORDER BY at DESC, seq DESC LIMIT ?",
        "lli", (long long)member_id, (long long)member_id, HISTORY_MAX);
}

/* The display name of the agent of a lock's locked_by ("agent:LOGIN"). */
static const char *agent_name(portail_db_t *db, const char *by)
{
    if (!by || strncmp(by, "agent:", 6) != 0)
        return NULL;
    json_t *row =
        portail_db_row(db, "SELECT display_name FROM agents WHERE login = ?", "s", by + 6);
    return row ? portail_row_str(row, "display_name") : NULL;
}

static const char *agent_login(portail_ctx_t *ctx, portail_db_t *db)
{
    json_t *row = portail_db_row(db, "SELECT login FROM agents WHERE id = ?", "l",
                                 (long long)portail_principal(ctx)->id);
    return row ? portail_row_str(row, "login") : NULL;
}

/* Filters left NULL (or 0) match everything; the prepared statement is the
 * same whatever is given. */
static json_t *audit_entries(portail_db_t *db, const char *login, long long member, const char *nir,
                             const char *from, const char *to, long long cursor, long long limit)
{
    return portail_db_rows(
        db,
        "SELECT l.id, a.login AS agent_login, a.display_name AS agent_name, l.member_id, "
        "i.first_name AS member_first_name, i.last_name AS member_last_name, "
        "i.nir AS member_nir, l.action, l.reason, l.ip, l.created_at "
        "FROM audit_log l JOIN agents a ON a.id = l.agent_id "
        "LEFT JOIN members m ON m.id = l.member_id LEFT JOIN insured i ON i.id = m.insured_id "
        "WHERE (? IS NULL OR a.login = ?) AND (? = 0 OR l.member_id = ?) "
        "AND (? IS NULL OR i.nir = ?) "
        "AND (? IS NULL OR l.created_at >= CAST(? AS DATE)) "
        "AND (? IS NULL OR l.created_at < CAST(? AS DATE) + INTERVAL 1 DAY) "
        "AND (? = 0 OR l.id < ?) ORDER BY l.id DESC LIMIT ?",
        "ssllsssssslll", login, login, member, member, nir, nir, from, from, to, to, cursor, cursor,
        limit);
}
