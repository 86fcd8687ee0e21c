"""Helpers shared by test_unlock.py and test_backoffice.py: member accounts
with a known password, locks through testmod, links read from the mails."""

import re
import time

from conftest import agent_client, fresh_ip  # noqa: F401 (shared with the core's tests)


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


def lock(client, member, reason, detail=""):
    r = client.post("/api/v1/test/account/%d/lock" % member.id,
                    json={"reason": reason, "detail": detail})
    assert r.status_code == 200, r.text
    return r.json()


def state(client, member):
    r = client.get("/api/v1/test/account/%d" % member.id)
    assert r.status_code == 200, r.text
    return r.json()


def events(stack, member):
    return stack.sql("SELECT kind, detail FROM security_events WHERE member_id = %d ORDER BY id"
                     % member.id)


def settle_mail(stack, client, member):
    """Every mail to the member so far (a marker mail queued last and waited
    for proves the sender went past the earlier ones)."""
    marker = "Témoin %f" % time.monotonic()
    r = client.post("/api/v1/test/mail", json={"to": member.email, "subject": marker,
                                                "body": "témoin\n"})
    assert r.status_code == 202, r.text
    stack.wait_for_mail(lambda m: m["to"] == member.email and m["subject"] == marker, timeout=20)
    time.sleep(0.2)
    return [m for m in stack.mails()
            if m["to"] == member.email and not m["subject"].startswith("Témoin")]


def wait_mail(stack, member, subject, n=1):
    """The n-th mail (1 = first) to the member with this subject."""
    def enough():
        got = [m for m in stack.mails() if m["to"] == member.email and m["subject"] == subject]
        return got[n - 1] if len(got) >= n else None

    deadline = time.monotonic() + 20
    while True:
        m = enough()
        if m:
            return m
        assert time.monotonic() < deadline, "no mail %r (#%d) to %s" % (subject, n, member.email)
        time.sleep(0.1)


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


