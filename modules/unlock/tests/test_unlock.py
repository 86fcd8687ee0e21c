"""Module unlock, member side (modules/unlock/unlock.c): forgot password,
reset, confirmation of an account update, the lock page's status. Each lock
reason with each way out, and each way that must not work. Accounts are
member rows with a password set through testmod; locks go through testmod's
account routes (core/account.c), as the login module would take them."""

import json
import time

import pytest

from conftest import held_signins
from unlock_util import (NEW_PASSWORD, PASSWORD, agent_client, events, forgot, fresh_ip, link_in,
                         lock, member_with_password, password_is, reset_link, settle_mail, state,
                         wait_mail)

RESET_SUBJECT = "Réinitialisation de votre mot de passe"
CHANGED_SUBJECT = "Votre mot de passe a été modifié"
VERIFY_SUBJECT = "Confirmez la modification de votre compte"
STEP_KINDS = {
    "password": ["reset_password", "call_fund"],
    "second_factor": ["reset_password", "call_fund"],
    "suspicious": ["call_fund", "wait_agent"],
    "agent": ["call_fund", "wait_agent"],
    "pending_verification": ["confirm_update", "call_fund"],
}


@pytest.fixture
def c(stack):
    """A client with an address of its own (the per-address throttle)."""
    return stack.client(xff=fresh_ip())


def reset(client, token, password=NEW_PASSWORD):
    return client.post("/api/v1/password/reset", json={"token": token, "password": password})


def request_verification(client, member, what="adresse e-mail"):
    r = client.post("/api/v1/test/account/%d/verification" % member.id, json={"what": what})
    assert r.status_code == 200, r.text
    return r.json()


def verification_token(stack, member, n=1):
    origin, path, token = link_in(wait_mail(stack, member, VERIFY_SUBJECT, n))
    assert path == "/compte/verification.html"
    assert origin == stack.origin
    return token


def expire(stack, purpose, member):
    stack.sql("UPDATE one_time_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
              "WHERE purpose = '%s' AND subject_id = %d" % (purpose, member.id))


# ---- forgot password ------------------------------------------------------------


def test_forgot_answers_the_same_whether_or_not_the_triple_matches(stack, c):
    matching = member_with_password(stack, c)
    upper = member_with_password(stack, c)
    wrong_email = member_with_password(stack, c)
    wrong_day = member_with_password(stack, c)
    no_account = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % no_account.id)  # insured, no account
    cases = [
        (matching, {}),
        (upper, {"email": upper.email.upper()}),          # e-mail without case: matches
        (wrong_email, {"email": "quelqu-un@example.fr"}),
        (wrong_day, {"birth_date": "1980-05-18"}),         # same month: the NIR still agrees
        (no_account, {}),
        (matching, {"nir": no_account.nir}),
    ]
    answers = []
    for member, override in cases:
        r = forgot(stack.client(xff=fresh_ip()), member, **override)
        answers.append((r.status_code, r.headers["Content-Type"], r.content))
    assert answers[0][0] == 202 and answers[0][1].startswith("application/json")
    assert json.loads(answers[0][2]) == {"status": "pending"}
    assert all(a == answers[0] for a in answers), answers
    # Only the matching requests sent a link.
    for member, n in ((matching, 1), (upper, 1), (wrong_email, 0), (wrong_day, 0)):
        got = settle_mail(stack, c, member)
        assert [m["subject"] for m in got] == [RESET_SUBJECT] * n, member
        assert [e[0] for e in events(stack, member)] == ["password_reset_requested"] * n


def test_forgot_link_mail(stack, c):
    member = member_with_password(stack, c)
    assert forgot(c, member, nir=" ".join([member.nir[:1], member.nir[1:7], member.nir[7:]])
                  ).status_code == 202
    m = wait_mail(stack, member, RESET_SUBJECT)
    origin, path, token = link_in(m)
    assert origin == stack.origin and path == "/mot-de-passe/reinitialisation.html"
    assert "30 minutes" in m["body"]
    assert "ignorez ce message" in m["body"]
    # Only the hash is stored.
    assert stack.sql("SELECT COUNT(*) FROM one_time_tokens WHERE purpose = 'reset' AND "
                     "subject_id = %d AND used_at IS NULL" % member.id) == [["1"]]
    assert token not in stack.sql("SELECT HEX(token_hash) FROM one_time_tokens WHERE "
                                  "subject_id = %d" % member.id)[0][0]


