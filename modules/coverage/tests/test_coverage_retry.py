"""Module coverage: its writes that a Galera cluster can abort (1213: a
write through another node to the same rows, reported at any statement or
at COMMIT) are rerun whole (portail_tx_retry; portail_db_tx_retry in the
jobs). A 1213 is forced on one write of each (conftest.forced_deadlock),
the last of its transaction where one can be named: the answer is the one
without the conflict and the change is written once, with its mail,
notification, job, event or audit row once. Without the rerun each
answered 500 (the job waited for its backoff)."""

import time

import pytest

from conftest import agent_client, forced_deadlock
from test_coverage import member_client, pdf_text, seeded  # noqa: F401 (fixture)
from test_coverage_profile import BANK, REASON, VERIFY_SUBJECT, iban_of, signed_in
from test_coverage_vitale_order import member_with_card, mine, order

NOTICE_SUBJECT = "Modification de votre adresse e-mail demandée"
LOCKED_SUBJECT = "Votre compte a été bloqué"
CONTACT = {"phone": "0612345678", "address_line": "4 rue Pasteur", "postal_code": "33000",
           "city": "Bordeaux"}


def count(stack, sql, *args):
    return int(stack.sql(sql % args)[0][0])


def mails_to(stack, address, subject_like="%"):
    """Mails queued (outbox), sent or not: a rolled-back attempt queues none."""
    return count(stack, "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '%s' AND "
                 "subject LIKE '%s'", address, subject_like)


def events(stack, member, kind):
    return count(stack, "SELECT COUNT(*) FROM security_events WHERE member_id = %d AND "
                 "kind = '%s'", member.id, kind)


def notifications(stack, member, title):
    return count(stack, "SELECT COUNT(*) FROM notifications WHERE member_id = %d AND "
                 "title = '%s'", member.id, title)


def audited(stack, member, action):
    return stack.sql("SELECT reason FROM audit_log WHERE member_id = %d AND action = '%s'"
                     % (member.id, action))


def mailed(stack, address, subject, times=1):
    """A deadlock on the next mail queued to address with this subject."""
    return forced_deadlock(stack, "mail_outbox", "INSERT", "NEW.recipient = '%s' AND "
                           "NEW.subject = '%s'" % (address, subject), times=times)


def pending_verification(stack, member):
    """The verification the change asked for: lock, link and mail, once."""
    assert stack.sql("SELECT reason FROM account_locks WHERE member_id = %d" % member.id) == [
        ["pending_verification"]]
    assert count(stack, "SELECT COUNT(*) FROM one_time_tokens WHERE purpose = 'verify' AND "
                 "subject_id = %d", member.id) == 1
    assert events(stack, member, "account_locked") == 1


@pytest.mark.timeout(90)
def test_contact_change_is_rerun_after_a_deadlock(stack):
    m = stack.new_member()
    c = signed_in(stack, m)
    # The phone and address alone: the phone's row is the last write.
    with forced_deadlock(stack, "coverage_profile", "INSERT", "NEW.member_id = %d" % m.id) as f:
        r = c.put("/api/v1/profile/contact", json={**CONTACT, "email": m.email})
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "updated"}
        assert f.forced() == 1
    assert stack.sql("SELECT phone FROM coverage_profile WHERE member_id = %d" % m.id) == [
        [CONTACT["phone"]]]
    assert stack.sql("SELECT address_line, postal_code FROM insured WHERE id = %d"
                     % m.insured_id) == [[CONTACT["address_line"], CONTACT["postal_code"]]]


@pytest.mark.timeout(90)
def test_email_change_is_rerun_after_a_deadlock(stack):
    m = stack.new_member()
    c = signed_in(stack, m)
    # The notice to the address on file is the last write.
    new = "nouveau-%d@example.fr" % m.id
    with mailed(stack, m.email, NOTICE_SUBJECT) as f:
        r = c.put("/api/v1/profile/contact", json={**CONTACT, "email": new})
        assert r.status_code == 202, r.text
        assert r.json() == {"status": "pending_verification"}
        assert f.forced() == 1
    assert stack.sql("SELECT kind, email, status FROM coverage_profile_changes WHERE "
                     "member_id = %d" % m.id) == [["email", new, "pending"]]
    assert stack.sql("SELECT email FROM members WHERE id = %d" % m.id) == [[m.email]]
    assert stack.sql("SELECT phone FROM coverage_profile WHERE member_id = %d" % m.id) == [
        [CONTACT["phone"]]]
    pending_verification(stack, m)
    assert mails_to(stack, new, VERIFY_SUBJECT) == 1
    assert mails_to(stack, m.email, NOTICE_SUBJECT) == 1
    assert mails_to(stack, m.email, LOCKED_SUBJECT) == 1


