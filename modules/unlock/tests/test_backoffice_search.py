"""Module unlock, back office (modules/unlock/backoffice.c), what an agent on
the phone needs: find an insured person by NIR or by name and birth date
(with or without an online account), the history of the file's locks for
every agent, the agent's own name, the audit log's CSV export."""

import csv
import io
import re

import pytest

from unlock_util import agent_client, lock

BO = "/api/v1/backoffice"
REASON = "Appel de l’assuré, identité vérifiée par questions"


@pytest.fixture
def agent(stack):
    return agent_client(stack)


def audit_of(stack, agent, action):
    return stack.sql("SELECT member_id, reason FROM audit_log WHERE agent_id = %d AND action = '%s' "
                     "ORDER BY id" % (agent.agent.id, action))


def without_account(stack, member):
    stack.sql("DELETE FROM members WHERE id = %d" % member.id)


# ---- search ---------------------------------------------------------------------------


def test_an_insured_person_without_account_is_found_as_insured(stack, agent):
    m = stack.new_member()
    without_account(stack, m)
    r = agent.get(BO + "/insured", params={"nir": m.nir})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["truncated"] is False and body["max"] == 20
    [res] = body["results"]
    assert res["member_id"] is None  # "pas de compte en ligne", not "unknown"
    assert (res["nir"], res["first_name"], res["last_name"]) == (m.nir, "Paul", "Martin")
    assert res["birth_date"] == "1980-05-17" and res["postal_code"] == "75015"
    # Audited: the kind of criteria and the count, never the NIR itself.
    [[member_id, reason]] = audit_of(stack, agent, "member_search")
    assert member_id is None and reason == "recherche par NIR : 1 résultat"
    assert m.nir not in reason


def test_search_by_nir_gives_the_account(stack, agent):
    m = stack.new_member()
    [res] = agent.get(BO + "/insured", params={"nir": m.nir}).json()["results"]
    assert res["member_id"] == m.id and res["insured_id"] == m.insured_id
    assert audit_of(stack, agent, "member_search")[0][0] == str(m.id)


def test_search_by_name_and_birth_date(stack, agent):
    name = "Zéphyrin%d" % stack.new_agent().id  # a last name of this test only
    people = [stack.new_member() for _ in range(3)]
    stack.sql("UPDATE insured SET last_name = '%s' WHERE id IN (%s)"
              % (name, ",".join(str(p.insured_id) for p in people)))
    stack.sql("UPDATE insured SET postal_code = '33000', first_name = 'Jeanne' WHERE id = %d"
              % people[2].insured_id)
    without_account(stack, people[1])
    # Case and accents do not matter (as the agent hears the name).
    r = agent.get(BO + "/insured", params={"last_name": name.upper().replace("É", "E"),
                                            "birth_date": "1980-05-17"})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert sorted(x["insured_id"] for x in res) == sorted(p.insured_id for p in people)
    assert {x["insured_id"]: x["member_id"] for x in res}[people[1].insured_id] is None
    # The postcode and the first name narrow it.
    res = agent.get(BO + "/insured", params={"last_name": name, "birth_date": "1980-05-17",
                                              "postal_code": "33000"}).json()["results"]
    assert [x["insured_id"] for x in res] == [people[2].insured_id]
    res = agent.get(BO + "/insured", params={"last_name": name, "birth_date": "1980-05-17",
                                              "first_name": "jeanne"}).json()["results"]
    assert [x["insured_id"] for x in res] == [people[2].insured_id]
    assert agent.get(BO + "/insured", params={"last_name": name, "birth_date": "1980-05-18"}
                     ).json()["results"] == []
    reasons = [r for _, r in audit_of(stack, agent, "member_search")]
    assert reasons == ["recherche par nom et date de naissance : 3 résultats",
                       "recherche par nom, date de naissance et code postal : 1 résultat",
                       "recherche par nom et date de naissance : 1 résultat",
                       "recherche par nom et date de naissance : 0 résultat"]
    assert not any(name in r for r in reasons)


def test_search_results_are_capped(stack, agent):
    name = "Nombreux%d" % stack.new_agent().id
    people = [stack.new_member() for _ in range(21)]
    stack.sql("UPDATE insured SET last_name = '%s' WHERE id IN (%s)"
              % (name, ",".join(str(p.insured_id) for p in people)))
    body = agent.get(BO + "/insured", params={"last_name": name, "birth_date": "1980-05-17"}).json()
    assert len(body["results"]) == 20 and body["truncated"] is True
    assert audit_of(stack, agent, "member_search")[-1][1] == (
        "recherche par nom et date de naissance : 20 premiers résultats")


@pytest.mark.parametrize("params,fields", [
    ({}, {"last_name", "birth_date"}),
    ({"nir": "123"}, {"nir"}),
    ({"last_name": "Martin"}, {"birth_date"}),
    ({"birth_date": "1980-05-17"}, {"last_name"}),
    ({"last_name": "Martin", "birth_date": "17/05/1980"}, {"birth_date"}),
    ({"last_name": "Martin", "birth_date": "2999-01-01"}, {"birth_date"}),
    ({"last_name": "x" * 401, "birth_date": "1980-05-17"}, {"last_name"}),
    ({"last_name": "Martin", "birth_date": "1980-05-17", "postal_code": "ABCDE"}, {"postal_code"}),
])
def test_search_refuses_bad_criteria(stack, agent, params, fields):
    r = agent.get(BO + "/insured", params=params)
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == fields
    assert all(e["message"] for e in r.json()["errors"])
    assert audit_of(stack, agent, "member_search") == []  # nothing read, nothing audited


