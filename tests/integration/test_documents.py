"""Member documents (core/documents.c) through nginx and the test module
tests/modules/docmod: types judged by content (libmagic), limits, the clamd
scan (a real clamd with only the EICAR signatures the harness writes),
download headers, IDOR, the agent's audited download, retention.

Each test runs a private portaild with docmod and its own `documents`
group, so that limits and the scanner never touch the stack's instance."""

import functools
import hashlib
import socket
import threading
import time
import urllib.parse

import pytest

from conftest import EICAR, Clamd, multipart_body, multipart_part, png
from hostcheck import assert_problem

UP = "/api/v1/docmod/documents"
PHOTO = "/api/v1/docmod/photos"
MIB = 1024 * 1024
BOUNDARY = b"docmod-b0undary"
part = functools.partial(multipart_part, ctype="application/octet-stream")
body = functools.partial(multipart_body, boundary=BOUNDARY)

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xdb\x00\x43\x00" + bytes(64) + b"\xff\xd9")
PNG = png()


def pdf_of(size):
    """A PDF (by its head) of exactly size bytes."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    tail = b"\n%%EOF\n"
    return head + b"0" * (size - len(head) - len(tail)) + tail


def send(c, parts, path=UP):
    return c.post(path, data=body(parts),
                  headers={"Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode()})


def files(*specs):
    """[(field, filename, data)] -> parts."""
    return [part(f, d, n) for f, n, d in specs]


class Docs:
    def __init__(self, stack, documents=None):
        self.stack = stack
        mods = [dict(m) for m in stack.config["modules"]] + [
            {"name": "docmod", "enabled": True, "path": "docmod.so",
             "dir": str(stack.paths.repo / "tests" / "modules" / "docmod")}]
        self.inst = stack.start_portaild({"modules": mods, "documents": documents or {}})

    def member(self, member=None):
        m = member or self.stack.new_member()
        c = self.stack.client(base_url=self.inst.base_url, origin=self.inst.origin)
        c.test_login(kind="member", id=m.id, level="member")
        c.member = m
        return c

    def agent(self, role):
        agent = self.stack.new_agent(role=role)
        c = self.stack.client(base_url=self.inst.base_url, origin=self.inst.origin)
        c.test_login(kind="agent", id=agent.id, level="agent", role=role)
        c.agent = agent
        return c

    def count(self, member):
        return int(self.stack.sql("SELECT COUNT(*) FROM documents WHERE member_id = %d"
                                  % member.id)[0][0])


@pytest.fixture
def docs(stack):
    return Docs(stack)


def field_errors(r):
    return {e["field"]: e["message"] for e in r.json()["errors"]}


# ---- types, judged by content -------------------------------------------------------------


def test_upload_list_download_round_trip(docs):
    c = docs.member()
    r = send(c, files(("justificatif", "facture.pdf", PDF), ("photo", "ordonnance.png", PNG),
                      ("scan", "scan.jpg", JPEG)))
    assert r.status_code == 201, r.text
    got = r.json()["documents"]
    assert [(d["field"], d["name"], d["type"], d["size"]) for d in got] == [
        ("justificatif", "facture.pdf", "pdf", len(PDF)),
        ("photo", "ordonnance.png", "png", len(PNG)),
        ("scan", "scan.jpg", "jpeg", len(JPEG))]
    assert got[0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    row = docs.stack.sql("SELECT module, HEX(sha256), LENGTH(content) FROM documents WHERE id = %d"
                         % got[0]["id"])
    assert row == [["docmod", hashlib.sha256(PDF).hexdigest().upper(), str(len(PDF))]]

    listed = c.get(UP).json()["documents"]
    assert [d["id"] for d in listed] == [d["id"] for d in reversed(got)]
    assert "content" not in listed[0]

    for d, data, mime in zip(got, (PDF, PNG, JPEG), ("application/pdf", "image/png", "image/jpeg")):
        r = c.get("%s/%d" % (UP, d["id"]))
        assert r.status_code == 200
        assert r.content == data
        assert r.headers["Content-Type"] == mime
        assert r.headers["Content-Length"] == str(len(data))
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"] == "sandbox"
        assert r.headers["Content-Disposition"] == 'attachment; filename="%s"' % d["name"]
    r = c.get("%s/%d?inline=1" % (UP, got[0]["id"]))
    assert r.headers["Content-Disposition"] == 'inline; filename="facture.pdf"'


def test_png_named_pdf_is_a_png(docs):
    c = docs.member()
    r = send(c, [part("f", PNG, "attestation.pdf", ctype="application/pdf")])
    assert r.status_code == 201, r.text
    d = r.json()["documents"][0]
    assert d["type"] == "png"
    r = c.get("%s/%d" % (UP, d["id"]))
    assert r.headers["Content-Type"] == "image/png"  # the content's, not the name's


def test_pdf_with_a_jpeg_header_is_a_jpeg(docs):
    """Bytes that start as a JPEG are a JPEG whatever follows: on a route
    taking JPEG it is stored (and served) as image/jpeg, on a PNG-only route
    it is refused, its name and part header notwithstanding."""
    c = docs.member()
    data = JPEG[:-2] + PDF
    r = send(c, [part("f", data, "releve.pdf", ctype="application/pdf")])
    assert r.status_code == 201, r.text
    assert r.json()["documents"][0]["type"] == "jpeg"
    r = send(c, [part("photo", data, "photo.png", ctype="image/png")], path=PHOTO)
    assert_problem(r, 422)
    assert field_errors(r) == {"photo": "Ce fichier n’est pas un PNG."}


def test_empty_and_unknown_types_refused_with_field_and_reason(docs):
    c = docs.member()
    r = send(c, files(("a", "vide.pdf", b""), ("b", "page.pdf", b"<html><body>x</body></html>\n"),
                      ("c", "ok.pdf", PDF)))
    assert_problem(r, 422)
    assert field_errors(r) == {"a": "Fichier vide.",
                               "b": "Ce fichier n’est pas un PDF, un JPEG ou un PNG."}
    assert docs.count(c.member) == 0  # all or nothing


def test_polyglots(docs):
    """An HTML page carrying a PNG further on is HTML: refused. A PDF
    carrying HTML (a PDF/HTML polyglot) is a PDF by its head, which is what a
    PDF reader will see: accepted, and answered so that no browser renders
    it as a page (attachment, nosniff, CSP sandbox, the type from the
    fixed list)."""
    c = docs.member()
    html_png = b"<!DOCTYPE html><html><script>alert(1)</script>" + PNG + b"</html>"
    r = send(c, [part("f", html_png, "image.png", ctype="image/png")])
    assert_problem(r, 422)
    pdf_html = PDF[:9] + b"<html><script>alert(document.cookie)</script></html>\n" + PDF[9:]
    r = send(c, [part("f", pdf_html, "page.html", ctype="text/html")])
    assert r.status_code == 201, r.text
    d = r.json()["documents"][0]
    assert d["type"] == "pdf"
    r = c.get("%s/%d" % (UP, d["id"]))
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Security-Policy"] == "sandbox"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment;")


# ---- limits ----------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_file_size_at_and_over_the_limit(docs):
    c = docs.member()
    r = send(c, files(("f", "cinq.pdf", pdf_of(5 * MIB))))
    assert r.status_code == 201, r.text
    assert r.json()["documents"][0]["size"] == 5 * MIB
    d = r.json()["documents"][0]
    r = c.get("%s/%d" % (UP, d["id"]))
    assert r.status_code == 200 and len(r.content) == 5 * MIB
    assert hashlib.sha256(r.content).hexdigest() == d["sha256"]
    r = send(c, files(("f", "trop.pdf", pdf_of(5 * MIB + 1))))
    assert_problem(r, 422)
    assert field_errors(r) == {"f": "Le fichier dépasse 5 Mo."}


def test_route_rules_lower_the_limits(docs):
    c = docs.member()
    r = send(c, files(("photo", "p.png", PNG + b"\x00" * (MIB - len(PNG) + 1))), path=PHOTO)
    assert field_errors(r) == {"photo": "Le fichier dépasse 1 Mo."}
    r = send(c, files(("p1", "a.png", PNG), ("p2", "b.png", PNG)), path=PHOTO)
    assert field_errors(r) == {"p2": "Au plus 1 fichier par envoi."}
    r = send(c, files(("photo", "p.png", PNG)), path=PHOTO)
    assert r.status_code == 201


def test_file_count_at_and_over_the_limit(docs):
    c = docs.member()
    r = send(c, files(*[("f%d" % i, "%d.pdf" % i, PDF) for i in range(5)]))
    assert r.status_code == 201 and len(r.json()["documents"]) == 5
    r = send(c, files(*[("f%d" % i, "%d.pdf" % i, PDF) for i in range(6)]))
    assert_problem(r, 422)
    assert field_errors(r) == {"f5": "Au plus 5 fichiers par envoi."}
    assert docs.count(c.member) == 5


@pytest.mark.timeout(180)
def test_request_size_at_and_over_the_limit(docs):
    c = docs.member()
    four = pdf_of(4 * MIB)
    r = send(c, files(*[("f%d" % i, "%d.pdf" % i, four) for i in range(5)]))
    assert r.status_code == 201, r.text  # 20 MiB of files: the request limit
    assert docs.count(c.member) == 5
    # Over the route's body_max (20 MiB + 64 KiB): portaild's 413 before the
    # body is read.
    big = pdf_of(4 * MIB + 20 * 1024)
    r = send(c, files(*[("f%d" % i, "%d.pdf" % i, big) for i in range(5)]))
    assert_problem(r, 413, detail_contains="taille maximale")
    # Over nginx's client_max_body_size (21m): nginx's own 413.
    r = send(c, files(*[("f%d" % i, "%d.pdf" % i, pdf_of(5 * MIB - 1024)) for i in range(5)]))
    assert r.status_code == 413
    assert docs.count(c.member) == 5


def test_request_limit_from_config(stack):
    d = Docs(stack, {"max_request_bytes": 2 * MIB, "max_file_bytes": 2 * MIB})
    c = d.member()
    r = send(c, files(("a", "a.pdf", pdf_of(MIB)), ("b", "b.pdf", pdf_of(MIB + 1))))
    assert_problem(r, 413, detail_contains="2 Mo")
    assert d.count(c.member) == 0


# ---- names and headers ------------------------------------------------------------------------


def test_filename_star_with_accents_and_quotes(docs):
    c = docs.member()
    name = 'relevé "mai" d\'été.pdf'
    raw = name.replace('"', '\\"').encode()
    r = send(c, [part("f", PDF, raw)])
    assert r.status_code == 201, r.text
    d = r.json()["documents"][0]
    assert d["name"] == name
    r = c.get("%s/%d" % (UP, d["id"]))
    cd = r.headers["Content-Disposition"]
    # One quoted fallback with no quote inside, then the exact UTF-8 name.
    assert cd.startswith('attachment; filename="relev_ _mai_ d__t_.pdf"; filename*=UTF-8\'\'')
    star = cd.split("filename*=UTF-8''", 1)[1]
    assert '"' not in star and "'" not in star and " " not in star
    assert urllib.parse.unquote(star, encoding="utf-8", errors="strict") == name


def test_names_sanitised(docs):
    c = docs.member()
    long = ("é" * 200) + ".pdf"
    r = send(c, [part("a", PDF, "C:\\\\Users\\\\paul\\\\scan.pdf"),
                 part("b", PDF, "..\\\\..\\\\etc/passwd"),
                 part("c", PDF, "tab\there.pdf"),
                 part("d", PDF, long)])
    assert r.status_code == 201, r.text
    names = [x["name"] for x in r.json()["documents"]]
    assert names[0] == "scan.pdf"
    assert names[1] == "passwd"
    assert names[2] == "tabhere.pdf"
    assert len(names[3].encode()) <= 255 and names[3] == "é" * 127


def test_header_injection_through_part_content_type(docs):
    """A CR/LF in a part's Content-Type only ends that line of the part:
    the type is never taken from it, and nothing of it reaches the answer."""
    c = docs.member()
    evil = part("f", PDF, "a.pdf", ctype="text/html\r\nX-Injected: 1\r\nSet-Cookie: pwn=1",
                extra_headers=b"Content-Security-Policy-Report-Only: x\r\n")
    r = send(c, [evil])
    assert r.status_code == 201, r.text
    d = r.json()["documents"][0]
    assert d["type"] == "pdf"
    r = c.get("%s/%d" % (UP, d["id"]))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/pdf"
    for h in ("X-Injected", "Set-Cookie", "Content-Security-Policy-Report-Only"):
        assert h not in r.headers
    # A bare LF in the file name stays out of the headers too.
    r = send(c, [part("f", PDF, b"x\nX-Injected: 1.pdf")])
    if r.status_code == 201:
        d = r.json()["documents"][0]
        assert "\n" not in d["name"]
        r = c.get("%s/%d" % (UP, d["id"]))
        assert "X-Injected" not in r.headers
        assert "\n" not in r.headers["Content-Disposition"]
    else:
        assert r.status_code == 400


# ---- access -------------------------------------------------------------------------------------


def test_another_members_document_is_a_404(docs):
    a, b = docs.member(), docs.member()
    r = send(a, files(("f", "a.pdf", PDF)))
    doc = r.json()["documents"][0]["id"]
    assert_problem(b.get("%s/%d" % (UP, doc)), 404)
    assert b.get(UP).json()["documents"] == []
    assert_problem(b.get("%s/%d" % (UP, doc + 1000000)), 404)
    assert_problem(b.get(UP + "/abc"), 404)
    anon = docs.stack.client(base_url=docs.inst.base_url, origin=docs.inst.origin)
    assert anon.get("%s/%d" % (UP, doc)).status_code == 401
    assert a.get("%s/%d" % (UP, doc)).status_code == 200


def test_agent_download_needs_permission_and_is_audited(docs):
    m = docs.member()
    doc = send(m, files(("f", "ordonnance.pdf", PDF))).json()["documents"][0]["id"]
    agent = docs.agent("agent")  # docmod.read is not a default agent permission
    assert_problem(agent.get("/api/v1/docmod/agent/documents/%d" % doc), 403)
    sup = docs.agent("supervisor")
    r = sup.get("/api/v1/docmod/agent/documents/%d" % doc)
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["Content-Security-Policy"] == "sandbox"
    rows = docs.stack.sql("SELECT member_id, action FROM audit_log WHERE agent_id = %d"
                          % sup.agent.id)
    assert rows == [[str(m.member.id), "docmod.documents.read"]]
    # The member's own route is not an agent's way in, and a route without
    # permission and audit never answers a member's file.
    assert sup.get("%s/%d" % (UP, doc)).status_code in (401, 403)
    assert_problem(sup.get("/api/v1/docmod/agent-unaudited/documents/%d" % doc), 500)
    assert_problem(sup.get("/api/v1/docmod/agent/documents/%d" % (doc + 1000000)), 404)


# ---- malware scan --------------------------------------------------------------------------------


def test_eicar_refused_and_security_event(stack, clamd):
    d = Docs(stack, {"scanner": str(clamd.socket), "scan_timeout_ms": 10000})
    c = d.member()
    r = send(c, files(("ok", "ok.pdf", PDF)))
    assert r.status_code == 201, r.text
    r = send(c, files(("ok", "ok.pdf", PDF), ("virus", "eicar.com", EICAR)))
    assert_problem(r, 422)
    assert field_errors(r) == {"virus": "Ce fichier contient un virus ; il a été refusé."}
    # Inside a PDF (the body signature): refused too.
    r = send(c, files(("v2", "x.pdf", PDF + EICAR)))
    assert field_errors(r) == {"v2": "Ce fichier contient un virus ; il a été refusé."}
    assert d.count(c.member) == 1
    ev = stack.sql("SELECT kind, detail FROM security_events WHERE member_id = %d ORDER BY id"
                   % c.member.id)
    assert [e[0] for e in ev] == ["document_infected", "document_infected"]
    assert "Portail.Test.EICAR" in ev[0][1]


def test_scanner_stopped_is_503_and_nothing_stored(stack, tmp_path):
    own = Clamd(tmp_path / "clamd")
    own.start()
    try:
        d = Docs(stack, {"scanner": str(own.socket), "scan_timeout_ms": 2000})
        c = d.member()
        assert send(c, files(("f", "a.pdf", PDF))).status_code == 201
    finally:
        own.stop()
    r = send(c, files(("f", "a.pdf", PDF)))
    assert_problem(r, 503)
    assert int(r.headers["Retry-After"]) > 0
    assert d.count(c.member) == 1


def test_scanner_silent_is_503(stack, tmp_path):
    """A socket that accepts and never answers: the scan times out."""
    path = str(tmp_path / "silent.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        d = Docs(stack, {"scanner": path, "scan_timeout_ms": 300})
        c = d.member()
        t0 = time.monotonic()
        r = send(c, files(("f", "a.pdf", PDF)))
        assert_problem(r, 503)
        assert time.monotonic() - t0 < 5
        assert d.count(c.member) == 0
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
        srv.close()


# ---- retention -----------------------------------------------------------------------------------


def test_retention_purge(stack):
    d = Docs(stack, {"keep_days": 30})
    c = d.member()
    ids = [x["id"] for x in send(c, files(("a", "a.pdf", PDF), ("b", "b.pdf", PDF))).json()[
        "documents"]]
    stack.sql("UPDATE documents SET created_at = UTC_TIMESTAMP() - INTERVAL 4000 DAY "
              "WHERE id = %d" % ids[0])
    deadline = time.monotonic() + 30
    while stack.sql("SELECT COUNT(*) FROM jobs WHERE unique_key = 'core.purge' AND "
                    "state = 'queued'") != [["1"]]:
        assert time.monotonic() < deadline, "core.purge not queued"
        time.sleep(0.1)
    stack.sql("UPDATE jobs SET run_at = UTC_TIMESTAMP() WHERE unique_key = 'core.purge' AND "
              "state = 'queued'")
    while stack.sql("SELECT COUNT(*) FROM documents WHERE id = %d" % ids[0]) != [["0"]]:
        assert time.monotonic() < deadline, "old document not purged"
        time.sleep(0.1)
    assert stack.sql("SELECT COUNT(*) FROM documents WHERE id = %d" % ids[1]) == [["1"]]
