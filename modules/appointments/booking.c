/* The member's appointments: booking, list, one, move, cancel, the
 * dashboard card, and the waitlist. The guarantees are the database's
 * (sql/001_appointments.sql): a second holder of a slot or a second booking
 * of the day on an agenda is refused by a UNIQUE key (MariaDB error 1062),
 * which becomes the 409; a booking overlapping another kind's slot is
 * refused by a locking read in the same transaction; the limit of upcoming
 * appointments is counted with the member's row locked. */
#include <portail/notify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <portail/beneficiaries.h>

#include "appointments.h"
#include <portail/texts.h>

#define ER_DUP_ENTRY 1062
#define ER_LOCK_WAIT_TIMEOUT 1205
#define ER_LOCK_DEADLOCK 1213
#define REASON_MAX 500
#define WAITLIST_MAX 10
#define PAGE_DEFAULT 20

static const char *const TAKEN = TXT_APPOINTMENTS_CRENEAU_PRIS;

/* A page of the list: limit + 1 rows are asked, the last only to tell
 * that a next page exists; its cursor is the last item's start and id. */
struct appt_page {
    long long limit;
    long long cutoff_hours;
    int64_t last_start;
    long long last_id;
};

/* An appointment as the API gives it (the list's items, GET {id} and the
 * answers of book, move and cancel), written straight from a row of
 * APPT_COLS: the agenda_* columns become the agenda object, and
 * change_until, can_change, kind_label and ics are added. */
static int appt_item(portail_jw_t *w, portail_dbrow_t *row, void *arg)
{
    static const char *const moved[] = {
        "member_id",   "held_until",       "agenda_id",       "agenda_type",
        "agenda_name", "agenda_specialty", "agenda_address",  "agenda_postal_code",
        "agenda_city", "agenda_kinds",     "practitioner_id", "horizon_days",
        NULL};
    struct appt_page *page = arg;
    long long i = (long long)portail_dbrow_index(row);
    if (i >= page->limit)
        return 0;
    long long id = portail_dbrow_int(row, "id", 0);
    int64_t start = appt_parse_utc(portail_dbrow_str(row, "start"));
    int64_t until = start - page->cutoff_hours * 3600;
    const char *status = portail_dbrow_str(row, "status");
    if (i == page->limit - 1) {
        page->last_start = start;
        page->last_id = id;
    }
    portail_jw_open(w, '{');
    portail_dbrow_fields(w, row, moved);
    portail_jw_key(w, "agenda");
    appt_agenda_write(w, row);
    char until_text[APPT_UTC_BUF];
    portail_jw_key(w, "change_until");
    portail_jw_strn(w, until_text, appt_fmt_utc_buf(until_text, until));
    portail_jw_key(w, "can_change");
    portail_jw_bool(w, status && strcmp(status, "booked") == 0 && appt_now() < until);
    portail_jw_key(w, "kind_label");
    portail_jw_str(w, appt_kind_label(portail_dbrow_str(row, "kind")));
    /* Without snprintf: one per row. */
    static const char ics_path[] = "/api/v1/appointments/";
    char ics[64], digits[24];
    size_t n;
    const char *d = portail_fmt_ll(digits, id, &n);
    memcpy(ics, ics_path, sizeof ics_path - 1);
    memcpy(ics + sizeof ics_path - 1, d, n);
    memcpy(ics + sizeof ics_path - 1 + n, ".ics", 4);
    portail_jw_key(w, "ics");
    portail_jw_strn(w, ics, sizeof ics_path - 1 + n + 4);
    return portail_jw_close(w, '}');
}

/* An optional string member: NULL when absent, null or empty. */
static const char *opt_str(portail_arena_t *a, json_t *body, const char *key, size_t max,
                           json_t **errors, const char *too_long)
{
    json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        portail_field_error(errors, key, TXT_APPOINTMENTS_TEXTE_ATTENDU);
        return NULL;
    }
    if (json_string_length(v) > max) {
        portail_field_error(errors, key, too_long);
        return NULL;
    }
    return portail_clip_utf8(a, json_string_value(v), max);
}

static int64_t body_start(json_t *body, json_t **errors)
{
    const char *s = json_string_value(json_object_get(body, "start"));
    int64_t t = appt_parse_utc(s);
    if (t < 0)
        portail_field_error(errors, "start", TXT_APPOINTMENTS_HEURE_UTC_FORMAT);
    return t;
}

/* A refused write of a slot in a booking's or a move's transaction: 409
 * (taken, one a day), 500 for anything else; -1 for the transaction's fn.
 * A conflict (1213, 1205) is a 409 too: portail_tx_retry reruns the
 * transaction and keeps this answer only when the last attempt failed so. */
