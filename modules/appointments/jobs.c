/* Jobs of the module: reminders (J-2, H-2), waitlist offers and their
 * expiry; and the member-deletion hook. Every job is idempotent: it checks
 * the state it was queued for and does nothing when that has changed. */
#include <portail/mail.h>
#include <portail/notify.h>
#include <string.h>

#include "appointments.h"
#include <portail/texts.h>

#define ER_DUP_ENTRY 1062

static long long pint(portail_job_t *job, const char *key)
{
    return (long long)json_integer_value(json_object_get(portail_job_payload(job), key));
}

#define PLACE_COLS                                                                                 \
    "COALESCE(CONCAT('Dr ', p.first_name, ' ', p.last_name), a.office_name) AS place, "            \
    "CONCAT(COALESCE(p.address_line, a.office_address), ', ', "                                    \
    "COALESCE(p.postal_code, a.office_postal_code), ' ', COALESCE(p.city, a.office_city)) "        \
    "AS address "

/* Sent once per (appointment, which, start): only while the appointment is
 * still booked at the start the reminder was queued for, so that a moved
 * or cancelled one sends nothing (a move queues its own). Each job's
 * transaction is rerun whole on a 1213/1205 (portail_db_tx_retry, a job
 * answers nobody) rather than after the job's backoff: on a Galera cluster
 * a member's change through another node to the same rows aborts it at
 * COMMIT. The mails are queued in the outbox inside it. */
typedef struct remind_tx {
    const struct appt_state *st;
    portail_arena_t *a;
    long long id, start;
    const char *which;
} remind_tx_t;

static int remind_tx(portail_db_t *db, void *arg)
{
    const remind_tx_t *t = arg;
    json_t *r = portail_db_row(db,
                               "SELECT x.member_id, m.email, " PLACE_COLS
                               "FROM appt_appointments x JOIN members m ON m.id = x.member_id "
                               "JOIN appt_agendas a ON a.id = x.agenda_id "
                               "LEFT JOIN practitioners p ON p.id = a.practitioner_id "
                               "WHERE x.id = ? AND x.status = 'booked' "
                               "AND x.start_utc = FROM_UNIXTIME(?) "
                               "AND x.start_utc > UTC_TIMESTAMP() FOR UPDATE",
                               "ll", t->id, t->start);
    if (!r)
        return portail_db_failed(db) ? -1 : 0;
    long long n = portail_db_exec(db,
                                  "INSERT IGNORE INTO appt_reminders (appointment_id, which, "
                                  "start_utc) VALUES (?, ?, FROM_UNIXTIME(?))",
                                  "lsl", t->id, t->which, t->start);
    if (n <= 0)
        return n < 0 ? -1 : 0;
    portail_arena_t *a = t->a;
    const char *date = appt_fmt_paris_day(a, t->start), *time = appt_fmt_paris_time(a, t->start);
    const char *place = portail_row_str(r, "place"), *address = portail_row_str(r, "address");
    const char *vars[] = {
        "date", date,      "time",  time,     "place",
        place,  "address", address, "cutoff", portail_sprintf(a, "%lld", t->st->cutoff_hours),
        NULL};
    return portail_notify_mail(
        db, portail_row_int(r, "member_id", 0), "appointments.reminder",
        TXT_APPOINTMENTS_RAPPEL_TITRE,
        portail_sprintf(a, TXT_APPOINTMENTS_RAPPEL_TEXTE, date, time, place, address),
        "/appointments/", "appointment_reminder", vars);
}

int appt_job_remind(portail_job_t *job)
{
    remind_tx_t t = {.st = portail_job_state(job),
                     .a = portail_job_arena(job),
                     .id = pint(job, "appointment"),
                     .start = pint(job, "start"),
                     .which =
                         json_string_value(json_object_get(portail_job_payload(job), "which"))};
    portail_db_t *db = portail_job_db(job);
    if (!db || t.id <= 0 || t.start <= 0 || !t.which ||
        (strcmp(t.which, "days") != 0 && strcmp(t.which, "hours") != 0)) {
        portail_job_set_error(job, "bad payload or no database");
        return -1;
    }
    if (portail_db_tx_retry(db, remind_tx, &t, NULL) != 0) {
        portail_job_set_error(job, "reminder not recorded");
        return -1;
    }
    return 0;
}

