"""Integration harness for Portail.

One session-wide stack, all in a pytest temp dir, all on free ports of
127.0.0.1: a private MariaDB (unix socket), an aiosmtpd SMTP server writing a
maildir, portaild with the test modules (testmod, hello) and every real
module (discovered: modules/*/module.am) of $PORTAIL_BUILD, and nginx
rendered from nginx/portail.conf.in. Run on this directory, the suite also
collects each module folder's tests (modules/NAME/tests/, see
modules/conftest.py).

Fixtures:
  stack   the running stack (see Stack); base_url, origin, paths, config,
          restart/stop/start of MariaDB and SMTP, mails(), wait_for_mail(),
          start_portaild(overrides) for a private instance (own nginx too),
          run_portaild_expect_fail(config) for refusal tests, sql(),
          new_member()/new_agent() (rows to act on), fresh_database(name).
  client  a Client (requests.Session) that sends Origin, keeps the
          __Host- session cookie and the X-CSRF-Token itself.
  supervisor  a client signed in as a new supervisor.
Helpers for the test files are at the end (member_client, agent_client,
client_of a private instance, pdfmod_instance, refuse, png, mails...).

Run with Debian's python3:  PORTAIL_BUILD=$PWD/build/normal \
    /usr/bin/python3 -m pytest -q tests/integration
"""

import email
import email.policy
import grp
import http.cookiejar
import itertools
import json
import os
import pwd
import re
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

# One harness per run, whoever imports it first: modules/conftest.py (the
# module folders' tests) reuses this module under this name.
sys.modules.setdefault("portail_harness", sys.modules[__name__])

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PORTAIL_BUILD", REPO / "build" / "normal")).resolve()
PY = "/usr/bin/python3"
SESSION_COOKIE = "__Host-portail_session"
SANITIZER_MARKS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "UndefinedBehaviorSanitizer",
)
DEFAULT_TEST_TIMEOUT = int(os.environ.get("PORTAIL_TEST_TIMEOUT", "120"))


# ---------------------------------------------------------------- helpers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ)
    # Only read by sanitizer builds. Leaks are not checked here (libfcgi's
    # threads make LeakSanitizer noisy); every other report is.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


