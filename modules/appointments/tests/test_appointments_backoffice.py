"""Module appointments, back office (permission appointments.manage): the
agenda list, an agenda's day (audited read), cancellation with a reason
(member notified and mailed, audited), done / no-show only after the start,
and closures cancelling the appointments inside (each notified and
audited)."""

import datetime as dt
from zoneinfo import ZoneInfo

from conftest import agent_client

from appt_helpers import (API, BO, book, future_slot, iso, make_agenda, new_member_client,
                          wait_until)

PARIS = ZoneInfo("Europe/Paris")


def audit(stack, agent, action):
    return stack.sql("SELECT member_id, reason FROM audit_log WHERE agent_id = %d AND action = '%s' "
                     "ORDER BY id" % (agent.agent.id, action))


def test_agendas_and_audited_day_view(stack):
    aid = make_agenda(stack)
    m = new_member_client(stack)
    s = future_slot(3, hour=9)
    x = book(m, aid, s, kind="followup", beneficiary=stack.new_beneficiary(m.member.insured_id))
    agent = agent_client(stack)
    r = agent.get(BO + "/agendas", params={"q": "Cabinet de test"})
    assert r.status_code == 200, r.text
    assert aid in [a["id"] for a in r.json()["items"]]
    day = s.astimezone(PARIS).date().isoformat()
    r = agent.get(BO + "/agendas/%d/day" % aid, params={"date": day})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["date"] == day and body["agenda"]["id"] == aid
    item = body["items"][0]
    assert item["id"] == x["id"] and item["member"]["id"] == m.member.id
    assert item["member"]["name"] == "Paul Martin" and item["beneficiary"] == "Léa Martin"
    assert item["start"] == iso(s) and item["status"] == "booked"
    rows = audit(stack, agent, "appointments.day.read")
    assert rows == [[str(m.member.id), "agenda %d, %s" % (aid, day)]]
    # A day of several members: each one is named in an audit row, once.
    m2 = new_member_client(stack)
    book(m2, aid, future_slot(3, hour=10))
    book(new_member_client(stack), aid, future_slot(3, hour=11))
    r = agent.get(BO + "/agendas/%d/day" % aid, params={"date": day})
    assert r.status_code == 200 and len(r.json()["items"]) == 3, r.text
    shown = sorted(str(x["member"]["id"]) for x in r.json()["items"])
    rows = audit(stack, agent, "appointments.day.read")[1:]
    assert sorted(row[0] for row in rows) == shown
    assert all(row[1] == "agenda %d, %s" % (aid, day) for row in rows)
    assert agent.get(BO + "/agendas/%d/day" % aid, params={"date": "2027-02-30"}).status_code == 422
    assert agent.get(BO + "/agendas/999999999/day").status_code == 404
    # Members never reach it.
    assert m.get(BO + "/agendas/%d/day" % aid).status_code in (401, 403)


