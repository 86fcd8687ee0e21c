"""Module appointments (modules/appointments/): the schema and seed, the
core's médecin traitant service (member_doctors, kept by coverage), the
agenda search (médecin traitant first, filters, pages), one agenda, and the
free slots in Paris time exchanged in UTC, DST days of 2027 included
(compared with Python's zoneinfo)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appt_helpers import (API, DEMO_NIR, UTC, book, make_agenda, member_client,
                          new_member_client)

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def seeded(stack):
    """The core and module seeds, then the demo accounts, as script/server
    runs them: the demo runs the modules' seeds again once the demo member
    has an account, so her appointments exist from the first start."""
    r = stack.portailctl("seed", "--count", "40")
    assert r.returncode == 0, r.stdout + r.stderr
    r = stack.portailctl("demo", "--yes-this-is-a-demo-database")
    assert r.returncode == 0, r.stdout + r.stderr
    marie = int(stack.sql("SELECT m.id FROM members m JOIN insured i ON i.id = m.insured_id "
                          "WHERE i.nir = '%s'" % DEMO_NIR)[0][0])
    return {"marie": marie}


def counts(stack):
    return stack.sql("SELECT (SELECT COUNT(*) FROM appt_agendas), (SELECT COUNT(*) FROM "
                     "appt_hours), (SELECT COUNT(*) FROM appt_kinds), (SELECT COUNT(*) FROM "
                     "appt_closures), (SELECT COUNT(*) FROM appt_appointments), "
                     "(SELECT COUNT(*) FROM appt_waitlist)")[0]


def test_seed_agendas_doctors_and_demo_member(stack, seeded):
    agendas, hours, kinds, closures, appts, wait = map(int, counts(stack))
    assert agendas >= 150 and hours > agendas * 5 and kinds > agendas
    assert int(stack.sql("SELECT COUNT(*) FROM appt_agendas WHERE practitioner_id IS NULL")[0][0]) >= 3
    # Every médecin traitant (the core's copy, filled by coverage's seed) has an agenda.
    assert int(stack.sql("SELECT COUNT(*) FROM member_doctors")[0][0]) > 10
    assert stack.sql("SELECT COUNT(*) FROM member_doctors d LEFT JOIN appt_agendas a "
                     "ON a.practitioner_id = d.practitioner_id WHERE a.id IS NULL") == [["0"]]
    # The core's copy is coverage's current declarations.
    assert stack.sql("SELECT COUNT(*) FROM coverage_doctors c LEFT JOIN member_doctors d "
                     "ON d.insured_id = c.insured_id AND d.practitioner_id = c.practitioner_id "
                     "WHERE c.status = 'current' AND c.beneficiary_id IS NULL "
                     "AND d.insured_id IS NULL") == [["0"]]
    # Christmas closure on every agenda.
    assert stack.sql("SELECT COUNT(*) FROM appt_agendas a WHERE NOT EXISTS (SELECT 1 FROM "
                     "appt_closures c WHERE c.agenda_id = a.id AND c.reason = 'Fermeture de Noël') "
                     "AND COALESCE(a.office_name, '') NOT LIKE 'Cabinet de test%'") == [["0"]]
    # The demo member: 2 upcoming, 3 past (one cancelled), one waitlist entry.
    c = member_client(stack, seeded["marie"])
    up = c.get(API + "?when=upcoming").json()["items"]
    past = c.get(API + "?when=past").json()["items"]
    assert len(up) == 2 and len(past) == 3
    assert sorted(x["status"] for x in past) == ["cancelled_by_member", "done", "done"]
    assert up[0]["agenda"]["kind"] == "practitioner" and up[1]["agenda"]["kind"] == "office"
    assert len(c.get(API + "/waitlist").json()["items"]) == 1
    # Idempotent.
    before = counts(stack)
    r = stack.portailctl("seed", "--count", "40")
    assert r.returncode == 0, r.stdout + r.stderr
    assert counts(stack) == before


def test_member_doctor_follows_a_confirmed_declaration(stack, seeded):
    """coverage's declaration, once confirmed by its job, sets the core's
    member_doctors row (portail_member_doctor_set)."""
    m = stack.new_member()
    c = member_client(stack, m.id)
    gp = int(stack.sql("SELECT MIN(id) FROM practitioners WHERE specialty = 'Médecine générale' "
                       "AND accepts_new_patients = 1")[0][0])
    r = c.post("/api/v1/coverage/doctor", json={"practitioner": gp})
    assert r.status_code == 201, r.text
    assert stack.sql("SELECT COUNT(*) FROM member_doctors WHERE insured_id = %d"
                     % m.insured_id) == [["0"]]
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE kind = "
              "'coverage.doctor_confirm' AND state = 'queued'")
    from appt_helpers import wait_until
    wait_until(lambda: stack.sql("SELECT practitioner_id FROM member_doctors WHERE insured_id = %d"
                                 % m.insured_id) == [[str(gp)]], 20, "member_doctors row")


def test_agendas_my_doctor_first_then_pages(stack, seeded):
    c = member_client(stack, seeded["marie"])
    doc = stack.sql("SELECT d.practitioner_id, p.city FROM member_doctors d JOIN practitioners p "
                    "ON p.id = d.practitioner_id JOIN insured i ON i.id = d.insured_id "
                    "WHERE i.nir = '%s'" % DEMO_NIR)
    assert doc, "the demo member has a médecin traitant"
    pid, city = int(doc[0][0]), doc[0][1]
    r = c.get(API + "/agendas", params={"limit": 3})
    assert r.status_code == 200, r.text
    page = r.json()
    first = page["items"][0]
    assert first["is_my_doctor"] is True and first["kind"] == "practitioner"
    assert first["name"].startswith("Dr ")
    assert {k["code"] for k in first["visit_kinds"]} == {"first", "followup"}
    assert set(first) >= {"id", "kind", "name", "specialty", "address_line", "postal_code",
                          "city", "is_my_doctor", "visit_kinds"}
    assert sum(1 for x in page["items"] if x["is_my_doctor"]) == 1
    assert page["next_cursor"]
    seen = {x["id"] for x in page["items"]}
    nxt = c.get(API + "/agendas", params={"limit": 3, "cursor": page["next_cursor"]}).json()
    assert not seen & {x["id"] for x in nxt["items"]}
    assert not any(x["is_my_doctor"] for x in nxt["items"])
    # Filters: the city keeps the doctor first; another city drops it.
    inc = c.get(API + "/agendas", params={"city": city, "limit": 50}).json()["items"]
    assert inc[0]["is_my_doctor"] and all(x["city"] == city for x in inc)
    offices = c.get(API + "/agendas", params={"type": "office"}).json()["items"]
    assert offices and all(x["kind"] == "office" and x["visit_kinds"][0]["code"] == "adviser"
                           for x in offices)
    cardio = c.get(API + "/agendas", params={"specialty": "Cardiologie"}).json()["items"]
    assert all(x["specialty"] == "Cardiologie" for x in cardio)
    assert c.get(API + "/agendas", params={"city": "x" * 101}).status_code == 422
    assert c.get(API + "/agendas", params={"limit": 0}).status_code == 422
    assert c.get(API + "/agendas", params={"cursor": "abc"}).status_code == 422
    # Members only.
    assert stack.client().get(API + "/agendas").status_code in (401, 403)


def test_agenda_get(stack, seeded):
    c = member_client(stack, seeded["marie"])
    aid = make_agenda(stack, horizon=45)
    r = c.get(API + "/agendas/%d" % aid)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["kind"] == "office" and a["horizon_days"] == 45 and a["change_cutoff_hours"] == 24
    assert a["is_my_doctor"] is False
    assert c.get(API + "/agendas/99999999").status_code == 404
    assert c.get(API + "/agendas/abc").status_code == 404


def test_slots_follow_hours_kinds_and_bounds(stack, seeded):
    c = new_member_client(stack)
    aid = make_agenda(stack, hours=[(540, 720), (840, 1020)], days=range(1, 6))
    today = dt.datetime.now(PARIS).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    r = c.get(API + "/agendas/%d/slots" % aid, params={"from": monday.isoformat(),
                                                        "to": (monday + dt.timedelta(days=6)).isoformat(),
                                                        "kind": "first"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "first" and body["from"] == monday.isoformat()
    # 5 weekdays x (6 + 6) slots of 30 minutes, none on the weekend.
    assert len(body["slots"]) == 60
    local = [dt.datetime.fromisoformat(s["start"].replace("Z", "+00:00")).astimezone(PARIS)
             for s in body["slots"]]
    assert all(t.weekday() < 5 for t in local)
    assert local[0].hour == 9 and local[0].minute == 0
    assert {(t.hour, t.minute) for t in local} >= {(11, 30), (14, 0), (16, 30)}
    s0 = body["slots"][0]
    assert (dt.datetime.fromisoformat(s0["end"].replace("Z", "+00:00")) -
            dt.datetime.fromisoformat(s0["start"].replace("Z", "+00:00"))) == dt.timedelta(minutes=30)
    follow = c.get(API + "/agendas/%d/slots" % aid, params={
        "from": monday.isoformat(), "to": monday.isoformat(), "kind": "followup"}).json()
    assert len(follow["slots"]) == 9 + 9  # 180 minutes / 20, twice
    # Default: from today, 7 days; never a past slot.
    d = c.get(API + "/agendas/%d/slots" % aid).json()
    assert d["from"] == today.isoformat()
    now = dt.datetime.now(UTC)
    assert all(dt.datetime.fromisoformat(s["start"].replace("Z", "+00:00")) > now for s in d["slots"])
    # Bounds.
    for params in ({"from": "2027-01-01", "to": "2027-02-01"}, {"from": "2027-01-02", "to": "2027-01-01"},
                   {"from": "2027-02-30"}, {"kind": "surgery"}, {"kind": "adviser"}):
        assert c.get(API + "/agendas/%d/slots" % aid, params=params).status_code == 422, params
    assert c.get(API + "/agendas/99999999/slots").status_code == 404


def test_slots_skip_taken_and_closed(stack, seeded):
    c = new_member_client(stack)
    aid = make_agenda(stack, hours=[(540, 720)])
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=5)
    params = {"from": day.isoformat(), "to": day.isoformat(), "kind": "first"}
    slots = c.get(API + "/agendas/%d/slots" % aid, params=params).json()["slots"]
    assert len(slots) == 6
    book(c, aid, slots[1]["start"])
    # Followup slots (20 min) overlapping the booked 30 minutes are gone too.
    after = c.get(API + "/agendas/%d/slots" % aid, params=params).json()["slots"]
    assert [s["start"] for s in after] == [s["start"] for s in slots if s != slots[1]]
    fol = c.get(API + "/agendas/%d/slots" % aid, params=dict(params, kind="followup")).json()["slots"]
    b0 = slots[1]["start"]
    b1 = slots[1]["end"]
    assert all(not (s["start"] < b1 and s["end"] > b0) for s in fol)
    stack.sql("INSERT INTO appt_closures (agenda_id, starts_at, ends_at, reason) VALUES "
              "(%d, '%s', '%s', 'Congés')" % (aid, slots[3]["start"][:19].replace("T", " "),
                                               slots[5]["end"][:19].replace("T", " ")))
    closed = c.get(API + "/agendas/%d/slots" % aid, params=params).json()["slots"]
    assert [s["start"] for s in closed] == [slots[0]["start"], slots[2]["start"]]


def expected_paris_slots(day, step=30):
    """UTC starts of the local times of day (every step minutes) that exist,
    an ambiguous one at its first occurrence (fold=0), per zoneinfo."""
    out = []
    for m in range(0, 1440, step):
        local = dt.datetime(day.year, day.month, day.day, m // 60, m % 60, tzinfo=PARIS)
        u = local.astimezone(UTC)
        back = u.astimezone(PARIS)
        if (back.hour, back.minute) != (local.hour, local.minute):
            continue  # does not exist (spring forward)
        out.append(u.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return out


def dst_day(month, year=2027):
    """The last Sunday of month (3 or 10) in 2027, or in the first later
    year where it is still ahead, so that the test does not rot."""
    while True:
        d = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
        d -= dt.timedelta(days=(d.weekday() + 1) % 7)
        if d > dt.date.today() + dt.timedelta(days=1):
            return d.isoformat()
        year += 1


@pytest.mark.parametrize("month", [3, 10])
def test_slots_on_dst_days_match_zoneinfo(stack, seeded, month):
    day = dst_day(month)
    c = new_member_client(stack)
    aid = make_agenda(stack, horizon=366, kinds=(("first", 30),))
    r = c.get(API + "/agendas/%d/slots" % aid, params={"from": day, "to": day})
    assert r.status_code == 200, r.text
    got = [s["start"] for s in r.json()["slots"]]
    want = expected_paris_slots(dt.date.fromisoformat(day))
    assert got == want
    if month == 3:
        # 02:00 and 02:30 do not exist: 46 slots; 01:30 is 00:30Z, 03:00 is 01:00Z.
        assert len(got) == 46
        i = got.index(day + "T00:30:00Z")
        assert got[i + 1] == day + "T01:00:00Z"
    else:
        # 02:00 and 02:30 exist twice: once each (summer time, 00:00Z and
        # 00:30Z); the second reading (01:00Z, 01:30Z) is no slot.
        assert len(got) == 48
        assert day + "T00:00:00Z" in got and day + "T00:30:00Z" in got
        assert day + "T01:00:00Z" not in got and day + "T01:30:00Z" not in got
        assert day + "T02:00:00Z" in got  # 03:00 winter time


def test_booking_on_dst_days_accepts_only_real_slots(stack, seeded):
    aid = make_agenda(stack, horizon=366, kinds=(("first", 30),))
    a, b, c = (new_member_client(stack) for _ in range(3))
    spring, autumn = dst_day(3), dst_day(10)
    # Spring: 03:00 local is 01:00Z; 01:10Z is no slot (not on the grid).
    book(a, aid, spring + "T01:10:00Z", expect=422)
    x = book(a, aid, spring + "T01:00:00Z")
    assert x["start"] == spring + "T01:00:00Z" and x["end"] == spring + "T01:30:00Z"
    # Autumn: 02:00 local's second occurrence (01:00Z) is refused, the first (00:00Z) taken.
    e = book(b, aid, autumn + "T01:00:00Z", expect=422)
    assert e["errors"][0]["field"] == "start"
    book(b, aid, autumn + "T00:00:00Z")
    # One a day per agenda and member.
    r = book(b, aid, autumn + "T05:00:00Z", expect=409)
    assert "un seul" in r["detail"]
    book(c, aid, autumn + "T00:00:00Z", expect=409)
