"""Module login: the sign-in's writes that a Galera cluster can abort
(1213) are rerun whole (portail_tx_retry): the TOTP step's record with the
sign-in it opens, the TOTP reset and (re-)enrolments, the failures and the
locks they place; the registration and its confirmation, the re-enrolment
link, the phone change's link, new recovery codes and the data export's
event (issue 18). A 1213 is forced on one write of each
(conftest.forced_deadlock); the request succeeds and everything is written
once. Without the rerun each answered 500."""

import time

import pytest

from conftest import SESSION_COOKIE, forced_deadlock
from login_support import (PASSWORD, WRONG_PASSWORD, Accounts, add_agent, away_from_step_edge,
                           fresh_ip, register_body, totp)


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def session_cookies(r):
    return [sc for sc in r.set_cookies if sc.startswith(SESSION_COOKIE + "=")]


def signed_in_through_a_forced_deadlock(stack, accounts, table, op, when):
    """A member's TOTP step while the trigger forces one 1213 on table's op
    (when: the trigger's condition, %d the member's id): the rerun lets them
    in once, with one session cookie (not the rolled-back attempt's)."""
    m = accounts.enrolled()
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    before = accounts.events(m).count("login_succeeded")
    with forced_deadlock(stack, table, op, when % m.id) as f:
        r = c.post("/api/v1/login/totp", json={"code": totp(m.secret, offset=1)})
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    assert len(session_cookies(r)) == 1, r.set_cookies
    assert c.get("/api/v1/me").status_code == 200
    assert accounts.events(m).count("login_succeeded") == before + 1
    return m, c


@pytest.mark.timeout(90)
def test_totp_step_is_rerun_after_a_deadlock(stack, accounts):
    m, c = signed_in_through_a_forced_deadlock(
        stack, accounts, "members", "UPDATE",
        "NEW.id = %d AND NOT (NEW.totp_last_step <=> OLD.totp_last_step)")
    # The step is recorded: the same code again is a replay.
    c.post("/api/v1/logout")
    accounts.login(c, m)
    r = c.post("/api/v1/login/totp", json={"code": totp(m.secret, offset=1)})
    assert r.status_code == 401, r.text


@pytest.mark.timeout(90)
def test_totp_step_is_rerun_when_a_statement_after_the_conflict_goes_through(stack, accounts):
    """The sign-in's elevation deletes the partial session; when that DELETE
    fails (1213) it deletes the new row it had just made, and that clean-up
    goes through. The transaction is still rerun: the conflict is the
    transaction's, not the last statement's. On Galera any statement after
    a brute-force abort can report it: in tests/cluster the same code sent
    through two hosts answered 500 there. Without it the clean-up's success
    hid the 1213 and the answer was a 500."""
    signed_in_through_a_forced_deadlock(
        stack, accounts, "sessions", "DELETE",
        "OLD.kind = 'member' AND OLD.principal_id = %d")


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


@pytest.mark.timeout(90)
def test_first_enrolment_and_recovery_code_are_rerun_after_a_deadlock(stack, accounts):
    m = accounts.member()
    c = stack.client(xff=fresh_ip())
    assert accounts.login(c, m).json() == {"next": "totp_enroll"}
    r = c.get("/api/v1/totp/enroll")
    assert r.status_code == 200, r.text
    secret = r.json()["secret_base32"]
    away_from_step_edge()
    with forced_deadlock(stack, "members", "UPDATE", "NEW.id = %d AND NEW.totp_secret IS NOT "
                         "NULL AND OLD.totp_secret IS NULL" % m.id) as f:
        r = c.post("/api/v1/totp/enroll", json={"code": totp(secret)})
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    # The codes shown are the ones kept (each attempt drew its own).
    shown = r.json()["recovery_codes"]
    assert int(stack.sql("SELECT COUNT(*) FROM member_recovery_codes WHERE member_id = %d"
                         % m.id)[0][0]) == len(shown) > 0
    assert accounts.events(m).count("totp_enabled") == 1
    assert c.get("/api/v1/me").status_code == 200
    # A recovery code at sign-in: spent once, with its sign-in.
    c2 = stack.client(xff=fresh_ip())
    accounts.login(c2, m)
    with forced_deadlock(stack, "member_recovery_codes", "UPDATE", "NEW.member_id = %d AND "
                         "NEW.used_at IS NOT NULL AND OLD.used_at IS NULL" % m.id) as f:
        r = c2.post("/api/v1/login/recovery", json={"code": shown[0]})
        assert r.status_code == 200, r.text
        assert r.json()["recovery_codes_left"] == len(shown) - 1
        assert f.forced() == 1
    assert c2.get("/api/v1/me").status_code == 200
    assert accounts.events(m).count("recovery_code_used") == 1