@pytest.mark.timeout(90)
def test_bank_change_is_rerun_after_a_deadlock(stack):
    m = stack.new_member()
    before = iban_of(stack, m)
    # The link's mail is the last write (portail_account_request_verification).
    with mailed(stack, m.email, VERIFY_SUBJECT) as f:
        r = signed_in(stack, m).put("/api/v1/profile/bank", json=BANK)
        assert r.status_code == 202, r.text
        assert r.json() == {"status": "pending_verification"}
        assert f.forced() == 1
    assert stack.sql("SELECT kind, iban, status FROM coverage_profile_changes WHERE "
                     "member_id = %d" % m.id) == [["bank", BANK["iban"], "pending"]]
    assert iban_of(stack, m) == before
    pending_verification(stack, m)
    assert mails_to(stack, m.email, VERIFY_SUBJECT) == 1
    assert mails_to(stack, m.email, LOCKED_SUBJECT) == 1


@pytest.mark.timeout(90)
def test_agent_decision_is_rerun_after_a_deadlock(stack):
    m = stack.new_member()
    assert signed_in(stack, m).put("/api/v1/profile/bank", json=BANK).status_code == 202
    change = int(stack.sql("SELECT id FROM coverage_profile_changes WHERE member_id = %d"
                           % m.id)[0][0])
    agent = agent_client(stack)
    # The lock lifted after the change is applied.
    with forced_deadlock(stack, "account_locks", "DELETE", "OLD.member_id = %d" % m.id) as f:
        r = agent.post("/api/v1/backoffice/coverage/profile-changes/%d" % change,
                       json={"decision": "confirm", "reason": REASON})
        assert r.status_code == 200, r.text
        assert r.json() == {"id": change, "status": "applied"}
        assert f.forced() == 1
    assert iban_of(stack, m) == BANK["iban"]
    assert stack.sql("SELECT status FROM coverage_profile_changes WHERE member_id = %d"
                     % m.id) == [["applied"]]
    assert stack.sql("SELECT COUNT(*) FROM account_locks WHERE member_id = %d" % m.id) == [["0"]]
    assert events(stack, m, "account_unlocked") == 1
    assert mails_to(stack, m.email, "Votre compte a été débloqué") == 1
    assert audited(stack, m, "coverage.profile_change_decided") == [[REASON]]


@pytest.mark.timeout(90)
def test_card_report_is_rerun_after_a_deadlock(stack):
    m, c = member_with_card(stack)
    card = int(mine(c)[0]["id"])
    # Its notification is the last write.
    with forced_deadlock(stack, "notifications", "INSERT", "NEW.member_id = %d" % m.id) as f:
        r = c.post("/api/v1/coverage/vitale/me/report", json={"kind": "lost"})
        assert r.status_code == 200, r.text
        assert r.json() == {"id": card, "status": "lost"}
        assert f.forced() == 1
    assert events(stack, m, "vitale_reported") == 1
    assert notifications(stack, m, "Carte Vitale désactivée") == 1


@pytest.mark.timeout(90)
def test_card_report_cancellation_is_rerun_after_a_deadlock(stack):
    m, c = member_with_card(stack, "lost")
    card = int(mine(c)[0]["id"])
    stack.sql("UPDATE coverage_vitale SET reported_at = UTC_TIMESTAMP() WHERE id = %d" % card)
    # Its notification is the last write.
    with forced_deadlock(stack, "notifications", "INSERT", "NEW.member_id = %d" % m.id) as f:
        r = agent_client(stack).post("/api/v1/backoffice/coverage/cards/%d/cancel-report" % card,
                                     json={"reason": REASON})
        assert r.status_code == 200, r.text
        assert r.json() == {"id": card, "status": "active"}
        assert f.forced() == 1
    assert stack.sql("SELECT status, reported_at FROM coverage_vitale WHERE id = %d" % card) == [
        ["active", None]]
    assert notifications(stack, m, "Carte Vitale réactivée") == 1
    assert audited(stack, m, "coverage.card_report_cancelled") == [[REASON]]


def forced_notification(stack, m, title):
    """A 1213 forced on the member's next notification of that title."""
    return forced_deadlock(stack, "notifications", "INSERT",
                           "NEW.member_id = %d AND NEW.title = '%s'" % (m.id, title))


def first_step(card):
    """The SQL of the card's job to its first step (in production): state, attempts."""
    return ("SELECT state, attempts FROM jobs WHERE kind = 'coverage.vitale_advance' AND "
            "JSON_VALUE(payload, '$.to') = 'in_production' AND "
            "JSON_VALUE(payload, '$.card') = %d" % card)


