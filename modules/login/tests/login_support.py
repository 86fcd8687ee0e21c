"""Helpers for the login module's tests (test_login*.py, test_backoffice_login.py):
an RFC 6238 TOTP in a few lines, NIR keys, members with a password and TOTP
made quickly, client addresses of their own per test."""

import base64
import hashlib
import hmac
import itertools
import re
import struct
import time
from types import SimpleNamespace

# fresh_ip: a private address no other test uses (no GeoIP country, its own
# per-address failure budget).
from conftest import fresh_ip, sql_quote  # noqa: F401

# A password the policy accepts (length, cracklib, no personal data).
PASSWORD = "Tournesol-Violon-Pirogue-19"
OTHER_PASSWORD = "Gazelle-Trombone-Citadelle-52"
WRONG_PASSWORD = "Ceci-N-Est-Pas-Le-Bon-1"

# GeoIP of Debian's database, through nginx's real_ip (X-Forwarded-For).
FR_IP = "2.2.2.2"
US_IP = "8.8.8.8"
GB_IP = "5.39.1.1"


# ---------------------------------------------------------------- TOTP


def totp(secret_b32, offset=0, now=None):
    """The RFC 6238 code (SHA-1, 6 digits, 30 s) of the step `offset` steps
    from now."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if now is None else now) // 30) + offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def step_now():
    return int(time.time() // 30)


def away_from_step_edge(margin=3.0):
    """Sleeps past the next step boundary when less than margin seconds of
    the current step remain, so that codes computed now are judged on the
    same step by the server."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.2)


# ----------------------------------------------------------------- NIR


def nir_key(body13):
    """The key of a 13-character NIR body (2A -> 19, 2B -> 18)."""
    digits = body13.replace("2A", "19", 1) if body13[5:7] == "2A" else body13
    digits = digits.replace("2B", "18", 1) if body13[5:7] == "2B" else digits
    return "%02d" % (97 - int(digits) % 97)


def nir(body13):
    return body13 + nir_key(body13)


# ------------------------------------------------------------- members


def register_body(m, email, **changes):
    """A registration with the proof on file of stack.new_member()'s person
    (postcode and IBAN end); the link goes to the address on file, or to
    `email` when the insured record has none."""
    body = {"nir": m.nir, "birth_date": m.birth_date, "postal_code": m.postal_code,
            "iban_end": m.iban_end, "email": email}
    body.update(changes)
    return body



# ------------------------------------------------------------- agents

AGENT_LINK = re.compile(
    r"(http://[^/\s]+)/backoffice/enrolement\.html\?token=([A-Za-z0-9_-]{43})")
_agent_seq = itertools.count(int(time.time()) % 100000)


def add_agent(stack, role="agent", email=None):
    """`portailctl agent add`: (login, token of the enrolment link, which
    points at the stack's origin)."""
    login = "agent.test%d" % next(_agent_seq)
    args = ["agent", "add", login, "--name", "Jeanne Testeuse", "--role", role]
    if email:
        args += ["--email", email]
    r = stack.portailctl(*args)
    assert r.returncode == 0, r.stderr
    m = AGENT_LINK.search(r.stdout)
    assert m, r.stdout
    assert m.group(1) == stack.origin
    return login, m.group(2)


def enrol(c, token, password=PASSWORD):
    """The enrolment by the link: password, then the first TOTP code; the
    TOTP secret (the code of the current step is used)."""
    r = c.post("/api/v1/backoffice/enroll", json={"token": token, "password": password})
    assert r.status_code == 200, r.text
    secret = r.json()["secret_base32"]
    away_from_step_edge()
    r = c.post("/api/v1/backoffice/enroll/totp", json={"token": token, "code": totp(secret)})
    assert r.status_code == 200, r.text
    return secret


def enrolled_agent(stack, role="agent"):
    """A new agent, enrolled with PASSWORD: (login, TOTP secret)."""
    login, token = add_agent(stack, role)
    return login, enrol(stack.client(xff=fresh_ip()), token)


def problem_without_ids(r):
    """A problem body minus what differs between requests."""
    body = dict(r.json())
    body.pop("request_id", None)
    return body


class Accounts:
    """Makes members and agents for the tests. The password hash is made
    once (through registration) and reused: each Argon2id costs ~120 ms."""

    def __init__(self, stack):
        self.stack = stack
        self._hash = None

    def password_hash(self):
        if self._hash is None:
            m = self.stack.new_member()
            c = self.stack.client(xff=fresh_ip())
            r = c.post("/api/v1/register", json=register_body(m, m.email))
            assert r.status_code == 202, r.text
            token = self.link_token(m.email, "/inscription/confirmation.html")
            r = c.post("/api/v1/register/confirm", json={"token": token, "password": PASSWORD})
            assert r.status_code == 201, r.text
            self._hash = self.stack.sql("SELECT password_hash FROM members WHERE id = %d"
                                        % m.id)[0][0]
            assert self._hash.startswith("$argon2id$")
        return self._hash

    def link_token(self, to, path, timeout=20):
        """The token of the last link to path mailed to `to`."""
        m = self.stack.wait_for_mail(lambda m: m["to"] == to and path in m["body"],
                                     timeout=timeout)
        found = re.findall(re.escape(path) + r"\?token=([A-Za-z0-9_-]{43})", m["body"])
        assert found, m["body"]
        return found[-1]

    def member(self, email=None):
        """A member with PASSWORD, no TOTP."""
        m = self.stack.new_member(email=email)
        self.stack.sql("UPDATE members SET password_hash = %s WHERE id = %d"
                       % (sql_quote(self.password_hash()), m.id))
        m.password = PASSWORD
        return m

    def login(self, client, m, password=None, expect=200):
        r = client.post("/api/v1/login", json={"nir": m.nir, "password": password or m.password})
        assert r.status_code == expect, r.text
        return r

    def enrolled(self, client=None, xff=None):
        """A member with PASSWORD and TOTP; `client` ends signed in (member
        level). The enrolment code used the current step: the next sign-in
        must use a later one (offset=1)."""
        m = self.member()
        c = client or self.stack.client(xff=xff or fresh_ip())
        assert self.login(c, m).json() == {"next": "totp_enroll"}
        r = c.get("/api/v1/totp/enroll")
        assert r.status_code == 200, r.text
        m.secret = r.json()["secret_base32"]
        away_from_step_edge()
        r = c.post("/api/v1/totp/enroll", json={"code": totp(m.secret)})
        assert r.status_code == 200, r.text
        m.recovery_codes = r.json()["recovery_codes"]
        m.client = c
        return m

    def events(self, m):
        return [row[0] for row in self.stack.sql(
            "SELECT kind FROM security_events WHERE member_id = %d ORDER BY id" % m.id)]

    def mails_to(self, m, subject=None):
        return [x for x in self.stack.mails()
                if x["to"] == m.email and (subject is None or x["subject"] == subject)]

    def wait_mail(self, m, subject, timeout=20):
        return self.stack.wait_for_mail(
            lambda x: x["to"] == m.email and x["subject"] == subject, timeout=timeout)

    def lock_state(self, m):
        rows = self.stack.sql("SELECT reason FROM account_locks WHERE member_id = %d" % m.id)
        return rows[0][0] if rows else None

    def counters(self, m):
        rows = self.stack.sql("SELECT password_failures, second_factor_failures FROM "
                              "account_counters WHERE member_id = %d" % m.id)
        return tuple(int(x) for x in rows[0]) if rows else (0, 0)


def ns(**kw):
    return SimpleNamespace(**kw)
