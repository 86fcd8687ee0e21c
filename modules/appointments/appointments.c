/* Module appointments: "Prendre un rendez-vous". Agendas of practitioners
 * (the core's directory) and fund offices, their free slots in Paris time
 * exchanged in UTC, bookings that the database keeps from being doubled
 * (sql/001_appointments.sql), moves, cancellations with a cutoff, calendar
 * files, reminders, a waitlist with held offers, and the back office's day
 * view and closures. Member data goes through portail_member_* ({member}):
 * another member's appointment is a 404. */
#include <portail/notify.h>
#include <portail/practitioners.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appointments.h"
#include <portail/texts.h>

#define PAGE_DEFAULT 20
#define MAX_DAYS 31
#define FILTER_MAX 100

static const portail_setting_t settings[] = {
    {.name = "page_max", .type = PORTAIL_SETTING_INT, .min = 1, .max = 500, .def_int = 100},
    {.name = "max_upcoming", .type = PORTAIL_SETTING_INT, .min = 1, .max = 100, .def_int = 5},
    {.name = "change_cutoff_hours",
     .type = PORTAIL_SETTING_INT,
     .min = 0,
     .max = 336,
     .def_int = 24},
    {.name = "remind_days", .type = PORTAIL_SETTING_INT, .min = 0, .max = 30, .def_int = 2},
    {.name = "remind_hours", .type = PORTAIL_SETTING_INT, .min = 0, .max = 72, .def_int = 2},
    {.name = "offer_minutes", .type = PORTAIL_SETTING_INT, .min = 1, .max = 1440, .def_int = 15},
    {0},
};

static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_MEMBER,
     .label = TXT_APPOINTMENTS_MES_RENDEZ_VOUS,
     .href = "/appointments/",
     .text = TXT_APPOINTMENTS_DESCRIPTION,
     .order = 30},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = TXT_APPOINTMENTS_MENU_AGENT,
     .href = "/appointments/backoffice.html",
     .text = TXT_APPOINTMENTS_DESCRIPTION_AGENT,
     .permission = "appointments.manage",
     .order = 40},
    {0},
};

static const portail_permission_t permissions[] = {
    {.name = "appointments.manage",
     .description = TXT_APPOINTMENTS_PERMISSION_MANAGE,
     .default_agent = 1},
    {0},
};

static const portail_job_kind_t jobs[] = {
    {.name = "appointments.remind", .handler = appt_job_remind},
    {.name = "appointments.waitlist_offer", .handler = appt_job_offer},
    {.name = "appointments.offer_expire", .handler = appt_job_offer_expire},
    {0},
};

static const portail_hook_t hooks[] = {
    {.event = PORTAIL_HOOK_MEMBER_DELETED, .handler = appt_hook_member_deleted},
    {0},
};

static void agendas(portail_ctx_t *ctx);
static void agenda_get(portail_ctx_t *ctx);
static void slots(portail_ctx_t *ctx);

#define API "/api/v1/appointments"
#define BO "/api/v1/backoffice/appointments"
#define MEMBER(m, p, h)                                                                            \
    {                                                                                              \
        .methods = (m), .pattern = (p), .handler = (h), .auth = PORTAIL_AUTH_MEMBER                \
    }
#define AGENT(m, p, h, au)                                                                         \
    {                                                                                              \
        .methods = (m), .pattern = (p), .handler = (h), .auth = PORTAIL_AUTH_AGENT,                \
        .permission = "appointments.manage", .audit = (au)                                         \
    }

