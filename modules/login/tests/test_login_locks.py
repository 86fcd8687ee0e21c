"""Module login: every lock threshold and its mail, the per-address throttle,
the new-country rule (lock and notify), the bound on concurrent password
hashes, and the refusal to work without the key file."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import SESSION_COOKIE
from login_support import (FR_IP, GB_IP, PASSWORD, US_IP, WRONG_PASSWORD, Accounts,
                           fresh_ip, problem_without_ids, totp)

LOCK_SUBJECT = "Votre compte a été bloqué"


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def private_portaild(stack, server=None, database=None, **login_settings):
    """A portaild of its own (same database and SMTP) with these login
    settings."""
    mods = [dict(m) for m in stack.config["modules"]]
    for m in mods:
        if m["name"] == "login":
            m["settings"] = dict(login_settings)
    return stack.start_portaild({"modules": mods, "server": server or {},
                                 "database": database or {}})


def client_of(stack, inst, xff):
    return stack.client(xff=xff, base_url=inst.base_url, origin=inst.origin)


def assert_locked(r, reason, kinds):
    assert r.status_code == 423, r.text
    body = r.json()
    assert body["reason"] == reason
    assert body["reason_text"] and body["detail"] == body["reason_text"]
    assert [s["kind"] for s in body["steps"]] == kinds
    assert all(s["text"] for s in body["steps"])


# -------------------------------------------------------------- passwords


def test_five_wrong_passwords_lock_and_only_the_right_one_shows_why(stack, accounts):
    m = accounts.member()
    c = stack.client(xff=fresh_ip())
    first = None
    for i in range(5):
        r = accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
        first = first or problem_without_ids(r)
        assert problem_without_ids(r) == first        # the 5th says nothing more
    assert accounts.lock_state(m) == "password"
    mail = accounts.wait_mail(m, LOCK_SUBJECT)
    assert "plusieurs saisies incorrectes du mot de passe" in mail["body"]
    assert "Mot de passe oublié" in mail["body"]
    kinds = accounts.events(m)
    assert kinds.count("login_failed") == 5 and "account_locked" in kinds

    # Still a wrong password: the same 401, no reason.
    r = accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    assert "reason" not in r.json()
    # The right one: the reason and the way out, with a partial session for
    # the unlock page.
    r = accounts.login(c, m, expect=423)
    assert_locked(r, "password", ["reset_password", "call_fund"])
    assert "36 46" in r.json()["steps"][1]["text"]
    assert c.get("/api/v1/session").json()["level"] == "partial"
    assert_locked(c.post("/api/v1/login/totp", json={"code": "123456"}), "password",
                  ["reset_password", "call_fund"])
    assert "login_locked" in accounts.events(m)
    # One lock mail, however many failures follow.
    time.sleep(0.5)
    assert len(accounts.mails_to(m, LOCK_SUBJECT)) == 1


def test_a_success_resets_the_password_counter(stack, accounts):
    m = accounts.member()
    c = stack.client(xff=fresh_ip())
    for _ in range(4):
        accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    assert accounts.counters(m)[0] == 4
    accounts.login(c, m)
    assert accounts.counters(m)[0] == 0
    for _ in range(4):
        accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    assert accounts.lock_state(m) is None


# ------------------------------------------------------------ second factor


def test_five_wrong_codes_lock_apart_and_end_the_partial_session(stack, accounts):
    m = accounts.enrolled()
    c = stack.client(xff=fresh_ip())
    # Wrong passwords do not count against the code budget, nor the reverse.
    for _ in range(2):
        accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    accounts.login(c, m)
    assert accounts.counters(m) == (0, 0)
    bad = "%06d" % ((int(totp(m.secret)) + 500000) % 1000000)
    for i in range(4):
        r = c.post("/api/v1/login/totp", json={"code": bad})
        assert r.status_code == 401, r.text
    # A recovery code that is not one counts too.
    r = c.post("/api/v1/login/recovery", json={"code": "AAAAA-AAAAA"})
    assert_locked(r, "second_factor", ["reset_password", "call_fund"])
    assert any(sc.startswith(SESSION_COOKIE + "=;") or "Max-Age=0" in sc for sc in r.set_cookies)
    assert c.get("/api/v1/session").status_code == 401
    assert stack.sql("SELECT COUNT(*) FROM sessions WHERE kind = 'member' AND principal_id = %d"
                     % m.id) == [["0"]]
    assert accounts.lock_state(m) == "second_factor"
    assert accounts.counters(m) == (0, 5)
    mail = accounts.wait_mail(m, LOCK_SUBJECT)
    assert "code de sécurité" in mail["body"]
    # Even the right code does not get through now.
    r = accounts.login(c, m, expect=423)
    assert r.json()["reason"] == "second_factor"
    assert c.post("/api/v1/login/totp",
                  json={"code": totp(m.secret, offset=1)}).status_code == 423
    kinds = accounts.events(m)
    assert kinds.count("totp_failed") == 4 and "recovery_code_failed" in kinds


def test_a_right_code_resets_the_code_counter(stack, accounts):
    m = accounts.enrolled()
    c = stack.client(xff=fresh_ip())
    accounts.login(c, m)
    bad = "%06d" % ((int(totp(m.secret)) + 500000) % 1000000)
    for _ in range(3):
        assert c.post("/api/v1/login/totp", json={"code": bad}).status_code == 401
    assert accounts.counters(m)[1] == 3
    assert c.post("/api/v1/login/totp",
                  json={"code": totp(m.secret, offset=1)}).status_code == 200
    assert accounts.counters(m)[1] == 0


# ------------------------------------------------------- password/change


def test_three_wrong_current_passwords_lock_as_suspicious(stack, accounts):
    m = accounts.enrolled()
    c = m.client
    for _ in range(2):
        r = c.post("/api/v1/password/change",
                   json={"current": WRONG_PASSWORD, "new": "Nouveau-Cerf-Volant-88"})
        assert r.status_code == 401, r.text
        assert "actuel" in r.json()["detail"]
    # TOTP reset re-checks the password too, and counts in the same window.
    r = c.post("/api/v1/totp/reset", json={"password": WRONG_PASSWORD})
    assert_locked(r, "suspicious", ["call_fund", "wait_agent"])
    assert c.get("/api/v1/me").status_code == 401
    assert accounts.lock_state(m) == "suspicious"
    mail = accounts.wait_mail(m, LOCK_SUBJECT)
    assert "activité inhabituelle" in mail["body"]
    assert accounts.events(m).count("password_change_failed") == 2


# ------------------------------------------------------------ new country


def test_new_country_locks_as_suspicious(stack, accounts):
    m = accounts.member()
    fr = stack.client(xff=FR_IP)
    assert accounts.login(fr, m).json() == {"next": "totp_enroll"}
    assert stack.sql("SELECT country FROM member_countries WHERE member_id = %d" % m.id) == \
        [["FR"]]
    us = stack.client(xff=US_IP)
    r = accounts.login(us, m, expect=423)
    assert_locked(r, "suspicious", ["call_fund", "wait_agent"])
    assert us.get("/api/v1/session").json()["level"] == "partial"
    # The session opened from France went with the lock.
    assert fr.get("/api/v1/session").status_code == 401
    rows = stack.sql("SELECT kind, detail, country FROM security_events WHERE member_id = %d "
                     "AND kind IN ('new_country', 'account_locked') ORDER BY id" % m.id)
    assert rows == [["new_country", "US", "US"], ["account_locked", "suspicious", "US"]]
    mail = accounts.wait_mail(m, LOCK_SUBJECT)
    assert "activité inhabituelle" in mail["body"]
    # A password reset would not lift it; the right password keeps saying why.
    assert_locked(accounts.login(fr, m, expect=423), "suspicious", ["call_fund", "wait_agent"])


def test_first_sign_in_only_records_and_no_country_is_ignored(stack, accounts):
    m = accounts.member()
    accounts.login(stack.client(xff=fresh_ip()), m)        # private address: no country
    assert stack.sql("SELECT COUNT(*) FROM member_countries WHERE member_id = %d" % m.id) == \
        [["0"]]
    accounts.login(stack.client(xff=US_IP), m)              # first country: recorded
    accounts.login(stack.client(xff=US_IP), m)
    accounts.login(stack.client(xff=fresh_ip()), m)
    assert accounts.lock_state(m) is None
    accounts.login(stack.client(xff=GB_IP), m, expect=423)  # then a new one
    assert accounts.lock_state(m) == "suspicious"


def test_a_country_not_seen_for_90_days_is_new_again(stack, accounts):
    m = accounts.member()
    accounts.login(stack.client(xff=FR_IP), m)
    accounts.login(stack.client(xff=US_IP), m, expect=423)
    stack.sql("DELETE FROM account_locks WHERE member_id = %d" % m.id)
    # US is known now; FR was seen 91 days ago, US yesterday.
    stack.sql("UPDATE member_countries SET last_seen_at = UTC_TIMESTAMP() - INTERVAL 91 DAY "
              "WHERE member_id = %d AND country = 'FR'" % m.id)
    stack.sql("UPDATE member_countries SET last_seen_at = UTC_TIMESTAMP() - INTERVAL 1 DAY "
              "WHERE member_id = %d AND country = 'US'" % m.id)
    accounts.login(stack.client(xff=US_IP), m)
    accounts.login(stack.client(xff=FR_IP), m, expect=423)


def test_notify_mode_mails_instead_of_locking(stack, accounts):
    inst = private_portaild(stack, new_country="notify", ip_max_failures=1000)
    m = accounts.member()
    assert accounts.login(client_of(stack, inst, FR_IP), m).status_code == 200
    r = accounts.login(client_of(stack, inst, US_IP), m)
    assert r.json() == {"next": "totp_enroll"}
    assert accounts.lock_state(m) is None
    mail = accounts.wait_mail(m, "Connexion depuis un nouveau pays")
    assert "8.8.8.8" in mail["body"] and "US" in mail["body"]
    assert "new_country" in accounts.events(m)
    # Known now: no second mail.
    accounts.login(client_of(stack, inst, US_IP), m)
    time.sleep(0.5)
    assert len(accounts.mails_to(m, "Connexion depuis un nouveau pays")) == 1


def test_settings_are_checked_at_start(stack):
    mods = [dict(m) for m in stack.config["modules"]]
    for m in mods:
        if m["name"] == "login":
            m["settings"] = {"new_country": "ignore"}
    rc, err = stack.run_portaild_expect_fail({"modules": mods})
    assert rc != 0 and "new_country" in err
    for m in mods:
        if m["name"] == "login":
            m["settings"] = {"max_password_failures": 0}
    rc, err = stack.run_portaild_expect_fail({"modules": mods})
    assert rc != 0 and "max_password_failures" in err


# -------------------------------------------------------- per-address throttle


def test_one_address_cannot_lock_many_accounts(stack, accounts):
    inst = private_portaild(stack, ip_max_failures=3, ip_window_seconds=120)
    ip = fresh_ip()
    c = client_of(stack, inst, ip)
    victims = [accounts.member() for _ in range(4)]
    for v in victims[:3]:
        accounts.login(c, v, password=WRONG_PASSWORD, expect=401)
    # Over budget: 429 before any account is touched, right password or not.
    for pw in (WRONG_PASSWORD, PASSWORD):
        r = c.post("/api/v1/login", json={"nir": victims[3].nir, "password": pw})
        assert r.status_code == 429, r.text
        assert 0 < int(r.headers["Retry-After"]) <= 120
        assert r.json()["retry_after"] == int(r.headers["Retry-After"])
        assert "minute" in r.json()["detail"]
    assert accounts.counters(victims[3]) == (0, 0)
    assert accounts.events(victims[3]) == []
    # The second factor shares the budget.
    other = client_of(stack, inst, fresh_ip())
    accounts.login(other, victims[3])
    r = other.post("/api/v1/login/totp", json={"code": "123456"}, xff=ip)
    assert r.status_code == 429
    # Another address is not concerned.
    assert accounts.login(client_of(stack, inst, fresh_ip()), victims[0]).status_code == 200


# ------------------------------------------------------------ hash slots


@pytest.mark.timeout(90)
def test_hash_slots_exhausted_answer_503(stack, accounts):
    # hash_wait_ms 0: refused at once, no wait for a slot (test_hash_wait.py waits).
    inst = private_portaild(stack, server={"hash_slots": 1, "hash_wait_ms": 0, "threads": 12},
                            database={"pool_size": 12}, ip_max_failures=100000)
    m = accounts.member()
    ip = fresh_ip()

    def attempt(_):
        c = client_of(stack, inst, ip)
        r = c.post("/api/v1/login", json={"nir": m.nir, "password": WRONG_PASSWORD})
        return r.status_code, r.headers.get("Retry-After"), r.json().get("detail", "")

    with ThreadPoolExecutor(10) as ex:
        results = list(ex.map(attempt, range(10)))
    statuses = [s for s, _, _ in results]
    assert 401 in statuses, results
    busy = [(ra, d) for s, ra, d in results if s == 503]
    assert busy, results
    assert all(ra and int(ra) >= 1 for ra, _ in busy)
    # The hashing slots' 503, not the connection pool's.
    assert any("sollicité. Réessayez" in d for _, d in busy), busy
    # Nothing queued up: the instance answers at once afterwards.
    t = time.monotonic()
    assert client_of(stack, inst, ip).get("/api/v1/health").status_code == 200
    assert time.monotonic() - t < 2
    # A refused hash is no failure: only the verified ones were counted.
    assert accounts.counters(m)[0] == statuses.count(401)
    accounts.login(client_of(stack, inst, ip), m)


# --------------------------------------------------------------- key file


def test_no_key_file_no_totp(stack, accounts, tmp_path):
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 31)
    for path, phrase in [(tmp_path / "absent.key", "cannot open"), (short, "exactly 32 bytes")]:
        inst = private_portaild(stack, server={"secret_key_file": str(path)})
        m = accounts.member()
        c = client_of(stack, inst, fresh_ip())
        accounts.login(c, m)
        r = c.get("/api/v1/totp/enroll")
        assert r.status_code == 500, r.text
        assert r.headers["Content-Type"].startswith("application/problem+json")
        logs = [x.get("msg", "") for x in inst.log_records()]
        assert any(phrase in x and str(path) in x for x in logs), logs[-5:]
        stack.stop_portaild(inst)
