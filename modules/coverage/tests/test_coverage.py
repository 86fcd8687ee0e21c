"""Module coverage (modules/coverage/coverage.c) against the real stack:
the core's directory of practitioners (RPPS check digit) and seed, the
seeded rights, the member routes (404 on another member's beneficiary),
the attestation PDF read back with pdftotext and its public check, the
carte Vitale report (twice: 409), the médecin traitant declaration, and
the audited agent read."""

import re
import subprocess
import time

import pytest

from conftest import agent_client, fresh_ip

DEMO_NIR = "285033306300182"


def luhn_ok(s):
    total = 0
    for k, ch in enumerate(reversed(s)):
        d = int(ch)
        if k % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@pytest.fixture(scope="module")
def seeded(stack):
    """The core seed (persons, practitioners) and the coverage seed, once,
    with one extra member (Paul Martin) created before it so that the seed
    gives him rights too; Marie Dupont, the demo member, gets an account."""
    other = stack.new_member()
    r = stack.portailctl("seed", "--count", "40")
    assert r.returncode == 0, r.stdout + r.stderr
    stack.sql("INSERT IGNORE INTO members (insured_id, email) SELECT id, "
              "'marie.dupont@example.fr' FROM insured WHERE nir = '%s'" % DEMO_NIR)
    marie = int(stack.sql("SELECT m.id FROM members m JOIN insured i ON i.id = m.insured_id "
                          "WHERE i.nir = '%s'" % DEMO_NIR)[0][0])
    return {"marie": marie, "other": other}


def member_client(stack, member_id):
    c = stack.client(xff=fresh_ip())
    c.test_login(id=member_id)
    return c


# ---- core: practitioners ----------------------------------------------------------


def test_practitioners_seeded_with_valid_rpps(stack, seeded):
    rows = stack.sql("SELECT rpps, city, specialty FROM practitioners")
    assert len(rows) >= 300
    assert all(re.fullmatch(r"\d{11}", r[0]) and luhn_ok(r[0]) for r in rows)
    assert len({r[1] for r in rows}) >= 10
    assert sum(1 for r in rows if r[2] == "Médecine générale") >= 50
    # A wrong check digit is not a valid RPPS (the rule the seed relies on).
    good = rows[0][0]
    bad = good[:10] + str((int(good[10]) + 1) % 10)
    assert not luhn_ok(bad)


def test_seed_is_consistent_and_idempotent(stack, seeded):
    counts = lambda: stack.sql(
        "SELECT (SELECT COUNT(*) FROM coverage_rights), (SELECT COUNT(*) FROM "
        "coverage_beneficiaries), (SELECT COUNT(*) FROM coverage_doctors), "
        "(SELECT COUNT(*) FROM coverage_vitale), (SELECT COUNT(*) FROM practitioners)")[0]
    before = counts()
    r = stack.portailctl("seed", "--count", "40")
    assert r.returncode == 0, r.stdout + r.stderr
    assert counts() == before
    # Every insured person has rights; exactly one has an ALD; some the CSS;
    # some no médecin traitant; some children.
    assert stack.sql("SELECT COUNT(*) FROM insured i LEFT JOIN coverage_rights r "
                     "ON r.insured_id = i.id WHERE r.insured_id IS NULL") == [["0"]]
    assert stack.sql("SELECT COUNT(*) FROM coverage_rights WHERE ald_label IS NOT NULL") == [["1"]]
    assert int(stack.sql("SELECT COUNT(*) FROM coverage_rights WHERE css <> 'none'")[0][0]) > 0
    assert int(stack.sql("SELECT COUNT(*) FROM insured i WHERE NOT EXISTS (SELECT 1 FROM "
                         "coverage_doctors d WHERE d.insured_id = i.id)")[0][0]) > 0
    assert int(stack.sql("SELECT COUNT(DISTINCT insured_id) FROM coverage_beneficiaries "
                         "WHERE relation = 'child'")[0][0]) > 1
    # Cards only for people 12 and over.
    assert stack.sql("SELECT COUNT(*) FROM coverage_vitale v JOIN coverage_beneficiaries b "
                     "ON b.id = v.beneficiary_id WHERE TIMESTAMPDIFF(YEAR, b.birth_date, "
                     "UTC_DATE()) < 12") == [["0"]]



