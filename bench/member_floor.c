/* The floor of bench/run's member routes: a bare threaded libfcgi program
 * doing what portaild does for a member session on four routes, and
 * nothing else. Each request: the session cookie hashed as the core does
 * (BLAKE2b of the decoded token), the core's session statement (expiry and
 * idle checks, touch when stale), then the route's statements, JSON out by
 * jansson. One MariaDB connection per thread, every statement prepared once
 * per thread (binary protocol). The route is the last segment of the path
 * (DOCUMENT_URI /bare/ROUTE: nginx sends this program the same parameters
 * as portaild, bench/run):
 *   me            GET /api/v1/me (member joined to insured, and the sign-in
 *                 before this session's)
 *   messages      GET /api/v1/messages?limit=20 (inbox page + unread count)
 *   appointments  GET /api/v1/appointments?limit=20 (upcoming page)
 *   reimbursements  GET /api/v1/reimbursements?limit=20 (page of lines and
 *                 the totals of the 27 months) */
#define _GNU_SOURCE
#include "fcgi_serve.h"
#include <jansson.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *db_socket, *db_name;

#define COOKIE "__Host-portail_session="
#define TOKEN_CHARS 43
#define PAGE 20
/* Core defaults: session touch_seconds, idle_seconds; appointments'
 * change_cutoff_hours. */
#define TOUCH_S 60
#define IDLE_S 1800
#define CUTOFF_H 24
#define COLS_MAX 32
#define COLBUF 1024

/* ---- statements -------------------------------------------------------------- */

typedef struct q {
    MYSQL_STMT *st;
    unsigned nf;
    MYSQL_FIELD *f;
    MYSQL_BIND b[COLS_MAX];
    char buf[COLS_MAX][COLBUF];
    unsigned long len[COLS_MAX];
    my_bool null[COLS_MAX];
} q_t;

static void die(MYSQL *db, const char *what)
{
    fprintf(stderr, "member_floor: %s: %s\n", what, mysql_error(db));
    exit(1);
}

static q_t *prepare(MYSQL *db, const char *sql)
{
    q_t *q = calloc(1, sizeof *q);
    q->st = mysql_stmt_init(db);
    if (!q->st || mysql_stmt_prepare(q->st, sql, strlen(sql)) != 0) {
        fprintf(stderr, "member_floor: %s\n%s\n", mysql_stmt_error(q->st), sql);
        exit(1);
    }
    MYSQL_RES *meta = mysql_stmt_result_metadata(q->st);
    if (meta) {
        q->nf = mysql_num_fields(meta);
        q->f = mysql_fetch_fields(meta); /* kept: meta is never freed */
        /* Every column as text: the JSON is text anyway. */
        for (unsigned i = 0; i < q->nf; i++) {
            q->b[i].buffer_type = MYSQL_TYPE_STRING;
            q->b[i].buffer = q->buf[i];
            q->b[i].buffer_length = COLBUF;
            q->b[i].length = &q->len[i];
            q->b[i].is_null = &q->null[i];
        }
    }
    return q;
}

static int run(q_t *q, MYSQL_BIND *params)
{
    if ((params && mysql_stmt_bind_param(q->st, params) != 0) || mysql_stmt_execute(q->st) != 0)
        return -1;
    if (q->nf && mysql_stmt_bind_result(q->st, q->b) != 0)
        return -1;
    return 0;
}

static json_t *col(const q_t *q, unsigned i)
{
    if (q->null[i])
        return json_null();
    const char *s = q->buf[i];
    switch (q->f[i].type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
        return json_integer(strtoll(s, NULL, 10));
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP: {
        char iso[21];
        memcpy(iso, s, 19);
        iso[10] = 'T';
        iso[19] = 'Z';
        iso[20] = '\0';
        return json_stringn(iso, 20);
    }
    default:
        return json_stringn(s, q->len[i]);
    }
}

