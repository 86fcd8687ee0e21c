"""Module platform, ABI 2 (issue 8, "Descriptor v2"): the loader's refusals
of broken descriptors and roles, permissions enforced by the core, the
automatic audit, portail_req_param_i64, the member scope
(portail_member_row/rows/exec), GET /api/v1/nav and /api/v1/dashboard,
and the explicit export list. The example module (tests/modules/example)
runs in a private portaild; its table comes from its own SQL file, run
here until migrations per module exist."""

import re
import subprocess
import time

import pytest

from conftest import BUILD, REPO, agent_client, client_of, member_client, portaild_bin, refuse

EXAMPLE = {"name": "example", "enabled": True, "path": "example.so",
           "dir": str(REPO / "tests" / "modules" / "example"), "settings": {"max_notes": 3}}
EXAMPLE_SQL = REPO / "tests" / "modules" / "example" / "sql" / "001_example.sql"


def broken(fault, **settings):
    return {"name": "broken", "enabled": True, "path": "broken%d.so" % fault,
            "settings": settings}


@pytest.fixture(scope="module")
def example_table(stack):
    """The example's tables, by its own migrations (portailctl migrate with
    the module configured): portaild refuses it until they are applied."""
    stack.migrate(stack.write_config({"modules": base_modules(stack) + [dict(EXAMPLE)]}))
    assert stack.sql("SELECT file FROM portail_migrations WHERE module = 'example'") == [
        [EXAMPLE_SQL.name]]


def base_modules(stack):
    return [dict(m) for m in stack.config["modules"]]


def platform(stack, *extra, roles=None):
    """A private portaild with the stack's modules plus extra ones."""
    cfg = {"modules": base_modules(stack) + list(extra)}
    if roles is not None:
        cfg["roles"] = roles
    return stack.start_portaild(cfg)


def audit_rows(stack, agent_id):
    return stack.sql("SELECT member_id, action, reason FROM audit_log WHERE agent_id = %d "
                     "ORDER BY id" % agent_id)


# ---- the loader's refusals --------------------------------------------------------------


REFUSALS = [
    (10, "route /api/v1/broken/member: a permission"),
    (11, "route /api/v1/broken/agent: reserved fields must stay zero"),
    (12, "route /api/v1/broken/member: an audit action"),
    (13, "route /api/v1/broken/agent: an audit action (\"Broken Read\")"),
    (14, "an audit action (\"broken.xxx"),
    (15, "requires permission nobody.declares.this, declared by nobody"),
    (20, "permission \"Broken.Use2\" must match"),
    (21, "permission audit.read is already declared by core"),
    (30, "menu entry \"Sans menu\": unknown menu"),
    (31, "label must be 1 to 64 bytes"),
    (32, "menu entry \"Ailleurs\": href must be a path"),
    (33, "menu entry \"Espace\": href must be a path"),
    (34, "text must be at most 200 bytes"),
    (35, "menu entry \"Inconnu\" requires permission nope.x, declared by nobody"),
    (36, "entries of the member menu carry no permission"),
    (37, "menu entry \"Avec pastille\": a badge is for member-menu entries"),
    (40, "job kind \"other.run\": name must be \"<module>.<kind>\""),
    (41, "job kind \"broken.run\": no handler"),
    (42, "job kind broken.run is already declared by broken"),
    (43, "max_attempts and lease_seconds must be 0 or more"),
    (44, "max_attempts and lease_seconds must be 0 or more"),
    (45, "job kind \"broken.run\": max_attempts (at most 1000)"),
    (50, "hook on event 99: unknown event"),
    (51, "hook on event 1: no handler"),
    (60, "reserved fields of the descriptor must stay zero"),
]


@pytest.mark.parametrize("fault,message", REFUSALS)
def test_broken_descriptor_is_refused_with_file_line(stack, fault, message):
    line = refuse(stack, {"modules": [broken(fault)]}, line_number=True)
    assert "module broken" in line and message in line, line