def test_office_cancel_notifies_the_member(stack):
    aid = make_agenda(stack)
    m = new_member_client(stack)
    x = book(m, aid, future_slot(4, hour=10))
    agent = agent_client(stack)
    assert agent.post(BO + "/%d/cancel" % x["id"], json={}).status_code == 422
    assert agent.post(BO + "/%d/cancel" % x["id"], json={"reason": "x" * 201}).status_code == 422
    r = agent.post(BO + "/%d/cancel" % x["id"], json={"reason": "Absence du praticien"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled_by_office"
    got = m.get(API + "/%d" % x["id"]).json()
    assert got["status"] == "cancelled_by_office" and got["cancel_reason"] == "Absence du praticien"
    assert got["sequence"] == 1
    assert stack.sql("SELECT title FROM notifications WHERE member_id = %d AND kind = "
                     "'appointments.change'" % m.member.id) == [["Rendez-vous annulé"]]
    mail = wait_until(lambda: [x for x in stack.mails() if m.member.email in x["to"]
                               and "annulé" in x["subject"]], 15, "cancel mail")[0]
    assert "Absence du praticien" in mail["body"]
    assert audit(stack, agent, "appointments.cancel") == [[str(m.member.id), "Absence du praticien"]]
    assert agent.post(BO + "/%d/cancel" % x["id"], json={"reason": "encore"}).status_code == 409
    assert agent.post(BO + "/999999999/cancel", json={"reason": "x"}).status_code == 404


def test_done_and_no_show_only_after_the_start(stack):
    aid = make_agenda(stack)
    m = new_member_client(stack)
    x = book(m, aid, future_slot(3, hour=8))
    y = book(m, aid, future_slot(4, hour=8))
    agent = agent_client(stack)
    r = agent.post(BO + "/%d/done" % x["id"])
    assert r.status_code == 409 and "pas encore commencé" in r.json()["detail"]
    for hours, appt in ((1, x), (3, y)):
        stack.sql("UPDATE appt_appointments SET start_utc = UTC_TIMESTAMP() - INTERVAL %d HOUR, "
                  "end_utc = UTC_TIMESTAMP() - INTERVAL %d MINUTE WHERE id = %d"
                  % (hours, hours * 60 - 30, appt["id"]))
    assert agent.post(BO + "/%d/done" % x["id"]).json()["status"] == "done"
    assert agent.post(BO + "/%d/no_show" % y["id"]).json()["status"] == "no_show"
    assert agent.post(BO + "/%d/no_show" % x["id"]).status_code == 409
    assert [r[0] for r in audit(stack, agent, "appointments.done")] == [str(m.member.id)]
    assert [r[0] for r in audit(stack, agent, "appointments.no_show")] == [str(m.member.id)]
    past = m.get(API + "?when=past").json()["items"]
    assert sorted(i["status"] for i in past) == ["done", "no_show"]


def test_closure_cancels_appointments_inside(stack):
    aid = make_agenda(stack)
    a, b, c = (new_member_client(stack) for _ in range(3))
    s = future_slot(8, hour=9)
    xa = book(a, aid, s)
    xb = book(b, aid, s + dt.timedelta(hours=2))
    xc = book(c, aid, s + dt.timedelta(days=1))  # outside
    agent = agent_client(stack)
    frm, to = s - dt.timedelta(hours=1), s + dt.timedelta(hours=6)
    assert agent.post(BO + "/agendas/%d/closures" % aid,
                      json={"from": iso(to), "to": iso(frm), "reason": "x"}).status_code == 422
    r = agent.post(BO + "/agendas/%d/closures" % aid,
                   json={"from": iso(frm), "to": iso(to), "reason": "Formation"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["cancelled"] == 2 and body["closure"]["from"] == iso(frm)
    assert a.get(API + "/%d" % xa["id"]).json()["status"] == "cancelled_by_office"
    assert b.get(API + "/%d" % xb["id"]).json()["status"] == "cancelled_by_office"
    assert c.get(API + "/%d" % xc["id"]).json()["status"] == "booked"
    rows = audit(stack, agent, "appointments.closure.cancel")
    assert sorted(r[0] for r in rows) == sorted([str(a.member.id), str(b.member.id)])
    assert all(r[1] == "Fermeture : Formation" for r in rows)
    for who in (a, b):
        assert stack.sql("SELECT COUNT(*) FROM notifications WHERE member_id = %d AND kind = "
                         "'appointments.change'" % who.member.id) == [["1"]]
    # No slot inside any more.
    day = s.astimezone(PARIS).date().isoformat()
    slots = c.get(API + "/agendas/%d/slots" % aid, params={"from": day, "to": day}).json()["slots"]
    assert not [x for x in slots if iso(frm) <= x["start"] < iso(to)]
    assert agent.post(BO + "/agendas/999999999/closures",
                      json={"from": iso(frm), "to": iso(to), "reason": "x"}).status_code == 404


def test_back_office_needs_the_permission(stack):
    aid = make_agenda(stack)
    inst = stack.start_portaild({"roles": {"agent": ["members.read"],
                                           "supervisor": ["members.read",
                                                          "appointments.manage"]}})

    def agent_of(role):
        a = stack.new_agent(role=role)
        c = stack.client(base_url=inst.base_url, origin=inst.origin)
        c.test_login(kind="agent", id=a.id, level="agent", role=role)
        return c

    assert agent_of("agent").get(BO + "/agendas/%d/day" % aid).status_code == 403
    assert agent_of("supervisor").get(BO + "/agendas/%d/day" % aid).status_code == 200
    assert stack.client().get(BO + "/agendas").status_code == 401
    stack.stop_portaild(inst)