@pytest.mark.timeout(90)
def test_vitale_order_is_rerun_after_a_deadlock(stack):
    m, c = member_with_card(stack, "lost")
    with forced_notification(stack, m, "Carte Vitale commandée") as f:
        r = order(c)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    body = r.json()
    assert body["status"] == "ordered"
    assert stack.sql("SELECT id, serial FROM coverage_vitale WHERE insured_id = %d AND status "
                     "NOT IN ('lost')" % m.insured_id) == [[str(body["id"]), body["serial"]]]
    # The files once: the rolled-back attempt's went with it.
    assert count(stack, "SELECT COUNT(*) FROM documents WHERE member_id = %d", m.id) == 2
    assert len(stack.sql(first_step(body["id"]))) == 1
    assert notifications(stack, m, "Carte Vitale commandée") == 1


@pytest.mark.timeout(90)
def test_vitale_advance_is_rerun_after_a_deadlock(stack):
    """The job's step rerun at once, not after the job's backoff: one attempt."""
    m, c = member_with_card(stack, "lost")
    with forced_notification(stack, m, "Carte Vitale en fabrication") as f:
        job = first_step(order(c).json()["id"])
        deadline = time.monotonic() + 30
        while stack.sql(job)[0][0] in ("queued", "running"):
            assert time.monotonic() < deadline, stack.sql(job)
            time.sleep(0.2)
        assert f.forced() == 1
    assert stack.sql(job) == [["done", "1"]]
    assert notifications(stack, m, "Carte Vitale en fabrication") == 1


@pytest.mark.timeout(90)
def test_doctor_declaration_is_rerun_after_a_deadlock(stack, seeded):
    m = stack.new_member()
    c = member_client(stack, m.id)
    found = c.get("/api/v1/coverage/practitioners", params={"place": "Paris"}).json()[
        "practitioners"]
    first, second = int(found[0]["id"]), int(found[1]["id"])
    assert c.post("/api/v1/coverage/doctor", json={"practitioner": first}).status_code == 201
    # The second declaration's confirmation job is its last write.
    with forced_deadlock(stack, "jobs", "INSERT",
                         "NEW.kind = 'coverage.doctor_confirm' AND "
                         "JSON_VALUE(NEW.payload, '$.declaration') = (SELECT MAX(id) FROM "
                         "coverage_doctors WHERE insured_id = %d)" % m.insured_id) as f:
        r = c.post("/api/v1/coverage/doctor", json={"practitioner": second})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pending"
        assert int(r.json()["practitioner"]["id"]) == second
        assert f.forced() == 1
    rows = stack.sql("SELECT id, practitioner_id, status FROM coverage_doctors WHERE "
                     "insured_id = %d ORDER BY id" % m.insured_id)
    assert [r[1:] for r in rows] == [[str(first), "ended"], [str(second), "pending"]]
    assert count(stack, "SELECT COUNT(*) FROM jobs WHERE kind = 'coverage.doctor_confirm' AND "
                 "JSON_VALUE(payload, '$.declaration') = %s", rows[1][0]) == 1


@pytest.mark.timeout(90)
def test_attestation_is_rerun_after_a_deadlock(stack, tmp_path):
    m = stack.new_member()
    stack.sql("INSERT INTO coverage_rights (insured_id, regime, fund, open_from, open_to) "
              "VALUES (%d, 'Régime général', 'CPAM de Paris', '2025-01-01', '2027-12-31')"
              % m.insured_id)
    with forced_deadlock(stack, "coverage_attestations", "INSERT",
                         "NEW.insured_id = %d" % m.insured_id) as f:
        r = member_client(stack, m.id).get("/api/v1/coverage/attestation.pdf")
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    assert "Paul Martin" in pdf_text(r.content, tmp_path)
    assert stack.sql("SELECT COUNT(*) FROM coverage_attestations WHERE insured_id = %d"
                     % m.insured_id) == [["1"]]


@pytest.mark.timeout(90)
def test_a_deadlock_every_time_answers_500_and_writes_nothing(stack):
    # portail_tx_retry answers the 500 (and logs it) once the conflicts'
    # bound is reached: no change stored, no lock, no link, no mail.
    m = stack.new_member()
    before = iban_of(stack, m)
    with mailed(stack, m.email, VERIFY_SUBJECT, times=5) as f:
        r = signed_in(stack, m).put("/api/v1/profile/bank", json=BANK)
        assert r.status_code == 500, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert f.forced() == 3  # PORTAIL_DB_TX_ATTEMPTS
    assert stack.sql("SELECT COUNT(*) FROM coverage_profile_changes WHERE member_id = %d"
                     % m.id) == [["0"]]
    assert iban_of(stack, m) == before
    assert stack.sql("SELECT COUNT(*) FROM account_locks WHERE member_id = %d" % m.id) == [["0"]]
    assert count(stack, "SELECT COUNT(*) FROM one_time_tokens WHERE subject_id = %d", m.id) == 0
    assert events(stack, m, "account_locked") == 0
    assert mails_to(stack, m.email) == 0
