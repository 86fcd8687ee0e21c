"""Module messaging (modules/messaging/messaging.c) against the real stack:
recipients, a new thread with attachments through the core documents
service, replies, lists by box with the unread count and search, read
receipts both ways, the 404 on another member's thread and attachment, rate
limits, closed threads, and the agents' audited inbox with the member's
notification and its mail (no subject or body in it)."""

import pytest

from conftest import agent_client, fresh_ip, member_client, png
from hostcheck import assert_problem

API = "/api/v1/messages"
BO = "/api/v1/backoffice/messaging"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def send(c, recipient="REMB", subject="Ma question", body="Bonjour", files=None):
    data = {"recipient": recipient, "subject": subject, "body": body}
    if files:
        return c.post(API, data=data, files=files)
    return c.post(API, files={k: (None, v) for k, v in data.items()})


def reply(c, thread, body, files=None):
    parts = {"body": (None, body)}
    if files:
        return c.post("%s/%d/reply" % (API, thread), data={"body": body}, files=files)
    return c.post("%s/%d/reply" % (API, thread), files=parts)


@pytest.fixture
def member(stack):
    return member_client(stack)


TEAMS = ("remboursements", "cartes", "indemnites", "situation", "reclamations")


def team_agent(stack, teams=TEAMS):
    """An agent in the given teams (messaging_agent_teams)."""
    c = agent_client(stack)
    for team in teams:
        stack.sql("INSERT INTO messaging_agent_teams (agent_id, team) VALUES (%d, '%s')"
                  % (c.agent.id, team))
    return c


@pytest.fixture
def agent(stack):
    return team_agent(stack)


def test_recipients_from_config(member):
    r = member.get(API + "/recipients")
    assert r.status_code == 200, r.text
    codes = {x["code"]: x for x in r.json()["recipients"]}
    assert codes["REMB"]["label"] == "Mes remboursements"
    assert codes["VITALE"]["open"] is True
    assert "team" not in codes["REMB"]


def test_new_thread_with_attachments_and_download(member, stack):
    r = send(member, subject="Feuille de soins", body="Voici <b>ma</b> feuille\nMerci",
             files=[("fichier", ("scan.pdf", PDF, "application/pdf")),
                    ("fichier", ("photo.png", png(), "image/png"))])
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["status"] == "open" and len(t["attachments"]) == 2
    r = member.get("%s/%d" % (API, t["id"]))
    assert r.status_code == 200, r.text
    th = r.json()
    assert th["subject"] == "Feuille de soins"
    assert th["service_label"] == "Mes remboursements"
    msg = th["messages"][0]
    assert msg["body"] == "Voici <b>ma</b> feuille\nMerci"  # stored as written
    assert msg["author"] == "member" and msg["read_at"] is None
    names = sorted(a["name"] for a in msg["attachments"])
    assert names == ["photo.png", "scan.pdf"]
    doc = [a for a in msg["attachments"] if a["name"] == "scan.pdf"][0]
    r = member.get("%s/%d/attachments/%d" % (API, t["id"], doc["id"]))
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["Content-Type"].startswith("application/pdf")


def test_validation(member):
    r = send(member, recipient="NOPE", subject="", body="x" * 10001)
    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"recipient", "subject", "body"}
    r = send(member, subject="é" * 200, body="é" * 10000)
    assert r.status_code == 201, r.text
    r = send(member, subject="é" * 201)
    assert_problem(r, 422)


def test_bad_attachments(member):
    r = send(member, files=[("f", ("x.pdf", b"MZ not a pdf at all, an exe", "application/pdf"))])
    assert_problem(r, 422)
    r = send(member, files=[("f", ("%d.pdf" % i, PDF, "application/pdf")) for i in range(6)])
    assert_problem(r, 422)
    assert member.get(API).json()["threads"] == []


