"""Issue 14 item 11: `portailctl demo` makes accounts only with an explicit
flag, only on a database marked as a demo one (by `portailctl seed`), and
with credentials generated at random each time (none compiled in)."""

import re

from conftest import BUILD
from login_support import away_from_step_edge, fresh_ip, totp

FLAG = "--yes-this-is-a-demo-database"


def credentials(out):
    secrets = re.findall(r"secret TOTP\s+([A-Z2-7]{32})", out)
    passwords = re.findall(r"mot de passe\s+(\S+)", out)
    assert len(secrets) == 2 and len(passwords) == 2, out
    return passwords, secrets


def test_demo_needs_the_flag_and_a_database_marked_as_demo(stack):
    db = stack.fresh_database("portail_not_demo")
    cfg = stack.write_config({"database": {"name": db}})
    r = stack.portailctl("demo", config=cfg)
    assert r.returncode != 0
    r = stack.portailctl("demo", FLAG, config=cfg)       # flag, but not a demo database
    assert r.returncode != 0 and "démonstration" in r.stderr, r.stderr
    assert stack.sql("SELECT COUNT(*) FROM agents", database=db) == [["0"]]
    assert stack.sql("SELECT COUNT(*) FROM members", database=db) == [["0"]]
    # Seeding invents persons: it marks the database as a demo one.
    assert stack.portailctl("seed", "--count", "20", config=cfg).returncode == 0
    r = stack.portailctl("demo", config=cfg)             # still no flag
    assert r.returncode != 0
    r = stack.portailctl("demo", FLAG, config=cfg)
    assert r.returncode == 0, r.stderr


def test_demo_credentials_are_random_printed_and_work(stack):
    assert stack.portailctl("seed", "--count", "20").returncode == 0
    # Earlier tests on this shared stack may have signed the demo member in;
    # portailctl demo writes its sign-in only for a member who has none.
    stack.sql("DELETE e FROM security_events e JOIN members m ON m.id = e.member_id "
              "JOIN insured i ON i.id = m.insured_id WHERE i.nir = '285033306300182' "
              "AND e.kind = 'login_succeeded'")
    first = stack.portailctl("demo", FLAG)
    assert first.returncode == 0, first.stderr
    again = stack.portailctl("demo", FLAG)
    assert again.returncode == 0, again.stderr
    passwords, secrets = credentials(first.stdout)
    passwords2, secrets2 = credentials(again.stdout)
    assert not set(passwords) & set(passwords2)      # new ones each time
    assert not set(secrets) & set(secrets2)
    for old in ("Cerisier-Lagune-Tram-48", "Boussole-Prairie-Vent-73"):
        assert old not in first.stdout
    binary = (BUILD / "portailctl").read_bytes()
    for p in passwords2:
        assert p.encode() not in binary
    # The last printed ones work; the earlier ones no longer do.
    c = stack.client(xff=fresh_ip())
    r = c.post("/api/v1/login", json={"nir": "285033306300182", "password": passwords[0]})
    assert r.status_code == 401, r.text
    r = c.post("/api/v1/login", json={"nir": "285033306300182", "password": passwords2[0]})
    assert r.status_code == 200 and r.json() == {"next": "totp"}, r.text
    away_from_step_edge()
    assert c.post("/api/v1/login/totp", json={"code": totp(secrets2[0])}).status_code == 200
    # The dashboard has a previous sign-in to show (written once, not again).
    last = c.get("/api/v1/me").json()["last_sign_in"]
    assert last and "iPhone" in last["user_agent"] and last["country"] == "FR", last
    assert int(stack.sql("SELECT COUNT(*) FROM security_events e JOIN members m ON "
                         "m.id = e.member_id JOIN insured i ON i.id = m.insured_id WHERE "
                         "i.nir = '285033306300182' AND e.kind = 'login_succeeded' "
                         "AND e.user_agent LIKE '%iPhone%'")[0][0]) == 1
    a = stack.client(xff=fresh_ip())
    r = a.post("/api/v1/backoffice/login", json={"login": "demo.superviseur",
                                                 "password": passwords2[1]})
    assert r.status_code == 200, r.text
    r = a.post("/api/v1/backoffice/login/totp", json={"code": totp(secrets2[1])})
    assert r.status_code == 200 and r.json()["role"] == "supervisor", r.text
    # A person to try registration with is printed (item 1).
    trial = again.stdout.split("essayer l’inscription", 1)[-1]
    m = re.search(r"NIR\s+(\d{15}).*?code postal\s+(\d{5}).*?fin de l’IBAN\s+([0-9A-Z]{7})",
                  trial, re.S)
    assert m, again.stdout
    row = stack.sql("SELECT postal_code, iban FROM insured WHERE nir = '%s'" % m.group(1))
    assert row[0][0] == m.group(2) and row[0][1].endswith(m.group(3))