def _stop_proc(proc, sig=signal.SIGTERM, timeout=10.0):
    """Signal, wait up to timeout, then SIGKILL. Returns the exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def _tail(path, n=30):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no %s)" % path
    return "\n".join(lines[-n:])


def sanitizer_report(text_or_path):
    """The sanitizer report in a text (or file), or None."""
    if isinstance(text_or_path, Path):
        try:
            text = text_or_path.read_text(errors="replace")
        except OSError:
            return None
    else:
        text = text_or_path or ""
    for mark in SANITIZER_MARKS:
        i = text.find(mark)
        if i >= 0:
            start = text.rfind("\n", 0, max(0, i - 200)) + 1
            return "\n".join(text[start:].splitlines()[:60])
    return None


def _wait(predicate, timeout, what, interval=0.05, alive=None):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if alive is not None and not alive():
            raise RuntimeError("%s: the process exited" % what)
        if time.monotonic() > deadline:
            raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def _tcp_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _unix_open(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ------------------------------------------------------- libconfig writer


class Raw(str):
    """A value written verbatim into the libconfig text (e.g. a deliberately
    wrong token for a config-refusal test)."""


def _lc_string(s):
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\f":
            out.append("\\f")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _lc_value(v, indent):
    pad = "  " * indent
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) + ("" if -(2**31) <= v < 2**31 else "L")
    if isinstance(v, float):
        r = repr(v)
        return r if any(c in r for c in ".eEn") else r + ".0"
    if isinstance(v, str):
        return _lc_string(v)
    if isinstance(v, dict):
        if not v:
            return "{ }"
        body = "".join(_lc_setting(k, x, indent + 1) for k, x in v.items() if x is not None)
        return "{\n%s%s}" % (body, pad)
    if isinstance(v, (list, tuple)):
        if not v:
            return "( )"
        items = [_lc_value(x, indent + 1) for x in v]
        if any(isinstance(x, (dict, list, tuple)) for x in v) or isinstance(v, tuple):
            inner = ",\n".join("  " * (indent + 1) + i for i in items)
            return "(\n%s\n%s)" % (inner, pad)
        return "[ " + ", ".join(items) + " ]"
    raise TypeError("no libconfig form for %r" % (v,))


def _lc_setting(name, v, indent):
    return "%s%s = %s;\n" % ("  " * indent, name, _lc_value(v, indent))


def libconfig_text(cfg):
    """libconfig text from a dict: str (quoted, escaped), int, bool, float,
    dict (group), list of dicts (list), list of scalars (array), Raw
    (verbatim). A None value leaves the setting out."""
    return "".join(_lc_setting(k, v, 0) for k, v in cfg.items() if v is not None)


def deep_merge(base, overrides):
    """A copy of base with overrides applied: dicts merge recursively, other
    values (lists included) replace, None deletes."""
    out = dict(base)
    for k, v in (overrides or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict) and not isinstance(v, Raw):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


# ----------------------------------------------------------------- MariaDB


class MariaDB:
    def __init__(self, base):
        self.base = Path(base)
        self.datadir = self.base / "db"
        self.socket = self.base / "run" / "mysqld.sock"
        self.pidfile = self.base / "run" / "mysqld.pid"
        self.log = self.base / "log" / "mariadb.log"
        self.proc = None
        for d in (self.datadir, self.socket.parent, self.log.parent):
            d.mkdir(parents=True, exist_ok=True)

    def _ping(self):
        return (
            subprocess.run(
                ["mariadb-admin", "--no-defaults", "-S", str(self.socket), "-uroot", "ping"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ).returncode
            == 0
        )

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        # A temporary directory of its own: two servers started at once
        # (two test runs) collided on the same /tmp/#sql-temptable-* file.
        tmpdir = self.datadir.parent / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        if not (self.datadir / "mysql").is_dir():
            r = subprocess.run(
                ["mariadb-install-db", "--no-defaults", "--datadir=%s" % self.datadir,
                 "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db",
                 "--tmpdir=%s" % tmpdir],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            if r.returncode != 0:
                raise RuntimeError("mariadb-install-db failed:\n" + r.stdout[-3000:])
        for p in (self.socket, self.pidfile):
            if p.exists():
                p.unlink()
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--datadir=%s" % self.datadir,
             "--socket=%s" % self.socket, "--pid-file=%s" % self.pidfile,
             "--tmpdir=%s" % tmpdir, "--skip-networking", "--user=root", "--log-error=%s" % self.log,
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
             "--skip-name-resolve", "--max-connections=500"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            _wait(self._ping, 30, "MariaDB", interval=0.1, alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s\n%s" % (e, _tail(self.log))) from None

    def stop(self):
        _stop_proc(self.proc, signal.SIGTERM, 60)
        self.proc = None

    def restart(self):
        self.stop()
        self.start()

    def sql(self, query, database="portail"):
        """Rows of a query as lists of strings (NULL is None)."""
        r = subprocess.run(
            ["mariadb", "--no-defaults", "-S", str(self.socket), "-uroot", "--batch",
             "--skip-column-names", "--raw", database, "-e", query],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
        )
        if r.returncode != 0:
            raise RuntimeError("mariadb: %s\n%s" % (query, r.stderr))
        rows = []
        for line in r.stdout.splitlines():
            rows.append([None if c == "NULL" else c for c in line.split("\t")])
        return rows


# -------------------------------------------------------------------- SMTP


class Smtp:
    """aiosmtpd storing every message in a maildir. The port stays the same
    across stop()/start()."""

    def __init__(self, base):
        self.base = Path(base)
        self.maildir = self.base / "maildir"
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        self.log = self.base / "log" / "smtp.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [PY, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:%d" % self.port,
                 "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            )
        try:
            _wait(lambda: _tcp_open(self.port), 15, "aiosmtpd on port %d" % self.port,
                  alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s\n%s" % (e, _tail(self.log))) from None

    def stop(self):
        _stop_proc(self.proc, signal.SIGTERM, 10)
        self.proc = None

    def mails(self):
        """Every stored message, oldest first: dicts with to, rcpt (envelope),
        from, subject, body (decoded text), html (the decoded HTML part, or
        ""), headers, msg (email.message)."""
        files = []
        for sub in ("new", "cur"):
            files.extend(p for p in (self.maildir / sub).iterdir() if p.is_file())
        files.sort(key=lambda p: (p.stat().st_mtime, p.name))
        out = []
        for p in files:
            try:
                msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            except OSError:
                continue
            part = msg.get_body(preferencelist=("plain", "html"))
            body = ""
            if part is not None:
                try:
                    body = part.get_content()
                except (LookupError, ValueError):
                    body = part.get_payload(decode=True).decode("utf-8", "replace")
            html = ""
            hpart = msg.get_body(preferencelist=("html",))
            if hpart is not None and hpart is not part:
                try:
                    html = hpart.get_content()
                except (LookupError, ValueError):
                    html = hpart.get_payload(decode=True).decode("utf-8", "replace")
            out.append({
                "to": str(msg.get("To", "")),
                "rcpt": str(msg.get("X-RcptTo", "")),
                "from": str(msg.get("From", "")),
                "subject": str(msg.get("Subject", "")),
                "body": body,
                "html": html,
                "headers": {k: str(v) for k, v in msg.items()},
                "msg": msg,
                "path": p,
            })
        return out

    def clear(self):
        for sub in ("new", "cur"):
            for p in (self.maildir / sub).iterdir():
                p.unlink()


# ------------------------------------------------------------------- nginx


# The proxy the test stack declares as trusted (nginx's set_real_ip_from):
# tests pose as other client addresses by sending X-Forwarded-For from it.
# The shipped site trusts none (server.trusted_proxies = ""; test_forwarded.py).
TEST_TRUSTED_PROXIES = ("127.0.0.1",)


def real_ip_from(proxies):
    """The template's @REAL_IP_FROM@ for these trusted proxies."""
    return " ".join("set_real_ip_from %s;" % p for p in proxies) or \
        "# no trusted proxy: X-Forwarded-For is ignored"


def nginx_values(config_path=None):
    """The template's placeholders that follow portail.conf (the sign-in
    pace), as `portaild --nginx-values` gives them for config_path, or for
    conf/portail.conf.example: {KEY: VALUE}."""
    r = subprocess.run([str(portaild_bin()), "--nginx-values",
                        str(config_path or REPO / "conf" / "portail.conf.example")],
                       capture_output=True, text=True, env=_env(), timeout=30)
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.split())


class Nginx:
    def __init__(self, prefix, fcgi_socket, webroot, port=None, acl="allow all;\n",
                 trusted_proxies=None, config_path=None):
        self.prefix = Path(prefix)
        self.port = port or free_port()
        self.conf = self.prefix / "nginx.conf"
        self.stderr = self.prefix / "logs" / "nginx.stderr"
        self.error_log = self.prefix / "logs" / "error.log"
        self.acl = self.prefix / "backoffice-acl.conf"
        (self.prefix / "logs").mkdir(parents=True, exist_ok=True)
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        self.acl.write_text(acl)
        values = {
            "PREFIX": str(self.prefix),
            "PORT": str(self.port),
            "WEBROOT": str(webroot),
            "FCGI_SOCKET": str(fcgi_socket),
            "GEOIP_DAT": "/usr/share/GeoIP/GeoIP.dat",
            "BACKOFFICE_ACL": str(self.acl),
            "REAL_IP_FROM": real_ip_from(TEST_TRUSTED_PROXIES if trusted_proxies is None
                                         else trusted_proxies),
            "USER": pwd.getpwuid(os.getuid()).pw_name,
            "GROUP": grp.getgrgid(os.getgid()).gr_name,
            **nginx_values(config_path),
        }
        text = (REPO / "nginx" / "portail.conf.in").read_text()
        for k, v in values.items():
            text = text.replace("@%s@" % k, v)
        left = sorted(set(re.findall(r"@[A-Z][A-Z0-9_]*@", text)))
        if left:
            raise RuntimeError("nginx template: placeholders left: %s" % left)
        self.conf.write_text(text)
        self.proc = None

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(
                ["nginx", "-c", str(self.conf), "-p", str(self.prefix), "-g", "daemon off;"],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
            )
        try:
            _wait(lambda: _tcp_open(self.port), 15, "nginx on port %d" % self.port,
                  alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s\n%s\n%s" % (e, _tail(self.stderr), _tail(self.error_log))) from None

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)

    def stop(self):
        _stop_proc(self.proc, signal.SIGTERM, 10)
        self.proc = None


