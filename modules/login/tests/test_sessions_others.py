"""Signing out every other device (POST /api/v1/sessions/revoke-others) and
telling a device signed out from elsewhere why (the 401's "signed_out",
kept in session_revocations for as long as the session could have lasted)."""

from conftest import SESSION_COOKIE, agent_client, member_client
from login_support import OTHER_PASSWORD, Accounts

BO = "/api/v1/backoffice"
REASON = "Appel de l’assuré : téléphone volé, blocage demandé."


def events(stack, member):
    return [tuple(r) for r in stack.sql(
        "SELECT kind, detail FROM security_events WHERE member_id = %d ORDER BY id" % member.id)]


def test_revoke_others_keeps_the_current_session_and_no_one_else(stack):
    a = member_client(stack)
    m = a.member
    b = member_client(stack, member=m)
    c = member_client(stack, member=m)
    stranger = member_client(stack)
    assert len(a.get("/api/v1/sessions").json()["sessions"]) == 3

    r = a.post("/api/v1/sessions/revoke-others")
    assert r.status_code == 200, r.text
    assert r.json() == {"revoked": 2}
    assert a.get("/api/v1/me").status_code == 200
    sessions = a.get("/api/v1/sessions").json()["sessions"]
    assert [s["current"] for s in sessions] == [True]
    for other in (b, c):
        assert other.get("/api/v1/me").status_code == 401
    # Another member's session is never touched.
    assert stranger.get("/api/v1/me").status_code == 200
    assert ("sessions_revoked_others", "2") in events(stack, m)
    # Nothing left to sign out: 0, still fine.
    r = a.post("/api/v1/sessions/revoke-others")
    assert r.status_code == 200 and r.json() == {"revoked": 0}
    # The CSRF token is required as for every change.
    assert a.post("/api/v1/sessions/revoke-others", csrf="0" * 64).status_code == 403
    assert a.get("/api/v1/me").status_code == 200


def test_revoke_others_needs_a_full_member_session(stack):
    anon = stack.client()
    assert anon.post("/api/v1/sessions/revoke-others").status_code == 401
    agent = agent_client(stack)
    assert agent.post("/api/v1/sessions/revoke-others").status_code == 403


def test_a_device_signed_out_from_another_is_told_why(stack):
    a = member_client(stack)
    b = member_client(stack, member=a.member)
    c = member_client(stack, member=a.member)
    token_b = b.session_cookie
    sid_b = [s["id"] for s in a.get("/api/v1/sessions").json()["sessions"]
             if not s["current"]]
    # One device signed out by id, the others all at once: both say why.
    assert a.delete("/api/v1/sessions/%d" % max(sid_b)).status_code == 204
    assert a.post("/api/v1/sessions/revoke-others").json() == {"revoked": 1}
    for other in (b, c):
        r = other.get("/api/v1/session")
        assert r.status_code == 401, r.text
        assert r.json()["signed_out"] == "other_device"
        assert r.headers["Content-Type"].startswith("application/problem+json")
        # The cookie is cleared in the same answer.
        assert any(sc.startswith(SESSION_COOKIE + "=;") for sc in r.set_cookies), r.set_cookies
    # A page that fires two requests at once still learns it from either.
    r = stack.client().get("/api/v1/me", cookies="%s=%s" % (SESSION_COOKIE, token_b))
    assert r.status_code == 401 and r.json()["signed_out"] == "other_device"
    # Nobody else learns anything: no cookie, a made-up one, a logged-out one.
    assert "signed_out" not in stack.client().get("/api/v1/me").json()
    made_up = "A" * len(token_b)
    r = stack.client().get("/api/v1/me", cookies="%s=%s" % (SESSION_COOKIE, made_up))
    assert r.status_code == 401 and "signed_out" not in r.json()
    d = member_client(stack, member=a.member)
    token_d = d.session_cookie
    assert d.post("/api/v1/logout").status_code == 204
    r = stack.client().get("/api/v1/me", cookies="%s=%s" % (SESSION_COOKIE, token_d))
    assert r.status_code == 401 and "signed_out" not in r.json()
    # Signing out oneself is not "from another device".
    e = member_client(stack, member=a.member)
    token_e = e.session_cookie
    own = [s["id"] for s in e.get("/api/v1/sessions").json()["sessions"] if s["current"]][0]
    assert e.delete("/api/v1/sessions/%d" % own).status_code == 204
    r = stack.client().get("/api/v1/me", cookies="%s=%s" % (SESSION_COOKIE, token_e))
    assert r.status_code == 401 and "signed_out" not in r.json()


