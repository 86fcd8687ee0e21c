"""Module unlock, back office (modules/unlock/backoffice.c): find a member by
NIR, read the security events, lock and unlock with a reason (audited and
mailed), the supervisors' audit log, and nginx's network allow list in
front of /api/v1/backoffice/. Agent sessions come from testmod."""

import datetime

import pytest

from conftest import Nginx
from unlock_util import (NEW_PASSWORD, agent_client, events, fresh_ip, link_in, lock,
                         member_with_password, reset_link, settle_mail, state, wait_mail)

REASON = "Appel de l'assuré le 12/03, identité vérifiée par questions"
BO = "/api/v1/backoffice"
MEMBER_KEYS = {"id", "nir", "first_name", "last_name", "birth_date", "email", "fund", "lock",
               "counters", "last_sign_ins"}


@pytest.fixture
def agent(stack):
    return agent_client(stack)


def find(client, nir):
    return client.get(BO + "/members", params={"nir": nir})


def audit_rows(stack, member):
    return stack.sql("SELECT a.login, l.action, l.reason FROM audit_log l JOIN agents a ON "
                     "a.id = l.agent_id WHERE l.member_id = %d ORDER BY l.id" % member.id)


def add_event(client, member, kind, detail=""):
    r = client.post("/api/v1/test/account/%d/event" % member.id,
                    json={"kind": kind, "detail": detail})
    assert r.status_code == 201, r.text


# ---- find a member ---------------------------------------------------------------


def test_find_by_nir(stack, agent):
    member = stack.new_member()
    stack.sql("UPDATE insured SET fund = 'CPAM de la Gironde' WHERE id = %d" % member.insured_id)
    r = find(agent, member.nir)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == MEMBER_KEYS  # identity, contact, lock: no health data
    assert body["id"] == member.id and body["nir"] == member.nir
    assert (body["first_name"], body["last_name"]) == ("Paul", "Martin")
    assert body["birth_date"] == "1980-05-17" and body["email"] == member.email
    assert body["fund"] == "CPAM de la Gironde"
    assert body["lock"] is None
    assert body["counters"] == {"password_failures": 0, "second_factor_failures": 0}
    assert body["last_sign_ins"] == []
    # Spaces and lower case are accepted, as typed from a card.
    spaced = "%s %s %s %s %s %s %s" % (member.nir[0], member.nir[1:3], member.nir[3:5],
                                       member.nir[5:7], member.nir[7:10], member.nir[10:13],
                                       member.nir[13:])
    assert find(agent, spaced).json()["id"] == member.id
    # Looking someone up is audited.
    assert audit_rows(stack, member)[0][:2] == [agent.agent.login, "member_view"]


def test_find_shows_the_lock_counters_and_last_sign_ins(stack, agent):
    member = stack.new_member()
    c = stack.client(xff="2.2.2.2")
    for _ in range(6):
        add_event(c, member, "login_succeeded")
    add_event(c, member, "login_failed")
    c.post("/api/v1/test/account/%d/count" % member.id, json={"counter": "second_factor"})
    lock(c, member, "suspicious", "connexion depuis un nouveau pays")
    body = find(agent, member.nir).json()
    assert body["lock"]["reason"] == "suspicious"
    assert body["lock"]["reason_text"].startswith("Votre compte a été bloqué par sécurité")
    assert body["lock"]["since"].endswith("Z") and body["lock"]["by"] == "system"
    assert body["lock"]["detail"] == "connexion depuis un nouveau pays"
    assert body["counters"] == {"password_failures": 0, "second_factor_failures": 1}
    assert len(body["last_sign_ins"]) == 5
    assert body["last_sign_ins"][0]["ip"] == "2.2.2.2"
    assert body["last_sign_ins"][0]["country"] == "FR"
    assert body["last_sign_ins"][0]["at"].endswith("Z")
    assert "user_agent" in body["last_sign_ins"][0]  # the device, for the agent


def test_find_unknown_or_malformed(stack, agent):
    member = stack.new_member()
    stack.sql("DELETE FROM members WHERE id = %d" % member.id)  # insured, no account
    r = find(agent, member.nir)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/problem+json")
    for bad in ("", "123", member.nir[:-2] + "00", "x" * 5000):
        r = find(agent, bad)
        assert r.status_code in (422, 431, 414), (bad[:20], r.status_code)
        if r.status_code == 422:
            assert r.json()["errors"][0]["field"] == "nir"
    assert agent.get(BO + "/members").status_code == 422


# ---- events ---------------------------------------------------------------------


