"""The sign-in routes' pace in nginx follows server.signin_rate (0: 25 a
second per hash slot) in every place that renders the site: portaild
--nginx-values gives it, script/lib.sh (script/server, bench/), the test
stacks and nginx/site-render (the production site) fill the template with
it, and a real nginx delays then refuses (429 + Retry-After) beyond the rate
and its burst (20 s of the rate)."""
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import BUILD, REPO, fresh_ip, nginx_values


def test_nginx_values_follow_the_setting(stack):
    assert nginx_values(stack.write_config({"server": {"signin_rate": 7}})) == {
        "SIGNIN_RATE": "7", "SIGNIN_BURST": "140"}
    # Automatic: 25 a second per hash slot (3 here; 0 would be the cores).
    assert nginx_values(stack.write_config({"server": {"signin_rate": 0, "hash_slots": 3}})) == {
        "SIGNIN_RATE": "75", "SIGNIN_BURST": "1500"}
    cpus = os.cpu_count()
    assert nginx_values(stack.write_config({"server": {"hash_slots": 0}}))["SIGNIN_RATE"] == str(25 * cpus)


def test_an_out_of_range_rate_is_refused_with_its_line(stack):
    path = stack.write_config({"server": {"signin_rate": 100001}})
    r = subprocess.run([str(BUILD / "portaild"), "--nginx-values", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and r.stdout == ""
    assert "signin_rate" in r.stderr and str(path) in r.stderr, r.stderr


def signin_lines(text):
    return [l.strip() for l in text.splitlines()
            if "portail_signin_rate" in l and not l.strip().startswith("#")]


def test_every_renderer_carries_the_configured_rate(stack, tmp_path):
    path = stack.write_config({"server": {"signin_rate": 7}})
    values = "\n".join("%s=%s" % kv for kv in nginx_values(path).items())
    want = ["limit_req_zone $portail_signin_all zone=portail_signin_rate:1m rate=7r/s;",
            "limit_req zone=portail_signin_rate burst=140 delay=16;",
            "limit_req zone=portail_signin_rate burst=140 delay=16;"]

    # script/lib.sh, as script/server and bench/ call it.
    r = subprocess.run(["bash", "-c", 'source "$PORTAIL_ROOT/script/lib.sh"; portail_nginx_render "$@"',
                        "x", str(tmp_path), "8089", str(REPO / "web"), str(tmp_path / "p.sock"),
                        str(tmp_path / "acl.conf"), "", values],
                       env=dict(os.environ, PORTAIL_ROOT=str(REPO)), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert signin_lines((tmp_path / "nginx.conf").read_text()) == want

    # nginx/site-render, the production site.
    r = subprocess.run([str(REPO / "nginx" / "site-render"), "SERVER_NAME=x", "HTTP_LISTEN=80",
                        "HTTPS_LISTEN=443", "HTTPS_SUFFIX=", "TLS_CERT=c", "TLS_KEY=k", "ACCESS_LOG=l",
                        "WEBROOT=w", "FCGI_SOCKET=s", "GEOIP_DAT=g", "BACKOFFICE_ACL=a",
                        "REAL_IP_FROM=#"] + values.split(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert signin_lines(r.stdout) == want
    # Without the values, site-render refuses rather than guess.
    r = subprocess.run([str(REPO / "nginx" / "site-render"), "SERVER_NAME=x"], capture_output=True,
                       text=True)
    assert r.returncode != 0 and "@SIGNIN_RATE@" in r.stderr

    # The one `make` installs: this machine's automatic pace.
    made = (BUILD / "nginx" / "portail").read_text()
    auto = nginx_values(None)
    assert "rate=%sr/s;" % auto["SIGNIN_RATE"] in " ".join(signin_lines(made))

    # The test stacks: from their own portail.conf.
    inst = stack.start_portaild({"server": {"signin_rate": 7}}, wait_healthy=False)
    assert signin_lines(inst.nginx.conf.read_text()) == want


def flood(base_url, origin, n):
    """n sign-ins at once, each from its own address (nginx's per-address
    bounds stay out of it); (status, Retry-After, seconds) of each."""
    def one(_):
        t = time.monotonic()
        r = requests.post(base_url + "/api/v1/login", data="{}", timeout=60, headers={
            "X-Forwarded-For": fresh_ip(), "Origin": origin, "Content-Type": "application/json"})
        return r.status_code, r.headers.get("Retry-After"), time.monotonic() - t, r.text

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_beyond_the_rate_and_its_burst_nginx_delays_then_refuses(stack):
    # 1 a second: a burst of 20, the first 16 at once. 30 at once: 21 in
    # (the first, and 20 of burst, 4 of them delayed 1..4 s), 9 refused.
    inst = stack.start_portaild({"server": {"signin_rate": 1}})
    out = flood(inst.base_url, inst.origin, 30)
    refused = [o for o in out if o[0] == 429]
    admitted = [o for o in out if o[0] != 429]
    assert 7 <= len(refused) <= 9, [o[:3] for o in out]
    for status, retry, _, body in refused:
        assert retry == "1" and "trop-de-requetes" in body and '"retry_after":1' in body
    assert all(o[0] not in (503, 502) for o in admitted), [o[:3] for o in admitted]
    delayed = [o for o in admitted if o[2] >= 0.8]
    assert len(delayed) >= 2, [o[:3] for o in admitted]

    # The stack's own nginx (the automatic pace, 25 a second per slot, a
    # burst of 20 s of it) takes the same flood without a refusal.
    out = flood(stack.base_url, stack.origin, 30)
    assert [o for o in out if o[0] == 429] == [], [o[:3] for o in out]