# ---------------------------------------------------------------- portaild


def module_dir():
    """server.module_dir of the stacks: links to every built test module
    (tests/modules/NAME/.libs/NAME.so, one folder per module), so that a
    config names them by file ("testmod.so") as an installed tree would."""
    d = BUILD / "tests" / "modules" / "lib"
    d.mkdir(parents=True, exist_ok=True)
    built = BUILD / "tests" / "modules"
    # (.libs/ directly under tests/modules: a test module still listed in
    # Makefile.am the old way, without a module.am of its own.)
    for so in sorted(built.glob("*/.libs/*.so")) + sorted(built.glob(".libs/*.so")):
        link = d / so.name
        if not (link.is_symlink() and os.readlink(link) == str(so)):
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(so)
    return d


def cracklib_dict():
    """The password dictionary (French + English words, keyboard walks),
    built once per build tree by script/cracklib-dict."""
    prefix = BUILD / "cracklib" / "portail"
    subprocess.run([str(REPO / "script" / "cracklib-dict"), str(prefix)], check=True)
    return prefix


def secret_key_file():
    """32 random bytes: the key that seals TOTP secrets at rest (server.secret_key_file)."""
    path = BUILD / "keys" / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(32))
        path.chmod(0o600)
    return path


# The harness's settings for real modules, over their defaults. The whole
# suite signs in from 127.0.0.1: login's per-address failure budget
# (default 20 per 10 min) would trip across unrelated tests;
# test_login_locks.py checks it on its own.
MODULE_SETTINGS = {
    "login": {"ip_max_failures": 100000},
    "coverage": {"vitale_production_seconds": 1, "vitale_send_seconds": 1},
}


def real_modules():
    """The real modules, discovered: every folder of modules/ with a build
    fragment (module.am), in name order. A module not built yet is still
    listed: portaild then refuses to start and names it."""
    return sorted(p.parent.name for p in (REPO / "modules").glob("*/module.am"))


def real_module(name):
    """Path of a real module (modules/NAME) in the build tree."""
    return str(BUILD / "modules" / name / ".libs" / f"{name}.so")


def portaild_bin():
    return BUILD / "portaild"


