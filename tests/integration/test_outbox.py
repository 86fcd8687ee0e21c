"""The mail outbox (core/outbox.c): enqueued in the caller's transaction,
delivered by the sender thread over SMTP (the stack's aiosmtpd) or as files."""

import email
import email.policy
import itertools
import time

import pytest

from conftest import sql_quote

_n = itertools.count(1)

FROM = "Portail <ne-pas-repondre@portail.example>"


def rcpt():
    """A recipient no other test uses."""
    return "dest-%d-%d@example.fr" % (int(time.time() * 1000) % 10**9, next(_n))


def enqueue(client, to, subject="Test", body="Bonjour.\n"):
    r = client.post("/api/v1/test/mail", json={"to": to, "subject": subject, "body": body})
    assert r.status_code == 202, r.text
    return r


def mails_to(stack, to):
    return [m for m in stack.mails() if m["to"] == to]


def wait_mails_to(stack, to, count, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        got = mails_to(stack, to)
        if len(got) >= count:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("%d of %d mails to %s within %s s; outbox: %r" % (
                len(got), count, to, timeout,
                stack.sql("SELECT id, attempts, sent_at, last_error FROM mail_outbox "
                          "WHERE recipient = %s" % sql_quote(to))))
        time.sleep(0.1)


def outbox_rows(stack, to, database="portail"):
    return stack.sql("SELECT id, subject, attempts, sent_at FROM mail_outbox WHERE recipient = %s "
                     "ORDER BY id" % sql_quote(to), database=database)


def last_error(stack, mail_id):
    return stack.sql("SELECT last_error FROM mail_outbox WHERE id = %s" % mail_id)[0][0]


@pytest.mark.timeout(120)
def test_smtp_outage_burns_no_attempt_and_raises_a_backlog_alert(stack, client):
    """Issue 14 item 5: with the SMTP server unreachable the mail keeps its
    attempts (an outage would otherwise drop every mail after max_attempts)
    and, once older than mail.alert_after_seconds, a log line and
    GET /api/v1/health report the backlog instead of the mail vanishing."""
    to = rcpt()
    inst = None
    # The sender probes an outage with the mail first in line: let the
    # earlier tests' due mails go first, so that the probe is this one's.
    drained = time.monotonic() + 60
    while stack.sql("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND "
                    "next_attempt_at <= UTC_TIMESTAMP()") != [["0"]]:
        if time.monotonic() > drained:
            break
        time.sleep(0.2)
    stack.stop_smtp()
    try:
        enqueue(client, to, "Pendant la panne", "Toujours là.\n")
        (row,) = outbox_rows(stack, to)
        # The sender probes an unreachable server with a doubling back-off
        # (1, 2, 4, 8, 16 s): the first probe that sees this row may come
        # after 15 s when an earlier outage left the back-off high.
        deadline = time.monotonic() + 40
        while not last_error(stack, row[0]):
            assert time.monotonic() < deadline, outbox_rows(stack, to)
            time.sleep(0.1)
        time.sleep(4)  # several retry periods (retry_seconds = 1)
        (row,) = outbox_rows(stack, to)
        assert row[2] == "0" and row[3] is None, row
        inst = stack.start_portaild({"mail": {"alert_after_seconds": 2}})
        body = stack.client(base_url=inst.base_url, origin=inst.origin).get(
            "/api/v1/health").json()
        ob = body["outbox"]
        assert ob["undelivered"] >= 1 and ob["oldest_seconds"] >= 4 and ob["alert"] is True, ob
        assert body["status"] == "ok"
        deadline = time.monotonic() + 15
        while not any("outbox backlog" in r.get("msg", "") for r in inst.log_records()):
            assert time.monotonic() < deadline, "no backlog alert in the log"
            time.sleep(0.2)
        rec = [r for r in inst.log_records() if "outbox backlog" in r.get("msg", "")][0]
        assert rec["level"] == "error", rec
    finally:
        stack.start_smtp()
        if inst:
            stack.stop_portaild(inst)
    (m,) = wait_mails_to(stack, to, 1, timeout=60)
    assert m["subject"] == "Pendant la panne"
    ob = client.get("/api/v1/health").json()["outbox"]
    assert ob["alert"] is False


def test_a_delivered_mails_body_is_not_kept(stack, client):
    """Issue 14 item 4: mail bodies carry bearer links (?token=): once the
    mail is delivered its body is blanked; recipient, subject and dates stay
    for the trail until jobs.keep_mail_days."""
    to = rcpt()
    enqueue(client, to, "Lien", "https://portail.example/x?token=SECRETTOKEN\n")
    wait_mails_to(stack, to, 1)
    deadline = time.monotonic() + 10
    while True:
        rows = stack.sql("SELECT LENGTH(body), sent_at IS NOT NULL, subject FROM mail_outbox "
                         "WHERE recipient = %s" % sql_quote(to))
        if rows[0][1] == "1":
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)
    assert rows == [["0", "1", "Lien"]]


