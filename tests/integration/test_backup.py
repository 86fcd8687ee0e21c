"""Backups that restore (script/backup, docs/backups.md): a full and an
incremental mariadb-backup taken while threads write through nginx
(password changes, secure messages, reimbursement claims with documents),
restored into a fresh data directory, opened by a second MariaDB; every
write acknowledged before the backup's end position is there.

"Before the end position": mariadb-backup records in xtrabackup_checkpoints
the LSN up to which it copied the redo log (last_lsn), under BACKUP STAGE
BLOCK_COMMIT; recovery replays the redo up to it, so every transaction whose
commit record lies below it is in the restored data. After each 2xx a
writer reads the server's current LSN (Innodb_lsn_current) on a connection
of its own: that LSN is at or above the write's commit record, so a write
whose LSN read after the acknowledgement is at most the end LSN must be in
the restore. Writes read above it may or may not be there (those that
committed before BLOCK_COMMIT and were read late are, the others are not)."""

import subprocess
import threading
import time

import pytest

from conftest import REPO, MariaDB, fresh_ip, member_client

BACKUP = REPO / "script" / "backup"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PASSWORDS = ("Girafe violette sous la pluie 73", "Trois moineaux lisent Proust 2024")


class Probe:
    """One mariadb client kept open: a query answers one line, at once."""

    def __init__(self, socket):
        self.proc = subprocess.Popen(
            ["mariadb", "--no-defaults", "-S", str(socket), "-uroot", "--batch",
             "--skip-column-names", "--raw", "--unbuffered", "portail"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            bufsize=1)

    def row(self, query):
        self.proc.stdin.write(query + ";\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the probe's mariadb client exited"
        return line.rstrip("\n").split("\t")

    def lsn_after(self, member_id=0):
        """The server's current LSN, and the member's password hash (only
        its own writer changes it: the hash of the change just acknowledged)."""
        pw, lsn = self.row(
            "SELECT (SELECT password_hash FROM members WHERE id = %d), "
            "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
            "WHERE VARIABLE_NAME = 'INNODB_LSN_CURRENT')" % member_id)
        return int(lsn), pw

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


class Writers:
    """Threads writing through nginx until stop(); each acknowledged write
    is kept as dict(kind, key, lsn, t, ...)."""

    def __init__(self, stack):
        self.stack = stack
        self.acked = []
        self.errors = []
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.threads = []

    def _record(self, **w):
        w["t"] = time.monotonic()
        with self.lock:
            self.acked.append(w)

    def _run(self, fn):
        probe = Probe(self.stack.mariadb.socket)
        try:
            fn(probe)
        except Exception as e:  # noqa: BLE001 — reported by the test
            self.errors.append(repr(e))
        finally:
            probe.close()

    def passwords(self, probe):
        c = member_client(self.stack)
        r = c.post("/api/v1/test/account/%d/password" % c.member.id,
                   json={"password": PASSWORDS[0]})
        assert r.status_code == 204, r.text
        n = 0
        while not self.halt.is_set():
            r = c.post("/api/v1/password/change",
                       json={"current": PASSWORDS[n % 2], "new": PASSWORDS[(n + 1) % 2]})
            if r.status_code == 503:  # hash slots busy: not acknowledged
                continue
            assert r.status_code == 200, r.text
            lsn, pw = probe.lsn_after(c.member.id)
            n += 1
            self._record(kind="password", key=c.member.id, n=n, hash=pw, lsn=lsn)

    def messages(self, probe):
        c, sent = None, 0
        while not self.halt.is_set():
            if c is None or sent == 10:  # messaging's max_per_hour
                c, sent = member_client(self.stack, xff=fresh_ip()), 0
            subject = "Sauvegarde %d-%d" % (c.member.id, sent)
            r = c.post("/api/v1/messages", files={"recipient": (None, "REMB"),
                                                  "subject": (None, subject),
                                                  "body": (None, "Écrit pendant la sauvegarde")})
            assert r.status_code == 201, r.text
            sent += 1
            lsn, _ = probe.lsn_after()
            self._record(kind="message", key=r.json()["id"], subject=subject, lsn=lsn)

    def claims(self, probe):
        c = member_client(self.stack)
        while not self.halt.is_set():
            r = c.post("/api/v1/reimbursements/claims",
                       data={"kind": "dentist", "care_date": time.strftime("%Y-%m-%d"),
                             "amount_cents": "4200", "beneficiary": "Paul Martin",
                             "comment": "Sauvegarde"},
                       files=[("documents", ("feuille.pdf", PDF, "application/pdf"))])
            assert r.status_code == 201, r.text
            lsn, _ = probe.lsn_after()
            self._record(kind="claim", key=r.json()["id"], lsn=lsn)

    def start(self):
        for fn in (self.passwords, self.messages, self.messages, self.claims, self.claims):
            t = threading.Thread(target=self._run, args=(fn,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(60)

    def count(self):
        with self.lock:
            return len(self.acked)


def backup(*args):
    t0 = time.monotonic()
    r = subprocess.run([str(BACKUP), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    return r, time.monotonic() - t0


def checkpoints(d):
    out = {}
    for line in (d / "xtrabackup_checkpoints").read_text().splitlines():
        k, _, v = line.partition("=")
        out[k.strip()] = v.strip()
    return out


def wait_for(writers, n, timeout=30):
    end = time.monotonic() + timeout
    while writers.count() < n:
        assert not writers.errors, writers.errors
        assert time.monotonic() < end, "the writers acknowledged %d writes" % writers.count()
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_backup_under_load_restores_every_acknowledged_write(stack, tmp_path):
    sock = str(stack.mariadb.socket)
    writers = Writers(stack)
    writers.start()
    try:
        wait_for(writers, 10)
        t_full = time.monotonic()
        r_full, full_s = backup("full", str(tmp_path / "full"), "--socket", sock)
        wait_for(writers, writers.count() + 10)
        t_inc = time.monotonic()
        r_inc, inc_s = backup("incremental", str(tmp_path / "inc1"), "--base",
                              str(tmp_path / "full"), "--socket", sock)
        wait_for(writers, writers.count() + 5)
    finally:
        writers.stop()
    assert not writers.errors, writers.errors

    full, inc = checkpoints(tmp_path / "full"), checkpoints(tmp_path / "inc1")
    assert full["backup_type"] == "full-backuped" and inc["backup_type"] == "incremental"
    assert inc["from_lsn"] == full["to_lsn"]
    full_end, inc_end = int(full["last_lsn"]), int(inc["last_lsn"])
    for out in (r_full.stdout, r_inc.stdout):
        assert "end position: LSN" in out
        assert "NOT included: the TOTP sealing key file" in out
    assert "end position: LSN %d" % inc_end in r_inc.stdout

    listed = subprocess.run([str(BACKUP), "list", str(tmp_path)], stdout=subprocess.PIPE,
                            text=True, check=True).stdout
    assert "full " in listed and "inc1 " in listed and str(inc_end) in listed

    # The writes prove something only if some landed during each backup and
    # some after its end.
    acked = list(writers.acked)
    during_full = [w for w in acked if w["t"] >= t_full and w["lsn"] <= full_end]
    during_inc = [w for w in acked if w["t"] >= t_inc and full_end < w["lsn"] <= inc_end]
    after = [w for w in acked if w["lsn"] > inc_end]
    assert during_full and during_inc and after, (len(during_full), len(during_inc), len(after))

    t0 = time.monotonic()
    r = subprocess.run([str(BACKUP), "restore", str(tmp_path / "full"), str(tmp_path / "inc1"),
                        "--datadir", str(tmp_path / "restored" / "db")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    restore_s = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "end position: LSN %d" % inc_end in r.stdout
    # The backups stay usable: restore prepared a copy.
    assert checkpoints(tmp_path / "full")["backup_type"] == "full-backuped"
    # A restore goes into a fresh directory only.
    again = subprocess.run([str(BACKUP), "restore", str(tmp_path / "full"),
                            "--datadir", str(tmp_path / "restored" / "db")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert again.returncode != 0 and "not empty" in again.stderr
    # The chain is checked: an incremental alone is refused.
    bad = subprocess.run([str(BACKUP), "restore", str(tmp_path / "inc1"),
                          "--datadir", str(tmp_path / "other")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert bad.returncode != 0

    second = MariaDB(tmp_path / "restored")
    t0 = time.monotonic()
    second.start()
    start_s = time.monotonic() - t0
    try:
        required = [w for w in acked if w["lsn"] <= inc_end]
        later = [w for w in acked if w["lsn"] > inc_end]

        def ids(kind, table, ws):
            keys = sorted({w["key"] for w in ws if w["kind"] == kind})
            if not keys:
                return set()
            rows = second.sql("SELECT id FROM %s WHERE id IN (%s)"
                              % (table, ",".join(str(k) for k in keys)))
            return {int(x[0]) for x in rows}

        msgs = ids("message", "messaging_threads", acked)
        claims = ids("claim", "reimb_claims", acked)
        missing = [w for w in required if w["kind"] == "message" and w["key"] not in msgs]
        missing += [w for w in required if w["kind"] == "claim" and w["key"] not in claims]
        # The subject of a message is the one acknowledged.
        for w in required:
            if w["kind"] == "message":
                got = second.sql("SELECT subject FROM messaging_threads WHERE id = %d" % w["key"])
                assert got == [[w["subject"]]], (w, got)
        # A member's password: the restored hash is the one of the last
        # change acknowledged before the end position, or of a later one.
        for member_id in {w["key"] for w in acked if w["kind"] == "password"}:
            changes = sorted((w for w in acked if w["kind"] == "password" and w["key"] == member_id),
                             key=lambda w: w["n"])
            before = [w for w in changes if w["lsn"] <= inc_end]
            if not before:
                continue
            allowed = {w["hash"] for w in changes if w["n"] >= before[-1]["n"]}
            got = second.sql("SELECT password_hash FROM members WHERE id = %d" % member_id)
            if got[0][0] not in allowed:
                missing.append(before[-1])
        assert not missing, "acknowledged before the end position, not restored: %r" % missing[:5]

        # The restored database works: the portal's tables are all there.
        tables = {x[0] for x in second.sql("SHOW TABLES")}
        assert {"members", "sessions", "documents", "messaging_threads",
                "reimb_claims"} <= tables
        later_present = sum(1 for w in later if w["kind"] == "message" and w["key"] in msgs)
        later_present += sum(1 for w in later if w["kind"] == "claim" and w["key"] in claims)
    finally:
        second.stop()

    print("\nbackup timings: full %.1f s, incremental %.1f s, restore (prepare full + "
          "incremental, move back) %.1f s, start of the restored server %.1f s; "
          "%d writes acknowledged, %d before the end position (all restored), "
          "%d during the full, %d during the incremental, %d after (%d of them present); "
          "full %s, incremental %s"
          % (full_s, inc_s, restore_s, start_s, len(acked), len(required), len(during_full),
             len(during_inc), len(later), later_present,
             subprocess.run(["du", "-sh", str(tmp_path / "full")], stdout=subprocess.PIPE,
                            text=True).stdout.split()[0],
             subprocess.run(["du", "-sh", str(tmp_path / "inc1")], stdout=subprocess.PIPE,
                            text=True).stdout.split()[0]))
