"""Issue 15: a signed-in member changes phone (password, then a single-use
link mailed to the address on file; the old secret stays until a code of
the new one is right) and renews the recovery codes (password; the old codes
stop working). Bad inputs, wrong passwords, another member's link, a used or
expired link."""

import pytest

from login_support import (Accounts, PASSWORD, WRONG_PASSWORD, away_from_step_edge, fresh_ip,
                           totp)

LINK = "/compte/changer-de-telephone.html"


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def sign_in(stack, accounts, m, code=None, recovery=None):
    """A new client through both factors; the second step's response."""
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    if recovery:
        return c, c.post("/api/v1/login/recovery", json={"code": recovery})
    return c, c.post("/api/v1/login/totp", json={"code": code})


def change_link(stack, accounts, m, c=None):
    c = c or m.client
    r = c.post("/api/v1/totp/change", json={"password": PASSWORD})
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "sent"}
    return accounts.link_token(m.email, LINK)


# ------------------------------------------------------- recovery codes


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(stack, accounts):
    m = accounts.enrolled()
    c = m.client
    assert c.post("/api/v1/totp/recovery-codes", json={}).status_code == 422
    assert c.post("/api/v1/totp/recovery-codes", json={"password": 7}).status_code == 422
    r = c.post("/api/v1/totp/recovery-codes", json={"password": WRONG_PASSWORD})
    assert r.status_code == 401, r.text
    assert "recovery_codes_failed" in accounts.events(m)
    r = c.post("/api/v1/totp/recovery-codes", json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    fresh = r.json()["recovery_codes"]
    assert len(fresh) == 10 and len(set(fresh)) == 10
    assert set(fresh).isdisjoint(m.recovery_codes)
    assert "recovery_codes_renewed" in accounts.events(m)
    accounts.wait_mail(m, "Nouveaux codes de secours")
    assert c.get("/api/v1/me").json()["recovery_codes_left"] == 10

    # An old code no longer signs in; a new one does, and says how many are left.
    _, r = sign_in(stack, accounts, m, recovery=m.recovery_codes[0])
    assert r.status_code == 401, r.text
    _, r = sign_in(stack, accounts, m, recovery=fresh[0])
    assert r.status_code == 200, r.text
    assert r.json()["recovery_codes_left"] == 9


def test_new_recovery_codes_need_a_member_session_and_a_totp(stack, accounts):
    anonymous = stack.client(xff=fresh_ip())
    assert anonymous.post("/api/v1/totp/recovery-codes",
                          json={"password": PASSWORD}).status_code == 401
    m = accounts.member()
    partial = stack.client(xff=fresh_ip())
    accounts.login(partial, m)
    assert partial.post("/api/v1/totp/recovery-codes",
                        json={"password": PASSWORD}).status_code == 401
    assert stack.sql("SELECT COUNT(*) FROM member_recovery_codes WHERE member_id = %d"
                     % m.id) == [["0"]]


# ------------------------------------------------------------ phone change


def test_change_phone_link_new_secret_then_only_the_new_phone_signs_in(stack, accounts):
    m = accounts.enrolled()
    c = m.client
    other_session = stack.client(xff=fresh_ip())
    accounts.login(other_session, m)
    away_from_step_edge()
    assert other_session.post("/api/v1/login/totp",
                              json={"code": totp(m.secret, 1)}).status_code == 200

    assert c.post("/api/v1/totp/change", json={}).status_code == 422
    r = c.post("/api/v1/totp/change", json={"password": WRONG_PASSWORD})
    assert r.status_code == 401, r.text
    assert "totp_change_failed" in accounts.events(m)
    token = change_link(stack, accounts, m)
    assert "totp_change_requested" in accounts.events(m)

    r = c.post("/api/v1/totp/change/start", json={"token": token})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["otpauth_uri"].startswith("otpauth://totp/")
    assert "secret=" + e["secret_base32"] in e["otpauth_uri"]
    assert m.nir not in e["otpauth_uri"], "the NIR is never in clear in the app's label"
    assert e["qr_svg"].startswith("<svg") or "<svg" in e["qr_svg"][:200]
    # Until a code of the new secret is right, the old phone still signs in.
    assert stack.sql("SELECT totp_pending IS NOT NULL, totp_secret IS NOT NULL FROM members "
                     "WHERE id = %d" % m.id) == [["1", "1"]]
    # A wrong code, a malformed one, an old phone's code: refused, nothing changes.
    r = c.post("/api/v1/totp/change/confirm", json={"token": token, "code": "12"})
    assert r.status_code == 422, r.text
    away_from_step_edge()
    old = totp(m.secret)
    r = c.post("/api/v1/totp/change/confirm", json={"token": token, "code": old})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "code"

    away_from_step_edge()
    r = c.post("/api/v1/totp/change/confirm",
               json={"token": token, "code": totp(e["secret_base32"])})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "changed"}
    assert "totp_changed" in accounts.events(m)
    accounts.wait_mail(m, "Double authentification déplacée sur un nouveau téléphone")
    # Single use.
    r = c.post("/api/v1/totp/change/start", json={"token": token})
    assert r.status_code == 410, r.text
    # The session that changed stays; the other one ended.
    assert c.get("/api/v1/me").status_code == 200
    assert other_session.get("/api/v1/me").status_code == 401
    # The old phone's codes no longer sign in; the new phone's do.
    _, r = sign_in(stack, accounts, m, code=totp(m.secret, 1))
    assert r.status_code == 401, r.text
    _, r = sign_in(stack, accounts, m, code=totp(e["secret_base32"], 1))
    assert r.status_code == 200, r.text
    # The recovery codes are unchanged.
    assert c.get("/api/v1/me").json()["recovery_codes_left"] == 10


