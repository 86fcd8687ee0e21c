"""Issue 14 item 10: after a TOTP reset, enrolling a new authenticator needs
a single-use link mailed to the address on file: the password alone (which
is all the reset asked) is not enough."""

import pytest

from login_support import Accounts, PASSWORD, away_from_step_edge, fresh_ip, totp

LINK = "/double-authentification.html"


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def test_after_a_reset_enrolment_needs_the_link_mailed_to_the_address_on_file(stack, accounts):
    m = accounts.enrolled()
    c = m.client
    r = c.post("/api/v1/totp/reset", json={"password": PASSWORD})
    assert r.status_code == 200, r.text
    # The session that reset, and one that only has the password: refused.
    assert c.get("/api/v1/totp/enroll").status_code == 403
    other = stack.client(xff=fresh_ip())
    assert accounts.login(other, m).json() == {"next": "totp_enroll"}
    r = other.get("/api/v1/totp/enroll")
    assert r.status_code == 403, r.text
    assert "e-mail" in r.json()["detail"]
    r = other.post("/api/v1/totp/enroll", json={"code": "123456"})
    assert r.status_code == 403, r.text
    # A forged or foreign token does nothing.
    assert other.post("/api/v1/totp/reenrol", json={"token": "x" * 43}).status_code == 410

    token = accounts.link_token(m.email, LINK)
    r = other.post("/api/v1/totp/reenrol", json={"token": token})
    assert r.status_code == 200, r.text
    e = other.get("/api/v1/totp/enroll")
    assert e.status_code == 200, e.text
    away_from_step_edge()
    r = other.post("/api/v1/totp/enroll", json={"code": totp(e.json()["secret_base32"])})
    assert r.status_code == 200, r.text
    # Single use.
    assert other.post("/api/v1/totp/reenrol", json={"token": token}).status_code == 410
    assert "totp_reenrol_link" in accounts.events(m)


def test_a_first_enrolment_needs_no_link(stack, accounts):
    m = accounts.member()
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    assert c.get("/api/v1/totp/enroll").status_code == 200
