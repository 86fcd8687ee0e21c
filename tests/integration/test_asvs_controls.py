"""Controls added for the OWASP ASVS 4.0.3 level 2 map (docs/asvs.md):
HSTS on every answer over TLS (14.4.5), no hidden or backup file served (4.3.2,
12.5.1), no version in the answers (14.3.3), hardened binaries (14.1.2)."""

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUILD, REPO

HSTS = "max-age=63072000; includeSubDomains"


def test_no_hsts_over_plain_http(client):
    """RFC 6797 7.2: HSTS is sent over TLS only (the production site,
    tests/integration/test_nginx_tls.py); the plain-HTTP stacks send none."""
    for path in ("/", "/connexion.html", "/api/v1/health", "/api/v1/nothing", "/nothing.html",
                 "/nginx-200"):
        r = client.get(path)
        assert "Strict-Transport-Security" not in r.headers, (path, r.headers)


def test_every_header_block_of_the_site_sets_hsts():
    """The named locations (nginx's own 413, 429, 503, 403) repeat the
    headers: add_header is not inherited once a location has its own. The
    value is $portail_hsts: HSTS over TLS, nothing over plain HTTP."""
    text = (REPO / "nginx" / "portail.conf.in").read_text()
    blocks = text.count("add_header Permissions-Policy")
    assert blocks >= 5
    assert text.count("add_header Strict-Transport-Security $portail_hsts always;") == blocks
    assert '"%s"' % HSTS in text


def test_hidden_and_backup_files_are_not_served(stack, tmp_path):
    web = tmp_path / "web"
    (web / ".git").mkdir(parents=True)
    (web / "css").mkdir()
    (web / "index.html").write_text("<p>accueil</p>\n")
    (web / "css" / "site.css").write_text("p{}\n")
    secret = "SECRET-NOT-SERVED"
    for name in (".git/HEAD", ".env", ".gitignore", "css/.DS_Store", "index.html.bak",
                 "index.html~", "index.html.swp", "index.html.orig", "index.html.old"):
        (web / name).write_text(secret + "\n")
    inst = stack.start_portaild(webroot=web)
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    assert c.get("/index.html").status_code == 200
    assert c.get("/css/site.css").status_code == 200
    for name in (".git/HEAD", ".git/", ".env", ".gitignore", "css/.DS_Store", "index.html.bak",
                 "index.html~", "index.html.swp", "index.html.orig", "index.html.old"):
        r = c.get("/" + name)
        assert r.status_code == 404, (name, r.status_code)
        assert secret not in r.text
    # No directory listing.
    r = c.get("/css/")
    assert r.status_code in (403, 404) and "site.css" not in r.text


def test_no_version_in_the_answers(client):
    for path in ("/", "/api/v1/health", "/api/v1/nothing", "/nothing.html"):
        r = client.get(path)
        assert r.headers.get("Server", "nginx") == "nginx", (path, r.headers)
        assert "X-Powered-By" not in r.headers
        if r.status_code == 404 and path.endswith(".html"):
            assert not re.search(r"nginx/\d", r.text)


def _harden_flags():
    makefile = BUILD / "Makefile"
    if not makefile.exists():
        pytest.skip("no build Makefile")
    m = re.search(r"^HARDEN_CFLAGS = (.*)$", makefile.read_text(), re.M)
    return m.group(1).strip() if m else ""