static int refused(portail_ctx_t *ctx, portail_db_t *db, int64_t agenda, int64_t start)
{
    unsigned e = portail_db_errno(db);
    if (e == ER_DUP_ENTRY) {
        /* Which key refused it is read after the rollback: the
         * transaction's snapshot may predate the holder's commit. */
        portail_db_rollback(db);
        json_t *held = portail_db_row(db,
                                      "SELECT id FROM appt_appointments WHERE agenda_id = ? "
                                      "AND active_start = FROM_UNIXTIME(?)",
                                      "ll", (long long)agenda, (long long)start);
        if (held || portail_db_failed(db))
            portail_problem(ctx, 409, NULL, TAKEN);
        else
            portail_problem(ctx, 409, NULL, TXT_APPOINTMENTS_DEJA_UN_RENDEZ_VOUS_CE_JOUR);
    } else if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT) {
        portail_problem(ctx, 409, NULL, TAKEN);
    } else {
        appt_fail(ctx);
    }
    return -1;
}

/* portail_tx_retry for a booking's or a move's transaction: a conflict
 * that outlasts the reruns stays the 409 it was before they existed, also
 * when the COMMIT reported it (a Galera certification), which
 * portail_tx_retry answers 500. */
static int slot_tx_retry(portail_ctx_t *ctx, portail_db_t *db, portail_tx_fn fn, void *arg)
{
    if (portail_tx_retry(ctx, fn, arg) == 0)
        return 0;
    unsigned e = portail_db_errno(db);
    if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT)
        portail_problem(ctx, 409, NULL, TAKEN);
    return -1;
}

/* After the write: no other holder overlaps [start, end) (kinds of
 * different lengths share the agenda). Locking read, so that two
 * overlapping bookings in flight see each other (one waits or deadlocks,
 * and gets the 409). The range read starts at start − the longest kind, so
 * that only the neighbourhood of the slot is locked, not the agenda's whole
 * past. 0 free, 1 overlapped, -1 error (errno on db). */
static int overlapped(portail_db_t *db, int64_t agenda, int64_t id, int64_t start, int64_t end)
{
    json_t *r = portail_db_row(db,
                               "SELECT COUNT(*) AS n FROM appt_appointments WHERE agenda_id = ? "
                               "AND id <> ? AND status IN ('booked', 'held') "
                               "AND start_utc > FROM_UNIXTIME(?) "
                               "AND start_utc < FROM_UNIXTIME(?) AND end_utc > FROM_UNIXTIME(?) "
                               "FOR UPDATE",
                               "lllll", (long long)agenda, (long long)id,
                               (long long)(start - APPT_KIND_MAX_MINUTES * 60), (long long)end,
                               (long long)start);
    if (!r)
        return -1;
    return portail_row_int(r, "n", 0) > 0;
}

/* What count_sql counts (one column n, scoped by {member}), with the
 * member's rows (members, insured) locked until the transaction ends: two
 * requests of one member that count and then insert (bookings, waitlist
 * entries) run one after the other, so that the count they check holds.
 * -1 on a failed statement. */
static long long count_locked(portail_ctx_t *ctx, const char *count_sql)
{
    json_t *lock = portail_member_row(ctx,
                                      "SELECT i.id FROM members m JOIN insured i "
                                      "ON i.id = m.insured_id WHERE m.id = {member} FOR UPDATE",
                                      "");
    json_t *n = lock ? portail_member_row(ctx, count_sql, "") : NULL;
    return n ? portail_row_int(n, "n", 0) : -1;
}

/* The limit of upcoming appointments, in the booking's transaction: 0 under
 * it, 1 at it (409 set; the caller's fn gives up, portail_tx_retry rolls
 * back), -1. */
static int over_limit(portail_ctx_t *ctx, const struct appt_state *st)
{
    long long n = count_locked(ctx, "SELECT COUNT(*) AS n FROM appt_appointments "
                                    "WHERE member_id = {member} AND status = 'booked' "
                                    "AND start_utc > UTC_TIMESTAMP()");
    if (n < 0)
        return -1;
    if (n >= st->max_upcoming) {
        portail_problem(ctx, 409, NULL,
                        portail_sprintf(portail_arena(ctx), TXT_APPOINTMENTS_MAXIMUM_RENDEZ_VOUS,
                                        st->max_upcoming));
        return 1;
    }
    return 0;
}

int appt_schedule_reminders(portail_db_t *db, const struct appt_state *st, int64_t id,
                            int64_t start)
{
    const struct {
        const char *which;
        long long before;
    } r[] = {{"days", st->remind_days * 86400}, {"hours", st->remind_hours * 3600}};
    int64_t now = appt_now();
    for (size_t i = 0; i < 2; i++) {
        if (r[i].before <= 0 || start - r[i].before <= now)
            continue;
        json_t *p = json_pack("{s:I, s:s, s:I}", "appointment", (json_int_t)id, "which", r[i].which,
                              "start", (json_int_t)start);
        int64_t job = 0;
        int rc =
            p ? portail_job_enqueue(db, "appointments.remind", p, start - r[i].before - now, &job)
              : -1;
        json_decref(p);
        if (rc != 0 || portail_db_exec(db,
                                       "INSERT INTO appt_reminder_jobs (appointment_id, job_id) "
                                       "VALUES (?, ?)",
                                       "ll", (long long)id, (long long)job) != 1)
            return -1;
    }
    return 0;
}

