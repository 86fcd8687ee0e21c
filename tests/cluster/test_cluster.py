"""Portail scaled out (script/cluster): 3 Galera nodes, two portaild (on
nodes 1 and 2), nginx balancing both. Started once for the module in a
directory of its own, with both portaild sending mail to an aiosmtpd of the
module and loading tests/modules/jobmod; skipped when the cluster cannot
start here (no galera-4, not root, no build).

The two portaild are also reached directly over their FastCGI sockets
(tests/integration/fcgi_client.py) when a test must choose the host."""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import types
from pathlib import Path

import pytest

# The harness (free_port, MariaDB's client, the build, the cookie's name)
# and the login module's test helpers (TOTP, NIR): tests/cluster/conftest.py
# puts them on the path.
import fcgi_client
from conftest import (BUILD, SESSION_COOKIE as COOKIE, MariaDB, Smtp, free_port, load_password,
                      wait_until)
from login_support import away_from_step_edge, nir, step_now, totp

ROOT = Path(__file__).resolve().parents[2]
GALERA = Path("/usr/lib/galera/libgalera_smm.so")
# A node's last committed seqno and the counters of what Galera did to its
# local transactions: replayed after a brute-force abort, aborted, refused
# at certification.
GALERA_COUNTERS = ", ".join(
    "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '%s')" % v
    for v in ("wsrep_last_committed", "wsrep_local_replays", "wsrep_local_bf_aborts",
              "wsrep_local_cert_failures"))
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
# PORTAIL_TEST_CLUSTER_HUNT=1: each password change read back on every node
# right after its 200 (Load.read_back), for the lost change of issue 18.
HUNT = os.environ.get("PORTAIL_TEST_CLUSTER_HUNT") == "1"
# The writer's answers that change nothing (429, 500, 503: refused or rolled
# back) or leave the write unknown (502, 504, 599: lost with its host).
UNCHECKED = (429, 500, 502, 503, 504, 599)