static const portail_route_t routes[] = {
    MEMBER(PORTAIL_GET, API "/agendas", agendas),
    MEMBER(PORTAIL_GET, API "/agendas/{id}", agenda_get),
    MEMBER(PORTAIL_GET, API "/agendas/{id}/slots", slots),
    MEMBER(PORTAIL_GET, API "/beneficiaries", appt_beneficiaries),
    MEMBER(PORTAIL_GET, API "/waitlist", appt_waitlist_list),
    MEMBER(PORTAIL_POST, API "/waitlist", appt_waitlist_add),
    MEMBER(PORTAIL_DELETE, API "/waitlist/{id}", appt_waitlist_remove),
    MEMBER(PORTAIL_POST, API "/waitlist/{id}/accept", appt_waitlist_accept),
    MEMBER(PORTAIL_POST, API, appt_book),
    MEMBER(PORTAIL_GET, API, appt_list),
    MEMBER(PORTAIL_GET, API "/{id}", appt_get),
    MEMBER(PORTAIL_POST, API "/{id}/move", appt_move),
    MEMBER(PORTAIL_POST, API "/{id}/cancel", appt_cancel),
    AGENT(PORTAIL_GET, BO "/agendas", appt_bo_agendas, NULL),
    AGENT(PORTAIL_GET, BO "/agendas/{id}/day", appt_bo_day, "appointments.day.read"),
    AGENT(PORTAIL_POST, BO "/agendas/{id}/closures", appt_bo_closure, "appointments.closure"),
    AGENT(PORTAIL_POST, BO "/{id}/cancel", appt_bo_cancel, "appointments.cancel"),
    AGENT(PORTAIL_POST, BO "/{id}/done", appt_bo_done, "appointments.done"),
    AGENT(PORTAIL_POST, BO "/{id}/no_show", appt_bo_no_show, "appointments.no_show"),
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    struct appt_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "appointments: out of memory");
        return -1;
    }
    st->page_max = portail_settings_int(s, "page_max");
    st->max_upcoming = portail_settings_int(s, "max_upcoming");
    st->cutoff_hours = portail_settings_int(s, "change_cutoff_hours");
    st->remind_days = portail_settings_int(s, "remind_days");
    st->remind_hours = portail_settings_int(s, "remind_hours");
    st->offer_minutes = portail_settings_int(s, "offer_minutes");
    if (portail_notify_kind("appointments.reminder", TXT_APPOINTMENTS_NOTIFICATION_RAPPELS) != 0 ||
        portail_notify_kind("appointments.change", TXT_APPOINTMENTS_NOTIFICATION_ANNULATIONS) !=
            0 ||
        portail_notify_kind("appointments.offer",
                            TXT_APPOINTMENTS_NOTIFICATION_CRENEAUX_PLUS_TOT) != 0) {
        free(st);
        snprintf(err, errlen, "appointments: notification kind refused");
        return -1;
    }
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

PORTAIL_MODULE_INIT(.name = "appointments", .version = "1.0.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes, .nav = nav, .permissions = permissions,
                    .jobs = jobs, .hooks = hooks, .summary = appt_summary);

void appt_fail(portail_ctx_t *ctx)
{
    if (!portail_responded(ctx))
        portail_problem(ctx, 500, NULL, NULL);
}

static const char *const KINDS[] = {"first", "followup", "adviser", NULL};
static const char *const KIND_LABELS[] = {TXT_APPOINTMENTS_PREMIERE_CONSULTATION,
                                          TXT_APPOINTMENTS_CONSULTATION_DE_SUIVI,
                                          TXT_APPOINTMENTS_RENDEZ_VOUS_CONSEILLER, NULL};

int appt_is_kind(const char *s)
{
    for (int i = 0; s && KINDS[i]; i++)
        if (strcmp(s, KINDS[i]) == 0)
            return 1;
    return 0;
}

const char *appt_kind_label(const char *kind)
{
    for (int i = 0; kind && KINDS[i]; i++)
        if (strcmp(kind, KINDS[i]) == 0)
            return KIND_LABELS[i];
    return "";
}

/* The minutes of kind in an agenda_kinds text ("first:20,followup:15"),
 * 0 when the agenda has no such visit. */
static int kinds_minutes(const char *s, const char *kind)
{
    size_t n = strlen(kind);
    while (s && *s) {
        if (strncmp(s, kind, n) == 0 && s[n] == ':')
            return atoi(s + n + 1);
        s = strchr(s, ',');
        if (s)
            s++;
    }
    return 0;
}

int appt_kind_minutes(const json_t *row, const char *kind)
{
    return kinds_minutes(portail_row_str(row, "agenda_kinds"), kind);
}

/* Set by hand rather than with json_pack, whose format is parsed anew for
 * each object: a list page of 20 appointments makes 80 of these objects
 * (callgrind: json_pack was a sixth of the page). Same keys, same order. */
