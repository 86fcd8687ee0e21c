"""Module appointments: reminders (J-2 and H-2 jobs, sent once, nothing for
a cancelled or moved appointment) and the waitlist (offer to the first
waiting member whose date limit is after the slot, the slot held meanwhile,
expiry to the next one, accept in one call). Jobs are made due at once, as
tests/integration/test_jobs.py drives them."""

import datetime as dt
import subprocess
import time
from zoneinfo import ZoneInfo

from appt_helpers import (API, book, future_slot, iso, jobs_of, make_agenda, new_member_client,
                          wait_jobs_done, wait_until)


def remind_jobs(stack, appt_id):
    return [j for j in jobs_of(stack, "appointments.remind", appt_id)]


def run_now(stack, job_ids):
    stack.sql("UPDATE jobs SET state = 'queued', run_at = UTC_TIMESTAMP() WHERE id IN (%s)"
              % ",".join(map(str, job_ids)))


def reminders(stack, appt_id):
    return stack.sql("SELECT which FROM appt_reminders WHERE appointment_id = %d ORDER BY which"
                     % appt_id)


def mails_to(stack, email, word):
    return [m for m in stack.mails() if email in m["to"] and word in m["subject"]]


def test_reminders_sent_once_with_date_time_and_place(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    s = future_slot(4, hour=9)
    x = book(a, aid, s, reason="Douleur au genou")
    jobs = remind_jobs(stack, x["id"])
    assert sorted(j[2]["which"] for j in jobs) == ["days", "hours"]
    assert all(j[1] == "queued" and j[2]["start"] == int(s.timestamp()) for j in jobs)
    ids = [j[0] for j in jobs]
    run_now(stack, ids)
    wait_jobs_done(stack, ids)
    assert reminders(stack, x["id"]) == [["days"], ["hours"]]
    got = wait_until(lambda: len(mails_to(stack, a.member.email, "Rappel")) == 2 and
                     mails_to(stack, a.member.email, "Rappel"), 15, "two reminder mails")
    body = got[0]["body"]
    paris = s.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    assert paris in body and "heure de Paris" in body and "1 rue du Test" in body
    assert "genou" not in body and "Première" not in body
    assert int(stack.sql("SELECT COUNT(*) FROM notifications WHERE member_id = %d AND kind = "
                         "'appointments.reminder'" % a.member.id)[0][0]) == 2
    # Run again (a job runs at least once): nothing more.
    run_now(stack, ids)
    wait_jobs_done(stack, ids)
    time.sleep(1.5)
    assert reminders(stack, x["id"]) == [["days"], ["hours"]]
    assert len(mails_to(stack, a.member.email, "Rappel")) == 2
    # One mail per reminder: the reminder itself, not also the core's
    # "nouvelle notification" one.
    assert mails_to(stack, a.member.email, "Vous avez une nouvelle notification") == []


def test_cancelled_or_moved_appointment_sends_no_reminder(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    x = book(a, aid, future_slot(4, hour=9))
    y = book(a, aid, future_slot(5, hour=9))
    assert a.post(API + "/%d/cancel" % x["id"]).status_code == 200
    old = [j[0] for j in remind_jobs(stack, y["id"])]
    s2 = future_slot(5, hour=11)
    assert a.post(API + "/%d/move" % y["id"], json={"start": iso(s2)}).status_code == 200
    new = [j for j in remind_jobs(stack, y["id"]) if j[0] not in old]
    assert sorted(j[2]["which"] for j in new) == ["days", "hours"]
    assert all(j[2]["start"] == int(s2.timestamp()) for j in new)
    stale = [j[0] for j in remind_jobs(stack, x["id"])] + old
    # Their jobs are cancelled; forced to run anyway, they send nothing.
    assert [j[1] for j in jobs_of(stack, "appointments.remind")
            if j[0] in stale] == ["cancelled"] * 4
    run_now(stack, stale)
    wait_jobs_done(stack, stale)
    time.sleep(1)
    assert reminders(stack, x["id"]) == [] and reminders(stack, y["id"]) == []
    assert mails_to(stack, a.member.email, "Rappel") == []
    states = stack.sql("SELECT state FROM jobs WHERE id IN (%s)" % ",".join(map(str, stale)))
    assert all(s[0] == "done" for s in states)
    # The moved one's own reminders do go out.
    run_now(stack, [j[0] for j in new])
    wait_jobs_done(stack, [j[0] for j in new])
    assert reminders(stack, y["id"]) == [["days"], ["hours"]]


def waitlist(c):
    r = c.get(API + "/waitlist")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def offer_of(c):
    items = waitlist(c)
    return items[0]["offer"] if items else None


def test_waitlist_order_hold_expiry_and_accept(stack):
    aid = make_agenda(stack, kinds=(("first", 30),))
    s = future_slot(6, hour=9)
    day = (s + dt.timedelta(hours=1)).date()
    # E waits first but only for a date before the slot: skipped.
    e, a, b, c, d = (new_member_client(stack) for _ in range(5))
    for who, before in ((e, day), (a, day + dt.timedelta(days=10)), (b, day + dt.timedelta(days=3))):
        r = who.post(API + "/waitlist", json={"agenda": aid, "kind": "first",
                                               "before": before.isoformat()})
        assert r.status_code == 201, r.text
        assert r.json()["offer"] is None and r.json()["agenda"]["id"] == aid
        time.sleep(0.01)
    x = book(c, aid, s)
    stack.clear_mails()
    assert c.post(API + "/%d/cancel" % x["id"]).status_code == 200
    # A (first whose limit is after the slot) is offered it and it is held.
    offer = wait_until(lambda: offer_of(a), 20, "offer to A")
    assert offer["start"] == iso(s) and offer["until"]
    assert offer_of(b) is None and offer_of(e) is None
    slots = d.get(API + "/agendas/%d/slots" % aid, params={
        "from": day.isoformat(), "to": day.isoformat()}).json()["slots"]
    assert iso(s) not in [x["start"] for x in slots]
    book(d, aid, s, expect=409)
    wait_until(lambda: [m for m in stack.mails() if a.member.email in m["to"]
                        and "plus tôt" in m["subject"]], 15, "offer mail")
    # A lets it expire: B gets it.
    wid_a = waitlist(a)[0]["id"]
    stack.sql("UPDATE appt_appointments SET held_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
              "WHERE waitlist_id = %d AND status = 'held'" % wid_a)
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE kind = 'appointments.offer_expire' "
              "AND state = 'queued'")
    offer_b = wait_until(lambda: offer_of(b), 20, "offer to B")
    assert offer_b["start"] == iso(s)
    assert offer_of(a) is None
    r = a.post(API + "/waitlist/%d/accept" % wid_a)
    assert r.status_code == 409 and "délai" in r.json()["detail"]
    # B accepts: booked, off the waitlist.
    wid_b = waitlist(b)[0]["id"]
    r = b.post(API + "/waitlist/%d/accept" % wid_b)
    assert r.status_code == 201, r.text
    appt = r.json()
    assert appt["status"] == "booked" and appt["start"] == iso(s)
    assert waitlist(b) == []
    assert [i["id"] for i in b.get(API + "?when=upcoming").json()["items"]] == [appt["id"]]
    assert int(stack.sql("SELECT COUNT(*) FROM appt_appointments WHERE agenda_id = %d AND "
                         "active_start IS NOT NULL" % aid)[0][0]) == 1
    # A is still waiting (for another slot).
    assert len(waitlist(a)) == 1


def test_waitlist_validation_and_removal(stack):
    a, b = new_member_client(stack), new_member_client(stack)
    aid = make_agenda(stack, kinds=(("first", 30),))
    today = dt.date.today()
    for body, field in (({"before": today.isoformat()}, "before"),
                        ({"before": "2027-02-30"}, "before"),
                        ({"kind": "adviser"}, "kind"),
                        ({"agenda": 999999999}, "agenda")):
        full = {"agenda": aid, "kind": "first", "before": (today + dt.timedelta(days=20)).isoformat()}
        full.update(body)
        r = a.post(API + "/waitlist", json=full)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field
    r = a.post(API + "/waitlist", json={"agenda": aid, "kind": "first",
                                         "before": (today + dt.timedelta(days=20)).isoformat()})
    wid = r.json()["id"]
    assert b.delete(API + "/waitlist/%d" % wid).status_code == 404
    assert b.post(API + "/waitlist/%d/accept" % wid).status_code == 404
    assert a.delete(API + "/waitlist/%d" % wid).status_code == 204
    assert a.delete(API + "/waitlist/%d" % wid).status_code == 404
    assert waitlist(a) == []


def test_waitlist_cap_of_ten_holds_for_two_adds_at_once(stack):
    """At most 10 waiting entries per member (409, and its message). An add
    counts the entries with the member's row locked, so that two adds at
    once cannot both count 9 and both insert: here a mariadb client plays
    the other add (locks the member's row, waits, inserts the 10th entry,
    commits) while the request is sent. Before the lock the request counted
    9 and made an 11th entry."""
    a = new_member_client(stack)
    mid = a.member.id
    aid = make_agenda(stack, kinds=(("first", 30),))
    far = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    body = {"agenda": aid, "kind": "first", "before": far}
    for _ in range(9):
        assert a.post(API + "/waitlist", json=body).status_code == 201
    other = subprocess.Popen(
        ["mariadb", "--no-defaults", "-S", str(stack.mariadb.socket), "-uroot", "portail", "-e",
         "BEGIN; SELECT id FROM members WHERE id = %d FOR UPDATE; DO SLEEP(3); "
         "INSERT INTO appt_waitlist (member_id, agenda_id, kind, before_date) "
         "VALUES (%d, %d, 'first', '%s'); COMMIT;" % (mid, mid, aid, far)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # Its lock is taken once it sleeps.
        wait_until(lambda: int(stack.sql("SELECT COUNT(*) FROM information_schema.processlist "
                                         "WHERE info = 'DO SLEEP(3)'")[0][0]) > 0,
                   10, "the other add's lock")
        r = a.post(API + "/waitlist", json=body)
    finally:
        _, err = other.communicate(timeout=60)
    assert other.returncode == 0, err
    assert r.status_code == 409, r.text
    assert "10 agendas" in r.json()["detail"]
    waiting = stack.sql("SELECT COUNT(*) FROM appt_waitlist WHERE member_id = %d "
                        "AND status = 'waiting'" % mid)
    assert int(waiting[0][0]) == 10
    assert a.post(API + "/waitlist", json=body).status_code == 409


def test_withdrawing_a_held_offer_passes_it_on(stack):
    aid = make_agenda(stack, kinds=(("first", 30),))
    s = future_slot(7, hour=9)
    a, b, c = (new_member_client(stack) for _ in range(3))
    far = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    for who in (a, b):
        assert who.post(API + "/waitlist", json={"agenda": aid, "kind": "first",
                                                  "before": far}).status_code == 201
        time.sleep(0.01)
    x = book(c, aid, s)
    assert c.post(API + "/%d/cancel" % x["id"]).status_code == 200
    wait_until(lambda: offer_of(a), 20, "offer to A")
    assert a.delete(API + "/waitlist/%d" % waitlist(a)[0]["id"]).status_code == 204
    assert wait_until(lambda: offer_of(b), 20, "offer to B")["start"] == iso(s)


def test_member_deletion_removes_appointments_and_waitlist(stack):
    aid = make_agenda(stack, kinds=(("first", 30),))
    a, c = new_member_client(stack), new_member_client(stack)
    far = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert a.post(API + "/waitlist", json={"agenda": aid, "kind": "first",
                                            "before": far}).status_code == 201
    x = book(a, aid, future_slot(4, hour=9))
    ids = [j[0] for j in remind_jobs(stack, x["id"])]
    run_now(stack, ids)
    wait_jobs_done(stack, ids)
    y = book(c, aid, future_slot(5, hour=9))
    assert c.post(API + "/%d/cancel" % y["id"]).status_code == 200
    wait_until(lambda: offer_of(a), 20, "offer to A")  # a held row of A's
    r = stack.portailctl("member", "delete", a.member.nir)
    assert r.returncode == 0, r.stdout + r.stderr
    for table in ("appt_appointments", "appt_waitlist"):
        assert stack.sql("SELECT COUNT(*) FROM %s WHERE member_id = %d"
                         % (table, a.member.id)) == [["0"]]
    assert stack.sql("SELECT COUNT(*) FROM appt_reminders WHERE appointment_id = %d"
                     % x["id"]) == [["0"]]