@pytest.mark.parametrize("field,value", [
    ("nir", "180051234567812"),      # wrong key
    ("nir", "abc"),
    ("nir", "2" * 40),
    ("birth_date", "17/05/1980"),
    ("birth_date", "1980-02-30"),
    ("birth_date", "1981-05-17"),    # NIR says 1980: reported on the NIR
    ("email", "pas-une-adresse"),
    ("email", "a b@example.fr"),
    ("email", None),
    ("nir", 180051234567812),
])
def test_forgot_refuses_malformed_fields(stack, c, field, value):
    member = stack.new_member()
    body = {"nir": member.nir, "birth_date": member.birth_date, "email": member.email}
    if value is None:
        del body[field]
    else:
        body[field] = value
    r = c.post("/api/v1/password/forgot", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == ({"nir"} if field == "birth_date" and value == "1981-05-17" else {field})


def test_forgot_is_limited_per_nir_matching_or_not(stack):
    member = stack.new_member()
    unknown = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % unknown.id)  # insured, no account
    for who in (member, unknown):
        codes = [forgot(stack.client(xff=fresh_ip()), who).status_code for _ in range(4)]
        assert codes == [202, 202, 202, 429], codes
    r = forgot(stack.client(xff=fresh_ip()), member)
    assert r.status_code == 429
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert 0 < int(r.headers["Retry-After"]) <= 3600
    assert r.json()["retry_after"] == int(r.headers["Retry-After"])
    # Three links went out, no more.
    assert [m["subject"] for m in settle_mail(stack, stack.client(), member)] == [RESET_SUBJECT] * 3
    # The throttle table holds no NIR.
    assert stack.sql("SELECT COUNT(*) FROM throttle WHERE k LIKE '%%%s%%'" % member.nir) == [["0"]]


