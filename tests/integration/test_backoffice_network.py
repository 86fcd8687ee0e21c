"""Paths that nginx and portaild could read differently are refused (400)
before routing, and portaild enforces the back-office network rule itself
(server.backoffice_networks), whatever nginx's allow list says."""

import pytest

from hostcheck import parse_raw, raw_http

BAD_PATHS = [
    "/api/v1/backoffice/members/..%2F..%2F../events",
    "/api/v1/backoffice/members/1/..%2f..%2fevents",
    "/api/v1/backoffice/members/%2E%2E/events",
    "/api/v1/backoffice/members/%2e/events",
    "/api/v1/backoffice/members/.%2E/events",
    "/api/v1/test/hello%5C..%5Cx",
    "/api/v1/test/hello/%2Fetc",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_encoded_slashes_and_dot_segments_are_refused(stack, path):
    port = int(stack.base_url.rsplit(":", 1)[1])
    out = raw_http(port, ("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
    status, headers, body = parse_raw(out)
    assert status == 400, (path, status, body)
    assert headers["content-type"].startswith("application/problem+json")


def test_a_clean_path_still_routes(client):
    assert client.get("/api/v1/test/hello").status_code == 200


@pytest.mark.timeout(90)
def test_portaild_enforces_the_backoffice_networks(stack):
    inst = stack.start_portaild(
        {"server": {"backoffice_networks": "10.20.0.0/16, 2001:db8::/32"}})
    kw = {"base_url": inst.base_url, "origin": inst.origin}
    # nginx allows everything here: portaild alone decides.
    inside4 = stack.client(xff="10.20.3.4", **kw)
    inside6 = stack.client(xff="2001:db8::7", **kw)
    outside = stack.client(xff="10.21.0.1", **kw)
    host = stack.client(**kw)
    assert inside4.get("/api/v1/backoffice/jobs").status_code == 401
    assert inside6.get("/api/v1/backoffice/jobs").status_code == 401
    for c in (outside, host):
        r = c.get("/api/v1/backoffice/jobs")
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "réseau" in r.json()["detail"]
    # The rest of the API is not affected.
    assert outside.get("/api/v1/test/hello").status_code == 200
    # An agent route outside /api/v1/backoffice (testmod's) is the back
    # office's all the same: the rule follows the route's level.
    assert inside4.get("/api/v1/test/agent").status_code == 401
    r = outside.get("/api/v1/test/agent")
    assert r.status_code == 403 and "réseau" in r.json()["detail"], r.text
    stack.stop_portaild(inst)


@pytest.mark.timeout(60)
def test_backoffice_networks_are_checked_at_start(stack, tmp_path):
    import subprocess
    from conftest import libconfig_text, portaild_bin
    cfg = stack.base_config("badnets", stack.origin)
    cfg["server"]["backoffice_networks"] = "10.0.0.0/33"
    path = tmp_path / "p.conf"
    path.write_text(libconfig_text(cfg))
    r = subprocess.run([str(portaild_bin()), "--check-config", str(path)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "backoffice_networks" in (r.stderr + r.stdout)
