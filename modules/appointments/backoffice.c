/* Back office (permission appointments.manage): agendas, an agenda's day
 * (audited read of member data), cancellation by the office with a reason
 * (member notified), done / no-show after the start, closures that cancel
 * the appointments inside them (each notified and audited). */
#include <portail/audit.h>
#include <portail/mail.h>
#include <portail/notify.h>
#include <stdlib.h>
#include <string.h>

#include "appointments.h"
#include <portail/texts.h>

#define REASON_MAX 200

/* ---- GET /api/v1/backoffice/appointments/agendas?q=&cursor= ------------------ */
void appt_bo_agendas(portail_ctx_t *ctx)
{
    const char *q = portail_req_query(ctx, "q");
    const char *cursor = portail_req_query(ctx, "cursor");
    long long after = 0;
    if (!q)
        q = "";
    if (strlen(q) > 100) {
        json_t *errors = NULL;
        portail_field_error(&errors, "q", TXT_APPOINTMENTS_RECHERCHE_TROP_LONGUE);
        portail_problem_fields(ctx, errors);
        return;
    }
    if (cursor && *cursor) {
        char *end = NULL;
        after = strtoll(cursor, &end, 10);
        if (*end || after <= 0) {
            json_t *errors = NULL;
            portail_field_error(&errors, "cursor", TXT_APPOINTMENTS_CURSEUR_INVALIDE);
            portail_problem_fields(ctx, errors);
            return;
        }
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const long long limit = 50;
    json_t *rows = portail_db_rows(
        db,
        "SELECT " APPT_AGENDA_COLS "FROM " APPT_AGENDA_FROM
        "WHERE a.id > ? AND (? = '' OR COALESCE(p.last_name, a.office_name) LIKE "
        "CONCAT('%', REPLACE(REPLACE(?, '%', ''), '_', ''), '%') "
        "OR COALESCE(p.city, a.office_city) LIKE CONCAT(REPLACE(REPLACE(?, '%', ''), '_', ''), "
        "'%')) ORDER BY a.id LIMIT ?",
        "lsssl", after, q, q, q, limit + 1);
    if (!rows) {
        appt_fail(ctx);
        return;
    }
    json_t *items = json_array();
    json_t *next = json_null();
    size_t n = json_array_size(rows);
    if (n > (size_t)limit) {
        n = (size_t)limit;
        next = json_sprintf("%lld", portail_row_int(json_array_get(rows, n - 1), "agenda_id", 0));
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, appt_agenda_json(json_array_get(rows, i)));
    portail_respond_json(ctx, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

/* ---- GET /api/v1/backoffice/appointments/agendas/{id}/day?date= ---------------- */
void appt_bo_day(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    const char *date = portail_req_query(ctx, "date");
    int64_t day;
    int minute;
    appt_utc_to_paris(appt_now(), &day, &minute);
    if (date && *date) {
        day = appt_parse_date(date);
        if (day < 0) {
            json_t *errors = NULL;
            portail_field_error(&errors, "date", TXT_APPOINTMENTS_DATE_ATTENDUE);
            portail_problem_fields(ctx, errors);
            return;
        }
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *agenda =
        portail_db_row(db, "SELECT " APPT_AGENDA_COLS "FROM " APPT_AGENDA_FROM "WHERE a.id = ?",
                       "l", (long long)id);
    if (!agenda) {
        if (portail_db_failed(db))
            appt_fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_AGENDA_INCONNU);
        return;
    }
    json_t *rows = portail_db_rows(
        db,
        "SELECT x.id, x.start_utc AS start, x.end_utc AS end, x.kind, x.status, x.beneficiary_id, "
        "CONCAT(bb.first_name, ' ', bb.last_name) AS beneficiary, "
        "x.cancel_reason, x.member_id, CONCAT(i.first_name, ' ', i.last_name) AS member_name "
        "FROM appt_appointments x JOIN members m ON m.id = x.member_id "
        "JOIN insured i ON i.id = m.insured_id "
        "LEFT JOIN beneficiaries bb ON bb.id = x.beneficiary_id WHERE x.agenda_id = ? "
        "AND x.start_utc >= FROM_UNIXTIME(?) AND x.start_utc < FROM_UNIXTIME(?) "
        "AND x.status <> 'held' ORDER BY x.start_utc, x.id LIMIT 500",
        "lll", (long long)id, (long long)appt_paris_to_utc(day, 0),
        (long long)appt_paris_to_utc(day + 1, 0));
    if (!rows) {
        appt_fail(ctx);
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_object_set_new(r, "member",
                            json_pack("{s:O, s:O}", "id", json_object_get(r, "member_id"), "name",
                                      json_object_get(r, "member_name")));
        json_object_set_new(r, "kind_label",
                            json_string(appt_kind_label(portail_row_str(r, "kind"))));
        json_object_del(r, "member_id");
        json_object_del(r, "member_name");
    }
    /* Every member the day shows is named in an audit row: the core writes
     * the route's row for the first one, the others get one each here (a
     * member's data read by an agent is always traceable to that member). */
    const char *why = portail_sprintf(a, "agenda %lld, %s", (long long)id, appt_fmt_date(a, day));
    int64_t first = 0;
    json_array_foreach(rows, i, r)
    {
        int64_t mid = portail_row_int(json_object_get(r, "member"), "id", 0);
        int seen = mid == first;
        for (size_t k = 0; k < i && !seen; k++)
            seen =
                portail_row_int(json_object_get(json_array_get(rows, k), "member"), "id", 0) == mid;
        if (seen)
            continue;
        if (!first)
            first = mid;
        else if (portail_audit(ctx, mid, "appointments.day.read", why) != 0) {
            appt_fail(ctx);
            return;
        }
    }
    portail_audit_subject(ctx, first);
    portail_audit_reason(ctx, why);
    portail_respond_json(ctx, 200,
                         json_pack("{s:o, s:s, s:O}", "agenda", appt_agenda_json(agenda), "date",
                                   appt_fmt_date(a, day), "items", rows));
}

/* Cancels a booked appointment for the office in the open transaction:
 * status, sequence, member notified (notification + mail), slot freed. */
static int office_cancel(portail_ctx_t *ctx, portail_db_t *db, json_t *x, const char *reason)
{
    portail_arena_t *a = portail_arena(ctx);
    int64_t start = portail_row_int(x, "start", 0);
    const char *date = appt_fmt_paris_day(a, start), *time = appt_fmt_paris_time(a, start);
    const char *place = portail_row_str(x, "place");
    const char *vars[] = {"date", date, "time", time, "place", place, "reason", reason, NULL};
    return portail_db_exec(db,
                           "UPDATE appt_appointments SET status = 'cancelled_by_office', "
                           "cancel_reason = ?, sequence = sequence + 1, "
                           "updated_at = UTC_TIMESTAMP() WHERE id = ? AND status = 'booked'",
                           "sl", reason, portail_row_int(x, "id", 0)) == 1 &&
                   appt_unschedule_reminders(db, portail_row_int(x, "id", 0)) == 0 &&
                   portail_notify_mail(
                       db, portail_row_int(x, "member_id", 0), "appointments.change",
                       TXT_APPOINTMENTS_NOTIFICATION_ANNULE_TITRE,
                       portail_sprintf(a, TXT_APPOINTMENTS_NOTIFICATION_ANNULE_TEXTE, date, time,
                                       place, reason),
                       "/appointments/", "appointment_cancelled", vars) == 0 &&
                   appt_slot_freed(db, portail_row_int(x, "agenda_id", 0),
                                   portail_row_str(x, "kind"), start) == 0
               ? 0
               : -1;
}

#define OFFICE_COLS                                                                                \
    "x.id, x.member_id, x.agenda_id, x.kind, x.status, UNIX_TIMESTAMP(x.start_utc) AS start, "     \
    "m.email, COALESCE(CONCAT('Dr ', p.first_name, ' ', p.last_name), a.office_name) AS place "
#define OFFICE_FROM                                                                                \
    "appt_appointments x JOIN members m ON m.id = x.member_id "                                    \
    "JOIN appt_agendas a ON a.id = x.agenda_id "                                                   \
    "LEFT JOIN practitioners p ON p.id = a.practitioner_id "

static const char *body_reason(portail_ctx_t *ctx, int required)
{
    json_t *body = portail_req_json(ctx);
    json_t *v = json_object_get(body, "reason");
    json_t *errors = NULL;
    const char *s = json_string_value(v);
    if ((required && (!s || !*s)) || (v && !json_is_null(v) && !s))
        portail_field_error(&errors, "reason", TXT_APPOINTMENTS_INDIQUEZ_MOTIF);
    else if (s && strlen(s) > REASON_MAX)
        portail_field_error(&errors, "reason", TXT_APPOINTMENTS_MOTIF_TROP_LONG_AGENT);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return NULL;
    }
    return s && *s ? portail_clip_utf8(portail_arena(ctx), s, REASON_MAX) : "";
}

/* The appointment locked in the open transaction, or NULL (answer set). */
static json_t *lock_one(portail_ctx_t *ctx, portail_db_t *db, int64_t id)
{
    json_t *x = portail_db_row(db,
                               "SELECT " OFFICE_COLS "FROM " OFFICE_FROM
                               "WHERE x.id = ? AND x.status <> 'held' FOR UPDATE",
                               "l", (long long)id);
    if (!x) {
        if (portail_db_failed(db))
            appt_fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_INCONNU);
        return NULL;
    }
    portail_audit_subject(ctx, portail_row_int(x, "member_id", 0));
    if (strcmp(portail_row_str(x, "status"), "booked") != 0) {
        portail_problem(ctx, 409, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_PLUS_PREVU);
        return NULL;
    }
    return x;
}

static void respond_one(portail_ctx_t *ctx, portail_db_t *db, long long id)
{
    json_t *r = portail_db_row(db,
                               "SELECT x.id, x.start_utc AS start, x.end_utc AS end, x.kind, "
                               "x.status, x.beneficiary_id, "
                               "CONCAT(bb.first_name, ' ', bb.last_name) AS beneficiary, "
                               "x.cancel_reason, x.sequence FROM appt_appointments x "
                               "LEFT JOIN beneficiaries bb ON bb.id = x.beneficiary_id "
                               "WHERE x.id = ?",
                               "l", id);
    if (!r) {
        appt_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_incref(r));
}

/* The office's cancellation and close_as's status, each in one transaction
 * rerun whole on a 1213/1205 (portail_tx_retry): on a Galera cluster a
 * write through another node to the same rows (the member's own change)
 * aborts it at COMMIT, a 500 for the agent otherwise. A failed statement's
 * 500 is portail_tx_retry's. */
typedef struct office_tx {
    int64_t id;
    const char *reason; /* the cancellation's */
    const char *status; /* close_as's */
} office_tx_t;

static int bo_cancel_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const office_tx_t *t = arg;
    json_t *x = lock_one(ctx, db, t->id);
    if (!x)
        return -1;
    if (office_cancel(ctx, db, x, t->reason) != 0)
        return -1;
    return 0;
}