@pytest.mark.timeout(90)
def test_change_of_phone_is_rerun_after_a_deadlock(stack, accounts):
    m = accounts.enrolled()
    r = m.client.post("/api/v1/totp/change", json={"password": PASSWORD})
    assert r.status_code == 202, r.text
    token = accounts.link_token(m.email, "/compte/changer-de-telephone.html")
    r = m.client.post("/api/v1/totp/change/start", json={"token": token})
    assert r.status_code == 200, r.text
    secret = r.json()["secret_base32"]
    away_from_step_edge()
    with forced_deadlock(stack, "members", "UPDATE", "NEW.id = %d AND OLD.totp_secret IS NOT "
                         "NULL AND NOT (NEW.totp_secret <=> OLD.totp_secret)" % m.id) as f:
        r = m.client.post("/api/v1/totp/change/confirm", json={"token": token,
                                                                "code": totp(secret)})
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "changed"}
        assert f.forced() == 1
    assert accounts.events(m).count("totp_changed") == 1
    # The link was spent by the attempt that committed.
    assert m.client.post("/api/v1/totp/change/start", json={"token": token}).status_code == 410


@pytest.mark.timeout(90)
def test_agent_enrolment_is_rerun_after_a_deadlock(stack):
    login, token = add_agent(stack)
    c = stack.client(xff=fresh_ip())
    r = c.post("/api/v1/backoffice/enroll", json={"token": token, "password": PASSWORD})
    assert r.status_code == 200, r.text
    secret = r.json()["secret_base32"]
    away_from_step_edge()
    with forced_deadlock(stack, "agents", "UPDATE", "NEW.login = '%s' AND NEW.totp_secret IS "
                         "NOT NULL AND OLD.totp_secret IS NULL" % login) as f:
        r = c.post("/api/v1/backoffice/enroll/totp", json={"token": token, "code": totp(secret)})
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    assert stack.sql("SELECT totp_secret IS NOT NULL, pending_password_hash IS NULL FROM agents "
                     "WHERE login = '%s'" % login) == [["1", "1"]]
    assert stack.sql("SELECT COUNT(*) FROM audit_log l JOIN agents a ON a.id = l.agent_id "
                     "WHERE a.login = '%s' AND l.action = 'enrolled'" % login) == [["1"]]


@pytest.mark.timeout(90)
def test_password_step_is_rerun_after_a_deadlock(stack, accounts):
    """The password step's rows (counters cleared, its event) are rerun on a
    1213: on Galera two sign-ins of one member through two hosts meet at the
    COMMIT's certification, and tests/cluster saw that answer 500."""
    m = accounts.enrolled()
    c = stack.client(xff=fresh_ip())
    before = accounts.events(m).count("login_password_ok")
    with forced_deadlock(stack, "security_events", "INSERT",
                         "NEW.member_id = %d AND NEW.kind = 'login_password_ok'" % m.id) as f:
        r = accounts.login(c, m)
        assert r.json() == {"next": "totp"}
        assert f.forced() == 1
    assert accounts.events(m).count("login_password_ok") == before + 1
    r = c.post("/api/v1/login/totp", json={"code": totp(m.secret, offset=1)})
    assert r.status_code == 200, r.text


# ---- issue 18: registration, the re-enrolment link, the second factor's
# renewals and the data export


def count(stack, sql, *args):
    return int(stack.sql(sql % args)[0][0])


def queued_mails(stack, to, subject):
    """Mails in the outbox, sent or not: a rolled-back attempt queued none."""
    return count(stack, "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '%s' AND "
                 "subject = '%s'", to, subject)


def tokens(stack, purpose, subject_id):
    return count(stack, "SELECT COUNT(*) FROM one_time_tokens WHERE purpose = '%s' AND "
                 "subject_id = %d", purpose, subject_id)


def through_a_forced_mail(stack, to, subject, request, status):
    """request()'s answer while a 1213 is forced on its mail to `to` with
    this subject (the last write of the transactions below): the status
    expected, the 1213 forced once and the mail queued once."""
    with forced_deadlock(stack, "mail_outbox", "INSERT", "NEW.recipient = '%s' AND "
                         "NEW.subject = '%s'" % (to, subject)) as f:
        r = request()
        assert r.status_code == status, r.text
        assert f.forced() == 1
    assert queued_mails(stack, to, subject) == 1
    return r


REGISTER_LINK = "Finalisez la création de votre compte"


@pytest.mark.timeout(90)
def test_registration_is_rerun_after_a_deadlock(stack, accounts):
    m = stack.new_member()
    c = stack.client(xff=fresh_ip())
    r = through_a_forced_mail(stack, m.email, REGISTER_LINK,
                              lambda: c.post("/api/v1/register", json=register_body(m, m.email)),
                              202)
    assert r.json() == {"status": "pending"}
    assert tokens(stack, "register", m.insured_id) == 1
    # The person's mail budget counted once.
    assert stack.sql("SELECT hits FROM throttle WHERE k = 'register-person:%d'"
                     % m.insured_id) == [["1"]]
    # The link mailed is the one kept.
    token = accounts.link_token(m.email, "/inscription/confirmation.html")
    r = c.post("/api/v1/register/confirm/check", json={"token": token})
    assert r.status_code == 200, r.text


