"""Module messaging: a message's transaction that a Galera cluster aborts
(1213: a write through another node to the same rows, reported at COMMIT)
is rerun whole (portail_tx_retry), its files stored again in the rerun
without a second scan (portail_documents_check once, then
portail_documents_insert in the transaction). A 1213 is forced on one write
of each (conftest.forced_deadlock): the answer is the one without the
conflict, and the thread, message, attachments, documents and notification
are written once. Without the rerun each answered 500. The daily report
job's mails and next run are rerun at once (portail_db_tx_retry, issue 18),
not after the job's backoff."""

import pytest

from conftest import forced_deadlock, member_client, wait_until
from test_messaging import API, BO, PDF, reply, send, team_agent

ONE_PDF = [("f", ("releve.pdf", PDF, "application/pdf"))]


@pytest.fixture
def member(stack):
    return member_client(stack)


def count(stack, sql, *args):
    return int(stack.sql(sql % args)[0][0])


def written(stack, member_id):
    """(threads, messages, attachments, documents) of the member."""
    return tuple(count(stack, "SELECT COUNT(*) FROM %s WHERE member_id = %d", table, member_id)
                 for table in ("messaging_threads", "messaging_messages",
                               "messaging_attachments", "documents"))


@pytest.mark.timeout(90)
def test_a_new_message_with_its_file_is_rerun_after_a_deadlock(stack, member):
    with forced_deadlock(stack, "messaging_attachments", "INSERT",
                         "NEW.member_id = %d" % member.member.id) as f:
        r = send(member, files=ONE_PDF)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    t = r.json()
    assert written(stack, member.member.id) == (1, 1, 1, 1)
    # The attachment answered is the document kept, and it downloads.
    doc = t["attachments"][0]["id"]
    got = member.get("%s/%d/attachments/%d" % (API, t["id"], doc))
    assert got.status_code == 200 and got.content == PDF


@pytest.mark.timeout(90)
def test_replies_are_rerun_after_a_deadlock(stack, member):
    agent = team_agent(stack)
    t = send(member).json()
    me = member.member.id
    with forced_deadlock(stack, "messaging_messages", "INSERT",
                         "NEW.member_id = %d AND NEW.author = 'member'" % me) as f:
        r = reply(member, t["id"], "Précision", files=ONE_PDF)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    with forced_deadlock(stack, "notifications", "INSERT",
                         "NEW.member_id = %d AND NEW.kind = 'messaging.reply'" % me) as f:
        r = agent.post("%s/threads/%d/reply" % (BO, t["id"]), data={"body": "Voici"},
                       files=ONE_PDF)
        assert r.status_code == 201, r.text
        assert f.forced() == 1
    assert written(stack, me) == (1, 3, 2, 2)
    assert count(stack, "SELECT COUNT(*) FROM notifications WHERE member_id = %d "
                 "AND kind = 'messaging.reply'", me) == 1
    assert count(stack, "SELECT COUNT(*) FROM audit_log WHERE member_id = %d "
                 "AND action = 'messaging.thread.reply'", me) == 1
    authors = [m["author"] for m in member.get("%s/%d" % (API, t["id"])).json()["messages"]]
    assert authors == ["member", "member", "agent"]


@pytest.mark.timeout(90)
def test_a_deadlock_every_time_answers_500_and_keeps_no_file(stack, member):
    with forced_deadlock(stack, "messaging_attachments", "INSERT",
                         "NEW.member_id = %d" % member.member.id, times=5) as f:
        r = send(member, files=ONE_PDF)
        assert r.status_code == 500, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert f.forced() == 3  # PORTAIL_DB_TX_ATTEMPTS
    assert written(stack, member.member.id) == (0, 0, 0, 0)


@pytest.mark.timeout(90)
def test_daily_report_is_rerun_after_a_deadlock(stack):
    sup = stack.new_agent(role="supervisor")
    email = "superviseur-retry-%d@caisse.example" % sup.id
    stack.sql("UPDATE agents SET email = '%s' WHERE id = %d" % (email, sup.id))
    queued = stack.sql("SELECT id FROM jobs WHERE kind = 'messaging.report' AND state = 'queued'")
    assert len(queued) == 1
    job = "SELECT state, attempts FROM jobs WHERE id = %s" % queued[0][0]
    # The next run, queued after the mails, is the last write.
    with forced_deadlock(stack, "jobs", "INSERT", "NEW.kind = 'messaging.report'") as f:
        stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE id = %s" % queued[0][0])
        wait_until(lambda: stack.sql(job)[0][0] not in ("queued", "running"), timeout=30,
                   what="the report job's run")
        assert f.forced() == 1
    assert stack.sql(job) == [["done", "1"]]
    assert count(stack, "SELECT COUNT(*) FROM mail_outbox WHERE recipient = '%s'", email) == 1
    assert count(stack, "SELECT COUNT(*) FROM jobs WHERE kind = 'messaging.report' AND "
                 "state = 'queued'") == 1
