"""Module appointments: the transactions that a Galera cluster can abort
(1213: a write through another node to the same rows, reported at COMMIT;
1205: a lock wait timeout) are rerun whole (portail_tx_retry for a
handler, portail_db_tx_retry for a job). A conflict is forced on one of
their last writes (conftest.forced_deadlock): the answer is the one without
it, and every row (appointment, reminder jobs, waitlist job, notification,
mail, audit row) is written once; a job's step is done in its first
attempt, not after its backoff. Without the rerun the member's
cancellation, move, waitlist removal and acceptance and the back office's
writes answered 500 or 409, a booking answered 409 to a lock wait, and a
job waited for its backoff (docs/scaling.md)."""

import datetime as dt
import time

import pytest

from conftest import agent_client, forced_deadlock

from appt_helpers import (API, BO, book, future_slot, iso, jobs_of, make_agenda,
                          new_member_client, wait_until)
from test_appointments_jobs import offer_of, run_now, waitlist

TAKEN = "Ce créneau vient d’être réservé. Choisissez-en un autre."


def count(stack, sql, *args):
    return int(stack.sql(sql % args)[0][0])


def of_member(c):
    """A trigger condition: the job's appointment is the member's (the
    trigger runs in the writer's transaction, it sees the new row)."""
    return ("(SELECT member_id FROM appt_appointments WHERE id = "
            "JSON_VALUE(NEW.payload, '$.appointment')) = %d" % c.member.id)


def reminders_forced(stack, c, **kw):
    """A conflict forced on the next reminder job queued for the member."""
    return forced_deadlock(stack, "jobs", "INSERT",
                           "NEW.kind = 'appointments.remind' AND " + of_member(c), **kw)


def slot_freed_forced(stack, agenda, **kw):
    """A conflict forced on the next waitlist job of a slot of the agenda."""
    return forced_deadlock(stack, "jobs", "INSERT",
                           "NEW.kind = 'appointments.waitlist_offer' AND "
                           "JSON_VALUE(NEW.payload, '$.agenda') = %d" % agenda, **kw)


def offers_of(stack, agenda):
    return [j for j in jobs_of(stack, "appointments.waitlist_offer") if j[2].get("agenda") == agenda]


def queued_reminders(stack, appt):
    """(which, start) of the appointment's queued reminder jobs, and how many
    appt_reminder_jobs rows it has."""
    jobs = sorted((j[2]["which"], j[2]["start"])
                  for j in jobs_of(stack, "appointments.remind", appointment=appt)
                  if j[1] == "queued")
    return jobs, count(stack, "SELECT COUNT(*) FROM appt_reminder_jobs WHERE appointment_id = %d",
                       appt)


def held_offer(stack):
    """A member (returned) with a slot held for their waitlist entry: they
    wait, another member books the slot and cancels it, the offer job holds
    it for them. (client, agenda, waitlist id, start)."""
    aid = make_agenda(stack, kinds=(("first", 30),))
    s = future_slot(7, hour=9)
    a, c = new_member_client(stack), new_member_client(stack)
    far = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    r = a.post(API + "/waitlist", json={"agenda": aid, "kind": "first", "before": far})
    assert r.status_code == 201, r.text
    x = book(c, aid, s)
    assert c.post(API + "/%d/cancel" % x["id"]).status_code == 200
    wait_until(lambda: offer_of(a), 20, "offer to A")
    return a, aid, r.json()["id"], s


# ---- the member's transactions


