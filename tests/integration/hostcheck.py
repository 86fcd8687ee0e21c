"""Assertions shared by the HTTP-host tests (router, limits, multipart,
lifecycle): the API headers every response carries and the RFC 9457 shape
of every error."""

import socket
from urllib.parse import urlsplit


def media_type(r):
    return r.headers.get("Content-Type", "").split(";")[0].strip().lower()


def assert_api_headers(r):
    assert r.headers.get("Cache-Control") == "no-store", dict(r.headers)
    assert r.headers.get("X-Content-Type-Options") == "nosniff", dict(r.headers)
    assert r.headers.get("Content-Type"), dict(r.headers)
    assert r.raw.headers.getlist("X-Content-Type-Options") == ["nosniff"], dict(r.headers)


def assert_problem(r, status, path=None, detail_contains=None):
    """r is a requests response; checks status, headers and the body's
    RFC 9457 members. path is the expected instance (defaults to the
    request's own path, without the query). Returns the body."""
    assert r.status_code == status, (r.status_code, r.text)
    assert media_type(r) == "application/problem+json", dict(r.headers)
    assert r.headers["Content-Type"].lower().endswith("charset=utf-8"), r.headers["Content-Type"]
    assert_api_headers(r)
    body = r.json()
    for key in ("type", "title", "status", "detail", "instance", "request_id"):
        assert key in body, (key, body)
    assert body["status"] == status, body
    assert isinstance(body["type"], str) and body["type"].startswith("urn:portail:probleme:"), body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    if path is None:
        path = urlsplit(r.request.url).path
    assert body["instance"] == path, (body["instance"], path)
    rid = r.headers.get("X-Request-Id")
    assert rid and body["request_id"] == rid, (rid, body)
    assert len(rid) == 32 and all(c in "0123456789abcdef" for c in rid), rid
    if detail_contains:
        assert detail_contains in body["detail"], body
    return body


def raw_http(port, data, timeout=10):
    """Sends raw bytes to nginx and returns the raw answer (for requests
    that requests/urllib3 would normalise)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def parse_raw(out):
    """(status, headers dict lower-case, body) of a raw HTTP/1.0 answer."""
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body
