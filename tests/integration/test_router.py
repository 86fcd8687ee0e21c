"""The router and the response envelope: params, precedence, 404/405,
HEAD, disabled modules, the default auth level, problem+json on every error,
API and download headers."""

import json

import pytest

from hostcheck import assert_api_headers, assert_problem, media_type, parse_raw, raw_http

# ------------------------------------------------------------------ params


@pytest.mark.parametrize("raw, decoded", [
    ("42", "42"),
    ("abc-DEF_1.2", "abc-DEF_1.2"),
    ("caf%C3%A9", "café"),
    ("a%20b", "a b"),
    ("a+b", "a+b"),  # '+' is only a space in forms and queries
    ("%2541", "%41"),  # decoded once
    ("%E2%82%AC%F0%9F%98%80", "€😀"),
])
def test_param_decoded(client, raw, decoded):
    r = client.get("/api/v1/test/items/" + raw)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": decoded}
    assert_api_headers(r)


@pytest.mark.parametrize("raw", ["a%2Fb", "..%2F..%2Fetc%2Fpasswd", "a%5Cb"])
def test_encoded_slash_in_a_param_is_refused(client, raw):
    # Issue 14 item 8: nginx and the router would read such a path
    # differently, so it is refused before routing.
    assert client.get("/api/v1/test/items/" + raw).status_code == 400


def test_param_with_query_and_post_body(client):
    r = client.get("/api/v1/test/items/7?x=1&id=8")
    assert r.json() == {"id": "7"}
    r = client.post("/api/v1/test/items/7", json={"k": [1, "deux"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "7", "body": {"k": [1, "deux"]}}


def test_encoded_slash_does_not_change_the_route(client):
    # Two raw segments would match nothing; one encoded segment is an id.
    r = client.get("/api/v1/test/items/a/b")
    assert_problem(r, 404)
    # An encoded slash is refused before routing (issue 14 item 8).
    r = client.get("/api/v1/test/items/special%2Fx")
    assert_problem(r, 400)


def test_param_not_valid_utf8_is_not_a_server_error(stack):
    """%FF decodes to a byte that is not UTF-8: the handler must never get
    it (JSON built from it would fail), and the client gets a 4xx."""
    port = stack.portaild.nginx.port
    for path in (b"/api/v1/test/items/%FF%FE", b"/api/v1/test/items/\xff\xfe",
                 b"/api/v1/test/items/%C0%AF"):  # overlong '/'
        status, headers, body = parse_raw(raw_http(
            port, b"GET " + path + b" HTTP/1.0\r\nHost: x\r\n\r\n"))
        assert 400 <= status < 500, (path, status, body)
        assert headers["content-type"].startswith("application/problem+json"), headers
        problem = json.loads(body)
        assert problem["status"] == status
        assert problem["request_id"] == headers["x-request-id"]
        assert isinstance(problem["instance"], str) and problem["instance"].startswith(
            "/api/v1/test/items/"), problem


# -------------------------------------------------------------- precedence


def test_literal_segment_beats_param(client):
    r = client.get("/api/v1/test/items/special")
    assert r.status_code == 200, r.text
    assert r.json() == {"hello": "world"}
    # The literal route is GET only: POST falls back to the param route.
    r = client.post("/api/v1/test/items/special", json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "special", "body": {}}
    # Near misses are ids.
    for other in ("specials", "Special", "specia"):
        assert client.get("/api/v1/test/items/" + other).json() == {"id": other}


# ---------------------------------------------------------------- 404 / 405


@pytest.mark.parametrize("path", [
    "/api/v1/nope",
    "/api/v1/test",
    "/api/v1/test/",
    "/api/v1/test/hello/",  # trailing slash: one resource, one address
    "/api/v1/test/hello/extra",
    "/api/v1/test/HELLO",
    "/api/v1/test/items/",  # empty id
    "/api/v1/test//hello",
    "/api/v1//test/hello",
    "/api/v2/test/hello",
    "/api/v1/hello2",
    "/api/" + "x/" * 40 + "y",  # more segments than any route
])
def test_unknown_paths_404(client, path):
    body = assert_problem(client.get(path), 404)
    assert body["type"] == "urn:portail:probleme:introuvable"


def test_long_path_404(client):
    assert_problem(client.get("/api/v1/test/items/" + "a" * 3000), 404)


@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", "/api/v1/test/hello", "GET, HEAD"),
    ("POST", "/api/v1/test/hello", "GET, HEAD"),
    ("PUT", "/api/v1/test/hello", "GET, HEAD"),
    ("PATCH", "/api/v1/test/hello", "GET, HEAD"),
    ("OPTIONS", "/api/v1/test/hello", "GET, HEAD"),
    ("PUT", "/api/v1/test/items/7", "GET, HEAD, POST"),
    ("DELETE", "/api/v1/test/items/special", "GET, HEAD, POST"),
    ("GET", "/api/v1/test/echo", "POST"),
    ("HEAD", "/api/v1/test/echo", "POST"),
    ("GET", "/api/v1/test/sessions/12", "DELETE"),
    ("POST", "/api/v1/health", "GET, HEAD"),
])
def test_405_with_exact_allow(client, method, path, allow):
    r = client.request(method, path)
    assert r.status_code == 405, r.text
    assert r.headers.get("Allow") == allow, dict(r.headers)
    assert r.raw.headers.getlist("Allow") == [allow]
    if method == "HEAD":
        assert r.content == b""
    else:
        body = assert_problem(r, 405)
        assert method in body["detail"]


