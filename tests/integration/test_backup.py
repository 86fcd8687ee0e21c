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
        self.unavailable = 0  # 503s: not acknowledged, retried
        self.members = []

    def _record(self, **w):
        w["t"] = time.monotonic()
        with self.lock:
            self.acked.append(w)

    def busy(self, r):
        """A 503 (pool or hash slots busy while the backup holds its locks)
        is no acknowledgement: the client tries again, as a browser would."""
        if r.status_code != 503:
            return False
        with self.lock:
            self.unavailable += 1
        time.sleep(0.2)
        return True

    def _run(self, fn):
        probe = Probe(self.stack.mariadb.socket)
        try:
            fn(probe)
        except Exception as e:  # noqa: BLE001 — reported by the test
            self.errors.append(repr(e))
        finally:
            probe.close()

    def member(self, **kw):
        # Signing a new member in hashes a password: with the password
        # writer hashing too (slow under ASan) the slots may be busy, a 503
        # that the client tries again, as for the writes.
        for attempt in range(50):
            try:
                c = member_client(self.stack, **kw)
                break
            except AssertionError as e:
                if "503" not in str(e) or attempt == 49:
                    raise
                with self.lock:
                    self.unavailable += 1
                time.sleep(0.2)
        with self.lock:
            self.members.append(c.member.id)
        return c

    def cleanup(self):
        """The claims and threads written here leave the shared stack: the
        modules' tests read the agents' queues (first page, oldest first)."""
        if not self.members:
            return
        ids = ",".join(str(m) for m in self.members)
        self.stack.sql(
            "DELETE FROM documents WHERE id IN (SELECT d.document_id FROM reimb_claim_documents d "
            "JOIN reimb_claims c ON c.id = d.claim_id WHERE c.member_id IN (%s)); "
            "DELETE FROM reimb_claims WHERE member_id IN (%s); "
            "DELETE FROM messaging_threads WHERE member_id IN (%s)" % (ids, ids, ids))

    def passwords(self, probe):
        c = self.member()
        r = c.post("/api/v1/test/account/%d/password" % c.member.id,
                   json={"password": PASSWORDS[0]})
        assert r.status_code == 204, r.text
        n = 0
        while not self.halt.is_set():
            sent_at = time.monotonic()
            r = c.post("/api/v1/password/change",
                       json={"current": PASSWORDS[n % 2], "new": PASSWORDS[(n + 1) % 2]})
            if self.busy(r):
                continue
            assert r.status_code == 200, r.text
            lsn, pw = probe.lsn_after(c.member.id)
            n += 1
            self._record(kind="password", key=c.member.id, n=n, hash=pw, lsn=lsn, sent=sent_at)

    def messages(self, probe):
        c, sent = None, 0
        while not self.halt.is_set():
            if c is None or sent == 10:  # messaging's max_per_hour
                c, sent = self.member(xff=fresh_ip()), 0
            subject = "Sauvegarde %d-%d" % (c.member.id, sent)
            sent_at = time.monotonic()
            r = c.post("/api/v1/messages", files={"recipient": (None, "REMB"),
                                                  "subject": (None, subject),
                                                  "body": (None, "Écrit pendant la sauvegarde")})
            if self.busy(r):
                continue
            if r.status_code == 429:  # a 503 that had written counts too
                c = None
                continue
            assert r.status_code == 201, r.text
            sent += 1
            lsn, _ = probe.lsn_after()
            self._record(kind="message", key=r.json()["id"], subject=subject, lsn=lsn,
                         sent=sent_at)

    def claims(self, probe):
        c = self.member()
        while not self.halt.is_set():
            sent_at = time.monotonic()
            r = c.post("/api/v1/reimbursements/claims",
                       data={"kind": "dentist", "care_date": time.strftime("%Y-%m-%d"),
                             "amount_cents": "4200", "beneficiary": "me",
                             "comment": "Sauvegarde"},
                       files=[("documents", ("feuille.pdf", PDF, "application/pdf"))])
            if self.busy(r):
                continue
            assert r.status_code == 201, r.text
            lsn, _ = probe.lsn_after()
            self._record(kind="claim", key=r.json()["id"], lsn=lsn, sent=sent_at)

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