def test_change_phone_link_of_another_member_is_refused_and_not_spent(stack, accounts):
    a = accounts.enrolled()
    b = accounts.enrolled()
    token = change_link(stack, accounts, a)
    r = b.client.post("/api/v1/totp/change/start", json={"token": token})
    assert r.status_code == 410, r.text
    r = b.client.post("/api/v1/totp/change/confirm", json={"token": token, "code": "123456"})
    assert r.status_code == 410, r.text
    assert stack.sql("SELECT totp_pending IS NULL FROM members WHERE id = %d" % b.id) == [["1"]]
    # Forged: the same answer.
    r = b.client.post("/api/v1/totp/change/start", json={"token": "x" * 43})
    assert r.status_code == 410, r.text
    # Still good for its member.
    assert a.client.post("/api/v1/totp/change/start", json={"token": token}).status_code == 200


def test_change_phone_expired_link_and_bad_inputs(stack, accounts):
    m = accounts.enrolled()
    c = m.client
    token = change_link(stack, accounts, m)
    for body in ({}, {"token": ""}, {"token": "y" * 65}, {"token": 5}):
        assert c.post("/api/v1/totp/change/start", json=body).status_code == 422, body
    # Confirm before start: no pending secret.
    r = c.post("/api/v1/totp/change/confirm", json={"token": token, "code": "123456"})
    assert r.status_code == 409, r.text
    stack.sql("UPDATE one_time_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
              "WHERE purpose = 'totp_change' AND subject_id = %d" % m.id)
    assert c.post("/api/v1/totp/change/start", json={"token": token}).status_code == 410
    r = c.post("/api/v1/totp/change/confirm", json={"token": token, "code": "123456"})
    assert r.status_code == 410, r.text


def test_change_phone_needs_a_member_session(stack, accounts):
    m = accounts.member()
    partial = stack.client(xff=fresh_ip())
    accounts.login(partial, m)
    for path, body in (("/api/v1/totp/change", {"password": PASSWORD}),
                       ("/api/v1/totp/change/start", {"token": "x" * 43}),
                       ("/api/v1/totp/change/confirm", {"token": "x" * 43, "code": "123456"})):
        assert partial.post(path, json=body).status_code == 401, path
    assert stack.sql("SELECT COUNT(*) FROM one_time_tokens WHERE purpose = 'totp_change' "
                     "AND subject_id = %d" % m.id) == [["0"]]
