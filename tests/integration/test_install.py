"""`make install` (issue 18, "Install like a Debian service"): the build's
tree installed into a DESTDIR holds the binaries, the modules, every SQL
migration and seed, the mail templates, the site (web/ with each module's
pages and the DSFR), the configuration (never overwritten), the nginx site,
the systemd unit, the sysusers file and the logrotate file, where
configure's directories say; the installed portaild, started on the
installed configuration (paths moved into the DESTDIR and onto the test
MariaDB), answers its health route and serves a module's page and route."""
import json
import re
import subprocess

import pytest
import requests

from conftest import (BUILD, REPO, Nginx, _env, _stop_proc, _unix_open, _wait, real_modules,
                      secret_key_file)
from installtree import build_dirs, make_install, under
from test_install_lists import listed


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("destdir")
    make_install(dest, timeout=900)
    return dest, build_dirs()


@pytest.mark.timeout(900)
def test_the_tree_is_complete(installed):
    dest, d = installed
    p = lambda key, *rest: under(dest, d[key]).joinpath(*rest)  # noqa: E731
    for b in ("portaild", "portailctl"):
        assert p("bindir", b).is_file(), b
    for name in real_modules():
        assert p("pkglibdir", name + ".so").is_file(), name
    am = (REPO / "Makefile.am").read_text()
    for f in listed(am, "dist_sql_DATA"):
        assert p("pkgdatadir", f).is_file(), f
    for f in (REPO / "mail").glob("*.txt"):
        assert p("pkgdatadir", "mail", f.name).is_file(), f.name
    for name in real_modules():
        mod = REPO / "modules" / name
        for f in (mod / "sql").glob("*.sql"):
            assert p("pkgdatadir", "modules", name, "sql", f.name).is_file(), f
        for f in ("seed.sql", "conf.example", "README.md"):
            if (mod / f).exists():
                assert p("pkgdatadir", "modules", name, f).is_file(), (name, f)
        # Module pages, laid out as script/web-build does (web/NAME/).
        if (mod / "web").is_dir():
            for f in (mod / "web").rglob("*"):
                if f.is_file():
                    assert p("webdir", name, str(f.relative_to(mod / "web"))).is_file(), f
    for f in (REPO / "web").rglob("*"):
        rel = f.relative_to(REPO / "web")
        if f.is_file() and rel.parts[0] not in real_modules() and f.name != ".gitignore" \
                and not f.name.startswith(".") and rel.parts[0] not in ("dsfr", "zxcvbn") \
                and rel.parts[:2] != ("partials", "marque"):  # written by portaild
            assert p("webdir", str(rel)).is_file(), rel
    if (REPO / "web" / "dsfr").is_dir() or (REPO / "node_modules" / "@gouvfr").is_dir():
        assert p("webdir", "dsfr", "dsfr.min.css").is_file()
        assert p("webdir", "zxcvbn", "core.js").is_file()
    assert not list(p("webdir").rglob(".gitignore"))

    conf = p("portailconfdir", "portail.conf").read_text()
    assert p("confdir", "portail.conf.dist").read_text() == conf
    assert not re.search(r'"var/', conf), "relative development paths left"
    assert 'listen = "/run/portail/portaild.sock"' in conf
    assert 'module_dir = "%s"' % d["pkglibdir"] in conf
    assert 'data_dir = "%s"' % d["pkgdatadir"] in conf
    assert 'secret_key_file = "%s/secret.key"' % d["portailconfdir"] in conf
    for name in real_modules():
        assert 'name = "%s"' % name in conf, name
    assert p("portailconfdir", "backoffice-acl.conf").is_file()

    site = p("nginxsitedir", "portail").read_text()
    assert "root %s;" % d["webdir"] in site and "ssl_certificate " in site
    unit = p("systemdsystemunitdir", "portaild.service").read_text()
    assert "ExecStart=%s/portaild --config %s/portail.conf" % (d["bindir"], d["portailconfdir"]) in unit
    assert p("sysusersdir", "portail.conf").read_text().count("portail") >= 2
    assert "/var/log/portail/" in p("logrotatedir", "portail").read_text()
    assert p("docdir", "operations.md").is_file()


@pytest.mark.timeout(900)
def test_an_existing_configuration_is_kept(installed, tmp_path):
    dest, d = installed
    conf = under(dest, d["portailconfdir"]) / "portail.conf"
    before = conf.read_text()
    conf.write_text(before + "\n# edited by the operator\n")
    try:
        out = make_install(dest, timeout=900)
        assert conf.read_text().endswith("# edited by the operator\n")
        assert "keeping" in out.stdout
    finally:
        conf.write_text(before)