int appt_unschedule_reminders(portail_db_t *db, int64_t id)
{
    json_t *jobs = portail_db_rows(db,
                                   "SELECT job_id FROM appt_reminder_jobs "
                                   "WHERE appointment_id = ?",
                                   "l", (long long)id);
    if (!jobs)
        return -1;
    size_t i;
    json_t *j;
    json_array_foreach(jobs, i, j)
    {
        if (portail_job_cancel(db, portail_row_int(j, "job_id", 0)) < 0)
            return -1;
    }
    return portail_db_exec(db, "DELETE FROM appt_reminder_jobs WHERE appointment_id = ?", "l",
                           (long long)id) < 0
               ? -1
               : 0;
}

int appt_slot_freed(portail_db_t *db, int64_t agenda, const char *kind, int64_t start)
{
    if (start <= appt_now())
        return 0;
    json_t *p = json_pack("{s:I, s:s, s:I}", "agenda", (json_int_t)agenda, "kind", kind, "start",
                          (json_int_t)start);
    int rc = p ? portail_job_enqueue(db, "appointments.waitlist_offer", p, 0, NULL) : -1;
    json_decref(p);
    return rc;
}

static json_t *load_agenda_row(portail_db_t *db, long long id)
{
    return portail_db_row(db, "SELECT " APPT_AGENDA_COLS "FROM " APPT_AGENDA_FROM "WHERE a.id = ?",
                          "l", id);
}

/* The appointment as the API shows it, or NULL (404 or 500 set). */
/* Answers status with the signed-in member's appointment id, as the list
 * writes each (appt_item), or a 404. */
static void respond_mine(portail_ctx_t *ctx, int status, int64_t id)
{
    const struct appt_state *st = portail_module_state(ctx);
    portail_jw_t *w = portail_jw_new(portail_arena(ctx));
    struct appt_page one = {.limit = 1, .cutoff_hours = st->cutoff_hours};
    long long n = portail_member_rows_json(ctx, w, appt_item, &one,
                                           "SELECT " APPT_COLS "FROM " APPT_FROM
                                           "WHERE x.id = ? AND x.member_id = {member} "
                                           "AND x.status <> 'held'",
                                           "l", (long long)id);
    if (n < 0)
        appt_fail(ctx);
    else if (n == 0)
        portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_INCONNU);
    else
        portail_respond_jw(ctx, status, w);
}

/* The booking's transaction: the member's row locked and the limit
 * counted, the INSERT (the UNIQUE keys decide), the overlap check, the
 * reminders. Rerun whole on a 1213/1205 (slot_tx_retry): a deadlock
 * between bookings of one slot, a lock wait, or on a Galera cluster a
 * write through another node to the same rows, reported at COMMIT. The
 * *_tx functions of this file answer only what is theirs (404, 409, 422): a
 * failed statement's 500 is portail_tx_retry's. */
typedef struct book_tx {
    long long agenda;
    const char *kind;
    int64_t start, end;
    const char *day;
    long long who;
    const char *reason;
    int64_t id; /* out */
} book_tx_t;

static int book_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    book_tx_t *b = arg;
    const struct appt_state *st = portail_module_state(ctx);
    int lim = over_limit(ctx, st);
    if (lim > 0)
        return -1;
    if (lim < 0 ||
        portail_member_exec(ctx,
                            "INSERT INTO appt_appointments (member_id, agenda_id, kind, start_utc, "
                            "end_utc, local_day, beneficiary_id, reason) VALUES ({member}, ?, ?, "
                            "FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, NULLIF(?, 0), ?)",
                            "lsllsls", b->agenda, b->kind, (long long)b->start, (long long)b->end,
                            b->day, b->who, b->reason) != 1)
        return refused(ctx, db, b->agenda, b->start);
    b->id = (int64_t)portail_db_insert_id(db);
    int o = overlapped(db, b->agenda, b->id, b->start, b->end);
    if (o > 0) {
        portail_problem(ctx, 409, NULL, TAKEN);
        return -1;
    }
    if (o < 0 || appt_schedule_reminders(db, st, b->id, b->start) != 0)
        return refused(ctx, db, b->agenda, b->start);
    return 0;
}

/* ---- POST /api/v1/appointments {agenda, start, kind, beneficiary, reason} --
 * beneficiary: null or absent for the member, else the id of one of their
 * beneficiaries (the core's, GET /api/v1/appointments/beneficiaries);
 * another member's is a 404. */
