"""The production nginx site (nginx/portail-tls.conf.in, issue 18), rendered
by nginx/site-render with a self-signed certificate and run by a real nginx
on free ports in front of the stack's portaild: plain HTTP answers 301 to
HTTPS, HTTPS speaks HTTP/2 (ALPN), carries HSTS and the same security
headers as the test site (one copy: the #@shared sections of
nginx/portail.conf.in), limits the API's rate the same way, passes the API
through to portaild, and believes no X-Forwarded-For as shipped."""
import grp
import os
import pwd
import re
import shutil
import subprocess

import pytest
import requests

from conftest import (REPO, _stop_proc, _tail, _tcp_open, _wait, free_port, nginx_values,
                      real_ip_from)

HEADERS = ("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
           "Content-Security-Policy", "Permissions-Policy")


class TlsSite:
    def __init__(self, base, stack, trusted=None):
        self.base = base
        (base / "logs").mkdir(parents=True)
        (base / "tmp").mkdir()
        self.http_port = free_port()
        self.https_port = free_port()
        self.cert, self.key = base / "cert.pem", base / "key.pem"
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                            "-days", "2", "-keyout", str(self.key), "-out", str(self.cert)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        acl = base / "acl.conf"
        acl.write_text("allow all;\n")
        real_ip = real_ip_from(trusted or [])
        r = subprocess.run(
            [str(REPO / "nginx" / "site-render"), "SERVER_NAME=localhost",
             "HTTP_LISTEN=%d" % self.http_port, "HTTPS_LISTEN=%d" % self.https_port,
             "HTTPS_SUFFIX=:%d" % self.https_port, "TLS_CERT=%s" % self.cert,
             "TLS_KEY=%s" % self.key, "ACCESS_LOG=%s" % (base / "logs" / "access.log"),
             "WEBROOT=%s" % stack.webroot, "FCGI_SOCKET=%s" % stack.paths.portaild_socket,
             "GEOIP_DAT=/usr/share/GeoIP/GeoIP.dat", "BACKOFFICE_ACL=%s" % acl,
             "REAL_IP_FROM=%s" % real_ip]
            + ["%s=%s" % kv for kv in nginx_values(stack.paths.config).items()],
            capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        self.site = r.stdout
        (base / "site.conf").write_text(self.site)
        # The main file Debian's nginx.conf plays in production.
        (base / "nginx.conf").write_text("""
load_module /usr/lib/nginx/modules/ngx_http_geoip_module.so;
user %s %s;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/logs/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path %s/tmp/client_body;
    proxy_temp_path %s/tmp/proxy;
    fastcgi_temp_path %s/tmp/fastcgi;
    uwsgi_temp_path %s/tmp/uwsgi;
    scgi_temp_path %s/tmp/scgi;
    include %s/site.conf;
}
""" % ((pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name) + (base,) * 8))
        self.proc = None

    def start(self):
        err = open(self.base / "logs" / "stderr", "ab")
        self.proc = subprocess.Popen(
            ["nginx", "-c", str(self.base / "nginx.conf"), "-p", str(self.base),
             "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=err, stderr=err,
            start_new_session=True)
        err.close()
        try:
            _wait(lambda: _tcp_open(self.https_port) and _tcp_open(self.http_port), 20,
                  "TLS nginx", alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s\n%s\n%s" % (e, _tail(self.base / "logs" / "stderr"),
                                               _tail(self.base / "logs" / "error.log"))) from None

    def stop(self):
        if self.proc:
            _stop_proc(self.proc)

    def curl(self, url, *args):
        """(status, http_version, headers {lower name: value}, body) of curl."""
        hdr = self.base / "hdr.txt"
        r = subprocess.run(["curl", "-sS", "--cacert", str(self.cert),
                            "--resolve", "localhost:%d:127.0.0.1" % self.https_port,
                            "--resolve", "localhost:%d:127.0.0.1" % self.http_port,
                            "-D", str(hdr), "-o", "-", "-w", "\n%{http_code} %{http_version}",
                            *args, url], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        body, _, tail = r.stdout.rpartition("\n")
        status, version = tail.split()
        headers = {}
        for line in hdr.read_text().splitlines()[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return int(status), version, headers, body

    @property
    def https(self):
        return "https://localhost:%d" % self.https_port


@pytest.fixture
def site(stack, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("no openssl: Debian package openssl (script/bootstrap)")
    s = TlsSite(tmp_path / "tls", stack)
    s.start()
    yield s
    s.stop()


def test_the_site_shares_the_test_sites_sections():
    shared = (REPO / "nginx" / "portail.conf.in").read_text()
    tls = (REPO / "nginx" / "portail-tls.conf.in").read_text()
    assert shared.count("#@shared http") >= 1 and shared.count("#@shared server") == 1
    # No header nor rate limit written twice: they come from portail.conf.in.
    assert "add_header" not in re.sub(r"(?m)^\s*#.*$", "", tls)
    assert "limit_req" not in tls


@pytest.mark.timeout(120)
def test_http_redirects_to_https(site, stack):
    status, _, h, _ = site.curl("http://localhost:%d/connexion.html?retour=%%2Fcompte" % site.http_port)
    assert status == 301
    assert h["location"] == site.https + "/connexion.html?retour=%2Fcompte"
    assert "strict-transport-security" not in h
    # The test site (plain HTTP, the same shared sections) sends none either.
    r = requests.get(stack.base_url + "/api/v1/health", timeout=10)
    assert r.status_code == 200 and "Strict-Transport-Security" not in r.headers


@pytest.mark.timeout(120)
def test_https_is_http2_with_hsts_and_the_security_headers(site):
    status, version, h, body = site.curl(site.https + "/", "--http2")
    assert status == 200 and version == "2", (status, version)
    assert "fr-header" in body  # SSI of the shared location /
    assert h["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    for name in HEADERS:
        assert name.lower() in h, name
    assert h["x-frame-options"] == "DENY"
    # TLS 1.2 and 1.3 are offered, TLS 1.1 is not (the client is made
    # willing to speak it: SECLEVEL=0; the server refuses).
    def handshake(*opts):
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % site.https_port,
                            "-servername", "localhost", *opts], input="", capture_output=True,
                           text=True, timeout=60)
        return r.returncode == 0 and "Cipher is (NONE)" not in r.stdout
    assert handshake("-tls1_3") and handshake("-tls1_2")
    assert not handshake("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")


@pytest.mark.timeout(120)
def test_the_api_goes_through_to_portaild(site):
    status, version, h, body = site.curl(site.https + "/api/v1/health", "--http2")
    assert status == 200 and version == "2"
    assert '"db":"up"' in body.replace(" ", "")
    assert h["strict-transport-security"].startswith("max-age=")
    for name in HEADERS:
        assert name.lower() in h, name
    # nginx's own problem+json answers carry HSTS too (the shared named
    # locations): a body over client_max_body_size.
    big = site.base / "big.bin"
    big.write_bytes(b"x" * (22 * 1024 * 1024))
    status, _, h, body = site.curl(site.https + "/api/v1/health", "--http2", "-X", "POST",
                                   "--data-binary", "@%s" % big,
                                   "-H", "Content-Type: application/octet-stream")
    assert status == 413, (status, body[:200])
    assert h["content-type"].startswith("application/problem+json")
    assert h["strict-transport-security"].startswith("max-age=")


@pytest.mark.timeout(120)
def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(site, stack):
    member = stack.new_member()
    status, _, _, body = site.curl(
        site.https + "/api/v1/test/account/%d/event" % member.id, "-X", "POST",
        "-H", "X-Forwarded-For: 8.8.8.8", "-H", "Content-Type: application/json",
        "-H", "Origin: %s" % stack.origin, "--data", '{"kind":"test","detail":"tls"}')
    assert status == 201, body
    rows = stack.sql("SELECT ip FROM security_events WHERE member_id = %d" % member.id)
    assert rows == [["127.0.0.1"]], rows
