"""Helpers shared by test_unlock.py and test_backoffice.py: member accounts
with a known password, locks through testmod, links read from the mails."""

import re

# Shared with the core's tests (tests/integration/conftest.py).
from conftest import account_state as state  # noqa: F401
from conftest import lock_account as lock  # noqa: F401
from conftest import agent_client, fresh_ip, settle_mail, wait_mail  # noqa: F401


# Passes cracklib and the member's own words (names, NIR, birth date).
PASSWORD = "Girafe violette sous la pluie 73"
NEW_PASSWORD = "Trois moineaux lisent Proust 2024"

LINK_RE = r"(http://[^\s/]+)(/[a-z/-]+\.html)\?token=([A-Za-z0-9_-]{43})"


def member_with_password(stack, client, password=PASSWORD):
    m = stack.new_member()
    r = client.post("/api/v1/test/account/%d/password" % m.id, json={"password": password})
    assert r.status_code == 204, r.text
    m.password = password
    return m


def password_is(client, member, password):
    r = client.post("/api/v1/test/account/%d/password/check" % member.id,
                    json={"password": password})
    assert r.status_code == 200, r.text
    return r.json()["match"]


def events(stack, member):
    return stack.sql("SELECT kind, detail FROM security_events WHERE member_id = %d ORDER BY id"
                     % member.id)


def link_in(mail):
    """(origin, path, token) of the link in a mail."""
    m = re.search(LINK_RE, mail["body"])
    assert m, mail["body"]
    return m.group(1), m.group(2), m.group(3)


def forgot(client, member, **override):
    body = {"nir": member.nir, "birth_date": member.birth_date, "email": member.email}
    body.update(override)
    return client.post("/api/v1/password/forgot", json=body)


def reset_link(stack, client, member, n=1):
    """Asks for a reset link and returns its token (the n-th such mail)."""
    r = forgot(client, member)
    assert r.status_code == 202, r.text
    _, path, token = link_in(wait_mail(stack, member, "Réinitialisation de votre mot de passe", n))
    assert path == "/mot-de-passe/reinitialisation.html"
    return token