void appt_book(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    json_t *ag = json_object_get(body, "agenda");
    if (!json_is_integer(ag) || json_integer_value(ag) <= 0)
        portail_field_error(&errors, "agenda", TXT_APPOINTMENTS_CHOISISSEZ_AGENDA);
    int64_t start = body_start(body, &errors);
    const char *kind = json_string_value(json_object_get(body, "kind"));
    if (!appt_is_kind(kind))
        portail_field_error(&errors, "kind", TXT_APPOINTMENTS_CHOISISSEZ_TYPE);
    json_t *ben = json_object_get(body, "beneficiary");
    long long who = json_is_integer(ben) ? json_integer_value(ben) : 0;
    if (ben && !json_is_null(ben) && (!json_is_integer(ben) || who <= 0))
        portail_field_error(&errors, "beneficiary", TXT_APPOINTMENTS_CHOISISSEZ_PERSONNE);
    const char *reason =
        opt_str(a, body, "reason", REASON_MAX, &errors, TXT_APPOINTMENTS_MOTIF_TROP_LONG);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    if (portail_beneficiary_check(ctx, who) != 0)
        return;
    long long agenda_id = json_integer_value(ag);
    json_t *agenda = load_agenda_row(db, agenda_id);
    if (!agenda) {
        if (portail_db_failed(db))
            appt_fail(ctx);
        else {
            portail_field_error(&errors, "agenda", TXT_APPOINTMENTS_AGENDA_INCONNU);
            portail_problem_fields(ctx, errors);
        }
        return;
    }
    int64_t end, day;
    const char *why = NULL;
    int v = appt_slot_valid(db, agenda, kind, start, &end, &day, &why);
    if (v != 0) {
        if (v == -1) {
            portail_field_error(&errors, appt_kind_minutes(agenda, kind) ? "start" : "kind", why);
            portail_problem_fields(ctx, errors);
        } else {
            appt_fail(ctx);
        }
        return;
    }
    book_tx_t b = {.agenda = agenda_id,
                   .kind = kind,
                   .start = start,
                   .end = end,
                   .day = appt_fmt_date(a, day),
                   .who = who,
                   .reason = reason};
    if (slot_tx_retry(ctx, db, book_tx, &b) != 0)
        return;
    respond_mine(ctx, 201, b.id);
}

/* ---- GET /api/v1/appointments?when=upcoming|past&cursor=&limit= -----------
 * Upcoming: start in the future, soonest first; past: the others, latest
 * first. Offers held for the member are not appointments yet (waitlist).
 * Cursor: "<start epoch>.<id>" of the last item. */
void appt_list(portail_ctx_t *ctx)
{
    const struct appt_state *st = portail_module_state(ctx);
    portail_arena_t *a = portail_arena(ctx);
    json_t *errors = NULL;
    const char *when = portail_req_query(ctx, "when");
    int past = 0;
    if (when && *when) {
        if (strcmp(when, "past") == 0)
            past = 1;
        else if (strcmp(when, "upcoming") != 0)
            portail_field_error(&errors, "when", TXT_APPOINTMENTS_PERIODE_ATTENDUE);
    }
    long long limit = PAGE_DEFAULT, cs = 0, ci = 0;
    limit = portail_req_query_int(ctx, "limit", 1, st->page_max, PAGE_DEFAULT, &errors);
    const char *cursor = portail_req_query(ctx, "cursor");
    if (cursor && *cursor) {
        char *end = NULL;
        cs = strtoll(cursor, &end, 10);
        if (strlen(cursor) > 40 || *end != '.' || cs <= 0 ||
            (ci = strtoll(end + 1, &end, 10)) <= 0 || *end)
            portail_field_error(&errors, "cursor", TXT_APPOINTMENTS_CURSEUR_INVALIDE);
    }
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    int has = cs > 0;
    /* Written as the rows come (portail_member_rows_json): a page of 20
     * made some 400 jansson objects before (docs/performance.md). */
    portail_jw_t *w = portail_jw_new(a);
    portail_jw_open(w, '{');
    portail_jw_key(w, "items");
    portail_jw_open(w, '[');
    struct appt_page page = {.limit = limit, .cutoff_hours = st->cutoff_hours};
    long long n = past ? portail_member_rows_json(
                             ctx, w, appt_item, &page,
                             "SELECT " APPT_COLS "FROM " APPT_FROM
                             "WHERE x.member_id = {member} AND x.status <> 'held' "
                             "AND x.start_utc <= UTC_TIMESTAMP() AND (? = 0 OR x.start_utc < "
                             "FROM_UNIXTIME(?) OR (x.start_utc = FROM_UNIXTIME(?) AND x.id < ?)) "
                             "ORDER BY x.start_utc DESC, x.id DESC LIMIT ?",
                             "illll", has, cs, cs, ci, limit + 1)
                       : portail_member_rows_json(
                             ctx, w, appt_item, &page,
                             "SELECT " APPT_COLS "FROM " APPT_FROM
                             "WHERE x.member_id = {member} AND x.status <> 'held' "
                             "AND x.start_utc > UTC_TIMESTAMP() AND (? = 0 OR x.start_utc > "
                             "FROM_UNIXTIME(?) OR (x.start_utc = FROM_UNIXTIME(?) AND x.id > ?)) "
                             "ORDER BY x.start_utc, x.id LIMIT ?",
                             "illll", has, cs, cs, ci, limit + 1);
    if (n < 0) {
        appt_fail(ctx);
        return;
    }
    portail_jw_close(w, ']');
    portail_jw_key(w, "next_cursor");
    if (n > limit)
        portail_jw_str(w,
                       portail_sprintf(a, "%lld.%lld", (long long)page.last_start, page.last_id));
    else
        portail_jw_null(w);
    portail_jw_close(w, '}');
    portail_respond_jw(ctx, 200, w);
}

