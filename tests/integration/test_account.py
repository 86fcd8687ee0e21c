"""Account security (core/account.c) and the audit log (core/audit.c),
through testmod's /api/v1/test/account and /api/v1/test/audit routes, on
member rows inserted for each test."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import account_state as state
from conftest import lock_account as lock
from conftest import settle_mail, sql_quote, wait_mail

UA = "PortailTest/1.0 (compte)"

# What each lock mail must say: why, and how to get out of it.
LOCK_MAIL = {
    "password": ["plusieurs saisies incorrectes du mot de passe", "Mot de passe oublié",
                 "Réinitialisez votre mot de passe"],
    "second_factor": ["saisies incorrectes du code de sécurité", "Mot de passe oublié"],
    "suspicious": ["activité inhabituelle", "36 46",
                   "La réinitialisation du mot de passe ne suffit pas"],
    "pending_verification": ["vérifier les informations", "lien de confirmation", "36 46"],
    "agent": ["bloqué par un conseiller", "36 46"],
}
REASONS = list(LOCK_MAIL)


def path(member, what=""):
    return "/api/v1/test/account/%d%s" % (member.id, what)


def unlock(client, member, by, why=""):
    r = client.post(path(member, "/unlock"), json={"by": by, "why": why})
    assert r.status_code == 200, r.text
    return r.json()


def events(stack, member):
    return stack.sql("SELECT kind, detail, ip, country, user_agent FROM security_events "
                     "WHERE member_id = %d ORDER BY id" % member.id)


@pytest.mark.parametrize("reason", REASONS)
def test_lock_reason_state_event_and_mail(stack, reason):
    member = stack.new_member()
    c = stack.client(xff="2.2.2.2")
    st = lock(c, member, reason, "note interne %s" % reason, headers={"User-Agent": UA})
    assert st["reason"] == reason
    assert st["detail"] == "note interne %s" % reason
    assert st["locked_by"] == "system"
    assert st["locked_at"].endswith("Z")
    assert state(c, member) == st

    # The event: the reason only (the detail may be an internal note), and
    # where the request came from.
    assert events(stack, member) == [["account_locked", reason, "2.2.2.2", "FR", UA]]

    m = wait_mail(stack, member, "Votre compte a été bloqué")
    for phrase in LOCK_MAIL[reason]:
        assert phrase in m["body"], (reason, phrase, m["body"])
    assert "note interne" not in m["body"]
    assert m["body"].startswith("Bonjour %s %s," % (member.first_name, member.last_name))
    assert "Votre caisse d’Assurance Maladie" in m["body"]


@pytest.mark.parametrize("first,second", [
    ("password", "second_factor"), ("second_factor", "password"),
    ("pending_verification", "password"), ("suspicious", "pending_verification"),
    ("suspicious", "agent"), ("agent", "suspicious"), ("agent", "password")])
def test_locking_again_keeps_a_reason_that_takes_as_much_to_lift(stack, client, first, second):
    member = stack.new_member()
    lock(client, member, first)
    st = lock(client, member, second, "second")
    assert st["reason"] == first
    assert st["detail"] == ""
    assert [e[0] for e in events(stack, member)] == ["account_locked"]
    got = settle_mail(stack, client, member)
    assert [m["subject"] for m in got] == ["Votre compte a été bloqué"]
    for phrase in LOCK_MAIL[first]:
        assert phrase in got[0]["body"]


@pytest.mark.parametrize("first,second", [
    ("password", "suspicious"), ("second_factor", "agent"), ("password", "pending_verification"),
    ("pending_verification", "agent")])
def test_a_lock_that_takes_more_to_lift_replaces_the_first(stack, client, first, second):
    # Otherwise a reset link (or a confirmation link) would lift a lock that
    # needs the fund.
    member = stack.new_member()
    lock(client, member, first)
    s = stack.client()
    s.test_login(id=member.id)
    st = lock(client, member, second, "second")
    assert st["reason"] == second and st["detail"] == "second"
    assert [e[:2] for e in events(stack, member)] == [
        ["account_locked", first], ["account_locked", second]]
    assert s.get("/api/v1/test/member").status_code == 401
    got = settle_mail(stack, client, member)
    assert [m["subject"] for m in got] == ["Votre compte a été bloqué"] * 2
    for phrase in LOCK_MAIL[second]:
        assert any(phrase in m["body"] for m in got), phrase
    st = unlock(client, member, "reset")
    assert st["unlocked"] is False and st["reason"] == second


def test_lock_revokes_the_members_sessions(stack):
    member, other = stack.new_member(), stack.new_member()
    a, b, o = stack.client(), stack.client(), stack.client()
    a.test_login(id=member.id)
    b.test_login(id=member.id, level="partial")
    o.test_login(id=other.id)
    assert a.get("/api/v1/test/member").status_code == 200
    lock(stack.client(), member, "suspicious")
    assert a.get("/api/v1/test/member").status_code == 401
    assert b.get("/api/v1/test/partial").status_code == 401
    assert stack.sql("SELECT COUNT(*) FROM sessions WHERE kind = 'member' AND principal_id = %d"
                     % member.id) == [["0"]]
    assert o.get("/api/v1/test/member").status_code == 200


def test_lock_by_an_agent_names_the_agent(stack):
    member = stack.new_member()
    agent = stack.new_agent()
    c = stack.client()
    c.test_login(kind="agent", id=agent.id, level="agent")
    st = lock(c, member, "agent", "appel du 12/03")
    assert st["locked_by"] == "agent:%s" % agent.login
    # The agent's own session is untouched.
    assert c.get("/api/v1/test/agent").status_code == 200


def test_lock_in_a_rolled_back_transaction_leaves_no_trace(stack, client):
    member = stack.new_member()
    s = stack.client()
    s.test_login(id=member.id)
    r = client.post(path(member, "/lock"), json={"reason": "suspicious", "rollback": True})
    assert r.status_code == 409, r.text
    assert state(client, member)["reason"] == "none"
    assert events(stack, member) == []
    assert s.get("/api/v1/test/member").status_code == 200
    assert settle_mail(stack, client, member) == []


def test_lock_refuses_an_unknown_reason(stack, client):
    member = stack.new_member()
    for reason in ("none", "", "PASSWORD", "autre"):
        r = client.post(path(member, "/lock"), json={"reason": reason})
        assert r.status_code == 422, r.text
    assert state(client, member)["reason"] == "none"


@pytest.mark.parametrize("reason", ["password", "second_factor"])
def test_reset_lifts_wrong_secret_locks(stack, client, reason):
    member = stack.new_member()
    lock(client, member, reason)
    for counter in ("password", "second_factor"):
        client.post(path(member, "/count"), json={"counter": counter})
    st = unlock(client, member, "reset")
    assert st["unlocked"] is True
    assert st["reason"] == "none" and st["locked_at"] is None
    assert st["password_failures"] == 0 and st["second_factor_failures"] == 0
    assert events(stack, member)[-1][:2] == ["account_unlocked", "reset"]
    m = wait_mail(stack, member, "Votre compte a été débloqué")
    assert "réinitialisation de votre mot de passe" in m["body"]
    assert "36 46" in m["body"]  # if it was not you


@pytest.mark.parametrize("reason", ["suspicious", "agent", "pending_verification"])
def test_reset_does_not_lift_the_other_locks(stack, client, reason):
    member = stack.new_member()
    lock(client, member, reason)
    client.post(path(member, "/count"), json={"counter": "password"})
    st = unlock(client, member, "reset", "nouveau mot de passe")
    assert st["unlocked"] is False
    assert st["reason"] == reason
    assert st["password_failures"] == 0  # counters reset all the same
    assert [e[0] for e in events(stack, member)] == ["account_locked"]
    assert [m["subject"] for m in settle_mail(stack, client, member)] == [
        "Votre compte a été bloqué"]


@pytest.mark.parametrize("reason", REASONS)
def test_agent_unlock_lifts_any_lock(stack, reason):
    member = stack.new_member()
    c = stack.client(xff="5.39.1.1")
    lock(c, member, reason)
    st = unlock(c, member, "agent:dupont", "identité vérifiée au téléphone")
    assert st["unlocked"] is True and st["reason"] == "none"
    assert events(stack, member)[-1] == [
        "account_unlocked", "agent:dupont: identité vérifiée au téléphone", "5.39.1.1", "GB",
        c.http.headers["User-Agent"]]
    m = wait_mail(stack, member, "Votre compte a été débloqué")
    assert "débloqué par un conseiller" in m["body"]
    assert "Vous pouvez de nouveau vous connecter" in m["body"]
    # Unlocking again: nothing to do, nothing sent.
    assert unlock(c, member, "agent:dupont")["unlocked"] is False
    subjects = [m["subject"] for m in settle_mail(stack, c, member)]
    assert sorted(subjects) == ["Votre compte a été bloqué", "Votre compte a été débloqué"]


def test_locked_again_after_unlock(stack, client):
    member = stack.new_member()
    lock(client, member, "password")
    unlock(client, member, "system")
    assert lock(client, member, "second_factor")["reason"] == "second_factor"
    assert [e[:2] for e in events(stack, member)] == [
        ["account_locked", "password"], ["account_unlocked", "system"],
        ["account_locked", "second_factor"]]


def test_counters_increment_and_reset(stack, client):
    member = stack.new_member()
    st = state(client, member)
    assert st["reason"] == "none"
    assert st["password_failures"] == 0 and st["second_factor_failures"] == 0

    def count(counter):
        r = client.post(path(member, "/count"), json={"counter": counter})
        assert r.status_code == 200, r.text
        return r.json()["value"]

    assert [count("password") for _ in range(3)] == [1, 2, 3]
    assert count("second_factor") == 1
    assert count("password_change") == 1
    assert count("password_change") == 2
    st = state(client, member)
    assert st["password_failures"] == 3 and st["second_factor_failures"] == 1

    r = client.post(path(member, "/reset"), json={"counter": "password"})
    assert r.status_code == 200, r.text
    assert r.json()["password_failures"] == 0 and r.json()["second_factor_failures"] == 1
    assert count("password") == 1
    assert count("password_change") == 3
    assert stack.sql("SELECT password_failures, second_factor_failures, password_change_failures "
                     "FROM account_counters WHERE member_id = %d" % member.id) == [["1", "1", "3"]]
    r = client.post(path(member, "/count"), json={"counter": "autre"})
    assert r.status_code == 422


def test_concurrent_failures_each_get_their_own_count(stack):
    member = stack.new_member()

    def one(_):
        r = stack.client().post(path(member, "/count"), json={"counter": "password"})
        assert r.status_code == 200, r.text
        return r.json()["value"]

    with ThreadPoolExecutor(8) as ex:
        values = list(ex.map(one, range(24)))
    assert sorted(values) == list(range(1, 25))


def test_unknown_member_reads_as_unlocked(client):
    r = client.get("/api/v1/test/account/999999999")
    assert r.status_code == 200
    assert r.json()["reason"] == "none" and r.json()["password_failures"] == 0


def test_security_event_records_the_client(stack):
    member = stack.new_member()
    c = stack.client(xff="8.8.8.8")
    r = c.post(path(member, "/event"), json={"kind": "password_changed", "detail": "depuis le profil"},
               headers={"User-Agent": UA})
    assert r.status_code == 201, r.text
    assert events(stack, member) == [["password_changed", "depuis le profil", "8.8.8.8", "US", UA]]
    # Control characters in the detail do not reach the table as such.
    r = c.post(path(member, "/event"), json={"kind": "test", "detail": "a\nb\x1bc"})
    assert r.status_code == 201
    assert events(stack, member)[-1][1] == "a?b?c"


# ---- audit -------------------------------------------------------------------


def audit_rows(stack, action):
    return stack.sql("SELECT agent_id, member_id, action, reason, ip FROM audit_log "
                     "WHERE action = %s ORDER BY id" % sql_quote(action))


def test_agent_action_is_audited(stack):
    member = stack.new_member()
    agent = stack.new_agent()
    c = stack.client(xff="5.39.1.1")
    c.test_login(kind="agent", id=agent.id, level="agent")
    action = "unlock-%d" % member.id
    r = c.post("/api/v1/test/audit", json={"member_id": member.id, "action": action,
                                            "reason": "appel de l'assuré, identité vérifiée"})
    assert r.status_code == 201, r.text
    assert audit_rows(stack, action) == [
        [str(agent.id), str(member.id), action, "appel de l'assuré, identité vérifiée", "5.39.1.1"]]
    # An action about no member in particular.
    action2 = "export-%d" % agent.id
    r = c.post("/api/v1/test/audit", json={"member_id": 0, "action": action2, "reason": ""})
    assert r.status_code == 201, r.text
    assert audit_rows(stack, action2) == [[str(agent.id), None, action2, "", "5.39.1.1"]]
    # The agent comes from the session: the body cannot name another one.
    row = stack.sql("SELECT created_at FROM audit_log WHERE action = %s" % sql_quote(action))
    assert row and row[0][0]


def test_audit_needs_an_agent_session(stack):
    member = stack.new_member()
    action = "forbidden-%d" % member.id
    body = {"member_id": member.id, "action": action, "reason": "essai"}
    anon = stack.client()
    assert anon.post("/api/v1/test/audit", json=body).status_code == 401
    m = stack.client()
    m.test_login(id=member.id)
    assert m.post("/api/v1/test/audit", json=body).status_code == 403
    p = stack.client()
    p.test_login(id=member.id, level="partial")
    assert p.post("/api/v1/test/audit", json=body).status_code == 401
    # Past the route's check, portail_audit refuses by itself.
    assert anon.post("/api/v1/test/audit/unchecked", json=body).status_code == 403
    assert m.post("/api/v1/test/audit/unchecked", json=body).status_code == 403
    assert audit_rows(stack, action) == []
    # With no action, nothing is written either.
    agent = stack.new_agent()
    a = stack.client()
    a.test_login(kind="agent", id=agent.id, level="agent")
    r = a.post("/api/v1/test/audit", json={"member_id": member.id, "reason": "sans action"})
    assert r.status_code == 500
    assert stack.sql("SELECT COUNT(*) FROM audit_log WHERE agent_id = %d" % agent.id) == [["0"]]



@pytest.mark.timeout(60)
def test_lock_placed_in_a_race_reports_what_stands(stack):
    """Another transaction inserts a weaker lock and commits while ours is
    between its read and its insert: our stronger lock must still be placed
    (locking read), not answer success with the weaker one in place."""
    import subprocess
    import threading
    member = stack.new_member()
    other = subprocess.Popen(
        ["mariadb", "--no-defaults", "-S", str(stack.mariadb.socket), "-uroot", "portail"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    other.stdin.write("BEGIN; INSERT INTO account_locks (member_id, reason, detail, locked_by) "
                      "VALUES (%d, 'password', 'race', 'system'); SELECT SLEEP(0);\n" % member.id)
    other.stdin.flush()
    time.sleep(0.5)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault(
        "r", stack.client().post(path(member, "/lock"), json={"reason": "agent",
                                                              "detail": "strong"})))
    t.start()
    time.sleep(1.0)
    other.stdin.write("COMMIT;\n")
    other.stdin.close()
    other.wait(10)
    t.join(20)
    assert box["r"].status_code == 200, box["r"].text
    st = state(stack.client(), member)
    assert st["reason"] == "agent" and st["detail"] == "strong"
    assert [e[:2] for e in events(stack, member)] == [["account_locked", "agent"]]


@pytest.mark.timeout(120)
def test_concurrent_locks_place_the_strongest_reason(stack):
    """Many locks in a race on the same members: the strongest stands."""
    members = [stack.new_member() for _ in range(8)]
    jobs = [(m, reason) for m in members for reason in ("password", "agent") * 3]
    clients = [stack.client() for _ in range(len(jobs))]

    def one(i):
        m, reason = jobs[i]
        r = clients[i].post(path(m, "/lock"), json={"reason": reason, "detail": reason})
        return r.status_code

    with ThreadPoolExecutor(12) as ex:
        codes = list(ex.map(one, range(len(jobs))))
    assert codes == [200] * len(jobs)
    client = stack.client()
    got = {m.id: state(client, m)["reason"] for m in members}
    assert got == {m.id: "agent" for m in members}
