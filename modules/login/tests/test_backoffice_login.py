"""Module login, back office: `portailctl agent add` and its enrolment link,
agent sign-in with mandatory TOTP, agent locks and `agent reset`, and
`portailctl demo` (the accounts script/server prints)."""

import itertools
import re
import subprocess
import time

import pytest

from login_support import (AGENT_LINK, PASSWORD, WRONG_PASSWORD, add_agent, away_from_step_edge,
                           enrol, fresh_ip, problem_without_ids, totp)

_n = itertools.count(int(time.time()) % 100000)


def audit(stack, login):
    return [r[0] for r in stack.sql(
        "SELECT l.action FROM audit_log l JOIN agents a ON a.id = l.agent_id "
        "WHERE a.login = '%s' ORDER BY l.id" % login)]


def test_agent_add_enrolment_and_sign_in(stack):
    login, token = add_agent(stack, role="supervisor")
    c = stack.client(xff=fresh_ip())
    r = c.post("/api/v1/backoffice/enroll", json={"token": token, "password": "Jeanne-Testeuse-2"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "password"
    r = c.post("/api/v1/backoffice/enroll", json={"token": token, "password": PASSWORD})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["otpauth_uri"].startswith("otpauth://totp/Portail%20CPAM:" + login.replace(".", "."))
    assert e["qr_svg"].startswith("<svg ")
    # Nothing is active before a code proves the app has the secret.
    r = c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 401
    away_from_step_edge()
    wrong = "%06d" % ((int(totp(e["secret_base32"])) + 1) % 1000000)
    r = c.post("/api/v1/backoffice/enroll/totp", json={"token": token, "code": wrong})
    assert r.status_code == 422
    r = c.post("/api/v1/backoffice/enroll/totp",
               json={"token": token, "code": totp(e["secret_base32"])})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok"}
    for path, body in [("/api/v1/backoffice/enroll", {"token": token, "password": PASSWORD}),
                       ("/api/v1/backoffice/enroll/totp", {"token": token, "code": "123456"})]:
        assert c.post(path, json=body).status_code == 410

    r = c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {"next": "totp"}
    s = c.get("/api/v1/session").json()
    assert s["kind"] == "agent" and s["level"] == "partial"
    assert c.get("/api/v1/backoffice/me").status_code == 401
    r = c.post("/api/v1/backoffice/login/totp", json={"code": totp(e["secret_base32"], 1)})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "role": "supervisor"}
    me = c.get("/api/v1/backoffice/me")
    assert me.status_code == 200, me.text
    assert me.json()["login"] == login and me.json()["role"] == "supervisor"
    assert me.json()["display_name"] == "Jeanne Testeuse"
    assert c.get("/api/v1/me").status_code == 403
    assert audit(stack, login) == ["enrolment_link", "enrolled", "login"]


def test_agent_wrong_password_and_unknown_login_look_alike(stack):
    login, token = add_agent(stack)
    c = stack.client(xff=fresh_ip())
    enrol(c, token)
    a = c.post("/api/v1/backoffice/login", json={"login": login, "password": WRONG_PASSWORD})
    b = c.post("/api/v1/backoffice/login", json={"login": "personne.x", "password": WRONG_PASSWORD})
    assert a.status_code == b.status_code == 401
    assert problem_without_ids(a) == problem_without_ids(b)


def test_agent_lock_and_reset(stack):
    login, token = add_agent(stack, email="agent-%d@cpam.example" % next(_n))
    c = stack.client(xff=fresh_ip())
    enrol(c, token)
    for _ in range(5):
        r = c.post("/api/v1/backoffice/login", json={"login": login, "password": WRONG_PASSWORD})
        assert r.status_code == 401
    r = c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 423, r.text
    assert r.json()["reason"] == "password"
    assert r.json()["steps"][0]["kind"] == "wait_agent"
    assert "locked" in audit(stack, login)

    r = stack.portailctl("agent", "reset", login)
    assert r.returncode == 0, r.stderr
    new_token = AGENT_LINK.search(r.stdout).group(2)
    secret = enrol(c, new_token, password="Nouveau-Parapluie-Ocre-31")
    r = c.post("/api/v1/backoffice/login",
               json={"login": login, "password": "Nouveau-Parapluie-Ocre-31"})
    assert r.status_code == 200, r.text
    assert c.post("/api/v1/backoffice/login/totp",
                  json={"code": totp(secret, 1)}).status_code == 200
    assert c.get("/api/v1/backoffice/me").status_code == 200


def test_agent_codes_lock_and_replay(stack):
    email = "agent-%d@cpam.example" % next(_n)
    login, token = add_agent(stack, email=email)
    c = stack.client(xff=fresh_ip())
    secret = enrol(c, token)
    r = c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    code = totp(secret, 1)
    assert c.post("/api/v1/backoffice/login/totp", json={"code": code}).status_code == 200
    c.post("/api/v1/logout")
    c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    r = c.post("/api/v1/backoffice/login/totp", json={"code": code})
    assert r.status_code == 401
    assert "totp_replayed" in audit(stack, login)
    stack.wait_for_mail(lambda m: m["to"] == email and "réutilisé" in m["subject"])
    bad = "%06d" % ((int(totp(secret)) + 500000) % 1000000)
    for _ in range(3):
        assert c.post("/api/v1/backoffice/login/totp", json={"code": bad}).status_code == 401
    r = c.post("/api/v1/backoffice/login/totp", json={"code": bad})
    assert r.status_code == 423, r.text
    assert r.json()["reason"] == "second_factor"
    assert c.get("/api/v1/session").status_code == 401


def test_partial_sessions_stay_in_their_lane(stack):
    login, token = add_agent(stack)
    c = stack.client(xff=fresh_ip())
    enrol(c, token)
    # No session, or a member's: the agent code step is refused.
    r = c.post("/api/v1/backoffice/login/totp", json={"code": "123456"})
    assert r.status_code == 401
    c.test_login(kind="member", id=next(_n) + 10**9, level="partial")
    r = c.post("/api/v1/backoffice/login/totp", json={"code": "123456"})
    assert r.status_code == 401
    # A partial agent session is not a member's partial session either.
    c.forget()
    c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    assert c.post("/api/v1/login/totp", json={"code": "123456"}).status_code == 401
    assert c.get("/api/v1/totp/enroll").status_code == 403


def test_portailctl_agent_add_refuses_bad_input(stack):
    login, _ = add_agent(stack)
    r = stack.portailctl("agent", "add", login, "--name", "X", "--role", "agent")
    assert r.returncode == 1 and "exists" in r.stderr
    r = stack.portailctl("agent", "add", "Bad Login", "--name", "X", "--role", "agent")
    assert r.returncode == 1
    r = stack.portailctl("agent", "add", "ok.login", "--name", "X", "--role", "chef")
    assert r.returncode == 1 and "--role" in r.stderr
    r = stack.portailctl("agent", "add", "ok.login", "--name")
    assert r.returncode == 2
    r = stack.portailctl("agent", "reset", "nobody.here")
    assert r.returncode == 1


def test_demo_accounts(stack):
    # Only on a database marked as demo (seed), with the flag; new random
    # credentials at each run (test_demo_accounts.py).
    assert stack.portailctl("seed", "--count", "5").returncode == 0
    first = stack.portailctl("demo", "--yes-this-is-a-demo-database")
    assert first.returncode == 0, first.stderr
    assert "breaks the policy" not in first.stderr
    out = first.stdout
    secrets = re.findall(r"secret TOTP\s+([A-Z2-7]{32})", out)
    passwords = re.findall(r"mot de passe\s+(\S+)", out)
    assert len(secrets) == 2 and len(passwords) == 2
    assert "oathtool --totp -b %s" % secrets[0] in out
    assert "285033306300182" in out and "Marie" in out
    # The printed command shows the code the portal expects.
    shown = subprocess.run(["oathtool", "--totp", "-b", secrets[0]], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert shown in (totp(secrets[0], -1), totp(secrets[0]), totp(secrets[0], 1))

    c = stack.client(xff=fresh_ip())
    r = c.post("/api/v1/login", json={"nir": "2 85 03 33 063 001 82", "password": passwords[0]})
    assert r.status_code == 200, r.text
    assert r.json() == {"next": "totp"}
    away_from_step_edge()
    r = c.post("/api/v1/login/totp", json={"code": totp(secrets[0])})
    assert r.status_code == 200, r.text
    me = c.get("/api/v1/me").json()
    assert me["first_name"] == "Marie" and me["last_name"] == "Dupont"

    login = re.search(r"identifiant\s+(\S+)", out).group(1)
    a = stack.client(xff=fresh_ip())
    r = a.post("/api/v1/backoffice/login", json={"login": login, "password": passwords[1]})
    assert r.status_code == 200, r.text
    r = a.post("/api/v1/backoffice/login/totp", json={"code": totp(secrets[1])})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "supervisor"