@pytest.mark.timeout(90)
def test_registration_confirmation_is_rerun_after_a_deadlock(stack, accounts):
    m = stack.new_member()
    c = stack.client(xff=fresh_ip())
    assert c.post("/api/v1/register", json=register_body(m, m.email)).status_code == 202
    token = accounts.link_token(m.email, "/inscription/confirmation.html")
    r = through_a_forced_mail(
        stack, m.email, "Votre compte a été créé",
        lambda: c.post("/api/v1/register/confirm", json={"token": token, "password": PASSWORD}),
        201)
    assert r.json() == {"status": "created"}
    assert accounts.events(m).count("account_created") == 1
    assert stack.sql("SELECT COUNT(*) FROM members WHERE insured_id = %d AND password_hash IS "
                     "NOT NULL" % m.insured_id) == [["1"]]
    # The link was spent by the attempt that committed.
    r = c.post("/api/v1/register/confirm", json={"token": token, "password": PASSWORD})
    assert r.status_code == 410, r.text
    m.password = PASSWORD
    assert accounts.login(stack.client(xff=fresh_ip()), m).json() == {"next": "totp_enroll"}


@pytest.mark.timeout(90)
def test_reenrolment_link_is_rerun_after_a_deadlock(stack, accounts):
    m = accounts.enrolled()
    assert m.client.post("/api/v1/totp/reset", json={"password": PASSWORD}).status_code == 200
    token = accounts.link_token(m.email, "/double-authentification.html")
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    with forced_deadlock(stack, "security_events", "INSERT", "NEW.member_id = %d AND "
                         "NEW.kind = 'totp_reenrol_link'" % m.id) as f:
        r = c.post("/api/v1/totp/reenrol", json={"token": token})
        assert r.status_code == 200, r.text
        assert r.json() == {"next": "totp_enroll"}
        assert f.forced() == 1
    assert accounts.events(m).count("totp_reenrol_link") == 1
    assert stack.sql("SELECT totp_reenrol_required_at IS NULL FROM members WHERE id = %d"
                     % m.id) == [["1"]]
    assert c.get("/api/v1/totp/enroll").status_code == 200
    # The link was spent by the attempt that committed.
    assert c.post("/api/v1/totp/reenrol", json={"token": token}).status_code == 410


def password_asked_through_a_forced_mail(stack, accounts, path, subject, status):
    """An enrolled member's POST path {password} (the password taken again)
    through a 1213 forced on its mail: (the member, the answer)."""
    m = accounts.enrolled()
    return m, through_a_forced_mail(
        stack, m.email, subject, lambda: m.client.post(path, json={"password": PASSWORD}), status)


@pytest.mark.timeout(90)
def test_new_recovery_codes_are_rerun_after_a_deadlock(stack, accounts):
    m, r = password_asked_through_a_forced_mail(stack, accounts, "/api/v1/totp/recovery-codes",
                                                "Nouveaux codes de secours", 200)
    # The codes shown are the ones kept (each attempt drew its own).
    shown = r.json()["recovery_codes"]
    assert count(stack, "SELECT COUNT(*) FROM member_recovery_codes WHERE member_id = %d",
                 m.id) == len(shown) > 0
    assert accounts.events(m).count("recovery_codes_renewed") == 1
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    r = c.post("/api/v1/login/recovery", json={"code": shown[0]})
    assert r.status_code == 200, r.text


@pytest.mark.timeout(90)
def test_phone_change_link_is_rerun_after_a_deadlock(stack, accounts):
    m, r = password_asked_through_a_forced_mail(
        stack, accounts, "/api/v1/totp/change",
        "Changement de téléphone pour la double authentification", 202)
    assert r.json() == {"status": "sent"}
    assert tokens(stack, "totp_change", m.id) == 1
    assert accounts.events(m).count("totp_change_requested") == 1
    # The link mailed is the one kept.
    token = accounts.link_token(m.email, "/compte/changer-de-telephone.html")
    r = m.client.post("/api/v1/totp/change/start", json={"token": token})
    assert r.status_code == 200, r.text


@pytest.mark.timeout(90)
def test_data_export_is_rerun_after_a_deadlock(stack, accounts):
    m = accounts.enrolled()
    r = through_a_forced_mail(stack, m.email, "Vos données ont été téléchargées",
                              lambda: m.client.get("/api/v1/account/export"), 200)
    assert r.json()["account"]["email"] == m.email
    assert accounts.events(m).count("data_exported") == 1
