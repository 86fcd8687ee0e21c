"""Module coverage, "Mon profil" (modules/coverage/profile.c): contact and
bank details; an IBAN or e-mail change is pending behind the core's
verification lock until the mailed link applies it; an expired link leaves
the old values."""

import re
import time

from conftest import fresh_ip

VERIFY_SUBJECT = "Confirmez la modification de votre compte"
LINK_RE = r"(http://[^\s/]+)(/[a-z/-]+\.html)\?token=([A-Za-z0-9_-]{43})"
BANK = {"iban": "FR1420041010050500013M02606", "bic": "PSSTFRPPXXX", "holder": "Paul Martin"}


def signed_in(stack, member):
    c = stack.client(xff=fresh_ip())
    c.test_login(id=member.id)
    return c


def token_for(stack, member, to=None):
    deadline = time.monotonic() + 20
    while True:
        got = [m for m in stack.mails()
               if m["to"] == (to or member.email) and m["subject"] == VERIFY_SUBJECT]
        if got:
            m = re.search(LINK_RE, got[-1]["body"])
            assert m, got[-1]["body"]
            return m.group(3)
        assert time.monotonic() < deadline, "no verification mail"
        time.sleep(0.1)


def iban_of(stack, member):
    return stack.sql("SELECT iban FROM insured WHERE id = %d" % member.insured_id)[0][0]


