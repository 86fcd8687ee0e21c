"""The stack of the browser tests: the integration harness's MariaDB, SMTP
server (maildir), portaild with the real modules (every modules/NAME/, as the
harness discovers them), and nginx serving web/, on free ports of 127.0.0.1.

    PORTAIL_BUILD=$PWD/build/normal /usr/bin/python3 tests/web/stack.py DIR

Starts everything under DIR, prints one JSON line (base_url, origin,
maildir, config, portailctl, mysql_socket, ...) on stdout, then waits for
SIGTERM or SIGINT, or for stdin to close (the parent died), and stops it
all. Problems found at stop (sanitizer reports, a bad exit) go to stderr
and make the exit status 1.

A real module that portaild cannot load (one being written, say) is left
out and named in "missing_modules", so that the tests of the pages that do
not need it still run; the tests that need it are skipped with the reason.
PORTAIL_WEB_REQUIRE_MODULES=1 turns that into a failure.
"""

import json
import os
import re
import signal
import stat
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import conftest  # noqa: E402  (the harness: MariaDB, Smtp, Nginx, Portaild, Stack)


# Browser tests pose as other client addresses (X-Forwarded-For) through
# this proxy, which the stack's nginx declares as trusted; the shipped site
# trusts none (server.trusted_proxies).
assert conftest.TEST_TRUSTED_PROXIES == ("127.0.0.1",)


class WebStack(conftest.Stack):
    """The harness's stack without the real modules named in drop, and
    without the harness's test modules (testmod, hello): the dashboard lists
    the enabled modules. PORTAIL_WEB_TESTMOD=1 keeps testmod (its
    /api/v1/test/session/login opens a session of any kind: handy while a
    page is written before its module)."""

    def __init__(self, base, drop):
        super().__init__(base)
        self.drop = set(drop)
        # PORTAIL_WEB_BRAND (JSON, tests/web/lib/stack.js): brand settings
        # over the demo's, served from a web root of this stack's own (the
        # fragments portaild writes must not reach other stacks).
        self.brand = json.loads(os.environ.get("PORTAIL_WEB_BRAND") or "null")
        # PORTAIL_WEB_SETTINGS (JSON {module: {setting: value}}): module
        # settings over the harness's; the pages may say some of them
        # (fragments in the web root), hence a web root of its own too.
        self.settings = json.loads(os.environ.get("PORTAIL_WEB_SETTINGS") or "null")
        if self.brand or self.settings:
            web = Path(base) / "web"
            if not web.exists():
                self.private_webroot(web)
            self.webroot = web

    def base_config(self, name, origin):
        cfg = super().base_config(name, origin)
        keep_testmod = os.environ.get("PORTAIL_WEB_TESTMOD") == "1"
        cfg["modules"] = [
            m for m in cfg["modules"]
            if m["name"] not in self.drop and m["name"] != "hello"
            and (m["name"] != "testmod" or keep_testmod)
        ]
        # The demo's brand (conf/portail.conf.example): a fund with its own
        # logo, not a State service (tests/web/brand.test.js).
        cfg["brand"] = {"name": "CPAM de Paris", "logo": "/img/logo-caisse.svg", "logo_width": 160, "logo_height": 80,
                        "logo_alt": "CPAM de Paris, logo de démonstration"}
        cfg["brand"].update(self.brand or {})
        for m in cfg["modules"]:
            m.setdefault("settings", {}).update((self.settings or {}).get(m["name"], {}))
        # PORTAIL_WEB_SERVER (JSON, tests/web/lib/stack.js): server settings
        # (server.signin_rate: tests/web/signin-rate.test.js).
        cfg["server"].update(json.loads(os.environ.get("PORTAIL_WEB_SERVER") or "{}"))
        return cfg


def start_stack(base):
    """Starts a WebStack under base, leaving out the modules that do not
    load. Returns (stack, dropped module names)."""
    strict = os.environ.get("PORTAIL_WEB_REQUIRE_MODULES") == "1"
    drop = []
    for _ in range(3):
        stack = WebStack(base / "stack", drop)
        try:
            stack.start()
            return stack, drop
        except BaseException as e:  # noqa: BLE001 — reported below
            stack.stop()
            names = set(re.findall(r"module (\w+): cannot load", str(e)))
            names -= set(drop)
            if strict or not names or not names <= set(conftest.real_modules()):
                raise
            print("stack.py: leaving out module(s) %s: %s" % (
                ", ".join(sorted(names)), str(e).splitlines()[-1]), file=sys.stderr)
            drop += sorted(names)
    raise RuntimeError("stack.py: could not start")


def main():
    if len(sys.argv) != 2:
        print("usage: stack.py DIR", file=sys.stderr)
        return 2
    base = Path(sys.argv[1]).resolve()
    base.mkdir(parents=True, exist_ok=True)
    done = threading.Event()

    def on_signal(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        done.set()

    try:
        stack, dropped = start_stack(base)
    except BaseException as e:  # noqa: BLE001 — reported; start_stack stopped it all
        print("stack.py: start failed: %s" % e, file=sys.stderr)
        return 1

    info = {
        "base_url": stack.base_url,
        "origin": stack.origin,
        "base": str(base),
        "maildir": str(stack.smtp.maildir),
        "config": str(stack.portaild.config_path),
        "build": str(conftest.BUILD),
        "portailctl": str(conftest.BUILD / "portailctl"),
        "mysql_socket": str(stack.mariadb.socket),
        "portaild_log": str(stack.portaild.log_path),
        "portaild_stderr": str(stack.portaild.stderr_path),
        "nginx_prefix": str(stack.portaild.nginx.prefix),
        "webroot": str(stack.webroot),
        "pid": os.getpid(),
        "missing_modules": dropped,
    }
    print(json.dumps(info), flush=True)

    # Only a pipe from a parent is watched (not /dev/null or a terminal).
    if stat.S_ISFIFO(os.fstat(0).st_mode):
        threading.Thread(target=watch_stdin, daemon=True).start()
    while not done.wait(0.5):
        pass

    problems = stack.stop()
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
