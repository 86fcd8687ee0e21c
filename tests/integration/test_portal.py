"""GET /api/v1/portal (menus and unread count) and the time budget of the
dashboard's summaries, through tests/modules/pdfmod."""
import pytest

from conftest import agent_client, client_of, member_client, pdfmod_instance


@pytest.fixture
def inst(stack):
    return pdfmod_instance(stack)


def test_member_portal_has_the_menu_modules_and_unread_count(stack, inst):
    c = member_client(stack, inst=inst)
    r = c.get("/api/v1/portal")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["menu"] == "member" and body["unread"] == 0
    assert "pdfmod" in body["modules"] and "testmod" in body["modules"]
    mine = [i for i in body["items"] if i["module"] == "pdfmod"]
    assert mine == [{"label": "Mes documents", "href": "/documents/",
                     "text": "Vos relevés en PDF.", "module": "pdfmod"}]
    # the same items as /api/v1/nav
    assert body["items"] == c.get("/api/v1/nav").json()["items"]
    c.post("/api/v1/test/pdfmod/notify", json={"kind": "pdfmod.document", "title": "Un",
                                               "text": "", "link": "/documents/"})
    c.post("/api/v1/test/pdfmod/notify", json={"kind": "pdfmod.message", "title": "Deux",
                                               "text": ""})
    assert c.get("/api/v1/portal").json()["unread"] == 2


def test_back_office_menu_follows_the_permissions(stack, inst):
    agent = agent_client(stack, inst=inst).get("/api/v1/portal").json()
    assert agent["menu"] == "backoffice" and "unread" not in agent
    hrefs = [i["href"] for i in agent["items"]]
    assert "/backoffice/documents/" in hrefs
    assert "/backoffice/journal-test/" not in hrefs  # supervisor-only
    sup = agent_client(stack, "supervisor", inst=inst).get("/api/v1/portal").json()
    assert "/backoffice/journal-test/" in [i["href"] for i in sup["items"]]
    assert not any(i["href"].startswith("/backoffice/") for i in
                   member_client(stack, inst=inst).get("/api/v1/portal").json()["items"])


def test_portal_needs_a_complete_session(stack, inst):
    assert client_of(stack, inst).get("/api/v1/portal").status_code == 401
    partial = client_of(stack, inst)
    partial.test_login(kind="member", id=stack.new_member().id, level="partial")
    assert partial.get("/api/v1/portal").status_code == 401


def pdfmod_with(stack, **settings):
    return pdfmod_instance(stack, settings, {"server": {"summary_budget_ms": 300}})


def card_of(r, name):
    assert r.status_code == 200, r.text
    return [c for c in r.json()["cards"] if c["module"] == name]


def test_dashboard_card_of_pdfmod(stack, inst):
    assert card_of(member_client(stack, inst=inst).get("/api/v1/dashboard"), "pdfmod") == [
        {"module": "pdfmod", "title": "Mes documents", "text": "Vos relevés en PDF.",
         "href": "/documents/"}]


def test_a_slow_summary_gives_a_card_in_error_not_a_failed_page(stack):
    inst = pdfmod_with(stack, summary="slow", sleep_ms=800)
    r = member_client(stack, inst=inst).get("/api/v1/dashboard")
    assert card_of(r, "pdfmod") == [{"module": "pdfmod",
                                     "error": "Information momentanément indisponible"}]
    assert any("module pdfmod: summary over its time budget" in rec.get("msg", "")
               for rec in inst.log_records())


def test_a_failing_summary_gives_a_card_in_error(stack):
    inst = pdfmod_with(stack, summary="fail")
    r = member_client(stack, inst=inst).get("/api/v1/dashboard")
    assert card_of(r, "pdfmod") == [{"module": "pdfmod",
                                     "error": "Information momentanément indisponible"}]


def test_a_summary_within_budget_answers(stack):
    inst = pdfmod_with(stack, summary="slow", sleep_ms=50)
    r = member_client(stack, inst=inst).get("/api/v1/dashboard")
    assert card_of(r, "pdfmod")[0]["title"] == "Mes documents"


def test_the_frame_runs_no_summary_without_a_badge_entry(stack):
    """pdfmod's member entry asks for no badge: GET /api/v1/portal (on every
    page) does not run its summary, however slow; the dashboard does."""
    inst = pdfmod_with(stack, summary="slow", sleep_ms=2500)
    c = member_client(stack, inst=inst)
    r = c.get("/api/v1/portal")
    assert r.status_code == 200, r.text
    assert r.elapsed.total_seconds() < 2.5
    assert "badge" not in [i for i in r.json()["items"] if i["module"] == "pdfmod"][0]
    assert not any("module pdfmod: summary" in rec.get("msg", "") for rec in inst.log_records())
    assert card_of(c.get("/api/v1/dashboard"), "pdfmod")[0]["error"]
    assert any("module pdfmod: summary over its time budget" in rec.get("msg", "")
               for rec in inst.log_records())