def test_check_config_refuses_a_job_kind_out_of_bounds(stack):
    """The job kinds' bounds are the descriptor's, checked by the loader
    (file:line), for portailctl check-config as for portaild."""
    r = stack.portailctl("check-config", config=stack.write_config({"modules": [broken(45)]}))
    assert r.returncode == 1 and "max_attempts (at most 1000)" in r.stderr, r


def test_a_permission_is_unique_across_modules(stack):
    line = refuse(stack, {"modules": [dict(EXAMPLE), broken(22)]}, line_number=True)
    assert "module broken: permission example.notes.read is already declared by example" in line


def test_the_valid_build_starts(stack):
    rc, out, err = stack.check_config({"modules": [broken(0), dict(EXAMPLE)]})
    assert (rc, out, err) == (0, "ok\n", "")


@pytest.mark.parametrize("roles,message", [
    ({"agent": ["members.read", "no.such.permission"]},
     "roles.agent: unknown permission \"no.such.permission\""),
    ({"Chef": ["members.read"]}, "roles: \"Chef\" is not a valid role name"),
    ({"agent": "members.read"}, "roles.agent must be a list of permission names"),
    ({"agent": [1]}, "roles.agent: permissions are strings"),
])
def test_bad_roles_are_refused_with_file_line(stack, roles, message):
    line = refuse(stack, {"modules": [dict(EXAMPLE)], "roles": roles}, line_number=True)
    assert message in line, line


def test_roles_may_grant_a_module_permission(stack):
    rc, out, err = stack.check_config({"modules": [dict(EXAMPLE)], "roles": {
        "agent": ["members.read"], "auditor": ["audit.read", "example.notes.read"]}})
    assert (rc, out, err) == (0, "ok\n", "")


# ---- permissions ------------------------------------------------------------------------