/* The next row as an object, NULL at the end (or on an error). */
static json_t *row(q_t *q)
{
    int rc = mysql_stmt_fetch(q->st);
    if (rc != 0 && rc != MYSQL_DATA_TRUNCATED)
        return NULL;
    json_t *o = json_object();
    for (unsigned i = 0; i < q->nf; i++)
        json_object_set_new(o, q->f[i].name, col(q, i));
    return o;
}

static void done(q_t *q)
{
    mysql_stmt_free_result(q->st);
}

/* Every row of q run with params, as an array; NULL on an error. */
static json_t *rows_of(q_t *q, MYSQL_BIND *params)
{
    if (run(q, params) != 0)
        return NULL;
    json_t *rows = json_array(), *r;
    while ((r = row(q)))
        json_array_append_new(rows, r);
    done(q);
    return rows;
}

static void bind_ll(MYSQL_BIND *b, long long *v)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = MYSQL_TYPE_LONGLONG;
    b->buffer = v;
}

static void bind_int(MYSQL_BIND *b, int *v)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = MYSQL_TYPE_LONG;
    b->buffer = v;
}

static void bind_blob(MYSQL_BIND *b, void *p, unsigned long *len)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = MYSQL_TYPE_BLOB;
    b->buffer = p;
    b->buffer_length = *len;
    b->length = len;
}

static void bind_null(MYSQL_BIND *b)
{
    memset(b, 0, sizeof *b);
    b->buffer_type = MYSQL_TYPE_NULL;
}

/* s must outlive the execute; len is set here. */
static void bind_str(MYSQL_BIND *b, const char *s, unsigned long *len)
{
    memset(b, 0, sizeof *b);
    *len = strlen(s);
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *)s;
    b->buffer_length = *len;
    b->length = len;
}

/* ---- the routes' SQL, as the core and the modules send it -------------------- */

static const char SESSION_SQL[] =
    "SELECT s.id, s.kind, s.principal_id, s.level, s.role, s.csrf_token, "
    "s.last_seen_at < UTC_TIMESTAMP() - INTERVAL ? SECOND AS stale, "
    "a.id IS NOT NULL AND a.disabled_at IS NULL AS agent_enabled, a.role AS agent_role "
    "FROM sessions s LEFT JOIN agents a ON s.kind = 'agent' AND a.id = s.principal_id "
    "WHERE s.token_hash = ? AND s.expires_at > UTC_TIMESTAMP() "
    "AND s.last_seen_at > UTC_TIMESTAMP() - INTERVAL ? SECOND";
static const char TOUCH_SQL[] =
    "UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(), ip = ?, country = ? WHERE id = ?";
/* The member and the sign-in before this session's in one statement
 * (modules/login/sessions.c). */
static const char ME_SQL[] =
    "SELECT m.id, i.nir, i.first_name, i.last_name, i.birth_date, m.email, i.fund, "
    "m.totp_enabled_at IS NOT NULL AS totp_enabled, "
    "(SELECT COUNT(*) FROM member_recovery_codes r WHERE r.member_id = m.id "
    "AND r.used_at IS NULL) AS recovery_codes_left, l.at, l.ip, l.country, l.user_agent "
    "FROM members m JOIN insured i ON i.id = m.insured_id "
    "LEFT JOIN (SELECT e.created_at AS at, e.ip, e.country, e.user_agent "
    "FROM security_events e WHERE e.member_id = ? AND e.kind = ? AND e.created_at < "
    "(SELECT s.created_at FROM sessions s WHERE s.id = ?) ORDER BY e.id DESC LIMIT 1) l "
    "ON TRUE WHERE m.id = ?";