def test_seeded_orders_advance(stack, seeded):
    """A card the seed leaves on order has its job (once, however often the
    seed runs) and leaves 'ordered', account or not."""
    ordered = [r[0] for r in stack.sql("SELECT id FROM coverage_vitale WHERE serial LIKE 'A%' "
                                       "AND MOD(insured_id, 17) = 0")]
    assert ordered
    jobs = lambda: stack.sql("SELECT COUNT(*) FROM jobs WHERE kind = 'coverage.vitale_advance' "
                             "AND JSON_VALUE(payload, '$.to') = 'in_production' AND "
                             "JSON_VALUE(payload, '$.card') IN (%s)" % ",".join(ordered))
    assert jobs() == [[str(len(ordered))]]
    assert stack.portailctl("seed", "--count", "40").returncode == 0
    assert jobs() == [[str(len(ordered))]]
    deadline = time.monotonic() + 30
    while stack.sql("SELECT COUNT(*) FROM coverage_vitale WHERE id IN (%s) AND status IN "
                    "('ordered', 'in_production')" % ",".join(ordered)) != [["0"]]:
        assert time.monotonic() < deadline
        time.sleep(0.3)

# ---- member reads -------------------------------------------------------------------


def test_coverage_of_the_demo_member(stack, seeded):
    c = member_client(stack, seeded["marie"])
    r = c.get("/api/v1/coverage")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rights"]["nir"] == DEMO_NIR
    assert body["rights"]["fund"] == "CPAM de la Gironde"
    assert body["rights"]["open_to"] == "2027-12-31"
    kids = body["beneficiaries"]
    assert [k["first_name"] for k in kids] == ["Lucas", "Chloé"]
    assert all(k["relation"] == "child" for k in kids)
    doc = body["doctor"]
    assert doc["status"] == "current"
    assert luhn_ok(doc["practitioner"]["rpps"])
    assert doc["practitioner"]["specialty"] == "Médecine générale"
    r = c.get("/api/v1/coverage/beneficiaries/%d" % kids[0]["id"])
    assert r.status_code == 200 and r.json()["nir"] == "112063306300270"
    # Cards: Marie and Lucas (14), not Chloé (8).
    cards = c.get("/api/v1/coverage/vitale").json()["cards"]
    assert sorted(x["first_name"] for x in cards) == ["Lucas", "Marie"]


def test_another_members_beneficiary_is_a_404(stack, seeded):
    marie = member_client(stack, seeded["marie"])
    kid = marie.get("/api/v1/coverage").json()["beneficiaries"][0]["id"]
    other = member_client(stack, seeded["other"].id)
    assert other.get("/api/v1/coverage").status_code == 200
    r = other.get("/api/v1/coverage/beneficiaries/%d" % kid)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/problem+json")
    r = other.get("/api/v1/coverage/attestation.pdf", params={"beneficiary": kid})
    assert r.status_code == 404
    r = other.post("/api/v1/coverage/vitale/%d/report" % kid, json={"kind": "lost"})
    assert r.status_code == 404
    assert stack.client().get("/api/v1/coverage").status_code in (401, 403)


# ---- attestation ---------------------------------------------------------------------


def pdf_text(data, tmp_path):
    path = tmp_path / "a.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def code_of(text):
    m = re.search(r"Code de vérification : ([A-Z2-9]{20})", text)
    assert m, text
    return m.group(1)


