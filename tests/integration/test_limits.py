"""Request limits and body parsing: the route's body cap (413 before the
body is read), content types (415), JSON (400), urlencoded forms, header and
cookie limits (431), query limits (400)."""

import json

import pytest

import fcgi_client as fcgi
from hostcheck import assert_problem, parse_raw, raw_http

ECHO = "/api/v1/test/echo"  # POST, JSON only, body_max 1024
FORM = "/api/v1/test/form"  # POST, urlencoded only, default cap 16 KiB


def post_raw(client, path, data, ctype):
    return client.post(path, data=data, headers={"Content-Type": ctype})


def json_of_size(n):
    """A JSON array holding one string, exactly n bytes."""
    assert n >= 4
    return b'["' + b"a" * (n - 4) + b'"]'


# ------------------------------------------------------------------- 413


def test_body_at_cap_accepted_over_cap_413(client):
    r = post_raw(client, ECHO, json_of_size(1024), "application/json")
    assert r.status_code == 200, r.text
    assert r.json() == ["a" * 1020]
    r = post_raw(client, ECHO, json_of_size(1025), "application/json")
    body = assert_problem(r, 413)
    assert body["type"] == "urn:portail:probleme:trop-volumineux"
    assert "1024" in body["detail"]


def test_413_even_with_wrong_type_and_bad_body(client):
    """The size is judged from Content-Length first."""
    r = post_raw(client, ECHO, b"\xff" * 5000, "text/plain")
    assert_problem(r, 413)


def test_413_before_reading_the_body(stack):
    """Straight to portaild: Content-Length says 10 MB and not one byte of
    body follows (the stream is left open). A host that read before judging
    would hang here; portaild answers at once."""
    params = fcgi.base_params("POST", ECHO, CONTENT_LENGTH="10000000",
                              CONTENT_TYPE="application/json", HTTP_ORIGIN=stack.origin)
    r = fcgi.request(stack.paths.portaild_socket, params, stdin=None, close_stdin=False,
                     timeout=10)
    assert r.ended
    assert r.status == 413, r.raw[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 413
    assert r.elapsed < 5


def test_bad_content_length(stack):
    for cl in ("-1", "12abc", "99999999999999999999999"):
        params = fcgi.base_params("POST", ECHO, CONTENT_LENGTH=cl,
                                  CONTENT_TYPE="application/json", HTTP_ORIGIN=stack.origin)
        r = fcgi.request(stack.paths.portaild_socket, params, stdin=b"{}")
        assert r.status in (400, 413), (cl, r.raw[:300])
        assert r.json()["status"] == r.status


def test_short_body_is_400(stack):
    """Content-Length promises more than the stream carries."""
    params = fcgi.base_params("POST", ECHO, CONTENT_LENGTH="100",
                              CONTENT_TYPE="application/json", HTTP_ORIGIN=stack.origin)
    r = fcgi.request(stack.paths.portaild_socket, params, stdin=b'{"a":1}')
    assert r.status == 400, r.raw[:300]


# ------------------------------------------------------------------- 415


@pytest.mark.parametrize("ctype", [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "application/json-patch+json",
    "",
])
def test_json_route_refuses_other_types(client, ctype):
    headers = {"Content-Type": ctype} if ctype else {"Content-Type": None}
    r = client.post(ECHO, data=b'{"a":1}', headers=headers)
    body = assert_problem(r, 415)
    assert body["type"] == "urn:portail:probleme:type-non-pris-en-charge"
    assert "application/json" in body["detail"]


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8",
                                   "Application/JSON ; charset=UTF-8"])
def test_json_type_with_parameters_accepted(client, ctype):
    r = post_raw(client, ECHO, b'{"a":1}', ctype)
    assert r.status_code == 200, r.text
    assert r.json() == {"a": 1}


def test_form_route_refuses_json(client):
    r = client.post(FORM, json={"a": "1"})
    assert_problem(r, 415)