@pytest.mark.timeout(90)
def test_cancel_is_rerun_after_a_deadlock(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    x = book(a, aid, future_slot(3))
    assert jobs_of(stack, "appointments.remind", appointment=x["id"])
    with slot_freed_forced(stack, aid) as f:
        r = a.post(API + "/%d/cancel" % x["id"])
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    got = r.json()
    assert got["status"] == "cancelled_by_member" and got["sequence"] == 1, got
    reminders = jobs_of(stack, "appointments.remind", appointment=x["id"])
    assert reminders and {state for _, state, _ in reminders} == {"cancelled"}, reminders
    assert len(offers_of(stack, aid)) == 1


@pytest.mark.timeout(90)
def test_booking_is_rerun_after_a_lock_wait_timeout(stack):
    # A 1213 was already tried again by the booking's own loop; a 1205 on a
    # write after the INSERT (its reminder job) answered 409 at once.
    a = new_member_client(stack)
    aid = make_agenda(stack)
    s = future_slot(4)
    with reminders_forced(stack, a, errno=1205) as f:
        x = book(a, aid, s)
        assert f.forced() == 1
    assert x["start"] == iso(s) and x["status"] == "booked"
    assert count(stack, "SELECT COUNT(*) FROM appt_appointments WHERE member_id = %d",
                 a.member.id) == 1
    assert queued_reminders(stack, x["id"]) == ([("days", int(s.timestamp())),
                                                  ("hours", int(s.timestamp()))], 2)


@pytest.mark.timeout(90)
def test_a_conflict_every_time_on_a_booking_is_still_the_409_and_books_nothing(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    s = future_slot(4)
    with reminders_forced(stack, a, errno=1205, times=5) as f:
        r = book(a, aid, s, expect=409)
        assert f.forced() == 3  # PORTAIL_DB_TX_ATTEMPTS
    assert r["detail"] == TAKEN
    assert count(stack, "SELECT COUNT(*) FROM appt_appointments WHERE member_id = %d",
                 a.member.id) == 0
    # Nothing holds the slot or the member's day.
    book(a, aid, s)


@pytest.mark.timeout(90)
def test_move_is_rerun_after_a_deadlock(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    s1, s2 = future_slot(4, hour=8), future_slot(4, hour=9)
    x = book(a, aid, s1)
    with slot_freed_forced(stack, aid) as f:
        r = a.post(API + "/%d/move" % x["id"], json={"start": iso(s2)})
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    got = r.json()
    assert got["start"] == iso(s2) and got["sequence"] == 1, got
    # The old reminders cancelled, the new ones queued once, the old slot
    # offered once.
    assert queued_reminders(stack, x["id"]) == ([("days", int(s2.timestamp())),
                                                  ("hours", int(s2.timestamp()))], 2)
    assert [j[2]["start"] for j in offers_of(stack, aid)] == [int(s1.timestamp())]


@pytest.mark.timeout(120)
def test_waitlist_removal_is_rerun_after_a_deadlock(stack):
    a, aid, wid, _ = held_offer(stack)
    assert len(offers_of(stack, aid)) == 1
    with slot_freed_forced(stack, aid) as f:
        r = a.delete(API + "/waitlist/%d" % wid)
        assert r.status_code == 204, r.text
        assert f.forced() == 1
    assert stack.sql("SELECT status FROM appt_waitlist WHERE id = %d" % wid) == [["removed"]]
    assert count(stack, "SELECT COUNT(*) FROM appt_appointments WHERE waitlist_id = %d", wid) == 0
    assert len(offers_of(stack, aid)) == 2


@pytest.mark.timeout(120)
def test_waitlist_accept_is_rerun_after_a_deadlock(stack):
    a, aid, wid, s = held_offer(stack)
    with reminders_forced(stack, a) as f:
        r = a.post(API + "/waitlist/%d/accept" % wid)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    got = r.json()
    assert got["status"] == "booked" and got["start"] == iso(s), got
    assert waitlist(a) == []
    assert stack.sql("SELECT status FROM appt_waitlist WHERE id = %d" % wid) == [["booked"]]
    assert count(stack, "SELECT COUNT(*) FROM appt_appointments WHERE member_id = %d",
                 a.member.id) == 1
    assert queued_reminders(stack, got["id"]) == ([("days", int(s.timestamp())),
                                                   ("hours", int(s.timestamp()))], 2)


@pytest.mark.timeout(120)
def test_waitlist_add_is_rerun_after_a_deadlock(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack, kinds=(("first", 30),))
    far = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    with forced_deadlock(stack, "appt_waitlist", "INSERT",
                         "NEW.member_id = %d" % a.member.id) as f:
        r = a.post(API + "/waitlist", json={"agenda": aid, "kind": "first", "before": far})
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    assert [w["id"] for w in waitlist(a)] == [r.json()["id"]]


# ---- the back office's


def notifications(stack, c, kind):
    return count(stack, "SELECT COUNT(*) FROM notifications WHERE member_id = %d AND kind = '%s'",
                 c.member.id, kind)


def audit(stack, agent, action):
    return stack.sql("SELECT member_id, reason FROM audit_log WHERE agent_id = %d AND action = '%s' "
                     "ORDER BY id" % (agent.agent.id, action))


@pytest.mark.timeout(90)
def test_office_cancel_is_rerun_after_a_deadlock(stack):
    aid = make_agenda(stack)
    m = new_member_client(stack)
    x = book(m, aid, future_slot(4, hour=10))
    agent = agent_client(stack)
    with forced_deadlock(stack, "notifications", "INSERT",
                         "NEW.member_id = %d AND NEW.kind = 'appointments.change'"
                         % m.member.id) as f:
        r = agent.post(BO + "/%d/cancel" % x["id"], json={"reason": "Absence du praticien"})
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    got = r.json()
    assert got["status"] == "cancelled_by_office" and got["sequence"] == 1, got
    assert notifications(stack, m, "appointments.change") == 1
    assert count(stack, "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '%s'",
                 m.member.email) == 1
    assert audit(stack, agent, "appointments.cancel") == [[str(m.member.id),
                                                           "Absence du praticien"]]
    assert queued_reminders(stack, x["id"]) == ([], 0)
    assert len(offers_of(stack, aid)) == 1


@pytest.mark.timeout(90)
def test_done_is_rerun_after_a_deadlock(stack):
    aid = make_agenda(stack)
    m = new_member_client(stack)
    x = book(m, aid, future_slot(3, hour=8))
    stack.sql("UPDATE appt_appointments SET start_utc = UTC_TIMESTAMP() - INTERVAL 1 HOUR, "
              "end_utc = UTC_TIMESTAMP() - INTERVAL 30 MINUTE WHERE id = %d" % x["id"])
    agent = agent_client(stack)
    with forced_deadlock(stack, "appt_appointments", "UPDATE",
                         "NEW.id = %d AND NEW.status = 'done'" % x["id"]) as f:
        r = agent.post(BO + "/%d/done" % x["id"])
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    assert r.json()["status"] == "done"
    assert [row[0] for row in audit(stack, agent, "appointments.done")] == [str(m.member.id)]


def closure_of(stack, aid):
    """Two members booked inside a closure of the agenda, one outside; the
    agent; the closure's body."""
    a, b, c = (new_member_client(stack) for _ in range(3))
    s = future_slot(8, hour=9)
    xs = [book(a, aid, s), book(b, aid, s + dt.timedelta(hours=2)),
          book(c, aid, s + dt.timedelta(days=1))]
    body = {"from": iso(s - dt.timedelta(hours=1)), "to": iso(s + dt.timedelta(hours=6)),
            "reason": "Formation"}
    return (a, b, c), xs, agent_client(stack), body


def audit_forced(stack, member, **kw):
    """A conflict forced on the closure's audit row of that member."""
    return forced_deadlock(stack, "audit_log", "INSERT",
                           "NEW.action = 'appointments.closure.cancel' AND NEW.member_id = %d"
                           % member.member.id, **kw)


@pytest.mark.timeout(90)
def test_closure_is_rerun_after_a_deadlock(stack):
    aid = make_agenda(stack)
    (a, b, c), xs, agent, body = closure_of(stack, aid)
    with audit_forced(stack, b) as f:
        r = agent.post(BO + "/agendas/%d/closures" % aid, json=body)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    assert r.json()["cancelled"] == 2
    assert count(stack, "SELECT COUNT(*) FROM appt_closures WHERE agenda_id = %d", aid) == 1
    assert [who.get(API + "/%d" % x["id"]).json()["status"] for who, x in zip((a, b, c), xs)] == [
        "cancelled_by_office", "cancelled_by_office", "booked"]
    assert sorted(row[0] for row in audit(stack, agent, "appointments.closure.cancel")) == sorted(
        [str(a.member.id), str(b.member.id)])
    assert len(audit(stack, agent, "appointments.closure")) == 1
    assert [notifications(stack, who, "appointments.change") for who in (a, b, c)] == [1, 1, 0]
    assert len(offers_of(stack, aid)) == 2


@pytest.mark.timeout(90)
def test_a_deadlock_every_time_on_a_closure_answers_500_and_writes_nothing(stack):
    # portail_tx_retry answers the 500 once the conflicts' bound is reached:
    # no closure, no cancellation, no notification, mail, audit row or job.
    aid = make_agenda(stack)
    (a, b, c), xs, agent, body = closure_of(stack, aid)
    with audit_forced(stack, b, times=5) as f:
        r = agent.post(BO + "/agendas/%d/closures" % aid, json=body)
        assert r.status_code == 500, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert f.forced() == 3  # PORTAIL_DB_TX_ATTEMPTS
    assert count(stack, "SELECT COUNT(*) FROM appt_closures WHERE agenda_id = %d", aid) == 0
    for who, x in zip((a, b, c), xs):
        assert who.get(API + "/%d" % x["id"]).json()["status"] == "booked"
        assert len(queued_reminders(stack, x["id"])[0]) == 2
        assert notifications(stack, who, "appointments.change") == 0
        assert count(stack, "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '%s'",
                     who.member.email) == 0
    assert audit(stack, agent, "appointments.closure.cancel") == []
    assert audit(stack, agent, "appointments.closure") == []
    assert offers_of(stack, aid) == []


# ---- the jobs' steps: done in their first attempt


def wait_job(stack, job_id):
    """The job's (state, attempts) once it left the queue."""
    sql = "SELECT state, attempts FROM jobs WHERE id = %d" % job_id
    deadline = time.monotonic() + 30
    while stack.sql(sql)[0][0] in ("queued", "running"):
        assert time.monotonic() < deadline, stack.sql(sql)
        time.sleep(0.2)
    return stack.sql(sql)[0]


@pytest.mark.timeout(90)
def test_reminder_job_is_rerun_after_a_deadlock(stack):
    a = new_member_client(stack)
    x = book(a, make_agenda(stack), future_slot(4, hour=9))
    ids = [j[0] for j in jobs_of(stack, "appointments.remind", appointment=x["id"])]
    with forced_deadlock(stack, "notifications", "INSERT",
                         "NEW.member_id = %d AND NEW.kind = 'appointments.reminder'"
                         % a.member.id) as f:
        run_now(stack, ids)
        assert [wait_job(stack, i) for i in ids] == [["done", "1"]] * 2
        assert f.forced() == 1
    assert stack.sql("SELECT which FROM appt_reminders WHERE appointment_id = %d ORDER BY which"
                     % x["id"]) == [["days"], ["hours"]]
    assert notifications(stack, a, "appointments.reminder") == 2


@pytest.mark.timeout(120)
def test_offer_job_is_rerun_after_a_deadlock(stack):
    aid = make_agenda(stack, kinds=(("first", 30),))
    s = future_slot(7, hour=9)
    a, c = new_member_client(stack), new_member_client(stack)
    far = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert a.post(API + "/waitlist", json={"agenda": aid, "kind": "first",
                                            "before": far}).status_code == 201
    x = book(c, aid, s)
    with forced_deadlock(stack, "notifications", "INSERT",
                         "NEW.member_id = %d AND NEW.kind = 'appointments.offer'"
                         % a.member.id) as f:
        assert c.post(API + "/%d/cancel" % x["id"]).status_code == 200
        [job] = [j[0] for j in offers_of(stack, aid)]
        assert wait_job(stack, job) == ["done", "1"]
        assert f.forced() == 1
    wid = waitlist(a)[0]["id"]
    assert offer_of(a)["start"] == iso(s)
    assert count(stack, "SELECT COUNT(*) FROM appt_appointments WHERE waitlist_id = %d "
                 "AND status = 'held'", wid) == 1
    assert count(stack, "SELECT COUNT(*) FROM appt_offers WHERE waitlist_id = %d", wid) == 1
    assert notifications(stack, a, "appointments.offer") == 1
    assert len(jobs_of(stack, "appointments.offer_expire", appointment=int(stack.sql(
        "SELECT id FROM appt_appointments WHERE waitlist_id = %d" % wid)[0][0]))) == 1


@pytest.mark.timeout(120)
def test_offer_expiry_job_is_rerun_after_a_deadlock(stack):
    a, aid, wid, s = held_offer(stack)
    held = int(stack.sql("SELECT id FROM appt_appointments WHERE waitlist_id = %d" % wid)[0][0])
    [job] = [j[0] for j in jobs_of(stack, "appointments.offer_expire", appointment=held)]
    stack.sql("UPDATE appt_appointments SET held_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
              "WHERE id = %d" % held)
    with slot_freed_forced(stack, aid) as f:
        run_now(stack, [job])
        assert wait_job(stack, job) == ["done", "1"]
        assert f.forced() == 1
    assert count(stack, "SELECT COUNT(*) FROM appt_appointments WHERE id = %d", held) == 0
    assert [j[2]["start"] for j in offers_of(stack, aid)] == [int(s.timestamp())] * 2