BODY = ("Bonjour Zoé,\n"
        "\n"
        "Votre demande de remboursement n° 42 a été traitée : 23,50 €.\n"
        ".ligne qui commence par un point\n"
        ".\n"
        "Tabulation\tet espaces  en fin   \n"
        "Ligne finale sans saut de ligne")


def test_mail_arrives_intact(stack, client):
    to = rcpt()
    subject = "Votre compte a été débloqué"
    enqueue(client, to, subject, BODY)
    (m,) = wait_mails_to(stack, to, 1)
    assert m["subject"] == subject
    assert m["from"] == FROM
    assert m["rcpt"] == to
    assert m["headers"]["X-MailFrom"] == "ne-pas-repondre@portail.example"
    msg = m["msg"]
    # Issue 15: a text part and an HTML part saying the same, both UTF-8.
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_payload()
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    for part in (text, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Votre demande de remboursement n° 42 a été traitée : 23,50 €." in m["html"]
    assert "<p" in m["html"] and '<html lang="fr">' in m["html"]
    assert msg["Date"] and msg["Message-ID"]
    # Non-ASCII subjects travel as RFC 2047 encoded words.
    raw = m["path"].read_bytes()
    assert b"=?UTF-8?B?" in raw.split(b"\r\n\r\n", 1)[0] or b"=?UTF-8?B?" in raw.split(b"\n\n", 1)[0]
    assert m["body"].replace("\r\n", "\n").rstrip("\n") == BODY
    assert outbox_rows(stack, to)[0][3] is not None  # sent_at


def test_long_lines_and_long_subject(stack, client):
    to = rcpt()
    subject = "Relevé de remboursements — " + "é" * 60 + " fin"
    body = "début " + "x" * 1500 + " = fin\nsuite ligne 2 é\n"
    enqueue(client, to, subject, body)
    (m,) = wait_mails_to(stack, to, 1)
    assert m["subject"] == subject
    assert m["body"].replace("\r\n", "\n").rstrip("\n") == body.rstrip("\n")
    for line in m["path"].read_bytes().split(b"\n"):
        assert len(line) <= 1000, len(line)


@pytest.mark.timeout(90)
def test_smtp_down_then_up_delivers_each_mail_once(stack, client):
    to = rcpt()
    stack.stop_smtp()
    try:
        for i in range(3):
            enqueue(client, to, "Message %d" % i, "Corps %d\n" % i)
        # The sender has tried and failed at least once (a connection
        # failure is not the mail's: it leaves an error, not an attempt).
        deadline = time.monotonic() + 10
        while not any(last_error(stack, r[0]) for r in outbox_rows(stack, to)):
            assert time.monotonic() < deadline, outbox_rows(stack, to)
            time.sleep(0.1)
        assert mails_to(stack, to) == []
    finally:
        stack.start_smtp()
    got = wait_mails_to(stack, to, 3, timeout=40)
    time.sleep(2)  # any duplicate would come now
    got = mails_to(stack, to)
    assert sorted(m["subject"] for m in got) == ["Message 0", "Message 1", "Message 2"]
    assert all(r[3] is not None for r in outbox_rows(stack, to))


@pytest.mark.timeout(120)
def test_mail_survives_a_portaild_restart(stack, client):
    to = rcpt()
    stack.stop_smtp()
    try:
        enqueue(client, to, "Avant le redémarrage", "Toujours là.\n")
        rc = stack.portaild.stop()
        assert rc == 0, stack.portaild.stderr()[-2000:]
        assert outbox_rows(stack, to)[0][3] is None  # not sent
    finally:
        stack.start_smtp()
        if stack.portaild.proc is None or stack.portaild.poll() is not None:
            stack.portaild.start()
            stack.portaild.wait_healthy(30)
    (m,) = wait_mails_to(stack, to, 1, timeout=40)
    assert m["subject"] == "Avant le redémarrage"
    time.sleep(2)
    assert len(mails_to(stack, to)) == 1


@pytest.mark.parametrize("explicit", [False, True])
def test_rolled_back_mail_is_never_sent(stack, client, explicit):
    to = rcpt()
    r = client.post("/api/v1/test/mail/rollback",
                    json={"to": to, "subject": "Annulé", "body": "Jamais envoyé.\n",
                          "explicit": explicit})
    assert r.status_code == 409, r.text
    # A mail queued after it is delivered; the rolled-back one never is.
    enqueue(client, to, "Témoin", "Envoyé.\n")
    wait_mails_to(stack, to, 1)
    time.sleep(0.5)
    assert [m["subject"] for m in mails_to(stack, to)] == ["Témoin"]
    assert [r[1] for r in outbox_rows(stack, to)] == ["Témoin"]


@pytest.mark.timeout(60)
def test_file_transport_writes_parsable_eml(stack, tmp_path):
    # Its own database: the stack's portaild would otherwise send the mail
    # over SMTP first.
    db = stack.fresh_database("portail_files")
    maildir = tmp_path / "eml"
    inst = stack.start_portaild({"database": {"name": db},
                                 "mail": {"transport": "file", "dir": str(maildir)}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    to1, to2 = rcpt(), rcpt()
    enqueue(c, to1, "Votre compte a été débloqué", BODY)
    enqueue(c, to2, "Attestation", "x" * 1200 + "\n")
    deadline = time.monotonic() + 15
    while len(list(maildir.glob("*.eml"))) < 2:
        assert time.monotonic() < deadline, list(maildir.iterdir()) if maildir.exists() else None
        time.sleep(0.1)
    time.sleep(0.5)
    files = sorted(maildir.glob("*.eml"))
    assert len(files) == 2, files
    assert not [p for p in maildir.iterdir() if p.name.startswith(".")]
    msgs = {}
    for p in files:
        msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        assert not msg.defects, (p, msg.defects)
        msgs[str(msg["To"])] = msg
    m1, m2 = msgs[to1], msgs[to2]
    assert str(m1["Subject"]) == "Votre compte a été débloqué"
    assert str(m1["From"]) == FROM
    t1, t2 = m1.get_body(("plain",)), m2.get_body(("plain",))
    assert t1.get_content().replace("\r\n", "\n").rstrip("\n") == BODY
    assert t2.get_content().replace("\r\n", "\n").rstrip("\n") == "x" * 1200
    assert t2["Content-Transfer-Encoding"] == "quoted-printable"
    assert "x" * 1200 in m2.get_body(("html",)).get_content()
    rows = stack.sql("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL", database=db)
    assert rows == [["2"]]
    # Nothing went out by SMTP.
    assert mails_to(stack, to1) == [] and mails_to(stack, to2) == []


@pytest.mark.parametrize("to", [
    "victime@example.fr\r\nBcc: espion@example.com",
    "victime@example.fr\nBcc: espion@example.com",
    "victime@example.fr\r",
    "victime@example.fr, espion@example.com",
    "Victime <victime@example.fr>",
    "pas-une-adresse",
    "a@b@example.fr",
])
def test_invalid_recipient_is_refused(stack, client, to):
    r = client.post("/api/v1/test/mail", json={"to": to, "subject": "Test", "body": "x"})
    assert r.status_code == 422, r.text
    assert stack.sql("SELECT COUNT(*) FROM mail_outbox WHERE recipient = %s" % sql_quote(to)) \
        == [["0"]]


def test_subject_with_newline_is_refused(stack, client):
    to = rcpt()
    r = client.post("/api/v1/test/mail",
                    json={"to": to, "subject": "Objet\r\nBcc: espion@example.com", "body": "x"})
    assert r.status_code == 422, r.text
    assert outbox_rows(stack, to) == []