json_t *appt_agenda_json(json_t *row)
{
    json_t *kinds = json_array();
    for (int i = 0; KINDS[i]; i++) {
        int min = appt_kind_minutes(row, KINDS[i]);
        if (min <= 0)
            continue;
        json_t *k = json_object();
        json_object_set_new_nocheck(k, "code", json_string(KINDS[i]));
        json_object_set_new_nocheck(k, "label", json_string(KIND_LABELS[i]));
        json_object_set_new_nocheck(k, "minutes", json_integer(min));
        json_array_append_new(kinds, k);
    }
    static const char *const keys[][2] = {{"id", "agenda_id"},
                                          {"kind", "agenda_type"},
                                          {"name", "agenda_name"},
                                          {"specialty", "agenda_specialty"},
                                          {"address_line", "agenda_address"},
                                          {"postal_code", "agenda_postal_code"},
                                          {"city", "agenda_city"}};
    json_t *o = json_object();
    for (size_t i = 0; o && i < sizeof keys / sizeof *keys; i++) {
        json_t *v = json_object_get(row, keys[i][1]);
        if (!v) { /* as json_pack's "O" of NULL: no object */
            json_decref(o);
            o = NULL;
        } else {
            json_object_set_nocheck(o, keys[i][0], v);
        }
    }
    if (o)
        json_object_set_new_nocheck(o, "visit_kinds", kinds);
    else
        json_decref(kinds);
    const char *const drop[] = {
        "agenda_id",          "agenda_type", "agenda_name",  "agenda_specialty", "agenda_address",
        "agenda_postal_code", "agenda_city", "agenda_kinds", "practitioner_id",  "horizon_days"};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        json_object_del(row, drop[i]);
    return o;
}

/* The same members in the same order as appt_agenda_json. */
int appt_agenda_write(portail_jw_t *w, portail_dbrow_t *row)
{
    portail_jw_open(w, '{');
    portail_dbrow_field(w, row, "id", "agenda_id");
    portail_dbrow_field(w, row, "kind", "agenda_type");
    portail_dbrow_field(w, row, "name", "agenda_name");
    portail_dbrow_field(w, row, "specialty", "agenda_specialty");
    portail_dbrow_field(w, row, "address_line", "agenda_address");
    portail_dbrow_field(w, row, "postal_code", "agenda_postal_code");
    portail_dbrow_field(w, row, "city", "agenda_city");
    portail_jw_key(w, "visit_kinds");
    portail_jw_open(w, '[');
    const char *kinds = portail_dbrow_str(row, "agenda_kinds");
    for (int i = 0; KINDS[i]; i++) {
        int min = kinds_minutes(kinds, KINDS[i]);
        if (min <= 0)
            continue;
        portail_jw_open(w, '{');
        portail_jw_key(w, "code");
        portail_jw_str(w, KINDS[i]);
        portail_jw_key(w, "label");
        portail_jw_str(w, KIND_LABELS[i]);
        portail_jw_key(w, "minutes");
        portail_jw_int(w, min);
        portail_jw_close(w, '}');
    }
    portail_jw_close(w, ']');
    return portail_jw_close(w, '}');
}

/* The practitioner id of the member's médecin traitant, 0 when none, -1 on
 * error (a 500 set). */
static long long my_doctor(portail_ctx_t *ctx)
{
    json_t *m = portail_member_row(ctx, "SELECT insured_id FROM members WHERE id = {member}", "");
    if (!m) {
        appt_fail(ctx);
        return -1;
    }
    portail_db_t *db = portail_db(ctx);
    json_t *d = portail_member_doctor(db, portail_row_int(m, "insured_id", 0));
    if (!d && portail_db_failed(db)) {
        appt_fail(ctx);
        return -1;
    }
    return d ? portail_row_int(d, "id", 0) : 0;
}

static json_t *agenda_item(json_t *row, long long doctor)
{
    long long pid = portail_row_int(row, "practitioner_id", 0);
    json_t *o = appt_agenda_json(row);
    json_object_set_new(o, "is_my_doctor", json_boolean(doctor > 0 && pid == doctor));
    return o;
}

#define AGENDA_FILTER                                                                              \
    "AND (? = '' OR COALESCE(p.specialty, 'Accueil de la caisse') = ?) "                           \
    "AND (? = '' OR COALESCE(p.city, a.office_city) = ?) "                                         \
    "AND (? = '' OR COALESCE(p.postal_code, a.office_postal_code) = ?) "                           \
    "AND (? = '' OR COALESCE(p.last_name, a.office_name) LIKE "                                    \
    "CONCAT(REPLACE(REPLACE(?, '%', ''), '_', ''), '%')) "                                         \
    "AND (? = '' OR IF(a.practitioner_id IS NULL, 'office', 'practitioner') = ?) "