/* ---- GET /api/v1/appointments/{id} (and {id}.ics, see ics.c) ---------------- */
void appt_get(portail_ctx_t *ctx)
{
    const char *p = portail_req_param(ctx, "id");
    size_t n = p ? strlen(p) : 0;
    if (n > 4 && strcmp(p + n - 4, ".ics") == 0) {
        appt_ics(ctx);
        return;
    }
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    respond_mine(ctx, 200, id);
}

/* The member's appointment locked in the open transaction of a move or a
 * cancellation, or NULL with the answer set (404, 409 not booked or past
 * the cutoff). */
static json_t *change_row(portail_ctx_t *ctx, int64_t id)
{
    const struct appt_state *st = portail_module_state(ctx);
    portail_arena_t *a = portail_arena(ctx);
    json_t *r = portail_member_row(ctx,
                                   "SELECT id, agenda_id, kind, status, "
                                   "UNIX_TIMESTAMP(start_utc) AS start FROM appt_appointments "
                                   "WHERE id = ? AND member_id = {member} AND status <> 'held' "
                                   "FOR UPDATE",
                                   "l", (long long)id);
    if (!r) {
        if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
            appt_fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_INCONNU);
        return NULL;
    }
    if (strcmp(portail_row_str(r, "status"), "booked") != 0) {
        portail_problem(ctx, 409, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_ANNULE_OU_PASSE);
        return NULL;
    }
    int64_t start = portail_row_int(r, "start", 0);
    int64_t until = start - st->cutoff_hours * 3600;
    if (appt_now() >= until) {
        portail_problem(ctx, 409, NULL,
                        portail_sprintf(a, TXT_APPOINTMENTS_DELAI_DEPASSE, st->cutoff_hours,
                                        appt_fmt_paris_day(a, until),
                                        appt_fmt_paris_time(a, until)));
        portail_problem_extra(ctx, "change_until", json_string(appt_fmt_utc(a, until)));
        return NULL;
    }
    return r;
}

/* ---- POST /api/v1/appointments/{id}/move {start} ------------------------------
 * One UPDATE of the row's start: the unique key checks the new slot as the
 * row takes it, and the old one is free once it commits; refused (1062),
 * nothing changed. Rerun whole on a 1213/1205 (slot_tx_retry), as the
 * booking. */
typedef struct move_tx {
    int64_t id, start;
} move_tx_t;

static int move_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const move_tx_t *m = arg;
    const struct appt_state *st = portail_module_state(ctx);
    portail_arena_t *a = portail_arena(ctx);
    json_t *cur = change_row(ctx, m->id);
    if (!cur)
        return -1;
    long long agenda_id = portail_row_int(cur, "agenda_id", 0);
    const char *kind = portail_row_str(cur, "kind");
    int64_t old = portail_row_int(cur, "start", 0);
    json_t *agenda = load_agenda_row(db, agenda_id);
    if (!agenda)
        return -1;
    int64_t end, day;
    const char *why = NULL;
    int v = m->start == old ? (why = TXT_APPOINTMENTS_MEME_HEURE, -1)
                            : appt_slot_valid(db, agenda, kind, m->start, &end, &day, &why);
    if (v != 0) {
        if (v == -1) {
            json_t *errors = NULL;
            portail_field_error(&errors, "start", why);
            portail_problem_fields(ctx, errors);
        }
        return -1;
    }
    if (portail_member_exec(ctx,
                            "UPDATE appt_appointments SET start_utc = FROM_UNIXTIME(?), "
                            "end_utc = FROM_UNIXTIME(?), local_day = ?, sequence = sequence + 1, "
                            "updated_at = UTC_TIMESTAMP() WHERE id = ? AND member_id = {member}",
                            "llsl", (long long)m->start, (long long)end, appt_fmt_date(a, day),
                            (long long)m->id) != 1)
        return refused(ctx, db, agenda_id, m->start);
    int o = overlapped(db, agenda_id, m->id, m->start, end);
    if (o > 0) {
        portail_problem(ctx, 409, NULL, TAKEN);
        return -1;
    }
    if (o < 0 || appt_unschedule_reminders(db, m->id) != 0 ||
        appt_schedule_reminders(db, st, m->id, m->start) != 0 ||
        appt_slot_freed(db, agenda_id, kind, old) != 0)
        return refused(ctx, db, agenda_id, m->start);
    return 0;
}