def test_forgot_is_limited_per_address(stack):
    modules = [dict(m) for m in stack.config["modules"]]
    for m in modules:
        if m["name"] == "unlock":
            m["settings"] = {"forgot_ip_max": 2, "forgot_ip_window_s": 600}
    inst = stack.start_portaild({"modules": modules})
    ip = fresh_ip()
    c = stack.client(xff=ip, base_url=inst.base_url, origin=inst.origin)
    codes = [forgot(c, stack.new_member()).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert 0 < int(c.last.headers["Retry-After"]) <= 600
    # Another address is not affected.
    c2 = stack.client(xff=fresh_ip(), base_url=inst.base_url, origin=inst.origin)
    assert forgot(c2, stack.new_member()).status_code == 202


def test_settings_are_bounded(stack):
    for bad in ({"forgot_account_max": 0}, {"forgot_ip_window_s": 10},
                {"reset_link_ttl_s": 7 * 86400}, {"page_max": 100000}, {"inconnu": 1}):
        modules = [dict(m) for m in stack.config["modules"]]
        for m in modules:
            if m["name"] == "unlock":
                m["settings"] = bad
        rc, out, err = stack.check_config({"modules": modules})
        assert rc != 0, (bad, out, err)
        assert list(bad)[0] in err, err


# ---- reset ----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["password", "second_factor"])
def test_reset_lifts_a_wrong_secret_lock(stack, c, reason):
    member = member_with_password(stack, c)
    sessions = [stack.client(), stack.client()]
    sessions[0].test_login(id=member.id)
    token = reset_link(stack, c, member)
    lock(c, member, reason)
    sessions[1].test_login(id=member.id, level="partial")  # after the lock: signed in again
    c.post("/api/v1/test/account/%d/count" % member.id, json={"counter": "password"})

    r = reset(c, token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "reset" and body["still_locked"] is False
    assert body["reason"] is None and body["steps"] == []
    assert "nouveau mot de passe" in body["detail"]
    st = state(c, member)
    assert st["reason"] == "none" and st["password_failures"] == 0
    assert password_is(c, member, NEW_PASSWORD) and not password_is(c, member, PASSWORD)
    # Every session ended.
    assert sessions[0].get("/api/v1/test/member").status_code == 401
    assert sessions[1].get("/api/v1/test/partial").status_code == 401
    assert [e[0] for e in events(stack, member)][-3:] == [
        "account_locked", "account_unlocked", "password_reset"]
    subjects = [m["subject"] for m in settle_mail(stack, c, member)]
    assert sorted(subjects) == sorted([RESET_SUBJECT, "Votre compte a été bloqué",
                                       "Votre compte a été débloqué", CHANGED_SUBJECT])
    changed = wait_mail(stack, member, CHANGED_SUBJECT)
    assert "sessions ouvertes" in changed["body"] and "36 46" in changed["body"]
    assert "reste bloqué" not in changed["body"]
    # Single use.
    r = reset(c, token, "Une autre phrase de passe tout aussi longue")
    assert r.status_code == 410
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert password_is(c, member, NEW_PASSWORD)


@pytest.mark.parametrize("reason", ["suspicious", "agent", "pending_verification"])
def test_reset_changes_the_password_but_not_the_other_locks(stack, c, reason):
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    lock(c, member, reason)
    r = reset(c, token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["still_locked"] is True and body["reason"] == reason
    assert [s["kind"] for s in body["steps"]] == STEP_KINDS[reason]
    if reason == "pending_verification":
        assert "lien de confirmation" in body["detail"]
    else:
        assert "36 46" in body["detail"] and "messagerie sécurisée" in body["detail"]
    assert state(c, member)["reason"] == reason
    assert password_is(c, member, NEW_PASSWORD)
    m = wait_mail(stack, member, CHANGED_SUBJECT)
    assert "reste bloqué" in m["body"]
    subjects = [x["subject"] for x in settle_mail(stack, c, member)]
    assert "Votre compte a été débloqué" not in subjects


def test_reset_refuses_a_weak_password_and_keeps_the_link(stack, c):
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    for pw, phrase in [("court", "au moins 12"), ("azertyuiop123", "trop courant"),
                       ("Paul Martin est mon nom", "nom"),
                       ("mon numero " + member.nir, "sécurité sociale"),
                       ("ne le 17051980 a Paris", "date de naissance"), ("x" * 129, "au plus 128")]:
        r = reset(c, token, pw)
        assert r.status_code == 422, (pw, r.text)
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == ["password"]
        assert phrase in errors[0]["message"], (pw, errors)
    assert password_is(c, member, PASSWORD)
    assert reset(c, token).status_code == 200


@pytest.mark.parametrize("token", ["", "x" * 43, "A" * 44, "!" * 43, "a" * 129])
def test_reset_with_a_bad_token(stack, c, token):
    r = reset(c, token)
    assert r.status_code == (422 if token in ("", "a" * 129) else 410), r.text


def test_reset_missing_fields(c):
    r = c.post("/api/v1/password/reset", json={})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"token", "password"}
    r = c.post("/api/v1/password/reset", json={"token": 12, "password": ["a"]})
    assert r.status_code == 422


def test_an_expired_reset_link_is_refused(stack, c):
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    expire(stack, "reset", member)
    r = reset(c, token)
    assert r.status_code == 410
    assert "expiré" in r.json()["detail"]
    assert password_is(c, member, PASSWORD)


def test_a_new_link_replaces_the_old_one(stack, c):
    member = member_with_password(stack, c)
    first = reset_link(stack, c, member, 1)
    second = reset_link(stack, c, member, 2)
    assert first != second
    assert reset(c, first).status_code == 410
    assert reset(c, second).status_code == 200


def test_the_link_lives_thirty_minutes(stack, c):
    member = member_with_password(stack, c)
    reset_link(stack, c, member)
    rows = stack.sql("SELECT TIMESTAMPDIFF(SECOND, created_at, expires_at) FROM one_time_tokens "
                     "WHERE purpose = 'reset' AND subject_id = %d" % member.id)
    assert 1795 <= int(rows[0][0]) <= 1805


def test_a_reset_link_is_not_a_verification_link(stack, c):
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    lock(c, member, "pending_verification")
    r = c.post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 410
    assert state(c, member)["reason"] == "pending_verification"


def check(client, kind, token):
    return client.post("/api/v1/%s/check" % kind, json={"token": token})


def token_unused(stack, purpose, member):
    return stack.sql("SELECT used_at IS NULL FROM one_time_tokens WHERE purpose = '%s' "
                     "AND subject_id = %d" % (purpose, member.id)) == [["1"]]


def test_reset_link_checked_without_spending_it(stack, c):
    """The reset page asks on load: valid, then once used the same 410 as the
    reset itself; checking never spends the link."""
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    for _ in range(3):
        r = check(c, "password/reset", token)
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "valid"}
    assert token_unused(stack, "reset", member)
    assert password_is(c, member, PASSWORD)
    assert reset(c, token).status_code == 200
    used = check(c, "password/reset", token)
    again = reset(c, token)
    assert used.status_code == again.status_code == 410
    assert used.headers["Content-Type"].startswith("application/problem+json")
    assert used.json()["detail"] == again.json()["detail"]


def test_reset_link_check_expired_replaced_unknown_and_bad_input(stack, c):
    member = member_with_password(stack, c)
    first = reset_link(stack, c, member, 1)
    second = reset_link(stack, c, member, 2)
    assert check(c, "password/reset", first).status_code == 410     # replaced
    assert check(c, "password/reset", second).status_code == 200
    expire(stack, "reset", member)
    r = check(c, "password/reset", second)
    assert r.status_code == 410 and "expiré" in r.json()["detail"]
    for token in ["x" * 43, "A" * 44, "!" * 43]:
        assert check(c, "password/reset", token).status_code == 410, token
    for token in ["", "a" * 129, 12]:
        assert check(c, "password/reset", token).status_code == 422, token
    # A verification link is not a reset link, nor the reverse.
    other = stack.new_member()
    request_verification(c, other)
    assert check(c, "password/reset", verification_token(stack, other)).status_code == 410
    assert check(c, "account/verify", first).status_code == 410


def test_reset_link_check_has_the_limits_of_the_reset(stack):
    """nginx: the check counts among the sign-ins in flight of its address,
    as the reset does (503 + Retry-After beyond 8), not only the API's rate."""
    ip = fresh_ip()
    c = stack.client(xff=ip)
    with held_signins(stack, ip):
        for route in ("/api/v1/password/reset/check", "/api/v1/password/reset"):
            r = c.post(route, json={"token": "x" * 43, "password": PASSWORD})
            assert r.status_code == 503, (route, r.status_code)
            assert r.headers.get("Retry-After"), route
        assert stack.client(xff=fresh_ip()).post(
            "/api/v1/password/reset/check", json={"token": "x" * 43}).status_code == 410
    assert c.post("/api/v1/password/reset/check", json={"token": "x" * 43}).status_code == 410


def test_verification_link_checked_without_spending_it(stack, c):
    member = stack.new_member()
    request_verification(c, member)
    token = verification_token(stack, member)
    for _ in range(3):
        r = check(c, "account/verify", token)
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "valid"}
    assert token_unused(stack, "verify", member)
    assert state(c, member)["reason"] == "pending_verification"
    assert c.post("/api/v1/account/verify", json={"token": token}).status_code == 200
    used = check(c, "account/verify", token)
    again = c.post("/api/v1/account/verify", json={"token": token})
    assert used.status_code == again.status_code == 410
    assert used.json()["detail"] == again.json()["detail"]


