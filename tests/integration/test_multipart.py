"""multipart/form-data through the whole stack (nginx, portaild, parse.c):
binary safety, boundaries, limits (32 parts, 1 MiB), malformed bodies."""

import functools

import pytest

from conftest import multipart_body
from conftest import multipart_part as part
from hostcheck import assert_problem

UPLOAD = "/api/v1/test/upload"  # POST, multipart only, body_max 1 MiB
MIB = 1024 * 1024
body = functools.partial(multipart_body, boundary=b"XyZ-b0undary")
BINARY = b"%PDF-1.4\r\n\x00\x01\x02\r\n--not-a-boundary\r\n\x00\xff\xfe\r\n\r\n\x00"


def upload(client, data, boundary='XyZ-b0undary', ctype=None):
    ctype = ctype or "multipart/form-data; boundary=" + boundary
    return client.post(UPLOAD, data=data, headers={"Content-Type": ctype})


def test_fields_and_binary_file(client):
    data = body([
        part("nom", "Zoé Martin".encode()),
        part("motif", b"ligne 1\r\nligne 2"),
        part("piece", BINARY, filename="facture.pdf", ctype="application/pdf"),
    ])
    r = upload(client, data)
    assert r.status_code == 200, r.text
    parts = r.json()["parts"]
    assert parts == [
        {"name": "nom", "filename": None, "content_type": "text/plain",
         "size": len("Zoé Martin".encode())},
        {"name": "motif", "filename": None, "content_type": "text/plain", "size": 16},
        {"name": "piece", "filename": "facture.pdf", "content_type": "application/pdf",
         "size": len(BINARY)},
    ]


def test_empty_file_and_empty_field(client):
    r = upload(client, body([part("vide", b""), part("f", b"", filename="")]))
    assert r.status_code == 200, r.text
    assert [p["size"] for p in r.json()["parts"]] == [0, 0]


def test_filename_path_stripped(client):
    r = upload(client, body([part("f", b"x", filename="/home/moi/scan.png"),
                             part("g", b"y", filename="../../etc/passwd"),
                             part("h", b"z", filename="C:\\Users\\moi\\scan.png")]))
    assert r.status_code == 200, r.text
    names = [p["filename"] for p in r.json()["parts"]]
    assert names[:2] == ["scan.png", "passwd"]
    # Inside a quoted-string a backslash escapes the next character: what is
    # left has no directory in it either way.
    assert names[2].endswith("scan.png") and "\\" not in names[2] and "/" not in names[2]


def test_quoted_boundary(client):
    b = "quoted boundary:(x)"
    r = upload(client, body([part("a", b"1"), part("b", b"22")], boundary=b.encode()),
               ctype='multipart/form-data; boundary="%s"' % b)
    assert r.status_code == 200, r.text
    assert [p["size"] for p in r.json()["parts"]] == [1, 2]


def test_preamble_and_epilogue_ignored(client):
    data = b"preamble text\r\n" + body([part("a", b"abc")]) + b"epilogue"
    r = upload(client, data)
    assert r.status_code == 200, r.text
    assert r.json()["parts"] == [{"name": "a", "filename": None, "content_type": "text/plain",
                                  "size": 3}]


def test_missing_final_boundary_400(client):
    data = body([part("a", b"1"), part("b", b"2")], final=False)
    b = assert_problem(upload(client, data), 400)
    assert "multipart" in b["detail"].lower()
    # Truncated in the middle of a part.
    assert_problem(upload(client, b"--XyZ-b0undary\r\n" + part("a", b"1234")), 400)


def test_no_boundary_400(client):
    data = body([part("a", b"1")])
    for ctype in ("multipart/form-data", "multipart/form-data; charset=utf-8",
                  "multipart/form-data; boundary=", 'multipart/form-data; boundary="unterminated'):
        b = assert_problem(upload(client, data, ctype=ctype), 400)
        assert b["detail"].startswith("Corps multipart mal formé"), b


def test_wrong_boundary_400(client):
    assert_problem(upload(client, body([part("a", b"1")]), boundary="other"), 400)


def test_missing_name_400(client):
    p = b'Content-Disposition: form-data; filename="x.txt"\r\n\r\nabc'
    b = assert_problem(upload(client, body([part("ok", b"1"), p])), 400)
    assert "nom" in b["detail"]
    # No Content-Disposition at all.
    assert_problem(upload(client, body([b"Content-Type: text/plain\r\n\r\nabc"])), 400)


def test_too_many_parts_413(client):
    ok = body([part("f%d" % i, b"x") for i in range(32)])
    r = upload(client, ok)
    assert r.status_code == 200, r.text
    assert len(r.json()["parts"]) == 32
    b = assert_problem(upload(client, body([part("f%d" % i, b"x") for i in range(33)])), 413)
    assert "parties" in b["detail"]


def test_whole_body_over_1mib_413(client):
    data = body([part("f", b"\x00" * MIB, filename="big.bin")])
    b = assert_problem(upload(client, data), 413)
    assert str(MIB) in b["detail"]
    # Just under the cap: accepted, size exact.
    overhead = len(body([part("f", b"", filename="big.bin")]))
    data = body([part("f", b"\x00" * (MIB - overhead), filename="big.bin")])
    assert len(data) == MIB
    r = upload(client, data)
    assert r.status_code == 200, r.text
    assert r.json()["parts"][0]["size"] == MIB - overhead


def test_far_over_cap_still_413(client):
    """nginx accepts up to 12 MB, buffers and passes it; portaild answers
    413 without reading it, and nginx still relays that answer."""
    data = body([part("f", b"z" * (5 * MIB), filename="huge.bin")])
    assert_problem(upload(client, data), 413)


def test_part_headers_over_cap_413(client):
    big = b"X-Pad: " + b"p" * 5000 + b"\r\n"
    b = assert_problem(upload(client, body([part("a", b"1", extra_headers=big)])), 413)
    assert "en-têtes" in b["detail"]


@pytest.mark.parametrize("bad", [
    b'Content-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"\r\n\r\n1',
    b'Content-Disposition: form-data; name="a"\r\n folded\r\n\r\n1',
    b'Content-Disposition: attachment; name="a"\r\n\r\n1',
    b'no colon here\r\n\r\n1',
])
def test_malformed_part_headers_400(client, bad):
    assert_problem(upload(client, body([bad])), 400)


def test_name_not_utf8_400(client):
    """A field name or file name that is not UTF-8 is the client's error, not
    a 500 when the handler builds JSON from it."""
    for p in (b'Content-Disposition: form-data; name="a"; filename="\xff\xfe.pdf"\r\n\r\n1',
              b'Content-Disposition: form-data; name="\xc3("\r\n\r\n1',
              b'Content-Disposition: form-data; name="a"\r\nContent-Type: text/\xff\r\n\r\n1'):
        assert_problem(upload(client, body([p])), 400)
    # UTF-8 names are fine.
    p = 'Content-Disposition: form-data; name="pièce"; filename="reçu.pdf"\r\n\r\n1'.encode()
    r = upload(client, body([p]))
    assert r.status_code == 200, r.text
    assert r.json()["parts"][0]["name"] == "pièce"
    assert r.json()["parts"][0]["filename"] == "reçu.pdf"


def test_urlencoded_only_route_refuses_multipart(client):
    r = client.post("/api/v1/test/form", data=body([part("a", b"1")]),
                    headers={"Content-Type": "multipart/form-data; boundary=XyZ-b0undary"})
    assert_problem(r, 415)
