/* Module appointments: shared declarations of its files (README.md). */
#ifndef APPOINTMENTS_H
#define APPOINTMENTS_H

#include <portail/jobs.h>
#include <portail/portail.h>
#include <stdint.h>

/* The longest slot a kind may have (CHECK of appt_kinds.minutes). */
#define APPT_KIND_MAX_MINUTES 240

struct appt_state {
    long long page_max;
    long long max_upcoming;
    long long cutoff_hours;
    long long remind_days;
    long long remind_hours;
    long long offer_minutes;
};

/* ---- Paris time (time.c) --------------------------------------------------
 * Seconds since the epoch, UTC. Days: days since 1970-01-01. */
int64_t appt_days_from_civil(int y, int m, int d);
void appt_civil_from_days(int64_t days, int *y, int *m, int *d);
int appt_weekday(int64_t days); /* 1 Monday .. 7 Sunday */
/* The UTC instant of a Paris wall-clock minute of a day, or -1 when that
 * local time does not exist (spring forward); an ambiguous one (autumn)
 * gives its first occurrence. */
int64_t appt_paris_to_utc(int64_t days, int minute);
/* The Paris day and minute of the day of a UTC instant. */
void appt_utc_to_paris(int64_t t, int64_t *days, int *minute);
/* "YYYY-MM-DD" -> days; -1 when malformed or not a real date. */
int64_t appt_parse_date(const char *s);
/* "YYYY-MM-DDTHH:MM:SSZ" (optionally ".000" before Z) or the database's
 * form; -1 when malformed. */
int64_t appt_parse_utc(const char *s);
const char *appt_fmt_utc(portail_arena_t *a, int64_t t); /* ...Z */
/* The same text into buf, its length. */
#define APPT_UTC_BUF 32
size_t appt_fmt_utc_buf(char buf[APPT_UTC_BUF], int64_t t);
const char *appt_fmt_sql(portail_arena_t *a, int64_t t);     /* YYYY-MM-DD HH:MM:SS */
const char *appt_fmt_date(portail_arena_t *a, int64_t days); /* YYYY-MM-DD */
/* "jeudi 3 décembre 2026" and "09:30", Paris time. */
const char *appt_fmt_paris_day(portail_arena_t *a, int64_t t);
const char *appt_fmt_paris_time(portail_arena_t *a, int64_t t);
int64_t appt_now(void);

/* ---- shared (appointments.c) ---------------------------------------------- */
void appt_fail(portail_ctx_t *ctx);
int appt_is_kind(const char *s);
const char *appt_kind_label(const char *kind);
/* The agenda's columns a, p joined (appt_agendas a LEFT JOIN practitioners p). */
#define APPT_AGENDA_COLS                                                                           \
    "a.id AS agenda_id, IF(a.practitioner_id IS NULL, 'office', 'practitioner') AS agenda_type, "  \
    "COALESCE(CONCAT('Dr ', p.first_name, ' ', p.last_name), a.office_name) AS agenda_name, "      \
    "COALESCE(p.specialty, 'Accueil de la caisse') AS agenda_specialty, "                          \
    "COALESCE(p.address_line, a.office_address) AS agenda_address, "                               \
    "COALESCE(p.postal_code, a.office_postal_code) AS agenda_postal_code, "                        \
    "COALESCE(p.city, a.office_city) AS agenda_city, a.practitioner_id, a.horizon_days, "          \
    "(SELECT GROUP_CONCAT(CONCAT(k.kind, ':', k.minutes) ORDER BY k.kind SEPARATOR ',') "          \
    "FROM appt_kinds k WHERE k.agenda_id = a.id) AS agenda_kinds "
#define APPT_AGENDA_FROM "appt_agendas a LEFT JOIN practitioners p ON p.id = a.practitioner_id "
/* Moves the agenda_* columns of row into an agenda object (the API's). */
json_t *appt_agenda_json(json_t *row);
/* The same object written to w from a list's row (portail_member_rows_json). */
int appt_agenda_write(portail_jw_t *w, portail_dbrow_t *row);
/* Minutes of kind on the agenda row's agenda_kinds, 0 when not offered. */
int appt_kind_minutes(const json_t *row, const char *kind);

/* Checks that start is a slot of the agenda (row as APPT_AGENDA_COLS) for
 * kind: one its hours give, in the future, within the horizon, not in a
 * closure. 0 with *end and *day set, or -1 with a French reason in *why. */
int appt_slot_valid(portail_db_t *db, const json_t *agenda, const char *kind, int64_t start,
                    int64_t *end, int64_t *day, const char **why);

/* ---- appointments (booking.c) ---------------------------------------------- */
void appt_book(portail_ctx_t *ctx);
void appt_list(portail_ctx_t *ctx);
void appt_get(portail_ctx_t *ctx);
void appt_move(portail_ctx_t *ctx);
void appt_cancel(portail_ctx_t *ctx);
void appt_beneficiaries(portail_ctx_t *ctx);
void appt_waitlist_list(portail_ctx_t *ctx);
void appt_waitlist_add(portail_ctx_t *ctx);
void appt_waitlist_remove(portail_ctx_t *ctx);
void appt_waitlist_accept(portail_ctx_t *ctx);
int appt_summary(portail_ctx_t *ctx, void **card);
#define APPT_COLS                                                                                  \
    "x.id, x.member_id, x.kind, x.start_utc AS start, x.end_utc AS end, x.beneficiary_id, "        \
    "CONCAT(bb.first_name, ' ', bb.last_name) AS beneficiary, x.reason, "                          \
    "x.status, x.sequence, x.cancel_reason, x.created_at, x.updated_at, "                          \
    "x.held_until, " APPT_AGENDA_COLS
#define APPT_FROM                                                                                  \
    "appt_appointments x JOIN appt_agendas a ON a.id = x.agenda_id "                               \
    "LEFT JOIN practitioners p ON p.id = a.practitioner_id "                                       \
    "LEFT JOIN beneficiaries bb ON bb.id = x.beneficiary_id "
/* Queues the reminders of a (re)booked appointment, in db's transaction. */
int appt_schedule_reminders(portail_db_t *db, const struct appt_state *st, int64_t id,
                            int64_t start);
/* Cancels the queued reminder jobs of an appointment, in db's transaction. */
int appt_unschedule_reminders(portail_db_t *db, int64_t id);
/* A slot was freed: queues the waitlist offer job, in db's transaction. */
int appt_slot_freed(portail_db_t *db, int64_t agenda, const char *kind, int64_t start);

/* ---- calendar file (ics.c) ----------------------------------------------- */
void appt_ics(portail_ctx_t *ctx);

/* ---- back office (backoffice.c) -------------------------------------------- */
void appt_bo_agendas(portail_ctx_t *ctx);
void appt_bo_day(portail_ctx_t *ctx);
void appt_bo_cancel(portail_ctx_t *ctx);
void appt_bo_done(portail_ctx_t *ctx);
void appt_bo_no_show(portail_ctx_t *ctx);
void appt_bo_closure(portail_ctx_t *ctx);

/* ---- jobs (jobs.c) ----------------------------------------------------------- */
int appt_job_remind(portail_job_t *job);
int appt_job_offer(portail_job_t *job);
int appt_job_offer_expire(portail_job_t *job);
int appt_hook_member_deleted(portail_db_t *db, const portail_hook_args_t *args, void *state);

#endif