def test_attachment_limit_in_the_singular_at_one(stack, member):
    r = send(member, files=[("f%d" % i, ("%d.pdf" % i, PDF, "application/pdf")) for i in range(6)])
    assert r.json()["errors"] == [{"field": "pieces_jointes", "message": "Joignez au plus 5 fichiers à un message."}]
    mods = [dict(m) for m in stack.config["modules"]]
    for m in mods:
        if m["name"] == "messaging":
            m["settings"] = dict(m.get("settings") or {}, max_files=1)
    inst = stack.start_portaild({"modules": mods})
    c = member_client(stack, inst=inst)
    r = send(c, files=[("f%d" % i, ("%d.pdf" % i, PDF, "application/pdf")) for i in range(2)])
    assert_problem(r, 422)
    assert r.json()["errors"] == [{"field": "pieces_jointes", "message": "Joignez au plus 1 fichier à un message."}]


def test_other_member_gets_404(stack, member):
    t = send(member, files=[("f", ("a.pdf", PDF, "application/pdf"))]).json()
    doc = t["attachments"][0]["id"]
    other = member_client(stack)
    assert_problem(other.get("%s/%d" % (API, t["id"])), 404)
    assert_problem(reply(other, t["id"], "intrus"), 404)
    assert_problem(other.post("%s/%d/archive" % (API, t["id"])), 404)
    assert_problem(other.get("%s/%d/attachments/%d" % (API, t["id"], doc)), 404)
    # Own thread, but a document of another thread: 404 as well.
    t2 = send(other).json()
    assert_problem(other.get("%s/%d/attachments/%d" % (API, t2["id"], doc)), 404)
    assert other.get(API).json()["threads"][0]["id"] == t2["id"]


