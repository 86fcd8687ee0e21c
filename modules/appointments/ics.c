/* GET /api/v1/appointments/{id}.ics: the appointment as an RFC 5545
 * calendar file made with libical. UID stable across changes
 * (appointment-<id>@<host of server.origin>), SEQUENCE the row's change
 * count (a move or a cancellation raises it), STATUS:CANCELLED once
 * cancelled, times in UTC, the place as LOCATION, a display alarm before
 * the start. No medical detail: the summary names the practitioner or the
 * office only (no reason, no kind). */
#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#include "appointments.h"
#include <portail/texts.h>

static const char *uid_host(portail_arena_t *a, const char *origin)
{
    const char *p = origin ? strstr(origin, "://") : NULL;
    if (!p)
        return "portail.invalid";
    p += 3;
    size_t n = strcspn(p, ":/");
    if (n == 0 || n > 200)
        return "portail.invalid";
    return portail_strndup(a, p, n);
}

static struct icaltimetype utc(int64_t t)
{
    return icaltime_from_timet_with_zone((time_t)t, 0, icaltimezone_get_utc_timezone());
}

void appt_ics(portail_ctx_t *ctx)
{
    const struct appt_state *st = portail_module_state(ctx);
    portail_arena_t *a = portail_arena(ctx);
    const char *p = portail_req_param(ctx, "id");
    size_t n = strlen(p) - 4;
    long long id = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || n > 18 || (i == 0 && p[i] == '0')) {
            id = 0;
            break;
        }
        id = id * 10 + (p[i] - '0');
    }
    if (id <= 0) {
        portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_INCONNU);
        return;
    }
    json_t *r = portail_member_row(ctx,
                                   "SELECT " APPT_COLS "FROM " APPT_FROM
                                   "WHERE x.id = ? AND x.member_id = {member} "
                                   "AND x.status <> 'held'",
                                   "l", id);
    if (!r) {
        if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
            appt_fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_APPOINTMENTS_RENDEZ_VOUS_INCONNU);
        return;
    }
    const char *status = portail_row_str(r, "status");
    int cancelled = strncmp(status, "cancelled", 9) == 0;
    const char *name = portail_row_str(r, "agenda_name");
    const char *place = portail_sprintf(
        a, "%s, %s, %s %s", name, portail_row_str(r, "agenda_address"),
        portail_row_str(r, "agenda_postal_code"), portail_row_str(r, "agenda_city"));
    long long alarm = st->remind_hours > 0 ? st->remind_hours : 2;

    icalcomponent *cal = icalcomponent_new_vcalendar();
    icalcomponent *ev = icalcomponent_new_vevent();
    icalcomponent *al = icalcomponent_new_valarm();
    if (!cal || !ev || !al) {
        icalcomponent_free(cal);
        icalcomponent_free(ev);
        icalcomponent_free(al);
        appt_fail(ctx);
        return;
    }
    icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(cal, icalproperty_new_prodid("-//Portail//Rendez-vous//FR"));
    icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
    icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
    icalcomponent_add_property(
        ev, icalproperty_new_uid(
                portail_sprintf(a, "appointment-%lld@%s", id, uid_host(a, portail_origin(ctx)))));
    icalcomponent_add_property(
        ev, icalproperty_new_dtstamp(utc(appt_parse_utc(portail_row_str(r, "updated_at")))));
    icalcomponent_add_property(
        ev, icalproperty_new_dtstart(utc(appt_parse_utc(portail_row_str(r, "start")))));
    icalcomponent_add_property(
        ev, icalproperty_new_dtend(utc(appt_parse_utc(portail_row_str(r, "end")))));
    icalcomponent_add_property(
        ev, icalproperty_new_summary(portail_sprintf(a, "Rendez-vous — %s", name)));
    icalcomponent_add_property(ev, icalproperty_new_location(place));
    icalcomponent_add_property(ev,
                               icalproperty_new_sequence((int)portail_row_int(r, "sequence", 0)));
    icalcomponent_add_property(
        ev, icalproperty_new_status(cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
    struct icaltriggertype trigger = icaltriggertype_from_int((int)(-alarm * 3600));
    icalcomponent_add_property(al, icalproperty_new_action(ICAL_ACTION_DISPLAY));
    icalcomponent_add_property(al, icalproperty_new_trigger(trigger));
    icalcomponent_add_property(
        al, icalproperty_new_description(portail_sprintf(a, "Rendez-vous — %s", name)));
    icalcomponent_add_component(ev, al);
    icalcomponent_add_component(cal, ev);
    char *text = icalcomponent_as_ical_string_r(cal);
    icalcomponent_free(cal);
    if (!text) {
        appt_fail(ctx);
        return;
    }
    size_t len = strlen(text);
    char *copy = portail_memdup(a, text, len + 1);
    free(text);
    portail_respond_bytes(ctx, 200, PORTAIL_FILE_ICS, PORTAIL_ATTACHMENT, copy, len,
                          portail_sprintf(a, "rendez-vous-%lld.ics", id));
}