def test_the_reason_lives_no_longer_than_the_session_could_have(stack):
    a = member_client(stack)
    b = member_client(stack, member=a.member)
    token_b = b.session_cookie
    assert a.post("/api/v1/sessions/revoke-others").json() == {"revoked": 1}
    rows = stack.sql("SELECT COUNT(*) FROM session_revocations WHERE expires_at > UTC_TIMESTAMP() "
                     "AND expires_at <= UTC_TIMESTAMP() + INTERVAL 1 DAY")
    assert int(rows[0][0]) >= 1
    # Past its time (the session would have died idle), the reason is gone.
    stack.sql("UPDATE session_revocations SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND "
              "WHERE expires_at > UTC_TIMESTAMP()")
    r = stack.client().get("/api/v1/me", cookies="%s=%s" % (SESSION_COOKIE, token_b))
    assert r.status_code == 401 and "signed_out" not in r.json()


def test_an_agent_lock_tells_the_member_s_devices(stack):
    m = member_client(stack)
    agent = agent_client(stack)
    r = agent.post(BO + "/members/%d/lock" % m.member.id, json={"reason": REASON})
    assert r.status_code == 200, r.text
    r = m.get("/api/v1/me")
    assert r.status_code == 401 and r.json()["signed_out"] == "agent"
    # The agent's own session is untouched.
    assert agent.get(BO + "/me").status_code == 200


def test_me_gives_the_sign_in_before_the_current_one(stack):
    c = member_client(stack)
    m = c.member
    r = c.get("/api/v1/me")
    assert r.status_code == 200 and r.json()["last_sign_in"] is None

    def sign_in(member_id, when, ua, country):
        stack.sql("INSERT INTO security_events (member_id, kind, detail, ip, country, user_agent, "
                  "created_at) VALUES (%d, 'login_succeeded', 'totp', '2.2.2.2', '%s', '%s', %s)"
                  % (member_id, country, ua, when))

    sign_in(m.id, "UTC_TIMESTAMP() - INTERVAL 3 DAY", "Firefox/115 (Windows)", "FR")
    sign_in(m.id, "UTC_TIMESTAMP() - INTERVAL 2 DAY", "Safari/17 (iPhone)", "ES")
    # The current session's own sign-in (after it started) is not news.
    sign_in(m.id, "UTC_TIMESTAMP() + INTERVAL 1 MINUTE", "Chrome/120 (Linux)", "FR")
    # Someone else's later sign-in never shows.
    other = member_client(stack)
    sign_in(other.member.id, "UTC_TIMESTAMP() - INTERVAL 1 DAY", "Edge/120 (Windows)", "DE")
    last = c.get("/api/v1/me").json()["last_sign_in"]
    assert last["user_agent"] == "Safari/17 (iPhone)"
    assert last["country"] == "ES" and last["ip"] == "2.2.2.2"
    assert set(last) == {"at", "ip", "country", "user_agent"}


def test_a_password_change_tells_the_other_devices(stack):
    accounts = Accounts(stack)
    m = accounts.member()
    a = member_client(stack, member=m)
    b = member_client(stack, member=m)
    r = a.post("/api/v1/password/change", json={"current": m.password, "new": OTHER_PASSWORD})
    assert r.status_code == 200, r.text
    assert a.get("/api/v1/me").status_code == 200
    r = b.get("/api/v1/me")
    assert r.status_code == 401 and r.json()["signed_out"] == "other_device"
