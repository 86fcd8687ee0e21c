"""portail_db_tx_retry: a marked transaction is rerun on a deadlock (1213)
or a lock wait timeout (1205), at most 3 times; an unmarked one never is.
The test module's /api/v1/test/db/lockpair locks rows of test_locks in the
order asked, with a pause between."""

import threading
import time

import pytest


@pytest.fixture
def locks(stack):
    stack.sql("CREATE TABLE IF NOT EXISTS test_locks (id INT PRIMARY KEY) ENGINE=InnoDB")
    stack.sql("INSERT IGNORE INTO test_locks VALUES (1), (2)")
    yield
    stack.sql("DROP TABLE IF EXISTS test_locks")


def lockpair(stack, **q):
    r = stack.client().post("/api/v1/test/db/lockpair", params=q)
    assert r.status_code == 200, r.text
    return r.json()


def in_parallel(*calls):
    out = [None] * len(calls)

    def run(i, f):
        out[i] = f()

    ts = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(calls)]
    for i, t in enumerate(ts):
        t.start()
        time.sleep(0.15 if i == 0 else 0)
    for t in ts:
        t.join(30)
    return out


@pytest.mark.timeout(60)
def test_deadlock_is_rerun_and_both_commit(stack, locks):
    a, b = in_parallel(
        lambda: lockpair(stack, first=1, second=2, hold_ms=600),
        lambda: lockpair(stack, first=2, second=1, hold_ms=600),
    )
    assert a["ok"] and b["ok"], (a, b)
    # InnoDB rolled one back (the victim); it ran again and committed.
    assert sorted([a["attempts"], b["attempts"]]) == [1, 2], (a, b)


@pytest.mark.timeout(60)
def test_unmarked_transaction_is_not_rerun(stack, locks):
    a, b = in_parallel(
        lambda: lockpair(stack, first=1, second=2, hold_ms=600, retry=0),
        lambda: lockpair(stack, first=2, second=1, hold_ms=600, retry=0),
    )
    assert [a["attempts"], b["attempts"]] == [1, 1], (a, b)
    assert sorted([a["ok"], b["ok"]]) == [False, True], (a, b)
    loser = a if not a["ok"] else b
    assert loser["errno"] == 1213, loser


@pytest.mark.timeout(60)
def test_retry_gives_up_after_the_bound(stack, locks):
    # The holder keeps row 1 for 5 s; the other waits 1 s per attempt
    # (1205), three times, then gives up.
    t0 = time.monotonic()
    holder, waiter = in_parallel(
        lambda: lockpair(stack, first=1, hold_ms=5000, retry=0),
        lambda: lockpair(stack, first=1, wait_s=1),
    )
    assert holder["ok"], holder
    assert waiter == {"ok": False, "attempts": 3, "errno": 1205}, waiter
    assert time.monotonic() - t0 < 20