# -------------------------------------------------------------------- HEAD


@pytest.mark.parametrize("path", ["/api/v1/test/hello", "/api/v1/test/file",
                                  "/api/v1/test/items/42", "/api/v1/nope"])
def test_head_like_get_without_body(client, path):
    g = client.get(path)
    h = client.head(path)
    assert h.status_code == g.status_code
    assert h.content == b""
    assert g.content != b""
    assert h.headers["Content-Length"] == g.headers["Content-Length"] == str(len(g.content))
    for name in ("Content-Type", "Cache-Control", "X-Content-Type-Options",
                 "Content-Disposition", "Allow"):
        assert h.headers.get(name) == g.headers.get(name), name
    assert h.headers["X-Request-Id"] != g.headers["X-Request-Id"]


def test_head_logged_as_head(stack, client):
    rid = client.head("/api/v1/test/hello").headers["X-Request-Id"]
    rec = wait_log(stack.portaild, rid)
    assert rec["method"] == "HEAD" and rec["status"] == 200


def wait_log(inst, rid, timeout=5):
    import time
    deadline = time.monotonic() + timeout
    while True:
        for rec in inst.log_records():
            if rec.get("request_id") == rid and "status" in rec:
                return rec
        assert time.monotonic() < deadline, "no log line for %s" % rid
        time.sleep(0.05)


# --------------------------------------------------------- disabled module


def test_disabled_module_routes_404(stack):
    inst = stack.start_portaild({"modules": [
        {"name": "testmod", "enabled": True, "path": "testmod.so", "settings": {}},
        {"name": "hello", "enabled": False, "path": "hello.so", "settings": {"message": "x"}},
    ]})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    assert_problem(c.get("/api/v1/hello"), 404)
    assert_problem(c.post("/api/v1/hello", json={}), 404)
    assert c.get("/api/v1/test/hello").status_code == 200
    names = {m["name"] for m in c.get("/api/v1/health").json()["modules"]}
    assert names == {"testmod"}
    # The stack's own portaild (hello enabled) still serves it.
    assert stack.client().get("/api/v1/hello").json() == {"message": "bonjour"}


# ------------------------------------------------------------- auth levels


def test_default_auth_is_agent_only(stack):
    anon = stack.client()
    body = assert_problem(anon.get("/api/v1/test/default-auth"), 401)
    assert body["type"] == "urn:portail:probleme:authentification-requise"

    member = stack.client()
    member.test_login(kind="member", id=101, level="member")
    assert member.get("/api/v1/test/member").status_code == 200
    assert_problem(member.get("/api/v1/test/default-auth"), 403)
    assert_problem(member.get("/api/v1/test/agent"), 403)

    partial = stack.client()
    partial.test_login(kind="member", id=102, level="partial")
    assert_problem(partial.get("/api/v1/test/default-auth"), 401)

    agent = stack.client()
    row = stack.new_agent()  # an agent's session needs its agents row
    agent.test_login(kind="agent", id=row.id, level="agent")
    r = agent.get("/api/v1/test/default-auth")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == row.id
    assert_problem(agent.get("/api/v1/test/member"), 403)


def test_auth_checked_before_body(stack):
    """A member route refuses an anonymous caller before looking at the
    body: no 413/415/400 oracle for the unauthenticated."""
    anon = stack.client()
    r = anon.get("/api/v1/test/member", data=b"x" * 100000,
                 headers={"Content-Type": "text/plain"})
    assert_problem(r, 401)


# ------------------------------------------------- problem+json everywhere


def test_problem_shape_on_every_error(stack, client):
    cases = [
        (400, lambda: client.get("/api/v1/test/slow?ms=abc")),
        (400, lambda: client.get("/api/v1/test/hello?x=%00")),
        (400, lambda: client.post("/api/v1/test/echo", data=b"{",
                                  headers={"Content-Type": "application/json"})),
        (401, lambda: client.get("/api/v1/test/member")),
        (403, lambda: client.post("/api/v1/test/echo", json={}, origin="http://evil.example")),
        (403, lambda: client.post("/api/v1/test/echo", json={}, origin=False)),
        (404, lambda: client.get("/api/v1/test/nothing")),
        (405, lambda: client.delete("/api/v1/test/hello")),
        (413, lambda: client.post("/api/v1/test/echo", data=b"[" + b"1," * 600 + b"1]",
                                  headers={"Content-Type": "application/json"})),
        (415, lambda: client.post("/api/v1/test/echo", data=b"x",
                                  headers={"Content-Type": "text/plain"})),
        (422, lambda: client.post("/api/v1/test/mail", json={})),
        (431, lambda: client.get("/api/v1/test/hello", headers={"Cookie": "a=" + "b" * 5000})),
    ]
    seen_ids = set()
    for status, call in cases:
        r = call()
        body = assert_problem(r, status)
        assert body["request_id"] not in seen_ids
        seen_ids.add(body["request_id"])
        # The same id names the request in portaild's log.
        rec = wait_log(stack.portaild, body["request_id"])
        assert rec["status"] == status
    # 422 lists the fields, messages in French.
    r = client.post("/api/v1/test/mail", json={"to": "x"})
    body = assert_problem(r, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"to", "subject", "body"} <= fields
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])


