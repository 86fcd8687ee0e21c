"""Notifications of members (core/notify.c) through tests/modules/pdfmod:
portail_notify in the module's transaction, the announcing mail without
detail, the member's routes scoped to the member, preferences per kind."""
import time

import pytest

from conftest import client_of, forced_deadlock, member_client, pdfmod_instance


@pytest.fixture
def inst(stack):
    return pdfmod_instance(stack)


def notify(c, kind="pdfmod.document", title="Nouveau relevé",
           text="Votre relevé de soins du mois est disponible.", link="/documents/", **kw):
    body = {"kind": kind, "title": title, "text": text, "link": link}
    body.update(kw)
    return c.post("/api/v1/test/pdfmod/notify", json=body)


def mails_to(stack, email):
    return [m for m in stack.mails() if email in m["to"]]


def test_notify_lists_and_mails_without_detail(stack, inst):
    c = member_client(stack, inst=inst)
    assert notify(c).status_code == 201
    r = c.get("/api/v1/notifications")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unread"] == 1 and body["next_cursor"] is None
    (item,) = body["items"]
    assert item["kind"] == "pdfmod.document" and item["title"] == "Nouveau relevé"
    assert item["text"] == "Votre relevé de soins du mois est disponible."
    assert item["link"] == "/documents/" and item["read"] is False and item["read_at"] is None
    assert item["created"].endswith("Z")
    m = stack.wait_for_mail(lambda m: c.member.email in m["to"])
    assert "nouvelle notification sur votre compte" in m["body"]
    assert inst.origin + "/documents/" in m["body"]
    assert "relevé" not in m["body"].lower() and "Nouveau relevé" not in m["subject"]


def test_rolled_back_notification_leaves_nothing(stack, inst):
    c = member_client(stack, inst=inst)
    assert notify(c, rollback=True).json() == {"rolled_back": True}
    assert c.get("/api/v1/notifications").json()["unread"] == 0
    time.sleep(1.0)
    assert mails_to(stack, c.member.email) == []


def test_undeclared_kind_and_absolute_link_are_refused(stack, inst):
    c = member_client(stack, inst=inst)
    assert notify(c, kind="pdfmod.unknown").status_code == 422
    assert notify(c, link="https://evil.example/").status_code == 422
    assert notify(c, link="//evil.example/").status_code == 422
    assert c.get("/api/v1/notifications").json()["items"] == []


def test_pages_unread_filter_and_marking(stack, inst):
    c = member_client(stack, inst=inst)
    for i in range(5):
        assert notify(c, title="Notification %d" % i).status_code == 201
    r = c.get("/api/v1/notifications", params={"limit": 2}).json()
    assert [i["title"] for i in r["items"]] == ["Notification 4", "Notification 3"]
    assert r["unread"] == 5
    r2 = c.get("/api/v1/notifications", params={"limit": 2, "cursor": r["next_cursor"]}).json()
    assert [i["title"] for i in r2["items"]] == ["Notification 2", "Notification 1"]
    r3 = c.get("/api/v1/notifications", params={"limit": 2, "cursor": r2["next_cursor"]}).json()
    assert [i["title"] for i in r3["items"]] == ["Notification 0"] and r3["next_cursor"] is None
    first = r["items"][0]["id"]
    rr = c.post("/api/v1/notifications/%d/read" % first)
    assert rr.status_code == 200 and rr.json() == {"unread": 4}
    # twice is fine
    assert c.post("/api/v1/notifications/%d/read" % first).json() == {"unread": 4}
    unread = c.get("/api/v1/notifications", params={"unread": 1}).json()
    assert len(unread["items"]) == 4 and first not in [i["id"] for i in unread["items"]]
    assert c.post("/api/v1/notifications/read-all").json() == {"marked": 4, "unread": 0}
    assert c.get("/api/v1/notifications", params={"unread": 1}).json()["items"] == []
    assert all(i["read"] for i in c.get("/api/v1/notifications").json()["items"])
    assert c.get("/api/v1/notifications", params={"limit": 0}).status_code == 400
    assert c.get("/api/v1/notifications", params={"limit": 101}).status_code == 400


def test_another_members_notification_is_a_404(stack, inst):
    a, b = member_client(stack, inst=inst), member_client(stack, inst=inst)
    notify(a)
    nid = a.get("/api/v1/notifications").json()["items"][0]["id"]
    assert b.post("/api/v1/notifications/%d/read" % nid).status_code == 404
    assert b.get("/api/v1/notifications").json() == {"items": [], "unread": 0, "next_cursor": None}
    b.post("/api/v1/notifications/read-all")
    assert a.get("/api/v1/notifications").json()["unread"] == 1
    assert a.post("/api/v1/notifications/99999999999/read").status_code == 404
    assert a.post("/api/v1/notifications/abc/read").status_code == 404