# ------------------------------------------------------------------- JSON


@pytest.mark.parametrize("data", [
    b"{",
    b'{"a":}',
    b"{'a': 1}",
    b'{"a":1} trailing',
    b"[1,2,]",
    b"nul",
    b'"\xff\xfe"',  # not UTF-8
    b'{"a":"\\ud800"}',  # lone surrogate
    b"\x00",
])
def test_malformed_json_400_in_french(client, data):
    r = post_raw(client, ECHO, data, "application/json")
    body = assert_problem(r, 400)
    assert body["type"] == "urn:portail:probleme:requete-invalide"
    assert body["detail"].startswith("Le JSON envoyé est mal formé"), body["detail"]


def test_duplicate_keys_400(client):
    r = post_raw(client, ECHO, b'{"montant": 100, "montant": 99999}', "application/json")
    body = assert_problem(r, 400)
    assert "JSON" in body["detail"]
    # Nested duplicates too.
    r = post_raw(client, ECHO, b'{"a": {"b": 1, "b": 2}}', "application/json")
    assert_problem(r, 400)


def test_json_objects_and_arrays_accepted(client):
    for doc in ([1, "deux", None], [], {}, {"é": "ü", "n": [1.5, {"x": None}]}):
        r = client.post(ECHO, json=doc)
        assert r.status_code == 200, r.text
        assert r.json() == doc


@pytest.mark.parametrize("data", [b'"texte"', b"42", b"true", b"null"])
def test_json_scalar_body_refused(client, data):
    """A request body is an object or an array (jansson's default)."""
    assert_problem(post_raw(client, ECHO, data, "application/json"), 400)