def port_base():
    """A free base for script/cluster's ports (base+10 to base+33), below the
    kernel's ephemeral range: a port a killed node frees could otherwise be
    taken by one of the load's outgoing connections before the node comes
    back (its IST listener then cannot bind and the join fails). Above
    script/cluster's default (14300) and bench/cluster's (15300)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(20):
        base = random.randrange(16000, min(low, 32768) - 100, 100)
        if port_base_free(base):
            return base
    pytest.skip("no free port base for the cluster below %d" % low)


def port_base_free(base):
    for p in range(base + 10, base + 34):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True


class Cluster:
    def __init__(self, d, base, http_port, smtp):
        self.dir = Path(d)
        self.base = base
        self.http_port = http_port
        self.smtp = smtp
        self.env = dict(os.environ, PORTAIL_CLUSTER_DIR=str(d),
                        PORTAIL_CLUSTER_PORT_BASE=str(base),
                        PORTAIL_CLUSTER_HTTP_PORT=str(http_port), PORTAIL_BUILD=str(BUILD),
                        PORTAIL_CLUSTER_SMTP_URL=smtp.url, PORTAIL_CLUSTER_TEST_MODULES="jobmod")
        self.origin = "http://127.0.0.1:%d" % http_port

    def script(self, *args, timeout=300):
        return subprocess.run([str(ROOT / "script" / "cluster"), *args], env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout)

    def sql(self, node, query):
        # A node's directory has the harness's MariaDB layout (lib.sh's).
        return MariaDB(self.dir / ("node%d" % node)).sql(query)

    def status(self, node, var):
        return self.sql(node, "SHOW GLOBAL STATUS LIKE '%s'" % var)[0][1]

    def pid(self, what):
        return int((self.dir / what).read_text().strip())

    def sock(self, n):
        return self.dir / "run" / ("portaild%d.sock" % n)

    def fcgi(self, n, method, uri, body=None, cookie=None, csrf=None, ip="127.0.0.1"):
        """One request straight to portaild n."""
        data = json.dumps(body).encode() if body is not None else b""
        extra = {"HTTP_HOST": "127.0.0.1:%d" % self.http_port, "REMOTE_ADDR": ip,
                 "HTTP_ORIGIN": self.origin, "SERVER_NAME": "127.0.0.1",
                 "SERVER_PORT": str(self.http_port)}
        if body is not None:
            extra["CONTENT_TYPE"] = "application/json"
            extra["CONTENT_LENGTH"] = str(len(data))
        if cookie:
            extra["HTTP_COOKIE"] = "%s=%s" % (COOKIE, cookie)
        if csrf:
            extra["HTTP_X_CSRF_TOKEN"] = csrf
        return fcgi_client.request(self.sock(n), fcgi_client.base_params(method, uri, **extra),
                                   stdin=data, timeout=30)


def credentials(r):
    """(cookie, csrf) set by a response."""
    cookie = None
    for k, v in r.header_list:
        m = re.match(COOKIE + r"=([^;]+)", v) if k.lower() == "set-cookie" else None
        if m:
            cookie = m.group(1)
    return cookie, r.headers.get("x-csrf-token")


def keep_logs(d):
    """The logs of a cluster (nodes, portaild, nginx) and each node's
    grastate.dat, copied beside its directory before it goes: the node-kill
    failure of 2026-11-30 19:47 could not be looked into, its logs gone."""
    keep = Path(d + "-logs")
    names = ["log", "nginx/logs"] + ["node%d/%s" % (n, f) for n in (1, 2, 3)
                                     for f in ("log", "db/grastate.dat")]
    for name in names:
        src, dst = Path(d) / name, keep / name
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    return keep


@pytest.fixture(scope="module")
def cluster(request):
    if not GALERA.exists():
        pytest.skip("galera-4 is not installed (script/bootstrap)")
    if os.geteuid() != 0:
        pytest.skip("script/cluster runs the nodes as the mysql user: needs root")
    if not (BUILD / "portaild").exists():
        pytest.skip("no build in %s" % BUILD)
    if not (BUILD / "tests" / "modules" / "jobmod" / ".libs" / "jobmod.so").exists():
        pytest.skip("no tests/modules/jobmod in %s (make check builds it)" % BUILD)
    base = port_base()
    d = tempfile.mkdtemp(prefix="portail-cluster-")
    os.chmod(d, 0o755)
    smtp = Smtp(Path(d) / "smtp")
    smtp.start()
    c = Cluster(d, base, free_port(), smtp)
    r = c.script("up")
    if r.returncode != 0:
        c.script("down")
        smtp.stop()
        out = r.stdout[-3000:]
        shutil.rmtree(d, ignore_errors=True)
        pytest.skip("the cluster did not start here:\n" + out)
    try:
        demo_setup(c)
        yield c
    finally:
        c.script("down")
        smtp.stop()
        # PORTAIL_TEST_CLUSTER_KEEP_LOGS=1: kept after a pass too (a 5xx
        # the test tolerates, a stale read, looked into afterwards).
        if request.session.testsfailed or os.environ.get("PORTAIL_TEST_CLUSTER_KEEP_LOGS") == "1":
            print("\ncluster logs kept in %s" % keep_logs(d))
        shutil.rmtree(d, ignore_errors=True)


def demo_setup(c):
    d = str(c.dir)
    demo = subprocess.run([str(BUILD / "portailctl"), "--config", str(d + "/portaild1.conf"),
                           "demo", "--yes-this-is-a-demo-database"], stdout=subprocess.PIPE,
                          text=True, check=True, timeout=120).stdout
    c.member_nir = re.search(r"NIR\s+(\d{15})", demo).group(1)
    c.password = re.search(r"mot de passe\s+(\S+)", demo).group(1)
    c.totp = re.search(r"secret TOTP\s+([A-Z2-7]+)", demo).group(1)
    c.member_id = int(c.sql(1, "SELECT m.id FROM members m JOIN insured i ON i.id = m.insured_id "
                               "WHERE i.nir = '%s'" % c.member_nir)[0][0])


def test_three_nodes_synced(cluster):
    out = cluster.script("status").stdout
    for n in (1, 2, 3):
        assert cluster.status(n, "wsrep_cluster_size") == "3", out
        assert cluster.status(n, "wsrep_local_state_comment") == "Synced", out
    assert "portaild1 running" in out and "portaild2 running" in out, out
    # The pool's connections wait for the node to catch up (database.galera).
    assert "galera = true;" in (cluster.dir / "portaild1.conf").read_text()


def test_session_made_on_one_host_works_on_the_other(cluster):
    left = 30 - time.time() % 30
    if left < 4:
        time.sleep(left + 0.5)
    r = cluster.fcgi(1, "POST", "/api/v1/login",
                     {"nir": cluster.member_nir, "password": cluster.password})
    assert r.status == 200, r.body
    cookie, csrf = credentials(r)
    # Right away, through the other host (node2): the partial session
    # written on node1 is read there (wsrep_sync_wait).
    r = cluster.fcgi(2, "POST", "/api/v1/login/totp", {"code": totp(cluster.totp)},
                     cookie=cookie, csrf=csrf)
    assert r.status == 200, r.body
    cookie, csrf = credentials(r)
    assert cookie
    for n in (1, 2):
        r = cluster.fcgi(n, "GET", "/api/v1/me", cookie=cookie)
        assert r.status == 200, (n, r.body)


def test_per_ip_throttle_counts_across_hosts(cluster):
    ip = "198.51.100.%d" % random.randrange(1, 250)
    unknown = nir("1%02d0375%06d" % (random.randrange(1, 99), random.randrange(0, 999999)))
    body = {"nir": unknown, "password": "Mauvais-Mot-De-Passe-1"}
    statuses = []
    for i in range(20):  # the login module's ip_max_failures
        statuses.append(cluster.fcgi(1 + i % 2, "POST", "/api/v1/login", body, ip=ip).status)
    assert statuses == [401] * 20, statuses
    for n in (1, 2):
        r = cluster.fcgi(n, "POST", "/api/v1/login", body, ip=ip)
        assert r.status == 429, (n, r.status, r.body)




def conflicts(c, node):
    """Transactions of that node aborted by Galera for a conflict with a
    write made through another node (certification, brute force)."""
    return sum(int(c.status(node, v)) for v in ("wsrep_local_cert_failures",
                                                  "wsrep_local_bf_aborts"))


@pytest.mark.timeout(150)
def test_jobs_and_mail_run_exactly_once_across_hosts(cluster):
    """Both portaild, on node1 and node2, run the job queue and the mail
    outbox over the same rows: row locks are local to a Galera node, so
    their claims race for real; the claim that loses certification must not
    run its job or send its mail."""
    c = cluster
    jobs_n, mails_n = 200, 100
    r = c.fcgi(1, "POST", "/api/v1/test/jobmod/setup", {})
    assert r.status == 200, r.body
    tag = "x%08x" % random.randrange(1 << 32)
    before = {n: conflicts(c, n) for n in (1, 2)}
    # Due together 3 s from now, so that the idle workers and senders of
    # both hosts wake to the same due rows. Jobs through portaild1, the mail
    # written on node3, where no portaild runs.
    r = c.fcgi(1, "POST", "/api/v1/test/jobs", {"kind": "jobmod.record", "payload": {"tag": tag},
                                                 "delay": 3, "count": jobs_n})
    assert r.status == 201, r.body
    ids = json.loads(r.body)["ids"]
    assert len(ids) == jobs_n
    c.sql(3, "INSERT INTO mail_outbox (recipient, subject, body, next_attempt_at) VALUES "
          + ", ".join("('m%d@exemple.fr', '%s %d', 'Courriel %d.', UTC_TIMESTAMP() + INTERVAL 3 "
                      "SECOND)" % (i, tag, i, i) for i in range(mails_n)))
    mail_ids = [int(row[0]) for row in c.sql(3, "SELECT id FROM mail_outbox WHERE subject LIKE "
                                                "'%s %%'" % tag)]
    assert len(mail_ids) == mails_n
    id_list = ",".join(str(i) for i in ids)
    mail_list = ",".join(str(i) for i in mail_ids)

    def settled():
        jobs_done = int(c.sql(3, "SELECT COUNT(*) FROM jobs WHERE id IN (%s) AND state = 'done'"
                                 % id_list)[0][0])
        sent = int(c.sql(3, "SELECT COUNT(*) FROM mail_outbox WHERE id IN (%s) AND sent_at IS "
                            "NOT NULL" % mail_list)[0][0])
        return jobs_done == jobs_n and sent == mails_n

    wait_until(settled, 90, "%d jobs done and %d mails sent" % (jobs_n, mails_n))
    # A second run or send by a claim's loser would come within its own
    # claim round: let it land before counting.
    time.sleep(3)

    runs = c.sql(3, "SELECT job_id, COUNT(*), GROUP_CONCAT(DISTINCT pid) FROM jobmod_runs "
                    "WHERE tag = '%s' GROUP BY job_id" % tag)
    twice = [r for r in runs if r[1] != "1"]
    assert not twice, "jobs run more than once: %s" % twice[:10]
    assert sorted(int(r[0]) for r in runs) == sorted(ids), "jobs never run"
    # Which hosts ran them: both, usually; in one whole run (19:47 UTC) the
    # first host to wake took all 200, so the race is shown by the
    # certification conflicts printed below, not asserted by host.
    pids = {r[2] for r in runs}
    hosts = {str(c.pid("run/portaild1.pid")), str(c.pid("run/portaild2.pid"))}
    assert pids <= hosts, (pids, hosts)
    print("jobs run by %d of the 2 hosts" % len(pids))

    delivered = {}
    for m in c.smtp.mails():
        if m["subject"].startswith(tag + " "):
            delivered[m["headers"]["Message-ID"]] = delivered.get(m["headers"]["Message-ID"], 0) + 1
    assert {v for v in delivered.values()} == {1}, \
        "mail delivered more than once: %s" % {k: v for k, v in delivered.items() if v > 1}
    assert sorted(delivered) == sorted("<outbox-%d@portail>" % i for i in mail_ids)
    print("\nexactly once: %d jobs (pids %s), %d mails; Galera conflicts during the run: "
          "node1 %d, node2 %d" % (jobs_n, sorted(pids), mails_n,
                                  conflicts(c, 1) - before[1], conflicts(c, 2) - before[2]))


REPLAY_SUBJECT = "Alerte de sécurité\u00a0: code de sécurité réutilisé"
REPLAY_DETAIL = "Le code saisi est incorrect ou a déjà été utilisé."
# With one session, the loser that comes after the winner replaced the
# partial session finds it gone: at the start of the request (no session),
# or when it elevates it (expired).
GONE_DETAILS = ("Veuillez vous connecter pour accéder à ce service.",
                "Votre session a expiré. Veuillez vous reconnecter.")


def totp_race(c, sessions):
    """One round: the member's step forgotten, `sessions` password steps
    (through portaild1, then portaild2), then the same valid code sent
    to portaild1 and portaild2 at the same moment. Checks one sign-in and
    at most one replay, each recorded once, and returns (the refusal's
    detail, the Galera conflicts on nodes 1 and 2 meanwhile)."""
    mid = c.member_id
    email = c.sql(1, "SELECT email FROM members WHERE id = %d" % mid)[0][0]
    # Its own address: a replay counts against the address (20 allowed).
    ip = "203.0.113.%d" % random.randrange(1, 250)

    def count(query):
        # Through node3, once every write certified before it is applied.
        return int(c.sql(3, "SET SESSION wsrep_sync_wait = 1; " + query)[0][0])

    def events(kind):
        return count("SELECT COUNT(*) FROM security_events WHERE member_id = %d AND kind = '%s'"
                     % (mid, kind))

    def replay_mails():
        return count("SELECT COUNT(*) FROM mail_outbox WHERE recipient = '%s' AND subject = '%s'"
                     % (email, REPLAY_SUBJECT))

    c.sql(1, "UPDATE members SET totp_last_step = NULL WHERE id = %d" % mid)
    away_from_step_edge(8.0)
    creds = []
    for n in range(1, sessions + 1):
        r = c.fcgi(n, "POST", "/api/v1/login", {"nir": c.member_nir, "password": c.password},
                   ip=ip)
        assert r.status == 200, r.body
        creds.append(credentials(r))
    if sessions == 1:
        creds.append(creds[0])
    before = {k: events(k) for k in ("login_succeeded", "totp_replayed")}
    mails_before = replay_mails()
    conflicts_before = {n: conflicts(c, n) for n in (1, 2)}
    step = step_now()
    code = totp(c.totp)
    barrier = threading.Barrier(2, timeout=30)
    answers = {}

    def send(n):
        cookie, csrf = creds[n - 1]
        barrier.wait()
        answers[n] = c.fcgi(n, "POST", "/api/v1/login/totp", {"code": code}, cookie=cookie,
                            csrf=csrf, ip=ip)

    threads = [threading.Thread(target=send, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 2, answers
    raced = sum(conflicts(c, n) - conflicts_before[n] for n in (1, 2))
    statuses = sorted(r.status for r in answers.values())
    assert statuses == [200, 401], {n: (r.status, r.body) for n, r in answers.items()}
    winner = next(n for n, r in answers.items() if r.status == 200)
    detail = json.loads(answers[3 - winner].body)["detail"]
    # With two sessions, the loser's is its own: only the replay refuses it.
    assert detail == REPLAY_DETAIL or (sessions == 1 and detail in GONE_DETAILS), detail
    replays = int(detail == REPLAY_DETAIL)
    cookie, _ = credentials(answers[winner])
    for n in (1, 2):
        assert c.fcgi(n, "GET", "/api/v1/me", cookie=cookie).status == 200
    # One sign-in; the replay recorded and mailed once (when it was one).
    assert events("login_succeeded") == before["login_succeeded"] + 1
    assert events("totp_replayed") == before["totp_replayed"] + replays
    assert replay_mails() == mails_before + replays
    assert count("SELECT totp_last_step FROM members WHERE id = %d" % mid) == step
    return detail, raced


@pytest.mark.timeout(150)
@pytest.mark.parametrize("sessions", [1, 2], ids=["one-session", "two-sessions"])
def test_one_totp_code_through_both_hosts_at_once_lets_one_in(cluster, sessions):
    """The same valid code sent at the same moment to portaild1 (node1) and
    portaild2 (node2): row locks are local to a node, so both can find the
    step unused and record it; Galera's certification then aborts one of the
    two commits (members.totp_last_step, the same row), portail_tx_retry
    reruns it and it finds the step taken: one sign-in, one replay (401,
    recorded and mailed once), never two sign-ins nor a 500. With one
    session (a double submit) or two (someone who saw the code and knows the
    password signs in beside the member). Whether the two commits met in
    certification or one came after the other is timing: 4 rounds, and more
    until one did (Galera's conflict counters say so), 8 at most. A round
    where the loser's transaction was aborted at a clean-up's statement
    answered 500, in 3 rounds of about 50 (core/db.c now reruns on the
    transaction's first conflict)."""
    seen = []
    for _ in range(8):
        detail, raced = totp_race(cluster, sessions)
        seen.append(("replay" if detail == REPLAY_DETAIL else "session gone", raced))
        if raced and len(seen) >= 4:
            break
    print("\n%d session(s), rounds (refusal, Galera conflicts): %s" % (sessions, seen))


class Load:
    """Threads signing in (each a new session row: a write) through nginx,
    and reading /api/v1/health; with a `changer` (password_changer), one more
    changing that member's password again and again (a write of the login
    module: the hash, the other sessions out, an event and a mail, in one
    transaction); with a `booker` (booker), one more booking and cancelling
    appointments (the appointments module's writes: the row, its reminder
    jobs, the freed slot's waitlist job); with a `writer` (writer), one more
    sending reimbursement claims and messages, each with a PDF (the
    documents service's rows with them), and changing an address. Every answer is recorded with its
    time."""

    def __init__(self, cluster, threads=4, changer=None, booker=None, writer=None):
        self.c = cluster
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = []       # token cookies of acknowledged sign-ins
        self.events = []      # (time, status) of every request
        self.changer = changer
        self.changes = []     # (time, password, request id) of acknowledged changes
        self.booker = booker
        self.booked = []      # (time, id) of acknowledged bookings
        self.cancelled = []   # (time, id) of acknowledged cancellations
        self.writer = writer
        self.claims = []      # (time, id) of acknowledged reimbursement claims
        self.threads_sent = []  # (time, member id, thread id, message id) of acknowledged messages
        self.addresses = []   # the writer's last acknowledged address, then those left unknown
        # Daemon threads: one stuck in a request must not keep the run alive.
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]
        if changer:
            self.threads.append(threading.Thread(target=self.change_passwords, daemon=True))
        if booker:
            self.threads.append(threading.Thread(target=self.book_and_cancel, daemon=True))
        if writer:
            self.threads.append(threading.Thread(target=self.send_claims_and_messages,
                                                 daemon=True))

    def request(self, method, path, body=None, headers=None, files=None):
        import requests
        try:
            r = requests.request(method, "http://127.0.0.1:%d%s" % (self.c.http_port, path),
                                 json=body, files=files,
                                 headers={"Origin": self.c.origin, **(headers or {})},
                                 timeout=30)
            return r.status_code, r
        except requests.RequestException:
            return 599, None

    def send_claims_and_messages(self):
        """The writer's requests in turn: a reimbursement claim with one PDF
        (reimbursements: the claim, its document, the member's
        notification), then a new message with one PDF to the fund
        (messaging: the thread, the message, its attachment), from each of
        the writer's messengers in turn until its hourly limit (the module's
        429), then a change of the writer's postal address (coverage: the
        insured row and the contact profile). A refusal (429, 503) or a
        rollback (500) changed nothing; an answer lost with its host (502,
        504, none) leaves the write unknown, not checked (UNCHECKED)."""
        w = self.writer
        k = 0
        while not self.stop.is_set():
            k += 1
            st, r = self.post_pdf("reimbursements/claims", w, {
                "kind": "dentist", "amount_cents": str(1000 + k), "beneficiary": "me",
                "care_date": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400)),
                "comment": "Demande %d de la grappe" % k}, "documents", "feuille-%d.pdf" % k)
            if st == 201:
                with self.lock:
                    self.claims.append((time.monotonic(), r.json()["id"]))
            elif st not in UNCHECKED:
                return self.writer_stopped("claim", st, r)
            if w.messengers and not self.stop.is_set():
                m = w.messengers[0]
                st, r = self.post_pdf("messages", m, {
                    "recipient": "REMB", "subject": "Question %d de la grappe" % k,
                    "body": "Bonjour, où en est ma demande %d ?" % k}, "fichier", "piece-%d.pdf" % k)
                if st == 201:
                    with self.lock:
                        self.threads_sent.append((time.monotonic(), m.id, r.json()["id"],
                                                  r.json()["message_id"]))
                elif st == 429 and int(r.headers.get("Retry-After", "0")) >= 3600:
                    w.messengers.pop(0)  # this one's hour is full: the next one
                elif st not in UNCHECKED:
                    return self.writer_stopped("message", st, r)
            if not self.stop.is_set():
                address = "%d rue de la Grappe" % k
                st, r = self.request("PUT", "/api/v1/profile/contact", headers=w.headers,
                                     body={"email": w.email, "phone": "0612345678",
                                           "address_line": address, "postal_code": "75015",
                                           "city": "Paris"})
                self.record("profile/contact", st, r)
                if st == 200:
                    with self.lock:
                        self.addresses = [address]  # the last acknowledged, then the unknown
                elif st in (502, 504, 599):
                    with self.lock:
                        self.addresses.append(address)  # lost with its host: maybe written
                elif st not in UNCHECKED:
                    return self.writer_stopped("contact", st, r)
            time.sleep(0.2)

    def post_pdf(self, route, member, fields, part, filename):
        """A multipart POST to /api/v1/<route> as member: the fields, and
        one PDF in `part`; recorded, (status, response) returned."""
        st, r = self.request("POST", "/api/v1/" + route, headers=member.headers,
                             files=[(n, (None, v)) for n, v in fields.items()]
                             + [(part, (filename, PDF, "application/pdf"))])
        self.record(route, st, r)
        return st, r

    def writer_stopped(self, what, st, r):
        """The writer's thread ends on an answer the test did not expect."""
        self.writer.stopped = "%s answered %d: %s" % (what, st,
                                                      r.text[-300:] if r is not None else "")

    def change_passwords(self):
        """The changer's password, changed until the end. An answer lost
        (the host died with it) leaves two candidates for the current one:
        the next change tries the new one first, then the old; a wrong
        current password is one failure of the five the lock allows, and a
        second doubt stops the thread rather than lock the account. A
        refusal (429, 503) or a rollback (500) changed nothing."""
        ch = self.changer
        headers = {"Cookie": "%s=%s" % (COOKIE, ch.cookie), "X-CSRF-Token": ch.csrf}
        n = 0
        while not self.stop.is_set():
            n += 1
            fresh = load_password("Noeud-Perdu-Galera", n)
            for current in ([ch.pending, ch.password] if ch.pending else [ch.password]):
                st, r = self.request("POST", "/api/v1/password/change",
                                     {"current": current, "new": fresh}, headers)
                self.record("password/change", st, r)
                if st != 401:
                    break
            if st == 200:
                ch.previous, ch.password, ch.pending = ch.password, fresh, None
                with self.lock:
                    self.changes.append((time.monotonic(), fresh,
                                         r.headers.get("X-Request-Id")))
                    acked = len(self.changes)
                if HUNT:
                    self.read_back(acked, r.headers.get("X-Request-Id"))
            elif st in (502, 504, 599) and not ch.pending:
                # The answer was lost with its host: committed or not, the
                # next change tells.
                ch.pending = fresh
            elif st in (429, 500, 503):
                time.sleep(0.2)  # refused or rolled back: nothing changed
            elif st == 401 and not ch.pending and len(ch.stale) < 2:
                # The password acknowledged last was refused as the current
                # one. Taken for a stale read until 2026-12-01 03:55 UTC: it
                # was a change answered 200 that no node had (Galera aborted
                # its transaction at a lookup whose failure the code went
                # past, and the COMMIT then succeeded on nothing; core/db.c
                # refuses it now, docs/scaling.md). A stale read fails the
                # test at its end, with what each node held then and which
                # host served it; the changer goes on meanwhile so that the
                # writes are still checked (two at most: wrong passwords
                # lock).
                figures = self.stale_figures(r)
                # Was the change lost? Then the password before it is still
                # the current one (one wrong password more if not).
                st2, r2 = (self.request("POST", "/api/v1/password/change",
                                        {"current": ch.previous, "new": fresh}, headers)
                           if ch.previous else (None, None))
                if st2 is not None:
                    self.record("password/change", st2, r2)
                if st2 == 200:
                    # Lost: seen once after the 03:55 fix (a whole run,
                    # 2026-12-01 05:02 UTC), not since the core refuses a
                    # transaction the server ended under it
                    # (docs/scaling.md). Every other write is still
                    # checked; the test fails at its end with it printed.
                    ch.lost.append(figures)
                    ch.password = fresh  # ch.previous stays the one before
                    with self.lock:
                        self.changes.append((time.monotonic(), fresh,
                                             r2.headers.get("X-Request-Id")))
                    continue
                ch.stale.append(figures)
                time.sleep(1.0)
            else:
                ch.stopped = "answer %d at %.2f s (a second doubt, or a refusal): %s" % (
                    st, time.monotonic(), r.text[:200] if r is not None else "")
                return

    def node_events(self, n):
        """Node n's count of the changer's password_changed events, read
        without a causal wait (what the node has applied now), then its
        GALERA_COUNTERS. Raises for a dead node."""
        return self.c.sql(n, "SET SESSION wsrep_sync_wait = 0; SELECT (SELECT COUNT(*) FROM "
                             "security_events WHERE member_id = %d AND kind = "
                             "'password_changed'), %s" % (self.changer.id, GALERA_COUNTERS))[0]

    def read_back(self, acked, request_id):
        """PORTAIL_TEST_CLUSTER_HUNT=1: right after a change's 200, each
        node's count of its events without a causal wait, and its Galera
        counters; a node short of the changes acknowledged is recorded (it
        may only lag: the next read tells)."""
        for n in (1, 2, 3):
            try:
                row = self.node_events(n)
            except Exception:  # a dead node
                continue
            if int(row[0]) < acked:
                self.changer.behind.append("%.3f change %d (%s): node%d %s events, seqno %s, "
                                           "replays %s, bf aborts %s, cert failures %s"
                                           % ((time.monotonic(), acked, request_id, n) + tuple(row)))

    def stale_figures(self, r):
        """What each node holds when a change is refused on the password
        acknowledged last: its last committed seqno and the changer's
        password_changed events, read without a causal wait (what the node
        has applied now)."""
        t = time.monotonic()
        nodes = {}
        for n in (1, 2, 3):
            try:
                row = self.node_events(n)
                nodes[n] = "%s events, seqno %s, replays %s, bf aborts %s, cert failures %s" % (
                    tuple(row))
            except Exception as e:  # a dead node
                nodes[n] = "down (%s)" % str(e)[:60]
        with self.lock:
            acked = len(self.changes)
            last = self.changes[-1][2] if self.changes else None
        return types.SimpleNamespace(t=t, request_id=r.headers.get("X-Request-Id"),
                                     acked=acked, last_ack=last, nodes=nodes)

    def book_and_cancel(self):
        """The booker's appointments: one booked, then cancelled, again and
        again, each on another day (a booking whose answer was lost holds
        its day). A refusal (429, 503) or a rollback (500) changed nothing;
        an answer lost with its host leaves the write unknown, not checked."""
        bk = self.booker
        headers = {"Cookie": "%s=%s" % (COOKIE, bk.cookie), "X-CSRF-Token": bk.csrf}
        day0 = time.time() // 86400 * 86400 + 2 * 86400
        k = 0
        while not self.stop.is_set():
            k += 1
            day = time.gmtime(day0 + (k % 50) * 86400)
            if time.strftime("%m-%d", day) in ("12-24", "12-25"):
                # The seed closes every agenda it finds at Christmas: not
                # this one, made after it, unless a seed runs again.
                continue
            start = time.strftime("%Y-%m-%dT10:00:00Z", day)
            st, r = self.request("POST", "/api/v1/appointments",
                                 {"agenda": bk.agenda, "start": start, "kind": "first"}, headers)
            self.record("appointments", st, r)
            if st in (429, 500, 503) or st == 409:
                # 409: that day is held by a booking whose answer was lost.
                time.sleep(0.2)
                continue
            if st != 201:
                if st not in (502, 504, 599):
                    bk.stopped = "booking answered %d: %s" % (st, r.text[-300:] if r is not None
                                                              else "")
                    return
                continue
            aid = r.json()["id"]
            with self.lock:
                self.booked.append((time.monotonic(), aid))
            for _ in range(20):
                if self.stop.is_set():
                    break
                st, r = self.request("POST", "/api/v1/appointments/%d/cancel" % aid, {}, headers)
                self.record("appointments/cancel", st, r)
                if st == 200:
                    with self.lock:
                        self.cancelled.append((time.monotonic(), aid))
                    break
                if st not in (429, 500, 503):
                    break  # lost with its host, or refused for good: left booked or unknown
                time.sleep(0.2)

    def run(self, i):
        while not self.stop.is_set():
            if i % 2 == 0:
                st, r = self.request("POST", "/api/v1/login",
                                     {"nir": self.c.member_nir, "password": self.c.password})
                if st == 200:
                    m = re.search(COOKIE + r"=([^;]+)", r.headers.get("Set-Cookie", ""))
                    with self.lock:
                        self.acked.append(m.group(1))
            else:
                st, r = self.request("GET", "/api/v1/health")
            self.record("login" if i % 2 == 0 else "health", st, r)

    def record(self, what, st, r):
        """An answer and its time. A 503 with Retry-After (every hash slot
        busy: the sign-in's bounded wait ran out) is a refusal the pages
        retry, not a failure of the cluster."""
        refused = st == 503 and r is not None and "Retry-After" in r.headers
        with self.lock:
            self.events.append((time.monotonic(), st, what, refused))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        # 40 s for them all (a request's own limit is 30 s), not 60 s each.
        deadline = time.monotonic() + 40
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        stuck = sum(t.is_alive() for t in self.threads)
        assert not stuck or exc[0] is not None, "%d load thread(s) still in a request" % stuck

    def failure_window(self, since):
        """Seconds from the first to the last 5xx after `since` (0 if none),
        their number, when the last one came, in seconds after `since`, and
        each one (seconds after `since`, status, route)."""
        bad = [(t, st, what) for t, st, what, refused in self.events
               if t >= since and st >= 500 and not refused]
        return ((bad[-1][0] - bad[0][0]) if bad else 0.0, len(bad),
                (bad[-1][0] - since) if bad else 0.0,
                ["%.2f s %d %s" % (t - since, st, what) for t, st, what in bad])

    def refusals(self):
        return sum(refused for _, _, _, refused in self.events)