# ---- history of the file ---------------------------------------------------------------


def test_every_agent_sees_the_lock_history_and_the_read_is_audited(stack, agent):
    m = stack.new_member()
    lock(stack.client(), m, "password")  # by the system, a minute ago
    # (times are to the second: within one second the audit log's rows and
    # the events have no common order)
    stack.sql("UPDATE security_events SET created_at = created_at - INTERVAL 1 MINUTE "
              "WHERE member_id = %d" % m.id)
    a2 = agent_client(stack)
    stack.sql("UPDATE agents SET display_name = 'Marie Leroy' WHERE id = %d" % a2.agent.id)
    assert a2.post(BO + "/members/%d/unlock" % m.id, json={"reason": REASON}).status_code == 200
    assert a2.post(BO + "/members/%d/lock" % m.id, json={"reason": "Fraude suspectée, dossier 42"}
                   ).status_code == 200
    r = agent.get(BO + "/members/%d/history" % m.id)  # a plain agent, not a supervisor
    assert r.status_code == 200, r.text
    entries = r.json()["entries"]
    # Newest first: the agent's lock and unlock once each (with motive and
    # name), then the system's password lock.
    assert [(e["action"], e["agent_name"], e["motive"]) for e in entries] == [
        ("lock", "Marie Leroy", "Fraude suspectée, dossier 42"),
        ("unlock", "Marie Leroy", REASON),
        ("lock", None, None)]
    assert entries[2]["detail"] == "password" and entries[0]["at"].endswith("Z")
    assert audit_of(stack, agent, "member_history") == [[str(m.id), ""]]
    # The events name the agent too (the core writes "agent:LOGIN").
    ev = agent.get(BO + "/members/%d/events" % m.id).json()["events"]
    unlocked = [e for e in ev if e["kind"] == "account_unlocked"]
    assert unlocked[0]["detail"] == "agent:" + a2.agent.login
    assert unlocked[0]["agent_name"] == "Marie Leroy"
    assert agent.get(BO + "/members/999999999/history").status_code == 404


def test_history_shows_unlocks_by_a_reset(stack, agent):
    m = stack.new_member()
    c = stack.client()
    lock(c, m, "password")
    r = c.post("/api/v1/test/account/%d/unlock" % m.id, json={"by": "reset"})
    if r.status_code == 404:
        pytest.skip("no unlock through testmod")
    entries = agent.get(BO + "/members/%d/history" % m.id).json()["entries"]
    assert [(e["action"], e["detail"]) for e in entries] == [("unlock", "reset"),
                                                            ("lock", "password")]


# ---- CSV export -----------------------------------------------------------------------------


def test_audit_export_is_for_supervisors_bounded_audited_and_injection_safe(stack, agent,
                                                                           supervisor):
    m = stack.new_member()
    stack.sql("UPDATE insured SET last_name = '=HYPERLINK(\"http://x\")', first_name = '@Jo' "
              "WHERE id = %d" % m.insured_id)
    a = agent_client(stack)
    assert a.post(BO + "/members/%d/lock" % m.id, json={"reason": "-2+3 motif « piégé »; fin"}
                  ).status_code == 200
    assert agent.get(BO + "/audit/export").status_code == 403
    r = supervisor.get(BO + "/audit/export", params={"agent": a.agent.login})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "no-store"
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:2] == ["Date (UTC)", "Agent"]
    [row] = rows[1:]
    assert row[2] == a.agent.login and row[4] == m.nir and row[5] == "lock"
    # Formula starts defused: no cell starts with = + - @.
    assert row[3] == "'@Jo =HYPERLINK(\"http://x\")"
    assert row[6] == "'-2+3 motif « piégé »; fin"
    assert not any(c[:1] in "=+-@" for r_ in rows for c in r_ if c)
    # The export itself is audited, with its size.
    rows = stack.sql("SELECT action, reason FROM audit_log WHERE agent_id = %d"
                     % supervisor.agent.id)
    assert rows == [["audit_export", "export CSV : 1 ligne"]]


# ---- demo ---------------------------------------------------------------------------------


def test_the_demo_names_an_insured_person_without_account_to_look_up(stack, agent):
    assert stack.portailctl("seed", "--count", "20").returncode == 0
    r = stack.portailctl("demo", "--yes-this-is-a-demo-database")
    assert r.returncode == 0, r.stderr
    m = re.search(r"sans compte en ligne\u00a0: .*\n  NIR +(\S+)\n  date de naissance (\S+)", r.stdout)
    assert m, r.stdout
    [res] = agent.get(BO + "/insured", params={"nir": m.group(1)}).json()["results"]
    assert res["member_id"] is None and res["birth_date"] == m.group(2)
