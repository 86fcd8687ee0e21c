"""Module loading and configuration checks: portaild refuses to start, with
one clear line, on every broken module or setting; --check-config and
portailctl check-config say the same with file:line."""

import re
import subprocess

import pytest

from conftest import BUILD, libconfig_text, portaild_bin, refuse

TESTMOD = {"name": "testmod", "enabled": True, "path": "testmod.so", "settings": {}}
HELLO = {"name": "hello", "enabled": True, "path": "hello.so"}


def modules(*entries):
    return {"modules": list(entries)}


def with_settings(**settings):
    return modules(dict(TESTMOD, settings=settings), HELLO)


# ------------------------------------------------------------ refusals


def test_missing_so(stack):
    line = refuse(stack, modules(TESTMOD, {"name": "absent", "path": "absent.so"}))
    assert "module absent" in line and "cannot load" in line and "absent.so" in line
    assert re.search(r"portail\.conf:\d+: ", line), line
    # Without a path, NAME.so in module_dir.
    line = refuse(stack, modules({"name": "ghost"}, TESTMOD))
    assert "module ghost" in line and "ghost.so" in line


def test_missing_so_even_when_disabled(stack):
    line = refuse(stack, modules(TESTMOD, {"name": "absent", "enabled": False}))
    assert "module absent" in line and "cannot load" in line


def test_abi_mismatch(stack):
    line = refuse(stack, modules(TESTMOD, {"name": "badabi", "path": "badabi.so"}))
    assert "module badabi" in line and "ABI mismatch" in line
    assert "module ABI 3" in line and "host ABI 2" in line


def test_duplicate_route(stack):
    line = refuse(stack, modules(TESTMOD, {"name": "duproute", "path": "duproute.so"}))
    assert "duplicate route" in line
    assert "GET, HEAD /api/v1/test/hello" in line
    assert "testmod" in line and "duproute" in line


def test_duplicate_route_not_checked_when_disabled(stack):
    """A disabled module's routes are not routed, so they cannot clash."""
    rc, out, err = stack.check_config(
        modules(TESTMOD, {"name": "duproute", "enabled": False, "path": "duproute.so"}))
    assert (rc, out, err) == (0, "ok\n", "")


def test_init_failure_reason_shown(stack):
    line = refuse(stack, modules(TESTMOD, {"name": "failinit", "path": "failinit.so"}))
    assert "module failinit: init failed: the key file is missing (on purpose)" in line


def test_disabled_module_not_initialised(stack):
    rc, out, err = stack.check_config(
        modules(TESTMOD, {"name": "failinit", "enabled": False, "path": "failinit.so"}))
    assert (rc, out, err) == (0, "ok\n", "")


def test_module_listed_twice(stack):
    line = refuse(stack, modules(TESTMOD, HELLO, dict(TESTMOD, path="")))
    assert "module testmod is listed twice" in line


def test_module_name_must_match_descriptor(stack):
    line = refuse(stack, modules(TESTMOD, {"name": "autre", "path": "hello.so"}))
    assert "module autre" in line and '"hello"' in line


def test_same_so_under_two_names(stack):
    line = refuse(stack, modules(TESTMOD, HELLO, {"name": "hello_bis", "path": "hello.so"}))
    assert "hello_bis" in line


def test_unknown_setting(stack):
    line = refuse(stack, with_settings(greting="bonjour"))
    assert "unknown setting" in line and "testmod" in line and "greting" in line


def test_unknown_setting_even_when_disabled(stack):
    line = refuse(stack, modules(TESTMOD, dict(HELLO, enabled=False, settings={"mesage": "x"})))
    assert "unknown setting" in line and "hello" in line and "mesage" in line