def test_list_boxes_search_and_pagination(member):
    ids = [send(member, subject="Sujet %d" % i, body="corps numéro %d" % i).json()["id"]
           for i in range(3)]
    send(member, subject="Autre", body="contient 100%_ motclé")
    r = member.get(API, params={"limit": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert len(page["threads"]) == 2 and page["next_cursor"]
    r2 = member.get(API, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [t["id"] for t in r2["threads"]] == [ids[1], ids[0]]
    assert [t["subject"] for t in member.get(API, params={"q": "numéro 2"}).json()["threads"]] \
        == ["Sujet 2"]
    assert len(member.get(API, params={"q": "100%_"}).json()["threads"]) == 1
    assert member.get(API, params={"q": "%"}).json()["threads"][0]["subject"] == "Autre"
    assert member.post("%s/%d/archive" % (API, ids[0])).status_code == 204
    arch = member.get(API, params={"box": "archived"}).json()["threads"]
    assert [t["id"] for t in arch] == [ids[0]]
    assert ids[0] not in [t["id"] for t in member.get(API).json()["threads"]]
    assert len(member.get(API, params={"box": "sent"}).json()["threads"]) == 3
    assert_problem(member.get(API, params={"box": "spam"}), 400)


def test_agent_answers_notifies_and_receipts(stack, member, agent):
    stack.sql("UPDATE members SET email = 'msg-%d@example.fr' WHERE id = %d"
              % (member.member.id, member.member.id))
    t = send(member, recipient="VITALE", subject="Sujet très privé",
             body="Corps très privé", files=[("f", ("a.pdf", PDF, "application/pdf"))]).json()
    r = agent.get(BO + "/threads", params={"service": "VITALE", "filter": "unassigned"})
    assert r.status_code == 200, r.text
    assert t["id"] in [x["id"] for x in r.json()["threads"]]
    r = agent.get("%s/threads/%d" % (BO, t["id"]))
    assert r.status_code == 200, r.text
    assert r.json()["messages"][0]["body"] == "Corps très privé"
    # The agent's reading is the member's read receipt.
    mine = member.get("%s/%d" % (API, t["id"])).json()
    assert mine["messages"][0]["read_at"] is not None
    doc = t["attachments"][0]["id"]
    r = agent.get("%s/threads/%d/attachments/%d" % (BO, t["id"], doc))
    assert r.status_code == 200 and r.content == PDF
    assert agent.post("%s/threads/%d/take" % (BO, t["id"])).status_code == 200
    mine_ids = [x["id"] for x in agent.get(BO + "/threads", params={"filter": "mine"})
                .json()["threads"]]
    assert mine_ids == [t["id"]]
    stack.clear_mails()
    r = agent.post("%s/threads/%d/reply" % (BO, t["id"]), json={"body": "Voici la réponse"})
    assert r.status_code == 201, r.text
    lst = member.get(API).json()
    assert lst["unread"] == 1 and lst["threads"][0]["unread"] == 1
    assert lst["threads"][0]["status"] == "answered"
    n = stack.sql("SELECT kind, link FROM notifications WHERE member_id = %d" % member.member.id)
    assert n and n[0][0] == "messaging.reply" and n[0][1] == "/messaging/thread.html?id=%d" % t["id"]
    mail = stack.wait_for_mail(lambda m: "msg-%d@" % member.member.id in m["to"])
    assert "privé" not in mail["subject"] + mail["body"]
    assert "Voici la réponse" not in mail["body"]
    # The member opens it: read, and the agent sees the receipt.
    th = member.get("%s/%d" % (API, t["id"])).json()
    assert th["messages"][1]["author"] == "agent"
    assert member.get(API).json()["unread"] == 0
    th = agent.get("%s/threads/%d" % (BO, t["id"])).json()
    assert th["messages"][1]["read_at"] is not None
    # Audit rows written by the core, naming the member.
    acts = {row[0] for row in stack.sql(
        "SELECT action FROM audit_log WHERE agent_id = %d AND member_id = %d"
        % (agent.agent.id, member.member.id))}
    assert {"messaging.thread.read", "messaging.thread.take", "messaging.thread.reply",
            "messaging.attachment.read"} <= acts
    # Closed: no reply from either side.
    assert agent.post("%s/threads/%d/close" % (BO, t["id"])).status_code == 200
    assert_problem(reply(member, t["id"], "encore"), 409)
    assert_problem(agent.post("%s/threads/%d/reply" % (BO, t["id"]), json={"body": "x"}), 409)


def test_member_reply(member):
    t = send(member).json()
    r = reply(member, t["id"], "Complément", files=[("f", ("b.pdf", PDF, "application/pdf"))])
    assert r.status_code == 201, r.text
    th = member.get("%s/%d" % (API, t["id"])).json()
    assert [m["body"] for m in th["messages"]] == ["Bonjour", "Complément"]
    assert len(th["messages"][1]["attachments"]) == 1


def test_agent_routes_need_agent(member, stack):
    assert member.get(BO + "/threads").status_code in (401, 403, 404)
    anon = stack.client(xff=fresh_ip())
    assert anon.get(API).status_code in (401, 403)


def test_summary_card(member):
    r = member.get("/api/v1/dashboard")
    if r.status_code == 404:
        pytest.skip("no dashboard route")
    assert "Ma messagerie" in r.text


def test_rate_limit(stack, member):
    stack.sql("INSERT INTO messaging_threads (member_id, service, subject) VALUES (%d, 'REMB', 's')"
              % member.member.id)
    stack.sql("INSERT INTO messaging_messages (thread_id, member_id, author, body) "
              "SELECT id, member_id, 'member', 'x' FROM messaging_threads, "
              "(SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL "
              "SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL "
              "SELECT 9 UNION ALL SELECT 10) n WHERE member_id = %d" % member.member.id)
    r = send(member)
    assert_problem(r, 429)
    assert r.headers.get("Retry-After")


def test_zz_seed_is_idempotent(stack):
    """Last in the file: seeding gives every member without threads three."""
    m = stack.new_member()
    for _ in range(2):
        r = stack.portailctl("seed", "--count", "3")
        assert r.returncode == 0, (r.stdout, r.stderr)
    rows = stack.sql("SELECT t.status, (SELECT COUNT(*) FROM messaging_messages x WHERE "
                     "x.thread_id = t.id AND x.author = 'agent' AND x.read_at IS NULL) "
                     "FROM messaging_threads t WHERE t.member_id = %d ORDER BY t.id" % m.id)
    assert rows == [["answered", "1"], ["answered", "0"], ["open", "0"]]


def test_reassign_overdue_backlog_and_canned(stack, member, agent):
    t = send(member, recipient="REMB", subject="Mauvais service").json()
    # Past the 48 h target of REMB.
    stack.sql("UPDATE messaging_threads SET last_activity_at = UTC_TIMESTAMP() - INTERVAL 50 HOUR "
              "WHERE id = %d" % t["id"])
    r = agent.get(BO + "/threads", params={"service": "REMB", "older_than_hours": 49})
    assert r.status_code == 200, r.text
    row = [x for x in r.json()["threads"] if x["id"] == t["id"]][0]
    assert row["overdue"] is True and row["waiting_fund"] is True
    remb = [s for s in r.json()["services"] if s["code"] == "REMB"][0]
    assert remb["target_hours"] == 48 and remb["canned_answers"]
    assert "\n" in remb["canned_answers"][0]
    assert t["id"] not in [x["id"] for x in agent.get(
        BO + "/threads", params={"service": "REMB", "older_than_hours": 51}).json()["threads"]]

    # The backlog is the supervisors'.
    assert agent.get(BO + "/backlog").status_code == 403
    sup = agent_client(stack, role="supervisor")
    r = sup.get(BO + "/backlog")
    assert r.status_code == 200, r.text
    b = {s["service"]: s for s in r.json()["services"]}
    assert b["REMB"]["overdue"] >= 1 and b["REMB"]["waiting"] >= 1
    assert b["REMB"]["oldest_id"] is not None

    assert_problem(agent.post("%s/threads/%d/reassign" % (BO, t["id"]),
                              json={"service": "NOPE", "reason": "x"}), 422)
    reason = "Relève du service des cartes Vitale"
    r = agent.post("%s/threads/%d/reassign" % (BO, t["id"]),
                   json={"service": "VITALE", "reason": reason})
    assert r.status_code == 200, r.text
    assert member.get("%s/%d" % (API, t["id"])).json()["service"] == "VITALE"
    rows = stack.sql("SELECT reason FROM audit_log WHERE agent_id = %d AND "
                     "action = 'messaging.thread.reassign'" % agent.agent.id)
    assert rows == [[reason]]
    assert_problem(agent.get("%s/threads/999999999" % BO), 404)


def test_daily_report_to_supervisors(stack, member):
    t = send(member, recipient="IJ", subject="Indemnités en retard").json()
    stack.sql("UPDATE messaging_threads SET last_activity_at = UTC_TIMESTAMP() - INTERVAL 3 DAY "
              "WHERE id = %d" % t["id"])
    sup = stack.new_agent(role="supervisor")
    email = "superviseur-%d@caisse.example" % sup.id
    stack.sql("UPDATE agents SET email = '%s' WHERE id = %d" % (email, sup.id))
    queued = stack.sql("SELECT id FROM jobs WHERE kind = 'messaging.report' AND state = 'queued'")
    assert len(queued) == 1
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE id = %s" % queued[0][0])
    mail = stack.wait_for_mail(lambda m: email in m["to"], timeout=30)
    assert "en retard" in mail["subject"]
    assert "Mes indemnités journalières\u00a0: " in mail["body"]
    assert "Indemnités en retard" not in mail["body"]  # no subject of a member's thread
    # Issue 15: as every mail, greeted by name, the warning, an HTML part.
    assert mail["body"].startswith("Bonjour Agent de test,\n"), mail["body"]
    assert "ne vous demandera jamais votre mot de passe ni un code" in mail["body"]
    assert "Mes indemnités journalières" in mail["html"]
    rows = stack.sql("SELECT TIMESTAMPDIFF(HOUR, UTC_TIMESTAMP(), run_at) FROM jobs "
                     "WHERE kind = 'messaging.report' AND state = 'queued'")
    assert len(rows) == 1 and int(rows[0][0]) >= 23


def test_agent_reply_with_attachments(stack, member, agent):
    """An agent's files become the member's documents: the member downloads
    them, another member gets a 404; type by content, count and size checked."""
    t = send(member, recipient="REMB").json()
    url = "%s/threads/%d/reply" % (BO, t["id"])
    # Type judged by content, not by name.
    r = agent.post(url, data={"body": "Voici"},
                   files=[("f", ("x.pdf", b"MZ not a pdf at all", "application/pdf"))])
    assert_problem(r, 422)
    # Count above the module's limit.
    r = agent.post(url, data={"body": "Voici"},
                   files=[("f", ("%d.pdf" % i, PDF, "application/pdf")) for i in range(6)])
    assert_problem(r, 422)
    # Size above the module's limit (5 MiB by default).
    big = PDF + b"0" * (5 * 1024 * 1024)
    r = agent.post(url, data={"body": "Voici"}, files=[("f", ("big.pdf", big, "application/pdf"))])
    assert r.status_code in (413, 422), r.text
    assert len(member.get("%s/%d" % (API, t["id"])).json()["messages"]) == 1
    r = agent.post(url, data={"body": "Voici le relevé"},
                   files=[("f", ("releve.pdf", PDF, "application/pdf")),
                          ("g", ("photo.png", png(), "image/png"))])
    assert r.status_code == 201, r.text
    docs = r.json()["attachments"]
    assert sorted(d["type"] for d in docs) == ["pdf", "png"]
    owners = stack.sql("SELECT DISTINCT member_id FROM documents WHERE id IN (%s)"
                       % ",".join(str(d["id"]) for d in docs))
    assert [int(o[0]) for o in owners] == [member.member.id]
    th = member.get("%s/%d" % (API, t["id"])).json()
    msg = th["messages"][1]
    assert msg["author"] == "agent" and len(msg["attachments"]) == 2
    pdf = [d for d in docs if d["name"] == "releve.pdf"][0]
    r = member.get("%s/%d/attachments/%d" % (API, t["id"], pdf["id"]))
    assert r.status_code == 200 and r.content == PDF
    other = member_client(stack)
    assert_problem(other.get("%s/%d/attachments/%d" % (API, t["id"], pdf["id"])), 404)
    acts = {row[0] for row in stack.sql(
        "SELECT action FROM audit_log WHERE agent_id = %d AND member_id = %d"
        % (agent.agent.id, member.member.id))}
    assert "messaging.thread.reply" in acts


def test_agent_teams(stack, member):
    """An agent sees and acts only on the threads of their teams' services;
    a supervisor sees all."""
    remb = send(member, recipient="REMB", subject="Pour les remboursements",
                files=[("f", ("a.pdf", PDF, "application/pdf"))]).json()
    vit = send(member, recipient="VITALE", subject="Pour les cartes").json()
    cartes = team_agent(stack, ("cartes",))
    r = cartes.get(BO + "/threads")
    assert r.status_code == 200, r.text
    ids = [x["id"] for x in r.json()["threads"]]
    assert vit["id"] in ids and remb["id"] not in ids
    assert cartes.get(BO + "/threads", params={"service": "REMB"}).json()["threads"] == []
    mine = {s["code"]: s["mine"] for s in r.json()["services"]}
    assert mine["VITALE"] is True and mine["REMB"] is False
    # Another team's thread: 404 on every route.
    doc = remb["attachments"][0]["id"]
    assert_problem(cartes.get("%s/threads/%d" % (BO, remb["id"])), 404)
    assert_problem(cartes.post("%s/threads/%d/take" % (BO, remb["id"])), 404)
    assert_problem(cartes.post("%s/threads/%d/reply" % (BO, remb["id"]), json={"body": "x"}), 404)
    assert_problem(cartes.post("%s/threads/%d/close" % (BO, remb["id"])), 404)
    assert_problem(cartes.post("%s/threads/%d/reassign" % (BO, remb["id"]),
                               json={"service": "VITALE", "reason": "Pas pour nous"}), 404)
    assert_problem(cartes.get("%s/threads/%d/attachments/%d" % (BO, remb["id"], doc)), 404)
    assert cartes.post("%s/threads/%d/reply" % (BO, vit["id"]),
                       json={"body": "Réponse"}).status_code == 201
    # No team: nothing.
    none = team_agent(stack, ())
    assert none.get(BO + "/threads").json()["threads"] == []
    assert_problem(none.get("%s/threads/%d" % (BO, vit["id"])), 404)
    # A supervisor sees every service.
    sup = agent_client(stack, role="supervisor")
    ids = [x["id"] for x in sup.get(BO + "/threads", params={"limit": 50}).json()["threads"]]
    assert remb["id"] in ids and vit["id"] in ids
    assert sup.get("%s/threads/%d" % (BO, remb["id"])).status_code == 200
    # Reassigned to VITALE, the thread moves to the cartes team.
    r = sup.post("%s/threads/%d/reassign" % (BO, remb["id"]),
                 json={"service": "VITALE", "reason": "Relève des cartes"})
    assert r.status_code == 200, r.text
    assert cartes.get("%s/threads/%d" % (BO, remb["id"])).status_code == 200


def test_nav_badge_counts_unread_answers(stack, member, agent):
    """GET /api/v1/portal: the "Ma messagerie" entry carries the unread
    answers as `badge` (from the summary card), gone once read."""
    def entry():
        r = member.get("/api/v1/portal")
        assert r.status_code == 200, r.text
        return [i for i in r.json()["items"] if i["module"] == "messaging"][0]
    t = send(member).json()
    assert entry()["label"] == "Ma messagerie" and "badge" not in entry()
    for body in ("Première réponse", "Seconde réponse"):
        r = agent.post("%s/threads/%d/reply" % (BO, t["id"]), json={"body": body})
        assert r.status_code == 201, r.text
    assert entry()["badge"] == 2
    assert member.get("%s/%d" % (API, t["id"])).status_code == 200
    assert "badge" not in entry()


def test_texts_counted_in_characters_on_every_path(member, agent):
    """The agent's JSON answer is checked like the forms (blanks refused,
    10000 characters, not bytes); the member's search is bounded in
    characters too."""
    t = send(member).json()
    url = "%s/threads/%d/reply" % (BO, t["id"])
    assert_problem(agent.post(url, json={"body": " \n\t "}), 422)
    assert_problem(agent.post(url, data={"body": " \r\n "}), 422)
    assert_problem(agent.post(url, json={"body": 12}), 422)
    assert_problem(agent.post(url, json={"body": "é" * 10001}), 422)
    assert agent.post(url, json={"body": "é" * 10000}).status_code == 201
    assert agent.post(url, data={"body": "é" * 10000}).status_code == 201
    # A form sends a textarea's line breaks as CRLF: one character each, as
    # the browser counted them.
    lines = "é\r\n" * 5000
    assert send(member, body=lines).status_code == 201
    assert_problem(send(member, body=lines + "é"), 422)
    assert agent.post(url, data={"body": lines}).status_code == 201
    assert member.get(API, params={"q": "é" * 100}).status_code == 200
    assert_problem(member.get(API, params={"q": "é" * 101}), 400)


def test_replies_move_the_thread(stack, member, agent):
    """One UPDATE per reply moves the thread: out of the archive, answered
    and taken by the first agent who answers, open again after the member."""
    t = send(member).json()
    state = "SELECT status, archived, agent_id, last_author FROM messaging_threads WHERE id = %d" \
        % t["id"]
    url = "%s/threads/%d/reply" % (BO, t["id"])
    assert member.post("%s/%d/archive" % (API, t["id"])).status_code == 204
    assert agent.post(url, json={"body": "Réponse"}).status_code == 201
    assert stack.sql(state) == [["answered", "0", str(agent.agent.id), "agent"]]
    assert t["id"] in [x["id"] for x in member.get(API).json()["threads"]]
    assert member.post("%s/%d/archive" % (API, t["id"])).status_code == 204
    assert reply(member, t["id"], "Merci").status_code == 201
    assert stack.sql(state) == [["open", "0", str(agent.agent.id), "member"]]
    other = team_agent(stack)
    assert other.post(url, json={"body": "Complément"}).status_code == 201
    assert stack.sql(state) == [["answered", "0", str(agent.agent.id), "agent"]]


def test_unread_per_thread(member, agent):
    """The list's unread count per thread (one aggregate joined to the
    threads) and the total."""
    a = send(member, subject="A").json()
    b = send(member, subject="B").json()
    for body in ("Un", "Deux"):
        assert agent.post("%s/threads/%d/reply" % (BO, a["id"]), json={"body": body}).status_code \
            == 201
    lst = member.get(API).json()
    unread = {x["id"]: x["unread"] for x in lst["threads"]}
    assert unread == {a["id"]: 2, b["id"]: 0} and lst["unread"] == 2
    # The total is the member's, whatever the page shows: a box without the
    # answered thread, a page after it, and a search that finds nothing.
    for query in ("?box=sent", "?limit=1&cursor=%d" % lst["threads"][0]["last_message_id"],
                  "?q=introuvable"):
        page = member.get(API + query).json()
        assert a["id"] not in [x["id"] for x in page["threads"]] and page["unread"] == 2, \
            (query, page)
    assert member.get("%s/%d" % (API, a["id"])).status_code == 200
    assert {x["id"]: x["unread"] for x in member.get(API).json()["threads"]} \
        == {a["id"]: 0, b["id"]: 0}


def test_supervisor_keeps_the_teams(stack, member):
    """Issue 13: a supervisor (messaging.supervise) adds an agent to a team
    and removes them, each audited with the team and the agent named; an
    agent without the permission gets a 403."""
    sup = agent_client(stack, role="supervisor")
    plain = team_agent(stack, ())
    login = plain.agent.login
    t = send(member, recipient="VITALE").json()
    thread = "%s/threads/%d" % (BO, t["id"])
    one = "%s/teams/cartes/agents/%d" % (BO, plain.agent.id)
    assert_problem(plain.get(thread), 404)
    assert plain.get(BO + "/teams").status_code == 403
    assert plain.post(BO + "/teams/cartes/agents", json={"login": login}).status_code == 403
    assert plain.delete(one).status_code == 403

    r = sup.post(BO + "/teams/cartes/agents", json={"login": login})
    assert r.status_code == 201, r.text
    assert r.json()["id"] == plain.agent.id
    assert plain.get(thread).status_code == 200
    assert_problem(sup.post(BO + "/teams/cartes/agents", json={"login": login}), 409)
    assert_problem(sup.post(BO + "/teams/nope/agents", json={"login": login}), 404)
    assert_problem(sup.post(BO + "/teams/cartes/agents", json={"login": "personne-inconnue"}), 422)
    assert_problem(sup.post(BO + "/teams/cartes/agents", json={"login": "x" * 65}), 422)
    gone = stack.new_agent()
    stack.sql("UPDATE agents SET disabled_at = UTC_TIMESTAMP() WHERE id = %d" % gone.id)
    assert_problem(sup.post(BO + "/teams/cartes/agents", json={"login": gone.login}), 422)

    r = sup.get(BO + "/teams")
    assert r.status_code == 200, r.text
    teams = {x["team"]: x for x in r.json()["teams"]}
    assert list(teams) == list(TEAMS)
    assert teams["cartes"]["services"] == ["Ma carte Vitale"]
    assert login in [a["login"] for a in teams["cartes"]["agents"]]
    assert login not in [a["login"] for a in teams["remboursements"]["agents"]]

    assert sup.delete(one).status_code == 204
    assert_problem(plain.get(thread), 404)
    assert_problem(sup.delete(one), 404)
    assert_problem(sup.delete("%s/teams/nope/agents/%d" % (BO, plain.agent.id)), 404)
    rows = stack.sql("SELECT action, reason, member_id FROM audit_log WHERE agent_id = %d "
                     "AND action LIKE 'messaging.team%%' ORDER BY id" % sup.agent.id)
    assert rows == [
        ["messaging.team.add", "Équipe cartes\u00a0: ajout de l’agent %s (n° %d)"
         % (login, plain.agent.id), None],
        ["messaging.teams.read", "", None],
        ["messaging.team.remove", "Équipe cartes\u00a0: retrait de l’agent %s (n° %d)"
         % (login, plain.agent.id), None],
    ]


def test_services_setting_checked_at_start(stack):
    """The services are parsed once, at start: a malformed entry or target
    stops portaild with the setting named."""
    for bad in ("REMB|Mes remboursements|remboursements|open|48h",
                "REMB|Mes remboursements|remboursements|open|0",
                "REMB|Mes remboursements|remboursements|ouvert",
                "REMB,X|Mes remboursements|remboursements|open"):
        mods = [dict(m) for m in stack.config["modules"]]
        for m in mods:
            if m["name"] == "messaging":
                m["settings"] = dict(m.get("settings") or {}, services=bad)
        rc, err = stack.run_portaild_expect_fail({"modules": mods})
        assert rc != 0 and "messaging: services" in err, (bad, rc, err)
