"""Module login: the sign-in's writes that a Galera cluster can abort
(1213) are rerun whole (portail_tx_retry): the TOTP step's record with the
sign-in it opens, the TOTP reset, the failures and the locks they place. A
1213 is forced on one write of each (conftest.forced_deadlock); the request
succeeds and everything is written once. Without the rerun each answered
500."""

import time

import pytest

from conftest import SESSION_COOKIE, forced_deadlock
from login_support import PASSWORD, WRONG_PASSWORD, Accounts, fresh_ip, totp


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def session_cookies(r):
    return [sc for sc in r.set_cookies if sc.startswith(SESSION_COOKIE + "=")]


@pytest.mark.timeout(90)
def test_totp_step_is_rerun_after_a_deadlock(stack, accounts):
    m = accounts.enrolled()
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    before = accounts.events(m).count("login_succeeded")
    with forced_deadlock(stack, "members", "UPDATE", "NEW.id = %d AND NOT (NEW.totp_last_step "
                         "<=> OLD.totp_last_step)" % m.id) as f:
        r = c.post("/api/v1/login/totp", json={"code": totp(m.secret, offset=1)})
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    # One new session, its cookie only (not the rolled-back attempt's).
    assert len(session_cookies(r)) == 1, r.set_cookies
    assert c.get("/api/v1/me").status_code == 200
    assert accounts.events(m).count("login_succeeded") == before + 1
    # The step is recorded: the same code again is a replay.
    c.post("/api/v1/logout")
    accounts.login(c, m)
    r = c.post("/api/v1/login/totp", json={"code": totp(m.secret, offset=1)})
    assert r.status_code == 401, r.text


@pytest.mark.timeout(90)
def test_totp_reset_is_rerun_after_a_deadlock(stack, accounts):
    m = accounts.enrolled()
    with forced_deadlock(stack, "members", "UPDATE", "NEW.id = %d AND NEW.totp_secret IS NULL "
                         "AND OLD.totp_secret IS NOT NULL" % m.id) as f:
        r = m.client.post("/api/v1/totp/reset", json={"password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json() == {"next": "totp_enroll"}
        assert f.forced() == 1
    assert accounts.events(m).count("totp_reset") == 1
    assert stack.sql("SELECT totp_secret IS NULL FROM members WHERE id = %d" % m.id) == [["1"]]
    accounts.wait_mail(m, "Double authentification désactivée")
    time.sleep(0.5)
    assert len(accounts.mails_to(m, "Double authentification désactivée")) == 1


@pytest.mark.timeout(90)
def test_password_lock_is_rerun_after_a_deadlock(stack, accounts):
    m = accounts.member()
    c = stack.client(xff=fresh_ip())
    for _ in range(4):
        accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    with forced_deadlock(stack, "account_locks", "INSERT", "NEW.member_id = %d" % m.id) as f:
        accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
        assert f.forced() == 1
    assert accounts.lock_state(m) == "password"
    # The rerun counted the fifth failure once.
    assert accounts.counters(m)[0] == 5
    kinds = accounts.events(m)
    assert kinds.count("login_failed") == 5 and kinds.count("account_locked") == 1


@pytest.mark.timeout(90)
def test_code_lock_is_rerun_after_a_deadlock(stack, accounts):
    m = accounts.enrolled()
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    bad = "%06d" % ((int(totp(m.secret)) + 500000) % 1000000)
    for _ in range(4):
        assert c.post("/api/v1/login/totp", json={"code": bad}).status_code == 401
    with forced_deadlock(stack, "account_locks", "INSERT", "NEW.member_id = %d" % m.id) as f:
        r = c.post("/api/v1/login/totp", json={"code": bad})
        assert r.status_code == 423, r.text
        assert r.json()["reason"] == "second_factor"
        assert f.forced() == 1
    assert accounts.lock_state(m) == "second_factor"
    assert accounts.counters(m) == (0, 5)
    assert accounts.events(m).count("totp_failed") == 5