@pytest.mark.parametrize("settings, words", [
    ({"max_sleep_ms": -1}, ["max_sleep_ms", "-1", "out of range", "[0, 60000]"]),
    ({"max_sleep_ms": 60001}, ["max_sleep_ms", "60001", "out of range"]),
    ({"max_sleep_ms": 2**40}, ["max_sleep_ms", "out of range"]),
    ({"greeting": ""}, ["greeting", "1 to 100 characters"]),
    ({"greeting": "x" * 101}, ["greeting", "1 to 100 characters"]),
])
def test_out_of_range_setting(stack, settings, words):
    line = refuse(stack, with_settings(**settings))
    assert "module testmod" in line
    for w in words:
        assert w in line, (w, line)


@pytest.mark.parametrize("settings, words", [
    ({"greeting": 5}, ["greeting", "must be a string"]),
    ({"max_sleep_ms": "100"}, ["max_sleep_ms", "must be an integer"]),
    ({"max_sleep_ms": 1.5}, ["max_sleep_ms", "must be an integer"]),
    ({"max_sleep_ms": True}, ["max_sleep_ms", "must be an integer"]),
    ({"greeting": ["a"]}, ["greeting", "must be a string"]),
])
def test_wrong_type_setting(stack, settings, words):
    line = refuse(stack, with_settings(**settings))
    assert "module testmod" in line
    for w in words:
        assert w in line, (w, line)


def test_wrong_type_in_module_entry(stack):
    line = refuse(stack, modules(dict(TESTMOD, enabled="yes"), HELLO))
    assert "enabled" in line and "true or false" in line
    line = refuse(stack, modules(dict(TESTMOD, settings=5), HELLO))
    assert "settings" in line


def test_setting_line_number(stack):
    line = refuse(stack, with_settings(max_sleep_ms=-1))
    text = stack.last_config_path.read_text().splitlines()
    n = int(re.search(r"portail\.conf:(\d+): ", line).group(1))
    assert "max_sleep_ms = -1" in text[n - 1], (n, text[n - 1])


# ------------------------------------------------------- settings reach init


def test_setting_change_shows_in_module(stack):
    assert stack.client().get("/api/v1/test/settings").json() == {
        "greeting": "bonjour", "max_sleep_ms": 30000}
    inst = stack.start_portaild(with_settings(greeting="salut à tous", max_sleep_ms=200))
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    assert c.get("/api/v1/test/settings").json() == {"greeting": "salut à tous",
                                                     "max_sleep_ms": 200}
    assert c.get("/api/v1/test/slow?ms=200").status_code == 200
    assert c.get("/api/v1/test/slow?ms=201").status_code == 400


# ------------------------------------------------------------ check-config


def config_text(stack, overrides=None):
    """The libconfig text of a complete valid config (own directories)."""
    from conftest import deep_merge
    name = "cc-%d" % next(stack._seq)
    return libconfig_text(deep_merge(stack.base_config(name, stack.origin), overrides or {}))


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError("%r not in config" % needle)


def test_check_config_ok(stack):
    rc, out, err = stack.check_config(config_text(stack))
    assert (rc, out, err) == (0, "ok\n", "")


def test_check_config_needs_no_database(stack):
    """A config check opens no socket and no connection."""
    rc, out, err = stack.check_config(config_text(stack, {"database": {
        "socket": "/nonexistent/mysqld.sock"}, "server": {"listen": "/nonexistent/p.sock"}}))
    assert (rc, out, err) == (0, "ok\n", "")


def test_check_config_unknown_section(stack):
    text = config_text(stack) + "serveur = {\n  threads = 4;\n};\n"
    rc, out, err = stack.check_config(text)
    path = stack.last_config_path
    n = line_of(text, "serveur = {")
    assert rc == 1 and out == ""
    assert err == "portaild: %s:%d: unknown section serveur\n" % (path, n), err


@pytest.mark.parametrize("threads", [0, 257, -4])
def test_check_config_threads_out_of_range(stack, threads):
    text = config_text(stack, {"server": {"threads": threads}})
    rc, out, err = stack.check_config(text)
    n = line_of(text, "threads = %d;" % threads)
    assert rc == 1
    assert err == "portaild: %s:%d: server.threads = %d is out of range [1, 256]\n" % (
        stack.last_config_path, n, threads), err


