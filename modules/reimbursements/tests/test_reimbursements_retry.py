"""Module reimbursements: the writes of a claim that a Galera cluster can
abort (1213: a write through another node to the same rows, reported at
COMMIT) are rerun whole (portail_tx_retry): a new claim with its documents,
the document the agent asked for, and the agent's take, approval, refusal
and correction. The files are checked and scanned once
(portail_documents_check) and stored in the rerun transaction
(portail_documents_insert). A 1213 is forced on one write of each
(conftest.forced_deadlock): the answer is the one without the conflict,
every row written once, no document left over from the attempt that was
rolled back. Without the rerun each answered 500."""

import pytest

from conftest import agent_client, forced_deadlock, member_client
from test_reimbursements_claims import API, BO, PDF, audit, notes, send

AMOUNTS = {"base_cents": 2892, "rate_pct": 70, "participation_cents": 0, "franchise_cents": 0}


def count(stack, sql, *args):
    return int(stack.sql(sql % args)[0][0])


def claims_and_documents(stack, member_id):
    return (count(stack, "SELECT COUNT(*) FROM reimb_claims WHERE member_id = %d", member_id),
            count(stack, "SELECT COUNT(*) FROM documents WHERE member_id = %d", member_id),
            count(stack, "SELECT COUNT(*) FROM reimb_claim_documents cd JOIN reimb_claims c "
                  "ON c.id = cd.claim_id WHERE c.member_id = %d", member_id))


@pytest.mark.timeout(90)
def test_a_claim_and_its_documents_are_rerun_after_a_deadlock(stack):
    c = member_client(stack)
    with forced_deadlock(stack, "reimb_claims", "INSERT",
                         "NEW.member_id = %d" % c.member.id) as f:
        r = send(c)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    claim = r.json()
    assert claims_and_documents(stack, c.member.id) == (1, 2, 2)
    got = c.get(API + "/claims/%d" % claim["id"]).json()
    assert sorted(d["id"] for d in got["documents"]) == sorted(d["id"] for d in claim["documents"])
    assert c.get(got["documents"][0]["href"]).content == PDF


@pytest.mark.timeout(120)
def test_the_agents_decisions_and_the_added_document_are_rerun_after_a_deadlock(stack):
    c = member_client(stack)
    me = c.member.id
    one, two = send(c).json()["id"], send(c, kind="optical").json()["id"]
    a = agent_client(stack)
    with forced_deadlock(stack, "reimb_claims", "UPDATE",
                         "NEW.id = %d AND NEW.status = 'in_review'" % one) as f:
        r = a.post(BO + "/%d/take" % one)
        assert r.status_code == 200, r.text
        assert r.json()["assigned_to"] == a.agent.login and f.forced() == 1
    with forced_deadlock(stack, "notifications", "INSERT",
                         "NEW.member_id = %d AND NEW.kind = 'reimbursements.claim'" % me) as f:
        r = a.post(BO + "/%d/approve" % one, json=AMOUNTS)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved" and f.forced() == 1
    pay = r.json()["payment_id"]
    assert count(stack, "SELECT COUNT(*) FROM reimb_payments p JOIN members m "
                 "ON m.insured_id = p.insured_id WHERE m.id = %d AND p.act_code = 'DEM'", me) == 1
    assert audit(stack, me, "reimbursements.claim.approve") == 1

    a.post(BO + "/%d/take" % two)
    with forced_deadlock(stack, "reimb_claims", "UPDATE",
                         "NEW.id = %d AND NEW.status = 'needs_document'" % two) as f:
        r = a.post(BO + "/%d/ask" % two, json={"reason": "Il manque l'ordonnance de l'opticien."})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "needs_document" and f.forced() == 1
    add = [("documents", ("ordonnance.pdf", PDF, "application/pdf"))]
    with forced_deadlock(stack, "reimb_claim_documents", "INSERT",
                         "NEW.claim_id = %d" % two) as f:
        r = c.post(API + "/claims/%d/documents" % two, files=add, data={"pad": "x"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "submitted" and len(r.json()["documents"]) == 3
        assert f.forced() == 1
    assert claims_and_documents(stack, me) == (2, 5, 5)

    fix = dict(AMOUNTS, base_cents=3000, reason="Base corrigée après réexamen de la facture.")
    with forced_deadlock(stack, "reimb_payments", "UPDATE",
                         "OLD.id = %d AND NEW.cancelled_by IS NOT NULL" % pay) as f:
        r = a.post("/api/v1/backoffice/reimbursements/payments/%d/correct" % pay, json=fix)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    new = r.json()["id"]
    assert r.json() == {"id": new, "cancels": pay, "reimbursed_cents": 2100}
    assert count(stack, "SELECT COUNT(*) FROM reimb_payments WHERE cancelled_by = %d", new) == 1
    assert audit(stack, me, "reimbursements.payment.correct") == 1
    assert notes(stack, me) == ["Demande de remboursement acceptée",
                                "Un justificatif manque à votre demande",
                                "Un remboursement a été corrigé"]


@pytest.mark.timeout(90)
def test_a_deadlock_every_time_answers_500_and_keeps_no_document(stack):
    c = member_client(stack)
    with forced_deadlock(stack, "reimb_claims", "INSERT",
                         "NEW.member_id = %d" % c.member.id, times=5) as f:
        r = send(c)
        assert r.status_code == 500, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert f.forced() == 3  # PORTAIL_DB_TX_ATTEMPTS
    assert claims_and_documents(stack, c.member.id) == (0, 0, 0)
