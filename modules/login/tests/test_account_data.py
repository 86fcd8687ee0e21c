"""Issue 14, "Member's own data": a member's activity (their security events,
in French), the download of everything held about them (RGPD articles 15
and 20) and the closing of their online account (password + code; the
insured record stays). Another member's data never appears."""

import json

import pytest

from login_support import PASSWORD, WRONG_PASSWORD, Accounts, fresh_ip, totp


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def test_activity_lists_own_events_in_french_with_paging(stack, accounts):
    m = accounts.enrolled()
    other = accounts.enrolled()
    c = m.client
    r = c.get("/api/v1/account/activity?limit=2")
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["events"]) == 2
    first = body["events"][0]
    assert {"id", "kind", "label", "at", "ip", "country", "user_agent"} <= set(first)
    assert body["next_cursor"]
    r2 = c.get("/api/v1/account/activity?limit=100&cursor=%s" % body["next_cursor"])
    assert r2.status_code == 200
    ids = [e["id"] for e in body["events"] + r2.json()["events"]]
    own = [int(row[0]) for row in stack.sql(
        "SELECT id FROM security_events WHERE member_id = %d ORDER BY id DESC" % m.id)]
    assert ids == own
    kinds = {e["kind"]: e["label"] for e in body["events"] + r2.json()["events"]}
    assert kinds["totp_enabled"] == "Double authentification activée"
    theirs = {int(row[0]) for row in stack.sql(
        "SELECT id FROM security_events WHERE member_id = %d" % other.id)}
    assert not theirs & set(ids)
    assert c.get("/api/v1/account/activity?limit=0").status_code == 400
    assert stack.client().get("/api/v1/account/activity").status_code == 401


def test_export_is_an_attachment_with_only_own_data_and_is_mailed(stack, accounts):
    m = accounts.enrolled()
    other = accounts.enrolled()
    r = m.client.get("/api/v1/account/export")
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Content-Type"].startswith("application/json")
    data = json.loads(r.content)
    assert data["identity"]["nir"] == m.nir
    assert data["account"]["email"] == m.email
    assert "password_hash" not in json.dumps(data)
    assert data["sessions"] and data["security_events"]
    text = json.dumps(data)
    assert other.nir not in text and other.email not in text
    for table in ("sessions", "security_events", "locks", "countries", "notifications",
                  "documents"):
        assert isinstance(data[table], list), table
    mail = accounts.wait_mail(m, "Vos données ont été téléchargées")
    assert "téléchargé" in mail["body"]
    assert "data_exported" in accounts.events(m)


def test_close_needs_password_and_code_then_ends_the_account(stack, accounts):
    m = accounts.enrolled()
    other = accounts.enrolled()
    c = m.client
    b = stack.client(xff=fresh_ip())        # another session of the same member
    accounts.login(b, m)
    assert b.post("/api/v1/login/recovery",
                  json={"code": m.recovery_codes[0]}).status_code == 200

    r = c.post("/api/v1/account/close", json={"password": WRONG_PASSWORD, "code": "123456"})
    assert r.status_code == 401, r.text
    r = c.post("/api/v1/account/close", json={"password": PASSWORD})
    assert r.status_code == 422
    r = c.post("/api/v1/account/close", json={"password": PASSWORD, "code": totp(m.secret, offset=1)})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "closed"}
    assert stack.sql("SELECT COUNT(*) FROM members WHERE id = %d" % m.id)[0][0] == "0"
    assert stack.sql("SELECT COUNT(*) FROM insured WHERE nir = '%s'" % m.nir)[0][0] == "1"
    assert stack.sql("SELECT COUNT(*) FROM sessions WHERE kind = 'member' AND principal_id = %d"
                     % m.id)[0][0] == "0"
    assert c.get("/api/v1/me").status_code == 401
    assert b.get("/api/v1/me").status_code == 401
    mail = accounts.wait_mail(m, "Votre compte en ligne est fermé")
    assert "fermé" in mail["body"]
    # The other member is untouched.
    assert other.client.get("/api/v1/me").status_code == 200


def test_close_without_an_active_second_factor_says_so(stack, accounts):
    """After a TOTP reset the member session stays but has no code to give:
    closing answers 409 (enrol again first), not a 500, and counts nothing."""
    m = accounts.enrolled()
    c = m.client
    assert c.post("/api/v1/totp/reset", json={"password": PASSWORD}).status_code == 200
    r = c.post("/api/v1/account/close", json={"password": PASSWORD, "code": "123456"})
    assert r.status_code == 409, r.text
    assert r.json()["next"] == "totp_enroll"
    assert accounts.counters(m) == (0, 0)
    assert stack.sql("SELECT COUNT(*) FROM members WHERE id = %d" % m.id)[0][0] == "1"


def test_export_lists_documents_without_their_content(stack, accounts):
    """Documents (up to the upload limit each) are listed, not copied into
    the JSON; notifications come whole; another member's rows never."""
    m = accounts.enrolled()
    other = accounts.enrolled()
    content = "CONTENU-SECRET-%d" % m.id
    for who in (m, other):
        stack.sql("INSERT INTO documents (member_id, module, name, size, sha256, type, content) "
                  "VALUES (%d, 'reimbursements', 'facture-%d.pdf', %d, UNHEX(SHA2('x', 256)), "
                  "'pdf', '%s')" % (who.id, who.id, len(content), content))
        stack.sql("INSERT INTO notifications (member_id, kind, title, body) VALUES "
                  "(%d, 'test.kind', 'Titre %d', 'Corps')" % (who.id, who.id))
    r = m.client.get("/api/v1/account/export")
    assert r.status_code == 200, r.text
    data = json.loads(r.content)
    assert [d["name"] for d in data["documents"]] == ["facture-%d.pdf" % m.id]
    assert data["documents"][0]["size"] == len(content)
    assert "content" not in data["documents"][0]
    assert content not in r.text and content.encode().hex() not in r.text.lower()
    assert [n["title"] for n in data["notifications"]] == ["Titre %d" % m.id]
