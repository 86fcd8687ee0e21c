"""A pending e-mail or IBAN change of "Mon profil" seen from the login
module: while it waits, the right password answers 423 with the step
confirm_update; the mailed link lifts the lock and applies the change, and
the same password signs in again."""

import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "login" / "tests"))
from login_support import Accounts, fresh_ip  # noqa: E402

VERIFY_SUBJECT = "Confirmez la modification de votre compte"
BANK = {"iban": "FR1420041010050500013M02606", "bic": "PSSTFRPPXXX", "holder": "Paul Martin"}


@pytest.fixture(scope="module")
def accounts(stack):
    return Accounts(stack)


def token_sent_to(stack, to):
    deadline = time.monotonic() + 20
    while True:
        got = [m for m in stack.mails() if m["to"] == to and m["subject"] == VERIFY_SUBJECT]
        if got:
            return re.search(r"\?token=([A-Za-z0-9_-]{43})", got[-1]["body"]).group(1)
        assert time.monotonic() < deadline, "no verification mail to %s" % to
        time.sleep(0.1)


@pytest.mark.parametrize("kind", ["email", "bank"])
def test_pending_change_blocks_sign_in_until_the_link(stack, accounts, kind):
    m = accounts.member()
    # The change is made in a full session (password and second factor
    # are the login module's business, tested there).
    c = stack.client(xff=fresh_ip())
    c.test_login(id=m.id)
    new = "change-%d@example.fr" % m.id
    if kind == "email":
        r = c.put("/api/v1/profile/contact", json={
            "email": new, "phone": "0612345678", "address_line": "4 rue Pasteur",
            "postal_code": "33000", "city": "Bordeaux"})
    else:
        r = c.put("/api/v1/profile/bank", json=BANK)
    assert r.status_code == 202, r.text
    # The right password: locked, with the step telling what to do.
    r = accounts.login(stack.client(xff=fresh_ip()), m, expect=423)
    body = r.json()
    assert body["reason"] == "pending_verification"
    assert body["steps"][0]["kind"] == "confirm_update" and body["steps"][0]["text"]
    token = token_sent_to(stack, new if kind == "email" else m.email)
    r = stack.client(xff=fresh_ip()).post("/api/v1/account/verify", json={"token": token})
    assert r.status_code == 200, r.text
    assert accounts.lock_state(m) is None
    # The same password goes through again (on to the second factor).
    accounts.login(stack.client(xff=fresh_ip()), m)
    c = stack.client(xff=fresh_ip())
    c.test_login(id=m.id)
    profile = c.get("/api/v1/profile").json()
    assert profile["pending"] == []
    if kind == "email":
        assert profile["profile"]["email"] == new
    else:
        assert profile["profile"]["iban"] == BANK["iban"]