def test_default_roles_and_permissions_in_the_session(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    agent, sup = agent_client(stack, inst=inst), agent_client(stack, "supervisor", inst=inst)
    # (the other real modules' permissions, e.g. reimbursements', are left aside)
    def known(ps):
        return [p for p in ps if p.split(".")[0] in ("members", "audit", "jobs", "example")]
    perms = known(agent.get("/api/v1/session").json()["permissions"])
    assert sorted(perms) == ["members.lock", "members.read"]
    perms = known(sup.get("/api/v1/session").json()["permissions"])
    assert sorted(perms) == ["audit.read", "example.notes.read", "jobs.read", "jobs.write",
                             "members.lock", "members.read"]
    # Members have none.
    assert "permissions" not in member_client(stack, inst=inst).get("/api/v1/session").json()


def test_route_permission_is_enforced_by_the_core(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    m = stack.new_member()
    agent = agent_client(stack, inst=inst)
    r = agent.get("/api/v1/backoffice/example/members/%d/notes" % m.id)
    assert r.status_code == 403, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["permission"] == "example.notes.read"
    assert "Lire les notes d'un assuré" in body["detail"]
    # The unlock module's audit log needs audit.read: supervisors only by default.
    assert agent.get("/api/v1/backoffice/audit").status_code == 403
    sup = agent_client(stack, "supervisor", inst=inst)
    assert sup.get("/api/v1/backoffice/audit").status_code == 200
    assert audit_rows(stack, agent.agent.id) == []


def test_roles_from_the_config(stack, example_table):
    inst = platform(stack, dict(EXAMPLE), roles={
        "agent": ["members.read"],
        "supervisor": ["members.read", "members.lock", "audit.read"],
        "auditor": ["audit.read", "example.notes.read"]})
    m = stack.new_member()
    auditor = agent_client(stack, "auditor", inst=inst)
    assert sorted(auditor.get("/api/v1/session").json()["permissions"]) == [
        "audit.read", "example.notes.read"]
    assert auditor.get("/api/v1/backoffice/audit").status_code == 200
    assert auditor.get("/api/v1/backoffice/example/members/%d/notes" % m.id).status_code == 200
    # members.lock is not the auditor's, nor the agent's here.
    reason = {"reason": "Vérification demandée par le service fraude"}
    r = auditor.post("/api/v1/backoffice/members/%d/lock" % m.id, json=reason)
    assert r.status_code == 403 and r.json()["permission"] == "members.lock"
    agent = agent_client(stack, inst=inst)
    assert agent.post("/api/v1/backoffice/members/%d/lock" % m.id, json=reason).status_code == 403
    assert agent.get("/api/v1/backoffice/members", params={"nir": m.nir}).status_code == 200
    # A role the config does not name holds nothing.
    other = agent_client(stack, "stagiaire", inst=inst)
    assert other.get("/api/v1/session").json()["permissions"] == []
    assert other.get("/api/v1/backoffice/members", params={"nir": m.nir}).status_code == 403


# ---- automatic audit ----------------------------------------------------------------------


def test_a_route_with_audit_leaves_a_row_only_when_it_answered(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    m = stack.new_member()
    member_client(stack, m, inst=inst).post("/api/v1/example/notes", json={"text": "Ma note"})
    sup = agent_client(stack, "supervisor", inst=inst)
    r = sup.get("/api/v1/backoffice/example/members/%d/notes" % m.id)
    assert r.status_code == 200, r.text
    assert [n["text"] for n in r.json()["notes"]] == ["Ma note"]
    # The handler never calls portail_audit: the core wrote this row.
    assert audit_rows(stack, sup.agent.id) == [[str(m.id), "example.notes.read", ""]]
    # A reason given through portail_audit_reason goes with it.
    r = sup.get("/api/v1/backoffice/example/members/%d/notes" % m.id,
                params={"reason": "Réclamation n° 12"})
    assert r.status_code == 200
    assert audit_rows(stack, sup.agent.id)[1] == [str(m.id), "example.notes.read",
                                                 "Réclamation n° 12"]
    # A 404 (no such member, malformed id) leaves none.
    assert sup.get("/api/v1/backoffice/example/members/999999999/notes").status_code == 404
    assert sup.get("/api/v1/backoffice/example/members/01/notes").status_code == 404
    assert len(audit_rows(stack, sup.agent.id)) == 2


def test_unlock_reads_are_audited_by_the_core(stack):
    inst = stack.portaild
    m = stack.new_member()
    agent = agent_client(stack, inst=inst)
    assert agent.get("/api/v1/backoffice/members", params={"nir": m.nir}).status_code == 200
    assert agent.get("/api/v1/backoffice/members/%d/events" % m.id).status_code == 200
    assert agent.get("/api/v1/backoffice/members/%d/events" % (m.id + 10**6)).status_code == 404
    assert audit_rows(stack, agent.agent.id) == [[str(m.id), "member_view", ""],
                                                 [str(m.id), "member_events", ""]]


# ---- portail_req_param_i64 ------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["0", "-1", "+1", "01", "1a", "abc", "1.0", "9223372036854775808",
                                 "99999999999999999999", "%201"])
def test_malformed_ids_are_404(stack, example_table, bad):
    inst = platform(stack, dict(EXAMPLE))
    c = member_client(stack, inst=inst)
    for method in ("GET", "DELETE"):
        r = c.request(method, "/api/v1/example/notes/" + bad)
        assert r.status_code == 404, (method, bad, r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/problem+json")
    assert c.delete("/api/v1/sessions/" + bad).status_code == 404


def test_largest_id_is_accepted(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    c = member_client(stack, inst=inst)
    r = c.get("/api/v1/example/notes/9223372036854775807")
    assert r.status_code == 404 and "Cette note n'existe pas" in r.json()["detail"]


# ---- member scope ---------------------------------------------------------------------------


def test_member_a_cannot_reach_member_b_notes(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    a, b = member_client(stack, inst=inst), member_client(stack, inst=inst)
    r = b.post("/api/v1/example/notes", json={"text": "Note de B"})
    assert r.status_code == 201, r.text
    nid = r.json()["id"]
    assert b.get("/api/v1/example/notes/%d" % nid).json()["text"] == "Note de B"
    assert a.get("/api/v1/example/notes/%d" % nid).status_code == 404
    assert a.delete("/api/v1/example/notes/%d" % nid).status_code == 404
    assert a.get("/api/v1/example/notes").json() == {"notes": []}
    assert [n["id"] for n in b.get("/api/v1/example/notes").json()["notes"]] == [nid]
    assert b.delete("/api/v1/example/notes/%d" % nid).status_code == 204
    assert b.get("/api/v1/example/notes/%d" % nid).status_code == 404
    # The module's setting bounds the count.
    for i in range(3):
        assert b.post("/api/v1/example/notes", json={"text": "n%d" % i}).status_code == 201
    assert b.post("/api/v1/example/notes", json={"text": "de trop"}).status_code == 409


def test_agent_routes_cannot_use_the_member_scope(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    agent = agent_client(stack, inst=inst)
    r = agent.get("/api/v1/backoffice/example/misuse")
    assert r.status_code == 500
    logs = [rec for rec in inst.log_records() if rec.get("level") == "error"]
    assert any("module example" in rec.get("msg", "") and "outside a member session" in
               rec.get("msg", "") for rec in logs), logs


def test_sql_without_the_member_placeholder_is_refused(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    member = member_client(stack, inst=inst)
    member.post("/api/v1/example/notes", json={"text": "x"})
    r = member.get("/api/v1/example/misuse")
    assert r.status_code == 500
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert any("module example: member-scoped query without {member}" in rec.get("msg", "")
               for rec in inst.log_records()), inst.log_records()


# ---- nav and dashboard ----------------------------------------------------------------------


def test_nav(stack, example_table):
    inst = platform(stack, dict(EXAMPLE), broken(0))
    assert client_of(stack, inst).get("/api/v1/nav").status_code == 401
    member = member_client(stack, inst=inst)
    r = member.get("/api/v1/nav")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["menu"] == "member"
    # Ascending order (broken 10, example 50).
    # (the real modules' member entries, e.g. reimbursements', are left aside)
    body["items"] = [i for i in body["items"] if i["module"] in ("broken", "example")]
    assert [(i["module"], i["label"], i["href"]) for i in body["items"]] == [
        ("broken", "Test", "/test/"), ("example", "Mes notes", "/notes/")]
    assert body["items"][1]["text"] == "Vos notes personnelles."
    # (the real modules' back-office entries, e.g. unlock's, are left aside)
    agent = agent_client(stack, inst=inst)
    body = agent.get("/api/v1/nav").json()
    assert body["menu"] == "backoffice"
    assert [i for i in body["items"] if i["module"] in ("broken", "example")] == []
    sup = agent_client(stack, "supervisor", inst=inst)
    items = [i for i in sup.get("/api/v1/nav").json()["items"]
             if i["module"] in ("broken", "example")]
    assert [(i["module"], i["href"]) for i in items] == [("example", "/backoffice/notes/")]
    partial = client_of(stack, inst)
    partial.test_login(kind="member", id=stack.new_member().id, level="partial")
    assert partial.get("/api/v1/nav").status_code == 401


def test_dashboard(stack, example_table):
    inst = platform(stack, broken(0), dict(EXAMPLE))
    assert client_of(stack, inst).get("/api/v1/dashboard").status_code == 401
    member = member_client(stack, inst=inst)
    member.post("/api/v1/example/notes", json={"text": "une"})
    member.post("/api/v1/example/notes", json={"text": "deux"})
    r = member.get("/api/v1/dashboard")
    assert r.status_code == 200, r.text
    # (the real modules' cards, e.g. reimbursements', are left aside)
    cards = [c for c in r.json()["cards"] if c["module"] in ("broken", "example")]
    assert [c["module"] for c in cards] == ["broken", "example"]  # config order
    assert cards[1] == {"module": "example", "title": "Mes notes", "text": "2 notes.",
                        "href": "/notes/", "count": 2}
    assert agent_client(stack, inst=inst).get("/api/v1/dashboard").status_code == 403


def test_a_failing_summary_gives_a_card_in_error(stack, example_table):
    inst = platform(stack, broken(0, fail=True), dict(EXAMPLE))
    r = member_client(stack, inst=inst).get("/api/v1/dashboard")
    assert r.status_code == 200, r.text
    cards = [c for c in r.json()["cards"] if c["module"] in ("broken", "example")]
    assert cards[0] == {"module": "broken", "error": "Information momentanément indisponible"}
    assert cards[1]["module"] == "example" and "error" not in cards[1]
    assert any("module broken: summary failed" in rec.get("msg", "")
               for rec in inst.log_records()), inst.log_records()


# ---- exports ----------------------------------------------------------------------------------


def header_functions():
    headers = sorted((REPO / "core" / "include" / "portail").glob("*.h"))
    src = "".join('#include "portail/%s"\n' % h.name for h in headers)
    out = subprocess.run(["cc", "-E", "-I", str(REPO / "core" / "include"), "-D_GNU_SOURCE", "-"],
                         input=src, capture_output=True, text=True, check=True).stdout
    keep, cur = [], None
    for line in out.split("\n"):
        m = re.match(r'# \d+ "([^"]+)"', line)
        if m:
            cur = m.group(1)
        elif cur and "/include/portail/" in cur:
            keep.append(line)
    return set(re.findall(r"\b(portail_\w+)\s*\(", "\n".join(keep)))


def exported(binary):
    out = subprocess.run(["nm", "-D", "--defined-only", str(binary)], capture_output=True,
                         text=True, check=True).stdout
    return {l.split()[-1] for l in out.splitlines() if l.split()[-1].startswith("portail_")}


def test_exports_are_exactly_the_public_functions():
    declared = header_functions()
    assert "portail_member_row" in declared and "portail_req_param_i64" in declared
    listed = set(re.findall(r"^\s*(portail_\w+);", (REPO / "core" / "portail.dynlist").read_text(),
                            re.M))
    assert listed == declared
    for binary in (portaild_bin(), BUILD / "portailctl"):
        names = exported(binary)
        assert names == declared, (sorted(names - declared), sorted(declared - names))
        assert "portail_pool_acquire" not in names and "portail_logf" not in names


# ---- the example's job and hook -------------------------------------------------------------


def test_example_job_runs_after_the_note_commits(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    m = stack.new_member()
    c = member_client(stack, m, inst=inst)
    assert c.post("/api/v1/example/notes", json={"text": "Première"}).status_code == 201
    assert c.post("/api/v1/example/notes", json={"text": "Deuxième"}).status_code == 201
    deadline = time.monotonic() + 20
    counts = []
    while time.monotonic() < deadline:
        counts = stack.sql("SELECT notes FROM example_note_counts WHERE member_id = %d" % m.id)
        if counts == [["2"]]:
            break
        time.sleep(0.2)
    assert counts == [["2"]]
    assert stack.sql("SELECT state, COUNT(*) FROM jobs WHERE kind = 'example.recount' "
                     "AND JSON_EXTRACT(payload, '$.member') = %d GROUP BY state" % m.id) == [
        ["done", "2"]]


def test_example_hook_runs_in_the_locking_transaction(stack, example_table):
    inst = platform(stack, dict(EXAMPLE))
    m = stack.new_member()
    sup = agent_client(stack, "supervisor", inst=inst)
    r = sup.post("/api/v1/backoffice/members/%d/lock" % m.id,
                 json={"reason": "Vérification demandée par le service fraude"})
    assert r.status_code == 200, r.text
    assert stack.sql("SELECT reason FROM example_lock_trace WHERE member_id = %d" % m.id) == [
        ["agent"]]


def test_seed_runs_each_enabled_modules_seed_file_once(stack, example_table):
    path = stack.write_config({"modules": base_modules(stack) + [dict(EXAMPLE)]})
    m = stack.new_member()
    for _ in range(2):
        r = subprocess.run([str(BUILD / "portailctl"), "--config", str(path), "seed",
                            "--count", "3"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=120)
        assert r.returncode == 0 and "example: seeded" in r.stdout, r.stdout
    assert stack.sql("SELECT COUNT(*) FROM example_notes WHERE member_id = %d" % m.id) == [["1"]]