static const char INBOX_SQL[] =
    "SELECT t.id, t.service, t.subject, t.status, t.created_at, t.last_activity_at, "
    "t.last_message_id, t.last_author, "
    "(SELECT COUNT(*) FROM messaging_messages m WHERE m.thread_id = t.id AND "
    "m.author = 'agent' AND m.read_at IS NULL) AS unread, "
    "(SELECT COUNT(*) FROM messaging_messages u WHERE u.member_id = ? AND "
    "u.author = 'agent' AND u.read_at IS NULL) AS unread_total "
    "FROM messaging_threads t WHERE t.member_id = ? AND t.archived = 0 "
    "AND (? = 0 OR t.last_message_id < ?) "
    "AND (? IS NULL OR t.subject LIKE ? OR EXISTS (SELECT 1 FROM messaging_messages b "
    "WHERE b.thread_id = t.id AND b.member_id = ? AND b.body LIKE ?)) "
    "ORDER BY t.last_message_id DESC LIMIT ?";
/* The unread total when the page has no row (it comes with each row). */
static const char UNREAD_SQL[] = "SELECT COUNT(*) AS n FROM messaging_messages WHERE "
                                 "member_id = ? AND author = 'agent' AND read_at IS NULL";
static const char APPT_SQL[] =
    "SELECT x.id, x.member_id, x.kind, x.start_utc AS start, x.end_utc AS end, "
    "x.beneficiary_id, CONCAT(bb.first_name, ' ', bb.last_name) AS beneficiary, x.reason, "
    "x.status, x.sequence, x.cancel_reason, x.created_at, x.updated_at, x.held_until, "
    "a.id AS agenda_id, IF(a.practitioner_id IS NULL, 'office', 'practitioner') AS agenda_type, "
    "COALESCE(CONCAT('Dr ', p.first_name, ' ', p.last_name), a.office_name) AS agenda_name, "
    "COALESCE(p.specialty, 'Accueil de la caisse') AS agenda_specialty, "
    "COALESCE(p.address_line, a.office_address) AS agenda_address, "
    "COALESCE(p.postal_code, a.office_postal_code) AS agenda_postal_code, "
    "COALESCE(p.city, a.office_city) AS agenda_city, a.practitioner_id, a.horizon_days, "
    "(SELECT GROUP_CONCAT(CONCAT(k.kind, ':', k.minutes) ORDER BY k.kind SEPARATOR ',') "
    "FROM appt_kinds k WHERE k.agenda_id = a.id) AS agenda_kinds "
    "FROM appt_appointments x JOIN appt_agendas a ON a.id = x.agenda_id "
    "LEFT JOIN practitioners p ON p.id = a.practitioner_id "
    "LEFT JOIN beneficiaries bb ON bb.id = x.beneficiary_id "
    "WHERE x.member_id = ? AND x.status <> 'held' "
    "AND x.start_utc > UTC_TIMESTAMP() AND (? = 0 OR x.start_utc > "
    "FROM_UNIXTIME(?) OR (x.start_utc = FROM_UNIXTIME(?) AND x.id > ?)) "
    "ORDER BY x.start_utc, x.id LIMIT ?";
/* modules/reimbursements' list and totals, {member} made a placeholder as
 * core/db.c does (the member first). */
#define REIMB_WHERE                                                                                \
    "WHERE m.id = ? AND p.cancelled_by IS NULL "                                                   \
    "AND p.care_date >= GREATEST(?, DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)) "                     \
    "AND p.care_date <= ? AND (? = 0 OR p.beneficiary_id <=> NULLIF(?, 0)) "                       \
    "AND (? = '' OR p.kind = ?) AND (? = '' OR p.status = ?) "
static const char REIMB_SQL[] =
    "SELECT p.id, p.beneficiary_id, "
    "COALESCE(CONCAT(b.first_name, ' ', b.last_name), CONCAT(i.first_name, ' ', i.last_name)) "
    "AS beneficiary, p.care_date, p.practitioner_name, p.practitioner_specialty, p.kind, "
    "p.act_code, p.act_label, p.charged_cents, p.base_cents, p.rate_pct, "
    "p.participation_cents, p.franchise_cents, p.reimbursed_cents, p.paid_to, p.status, "
    "p.reject_reason, p.received_on, p.processing_on, p.paid_on, p.expected_payment_on "
    "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "
    "JOIN insured i ON i.id = m.insured_id LEFT JOIN beneficiaries b ON b.id = "
    "p.beneficiary_id " REIMB_WHERE
    "AND (? = 0 OR p.care_date < ? OR (p.care_date = ? AND p.id < ?)) "
    "ORDER BY p.care_date DESC, p.id DESC LIMIT ?";