/* A freed slot goes to the first waiting member (by request time) whose
 * date limit is after it and who was not offered it yet: the slot is held
 * for them (a 'held' row, counted by the UNIQUE key) for offer_minutes. */
typedef struct offer_tx {
    const struct appt_state *st;
    portail_arena_t *a;
    json_t *agenda;
    long long agenda_id, start;
    const char *kind;
    int64_t end, day;
    int none; /* out: nothing to offer, rolled back */
} offer_tx_t;

static int offer_tx(portail_db_t *db, void *arg)
{
    offer_tx_t *t = arg;
    const struct appt_state *st = t->st;
    portail_arena_t *a = t->a;
    long long agenda_id = t->agenda_id, start = t->start;
    t->none = 0;
    json_t *w = portail_db_row(
        db,
        "SELECT w.id, w.member_id, m.email FROM appt_waitlist w "
        "JOIN members m ON m.id = w.member_id "
        "WHERE w.agenda_id = ? AND w.kind = ? AND w.status = 'waiting' AND w.before_date > ? "
        "AND NOT EXISTS (SELECT 1 FROM appt_offers o WHERE o.waitlist_id = w.id "
        "AND o.start_utc = FROM_UNIXTIME(?)) "
        "AND NOT EXISTS (SELECT 1 FROM appt_appointments h WHERE h.waitlist_id = w.id "
        "AND h.status = 'held') ORDER BY w.created_at, w.id LIMIT 1 FOR UPDATE",
        "lssl", agenda_id, t->kind, appt_fmt_date(a, t->day), start);
    if (!w)
        return portail_db_failed(db) ? -1 : 0;
    long long wid = portail_row_int(w, "id", 0), member = portail_row_int(w, "member_id", 0);
    if (portail_db_exec(db,
                        "INSERT INTO appt_appointments (member_id, agenda_id, kind, start_utc, "
                        "end_utc, local_day, status, waitlist_id, held_until) VALUES (?, ?, ?, "
                        "FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, 'held', ?, "
                        "UTC_TIMESTAMP() + INTERVAL ? MINUTE)",
                        "llsllsll", member, agenda_id, t->kind, start, (long long)t->end,
                        appt_fmt_date(a, t->day), wid, st->offer_minutes) != 1) {
        /* Taken meanwhile: nothing to offer. */
        t->none = portail_db_errno(db) == ER_DUP_ENTRY;
        return -1;
    }
    long long held = (long long)portail_db_insert_id(db);
    json_t *over =
        portail_db_row(db,
                       "SELECT COUNT(*) AS n FROM appt_appointments WHERE agenda_id = ? "
                       "AND id <> ? AND status IN ('booked', 'held') "
                       "AND start_utc > FROM_UNIXTIME(?) "
                       "AND start_utc < FROM_UNIXTIME(?) "
                       "AND end_utc > FROM_UNIXTIME(?) FOR UPDATE",
                       "lllll", agenda_id, held, (long long)(start - APPT_KIND_MAX_MINUTES * 60),
                       (long long)t->end, start);
    if (!over || portail_row_int(over, "n", 0) > 0) {
        t->none = over != NULL;
        return -1;
    }
    int64_t until = appt_now() + st->offer_minutes * 60;
    const char *date = appt_fmt_paris_day(a, start), *time = appt_fmt_paris_time(a, start);
    const char *place = portail_row_str(t->agenda, "place");
    const char *address = portail_row_str(t->agenda, "address");
    const char *until_s = appt_fmt_paris_time(a, until);
    const char *vars[] = {"date",    date,    "time",  time,    "place", place,
                          "address", address, "until", until_s, NULL};
    json_t *p = json_pack("{s:I}", "appointment", (json_int_t)held);
    int bad = portail_db_exec(db,
                              "INSERT IGNORE INTO appt_offers (waitlist_id, agenda_id, start_utc) "
                              "VALUES (?, ?, FROM_UNIXTIME(?))",
                              "lll", wid, agenda_id, start) < 0 ||
              portail_notify_mail(
                  db, member, "appointments.offer", TXT_APPOINTMENTS_OFFRE_TITRE,
                  portail_sprintf(a, TXT_APPOINTMENTS_OFFRE_TEXTE, date, time, place, until_s),
                  "/appointments/", "appointment_offer", vars) != 0 ||
              !p ||
              portail_job_enqueue(db, "appointments.offer_expire", p, st->offer_minutes * 60 + 1,
                                  NULL) != 0;
    json_decref(p);
    return bad ? -1 : 0;
}