def test_events_paginate_newest_first(stack, agent):
    member = stack.new_member()
    c = stack.client(xff="8.8.8.8")
    for i in range(5):
        add_event(c, member, "kind_%d" % i, "détail %d" % i)
    seen = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = agent.get(BO + "/members/%d/events" % member.id, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["events"]) <= 2
        seen += body["events"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [e["kind"] for e in seen] == ["kind_4", "kind_3", "kind_2", "kind_1", "kind_0"]
    e = seen[0]
    assert set(e) == {"id", "kind", "detail", "ip", "country", "user_agent", "created_at",
                      "agent_name"}
    assert e["agent_name"] is None  # only events naming an agent ("agent:LOGIN") have one
    assert e["detail"] == "détail 4" and e["ip"] == "8.8.8.8" and e["country"] == "US"
    # Default page holds them all.
    body = agent.get(BO + "/members/%d/events" % member.id).json()
    assert len(body["events"]) == 5 and body["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=-1", "cursor=x",
                                   "limit=99999999999999999999999"])
def test_events_bounds(stack, agent, query):
    member = stack.new_member()
    r = agent.get(BO + "/members/%d/events?%s" % (member.id, query))
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("mid", ["999999999", "0", "-1", "abc", "1e3", "99999999999999999999"])
def test_unknown_member_is_404(agent, mid):
    assert agent.get(BO + "/members/%s/events" % mid).status_code == 404
    assert agent.post(BO + "/members/%s/unlock" % mid, json={"reason": REASON}).status_code == 404
    assert agent.post(BO + "/members/%s/lock" % mid, json={"reason": REASON}).status_code == 404


# ---- unlock and lock ------------------------------------------------------------


@pytest.mark.parametrize("reason", ["password", "second_factor", "suspicious",
                                    "pending_verification", "agent"])
def test_agent_unlocks_any_lock(stack, agent, reason):
    member = stack.new_member()
    c = stack.client()
    c.post("/api/v1/test/account/%d/count" % member.id, json={"counter": "password"})
    lock(c, member, reason)
    r = agent.post(BO + "/members/%d/unlock" % member.id, json={"reason": "  " + REASON + "\n"})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "unlocked"}
    st = state(c, member)
    assert st["reason"] == "none" and st["password_failures"] == 0
    # Audited with the reason; the member's events name the agent, not the reason.
    assert audit_rows(stack, member) == [[agent.agent.login, "unlock", REASON]]
    assert events(stack, member)[-1] == ["account_unlocked", "agent:%s" % agent.agent.login]
    m = wait_mail(stack, member, "Votre compte a été débloqué")
    assert "débloqué par un conseiller" in m["body"]
    assert REASON not in m["body"]


def test_unlock_of_an_unlocked_account_is_409(stack, agent):
    member = stack.new_member()
    c = stack.client()
    c.post("/api/v1/test/account/%d/count" % member.id, json={"counter": "password"})
    r = agent.post(BO + "/members/%d/unlock" % member.id, json={"reason": REASON})
    assert r.status_code == 409
    assert audit_rows(stack, member) == []
    assert state(c, member)["password_failures"] == 1  # nothing changed


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "trop bref"},
                                  {"reason": "          court         "},
                                  {"reason": "é" * 501}, {"reason": 1234567890123},
                                  {"reason": None}])