static const char REIMB_TOTALS_SQL[] =
    "SELECT COUNT(*) AS count, CAST(COALESCE(SUM(p.reimbursed_cents), 0) AS SIGNED) "
    "AS reimbursed_cents, CAST(COALESCE(SUM(p.participation_cents), 0) AS SIGNED) "
    "AS participation_cents, CAST(COALESCE(SUM(p.franchise_cents), 0) AS SIGNED) "
    "AS franchise_cents, CAST(COALESCE(SUM(p.charged_cents), 0) AS SIGNED) AS charged_cents, "
    "CAST(COALESCE(SUM(p.participation_cents + p.franchise_cents), 0) AS SIGNED) "
    "AS deductions_cents FROM reimb_payments p JOIN members m ON m.insured_id = "
    "p.insured_id " REIMB_WHERE;

typedef struct conn {
    MYSQL *db;
    q_t *session, *touch, *me, *inbox, *unread, *appt, *reimb, *reimb_totals;
    long long session_id; /* of the request's session, set by member_of */
} conn_t;

/* ---- session ----------------------------------------------------------------- */

/* The member of the cookie's session, 0 without one, -1 on a database error. */
static long long member_of(conn_t *c, FCGX_Request *req)
{
    const char *cookie = FCGX_GetParam("HTTP_COOKIE", req->envp);
    const char *v = cookie ? strstr(cookie, COOKIE) : NULL;
    if (!v)
        return 0;
    v += strlen(COOKIE);
    unsigned char raw[32], hash[32];
    size_t len = 0;
    if (strlen(v) < TOKEN_CHARS ||
        sodium_base642bin(raw, sizeof raw, v, TOKEN_CHARS, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != sizeof raw)
        return 0;
    crypto_generichash(hash, sizeof hash, raw, sizeof raw, NULL, 0);
    int touch = TOUCH_S, idle = IDLE_S;
    unsigned long hlen = sizeof hash;
    MYSQL_BIND p[3];
    bind_int(&p[0], &touch);
    bind_blob(&p[1], hash, &hlen);
    bind_int(&p[2], &idle);
    if (run(c->session, p) != 0)
        return -1;
    int rc = mysql_stmt_fetch(c->session->st);
    long long sid = 0, id = 0;
    int ok = 0, stale = 0;
    if (rc == 0 || rc == MYSQL_DATA_TRUNCATED) {
        const q_t *q = c->session;
        sid = atoll(q->buf[0]);
        id = atoll(q->buf[2]);
        /* A member session past the second factor, as the route asks. */
        ok = !q->null[1] && strcmp(q->buf[1], "member") == 0 && atoi(q->buf[3]) == 1 &&
             !q->null[5] && q->len[5] == 64 && sid > 0 && id > 0;
        stale = !q->null[6] && atoi(q->buf[6]) != 0;
    }
    done(c->session);
    if (!ok)
        return 0;
    c->session_id = sid;
    if (stale) {
        const char *ip = FCGX_GetParam("REMOTE_ADDR", req->envp);
        unsigned long iplen = ip ? strlen(ip) : 0;
        MYSQL_BIND t[3];
        memset(t, 0, sizeof t);
        t[0].buffer_type = MYSQL_TYPE_STRING;
        t[0].buffer = (void *)(ip ? ip : "");
        t[0].buffer_length = iplen;
        t[0].length = &iplen;
        bind_null(&t[1]);
        bind_ll(&t[2], &sid);
        if (run(c->touch, t) != 0)
            return -1;
    }
    return id;
}

/* ---- routes ------------------------------------------------------------------ */

static json_t *me(conn_t *c, long long member)
{
    MYSQL_BIND p[4];
    unsigned long klen;
    bind_ll(&p[0], &member);
    bind_str(&p[1], "login_succeeded", &klen);
    bind_ll(&p[2], &c->session_id);
    bind_ll(&p[3], &member);
    if (run(c->me, p) != 0)
        return NULL;
    json_t *r = row(c->me);
    done(c->me);
    if (!r)
        return NULL;
    json_object_set_new(r, "totp_enabled",
                        json_boolean(json_integer_value(json_object_get(r, "totp_enabled"))));
    json_t *last = json_is_null(json_object_get(r, "at")) ? json_null() : json_object();
    static const char *const cols[] = {"at", "ip", "country", "user_agent"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
        if (json_is_object(last))
            json_object_set(last, cols[i], json_object_get(r, cols[i]));
        json_object_del(r, cols[i]);
    }
    json_object_set_new(r, "last_sign_in", last);
    return r;
}

static const char *const SERVICES[][2] = {{"REMB", "Mes remboursements"},
                                          {"VITALE", "Ma carte Vitale"},
                                          {"IJ", "Mes indemnités journalières"},
                                          {"SITU", "Changement de situation"},
                                          {"RECL", "Réclamation"}};

static json_t *messages(conn_t *c, long long member)
{
    long long cursor = 0, limit = PAGE + 1;
    MYSQL_BIND p[9];
    bind_ll(&p[0], &member);
    bind_ll(&p[1], &member);
    bind_ll(&p[2], &cursor);
    bind_ll(&p[3], &cursor);
    bind_null(&p[4]);
    bind_null(&p[5]);
    bind_ll(&p[6], &member);
    bind_null(&p[7]);
    bind_ll(&p[8], &limit);
    if (run(c->inbox, p) != 0)
        return NULL;
    json_t *rows = json_array(), *r, *unread = NULL;
    while ((r = row(c->inbox))) {
        if (!unread)
            unread = json_incref(json_object_get(r, "unread_total"));
        json_object_del(r, "unread_total");
        const char *svc = json_string_value(json_object_get(r, "service"));
        const char *label = "";
        for (size_t i = 0; svc && i < sizeof SERVICES / sizeof *SERVICES; i++)
            if (strcmp(svc, SERVICES[i][0]) == 0)
                label = SERVICES[i][1];
        json_object_set_new(r, "service_label", json_string(label));
        json_array_append_new(rows, r);
    }
    done(c->inbox);
    json_t *next = json_null();
    if (json_array_size(rows) > PAGE) {
        json_array_remove(rows, PAGE);
        next = json_sprintf("%lld", (long long)json_integer_value(json_object_get(
                                        json_array_get(rows, PAGE - 1), "last_message_id")));
    }
    if (!unread) {
        MYSQL_BIND u[1];
        bind_ll(&u[0], &member);
        if (run(c->unread, u) != 0 || !(r = row(c->unread))) {
            done(c->unread);
            json_decref(rows);
            json_decref(next);
            return NULL;
        }
        done(c->unread);
        unread = json_incref(json_object_get(r, "n"));
        json_decref(r);
    }
    return json_pack("{s:o, s:o, s:o}", "threads", rows, "unread", unread, "next_cursor", next);
}

static const char *const KINDS[] = {"first", "followup", "adviser"};
static const char *const KIND_LABELS[] = {"Première consultation", "Consultation de suivi",
                                          "Rendez-vous avec un conseiller"};

static long long epoch_of(const char *iso)
{
    struct tm tm = {0};
    if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    return (long long)timegm(&tm);
}

static void shape(json_t *r)
{
    const char *ks = json_string_value(json_object_get(r, "agenda_kinds"));
    json_t *kinds = json_array();
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(KINDS[i]);
        for (const char *s = ks; s && *s;) {
            if (strncmp(s, KINDS[i], n) == 0 && s[n] == ':') {
                int min = atoi(s + n + 1);
                if (min > 0)
                    json_array_append_new(kinds,
                                          json_pack("{s:s, s:s, s:i}", "code", KINDS[i], "label",
                                                    KIND_LABELS[i], "minutes", min));
                break;
            }
            s = strchr(s, ',');
            if (s)
                s++;
        }
    }
    json_object_set_new(r, "agenda",
                        json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o}", "id",
                                  json_object_get(r, "agenda_id"), "kind",
                                  json_object_get(r, "agenda_type"), "name",
                                  json_object_get(r, "agenda_name"), "specialty",
                                  json_object_get(r, "agenda_specialty"), "address_line",
                                  json_object_get(r, "agenda_address"), "postal_code",
                                  json_object_get(r, "agenda_postal_code"), "city",
                                  json_object_get(r, "agenda_city"), "visit_kinds", kinds));
    static const char *const drop[] = {"agenda_id",        "agenda_type",    "agenda_name",
                                       "agenda_specialty", "agenda_address", "agenda_postal_code",
                                       "agenda_city",      "agenda_kinds",   "practitioner_id",
                                       "horizon_days",     "member_id",      "held_until"};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        json_object_del(r, drop[i]);
    time_t until =
        (time_t)(epoch_of(json_string_value(json_object_get(r, "start"))) - CUTOFF_H * 3600);
    struct tm tm;
    char buf[24];
    gmtime_r(&until, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(r, "change_until", json_string(buf));
    const char *status = json_string_value(json_object_get(r, "status"));
    json_object_set_new(
        r, "can_change",
        json_boolean(status && strcmp(status, "booked") == 0 && time(NULL) < until));
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *label = "";
    for (size_t i = 0; kind && i < 3; i++)
        if (strcmp(kind, KINDS[i]) == 0)
            label = KIND_LABELS[i];
    json_object_set_new(r, "kind_label", json_string(label));
    json_object_set_new(r, "ics",
                        json_sprintf("/api/v1/appointments/%lld.ics",
                                     (long long)json_integer_value(json_object_get(r, "id"))));
}