def test_empty_body_on_json_route(client):
    """No body at all is no JSON for the handler, not a parse error."""
    for headers in ({"Content-Type": "application/json"}, {}):
        r = client.post(ECHO, data=b"", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() is None


# ------------------------------------------------------------------- forms


def post_form(client, data):
    return post_raw(client, FORM, data, "application/x-www-form-urlencoded")


def test_form_parsing(client):
    r = post_form(client, b"a=1+2%2B3&b=%C3%A9t%C3%A9+%26+hiver&nom=Z%C3%B6e&nom=other&vide=")
    assert r.status_code == 200, r.text
    assert r.json() == {"a": "1 2+3", "b": "été & hiver", "nom": "Zöe", "vide": ""}


def test_form_value_forms(client):
    # No '=' is an empty value; empty pairs are skipped; first value wins.
    r = post_form(client, b"vide&&a=x=y&&b=&a=second")
    assert r.status_code == 200, r.text
    assert r.json() == {"vide": "", "a": "x=y", "b": ""}
    r = post_raw(client, FORM, b"a=1", "application/x-www-form-urlencoded; charset=UTF-8")
    assert r.json() == {"a": "1"}


@pytest.mark.parametrize("data", [b"a=%zz", b"a=%4", b"a=%00", b"=x", b"a=%FF", b"a=1&%C3=2"])
def test_bad_form_400(client, data):
    body = assert_problem(post_form(client, data), 400)
    assert body["detail"] == "Le formulaire envoyé est mal formé."


def test_form_pair_limit(client):
    ok = b"&".join(b"k%d=v" % i for i in range(256))
    assert post_form(client, ok).status_code == 200
    assert_problem(post_form(client, ok + b"&one=more"), 400)


def test_form_over_default_cap(client):
    r = post_form(client, b"a=" + b"x" * (16 * 1024))
    assert_problem(r, 413)


# ---------------------------------------------------- headers and cookies


def test_headers_over_max_header_bytes_431(client):
    """The stack's portaild allows 16384 bytes of headers in all; nginx
    allows each line up to 16k, so several big ones pass nginx."""
    headers = {"X-Pad-%d" % i: "v" * 4000 for i in range(5)}
    body = assert_problem(client.get("/api/v1/test/hello", headers=headers), 431)
    assert body["type"] == "urn:portail:probleme:en-tetes-trop-volumineux"
    # Below the limit: fine.
    headers = {"X-Pad-%d" % i: "v" * 4000 for i in range(3)}
    assert client.get("/api/v1/test/hello", headers=headers).status_code == 200


def test_cookie_over_max_cookie_bytes_431(client):
    assert_problem(client.get("/api/v1/test/hello", cookies="a=" + "b" * 5000), 431)
    assert client.get("/api/v1/test/hello", cookies="a=" + "b" * 3000).status_code == 200
    # Too many cookies is refused the same way.
    many = "; ".join("c%d=1" % i for i in range(40))
    assert_problem(client.get("/api/v1/test/hello", cookies=many), 431)


def test_431_on_any_route_before_auth(client):
    """Checked before routing and auth: even a 404 or a member route."""
    big = {"X-Pad-%d" % i: "v" * 4000 for i in range(5)}
    assert_problem(client.get("/api/v1/nothing", headers=big), 431)
    assert_problem(client.get("/api/v1/test/member", headers=big), 431)


def test_configured_lower_limits(stack):
    inst = stack.start_portaild({"server": {"max_header_bytes": 2048, "max_cookie_bytes": 512}})
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    assert c.get("/api/v1/test/hello", headers={"X-Pad": "v" * 1000}).status_code == 200
    assert_problem(c.get("/api/v1/test/hello", headers={"X-Pad": "v" * 2100}), 431)
    assert c.get("/api/v1/test/hello", cookies="a=" + "b" * 400).status_code == 200
    assert_problem(c.get("/api/v1/test/hello", cookies="a=" + "b" * 600), 431)


def test_huge_header_straight_to_portaild(stack):
    """Without nginx in front (or with a laxer one): still 431, no crash."""
    params = fcgi.base_params("GET", "/api/v1/test/hello", HTTP_X_BIG="v" * 200000)
    r = fcgi.request(stack.paths.portaild_socket, params)
    assert r.status == 431, r.raw[:300]
    params = fcgi.base_params("GET", "/api/v1/test/hello",
                              **{"HTTP_X_H%d" % i: "1" for i in range(150)})
    r = fcgi.request(stack.paths.portaild_socket, params)
    assert r.status == 431, r.raw[:300]


# ------------------------------------------------------------------ query


def test_query_params_limit(client):
    q = "&".join("p%d=%d" % (i, i) for i in range(64))
    assert client.get("/api/v1/test/hello?" + q).status_code == 200
    body = assert_problem(client.get("/api/v1/test/hello?" + q + "&p64=64"), 400,
                          path="/api/v1/test/hello")
    assert body["type"] == "urn:portail:probleme:requete-invalide"


@pytest.mark.parametrize("query", [b"a=%zz", b"a=%4", b"a=%", b"a=%00", b"%zz=1", b"a=%FF",
                                   b"a=%C3%28", b"=1"])
def test_bad_query_400(stack, query):
    """Sent raw: requests would re-quote a lone '%'."""
    status, headers, body = parse_raw(raw_http(
        stack.portaild.nginx.port,
        b"GET /api/v1/test/hello?" + query + b" HTTP/1.0\r\nHost: x\r\n\r\n"))
    assert status == 400, (query, body)
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["instance"] == "/api/v1/test/hello"
    assert problem["request_id"] == headers["x-request-id"]
    assert "paramètres" in problem["detail"]


def test_query_decoding(client):
    r = client.get("/api/v1/test/slow?ms=%31%30&ms=99999")  # first value wins, decoded
    assert r.status_code == 200, r.text
    assert r.json() == {"slept": 10}
    body = assert_problem(client.get("/api/v1/test/slow?ms=1e3"), 400)
    assert "ms" in body["detail"]
    assert_problem(client.get("/api/v1/test/slow?ms=999999"), 400)