def test_attestation_pdf_and_its_public_check(stack, seeded, tmp_path):
    c = member_client(stack, seeded["marie"])
    r = c.get("/api/v1/coverage/attestation.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/pdf"
    text = pdf_text(r.content, tmp_path)
    for s in ("Attestation de droits", "Marie Dupont", DEMO_NIR, "CPAM de la Gironde",
              "2027-12-31", "Lucas Dupont", "Chloé Dupont", "Date de délivrance"):
        assert s in text, (s, text)
    code = code_of(text)
    public = stack.client(xff=fresh_ip())
    r = public.get("/api/v1/coverage/attestations/verify/" + code)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["valid"] is True and v["superseded"] is False
    assert v["initials"] == "M.D." and v["birth_year"] in (1985, "1985")
    assert v["valid_to"] == "2027-12-31"
    assert "nir" not in v and "last_name" not in v
    # Lowercase typing is accepted.
    assert public.get("/api/v1/coverage/attestations/verify/" + code.lower()).status_code == 200
    # A newer attestation supersedes it.
    code2 = code_of(pdf_text(c.get("/api/v1/coverage/attestation.pdf").content, tmp_path))
    assert code2 != code
    assert public.get("/api/v1/coverage/attestations/verify/" + code).json()["superseded"] is True
    assert public.get("/api/v1/coverage/attestations/verify/" + code2).json()["superseded"] is False
    # Unknown code: 404, in French.
    r = public.get("/api/v1/coverage/attestations/verify/" + "A" * 20)
    assert r.status_code == 404 and "caisse" in r.json()["detail"]
    # Only a digest is stored.
    assert stack.sql("SELECT COUNT(*) FROM coverage_attestations WHERE HEX(code_hash) LIKE "
                     "'%%%s%%'" % code.encode().hex().upper()) == [["0"]]


def test_beneficiary_attestation(stack, seeded, tmp_path):
    c = member_client(stack, seeded["marie"])
    kid = c.get("/api/v1/coverage").json()["beneficiaries"][1]
    r = c.get("/api/v1/coverage/attestation.pdf", params={"beneficiary": kid["id"]})
    assert r.status_code == 200
    text = pdf_text(r.content, tmp_path)
    assert "Chloé Dupont" in text and "218093306300364" in text
    assert "Assuré ouvrant droit" in text and DEMO_NIR in text
    v = stack.client(xff=fresh_ip()).get("/api/v1/coverage/attestations/verify/" +
                                          code_of(text)).json()
    assert v["initials"] == "C.D." and int(v["birth_year"]) == 2018


def test_verification_is_throttled_per_ip(stack, seeded):
    public = stack.client(xff=fresh_ip())
    statuses = [public.get("/api/v1/coverage/attestations/verify/" + "B" * 20).status_code
                for _ in range(61)]
    assert statuses[:60] == [404] * 60
    assert statuses[60] == 429
    r = public.get("/api/v1/coverage/attestations/verify/" + "B" * 20)
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 3600
    assert r.json()["retry_after"] == int(r.headers["Retry-After"])
    # Another address is not affected.
    r = stack.client(xff=fresh_ip()).get("/api/v1/coverage/attestations/verify/" + "B" * 20)
    assert r.status_code == 404


# ---- carte Vitale ----------------------------------------------------------------------


def test_report_a_card_twice_is_a_409(stack, seeded):
    other = seeded["other"]
    stack.sql("UPDATE coverage_vitale SET status = 'active' WHERE insured_id = %d AND "
              "beneficiary_id IS NULL" % other.insured_id)
    c = member_client(stack, other.id)
    r = c.post("/api/v1/coverage/vitale/me/report", json={"kind": "broken"})
    assert r.status_code == 422
    r = c.post("/api/v1/coverage/vitale/me/report", json={"kind": "stolen"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stolen"
    r = c.post("/api/v1/coverage/vitale/me/report", json={"kind": "lost"})
    assert r.status_code == 409
    cards = c.get("/api/v1/coverage/vitale").json()["cards"]
    mine = [x for x in cards if x["beneficiary_id"] is None]
    assert mine[0]["status"] == "stolen" and mine[0]["reported_at"]
    assert stack.sql("SELECT COUNT(*) FROM security_events WHERE member_id = %d AND "
                     "kind = 'vitale_reported'" % other.id) == [["1"]]
    # By title: the advance jobs of a card ordered by an earlier test may
    # notify this member (same kind) while this test runs.
    assert stack.sql("SELECT COUNT(*) FROM notifications WHERE member_id = %d AND "
                     "kind = 'coverage.vitale' AND title = 'Carte Vitale désactivée'"
                     % other.id) == [["1"]]


# ---- médecin traitant --------------------------------------------------------------------


def test_declare_a_medecin_traitant(stack, seeded):
    other = seeded["other"]
    c = member_client(stack, other.id)
    r = c.get("/api/v1/coverage/practitioners", params={"place": "Bordeaux", "limit": 2})
    assert r.status_code == 200, r.text
    found = r.json()["practitioners"]
    assert found and all(p["city"] == "Bordeaux" and p["accepts_new_patients"] in (1, "1")
                         for p in found)
    refusing = int(stack.sql("SELECT id FROM practitioners WHERE accepts_new_patients = 0 "
                             "LIMIT 1")[0][0])
    assert c.post("/api/v1/coverage/doctor", json={"practitioner": refusing}).status_code == 409
    assert c.post("/api/v1/coverage/doctor", json={"practitioner": 10**12}).status_code == 404
    r = c.post("/api/v1/coverage/doctor", json={"practitioner": int(found[0]["id"])})
    assert r.status_code == 201, r.text
    body = c.get("/api/v1/coverage").json()
    assert body["doctor_pending"]["status"] == "pending"
    assert int(body["doctor_pending"]["practitioner"]["id"]) == int(found[0]["id"])


# ---- back office ---------------------------------------------------------------------------


def test_agent_reads_a_members_coverage_audited(stack, seeded):
    agent = agent_client(stack)
    r = agent.get("/api/v1/backoffice/coverage/members/%d" % seeded["marie"],
                  params={"reason": "Appel de l'assurée"})
    assert r.status_code == 200, r.text
    assert len(r.json()["beneficiaries"]) == 2
    rows = stack.sql("SELECT action, reason FROM audit_log WHERE member_id = %d AND agent_id = %d"
                     % (seeded["marie"], agent.agent.id))
    assert ["coverage.read", "Appel de l'assurée"] in rows
    assert agent.get("/api/v1/backoffice/coverage/members/999999999").status_code == 404
    member = member_client(stack, seeded["marie"])
    assert member.get("/api/v1/backoffice/coverage/members/%d" % seeded["marie"]).status_code in (
        401, 403)


def test_declaration_confirmed_by_the_job_history_kept(stack, seeded):
    import time
    m = stack.new_member()
    stack.sql("INSERT INTO coverage_rights (insured_id, regime, fund, open_from, open_to) "
              "VALUES (%d, 'Régime général', 'CPAM de Paris', '2025-01-01', '2027-12-31')"
              % m.insured_id)
    c = member_client(stack, m.id)
    found = c.get("/api/v1/coverage/practitioners", params={"place": "Paris"}).json()[
        "practitioners"]
    first, second = int(found[0]["id"]), int(found[1]["id"])
    for pid in (first, second):
        assert c.post("/api/v1/coverage/doctor", json={"practitioner": pid}).status_code == 201
        # The practitioner's side (a job with doctor_confirm_seconds, a day by default).
        stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE kind = "
                  "'coverage.doctor_confirm' AND state = 'queued'")
        deadline = time.monotonic() + 20
        while True:
            body = c.get("/api/v1/coverage").json()
            if body["doctor"] and int(body["doctor"]["practitioner_id"]) == pid:
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
        assert body["doctor_pending"] is None
    rows = stack.sql("SELECT practitioner_id, status FROM coverage_doctors WHERE insured_id = %d "
                     "ORDER BY id" % m.insured_id)
    assert rows == [[str(first), "ended"], [str(second), "current"]]


def test_attestation_of_a_name_with_an_accented_initial(stack, seeded, tmp_path):
    """The initials kept for the public check take whole characters: É, not
    half of its UTF-8 bytes."""
    m = stack.new_member()
    stack.sql("UPDATE insured SET first_name = 'Élodie', last_name = 'Œuvrard' WHERE id = %d"
              % m.insured_id)
    stack.sql("INSERT INTO coverage_rights (insured_id, regime, fund, open_from, open_to) "
              "VALUES (%d, 'Régime général', 'CPAM de Paris', '2025-01-01', '2027-12-31')"
              % m.insured_id)
    r = member_client(stack, m.id).get("/api/v1/coverage/attestation.pdf")
    assert r.status_code == 200, r.text
    v = stack.client(xff=fresh_ip()).get("/api/v1/coverage/attestations/verify/" +
                                          code_of(pdf_text(r.content, tmp_path))).json()
    assert v["initials"] == "É.Œ."