/* ---- GET /api/v1/appointments/agendas?specialty=&city=&postcode=&name=&type=
 * The member's médecin traitant first (first page, when it matches), then
 * every other matching agenda in id order; the cursor is the last id. */
static void agendas(portail_ctx_t *ctx)
{
    const struct appt_state *st = portail_module_state(ctx);
    json_t *errors = NULL;
    const char *names[] = {"specialty", "city", "postcode", "name", "type"};
    const char *v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = portail_req_query(ctx, names[i]);
        if (!v[i])
            v[i] = "";
        if (strlen(v[i]) > FILTER_MAX)
            portail_field_error(&errors, names[i], TXT_APPOINTMENTS_CRITERE_TROP_LONG);
    }
    if (*v[4] && strcmp(v[4], "office") != 0 && strcmp(v[4], "practitioner") != 0)
        portail_field_error(&errors, "type", TXT_APPOINTMENTS_TYPE_AGENDA_ATTENDU);
    long long limit = PAGE_DEFAULT, after = 0;
    const char *cursor = portail_req_query(ctx, "cursor");
    if (cursor && *cursor) {
        char *end = NULL;
        after = strtoll(cursor, &end, 10);
        if (*end || after <= 0 || strlen(cursor) > 19)
            portail_field_error(&errors, "cursor", TXT_APPOINTMENTS_CURSEUR_INVALIDE);
    }
    limit = portail_req_query_int(ctx, "limit", 1, st->page_max, PAGE_DEFAULT, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    long long doctor = my_doctor(ctx);
    if (doctor < 0)
        return;
    portail_db_t *db = portail_db(ctx);
    json_t *rows = portail_db_rows(db,
                                   "SELECT " APPT_AGENDA_COLS "FROM " APPT_AGENDA_FROM
                                   "WHERE a.id > ? AND NOT (a.practitioner_id <=> ?) " AGENDA_FILTER
                                   "ORDER BY a.id LIMIT ?",
                                   "llssssssssssl", after, doctor > 0 ? doctor : -1LL, v[0], v[0],
                                   v[1], v[1], v[2], v[2], v[3], v[3], v[4], v[4], limit + 1);
    json_t *mine = NULL;
    if (rows && after == 0 && doctor > 0)
        mine = portail_db_rows(db,
                               "SELECT " APPT_AGENDA_COLS "FROM " APPT_AGENDA_FROM
                               "WHERE a.practitioner_id = ? " AGENDA_FILTER,
                               "lssssssssss", doctor, v[0], v[0], v[1], v[1], v[2], v[2], v[3],
                               v[3], v[4], v[4]);
    if (!rows || (after == 0 && doctor > 0 && !mine)) {
        appt_fail(ctx);
        return;
    }
    json_t *items = json_array();
    size_t i;
    if (mine) {
        json_t *r;
        json_array_foreach(mine, i, r)
        {
            json_array_append_new(items, agenda_item(r, doctor));
        }
    }
    json_t *next = json_null();
    size_t n = json_array_size(rows);
    if (n > (size_t)limit) {
        n = (size_t)limit;
        next = json_sprintf("%lld", portail_row_int(json_array_get(rows, n - 1), "agenda_id", 0));
    }
    for (i = 0; i < n; i++)
        json_array_append_new(items, agenda_item(json_array_get(rows, i), doctor));
    portail_respond_json(ctx, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

/* The agenda row (APPT_AGENDA_COLS) or NULL with a 404/500 set. */
static json_t *load_agenda(portail_ctx_t *ctx, int64_t id)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return NULL;
    json_t *row =
        portail_db_row(db, "SELECT " APPT_AGENDA_COLS "FROM " APPT_AGENDA_FROM "WHERE a.id = ?",
                       "l", (long long)id);
    if (!row) {
        if (portail_db_failed(db))
            appt_fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_AGENDA_INCONNU);
    }
    return row;
}