def test_check_config_unknown_server_setting(stack):
    text = config_text(stack, {"server": {"thread": 4}})
    rc, _, err = stack.check_config(text)
    assert rc == 1
    assert err == "portaild: %s:%d: unknown setting server.thread\n" % (
        stack.last_config_path, line_of(text, "thread = 4;")), err


def test_check_config_syntax_error(stack):
    lines = config_text(stack).splitlines()
    lines.insert(3, "  threads = = 4;")
    text = "\n".join(lines) + "\n"
    rc, out, err = stack.check_config(text)
    assert rc == 1 and out == ""
    assert re.fullmatch(r"portaild: %s:4: syntax error\n" % re.escape(str(stack.last_config_path)),
                        err), err


def test_check_config_bad_values(stack):
    cases = [
        ({"mail": {"transport": "pigeon"}}, "transport", "not one of the allowed values"),
        ({"server": {"socket_mode": "0999"}}, "socket_mode", "octal"),
        ({"server": {"grace_seconds": "5"}}, "grace_seconds", "must be an integer"),
        ({"database": {"socket": "", "host": ""}}, "database", "socket or host"),
    ]
    for overrides, name, words in cases:
        rc, _, err = stack.check_config(config_text(stack, overrides))
        assert rc == 1, (overrides, err)
        assert err.count("\n") == 1 and name in err and words in err, (overrides, err)
        assert re.match(r"portaild: %s:\d+: " % re.escape(str(stack.last_config_path)), err), err


def test_check_config_checks_modules(stack):
    rc, out, err = stack.check_config(modules(TESTMOD, {"name": "failinit",
                                                        "path": "failinit.so"}))
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and "init failed" in err


def test_check_config_missing_file_and_usage(stack, tmp_path):
    r = subprocess.run([str(portaild_bin()), "--check-config", str(tmp_path / "nope.conf")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr == "portaild: %s: cannot read the file\n" % (tmp_path / "nope.conf")
    for args in ([], ["--check-config"], ["--frobnicate", "x"], ["--config", "a", "b"]):
        r = subprocess.run([str(portaild_bin()), *args], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 2, (args, r.stderr)
        assert "usage" in r.stderr


# -------------------------------------------------------------- portailctl


def test_portailctl_check_config(stack):
    good = stack.write_config(config_text(stack))
    r = stack.portailctl("check-config", config=good)
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok\n", "")

    bad = stack.write_config(modules(TESTMOD, {"name": "badabi", "path": "badabi.so"}))
    r = stack.portailctl("check-config", config=bad)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("portailctl: %s:" % bad) and r.stderr.count("\n") == 1
    assert "ABI mismatch" in r.stderr

    text = config_text(stack, {"server": {"threads": 0}})
    bad = stack.write_config(text)
    r = stack.portailctl("check-config", config=bad)
    assert r.returncode == 1
    assert r.stderr == "portailctl: %s:%d: server.threads = 0 is out of range [1, 256]\n" % (
        bad, line_of(text, "threads = 0;"))

    r = stack.portailctl("no-such-command", config=good)
    assert r.returncode == 2 and "usage" in r.stderr


def test_portailctl_check_config_refuses_what_portaild_refuses(stack, tmp_path):
    """Both load through portail_host_load: a PDF font that cannot be read
    stops portailctl check-config as it stops portaild --check-config."""
    text = config_text(stack, {"pdf": {"font": str(tmp_path / "absente.ttf")}})
    path = stack.write_config(text)
    r = stack.portailctl("check-config", config=path)
    assert r.returncode == 1 and r.stdout == "", r
    assert r.stderr == "portailctl: %s: pdf: cannot read %s\n" % (path, tmp_path / "absente.ttf")
    d = subprocess.run([str(portaild_bin()), "--check-config", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert d.returncode == 1 and d.stderr == "portaild: " + r.stderr[len("portailctl: "):]


def test_portailctl_usage():
    r = subprocess.run([str(BUILD / "portailctl")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "usage" in r.stderr