static json_t *appointments(conn_t *c, long long member)
{
    long long zero = 0, limit = PAGE + 1;
    int has = 0;
    MYSQL_BIND p[6];
    bind_ll(&p[0], &member);
    bind_int(&p[1], &has);
    bind_ll(&p[2], &zero);
    bind_ll(&p[3], &zero);
    bind_ll(&p[4], &zero);
    bind_ll(&p[5], &limit);
    json_t *rows = rows_of(c->appt, p), *r;
    if (!rows)
        return NULL;
    json_t *next = json_null();
    if (json_array_size(rows) > PAGE) {
        json_array_remove(rows, PAGE);
        json_t *last = json_array_get(rows, PAGE - 1);
        next =
            json_sprintf("%lld.%lld", epoch_of(json_string_value(json_object_get(last, "start"))),
                         (long long)json_integer_value(json_object_get(last, "id")));
    }
    size_t i;
    json_array_foreach(rows, i, r) shape(r);
    return json_pack("{s:o, s:o}", "items", rows, "next_cursor", next);
}

/* The first page without filters: from, to, beneficiary, kind and status
 * empty, no cursor, as portaild binds them. */
static json_t *reimbursements(conn_t *c, long long member)
{
    static const char FROM[] = "1900-01-01", TO[] = "9999-12-31", NONE[] = "";
    unsigned long lfrom, lto, lnone[4], lcur[2];
    long long zero = 0, limit = PAGE + 1;
    int off = 0;
    MYSQL_BIND p[14];
    bind_ll(&p[0], &member);
    bind_str(&p[1], FROM, &lfrom);
    bind_str(&p[2], TO, &lto);
    bind_int(&p[3], &off);
    bind_ll(&p[4], &zero);
    for (int i = 0; i < 4; i++)
        bind_str(&p[5 + i], NONE, &lnone[i]);
    bind_int(&p[9], &off);
    bind_str(&p[10], TO, &lcur[0]);
    bind_str(&p[11], TO, &lcur[1]);
    bind_ll(&p[12], &zero);
    bind_ll(&p[13], &limit);
    json_t *items = rows_of(c->reimb, p);
    if (!items)
        return NULL;
    /* The totals take the page's first nine parameters. */
    json_t *totals = run(c->reimb_totals, p) == 0 ? row(c->reimb_totals) : NULL;
    done(c->reimb_totals);
    if (!totals) {
        json_decref(items);
        return NULL;
    }
    json_t *next = json_null();
    if (json_array_size(items) > PAGE) {
        json_array_remove(items, PAGE);
        json_t *last = json_array_get(items, PAGE - 1);
        next = json_sprintf("%s.%lld", json_string_value(json_object_get(last, "care_date")),
                            (long long)json_integer_value(json_object_get(last, "id")));
    }
    return json_pack("{s:o, s:o, s:o}", "items", items, "totals", totals, "next_cursor", next);
}