/* ---- GET /api/v1/appointments/agendas/{id} ------------------------------- */
static void agenda_get(portail_ctx_t *ctx)
{
    const struct appt_state *st = portail_module_state(ctx);
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *row = load_agenda(ctx, id);
    if (!row)
        return;
    long long horizon = portail_row_int(row, "horizon_days", 0);
    long long doctor = my_doctor(ctx);
    if (doctor < 0)
        return;
    json_t *o = agenda_item(row, doctor);
    json_object_set_new(o, "horizon_days", json_integer(horizon));
    json_object_set_new(o, "change_cutoff_hours", json_integer(st->cutoff_hours));
    json_object_set_new(o, "max_upcoming", json_integer(st->max_upcoming));
    portail_respond_json(ctx, 200, o);
}

struct span {
    int64_t from, to;
};

static struct span *spans(portail_arena_t *a, json_t *rows, const char *k1, const char *k2,
                          size_t *n)
{
    *n = json_array_size(rows);
    struct span *s = portail_alloc(a, sizeof(*s) * (*n + 1));
    for (size_t i = 0; i < *n; i++) {
        json_t *r = json_array_get(rows, i);
        s[i].from = appt_parse_utc(portail_row_str(r, k1));
        s[i].to = appt_parse_utc(portail_row_str(r, k2));
    }
    return s;
}

static int overlaps(const struct span *s, size_t n, int64_t from, int64_t to)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].from < to && s[i].to > from)
            return 1;
    return 0;
}

/* Every slot the hours give for kind on the Paris days [d0, d1], in the
 * future and the horizon, outside closures and taken (or held) ones:
 * appended to out as {start, end}. hours: rows {weekday, opens, closes}. */
static void free_slots(portail_arena_t *a, json_t *hours, int minutes, int64_t d0, int64_t d1,
                       int64_t now, int64_t horizon_end, const struct span *closed, size_t nclosed,
                       const struct span *taken, size_t ntaken, json_t *out)
{
    for (int64_t day = d0; day <= d1; day++) {
        int wd = appt_weekday(day);
        size_t i;
        json_t *h;
        json_array_foreach(hours, i, h)
        {
            if (portail_row_int(h, "weekday", 0) != wd)
                continue;
            int opens = (int)portail_row_int(h, "opens", 0);
            int closes = (int)portail_row_int(h, "closes", 0);
            for (int m = opens; m + minutes <= closes; m += minutes) {
                int64_t u = appt_paris_to_utc(day, m);
                if (u < 0 || u <= now || u >= horizon_end)
                    continue;
                int64_t e = u + (int64_t)minutes * 60;
                if (overlaps(closed, nclosed, u, e) || overlaps(taken, ntaken, u, e))
                    continue;
                json_array_append_new(out, json_pack("{s:s, s:s}", "start", appt_fmt_utc(a, u),
                                                     "end", appt_fmt_utc(a, e)));
            }
        }
    }
}