def signed_in_member(c, dept, last_name, email_prefix):
    """A member of its own (the demo member's sign-ins are the load's other
    writes and need its password unchanged), with the demo's password hash,
    enrolled and signed in with both factors straight on portaild2."""
    body = "1%02d%s%06d" % (random.randrange(50, 99), dept, random.randrange(0, 999999))
    number = nir(body)
    email = "%s-%s@example.fr" % (email_prefix, number)
    h = c.sql(1, "SELECT password_hash FROM members WHERE id = %d" % c.member_id)[0][0]
    c.sql(1, "INSERT INTO insured (nir, sex, last_name, first_name, birth_date, email, "
             "postal_code, iban) VALUES ('%s', 1, '%s', 'Marc', '19%s-05-17', '%s', "
             "'75015', 'FR7630006000011234567890189'); "
             "INSERT INTO members (insured_id, email, password_hash) "
             "VALUES (LAST_INSERT_ID(), '%s', '%s')" % (number, last_name, body[1:3], email,
                                                         email, h))
    r = c.fcgi(2, "POST", "/api/v1/login", {"nir": number, "password": c.password})
    assert r.status == 200 and json.loads(r.body)["next"] == "totp_enroll", r.body
    cookie, csrf = credentials(r)
    r = c.fcgi(2, "GET", "/api/v1/totp/enroll", cookie=cookie)
    assert r.status == 200, r.body
    secret = json.loads(r.body)["secret_base32"]
    away_from_step_edge()
    r = c.fcgi(2, "POST", "/api/v1/totp/enroll", {"code": totp(secret)}, cookie=cookie, csrf=csrf)
    assert r.status == 200, r.body
    new_cookie, new_csrf = credentials(r)
    member_id = int(c.sql(2, "SELECT m.id FROM members m JOIN insured i ON i.id = m.insured_id "
                             "WHERE i.nir = '%s'" % number)[0][0])
    return types.SimpleNamespace(id=member_id, nir=number, cookie=new_cookie or cookie,
                                 csrf=new_csrf or csrf, password=c.password, stopped=None)


