/* Europe/Paris wall-clock time for the agendas' hours.
 *
 * Why not libical's built-in "Europe/Paris": its built-in zones are loaded
 * and their transitions expanded lazily into state shared by every thread
 * (icaltimezone_get_builtin_timezone, then the changes array grown on
 * demand), and whether that is locked depends on how the library was built.
 * Slot lists are computed on every request by several threads, so the rule
 * is computed here instead: the EU rule that Paris has followed since 1996,
 * summer time (UTC+2) from the last Sunday of March 01:00 UTC to the last
 * Sunday of October 01:00 UTC, UTC+1 otherwise. The tests compare both DST
 * days of 2027 with Python's zoneinfo. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "appointments.h"

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
int64_t appt_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void appt_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int appt_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (4). */
    return (int)((((days % 7) + 7 + 3) % 7) + 1);
}

static int64_t last_sunday(int y, int m)
{
    int64_t last = appt_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
    return last - (appt_weekday(last) % 7);
}

static int summer(int64_t t)
{
    int y, m, d;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    appt_civil_from_days(days, &y, &m, &d);
    int64_t from = last_sunday(y, 3) * 86400 + 3600;
    int64_t to = last_sunday(y, 10) * 86400 + 3600;
    return t >= from && t < to;
}

int64_t appt_paris_to_utc(int64_t days, int minute)
{
    int64_t wall = days * 86400 + (int64_t)minute * 60;
    int64_t summer_reading = wall - 7200, winter_reading = wall - 3600;
    /* Both readings valid: the autumn hour seen twice, first occurrence
     * (summer time) taken. Neither: the spring hour that is skipped. */
    if (summer(summer_reading))
        return summer_reading;
    if (!summer(winter_reading))
        return winter_reading;
    return -1;
}

void appt_utc_to_paris(int64_t t, int64_t *days, int *minute)
{
    int64_t wall = t + (summer(t) ? 7200 : 3600);
    *days = wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400);
    *minute = (int)((wall - *days * 86400) / 60);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int64_t date_part(const char *s)
{
    int y, m, d;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-' ||
        digits(s + 8, 2, &d) || y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
        return -1;
    int64_t days = appt_days_from_civil(y, m, d);
    int y2, m2, d2;
    appt_civil_from_days(days, &y2, &m2, &d2);
    return y2 == y && m2 == m && d2 == d ? days : -1;
}

int64_t appt_parse_date(const char *s)
{
    if (!s || strlen(s) != 10)
        return -1;
    return date_part(s);
}

int64_t appt_parse_utc(const char *s)
{
    if (!s)
        return -1;
    size_t n = strlen(s);
    if (n < 19 || n > 24)
        return -1;
    int64_t days = date_part(s);
    int h, mi, se;
    if (days < 0 || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se) || h > 23 || mi > 59 ||
        se > 59)
        return -1;
    const char *rest = s + 19;
    if (strcmp(rest, ".000Z") != 0 && strcmp(rest, "Z") != 0 && !(s[10] == ' ' && !*rest))
        return -1;
    return days * 86400 + h * 3600 + mi * 60 + se;
}

static void split(int64_t t, int *y, int *m, int *d, int *h, int *mi, int *s)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    appt_civil_from_days(days, y, m, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
}

static void two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t appt_fmt_utc_buf(char buf[APPT_UTC_BUF], int64_t t)
{
    int y, m, d, h, mi, s;
    split(t, &y, &m, &d, &h, &mi, &s);
    /* By hand when the year has four digits: the appointments list writes
     * one per row, and snprintf's format parsing was a tenth of the page
     * (callgrind, docs/performance.md). */
    if (y < 0 || y > 9999)
        return (size_t)snprintf(buf, APPT_UTC_BUF, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi,
                                s);
    two(buf, y / 100);
    two(buf + 2, y % 100);
    buf[4] = '-';
    two(buf + 5, m);
    buf[7] = '-';
    two(buf + 8, d);
    buf[10] = 'T';
    two(buf + 11, h);
    buf[13] = ':';
    two(buf + 14, mi);
    buf[16] = ':';
    two(buf + 17, s);
    buf[19] = 'Z';
    buf[20] = '\0';
    return 20;
}

const char *appt_fmt_utc(portail_arena_t *a, int64_t t)
{
    char buf[APPT_UTC_BUF];
    size_t n = appt_fmt_utc_buf(buf, t);
    return portail_strndup(a, buf, n);
}

const char *appt_fmt_sql(portail_arena_t *a, int64_t t)
{
    int y, m, d, h, mi, s;
    split(t, &y, &m, &d, &h, &mi, &s);
    return portail_sprintf(a, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, h, mi, s);
}

const char *appt_fmt_date(portail_arena_t *a, int64_t days)
{
    int y, m, d;
    appt_civil_from_days(days, &y, &m, &d);
    return portail_sprintf(a, "%04d-%02d-%02d", y, m, d);
}

static const char *const DAYS_FR[] = {"lundi",    "mardi",  "mercredi", "jeudi",
                                      "vendredi", "samedi", "dimanche"};
static const char *const MONTHS_FR[] = {"janvier",   "février", "mars",     "avril",
                                        "mai",       "juin",    "juillet",  "août",
                                        "septembre", "octobre", "novembre", "décembre"};

const char *appt_fmt_paris_day(portail_arena_t *a, int64_t t)
{
    int64_t days;
    int minute, y, m, d;
    appt_utc_to_paris(t, &days, &minute);
    appt_civil_from_days(days, &y, &m, &d);
    return portail_sprintf(a, "%s %d%s %s %d", DAYS_FR[appt_weekday(days) - 1], d,
                           d == 1 ? "er" : "", MONTHS_FR[m - 1], y);
}

const char *appt_fmt_paris_time(portail_arena_t *a, int64_t t)
{
    int64_t days;
    int minute;
    appt_utc_to_paris(t, &days, &minute);
    return portail_sprintf(a, "%02d:%02d", minute / 60, minute % 60);
}

int64_t appt_now(void)
{
    return (int64_t)time(NULL);
}