def _readelf(args, path):
    return subprocess.run(["readelf", "-W", *args, str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=True).stdout


def test_binaries_are_hardened():
    """Full RELRO, PIE for the executables, and the stack protector and
    fortified libc calls compiled in (configure.ac, HARDEN_CFLAGS); the
    sanitizer build goes without (it replaces those calls)."""
    if "-fstack-protector-strong" not in _harden_flags():
        pytest.skip("build without the hardening flags (sanitizers)")
    bins = [BUILD / "portaild", BUILD / "portailctl"]
    mods = sorted(Path(BUILD / "modules").glob("*/.libs/*.so"))
    assert {m.stem for m in mods} >= {"login", "unlock", "coverage", "messaging",
                                      "reimbursements", "appointments"}
    for b in bins + mods:
        dyn = _readelf(["-d"], b)
        assert "BIND_NOW" in dyn, b
        assert "GNU_RELRO" in _readelf(["-l"], b), b
        syms = _readelf(["--dyn-syms"], b)
        assert re.search(r"__\w+_chk(_fail)?@", syms), b
    for b in bins:
        assert "DYN (Position-Independent Executable" in _readelf(["-h"], b), b
        assert "__stack_chk_fail" in _readelf(["--dyn-syms"], b), b


def test_json_answers_are_attachments(stack, client):
    """14.4.2: a JSON answer opened as a page downloads; a file keeps its
    own disposition, given once."""
    for path in ("/api/v1/health", "/api/v1/nothing"):
        r = client.get(path)
        assert r.headers["Content-Type"].startswith("application/"), path
        assert r.raw.headers.getlist("Content-Disposition") == ['attachment; filename="api.json"'], path
    r = client.get("/api/v1/test/file")
    assert r.raw.headers.getlist("Content-Disposition") == ['attachment; filename="attestation_droits.pdf"']
    # nginx's own problem+json: the back office refused to a network.
    inst = stack.start_portaild()
    inst.nginx.acl.write_text("deny all;\n")
    inst.nginx.reload()
    r = stack.client(base_url=inst.base_url, origin=inst.origin).get("/api/v1/backoffice/me")
    assert r.status_code == 403 and r.headers["Content-Type"] == "application/problem+json"
    assert r.raw.headers.getlist("Content-Disposition") == ['attachment; filename="api.json"']


def _committed(*patterns):
    out = subprocess.run(["git", "ls-files", *patterns], cwd=REPO, stdout=subprocess.PIPE,
                         text=True, check=True).stdout.split()
    return [REPO / p for p in out]


def test_the_server_never_runs_a_command():
    """5.3.8, 12.3.5: no shell nor program run by portaild, portailctl or a
    module, so no input can reach one."""
    call = re.compile(r"\b(system|popen|execl|execlp|execle|execv|execvp|execvpe|posix_spawnp?)"
                      r"\s*\(")
    files = _committed("core/*.c", "core/*.h", "modules/*.c", "modules/*/*.c")
    assert files
    # The one exec allowed: portaild's own binary, with its own argv, once
    # at start (core/portaild.c tune_malloc: glibc reads its malloc
    # tunables only from the environment); no input reaches it.
    self_exec = 'execv("/proc/self/exe", argv);'
    for f in files:
        text = re.sub(r"/\*.*?\*/", "", f.read_text(), flags=re.S)
        if f.name == "portaild.c":
            assert text.count(self_exec) == 1, f
            text = text.replace(self_exec, "")
        assert not call.search(text), f


def test_no_cors_grant(client):
    """14.5.3: no Access-Control-Allow-Origin to anyone, "null" included:
    the site and its API are one origin."""
    for origin in ("https://evil.example", "null"):
        for method, path in (("GET", "/api/v1/health"), ("OPTIONS", "/api/v1/health"),
                             ("GET", "/"), ("OPTIONS", "/")):
            r = client.request(method, path, origin=False, csrf=False,
                               headers={"Origin": origin,
                                        "Access-Control-Request-Method": "POST"})
            assert not [h for h in r.headers if h.lower().startswith("access-control-")], \
                (method, path, r.headers)


def test_password_fields_welcome_managers_and_paste():
    """2.1.11: every password field names its autocomplete purpose (password
    managers fill it) and no page script blocks pasting."""
    pages = _committed("web/*.html", "web/**/*.html", "modules/*/web/*.html",
                       "modules/*/web/**/*.html")
    fields = 0
    for f in pages:
        for tag in re.findall(r"<input\b[^>]*>", f.read_text()):
            if 'type="password"' in tag:
                fields += 1
                assert re.search(r'autocomplete="(current|new)-password"', tag), (f, tag)
    assert fields >= 5
    for f in _committed("web/js/*.js", "web/js/**/*.js", "modules/*/web/*.js",
                        "modules/*/web/**/*.js"):
        assert not re.search(r"paste|oncopy|autocomplete\s*=\s*['\"]off", f.read_text()), f


def test_npm_packages_are_locked_with_their_hashes():
    """14.2.4: the pages' packages (DSFR, zxcvbn-ts) and the test tools come
    from the npm registry as the committed lockfile pins them, each with its
    sha512; the C side comes from Debian (script/bootstrap's apt-get)."""
    lock = json.loads((REPO / "package-lock.json").read_text())
    pkgs = {k: v for k, v in lock["packages"].items() if k}
    assert pkgs
    for name, p in pkgs.items():
        assert p.get("version") and p.get("integrity", "").startswith("sha512-"), name
        assert p.get("resolved", "https://registry.npmjs.org/").startswith(
            "https://registry.npmjs.org/"), name
    boot = (REPO / "script" / "bootstrap").read_text()
    assert "apt-get install" in boot and not re.search(r"\b(curl|wget|pip3?)\s+\S*https?:", boot)


def test_no_secret_in_the_repository():
    """2.10.4: no key, certificate or password is committed: the TOTP key
    file and the database password come from the installation's config."""
    files = subprocess.run(["git", "ls-files"], cwd=REPO, stdout=subprocess.PIPE, text=True,
                           check=True).stdout.split()
    assert not [f for f in files if re.search(r"\.(key|pem|p12|pfx|crt|jks)$|(^|/)\.env$", f)]
    example = (REPO / "conf" / "portail.conf.example").read_text()
    assert re.search(r'^\s*password = "";', example, re.M)
    assert re.search(r'^\s*secret_key_file = "var/keys/', example, re.M)


def test_warnings_break_the_build():
    """5.4.2, 14.1.2: format strings must be constants (-Wformat=2 has
    -Wformat-nonliteral and -Wformat-security) and every warning stops the
    build unless --disable-werror is asked for."""
    configure = (REPO / "configure.ac").read_text()
    m = re.search(r'^WARN_CFLAGS="([^"]*)"', configure, re.M)
    assert m and {"-Wall", "-Wextra", "-Wformat=2"} <= set(m.group(1).split())
    assert re.search(r"\[enable_werror=yes\]", configure)
    assert 'WARN_CFLAGS="$WARN_CFLAGS -Werror"' in configure
    makefile = BUILD / "Makefile"
    if makefile.exists():
        flags = re.search(r"^WARN_CFLAGS = (.*)$", makefile.read_text(), re.M).group(1).split()
        assert "-Werror" in flags and "-Wformat=2" in flags


def test_a_handler_that_answers_nothing_gets_the_last_resort_500(stack, client):
    """7.4.3: the host answers for a handler that set no response (a generic
    problem, the request id, an error line); a dead portaild is nginx's 503
    (test_lifecycle.py::test_sigterm_drains_in_flight_request)."""
    r = client.get("/api/v1/test/silent")
    assert r.status_code == 500
    body = r.json()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert body["request_id"] == r.headers["X-Request-Id"]
    assert "silent" not in body["detail"] and "handler" not in body["detail"]
    rid = r.headers["X-Request-Id"]
    deadline = time.monotonic() + 5
    while True:
        lines = [ln for ln in stack.paths.portaild_log.read_text().splitlines() if rid in ln]
        if any("set no response" in ln for ln in lines):
            break
        assert time.monotonic() < deadline, lines
        time.sleep(0.05)