class Portaild:
    """One portaild process, with its own nginx in front unless with_nginx is
    False. Quacks like a Popen (pid, poll, wait, send_signal, returncode)."""

    def __init__(self, directory, config, webroot, with_nginx=True, nginx_port=None,
                 trusted_proxies=None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.config_path = self.dir / "portail.conf"
        self.stderr_path = self.dir / "portaild.stderr"
        self.socket = Path(config["server"]["listen"])
        self.log_path = Path(config["server"]["log"])
        self.proc = None
        self.nginx = None
        self.config_path.write_text(libconfig_text(config))
        if with_nginx:
            self.nginx = Nginx(self.dir / "nginx", self.socket, webroot, port=nginx_port,
                               trusted_proxies=trusted_proxies, config_path=self.config_path)

    # Popen-like
    @property
    def pid(self):
        return self.proc.pid

    @property
    def returncode(self):
        return self.proc.returncode

    def poll(self):
        return self.proc.poll()

    def wait(self, timeout=None):
        return self.proc.wait(timeout)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def kill(self):
        self.proc.kill()

    @property
    def base_url(self):
        return self.nginx.base_url if self.nginx else None

    @property
    def origin(self):
        return self.config["server"].get("origin")

    def start(self, timeout=30):
        if self.nginx and self.nginx.proc is None:
            self.nginx.start()
        if self.socket.exists():
            self.socket.unlink()
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [str(portaild_bin()), "--config", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                env=_env(), cwd=str(self.dir), start_new_session=True,
            )
        try:
            _wait(lambda: self.socket.exists() and _unix_open(self.socket), timeout,
                  "portaild socket %s" % self.socket, alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s\nportaild stderr:\n%s" % (e, _tail(self.stderr_path))) from None
        return self

    def wait_healthy(self, timeout=30, status=200):
        def ok():
            try:
                return requests.get(self.base_url + "/api/v1/health", timeout=2).status_code == status
            except requests.RequestException:
                return False

        try:
            _wait(ok, timeout, "health %d at %s" % (status, self.base_url), interval=0.1,
                  alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s\nportaild stderr:\n%s\nlog:\n%s" % (
                e, _tail(self.stderr_path), _tail(self.log_path))) from None

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Stops portaild (then its nginx); returns portaild's exit code."""
        if timeout is None:
            timeout = self.config["server"].get("grace_seconds", 10) + 10
        rc = _stop_proc(self.proc, sig, timeout) if self.proc else None
        if self.nginx:
            self.nginx.stop()
        return rc

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        return sanitizer_report(self.stderr_path)

    def log_records(self):
        """portaild's JSON log lines, parsed (non-JSON lines are skipped)."""
        out = []
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


# ------------------------------------------------------------------ client


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


class Client:
    """requests.Session for the API. Sends Origin (unless origin=False),
    the cookies received by Set-Cookie (as a Cookie header: requests itself
    will not send __Host-/Secure cookies over http), the X-CSRF-Token of the
    last response that had one, and X-Forwarded-For when xff is set.

    Every response gets .set_cookies (the raw Set-Cookie header values)."""

    def __init__(self, base_url, origin, xff=None):
        self.base_url = base_url.rstrip("/")
        self.origin = origin
        self.xff = xff
        self.cookies = {}
        self.csrf = None
        self.last = None
        self.http = requests.Session()
        self.http.cookies = requests.cookies.RequestsCookieJar(policy=_NoCookies())

    @property
    def session_cookie(self):
        return self.cookies.get(SESSION_COOKIE)

    def forget(self):
        """Drops the cookies and the CSRF token."""
        self.cookies.clear()
        self.csrf = None

    def request(self, method, path, *, headers=None, origin=True, csrf=True,
                cookies=True, xff=None, **kw):
        url = path if path.startswith("http") else self.base_url + path
        h = {}
        if origin is True:
            h["Origin"] = self.origin
        elif origin:
            h["Origin"] = origin
        if csrf is True and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            h["X-CSRF-Token"] = csrf
        if cookies is True and self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        elif isinstance(cookies, str):
            h["Cookie"] = cookies
        if xff or self.xff:
            h["X-Forwarded-For"] = xff or self.xff
        for k, v in (headers or {}).items():
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        kw.setdefault("timeout", 60)
        kw.setdefault("allow_redirects", False)
        r = self.http.request(method, url, headers=h, **kw)
        self._absorb(r)
        self.last = r
        return r

    def _absorb(self, r):
        try:
            raw = r.raw.headers.getlist("Set-Cookie")
        except AttributeError:
            raw = [r.headers["Set-Cookie"]] if "Set-Cookie" in r.headers else []
        r.set_cookies = raw
        for sc in raw:
            first, _, attrs = sc.partition(";")
            name, _, value = first.strip().partition("=")
            attrs_l = attrs.lower().replace(" ", "")
            expired = (not value or "max-age=0" in attrs_l
                       or re.search(r"max-age=-", attrs_l) is not None
                       or "expires=thu,01jan1970" in attrs_l)
            if expired:
                self.cookies.pop(name, None)
                if name == SESSION_COOKIE:
                    self.csrf = None
            else:
                self.cookies[name] = value
        token = r.headers.get("X-CSRF-Token")
        if token:
            self.csrf = token

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def test_login(self, kind="member", id=1, level="member", role=None):
        """Starts a session through testmod (agents: role "agent" unless
        given); asserts success."""
        body = {"kind": kind, "id": id, "level": level}
        if role:
            body["role"] = role
        r = self.post("/api/v1/test/session/login", json=body)
        assert r.status_code in (200, 201), (r.status_code, r.text)
        return r


# ------------------------------------------------------------------- stack


class Stack:
    def __init__(self, base):
        self.base = Path(base)
        self._seq = itertools.count(1)
        self.instances = []  # extra portaild started by tests
        self.last_config_path = None
        self.webroot = REPO / "web"
        self.mariadb = MariaDB(self.base / "mariadb")
        self.smtp = Smtp(self.base / "smtp")
        self.nginx_port = free_port()
        self.portaild = None
        self.paths = SimpleNamespace(
            base=self.base,
            build=BUILD,
            repo=REPO,
            module_dir=module_dir(),
            mysql_socket=self.mariadb.socket,
            maildir=self.smtp.maildir,
            webroot=self.webroot,
        )

    # ---- configuration
    def base_config(self, name, origin):
        d = self.base / name
        (d / "run").mkdir(parents=True, exist_ok=True)
        (d / "log").mkdir(parents=True, exist_ok=True)
        (d / "mailfiles").mkdir(parents=True, exist_ok=True)
        return {
            "server": {
                "listen": str(d / "run" / "portaild.sock"),
                "socket_mode": "0660",
                "threads": 8,
                "backlog": 256,
                "grace_seconds": 5,
                "log": str(d / "log" / "portaild.log"),
                "module_dir": str(module_dir()),
                "origin": origin,
                "max_header_bytes": 16384,
                "max_cookie_bytes": 4096,
                "hash_slots": 0,
                # Tests read the access log right after a request.
                "log_buffer": False,
                "password_dictionary": str(cracklib_dict()),
                "secret_key_file": str(secret_key_file()),
                # The source tree has the installed layout: sql/ (core) and
                # modules/NAME/sql/.
                "data_dir": str(REPO),
            },
            "database": {
                "socket": str(self.mariadb.socket),
                "user": "root",
                "password": "",
                "name": "portail",
                "pool_size": 4,
                "acquire_timeout_ms": 500,
                "connect_timeout_s": 2,
                "statement_cache": 64,
            },
            "sessions": {
                "idle_seconds": 1800,
                "absolute_seconds": 43200,
                "touch_seconds": 60,
            },
            "mail": {
                "transport": "smtp",
                "dir": str(d / "mailfiles"),
                "smtp_url": self.smtp.url,
                "from": "Portail <ne-pas-repondre@portail.example>",
                "max_attempts": 20,
                "retry_seconds": 1,
                "poll_ms": 100,
                "templates": str(REPO / "mail"),
            },
            "jobs": {"workers": 2, "poll_ms": 100, "backoff_seconds": 1},
            "modules": [
                {"name": "testmod", "enabled": True, "path": "testmod.so", "settings": {},
                 "dir": str(REPO / "tests" / "modules" / "testmod")},
                {"name": "hello", "enabled": True, "path": "hello.so",
                 "dir": str(REPO / "tests" / "modules" / "hello")},
                {"name": "jobmod", "enabled": True, "path": "jobmod.so",
                 "dir": str(REPO / "tests" / "modules" / "jobmod")},
            ] + [
                {"name": name, "enabled": True, "path": real_module(name),
                 "dir": str(REPO / "modules" / name),
                 "settings": dict(MODULE_SETTINGS.get(name, {}))}
                for name in real_modules()
            ],
        }

    @property
    def config(self):
        return self.portaild.config

    @property
    def base_url(self):
        return self.portaild.base_url

    @property
    def origin(self):
        return self.portaild.origin

    # ---- start / stop
    def start(self):
        if not portaild_bin().exists():
            raise RuntimeError("no %s: build first (PORTAIL_BUILD=%s)" % (portaild_bin(), BUILD))
        for m in ("testmod.so", "hello.so"):
            if not (module_dir() / m).exists():
                raise RuntimeError("no %s: run `make check` in %s" % (module_dir() / m, BUILD))
        self.mariadb.start()
        self.mariadb.sql("CREATE DATABASE IF NOT EXISTS portail CHARACTER SET utf8mb4 "
                         "COLLATE utf8mb4_unicode_ci", database="mysql")
        self.smtp.start()
        cfg = self.base_config("portaild", "http://127.0.0.1:%d" % self.nginx_port)
        # The brand's fragments of the header and footer (core/brand.c), as
        # script/server writes them; only the stack's own portaild does.
        cfg.setdefault("brand", {}).setdefault(
            "partials_dir", str(Path(self.webroot) / "partials" / "marque"))
        self.portaild = Portaild(self.base / "portaild", cfg, self.webroot,
                                 nginx_port=self.nginx_port,
                                 trusted_proxies=TEST_TRUSTED_PROXIES)
        self.paths.config = self.portaild.config_path
        self.paths.portaild_socket = self.portaild.socket
        self.paths.portaild_log = self.portaild.log_path
        self.paths.portaild_stderr = self.portaild.stderr_path
        self.paths.nginx_prefix = self.portaild.nginx.prefix
        self.migrate(self.portaild.config_path)
        self.portaild.start()
        self.portaild.wait_healthy(60)

    def migrate(self, config_path):
        r = subprocess.run(
            [str(BUILD / "portailctl"), "--config", str(config_path), "migrate"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), timeout=120,
        )
        out_file = self.base / "migrate.log"
        with open(out_file, "a") as f:
            f.write(r.stdout)
        if r.returncode != 0 or sanitizer_report(r.stdout):
            raise RuntimeError("portailctl migrate exited %d:\n%s" % (r.returncode, r.stdout[-3000:]))

    def stop(self):
        """Stops everything; returns a list of problems found."""
        problems = []
        for inst in list(self.instances):
            problems += self._stop_instance(inst, check_rc=False)
        if self.portaild is not None:
            problems += self._stop_instance(self.portaild, check_rc=True)
        self.smtp.stop()
        self.mariadb.stop()
        return problems

    def _stop_instance(self, inst, check_rc):
        problems = []
        started = inst.proc is not None
        rc = inst.stop()
        if not started:
            return problems
        if inst in self.instances:
            self.instances.remove(inst)
        rep = inst.sanitizer_report()
        if rep:
            problems.append("sanitizer report in %s:\n%s" % (inst.stderr_path, rep))
        elif check_rc and rc != 0:
            problems.append("portaild exited %s on SIGTERM; stderr:\n%s" % (rc, _tail(inst.stderr_path)))
        return problems

    # ---- services for tests
    def restart_mariadb(self):
        self.mariadb.restart()

    def stop_mariadb(self):
        self.mariadb.stop()

    def start_mariadb(self):
        self.mariadb.start()

    def stop_smtp(self):
        self.smtp.stop()

    def start_smtp(self):
        self.smtp.start()

    def sql(self, query, database="portail"):
        return self.mariadb.sql(query, database)

    def new_member(self, email=None):
        """Inserts an insured person and its member account (no password);
        returns SimpleNamespace(id, insured_id, email, nir, birth_date,
        first_name, last_name)."""
        n = next(_UNIQUE)
        # A valid NIR (key included) for a man born in May 1980, as the
        # birth date below, so that routes checking the NIR accept it.
        body = "18005%08d" % (n % 10**8)
        nir = body + "%02d" % (97 - int(body) % 97)
        email = email or "assure-%d@example.fr" % n
        # Postcode and IBAN on file: registration asks for the postcode and
        # the IBAN's last 7 characters (member.postal_code, member.iban_end).
        rows = self.sql(
            "INSERT INTO insured (nir, sex, last_name, first_name, birth_date, email, "
            "postal_code, iban) "
            "VALUES (%s, 1, 'Martin', 'Paul', '1980-05-17', %s, '75015', "
            "'FR7630006000011234567890189'); "
            "INSERT INTO members (insured_id, email) VALUES (LAST_INSERT_ID(), %s); "
            "SELECT id, insured_id FROM members WHERE id = LAST_INSERT_ID()"
            % (sql_quote(nir), sql_quote(email), sql_quote(email)))
        return SimpleNamespace(id=int(rows[0][0]), insured_id=int(rows[0][1]), email=email, nir=nir,
                               birth_date="1980-05-17", first_name="Paul", last_name="Martin",
                               postal_code="75015", iban_end="7890189")

    def new_beneficiary(self, insured_id, first_name="Léa", relation="child",
                        birth_date="2016-05-04", last_name="Martin"):
        """Inserts a beneficiary of insured_id in the core's table (as the
        coverage module declares one); returns its id."""
        rows = self.sql(
            "INSERT INTO beneficiaries (insured_id, relation, last_name, first_name, birth_date, "
            "rights_from, rights_to) VALUES (%d, %s, %s, %s, %s, %s, '2030-12-31'); "
            "SELECT LAST_INSERT_ID()"
            % (insured_id, sql_quote(relation), sql_quote(last_name), sql_quote(first_name),
               sql_quote(birth_date), sql_quote(birth_date)))
        return int(rows[0][0])

    def new_agent(self, login=None, role="agent"):
        """Inserts an agent; returns SimpleNamespace(id, login)."""
        login = login or "agent%d" % next(_UNIQUE)
        rows = self.sql(
            "INSERT INTO agents (login, display_name, role) VALUES (%s, 'Agent de test', %s); "
            "SELECT LAST_INSERT_ID()" % (sql_quote(login), sql_quote(role)))
        return SimpleNamespace(id=int(rows[0][0]), login=login)

    def fresh_database(self, name, migrate=True):
        """Creates (empty) and migrates another database on the same MariaDB,
        for a private portaild whose outbox the stack's portaild must not
        see; migrate=False leaves it empty. Returns the name."""
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), name
        self.sql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4 "
                 "COLLATE utf8mb4_unicode_ci" % (name, name), database="mysql")
        if migrate:
            self.migrate(self.write_config({"database": {"name": name}}))
        return name

    def mails(self):
        return self.smtp.mails()

    def clear_mails(self):
        self.smtp.clear()

    def wait_for_mail(self, predicate=lambda m: True, timeout=10):
        """The first mail matching predicate(mail dict); fails after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.mails()
            for m in seen:
                if predicate(m):
                    return m
            if time.monotonic() > deadline:
                raise AssertionError("no matching mail within %s s; mails: %r" % (
                    timeout, [(m["to"], m["subject"]) for m in seen]))
            time.sleep(0.1)

    def private_webroot(self, directory):
        """A web root of its own for a private portaild that writes other
        brand fragments (brand.partials_dir = the returned root's
        partials/marque): links to the stack's files, partials/ a real
        folder. Returns the root's Path."""
        root = Path(directory)
        (root / "partials").mkdir(parents=True, exist_ok=True)
        for entry in Path(self.webroot).iterdir():
            if entry.name != "partials":
                (root / entry.name).symlink_to(entry)
        for entry in (Path(self.webroot) / "partials").iterdir():
            if entry.name != "marque":
                (root / "partials" / entry.name).symlink_to(entry)
        return root

    def client(self, xff=None, base_url=None, origin=None):
        return Client(base_url or self.base_url, origin or self.origin, xff=xff)

    def start_portaild(self, config_overrides=None, wait_healthy=True, with_nginx=True,
                       webroot=None, trusted_proxies=None):
        """A private portaild (own socket, log, nginx on its own port serving
        webroot, the stack's by default; same MariaDB and SMTP), stopped
        after the test. Returns a Portaild."""
        name = "portaild-%d" % next(self._seq)
        port = free_port()
        cfg = deep_merge(self.base_config(name, "http://127.0.0.1:%d" % port), config_overrides or {})
        inst = Portaild(self.base / name, cfg, webroot or self.webroot, with_nginx=with_nginx,
                        nginx_port=port, trusted_proxies=trusted_proxies)
        self.instances.append(inst)
        inst.start()
        if wait_healthy and inst.nginx:
            inst.wait_healthy(30)
        return inst

    def stop_portaild(self, inst, sig=signal.SIGTERM):
        """Stops a private instance; returns its exit code. Fails on a
        sanitizer report."""
        rc = inst.stop(sig)
        if inst in self.instances:
            self.instances.remove(inst)
        rep = inst.sanitizer_report()
        assert rep is None, "sanitizer report in %s:\n%s" % (inst.stderr_path, rep)
        return rc

    def write_config(self, config):
        """Writes a config for a one-off run: text as is, or a dict of
        overrides on a fresh base config (own socket path, so the stack's
        portaild is never disturbed). Returns the path."""
        name = "config-%d" % next(self._seq)
        d = self.base / name
        d.mkdir(parents=True, exist_ok=True)
        path = d / "portail.conf"
        if isinstance(config, str):
            path.write_text(config)
        else:
            cfg = deep_merge(self.base_config(name, self.origin), config or {})
            path.write_text(libconfig_text(cfg))
        self.last_config_path = path
        return path

    def _run_once(self, args, timeout):
        try:
            r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=_env(), timeout=timeout,
                               cwd=str(self.last_config_path.parent))
        except subprocess.TimeoutExpired as e:
            raise AssertionError("%s did not exit within %s s; stderr: %s" % (
                args, timeout, e.stderr)) from None
        rep = sanitizer_report(r.stderr) or sanitizer_report(r.stdout)
        assert rep is None, "sanitizer report from %s:\n%s" % (args, rep)
        return r

    def run_portaild_expect_fail(self, config, timeout=10):
        """Runs `portaild --config` on config (text, or overrides dict) and
        expects it to exit by itself; returns (rc, stderr)."""
        path = self.write_config(config)
        r = self._run_once([str(portaild_bin()), "--config", str(path)], timeout)
        return r.returncode, r.stderr

    def check_config(self, config, timeout=10):
        """`portaild --check-config`; returns (rc, stdout, stderr)."""
        path = self.write_config(config)
        r = self._run_once([str(portaild_bin()), "--check-config", str(path)], timeout)
        return r.returncode, r.stdout, r.stderr

    def portailctl(self, *args, config=None, timeout=60):
        """portailctl --config CONFIG ARGS...; returns the CompletedProcess."""
        path = Path(config) if config else self.portaild.config_path
        r = subprocess.run([str(BUILD / "portailctl"), "--config", str(path), *args],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=_env(), timeout=timeout)
        rep = sanitizer_report(r.stderr)
        assert rep is None, "sanitizer report from portailctl %s:\n%s" % (args, rep)
        return r