def restore(tmp_path, chain, name):
    """script/backup restore of the chain into tmp_path/name/db; returns
    (its stdout, seconds)."""
    t0 = time.monotonic()
    r = subprocess.run([str(BACKUP), "restore", *(str(tmp_path / d) for d in chain),
                        "--datadir", str(tmp_path / name / "db")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    return r.stdout, time.monotonic() - t0


def restored_writes(server, acked):
    """The acknowledged writes found in a restored database: message and
    claim ids, and each member's password hash."""
    def ids(kind, table):
        keys = sorted({w["key"] for w in acked if w["kind"] == kind})
        if not keys:
            return {}
        rows = server.sql("SELECT id, %s FROM %s WHERE id IN (%s)"
                          % ("subject" if kind == "message" else "status", table,
                             ",".join(str(k) for k in keys)))
        return {int(x[0]): x[1] for x in rows}

    found = {"message": ids("message", "messaging_threads"), "claim": ids("claim", "reimb_claims")}
    members = sorted({w["key"] for w in acked if w["kind"] == "password"})
    found["password"] = {int(x[0]): x[1] for x in server.sql(
        "SELECT id, password_hash FROM members WHERE id IN (%s)"
        % ",".join(str(k) for k in members))} if members else {}
    return found


def missing_below(found, acked, end_lsn):
    """The writes whose LSN read after their acknowledgement is at most
    end_lsn and that the restore lacks (a message must have its subject; a
    password, the hash of the last change below end_lsn or of a later one)."""
    missing = []
    for w in acked:
        if w["lsn"] > end_lsn:
            continue
        if w["kind"] == "message" and found["message"].get(w["key"]) != w["subject"]:
            missing.append(w)
        if w["kind"] == "claim" and w["key"] not in found["claim"]:
            missing.append(w)
    for member_id in {w["key"] for w in acked if w["kind"] == "password"}:
        changes = sorted((w for w in acked if w["kind"] == "password" and w["key"] == member_id),
                         key=lambda w: w["n"])
        before = [w for w in changes if w["lsn"] <= end_lsn]
        if before and found["password"].get(member_id) not in {
                w["hash"] for w in changes if w["n"] >= before[-1]["n"]}:
            missing.append(before[-1])
    return missing


def open_restored(base):
    """A second MariaDB on a restored data directory (base/db), its own
    socket under base/run; returns it started and the seconds it took."""
    server = MariaDB(base)
    t0 = time.monotonic()
    server.start()
    return server, time.monotonic() - t0


def du(path):
    return subprocess.run(["du", "-sh", str(path)], stdout=subprocess.PIPE,
                          text=True).stdout.split()[0]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_backup_under_load_restores_every_acknowledged_write(stack, tmp_path):
    writers = Writers(stack)
    try:
        backup_restore_and_check(stack, tmp_path, writers)
    finally:
        writers.stop()
        writers.cleanup()


def backup_restore_and_check(stack, tmp_path, writers):
    sock = str(stack.mariadb.socket)
    writers.start()
    try:
        wait_for(writers, 10)
        t_full = time.monotonic()
        r_full, full_s = backup("full", str(tmp_path / "full"), "--socket", sock)
        t_full_done = time.monotonic()
        wait_for(writers, writers.count() + 10)
        t_inc = time.monotonic()
        r_inc, inc_s = backup("incremental", str(tmp_path / "inc1"), "--base",
                              str(tmp_path / "full"), "--socket", sock)
        t_inc_done = time.monotonic()
        wait_for(writers, writers.count() + 5)
    finally:
        writers.stop()
    assert not writers.errors, writers.errors

    full, inc = checkpoints(tmp_path / "full"), checkpoints(tmp_path / "inc1")
    assert full["backup_type"] == "full-backuped" and inc["backup_type"] == "incremental"
    assert inc["from_lsn"] == full["to_lsn"]
    full_end, inc_end = int(full["last_lsn"]), int(inc["last_lsn"])
    assert full_end < inc_end
    assert "end position: LSN %d" % full_end in r_full.stdout
    assert "end position: LSN %d" % inc_end in r_inc.stdout
    for out in (r_full.stdout, r_inc.stdout):
        assert "NOT included: the TOTP sealing key file" in out
    listed = subprocess.run([str(BACKUP), "list", str(tmp_path)], stdout=subprocess.PIPE,
                            text=True, check=True).stdout
    assert "full " in listed and "inc1 " in listed and str(inc_end) in listed

    # The writes prove something only if some landed during each backup
    # and some after its end.
    acked = list(writers.acked)
    during_full = [w for w in acked if w["t"] >= t_full and w["lsn"] <= full_end]
    during_inc = [w for w in acked if w["t"] >= t_inc and full_end < w["lsn"] <= inc_end]
    after_full = [w for w in acked if w["sent"] > t_full_done and w["kind"] != "password"]
    after_inc = [w for w in acked if w["sent"] > t_inc_done and w["kind"] != "password"]
    assert during_full and during_inc and after_full and after_inc, (
        len(during_full), len(during_inc), len(after_full), len(after_inc))

    # Full + incremental, the chain of a night after the weekly full.
    out, restore_s = restore(tmp_path, ["full", "inc1"], "restored")
    assert "end position: LSN %d" % inc_end in out
    # The backups stay usable: restore prepared a copy.
    assert checkpoints(tmp_path / "full")["backup_type"] == "full-backuped"
    server, start_s = open_restored(tmp_path / "restored")
    try:
        found = restored_writes(server, acked)
        tables = {x[0] for x in server.sql("SHOW TABLES")}
        documents = int(server.sql("SELECT COUNT(*) FROM documents")[0][0])
    finally:
        server.stop()
    missing = missing_below(found, acked, inc_end)
    assert not missing, "acknowledged below the end LSN %d, not restored: %r" % (inc_end,
                                                                                 missing[:5])
    # Sent after the incremental had ended: not in it.
    assert not [w for w in after_inc if w["key"] in found[w["kind"]]]
    assert {"members", "sessions", "documents", "messaging_threads", "reimb_claims"} <= tables
    assert documents >= sum(1 for w in acked if w["kind"] == "claim" and w["lsn"] <= inc_end)

    # The full alone: everything below its own end position, nothing sent
    # after it had ended (what the incremental carried is really its own).
    _, full_restore_s = restore(tmp_path, ["full"], "restored-full")
    server, _ = open_restored(tmp_path / "restored-full")
    try:
        found_full = restored_writes(server, acked)
    finally:
        server.stop()
    missing = missing_below(found_full, acked, full_end)
    assert not missing, "acknowledged below the end LSN %d, not restored: %r" % (full_end,
                                                                                 missing[:5])
    assert not [w for w in after_full if w["key"] in found_full[w["kind"]]]

    # Refusals: a restore into a non-empty directory, a chain out of order.
    again = subprocess.run([str(BACKUP), "restore", str(tmp_path / "full"),
                            "--datadir", str(tmp_path / "restored" / "db")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert again.returncode != 0 and "not empty" in again.stderr
    bad = subprocess.run([str(BACKUP), "restore", str(tmp_path / "inc1"),
                          "--datadir", str(tmp_path / "other")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert bad.returncode != 0 and "not an unprepared full backup" in bad.stderr

    print("\nbackup timings: full %.1f s (%s), incremental %.1f s (%s), restore full + "
          "incremental %.1f s, full alone %.1f s, restored server up in %.1f s; "
          "%d writes acknowledged (%d answers 503, retried), %d during the full, "
          "%d during the incremental, %d below the end LSN (all restored)"
          % (full_s, du(tmp_path / "full"), inc_s, du(tmp_path / "inc1"), restore_s,
             full_restore_s, start_s, len(acked), writers.unavailable, len(during_full),
             len(during_inc), sum(1 for w in acked if w["lsn"] <= inc_end)))