def test_iban_vectors(stack):
    m = stack.new_member()
    c = signed_in(stack, m)
    for bad in ("FR1420041010050500013M02607",  # checksum
                "FR14200410100505000013M02606",  # FR length
                "DE8937040044053201300"):  # DE length
        r = c.put("/api/v1/profile/bank", json={**BANK, "iban": bad})
        assert r.status_code == 422, (bad, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["iban"]
    r = c.put("/api/v1/profile/bank", json={**BANK, "bic": "12"})
    assert r.status_code == 422
    r = c.put("/api/v1/profile/bank", json={**BANK, "bic": "PSST1RPP"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bic"
    for good in ("de89 3704 0044 0532 0130 00", "BE68539007547034", "fr14 2004 1010 0505 0001 3m02 606"):
        other = stack.new_member()
        r = signed_in(stack, other).put("/api/v1/profile/bank", json={**BANK, "iban": good})
        assert r.status_code == 202, (good, r.text)
        pending = stack.sql("SELECT iban FROM coverage_profile_changes WHERE member_id = %d"
                            % other.id)
        assert pending == [[good.replace(" ", "").upper()]]


def test_bic_any_case_stored_upper(stack):
    m = stack.new_member()
    r = signed_in(stack, m).put("/api/v1/profile/bank", json={**BANK, "bic": "psstFRpp"})
    assert r.status_code == 202, r.text
    assert stack.sql("SELECT bic FROM coverage_profile_changes WHERE member_id = %d"
                     % m.id) == [["PSSTFRPP"]]
    r = signed_in(stack, stack.new_member()).put("/api/v1/profile/bank",
                                                  json={**BANK, "bic": "PSSTFRPP" + "X" * 300})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bic"

def test_bank_change_waits_for_the_link_then_applies(stack):
    m = stack.new_member()
    c = signed_in(stack, m)
    before = iban_of(stack, m)
    r = c.put("/api/v1/profile/bank", json=BANK)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending_verification"
    # The old IBAN stays in use; the account is locked, the session gone.
    assert iban_of(stack, m) == before
    assert stack.sql("SELECT reason FROM account_locks WHERE member_id = %d" % m.id) == [
        ["pending_verification"]]
    assert c.get("/api/v1/profile").status_code == 401
    token = token_for(stack, m)
    r = stack.client(xff=fresh_ip()).post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 200, r.text
    assert iban_of(stack, m) == BANK["iban"]
    c = signed_in(stack, m)
    body = c.get("/api/v1/profile").json()
    assert body["profile"]["bic"] == "PSSTFRPPXXX" and body["profile"]["holder"] == "Paul Martin"
    assert body["pending"] == []


def test_expired_link_leaves_the_old_values(stack):
    m = stack.new_member()
    c = signed_in(stack, m)
    before = iban_of(stack, m)
    assert c.put("/api/v1/profile/bank", json=BANK).status_code == 202
    token = token_for(stack, m)
    stack.sql("UPDATE one_time_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 HOUR "
              "WHERE purpose = 'verify' AND subject_id = %d" % m.id)
    r = stack.client(xff=fresh_ip()).post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 410
    assert iban_of(stack, m) == before
    assert stack.sql("SELECT status FROM coverage_profile_changes WHERE member_id = %d"
                     % m.id) == [["pending"]]


def test_contact_change_and_email_change(stack):
    m = stack.new_member()
    c = signed_in(stack, m)
    contact = {"email": m.email, "phone": "06 12 34 56 78", "address_line": "4 rue Pasteur",
               "postal_code": "33000", "city": "Bordeaux"}
    r = c.put("/api/v1/profile/contact", json={**contact, "phone": "12", "postal_code": "00000"})
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["phone", "postal_code"]
    r = c.put("/api/v1/profile/contact", json=contact)
    assert r.status_code == 200, r.text
    p = c.get("/api/v1/profile").json()["profile"]
    assert (p["phone"], p["address_line"], p["postal_code"]) == ("0612345678", "4 rue Pasteur",
                                                                 "33000")
    new = "nouveau-%d@example.fr" % m.id
    r = c.put("/api/v1/profile/contact", json={**contact, "email": new})
    assert r.status_code == 202, r.text
    assert stack.sql("SELECT email FROM members WHERE id = %d" % m.id) == [[m.email]]
    # The link goes to the NEW address (which proves it), never to the old one;
    # the old one gets a notice naming the new address, without a link.
    token = token_for(stack, m, to=new)
    # The notice is queued with the link but may be delivered after it.
    deadline = time.monotonic() + 20
    while True:
        mails = stack.mails()
        notice = [x for x in mails if x["to"] == m.email and "adresse e-mail" in x["subject"]]
        if notice or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not [x for x in mails if x["to"] == m.email and x["subject"] == VERIFY_SUBJECT]
    assert len(notice) == 1, [x["subject"] for x in mails if x["to"] == m.email]
    assert new in notice[0]["body"] and "token=" not in notice[0]["body"]
    r = stack.client(xff=fresh_ip()).post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 200, r.text
    assert stack.sql("SELECT email FROM members WHERE id = %d" % m.id) == [[new]]


# ---- back office ----------------------------------------------------------------------

from conftest import agent_client  # noqa: E402

REASON = "Appel de l'assuré, identité vérifiée"


def audit_actions(stack, member):
    return stack.sql("SELECT action, reason FROM audit_log WHERE member_id = %d ORDER BY id"
                     % member.id)


def test_agent_confirms_or_refuses_a_pending_change(stack):
    agent = agent_client(stack)
    m1, m2 = stack.new_member(), stack.new_member()
    before2 = iban_of(stack, m2)
    for m in (m1, m2):
        assert signed_in(stack, m).put("/api/v1/profile/bank", json=BANK).status_code == 202
    r = agent.get("/api/v1/backoffice/coverage/members/%d" % m1.id)
    assert r.status_code == 200, r.text
    change = [c for c in r.json()["profile_changes"] if c["status"] == "pending"][0]
    assert change["kind"] == "bank" and change["iban"] == BANK["iban"]
    url = "/api/v1/backoffice/coverage/profile-changes/%d"
    assert agent.post(url % int(change["id"]), json={"decision": "confirm"}).status_code == 422
    r = agent.post(url % int(change["id"]), json={"decision": "confirm", "reason": REASON})
    assert r.status_code == 200, r.text
    assert iban_of(stack, m1) == BANK["iban"]
    assert stack.sql("SELECT COUNT(*) FROM account_locks WHERE member_id = %d" % m1.id) == [["0"]]
    assert ["coverage.profile_change_decided", REASON] in audit_actions(stack, m1)
    assert agent.post(url % int(change["id"]), json={"decision": "refuse",
                                                      "reason": REASON}).status_code == 409
    c2 = stack.sql("SELECT id FROM coverage_profile_changes WHERE member_id = %d" % m2.id)[0][0]
    r = agent.post(url % int(c2), json={"decision": "refuse", "reason": REASON})
    assert r.status_code == 200, r.text
    assert iban_of(stack, m2) == before2
    assert stack.sql("SELECT status FROM coverage_profile_changes WHERE id = %s" % c2) == [
        ["refused"]]
    deadline = time.monotonic() + 20
    while not [m for m in stack.mails() if m["to"] == m2.email and "débloqué" in m["subject"]]:
        assert time.monotonic() < deadline, "member not mailed"
        time.sleep(0.1)


def test_agent_cancels_a_card_report(stack):
    m = stack.new_member()
    stack.sql("INSERT INTO coverage_vitale (insured_id, serial, status, issued_on) VALUES "
              "(%d, 'Z%010d', 'active', '2020-01-01')" % (m.insured_id, m.id))
    c = signed_in(stack, m)
    assert c.post("/api/v1/coverage/vitale/me/report", json={"kind": "lost"}).status_code == 200
    card = stack.sql("SELECT id FROM coverage_vitale WHERE insured_id = %d" % m.insured_id)[0][0]
    agent = agent_client(stack)
    # What the back-office page reads to offer the cancellation: the card's
    # id, its status and when it was reported.
    bo = "/api/v1/backoffice/coverage/members/%d" % m.id
    listed = agent.get(bo, params={"reason": REASON}).json()["cards"]
    assert [(c["id"], c["status"], c["reported_at"] is not None) for c in listed] == [
        (int(card), "lost", True)]
    url = "/api/v1/backoffice/coverage/cards/%s/cancel-report" % card
    r = agent.post(url, json={"reason": REASON})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": int(card), "status": "active"}
    listed = agent.get(bo, params={"reason": REASON}).json()["cards"]
    assert [(c["id"], c["status"], c["reported_at"]) for c in listed] == [
        (int(card), "active", None)]
    assert stack.sql("SELECT status, reported_at FROM coverage_vitale WHERE id = %s" % card) == [
        ["active", None]] or stack.sql("SELECT status FROM coverage_vitale WHERE id = %s"
                                       % card) == [["active"]]
    assert ["coverage.card_report_cancelled", REASON] in audit_actions(stack, m)
    assert agent.post(url, json={"reason": REASON}).status_code == 409
    assert c.get("/api/v1/coverage/vitale").json()["cards"][0]["status"] == "active"


def test_agent_confirms_an_email_change(stack):
    """The agent's confirm applies the one change named, as the link would."""
    m = stack.new_member()
    new = "par-agent-%d@example.fr" % m.id
    r = signed_in(stack, m).put("/api/v1/profile/contact", json={
        "email": new, "address_line": "4 rue Pasteur", "postal_code": "33000",
        "city": "Bordeaux"})
    assert r.status_code == 202, r.text
    change = stack.sql("SELECT id FROM coverage_profile_changes WHERE member_id = %d" % m.id)[0][0]
    r = agent_client(stack).post("/api/v1/backoffice/coverage/profile-changes/%s" % change,
                                 json={"decision": "confirm", "reason": REASON})
    assert r.status_code == 200, r.text
    assert stack.sql("SELECT email FROM members WHERE id = %d" % m.id) == [[new]]
    assert stack.sql("SELECT status FROM coverage_profile_changes WHERE id = %s" % change) == [
        ["applied"]]