def test_verification_link_check_expired_and_unknown(stack, c):
    member = stack.new_member()
    request_verification(c, member)
    token = verification_token(stack, member)
    expire(stack, "verify", member)
    r = check(c, "account/verify", token)
    assert r.status_code == 410 and "36 46" in r.json()["detail"]
    assert check(c, "account/verify", "z" * 43).status_code == 410
    assert check(c, "account/verify", "").status_code == 422


# ---- account update confirmation --------------------------------------------------


def test_verification_locks_mails_and_the_link_unlocks(stack, c):
    member = member_with_password(stack, c)
    s = stack.client()
    s.test_login(id=member.id)
    st = request_verification(c, member, "coordonnées bancaires")
    assert st["reason"] == "pending_verification" and st["detail"] == "coordonnées bancaires"
    assert s.get("/api/v1/test/member").status_code == 401
    m = wait_mail(stack, member, VERIFY_SUBJECT)
    assert "coordonnées bancaires" in m["body"] and "48 heures" in m["body"]
    assert "36 46" in m["body"]
    token = verification_token(stack, member)
    rows = stack.sql("SELECT TIMESTAMPDIFF(HOUR, created_at, expires_at) FROM one_time_tokens "
                     "WHERE purpose = 'verify' AND subject_id = %d" % member.id)
    assert rows == [["48"]]

    r = c.post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified" and r.json()["still_locked"] is False
    assert state(c, member)["reason"] == "none"
    assert [e for e in events(stack, member)][-2:] == [
        ["account_unlocked", "verification: coordonnées bancaires"],
        ["account_update_confirmed", "coordonnées bancaires"]]
    m = wait_mail(stack, member, "Votre compte a été débloqué")
    assert "confirmé la modification" in m["body"]
    # Single use: a clear 410.
    r = c.post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 410
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert "expiré ou a déjà servi" in r.json()["detail"]


