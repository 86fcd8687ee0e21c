"""Agents on the core's account-security service, and an agent's access
following the agents row at once: `portailctl agent disable|enable|role`
count from the agent's next request (core/session.c reads the row with
the session), and an agent's counters and lock are the core's
(agent_locks, agent_counters; events in the audit log)."""

from login_support import (AGENT_LINK, PASSWORD, WRONG_PASSWORD, away_from_step_edge,
                           enrolled_agent, fresh_ip, totp)


def sign_in(stack, login, secret):
    c = stack.client(xff=fresh_ip())
    r = c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    away_from_step_edge()
    r = c.post("/api/v1/backoffice/login/totp", json={"code": totp(secret, 1)})
    assert r.status_code == 200, r.text
    return c


def ctl(stack, *args):
    r = stack.portailctl("agent", *args)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def test_a_disabled_agent_is_signed_out_at_its_next_request(stack):
    login, secret = enrolled_agent(stack)
    c = sign_in(stack, login, secret)
    assert c.get("/api/v1/backoffice/me").status_code == 200
    other = stack.client(xff=fresh_ip())  # a partial session, too
    assert other.post("/api/v1/backoffice/login",
                      json={"login": login, "password": PASSWORD}).status_code == 200

    assert "désactivé" in ctl(stack, "disable", login)
    r = c.get("/api/v1/backoffice/me")
    assert r.status_code == 401, r.text
    assert c.get("/api/v1/session").status_code == 401
    assert other.post("/api/v1/backoffice/login/totp",
                      json={"code": totp(secret, 2)}).status_code == 401
    # Disabled: signing in again fails like an unknown login.
    r = stack.client(xff=fresh_ip()).post("/api/v1/backoffice/login",
                                          json={"login": login, "password": PASSWORD})
    assert r.status_code == 401

    # Enabled again: the password step opens a session again (the code
    # step is the one signed in above; a second code would need the next
    # 30-second step).
    ctl(stack, "enable", login)
    again = stack.client(xff=fresh_ip())
    r = again.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200 and r.json() == {"next": "totp"}, r.text
    s = again.get("/api/v1/session").json()
    assert s["kind"] == "agent" and s["level"] == "partial"


def test_a_role_change_counts_at_once(stack):
    login, secret = enrolled_agent(stack, role="supervisor")
    c = sign_in(stack, login, secret)
    assert c.get("/api/v1/backoffice/audit").status_code == 200
    assert "désormais agent" in ctl(stack, "role", login, "agent")
    r = c.get("/api/v1/backoffice/audit")
    assert r.status_code == 403, r.text
    assert c.get("/api/v1/backoffice/me").json()["role"] == "agent"
    assert c.get("/api/v1/session").json()["role"] == "agent"
    ctl(stack, "role", login, "supervisor")
    assert c.get("/api/v1/backoffice/audit").status_code == 200


def test_agent_commands_refuse_what_they_cannot_do(stack):
    assert stack.portailctl("agent", "disable", "personne.inconnue").returncode != 0
    login, _ = enrolled_agent(stack)
    r = stack.portailctl("agent", "role", login, "administrateur")
    assert r.returncode != 0 and "role" in r.stderr
    assert stack.portailctl("agent", "role", login).returncode != 0


def test_an_agent_lock_is_the_core_service(stack):
    login, secret = enrolled_agent(stack)
    (agent_id,), = [tuple(map(int, r)) for r in
                    stack.sql("SELECT id FROM agents WHERE login = '%s'" % login)]
    c = stack.client(xff=fresh_ip())
    for i in range(4):
        assert c.post("/api/v1/backoffice/login",
                      json={"login": login, "password": WRONG_PASSWORD}).status_code == 401
    assert stack.sql("SELECT password_failures FROM agent_counters WHERE agent_id = %d"
                     % agent_id) == [["4"]]
    c.post("/api/v1/backoffice/login", json={"login": login, "password": WRONG_PASSWORD})
    assert stack.sql("SELECT reason, locked_by FROM agent_locks WHERE agent_id = %d"
                     % agent_id) == [["password", "system"]]
    actions = [r[0] for r in stack.sql("SELECT action FROM audit_log WHERE agent_id = %d "
                                       "ORDER BY id" % agent_id)]
    assert actions.count("login_failed") == 5 and "locked" in actions
    r = c.post("/api/v1/backoffice/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 423 and r.json()["reason"] == "password"
    # The reset lifts it through the core (event "unlocked").
    out = ctl(stack, "reset", login)
    assert AGENT_LINK.search(out)
    assert stack.sql("SELECT COUNT(*) FROM agent_locks WHERE agent_id = %d" % agent_id) == [["0"]]
    assert "unlocked" in [r[0] for r in stack.sql(
        "SELECT action FROM audit_log WHERE agent_id = %d ORDER BY id" % agent_id)]


def test_upgrade_carries_agent_locks_and_counters_over(stack):
    """A database of before sql/005_agents.sql kept an agent's lock and
    counters on the agents row: the migration carries them over, so no
    locked agent comes out unlocked."""
    db = stack.fresh_database("portail_agents_upgrade")
    # Back to the schema before 005, with one locked agent and one counting.
    stack.sql("DROP TABLE agent_locks, agent_counters; "
              "DELETE FROM portail_migrations WHERE module = 'core' AND file = '005_agents.sql'; "
              "INSERT INTO agents (login, display_name, role, lock_reason, locked_at, "
              "second_factor_failures) VALUES ('bloque', 'B', 'agent', 'second_factor', "
              "'2026-01-02 03:04:05', 4), ('compte', 'C', 'agent', NULL, NULL, 0); "
              "UPDATE agents SET password_failures = 2 WHERE login = 'compte'", database=db)
    path = stack.write_config({"database": {"name": db}})
    stack.migrate(path)
    assert stack.sql("SELECT a.login, l.reason, l.locked_at FROM agent_locks l "
                     "JOIN agents a ON a.id = l.agent_id", database=db) == \
        [["bloque", "second_factor", "2026-01-02 03:04:05"]]
    assert sorted(stack.sql("SELECT a.login, c.password_failures, c.second_factor_failures "
                            "FROM agent_counters c JOIN agents a ON a.id = c.agent_id",
                            database=db)) == [["bloque", "0", "4"], ["compte", "2", "0"]]


def test_migration_without_the_old_agent_columns(stack):
    """When the core's migrations run before the login module's (a new
    database), the old columns are not there: 005 carries nothing, and
    does not fail."""
    db = stack.fresh_database("portail_agents_new")
    stack.sql("DROP TABLE agent_locks, agent_counters; "
              "DELETE FROM portail_migrations WHERE module = 'core' AND file = '005_agents.sql'; "
              "ALTER TABLE agents DROP COLUMN lock_reason, DROP COLUMN locked_at, "
              "DROP COLUMN password_failures, DROP COLUMN second_factor_failures",
              database=db)
    stack.migrate(stack.write_config({"database": {"name": db}}))
    assert stack.sql("SELECT COUNT(*) FROM agent_locks", database=db) == [["0"]]
    assert stack.sql("SELECT file FROM portail_migrations WHERE module = 'core' AND file = '005_agents.sql'",
                     database=db) == [["005_agents.sql"]]
