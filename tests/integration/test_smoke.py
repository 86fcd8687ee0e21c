"""First contact: the stack answers, modules load, errors have their shape."""

import time

from hostcheck import assert_api_headers

# object-src 'none': no plugin content at all, not even same-origin (wapiti's
# csp module, script/scan; default-src 'self' alone let an uploaded file be
# embedded as an object).
CSP = ("default-src 'self'; object-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
       "form-action 'self'")


def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert_api_headers(r)
    body = r.json()
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]
    assert body["db"] == "up"
    mods = {m["name"]: m for m in body["modules"]}
    assert {"hello", "testmod"} <= set(mods)
    for m in body["modules"]:
        assert set(m) >= {"name", "version"}
        assert isinstance(m["version"], str) and m["version"]


def test_hello_module(client):
    r = client.get("/api/v1/hello")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert_api_headers(r)
    assert r.json() == {"message": "bonjour"}


def test_testmod_route(client):
    r = client.get("/api/v1/test/hello")
    assert r.status_code == 200, r.text
    assert r.json() == {"hello": "world"}


def test_unknown_path_is_problem_json(client):
    r = client.get("/api/v1/does-not-exist")
    assert r.status_code == 404, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/problem+json"
    assert_api_headers(r)
    body = r.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, body
    assert body["status"] == 404
    assert isinstance(body["title"], str) and body["title"]
    request_id = body.get("request_id")
    assert isinstance(request_id, str) and request_id, body
    # The same id is in the response headers and in portaild's log.
    if "X-Request-Id" in r.headers:
        assert r.headers["X-Request-Id"] == request_id


def test_request_id_in_log(stack, client):
    r = client.get("/api/v1/does-not-exist-either")
    rid = r.json()["request_id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if rid in stack.paths.portaild_log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError("request id %s not in %s" % (rid, stack.paths.portaild_log))


def test_static_index_with_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html" in r.text.lower()
    assert r.headers.get("Content-Security-Policy") == CSP
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert r.headers.get("Referrer-Policy") == "no-referrer"
    assert "Permissions-Policy" in r.headers


def test_api_headers_not_doubled(client):
    """nginx adds the security headers; portaild's own copies are hidden."""
    r = client.get("/api/v1/health")
    for h in ("X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"):
        values = r.raw.headers.getlist(h)
        assert len(values) == 1, (h, values)
    assert r.headers.get("Content-Security-Policy") == CSP


def test_nginx_bench_location(client):
    r = client.get("/nginx-200")
    assert r.status_code == 200
    assert r.text == "ok"