def test_problem_instance_is_path_without_query(client):
    r = client.get("/api/v1/test/nothing?token=SECRET")
    assert_problem(r, 404, path="/api/v1/test/nothing")
    assert "SECRET" not in r.text


# ------------------------------------------------------------- API headers


@pytest.mark.parametrize("method, path, kw", [
    ("GET", "/api/v1/test/hello", {}),
    ("GET", "/api/v1/health", {}),
    ("POST", "/api/v1/test/echo", {"json": {"a": 1}}),
    ("GET", "/api/v1/nope", {}),
    ("DELETE", "/api/v1/test/hello", {}),
    ("GET", "/api/v1/test/member", {}),
])
def test_api_headers_success_and_error(client, method, path, kw):
    r = client.request(method, path, **kw)
    assert_api_headers(r)
    if r.status_code < 400:
        assert media_type(r) == "application/json"
    else:
        assert media_type(r) == "application/problem+json"
    assert r.headers["Content-Type"].endswith("; charset=utf-8")
    assert r.headers["X-Request-Id"]


def test_empty_response_headers(stack):
    c = stack.client()
    c.test_login(kind="member", id=104, level="member")
    r = c.post("/api/v1/test/session/logout")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert r.headers.get("Cache-Control") == "no-store"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"


# ------------------------------------------------------------------- files


def test_file_download_headers(client):
    r = client.get("/api/v1/test/file")
    assert r.status_code == 200
    assert r.content == bytes([0x25, 0x50, 0x44, 0x46, 0x00, 0x01, 0xFF, 0x0A])
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Length"] == "8"
    # The space of "attestation droits.pdf" is replaced: a conservative
    # ASCII subset, always quoted.
    assert r.headers["Content-Disposition"] == 'attachment; filename="attestation_droits.pdf"'
    assert r.raw.headers.getlist("Content-Disposition") == [r.headers["Content-Disposition"]]
    assert_api_headers(r)


# ------------------------------------------------- portailctl routes (scanners)


def _routes(stack, config=None):
    r = stack.portailctl("routes", config=config)
    assert r.returncode == 0, r.stderr
    return [tuple(line.split("\t")) for line in r.stdout.splitlines()]


def test_portailctl_routes_lists_what_portaild_serves(stack):
    # script/scan builds its target list from this: every route, one line
    # per method, with its level, module, body types and permission.
    rows = _routes(stack)
    assert all(len(row) == 6 for row in rows), rows
    assert ("GET", "/api/v1/health", "public", "core", "json", "-") in rows
    assert ("GET", "/api/v1/backoffice/jobs", "agent", "core", "json", "jobs.read") in rows
    assert ("POST", "/api/v1/test/echo", "public", "testmod", "json", "-") in rows
    assert ("POST", "/api/v1/test/form", "public", "testmod", "form", "-") in rows
    assert ("POST", "/api/v1/test/upload", "public", "testmod", "multipart", "-") in rows
    assert ("GET", "/api/v1/test/member", "member", "testmod", "json", "-") in rows
    assert ("GET", "/api/v1/test/partial", "partial", "testmod", "json", "-") in rows
    # The zero level is agent: a route that names none is listed as agent.
    assert ("GET", "/api/v1/test/default-auth", "agent", "testmod", "json", "-") in rows
    assert len(rows) == len(set(rows))
    # Every line is a route the running portaild has: neither the router's
    # 404 (no route for the path) nor a 405 (not that method).
    c = stack.client()
    for method, pattern, *_ in rows:
        path = "/".join("1" if seg.startswith("{") else seg for seg in pattern.split("/"))
        r = c.request(method, path, data=b"", headers={"Content-Type": "application/json"})
        assert r.status_code != 405, (method, path)
        assert "Aucun service ne correspond" not in r.text, (method, path)


def test_portailctl_routes_leaves_out_disabled_modules(stack):
    config = stack.write_config({"modules": [
        {"name": "testmod", "enabled": True, "path": "testmod.so", "settings": {}},
        {"name": "hello", "enabled": False, "path": "hello.so", "settings": {"message": "x"}},
    ]})
    modules = {row[3] for row in _routes(stack, config)}
    assert modules == {"core", "testmod"}
    assert stack.portailctl("routes", "extra").returncode == 2
