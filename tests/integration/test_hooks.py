"""Hooks (core/hooks.c): modules' hooks run in the emitter's transaction on
its connection. core/account.c's lock and unlock emit ACCOUNT_LOCKED and
ACCOUNT_UNLOCKED; `portailctl member delete` (portail_member_delete)
emits MEMBER_DELETED. tests/modules/jobmod records a row per event, or
fails for a member listed in jobmod_hook_fail."""

import pytest

from conftest import forced_deadlock

EVENT = {"account_locked": 1, "account_unlocked": 2, "email_changed": 3, "member_deleted": 4}


@pytest.fixture(scope="module", autouse=True)
def tables(stack):
    r = stack.client().post("/api/v1/test/jobmod/setup", json={})
    assert r.status_code == 200, r.text


def hook_rows(stack, member):
    return stack.sql("SELECT event, detail FROM jobmod_hooks WHERE member_id = %d ORDER BY id"
                     % member.id)


def lock_row(stack, member):
    return stack.sql("SELECT reason FROM account_locks WHERE member_id = %d" % member.id)


def make_hooks_fail(stack, member):
    stack.sql("INSERT INTO jobmod_hook_fail (member_id) VALUES (%d)" % member.id)


def test_lock_and_unlock_run_the_hooks_in_their_transaction(stack, client):
    member = stack.new_member()
    r = client.post("/api/v1/test/account/%d/lock" % member.id,
                    json={"reason": "agent", "detail": "note interne"})
    assert r.status_code == 200, r.text
    assert lock_row(stack, member) == [["agent"]]
    assert hook_rows(stack, member) == [["account_locked", "agent"]]
    r = client.post("/api/v1/test/account/%d/unlock" % member.id, json={"by": "agent:x"})
    assert r.status_code == 200, r.text
    assert lock_row(stack, member) == []
    assert hook_rows(stack, member) == [["account_locked", "agent"],
                                        ["account_unlocked", "agent:x"]]


def test_a_failing_hook_leaves_no_lock(stack, client):
    member = stack.new_member()
    make_hooks_fail(stack, member)
    r = client.post("/api/v1/test/account/%d/lock" % member.id, json={"reason": "suspicious"})
    assert r.status_code == 500, r.text
    assert lock_row(stack, member) == []
    assert hook_rows(stack, member) == []
    assert stack.sql("SELECT COUNT(*) FROM security_events WHERE member_id = %d" % member.id) \
        == [["0"]]


def test_the_emitters_rollback_takes_the_hook_row_with_it(stack, client):
    member = stack.new_member()
    r = client.post("/api/v1/test/account/%d/lock" % member.id,
                    json={"reason": "agent", "rollback": True})
    assert r.status_code == 409, r.text
    assert lock_row(stack, member) == []
    assert hook_rows(stack, member) == []


def test_emit_runs_every_hook_or_fails(stack, client):
    member = stack.new_member()
    r = client.post("/api/v1/test/hooks/emit",
                    json={"event": EVENT["email_changed"], "member_id": member.id,
                          "detail": "nouvelle@example.fr"})
    assert r.json() == {"rc": 0}
    assert hook_rows(stack, member) == [["email_changed", "nouvelle@example.fr"]]
    make_hooks_fail(stack, member)
    r = client.post("/api/v1/test/hooks/emit",
                    json={"event": EVENT["email_changed"], "member_id": member.id})
    assert r.json() == {"rc": -1}
    assert len(hook_rows(stack, member)) == 1


def test_member_delete_from_portailctl(stack, client):
    member = stack.new_member()
    client.post("/api/v1/test/account/%d/lock" % member.id, json={"reason": "agent"})
    stack.sql("INSERT INTO sessions (token_hash, csrf_token, kind, principal_id, level, "
              "expires_at) VALUES (RANDOM_BYTES(32), REPEAT('c', 64), 'member', %d, 1, "
              "UTC_TIMESTAMP() + INTERVAL 1 HOUR)" % member.id)
    r = stack.portailctl("member", "delete", member.nir)
    assert r.returncode == 0, r.stderr
    assert "deleted" in r.stdout
    assert stack.sql("SELECT COUNT(*) FROM members WHERE id = %d" % member.id) == [["0"]]
    assert lock_row(stack, member) == []
    assert stack.sql("SELECT COUNT(*) FROM sessions WHERE kind = 'member' AND principal_id = %d"
                     % member.id) == [["0"]]
    # The insured person stays; the modules' hook ran in portailctl too.
    assert stack.sql("SELECT COUNT(*) FROM insured WHERE id = %d" % member.insured_id) == [["1"]]
    assert hook_rows(stack, member)[-1] == ["member_deleted", None]
    # Nobody left to delete.
    assert stack.portailctl("member", "delete", member.nir).returncode == 1


def test_member_delete_is_rerun_after_a_deadlock(stack, client):
    """portailctl's deletion in a transaction of its own, a 1213 forced on
    its last statement (as a Galera certification conflict would): rerun
    whole, the member deleted, the modules' hook row written once."""
    member = stack.new_member()
    with forced_deadlock(stack, "members", "DELETE", "OLD.id = %d" % member.id) as f:
        r = stack.portailctl("member", "delete", member.nir)
        assert r.returncode == 0, r.stderr
        assert f.forced() == 1
    assert stack.sql("SELECT COUNT(*) FROM members WHERE id = %d" % member.id) == [["0"]]
    assert hook_rows(stack, member) == [["member_deleted", None]]


def test_member_delete_refused_by_a_hook_deletes_nothing(stack, client):
    member = stack.new_member()
    make_hooks_fail(stack, member)
    r = stack.portailctl("member", "delete", member.nir)
    assert r.returncode == 1
    assert stack.sql("SELECT COUNT(*) FROM members WHERE id = %d" % member.id) == [["1"]]
    # Through the module's route (portail_member_delete in a request) as well.
    r = client.post("/api/v1/test/members/%d/delete" % member.id, json={})
    assert r.json() == {"rc": -1}
    stack.sql("DELETE FROM jobmod_hook_fail WHERE member_id = %d" % member.id)
    r = client.post("/api/v1/test/members/%d/delete" % member.id, json={})
    assert r.json() == {"rc": 1}
    assert stack.sql("SELECT COUNT(*) FROM members WHERE id = %d" % member.id) == [["0"]]
    assert hook_rows(stack, member) == [["member_deleted", None]]
