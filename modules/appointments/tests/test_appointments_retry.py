"""Module appointments: a member's cancellation that a Galera cluster aborts
(1213: a write through another node to the same rows, reported at COMMIT)
is rerun whole (portail_tx_retry). A 1213 is forced on its last write, the
freed slot's waitlist job (conftest.forced_deadlock): the answer is 200 and
the cancellation written once (sequence 1, the reminder jobs cancelled, one
waitlist job). Without the rerun it answered 500, as in tests/cluster's
node-kill load (docs/scaling.md)."""

import pytest

from conftest import forced_deadlock

from appt_helpers import API, book, future_slot, jobs_of, make_agenda, new_member_client


@pytest.mark.timeout(90)
def test_cancel_is_rerun_after_a_deadlock(stack):
    a = new_member_client(stack)
    aid = make_agenda(stack)
    x = book(a, aid, future_slot(3))
    assert jobs_of(stack, "appointments.remind", appointment=x["id"])
    with forced_deadlock(stack, "jobs", "INSERT",
                         "NEW.kind = 'appointments.waitlist_offer' AND "
                         "JSON_VALUE(NEW.payload, '$.agenda') = %d" % aid) as f:
        r = a.post(API + "/%d/cancel" % x["id"])
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    got = r.json()
    assert got["status"] == "cancelled_by_member" and got["sequence"] == 1, got
    reminders = jobs_of(stack, "appointments.remind", appointment=x["id"])
    assert reminders and {state for _, state, _ in reminders} == {"cancelled"}, reminders
    offers = [j for j in jobs_of(stack, "appointments.waitlist_offer")
              if j[2].get("agenda") == aid]
    assert len(offers) == 1, offers