def password_changer(c):
    """The member whose password the load changes (Load.change_passwords)."""
    m = signed_in_member(c, "0575", "Durand", "changeur")
    m.pending, m.stale, m.lost, m.previous, m.behind = None, [], [], None, []
    return m


def booker(c):
    """The member who books and cancels appointments in the load
    (Load.book_and_cancel), on an office agenda of the test open every day
    all day (a 30-minute grid in UTC), so that a slot is free whatever the
    time of the run."""
    m = signed_in_member(c, "0475", "Lefebvre", "rendez-vous")
    name = "Accueil du test de grappe %08x" % random.randrange(1 << 32)
    m.agenda = int(c.sql(1, "INSERT INTO appt_agendas (office_name, office_address, "
                            "office_postal_code, office_city, horizon_days) VALUES ('%s', "
                            "'1 rue du Test', '75015', 'Paris', 60); SELECT LAST_INSERT_ID()"
                            % name)[0][0])
    c.sql(1, "INSERT INTO appt_hours (agenda_id, weekday, opens, closes) VALUES "
          + ", ".join("(%d, %d, 0, 1440)" % (m.agenda, d) for d in range(1, 8))
          + "; INSERT INTO appt_kinds (agenda_id, kind, minutes) VALUES (%d, 'first', 30)"
          % m.agenda)
    return m


