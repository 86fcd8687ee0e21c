"""Helpers shared by the appointments module's tests."""

import datetime as dt
import itertools
import time

from conftest import fresh_ip, sql_quote, wait_until  # noqa: F401 (the module's tests take it from here)

DEMO_NIR = "285033306300182"
API = "/api/v1/appointments"
BO = "/api/v1/backoffice/appointments"
UTC = dt.timezone.utc
_n = itertools.count(1)


def member_client(stack, member_id):
    c = stack.client(xff=fresh_ip())
    c.test_login(id=member_id)
    return c


def new_member_client(stack):
    m = stack.new_member()
    c = member_client(stack, m.id)
    c.member = m
    return c


def make_agenda(stack, hours=None, kinds=(("first", 30), ("followup", 20)), horizon=60,
                days=range(1, 8)):
    """An office agenda created by the test: hours [(opens, closes)] in Paris
    minutes on every weekday of days (default: open all day, every day)."""
    name = "Cabinet de test %d-%d" % (int(time.time()), next(_n))
    rows = stack.sql(
        "INSERT INTO appt_agendas (office_name, office_address, office_postal_code, office_city, "
        "horizon_days) VALUES (%s, '1 rue du Test', '75015', 'Testville', %d); "
        "SELECT LAST_INSERT_ID()" % (sql_quote(name), horizon))
    aid = int(rows[0][0])
    for d in days:
        for o, c in (hours or [(0, 1440)]):
            stack.sql("INSERT INTO appt_hours (agenda_id, weekday, opens, closes) "
                      "VALUES (%d, %d, %d, %d)" % (aid, d, o, c))
    for k, m in kinds:
        stack.sql("INSERT INTO appt_kinds (agenda_id, kind, minutes) VALUES (%d, '%s', %d)"
                  % (aid, k, m))
    return aid


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def future_slot(days_ahead=3, hour=10, minute=0):
    """A UTC instant days_ahead from now at hour:minute UTC, on a 30-minute
    grid (an agenda open all day in Paris has a slot there: Paris is a
    whole number of hours from UTC)."""
    d = dt.datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return d + dt.timedelta(days=days_ahead)


def book(c, agenda, start, kind="first", expect=201, **extra):
    body = {"agenda": agenda, "start": start if isinstance(start, str) else iso(start),
            "kind": kind}
    body.update(extra)
    r = c.post(API, json=body)
    assert r.status_code == expect, (r.status_code, r.text)
    return r.json()




def run_jobs_now(stack, kind, where=""):
    """Makes the queued jobs of kind due now (tests do not wait for J-2)."""
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE kind = '%s' AND state = 'queued' %s"
              % (kind, where))


def jobs_of(stack, kind, appointment=None):
    rows = stack.sql("SELECT id, state, payload FROM jobs WHERE kind = '%s' ORDER BY id" % kind)
    import json
    out = [(int(r[0]), r[1], json.loads(r[2])) for r in rows]
    if appointment is not None:
        out = [j for j in out if j[2].get("appointment") == appointment]
    return out


def wait_jobs_done(stack, ids, timeout=20):
    def done():
        if not ids:
            return True
        rows = stack.sql("SELECT state FROM jobs WHERE id IN (%s)" % ",".join(map(str, ids)))
        return all(r[0] in ("done", "failed", "cancelled") for r in rows)
    wait_until(done, timeout, "jobs %s" % ids)