/* ---- POST /api/v1/backoffice/appointments/{id}/cancel {reason} ----------------- */
void appt_bo_cancel(portail_ctx_t *ctx)
{
    office_tx_t t = {.reason = body_reason(ctx, 1)};
    if (!t.reason || portail_req_param_i64(ctx, "id", &t.id) != 0 ||
        portail_tx_retry(ctx, bo_cancel_tx, &t) != 0)
        return;
    portail_audit_reason(ctx, t.reason);
    respond_one(ctx, portail_db(ctx), t.id);
}

static int close_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const office_tx_t *t = arg;
    json_t *x = lock_one(ctx, db, t->id);
    if (!x)
        return -1;
    if (portail_row_int(x, "start", 0) > appt_now()) {
        portail_problem(ctx, 409, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_PAS_COMMENCE);
        return -1;
    }
    if (portail_db_exec(db,
                        "UPDATE appt_appointments SET status = ?, updated_at = UTC_TIMESTAMP() "
                        "WHERE id = ? AND status = 'booked'",
                        "sl", t->status, (long long)t->id) != 1)
        return -1;
    return 0;
}

static void close_as(portail_ctx_t *ctx, const char *status)
{
    office_tx_t t = {.status = status};
    if (portail_req_param_i64(ctx, "id", &t.id) != 0 || portail_tx_retry(ctx, close_tx, &t) != 0)
        return;
    respond_one(ctx, portail_db(ctx), t.id);
}

