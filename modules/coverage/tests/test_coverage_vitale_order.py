"""Carte Vitale order (modules/coverage/coverage.c, vitale_order and the job
coverage.vitale_advance) against the real stack: the photo and the identity
document through the core's documents, refused (409) while a card is active
or an order is under way, another member's beneficiary a 404, and the jobs
(vitale_production_seconds and vitale_send_seconds set to 1 s by the
harness) taking the card to in_production then sent, each with a
notification."""

import threading
import time

from conftest import agent_client, fresh_ip

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc```\x00\x00\x00\x04\x00\x01\xf6\x178U\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")


def member_with_card(stack, status="active"):
    m = stack.new_member()
    stack.sql("INSERT INTO coverage_vitale (insured_id, serial, status) VALUES (%d, 'T%09d', '%s')"
              % (m.insured_id, m.id, status))
    c = stack.client(xff=fresh_ip())
    c.test_login(id=m.id)
    return m, c


def order(c, person="me", photo=("photo.png", PNG, "image/png"),
          identity=("cni.pdf", PDF, "application/pdf")):
    files = []
    if photo:
        files.append(("photo", photo))
    if identity:
        files.append(("identity", identity))
    return c.post("/api/v1/coverage/vitale/%s/order" % person, files=files)


def mine(c):
    cards = c.get("/api/v1/coverage/vitale").json()["cards"]
    return sorted((x for x in cards if x["beneficiary_id"] is None), key=lambda x: int(x["id"]))


def test_order_refused_while_a_card_is_active(stack):
    m, c = member_with_card(stack)
    r = order(c)
    assert r.status_code == 409, r.text
    assert stack.sql("SELECT COUNT(*) FROM documents WHERE member_id = %d" % m.id) == [["0"]]


def test_order_needs_an_image_photo_and_an_identity_document(stack):
    m, c = member_with_card(stack, "lost")
    r = order(c, photo=("photo.pdf", PDF, "image/png"))
    assert r.status_code == 422, r.text
    assert any(e["field"] == "photo" for e in r.json()["errors"])
    r = order(c, identity=None)
    assert r.status_code == 422, r.text
    assert any(e["field"] == "identity" for e in r.json()["errors"])
    assert [x["status"] for x in mine(c)] == ["lost"]
    # A refused order keeps none of its files (they were stored before the
    # order's checks and kept: an identity document that no card names).
    assert stack.sql("SELECT COUNT(*) FROM documents WHERE member_id = %d" % m.id) == [["0"]]


def test_another_members_beneficiary_is_a_404(stack):
    m, c = member_with_card(stack, "lost")
    other = stack.new_member()
    stack.sql("INSERT INTO coverage_beneficiaries (insured_id, relation, temp_number, last_name, first_name, "
              "birth_date, sex, rights_from, rights_to) VALUES (%d, 'child', 'TMP1', 'Autre', 'Enfant', "
              "'2010-01-01', 1, '2020-01-01', '2030-12-31')"
              % other.insured_id)
    ben = int(stack.sql("SELECT MAX(id) FROM coverage_beneficiaries WHERE insured_id = %d"
                        % other.insured_id)[0][0])
    assert order(c, person=str(ben)).status_code == 404
    assert stack.sql("SELECT COUNT(*) FROM coverage_vitale WHERE beneficiary_id = %d"
                     % ben) == [["0"]]


def test_order_advanced_by_the_jobs_with_notifications(stack):
    m, c = member_with_card(stack, "stolen")
    r = order(c)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "ordered" and len(body["serial"]) == 20
    row = stack.sql("SELECT d.member_id, d.type FROM coverage_vitale v JOIN documents d "
                    "ON d.id = v.photo_document_id WHERE v.id = %d" % body["id"])
    assert row == [[str(m.id), "png"]]
    # An order under way is refused too.
    assert order(c).status_code == 409
    deadline = time.monotonic() + 30
    while True:
        status = [x["status"] for x in mine(c)]
        if status[-1] == "sent":
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    assert status == ["stolen", "sent"]
    titles = [t for (t,) in stack.sql("SELECT title FROM notifications WHERE member_id = %d "
                                      "AND kind = 'coverage.vitale' ORDER BY id" % m.id)]
    assert titles == ["Carte Vitale commandée", "Carte Vitale en fabrication",
                      "Carte Vitale envoyée"]
    assert order(c).status_code == 409


def test_simultaneous_orders_give_one_card(stack):
    """The 409 check and the insert are one step (the person's row locked):
    orders sent at the same instant from several sessions make one card."""
    m, _ = member_with_card(stack, "lost")
    clients = []
    for _ in range(6):
        c = stack.client(xff=fresh_ip())
        c.test_login(id=m.id)
        clients.append(c)
    start = threading.Barrier(len(clients))
    statuses = []

    def send(c):
        start.wait()
        statuses.append(order(c).status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * (len(clients) - 1), statuses
    assert stack.sql("SELECT COUNT(*) FROM coverage_vitale WHERE insured_id = %d AND status "
                     "IN ('active', 'ordered', 'in_production', 'sent')" % m.insured_id) == [["1"]]
    # Only the card's photo and identity document are kept: the orders that
    # lost the race stored theirs in the order's transaction, rolled back.
    assert stack.sql("SELECT COUNT(*) FROM documents WHERE member_id = %d" % m.id) == [["2"]]


def wait_for(c, status):
    deadline = time.monotonic() + 30
    while True:
        got = [x["status"] for x in mine(c)]
        if got[-1] == status:
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.3)


def dashboard_text(c):
    r = c.get("/api/v1/dashboard")
    assert r.status_code == 200, r.text
    return [x for x in r.json()["cards"] if x["module"] == "coverage"][0]["text"]


def test_sent_card_becomes_active_after_the_delay(stack):
    """sent → active by the same job after vitale_activate_seconds (3 days
    by default, brought forward here): the card then works, and can be
    reported like any other."""
    m, c = member_with_card(stack, "lost")
    stack.sql("INSERT INTO coverage_rights (insured_id, regime, fund, open_from, open_to) VALUES "
              "(%d, 'Régime général', 'CPAM de Paris', '2025-01-01', '2027-12-31')"
              % m.insured_id)
    card = order(c).json()["id"]
    wait_for(c, "sent")
    assert "Carte Vitale\u00a0: envoyée par courrier." in dashboard_text(c)
    queued = stack.sql("SELECT JSON_VALUE(payload, '$.to'), TIMESTAMPDIFF(HOUR, UTC_TIMESTAMP(), "
                       "run_at) FROM jobs WHERE kind = 'coverage.vitale_advance' AND state = "
                       "'queued' AND JSON_VALUE(payload, '$.card') = %d" % card)
    assert len(queued) == 1 and queued[0][0] == "active", queued
    assert 70 <= int(queued[0][1]) <= 72
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE kind = 'coverage.vitale_advance' "
              "AND state = 'queued' AND JSON_VALUE(payload, '$.card') = %d" % card)
    assert wait_for(c, "active") == ["lost", "active"]
    assert "Carte Vitale\u00a0: active." in dashboard_text(c)
    titles = [t for (t,) in stack.sql("SELECT title FROM notifications WHERE member_id = %d "
                                      "AND kind = 'coverage.vitale' ORDER BY id" % m.id)]
    assert titles[-1] == "Carte Vitale active"
    r = c.post("/api/v1/coverage/vitale/me/report", json={"kind": "defective"})
    assert r.status_code == 200 and r.json()["id"] == card, r.text


def test_report_not_cancelled_once_a_replacement_is_ordered(stack):
    """Cancelling the report would make two live cards for one person: 409,
    the card stays reported."""
    m = stack.new_member()
    stack.sql("INSERT INTO coverage_vitale (insured_id, serial, status, issued_on) VALUES "
              "(%d, 'Y%010d', 'active', '2020-01-01')" % (m.insured_id, m.id))
    c = stack.client(xff=fresh_ip())
    c.test_login(id=m.id)
    assert c.post("/api/v1/coverage/vitale/me/report", json={"kind": "lost"}).status_code == 200
    assert order(c).status_code == 201
    card = stack.sql("SELECT id FROM coverage_vitale WHERE serial = 'Y%010d'" % m.id)[0][0]
    r = agent_client(stack).post("/api/v1/backoffice/coverage/cards/%s/cancel-report" % card,
                                 json={"reason": "Appel de l'assuré, carte retrouvée"})
    assert r.status_code == 409, r.text
    assert stack.sql("SELECT status FROM coverage_vitale WHERE id = %s" % card) == [["lost"]]
    assert stack.sql("SELECT COUNT(*) FROM coverage_vitale WHERE insured_id = %d AND status IN "
                     "('active', 'ordered', 'in_production', 'sent')" % m.insured_id) == [["1"]]