void appt_move(portail_ctx_t *ctx)
{
    move_tx_t m;
    if (portail_req_param_i64(ctx, "id", &m.id) != 0)
        return;
    json_t *errors = NULL;
    m.start = body_start(portail_req_json(ctx), &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db || slot_tx_retry(ctx, db, move_tx, &m) != 0)
        return;
    respond_mine(ctx, 200, m.id);
}

/* ---- POST /api/v1/appointments/{id}/cancel ---------------------------------- */
/* Rerun whole on a 1213/1205 (portail_tx_retry): on a Galera cluster a write
 * through another node to the same rows aborts it at COMMIT, a 500 for the
 * member otherwise (seen in tests/cluster's node-kill load). */
static int cancel_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const int64_t id = *(const int64_t *)arg;
    json_t *cur = change_row(ctx, id);
    if (!cur)
        return -1;
    if (portail_member_exec(ctx,
                            "UPDATE appt_appointments SET status = 'cancelled_by_member', "
                            "sequence = sequence + 1, updated_at = UTC_TIMESTAMP() "
                            "WHERE id = ? AND member_id = {member}",
                            "l", (long long)id) != 1 ||
        appt_unschedule_reminders(db, id) != 0 ||
        appt_slot_freed(db, portail_row_int(cur, "agenda_id", 0), portail_row_str(cur, "kind"),
                        portail_row_int(cur, "start", 0)) != 0)
        return -1;
    return 0;
}

void appt_cancel(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    if (portail_tx_retry(ctx, cancel_tx, &id) != 0)
        return;
    respond_mine(ctx, 200, id);
}

/* ---- GET /api/v1/appointments/beneficiaries ----------------------------------
 * The choices of the booking form: the member ("moi", id null) then their
 * beneficiaries, through the core's service (the coverage module declares
 * them; modules never call each other). */
void appt_beneficiaries(portail_ctx_t *ctx)
{
    json_t *rows = portail_beneficiaries_list(ctx, portail_principal(ctx)->id);
    if (!rows) {
        appt_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_incref(rows));
}

/* The dashboard card: the next appointment and how many are coming. */
int appt_summary(portail_ctx_t *ctx, void **card)
{
    portail_arena_t *a = portail_arena(ctx);
    json_t *r = portail_member_row(
        ctx,
        "SELECT (SELECT COUNT(*) FROM appt_appointments WHERE member_id = {member} "
        "AND status = 'booked' AND start_utc > UTC_TIMESTAMP()) AS n, x.start_utc AS start, "
        "COALESCE(CONCAT('Dr ', p.first_name, ' ', p.last_name), a.office_name) AS agenda_name "
        "FROM members mm LEFT JOIN appt_appointments x ON x.id = (SELECT y.id FROM "
        "appt_appointments y WHERE y.member_id = {member} AND y.status = 'booked' "
        "AND y.start_utc > UTC_TIMESTAMP() ORDER BY y.start_utc LIMIT 1) "
        "LEFT JOIN appt_agendas a ON a.id = x.agenda_id "
        "LEFT JOIN practitioners p ON p.id = a.practitioner_id WHERE mm.id = {member}",
        "");
    if (!r)
        return -1;
    long long n = portail_row_int(r, "n", 0);
    const char *start = portail_row_str(r, "start");
    int64_t t = appt_parse_utc(start);
    const char *text =
        start ? portail_sprintf(a, TXT_APPOINTMENTS_CARTE_PROCHAIN, appt_fmt_paris_day(a, t),
                                appt_fmt_paris_time(a, t), portail_row_str(r, "agenda_name"), n)
              : TXT_APPOINTMENTS_CARTE_AUCUN;
    json_t *next = start ? json_pack("{s:s, s:O}", "start", start, "agenda_name",
                                     json_object_get(r, "agenda_name"))
                         : json_null();
    *card =
        json_pack("{s:s, s:s, s:s, s:o, s:I}", "title", TXT_APPOINTMENTS_MES_RENDEZ_VOUS, "text",
                  text, "href", "/appointments/", "next", next, "upcoming", (json_int_t)n);
    return *card ? 0 : -1;
}

/* ---- waitlist ------------------------------------------------------------------ */

#define WAIT_COLS                                                                                  \
    "w.id, w.kind, w.before_date AS `before`, w.created_at, h.start_utc AS offer_start, "          \
    "h.end_utc AS offer_end, IF(h.held_until > UTC_TIMESTAMP(), h.held_until, NULL) "              \
    "AS offer_until, " APPT_AGENDA_COLS