/* ---- answer ------------------------------------------------------------------ */

static void answer(FCGX_Request *req, int status, const char *body)
{
    /* FCGX_FPrintF has its own format parser (no %zu): the head is made here. */
    char head[160];
    size_t len = strlen(body);
    int n = snprintf(head, sizeof head,
                     "Status: %d\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     status, len);
    FCGX_PutStr(head, n, req->out);
    FCGX_PutStr(body, (int)len, req->out);
}

static void *worker(void *arg)
{
    (void)arg;
    mysql_thread_init();
    conn_t c = {.db = mysql_init(NULL)};
    if (!mysql_real_connect(c.db, NULL, "root", NULL, db_name, 0, db_socket, 0))
        die(c.db, "connect");
    mysql_set_character_set(c.db, "utf8mb4");
    FCGX_Request req;
    FCGX_InitRequest(&req, fcgi_listen_fd, 0);
    while (FCGX_Accept_r(&req) >= 0) {
        /* At the first request: the program starts before the migrations. */
        if (!c.session) {
            c.session = prepare(c.db, SESSION_SQL);
            c.touch = prepare(c.db, TOUCH_SQL);
            c.me = prepare(c.db, ME_SQL);
            c.inbox = prepare(c.db, INBOX_SQL);
            c.unread = prepare(c.db, UNREAD_SQL);
            c.appt = prepare(c.db, APPT_SQL);
            c.reimb = prepare(c.db, REIMB_SQL);
            c.reimb_totals = prepare(c.db, REIMB_TOTALS_SQL);
        }
        const char *uri = FCGX_GetParam("DOCUMENT_URI", req.envp);
        const char *route = uri ? strrchr(uri, '/') : NULL;
        if (route)
            route++;
        long long member = member_of(&c, &req);
        json_t *doc = NULL;
        if (member > 0 && route) {
            if (strcmp(route, "me") == 0)
                doc = me(&c, member);
            else if (strcmp(route, "messages") == 0)
                doc = messages(&c, member);
            else if (strcmp(route, "appointments") == 0)
                doc = appointments(&c, member);
            else if (strcmp(route, "reimbursements") == 0)
                doc = reimbursements(&c, member);
        }
        char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (body)
            answer(&req, 200, body);
        else if (member == 0)
            answer(&req, 401, "{\"status\":401}");
        else
            answer(&req, 500, "{\"status\":500}");
        free(body);
        FCGX_Finish_r(&req);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc == 5 ? fcgi_threads(argv[2]) : 0;
    if (!n) {
        fprintf(stderr, "usage: member_floor SOCKET THREADS (1..256) DB_SOCKET DB_NAME\n");
        return 2;
    }
    if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL))
        return 2;
    db_socket = argv[3];
    db_name = argv[4];
    return fcgi_serve(argv[1], n, worker);
}