int appt_job_offer(portail_job_t *job)
{
    offer_tx_t t = {.st = portail_job_state(job),
                    .a = portail_job_arena(job),
                    .agenda_id = pint(job, "agenda"),
                    .start = pint(job, "start"),
                    .kind = json_string_value(json_object_get(portail_job_payload(job), "kind"))};
    portail_db_t *db = portail_job_db(job);
    if (!db || t.agenda_id <= 0 || t.start <= 0 || !appt_is_kind(t.kind)) {
        portail_job_set_error(job, "bad payload or no database");
        return -1;
    }
    t.agenda = portail_db_row(
        db, "SELECT " APPT_AGENDA_COLS ", " PLACE_COLS "FROM " APPT_AGENDA_FROM "WHERE a.id = ?",
        "l", t.agenda_id);
    if (!t.agenda)
        return portail_db_failed(db) ? -1 : 0;
    const char *why = NULL;
    int v = appt_slot_valid(db, t.agenda, t.kind, t.start, &t.end, &t.day, &why);
    if (v != 0)
        return v == -1 ? 0 : -1; /* no longer a slot: past, closed... */
    if (portail_db_tx_retry(db, offer_tx, &t, NULL) != 0 && !t.none) {
        portail_job_set_error(job, "offer not recorded");
        return -1;
    }
    return 0;
}

/* An offer not accepted in time: the held slot is freed and offered to the
 * next waiting member. Nothing when it was accepted or withdrawn. */
typedef struct expire_tx {
    long long id;
    int early; /* out: not due yet, rolled back */
} expire_tx_t;

static int expire_tx(portail_db_t *db, void *arg)
{
    expire_tx_t *t = arg;
    t->early = 0;
    json_t *h = portail_db_row(db,
                               "SELECT agenda_id, kind, UNIX_TIMESTAMP(start_utc) AS start, "
                               "held_until <= UTC_TIMESTAMP() AS due FROM appt_appointments "
                               "WHERE id = ? AND status = 'held' FOR UPDATE",
                               "l", t->id);
    if (!h)
        return portail_db_failed(db) ? -1 : 0;
    if (!portail_row_int(h, "due", 0)) {
        t->early = 1;
        return -1;
    }
    if (portail_db_exec(db, "DELETE FROM appt_appointments WHERE id = ? AND status = 'held'", "l",
                        t->id) != 1 ||
        appt_slot_freed(db, portail_row_int(h, "agenda_id", 0), portail_row_str(h, "kind"),
                        portail_row_int(h, "start", 0)) != 0)
        return -1;
    return 0;
}

int appt_job_offer_expire(portail_job_t *job)
{
    expire_tx_t t = {.id = pint(job, "appointment")};
    portail_db_t *db = portail_job_db(job);
    if (!db || t.id <= 0) {
        portail_job_set_error(job, "bad payload or no database");
        return -1;
    }
    if (portail_db_tx_retry(db, expire_tx, &t, NULL) != 0) {
        portail_job_set_error(job, t.early ? "offer not expired yet" : "held slot not freed");
        return -1;
    }
    return 0;
}

int appt_hook_member_deleted(portail_db_t *db, const portail_hook_args_t *args, void *state)
{
    (void)state;
    long long m = (long long)args->member_id;
    return portail_db_exec(db,
                           "DELETE r FROM appt_reminder_jobs r JOIN appt_appointments x "
                           "ON x.id = r.appointment_id WHERE x.member_id = ?",
                           "l", m) < 0 ||
                   portail_db_exec(db,
                                   "DELETE r FROM appt_reminders r JOIN appt_appointments x "
                                   "ON x.id = r.appointment_id WHERE x.member_id = ?",
                                   "l", m) < 0 ||
                   portail_db_exec(db, "DELETE FROM appt_appointments WHERE member_id = ?", "l",
                                   m) < 0 ||
                   portail_db_exec(db,
                                   "DELETE o FROM appt_offers o JOIN appt_waitlist w "
                                   "ON w.id = o.waitlist_id WHERE w.member_id = ?",
                                   "l", m) < 0 ||
                   portail_db_exec(db, "DELETE FROM appt_waitlist WHERE member_id = ?", "l", m) < 0
               ? -1
               : 0;
}