def test_routes_need_a_member(stack, inst):
    anon = client_of(stack, inst)
    assert anon.get("/api/v1/notifications").status_code == 401
    agent = client_of(stack, inst)
    agent.test_login(kind="agent", id=stack.new_agent().id, level="agent")
    assert agent.get("/api/v1/notifications").status_code == 403


def test_preferences_switch_the_mail_off_per_kind(stack, inst):
    c = member_client(stack, inst=inst)
    r = c.get("/api/v1/notifications/preferences")
    assert r.status_code == 200, r.text
    kinds = {k["kind"]: k for k in r.json()["kinds"]}
    assert kinds["pdfmod.document"] == {"kind": "pdfmod.document",
                                        "label": "Un nouveau document est disponible",
                                        "mail": True}
    assert kinds["pdfmod.message"]["mail"] is True
    r = c.put("/api/v1/notifications/preferences",
              json={"kinds": [{"kind": "pdfmod.document", "mail": False}]})
    assert r.status_code == 200, r.text
    kinds = {k["kind"]: k["mail"] for k in r.json()["kinds"]}
    assert kinds["pdfmod.document"] is False and kinds["pdfmod.message"] is True
    assert c.put("/api/v1/notifications/preferences",
                 json={"kinds": [{"kind": "nope.nope", "mail": False}]}).status_code == 422
    assert c.put("/api/v1/notifications/preferences",
                 json={"kinds": [{"kind": "pdfmod.message", "mail": "non"}]}).status_code == 422
    assert notify(c, kind="pdfmod.document").status_code == 201
    assert notify(c, kind="pdfmod.message", title="Réponse").status_code == 201
    stack.wait_for_mail(lambda m: c.member.email in m["to"])
    time.sleep(1.0)
    assert len(mails_to(stack, c.member.email)) == 1  # the message kind only
    # both are in the list
    assert c.get("/api/v1/notifications").json()["unread"] == 2
    # another member still gets mails for that kind
    d = member_client(stack, inst=inst)
    assert {k["kind"]: k["mail"] for k in
            d.get("/api/v1/notifications/preferences").json()["kinds"]}["pdfmod.document"] is True


def test_preferences_are_rerun_after_a_deadlock(stack, inst):
    """Two kinds in one PUT, a 1213 forced on the second row (as a Galera
    certification conflict would): the whole PUT is rerun, the answer is
    the 200 of a PUT without the conflict and each kind is written once."""
    c = member_client(stack, inst=inst)
    with forced_deadlock(stack, "notification_prefs", "INSERT",
                         "NEW.member_id = %d AND NEW.kind = 'pdfmod.message'" % c.member.id) as f:
        r = c.put("/api/v1/notifications/preferences",
                  json={"kinds": [{"kind": "pdfmod.document", "mail": False},
                                  {"kind": "pdfmod.message", "mail": False}]})
        assert r.status_code == 200, r.text
        assert f.forced() == 1
    kinds = {k["kind"]: k["mail"] for k in r.json()["kinds"]}
    assert kinds["pdfmod.document"] is False and kinds["pdfmod.message"] is False
    rows = stack.sql("SELECT kind, mail FROM notification_prefs WHERE member_id = %d "
                     "ORDER BY kind" % c.member.id)
    assert [tuple(x) for x in rows] == [("pdfmod.document", "0"), ("pdfmod.message", "0")], rows


def test_demo_member_gets_a_few_notifications_once(stack):
    # demo runs only on a database seed marked as a demo one, with its flag.
    assert stack.portailctl("seed", "--count", "20").returncode == 0
    for _ in range(2):
        r = stack.portailctl("demo", "--yes-this-is-a-demo-database")
        assert r.returncode == 0, r.stderr
    rows = stack.sql("SELECT COUNT(*), SUM(read_at IS NULL) FROM notifications n JOIN members m "
                     "ON m.id = n.member_id JOIN insured i ON i.id = m.insured_id "
                     "WHERE i.nir = '285033306300182' AND n.kind LIKE 'demo.%'")
    # Modules' jobs may notify the demo member too (coverage's carte Vitale
    # on its way): the demo's own three are counted.
    assert [int(x) for x in rows[0]] == [3, 2]