def test_configure_defaults_are_the_installed_paths():
    """portaild's compiled-in module_dir and data_dir are where make install
    puts modules and data: an installed configuration may leave them out."""
    d = build_dirs()
    mk = (BUILD / "Makefile").read_text()
    assert "-DPORTAIL_DATADIR='\"$(pkgdatadir)\"'" in mk
    assert "-DPORTAIL_MODULEDIR='\"$(pkglibdir)\"'" in mk
    assert d["pkglibdir"].endswith("/lib/portail") and d["pkgdatadir"].endswith("/share/portail")


def set_setting(text, key, value, count=1):
    """text with the first `key = ...;` setting set to value (a string)."""
    new, n = re.subn(r'(?m)^(\s*%s\s*=\s*)("[^"]*"|[^;]*)' % re.escape(key),
                     lambda m: m.group(1) + json.dumps(value), text, count=count)
    assert n == count, key
    return new


@pytest.mark.timeout(900)
def test_the_installed_portaild_serves(installed, stack, tmp_path):
    dest, d = installed
    run = tmp_path / "run"
    run.mkdir()
    text = (under(dest, d["portailconfdir"]) / "portail.conf").read_text()
    # The installed file, with the paths a test can use: inside DESTDIR for
    # what make install put there, the test's own run dir, MariaDB.
    text = set_setting(text, "listen", str(run / "portaild.sock"))
    text = set_setting(text, "log", str(run / "portaild.log"))
    text = set_setting(text, "module_dir", str(under(dest, d["pkglibdir"])))
    text = set_setting(text, "data_dir", str(under(dest, d["pkgdatadir"])))
    text = set_setting(text, "secret_key_file", str(secret_key_file()))
    text = set_setting(text, "dir", str(run / "mail"))
    text = set_setting(text, "partials_dir", str(run / "marque"))
    text = set_setting(text, "socket", str(stack.paths.mysql_socket))
    text = set_setting(text, "user", "root")
    text = re.sub(r'(?m)^(\s*name\s*=\s*)"portail"', r'\1"portail_install"', text)
    origin = "http://127.0.0.1:%d"
    nginx = Nginx(tmp_path / "nginx", run / "portaild.sock", under(dest, d["webdir"]))
    text = set_setting(text, "origin", origin % nginx.port)
    cfg = tmp_path / "portail.conf"
    cfg.write_text(text)
    stack.sql("DROP DATABASE IF EXISTS portail_install; CREATE DATABASE portail_install "
              "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", database="mysql")

    bindir = under(dest, d["bindir"])
    r = subprocess.run([str(bindir / "portailctl"), "--config", str(cfg), "migrate"],
                       capture_output=True, text=True, env=_env(), timeout=300, cwd=str(run))
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(bindir / "portaild"), "--check-config", str(cfg)],
                       capture_output=True, text=True, env=_env(), timeout=60, cwd=str(run))
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr

    err = open(tmp_path / "portaild.stderr", "wb")
    proc = subprocess.Popen([str(bindir / "portaild"), "--config", str(cfg)], stdout=err,
                            stderr=err, stdin=subprocess.DEVNULL, env=_env(), cwd=str(run),
                            start_new_session=True)
    try:
        nginx.start()
        _wait(lambda: _unix_open(run / "portaild.sock"), 60, "installed portaild",
              alive=lambda: proc.poll() is None)
        base = nginx.base_url
        h = requests.get(base + "/api/v1/health", timeout=10)
        assert h.status_code == 200, h.text
        assert {m["name"] for m in h.json()["modules"]} >= set(real_modules())
        # A module page from the installed site (web/NAME/), with its SSI
        # header from the installed partials.
        page = requests.get(base + "/messaging/", timeout=10)
        assert page.status_code == 200 and "<!--#" not in page.text, page.text[:300]
        assert "fr-header" in page.text
        # A module's route, from the installed module: refuses the anonymous.
        r = requests.get(base + "/api/v1/messages", timeout=10)
        assert r.status_code == 401, (r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/problem+json")
        # The log is where the installed configuration (rewritten) says.
        assert "listening on" in (run / "portaild.log").read_text()
    finally:
        _stop_proc(proc)
        nginx.stop()
        err.close()