def writer(c):
    """The members whose claims, messages and address changes the load
    sends (Load.send_claims_and_messages): one for claims and its address,
    and three for messages (the module allows a member 10 an hour), it
    first."""
    w = signed_in_member(c, "0675", "Moreau", "demandes")
    w.email = c.sql(1, "SELECT email FROM members WHERE id = %d" % w.id)[0][0]
    w.messengers = [w] + [signed_in_member(c, "0%d75" % d, "Moreau", "messages%d" % d)
                          for d in (7, 8)]
    for m in w.messengers:
        m.headers = {"Cookie": "%s=%s" % (COOKIE, m.cookie), "X-CSRF-Token": m.csrf}
    return w


def served_by(c, request_id):
    """Which portaild (1, 2) logged that request id, "?" when neither."""
    if request_id:
        for n in (1, 2):
            log = c.dir / "log" / ("portaild%d.log" % n)
            if log.exists() and ('"request_id":"%s"' % request_id) in log.read_text(errors="replace"):
                return n
    return "?"


def galera_figures(c, n):
    """A node's state, last committed seqno and gcache range (the write sets
    it can send by IST)."""
    last = c.status(n, "wsrep_last_committed")
    return "node%d %s, last committed %s, gcache %s..%s" % (
        n, c.status(n, "wsrep_local_state_comment"), last,
        c.status(n, "wsrep_local_cached_downto"), last)