/* ---- POST /api/v1/backoffice/appointments/{id}/done, /no_show ------------------ */
void appt_bo_done(portail_ctx_t *ctx)
{
    close_as(ctx, "done");
}

void appt_bo_no_show(portail_ctx_t *ctx)
{
    close_as(ctx, "no_show");
}

/* The closure, its cancellations with their audit rows and the held slots
 * dropped, in one transaction rerun whole on a 1213/1205 (portail_tx_retry)
 * as the office's cancellation. */
typedef struct closure_tx {
    int64_t agenda, from, to;
    const char *reason;
    const char *why;   /* of each cancellation's audit row */
    long long closure; /* out */
    size_t cancelled;  /* out */
} closure_tx_t;

static int closure_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    closure_tx_t *t = arg;
    if (portail_db_exec(db,
                        "INSERT INTO appt_closures (agenda_id, starts_at, ends_at, reason, "
                        "agent_id) VALUES (?, FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, ?)",
                        "lllsl", (long long)t->agenda, (long long)t->from, (long long)t->to,
                        t->reason, (long long)portail_principal(ctx)->id) != 1)
        return -1;
    t->closure = (long long)portail_db_insert_id(db);
    json_t *rows = portail_db_rows(
        db,
        "SELECT " OFFICE_COLS "FROM " OFFICE_FROM "WHERE x.agenda_id = ? AND x.status = 'booked' "
        "AND x.start_utc < FROM_UNIXTIME(?) "
        "AND x.end_utc > FROM_UNIXTIME(?) FOR UPDATE",
        "lll", (long long)t->agenda, (long long)t->to, (long long)t->from);
    if (!rows)
        return -1;
    t->cancelled = json_array_size(rows);
    size_t i;
    json_t *x;
    json_array_foreach(rows, i, x)
    {
        if (office_cancel(ctx, db, x, t->reason) != 0 ||
            portail_audit(ctx, portail_row_int(x, "member_id", 0), "appointments.closure.cancel",
                          t->why) != 0) {
            appt_fail(ctx);
            return -1;
        }
    }
    if (portail_db_exec(db,
                        "DELETE FROM appt_appointments WHERE agenda_id = ? AND status = 'held' "
                        "AND start_utc < FROM_UNIXTIME(?) AND end_utc > FROM_UNIXTIME(?)",
                        "lll", (long long)t->agenda, (long long)t->to, (long long)t->from) < 0)
        return -1;
    return 0;
}

