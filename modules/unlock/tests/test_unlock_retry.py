"""Module unlock: its writes that a Galera cluster can abort (1213) are
rerun whole (portail_tx_retry): the reset by the mailed link, the account
update's confirmation, an agent's lock and unlock; the reset link itself
(portail_db_tx_retry: its failure still answers 202, issue 18). A 1213 is forced on one
write of each (conftest.forced_deadlock); the request succeeds and the link
is spent, the event, audit row and mail written once. Without the rerun each
answered 500."""

import pytest

from conftest import forced_deadlock
from unlock_util import (NEW_PASSWORD, agent_client, events, forgot, fresh_ip, link_in, lock,
                         member_with_password, password_is, reset_link, settle_mail, state,
                         wait_mail)

BO = "/api/v1/backoffice"
REASON = "Appel de l’assuré, identité vérifiée"


@pytest.fixture
def c(stack):
    return stack.client(xff=fresh_ip())


def kinds(stack, member):
    return [e[0] for e in events(stack, member)]


def lifted_once(stack, member):
    return forced_deadlock(stack, "account_locks", "DELETE", "OLD.member_id = %d" % member.id)


@pytest.mark.timeout(90)
def test_reset_by_link_is_rerun_after_a_deadlock(stack, c):
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    lock(c, member, "password")
    with lifted_once(stack, member) as f:
        r = c.post("/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "reset" and r.json()["still_locked"] is False
        assert f.forced() == 1
    assert state(c, member)["reason"] == "none"
    assert password_is(c, member, NEW_PASSWORD)
    assert kinds(stack, member)[-3:] == ["account_locked", "account_unlocked", "password_reset"]
    assert kinds(stack, member).count("password_reset") == 1
    subjects = [m["subject"] for m in settle_mail(stack, c, member)]
    assert subjects.count("Votre mot de passe a été modifié") == 1
    assert subjects.count("Votre compte a été débloqué") == 1
    # The link was spent by the attempt that committed.
    r = c.post("/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 410, r.text


@pytest.mark.timeout(90)
def test_confirmation_is_rerun_after_a_deadlock(stack, c):
    member = stack.new_member()
    r = c.post("/api/v1/test/account/%d/verification" % member.id, json={"what": "adresse"})
    assert r.status_code == 200, r.text
    _, _, token = link_in(wait_mail(stack, member, "Confirmez la modification de votre compte"))
    with lifted_once(stack, member) as f:
        r = c.post("/api/v1/account/verify", json={"token": token})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "verified" and r.json()["still_locked"] is False
        assert f.forced() == 1
    assert state(c, member)["reason"] == "none"
    assert kinds(stack, member).count("account_update_confirmed") == 1
    assert kinds(stack, member).count("account_unlocked") == 1


@pytest.mark.timeout(90)
def test_agent_unlock_and_lock_are_rerun_after_a_deadlock(stack, c):
    agent = agent_client(stack)
    member = stack.new_member()
    lock(c, member, "suspicious")
    with lifted_once(stack, member) as f:
        r = agent.post(BO + "/members/%d/unlock" % member.id, json={"reason": REASON})
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "unlocked"}
        assert f.forced() == 1
    assert state(c, member)["reason"] == "none"
    with forced_deadlock(stack, "account_locks", "INSERT",
                         "NEW.member_id = %d" % member.id) as f:
        r = agent.post(BO + "/members/%d/lock" % member.id, json={"reason": REASON})
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "locked", "reason": "agent"}
        assert f.forced() == 1
    # Each action audited once, its event once.
    audit = stack.sql("SELECT action FROM audit_log WHERE member_id = %d ORDER BY id" % member.id)
    assert audit == [["unlock"], ["lock"]]
    assert kinds(stack, member).count("account_unlocked") == 1
    assert kinds(stack, member).count("account_locked") == 2  # testmod's, then the agent's


@pytest.mark.timeout(90)
def test_a_deadlock_every_time_answers_500_and_writes_nothing(stack, c):
    # The unlock's writes give no answer of their own when they fail:
    # portail_tx_retry answers the 500 (and logs it) once the conflicts'
    # bound is reached; the lock, the counters and the audit stay as they were.
    agent = agent_client(stack)
    member = stack.new_member()
    lock(c, member, "suspicious")
    with forced_deadlock(stack, "account_locks", "DELETE", "OLD.member_id = %d" % member.id,
                         times=5) as f:
        r = agent.post(BO + "/members/%d/unlock" % member.id, json={"reason": REASON})
        assert r.status_code == 500, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert f.forced() == 3  # PORTAIL_DB_TX_ATTEMPTS
    assert state(c, member)["reason"] == "suspicious"
    assert stack.sql("SELECT COUNT(*) FROM audit_log WHERE member_id = %d" % member.id) == [["0"]]
    assert "account_unlocked" not in kinds(stack, member)


@pytest.mark.timeout(90)
def test_reset_link_is_rerun_after_a_deadlock(stack, c):
    """The link, its mail and the event: the 202 as ever, and everything
    once. Without the rerun the same 202 went out with no link at all."""
    member = member_with_password(stack, c)
    with forced_deadlock(stack, "security_events", "INSERT", "NEW.member_id = %d AND "
                         "NEW.kind = 'password_reset_requested'" % member.id) as f:
        r = forgot(c, member)
        assert r.status_code == 202, r.text
        assert r.json() == {"status": "pending"}
        assert f.forced() == 1
    assert stack.sql("SELECT COUNT(*) FROM one_time_tokens WHERE purpose = 'reset' AND "
                     "subject_id = %d" % member.id) == [["1"]]
    assert kinds(stack, member).count("password_reset_requested") == 1
    mails = settle_mail(stack, c, member)
    assert [m["subject"] for m in mails] == ["Réinitialisation de votre mot de passe"]
    # The link mailed is the one kept.
    _, _, token = link_in(mails[0])
    r = c.post("/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