@pytest.mark.parametrize("action", ["unlock", "lock"])
def test_a_reason_of_10_to_500_characters_is_required(stack, agent, body, action):
    member = stack.new_member()
    lock(stack.client(), member, "password")
    r = agent.post(BO + "/members/%d/%s" % (member.id, action), json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["reason"]
    assert state(stack.client(), member)["reason"] == "password"
    assert audit_rows(stack, member) == []


def test_reason_bounds_count_characters(stack, agent):
    member = stack.new_member()
    r = agent.post(BO + "/members/%d/lock" % member.id, json={"reason": "é" * 500})
    assert r.status_code == 200, r.text
    r = agent.post(BO + "/members/%d/unlock" % member.id, json={"reason": "àéîõü" * 2})
    assert r.status_code == 200, r.text


def test_agent_lock_is_audited_mailed_and_ends_sessions(stack, agent):
    member = member_with_password(stack, stack.client())
    s = stack.client()
    s.test_login(id=member.id)
    r = agent.post(BO + "/members/%d/lock" % member.id, json={"reason": REASON})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "locked", "reason": "agent"}
    st = state(stack.client(), member)
    assert st["reason"] == "agent" and st["locked_by"] == "agent:%s" % agent.agent.login
    assert st["detail"] == REASON  # the lock's internal note
    assert s.get("/api/v1/test/member").status_code == 401
    assert audit_rows(stack, member) == [[agent.agent.login, "lock", REASON]]
    assert events(stack, member) == [["account_locked", "agent"]]
    m = wait_mail(stack, member, "Votre compte a été bloqué")
    assert "bloqué par un conseiller" in m["body"] and "36 46" in m["body"]
    assert REASON not in m["body"]
    # A reset link changes the password but does not lift it.
    c = stack.client(xff=fresh_ip())
    token = reset_link(stack, c, member)
    body = c.post("/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD}).json()
    assert body["still_locked"] is True and body["reason"] == "agent"
    assert state(c, member)["reason"] == "agent"


def test_agent_lock_over_a_password_lock_is_not_lifted_by_a_reset(stack, agent):
    member = member_with_password(stack, stack.client())
    c = stack.client(xff=fresh_ip())
    token = reset_link(stack, c, member)
    lock(c, member, "password")
    r = agent.post(BO + "/members/%d/lock" % member.id, json={"reason": REASON})
    assert r.json() == {"status": "locked", "reason": "agent"}
    body = c.post("/api/v1/password/reset", json={"token": token, "password": NEW_PASSWORD}).json()
    assert body["still_locked"] is True
    assert state(c, member)["reason"] == "agent"
    subjects = [m["subject"] for m in settle_mail(stack, c, member)]
    assert subjects.count("Votre compte a été bloqué") == 2


def test_agent_lock_keeps_a_suspicious_lock(stack, agent):
    member = stack.new_member()
    lock(stack.client(), member, "suspicious")
    r = agent.post(BO + "/members/%d/lock" % member.id, json={"reason": REASON})
    assert r.status_code == 200
    assert r.json()["reason"] == "suspicious"
    assert audit_rows(stack, member) == [[agent.agent.login, "lock", REASON]]


# ---- who may call what ----------------------------------------------------------------


def bo_calls(member):
    return [("GET", BO + "/members?nir=%s" % member.nir, None),
            ("GET", BO + "/members/%d/events" % member.id, None),
            ("POST", BO + "/members/%d/unlock" % member.id, {"reason": REASON}),
            ("POST", BO + "/members/%d/lock" % member.id, {"reason": REASON}),
            ("GET", BO + "/audit", None),
            ("GET", BO + "/audit/export", None),
            ("GET", BO + "/insured?nir=%s" % member.nir, None),
            ("GET", BO + "/members/%d/history" % member.id, None)]


def test_member_sessions_reach_no_back_office_route(stack):
    member = stack.new_member()
    lock(stack.client(), member, "password")
    full, partial, anon = stack.client(), stack.client(), stack.client()
    full.test_login(id=member.id)
    partial.test_login(id=member.id, level="partial")
    for method, path, body in bo_calls(member):
        assert anon.request(method, path, json=body).status_code == 401, path
        assert partial.request(method, path, json=body).status_code == 401, path
        full.test_login(id=member.id)  # the lock does not come into it: fresh session
        r = full.request(method, path, json=body)
        assert r.status_code == 403, (path, r.status_code)
        assert r.headers["Content-Type"].startswith("application/problem+json")
    assert state(stack.client(), member)["reason"] == "password"
    assert audit_rows(stack, member) == []


def test_partial_agent_session_reaches_no_back_office_route(stack):
    member = stack.new_member()
    a = stack.new_agent()
    c = stack.client()
    r = c.post("/api/v1/test/session/login", json={"kind": "agent", "id": a.id,
                                                    "level": "partial"})
    if r.status_code != 200:
        pytest.skip("no partial agent session through testmod")
    for method, path, body in bo_calls(member):
        assert c.request(method, path, json=body).status_code in (401, 403), path


def test_back_office_posts_need_csrf(stack, agent):
    member = stack.new_member()
    lock(stack.client(), member, "password")
    r = agent.post(BO + "/members/%d/unlock" % member.id, json={"reason": REASON}, csrf="0" * 64)
    assert r.status_code == 403
    r = agent.post(BO + "/members/%d/unlock" % member.id, json={"reason": REASON},
                   origin="http://evil.example")
    assert r.status_code == 403
    assert state(stack.client(), member)["reason"] == "password"


# ---- audit log (supervisors) ----------------------------------------------------------


def test_audit_is_for_supervisors_only(stack, agent, supervisor):
    r = agent.get(BO + "/audit")
    assert r.status_code == 403
    assert "superviseurs" in r.json()["detail"]
    assert supervisor.get(BO + "/audit").status_code == 200


def test_audit_lists_every_agent_action_with_filters(stack, supervisor):
    a1, a2 = agent_client(stack), agent_client(stack)
    m1, m2 = stack.new_member(), stack.new_member()
    assert a1.post(BO + "/members/%d/lock" % m1.id, json={"reason": REASON}).status_code == 200
    assert a1.post(BO + "/members/%d/unlock" % m1.id, json={"reason": REASON}).status_code == 200
    assert a2.post(BO + "/members/%d/lock" % m2.id, json={"reason": "Fraude suspectée, dossier 42"}
                   ).status_code == 200

    r = supervisor.get(BO + "/audit", params={"agent": a1.agent.login})
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    assert [(e["action"], e["member_id"]) for e in entries] == [("unlock", m1.id), ("lock", m1.id)]
    e = entries[0]
    assert set(e) == {"id", "agent_login", "agent_name", "member_id", "member_first_name",
                      "member_last_name", "member_nir", "action", "reason", "ip", "created_at"}
    assert e["agent_login"] == a1.agent.login and e["reason"] == REASON
    # The member by name and NIR, not only an internal number.
    assert (e["member_first_name"], e["member_last_name"], e["member_nir"]) == (
        "Paul", "Martin", m1.nir)
    assert e["agent_name"] == "Agent de test"
    entries = supervisor.get(BO + "/audit", params={"nir": m2.nir}).json()["entries"]
    assert [(e["agent_login"], e["action"]) for e in entries] == [(a2.agent.login, "lock")]
    assert e["ip"].startswith("10.") and e["created_at"].endswith("Z")

    entries = supervisor.get(BO + "/audit", params={"member": m2.id}).json()["entries"]
    assert [(e["agent_login"], e["action"]) for e in entries] == [(a2.agent.login, "lock")]
    entries = supervisor.get(BO + "/audit", params={"member": m2.id,
                                                    "agent": a1.agent.login}).json()["entries"]
    assert entries == []

    today = datetime.datetime.now(datetime.timezone.utc).date()
    day = datetime.timedelta(days=1)
    q = {"agent": a1.agent.login}
    assert len(supervisor.get(BO + "/audit", params=dict(q, **{
        "from": str(today), "to": str(today)})).json()["entries"]) == 2
    assert supervisor.get(BO + "/audit", params=dict(q, **{
        "from": str(today + day)})).json()["entries"] == []
    assert supervisor.get(BO + "/audit", params=dict(q, **{
        "to": str(today - day)})).json()["entries"] == []
    # Paging.
    r = supervisor.get(BO + "/audit", params=dict(q, limit=1)).json()
    assert len(r["entries"]) == 1 and r["next_cursor"] == r["entries"][0]["id"]
    r2 = supervisor.get(BO + "/audit", params=dict(q, limit=1, cursor=r["next_cursor"])).json()
    assert r2["entries"][0]["action"] == "lock" and r2["next_cursor"] is None


@pytest.mark.parametrize("query", ["from=2024-13-01", "to=hier", "from=2023-02-29", "member=x",
                                   "member=0", "agent=" + "a" * 65, "limit=0", "cursor=abc",
                                   "nir=123"])
def test_audit_filter_bounds(supervisor, query):
    assert supervisor.get(BO + "/audit?" + query).status_code == 400


# ---- nginx allow list -------------------------------------------------------------------


def private_nginx(stack, acl):
    n = Nginx(stack.paths.base / ("nginx-acl-%s" % fresh_ip()), stack.paths.portaild_socket,
              stack.paths.webroot, acl=acl)
    n.start()
    return n


def test_a_deny_list_gives_403_problem_json(stack, agent):
    n = private_nginx(stack, "deny all;\n")
    try:
        c = stack.client(base_url=n.base_url, origin=stack.origin)
        c.cookies = dict(agent.cookies)
        r = c.get(BO + "/members?nir=180051234567884")
        assert r.status_code == 403
        assert r.headers["Content-Type"].startswith("application/problem+json")
        body = r.json()
        assert body["status"] == 403 and "réseau" in body["detail"]
        assert r.headers["Cache-Control"] == "no-store"
        # The rest of the API is not behind the list.
        assert c.get("/api/v1/health").status_code == 200
    finally:
        n.stop()


def test_an_allow_list_admits_only_its_networks(stack, agent):
    n = private_nginx(stack, "allow 127.0.0.1;\nallow 10.20.0.0/16;\ndeny all;\n")
    try:
        c = stack.client(base_url=n.base_url, origin=stack.origin)
        c.cookies = dict(agent.cookies)
        member = stack.new_member()
        path = BO + "/members?nir=%s" % member.nir
        assert c.get(path, xff="10.20.3.4").status_code == 200
        assert c.get(path).status_code == 200  # 127.0.0.1 itself
        r = c.get(path, xff="8.8.8.8")
        assert r.status_code == 403
        assert r.headers["Content-Type"].startswith("application/problem+json")
    finally:
        n.stop()