#define WAIT_FROM                                                                                  \
    "appt_waitlist w JOIN appt_agendas a ON a.id = w.agenda_id "                                   \
    "LEFT JOIN practitioners p ON p.id = a.practitioner_id "                                       \
    "LEFT JOIN appt_appointments h ON h.waitlist_id = w.id AND h.status = 'held' "

static json_t *wait_item(json_t *r)
{
    json_t *agenda = appt_agenda_json(r);
    const char *until = portail_row_str(r, "offer_until");
    json_t *offer = until ? json_pack("{s:O, s:O, s:O}", "start", json_object_get(r, "offer_start"),
                                      "end", json_object_get(r, "offer_end"), "until",
                                      json_object_get(r, "offer_until"))
                          : json_null();
    return json_pack("{s:O, s:o, s:O, s:s, s:O, s:O, s:o}", "id", json_object_get(r, "id"),
                     "agenda", agenda, "kind", json_object_get(r, "kind"), "kind_label",
                     appt_kind_label(portail_row_str(r, "kind")), "before",
                     json_object_get(r, "before"), "created_at", json_object_get(r, "created_at"),
                     "offer", offer);
}

/* ---- GET /api/v1/appointments/waitlist ------------------------------------------ */
void appt_waitlist_list(portail_ctx_t *ctx)
{
    json_t *rows = portail_member_rows(ctx,
                                       "SELECT " WAIT_COLS "FROM " WAIT_FROM
                                       "WHERE w.member_id = {member} AND w.status = 'waiting' "
                                       "ORDER BY w.created_at, w.id LIMIT 50",
                                       "");
    if (!rows) {
        appt_fail(ctx);
        return;
    }
    json_t *items = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_array_append_new(items, wait_item(r));
    }
    portail_respond_json(ctx, 200, json_pack("{s:o}", "items", items));
}

/* The entry's transaction: the waiting entries counted with the member's
 * row locked (count_locked), the INSERT. Without the lock two adds at once
 * both counted WAITLIST_MAX - 1 and both inserted. Rerun whole on a
 * 1213/1205 (portail_tx_retry). */
typedef struct wait_add {
    long long agenda;
    const char *kind, *before;
    int64_t id; /* out */
} wait_add_t;

static int waitlist_add_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    wait_add_t *w = arg;
    long long n = count_locked(ctx, "SELECT COUNT(*) AS n FROM appt_waitlist "
                                    "WHERE member_id = {member} AND status = 'waiting'");
    if (n < 0)
        return -1;
    if (n >= WAITLIST_MAX) {
        portail_problem(ctx, 409, NULL, TXT_APPOINTMENTS_MAXIMUM_LISTES_ATTENTE);
        return -1;
    }
    if (portail_member_exec(ctx,
                            "INSERT INTO appt_waitlist (member_id, agenda_id, kind, before_date) "
                            "VALUES ({member}, ?, ?, ?)",
                            "lss", w->agenda, w->kind, w->before) != 1)
        return -1;
    w->id = (int64_t)portail_db_insert_id(db);
    return 0;
}

/* ---- POST /api/v1/appointments/waitlist {agenda, kind, before} ----------------- */
void appt_waitlist_add(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    json_t *ag = json_object_get(body, "agenda");
    if (!json_is_integer(ag) || json_integer_value(ag) <= 0)
        portail_field_error(&errors, "agenda", TXT_APPOINTMENTS_CHOISISSEZ_AGENDA);
    const char *kind = json_string_value(json_object_get(body, "kind"));
    if (!appt_is_kind(kind))
        portail_field_error(&errors, "kind", TXT_APPOINTMENTS_CHOISISSEZ_TYPE);
    const char *before = json_string_value(json_object_get(body, "before"));
    int64_t bd = appt_parse_date(before), today;
    int minute;
    appt_utc_to_paris(appt_now(), &today, &minute);
    if (bd < 0)
        portail_field_error(&errors, "before", TXT_APPOINTMENTS_DATE_ATTENDUE);
    else if (bd <= today || bd > today + 366)
        portail_field_error(&errors, "before", TXT_APPOINTMENTS_DATE_DANS_L_ANNEE);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *agenda = load_agenda_row(db, json_integer_value(ag));
    if (!agenda || !appt_kind_minutes(agenda, kind)) {
        if (portail_db_failed(db)) {
            appt_fail(ctx);
            return;
        }
        portail_field_error(&errors, agenda ? "kind" : "agenda",
                            agenda ? TXT_APPOINTMENTS_TYPE_NON_PROPOSE
                                   : TXT_APPOINTMENTS_AGENDA_INCONNU);
        portail_problem_fields(ctx, errors);
        return;
    }
    wait_add_t w = {.agenda = json_integer_value(ag), .kind = kind, .before = before};
    if (portail_tx_retry(ctx, waitlist_add_tx, &w) != 0)
        return;
    json_t *r = portail_member_row(
        ctx, "SELECT " WAIT_COLS "FROM " WAIT_FROM "WHERE w.id = ? AND w.member_id = {member}", "l",
        (long long)w.id);
    if (!r) {
        appt_fail(ctx);
        return;
    }
    portail_respond_json(ctx, 201, wait_item(r));
}