def test_an_expired_verification_link_is_refused(stack, c):
    member = stack.new_member()
    request_verification(c, member)
    token = verification_token(stack, member)
    expire(stack, "verify", member)
    r = c.post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 410
    assert "36 46" in r.json()["detail"]
    assert state(c, member)["reason"] == "pending_verification"


@pytest.mark.parametrize("reason", ["suspicious", "agent"])
def test_a_verification_link_does_not_lift_another_lock(stack, c, reason):
    member = stack.new_member()
    lock(c, member, reason)
    st = request_verification(c, member)
    assert st["reason"] == reason  # a lock needing the fund is not weakened
    r = c.post("/api/v1/account/verify", json={"token": verification_token(stack, member)})
    assert r.status_code == 200
    assert r.json()["still_locked"] is True
    assert state(c, member)["reason"] == reason


def test_a_verification_replaces_a_password_lock_which_reset_then_cannot_lift(stack, c):
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    lock(c, member, "password")
    assert request_verification(c, member)["reason"] == "pending_verification"
    body = reset(c, token).json()
    assert body["still_locked"] is True and body["reason"] == "pending_verification"
    r = c.post("/api/v1/account/verify", json={"token": verification_token(stack, member)})
    assert r.json()["still_locked"] is False


def test_an_agent_lock_after_the_update_is_not_lifted_by_the_link(stack, c):
    member = stack.new_member()
    request_verification(c, member)
    token = verification_token(stack, member)
    lock(c, member, "agent", "fraude suspectée")
    assert state(c, member)["reason"] == "agent"
    r = c.post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 200 and r.json()["still_locked"] is True
    assert state(c, member)["reason"] == "agent"


