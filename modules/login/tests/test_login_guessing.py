"""Module login: guessing through a lock (issue 14, items 15-17): after a
lock a few more failures, then the answer no longer depends on the
password; known and unknown NIRs answer in the same time."""

import statistics
import time

import pytest

from login_support import (PASSWORD, WRONG_PASSWORD, Accounts, fresh_ip, nir as nir_of,
                           problem_without_ids)

NEW_PASSWORD = "Trois moineaux lisent Proust 2024"


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def reset_password(stack, accounts, c, m, password=NEW_PASSWORD):
    r = c.post("/api/v1/password/forgot",
               json={"nir": m.nir, "birth_date": m.birth_date, "email": m.email})
    assert r.status_code == 202, r.text
    token = accounts.link_token(m.email, "/mot-de-passe/reinitialisation.html")
    r = c.post("/api/v1/password/reset", json={"token": token, "password": password})
    assert r.status_code == 200, r.text


# ------------------------------------------------- item 15: no guessing through a lock


def test_beyond_a_few_failures_after_the_lock_the_right_password_answers_like_a_wrong_one(
        stack, accounts):
    m = accounts.member()
    c = stack.client(xff=fresh_ip())
    for _ in range(5):
        wrong = accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    assert accounts.lock_state(m) == "password"
    wrong = problem_without_ids(wrong)
    # Two further failures (max_failures_after_lock = 3): the right password
    # still shows the lock and its ways out.
    for _ in range(2):
        accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    accounts.login(c, m, expect=423)
    # The third: from now on the right password is one more wrong one.
    accounts.login(c, m, password=WRONG_PASSWORD, expect=401)
    for _ in range(3):
        r = accounts.login(c, m, expect=401)
        assert problem_without_ids(r) == wrong
        assert "reason" not in r.json()
    assert accounts.lock_state(m) == "password"
    # The way out is the mail: a new password through the forgotten-password
    # link lifts the lock and signs in.
    reset_password(stack, accounts, stack.client(xff=fresh_ip()), m)
    assert accounts.lock_state(m) is None
    r = c.post("/api/v1/login", json={"nir": m.nir, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text


# ------------------------------------------- item 17: known and unknown NIRs, same time


def _median_ms(samples):
    return statistics.median(samples) * 1000.0


@pytest.mark.timeout(240)
def test_a_known_nir_and_an_unknown_one_fail_in_the_same_time(stack, accounts):
    """Median of 30 interleaved tries each, through nginx: the failure of a
    known NIR must not take measurably longer than an unknown one's (it
    would tell who is a member). Bound: 5 ms or 10 % of the median."""
    tries = 30
    known = [accounts.member() for _ in range(tries + 2)]
    # Women born in May 2080: no member has such a NIR.
    unknown = [nir_of("28005%08d" % (int(time.time() * 1000 + i) % 10**8)) for i in
               range(tries + 2)]
    c = stack.client()

    def once(n):
        t = time.perf_counter()
        r = c.post("/api/v1/login", json={"nir": n, "password": WRONG_PASSWORD}, xff=fresh_ip())
        dt = time.perf_counter() - t
        assert r.status_code == 401, r.text
        return dt

    # Warm both paths (connections, statement cache).
    once(known[-1].nir), once(unknown[-1])
    once(known[-2].nir), once(unknown[-2])
    k, u = [], []
    for i in range(tries):
        if i % 2:
            k.append(once(known[i].nir))
            u.append(once(unknown[i]))
        else:
            u.append(once(unknown[i]))
            k.append(once(known[i].nir))
    mk, mu = _median_ms(k), _median_ms(u)
    bound = max(5.0, 0.10 * min(mk, mu))
    print("known %.2f ms, unknown %.2f ms, bound %.2f ms" % (mk, mu, bound))
    assert abs(mk - mu) < bound, (mk, mu)