def wait_until(pred, timeout=15, what="condition", interval=0.1):
    """pred()'s first true value, polled every interval seconds; an
    AssertionError naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %s s waiting for %s" % (timeout, what))
        time.sleep(interval)


# Letters two apart: no two are neighbours in the alphabet, so a random run
# of them never makes the walk the password policy refuses (core/password.c,
# is_walk: six characters each one from the last). Random hex did, about
# once in 20,000 ("cbcded", the whole run of 2026-12-01 16:56), and six
# random digits can ("234567").
_NO_WALK = "acegikmoqsuwy"


def load_password(prefix, n):
    """A new password for the load tests' password changes: unique by the
    counter n and 8 random letters, and one the policy always accepts, so
    that a refusal is a failure."""
    return "%s-%s-%d" % (prefix, "".join(secrets.choice(_NO_WALK) for _ in range(8)), n)


def sql_quote(v):
    """A SQL literal for the mariadb client (tests' own values only)."""
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


# Unique numbers for test rows (NIRs, e-mails, logins) across a run.
_UNIQUE = itertools.count(int(time.time() * 1000) % 10**11)


# ------------------------------------------------------------------- clamd

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class Clamd:
    """A private clamd (Debian clamav-daemon) whose only signatures are the
    ones written here: the EICAR test string, as a whole-file MD5 (.hdb)
    and as a body signature (.ndb) so it is found inside another file too.
    No freshclam, no download."""

    def __init__(self, base):
        self.base = Path(base)
        self.socket = self.base / "clamd.sock"
        self.log = self.base / "clamd.log"
        self.proc = None

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        db = self.base / "db"
        db.mkdir(parents=True, exist_ok=True)
        import hashlib
        (db / "portail-test.hdb").write_text("%s:%d:Portail.Test.EICAR.File\n" % (
            hashlib.md5(EICAR).hexdigest(), len(EICAR)))
        (db / "portail-test.ndb").write_text("Portail.Test.EICAR:0:*:%s\n" % EICAR.hex())
        conf = self.base / "clamd.conf"
        conf.write_text(
            "LocalSocket %s\nDatabaseDirectory %s\nForeground yes\nLogFile %s\n"
            "TemporaryDirectory %s\nStreamMaxLength 30M\n"
            % (self.socket, db, self.log, self.base))
        if self.socket.exists():
            self.socket.unlink()
        self.proc = subprocess.Popen(
            ["/usr/sbin/clamd", "-c", str(conf)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait(lambda: _unix_open(str(self.socket)), 60, "clamd", interval=0.1,
                  alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s\n%s" % (e, _tail(self.log))) from None

    def stop(self):
        _stop_proc(self.proc, signal.SIGTERM, 20)
        self.proc = None


# ---------------------------------------------------------------- fixtures
#
# The fixtures and the time limit live in one plugin object registered once
# per run (whichever conftest loads the harness first: this one, or
# modules/conftest.py for the module folders' tests), so that tests of
# tests/integration and of modules/*/tests share one stack.

_STACK = None


# A per-test time limit (no pytest-timeout in Debian's set): SIGALRM raises
# in the test. @pytest.mark.timeout(N) changes it; PORTAIL_TEST_TIMEOUT the default.


class PortailTimeout(Exception):
    pass


class HarnessPlugin:
    @pytest.fixture(scope="session")
    def stack(self, tmp_path_factory):
        global _STACK
        s = Stack(tmp_path_factory.mktemp("stack"))
        _STACK = s
        try:
            s.start()
        except BaseException:
            s.stop()
            raise
        yield s
        _STACK = None
        problems = s.stop()
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)

    @pytest.fixture(autouse=True)
    def _private_instances(self):
        """Stops the portaild instances a test started and checks their stderr."""
        yield
        s = _STACK
        if s is None or not s.instances:
            return
        problems = []
        for inst in list(s.instances):
            problems += s._stop_instance(inst, check_rc=False)
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)

    @pytest.fixture(scope="session")
    def clamd(self, tmp_path_factory):
        """A clamd started once per session, on first use (test_documents.py)."""
        c = Clamd(tmp_path_factory.mktemp("clamd"))
        c.start()
        yield c
        c.stop()

    @pytest.fixture
    def client(self, stack):
        return stack.client()

    @pytest.fixture
    def supervisor(self, stack):
        """A client signed in as a new supervisor (agent_client)."""
        return agent_client(stack, role="supervisor")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        m = item.get_closest_marker("timeout")
        seconds = int(m.args[0]) if m and m.args else DEFAULT_TEST_TIMEOUT

        def on_alarm(signum, frame):
            raise PortailTimeout("test exceeded %d s" % seconds)

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)

    def pytest_report_header(self, config):
        return "portail build: %s" % BUILD


def module_test_dirs():
    """The integration tests of the module folders: modules/NAME/tests/."""
    return sorted(p for p in (REPO / "modules").glob("*/tests") if p.is_dir())


def pytest_configure(config):
    if config.pluginmanager.has_plugin("portail-harness"):
        return
    config.pluginmanager.register(HarnessPlugin(), "portail-harness")
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    # Run on the tests/integration directory as a whole (script/test, the
    # README's command), the suite is the harness's tests and every module
    # folder's: a new module's tests are collected without an edit here.
    here = Path(__file__).resolve().parent
    if [Path(a).resolve() for a in config.args] == [here]:
        config.args.extend(str(d) for d in module_test_dirs())


# ------------------------------------------------ helpers shared by test files

_ips = itertools.count(1)


def fresh_ip():
    """A client address no other test uses (the throttles count per address)."""
    n = next(_ips)
    return "10.%d.%d.%d" % (100 + (n >> 16) % 100, (n >> 8) % 256, n % 256)


class held_signins:
    """A context manager: 8 POST /api/v1/login from xff whose headers are sent
    and whose body never comes, so that nginx counts 8 sign-ins in flight
    from that address (nginx/portail.conf.in: limit_conn portail_signin_ip 8)
    until they are closed on exit. Entered once nginx refuses the next one."""

    PER_ADDRESS = 8

    def __init__(self, stack, xff):
        self.stack, self.xff, self.socks = stack, xff, []

    def _hold(self):
        from urllib.parse import urlsplit
        u = urlsplit(self.stack.base_url)
        s = socket.create_connection((u.hostname, u.port), timeout=10)
        s.sendall(("POST /api/v1/login HTTP/1.1\r\nHost: %s:%d\r\nX-Forwarded-For: %s\r\n"
                   "Origin: %s\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"
                   % (u.hostname, u.port, self.xff, self.stack.origin)).encode())
        return s

    def __enter__(self):
        self.socks = [self._hold() for _ in range(self.PER_ADDRESS)]
        c = self.stack.client(xff=self.xff)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            # nginx may read a probe before the last held request (two
            # workers, a loaded machine): that one is then the ninth, answered
            # 503 at once, and every later probe passes. Replace it, and let
            # nginx read the replacement before probing again.
            answered, _, _ = select.select(self.socks, [], [], 0)
            for s in answered:
                s.close()
                self.socks[self.socks.index(s)] = self._hold()
            if not answered and c.post("/api/v1/login", json={}).status_code == 503:
                return self
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("nginx did not count the held sign-ins")

    def __exit__(self, *exc):
        for s in self.socks:
            s.close()
        c = self.stack.client(xff=self.xff)
        for _ in range(50):
            if c.post("/api/v1/login", json={}).status_code != 503:
                break
            time.sleep(0.1)
        return False


def client_of(stack, inst, xff=None):
    """A client of a private portaild (stack.start_portaild), from an
    address of its own unless xff is given."""
    return stack.client(base_url=inst.base_url, origin=inst.origin, xff=xff or fresh_ip())


def agent_client(stack, role="agent", xff=None, inst=None):
    """A client signed in as a new agent of that role (testmod's test login),
    of the stack's portaild or of the private one inst; c.agent is the row."""
    agent = stack.new_agent(role=role)
    c = client_of(stack, inst, xff) if inst else stack.client(xff=xff or fresh_ip())
    c.test_login(kind="agent", id=agent.id, level="agent", role=role)
    c.agent = agent
    return c


def member_client(stack, member=None, xff=None, inst=None):
    """A client signed in as member (a new one by default) by testmod's test
    login, of the stack's portaild or of the private one inst; c.member is
    the row."""
    m = member or stack.new_member()
    c = client_of(stack, inst, xff) if inst else stack.client(xff=xff or fresh_ip())
    c.test_login(kind="member", id=m.id, level="member")
    c.member = m
    return c


def pdfmod_instance(stack, settings=None, overrides=None):
    """A private portaild with the stack's modules plus tests/modules/pdfmod
    (kept out of the shared stack, whose menus other tests list exactly)."""
    mods = [dict(m) for m in stack.config["modules"]]
    mods.append({"name": "pdfmod", "enabled": True, "path": "pdfmod.so",
                 "settings": dict(settings or {}),
                 "dir": str(REPO / "tests" / "modules" / "pdfmod")})
    cfg = {"modules": mods}
    cfg.update(overrides or {})
    return stack.start_portaild(cfg)


def refuse(stack, config, line_number=False):
    """Runs portaild on config; asserts exit 1 and exactly one line on
    stderr starting with "portaild: " and naming the config file (and the
    line in it with line_number); returns the line. The socket is never
    created."""
    rc, err = stack.run_portaild_expect_fail(config)
    path = stack.last_config_path
    lines = err.strip("\n").split("\n")
    assert rc == 1, (rc, err)
    assert len(lines) == 1 and lines[0], err
    line = lines[0]
    assert line.startswith("portaild: "), line
    assert str(path) in line, line
    if line_number:
        assert line.startswith("portaild: %s:" % path), line
        assert re.match(r"portaild: \S+:\d+: ", line), line
    assert not (path.parent / "run" / "portaild.sock").exists()
    return line


def png(w=1, h=1, rgb=b"\x00\x00\x00"):
    """A small valid RGB PNG of one colour."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + rgb * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def multipart_part(name, data, filename=None, ctype=None, extra_headers=b""):
    """One part of a multipart/form-data body, as sent (filename str or
    bytes, put as given: tests send bad ones on purpose)."""
    disp = b'Content-Disposition: form-data; name="' + name.encode() + b'"'
    if filename is not None:
        disp += b'; filename="' + (filename if isinstance(filename, bytes)
                                   else filename.encode()) + b'"'
    head = disp + b"\r\n"
    if ctype:
        head += b"Content-Type: " + ctype.encode() + b"\r\n"
    return head + extra_headers + b"\r\n" + data


def multipart_body(parts, boundary, final=True):
    """The parts between boundaries; without the closing one unless final."""
    out = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return out + b"--" + boundary + b"--\r\n" if final else out


# ---- a deadlock forced on one write (portail_db_tx_retry's call sites)


class forced_deadlock:
    """A context manager: the next `times` rows that `op` ("INSERT",
    "UPDATE" or "DELETE") writes to `table` and that match `when` (an SQL
    condition on NEW or OLD) fail with error 1213, as the victim of an
    InnoDB deadlock or the loser of a Galera certification conflict would.
    A trigger counts down in a MyISAM table, which a failed statement does
    not roll back. `forced()` tells how many were forced. errno=1205 makes
    them a lock wait timeout instead (the statement alone fails)."""

    def __init__(self, stack, table, op, when, times=1, errno=1213):
        self.stack, self.table, self.op, self.when, self.times = stack, table, op, when, times
        self.errno = errno
        self.name = "forced_%d" % next(_UNIQUE)

    def __enter__(self):
        self.stack.sql("CREATE TABLE IF NOT EXISTS test_forced (name VARCHAR(64) PRIMARY KEY, "
                       "left_n INT NOT NULL, done INT NOT NULL DEFAULT 0) ENGINE=MyISAM")
        self.stack.sql("INSERT INTO test_forced (name, left_n) VALUES ('%s', %d)"
                       % (self.name, self.times))
        self.stack.sql(
            "DELIMITER //\nCREATE TRIGGER %s BEFORE %s ON %s FOR EACH ROW BEGIN "
            "IF (%s) THEN UPDATE test_forced SET left_n = left_n - 1, done = done + 1 "
            "WHERE name = '%s' AND left_n > 0; IF ROW_COUNT() > 0 THEN SIGNAL SQLSTATE '%s' "
            "SET MYSQL_ERRNO = %d, MESSAGE_TEXT = 'forced conflict (test)'; END IF; END IF; "
            "END//" % (self.name, self.op, self.table, self.when, self.name,
                       "40001" if self.errno == 1213 else "HY000", self.errno))
        return self

    def forced(self):
        return int(self.stack.sql("SELECT done FROM test_forced WHERE name = '%s'"
                                  % self.name)[0][0])

    def __exit__(self, *exc):
        self.stack.sql("DROP TRIGGER IF EXISTS %s" % self.name)


# ---- testmod's account routes and the mails of a member

def account_state(client, member):
    """The member's account row (testmod's GET /api/v1/test/account/ID)."""
    r = client.get("/api/v1/test/account/%d" % member.id)
    assert r.status_code == 200, r.text
    return r.json()


def lock_account(client, member, reason, detail="", **kw):
    """Locks the member's account through the core (testmod)."""
    r = client.post("/api/v1/test/account/%d/lock" % member.id,
                    json={"reason": reason, "detail": detail}, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def settle_mail(stack, client, member):
    """Every mail to the member so far (a marker mail queued last and waited
    for proves the sender went past the earlier ones), markers excluded."""
    marker = "Témoin %f" % time.monotonic()
    r = client.post("/api/v1/test/mail", json={"to": member.email, "subject": marker,
                                                "body": "témoin\n"})
    assert r.status_code == 202, r.text
    stack.wait_for_mail(lambda m: m["to"] == member.email and m["subject"] == marker, timeout=20)
    time.sleep(0.3)
    return [m for m in stack.mails()
            if m["to"] == member.email and not m["subject"].startswith("Témoin")]


def wait_mail(stack, member, subject, n=1):
    """The n-th mail (1 = first) to the member with this subject."""
    def enough():
        got = [m for m in stack.mails() if m["to"] == member.email and m["subject"] == subject]
        return got[n - 1] if len(got) >= n else None

    deadline = time.monotonic() + 20
    while True:
        m = enough()
        if m:
            return m
        assert time.monotonic() < deadline, "no mail %r (#%d) to %s" % (subject, n, member.email)
        time.sleep(0.1)
