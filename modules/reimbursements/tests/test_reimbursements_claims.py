"""Module reimbursements, online requests (modules/reimbursements/claims.c):
a member sends a request with documents (the core's document service),
lists, reads, downloads and withdraws it; bad uploads; another member's
claim or document is a 404; agents take, approve (a payment line appears
on the member's list), reject or ask for a document; every agent route is
audited and every decision notifies the member."""

import datetime

import pytest

from conftest import agent_client, member_client

API = "/api/v1/reimbursements"
BO = "/api/v1/backoffice/reimbursements/claims"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc```\x00\x00\x00\x04\x00\x01\xf6\x178U\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")


def fields(**over):
    f = {"kind": "dentist", "care_date": (datetime.date.today()
                                          - datetime.timedelta(days=3)).isoformat(),
         "amount_cents": "8000", "beneficiary": "me", "comment": "Détartrage"}
    f.update(over)
    return f


def send(c, files=None, **over):
    files = files if files is not None else [("documents", ("feuille.pdf", PDF, "application/pdf")),
                                             ("documents", ("facture.png", PNG, "image/png"))]
    return c.post(API + "/claims", data=fields(**over), files=files or [("pad", (None, "x"))])


def audit(stack, member_id, action):
    return int(stack.sql("SELECT COUNT(*) FROM audit_log WHERE member_id = %d AND action = '%s'"
                         % (member_id, action))[0][0])


def notes(stack, member_id):
    return [r[0] for r in stack.sql("SELECT title FROM notifications WHERE member_id = %d "
                                    "AND kind = 'reimbursements.claim' ORDER BY id" % member_id)]


def test_member_sends_lists_reads_downloads_and_withdraws(stack):
    c = member_client(stack)
    r = send(c)
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["status"] == "submitted" and claim["amount_paid_cents"] == 8000
    assert claim["expected_by"] == (datetime.date.today()
                                    + datetime.timedelta(days=15)).isoformat()
    assert sorted(d["type"] for d in claim["documents"]) == ["pdf", "png"]
    items = c.get(API + "/claims").json()["items"]
    assert [i["id"] for i in items] == [claim["id"]]
    got = c.get(API + "/claims/%d" % claim["id"]).json()
    assert len(got["documents"]) == 2
    d = c.get(got["documents"][0]["href"])
    assert d.status_code == 200 and d.content == PDF
    assert "attachment" in d.headers["content-disposition"]

    other = member_client(stack)
    assert other.get(API + "/claims/%d" % claim["id"]).status_code == 404
    assert other.get(got["documents"][0]["href"]).status_code == 404
    assert other.post(API + "/claims/%d/withdraw" % claim["id"]).status_code == 404
    assert other.get(API + "/claims").json()["items"] == []

    r = c.post(API + "/claims/%d/withdraw" % claim["id"])
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert c.post(API + "/claims/%d/withdraw" % claim["id"]).status_code == 409


def test_bad_requests_store_nothing(stack):
    c = member_client(stack)
    before = stack.sql("SELECT COUNT(*) FROM documents WHERE member_id = %d" % c.member.id)
    r = send(c, files=[("documents", ("faux.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf"))])
    assert r.status_code == 422, r.text
    r = send(c, files=[("documents", ("f%d.pdf" % i, PDF, "application/pdf")) for i in range(6)])
    assert r.status_code == 422, r.text
    r = send(c, files=[])
    assert r.status_code == 422 and "Aucun fichier" in r.text
    r = send(c, files=[("documents", ("vide.pdf", b"", "application/pdf"))])
    assert r.status_code == 422
    for bad in ({"kind": "massage"}, {"amount_cents": "-5"}, {"amount_cents": "12,50"},
                {"care_date": "2099-01-01"}, {"care_date": "hier"}, {"beneficiary": "Paul"},
                {"beneficiary": "-3"},
                {"comment": "x" * 1001}):
        r = send(c, **bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert stack.sql("SELECT COUNT(*) FROM documents WHERE member_id = %d"
                     % c.member.id) == before
    assert c.get(API + "/claims").json()["items"] == []


def test_agent_takes_and_approves_the_member_sees_the_payment(stack):
    c = member_client(stack)
    claim = send(c).json()
    a = agent_client(stack)
    q = a.get(BO).json()["items"]
    assert claim["id"] in [i["id"] for i in q]
    ids = [i["id"] for i in q]
    assert ids == sorted(ids)  # oldest first
    r = a.get(BO + "/%d" % claim["id"])
    assert r.status_code == 200 and len(r.json()["documents"]) == 2
    assert audit(stack, c.member.id, "reimbursements.claim.read") == 1
    doc = a.get(r.json()["documents"][0]["href"])
    assert doc.status_code == 200 and doc.content == PDF
    assert audit(stack, c.member.id, "reimbursements.claim.document") == 1

    body = {"base_cents": 2892, "rate_pct": 70, "participation_cents": 0, "franchise_cents": 0}
    assert a.post(BO + "/%d/approve" % claim["id"], json=body).status_code == 409  # not taken
    r = a.post(BO + "/%d/take" % claim["id"])
    assert r.status_code == 200 and r.json()["assigned_to"] == a.agent.login
    # Taking it again (a double click) keeps it, within the same second too:
    # the UPDATE changing nothing used to answer 500.
    for _ in range(5):
        again = a.post(BO + "/%d/take" % claim["id"])
        assert again.status_code == 200, again.text
        assert again.json()["assigned_to"] == a.agent.login
    b = agent_client(stack)
    assert b.post(BO + "/%d/take" % claim["id"]).status_code == 409
    seen = [i for i in b.get(BO).json()["items"] if i["id"] == claim["id"]]
    assert seen[0]["assigned_to"] == a.agent.login
    assert c.post(API + "/claims/%d/withdraw" % claim["id"]).status_code == 409

    bad = dict(body, participation_cents=5000)
    assert a.post(BO + "/%d/approve" % claim["id"], json=bad).status_code == 422
    r = a.post(BO + "/%d/approve" % claim["id"], json=body)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["payment_id"]
    line = c.get(API + "/%d" % r.json()["payment_id"]).json()
    assert line["reimbursed_cents"] == 2892 * 70 // 100
    assert line["status"] == "processing" and line["charged_cents"] == 8000
    assert audit(stack, c.member.id, "reimbursements.claim.approve") == 1
    assert notes(stack, c.member.id) == ["Demande de remboursement acceptée"]
    assert c.get(API + "/claims/%d" % claim["id"]).json()["status"] == "approved"


def test_a_claim_for_a_child_and_another_members_beneficiary(stack):
    """The claim names the person cared for by id among the member's
    beneficiaries (the core's); the approved payment line keeps it, so the
    child's line is found by the list's filter. Another member's
    beneficiary is a 404 and nothing is stored."""
    c = member_client(stack)
    kid = stack.new_beneficiary(c.member.insured_id, "Léa")
    choices = c.get(API + "/beneficiaries").json()["items"]
    assert [b["id"] for b in choices] == [None, kid]
    r = send(c, beneficiary=str(kid))
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["beneficiary_id"] == kid and claim["beneficiary"] == "Léa Martin"
    mine = send(c, beneficiary="").json()
    assert mine["beneficiary_id"] is None and mine["beneficiary"] == "Paul Martin"

    other = stack.new_member()
    foreign = stack.new_beneficiary(other.insured_id, "Zoé")
    count = "SELECT COUNT(*) FROM documents WHERE member_id = %d" % c.member.id
    before = stack.sql(count)
    r = send(c, beneficiary=str(foreign))
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert stack.sql(count) == before
    assert len(c.get(API + "/claims").json()["items"]) == 2

    a = agent_client(stack)
    seen = a.get(BO + "/%d" % claim["id"]).json()
    assert seen["beneficiary_id"] == kid and seen["beneficiary"] == "Léa Martin"
    a.post(BO + "/%d/take" % claim["id"])
    body = {"base_cents": 2892, "rate_pct": 70, "participation_cents": 0, "franchise_cents": 0}
    pay = a.post(BO + "/%d/approve" % claim["id"], json=body).json()["payment_id"]
    line = c.get(API + "/%d" % pay).json()
    assert line["beneficiary_id"] == kid and line["beneficiary"] == "Léa Martin"
    listed = c.get(API, params={"beneficiary": kid}).json()["items"]
    assert [x["id"] for x in listed] == [pay]
    assert c.get(API, params={"beneficiary": "me"}).json()["totals"]["count"] == 0


def test_reject_and_ask_for_a_document(stack):
    c = member_client(stack)
    one = send(c).json()
    two = send(c, kind="optical").json()
    a = agent_client(stack)
    a.post(BO + "/%d/take" % one["id"])
    assert a.post(BO + "/%d/reject" % one["id"], json={"reason": "court"}).status_code == 422
    reason = "Facture illisible : merci d'envoyer une copie nette."
    r = a.post(BO + "/%d/reject" % one["id"], json={"reason": reason})
    assert r.status_code == 200 and r.json()["decision_reason"] == reason
    rows = stack.sql("SELECT reason FROM audit_log WHERE member_id = %d AND action = "
                     "'reimbursements.claim.reject'" % c.member.id)
    assert rows == [[reason]]
    a.post(BO + "/%d/take" % two["id"])
    r = a.post(BO + "/%d/ask" % two["id"], json={"reason": "Il manque l'ordonnance de l'opticien."})
    assert r.status_code == 200 and r.json()["status"] == "needs_document"
    assert notes(stack, c.member.id) == ["Demande de remboursement refusée",
                                         "Un justificatif manque à votre demande"]
    assert c.get(API + "/claims/%d" % two["id"]).json()["status"] == "needs_document"
    # The member adds the document: back to the queue, three documents.
    add = [("documents", ("ordonnance.pdf", PDF, "application/pdf"))]
    assert member_client(stack).post(API + "/claims/%d/documents" % two["id"], files=add,
                              data={"pad": "x"}).status_code == 404
    r = c.post(API + "/claims/%d/documents" % two["id"], files=add, data={"pad": "x"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted" and len(r.json()["documents"]) == 3
    assert two["id"] in [i["id"] for i in a.get(BO).json()["items"]]
    assert c.post(API + "/claims/%d/documents" % two["id"], files=add,
                  data={"pad": "x"}).status_code == 409
    # Not yet taken again: still withdrawable.
    assert c.post(API + "/claims/%d/withdraw" % two["id"]).status_code == 200


def test_back_office_needs_an_agent_with_the_permission(stack):
    c = member_client(stack)
    assert c.get(BO).status_code in (401, 403)
    assert stack.client().get(BO).status_code == 401


def test_a_correction_is_a_new_line_that_cancels_the_old(stack):
    c = member_client(stack)
    claim = send(c).json()
    a = agent_client(stack)
    a.post(BO + "/%d/take" % claim["id"])
    body = {"base_cents": 2892, "rate_pct": 70, "participation_cents": 0, "franchise_cents": 0}
    old = a.post(BO + "/%d/approve" % claim["id"], json=body).json()["payment_id"]
    fix = dict(body, base_cents=3000, reason="Base corrigée après réexamen de la facture.")
    url = "/api/v1/backoffice/reimbursements/payments/%d/correct" % old
    assert a.post(url, json=dict(fix, reason="court")).status_code == 422
    r = a.post(url, json=fix)
    assert r.status_code == 201, r.text
    new = r.json()["id"]
    assert r.json() == {"id": new, "cancels": old, "reimbursed_cents": 2100}
    assert a.post(url, json=fix).status_code == 409
    rows = stack.sql("SELECT id, base_cents, cancelled_by FROM reimb_payments WHERE id IN (%d, %d) "
                     "ORDER BY id" % (old, new))
    assert rows == [[str(old), "2892", str(new)], [str(new), "3000", None]]
    ids = [i["id"] for i in c.get(API, params={"limit": 100}).json()["items"]]
    assert new in ids and old not in ids
    assert audit(stack, c.member.id, "reimbursements.payment.correct") == 1
    assert notes(stack, c.member.id)[-1] == "Un remboursement a été corrigé"
    assert a.post("/api/v1/backoffice/reimbursements/payments/99999999/correct",
                  json=fix).status_code == 404


def test_the_queue_filters_by_age(stack):
    c = member_client(stack)
    old = send(c).json()
    fresh = send(c).json()
    stack.sql("UPDATE reimb_claims SET created_at = DATE_SUB(UTC_TIMESTAMP(), INTERVAL 10 DAY) "
              "WHERE id = %d" % old["id"])
    a = agent_client(stack)
    everyone = {i["id"]: i for i in a.get(BO, params={"limit": 100}).json()["items"]}
    assert old["id"] in everyone and fresh["id"] in everyone
    assert everyone[old["id"]]["age_days"] == 10
    for days, want in ((10, [old["id"]]), (11, []), (0, [old["id"], fresh["id"]])):
        got = [i["id"] for i in a.get(BO, params={"min_age_days": days, "limit": 100}).json()["items"]
               if i["id"] in (old["id"], fresh["id"])]
        assert got == want, (days, got)
    # Every item of a filtered page is at least that old, whatever the other filters.
    items = a.get(BO, params={"min_age_days": 7, "kind": "dentist", "limit": 100}).json()["items"]
    assert items and all(i["age_days"] >= 7 for i in items)
    for bad in ("-1", "3651", "deux"):
        assert a.get(BO, params={"min_age_days": bad}).status_code == 400, bad


def test_approve_and_correct_refuse_the_same_amounts(stack):
    c = member_client(stack)
    claim = send(c).json()
    a = agent_client(stack)
    a.post(BO + "/%d/take" % claim["id"])
    over = {"base_cents": 100, "rate_pct": 70, "participation_cents": 100, "franchise_cents": 0}
    reason = "Base corrigée après réexamen de la facture."
    for body in (over, dict(over, rate_pct=101), dict(over, base_cents="100"), {}):
        r = a.post(BO + "/%d/approve" % claim["id"], json=body)
        assert r.status_code == 422, (body, r.text)
    ok = dict(over, participation_cents=0)
    pay = a.post(BO + "/%d/approve" % claim["id"], json=ok).json()["payment_id"]
    url = "/api/v1/backoffice/reimbursements/payments/%d/correct" % pay
    for body in (over, dict(over, rate_pct=101), dict(over, base_cents="100"), {}):
        r = a.post(url, json=dict(body, reason=reason))
        assert r.status_code == 422, (body, r.text)
    r = a.post(url, json=dict(over, reason=reason))
    assert [e["field"] for e in r.json()["errors"]] == ["base_cents"]


def test_a_claim_that_cannot_be_recorded_keeps_none_of_its_documents(stack):
    """The documents are stored in the claim's own transaction: when linking
    them fails (here a trigger refuses), neither the claim nor a document is
    left behind; the same when the member adds a document."""
    c = member_client(stack)
    waiting = send(c).json()
    a = agent_client(stack)
    a.post(BO + "/%d/take" % waiting["id"])
    a.post(BO + "/%d/ask" % waiting["id"], json={"reason": "Il manque l'ordonnance du médecin."})
    count = "SELECT COUNT(*) FROM documents WHERE member_id = %d" % c.member.id
    before = stack.sql(count)
    # One statement (the client splits at ';'): a NULL document_id is refused.
    stack.sql("CREATE TRIGGER reimb_test_refuse BEFORE INSERT ON reimb_claim_documents "
              "FOR EACH ROW SET NEW.document_id = IF((SELECT comment FROM reimb_claims "
              "WHERE id = NEW.claim_id) = 'Refus Test' OR NEW.claim_id = %d, NULL, "
              "NEW.document_id)" % waiting["id"])
    try:
        r = send(c, comment="Refus Test")
        assert r.status_code == 500, r.text
        add = [("documents", ("ordonnance.pdf", PDF, "application/pdf"))]
        r = c.post(API + "/claims/%d/documents" % waiting["id"], files=add, data={"pad": "x"})
        assert r.status_code == 500, r.text
    finally:
        stack.sql("DROP TRIGGER reimb_test_refuse")
    assert stack.sql(count) == before
    assert [i["id"] for i in c.get(API + "/claims").json()["items"]] == [waiting["id"]]
    got = c.get(API + "/claims/%d" % waiting["id"]).json()
    assert got["status"] == "needs_document" and len(got["documents"]) == 2


def test_the_queue_refuses_unknown_filters(stack):
    a = agent_client(stack)
    for bad in ({"status": "lost"}, {"kind": "massage"}, {"status": "submitted "}):
        assert a.get(BO, params=bad).status_code == 400, bad
    for good in ("submitted", "withdrawn", ""):
        assert a.get(BO, params={"status": good}).status_code == 200, good


def test_care_dates_from_today_back_to_two_years(stack):
    c = member_client(stack)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    try:
        oldest = today.replace(year=today.year - 2)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - 2, day=28)
    r = send(c, care_date=(oldest - datetime.timedelta(days=1)).isoformat())
    assert r.status_code == 422 and "deux ans" in r.text, r.text
    r = send(c, care_date=(today + datetime.timedelta(days=1)).isoformat())
    assert r.status_code == 422 and "future" in r.text, r.text
    for day in (oldest, today):
        r = send(c, care_date=day.isoformat())
        assert r.status_code == 201, (day, r.text)


def test_an_infected_document_is_refused_and_stays_a_security_event(stack, clamd):
    """The claim is recorded in the documents' transaction, which begins after
    the scan: refusing the claim never rolls back the infection's event."""
    from conftest import EICAR
    inst = stack.start_portaild({"documents": {"scanner": str(clamd.socket),
                                               "scan_timeout_ms": 10000}})
    c = member_client(stack, inst=inst)
    m = c.member
    r = c.post(API + "/claims", data=fields(),
               files=[("documents", ("feuille.pdf", PDF, "application/pdf")),
                      ("documents", ("eicar.pdf", PDF + EICAR, "application/pdf"))])
    assert r.status_code == 422 and "virus" in r.text, r.text
    ev = stack.sql("SELECT kind FROM security_events WHERE member_id = %d" % m.id)
    assert ev == [["document_infected"]]
    assert stack.sql("SELECT COUNT(*) FROM documents WHERE member_id = %d" % m.id) == [["0"]]
    assert c.get(API + "/claims").json()["items"] == []
    r = c.post(API + "/claims", data=fields(),
               files=[("documents", ("feuille.pdf", PDF, "application/pdf"))])
    assert r.status_code == 201, r.text
