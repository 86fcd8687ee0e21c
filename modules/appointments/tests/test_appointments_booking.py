"""Module appointments: booking, never doubled (50 concurrent bookings of
one slot through nginx, also spread over two portaild sharing the
database), one a day, the upcoming limit, list and one (another member's is
a 404), move (atomic, also under concurrency) and cancel with the cutoff,
and the calendar file parsed back with Python's icalendar."""

import datetime as dt
import json
import threading

import icalendar
import pytest

from conftest import agent_client

from appt_helpers import (API, UTC, book, future_slot, iso, make_agenda, member_client,
                          new_member_client)


def slot_count(stack, aid, start):
    return int(stack.sql("SELECT COUNT(*) FROM appt_appointments WHERE agenda_id = %d "
                         "AND active_start = '%s'" % (aid, start[:19].replace("T", " ")))[0][0])


def fire(clients, fn):
    """Runs fn(client) on every client at once; returns the results in order."""
    barrier = threading.Barrier(len(clients))
    out = [None] * len(clients)

    def run(i, c):
        barrier.wait()
        out[i] = fn(c)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_book_then_list_get_and_other_member_404(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    start = future_slot(4)
    kid = stack.new_beneficiary(a.member.insured_id, "Léa")
    x = book(a, aid, start, kind="followup", beneficiary=kid, reason="Vaccin")
    assert x["status"] == "booked" and x["start"] == iso(start)
    assert x["end"] == iso(start + dt.timedelta(minutes=20))
    assert x["agenda"]["id"] == aid and x["kind"] == "followup"
    assert x["beneficiary"] == "Léa Martin" and x["reason"] == "Vaccin"
    assert x["beneficiary_id"] == kid
    assert x["sequence"] == 0 and x["can_change"] is True
    assert x["change_until"] == iso(start - dt.timedelta(hours=24))
    assert set(x) >= {"id", "agenda", "start", "end", "kind", "beneficiary", "reason", "status",
                      "change_until", "can_change", "sequence", "created_at", "updated_at"}
    assert a.get(API + "/%d" % x["id"]).json() == x
    up = a.get(API + "?when=upcoming").json()
    assert [i["id"] for i in up["items"]] == [x["id"]] and up["next_cursor"] is None
    # The list's item and the single answer: the same members, same order.
    assert json.dumps(up["items"][0]) == json.dumps(a.get(API + "/%d" % x["id"]).json())
    assert a.get(API + "?when=past").json()["items"] == []
    assert a.get(API + "?when=later").status_code == 422
    # Another member sees nothing of it.
    b = new_member_client(stack)
    for path in ("/%d", "/%d.ics"):
        assert b.get(API + path % x["id"]).status_code == 404
    for path in ("/%d/move", "/%d/cancel"):
        r = b.post(API + path % x["id"], json={"start": iso(start + dt.timedelta(hours=1))})
        assert r.status_code == 404, r.text
    assert b.get(API + "?when=upcoming").json()["items"] == []
    assert a.get(API + "/999999999").status_code == 404
    # The slot is no longer offered.
    day = start.astimezone(dt.timezone(dt.timedelta(hours=1))).date().isoformat()
    slots = a.get(API + "/agendas/%d/slots" % aid, params={"from": day, "to": day,
                                                          "kind": "followup"}).json()["slots"]
    assert iso(start) not in [s["start"] for s in slots]


def test_list_pages_with_a_cursor(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    ids = [book(a, aid, future_slot(3 + i))["id"] for i in range(3)]
    p1 = a.get(API, params={"when": "upcoming", "limit": 2}).json()
    assert [i["id"] for i in p1["items"]] == ids[:2] and p1["next_cursor"]
    p2 = a.get(API, params={"when": "upcoming", "limit": 2, "cursor": p1["next_cursor"]}).json()
    assert [i["id"] for i in p2["items"]] == ids[2:] and p2["next_cursor"] is None
    assert a.get(API, params={"cursor": "x"}).status_code == 422


def test_booking_refuses_what_is_not_a_slot(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack, hours=[(540, 720)], horizon=10)
    ok = future_slot(3, hour=9)  # 10:00 Paris in winter
    cases = [
        ({"start": iso(ok + dt.timedelta(minutes=10))}, "start"),      # off the grid
        ({"start": iso(future_slot(3, hour=15))}, "start"),            # closed hours
        ({"start": iso(future_slot(-1, hour=9))}, "start"),            # past
        ({"start": iso(future_slot(12, hour=9))}, "start"),            # beyond the horizon
        ({"start": "2026-13-01T09:00:00Z"}, "start"),
        ({"kind": "adviser"}, "kind"),                                 # not offered
        ({"kind": "x"}, "kind"),
        ({"agenda": 999999999}, "agenda"),
        ({"reason": "é" * 251}, "reason"),                             # 502 bytes > 500
        ({"beneficiary": "Léa Martin"}, "beneficiary"),                # a name, not an id
        ({"beneficiary": 0}, "beneficiary"),
    ]
    for change, field in cases:
        body = {"agenda": aid, "start": iso(ok), "kind": "first"}
        body.update(change)
        r = a.post(API, json=body)
        assert r.status_code == 422, (change, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (change, r.text)
    stack.sql("INSERT INTO appt_closures (agenda_id, starts_at, ends_at, reason) VALUES "
              "(%d, '%s', '%s', 'Congés')" % (aid, ok.strftime("%Y-%m-%d 00:00:00"),
                                              (ok + dt.timedelta(days=1)).strftime("%Y-%m-%d 00:00:00")))
    r = a.post(API, json={"agenda": aid, "start": iso(ok), "kind": "first"})
    assert r.status_code == 422 and "fermé" in r.text
    assert book(a, aid, ok + dt.timedelta(days=1), reason="é" * 250)["reason"] == "é" * 250


def test_one_a_day_and_the_upcoming_limit(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    book(a, aid, future_slot(3, hour=8))
    r = book(a, aid, future_slot(3, hour=14), expect=409)
    assert "un seul" in r["detail"]
    other = make_agenda(stack)
    book(a, other, future_slot(3, hour=14))  # another agenda the same day is fine
    for d in range(4, 7):
        book(a, aid, future_slot(d))
    r = book(a, aid, future_slot(8), expect=409)  # 5 upcoming already
    assert "5 rendez-vous" in r["detail"]


def test_fifty_concurrent_bookings_of_one_slot_give_one(stack):
    aid = make_agenda(stack)
    start = iso(future_slot(5, hour=11))
    clients = [new_member_client(stack) for _ in range(50)]
    codes = fire(clients, lambda c: c.post(API, json={"agenda": aid, "start": start,
                                                       "kind": "first"}).status_code)
    assert sorted(codes).count(201) == 1, codes
    assert all(c == 409 for c in codes if c != 201), codes
    assert slot_count(stack, aid, start) == 1
    assert stack.sql("SELECT COUNT(*) FROM appt_appointments WHERE agenda_id = %d" % aid) == [["1"]]


def test_concurrent_bookings_through_two_portaild(stack):
    second = stack.start_portaild()
    aid = make_agenda(stack)
    start = iso(future_slot(6, hour=11))
    clients = []
    for i in range(50):
        m = stack.new_member()
        c = stack.client(base_url=second.base_url, origin=second.origin) if i % 2 else stack.client()
        c.test_login(id=m.id)
        clients.append(c)
    codes = fire(clients, lambda c: c.post(API, json={"agenda": aid, "start": start,
                                                       "kind": "first"}).status_code)
    assert codes.count(201) == 1 and codes.count(409) == 49, codes
    assert slot_count(stack, aid, start) == 1
    stack.stop_portaild(second)


def test_overlapping_kinds_are_refused(stack):
    aid = make_agenda(stack)
    a, b = new_member_client(stack), new_member_client(stack)
    s = future_slot(4, hour=9)
    book(a, aid, s, kind="first")  # 30 minutes
    book(b, aid, s + dt.timedelta(minutes=20), kind="followup", expect=409)
    book(b, aid, s + dt.timedelta(minutes=40), kind="followup")  # 30 min on grid 20: 09:40 ok


def test_move_is_atomic_and_frees_the_old_slot(stack):
    a, b = new_member_client(stack), new_member_client(stack)
    aid = make_agenda(stack)
    s1, s2, s3 = future_slot(4, hour=8), future_slot(4, hour=9), future_slot(4, hour=10)
    x = book(a, aid, s1)
    y = book(b, aid, s3)
    r = a.post(API + "/%d/move" % x["id"], json={"start": iso(s2)})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["start"] == iso(s2) and moved["sequence"] == 1 and moved["id"] == x["id"]
    assert slot_count(stack, aid, iso(s1)) == 0 and slot_count(stack, aid, iso(s2)) == 1
    # Onto a taken slot: 409, nothing changed.
    r = a.post(API + "/%d/move" % x["id"], json={"start": iso(s3)})
    assert r.status_code == 409, r.text
    assert a.get(API + "/%d" % x["id"]).json()["start"] == iso(s2)
    assert b.get(API + "/%d" % y["id"]).json()["start"] == iso(s3)
    # Same start, or not a slot: 422.
    assert a.post(API + "/%d/move" % x["id"], json={"start": iso(s2)}).status_code == 422
    assert a.post(API + "/%d/move" % x["id"],
                  json={"start": iso(s2 + dt.timedelta(minutes=7))}).status_code == 422
    # The freed slot can be booked by someone else.
    book(b, aid, s1 + dt.timedelta(days=1))
    c = new_member_client(stack)
    book(c, aid, s1)


def test_concurrent_moves_to_one_slot(stack):
    aid = make_agenda(stack)
    target = future_slot(5, hour=12)
    pairs = []
    for i in range(10):
        c = new_member_client(stack)
        x = book(c, aid, future_slot(5, hour=1 + i))
        pairs.append((c, x))
    codes = fire(pairs, lambda p: p[0].post(API + "/%d/move" % p[1]["id"],
                                            json={"start": iso(target)}).status_code)
    assert codes.count(200) == 1 and codes.count(409) == 9, codes
    assert slot_count(stack, aid, iso(target)) == 1
    # The losers kept their slot.
    for (c, x), code in zip(pairs, codes):
        got = c.get(API + "/%d" % x["id"]).json()
        assert got["start"] == (iso(target) if code == 200 else x["start"])
        assert slot_count(stack, aid, got["start"]) == 1


def set_start(stack, appt_id, seconds_from_now):
    stack.sql("UPDATE appt_appointments SET start_utc = UTC_TIMESTAMP() + INTERVAL %d SECOND, "
              "end_utc = UTC_TIMESTAMP() + INTERVAL %d SECOND WHERE id = %d"
              % (seconds_from_now, seconds_from_now + 1800, appt_id))


def test_cutoff_edges_for_move_and_cancel(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    x = book(a, aid, future_slot(3, hour=6))
    # Just inside the cutoff (start − 24 h already passed by a few seconds): refused.
    set_start(stack, x["id"], 24 * 3600 - 5)
    got = a.get(API + "/%d" % x["id"]).json()
    assert got["can_change"] is False
    for path, body in (("/%d/cancel", {}), ("/%d/move", {"start": iso(future_slot(4))})):
        r = a.post(API + path % x["id"], json=body)
        assert r.status_code == 409, r.text
        assert "24 h" in r.json()["detail"] and "heure de Paris" in r.json()["detail"]
        assert r.json()["change_until"] == got["change_until"]
    # A minute before the cutoff: allowed.
    set_start(stack, x["id"], 24 * 3600 + 60)
    assert a.get(API + "/%d" % x["id"]).json()["can_change"] is True
    r = a.post(API + "/%d/cancel" % x["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled_by_member" and r.json()["sequence"] == 1
    assert r.json()["can_change"] is False
    # Cancelled: no second cancel, no move.
    assert a.post(API + "/%d/cancel" % x["id"]).status_code == 409
    # Booking inside the cutoff is allowed (stated by change_until).
    soon = (dt.datetime.now(UTC) + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    soon = soon.replace(minute=0 if soon.minute < 30 else 30)
    y = book(a, aid, soon)
    assert y["can_change"] is False


def test_cancel_frees_the_slot(stack):
    a, b = new_member_client(stack), new_member_client(stack)
    aid = make_agenda(stack)
    s = future_slot(5, hour=7)
    x = book(a, aid, s)
    book(b, aid, s, expect=409)
    assert a.post(API + "/%d/cancel" % x["id"]).status_code == 200
    book(b, aid, s)
    # The cancelled one is still listed (upcoming, with its status).
    items = a.get(API + "?when=upcoming").json()["items"]
    assert items[0]["status"] == "cancelled_by_member"


def test_ics_is_rfc5545_and_follows_changes(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    s = future_slot(6, hour=13)
    x = book(a, aid, s, reason="Douleur au genou")
    r = a.get(API + "/%d.ics" % x["id"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/calendar")
    assert "attachment" in r.headers["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(r.content)
    ev = [c for c in cal.walk() if c.name == "VEVENT"][0]
    uid = str(ev["UID"])
    assert uid == "appointment-%d@127.0.0.1" % x["id"]
    assert ev.decoded("DTSTART") == s and ev.decoded("DTEND") == s + dt.timedelta(minutes=30)
    assert "1 rue du Test" in str(ev["LOCATION"]) and "Testville" in str(ev["LOCATION"])
    assert str(ev["SUMMARY"]).startswith("Rendez-vous — Cabinet de test")
    assert int(ev["SEQUENCE"]) == 0 and str(ev["STATUS"]) == "CONFIRMED"
    assert "genou" not in r.text and "first" not in r.text.lower().replace("firstname", "")
    alarm = [c for c in ev.walk() if c.name == "VALARM"][0]
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -dt.timedelta(hours=2)
    # Moved: same UID, higher SEQUENCE, new time.
    s2 = s + dt.timedelta(hours=1)
    assert a.post(API + "/%d/move" % x["id"], json={"start": iso(s2)}).status_code == 200
    ev2 = [c for c in icalendar.Calendar.from_ical(a.get(API + "/%d.ics" % x["id"]).content).walk()
           if c.name == "VEVENT"][0]
    assert str(ev2["UID"]) == uid and int(ev2["SEQUENCE"]) == 1 and ev2.decoded("DTSTART") == s2
    # Cancelled: STATUS:CANCELLED, higher SEQUENCE.
    assert a.post(API + "/%d/cancel" % x["id"]).status_code == 200
    ev3 = [c for c in icalendar.Calendar.from_ical(a.get(API + "/%d.ics" % x["id"]).content).walk()
           if c.name == "VEVENT"][0]
    assert str(ev3["STATUS"]) == "CANCELLED" and int(ev3["SEQUENCE"]) == 2
    assert str(ev3["UID"]) == uid
    assert a.get(API + "/abc.ics").status_code == 404
    assert a.get(API + "/0%d.ics" % x["id"]).status_code == 404


def test_summary_card_and_nav(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    r = a.get("/api/v1/dashboard")
    assert r.status_code == 200, r.text
    card = [c for c in r.json()["cards"] if c["module"] == "appointments"][0]
    assert card["upcoming"] == 0 and card["next"] is None
    s = future_slot(3, hour=9)
    book(a, aid, s)
    book(a, aid, future_slot(5, hour=9))
    card = [c for c in a.get("/api/v1/dashboard").json()["cards"]
            if c["module"] == "appointments"][0]
    assert card["upcoming"] == 2 and card["next"]["start"] == iso(s)
    assert card["next"]["agenda_name"].startswith("Cabinet de test")
    assert card["href"] == "/appointments/"
    nav = a.get("/api/v1/nav").json()["items"]
    assert {"label": "Mes rendez-vous", "href": "/appointments/"}.items() <= [
        i for i in nav if i["module"] == "appointments"][0].items()
    agent = agent_client(stack)
    bo = agent.get("/api/v1/nav").json()["items"]
    assert [i["href"] for i in bo if i["module"] == "appointments"] == [
        "/appointments/backoffice.html"]


def test_booking_for_a_beneficiary_by_id(stack):
    """The person an appointment is for is one of the member's
    beneficiaries (the core's), by id; null the member. Another member's
    beneficiary is a 404 and books nothing."""
    a = new_member_client(stack)
    kid = stack.new_beneficiary(a.member.insured_id, "Hugo", birth_date="2015-02-03")
    r = a.get(API + "/beneficiaries")
    assert r.status_code == 200, r.text
    assert [(b["id"], b["name"], b["relation"]) for b in r.json()] == [
        (None, "Paul Martin", "self"), (kid, "Hugo Martin", "child")]
    aid = make_agenda(stack)
    x = book(a, aid, future_slot(4, hour=9), beneficiary=kid)
    assert x["beneficiary_id"] == kid and x["beneficiary"] == "Hugo Martin"
    y = book(a, aid, future_slot(5, hour=9), beneficiary=None)
    assert y["beneficiary_id"] is None and y["beneficiary"] is None

    other = stack.new_member()
    foreign = stack.new_beneficiary(other.insured_id, "Zoé")
    start = future_slot(6, hour=9)
    r = a.post(API, json={"agenda": aid, "start": iso(start), "kind": "first",
                          "beneficiary": foreign})
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert slot_count(stack, aid, iso(start)) == 0