/* ---- GET /api/v1/appointments/agendas/{id}/slots?from=&to=&kind= ---------- */
static void slots(portail_ctx_t *ctx)
{
    portail_arena_t *a = portail_arena(ctx);
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *errors = NULL;
    int64_t now = appt_now(), today, d0, d1;
    int minute;
    appt_utc_to_paris(now, &today, &minute);
    const char *from = portail_req_query(ctx, "from");
    const char *to = portail_req_query(ctx, "to");
    const char *kind = portail_req_query(ctx, "kind");
    d0 = from && *from ? appt_parse_date(from) : today;
    if (d0 < 0)
        portail_field_error(&errors, "from", TXT_APPOINTMENTS_DATE_ATTENDUE);
    d1 = to && *to ? appt_parse_date(to) : d0 + 6;
    if (d1 < 0)
        portail_field_error(&errors, "to", TXT_APPOINTMENTS_DATE_ATTENDUE);
    else if (d0 >= 0 && (d1 < d0 || d1 - d0 + 1 > MAX_DAYS))
        portail_field_error(&errors, "to", TXT_APPOINTMENTS_PERIODE_INVALIDE);
    if (kind && *kind && !appt_is_kind(kind))
        portail_field_error(&errors, "kind", TXT_APPOINTMENTS_TYPE_INCONNU);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    json_t *agenda = load_agenda(ctx, id);
    if (!agenda)
        return;
    if (!kind || !*kind) {
        kind = appt_kind_minutes(agenda, "first")      ? "first"
               : appt_kind_minutes(agenda, "followup") ? "followup"
                                                       : "adviser";
    }
    int minutes = appt_kind_minutes(agenda, kind);
    if (minutes <= 0) {
        portail_field_error(&errors, "kind", TXT_APPOINTMENTS_TYPE_NON_PROPOSE);
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    /* Midnight always exists in Paris. */
    const char *lo = appt_fmt_sql(a, appt_paris_to_utc(d0, 0));
    const char *hi = appt_fmt_sql(a, appt_paris_to_utc(d1 + 1, 0));
    json_t *hours = portail_db_rows(db,
                                    "SELECT weekday, opens, closes FROM appt_hours "
                                    "WHERE agenda_id = ? ORDER BY weekday, opens",
                                    "l", (long long)id);
    json_t *closures = hours ? portail_db_rows(db,
                                               "SELECT starts_at, ends_at FROM appt_closures "
                                               "WHERE agenda_id = ? AND starts_at < ? "
                                               "AND ends_at > ?",
                                               "lss", (long long)id, hi, lo)
                             : NULL;
    json_t *taken = closures ? portail_db_rows(db,
                                               "SELECT start_utc, end_utc FROM appt_appointments "
                                               "WHERE agenda_id = ? AND status IN "
                                               "('booked', 'held') AND start_utc < ? "
                                               "AND end_utc > ?",
                                               "lss", (long long)id, hi, lo)
                             : NULL;
    if (!taken) {
        appt_fail(ctx);
        return;
    }
    size_t nc, nt;
    struct span *c = spans(a, closures, "starts_at", "ends_at", &nc);
    struct span *t = spans(a, taken, "start_utc", "end_utc", &nt);
    json_t *out = json_array();
    free_slots(a, hours, minutes, d0, d1, now,
               now + portail_row_int(agenda, "horizon_days", 0) * 86400, c, nc, t, nt, out);
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:s, s:s, s:s, s:o}", "agenda_id", (json_int_t)id, "kind",
                                   kind, "from", appt_fmt_date(a, d0), "to", appt_fmt_date(a, d1),
                                   "slots", out));
}

int appt_slot_valid(portail_db_t *db, const json_t *agenda, const char *kind, int64_t start,
                    int64_t *end, int64_t *day, const char **why)
{
    int minutes = appt_kind_minutes(agenda, kind);
    if (minutes <= 0) {
        *why = TXT_APPOINTMENTS_TYPE_NON_PROPOSE;
        return -1;
    }
    int64_t now = appt_now();
    if (start <= now) {
        *why = TXT_APPOINTMENTS_CRENEAU_PASSE;
        return -1;
    }
    if (start >= now + portail_row_int(agenda, "horizon_days", 0) * 86400) {
        *why = TXT_APPOINTMENTS_CRENEAU_TROP_LOIN;
        return -1;
    }
    int minute;
    appt_utc_to_paris(start, day, &minute);
    json_t *hours =
        portail_db_rows(db,
                        "SELECT opens, closes FROM appt_hours "
                        "WHERE agenda_id = ? AND weekday = ?",
                        "li", portail_row_int(agenda, "agenda_id", 0), appt_weekday(*day));
    if (!hours)
        return -2;
    int ok = 0;
    size_t i;
    json_t *h;
    json_array_foreach(hours, i, h)
    {
        int opens = (int)portail_row_int(h, "opens", 0);
        int closes = (int)portail_row_int(h, "closes", 0);
        if (minute >= opens && minute + minutes <= closes && (minute - opens) % minutes == 0)
            ok = 1;
    }
    /* The second reading of the autumn hour is not a slot (its first is). */
    if (!ok || appt_paris_to_utc(*day, minute) != start) {
        *why = TXT_APPOINTMENTS_CRENEAU_NON_PROPOSE;
        return -1;
    }
    *end = start + (int64_t)minutes * 60;
    json_t *closed = portail_db_row(db,
                                    "SELECT id FROM appt_closures WHERE agenda_id = ? "
                                    "AND starts_at < FROM_UNIXTIME(?) "
                                    "AND ends_at > FROM_UNIXTIME(?) LIMIT 1",
                                    "lll", portail_row_int(agenda, "agenda_id", 0), (long long)*end,
                                    (long long)start);
    if (!closed && portail_db_failed(db))
        return -2;
    if (closed) {
        *why = TXT_APPOINTMENTS_AGENDA_FERME_DATE;
        return -1;
    }
    return 0;
}
