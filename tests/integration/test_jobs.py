"""Durable jobs (core/jobs.c, sql/004_jobs.sql): run once at their time,
shared by several portaild, run again after a kill -9, retried with
backoff then failed, shown and retried from the back office and portailctl,
cancelled, never run when the enqueuing transaction rolls back; the
core.purge retention job. Job kinds come from tests/modules/jobmod."""

import os
import signal
import time

import pytest

from conftest import agent_client, wait_until

BO = "/api/v1/backoffice/jobs"




def setup_tables(client):
    r = client.post("/api/v1/test/jobmod/setup", json={})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module", autouse=True)
def tables(stack):
    setup_tables(stack.client())


def enqueue(client, kind, payload=None, delay=0, count=1, rollback=False, expect=201):
    body = {"kind": kind, "delay": delay, "count": count, "rollback": rollback}
    if payload is not None:
        body["payload"] = payload
    r = client.post("/api/v1/test/jobs", json=body)
    assert r.status_code == expect, r.text
    return r.json()["ids"] if expect in (201, 409) else None


def job(stack, jid, database="portail"):
    rows = stack.sql("SELECT state, attempts, max_attempts, last_error FROM jobs WHERE id = %d"
                     % jid, database=database)
    if not rows:
        return None
    s, a, m, e = rows[0]
    return {"state": s, "attempts": int(a), "max_attempts": int(m), "last_error": e}


def runs(stack, jid, database="portail"):
    return stack.sql("SELECT attempt, phase, pid, created_at FROM jobmod_runs WHERE job_id = %d "
                     "ORDER BY id" % jid, database=database)


def wait_state(stack, jid, state, timeout=15, database="portail"):
    return wait_until(lambda: (job(stack, jid, database) or {}).get("state") == state
                      and job(stack, jid, database), timeout, "job %d %s" % (jid, state))


# ---- running ---------------------------------------------------------------------


def test_job_runs_once_at_its_time_not_before(stack, client):
    jid, = enqueue(client, "jobmod.record", {"tag": "later"}, delay=3)
    time.sleep(1.5)
    assert job(stack, jid)["state"] == "queued"
    assert runs(stack, jid) == []
    wait_state(stack, jid, "done", timeout=15)
    assert [r[:2] for r in runs(stack, jid)] == [["1", "run"]]
    # Not before run_at (created_at + 3 s, both from the same statement).
    early = stack.sql("SELECT COUNT(*) FROM jobmod_runs r JOIN jobs j ON j.id = r.job_id "
                      "WHERE j.id = %d AND r.created_at < j.created_at + INTERVAL 3 SECOND" % jid)
    assert early == [["0"]]
    time.sleep(0.5)
    assert len(runs(stack, jid)) == 1


def test_rolled_back_enqueue_never_runs(stack, client):
    ids = enqueue(client, "jobmod.record", {"tag": "rolled back"}, count=3, rollback=True,
                  expect=409)
    assert len(ids) == 3
    # A job committed after them runs: the workers were there to see them.
    marker, = enqueue(client, "jobmod.record", {"tag": "marker"})
    wait_state(stack, marker, "done")
    time.sleep(0.5)
    for jid in ids:
        assert job(stack, jid) is None
        assert runs(stack, jid) == []


def test_payload_is_bounded(stack, client):
    enqueue(client, "jobmod.record", {"tag": "x" * 70000}, expect=422)
    enqueue(client, "Bad Kind", {}, expect=422)


