"""Cookie sessions (core/session.c) and the host's auth and CSRF checks,
through testmod's session routes."""

import base64
import hashlib
import itertools
import re
import time

import pytest

from conftest import SESSION_COOKIE

_ids = itertools.count(int(time.time()) % 100000 * 1000 + 7000000)


def new_id():
    """A principal id no other test uses (sessions have no foreign key)."""
    return next(_ids)


def session_cookie_of(r):
    """The Set-Cookie value that sets the session cookie."""
    found = [c for c in r.set_cookies if c.startswith(SESSION_COOKIE + "=")]
    assert len(found) == 1, r.set_cookies
    return found[0]


def row_of(stack, token):
    """The sessions row of a cookie value, by the hash of its token."""
    raw = base64.urlsafe_b64decode(token + "=")
    h = hashlib.blake2b(raw, digest_size=32).hexdigest()
    rows = stack.sql("SELECT id, kind, principal_id, level, last_seen_at, ip, country, "
                     "user_agent FROM sessions WHERE token_hash = UNHEX('%s')" % h)
    return rows[0] if rows else None


def test_login_sets_host_cookie_and_csrf_header(client):
    r = client.test_login(id=new_id())
    sc = session_cookie_of(r)
    m = re.fullmatch(r"__Host-portail_session=([A-Za-z0-9_-]{43}); Path=/; HttpOnly; Secure; "
                     r"SameSite=Strict", sc)
    assert m, sc
    assert "Max-Age" not in sc and "Domain" not in sc
    assert re.fullmatch(r"[0-9a-f]{64}", r.headers["X-CSRF-Token"]), r.headers
    assert r.headers["Cache-Control"] == "no-store"

    r = client.get("/api/v1/session")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "member"
    assert body["level"] == "member"
    assert body["csrf_token"] == client.csrf
    assert client.get("/api/v1/test/member").status_code == 200


def test_session_info_without_session_is_401(client):
    r = client.get("/api/v1/session")
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_agent_session(stack, client):
    agent = stack.new_agent()
    client.test_login(kind="agent", id=agent.id, level="agent")
    body = client.get("/api/v1/session").json()
    assert body["kind"] == "agent" and body["level"] == "agent" and body["role"] == "agent"
    assert client.get("/api/v1/test/agent").status_code == 200
    assert client.get("/api/v1/test/default-auth").status_code == 200
    assert client.get("/api/v1/test/member").status_code == 403


def test_routes_by_level(client):
    r = client.get("/api/v1/test/member")
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert client.get("/api/v1/test/partial").status_code == 401
    assert client.get("/api/v1/test/agent").status_code == 401
    # A member is not an agent: the default (forgotten) auth level is agent.
    client.test_login(id=new_id())
    assert client.get("/api/v1/test/agent").status_code == 403
    assert client.get("/api/v1/test/default-auth").status_code == 403
    assert client.get("/api/v1/test/partial").status_code == 403


def test_partial_session_and_elevation(stack, client):
    mid = new_id()
    client.test_login(id=mid, level="partial")
    assert client.get("/api/v1/session").json()["level"] == "partial"
    r = client.get("/api/v1/test/member")
    assert r.status_code == 401, r.text
    r = client.get("/api/v1/test/partial")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": mid, "level": 2}

    old_cookie, old_csrf = client.session_cookie, client.csrf
    old_row = row_of(stack, old_cookie)
    r = client.post("/api/v1/test/session/elevate")
    assert r.status_code == 200, r.text
    session_cookie_of(r)
    assert client.session_cookie != old_cookie
    assert client.csrf != old_csrf and re.fullmatch(r"[0-9a-f]{64}", client.csrf)
    assert client.get("/api/v1/session").json()["level"] == "member"
    assert client.get("/api/v1/test/member").status_code == 200
    assert client.get("/api/v1/test/partial").status_code == 403

    # The old token is gone, in the database and at the door.
    assert row_of(stack, old_cookie) is None
    assert stack.sql("SELECT COUNT(*) FROM sessions WHERE id = %s" % old_row[0]) == [["0"]]
    thief = stack.client()
    r = thief.get("/api/v1/session", cookies="%s=%s" % (SESSION_COOKIE, old_cookie))
    assert r.status_code == 401
    # ... and the browser is told to forget it.
    assert any(c.startswith(SESSION_COOKIE + "=;") and "Max-Age=0" in c for c in r.set_cookies)
    r = thief.get("/api/v1/test/partial", cookies="%s=%s" % (SESSION_COOKIE, old_cookie))
    assert r.status_code == 401
    # The new session still works after that.
    assert client.get("/api/v1/test/member").status_code == 200


