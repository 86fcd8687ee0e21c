"""logrotate/portail (installed as /etc/logrotate.d/portail, issue 18):
logrotate parses it, and a real rotation of a running portaild's log, with
the file's own directives and its SIGHUP (here sent directly: systemctl
reload needs systemd as PID 1), leaves the old lines in the rotated file
and the new ones in a new log that portaild reopened."""
import json
import os
import pwd
import grp
import re
import shutil
import subprocess
import time

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("logrotate") is None,
                                reason="no logrotate: Debian package logrotate (script/bootstrap)")

SHIPPED = REPO / "logrotate" / "portail"


def local_copy(tmp_path, log_glob, postrotate):
    """The shipped file for the test's log, user and signal."""
    text = SHIPPED.read_text()
    assert "/var/log/portail/*.log {" in text
    assert "create 0640 portail portail" in text
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    text = text.replace("/var/log/portail/*.log", log_glob)
    text = text.replace("create 0640 portail portail", "create 0640 %s %s" % (user, group))
    text, n = re.subn(r"(?s)postrotate\n.*?\n(\s*)endscript",
                      lambda m: "postrotate\n        %s\n%sendscript" % (postrotate, m.group(1)),
                      text)
    assert n == 1
    conf = tmp_path / "logrotate.conf"
    conf.write_text(text)
    return conf


def test_logrotate_parses_the_shipped_file(tmp_path):
    conf = local_copy(tmp_path, str(tmp_path / "*.log"), "true")
    r = subprocess.run(["logrotate", "-d", "-s", str(tmp_path / "state"), str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "error" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    # The shipped postrotate reloads the unit: SIGHUP (ExecReload).
    assert "systemctl reload portaild.service" in SHIPPED.read_text()


@pytest.mark.timeout(90)
def test_a_rotation_reopens_portailds_log(stack, tmp_path):
    inst = stack.start_portaild()
    c = stack.client(base_url=inst.base_url, origin=inst.origin)
    log = inst.log_path
    rid1 = c.get("/api/v1/test/hello").headers["X-Request-Id"]
    deadline = time.time() + 10
    while rid1 not in log.read_text() and time.time() < deadline:
        time.sleep(0.1)
    assert rid1 in log.read_text()
    conf = local_copy(tmp_path, str(log.parent / "*.log"), "kill -HUP %d" % inst.pid)
    r = subprocess.run(["logrotate", "-f", "-v", "-s", str(tmp_path / "state"), str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    rotated = log.with_name(log.name + ".1")  # delaycompress: the newest stays plain
    assert rotated.is_file() and rid1 in rotated.read_text()
    deadline = time.time() + 10
    while not (log.exists() and "log reopened" in log.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    rid2 = c.get("/api/v1/test/hello").headers["X-Request-Id"]
    deadline = time.time() + 10
    while rid2 not in log.read_text() and time.time() < deadline:
        time.sleep(0.1)
    new = log.read_text()
    assert "log reopened" in new and rid2 in new and rid1 not in new
    assert rid2 not in rotated.read_text()
    assert oct(log.stat().st_mode & 0o777) == "0o640"
    for line in new.splitlines():
        json.loads(line)
    assert inst.poll() is None
    assert stack.stop_portaild(inst) == 0