def rejoin_method(log):
    """How a node's last start joined the group, from its log: "IST" (the
    missing write sets from a donor's gcache), "SST" (the whole datadir by
    rsync) or None when it did neither."""
    since = log[log.rindex("Starting MariaDB"):]
    # The rsync script runs on the joiner either way ("SST received" is
    # logged for an IST too); it says which it did. An SST may be followed
    # by an IST of what was written meanwhile.
    if "rsync SST completed on joiner" in since:
        return "SST"
    if "rsync IST completed on joiner" in since and "IST received" in since:
        return "IST"
    return None


# Bounded (the harness's SIGALRM): script/cluster's wait for node1's rejoin
# (PORTAIL_CLUSTER_SYNC_WAIT_S, 180 s) and the test's own 20 s; past that the
# test fails with its stack instead of hanging.
@pytest.mark.timeout(270)
def test_node_and_portaild_killed_under_load(cluster):
    c = cluster
    before = int(c.sql(1, "SELECT COUNT(*) FROM sessions WHERE kind = 'member' "
                          "AND principal_id = %d" % c.member_id)[0][0])
    changer = password_changer(c)
    bk = booker(c)
    wr = writer(c)
    messengers = list(wr.messengers)
    with Load(c, changer=changer, booker=bk, writer=wr) as load:
        time.sleep(3)
        print("\nbefore the kill: " + "; ".join(galera_figures(c, n) for n in (1, 2, 3)))
        # Host 1 dies: its Galera node and its portaild, at once.
        t_kill = time.monotonic()
        os.kill(c.pid("node1/run/mysqld.pid"), signal.SIGKILL)
        os.kill(c.pid("run/portaild1.pid"), signal.SIGKILL)
        time.sleep(6)
        acked_while_down = len(load.acked)
        # It comes back: node1 recovers its position from InnoDB (grastate.dat
        # says seqno -1 after a SIGKILL) and rejoins by IST; portaild1 restarts.
        (c.dir / "run" / "portaild1.pid").unlink()
        t_up = time.monotonic()
        r = c.script("up")
        assert r.returncode == 0, r.stdout[-3000:]
        rejoin_s = time.monotonic() - t_up
        time.sleep(3)
    window, nbad, last_bad, bad = load.failure_window(t_kill)
    oks = [st for _, st, _, _ in load.events if st < 500]
    assert len(load.acked) > acked_while_down > 0, "no sign-in acknowledged during the outage"
    assert oks, "nothing answered"
    log = (c.dir / "node1" / "log" / "mariadb.log").read_text(errors="replace")
    method = rejoin_method(log)
    recovered = re.search(r"node1: recovered position (\S+)", r.stdout)
    # nginx moves to portaild2 after one failure: only requests in flight on
    # the dead host, or sent within the failover, may fail.
    print("failover: %d failed request(s) over %.2f s, the last %.2f s after the kill (%s); "
          "%d requests, %d refused busy, %d sign-ins acked; "
          "node1 rejoined by %s from position %s, script/cluster up took %.1f s"
          % (nbad, window, last_bad, ", ".join(bad) or "none", len(load.events),
             load.refusals(), len(load.acked), method,
             recovered.group(1) if recovered else "?", rejoin_s))
    print("after the rejoin: " + "; ".join(galera_figures(c, n) for n in (1, 2, 3)))
    assert window < 10.0, (window, bad)
    # The position InnoDB held was recovered, so the donor's gcache (256M,
    # far more than the run writes) had the rest: an SST here means the
    # recovery did not work.
    assert recovered, r.stdout[-3000:]
    assert method == "IST", log[log.rindex("Starting MariaDB"):][-3000:]
    for n in (1, 2, 3):
        assert c.status(n, "wsrep_cluster_size") == "3"
    # Every acknowledged write is on every node, the one that died included.
    for n in (1, 2, 3):
        count = int(c.sql(n, "SELECT COUNT(*) FROM sessions WHERE kind = 'member' "
                             "AND principal_id = %d" % c.member_id)[0][0])
        assert count >= before + len(load.acked), (n, count, before, len(load.acked))
    # Every acknowledged password change too: its event on every node, the
    # same hash on every node, and the last password the one that signs in
    # through both hosts (or the change after it, when its answer was lost).
    print("password changes: %d acknowledged, %d after the kill, %d refused on a stale read%s"
          % (len(load.changes), sum(t >= t_kill for t, _, _ in load.changes), len(changer.stale),
             "; changer stopped: " + changer.stopped if changer.stopped else ""))
    for s in changer.lost:
        print("LOST acknowledged change (the password before it was still current), seen at "
              "%.2f s after the kill, after %d acknowledged: refused %s on portaild%s, the lost "
              "one %s on portaild%s; nodes then: %s"
              % (s.t - t_kill, s.acked, s.request_id, served_by(c, s.request_id), s.last_ack,
                 served_by(c, s.last_ack), s.nodes))
    for line in changer.behind:
        print("read back short: " + line)
    for s in changer.stale:
        print("stale read at %.2f s after the kill, after %d acknowledged: refused %s on "
              "portaild%s, the last acknowledged %s on portaild%s; nodes then: %s"
              % (s.t - t_kill, s.acked, s.request_id, served_by(c, s.request_id), s.last_ack,
                 served_by(c, s.last_ack), s.nodes))
    refused_signins = sum(1 for _, st, what, _ in load.events if what == "login" and st == 401)
    print("sign-ins refused 401 with the right password: %d" % refused_signins)
    assert any(t >= t_kill for t, _, _ in load.changes), \
        "no password change acknowledged after the kill"
    hashes, events = {}, {}
    for n in (1, 2, 3):
        events[n] = int(c.sql(n, "SET SESSION wsrep_sync_wait = 15; SELECT COUNT(*) FROM "
                                 "security_events WHERE member_id = %d AND kind = "
                                 "'password_changed'" % changer.id)[0][0])
        hashes[n] = c.sql(n, "SELECT password_hash FROM members WHERE id = %d" % changer.id)[0][0]
    print("password_changed events per node: %s; acked at (s after the kill): %s"
          % (events, ", ".join("%.2f" % (t - t_kill) for t, _, _ in load.changes)))
    assert all(e >= len(load.changes) - len(changer.lost) for e in events.values()), \
        (events, len(load.changes), len(changer.lost))
    assert len(set(hashes.values())) == 1, hashes
    for host in (1, 2):
        for password in [changer.pending, changer.password] if changer.pending else [changer.password]:
            r = c.fcgi(host, "POST", "/api/v1/login", {"nir": changer.nir, "password": password})
            if r.status == 200:
                break
        assert r.status == 200, (host, r.status, r.body)
    # Every acknowledged booking and cancellation too, on every node.
    print("appointments: %d booked, %d cancelled (acknowledged), %d booked after the kill%s"
          % (len(load.booked), len(load.cancelled), sum(t >= t_kill for t, _ in load.booked),
             "; booker stopped: " + bk.stopped if bk.stopped else ""))
    assert bk.stopped is None, bk.stopped
    assert any(t >= t_kill for t, _ in load.booked), "no booking acknowledged after the kill"
    cancelled = {i for _, i in load.cancelled}
    for n in (1, 2, 3):
        rows = dict(c.sql(n, "SET SESSION wsrep_sync_wait = 15; SELECT id, status FROM "
                             "appt_appointments WHERE member_id = %d" % bk.id))
        missing = [i for _, i in load.booked if str(i) not in rows]
        assert not missing, (n, "acknowledged bookings missing", missing)
        wrong = [i for i in cancelled if rows[str(i)] != "cancelled_by_member"]
        assert not wrong, (n, "acknowledged cancellations missing", wrong)
    # Every acknowledged claim with its document, every acknowledged message
    # with its thread and attachment, and the last address, on every node.
    contact = [st for _, st, what, _ in load.events if what == "profile/contact"]
    print("claims: %d acknowledged, %d after the kill; messages: %d acknowledged, %d after "
          "the kill; address changes: %d acknowledged of %d, the last acknowledged and those "
          "left unknown after it: %s%s"
          % (len(load.claims), sum(t >= t_kill for t, _ in load.claims),
             len(load.threads_sent), sum(t >= t_kill for t, *_ in load.threads_sent),
             contact.count(200), len(contact), load.addresses,
             "; writer stopped: " + wr.stopped if wr.stopped else ""))
    assert contact.count(200) > 0, "no address change acknowledged"
    assert wr.stopped is None, wr.stopped
    assert any(t >= t_kill for t, _ in load.claims), "no claim acknowledged after the kill"
    assert any(t >= t_kill for t, *_ in load.threads_sent), \
        "no message acknowledged after the kill"
    ids = ",".join(str(m.id) for m in messengers)
    for n in (1, 2, 3):
        claims = dict(c.sql(n, "SET SESSION wsrep_sync_wait = 15; SELECT c.id, COUNT(d.claim_id) "
                               "FROM reimb_claims c LEFT JOIN reimb_claim_documents d "
                               "ON d.claim_id = c.id WHERE c.member_id = %d GROUP BY c.id" % wr.id))
        wrong = [i for _, i in load.claims if claims.get(str(i)) != "1"]
        assert not wrong, (n, "acknowledged claims missing or without their document", wrong)
        sent = {(r[0], r[1]): r[2] for r in c.sql(
            n, "SET SESSION wsrep_sync_wait = 15; SELECT m.thread_id, m.id, COUNT(a.document_id) "
               "FROM messaging_messages m JOIN messaging_threads t ON t.id = m.thread_id "
               "AND t.member_id = m.member_id LEFT JOIN messaging_attachments a "
               "ON a.message_id = m.id WHERE m.member_id IN (%s) GROUP BY m.thread_id, m.id"
               % ids)}
        wrong = [(th, mid) for _, _, th, mid in load.threads_sent
                 if sent.get((str(th), str(mid))) != "1"]
        assert not wrong, (n, "acknowledged messages missing or without their attachment", wrong)
        # The address acknowledged last, or one sent after it whose answer was lost.
        if load.addresses:
            got = c.sql(n, "SET SESSION wsrep_sync_wait = 15; SELECT i.address_line FROM members m "
                           "JOIN insured i ON i.id = m.insured_id WHERE m.id = %d" % wr.id)[0][0]
            assert got in load.addresses, (n, "address", got, load.addresses)
    # Last, so that every write above is checked first: an acknowledged
    # password refused as the current one (a write lost, or a read that
    # missed it).
    assert not changer.stale, "acknowledged password refused, printed above"
    assert not changer.lost, ("%d acknowledged password change(s) lost, printed above"
                              % len(changer.lost))