def test_elevate_needs_the_new_csrf_token(client):
    client.test_login(id=new_id(), level="partial")
    old_csrf = client.csrf
    assert client.post("/api/v1/test/session/elevate").status_code == 200
    r = client.post("/api/v1/test/session/logout", csrf=old_csrf)
    assert r.status_code == 403, r.text
    assert client.get("/api/v1/test/member").status_code == 200


def test_login_again_rotates_the_token(stack, client):
    client.test_login(id=new_id())
    first = client.session_cookie
    client.test_login(id=new_id())
    assert client.session_cookie != first
    assert row_of(stack, first) is None


def test_planted_token_is_worthless(client):
    """A well-formed token nobody issued is no session, and the cookie is cleared."""
    r = client.get("/api/v1/session", cookies="%s=%s" % (SESSION_COOKIE, "B" * 42 + "A"))
    assert r.status_code == 401
    assert any("Max-Age=0" in c for c in r.set_cookies)
    r = client.get("/api/v1/test/member", cookies="%s=%s" % (SESSION_COOKIE, "not-a-token"))
    assert r.status_code == 401


@pytest.mark.timeout(60)
def test_idle_expiry(stack):
    inst = stack.start_portaild({"sessions": {"idle_seconds": 2}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    c.test_login(id=new_id())
    token = c.session_cookie
    assert c.get("/api/v1/test/member").status_code == 200
    time.sleep(3.2)
    r = c.get("/api/v1/test/member")
    assert r.status_code == 401, r.text
    assert c.session_cookie is None  # cleared by Set-Cookie
    assert row_of(stack, token) is None


@pytest.mark.timeout(60)
def test_activity_keeps_a_session_alive(stack):
    """Idle means without requests: a session used every half second
    outlives its idle timeout, whatever touch_seconds says (60 here)."""
    inst = stack.start_portaild({"sessions": {"idle_seconds": 3}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    c.test_login(id=new_id())
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5:
        r = c.get("/api/v1/test/member")
        assert r.status_code == 200, "ended after %.1f s: %s" % (time.monotonic() - t0, r.text)
        time.sleep(0.5)
    time.sleep(3.2)
    assert c.get("/api/v1/test/member").status_code == 401


@pytest.mark.timeout(60)
def test_absolute_expiry_despite_activity(stack):
    inst = stack.start_portaild({"sessions": {"idle_seconds": 60, "absolute_seconds": 3,
                                              "touch_seconds": 1}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    t0 = time.monotonic()
    c.test_login(id=new_id())
    cookie = "%s=%s" % (SESSION_COOKIE, c.session_cookie)
    token = c.session_cookie
    first_seen = row_of(stack, token)[4]
    ends = None
    while time.monotonic() - t0 < 8:
        r = c.get("/api/v1/test/member", cookies=cookie)
        t = time.monotonic() - t0
        if r.status_code != 200:
            assert r.status_code == 401, r.text
            ends = t
            break
        assert t < 3.2, "session still alive %.1f s after sign-in" % t
        last_seen = row_of(stack, token)[4]
        time.sleep(0.5)
    assert ends is not None, "the session never ended"
    # It ended from its absolute lifetime (3 s, counted in whole seconds),
    # not from idleness: it was used every second, and last-seen moved.
    assert 1.9 <= ends <= 4.5, ends
    assert last_seen > first_seen


@pytest.mark.timeout(60)
def test_last_seen_is_throttled(stack, client):
    # The stack's portaild writes last_seen_at at most every 60 s.
    client.test_login(id=new_id())
    token = client.session_cookie
    before = row_of(stack, token)[4]
    time.sleep(1.2)
    for _ in range(3):
        assert client.get("/api/v1/test/member").status_code == 200
    assert row_of(stack, token)[4] == before

    # With touch_seconds = 1 the same requests move it.
    inst = stack.start_portaild({"sessions": {"touch_seconds": 1}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    c.test_login(id=new_id())
    token = c.session_cookie
    before = row_of(stack, token)[4]
    time.sleep(2.2)
    assert c.get("/api/v1/test/member").status_code == 200
    after = row_of(stack, token)[4]
    assert after > before
    # ... but not again within the next second.
    assert c.get("/api/v1/test/member").status_code == 200
    assert row_of(stack, token)[4] == after


def test_csrf_token_required_with_a_session(client):
    client.test_login(id=new_id())
    r = client.post("/api/v1/test/echo", json={"a": 1}, csrf=False)
    assert r.status_code == 403, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    r = client.post("/api/v1/test/echo", json={"a": 1}, csrf="0" * 64)
    assert r.status_code == 403, r.text
    r = client.post("/api/v1/test/echo", json={"a": 1}, csrf=client.csrf[:-1])
    assert r.status_code == 403, r.text
    r = client.delete("/api/v1/test/sessions/1", csrf=False)
    assert r.status_code == 403, r.text
    r = client.post("/api/v1/test/echo", json={"a": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"a": 1}


def test_origin_required_even_without_session(client):
    r = client.post("/api/v1/test/echo", json={"a": 1}, origin=False)
    assert r.status_code == 403, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    r = client.post("/api/v1/test/echo", json={"a": 1}, origin="http://evil.example")
    assert r.status_code == 403, r.text
    r = client.post("/api/v1/test/echo", json={"a": 1}, origin=client.origin + ".evil.example")
    assert r.status_code == 403, r.text
    r = client.post("/api/v1/test/session/login", json={"kind": "member", "id": new_id(),
                                                        "level": "member"}, origin=False)
    assert r.status_code == 403 and not r.set_cookies
    # With a session, a good token does not make up for a foreign origin.
    client.test_login(id=new_id())
    r = client.post("/api/v1/test/echo", json={"a": 1}, origin="http://evil.example")
    assert r.status_code == 403, r.text
    assert client.post("/api/v1/test/echo", json={"a": 1}).status_code == 200


def test_get_needs_neither_origin_nor_csrf(client):
    client.test_login(id=new_id())
    r = client.get("/api/v1/test/member", origin=False, csrf=False)
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/session", origin="http://evil.example", csrf=False)
    assert r.status_code == 200, r.text


def test_session_list_shows_where_and_current(stack):
    mid = new_id()
    ua_b = "PortailTest/2.0 (téléphone B)".encode()
    a = stack.client(xff="2.2.2.2")
    a.test_login(id=mid)
    b = stack.client(xff="8.8.8.8")
    r = b.post("/api/v1/test/session/login", json={"kind": "member", "id": mid, "level": "member"},
               headers={"User-Agent": ua_b})
    assert r.status_code == 200
    r = a.get("/api/v1/test/sessions")
    assert r.status_code == 200, r.text
    sessions = r.json()["sessions"]
    assert len(sessions) == 2, sessions
    # Newest first.
    newest, oldest = sessions
    assert oldest["current"] is True and newest["current"] is False
    assert oldest["ip"] == "2.2.2.2" and oldest["country"] == "FR"
    assert newest["ip"] == "8.8.8.8" and newest["country"] == "US"
    assert newest["user_agent"] == ua_b.decode()
    assert oldest["user_agent"].startswith("python-requests/")
    for s in sessions:
        assert set(s) >= {"id", "created_at", "last_seen_at", "ip", "country", "user_agent",
                          "current"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s["created_at"]), s
    # The other device sees the same two, itself as current.
    seen_by_b = b.get("/api/v1/test/sessions").json()["sessions"]
    assert [s["current"] for s in seen_by_b] == [True, False]
    assert {s["id"] for s in seen_by_b} == {s["id"] for s in sessions}


def test_revoke_my_other_session(stack):
    mid = new_id()
    a, b = stack.client(), stack.client()
    a.test_login(id=mid)
    b.test_login(id=mid)
    b_id = [s for s in b.get("/api/v1/test/sessions").json()["sessions"] if s["current"]][0]["id"]
    r = a.delete("/api/v1/test/sessions/%d" % b_id)
    assert r.status_code == 204, r.text
    assert b.get("/api/v1/test/member").status_code == 401
    assert a.get("/api/v1/test/member").status_code == 200
    assert [s["current"] for s in a.get("/api/v1/test/sessions").json()["sessions"]] == [True]
    # Twice: not found.
    assert a.delete("/api/v1/test/sessions/%d" % b_id).status_code == 404


def test_revoke_someone_elses_session_is_404(stack):
    victim, attacker = stack.client(), stack.client()
    victim.test_login(id=new_id())
    attacker.test_login(id=new_id())
    vid = victim.get("/api/v1/test/sessions").json()["sessions"][0]["id"]
    r = attacker.delete("/api/v1/test/sessions/%d" % vid)
    assert r.status_code == 404, r.text
    # Same answer as an id that does not exist: no oracle.
    r2 = attacker.delete("/api/v1/test/sessions/999999999")
    assert r2.status_code == 404
    assert r.json()["detail"] == r2.json()["detail"]
    assert victim.get("/api/v1/test/member").status_code == 200


def test_revoke_current_session_clears_cookie(stack, client):
    client.test_login(id=new_id())
    sid = client.get("/api/v1/test/sessions").json()["sessions"][0]["id"]
    r = client.delete("/api/v1/test/sessions/%d" % sid)
    assert r.status_code == 204
    assert any("Max-Age=0" in c for c in r.set_cookies)
    assert client.session_cookie is None


def test_logout_clears_cookie_and_session(stack, client):
    client.test_login(id=new_id())
    token = client.session_cookie
    assert row_of(stack, token) is not None
    r = client.post("/api/v1/test/session/logout")
    assert r.status_code == 204, r.text
    sc = session_cookie_of(r)
    assert sc.startswith(SESSION_COOKIE + "=;"), sc
    assert "Max-Age=0" in sc and "Path=/" in sc and "Secure" in sc and "HttpOnly" in sc
    assert client.session_cookie is None
    assert row_of(stack, token) is None
    r = client.get("/api/v1/test/member", cookies="%s=%s" % (SESSION_COOKIE, token))
    assert r.status_code == 401


def test_token_is_stored_hashed(stack, client):
    client.test_login(id=new_id())
    token = client.session_cookie
    raw = base64.urlsafe_b64decode(token + "=")
    assert len(raw) == 32
    row = stack.sql("SELECT HEX(token_hash), csrf_token FROM sessions WHERE token_hash = "
                    "UNHEX('%s')" % hashlib.blake2b(raw, digest_size=32).hexdigest())
    assert len(row) == 1
    assert row[0][0].lower() != raw.hex()
    assert row[0][1] == client.csrf
    # Nowhere in the table, in any form.
    dump = "\n".join("\t".join(str(c) for c in r) for r in stack.sql(
        "SELECT id, HEX(token_hash), csrf_token, kind, principal_id, level, role, "
        "created_at, last_seen_at, expires_at, ip, country, user_agent FROM sessions"))
    for form in (token, raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode().rstrip("=")):
        assert form not in dump


def _lifetime(stack, token):
    """expires_at - created_at of a session row, in seconds."""
    row = row_of(stack, token)
    return int(stack.sql("SELECT TIMESTAMPDIFF(SECOND, created_at, expires_at) "
                         "FROM sessions WHERE id = %s" % row[0])[0][0])


def test_partial_session_lives_five_minutes_by_default(stack, client):
    """Password done, second factor pending: such a session lives
    sessions.partial_seconds (default 300), not the 12 h of a full one;
    the elevated session gets the full absolute lifetime from sign-in."""
    client.test_login(id=new_id(), level="partial")
    assert _lifetime(stack, client.session_cookie) == 300
    assert client.post("/api/v1/test/session/elevate").status_code == 200
    assert _lifetime(stack, client.session_cookie) == 43200


@pytest.mark.timeout(60)
def test_partial_session_expires_after_partial_seconds(stack):
    inst = stack.start_portaild({"sessions": {"partial_seconds": 2}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    c.test_login(id=new_id(), level="partial")
    assert c.get("/api/v1/test/partial").status_code == 200
    time.sleep(3.2)
    assert c.get("/api/v1/test/partial").status_code == 401
    stack.stop_portaild(inst)