def test_cancelled_job_never_runs(stack, client, supervisor):
    a, b = enqueue(client, "jobmod.record", {"tag": "cancelled"}, delay=2, count=2)
    r = stack.portailctl("jobs", "cancel", str(a))
    assert r.returncode == 0, r.stderr
    assert "cancelled" in r.stdout
    r = supervisor.post("%s/%d/cancel" % (BO, b), json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": b, "state": "cancelled"}
    time.sleep(4)
    for jid in (a, b):
        assert job(stack, jid)["state"] == "cancelled"
        assert runs(stack, jid) == []
    # Only a queued job can be cancelled.
    assert stack.portailctl("jobs", "cancel", str(a)).returncode == 1
    assert supervisor.post("%s/%d/cancel" % (BO, b), json={}).status_code == 409


def test_kind_nobody_registers_stays_queued(stack, client):
    jid, = enqueue(client, "nobody.here", {})
    time.sleep(1.5)
    assert job(stack, jid)["state"] == "queued"
    assert job(stack, jid)["attempts"] == 0
    stack.portailctl("jobs", "cancel", str(jid))


# ---- failure, back office, portailctl --------------------------------------------------


def test_failing_job_ends_failed_and_retry_runs_it_again(stack, client, supervisor):
    error = "Serveur distant injoignable (essai voulu)"
    jid, = enqueue(client, "jobmod.fail", {"tag": "fails", "error": error})
    # max_attempts 2, backoff 1 s in the test config.
    got = wait_state(stack, jid, "failed", timeout=20)
    assert got["attempts"] == 2 and got["max_attempts"] == 2
    assert got["last_error"] == error
    assert [r[0] for r in runs(stack, jid)] == ["1", "2"]

    # The back office: supervisors only.
    r = supervisor.get(BO, params={"state": "failed", "kind": "jobmod.fail", "limit": 200})
    assert r.status_code == 200, r.text
    rows = [j for j in r.json()["jobs"] if j["id"] == jid]
    assert len(rows) == 1
    assert rows[0]["state"] == "failed" and rows[0]["last_error"] == error
    assert rows[0]["kind"] == "jobmod.fail" and rows[0]["module"] == "jobmod"
    assert "payload" not in rows[0]
    agent = agent_client(stack)
    assert agent.get(BO).status_code == 403
    assert agent.post("%s/%d/retry" % (BO, jid), json={}).status_code == 403
    assert stack.client().get(BO).status_code == 401
    assert supervisor.get(BO, params={"state": "lost"}).status_code == 422

    # portailctl
    r = stack.portailctl("jobs", "list", "--state", "failed", "--limit", "1000")
    assert r.returncode == 0, r.stderr
    line = [l for l in r.stdout.splitlines() if l.split()[0] == str(jid)]
    assert line and "jobmod.fail" in line[0] and "failed" in line[0] and error in line[0]

    # Retry: queued again with its attempts reset, and it runs again.
    r = supervisor.post("%s/%d/retry" % (BO, jid), json={})
    assert r.status_code == 200, r.text
    wait_until(lambda: len(runs(stack, jid)) >= 3, 15, "the retried run")
    got = wait_state(stack, jid, "failed", timeout=20)
    assert [r[0] for r in runs(stack, jid)] == ["1", "2", "1", "2"]
    # Once more from portailctl.
    r = stack.portailctl("jobs", "retry", str(jid))
    assert r.returncode == 0, r.stderr
    wait_until(lambda: len(runs(stack, jid)) >= 5, 15, "the second retried run")
    # Only a failed job can be retried.
    done, = enqueue(client, "jobmod.record", {})
    wait_state(stack, done, "done")
    assert supervisor.post("%s/%d/retry" % (BO, done), json={}).status_code == 409
    assert supervisor.post("%s/999999999/retry" % BO, json={}).status_code == 404
    assert stack.portailctl("jobs", "retry", str(done)).returncode == 1


def test_list_pages_with_a_cursor(stack, client, supervisor):
    ids = enqueue(client, "jobmod.record", {"tag": "page"}, count=3)
    for jid in ids:
        wait_state(stack, jid, "done")
    r = supervisor.get(BO, params={"kind": "jobmod.record", "limit": 2})
    page1 = r.json()
    assert [j["id"] for j in page1["jobs"]] == sorted(ids, reverse=True)[:2]
    r = supervisor.get(BO, params={"kind": "jobmod.record", "limit": 2,
                                   "cursor": page1["next_cursor"]})
    assert r.json()["jobs"][0]["id"] == min(ids)


# ---- several portaild, crashes, stop ----------------------------------------------------------


@pytest.mark.timeout(120)
def test_two_portaild_share_the_queue_each_job_once(stack, client):
    other = stack.start_portaild()
    ids = enqueue(client, "jobmod.record", {"tag": "shared"}, count=200)
    first, last = min(ids), max(ids)

    def all_done():
        rows = stack.sql("SELECT COUNT(*) FROM jobs WHERE id BETWEEN %d AND %d AND state = 'done'"
                         % (first, last))
        return rows[0][0] == "200"

    wait_until(all_done, 60, "200 jobs done")
    per_job = stack.sql("SELECT job_id, COUNT(*) FROM jobmod_runs WHERE job_id BETWEEN %d AND %d "
                        "GROUP BY job_id" % (first, last))
    assert len(per_job) == 200
    assert all(n == "1" for _, n in per_job)
    pids = {r[0] for r in stack.sql("SELECT DISTINCT pid FROM jobmod_runs WHERE job_id BETWEEN "
                                    "%d AND %d" % (first, last))}
    assert str(other.pid) in pids and str(stack.portaild.pid) in pids
    # One core.purge schedule whatever the number of portaild.
    assert stack.sql("SELECT COUNT(*) FROM jobs WHERE kind = 'core.purge'") == [["1"]]


@pytest.mark.timeout(120)
def test_kill_9_during_a_job_runs_it_again_after_its_lease(stack):
    # A database of their own, so that the stack's portaild takes no part.
    db = stack.fresh_database("jobs_kill")
    cfg = {"database": {"name": db}}
    a = stack.start_portaild(cfg)
    ca = stack.client(base_url=a.base_url, origin=a.origin)
    setup_tables(ca)
    jid, = enqueue(ca, "jobmod.sleep", {"tag": "killed", "seconds": 3})
    wait_until(lambda: runs(stack, jid, db), 10, "the job to start on A")
    assert runs(stack, jid, db)[0][:3] == ["1", "start", str(a.pid)]
    os.kill(a.pid, signal.SIGKILL)
    a.wait(10)
    assert job(stack, jid, db)["state"] == "running"

    b = stack.start_portaild(cfg)
    got = wait_state(stack, jid, "done", timeout=30, database=db)
    assert got["attempts"] == 2
    rs = runs(stack, jid, db)
    assert [r[:3] for r in rs] == [["1", "start", str(a.pid)], ["2", "start", str(b.pid)],
                                   ["2", "end", str(b.pid)]]
    # Not before the lease (5 s for jobmod.sleep) passed.
    gap = stack.sql("SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), MAX(created_at)) FROM "
                    "jobmod_runs WHERE job_id = %d AND phase = 'start'" % jid, database=db)
    assert int(gap[0][0]) >= 4_000_000


@pytest.mark.timeout(90)
def test_sigterm_lets_a_running_job_finish(stack):
    db = stack.fresh_database("jobs_term")
    inst = stack.start_portaild({"database": {"name": db}, "server": {"grace_seconds": 8}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    setup_tables(c)
    jid, = enqueue(c, "jobmod.sleep", {"tag": "term", "seconds": 2})
    wait_until(lambda: runs(stack, jid, db), 10, "the job to start")
    assert stack.stop_portaild(inst) == 0
    assert job(stack, jid, db)["state"] == "done"
    assert [r[1] for r in runs(stack, jid, db)] == ["start", "end"]


# ---- core.purge ------------------------------------------------------------------------------


def test_purge_job_removes_expired_rows(stack):
    member = stack.new_member()
    stack.sql(
        "INSERT INTO sessions (token_hash, csrf_token, kind, principal_id, level, expires_at) "
        "VALUES (RANDOM_BYTES(32), REPEAT('a', 64), 'member', %d, 1, "
        "UTC_TIMESTAMP() - INTERVAL 1 MINUTE), (RANDOM_BYTES(32), REPEAT('b', 64), 'member', %d, 1, "
        "UTC_TIMESTAMP() + INTERVAL 1 HOUR)" % (member.id, member.id))
    stack.sql("INSERT INTO jobs (kind, module, state, updated_at) VALUES "
              "('jobmod.record', 'jobmod', 'done', UTC_TIMESTAMP() - INTERVAL 40 DAY), "
              "('jobmod.record', 'jobmod', 'done', UTC_TIMESTAMP() - INTERVAL 1 DAY)")
    stack.sql("INSERT INTO mail_outbox (recipient, subject, body, sent_at) VALUES "
              "('old@example.fr', 'ancien', 'x', UTC_TIMESTAMP() - INTERVAL 40 DAY)")
    stack.sql("INSERT INTO throttle (k, window_start, hits) VALUES "
              "('purge-test-%d', UTC_TIMESTAMP() - INTERVAL 3 DAY, 1)" % member.id)
    # The reasons of sessions ended elsewhere: kept while they could be used.
    gone, kept = "%064x" % (member.id * 2), "%064x" % (member.id * 2 + 1)
    stack.sql("INSERT INTO session_revocations (token_hash, reason, expires_at) VALUES "
              "(UNHEX('%s'), 'other_device', UTC_TIMESTAMP() - INTERVAL 1 MINUTE), "
              "(UNHEX('%s'), 'agent', UTC_TIMESTAMP() + INTERVAL 1 HOUR)" % (gone, kept))

    def sessions():
        return stack.sql("SELECT csrf_token FROM sessions WHERE principal_id = %d AND kind = "
                         "'member' ORDER BY id" % member.id)

    assert len(sessions()) == 2
    wait_until(lambda: stack.sql("SELECT COUNT(*) FROM jobs WHERE unique_key = 'core.purge' AND "
                                 "state = 'queued'") == [["1"]], 20, "core.purge queued")
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE unique_key = 'core.purge' AND "
              "state = 'queued'")
    wait_until(lambda: len(sessions()) == 1, 20, "the expired session purged")
    assert sessions() == [["b" * 64]]
    assert stack.sql("SELECT COUNT(*) FROM jobs WHERE state = 'done' AND updated_at < "
                     "UTC_TIMESTAMP() - INTERVAL 30 DAY") == [["0"]]
    assert stack.sql("SELECT COUNT(*) FROM jobs WHERE state = 'done' AND updated_at < "
                     "UTC_TIMESTAMP() - INTERVAL 12 HOUR") != [["0"]]
    assert stack.sql("SELECT COUNT(*) FROM mail_outbox WHERE recipient = 'old@example.fr'") == [["0"]]
    assert stack.sql("SELECT COUNT(*) FROM throttle WHERE k = 'purge-test-%d'" % member.id) == [["0"]]
    assert stack.sql("SELECT HEX(token_hash) FROM session_revocations WHERE token_hash IN "
                     "(UNHEX('%s'), UNHEX('%s'))" % (gone, kept)) == [[kept.upper()]]
    # It scheduled its next turn on its single row.
    rows = stack.sql("SELECT state, run_at > UTC_TIMESTAMP() + INTERVAL 60 SECOND FROM jobs "
                     "WHERE unique_key = 'core.purge'")
    wait_until(lambda: stack.sql("SELECT state FROM jobs WHERE unique_key = 'core.purge'")
               == [["queued"]], 10, "core.purge queued again")
    rows = stack.sql("SELECT run_at > UTC_TIMESTAMP() + INTERVAL 60 SECOND FROM jobs "
                     "WHERE unique_key = 'core.purge'")
    assert rows == [["1"]]


def test_purge_applies_the_retention_periods(stack):
    """Issue 14 item 4: security events older than jobs.keep_events_days
    (default 365), sessions dead by idleness (sessions.idle_seconds) and
    one-time tokens past jobs.keep_tokens_days (default 1) go; recent rows
    stay."""
    member = stack.new_member()
    stack.sql("INSERT INTO security_events (member_id, kind, created_at) VALUES "
              "(%d, 'old', UTC_TIMESTAMP() - INTERVAL 400 DAY), "
              "(%d, 'recent', UTC_TIMESTAMP() - INTERVAL 300 DAY)" % (member.id, member.id))
    stack.sql(
        "INSERT INTO sessions (token_hash, csrf_token, kind, principal_id, level, expires_at, "
        "last_seen_at) VALUES "
        "(RANDOM_BYTES(32), REPEAT('i', 64), 'member', %d, 1, UTC_TIMESTAMP() + INTERVAL 5 HOUR, "
        "UTC_TIMESTAMP() - INTERVAL 2 HOUR), "
        "(RANDOM_BYTES(32), REPEAT('l', 64), 'member', %d, 1, UTC_TIMESTAMP() + INTERVAL 5 HOUR, "
        "UTC_TIMESTAMP())" % (member.id, member.id))
    stack.sql("INSERT INTO one_time_tokens (purpose, token_hash, subject_id, expires_at, used_at) "
              "VALUES ('retention', RANDOM_BYTES(32), %d, UTC_TIMESTAMP() + INTERVAL 1 DAY, "
              "UTC_TIMESTAMP() - INTERVAL 2 DAY), ('retention', RANDOM_BYTES(32), %d, "
              "UTC_TIMESTAMP() + INTERVAL 1 DAY, NULL)" % (member.id, member.id))
    wait_until(lambda: stack.sql("SELECT COUNT(*) FROM jobs WHERE unique_key = 'core.purge' AND "
                                 "state = 'queued'") == [["1"]], 20, "core.purge queued")
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE unique_key = 'core.purge' AND "
              "state = 'queued'")

    def events():
        return stack.sql("SELECT kind FROM security_events WHERE member_id = %d ORDER BY id"
                         % member.id)

    wait_until(lambda: events() == [["recent"]], 20, "the old security event purged")
    assert stack.sql("SELECT csrf_token FROM sessions WHERE principal_id = %d AND kind = 'member'"
                     % member.id) == [["l" * 64]]
    assert stack.sql("SELECT used_at IS NULL FROM one_time_tokens WHERE purpose = 'retention' "
                     "AND subject_id = %d" % member.id) == [["1"]]


@pytest.mark.parametrize("args", [
    ("jobs", "list", "--limit", "0"),
    ("jobs", "list", "--limit", "12abc"),
    ("jobs", "list", "--state"),
    ("jobs", "list", "--bogus", "x"),
    ("jobs", "retry", "-3"),
    ("migrate", "--wait", "86401"),
    ("seed", "--count", "5x"),
    ("seed", "extra"),
    ("agent", "add", "someone", "--name"),
])
def test_portailctl_refuses_malformed_options_with_the_usage(stack, args):
    r = stack.portailctl(*args)
    assert r.returncode == 2 and "usage: portailctl" in r.stderr, (args, r.stderr)