/* ---- POST /api/v1/backoffice/appointments/agendas/{id}/closures {from, to, reason}
 * Every booked appointment starting inside is cancelled for the office
 * (notified, and one audit row each); slots held for the waitlist inside
 * are dropped. */
void appt_bo_closure(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    closure_tx_t t = {0};
    if (portail_req_param_i64(ctx, "id", &t.agenda) != 0)
        return;
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    t.from = appt_parse_utc(json_string_value(json_object_get(body, "from")));
    t.to = appt_parse_utc(json_string_value(json_object_get(body, "to")));
    if (t.from < 0)
        portail_field_error(&errors, "from", TXT_APPOINTMENTS_HEURE_UTC_ATTENDUE);
    if (t.to < 0)
        portail_field_error(&errors, "to", TXT_APPOINTMENTS_HEURE_UTC_ATTENDUE);
    else if (t.from >= 0 && (t.to <= t.from || t.to - t.from > 366LL * 86400))
        portail_field_error(&errors, "to", TXT_APPOINTMENTS_FERMETURE_PERIODE_INVALIDE);
    const char *reason = json_string_value(json_object_get(body, "reason"));
    if (!reason || !*reason)
        portail_field_error(&errors, "reason", TXT_APPOINTMENTS_INDIQUEZ_MOTIF);
    else if (strlen(reason) > REASON_MAX)
        portail_field_error(&errors, "reason", TXT_APPOINTMENTS_MOTIF_TROP_LONG_AGENT);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    t.reason = portail_clip_utf8(a, reason, REASON_MAX);
    t.why = portail_sprintf(a, "Fermeture : %s", t.reason);
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *ag =
        portail_db_row(db, "SELECT id FROM appt_agendas WHERE id = ?", "l", (long long)t.agenda);
    if (!ag) {
        if (portail_db_failed(db))
            appt_fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_AGENDA_INCONNU);
        return;
    }
    if (portail_tx_retry(ctx, closure_tx, &t) != 0)
        return;
    portail_audit_reason(ctx, t.why);
    portail_respond_json(ctx, 201,
                         json_pack("{s:{s:I, s:s, s:s, s:s}, s:I}", "closure", "id",
                                   (json_int_t)t.closure, "from", appt_fmt_utc(a, t.from), "to",
                                   appt_fmt_utc(a, t.to), "reason", t.reason, "cancelled",
                                   (json_int_t)t.cancelled));
}