def test_verify_bad_input(c):
    assert c.post("/api/v1/account/verify", json={}).status_code == 422
    assert c.post("/api/v1/account/verify", json={"token": "z" * 43}).status_code == 410
    assert c.post("/api/v1/account/verify", data="token=x",
                  headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415


# ---- the lock page ------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(STEP_KINDS))
def test_status_for_a_partial_session(stack, c, reason):
    member = stack.new_member()
    lock(c, member, reason)
    p = stack.client()
    p.test_login(id=member.id, level="partial")
    r = p.get("/api/v1/unlock/status")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["locked"] is True and body["reason"] == reason
    assert body["reason_text"].startswith("Votre compte ")
    assert body["since"] == state(c, member)["locked_at"]
    assert [s["kind"] for s in body["steps"]] == STEP_KINDS[reason]
    texts = " ".join(s["text"] for s in body["steps"])
    assert "36 46" in texts
    if reason in ("suspicious", "agent"):
        assert "ne suffit pas" in texts
    if reason in ("password", "second_factor"):
        assert "Mot de passe oublié" in texts
    assert r.headers["Cache-Control"] == "no-store"


def test_status_when_not_locked(stack):
    member = stack.new_member()
    p = stack.client()
    p.test_login(id=member.id, level="partial")
    body = p.get("/api/v1/unlock/status").json()
    assert body == {"locked": False, "reason": None, "reason_text": "Votre compte n’est pas bloqué.",
                    "since": None, "steps": []}


def test_status_needs_a_partial_member_session(stack):
    member = stack.new_member()
    assert stack.client().get("/api/v1/unlock/status").status_code == 401
    full = stack.client()
    full.test_login(id=member.id)
    assert full.get("/api/v1/unlock/status").status_code == 403
    agent = agent_client(stack)
    assert agent.get("/api/v1/unlock/status").status_code == 403
    supervisor = agent_client(stack, role="supervisor")
    assert supervisor.get("/api/v1/unlock/status").status_code == 403


def test_agent_sessions_reach_no_member_route(stack):
    agent = agent_client(stack)
    assert agent.get("/api/v1/unlock/status").status_code == 403
    assert agent.get("/api/v1/test/member").status_code == 403
    # The login module's member routes, when it is there.
    for path in ("/api/v1/me", "/api/v1/sessions"):
        r = agent.get(path)
        assert r.status_code in (401, 403, 404), (path, r.status_code)


# ---- secrets stay out of the logs ---------------------------------------------------


def test_no_token_password_or_nir_in_the_logs(stack, c):
    member = member_with_password(stack, c)
    token = reset_link(stack, c, member)
    # The page the link opens (served by nginx, whether or not it exists yet).
    c.get("/mot-de-passe/reinitialisation.html?token=" + token)
    assert reset(c, token, "court").status_code == 422
    assert reset(c, token).status_code == 200
    agent = agent_client(stack)
    assert agent.get("/api/v1/backoffice/members", params={"nir": member.nir}).status_code == 200
    time.sleep(1.5)  # nginx flushes its access log every second
    logs = [stack.paths.portaild_log, stack.paths.nginx_prefix / "logs" / "access.log"]
    text = "".join(p.read_text(errors="replace") for p in logs)
    assert "/mot-de-passe/reinitialisation.html" in text
    for secret in (token, NEW_PASSWORD, member.nir, member.email):
        assert secret not in text, secret


# ---- with the login module ------------------------------------------------------------


def test_real_sign_in_locked_by_wrong_passwords_then_reset(stack):
    c = stack.client(xff=fresh_ip())
    member = member_with_password(stack, c)
    if c.post("/api/v1/login", json={"nir": member.nir, "password": "x" * 12}).status_code == 404:
        pytest.skip("login module not enabled")
    for _ in range(10):  # the threshold is the login module's setting (5 by default)
        if state(c, member)["reason"] != "none":
            break
        r = c.post("/api/v1/login", json={"nir": member.nir, "password": "Pas le bon mot 42!"})
        assert r.status_code in (401, 423), r.text
    assert state(c, member)["reason"] == "password"
    # The right password: 423 and a partial session for the lock page.
    r = c.post("/api/v1/login", json={"nir": member.nir, "password": PASSWORD})
    assert r.status_code == 423, r.text
    r = c.get("/api/v1/unlock/status")
    assert r.status_code == 200, r.text
    assert r.json()["reason"] == "password"
    assert [s["kind"] for s in r.json()["steps"]] == STEP_KINDS["password"]
    # The way out: forgot, reset; the partial session ends with it.
    token = reset_link(stack, c, member)
    assert reset(c, token).json()["still_locked"] is False
    assert c.get("/api/v1/unlock/status").status_code == 401
    c.forget()
    r = c.post("/api/v1/login", json={"nir": member.nir, "password": PASSWORD})
    assert r.status_code == 401, r.text
    r = c.post("/api/v1/login", json={"nir": member.nir, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["next"] in ("totp", "totp_enroll")