/* ---- DELETE /api/v1/appointments/waitlist/{id} --------------------------------
 * A slot held for this entry is freed for the next person. Rerun whole on
 * a 1213/1205 (portail_tx_retry): the held row is also the offer jobs'. */
static int waitlist_remove_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const int64_t id = *(const int64_t *)arg;
    long long n = portail_member_exec(ctx,
                                      "UPDATE appt_waitlist SET status = 'removed' WHERE id = ? "
                                      "AND member_id = {member} AND status = 'waiting'",
                                      "l", (long long)id);
    if (n == 0) {
        portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_DEMANDE_INCONNUE);
        return -1;
    }
    json_t *held = n == 1 ? portail_db_row(db,
                                           "SELECT id, agenda_id, kind, "
                                           "UNIX_TIMESTAMP(start_utc) AS start "
                                           "FROM appt_appointments WHERE waitlist_id = ? "
                                           "AND status = 'held' FOR UPDATE",
                                           "l", (long long)id)
                          : NULL;
    if (n != 1 || (!held && portail_db_failed(db)) ||
        (held &&
         (portail_db_exec(db, "DELETE FROM appt_appointments WHERE id = ?", "l",
                          portail_row_int(held, "id", 0)) != 1 ||
          appt_slot_freed(db, portail_row_int(held, "agenda_id", 0), portail_row_str(held, "kind"),
                          portail_row_int(held, "start", 0)) != 0)))
        return -1;
    return 0;
}

void appt_waitlist_remove(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0 ||
        portail_tx_retry(ctx, waitlist_remove_tx, &id) != 0)
        return;
    portail_respond_empty(ctx, 204);
}

/* ---- POST /api/v1/appointments/waitlist/{id}/accept ---------------------------
 * The held row becomes the member's booking (the slot never was free).
 * Rerun whole on a 1213/1205 (portail_tx_retry), as the booking. */
typedef struct accept_tx {
    int64_t id;
    long long held; /* out: the appointment */
} accept_tx_t;

static int waitlist_accept_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    accept_tx_t *t = arg;
    const struct appt_state *st = portail_module_state(ctx);
    json_t *w =
        portail_member_row(ctx,
                           "SELECT w.id, h.id AS held, UNIX_TIMESTAMP(h.start_utc) AS start, "
                           "h.agenda_id, h.held_until > UTC_TIMESTAMP() AS live "
                           "FROM appt_waitlist w LEFT JOIN appt_appointments h "
                           "ON h.waitlist_id = w.id AND h.status = 'held' "
                           "WHERE w.id = ? AND w.member_id = {member} "
                           "AND w.status = 'waiting' FOR UPDATE",
                           "l", (long long)t->id);
    if (!w) {
        if (portail_responded(ctx) || portail_db_failed(db))
            appt_fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_DEMANDE_INCONNUE);
        return -1;
    }
    t->held = portail_row_int(w, "held", 0);
    if (!t->held || !portail_row_int(w, "live", 0)) {
        portail_problem(ctx, 409, NULL, TXT_APPOINTMENTS_OFFRE_EXPIREE);
        return -1;
    }
    int lim = over_limit(ctx, st);
    if (lim != 0)
        return -1;
    if (portail_member_exec(ctx,
                            "UPDATE appt_appointments SET status = 'booked', held_until = NULL, "
                            "updated_at = UTC_TIMESTAMP() WHERE id = ? AND member_id = {member} "
                            "AND status = 'held'",
                            "l", t->held) != 1) {
        if (portail_db_errno(db) == ER_DUP_ENTRY)
            portail_problem(ctx, 409, NULL, TXT_APPOINTMENTS_DEJA_UN_RENDEZ_VOUS_CE_JOUR);
        return -1;
    }
    if (portail_member_exec(ctx,
                            "UPDATE appt_waitlist SET status = 'booked' WHERE id = ? "
                            "AND member_id = {member}",
                            "l", (long long)t->id) != 1 ||
        appt_schedule_reminders(db, st, t->held, portail_row_int(w, "start", 0)) != 0)
        return -1;
    return 0;
}

void appt_waitlist_accept(portail_ctx_t *ctx)
{
    accept_tx_t t = {0};
    if (portail_req_param_i64(ctx, "id", &t.id) != 0 ||
        portail_tx_retry(ctx, waitlist_accept_tx, &t) != 0)
        return;
    respond_mine(ctx, 201, t.held);
}
